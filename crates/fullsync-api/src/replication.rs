//! Replication jobs started from the studio: a local database pushed to, pulled from, or synced
//! with a remote CouchDB-compatible database, each on its own threads
//! ([`fullsync_replicate::start`]/[`fullsync_replicate::sync`]), with progress taken from the
//! replication's events. Finished jobs (and their errors) stay listed until dismissed.
//!
//! Credentials never leave this module: the remote URL is shown with its password masked, and
//! any error text is scrubbed of the password before it is stored.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use fullsync_engine::Engine;
use fullsync_replicate::{Auth, Direction, Event, Replication};
use serde::{Deserialize, Serialize};

use crate::jobs::{lock, Job, JobState, JobTable};
use crate::{now_ms, ApiError, ErrorCode};

/// What a studio replication does, seen from the local database.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Local to remote.
    Push,
    /// Remote to local.
    Pull,
    /// Both, side by side.
    Sync,
}

/// What to replicate (the `replication_start` command's arguments).
#[derive(Clone, Debug, Deserialize, ts_rs::TS)]
pub struct StartArgs {
    /// Local database.
    pub db: String,
    /// Remote database URL (`http(s)://[user:password@]host:port/db`).
    pub remote: String,
    /// Push, pull or sync.
    pub direction: Mode,
    /// Keep following changes (and retry while the remote is unreachable) until cancelled.
    #[serde(default)]
    #[ts(as = "Option<bool>", optional)]
    pub live: bool,
    /// Replicate as this FullSync user of the remote server (its access rules apply: a pull
    /// receives only the user's documents, a push is tagged with the user).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub user: Option<String>,
    /// The user's password: used for this job only, never stored nor shown.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub password: Option<String>,
    /// Longest wait between retries of a live job, in seconds (default 60; the wait goes back
    /// to 0.5 s after every attempt that made progress).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub max_backoff_secs: Option<u32>,
}

/// Progress of one direction of a job.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct Leg {
    /// `push` or `pull`.
    #[ts(type = "'push' | 'pull'")]
    pub direction: Direction,
    /// `running`, `done`, `error` or `cancelled`.
    pub state: JobState,
    /// Revisions read from the source.
    #[ts(type = "number")]
    pub docs_read: u64,
    /// Revisions written to the target.
    #[ts(type = "number")]
    pub docs_written: u64,
    /// Revisions the target refused.
    #[ts(type = "number")]
    pub doc_write_failures: u64,
    /// Source sequence reached.
    #[ts(type = "number")]
    pub current: u64,
    /// Source sequence to reach.
    #[ts(type = "number")]
    pub total: u64,
    /// Live: up to date and waiting for changes, or waiting to retry (then `message` says why).
    pub waiting: bool,
    /// What it is doing or waiting for.
    pub message: String,
    /// When waiting to retry: when the next attempt starts (milliseconds since the Unix epoch).
    #[ts(type = "number | null")]
    pub retry_at: Option<u64>,
}

/// A replication job, as `replication_status` reports it.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct JobStatus {
    /// Job id (`r1`, `r2`, ...).
    pub id: String,
    /// Local database.
    pub db: String,
    /// Remote URL with its password masked.
    pub remote: String,
    /// Push, pull or sync.
    pub direction: Mode,
    /// Live.
    pub live: bool,
    /// The FullSync user it replicates as.
    pub user: Option<String>,
    /// `running`, `done`, `error` or `cancelled` (the worst of its directions).
    pub state: JobState,
    /// Cancel was asked and the job is stopping.
    pub cancelling: bool,
    /// Started (milliseconds since the Unix epoch).
    #[ts(type = "number")]
    pub started: u64,
    /// Ended, once it has.
    #[ts(type = "number | null")]
    pub ended: Option<u64>,
    /// Sum over directions, for one progress bar.
    #[ts(type = "number")]
    pub current: u64,
    /// Sum over directions, for one progress bar.
    #[ts(type = "number")]
    pub total: u64,
    /// Sum over directions.
    #[ts(type = "number")]
    pub docs_read: u64,
    /// Sum over directions.
    #[ts(type = "number")]
    pub docs_written: u64,
    /// Each direction.
    pub legs: Vec<Leg>,
    /// Fatal errors and refused documents (kept until the job is dismissed).
    pub errors: Vec<String>,
}

