//! Deploying a project's databases and design documents to a CouchDB-compatible server:
//! a plan (dry run), apply (only what changed, `_rev` handled, retried on conflict, optionally
//! built in a staging design document before switching), a history per server, and rollback.
//!
//! Deployed design documents carry `"fullsync_project": "<name>"`, so a later deploy can delete
//! the design documents the project no longer has without touching anyone else's.

mod apply;
mod history;
mod plan;
mod rollback;
mod server;

pub use apply::*;
pub use history::*;
pub use plan::*;
pub use rollback::*;
use server::*;

use std::time::Duration;

use fullsync_replicate::{HttpPeer, ReplError};

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
    use fullsync_project::sync::views_to_rebuild;
    use serde_json::json;

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
