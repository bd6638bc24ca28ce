//! One startup for the studio's hosts.
//!
//! `fullsync serve [--studio]` and the desktop app (`src-tauri`) both call [`assemble`]: it
//! opens the engine on the data folder, its views, the studio backend
//! ([`fullsync_api::Studio`]) and the CouchDB HTTP API (with the studio's web mode when asked),
//! and opens the project: the one given, else the last one opened that still exists. The hosts
//! only choose the HTTP settings and how to serve the router (the CLI on its own runtime until
//! Ctrl-C, the desktop app in the background next to its window).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use fullsync_api::{Request, Studio};
use fullsync_engine::Engine;
use fullsync_http::studio_web::{Commands, UiFiles, WebMode};
use fullsync_http::ServerConfig;
use fullsync_views::Views;

/// What to assemble.
pub struct Options {
    /// The engine's data folder (created if missing).
    pub data: PathBuf,
    /// Settings of the CouchDB HTTP API.
    pub http: ServerConfig,
    /// The project to open.
    pub project: Option<PathBuf>,
    /// Without `project`, reopen the last project opened that still exists: true for the
    /// studio's hosts (`serve --studio`, the desktop app), false for a plain `fullsync serve`,
    /// which runs no project (no listeners).
    pub reopen_last: bool,
    /// The commit the host was built from (the studio's About).
    pub commit: String,
    /// Serve the studio's web mode at `/_studio/` with these UI files (`None`: no web mode,
    /// as in the desktop app, whose window talks over IPC).
    pub web_ui: Option<UiFiles>,
}

/// The assembled parts.
pub struct Host {
    /// The engine.
    pub engine: Arc<Engine>,
    /// Its views (shared by the HTTP API and the studio).
    pub views: Arc<Views>,
    /// The studio backend (the desktop app's IPC commands call it too).
    pub studio: Arc<Studio>,
    /// The CouchDB API, with the web mode when asked: serve it with
    /// `fullsync_http::serve_router` or `serve_in_background`.
    pub router: axum::Router,
    /// The web mode's token (`None` without web mode): the studio's URL carries it.
    pub token: Option<String>,
    /// The project opened at start, if any.
    pub project: Option<PathBuf>,
}

/// Why the host could not start.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The data folder cannot be created or opened.
    #[error("cannot open the data folder {path} ({reason}): is another studio or `fullsync serve` using it?")]
    Data {
        /// The folder.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
    /// The project asked for does not open.
    #[error("cannot open the project {path}: {reason}")]
    Project {
        /// The folder.
        path: PathBuf,
        /// What failed (its diagnostics).
        reason: String,
    },
}

/// Assembles the engine, its views, the studio backend and the HTTP router, and opens the
/// project (see the crate's documentation).
pub fn assemble(opts: Options) -> Result<Host, HostError> {
    let data_error = |reason: String| HostError::Data {
        path: opts.data.clone(),
        reason,
    };
    std::fs::create_dir_all(&opts.data).map_err(|e| data_error(e.to_string()))?;
    let engine = Arc::new(Engine::open(&opts.data).map_err(|e| data_error(e.to_string()))?);
    let views = Arc::new(Views::new(engine.clone()));
    let studio = Arc::new(Studio::new(engine.clone(), views.clone()).with_commit(opts.commit));
    let project = open_project(&studio, opts.project.as_deref(), opts.reopen_last)?;
    let (router, token) = match opts.web_ui {
        Some(ui) => {
            let token = fullsync_engine::doc::new_uuid();
            let s = studio.clone();
            let commands: Commands = Arc::new(move |v| {
                s.handle_json(v)
                    .map_err(|e| serde_json::to_value(e).unwrap_or_default())
            });
            let web = WebMode {
                commands,
                token: token.clone(),
                ui,
                max_attachment_bytes: fullsync_api::attachments::MAX_BYTES,
            };
            let router =
                fullsync_http::router_with_studio(engine.clone(), views.clone(), opts.http, web);
            (router, Some(token))
        }
        None => (
            fullsync_http::router_with_views(engine.clone(), views.clone(), opts.http),
            None,
        ),
    };
    Ok(Host {
        engine,
        views,
        studio,
        router,
        token,
        project,
    })
}

/// Opens `given` (an error when it does not open), else with `reopen_last` the most recent
/// project that still exists (silently skipped when it no longer loads: the Open dialog offers
/// the others).
fn open_project(
    studio: &Studio,
    given: Option<&Path>,
    reopen_last: bool,
) -> Result<Option<PathBuf>, HostError> {
    let open = |path: &Path| {
        studio.handle(Request::ProjectOpen {
            path: path.display().to_string(),
            remember: true,
        })
    };
    if let Some(path) = given {
        open(path).map_err(|e| HostError::Project {
            path: path.to_path_buf(),
            reason: e.message,
        })?;
        return Ok(Some(path.to_path_buf()));
    }
    if !reopen_last {
        return Ok(None);
    }
    let last = fullsync_api::workspace::recent()
        .projects
        .into_iter()
        .find(|p| p.exists)
        .map(|p| PathBuf::from(p.path));
    Ok(last.filter(|p| open(p).is_ok()))
}
