//! The studio's listener runner: while a project is open, its listeners run against the local
//! engine on a background thread (as `fullsync listen` does), and every call of a listener's
//! target lands in a bounded in-memory [`ActivityLog`] the Listeners screen polls.
//!
//! The listener logic itself (selecting the changed documents, calling targets) is
//! [`fullsync_runtime::listeners::Runner`]; this module only schedules it and keeps the log.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fullsync_engine::Engine;
use fullsync_project::Project;
use fullsync_runtime::listeners::Runner;
use serde::Serialize;

/// How many activity entries the studio keeps (older ones are dropped).
pub const ACTIVITY_CAPACITY: usize = 500;

/// How often the runner looks for new changes.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// One call of a listener's target, as the studio shows it.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct ActivityEntry {
    /// Position in the log since the project was opened (1, 2, ...): poll with `after`.
    #[ts(type = "number")]
    pub index: u64,
    /// When the call ended (milliseconds since the Unix epoch).
    #[ts(type = "number")]
    pub time: u64,
    /// Database (connector).
    pub db: String,
    /// Listener name.
    pub listener: String,
    /// Ids of the documents passed to the target.
    pub docs: Vec<String>,
    /// Milliseconds the target took.
    pub ms: f64,
    /// Whether the call succeeded.
    pub ok: bool,
    /// `ok`, or the error.
    pub result: String,
}

/// A listener of the open project, as the Listeners screen lists it.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct ListenerInfo {
    /// Database (connector).
    pub db: String,
    /// Listener name.
    pub name: String,
    /// Its settings.
    #[serde(flatten)]
    #[ts(flatten)]
    pub listener: fullsync_project::Listener,
}

/// The answer of `listener_activity`.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct Activity {
    /// Entries after the one asked, oldest first.
    pub entries: Vec<ActivityEntry>,
    /// The index of the newest entry (poll with `after` = this).
    #[ts(type = "number")]
    pub last: u64,
    /// Whether the listener runner is running.
    pub running: bool,
    /// Runner threads alive.
    pub runner_threads: usize,
    /// The open project's listeners.
    pub listeners: Vec<ListenerInfo>,
}

/// The newest [`ACTIVITY_CAPACITY`] listener calls.
#[derive(Debug, Default)]
pub struct ActivityLog {
    entries: VecDeque<ActivityEntry>,
    last: u64,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl ActivityLog {
    /// Appends an entry (numbering it), dropping the oldest beyond the capacity.
    pub fn push(&mut self, a: fullsync_runtime::listeners::Activity) {
        self.last += 1;
        self.entries.push_back(ActivityEntry {
            index: self.last,
            time: now_ms(),
            db: a.db,
            listener: a.listener,
            docs: a.docs,
            ms: a.ms,
            ok: a.result == "ok",
            result: a.result,
        });
        while self.entries.len() > ACTIVITY_CAPACITY {
            self.entries.pop_front();
        }
    }

    /// Entries with an index above `after`, oldest first.
    pub fn after(&self, after: u64) -> Vec<ActivityEntry> {
        self.entries
            .iter()
            .filter(|e| e.index > after)
            .cloned()
            .collect()
    }

    /// Index of the newest entry (0 when none yet).
    pub fn last(&self) -> u64 {
        self.last
    }

    /// Forgets every entry (a new project was opened); numbering goes on, so a screen polling
    /// with an old `after` never sees an index twice.
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

/// The background thread running one project's listeners.
pub struct ListenerService {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<BTreeMap<String, u64>>>,
    listeners: Vec<ListenerInfo>,
}

/// The listeners of a project, as the Listeners screen lists them.
fn describe(p: &Project) -> Vec<ListenerInfo> {
    let mut out = vec![];
    for c in &p.connectors {
        for l in &c.listeners {
            out.push(ListenerInfo {
                db: c.name.clone(),
                name: l.name.clone(),
                listener: l.clone(),
            });
        }
    }
    out
}

impl ListenerService {
    /// Starts running the listeners of `p`. Each database is processed from `resume[db]` when
    /// given (the sequence a previous runner of the same project reached), else from its
    /// current sequence: only changes made from now on fire listeners. `alive` counts the
    /// runner threads alive (one more until this one has exited).
    pub fn start(
        engine: Arc<Engine>,
        views: Arc<fullsync_views::Views>,
        p: &Project,
        log: Arc<Mutex<ActivityLog>>,
        resume: &BTreeMap<String, u64>,
        alive: Arc<AtomicUsize>,
    ) -> ListenerService {
        let mut runners = vec![];
        for c in &p.connectors {
            if c.listeners.is_empty() {
                continue;
            }
            let Some(r) = Runner::new(engine.clone(), views.clone(), p, &c.name) else {
                continue;
            };
            // The starting point is read here, before returning, so a write made right after
            // the project opens is never skipped.
            let since = match (resume.get(&c.name), engine.db_or_create(&c.name)) {
                (Some(s), _) => *s,
                (None, Ok(db)) => db.update_seq(),
                (None, Err(_)) => 0,
            };
            runners.push((c.name.clone(), r, since));
        }
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        alive.fetch_add(1, Ordering::SeqCst);
        let counter = alive.clone();
        let thread = std::thread::Builder::new()
            .name("fullsync-studio-listeners".into())
            .spawn(move || {
                let reached = run(engine, runners, log, &flag);
                counter.fetch_sub(1, Ordering::SeqCst);
                reached
            })
            .ok();
        if thread.is_none() {
            alive.fetch_sub(1, Ordering::SeqCst);
        }
        ListenerService {
            stop,
            thread,
            listeners: describe(p),
        }
    }

    /// The listeners it runs (each with `db`, `name`, `kind`, `view`/`filter`, `chunk`,
    /// `enabled`, `target`).
    pub fn listeners(&self) -> &[ListenerInfo] {
        &self.listeners
    }

    /// Whether the thread is still running.
    pub fn running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Stops the thread, waits for it, and returns the sequence reached per database.
    pub fn stop(mut self) -> BTreeMap<String, u64> {
        self.halt()
    }

    fn halt(&mut self) -> BTreeMap<String, u64> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for ListenerService {
    fn drop(&mut self) {
        self.halt();
    }
}

fn run(
    engine: Arc<Engine>,
    mut runners: Vec<(String, Runner, u64)>,
    log: Arc<Mutex<ActivityLog>>,
    stop: &AtomicBool,
) -> BTreeMap<String, u64> {
    while !stop.load(Ordering::SeqCst) {
        for (db, r, since) in runners.iter_mut() {
            let Ok(dbh) = engine.db(db) else { continue };
            if dbh.update_seq() <= *since {
                continue;
            }
            let outcome = r.process(*since);
            let calls = std::mem::take(&mut *r.activity.lock().unwrap_or_else(|e| e.into_inner()));
            let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
            for a in calls {
                log.push(a);
            }
            match outcome {
                Ok(seq) => *since = seq,
                Err(e) => {
                    // Skip what could not be read, so one bad change does not repeat forever.
                    log.push(fullsync_runtime::listeners::Activity {
                        listener: "(listener runner)".into(),
                        db: db.clone(),
                        docs: vec![],
                        ms: 0.0,
                        result: format!(
                            "error: cannot read the changes of {db}: {}; the changes up to sequence {} are skipped",
                            e.reason(),
                            dbh.update_seq()
                        ),
                    });
                    *since = dbh.update_seq();
                }
            }
        }
        let mut waited = Duration::ZERO;
        while waited < POLL_INTERVAL && !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(25));
            waited += Duration::from_millis(25);
        }
    }
    runners.into_iter().map(|(db, _, s)| (db, s)).collect()
}
