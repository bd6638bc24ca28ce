//! The deploy plan (dry run): what a deploy would create, update or delete on a server.

use fullsync_project::sync::{strip_rev, views_to_rebuild};
use fullsync_project::Project;
use fullsync_replicate::{HttpPeer, ReplError};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::*;

/// What happens to one design document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// New on the server.
    Create,
    /// Changed.
    Update,
    /// No longer in the project (deployed earlier by it).
    Delete,
    /// Already up to date.
    Unchanged,
}

/// One line of a plan.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PlanItem {
    /// Database.
    pub db: String,
    /// Design document id.
    pub id: String,
    /// What happens.
    pub action: Action,
    /// Views whose index the server must rebuild: every view of the design document when its
    /// index signature changes (CouchDB builds one index per design document).
    pub reindex: Vec<String>,
    /// Documents in the database: what a reindex has to go through.
    #[serde(default)]
    pub doc_count: Option<u64>,
    /// Conflicting revisions of this design document on the server (left by a replication);
    /// applying the plan deletes them so the deployed content is the only one.
    #[serde(default)]
    pub conflicts: Vec<String>,
    /// The document as it is on the server (without `_rev`), if any.
    pub before: Option<Value>,
    /// The document as it will be (without `_rev`), if any.
    pub after: Option<Value>,
}

/// A deploy plan for one server.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Plan {
    /// Server (profile name).
    pub server: String,
    /// Databases to create, with their revs_limit.
    pub create_dbs: Vec<(String, u64)>,
    /// Design documents.
    pub items: Vec<PlanItem>,
    /// For a rollback: the deploy whose result it restores (`0`: the state before the first
    /// recorded deploy).
    #[serde(default)]
    pub rollback_to: Option<u64>,
}

impl Plan {
    /// Whether applying would change anything.
    pub fn is_noop(&self) -> bool {
        self.create_dbs.is_empty() && self.steps().is_empty()
    }

    /// The items that change something on the server: writes, deletes, and conflicts to resolve.
    pub fn steps(&self) -> Vec<&PlanItem> {
        self.items
            .iter()
            .filter(|i| i.action != Action::Unchanged || !i.conflicts.is_empty())
            .collect()
    }

    /// A readable diff of the plan.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Some(to) = self.rollback_to {
            if to == 0 {
                out.push_str("rollback to the state before the first recorded deploy\n");
            } else {
                out.push_str(&format!("rollback to deploy {to} ({})\n", format_time(to)));
            }
        }
        for (db, limit) in &self.create_dbs {
            out.push_str(&format!("+ database {db} (revs_limit {limit})\n"));
        }
        for i in &self.items {
            let sign = match i.action {
                Action::Create => "+",
                Action::Update => "~",
                Action::Delete => "-",
                Action::Unchanged => "=",
            };
            out.push_str(&format!("{sign} {}/{}", i.db, i.id));
            if !i.reindex.is_empty() {
                out.push_str(&format!("  (reindex: {}", i.reindex.join(", ")));
                if let Some(n) = i.doc_count {
                    out.push_str(&format!("; {} document(s) to index", n));
                }
                out.push(')');
            }
            out.push('\n');
            if i.reindex.len() > 1 {
                out.push_str(&format!(
                    "    these {} views share one index: changing any of them rebuilds them all\n",
                    i.reindex.len()
                ));
            }
            if !i.conflicts.is_empty() {
                out.push_str(&format!(
                    "    ! {} conflicting revision(s) on the server ({}): the deploy deletes them\n",
                    i.conflicts.len(),
                    i.conflicts.join(", ")
                ));
            }
            if i.action == Action::Update {
                if let (Some(b), Some(a)) = (&i.before, &i.after) {
                    for line in fullsync_project::testing::json_diff(&canonical(b), &canonical(a))
                        .lines()
                        .filter(|l| l.starts_with(['+', '-']))
                    {
                        out.push_str(&format!("    {line}\n"));
                    }
                }
            }
        }
        if self.is_noop() {
            out.push_str("nothing to deploy: the server is up to date\n");
        }
        out
    }
}

