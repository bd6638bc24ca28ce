//! One sync path from the project's files to everything that runs them.
//!
//! Whatever changed the project (a save in the studio, an explorer edit, a property sheet, or
//! another program: an editor, `git checkout`), the same [`Live::apply`] runs: the project is
//! reloaded, its design documents are synced into the engine (so the CouchDB API and the view
//! runner answer with the code on disk), its listeners are restarted where they stopped (so an
//! enabled switch, a rename or a delete applies at once), and the [`SyncStatus`] the status bar
//! polls moves to a new generation (so the explorer shows new files). Changes made outside the
//! studio arrive through [`fullsync_project::watch`], debounced by [`DEBOUNCE`].

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use fullsync_engine::Engine;
use fullsync_project::{Diagnostic, Project};
use serde::Serialize;

use crate::listeners::{ActivityLog, ListenerService};
use crate::{invalid_project, rel, ApiError};

/// How long file events must settle before a change made outside the studio is applied.
pub const DEBOUNCE: Duration = Duration::from_millis(200);

/// Where the engine stands with respect to the project's files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    /// No project is open.
    Idle,
    /// A change is being applied.
    Syncing,
    /// The engine, the listeners and the explorer run the files on disk.
    Synced,
    /// The last change could not be applied (the project does not load, or the engine refused
    /// a design document): the message says what and how to fix it.
    Error,
}

/// What the status bar shows, and what tells the explorer to refresh (`sync_status`).
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct SyncStatus {
    /// State.
    pub state: SyncState,
    /// Increases by one with every applied change, whatever its source: a screen that saw
    /// another generation reloads the project tree.
    #[ts(type = "number")]
    pub generation: u64,
    /// What went wrong (state `error`), else a short summary.
    pub message: String,
    /// Where the last change came from: `open`, `studio` or `disk`.
    pub source: String,
    /// Project-relative files of the last change seen on disk (empty for the studio's own).
    pub paths: Vec<String>,
    /// Design documents the last change wrote into the engine (`db/_design/x`).
    pub updated: Vec<String>,
    /// When the last change was applied (milliseconds since the Unix epoch).
    #[ts(type = "number")]
    pub at: u64,
}

impl Default for SyncStatus {
    fn default() -> Self {
        SyncStatus {
            state: SyncState::Idle,
            generation: 0,
            message: "no project is open".into(),
            source: String::new(),
            paths: vec![],
            updated: vec![],
            at: 0,
        }
    }
}

