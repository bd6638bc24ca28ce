//! FullSync Studio, the desktop app.
//!
//! A thin Tauri layer: the same startup as `fullsync serve --studio` ([`fullsync_host::assemble`]:
//! the embedded engine, its views, the studio backend, the project given or the last one), the
//! CouchDB-compatible API served on loopback (so PouchDB, curl or a phone can use it while the
//! studio runs), and the UI's commands forwarded to [`fullsync_api::Studio`], the same command
//! surface the web mode serves over HTTP. No business logic lives here.
//!
//! ```text
//! fullsync-studio [--project DIR] [--data DIR] [--port N] [--version]
//! ```
//!
//! `--port` defaults to 5984; when that port is taken the API takes a free one (shown in the
//! studio's status bar and used by the view runner's curl line).

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use fullsync_api::{ApiError, Studio};
use serde_json::{json, Value};

/// What the commands share.
struct AppState {
    studio: Arc<Studio>,
    /// Base URL of the CouchDB API on loopback.
    http: String,
    data: PathBuf,
}

/// The UI's one command: a `{cmd, args}` request of [`fullsync_api::Request`], run off the
/// UI thread.
#[tauri::command]
async fn studio(state: tauri::State<'_, AppState>, req: Value) -> Result<Value, ApiError> {
    let studio = state.studio.clone();
    match tokio::task::spawn_blocking(move || studio.handle_json(req)).await {
        Ok(r) => r,
        Err(e) => Err(ApiError::new(
            fullsync_api::ErrorCode::Internal,
            format!("the command crashed: {e}"),
        )),
    }
}

/// The native folder dialog (GTK on Linux, run on the main thread); `None` when cancelled.
#[tauri::command]
async fn pick_folder(app: tauri::AppHandle, title: String) -> Result<Option<String>, ApiError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.run_on_main_thread(move || {
        let picked = rfd::FileDialog::new().set_title(&title).pick_folder();
        let _ = tx.send(picked.map(|p| p.display().to_string()));
    })
    .map_err(|e| {
        ApiError::new(
            fullsync_api::ErrorCode::Internal,
            format!("cannot show the folder dialog ({e}): type the folder's path instead"),
        )
    })?;
    rx.await.map_err(|_| {
        ApiError::new(
            fullsync_api::ErrorCode::Internal,
            "the folder dialog closed unexpectedly: type the folder's path instead",
        )
    })
}

/// Saves `data` (base64) where the user picks in the native Save dialog; the path, or `None`
/// when cancelled. (A webview has no downloads folder: attachments are saved this way.)
#[tauri::command]
async fn save_file(
    app: tauri::AppHandle,
    name: String,
    data: String,
) -> Result<Option<String>, ApiError> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.as_bytes())
        .map_err(|e| {
            ApiError::new(
                fullsync_api::ErrorCode::BadRequest,
                format!("the file's bytes are not base64 ({e})"),
            )
        })?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.run_on_main_thread(move || {
        let picked = rfd::FileDialog::new().set_file_name(&name).save_file();
        let _ = tx.send(picked);
    })
    .map_err(|e| {
        ApiError::new(
            fullsync_api::ErrorCode::Internal,
            format!("cannot show the Save dialog ({e})"),
        )
    })?;
    let Some(path) = rx.await.ok().flatten() else {
        return Ok(None);
    };
    std::fs::write(&path, bytes).map_err(|e| {
        ApiError::new(
            fullsync_api::ErrorCode::Internal,
            format!(
                "cannot write {}: {e}; choose a folder you can write to",
                path.display()
            ),
        )
    })?;
    Ok(Some(path.display().to_string()))
}

/// The commit this binary was built from (build.rs; `unknown` without git).
const COMMIT: &str = env!("FULLSYNC_COMMIT");

/// Where the engine lives and where its HTTP API answers, and which build this is.
#[tauri::command]
fn app_info(state: tauri::State<'_, AppState>) -> Value {
    json!({
        "transport": "tauri",
        "http": state.http,
        "data": state.data.display().to_string(),
        "version": env!("CARGO_PKG_VERSION"),
        "commit": COMMIT,
    })
}

struct Args {
    project: Option<PathBuf>,
    data: PathBuf,
    port: u16,
}

