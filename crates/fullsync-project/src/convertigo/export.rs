//! Export of a project as a Convertigo project ([`export_c8o`]).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;

use serde::Serialize;
use serde_json::{json, Value};

use super::*;
use crate::model::*;

/// Replaces the managed beans of `children` by `items` (in order, taking their slots); extra
/// items go after the last slot (or at the end).
pub(super) fn rebuild(
    children: &mut Vec<Node>,
    is_managed: impl Fn(&Elem) -> bool,
    items: Vec<Elem>,
) {
    let mut items = VecDeque::from(items);
    let mut out = vec![];
    let mut last = None;
    for n in std::mem::take(children) {
        if let Node::Elem(b) = &n {
            if b.bean && is_managed(b) {
                if let Some(it) = items.pop_front() {
                    out.push(Node::Elem(it));
                    last = Some(out.len());
                }
                continue;
            }
        }
        out.push(n);
    }
    let at = last.unwrap_or(out.len());
    for (i, it) in items.into_iter().enumerate() {
        out.insert(at + i, Node::Elem(it));
    }
    *children = out;
}

pub(super) fn find_bean<'a>(e: &'a Elem, kind: &str, name: &str) -> Option<&'a Elem> {
    e.beans()
        .find(|b| kind_of(b.class()) == Some(kind) && b.name() == name)
}

pub(super) fn rekey(orig: Option<&Elem>, name: &str, class: &str, prio: Option<String>) -> Elem {
    let p = orig.and_then(|o| o.priority().map(String::from)).or(prio);
    let mut e = orig.cloned().unwrap_or_default();
    let fresh = Elem::new_bean(name, class, p.as_deref());
    e.key = fresh.key;
    e.bean = true;
    e
}

pub(super) fn ddoc_bean(orig: Option<&Elem>, dd: &DesignDoc) -> Elem {
    let mut e = rekey(orig, &dd.name, "couchdb.DesignDocument", None);
    let old = orig.and_then(|o| o.prop("docdata"));
    if let Some(text) = crate::c8o_style::docdata(old.as_deref(), docdata_value(dd)) {
        e.set_prop_as("docdata", Some(&text), true);
    }
    e
}

pub(super) fn index_bean(orig: Option<&Elem>, ix: &MangoIndex) -> Elem {
    let mut e = rekey(orig, &ix.name, "couchdb.JsonIndex", None);
    let desc: Option<Vec<String>> = ix
        .fields
        .iter()
        .map(|f| match f.as_object() {
            Some(m) if m.len() == 1 && m.values().next() == Some(&json!("desc")) => {
                m.keys().next().cloned()
            }
            _ => None,
        })
        .collect();
    let (fields, asc) = match desc {
        Some(names) if !names.is_empty() => (json!(names), Some("false")),
        _ => (Value::Array(ix.fields.clone()), None),
    };
    e.set_prop("fields", Some(&fields.to_string()));
    e.set_prop("ascending", asc);
    e
}

pub(super) fn listener_bean(orig: Option<&Elem>, l: &Listener, project: &str, conn: &str) -> Elem {
    let by_view = l.view.is_some();
    let class = match (l.kind, by_view) {
        (ListenerKind::Update, true) => "couchdb.FullSyncListener",
        (ListenerKind::Update, false) => "couchdb.FullSyncFilterListener",
        (ListenerKind::Delete, true) => "couchdb.FullSyncDeleteViewListener",
        (ListenerKind::Delete, false) => "couchdb.FullSyncDeleteFilterListener",
    };
    let mut e = rekey(orig, &l.name, class, None);
    let dotted = |s: &str| match s.split_once('/') {
        Some((d, n)) => format!("{project}.{conn}.{d}.{n}"),
        None => s.to_string(),
    };
    if let Some(v) = &l.view {
        e.set_prop("targetView", Some(&dotted(v)));
        e.set_prop("targetFilter", None);
    } else {
        let f = l.filter.clone().unwrap_or_else(|| "_doc_ids".into());
        e.set_prop("targetView", None);
        let f = (f != "_doc_ids").then(|| dotted(&f));
        e.set_prop("targetFilter", f.as_deref());
    }
    e.set_prop("targetSequence", l.target.sequence.as_deref());
    crate::c8o_merge::set_default(&mut e, "chunk", &l.chunk.to_string(), "10");
    crate::c8o_merge::set_default(&mut e, "isEnabled", &l.enabled.to_string(), "true");
    e
}