impl Job for JobStatus {
    fn id(&self) -> &str {
        &self.id
    }
    fn state(&self) -> JobState {
        self.state
    }
}

/// The studio's replication jobs (each with the handles of its directions, to cancel them).
pub struct Replications {
    jobs: JobTable<JobStatus, Vec<Replication>>,
}

impl Default for Replications {
    fn default() -> Self {
        Replications {
            jobs: JobTable::new("r", "replication", "cancel it first"),
        }
    }
}

/// `http://user:secret@host/db` -> `http://user:***@host/db` (unchanged without userinfo).
pub fn mask_url(url: &str) -> String {
    fullsync_replicate::url::mask_credentials(url)
}

/// Removes every form of `secret` (as typed, and percent-encoded in a URL) from `text`, and
/// words the replicator's command-line advice the studio's way.
fn scrub(text: &str, secrets: &[String]) -> String {
    let mut out = text.replace(
        "with --retry the replication waits and tries again",
        "a live replication waits and tries again",
    );
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        out = out.replace(s.as_str(), "***");
    }
    out
}

/// Recomputes the job-level fields from its legs.
fn summarize(s: &mut JobStatus) {
    s.current = s.legs.iter().map(|l| l.current).sum();
    s.total = s.legs.iter().map(|l| l.total).sum();
    s.docs_read = s.legs.iter().map(|l| l.docs_read).sum();
    s.docs_written = s.legs.iter().map(|l| l.docs_written).sum();
    let any = |st: JobState| s.legs.iter().any(|l| l.state == st);
    s.state = if any(JobState::Running) {
        JobState::Running
    } else if any(JobState::Error) {
        JobState::Error
    } else if any(JobState::Cancelled) {
        JobState::Cancelled
    } else {
        JobState::Done
    };
    if s.state != JobState::Running && s.ended.is_none() {
        s.ended = Some(now_ms());
        s.cancelling = false;
    }
}

fn on_event(status: &Mutex<JobStatus>, secrets: &[String], e: Event) {
    let mut s = lock(status);
    let dir = match &e {
        Event::Active { direction }
        | Event::Change { direction, .. }
        | Event::Paused { direction, .. }
        | Event::Complete { direction, .. }
        | Event::Error { direction, .. } => *direction,
    };
    let Some(leg) = s.legs.iter_mut().find(|l| l.direction == dir) else {
        return;
    };
    let mut errors = vec![];
    match e {
        Event::Active { .. } => {
            leg.waiting = false;
            leg.retry_at = None;
            leg.message = "replicating".into();
        }
        Event::Change {
            docs_read,
            docs_written,
            doc_write_failures,
            current,
            total,
            ..
        } => {
            leg.docs_read = docs_read;
            leg.docs_written = docs_written;
            leg.doc_write_failures = doc_write_failures;
            leg.current = current;
            leg.total = total;
            leg.waiting = false;
            leg.retry_at = None;
            leg.message = "replicating".into();
        }
        Event::Paused {
            error,
            retry_in_ms,
            retry_at,
            ..
        } => {
            leg.waiting = true;
            leg.retry_at = retry_at;
            leg.message = match error {
                Some(err) => format!(
                    "waiting {:.1} s to retry: {}",
                    retry_in_ms.unwrap_or(0) as f64 / 1000.0,
                    scrub(&err, secrets)
                ),
                None => "up to date; waiting for changes".into(),
            };
        }
        Event::Error { .. } => {}
        Event::Complete {
            ok,
            docs_read,
            docs_written,
            doc_write_failures,
            last_seq,
            errors: errs,
            cancelled,
            ..
        } => {
            leg.docs_read = docs_read;
            leg.docs_written = docs_written;
            leg.doc_write_failures = doc_write_failures;
            leg.waiting = false;
            leg.retry_at = None;
            if ok && !cancelled {
                // A one-shot that had nothing to copy sends no `change`: the sequence it
                // checkpointed is where it reached.
                let reached = fullsync_replicate::replicate::seq_num(&last_seq);
                leg.current = leg.current.max(reached);
                leg.total = leg.total.max(leg.current);
            }
            leg.state = if cancelled {
                JobState::Cancelled
            } else if ok {
                JobState::Done
            } else {
                JobState::Error
            };
            leg.message = match leg.state {
                JobState::Cancelled => "cancelled".into(),
                JobState::Done => format!(
                    "done: {docs_read} read, {docs_written} written, {doc_write_failures} refused"
                ),
                _ => "failed".into(),
            };
            let label = format!("{dir:?}").to_lowercase();
            errors = errs
                .iter()
                .map(|m| format!("{label}: {}", scrub(m, secrets)))
                .collect();
        }
    }
    s.errors.extend(errors);
    summarize(&mut s);
}