/// The same JSON with object keys sorted, so diffs show content changes, not key order.
pub(super) fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), canonical(&m[k])))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

pub(super) fn ddocs_on(peer: &HttpPeer) -> Result<Vec<Value>, ReplError> {
    let (s, v) = peer.call(
        "GET",
        "_all_docs?startkey=%22_design%2F%22&endkey=%22_design0%22&include_docs=true&conflicts=true",
        None,
    )?;
    if s == 404 {
        return Ok(vec![]);
    }
    if !(200..300).contains(&s) {
        return Err(ReplError::Http {
            status: s,
            error: v["error"].as_str().unwrap_or("").into(),
            reason: format!("listing design documents of {}", peer.url()),
        });
    }
    Ok(v["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r.get("doc").cloned())
        .filter(|d| d.is_object())
        .collect())
}

/// A stored document without `_rev` and `_conflicts`, to compare with what a deploy writes.
pub(super) fn content(v: Value) -> Value {
    let mut v = strip_rev(v);
    if let Some(m) = v.as_object_mut() {
        m.remove("_conflicts");
    }
    v
}

pub(super) fn conflicts_of(v: &Value) -> Vec<String> {
    v.get("_conflicts")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|r| r.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The number of documents of a database (`None` when the server does not say).
pub(super) fn doc_count(db: &HttpPeer) -> Result<Option<u64>, ReplError> {
    let (s, v) = db.call("GET", "", None)?;
    Ok(if s == 200 {
        v["doc_count"].as_u64()
    } else {
        None
    })
}

/// One plan line: the design document `id` of `db` goes from `current` (as stored, with
/// `_rev` and `_conflicts`) to `wanted`.
pub(super) fn item(
    db: &str,
    id: &str,
    current: Option<&Value>,
    wanted: Option<&Value>,
    doc_count: Option<u64>,
) -> PlanItem {
    let cur = current.cloned().map(content);
    let conflicts = current.map(conflicts_of).unwrap_or_default();
    let (action, reindex) = match (&cur, wanted) {
        (None, None) => (Action::Unchanged, vec![]),
        (None, Some(w)) => (Action::Create, views_to_rebuild(None, w)),
        (Some(_), None) => (Action::Delete, vec![]),
        (Some(c), Some(w)) if c == w => (Action::Unchanged, vec![]),
        (Some(c), Some(w)) => (Action::Update, views_to_rebuild(Some(c), w)),
    };
    PlanItem {
        db: db.into(),
        id: id.into(),
        action,
        doc_count: if reindex.is_empty() { None } else { doc_count },
        reindex,
        conflicts,
        before: cur,
        after: wanted.cloned(),
    }
}

/// Computes what a deploy of `p` to `server` would do (no change is made).
pub fn plan(p: &Project, server: &HttpPeer, server_name: &str) -> Result<Plan, DeployError> {
    let mut plan = Plan {
        server: server_name.into(),
        create_dbs: vec![],
        items: vec![],
        rollback_to: None,
    };
    for c in &p.connectors {
        let db = server.sibling(&c.name)?;
        let (s, info) = db.call("GET", "", None)?;
        let (existing, count) = if s == 404 {
            plan.create_dbs.push((c.name.clone(), c.revs_limit));
            (vec![], Some(0))
        } else {
            (ddocs_on(&db)?, info["doc_count"].as_u64())
        };
        let mut wanted: Vec<Value> = fullsync_project::sync::design_docs(c);
        for w in wanted.iter_mut() {
            w["fullsync_project"] = json!(p.name);
        }
        for w in &wanted {
            let id = w["_id"].as_str().unwrap_or_default();
            let cur = existing.iter().find(|d| d["_id"] == w["_id"]);
            plan.items.push(item(&c.name, id, cur, Some(w), count));
        }
        for e in &existing {
            let ours = e.get("fullsync_project").and_then(Value::as_str) == Some(p.name.as_str());
            if ours && !wanted.iter().any(|w| w["_id"] == e["_id"]) {
                let id = e["_id"].as_str().unwrap_or_default();
                plan.items.push(item(&c.name, id, Some(e), None, count));
            }
        }
    }
    Ok(plan)
}
