//! Replication endpoints: the local engine in-process, or a CouchDB-compatible server over
//! HTTP/HTTPS. Both answer the same few questions the protocol asks.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use fullsync_engine::{
    ChangesFilter, ChangesOptions, Database, Engine, OpenRev, OpenRevs, ReadOptions, Rev, UserCtx,
};
use serde_json::{json, Map, Value};

use crate::error::ReplError;

/// Which documents a replication carries.
#[derive(Clone, Debug, Default)]
pub enum Filter {
    /// All documents.
    #[default]
    None,
    /// Only these ids.
    DocIds(Vec<String>),
    /// Documents matching a Mango selector.
    Selector(Value),
    /// A filter function `ddoc/name` of the source, with `query_params`.
    Function {
        /// `ddoc/name`
        name: String,
        /// Passed to the function as `req.query`.
        query_params: Map<String, Value>,
    },
    /// Documents the view `ddoc/view` of the source emits for.
    View(String),
}

/// One row of a changes feed.
#[derive(Clone, Debug)]
pub struct Change {
    /// Sequence (opaque; integers for us, strings for CouchDB).
    pub seq: Value,
    /// Document id.
    pub id: String,
    /// Leaf revisions (`style=all_docs`).
    pub revs: Vec<String>,
}

impl Change {
    /// Reads one `_changes` row (`{seq, id, changes: [{rev}]}`), ours or a server's.
    fn from_row(r: &Value) -> Change {
        Change {
            seq: r["seq"].clone(),
            id: r["id"].as_str().unwrap_or_default().to_string(),
            revs: r["changes"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|c| c["rev"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// A batch of changes and where to resume.
#[derive(Clone, Debug)]
pub struct ChangesBatch {
    /// Rows.
    pub rows: Vec<Change>,
    /// Sequence to resume from.
    pub last_seq: Value,
}

/// What a replication needs from an endpoint.
pub trait Peer: Send + Sync {
    /// A name for messages (URL without credentials, or `local:db`).
    fn describe(&self) -> String;
    /// Server uuid and the database's current sequence. Creates the database when `create`.
    fn info(&self, create: bool) -> Result<(String, Value), ReplError>;
    /// Reads a `_local/` document.
    fn get_local(&self, id: &str) -> Result<Option<Value>, ReplError>;
    /// Writes a `_local/` document (replacing it).
    fn put_local(&self, id: &str, doc: Value) -> Result<(), ReplError>;
    /// Changes since `since` (`style=all_docs`); with `wait`, waits up to that long for the
    /// first change (longpoll).
    fn changes(
        &self,
        since: &Value,
        limit: usize,
        filter: &Filter,
        wait: Option<Duration>,
    ) -> Result<ChangesBatch, ReplError>;
    /// `_revs_diff`.
    fn revs_diff(&self, req: &Map<String, Value>) -> Result<Map<String, Value>, ReplError>;
    /// Documents with full history (`_revisions`) and inline attachments, for these
    /// `(id, rev, atts_since)`.
    fn get_revs(&self, wanted: &[(String, String, Vec<String>)]) -> Result<Vec<Value>, ReplError>;
    /// Writes replicated revisions (`new_edits=false`); returns per-document errors.
    fn write_revs(&self, docs: Vec<Value>) -> Result<Vec<Value>, ReplError>;
}

/// The local engine, used in-process (no HTTP in between).
pub struct LocalPeer {
    engine: Arc<Engine>,
    name: String,
    views: Option<Arc<fullsync_views::Views>>,
    user: UserCtx,
}

impl LocalPeer {
    /// A local database. `views` is needed for filter functions and `_view` filters.
    pub fn new(
        engine: Arc<Engine>,
        db: &str,
        views: Option<Arc<fullsync_views::Views>>,
    ) -> LocalPeer {
        LocalPeer {
            engine,
            name: db.to_string(),
            views,
            user: UserCtx {
                name: None,
                roles: vec!["_admin".into()],
            },
        }
    }

    fn db(&self) -> Result<Arc<Database>, ReplError> {
        Ok(self.engine.db(&self.name)?)
    }
}

fn seq_num(v: &Value) -> u64 {
    match v {
        Value::Number(n) => n.as_u64().unwrap_or(0),
        Value::String(s) => s
            .split('-')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0),
        _ => 0,
    }
}

impl Peer for LocalPeer {
    fn describe(&self) -> String {
        format!("local database {}", self.name)
    }

    fn info(&self, create: bool) -> Result<(String, Value), ReplError> {
        let db = if create {
            self.engine.db_or_create(&self.name)?
        } else {
            self.db()?
        };
        Ok((self.engine.uuid().to_string(), json!(db.update_seq())))
    }

    fn get_local(&self, id: &str) -> Result<Option<Value>, ReplError> {
        match self.db()?.get_local(id) {
            Ok(v) => Ok(Some(v)),
            Err(fullsync_engine::Error::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn put_local(&self, id: &str, mut doc: Value) -> Result<(), ReplError> {
        let db = self.db()?;
        doc["_id"] = json!(id);
        match db.get_local(id) {
            Ok(cur) => doc["_rev"] = cur["_rev"].clone(),
            Err(_) => {
                if let Some(m) = doc.as_object_mut() {
                    m.remove("_rev");
                }
            }
        }
        let parsed = fullsync_engine::parse_doc(doc, None, &mut |_| None)?;
        db.put(parsed, &self.user)?;
        Ok(())
    }

    fn changes(
        &self,
        since: &Value,
        limit: usize,
        filter: &Filter,
        wait: Option<Duration>,
    ) -> Result<ChangesBatch, ReplError> {
        let db = self.db()?;
        let since_n = seq_num(since);
        let pred: Option<fullsync_views::validate::DocPredicate> = match filter {
            Filter::Function { name, query_params } => {
                let views = self.views.as_ref().ok_or_else(|| {
                    ReplError::Config("filter functions need the views service".into())
                })?;
                let req = json!({"query": query_params, "userCtx": {"db": self.name, "name": null, "roles": ["_admin"]}});
                Some(
                    fullsync_views::validate::js_filter(views.pool().clone(), &db, name, req)
                        .map_err(|e| ReplError::Config(e.to_string()))?,
                )
            }
            Filter::View(v) => {
                let views = self.views.as_ref().ok_or_else(|| {
                    ReplError::Config("view filters need the views service".into())
                })?;
                Some(
                    fullsync_views::validate::view_filter(views.pool().clone(), &db, v)
                        .map_err(|e| ReplError::Config(e.to_string()))?,
                )
            }
            _ => None,
        };
        let selector = match filter {
            Filter::Selector(s) => Some(fullsync_engine::Selector::new(s.clone())?),
            _ => None,
        };
        let read = |since_n: u64| -> Result<fullsync_engine::Changes, ReplError> {
            let f = match (filter, &pred, &selector) {
                (Filter::DocIds(ids), _, _) => {
                    ChangesFilter::DocIds(ids.iter().cloned().collect::<HashSet<_>>())
                }
                (_, Some(p), _) => ChangesFilter::Doc(&**p),
                (_, _, Some(s)) => ChangesFilter::Selector(s.clone()),
                _ => ChangesFilter::None,
            };
            Ok(db.changes(&ChangesOptions {
                since: since_n,
                limit: Some(limit),
                all_docs: true,
                filter: f,
                ..Default::default()
            })?)
        };
        let mut c = read(since_n)?;
        if c.results.is_empty() {
            if let Some(w) = wait {
                let mut rx = db.subscribe();
                let deadline = std::time::Instant::now() + w;
                while c.results.is_empty() && std::time::Instant::now() < deadline {
                    if *rx.borrow_and_update() <= c.last_seq {
                        std::thread::sleep(Duration::from_millis(25).min(w));
                        continue;
                    }
                    c = read(c.last_seq)?;
                }
            }
        }
        let rows = c.results.iter().map(Change::from_row).collect();
        Ok(ChangesBatch {
            rows,
            last_seq: json!(c.last_seq),
        })
    }

    fn revs_diff(&self, req: &Map<String, Value>) -> Result<Map<String, Value>, ReplError> {
        Ok(self.db()?.revs_diff(req)?)
    }

    fn get_revs(&self, wanted: &[(String, String, Vec<String>)]) -> Result<Vec<Value>, ReplError> {
        let db = self.db()?;
        let mut out = Vec::with_capacity(wanted.len());
        for (id, rev, since) in wanted {
            let opts = ReadOptions {
                revs: true,
                attachments: since.is_empty(),
                atts_since: since.iter().filter_map(|s| Rev::parse(s).ok()).collect(),
                latest: true,
                ..Default::default()
            };
            for r in db.open_revs(id, &OpenRevs::List(vec![Rev::parse(rev)?]), &opts)? {
                if let OpenRev::Ok(d) = r {
                    out.push(d);
                }
            }
        }
        Ok(out)
    }

    fn write_revs(&self, docs: Vec<Value>) -> Result<Vec<Value>, ReplError> {
        let db = self.db()?;
        let res = db.bulk_docs_json(docs, false, &self.user)?;
        Ok(res
            .into_iter()
            .filter_map(|r| {
                r.result
                    .err()
                    .map(|e| json!({"id": r.id, "error": e.error_name(), "reason": e.reason()}))
            })
            .collect())
    }
}

/// Credentials for a remote server. Never printed: `Debug` hides the password.
#[derive(Clone)]
pub struct Auth {
    /// User name.
    pub user: String,
    /// Password.
    pub password: String,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Auth({}:***)", self.user)
    }
}

/// A database on a CouchDB-compatible server.
pub struct HttpPeer {
    /// Database URL without credentials, ending without `/`.
    db_url: String,
    /// Server root URL.
    server_url: String,
    auth: Option<Auth>,
    agent: ureq::Agent,
    timeout: Duration,
}

/// Splits `http://user:pass@host/db` into a clean URL and credentials.
pub fn split_credentials(url: &str) -> (String, Option<Auth>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_string(), None);
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((cred, host)) => {
            let (u, p) = cred.split_once(':').unwrap_or((cred, ""));
            let dec = |s: &str| fullsync_percent_decode(s);
            (
                format!("{scheme}://{host}{path}"),
                Some(Auth {
                    user: dec(u),
                    password: dec(p),
                }),
            )
        }
        None => (url.to_string(), None),
    }
}

fn fullsync_percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 3 <= b.len() {
            if let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).to_string()
}

fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn doc_path(id: &str) -> String {
    if let Some(rest) = id.strip_prefix("_design/") {
        format!("_design/{}", enc(rest))
    } else if let Some(rest) = id.strip_prefix("_local/") {
        format!("_local/{}", enc(rest))
    } else {
        enc(id)
    }
}

impl HttpPeer {
    /// A remote database at `url` (credentials may be in the URL or in `auth`).
    pub fn new(url: &str, auth: Option<Auth>, timeout: Duration) -> Result<HttpPeer, ReplError> {
        Self::with_ca(url, auth, timeout, None)
    }

    /// Like [`HttpPeer::new`], trusting the CA certificates of `ca_pem` (PEM) instead of the
    /// public roots: for servers with an internal certificate authority. TLS stays verified.
    pub fn with_ca(
        url: &str,
        auth: Option<Auth>,
        timeout: Duration,
        ca_pem: Option<&[u8]>,
    ) -> Result<HttpPeer, ReplError> {
        let (clean, url_auth) = split_credentials(url);
        if !clean.starts_with("http://") && !clean.starts_with("https://") {
            return Err(ReplError::Config(format!(
                "`{clean}` is not an http:// or https:// URL"
            )));
        }
        let db_url = clean.trim_end_matches('/').to_string();
        let server_url = match db_url.rfind('/') {
            Some(i) if i > db_url.find("://").map_or(0, |p| p + 2) => db_url[..i].to_string(),
            _ => {
                return Err(ReplError::Config(format!(
                    "`{clean}` has no database name (expected http://host:port/dbname)"
                )))
            }
        };
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_per_read(Some(timeout))
            .user_agent("FullSync-Replicator/0.1");
        let config = match ca_pem {
            None => config,
            Some(pem) => {
                let mut certs = vec![];
                for item in ureq::tls::parse_pem(pem) {
                    match item {
                        Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c),
                        Ok(_) => {}
                        Err(e) => {
                            return Err(ReplError::Config(format!(
                                "the CA file is not valid PEM: {e}"
                            )))
                        }
                    }
                }
                if certs.is_empty() {
                    return Err(ReplError::Config(
                        "the CA file holds no certificate (expected PEM `BEGIN CERTIFICATE`)"
                            .into(),
                    ));
                }
                config.tls_config(
                    ureq::tls::TlsConfig::builder()
                        .root_certs(ureq::tls::RootCerts::new_with_certs(&certs))
                        .build(),
                )
            }
        }
        .build();
        Ok(HttpPeer {
            db_url,
            server_url,
            auth: auth.or(url_auth),
            agent: config.into(),
            timeout,
        })
    }

    fn auth_header(&self) -> Option<String> {
        use base64::Engine as _;
        self.auth.as_ref().map(|a| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD
                    .encode(format!("{}:{}", a.user, a.password))
            )
        })
    }

