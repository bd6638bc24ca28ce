//! Index selection, as CouchDB 3.x does it (see the module documentation of [`crate::mango`]).

use fullsync_engine::Database;
use serde_json::{json, Value};

use super::defs::{custom, list_indexes, MangoIndex};
use super::request::Find;
use crate::error::ViewError;

/// A selector reduced to what index selection looks at, as CouchDB's normalized selector:
/// implicit and explicit `$and`, `$or`, and one condition per (dotted) field, after
/// negations are pushed down to the fields (`push_negations`).
#[derive(Debug)]
pub(crate) enum Norm {
    And(Vec<Norm>),
    Or(Vec<Norm>),
    Cond {
        field: String,
        op: String,
        arg: Value,
    },
    Other,
}

pub(crate) fn normalize(sel: &Value, path: &str) -> Norm {
    match sel {
        Value::Object(m) => {
            let mut parts: Vec<Norm> = m.iter().map(|(k, v)| norm_entry(k, v, path)).collect();
            if parts.len() == 1 {
                parts.pop().expect("one part")
            } else {
                Norm::And(parts)
            }
        }
        _ if !path.is_empty() => Norm::Cond {
            field: path.to_string(),
            op: "$eq".into(),
            arg: sel.clone(),
        },
        _ => Norm::Other,
    }
}

fn norm_entry(k: &str, v: &Value, path: &str) -> Norm {
    let list = |v: &Value| -> Vec<Norm> {
        v.as_array()
            .map(|a| a.iter().map(|s| normalize(s, path)).collect())
            .unwrap_or_default()
    };
    match k {
        "$and" => Norm::And(list(v)),
        "$or" => Norm::Or(list(v)),
        // Negations are not used to choose an index here.
        "$not" | "$nor" if path.is_empty() => Norm::Other,
        op if op.starts_with('$') => {
            if path.is_empty() {
                Norm::Other
            } else {
                Norm::Cond {
                    field: path.to_string(),
                    op: op.to_string(),
                    arg: v.clone(),
                }
            }
        }
        field => {
            let p = if path.is_empty() {
                field.to_string()
            } else {
                format!("{path}.{field}")
            };
            match v {
                Value::Object(m) if !m.is_empty() => normalize(v, &p),
                _ => Norm::Cond {
                    field: p,
                    op: "$eq".into(),
                    arg: v.clone(),
                },
            }
        }
    }
}

/// The fields of `required` that the selector does not require to exist (CouchDB's
/// `has_required_fields`: `$and` children cover fields in turn, an `$or` covers a field only
/// when every branch does, `$exists: false` covers nothing).
fn uncovered(n: &Norm, mut required: Vec<String>) -> Vec<String> {
    if required.is_empty() {
        return required;
    }
    match n {
        Norm::And(c) => c.iter().fold(required, |r, x| uncovered(x, r)),
        Norm::Or(c) => {
            let mut out: Vec<String> = c
                .iter()
                .flat_map(|x| uncovered(x, required.clone()))
                .collect();
            out.sort();
            out.dedup();
            out
        }
        Norm::Cond { field, op, arg } => {
            // `$exists: false` does not need the field; a `$not` left on a field (a
            // condition with no opposite) does not prove it either (CouchDB ignores it).
            if !(op == "$not" || op == "$exists" && arg == &Value::Bool(false)) {
                required.retain(|f| f != field);
            }
            required
        }
        Norm::Other => required,
    }
}

/// Fields with a range-able condition (`$eq $gt $gte $lt $lte`) reachable through `$and`.
fn range_fields(n: &Norm, out: &mut Vec<String>) {
    match n {
        Norm::And(c) => c.iter().for_each(|x| range_fields(x, out)),
        Norm::Cond { field, op, .. }
            if matches!(op.as_str(), "$eq" | "$gt" | "$gte" | "$lt" | "$lte")
                && !out.contains(field) =>
        {
            out.push(field.clone());
        }
        _ => {}
    }
}

/// Whether the selector fixes `field` with `$eq` (through `$and`).
fn is_constant(n: &Norm, field: &str) -> bool {
    match n {
        Norm::And(c) => c.iter().any(|x| is_constant(x, field)),
        Norm::Cond { field: f, op, .. } => f == field && op == "$eq",
        _ => false,
    }
}

/// CouchDB's `can_use_sort`: the sort fields are a prefix of the index fields, once leading
/// fields fixed by `$eq` are skipped.
fn can_use_sort(cols: &[&str], sort: &[&str], n: &Norm) -> bool {
    match (cols.first(), sort.first()) {
        (_, None) => true,
        (None, _) => false,
        (Some(c), Some(s)) if c == s => cols.starts_with(sort),
        (Some(c), _) => is_constant(n, c) && can_use_sort(&cols[1..], sort, n),
    }
}

/// Why an index cannot serve the query (CouchDB's reason codes), or `None` when it can.
fn unusable_reason(ix: &MangoIndex, n: &Norm, sort: &[&str]) -> Option<&'static str> {
    if ix.ddoc.is_none() {
        return (!(sort.is_empty() || sort == ["_id"])).then_some("sort_order_mismatch");
    }
    let cols: Vec<&str> = ix.fields.iter().map(|(f, _)| f.as_str()).collect();
    let mut required: Vec<String> = cols
        .iter()
        .filter(|c| !sort.contains(c) && !matches!(**c, "_id" | "_rev"))
        .map(|c| c.to_string())
        .collect();
    required.sort();
    required.dedup();
    if !uncovered(n, required).is_empty() {
        return Some("field_mismatch");
    }
    if !can_use_sort(&cols, sort, n) {
        return Some("sort_order_mismatch");
    }
    None
}

