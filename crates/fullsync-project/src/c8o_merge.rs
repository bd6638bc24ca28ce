//! Merging the model into the original beans on export, so that only what was edited changes:
//! beans matched by name keep their slots, new ones go in Convertigo's order, defaults written
//! explicitly stay, and a transaction file renamed outside the studio keeps its bean.

use std::collections::BTreeSet;

use crate::convertigo::{kind_of, Elem, Node};
use crate::model::{Connector, Transaction};

/// Replaces the managed beans of `children` by `items`, matched by name: a bean that is still
/// there keeps its slot (the original order, whatever the model's), a bean not in `items` goes,
/// and a new item goes among the beans of its kind in Convertigo's order (names compared
/// without case), or after the last of them.
pub(crate) fn rebuild_by_name(
    children: &mut Vec<Node>,
    is_managed: impl Fn(&Elem) -> bool,
    items: Vec<Elem>,
) {
    let mut pending: Vec<Option<Elem>> = items.into_iter().map(Some).collect();
    let mut out = vec![];
    for n in std::mem::take(children) {
        match &n {
            Node::Elem(b) if b.bean && is_managed(b) => {
                let i = pending
                    .iter()
                    .position(|it| it.as_ref().is_some_and(|it| it.name() == b.name()));
                if let Some(it) = i.and_then(|i| pending[i].take()) {
                    out.push(Node::Elem(it));
                }
            }
            _ => out.push(n),
        }
    }
    for it in pending.into_iter().flatten() {
        let key = it.name().to_lowercase();
        let managed: Vec<(usize, String)> = out
            .iter()
            .enumerate()
            .filter_map(|(i, n)| match n {
                Node::Elem(b)
                    if b.bean
                        && kind_of(b.class()).is_some_and(|k| kind_of(it.class()) == Some(k)) =>
                {
                    Some((i, b.name().to_lowercase()))
                }
                _ => None,
            })
            .collect();
        let at = managed
            .iter()
            .find(|(_, n)| *n > key)
            .map(|(i, _)| *i)
            .or_else(|| managed.last().map(|(i, _)| i + 1))
            .unwrap_or(out.len());
        out.insert(at, Node::Elem(it));
    }
    *children = out;
}

/// A transaction file renamed outside the studio (which also renames the bean of the
/// Convertigo copy): when exactly one original transaction is missing from the model and
/// exactly one transaction of the same type is new, they are the same bean, renamed in place
/// so that it keeps its slot, Test Cases and variable priorities. (The sequence steps calling
/// the old name are not rewritten: `check` reports them.)
pub(crate) fn follow_renamed_transaction(
    e: &mut Elem,
    c: &Connector,
    managed: &mut BTreeSet<(&'static str, String)>,
) {
    let is_tx = |b: &Elem| {
        kind_of(b.class()) == Some("transaction")
            && managed.contains(&("transaction", b.name().to_string()))
    };
    let missing: Vec<&Elem> = e
        .beans()
        .filter(|b| is_tx(b) && !c.transactions.iter().any(|t| t.name == b.name()))
        .collect();
    let fresh: Vec<&Transaction> = c
        .transactions
        .iter()
        .filter(|t| !e.beans().any(|b| is_tx(b) && b.name() == t.name))
        .collect();
    let ([old], [new]) = (missing.as_slice(), fresh.as_slice()) else {
        return;
    };
    if old.class() != format!("transactions.couchdb.{}Transaction", new.kind) {
        return;
    }
    let (old_name, new_name) = (old.name().to_string(), new.name.clone());
    for n in &mut e.children {
        if let Node::Elem(b) = n {
            if b.bean && b.name() == old_name && kind_of(b.class()) == Some("transaction") {
                b.key = Elem::new_bean(&new_name, b.class(), b.priority()).key;
            }
        }
    }
    managed.remove(&("transaction", old_name));
    managed.insert(("transaction", new_name));
}

/// Sets a property whose value `default` Convertigo omits: written when it differs, and when
/// it is the default, kept only if the original wrote it that way.
pub(crate) fn set_default(e: &mut Elem, name: &str, value: &str, default: &str) {
    if value != default {
        e.set_prop(name, Some(value));
    } else if e.prop(name).is_some_and(|c| c != default) {
        e.set_prop(name, None);
    }
}