    fn request(
        &self,
        method: &str,
        url: &str,
        body: Option<&Value>,
        read_timeout: Option<Duration>,
    ) -> Result<(u16, Value), ReplError> {
        let mut req = match method {
            "GET" => self.agent.get(url).force_send_body(),
            "PUT" => self.agent.put(url),
            "POST" => self.agent.post(url),
            "DELETE" => self.agent.delete(url).force_send_body(),
            _ => unreachable!("known methods only"),
        };
        req = req
            .header("Accept", "application/json")
            .header("Content-Type", "application/json");
        if let Some(h) = self.auth_header() {
            req = req.header("Authorization", &h);
        }
        if let Some(t) = read_timeout {
            req = req.config().timeout_per_read(Some(t)).build();
        }
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let resp = req.send(&bytes[..]);
        let mut resp = resp
            .map_err(|e| ReplError::Unreachable(format!("{} {}: {e}", method, self.redact(url))))?;
        let status = resp.status().as_u16();
        let raw = resp
            .body_mut()
            .with_config()
            .limit(u64::MAX)
            .read_to_vec()
            .map_err(|e| {
                ReplError::Unreachable(format!(
                    "{} {}: reading the answer failed: {e}",
                    method,
                    self.redact(url)
                ))
            })?;
        let v: Value = serde_json::from_slice(&raw).map_err(|_| {
            let shown: String = String::from_utf8_lossy(&raw).chars().take(120).collect();
            ReplError::Garbage(format!(
                "{} {} answered HTTP {status} with something that is not JSON: {shown:?}. Is this URL a CouchDB-compatible database?",
                method,
                self.redact(url)
            ))
        })?;
        Ok((status, v))
    }