/// The parts of the studio a change must reach, shareable with the watcher's thread.
#[derive(Clone)]
pub(crate) struct Live {
    pub(crate) engine: Arc<Engine>,
    pub(crate) views: Arc<fullsync_views::Views>,
    /// The open project's root.
    pub(crate) project: Arc<RwLock<Option<PathBuf>>>,
    pub(crate) activity: Arc<Mutex<ActivityLog>>,
    pub(crate) listeners: Arc<Mutex<Option<ListenerService>>>,
    pub(crate) listener_threads: Arc<AtomicUsize>,
    status: Arc<Mutex<SyncStatus>>,
    /// One change applied at a time (the studio's own and the watcher's).
    gate: Arc<Mutex<()>>,
    watcher: Arc<Mutex<Option<fullsync_project::watch::ProjectWatcher>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Live {
    /// Nothing open yet.
    pub(crate) fn new(engine: Arc<Engine>, views: Arc<fullsync_views::Views>) -> Live {
        Live {
            engine,
            views,
            project: Arc::default(),
            activity: Arc::default(),
            listeners: Arc::default(),
            listener_threads: Arc::default(),
            status: Arc::default(),
            gate: Arc::default(),
            watcher: Arc::default(),
        }
    }

    /// The status bar's state.
    pub(crate) fn status(&self) -> SyncStatus {
        lock(&self.status).clone()
    }

    /// Replaces the listener runner with one for `project` (none: stopped). With `resume`, the
    /// new runner continues where the old one stopped (the same project, edited); otherwise
    /// the log is cleared and only new changes fire listeners.
    pub(crate) fn restart_listeners(&self, project: Option<&Project>, resume: bool) {
        let mut slot = lock(&self.listeners);
        let reached = slot.take().map(|old| old.stop()).unwrap_or_default();
        let from = if resume { reached } else { Default::default() };
        if !resume {
            lock(&self.activity).clear();
        }
        if let Some(p) = project {
            *slot = Some(ListenerService::start(
                self.engine.clone(),
                self.views.clone(),
                p,
                self.activity.clone(),
                &from,
                self.listener_threads.clone(),
            ));
        }
    }

    /// Opens `root`: stops watching the previous project and watches this one. A folder that
    /// cannot be watched (the system's limit of watches) still opens; the status says that
    /// changes made outside the studio will not be seen.
    pub(crate) fn open(
        &self,
        root: &Path,
    ) -> Result<(crate::ProjectTree, Vec<Diagnostic>), ApiError> {
        *lock(&self.watcher) = None;
        *self.project.write().unwrap_or_else(|e| e.into_inner()) = Some(root.to_path_buf());
        let out = self.reload(root, false, "open", vec![]);
        // The watcher's copy has no slot for the watcher (which would keep itself alive).
        let live = Live {
            watcher: Arc::default(),
            ..self.clone()
        };
        let watched = root.to_path_buf();
        match fullsync_project::watch::watch(root, DEBOUNCE, move |ch| {
            live.on_disk_change(&watched, ch)
        }) {
            Ok(w) => *lock(&self.watcher) = Some(w),
            Err(e) => {
                let mut s = lock(&self.status);
                s.state = SyncState::Error;
                s.message = format!(
                    "cannot watch the project folder ({e}): changes made outside the studio are not applied until the project is opened again; raise fs.inotify.max_user_watches"
                );
            }
        }
        out
    }

    /// A change seen by the watcher of `root`.
    fn on_disk_change(&self, root: &Path, ch: fullsync_project::watch::ProjectChanged) {
        let open = self
            .project
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if open.as_deref() != Some(root) {
            return; // another project was opened meanwhile
        }
        let paths = ch.paths.iter().map(|p| rel(root, p)).collect();
        let _ = self.apply(root, ch.project, ch.diagnostics, true, "disk", paths);
    }

    /// Loads the project at `root` and applies it (see [`Live::apply`]).
    pub(crate) fn reload(
        &self,
        root: &Path,
        resume: bool,
        source: &str,
        paths: Vec<String>,
    ) -> Result<(crate::ProjectTree, Vec<Diagnostic>), ApiError> {
        let (p, diags) = fullsync_project::load(root);
        self.apply(root, p, diags, resume, source, paths)
    }

    /// The one sync path: syncs `project` into the engine, restarts its listeners (`resume`:
    /// where the previous runner stopped), records the new generation, and answers the tree
    /// (with the sync report) and the diagnostics. A project that does not load stops the
    /// listeners and is an error.
    pub(crate) fn apply(
        &self,
        root: &Path,
        project: Option<Project>,
        diags: Vec<Diagnostic>,
        resume: bool,
        source: &str,
        paths: Vec<String>,
    ) -> Result<(crate::ProjectTree, Vec<Diagnostic>), ApiError> {
        let _one = lock(&self.gate);
        lock(&self.status).state = SyncState::Syncing;
        let finish = |state: SyncState, message: String, updated: Vec<String>| {
            let mut s = lock(&self.status);
            s.state = state;
            s.generation += 1;
            s.message = message;
            s.source = source.to_string();
            s.paths = paths.clone();
            s.updated = updated;
            s.at = crate::now_ms();
        };
        let Some(p) = project else {
            self.restart_listeners(None, resume);
            let e = invalid_project(&diags);
            finish(
                SyncState::Error,
                format!("the project does not load: {}", e.message),
                vec![],
            );
            return Err(e);
        };
        let sync = fullsync_project::sync::sync(&self.engine, &p);
        self.restart_listeners(Some(&p), resume);
        let updated: Vec<String> = sync
            .updated
            .iter()
            .map(|(db, id, _)| format!("{db}/{id}"))
            .collect();
        if sync.errors.is_empty() {
            let problems = diags
                .iter()
                .filter(|d| d.severity == fullsync_project::load::Severity::Error)
                .count();
            let message = match (updated.len(), problems) {
                (0, 0) => "synced".to_string(),
                (n, 0) => format!("synced: {n} design document(s) updated"),
                (_, n) => format!("synced; {n} problem(s) in the project (see Problems)"),
            };
            finish(SyncState::Synced, message, updated);
        } else {
            finish(
                SyncState::Error,
                format!(
                    "not synced: {}; fix the file and save",
                    sync.errors.join("; ")
                ),
                updated,
            );
        }
        let mut t = crate::studio::tree_of(root, &p, &diags);
        t.sync = Some(sync);
        Ok((t, diags))
    }

    /// Stops the listeners and the watcher (the studio is closing).
    pub(crate) fn stop(&self) {
        *lock(&self.watcher) = None;
        if let Some(old) = lock(&self.listeners).take() {
            old.stop();
        }
    }
}
