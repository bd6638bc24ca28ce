//! Test support for the workspace (a dev-dependency only): the CouchDB HTTP API in process
//! ([`TestServer`]: requests go through the router, no socket) or on a loopback port
//! ([`serve_loopback`]), requests as a user, and seeding databases.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Request};
use fullsync_engine::Engine;
use fullsync_http::{router, ServerConfig};
use serde_json::{json, Value};
use tower::ServiceExt;

/// Credentials of a request: `Some((user, password))` sends HTTP Basic, `None` none.
pub type Credentials<'a> = Option<(&'a str, &'a str)>;

/// The `Authorization` header value of HTTP Basic for `user`/`password`.
pub fn basic_auth(user: &str, password: &str) -> String {
    use base64::Engine as _;
    let b = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {b}")
}

/// One answer: status, headers and body bytes.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON (`null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The CouchDB HTTP API in process: each request goes through the router (no socket).
/// Requests carry the server's admin credentials unless told otherwise, and a loopback
/// `Host` header.
#[derive(Clone)]
pub struct TestServer {
    app: axum::Router,
    user: Option<(String, String)>,
    host: String,
}

impl TestServer {
    /// A server over `engine` with `cfg`; requests authenticate as `cfg.admin` if it names one.
    pub fn new(engine: Arc<Engine>, cfg: ServerConfig) -> TestServer {
        TestServer {
            user: cfg.admin.clone(),
            app: router(engine, cfg),
            host: "127.0.0.1:5984".into(),
        }
    }

    /// A server over a fresh in-memory engine.
    pub fn in_memory(cfg: ServerConfig) -> TestServer {
        TestServer::new(Arc::new(Engine::in_memory()), cfg)
    }

    /// A server over a fresh in-memory engine whose admin is `admin`/`secret`.
    pub fn with_admin() -> TestServer {
        TestServer::in_memory(ServerConfig {
            admin: Some(("admin".into(), "secret".into())),
            ..ServerConfig::default()
        })
    }

    /// The same server, its requests sent without credentials.
    pub fn anonymous(mut self) -> TestServer {
        self.user = None;
        self
    }

    /// The same server, its requests sent with `Host: host`.
    pub fn with_host(mut self, host: &str) -> TestServer {
        self.host = host.into();
        self
    }

    /// The router, for tests that drive it themselves.
    pub fn app(&self) -> &axum::Router {
        &self.app
    }

    /// One request as `user`, with `headers` (a `host` among them replaces the default).
    pub async fn request_as(
        &self,
        user: Credentials<'_>,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Reply {
        let mut b = Request::builder().method(method).uri(path);
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
            b = b.header("host", &self.host);
        }
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        if let Some((u, p)) = user {
            b = b.header("authorization", basic_auth(u, p));
        }
        let resp = self
            .app
            .clone()
            .oneshot(b.body(Body::from(body)).expect("a valid request"))
            .await
            .expect("the router answers");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .expect("a readable body")
            .to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }

    /// One request with the server's default credentials.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Reply {
        let user = self.user.as_ref().map(|(u, p)| (u.as_str(), p.as_str()));
        self.request_as(user, method, path, headers, body).await
    }

    /// A JSON request as `user`: status and JSON answer (`null` when it is not JSON).
    pub async fn json_as(
        &self,
        user: Credentials<'_>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let data = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let r = self
            .request_as(
                user,
                method,
                path,
                &[("content-type", "application/json")],
                data,
            )
            .await;
        (r.status, r.json())
    }

    /// A JSON request with the server's default credentials.
    pub async fn json(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let user = self.user.as_ref().map(|(u, p)| (u.as_str(), p.as_str()));
        self.json_as(user, method, path, body).await
    }

    /// Creates database `db` holding `docs` (asserts both succeed).
    pub async fn seed(&self, db: &str, docs: Value) {
        let (s, v) = self.json("PUT", &format!("/{db}"), None).await;
        assert_eq!(s, 201, "PUT /{db}: {v}");
        let (s, v) = self
            .json(
                "POST",
                &format!("/{db}/_bulk_docs"),
                Some(json!({ "docs": docs })),
            )
            .await;
        assert_eq!(s, 201, "POST /{db}/_bulk_docs: {v}");
    }
}

/// The CouchDB HTTP API over `engine` on a loopback port of its own (a background thread);
/// returns the port.
pub fn serve_loopback(engine: Arc<Engine>, cfg: ServerConfig) -> u16 {
    fullsync_http::serve_in_background(router(engine, cfg), ([127, 0, 0, 1], 0).into())
        .expect("a loopback port")
        .port()
}

/// Starts `fullsync serve --data DIR --port PORT` from the binary at `bin` (a test's
/// `env!("CARGO_BIN_EXE_fullsync")`; port 0 picks a free one); returns the child and the port
/// its first line of output announces (`... http://127.0.0.1:PORT/`). Its stderr goes to the
/// test's.
pub fn serve_binary(bin: &str, dir: &std::path::Path, port: u16) -> (std::process::Child, u16) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(bin)
        .args(["serve", "--data"])
        .arg(dir)
        .args(["--port", &port.to_string()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {bin} serve: {e}"));
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("piped stdout"))
        .read_line(&mut line)
        .expect("the first line of `fullsync serve`");
    let port = line
        .trim()
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("`fullsync serve` printed an unexpected first line: {line:?}"));
    (child, port)
}