/// Every form of the job's passwords, scrubbed from what it shows: the URL's (decoded, and as
/// typed, percent-encoded) and the password field's.
fn secrets_of(remote: &str, url_auth: Option<&Auth>, password: Option<&str>) -> Vec<String> {
    let mut secrets: Vec<String> = vec![];
    if let Some(au) = url_auth {
        secrets.push(au.password.clone());
        if let Some((_, rest)) = remote.split_once("://") {
            if let Some((cred, _)) = rest.split('/').next().unwrap_or("").rsplit_once('@') {
                if let Some((_, raw)) = cred.split_once(':') {
                    secrets.push(raw.to_string());
                }
            }
        }
    }
    if let Some(p) = password {
        secrets.push(p.to_string());
    }
    secrets
}

/// The status of a job starting (`dirs`: its directions).
fn new_status(
    id: String,
    a: &StartArgs,
    remote: &str,
    user: Option<String>,
    dirs: &[Direction],
) -> JobStatus {
    JobStatus {
        id,
        db: a.db.clone(),
        remote: mask_url(remote),
        direction: a.direction,
        live: a.live,
        user,
        state: JobState::Running,
        cancelling: false,
        started: now_ms(),
        ended: None,
        current: 0,
        total: 0,
        docs_read: 0,
        docs_written: 0,
        legs: dirs
            .iter()
            .map(|d| Leg {
                direction: *d,
                state: JobState::Running,
                docs_read: 0,
                docs_written: 0,
                doc_write_failures: 0,
                current: 0,
                total: 0,
                waiting: false,
                message: "starting".into(),
                retry_at: None,
            })
            .collect(),
        errors: vec![],
    }
}

impl Replications {
    /// Starts a job and answers its status (with its id).
    pub fn start(
        &self,
        engine: &Arc<Engine>,
        views: &Arc<fullsync_views::Views>,
        a: StartArgs,
    ) -> Result<JobStatus, ApiError> {
        self.start_filtered(engine, views, a, fullsync_replicate::Filter::None)
    }