    /// A request relative to the database URL (`path` = `""`, `"_design/x"`, `"_all_docs?..."`),
    /// or to the server root when `path` starts with `/`. Returns the status and JSON body.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), ReplError> {
        let url = if let Some(p) = path.strip_prefix('/') {
            format!("{}/{p}", self.server_url)
        } else if path.is_empty() {
            format!("{}/", self.db_url)
        } else {
            format!("{}/{path}", self.db_url)
        };
        self.request(method, &url, body, None)
    }

    /// The database URL (without credentials).
    pub fn url(&self) -> &str {
        &self.db_url
    }

    /// A peer for another database of the same server, with the same credentials.
    pub fn sibling(&self, db: &str) -> Result<HttpPeer, ReplError> {
        HttpPeer::new(
            &format!("{}/{}", self.server_url, enc(db)),
            self.auth.clone(),
            self.timeout,
        )
    }

    /// Deletes the database (if it exists) and creates it again, empty.
    pub fn recreate(&self) -> Result<(), ReplError> {
        let (s, v) = self.request("DELETE", &format!("{}/", self.db_url), None, None)?;
        if s != 404 {
            self.check("delete database", s, &v)?;
        }
        let (s, v) = self.request("PUT", &format!("{}/", self.db_url), None, None)?;
        self.check("create database", s, &v)
    }

    fn redact(&self, url: &str) -> String {
        split_credentials(url).0
    }

    fn check(&self, what: &str, status: u16, v: &Value) -> Result<(), ReplError> {
        if (200..300).contains(&status) {
            return Ok(());
        }
        Err(ReplError::Http {
            status,
            error: v
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("unknown")
                .to_string(),
            reason: format!(
                "{what} on {}: {}",
                self.db_url,
                v.get("reason").and_then(Value::as_str).unwrap_or("")
            ),
        })
    }
}

