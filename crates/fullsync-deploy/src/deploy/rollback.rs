//! Rollback: the plan that brings a server back to the state before a deploy.

use std::path::Path;

use fullsync_replicate::HttpPeer;
use serde_json::Value;

use super::*;
use fullsync_url::doc_path;

/// The design documents as they were right after deploy `to` (`0`: before the first recorded
/// deploy), for every design document the history mentions: `(db, id) -> content`.
pub(super) fn state_after(reports: &[Report], to: u64) -> Vec<((String, String), Option<Value>)> {
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
pub(super) fn one_step_back(reports: &[Report], server: &str) -> Result<u64, DeployError> {
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