pub(super) fn variable_bean(orig: Option<&Elem>, v: &Variable, prio: &mut u64) -> Elem {
    let class = if v.multi_valued { MULTI_VAR } else { VAR };
    *prio += 1;
    let mut e = rekey(orig, &v.name, class, Some(prio.to_string()));
    crate::c8o_merge::set_default(&mut e, "description", &v.description, "");
    let value = match &v.default {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    };
    e.set_prop("value", value.as_deref());
    crate::c8o_merge::set_default(&mut e, "required", &v.required.to_string(), "false");
    let qname = crate::c8o_types::qname_type(&e).is_some();
    let xsd = v.schema_type.strip_prefix("xsd:");
    match xsd {
        // 7.x: the type is the `xmlTypeAffectation` QName; no second type property.
        Some(local) if qname && e.prop("schemaType").is_none() => {
            crate::c8o_types::set_qname_type(&mut e, local)
        }
        _ => {
            crate::c8o_merge::set_default(&mut e, "schemaType", &v.schema_type, "xsd:string");
            if let (true, Some(local)) = (qname, xsd) {
                crate::c8o_types::set_qname_type(&mut e, local);
            }
        }
    }
    e
}

pub(super) fn transaction_bean(orig: Option<&Elem>, t: &Transaction, prio: &mut u64) -> Elem {
    let class = format!("transactions.couchdb.{}Transaction", t.kind);
    let mut e = rekey(orig, &t.name, &class, None);
    let old: Vec<String> = e
        .children
        .iter()
        .filter_map(|n| match n {
            Node::Elem(p) if simple_value(p).is_some() => Some(p.key.clone()),
            _ => None,
        })
        .collect();
    for k in old {
        if !t.properties.contains_key(&k) {
            e.set_prop(&k, None);
        }
    }
    for (k, v) in &t.properties {
        e.set_prop(k, Some(&untyped(v)));
    }
    let items: Vec<Elem> = t
        .variables
        .iter()
        .map(|v| {
            let o = e
                .beans()
                .find(|b| (b.class() == VAR || b.class() == MULTI_VAR) && b.name() == v.name);
            variable_bean(o, v, prio)
        })
        .collect();
    rebuild(
        &mut e.children,
        |b| b.class() == VAR || b.class() == MULTI_VAR,
        items,
    );
    e
}

pub(super) fn connector_bean(
    orig: Option<&Elem>,
    c: &Connector,
    managed: &BTreeSet<(&'static str, String)>,
    project: &str,
    prio: &mut u64,
) -> Elem {
    let mut e = rekey(orig, &c.name, FULLSYNC_CONNECTOR, None);
    if c.anonymous_replication {
        e.set_prop("anonymousReplication", Some("allow"));
    } else if e.prop("anonymousReplication").as_deref() == Some("allow") {
        e.set_prop("anonymousReplication", None);
    }
    let mut managed = managed.clone();
    crate::c8o_merge::follow_renamed_transaction(&mut e, c, &mut managed);
    let managed = &managed;
    let is = |k: &'static str| {
        move |b: &Elem| kind_of(b.class()) == Some(k) && managed.contains(&(k, b.name().into()))
    };
    let src = e.clone();
    let o = |k: &str, n: &str| {
        find_bean(&src, k, n)
            .filter(|b| managed.contains(&(kind_of(b.class()).unwrap_or(""), n.to_string())))
    };
    let items = c
        .design_docs
        .iter()
        .map(|d| ddoc_bean(o("ddoc", &d.name), d))
        .collect();
    crate::c8o_merge::rebuild_by_name(&mut e.children, is("ddoc"), items);
    let items = c
        .indexes
        .iter()
        .map(|i| index_bean(o("index", &i.name), i))
        .collect();
    crate::c8o_merge::rebuild_by_name(&mut e.children, is("index"), items);
    let items = c
        .listeners
        .iter()
        .map(|l| listener_bean(o("listener", &l.name), l, project, &c.name))
        .collect();
    crate::c8o_merge::rebuild_by_name(&mut e.children, is("listener"), items);
    let items = c
        .transactions
        .iter()
        .map(|t| transaction_bean(o("transaction", &t.name), t, prio))
        .collect();
    crate::c8o_merge::rebuild_by_name(&mut e.children, is("transaction"), items);
    e
}

