//! Deploying a project's databases and design documents to a CouchDB-compatible server:
//! a plan (dry run), apply (only what changed, `_rev` handled, retried on conflict, optionally
//! built in a staging design document before switching), a history per server, and rollback.
//!
//! Deployed design documents carry `"fullsync_project": "<name>"`, so a later deploy can delete
//! the design documents the project no longer has without touching anyone else's.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fullsync_project::sync::{strip_rev, views_to_rebuild};
use fullsync_project::Project;
use fullsync_replicate::{HttpPeer, ReplError};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Deploy errors.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The server failed or refused.
    #[error(transparent)]
    Server(#[from] ReplError),
    /// History could not be read or written.
    #[error("deploy history {path}: {reason}")]
    History {
        /// File.
        path: String,
        /// Why.
        reason: String,
    },
    /// Nothing to roll back.
    #[error("no earlier deploy of this project to `{0}` is recorded; nothing to roll back")]
    NothingToRollBack(String),
    /// `--rollback-to` named a deploy the history does not have.
    #[error("no deploy `{id}` in the history of `{server}`; list them with `fullsync deploy PROJECT --server {server} --history`")]
    UnknownDeploy {
        /// Server.
        server: String,
        /// The id asked for.
        id: u64,
    },
    /// A staging index did not finish in time.
    #[error("the staging index of {0} was not built within {1} s; the live design document was not changed")]
    StagingTimeout(String, u64),
}

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
fn canonical(v: &Value) -> Value {
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

fn ddocs_on(peer: &HttpPeer) -> Result<Vec<Value>, ReplError> {
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
fn content(v: Value) -> Value {
    let mut v = strip_rev(v);
    if let Some(m) = v.as_object_mut() {
        m.remove("_conflicts");
    }
    v
}

fn conflicts_of(v: &Value) -> Vec<String> {
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
fn doc_count(db: &HttpPeer) -> Result<Option<u64>, ReplError> {
    let (s, v) = db.call("GET", "", None)?;
    Ok(if s == 200 {
        v["doc_count"].as_u64()
    } else {
        None
    })
}

/// One plan line: the design document `id` of `db` goes from `current` (as stored, with
/// `_rev` and `_conflicts`) to `wanted`.
fn item(
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

/// Apply options.
#[derive(Clone, Debug, Default)]
pub struct ApplyOptions {
    /// Build changed views in a staging design document first, then switch (no downtime).
    pub staged: bool,
    /// How long to wait for a staging index (default 10 min).
    pub staging_timeout: Option<Duration>,
}

/// A progress event of a deploy.
#[derive(Clone, Debug, Serialize)]
pub struct Progress {
    /// Steps done.
    pub current: usize,
    /// Steps in total.
    pub total: usize,
    /// What is happening.
    pub message: String,
    /// While an index builds: changes indexed so far, of `index_total`.
    pub index_done: Option<u64>,
    /// While an index builds: changes to index.
    pub index_total: Option<u64>,
}

impl Progress {
    fn step(current: usize, total: usize, message: String) -> Progress {
        Progress {
            current,
            total,
            message,
            index_done: None,
            index_total: None,
        }
    }
}

/// What a deploy did.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Report {
    /// Server.
    pub server: String,
    /// When it started (seconds since the epoch).
    pub started: u64,
    /// Databases created.
    pub created_dbs: Vec<String>,
    /// Items applied, in order, with the previous content (for rollback).
    pub applied: Vec<PlanItem>,
    /// The error that stopped it, if any.
    pub error: Option<String>,
    /// Whether every item was applied.
    pub complete: bool,
    /// For a rollback: the deploy whose result it restored (`0`: the state before the first
    /// recorded deploy).
    #[serde(default)]
    pub rollback_to: Option<u64>,
    /// Whether views were built in staging design documents first.
    #[serde(default)]
    pub staged: bool,
}

impl Report {
    /// The deploy's id in the history (`--rollback-to ID`): when it started, in milliseconds
    /// since the epoch.
    pub fn id(&self) -> u64 {
        self.started
    }

    /// One line for `--history`: id, time (UTC), what it did.
    pub fn summary(&self) -> String {
        let mut what = vec![];
        for (a, label) in [
            (Action::Create, "created"),
            (Action::Update, "updated"),
            (Action::Delete, "deleted"),
        ] {
            let n = self.applied.iter().filter(|i| i.action == a).count();
            if n > 0 {
                what.push(format!("{n} {label}"));
            }
        }
        let resolved = self
            .applied
            .iter()
            .filter(|i| !i.conflicts.is_empty())
            .count();
        if resolved > 0 {
            what.push(format!("{resolved} conflict(s) resolved"));
        }
        if !self.created_dbs.is_empty() {
            what.push(format!("{} database(s) created", self.created_dbs.len()));
        }
        let kind = match self.rollback_to {
            Some(0) => "rollback to before the first deploy".to_string(),
            Some(to) => format!("rollback to {to}"),
            None if self.staged => "deploy (staged)".into(),
            None => "deploy".into(),
        };
        let state = if self.complete {
            String::new()
        } else {
            format!(
                "  INCOMPLETE: {}",
                self.error.as_deref().unwrap_or("stopped")
            )
        };
        let ddocs: Vec<String> = self
            .applied
            .iter()
            .map(|i| format!("{}/{}", i.db, i.id))
            .collect();
        format!(
            "{}  {}  {kind}: {}  [{}]{state}",
            self.started,
            format_time(self.started),
            if what.is_empty() {
                "nothing".into()
            } else {
                what.join(", ")
            },
            ddocs.join(", ")
        )
    }
}

/// `YYYY-MM-DD HH:MM:SS UTC` of a time in milliseconds since the epoch.
pub fn format_time(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn history_dir(project_root: &Path, server: &str) -> PathBuf {
    project_root
        .join(".fullsync")
        .join("deploy-history")
        .join(server)
}

fn save_report(dir: &Path, r: &Report) -> Result<(), DeployError> {
    let path = dir.join(format!("{}.json", r.started));
    let text = serde_json::to_string_pretty(r).expect("JSON serializes");
    fullsync_project::write_atomic(&path, text.as_bytes()).map_err(|e| DeployError::History {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// Deploy reports of a project to a server, oldest first.
pub fn history(project_root: &Path, server: &str) -> Result<Vec<Report>, DeployError> {
    let dir = history_dir(project_root, server);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|r| r.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    let mut out = vec![];
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| DeployError::History {
            path: f.display().to_string(),
            reason: e.to_string(),
        })?;
        out.push(
            serde_json::from_str(&text).map_err(|e| DeployError::History {
                path: f.display().to_string(),
                reason: e.to_string(),
            })?,
        );
    }
    Ok(out)
}

fn put_ddoc(db: &HttpPeer, id: &str, content: &Value) -> Result<(), ReplError> {
    for attempt in 0..5 {
        let (s, cur) = db.call("GET", &doc_path(id), None)?;
        let mut doc = content.clone();
        if s == 200 {
            doc["_rev"] = cur["_rev"].clone();
        }
        let (s, v) = db.call("PUT", &doc_path(id), Some(&doc))?;
        if (200..300).contains(&s) {
            return Ok(());
        }
        if s != 409 || attempt == 4 {
            return Err(ReplError::Http {
                status: s,
                error: v["error"].as_str().unwrap_or("").into(),
                reason: format!("writing {id}: {}", v["reason"].as_str().unwrap_or("")),
            });
        }
    }
    unreachable!("the loop returns")
}

fn delete_ddoc(db: &HttpPeer, id: &str) -> Result<(), ReplError> {
    for attempt in 0..5 {
        let (s, cur) = db.call("GET", &doc_path(id), None)?;
        if s == 404 {
            return Ok(());
        }
        let rev = cur["_rev"].as_str().unwrap_or_default().to_string();
        let (s, v) = db.call("DELETE", &format!("{}?rev={rev}", doc_path(id)), None)?;
        if (200..300).contains(&s) || s == 404 {
            return Ok(());
        }
        if s != 409 || attempt == 4 {
            return Err(ReplError::Http {
                status: s,
                error: v["error"].as_str().unwrap_or("").into(),
                reason: format!("deleting {id}"),
            });
        }
    }
    unreachable!("the loop returns")
}

fn doc_path(id: &str) -> String {
    match id.strip_prefix("_design/") {
        Some(rest) => format!("_design/{}", rest.replace('/', "%2F")),
        None => id.replace('/', "%2F"),
    }
}

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The number before the first `-` of a sequence (`1234` or CouchDB's `"1234-g1AAA..."`).
fn seq_number(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.split('-').next()?.parse().ok(),
        _ => None,
    }
}

/// How far the index of design document `ddoc_id` is: `(changes done, changes in total)`.
/// CouchDB reports its indexers in `_active_tasks` (one per shard, summed here); other servers
/// are asked `_info`'s `update_seq` against the database's.
fn index_progress(db: &HttpPeer, db_name: &str, ddoc_id: &str) -> Option<(u64, u64)> {
    if let Ok((200, tasks)) = db.call("GET", "/_active_tasks", None) {
        let (mut done, mut total, mut found) = (0, 0, false);
        for t in tasks.as_array().into_iter().flatten() {
            let shard_db = t["database"].as_str().unwrap_or_default();
            let same_db = shard_db == db_name
                || shard_db
                    .rsplit('/')
                    .next()
                    .is_some_and(|s| s.split('.').next() == Some(db_name));
            if t["type"] == "indexer" && t["design_document"] == ddoc_id && same_db {
                done += t["changes_done"].as_u64().unwrap_or(0);
                total += t["total_changes"].as_u64().unwrap_or(0);
                found = true;
            }
        }
        if found {
            return Some((done, total.max(done)));
        }
    }
    let (s, info) = db
        .call("GET", &format!("{}/_info", doc_path(ddoc_id)), None)
        .ok()?;
    if s != 200 {
        return None;
    }
    let done = seq_number(&info["view_index"]["update_seq"])?;
    let (s, dbinfo) = db.call("GET", "", None).ok()?;
    if s != 200 {
        return None;
    }
    let total = seq_number(&dbinfo["update_seq"])?;
    Some((done.min(total), total))
}

/// Queries view `view` of `ddoc_id` until it answers: the server builds the design document's
/// whole index (one signature) before answering. Reports progress while it waits.
fn build_index(
    db: &HttpPeer,
    db_name: &str,
    ddoc_id: &str,
    view: &str,
    timeout: Duration,
    progress: &mut dyn FnMut(Option<(u64, u64)>),
) -> Result<(), DeployError> {
    let path = format!("{}/_view/{}?limit=0", doc_path(ddoc_id), enc(view));
    let start = Instant::now();
    let finished = std::sync::atomic::AtomicBool::new(false);
    let timed_out = || DeployError::StagingTimeout(ddoc_id.to_string(), timeout.as_secs());
    std::thread::scope(|scope| {
        let query = scope.spawn(|| {
            let r = loop {
                match db.call("GET", &path, None) {
                    Ok((s, _)) if (200..300).contains(&s) => break Ok(()),
                    // A build longer than the server's request timeout: it goes on; ask again.
                    Ok((s, _)) if s >= 500 && start.elapsed() < timeout => {
                        std::thread::sleep(Duration::from_secs(1))
                    }
                    Err(e) if e.retryable() && start.elapsed() < timeout => {
                        std::thread::sleep(Duration::from_secs(1))
                    }
                    Ok((s, _)) if s >= 500 => break Err(timed_out()),
                    Ok((s, v)) => {
                        break Err(DeployError::Server(ReplError::Http {
                            status: s,
                            error: v["error"].as_str().unwrap_or("").into(),
                            reason: format!(
                                "building the index of {ddoc_id} (view {view}): {}",
                                v["reason"].as_str().unwrap_or("")
                            ),
                        }))
                    }
                    Err(e) => break Err(e.into()),
                }
            };
            finished.store(true, std::sync::atomic::Ordering::SeqCst);
            r
        });
        let mut last = None;
        while !finished.load(std::sync::atomic::Ordering::SeqCst) {
            let now = index_progress(db, db_name, ddoc_id);
            if now.is_some() && now != last {
                progress(now);
                last = now;
            }
            for _ in 0..5 {
                if finished.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        query.join().unwrap_or_else(|_| Err(timed_out()))
    })?;
    // The view answered, so its index is up to date with the database as it was when asked;
    // servers that report no indexing progress are given the database's sequence.
    let last = index_progress(db, db_name, ddoc_id).or_else(|| {
        let (s, info) = db.call("GET", "", None).ok()?;
        let seq = (s == 200).then(|| seq_number(&info["update_seq"]))??;
        Some((seq, seq))
    });
    progress(last);
    Ok(())
}

/// Deletes every conflicting revision of `id`, so its winner is the only version left.
/// Returns how many were deleted.
fn resolve_conflicts(db: &HttpPeer, id: &str) -> Result<usize, ReplError> {
    let (s, cur) = db.call("GET", &format!("{}?conflicts=true", doc_path(id)), None)?;
    if s != 200 {
        return Ok(0);
    }
    let revs = conflicts_of(&cur);
    for rev in &revs {
        let (s, v) = db.call(
            "DELETE",
            &format!("{}?rev={}", doc_path(id), enc(rev)),
            None,
        )?;
        if !(200..300).contains(&s) && s != 404 && s != 409 {
            return Err(ReplError::Http {
                status: s,
                error: v["error"].as_str().unwrap_or("").into(),
                reason: format!("deleting the conflicting revision {rev} of {id}"),
            });
        }
    }
    Ok(revs.len())
}

/// Whether a staged deploy builds this design document in a staging copy first: JavaScript
/// design documents whose index changes (Mango indexes are built by `_find`, not `_view`).
fn stageable(item: &PlanItem) -> bool {
    !item.reindex.is_empty()
        && item.after.as_ref().is_some_and(|a| {
            a.get("language")
                .and_then(Value::as_str)
                .unwrap_or("javascript")
                == "javascript"
        })
}

/// A staged write of `item`: its content goes to `_design/<name>-staging` first, whose index
/// (same signature as the live one will have) is built while the live design document still
/// answers with the old one. Then the live design document is written and queried once, which
/// opens the index just built under its name, and only then is the staging copy deleted. (On
/// CouchDB, deleting the staging copy before the live one has opened the shared index closes
/// it and throws the build away.)
fn staged_write(
    db: &HttpPeer,
    item: &PlanItem,
    timeout: Duration,
    progress: &mut dyn FnMut(String, Option<(u64, u64)>),
) -> Result<(), DeployError> {
    let after = item.after.as_ref().expect("staging is for create/update");
    let staging_id = format!("{}-staging", item.id);
    let mut doc = after.clone();
    doc["_id"] = json!(staging_id);
    put_ddoc(db, &staging_id, &doc)?;
    progress(
        format!(
            "building the index of {} in {staging_id} ({} view(s))",
            item.id,
            item.reindex.len()
        ),
        None,
    );
    // CouchDB builds the whole design document on the first query; PouchDB indexes each view
    // on its own, so every view is asked (the others answer at once on CouchDB).
    let mut last = None;
    for view in &item.reindex {
        build_index(db, &item.db, &staging_id, view, timeout, &mut |p| {
            // Each view reports where the index is; say it once.
            if p.is_none() || p == last {
                return;
            }
            last = p;
            let (d, t) = p.unwrap_or_default();
            progress(
                format!("building {staging_id}: {d} of {t} change(s) indexed"),
                p,
            )
        })?;
    }
    put_ddoc(db, &item.id, after)?;
    // Open the live index (the one just built: same signature) before the staging copy goes.
    for view in &item.reindex {
        build_index(db, &item.db, &item.id, view, timeout, &mut |_| {})?;
    }
    progress(
        format!("{} answers from the index built in {staging_id}", item.id),
        None,
    );
    delete_ddoc(db, &staging_id)?;
    Ok(())
}

/// Applies a plan. Each step is recorded in the deploy history as soon as it is done, so a
/// deploy that stops half-way (server killed, network down) leaves a report of what was
/// applied; running the deploy again completes it.
pub fn apply(
    plan: &Plan,
    server: &HttpPeer,
    project_root: &Path,
    opts: &ApplyOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<Report, DeployError> {
    let dir = history_dir(project_root, &plan.server);
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let mut report = Report {
        server: plan.server.clone(),
        started,
        rollback_to: plan.rollback_to,
        staged: opts.staged,
        ..Default::default()
    };
    let steps = plan.steps();
    let total = plan.create_dbs.len() + steps.len();
    let mut current = 0;
    let timeout = opts.staging_timeout.unwrap_or(Duration::from_secs(600));
    let result = (|| -> Result<(), DeployError> {
        for (db, limit) in &plan.create_dbs {
            let peer = server.sibling(db)?;
            let (s, v) = peer.call("PUT", "", None)?;
            if !(200..300).contains(&s) && s != 412 {
                return Err(ReplError::Http {
                    status: s,
                    error: v["error"].as_str().unwrap_or("").into(),
                    reason: format!("creating database {db}"),
                }
                .into());
            }
            // pouchdb-server has no _revs_limit: not fatal.
            let _ = peer.call("PUT", "_revs_limit", Some(&json!(limit)));
            report.created_dbs.push(db.clone());
            current += 1;
            progress(Progress::step(
                current,
                total,
                format!("created database {db}"),
            ));
        }
        for item in &steps {
            let db = server.sibling(&item.db)?;
            match item.action {
                Action::Create | Action::Update => {
                    if opts.staged && stageable(item) {
                        staged_write(&db, item, timeout, &mut |message, p| {
                            progress(Progress {
                                current,
                                total,
                                message,
                                index_done: p.map(|p| p.0),
                                index_total: p.map(|p| p.1),
                            })
                        })?;
                    } else {
                        put_ddoc(
                            &db,
                            &item.id,
                            item.after.as_ref().expect("create/update has content"),
                        )?;
                    }
                }
                Action::Delete => {
                    if !item.conflicts.is_empty() {
                        resolve_conflicts(&db, &item.id)?;
                    }
                    delete_ddoc(&db, &item.id)?
                }
                Action::Unchanged => {}
            }
            if !item.conflicts.is_empty() && item.action != Action::Delete {
                let n = resolve_conflicts(&db, &item.id)?;
                progress(Progress::step(
                    current,
                    total,
                    format!(
                        "resolved {n} conflicting revision(s) of {}/{}",
                        item.db, item.id
                    ),
                ));
            }
            report.applied.push((*item).clone());
            save_report(&dir, &report)?;
            current += 1;
            progress(Progress::step(
                current,
                total,
                format!("{:?} {}/{}", item.action, item.db, item.id).to_lowercase(),
            ));
        }
        Ok(())
    })();
    report.complete = result.is_ok();
    report.error = result.as_ref().err().map(|e| e.to_string());
    if !report.applied.is_empty() || !report.created_dbs.is_empty() || report.error.is_some() {
        save_report(&dir, &report)?;
    }
    result.map(|_| report)
}

/// Whether a report changed design documents (no-ops and deploys that failed before writing
/// anything are not states one can roll back to or from).
fn changed_something(r: &Report) -> bool {
    !r.applied.is_empty()
}

/// The design documents as they were right after deploy `to` (`0`: before the first recorded
/// deploy), for every design document the history mentions: `(db, id) -> content`.
fn state_after(reports: &[Report], to: u64) -> Vec<((String, String), Option<Value>)> {
    let mut keys: Vec<(String, String)> = vec![];
    for r in reports {
        for i in &r.applied {
            let k = (i.db.clone(), i.id.clone());
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    keys.into_iter()
        .map(|k| {
            let same = |i: &&PlanItem| i.db == k.0 && i.id == k.1;
            let last_until = reports
                .iter()
                .filter(|r| r.started <= to)
                .flat_map(|r| r.applied.iter())
                .rfind(same);
            let content = match last_until {
                Some(i) => i.after.clone(),
                None => reports
                    .iter()
                    .filter(|r| r.started > to)
                    .flat_map(|r| r.applied.iter())
                    .find(same)
                    .and_then(|i| i.before.clone()),
            };
            (k, content)
        })
        .collect()
}

/// Which deploy `--rollback` goes back to: the one before the latest deploy still in effect.
/// A rollback puts the server back to an earlier deploy, so rolling back again goes one
/// further step back (never re-applying what was just undone).
fn one_step_back(reports: &[Report], server: &str) -> Result<u64, DeployError> {
    let nothing = || DeployError::NothingToRollBack(server.into());
    let mut pos = reports.len().checked_sub(1).ok_or_else(nothing)?;
    // Follow rollbacks to the deploy whose state they restored.
    let mut guard = 0;
    while let Some(to) = reports[pos].rollback_to {
        if to == 0 {
            return Err(nothing());
        }
        pos = reports
            .iter()
            .position(|r| r.started == to)
            .ok_or_else(nothing)?;
        guard += 1;
        if guard > reports.len() {
            return Err(nothing());
        }
    }
    Ok(if pos == 0 {
        0
    } else {
        reports[pos - 1].started
    })
}

/// A plan that puts the design documents back as they were after an earlier deploy:
/// `to = Some(id)` for deploy `id` (`0`: before the first recorded deploy) or `None` for one
/// step back from the deploy in effect. The plan compares with what is on the server now, so
/// it changes only what differs.
pub fn rollback_plan(
    project_root: &Path,
    server: &HttpPeer,
    server_name: &str,
    to: Option<u64>,
) -> Result<Plan, DeployError> {
    let reports: Vec<Report> = history(project_root, server_name)?
        .into_iter()
        .filter(changed_something)
        .collect();
    let to = match to {
        Some(0) => 0,
        Some(id) => {
            if !reports.iter().any(|r| r.started == id) {
                return Err(DeployError::UnknownDeploy {
                    server: server_name.into(),
                    id,
                });
            }
            id
        }
        None => one_step_back(&reports, server_name)?,
    };
    let mut plan = Plan {
        server: server_name.into(),
        create_dbs: vec![],
        items: vec![],
        rollback_to: Some(to),
    };
    let mut counts: Vec<(String, Option<u64>)> = vec![];
    for ((db_name, id), wanted) in state_after(&reports, to) {
        let db = server.sibling(&db_name)?;
        let count = match counts.iter().find(|c| c.0 == db_name) {
            Some(c) => c.1,
            None => {
                let c = doc_count(&db)?;
                counts.push((db_name.clone(), c));
                c
            }
        };
        let (s, cur) = db.call("GET", &format!("{}?conflicts=true", doc_path(&id)), None)?;
        let cur = (s == 200).then_some(cur);
        let it = item(&db_name, &id, cur.as_ref(), wanted.as_ref(), count);
        plan.items.push(it);
    }
    Ok(plan)
}

/// A client for a server profile (the password from [`crate::profiles::password`]).
pub fn connect(profile: &crate::profiles::ServerProfile) -> Result<HttpPeer, DeployError> {
    connect_with(profile, None)
}

/// [`connect`] with `password` for this connection only (the studio's session password, never
/// stored) instead of the environment's or the keyring's, when given.
pub fn connect_with(
    profile: &crate::profiles::ServerProfile,
    password: Option<&str>,
) -> Result<HttpPeer, DeployError> {
    let password = match password.filter(|p| !p.is_empty()) {
        Some(p) if profile.user.is_some() => Some(p.to_string()),
        _ => crate::profiles::password(profile).map_err(|e| ReplError::Config(e.to_string()))?,
    };
    let auth = match (&profile.user, password) {
        (Some(u), Some(p)) => Some(fullsync_replicate::Auth {
            user: u.clone(),
            password: p,
        }),
        _ => None,
    };
    // Any database name works here: deploy addresses databases with `sibling`.
    let ca = match &profile.ca_file {
        Some(f) => Some(std::fs::read(f).map_err(|e| {
            ReplError::Config(format!("cannot read the CA file {}: {e}", f.display()))
        })?),
        None => None,
    };
    Ok(HttpPeer::with_ca(
        &format!("{}/_fullsync_deploy", profile.url.trim_end_matches('/')),
        auth,
        Duration::from_secs(60),
        ca.as_deref(),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(started: u64, before: Option<&str>, after: Option<&str>, to: Option<u64>) -> Report {
        let doc = |m: &str| json!({"_id": "_design/app", "views": {"v": {"map": m}}});
        Report {
            server: "s".into(),
            started,
            applied: vec![PlanItem {
                db: "orders".into(),
                id: "_design/app".into(),
                action: Action::Update,
                reindex: vec!["v".into()],
                doc_count: None,
                conflicts: vec![],
                before: before.map(doc),
                after: after.map(doc),
            }],
            complete: true,
            rollback_to: to,
            ..Default::default()
        }
    }

    fn map_after(reports: &[Report], to: u64) -> Option<String> {
        let state = state_after(reports, to);
        assert_eq!(state.len(), 1);
        state[0]
            .1
            .as_ref()
            .map(|d| d["views"]["v"]["map"].as_str().unwrap().to_string())
    }

    #[test]
    fn rollback_goes_one_step_further_back_each_time() {
        // Three deploys: app created as a1, then a2, then a3.
        let mut h = vec![
            report(10, None, Some("a1"), None),
            report(20, Some("a1"), Some("a2"), None),
            report(30, Some("a2"), Some("a3"), None),
        ];
        let to = one_step_back(&h, "s").unwrap();
        assert_eq!(to, 20);
        assert_eq!(map_after(&h, to).as_deref(), Some("a2"));
        h.push(report(40, Some("a3"), Some("a2"), Some(20)));
        // Again: back to the first deploy, not forward to a3.
        let to = one_step_back(&h, "s").unwrap();
        assert_eq!(to, 10);
        assert_eq!(map_after(&h, to).as_deref(), Some("a1"));
        h.push(report(50, Some("a2"), Some("a1"), Some(10)));
        // Once more: before the first deploy, where the design document did not exist.
        let to = one_step_back(&h, "s").unwrap();
        assert_eq!(to, 0);
        assert_eq!(map_after(&h, to), None);
        h.push(report(60, Some("a1"), None, Some(0)));
        assert!(matches!(
            one_step_back(&h, "s"),
            Err(DeployError::NothingToRollBack(_))
        ));
        // Any deploy can still be restored, rollbacks included.
        assert_eq!(map_after(&h, 30).as_deref(), Some("a3"));
        assert_eq!(map_after(&h, 40).as_deref(), Some("a2"));
    }

    #[test]
    fn a_changed_view_reindexes_every_view_of_its_design_document() {
        let before = json!({"views": {"a": {"map": "1"}, "b": {"map": "2"}, "lib": {"x": "y"}}, "filters": {"f": "0"}});
        let mut after = before.clone();
        after["views"]["a"]["map"] = json!("3");
        let mut all = views_to_rebuild(Some(&before), &after);
        all.sort();
        assert_eq!(all, ["a", "b"]);
        let mut filters_only = before.clone();
        filters_only["filters"]["f"] = json!("1");
        filters_only["fullsync_project"] = json!("p");
        assert!(views_to_rebuild(Some(&before), &filters_only).is_empty());
        let mut lib = before.clone();
        lib["views"]["lib"]["x"] = json!("z");
        assert_eq!(views_to_rebuild(Some(&before), &lib).len(), 2);
    }

    #[test]
    fn format_time_is_utc() {
        assert_eq!(format_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_time(1_796_295_896_025), "2026-12-03 11:04:56 UTC");
    }
}
