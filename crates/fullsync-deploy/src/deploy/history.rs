//! The deploy history per server: reports saved after each apply.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::*;

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

pub(super) fn history_dir(project_root: &Path, server: &str) -> PathBuf {
    project_root
        .join(".fullsync")
        .join("deploy-history")
        .join(server)
}

pub(super) fn save_report(dir: &Path, r: &Report) -> Result<(), DeployError> {
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
