//! The studio's background jobs (replications, deploys): one table for both. Each job has an
//! id (`r1`, `d2`, ...), a status shared with the threads doing the work, and what the table
//! keeps to act on it (a replication's handles, to cancel them). Finished jobs stay listed,
//! with their errors, until dismissed; a running job cannot be dismissed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;

use crate::{ApiError, ErrorCode};

/// Where a job (or one direction of a replication) is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Working (or, live, waiting for changes).
    Running,
    /// Ended as asked.
    Done,
    /// Ended on an error (the status says which).
    Error,
    /// Stopped on request.
    Cancelled,
}

/// What the table reads of a job's status.
pub trait Job: Clone {
    /// The job's id.
    fn id(&self) -> &str;
    /// Where it is.
    fn state(&self) -> JobState;
}

/// A job's status, shared between the table and the job's threads.
pub type Shared<S> = Arc<Mutex<S>>;

/// Locks a mutex, recovering it if a thread panicked while holding it (a job's status is
/// plain data: still worth showing).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A table of jobs of one kind: statuses `S`, and `H` kept beside each (handles).
pub struct JobTable<S, H = ()> {
    /// Id prefix (`r`, `d`).
    prefix: &'static str,
    /// What a job is called in messages (`replication`, `deploy`).
    noun: &'static str,
    /// How to stop a running job, for the message refusing to dismiss it.
    to_stop: &'static str,
    next: AtomicU64,
    jobs: Mutex<Vec<(Shared<S>, H)>>,
}

impl<S: Job, H> JobTable<S, H> {
    /// An empty table: ids `{prefix}1`, `{prefix}2`...; `noun` and `to_stop` word its errors
    /// ("replication `r1` is still running: {to_stop}, then dismiss it").
    pub const fn new(prefix: &'static str, noun: &'static str, to_stop: &'static str) -> Self {
        JobTable {
            prefix,
            noun,
            to_stop,
            next: AtomicU64::new(0),
            jobs: Mutex::new(Vec::new()),
        }
    }

    /// The id of the next job.
    pub fn next_id(&self) -> String {
        format!(
            "{}{}",
            self.prefix,
            self.next.fetch_add(1, Ordering::SeqCst) + 1
        )
    }

    /// Lists a started job; answers its status now.
    pub fn insert(&self, status: Shared<S>, keep: H) -> S {
        let snapshot = lock(&status).clone();
        lock(&self.jobs).push((status, keep));
        snapshot
    }

    /// Every job's status, oldest first.
    pub fn status(&self) -> Vec<S> {
        lock(&self.jobs)
            .iter()
            .map(|(s, _)| lock(s).clone())
            .collect()
    }

    /// Runs `f` on job `id` (its status and what is kept beside it).
    pub fn with<R>(&self, id: &str, f: impl FnOnce(&Mutex<S>, &H) -> R) -> Result<R, ApiError> {
        let jobs = lock(&self.jobs);
        let (status, keep) = jobs
            .iter()
            .find(|(s, _)| lock(s).id() == id)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::NotFound,
                    format!(
                        "no {} job `{id}`: it was dismissed, or the studio restarted; refresh the list",
                        self.noun
                    ),
                )
            })?;
        Ok(f(status, keep))
    }

    /// Removes a job that has ended (and its errors) from the list.
    pub fn dismiss(&self, id: &str) -> Result<(), ApiError> {
        let state = self.with(id, |s, _| lock(s).state())?;
        if state == JobState::Running {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                format!(
                    "{} `{id}` is still running: {}, then dismiss it",
                    self.noun, self.to_stop
                ),
            ));
        }
        lock(&self.jobs).retain(|(s, _)| lock(s).id() != id);
        Ok(())
    }

    /// Calls `f` with what is kept beside each job (to cancel them all).
    pub fn for_each_kept(&self, mut f: impl FnMut(&H)) {
        for (_, keep) in lock(&self.jobs).iter() {
            f(keep);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone)]
    struct T {
        id: String,
        state: JobState,
    }

    impl Job for T {
        fn id(&self) -> &str {
            &self.id
        }
        fn state(&self) -> JobState {
            self.state
        }
    }

    #[test]
    fn ids_listing_and_dismissing_only_ended_jobs() {
        let table: JobTable<T> = JobTable::new("x", "test", "stop it first");
        let a = Arc::new(Mutex::new(T {
            id: table.next_id(),
            state: JobState::Running,
        }));
        assert_eq!(table.insert(a.clone(), ()).id, "x1");
        let b = T {
            id: table.next_id(),
            state: JobState::Done,
        };
        table.insert(Arc::new(Mutex::new(b)), ());
        assert_eq!(
            table
                .status()
                .iter()
                .map(|t| t.id.as_str())
                .collect::<Vec<_>>(),
            ["x1", "x2"]
        );
        let e = table.dismiss("x1").unwrap_err();
        assert_eq!(e.code, ErrorCode::Conflict);
        assert_eq!(
            e.message,
            "test `x1` is still running: stop it first, then dismiss it"
        );
        table.dismiss("x2").unwrap();
        assert_eq!(table.dismiss("x2").unwrap_err().code, ErrorCode::NotFound);
        lock(&a).state = JobState::Cancelled;
        table.dismiss("x1").unwrap();
        assert!(table.status().is_empty());
        assert_eq!(
            serde_json::to_value([
                JobState::Running,
                JobState::Done,
                JobState::Error,
                JobState::Cancelled
            ])
            .unwrap(),
            serde_json::json!(["running", "done", "error", "cancelled"])
        );
    }
}
