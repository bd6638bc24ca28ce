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
    /// Views whose index the server must rebuild.
    pub reindex: Vec<String>,
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
}

impl Plan {
    /// Whether applying would change anything.
    pub fn is_noop(&self) -> bool {
        self.create_dbs.is_empty() && self.items.iter().all(|i| i.action == Action::Unchanged)
    }

    /// A readable diff of the plan.
    pub fn render(&self) -> String {
        let mut out = String::new();
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
                out.push_str(&format!("  (reindex: {})", i.reindex.join(", ")));
            }
            out.push('\n');
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
        "_all_docs?startkey=%22_design%2F%22&endkey=%22_design0%22&include_docs=true",
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

/// Computes what a deploy of `p` to `server` would do (no change is made).
pub fn plan(p: &Project, server: &HttpPeer, server_name: &str) -> Result<Plan, DeployError> {
    let mut plan = Plan {
        server: server_name.into(),
        create_dbs: vec![],
        items: vec![],
    };
    for c in &p.connectors {
        let db = server.sibling(&c.name)?;
        let (s, _) = db.call("GET", "", None)?;
        let existing = if s == 404 {
            plan.create_dbs.push((c.name.clone(), c.revs_limit));
            vec![]
        } else {
            ddocs_on(&db)?
        };
        let mut wanted: Vec<Value> = fullsync_project::sync::design_docs(c);
        for w in wanted.iter_mut() {
            w["fullsync_project"] = json!(p.name);
        }
        for w in &wanted {
            let id = w["_id"].as_str().unwrap_or_default().to_string();
            let cur = existing
                .iter()
                .find(|d| d["_id"] == w["_id"])
                .cloned()
                .map(strip_rev);
            let (action, reindex) = match &cur {
                None => (Action::Create, views_to_rebuild(None, w)),
                Some(c) if c == w => (Action::Unchanged, vec![]),
                Some(c) => (Action::Update, views_to_rebuild(Some(c), w)),
            };
            plan.items.push(PlanItem {
                db: c.name.clone(),
                id,
                action,
                reindex,
                before: cur,
                after: Some(w.clone()),
            });
        }
        for e in existing {
            let ours = e.get("fullsync_project").and_then(Value::as_str) == Some(p.name.as_str());
            if ours && !wanted.iter().any(|w| w["_id"] == e["_id"]) {
                plan.items.push(PlanItem {
                    db: c.name.clone(),
                    id: e["_id"].as_str().unwrap_or_default().into(),
                    action: Action::Delete,
                    reindex: vec![],
                    before: Some(strip_rev(e)),
                    after: None,
                });
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

/// Builds the changed views of `item` in `_design/<name>-staging` and waits until they answer.
fn stage(db: &HttpPeer, item: &PlanItem, timeout: Duration) -> Result<(), DeployError> {
    let after = item.after.as_ref().expect("staging is for create/update");
    let staging_id = format!("{}-staging", item.id);
    let mut doc = after.clone();
    doc["_id"] = json!(staging_id);
    put_ddoc(db, &staging_id, &doc)?;
    let name = staging_id.trim_start_matches("_design/").to_string();
    let start = Instant::now();
    for v in &item.reindex {
        loop {
            let (s, _) = db.call(
                "GET",
                &format!("_design/{name}/_view/{v}?limit=0&reduce=false"),
                None,
            )?;
            if (200..300).contains(&s) || s == 400 {
                break;
            }
            if start.elapsed() > timeout {
                return Err(DeployError::StagingTimeout(
                    item.id.clone(),
                    timeout.as_secs(),
                ));
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }
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
        ..Default::default()
    };
    let steps: Vec<&PlanItem> = plan
        .items
        .iter()
        .filter(|i| i.action != Action::Unchanged)
        .collect();
    let total = plan.create_dbs.len() + steps.len();
    let mut current = 0;
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
            progress(Progress {
                current,
                total,
                message: format!("created database {db}"),
            });
        }
        for item in &steps {
            let db = server.sibling(&item.db)?;
            match item.action {
                Action::Create | Action::Update => {
                    if opts.staged && !item.reindex.is_empty() {
                        progress(Progress {
                            current,
                            total,
                            message: format!("building {} in a staging design document", item.id),
                        });
                        stage(
                            &db,
                            item,
                            opts.staging_timeout.unwrap_or(Duration::from_secs(600)),
                        )?;
                    }
                    put_ddoc(
                        &db,
                        &item.id,
                        item.after.as_ref().expect("create/update has content"),
                    )?;
                    if opts.staged && !item.reindex.is_empty() {
                        delete_ddoc(&db, &format!("{}-staging", item.id))?;
                    }
                }
                Action::Delete => delete_ddoc(&db, &item.id)?,
                Action::Unchanged => {}
            }
            report.applied.push((*item).clone());
            save_report(&dir, &report)?;
            current += 1;
            progress(Progress {
                current,
                total,
                message: format!("{:?} {}/{}", item.action, item.db, item.id).to_lowercase(),
            });
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

/// A plan that restores the design documents changed by the latest deploy that changed any.
pub fn rollback_plan(project_root: &Path, server_name: &str) -> Result<Plan, DeployError> {
    let reports = history(project_root, server_name)?;
    let last = reports
        .iter()
        .rev()
        .find(|r| !r.applied.is_empty() && !r.applied.iter().all(|i| i.action == Action::Unchanged))
        .ok_or_else(|| DeployError::NothingToRollBack(server_name.into()))?;
    let items = last
        .applied
        .iter()
        .rev()
        .map(|i| PlanItem {
            db: i.db.clone(),
            id: i.id.clone(),
            action: match (&i.before, &i.after) {
                (None, _) => Action::Delete,
                (Some(_), None) => Action::Create,
                _ => Action::Update,
            },
            reindex: i.reindex.clone(),
            before: i.after.clone(),
            after: i.before.clone(),
        })
        .collect();
    Ok(Plan {
        server: server_name.into(),
        create_dbs: vec![],
        items,
    })
}

/// A client for a server profile (the password from [`crate::profiles::password`]).
pub fn connect(profile: &crate::profiles::ServerProfile) -> Result<HttpPeer, DeployError> {
    let password =
        crate::profiles::password(profile).map_err(|e| ReplError::Config(e.to_string()))?;
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
