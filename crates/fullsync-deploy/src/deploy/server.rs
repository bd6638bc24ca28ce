//! What a deploy asks of the server: design document writes and deletes, index builds with
//! progress, conflict resolution.

use std::time::{Duration, Instant};

use fullsync_replicate::{HttpPeer, ReplError};
use serde_json::Value;

use super::*;
use fullsync_engine::seq::seq_number;
use fullsync_url::{doc_path, encode_component as enc};

pub(super) fn put_ddoc(db: &HttpPeer, id: &str, content: &Value) -> Result<(), ReplError> {
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

pub(super) fn delete_ddoc(db: &HttpPeer, id: &str) -> Result<(), ReplError> {
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

/// How far the index of design document `ddoc_id` is: `(changes done, changes in total)`.
/// CouchDB reports its indexers in `_active_tasks` (one per shard, summed here); other servers
/// are asked `_info`'s `update_seq` against the database's.
pub(super) fn index_progress(db: &HttpPeer, db_name: &str, ddoc_id: &str) -> Option<(u64, u64)> {
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
pub(super) fn build_index(
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
pub(super) fn resolve_conflicts(db: &HttpPeer, id: &str) -> Result<usize, ReplError> {
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
