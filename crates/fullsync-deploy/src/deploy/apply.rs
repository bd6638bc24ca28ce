//! Applying a plan: only what changed, `_rev` handled, retried on conflict, optionally built in
//! a staging design document before switching.

use std::path::Path;
use std::time::Duration;

use fullsync_replicate::{HttpPeer, ReplError};
use serde::Serialize;
use serde_json::{json, Value};

use super::*;

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

/// Whether a staged deploy builds this design document in a staging copy first: JavaScript
/// design documents whose index changes (Mango indexes are built by `_find`, not `_view`).
pub(super) fn stageable(item: &PlanItem) -> bool {
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
pub(super) fn staged_write(
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
            create_db(server, db, *limit)?;
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

/// Creates database `db` on the server (an existing one is fine) with its `revs_limit`.
fn create_db(server: &HttpPeer, db: &str, limit: u64) -> Result<(), DeployError> {
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
    Ok(())
}

/// Whether a report changed design documents (no-ops and deploys that failed before writing
/// anything are not states one can roll back to or from).
pub(super) fn changed_something(r: &Report) -> bool {
    !r.applied.is_empty()
}