impl Peer for HttpPeer {
    fn describe(&self) -> String {
        self.db_url.clone()
    }

    fn info(&self, create: bool) -> Result<(String, Value), ReplError> {
        let (s, root) = self.request("GET", &format!("{}/", self.server_url), None, None)?;
        self.check("GET /", s, &root)?;
        let uuid = root
            .get("uuid")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| self.server_url.clone());
        let (mut s, mut info) = self.request("GET", &format!("{}/", self.db_url), None, None)?;
        if s == 404 && create {
            let (cs, cv) = self.request("PUT", &format!("{}/", self.db_url), None, None)?;
            if cs != 412 {
                self.check("create database", cs, &cv)?;
            }
            (s, info) = self.request("GET", &format!("{}/", self.db_url), None, None)?;
        }
        self.check("GET database", s, &info)?;
        Ok((uuid, info.get("update_seq").cloned().unwrap_or(json!(0))))
    }

    fn get_local(&self, id: &str) -> Result<Option<Value>, ReplError> {
        let (s, v) = self.request(
            "GET",
            &format!("{}/{}", self.db_url, doc_path(id)),
            None,
            None,
        )?;
        if s == 404 {
            return Ok(None);
        }
        self.check("read checkpoint", s, &v)?;
        Ok(Some(v))
    }

    fn put_local(&self, id: &str, mut doc: Value) -> Result<(), ReplError> {
        if let Some(cur) = self.get_local(id)? {
            doc["_rev"] = cur["_rev"].clone();
        } else if let Some(m) = doc.as_object_mut() {
            m.remove("_rev");
        }
        let (s, v) = self.request(
            "PUT",
            &format!("{}/{}", self.db_url, doc_path(id)),
            Some(&doc),
            None,
        )?;
        self.check("write checkpoint", s, &v)
    }

    fn changes(
        &self,
        since: &Value,
        limit: usize,
        filter: &Filter,
        wait: Option<Duration>,
    ) -> Result<ChangesBatch, ReplError> {
        let since_s = match since {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let mut url = format!(
            "{}/_changes?style=all_docs&since={}&limit={limit}",
            self.db_url,
            enc(&since_s)
        );
        let mut body = None;
        match filter {
            Filter::None => {}
            Filter::DocIds(ids) => {
                url.push_str("&filter=_doc_ids");
                body = Some(json!({ "doc_ids": ids }));
            }
            Filter::Selector(s) => {
                url.push_str("&filter=_selector");
                body = Some(json!({ "selector": s }));
            }
            Filter::Function { name, query_params } => {
                url.push_str(&format!("&filter={}", enc(name)));
                for (k, v) in query_params {
                    let v = v
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string());
                    url.push_str(&format!("&{}={}", enc(k), enc(&v)));
                }
            }
            Filter::View(v) => url.push_str(&format!("&filter=_view&view={}", enc(v))),
        }
        let read_timeout = match wait {
            Some(w) => {
                url.push_str(&format!("&feed=longpoll&timeout={}", w.as_millis()));
                Some(w + self.timeout)
            }
            None => None,
        };
        let (s, v) = match &body {
            Some(b) => self.request("POST", &url, Some(b), read_timeout)?,
            None => self.request("GET", &url, None, read_timeout)?,
        };
        self.check("_changes", s, &v)?;
        let results = v.get("results").and_then(Value::as_array).ok_or_else(|| {
            ReplError::Garbage(format!(
                "_changes on {} has no `results` array",
                self.db_url
            ))
        })?;
        let rows = results.iter().map(Change::from_row).collect();
        Ok(ChangesBatch {
            rows,
            last_seq: v.get("last_seq").cloned().unwrap_or_else(|| since.clone()),
        })
    }

    fn revs_diff(&self, req: &Map<String, Value>) -> Result<Map<String, Value>, ReplError> {
        let (s, v) = self.request(
            "POST",
            &format!("{}/_revs_diff", self.db_url),
            Some(&Value::Object(req.clone())),
            None,
        )?;
        self.check("_revs_diff", s, &v)?;
        match v {
            Value::Object(m) => Ok(m),
            _ => Err(ReplError::Garbage(format!(
                "_revs_diff on {} did not answer an object",
                self.db_url
            ))),
        }
    }

    fn get_revs(&self, wanted: &[(String, String, Vec<String>)]) -> Result<Vec<Value>, ReplError> {
        let docs: Vec<Value> = wanted
            .iter()
            .map(|(id, rev, since)| {
                let mut d = json!({"id": id, "rev": rev});
                if !since.is_empty() {
                    d["atts_since"] = json!(since);
                }
                d
            })
            .collect();
        let (s, v) = self.request(
            "POST",
            &format!(
                "{}/_bulk_get?revs=true&attachments=true&latest=true",
                self.db_url
            ),
            Some(&json!({ "docs": docs })),
            None,
        )?;
        if (200..300).contains(&s) {
            let mut out = vec![];
            for r in v
                .get("results")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                for d in r
                    .get("docs")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(ok) = d.get("ok") {
                        out.push(ok.clone());
                    }
                }
            }
            return Ok(out);
        }
        if !matches!(s, 400 | 404 | 405 | 501) {
            self.check("_bulk_get", s, &v)?;
        }
        // Servers without _bulk_get: one open_revs request per document.
        let mut out = vec![];
        for (id, rev, since) in wanted {
            let mut url = format!(
                "{}/{}?revs=true&latest=true&open_revs={}",
                self.db_url,
                doc_path(id),
                enc(&json!([rev]).to_string())
            );
            if since.is_empty() {
                url.push_str("&attachments=true");
            } else {
                url.push_str(&format!("&atts_since={}", enc(&json!(since).to_string())));
            }
            let (s, v) = self.request("GET", &url, None, None)?;
            self.check("GET open_revs", s, &v)?;
            for r in v.as_array().into_iter().flatten() {
                if let Some(ok) = r.get("ok") {
                    out.push(ok.clone());
                }
            }
        }
        Ok(out)
    }

    fn write_revs(&self, docs: Vec<Value>) -> Result<Vec<Value>, ReplError> {
        let (s, v) = self.request(
            "POST",
            &format!("{}/_bulk_docs", self.db_url),
            Some(&json!({"new_edits": false, "docs": docs})),
            None,
        )?;
        self.check("_bulk_docs", s, &v)?;
        Ok(v.as_array()
            .map(|a| {
                a.iter()
                    .filter(|r| r.get("error").is_some())
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_split_out_of_urls() {
        let (u, a) = split_credentials("https://bob:s%40cret@db.example:6984/app");
        assert_eq!(u, "https://db.example:6984/app");
        let a = a.unwrap();
        assert_eq!((a.user.as_str(), a.password.as_str()), ("bob", "s@cret"));
        assert_eq!(format!("{a:?}"), "Auth(bob:***)");
        assert_eq!(split_credentials("http://h/db").0, "http://h/db");
        assert!(HttpPeer::new("ftp://x/db", None, Duration::from_secs(1)).is_err());
        assert!(HttpPeer::new("http://host:5984", None, Duration::from_secs(1)).is_err());
        let e = HttpPeer::with_ca(
            "https://h/db",
            None,
            Duration::from_secs(1),
            Some(b"not a certificate"),
        )
        .err()
        .unwrap();
        assert!(e.to_string().contains("no certificate"), "{e}");
    }
}