pub(super) fn max_priority(e: &Elem) -> u64 {
    let own = e.priority().and_then(|p| p.parse().ok()).unwrap_or(0);
    e.children
        .iter()
        .filter_map(|n| match n {
            Node::Elem(c) => Some(max_priority(c)),
            _ => None,
        })
        .fold(own, u64::max)
}

/// What [`export_c8o`] did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ExportReport {
    /// Project name.
    pub project: String,
    /// Connectors written with their original bytes.
    pub unchanged: Vec<String>,
    /// Connectors regenerated (changed or new).
    pub regenerated: Vec<String>,
    /// Connectors of the original project removed.
    pub removed: Vec<String>,
    /// Files written from the tree (relative to the output folder).
    pub written: Vec<String>,
    /// Errors of the verbatim Convertigo beans (sequences calling a transaction or connector
    /// that no longer exists, ...): exported anyway, to be fixed in Convertigo Studio.
    pub warnings: Vec<String>,
}

/// Exports our project at `project_dir` as a Convertigo project folder `out_dir` (see the
/// module documentation).
pub fn export_c8o(project_dir: &Path, out_dir: &Path) -> Result<ExportReport, C8oError> {
    let (p, diags) = crate::load(project_dir);
    let orig_dir = project_dir.join(ORIGINAL_DIR);
    // Problems of the verbatim Convertigo beans (sequence references, broken read-only parts)
    // are fixed in Convertigo Studio: they are reported, not blocking.
    let (in_copy, errors): (Vec<_>, Vec<_>) = diags
        .into_iter()
        .filter(|d| d.severity == crate::Severity::Error)
        .partition(|d| d.file.starts_with(&orig_dir));
    let Some(p) = p.filter(|_| errors.is_empty()) else {
        return Err(C8oError::Load(errors));
    };
    crate::confine::check(project_dir, Path::new(ORIGINAL_DIR))?;
    let mut rep = ExportReport {
        project: p.name.clone(),
        warnings: in_copy.iter().map(|d| d.to_string()).collect(),
        ..Default::default()
    };
    let (mut root, orig_files, root_dirty) = original_root(&orig_dir, out_dir, &p)?;
    let mut dirty = Dirty {
        root: root_dirty,
        files: BTreeSet::new(),
    };
    let mut prio = max_priority(&root).max(1_700_000_000_000);
    let Some(Node::Elem(pb)) = root
        .children
        .iter_mut()
        .find(|n| matches!(n, Node::Elem(e) if e.bean && e.class() == "core.Project"))
    else {
        return Err(C8oError::Invalid("no core.Project bean".into()));
    };
    sync_connectors(pb, &p, out_dir, &mut prio, &mut rep, &mut dirty);
    dirty.root |= sync_project(pb, &p);
    if dirty.root {
        dirty.files.insert("c8oProject.yaml".into());
    }
    let files = write_c8o(&root);
    for f in &dirty.files {
        if let Some(text) = files.get(f) {
            // Line endings as read (a 7.x project on Windows keeps its CRLF).
            let like = orig_files
                .get(f)
                .or_else(|| orig_files.get("c8oProject.yaml"))
                .map(String::as_str)
                .unwrap_or("");
            put(
                &out_dir.join(f),
                &crate::c8o_style::same_line_endings(like, text),
            )?;
            rep.written.push(f.clone());
        }
    }
    Ok(rep)
}

/// What an export must write again: the root file, and the files of split beans.
struct Dirty {
    root: bool,
    files: BTreeSet<String>,
}

/// The tree to export into: the verbatim copy (copied to `out_dir`, with its files' texts),
/// or a new project; `true` when the root file is new.
fn original_root(
    orig_dir: &Path,
    out_dir: &Path,
    p: &Project,
) -> Result<(Elem, BTreeMap<String, String>, bool), C8oError> {
    if !orig_dir.join("c8oProject.yaml").exists() {
        let root = Elem {
            key: "convertigo".into(),
            attrs: vec![("convertigo".into(), DEFAULT_C8O_VERSION.into())],
            children: vec![Node::Elem(Elem::new_bean(&p.name, "core.Project", None))],
            ..Default::default()
        };
        return Ok((root, BTreeMap::new(), true));
    }
    let orig = read_c8o(orig_dir)?;
    let oname = orig
        .project()
        .map(|b| b.name().to_string())
        .unwrap_or_default();
    copy_tree(orig_dir, out_dir, &oname)?;
    Ok((orig.root, orig.files, false))
}

