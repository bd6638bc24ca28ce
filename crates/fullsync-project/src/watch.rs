//! Watching a project folder: edits made outside the studio (another editor, `git checkout`,
//! `git pull`) are picked up, debounced, reloaded, validated, and announced.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use notify::{RecursiveMode, Watcher as _};

use crate::load::Diagnostic;
use crate::model::Project;

/// A change seen on disk, after the project was reloaded.
#[derive(Debug)]
pub struct ProjectChanged {
    /// Files that changed (deduplicated).
    pub paths: Vec<PathBuf>,
    /// The reloaded project (None when the manifest is unreadable).
    pub project: Option<Project>,
    /// Its diagnostics.
    pub diagnostics: Vec<Diagnostic>,
}

/// A running watcher; dropping it stops watching.
pub struct ProjectWatcher {
    _watcher: notify::RecommendedWatcher,
    stop: mpsc::Sender<()>,
}

impl Drop for ProjectWatcher {
    fn drop(&mut self) {
        let _ = self.stop.send(());
    }
}

fn ignored(p: &Path) -> bool {
    p.components().any(|c| {
        let s = c.as_os_str().to_string_lossy();
        s == ".git" || s == "node_modules" || s == "target"
    }) || p.file_name().is_some_and(|n| {
        let n = n.to_string_lossy();
        n.ends_with(".tmp") || n.ends_with('~') || n.ends_with(".swp")
    })
}

/// Watches `root`; after file events settle for `debounce`, reloads the project and calls
/// `on_change` (on the watcher's thread). Symbolic links are not followed, and the reload
/// refuses links that lead outside the project (reported in the diagnostics).
pub fn watch(
    root: &Path,
    debounce: Duration,
    on_change: impl Fn(ProjectChanged) + Send + 'static,
) -> notify::Result<ProjectWatcher> {
    let (tx, rx) = mpsc::channel::<PathBuf>();
    // Links are not followed: a link leading outside the project must not make the studio
    // watch (and reload on) folders elsewhere; the reload refuses such links anyway.
    let config = notify::Config::default().with_follow_symlinks(false);
    let handler = move |res: notify::Result<notify::Event>| {
        if let Ok(ev) = res {
            if matches!(ev.kind, notify::EventKind::Access(_)) {
                return;
            }
            for p in ev.paths {
                if !ignored(&p) {
                    let _ = tx.send(p);
                }
            }
        }
    };
    let mut watcher = notify::RecommendedWatcher::new(handler, config)?;
    watcher.watch(root, RecursiveMode::Recursive)?;
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let root = root.to_path_buf();
    std::thread::Builder::new()
        .name("fullsync-project-watch".into())
        .spawn(move || {
            let mut pending: Vec<PathBuf> = vec![];
            let mut last = Instant::now();
            loop {
                if stop_rx.try_recv().is_ok() {
                    return;
                }
                match rx.recv_timeout(Duration::from_millis(50)) {
                    Ok(p) => {
                        if !pending.contains(&p) {
                            pending.push(p);
                        }
                        last = Instant::now();
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    Err(mpsc::RecvTimeoutError::Disconnected) => return,
                }
                if !pending.is_empty() && last.elapsed() >= debounce {
                    let (project, diagnostics) = crate::load(&root);
                    pending.sort();
                    on_change(ProjectChanged {
                        paths: std::mem::take(&mut pending),
                        project,
                        diagnostics,
                    });
                }
            }
        })
        .expect("spawn the watcher thread");
    Ok(ProjectWatcher {
        _watcher: watcher,
        stop: stop_tx,
    })
}