/// The index chosen for a query, the warnings `_find` reports, and the other candidates with
/// the reason they were not chosen (for `_explain`).
pub(crate) struct Plan {
    pub(crate) index: MangoIndex,
    pub(crate) warnings: Vec<String>,
    pub(crate) candidates: Vec<Value>,
}

fn candidate(ix: &MangoIndex, usable: bool, reason: &str, ranking: usize) -> Value {
    json!({
        "index": ix.to_json(),
        "analysis": {
            "usable": usable,
            "reasons": [{"name": reason}],
            "ranking": ranking,
            "covering": if ix.ddoc.is_some() { json!(false) } else { Value::Null },
        }
    })
}

/// CouchDB's ranking of usable JSON indexes: the one whose leading fields cover most of the
/// selector's range-able fields, then the one with fewest fields, then by design document and
/// name. The others are recorded in `rejected` with the reason they lost.
fn rank(
    json_ix: Vec<MangoIndex>,
    norm: &Norm,
    rejected: &mut Vec<(MangoIndex, bool, &str)>,
) -> MangoIndex {
    let mut fields = vec![];
    range_fields(norm, &mut fields);
    let mut scored: Vec<(usize, MangoIndex)> = json_ix
        .into_iter()
        .map(|ix| {
            let prefix = ix
                .fields
                .iter()
                .take_while(|(c, _)| fields.contains(c))
                .count();
            (fields.len() - prefix, ix)
        })
        .collect();
    scored.sort_by(|(da, a), (db_, b)| {
        da.cmp(db_)
            .then(a.fields.len().cmp(&b.fields.len()))
            .then_with(|| a.ddoc.cmp(&b.ddoc))
            .then_with(|| a.name.cmp(&b.name))
    });
    let mut it = scored.into_iter();
    let (_, winner) = it.next().expect("one json index");
    let width = winner.fields.len();
    for (dist, ix) in it {
        let reason = if dist > 0 {
            "less_overlap"
        } else if ix.fields.len() > width {
            "too_many_fields"
        } else {
            "alphabetically_comes_after"
        };
        rejected.push((ix, true, reason));
    }
    winner
}

/// Chooses the index a `_find` reads (see the module documentation of [`crate::mango`]).
pub(crate) fn choose_index(db: &Database, f: &Find) -> Result<Plan, ViewError> {
    let indexes = list_indexes(db)?;
    let norm = normalize(
        &fullsync_engine::selector::push_negations(&f.selector_json),
        "",
    );
    let sort: Vec<&str> = f.sort.iter().map(|(s, _)| s.as_str()).collect();
    let named = |ix: &MangoIndex| {
        f.use_index.as_ref().is_some_and(|(d, n)| {
            ix.ddoc.as_deref() == Some(d.as_str()) && n.as_ref().is_none_or(|n| *n == ix.name)
        })
    };
    let mut rejected: Vec<(MangoIndex, bool, &str)> = vec![];
    let mut usable: Vec<MangoIndex> = vec![];
    for ix in indexes {
        if ix.partial.is_some() && !named(&ix) {
            rejected.push((ix, false, "is_partial"));
            continue;
        }
        match unusable_reason(&ix, &norm, &sort) {
            None => usable.push(ix),
            Some(r) => rejected.push((ix, false, r)),
        }
    }
    if usable.is_empty() {
        return Err(custom(
            400,
            "no_usable_index",
            "No index exists for this sort, try indexing by the sort fields.",
        ));
    }
    let mut warnings = vec![];
    let mut pool: Vec<MangoIndex> = usable.iter().filter(|i| named(i)).cloned().collect();
    match &f.use_index {
        Some((d, n)) if pool.is_empty() => {
            let short = d.strip_prefix("_design/").unwrap_or(d);
            warnings.push(match n {
                None => format!(
                    "_design/{short} was not used because it does not contain a valid index for this query."
                ),
                Some(n) => format!(
                    "_design/{short}, {n} was not used because it is not a valid index for this query."
                ),
            });
            pool = usable;
        }
        Some(_) => {
            for i in usable.into_iter().filter(|i| !named(i)) {
                rejected.push((i, true, "excluded_by_user"));
            }
        }
        None => pool = usable,
    }
    let (json_ix, special): (Vec<MangoIndex>, Vec<MangoIndex>) =
        pool.into_iter().partition(|i| i.ddoc.is_some());
    let index = if json_ix.is_empty() {
        special.into_iter().next().expect("_all_docs is usable")
    } else {
        for i in special {
            rejected.push((i, true, "unfavored_type"));
        }
        rank(json_ix, &norm, &mut rejected)
    };
    if index.ddoc.is_none() {
        warnings.push("No matching index found, create an index to optimize query time.".into());
    }
    let candidates = rejected
        .iter()
        .enumerate()
        .map(|(i, (ix, usable, reason))| candidate(ix, *usable, reason, i + 1))
        .collect::<Vec<_>>();
    Ok(Plan {
        index,
        warnings,
        candidates,
    })
}
