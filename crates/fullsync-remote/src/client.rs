//! [`Server`]: the CouchDB calls the studio's screens and the CLI make on a remote server.
//!
//! Credentials travel only in the `Authorization` header, never in a URL, and no error or
//! description ever carries the password: a server is named by its [`Server::name`] (a profile
//! name, or the URL without userinfo).

use std::time::Duration;

use fullsync_replicate::Auth;
use serde_json::{json, Value};

use crate::RemoteError;

/// A CouchDB-compatible server (CouchDB, the CouchDB behind Convertigo, pouchdb-server,
/// `fullsync serve`), with its credentials.
pub struct Server {
    /// Server root URL, without userinfo and without a trailing `/`.
    base: String,
    /// How the server is named in messages (profile name or `base`).
    name: String,
    auth: Option<Auth>,
    agent: ureq::Agent,
    timeout: Duration,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Server({}, {:?})", self.name, self.auth)
    }
}

/// Percent-encodes one path segment or query value.
pub fn enc(s: &str) -> String {
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

/// The path of a document id (`_design/x` and `_local/x` keep their slash).
pub fn doc_path(id: &str) -> String {
    for p in ["_design/", "_local/"] {
        if let Some(rest) = id.strip_prefix(p) {
            return format!("{p}{}", enc(rest));
        }
    }
    enc(id)
}

/// The view query options CouchDB takes as JSON in a query string.
const JSON_PARAMS: &[&str] = &[
    "key",
    "keys",
    "startkey",
    "start_key",
    "endkey",
    "end_key",
    "startkey_docid",
    "start_key_doc_id",
    "endkey_docid",
    "end_key_doc_id",
];

/// A query string (`?a=1&b=2`, or empty) from a JSON object of view options: JSON-valued
/// options (`key`, `startkey`...) as JSON text, the others as plain text (`limit=10`,
/// `stale=ok`). `keys` is left out (sent as a POST body).
pub fn query_string(q: &Value) -> String {
    let mut parts = vec![];
    if let Some(o) = q.as_object() {
        for (k, v) in o {
            if k == "keys" || v.is_null() {
                continue;
            }
            let text = match v {
                Value::String(s)
                    if !JSON_PARAMS.contains(&k.as_str())
                        || k.ends_with("docid")
                        || k.ends_with("doc_id") =>
                {
                    s.clone()
                }
                other => other.to_string(),
            };
            parts.push(format!("{}={}", enc(k), enc(&text)));
        }
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

impl Server {
    /// A server at `url` (its root; credentials in the URL are taken out of it and used like
    /// `auth`, which wins). `name` is how messages call it (default: the URL without
    /// userinfo). `timeout` bounds every read (a longpoll adds its own wait); `ca_pem` trusts
    /// an internal certificate authority (TLS stays verified).
    pub fn new(
        url: &str,
        name: Option<&str>,
        auth: Option<Auth>,
        timeout: Duration,
        ca_pem: Option<&[u8]>,
    ) -> Result<Server, RemoteError> {
        let (clean, url_auth) = fullsync_replicate::peer::split_credentials(url.trim());
        if !clean.starts_with("http://") && !clean.starts_with("https://") {
            return Err(RemoteError::Config(format!(
                "`{clean}` is not an http:// or https:// URL"
            )));
        }
        let base = clean.trim_end_matches('/').to_string();
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_connect(Some(Duration::from_secs(10).min(timeout)))
            .timeout_per_read(Some(timeout))
            .user_agent("FullSync-Studio/0.1");
        let config = match ca_pem {
            None => config,
            Some(pem) => config.tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(
                        fullsync_replicate::peer::root_certs_from_pem(pem)
                            .map_err(RemoteError::Config)?,
                    )
                    .build(),
            ),
        }
        .build();
        Ok(Server {
            name: name.map(str::to_string).unwrap_or_else(|| base.clone()),
            base,
            auth: auth.or(url_auth),
            agent: config.into(),
            timeout,
        })
    }

    /// How messages name this server.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The root URL (no credentials).
    pub fn url(&self) -> &str {
        &self.base
    }

    /// The user it authenticates as.
    pub fn user(&self) -> Option<&str> {
        self.auth.as_ref().map(|a| a.user.as_str())
    }

    /// The credentials (for a replication started from here).
    pub fn auth(&self) -> Option<&Auth> {
        self.auth.as_ref()
    }

    /// The URL of database `db` (no credentials).
    pub fn db_url(&self, db: &str) -> String {
        format!("{}/{}", self.base, enc(db))
    }

    fn auth_header(&self) -> Option<String> {
        self.auth.as_ref().map(Auth::header)
    }

    /// Sends a request; answers the status, content type and raw body. Transport failures
    /// become [`RemoteError::Unreachable`] / [`RemoteError::Timeout`].
    fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
        wait: Option<Duration>,
    ) -> Result<(u16, String, Vec<u8>), RemoteError> {
        let url = format!("{}{path}", self.base);
        let mut req = match method {
            "GET" => self.agent.get(&url).force_send_body(),
            "PUT" => self.agent.put(&url),
            "POST" => self.agent.post(&url),
            "DELETE" => self.agent.delete(&url).force_send_body(),
            "HEAD" => self.agent.head(&url).force_send_body(),
            other => {
                return Err(RemoteError::Config(format!(
                    "unsupported HTTP method {other}"
                )))
            }
        };
        req = req.header("Accept", "application/json");
        let (ctype, bytes) = body.unwrap_or(("application/json", vec![]));
        req = req.header("Content-Type", ctype);
        if let Some(h) = self.auth_header() {
            req = req.header("Authorization", &h);
        }
        if let Some(w) = wait {
            req = req
                .config()
                .timeout_per_read(Some(w + self.timeout))
                .build();
        }
        let what = format!("{method} {}", path.split('?').next().unwrap_or(path));
        let mut resp = req
            .send(&bytes[..])
            .map_err(|e| self.transport_error(&what, e))?;
        let status = resp.status().as_u16();
        let ctype = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let raw = resp
            .body_mut()
            .with_config()
            .limit(u64::MAX)
            .read_to_vec()
            .map_err(|e| self.transport_error(&what, e))?;
        Ok((status, ctype, raw))
    }

    fn transport_error(&self, what: &str, e: ureq::Error) -> RemoteError {
        match e {
            ureq::Error::Timeout(_) => RemoteError::Timeout {
                server: self.name.clone(),
                what: what.to_string(),
                secs: self.timeout.as_secs_f64(),
            },
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
                RemoteError::Timeout {
                    server: self.name.clone(),
                    what: what.to_string(),
                    secs: self.timeout.as_secs_f64(),
                }
            }
            other => RemoteError::Unreachable {
                server: self.name.clone(),
                detail: other.to_string(),
            },
        }
    }

    /// A JSON request: `path` is relative to the root (`/db/_all_docs?...`). Statuses other
    /// than 2xx become errors naming the server; a body that is not JSON is
    /// [`RemoteError::Garbage`].
    pub fn json(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, RemoteError> {
        self.json_wait(method, path, body, None)
    }

    fn json_wait(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        wait: Option<Duration>,
    ) -> Result<Value, RemoteError> {
        let b = body.map(|b| ("application/json", b.to_string().into_bytes()));
        let (status, _, raw) = self.send(method, path, b, wait)?;
        let what = format!("{method} {}", path.split('?').next().unwrap_or(path));
        let v: Value = serde_json::from_slice(&raw).map_err(|_| {
            let shown: String = String::from_utf8_lossy(&raw).chars().take(120).collect();
            RemoteError::Garbage {
                server: self.name.clone(),
                what: what.clone(),
                status,
                shown,
            }
        })?;
        self.check(status, &what, v)
    }

    fn check(&self, status: u16, what: &str, v: Value) -> Result<Value, RemoteError> {
        if (200..300).contains(&status) {
            return Ok(v);
        }
        let error = v
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_string();
        let reason = v
            .get("reason")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        Err(match status {
            401 => RemoteError::Unauthorized {
                server: self.name.clone(),
                user: self.user().map(str::to_string),
                reason,
            },
            403 => RemoteError::Forbidden {
                server: self.name.clone(),
                what: what.to_string(),
                reason,
            },
            404 => RemoteError::NotFound {
                server: self.name.clone(),
                what: what.to_string(),
                reason,
            },
            409 => RemoteError::Conflict {
                server: self.name.clone(),
                what: what.to_string(),
                reason,
            },
            _ => RemoteError::Http {
                server: self.name.clone(),
                what: what.to_string(),
                status,
                error,
                reason,
            },
        })
    }

    /// `GET /`: the welcome (`couchdb`, `version`, `vendor`, `uuid`). Also what "connect" checks.
    pub fn welcome(&self) -> Result<Value, RemoteError> {
        let v = self.json("GET", "/", None)?;
        if v.get("couchdb").is_none() && v.get("version").is_none() {
            return Err(RemoteError::Garbage {
                server: self.name.clone(),
                what: "GET /".into(),
                status: 200,
                shown: v.to_string().chars().take(120).collect(),
            });
        }
        Ok(v)
    }

    /// Checks the credentials: `GET /_session` must name the user (a server that ignores the
    /// password answers `userCtx.name: null`). Without a user, only reachability is checked.
    pub fn check_login(&self) -> Result<Value, RemoteError> {
        let welcome = self.welcome()?;
        if let Some(user) = self.user() {
            let s = self.json("GET", "/_session", None)?;
            if s["userCtx"]["name"].as_str() != Some(user) {
                return Err(RemoteError::Unauthorized {
                    server: self.name.clone(),
                    user: Some(user.to_string()),
                    reason: "the server did not accept the credentials".into(),
                });
            }
        }
        Ok(welcome)
    }

    /// `GET /_all_dbs` (CouchDB 3 allows it to admins only: the message says so).
    pub fn all_dbs(&self) -> Result<Vec<String>, RemoteError> {
        let v = self.json("GET", "/_all_dbs", None).map_err(|e| match e {
            RemoteError::Forbidden { server, .. } | RemoteError::Unauthorized { server, .. } => {
                RemoteError::Forbidden {
                    server,
                    what: "GET /_all_dbs".into(),
                    reason: "only admins may list the databases of this server; open a database by its name instead".into(),
                }
            }
            e => e,
        })?;
        Ok(v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect())
    }

    /// `GET /db`: database info.
    pub fn db_info(&self, db: &str) -> Result<Value, RemoteError> {
        self.json("GET", &format!("/{}", enc(db)), None)
    }

    /// `_all_docs` with options (`limit`, `skip`, `startkey`, `include_docs`, `keys`...).
    pub fn all_docs(&self, db: &str, q: &Value) -> Result<Value, RemoteError> {
        let path = format!("/{}/_all_docs{}", enc(db), query_string(q));
        match q.get("keys") {
            Some(keys) => self.json("POST", &path, Some(&json!({ "keys": keys }))),
            None => self.json("GET", &path, None),
        }
    }

    /// Documents whose id starts with `prefix` (a page of `limit` after `skip`), as the
    /// documents panel lists them: `{"total", "rows"}`.
    pub fn docs_page(
        &self,
        db: &str,
        prefix: &str,
        limit: usize,
        skip: usize,
    ) -> Result<Value, RemoteError> {
        let mut q = json!({"limit": limit, "skip": skip});
        if !prefix.is_empty() {
            q["startkey"] = json!(prefix);
            q["endkey"] = json!(format!("{prefix}\u{fff0}"));
        }
        let v = self.all_docs(db, &q)?;
        Ok(json!({"total": v["total_rows"], "rows": v["rows"]}))
    }

    /// One document with `_conflicts` and `_revs_info`; the revision `rev` when given.
    pub fn get_doc(&self, db: &str, id: &str, rev: Option<&str>) -> Result<Value, RemoteError> {
        let mut path = format!("/{}/{}?conflicts=true", enc(db), doc_path(id));
        match rev {
            Some(r) => path.push_str(&format!("&rev={}", enc(r))),
            None => path.push_str("&revs_info=true"),
        }
        self.json("GET", &path, None)
    }

    /// Every live (not deleted) leaf revision of a document, the winner first
    /// (`open_revs=all`).
    pub fn live_leaves(&self, db: &str, id: &str) -> Result<Vec<Value>, RemoteError> {
        let winner = self.get_doc(db, id, None)?;
        let v = self.json(
            "GET",
            &format!("/{}/{}?open_revs=all", enc(db), doc_path(id)),
            None,
        )?;
        let mut leaves: Vec<Value> = v
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r.get("ok").cloned())
            .filter(|d| d.get("_deleted") != Some(&json!(true)))
            .collect();
        leaves.sort_by_key(|d| d["_rev"] != winner["_rev"]);
        Ok(leaves)
    }

    /// Writes a document (with `_rev` to update; a stale `_rev` is a conflict). Answers
    /// `{"ok", "id", "rev"}`.
    pub fn put_doc(&self, db: &str, doc: &Value) -> Result<Value, RemoteError> {
        match doc.get("_id").and_then(Value::as_str) {
            Some(id) => self.json("PUT", &format!("/{}/{}", enc(db), doc_path(id)), Some(doc)),
            None => self.json("POST", &format!("/{}", enc(db)), Some(doc)),
        }
    }

    /// Deletes revision `rev` of a document.
    pub fn delete_doc(&self, db: &str, id: &str, rev: &str) -> Result<Value, RemoteError> {
        self.json(
            "DELETE",
            &format!("/{}/{}?rev={}", enc(db), doc_path(id), enc(rev)),
            None,
        )
    }

    /// Resolves a conflict like the local screen: checks that the live leaves are exactly
    /// `keep` + `delete` (else nothing is written), writes `body` on top of `keep` when given,
    /// then deletes each revision of `delete`. Answers `{"ok", "id", "rev", "deleted"}`.
    pub fn resolve(
        &self,
        db: &str,
        id: &str,
        keep: &str,
        delete: &[String],
        body: Option<Value>,
    ) -> Result<Value, RemoteError> {
        let leaves: std::collections::BTreeSet<String> = self
            .live_leaves(db, id)?
            .iter()
            .filter_map(|d| d["_rev"].as_str().map(str::to_string))
            .collect();
        let mut expected: std::collections::BTreeSet<String> = delete.iter().cloned().collect();
        expected.insert(keep.to_string());
        if leaves != expected {
            return Err(RemoteError::Conflict {
                server: self.name.clone(),
                what: format!("resolve {id}"),
                reason: format!(
                    "{id} changed since you looked (its live revisions are now {}): nothing was deleted; reload the document and confirm again",
                    leaves.into_iter().collect::<Vec<_>>().join(", ")
                ),
            });
        }
        let mut kept = keep.to_string();
        if let Some(mut b) = body {
            let o = b.as_object_mut().ok_or_else(|| {
                RemoteError::Config("the merged body must be a JSON object".into())
            })?;
            o.insert("_id".into(), json!(id));
            o.insert("_rev".into(), json!(keep));
            let r = self.put_doc(db, &b)?;
            kept = r["rev"].as_str().unwrap_or(keep).to_string();
        }
        for rev in delete {
            self.delete_doc(db, id, rev)?;
        }
        Ok(json!({"ok": true, "id": id, "rev": kept, "deleted": delete}))
    }

    /// An attachment's bytes and content type.
    pub fn get_attachment(
        &self,
        db: &str,
        id: &str,
        name: &str,
        rev: Option<&str>,
    ) -> Result<(Vec<u8>, String), RemoteError> {
        let mut path = format!("/{}/{}/{}", enc(db), doc_path(id), enc(name));
        if let Some(r) = rev {
            path.push_str(&format!("?rev={}", enc(r)));
        }
        let (status, ctype, raw) = self.send("GET", &path, None, None)?;
        if !(200..300).contains(&status) {
            let v = serde_json::from_slice(&raw).unwrap_or(Value::Null);
            self.check(status, &format!("GET attachment {name}"), v)?;
        }
        Ok((raw, ctype))
    }

    /// Adds or replaces an attachment on top of `rev`; answers `{"ok", "id", "rev"}`.
    pub fn put_attachment(
        &self,
        db: &str,
        id: &str,
        rev: &str,
        name: &str,
        content_type: &str,
        data: Vec<u8>,
    ) -> Result<Value, RemoteError> {
        let path = format!(
            "/{}/{}/{}?rev={}",
            enc(db),
            doc_path(id),
            enc(name),
            enc(rev)
        );
        let (status, _, raw) = self.send("PUT", &path, Some((content_type, data)), None)?;
        let v = serde_json::from_slice(&raw).map_err(|_| RemoteError::Garbage {
            server: self.name.clone(),
            what: format!("PUT attachment {name}"),
            status,
            shown: String::from_utf8_lossy(&raw).chars().take(120).collect(),
        })?;
        self.check(status, &format!("PUT attachment {name}"), v)
    }

    /// Removes an attachment on top of `rev`.
    pub fn delete_attachment(
        &self,
        db: &str,
        id: &str,
        rev: &str,
        name: &str,
    ) -> Result<Value, RemoteError> {
        self.json(
            "DELETE",
            &format!(
                "/{}/{}/{}?rev={}",
                enc(db),
                doc_path(id),
                enc(name),
                enc(rev)
            ),
            None,
        )
    }

    /// `_changes` after `since` (opaque: CouchDB sequences are strings), at most `limit`
    /// rows; with `wait`, a longpoll that answers as soon as something changes (or after
    /// `wait`); `descending` for the newest first.
    pub fn changes(
        &self,
        db: &str,
        since: &Value,
        limit: usize,
        descending: bool,
        wait: Option<Duration>,
    ) -> Result<Value, RemoteError> {
        let since = match since {
            Value::Null => "0".to_string(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let mut path = format!(
            "/{}/_changes?since={}&limit={limit}&style=all_docs",
            enc(db),
            enc(&since)
        );
        if descending {
            path.push_str("&descending=true");
        }
        if let Some(w) = wait {
            path.push_str(&format!("&feed=longpoll&timeout={}", w.as_millis()));
        }
        self.json_wait("GET", &path, None, wait)
    }

    /// Queries a saved view with any CouchDB option (`keys` goes in a POST body).
    pub fn view(&self, db: &str, ddoc: &str, view: &str, q: &Value) -> Result<Value, RemoteError> {
        let ddoc = ddoc.strip_prefix("_design/").unwrap_or(ddoc);
        let path = format!(
            "/{}/_design/{}/_view/{}{}",
            enc(db),
            enc(ddoc),
            enc(view),
            query_string(q)
        );
        match q.get("keys") {
            Some(keys) => self.json("POST", &path, Some(&json!({ "keys": keys }))),
            None => self.json("GET", &path, None),
        }
    }

    /// `_find` with a Mango query (`selector`, `fields`, `sort`, `limit`, `skip`,
    /// `use_index`, `bookmark`...).
    pub fn find(&self, db: &str, query: &Value) -> Result<Value, RemoteError> {
        self.json("POST", &format!("/{}/_find", enc(db)), Some(query))
    }

    /// `_explain` of a Mango query.
    pub fn explain(&self, db: &str, query: &Value) -> Result<Value, RemoteError> {
        self.json("POST", &format!("/{}/_explain", enc(db)), Some(query))
    }

    /// `_design_docs` (ids and revisions of the design documents) via `_all_docs`.
    pub fn design_docs(&self, db: &str) -> Result<Vec<Value>, RemoteError> {
        let v = self.all_docs(
            db,
            &json!({"startkey": "_design/", "endkey": "_design0", "include_docs": true}),
        )?;
        Ok(v["rows"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r.get("doc").cloned())
            .collect())
    }

    /// A sample of the documents of `db` (design documents left out): the first `n` by id,
    /// or `n` chosen at random among all ids. Read-only.
    pub fn sample(&self, db: &str, n: usize, random: bool) -> Result<Vec<Value>, RemoteError> {
        let docs_of = |v: Value| -> Vec<Value> {
            v["rows"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r.get("doc").filter(|d| d.is_object()).cloned())
                .filter(|d| {
                    !d["_id"]
                        .as_str()
                        .is_some_and(|id| id.starts_with("_design/"))
                })
                .collect()
        };
        if !random {
            // Ids before `_design/` sort first; the rest after `_design0`.
            let mut out = docs_of(
                self.all_docs(db, &json!({"include_docs": true, "limit": n, "endkey": "_design/", "inclusive_end": false}))?,
            );
            if out.len() < n {
                out.extend(docs_of(self.all_docs(
                    db,
                    &json!({"include_docs": true, "limit": n - out.len(), "startkey": "_design0"}),
                )?));
            }
            return Ok(out);
        }
        let ids: Vec<String> = self.all_docs(db, &json!({}))?["rows"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["id"].as_str().map(str::to_string))
            .filter(|id| !id.starts_with("_design/"))
            .collect();
        let picked = crate::pick_random(ids, n);
        if picked.is_empty() {
            return Ok(vec![]);
        }
        Ok(docs_of(self.all_docs(
            db,
            &json!({"include_docs": true, "keys": picked}),
        )?))
    }
}
