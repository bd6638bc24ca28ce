//! The web mode: the studio's UI files at `/_studio/` and its commands at
//! `POST /_studio/api`, on the same loopback server as the CouchDB API. Commands need the
//! random token printed at start (`X-Studio-Token` header); requests whose `Host` is not a
//! loopback name are refused. The UI's files come from the binary (embedded at compile time)
//! or from a folder ([`UiFiles`]), and are served with the Content Security Policy [`CSP`].

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path as AxPath, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use crate::Studio;

/// Web mode settings.
pub struct WebMode {
    /// The backend.
    pub studio: Arc<Studio>,
    /// The token commands must carry.
    pub token: String,
    /// Where the built UI's files come from.
    pub ui: UiFiles,
}

/// Where the web mode finds the built UI (the files of `ui/dist`).
pub enum UiFiles {
    /// Compiled into the binary: `(path relative to ui/dist, bytes)`, sorted by path (what
    /// `fullsync`'s build script generates).
    Embedded(&'static [(&'static str, &'static [u8])]),
    /// Read from this folder at each request (`fullsync serve --studio --ui-dir DIR`, while
    /// working on the UI).
    Dir(PathBuf),
}

/// The Content Security Policy of the studio's pages in web mode; the desktop window's
/// (src-tauri/tauri.conf.json) is the same with Tauri's IPC added to `connect-src`.
///
/// Only the studio's own files run (`script-src 'self'`, no inline script, no `eval`); styles
/// may be inline because Monaco writes `<style>` elements and `style` attributes at run time;
/// images may be `data:` URLs (Monaco draws its squiggles and colour picker with them); the
/// editor's worker is one of the studio's files; requests go to this server only; nothing may
/// frame the studio, and no plugin, `<base>` or form post runs.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

fn loopback(h: &HeaderMap) -> bool {
    let host = h
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.split(':').next().unwrap_or("")
    };
    name == "localhost"
        || name == "::1"
        || name.ends_with(".localhost")
        || name
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn json_resp(status: StatusCode, v: &Value) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from(v.to_string()))
        .expect("valid response")
}

/// The largest command body: an attachment of the maximum size in base64, plus room for the
/// rest of the command.
const MAX_COMMAND_BYTES: usize = crate::attachments::MAX_BYTES / 3 * 4 + 1024 * 1024;

async fn api(
    State(w): State<Arc<WebMode>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if !loopback(&headers) {
        return json_resp(
            StatusCode::FORBIDDEN,
            &json!({"code": "forbidden", "message": "the studio answers loopback hosts only"}),
        );
    }
    let token = headers
        .get("x-studio-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if token != w.token {
        return json_resp(
            StatusCode::UNAUTHORIZED,
            &json!({"code": "forbidden", "message": "missing or wrong studio token: open the URL printed by `fullsync serve --studio`"}),
        );
    }
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            return json_resp(
                e.status(),
                &json!({"code": "bad_request", "message": format!("the command was not received ({}): commands are limited to {} MiB, attachments to {} MiB", e.body_text(), MAX_COMMAND_BYTES >> 20, crate::attachments::MAX_BYTES >> 20)}),
            )
        }
    };
    let v: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return json_resp(
                StatusCode::BAD_REQUEST,
                &json!({"code": "bad_request", "message": format!("invalid JSON: {e}")}),
            )
        }
    };
    let studio = w.studio.clone();
    let r = tokio::task::spawn_blocking(move || studio.handle_json(v)).await;
    match r {
        Ok(Ok(v)) => json_resp(StatusCode::OK, &json!({ "ok": v })),
        Ok(Err(e)) => json_resp(StatusCode::OK, &json!({ "error": e })),
        Err(e) => json_resp(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({"code": "internal", "message": e.to_string()}),
        ),
    }
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ttf" => "font/ttf",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

async fn file(w: &WebMode, headers: &HeaderMap, path: &str) -> Response {
    if !loopback(headers) {
        return json_resp(
            StatusCode::FORBIDDEN,
            &json!({"code": "forbidden", "message": "the studio answers loopback hosts only"}),
        );
    }
    let path = if path.is_empty() { "index.html" } else { path };
    if path.split('/').any(|c| c == ".." || c.is_empty()) {
        return json_resp(
            StatusCode::NOT_FOUND,
            &json!({"code": "not_found", "message": path}),
        );
    }
    let bytes: Option<Body> = match &w.ui {
        UiFiles::Embedded(files) => files
            .binary_search_by(|(p, _)| (*p).cmp(path))
            .ok()
            .map(|i| Body::from(files[i].1)),
        UiFiles::Dir(dir) => tokio::fs::read(dir.join(path)).await.ok().map(Body::from),
    };
    match bytes {
        Some(body) => Response::builder()
            .header(header::CONTENT_TYPE, content_type(path))
            .header(header::CONTENT_SECURITY_POLICY, CSP)
            .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
            .body(body)
            .expect("valid response"),
        None if path == "index.html" => json_resp(
            StatusCode::NOT_FOUND,
            &json!({"code": "not_found", "message": match &w.ui {
                UiFiles::Dir(dir) => format!("the UI is not built: run `npm ci && npm run build` in ui/ (looked in {})", dir.display()),
                UiFiles::Embedded(_) => "this binary was built without the studio UI: build it (`cd ui && npm ci && npm run build`), then rebuild fullsync, or pass --ui-dir ui/dist".to_string(),
            }}),
        ),
        None => json_resp(
            StatusCode::NOT_FOUND,
            &json!({"code": "not_found", "message": path}),
        ),
    }
}

async fn index(State(w): State<Arc<WebMode>>, headers: HeaderMap) -> Response {
    file(&w, &headers, "").await
}

async fn asset(
    State(w): State<Arc<WebMode>>,
    headers: HeaderMap,
    AxPath(path): AxPath<String>,
) -> Response {
    file(&w, &headers, &path).await
}

/// The web-mode routes, to merge with the CouchDB API router.
pub fn router(w: WebMode) -> Router {
    Router::new()
        .route("/_studio/", get(index))
        .route(
            "/_studio/api",
            post(api).layer(DefaultBodyLimit::max(MAX_COMMAND_BYTES)),
        )
        .route("/_studio/{*path}", get(asset))
        .with_state(Arc::new(w))
}
