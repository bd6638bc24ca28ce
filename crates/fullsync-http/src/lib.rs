//! A CouchDB-compatible HTTP API over the FullSync engine.
//!
//! Real clients (PouchDB, the CouchDB replicator, curl, mobile apps) talk to the embedded
//! engine through this server. It follows the CouchDB API reference: status codes, error bodies
//! (`{"error":"not_found","reason":"missing"}`), ETags, `_changes` feeds (normal, longpoll,
//! continuous, eventsource).
//!
//! Safety defaults: binds `127.0.0.1`, refuses a `Host` header that is not a loopback name
//! (DNS rebinding), sends no CORS headers unless origins are listed, and optionally requires
//! admin credentials (Basic or the `_session` cookie).

pub mod auth;
mod changes;
pub mod conn;
mod ctx;
mod handlers;
mod multipart;
pub mod stream;
pub mod studio_web;
pub mod util;
mod views;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::response::Response;
use axum::Router;
use fullsync_engine::{Engine, UserCtx};

pub use util::ApiError;

/// Server settings.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Address to bind (default `127.0.0.1:5984`).
    pub bind: SocketAddr,
    /// Extra host names accepted in the `Host` header besides loopback names.
    pub allowed_hosts: Vec<String>,
    /// Origins allowed by CORS (empty: CORS off). `*` allows any.
    pub cors_origins: Vec<String>,
    /// Admin `(name, password)`: who may administer the server (Basic auth or `_session`).
    pub admin: Option<(String, String)>,
    /// "Admin party" on loopback: a client without credentials is admin, except on protected
    /// databases (`_users`, `c8ofullsyncgrp` and every FullSync database), where it is
    /// anonymous and the access rules hold. When false, a client without credentials is
    /// anonymous everywhere (`fullsync serve --admin`).
    pub admin_party: bool,
    /// Largest accepted request body in bytes (default 128 MiB; `413` beyond).
    pub max_request_bytes: usize,
    /// Largest accepted JSON document in bytes (default 8 MB, as CouchDB 3).
    pub max_document_bytes: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 5984)),
            allowed_hosts: vec![],
            cors_origins: vec![],
            admin: None,
            admin_party: true,
            max_request_bytes: 128 << 20,
            max_document_bytes: 8_000_000,
        }
    }
}

/// Shared state of the server.
pub struct AppState {
    /// The engine.
    pub engine: Arc<Engine>,
    /// Views (map/reduce indexes and queries).
    pub views: Arc<fullsync_views::Views>,
    /// Settings.
    pub cfg: ServerConfig,
    /// Users of `_users` and their FullSync groups.
    pub users: auth::Users,
    sessions: Mutex<HashMap<String, String>>,
    /// Databases being compacted (`compact_running` of `GET /db`).
    compacting: Mutex<std::collections::HashSet<String>>,
    /// Folders that error answers never show (`fullsync_engine::privacy`).
    hidden_dirs: Vec<(String, &'static str)>,
    /// The limit of concurrent large answers (see [`stream`]).
    pub heavy: stream::Heavy,
}

/// Builds the axum router serving the CouchDB API.
pub fn router(engine: Arc<Engine>, cfg: ServerConfig) -> Router {
    let views = Arc::new(fullsync_views::Views::new(engine.clone()));
    router_with_views(engine, views, cfg)
}

/// Builds the router with a given views service (shared with other parts of the app).
pub fn router_with_views(
    engine: Arc<Engine>,
    views: Arc<fullsync_views::Views>,
    cfg: ServerConfig,
) -> Router {
    let state = Arc::new(AppState {
        users: auth::Users::new(engine.clone()),
        hidden_dirs: fullsync_engine::privacy::private_dirs(engine.dir()),
        heavy: stream::Heavy::default_for_machine(),
        engine,
        views,
        cfg,
        sessions: Mutex::new(HashMap::new()),
        compacting: Mutex::new(Default::default()),
    });
    Router::new().fallback(entry).with_state(state)
}

/// The CouchDB API with the studio's web mode ([`studio_web`]) at `/_studio/`, both behind
/// the same `Host` check (`cfg.allowed_hosts`).
pub fn router_with_studio(
    engine: Arc<Engine>,
    views: Arc<fullsync_views::Views>,
    cfg: ServerConfig,
    studio: studio_web::WebMode,
) -> Router {
    let hosts = cfg.allowed_hosts.clone();
    studio_web::router(studio, hosts).merge(router_with_views(engine, views, cfg))
}

/// Serves an already built router (the CouchDB API merged with other routes, such as the
/// studio's web mode) on `bind` until `shutdown` resolves.
pub async fn serve_router(
    app: Router,
    bind: SocketAddr,
    on_bound: impl FnOnce(SocketAddr),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = conn::listen(bind).map_err(|e| {
        std::io::Error::new(e.kind(), format!("cannot listen on {bind}: {e}. Is another server using this port? Try --port 0 for a free one."))
    })?;
    on_bound(listener.local_addr()?);
    conn::serve(listener, app, shutdown).await
}

/// Serves `app` on `bind` from a thread of its own, with its own Tokio runtime (two workers),
/// for the rest of the process: the CouchDB API inside a program that is not async (the
/// desktop app, tests). Answers the bound address once the socket listens, or why it cannot.
pub fn serve_in_background(app: Router, bind: SocketAddr) -> std::io::Result<SocketAddr> {
    let (tx, rx) = std::sync::mpsc::channel::<std::io::Result<SocketAddr>>();
    std::thread::Builder::new()
        .name("fullsync-http".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            rt.block_on(async move {
                let bound = tx.clone();
                let on_bound = move |a| {
                    let _ = bound.send(Ok(a));
                };
                if let Err(e) = serve_router(app, bind, on_bound, std::future::pending()).await {
                    let _ = tx.send(Err(e));
                }
            });
        })?;
    rx.recv().unwrap_or_else(|_| {
        Err(std::io::Error::other(
            "the HTTP server thread stopped before listening",
        ))
    })
}