fn is_fullsync_connector(n: &Node, name: &str) -> bool {
    matches!(n, Node::Elem(e) if e.bean && e.class() == FULLSYNC_CONNECTOR && e.name() == name)
}

/// Brings the FullSync connectors of project bean `pb` in line with `p`: unchanged ones keep
/// their bytes, changed ones are regenerated, new ones added, removed ones deleted.
fn sync_connectors(
    pb: &mut Elem,
    p: &Project,
    out_dir: &Path,
    prio: &mut u64,
    rep: &mut ExportReport,
    dirty: &mut Dirty,
) {
    let oname = pb.name().to_string();
    let split = pb.beans().any(|b| b.file.is_some()) || pb.beans().next().is_none();
    // Original FullSync connectors, as import saw them.
    let mut orig: BTreeMap<String, Extracted> = BTreeMap::new();
    for b in pb.beans() {
        if b.class() == FULLSYNC_CONNECTOR
            && fullsync_engine::db::check_db_name(b.name()).is_ok()
            && safe_name(b.name())
            && !orig.contains_key(b.name())
        {
            orig.insert(b.name().into(), extract_connector(b, &oname, Path::new("")));
        }
    }
    let renamed = oname != p.name;
    for c in &p.connectors {
        let pos = pb
            .children
            .iter()
            .position(|n| is_fullsync_connector(n, &c.name));
        match (pos, orig.get(&c.name)) {
            (Some(i), Some(ex)) => {
                if !renamed && canonical_connector(&ex.connector) == canonical_connector(c) {
                    rep.unchanged.push(c.name.clone());
                    continue;
                }
                let Node::Elem(old) = &pb.children[i] else {
                    continue;
                };
                let new = connector_bean(Some(old), c, &ex.managed, &p.name, prio);
                match &new.file {
                    Some(f) => drop(dirty.files.insert(format!("_c8oProject/{f}"))),
                    None => dirty.root = true,
                }
                pb.children[i] = Node::Elem(new);
                rep.regenerated.push(c.name.clone());
            }
            _ => {
                let mut new = connector_bean(None, c, &BTreeSet::new(), &p.name, prio);
                if split {
                    new.file = Some(format!("connectors/{}.yaml", c.name));
                    dirty
                        .files
                        .insert(format!("_c8oProject/connectors/{}.yaml", c.name));
                }
                let at = pb
                    .children
                    .iter()
                    .rposition(|n| matches!(n, Node::Elem(e) if e.bean && e.class().starts_with("connectors.")))
                    .map(|i| i + 1)
                    .or_else(|| pb.children.iter().position(|n| matches!(n, Node::Elem(e) if e.bean)))
                    .unwrap_or(pb.children.len());
                pb.children.insert(at, Node::Elem(new));
                dirty.root = true;
                rep.regenerated.push(c.name.clone());
            }
        }
    }
    for name in orig.keys() {
        if p.connector(name).is_some() {
            continue;
        }
        if let Some(i) = pb
            .children
            .iter()
            .position(|n| is_fullsync_connector(n, name))
        {
            if let Node::Elem(e) = pb.children.remove(i) {
                if let Some(f) = e.file {
                    let path = out_dir.join("_c8oProject").join(f);
                    let _ = std::fs::remove_file(path);
                }
            }
            dirty.root = true;
            rep.removed.push(name.clone());
        }
    }
}

/// The project bean's name, version and comment from `p`; `true` when one changed.
fn sync_project(pb: &mut Elem, p: &Project) -> bool {
    let mut changed = false;
    if pb.name() != p.name {
        pb.key = Elem::new_bean(&p.name, "core.Project", pb.priority()).key;
        changed = true;
    }
    let version = pb.prop("version").unwrap_or_else(|| "0.1.0".into());
    if version != p.version {
        pb.set_prop("version", Some(&p.version));
        changed = true;
    }
    if pb.prop("comment").unwrap_or_default() != p.description {
        pb.set_prop(
            "comment",
            Some(p.description.as_str()).filter(|d| !d.is_empty()),
        );
        changed = true;
    }
    changed
}