fn default_data_dir() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("fullsync-studio").join("data")
}

fn parse_args() -> anyhow::Result<Args> {
    let mut a = Args {
        project: None,
        data: default_data_dir(),
        port: 5984,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .with_context(|| format!("{name} needs a value (fullsync-studio --help)"))
        };
        match arg.as_str() {
            "--project" => a.project = Some(PathBuf::from(value("--project")?)),
            "--data" => a.data = PathBuf::from(value("--data")?),
            "--port" => {
                let v = value("--port")?;
                a.port = v
                    .parse()
                    .with_context(|| format!("--port {v}: not a port number"))?;
            }
            "-V" | "--version" => {
                println!(
                    "fullsync-studio {} (commit {COMMIT})",
                    env!("CARGO_PKG_VERSION")
                );
                std::process::exit(0);
            }
            "-h" | "--help" => {
                println!("fullsync-studio [--project DIR] [--data DIR] [--port N] [--version]\n\nOpens FullSync Studio on the embedded engine in --data (default {}), serving its CouchDB API on 127.0.0.1:N (5984, or a free port when taken).", default_data_dir().display());
                std::process::exit(0);
            }
            other => anyhow::bail!("unknown argument `{other}` (fullsync-studio --help)"),
        }
    }
    Ok(a)
}

/// The same local admin as `fullsync serve`: it administers the FullSync databases, where
/// clients without credentials are anonymous (the studio itself talks in-process).
fn local_admin() -> Option<(String, String)> {
    match fullsync_deploy::profiles::local_admin() {
        Ok((name, password, created)) => {
            if created {
                eprintln!("Local admin created: name `{name}`, password in local-admin.json of the configuration folder.");
            }
            Some((name, password))
        }
        Err(e) => {
            eprintln!("{e}");
            None
        }
    }
}

/// Serves the CouchDB API on 127.0.0.1:`port`, else on a free port; returns the bound address.
fn serve_http(router: axum::Router, port: u16) -> anyhow::Result<SocketAddr> {
    let on = |p: u16| {
        fullsync_http::serve_in_background(
            router.clone(),
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), p),
        )
    };
    on(port)
        .or_else(|_| on(0))
        .context("cannot serve the CouchDB API on 127.0.0.1")
}

/// Fewer malloc arenas: glibc gives each thread (HTTP workers, QuickJS pool, GTK) its own, which
/// multiplies the resident memory of a studio that is mostly idle.
#[allow(unsafe_code)] // `mallopt`: allocator tuning only (SAFETY below)
fn limit_malloc_arenas() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only changes allocator tuning; called before any thread is started.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

fn main() -> anyhow::Result<()> {
    limit_malloc_arenas();
    let args = parse_args()?;
    // The same startup as `fullsync serve --studio`: the given project, else the last one.
    let host = fullsync_host::assemble(fullsync_host::Options {
        data: args.data.clone(),
        http: fullsync_http::ServerConfig {
            bind: SocketAddr::new(Ipv4Addr::LOCALHOST.into(), args.port),
            admin: local_admin(),
            ..Default::default()
        },
        project: args.project,
        reopen_last: true,
        commit: COMMIT.to_string(),
        web_ui: None,
    })?;
    let addr = serve_http(host.router, args.port)?;
    println!("FullSync listening on http://{addr}/");
    let backend = host.studio;
    tauri::Builder::default()
        .manage(AppState {
            studio: backend,
            http: format!("http://{addr}"),
            data: args.data,
        })
        .invoke_handler(tauri::generate_handler![
            studio,
            app_info,
            pick_folder,
            save_file
        ])
        .setup(|app| {
            // The studio is one local page: WebKit's document-viewer cache model keeps its
            // memory caches small (no back/forward page cache, small object cache).
            use tauri::Manager;
            if let Some(w) = app.get_webview_window("main") {
                let _ = w.with_webview(|wv| {
                    use webkit2gtk::{WebContextExt, WebViewExt};
                    if let Some(ctx) = wv.inner().context() {
                        ctx.set_cache_model(webkit2gtk::CacheModel::DocumentViewer);
                    }
                });
            }
            Ok(())
        })
        .run(tauri::generate_context!())
        .context("the studio window failed")?;
    Ok(())
}
