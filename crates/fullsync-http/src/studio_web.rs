//! The studio's web mode: its UI files at `/_studio/` and its commands at `POST /_studio/api`,
//! on the same loopback server as the CouchDB API and behind the same `Host` check (loopback
//! names, case-insensitive, and the `--allow-host` names: [`crate::ServerConfig::allowed_hosts`]).
//! Commands need the random token printed at start (`X-Studio-Token` header), compared in
//! constant time. The commands themselves are a function ([`Commands`]: the studio backend of
//! `fullsync-api`, wired by `fullsync-host`), so this transport knows nothing of them. The UI's
//! files come from the binary (embedded at compile time) or from a folder ([`UiFiles`]), and are
//! served with the Content Security Policy [`CSP`].

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

/// Runs one studio command given as JSON (`{"cmd", "args"}`): its answer, or its error as
/// JSON (`{"code", "message", "line"?}`). Called on a blocking thread.
pub type Commands = Arc<dyn Fn(Value) -> Result<Value, Value> + Send + Sync>;

/// Web mode settings.
pub struct WebMode {
    /// The studio's commands.
    pub commands: Commands,
    /// The token commands must carry.
    pub token: String,
    /// Where the built UI's files come from.
    pub ui: UiFiles,
    /// The largest attachment a command may carry (its base64 sets the body limit).
    pub max_attachment_bytes: usize,
}

/// What the routes share: the settings and the `Host` names accepted besides loopback.
struct Web {
    mode: WebMode,
    allowed_hosts: Vec<String>,
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

/// The `Host` check of the CouchDB API ([`crate::host_allowed`]): the refusal, if any.
fn host_refusal(w: &Web, h: &HeaderMap) -> Option<Response> {
    let host = h
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if crate::host_allowed(host, &w.allowed_hosts) {
        return None;
    }
    Some(json_resp(
        StatusCode::FORBIDDEN,
        &json!({"code": "forbidden", "message": format!("Host '{host}' is not allowed: the studio answers requests addressed to a loopback name (localhost, 127.0.0.1, [::1]) or to a name given with --allow-host")}),
    ))
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
fn max_command_bytes(max_attachment_bytes: usize) -> usize {
    max_attachment_bytes / 3 * 4 + 1024 * 1024
}

async fn api(
    State(w): State<Arc<Web>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Some(refused) = host_refusal(&w, &headers) {
        return refused;
    }
    let token = headers
        .get("x-studio-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // Constant time: how long the comparison takes says nothing of how much of a guess matched.
    if !crate::constant_eq(token.as_bytes(), w.mode.token.as_bytes()) {
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
                &json!({"code": "bad_request", "message": format!("the command was not received ({}): commands are limited to {} MiB, attachments to {} MiB", e.body_text(), max_command_bytes(w.mode.max_attachment_bytes) >> 20, w.mode.max_attachment_bytes >> 20)}),
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
    let commands = w.mode.commands.clone();
    let r = tokio::task::spawn_blocking(move || commands(v)).await;
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

async fn file(w: &Web, headers: &HeaderMap, path: &str) -> Response {
    if let Some(refused) = host_refusal(w, headers) {
        return refused;
    }
    let path = if path.is_empty() { "index.html" } else { path };
    if path.split('/').any(|c| c == ".." || c.is_empty()) {
        return json_resp(
            StatusCode::NOT_FOUND,
            &json!({"code": "not_found", "message": path}),
        );
    }
    let bytes: Option<Body> = match &w.mode.ui {
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
            &json!({"code": "not_found", "message": match &w.mode.ui {
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

async fn index(State(w): State<Arc<Web>>, headers: HeaderMap) -> Response {
    file(&w, &headers, "").await
}

async fn asset(
    State(w): State<Arc<Web>>,
    headers: HeaderMap,
    AxPath(path): AxPath<String>,
) -> Response {
    file(&w, &headers, &path).await
}

/// The web-mode routes, to merge with the CouchDB API router; `allowed_hosts`: the names
/// accepted in `Host` besides loopback names (the server's `--allow-host`).
pub fn router(mode: WebMode, allowed_hosts: Vec<String>) -> Router {
    let limit = max_command_bytes(mode.max_attachment_bytes);
    Router::new()
        .route("/_studio/", get(index))
        .route(
            "/_studio/api",
            post(api).layer(DefaultBodyLimit::max(limit)),
        )
        .route("/_studio/{*path}", get(asset))
        .with_state(Arc::new(Web {
            mode,
            allowed_hosts,
        }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;
    use tower::ServiceExt;

    /// A web mode whose commands echo their request, with one UI file.
    fn app(allowed_hosts: &[&str]) -> Router {
        let commands: Commands = Arc::new(|v: Value| {
            if v["cmd"] == "fail" {
                Err(json!({"code": "bad_request", "message": "asked to fail"}))
            } else {
                Ok(json!({ "echo": v }))
            }
        });
        router(
            WebMode {
                commands,
                token: "secret-token".into(),
                ui: UiFiles::Embedded(&[("index.html", b"<!doctype html>")]),
                max_attachment_bytes: 1 << 20,
            },
            allowed_hosts.iter().map(|h| h.to_string()).collect(),
        )
    }

    async fn call(app: Router, host: &str, token: &str, body: &str) -> (StatusCode, Value) {
        let req = Request::post("/_studio/api")
            .header(header::HOST, host)
            .header("x-studio-token", token)
            .body(Body::from(body.to_string()))
            .unwrap();
        let resp = app.oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn commands_answer_loopback_names_in_any_case_and_allowed_hosts_only() {
        let cmd = r#"{"cmd":"ping"}"#;
        for host in [
            "127.0.0.1:5984",
            "LOCALHOST:5984",
            "[::1]:5984",
            "studio.localhost",
        ] {
            let (status, body) = call(app(&[]), host, "secret-token", cmd).await;
            assert_eq!(status, StatusCode::OK, "{host}: {body}");
            assert_eq!(body["ok"]["echo"]["cmd"], "ping", "{host}");
        }
        let (status, body) = call(app(&[]), "studio.example:5984", "secret-token", cmd).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body["code"], "forbidden");
        assert!(
            body["message"].as_str().unwrap().contains("--allow-host"),
            "{body}"
        );
        // The server's --allow-host names are accepted here too (as by the CouchDB API).
        let (status, _) = call(
            app(&["Studio.Example"]),
            "studio.example:5984",
            "secret-token",
            cmd,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }

    #[tokio::test]
    async fn a_missing_or_wrong_token_is_refused_and_errors_come_back_as_errors() {
        let cmd = r#"{"cmd":"ping"}"#;
        for token in ["", "secret-tokeN", "secret-token-", "secret"] {
            let (status, body) = call(app(&[]), "localhost", token, cmd).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{token:?}");
            assert_eq!(body["code"], "forbidden");
        }
        let (status, body) = call(app(&[]), "localhost", "secret-token", r#"{"cmd":"fail"}"#).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["error"]["message"], "asked to fail");
        let (status, body) = call(app(&[]), "localhost", "secret-token", "{not json").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["code"], "bad_request");
    }

    #[tokio::test]
    async fn ui_files_come_with_the_csp_and_the_same_host_check() {
        let get = |host: &str| {
            Request::get("/_studio/")
                .header(header::HOST, host)
                .body(Body::empty())
                .unwrap()
        };
        let resp = app(&[]).oneshot(get("Localhost:8080")).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()[header::CONTENT_SECURITY_POLICY], CSP);
        let resp = app(&[]).oneshot(get("evil.example")).await.unwrap();
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    }
}