    /// [`Replications::start`] replicating only what `filter` lets through (doc ids, a Mango
    /// selector...): the "pull a sample" of a server database.
    pub fn start_filtered(
        &self,
        engine: &Arc<Engine>,
        views: &Arc<fullsync_views::Views>,
        a: StartArgs,
        filter: fullsync_replicate::Filter,
    ) -> Result<JobStatus, ApiError> {
        let remote = a.remote.trim().to_string();
        let (clean, url_auth) = fullsync_replicate::peer::split_credentials(&remote);
        let secrets = secrets_of(&remote, url_auth.as_ref(), a.password.as_deref());
        let bad = |msg: String| ApiError::new(ErrorCode::BadRequest, scrub(&msg, &secrets));
        if !clean.starts_with("http://") && !clean.starts_with("https://") {
            return Err(bad(format!(
                "the remote `{}` is not a URL: give the remote database as http://host:port/dbname (or https://)",
                mask_url(&remote)
            )));
        }
        engine.db(&a.db).map_err(|_| {
            bad(format!(
                "there is no local database `{}`: pick one of the databases listed (open the project to create its databases)",
                a.db
            ))
        })?;
        let user = a.user.clone().filter(|u| !u.trim().is_empty());
        let auth = match (&user, a.password.clone()) {
            (Some(u), Some(p)) => Some(Auth {
                user: u.clone(),
                password: p,
            }),
            (Some(u), None) => {
                return Err(bad(format!(
                    "replicating as `{u}` needs their password: type it in the password field (it is used for this replication only and never stored)"
                )))
            }
            (None, _) => None,
        };
        let user = user.or_else(|| url_auth.as_ref().map(|x| x.user.clone()));
        let timeout = Duration::from_secs(30);
        let remote_peer =
            fullsync_replicate::endpoint(&remote, engine, Some(views.clone()), auth, timeout)
                .map_err(|e| bad(e.to_string()))?;
        let local_peer =
            fullsync_replicate::endpoint(&a.db, engine, Some(views.clone()), None, timeout)
                .map_err(|e| bad(e.to_string()))?;
        let id = self.jobs.next_id();
        let dirs: &[Direction] = match a.direction {
            Mode::Push => &[Direction::Push],
            Mode::Pull => &[Direction::Pull],
            Mode::Sync => &[Direction::Push, Direction::Pull],
        };
        let status = Arc::new(Mutex::new(new_status(id, &a, &remote, user, dirs)));
        let opts = fullsync_replicate::Options {
            live: a.live,
            // A live job keeps going while offline; a one-shot reports the error at once.
            retry: a.live,
            max_backoff: a
                .max_backoff_secs
                .map(|s| std::time::Duration::from_secs(u64::from(s.max(1))))
                .unwrap_or(fullsync_replicate::Options::default().max_backoff),
            filter,
            ..Default::default()
        };
        let st = status.clone();
        let listener: fullsync_replicate::Listener =
            Arc::new(move |e: Event| on_event(&st, &secrets, e));
        let handles = match a.direction {
            Mode::Push => vec![fullsync_replicate::start(
                local_peer,
                remote_peer,
                Direction::Push,
                opts,
                listener,
            )],
            Mode::Pull => vec![fullsync_replicate::start(
                remote_peer,
                local_peer,
                Direction::Pull,
                opts,
                listener,
            )],
            Mode::Sync => {
                let (push, pull) =
                    fullsync_replicate::sync(local_peer, remote_peer, opts, listener);
                vec![push, pull]
            }
        };
        Ok(self.jobs.insert(status, handles))
    }

    /// Every job, oldest first.
    pub fn status(&self) -> Vec<JobStatus> {
        self.jobs.status()
    }

    /// Asks a running job to stop; it ends as `cancelled` (after checkpointing what it copied).
    pub fn cancel(&self, id: &str) -> Result<JobStatus, ApiError> {
        self.jobs.with(id, |status, handles| {
            let mut s = lock(status);
            if s.state == JobState::Running {
                s.cancelling = true;
                for h in handles {
                    h.cancel();
                }
            }
            s.clone()
        })
    }

    /// Removes a finished job (and its errors) from the list.
    pub fn dismiss(&self, id: &str) -> Result<(), ApiError> {
        self.jobs.dismiss(id)
    }
}

impl Drop for Replications {
    fn drop(&mut self) {
        self.jobs.for_each_kept(|handles| {
            for h in handles {
                h.cancel();
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_masked_and_errors_scrubbed() {
        assert_eq!(
            mask_url("https://bob:s%40cret@db.example:6984/app"),
            "https://bob:***@db.example:6984/app"
        );
        assert_eq!(
            mask_url("http://127.0.0.1:5984/app"),
            "http://127.0.0.1:5984/app"
        );
        assert_eq!(
            scrub("GET http://bob:hunter2@h/db failed", &["hunter2".into()]),
            "GET http://bob:***@h/db failed"
        );
    }
}