/// Binds and serves until `shutdown` resolves. Returns the bound address through `on_bound`
/// before serving (useful with port 0).
pub async fn serve(
    engine: Arc<Engine>,
    cfg: ServerConfig,
    on_bound: impl FnOnce(SocketAddr),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let bind = cfg.bind;
    serve_router(router(engine, cfg), bind, on_bound, shutdown).await
}

/// Whether a `Host` header value names this machine (a loopback name, any case) or one of
/// `extra` (`--allow-host`).
pub(crate) fn host_allowed(host: &str, extra: &[String]) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(h, p)| {
            if p.chars().all(|c| c.is_ascii_digit()) {
                h
            } else {
                host
            }
        })
    };
    let name = name.to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name == "::1"
        || name
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
        || extra.iter().any(|h| h.eq_ignore_ascii_case(&name))
}

fn cors_headers(state: &AppState, h: &HeaderMap, resp: &mut Response) {
    let Some(origin) = h.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return;
    };
    let allowed = state
        .cfg
        .cors_origins
        .iter()
        .any(|o| o == "*" || o == origin);
    if !allowed {
        return;
    }
    let hs = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(origin) {
        hs.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    hs.insert(
        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
        HeaderValue::from_static("true"),
    );
    hs.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("content-type, cache-control, etag"),
    );
    hs.insert(header::VARY, HeaderValue::from_static("Origin"));
}

impl AppState {
    /// Who sent the request; `Err` when credentials are required and missing or wrong.
    fn authenticate(&self, h: &HeaderMap) -> Result<UserCtx, ApiError> {
        let admin_ctx = |name: Option<String>| UserCtx {
            name,
            roles: vec!["_admin".into()],
        };
        if let Some((u, p)) = auth::basic_credentials(h) {
            if let Some((admin, pass)) = &self.cfg.admin {
                if u == *admin && constant_eq(p.as_bytes(), pass.as_bytes()) {
                    return Ok(admin_ctx(Some(admin.clone())));
                }
            }
            return self.users.verify(&u, &p).ok_or_else(|| {
                ApiError::new(401, "unauthorized", "Name or password is incorrect.")
            });
        }
        if let Some(token) = session_cookie(h) {
            let name = self
                .sessions
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&token)
                .cloned();
            if let Some(name) = name {
                if self.cfg.admin.as_ref().is_some_and(|(a, _)| *a == name) {
                    return Ok(admin_ctx(Some(name)));
                }
                if let Some(ctx) = self.users.ctx_for(&name) {
                    return Ok(ctx);
                }
            }
        }
        if self.cfg.admin_party {
            // Admin party on loopback: a client without credentials is admin, but anonymous on
            // protected databases (ctx::caller_on).
            return Ok(admin_ctx(None));
        }
        Ok(UserCtx::default())
    }
}

/// Whether `a == b`, in a time that depends on their lengths only (passwords, the studio
/// token): a small fold rather than a crate, as the comparison is the whole need.
pub(crate) fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn session_cookie(h: &HeaderMap) -> Option<String> {
    h.get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            c.trim()
                .strip_prefix("AuthSession=")
                .filter(|t| !t.is_empty())
                .map(str::to_string)
        })
}

async fn entry(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let headers = req.headers().clone();
    let mut resp = handle(&state, req)
        .await
        .unwrap_or_else(|e| e.without_paths(&state.hidden_dirs).into_response());
    cors_headers(&state, &headers, &mut resp);
    resp.headers_mut().insert(
        header::SERVER,
        HeaderValue::from_static("FullSync (CouchDB-compatible)"),
    );
    resp
}

async fn handle(state: &Arc<AppState>, req: Request) -> Result<Response, ApiError> {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !host_allowed(host, &state.cfg.allowed_hosts) {
        return Err(ApiError::new(
            403,
            "forbidden",
            format!(
                "Host '{host}' is not allowed: this server only answers requests addressed to a loopback name \
                 (localhost, 127.0.0.1, [::1]). Use one of those, or start it with --allow-host {host}."
            ),
        ));
    }
    if req.method() == Method::OPTIONS && !state.cfg.cors_origins.is_empty() {
        let mut r = Response::new(Body::empty());
        let hs = r.headers_mut();
        hs.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, HEAD, POST, PUT, DELETE, COPY"),
        );
        hs.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(
                "accept, authorization, content-type, origin, referer, if-none-match, if-match",
            ),
        );
        hs.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        return Ok(r);
    }
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let open = path == "/" || path == "/_up" || path == "/_session";
    let user = match state.authenticate(&parts.headers) {
        Ok(u) => u,
        Err(e) if !open => return Err(e),
        Err(_) => UserCtx::default(),
    };
    let limit = state.cfg.max_request_bytes;
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::new(
            413,
            "too_large",
            format!("The request is larger than the {limit} byte limit."),
        ));
    }
    let read = tokio::time::timeout(conn::BODY_TIMEOUT, axum::body::to_bytes(body, limit));
    let bytes = read
        .await
        .map_err(|_| {
            ApiError::new(
                408,
                "request_timeout",
                format!(
                    "The request body did not arrive within {} s; send it again.",
                    conn::BODY_TIMEOUT.as_secs()
                ),
            )
        })?
        .map_err(|_| {
            ApiError::new(
                413,
                "too_large",
                format!("The request is larger than the {limit} byte limit."),
            )
        })?;
    let ctx = ctx::Ctx {
        state: state.clone(),
        method: parts.method,
        headers: parts.headers,
        query: util::Query::parse(parts.uri.query())?,
        body: bytes,
        user,
        access: auth::Access::Admin,
    };
    handlers::dispatch(ctx, &path).await
}

impl AppState {
    /// Whether database `db` is being compacted.
    fn compacting(&self, db: &str) -> bool {
        self.compacting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(db)
    }

    /// Marks database `db` as being compacted (or no longer).
    fn set_compacting(&self, db: &str, on: bool) {
        let mut set = self.compacting.lock().unwrap_or_else(|e| e.into_inner());
        if on {
            set.insert(db.to_string());
        } else {
            set.remove(db);
        }
    }

    /// Creates a session for `name`; returns the cookie token.
    fn new_session(&self, name: &str) -> String {
        let token = fullsync_engine::doc::new_uuid();
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(token.clone(), name.to_string());
        token
    }

    fn drop_session(&self, h: &HeaderMap) {
        if let Some(t) = session_cookie(h) {
            self.sessions
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for h in [
            "localhost",
            "localhost:5984",
            "127.0.0.1:1",
            "127.1.2.3",
            "[::1]:5984",
            "app.localhost",
        ] {
            assert!(host_allowed(h, &[]), "{h}");
        }
        for h in [
            "evil.example",
            "evil.example:5984",
            "10.0.0.1",
            "localhost.evil.com",
            "",
        ] {
            assert!(!host_allowed(h, &[]), "{h}");
        }
        assert!(host_allowed("studio.lan:80", &["studio.lan".into()]));
    }
}
