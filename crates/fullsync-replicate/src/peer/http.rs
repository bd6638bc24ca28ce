//! A CouchDB-compatible server as a replication endpoint, over HTTP/HTTPS (ureq + rustls).

use std::time::Duration;

use serde_json::{json, Map, Value};

use super::*;
use crate::error::ReplError;

/// Credentials for a remote server. Never printed: `Debug` hides the password.
#[derive(Clone)]
pub struct Auth {
    /// User name.
    pub user: String,
    /// Password.
    pub password: String,
}

impl Auth {
    /// The `Authorization` header value (HTTP Basic): the only place credentials travel.
    pub fn header(&self) -> String {
        use base64::Engine as _;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{}", self.user, self.password))
        )
    }
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
    let (clean, cred) = fullsync_url::split_credentials(url);
    (clean, cred.map(|(user, password)| Auth { user, password }))
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
            Some(pem) => config.tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(root_certs_from_pem(pem).map_err(ReplError::Config)?)
                    .build(),
            ),
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
        self.auth.as_ref().map(Auth::header)
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

    /// A peer for another database of the same server, with the same credentials and the same
    /// connection settings (the trusted CA of [`HttpPeer::with_ca`] included).
    pub fn sibling(&self, db: &str) -> Result<HttpPeer, ReplError> {
        Ok(HttpPeer {
            db_url: format!("{}/{}", self.server_url, fullsync_url::encode_component(db)),
            server_url: self.server_url.clone(),
            auth: self.auth.clone(),
            agent: self.agent.clone(),
            timeout: self.timeout,
        })
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
        fullsync_url::without_credentials(url)
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
            &format!("{}/{}", self.db_url, fullsync_url::doc_path(id)),
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
            &format!("{}/{}", self.db_url, fullsync_url::doc_path(id)),
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
            fullsync_url::encode_component(&since_s)
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
                url.push_str(&format!("&filter={}", fullsync_url::encode_component(name)));
                for (k, v) in query_params {
                    let v = v
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string());
                    url.push_str(&format!(
                        "&{}={}",
                        fullsync_url::encode_component(k),
                        fullsync_url::encode_component(&v)
                    ));
                }
            }
            Filter::View(v) => url.push_str(&format!(
                "&filter=_view&view={}",
                fullsync_url::encode_component(v)
            )),
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
                fullsync_url::doc_path(id),
                fullsync_url::encode_component(&json!([rev]).to_string())
            );
            if since.is_empty() {
                url.push_str("&attachments=true");
            } else {
                url.push_str(&format!(
                    "&atts_since={}",
                    fullsync_url::encode_component(&json!(since).to_string())
                ));
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

/// The root certificates of a CA file (PEM) to trust instead of the system's; the error says
/// what is wrong with the file (not PEM, or no certificate in it).
pub fn root_certs_from_pem(pem: &[u8]) -> Result<ureq::tls::RootCerts, String> {
    let mut certs = vec![];
    for item in ureq::tls::parse_pem(pem) {
        match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c),
            Ok(_) => {}
            Err(e) => return Err(format!("the CA file is not valid PEM: {e}")),
        }
    }
    if certs.is_empty() {
        return Err("the CA file holds no certificate (expected PEM `BEGIN CERTIFICATE`)".into());
    }
    Ok(ureq::tls::RootCerts::new_with_certs(&certs))
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_ca_file_without_a_certificate_is_refused_with_what_to_expect() {
        let e = super::root_certs_from_pem(b"not a certificate\n").unwrap_err();
        assert!(e.contains("holds no certificate"), "{e}");
    }
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

    /// A self-signed CA certificate (no key: nothing can be signed with it), for tests only.
    const TEST_CA: &[u8] = b"-----BEGIN CERTIFICATE-----
MIIBjjCCATOgAwIBAgIUcuHZ0WK7rSIegpR9h9Uosfjq9sMwCgYIKoZIzj0EAwIw
GzEZMBcGA1UEAwwQZnVsbHN5bmMgdGVzdCBDQTAgFw0yNjEyMDMxNjIzNDRaGA8y
MTI2MTEwOTE2MjM0NFowGzEZMBcGA1UEAwwQZnVsbHN5bmMgdGVzdCBDQTBZMBMG
ByqGSM49AgEGCCqGSM49AwEHA0IABJfTVLSPqUILbO2iDaP/7gPH97gidWit9/jc
zc7Pft6Wni/8ZkqJ9mlJExvzi0wYZILdXXbaUnPI1JbZ+0dFCOKjUzBRMB0GA1Ud
DgQWBBTF/XTklRdk8iu4a2sPBt/epcAkvjAfBgNVHSMEGDAWgBTF/XTklRdk8iu4
a2sPBt/epcAkvjAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQCm
ciG6teGfOFW8Z7OhE/tB8nqq40dFVOQIvXIE/wcAGgIhAINqUuf2EuBuDoQAMXKb
1hFijmaPyGHXUlR9KmGLYjnb
-----END CERTIFICATE-----
";

    #[test]
    fn a_sibling_keeps_the_trusted_ca_and_the_credentials() {
        let auth = Some(Auth {
            user: "bob".into(),
            password: "pw".into(),
        });
        let p = HttpPeer::with_ca(
            "https://h:6984/a",
            auth,
            Duration::from_secs(3),
            Some(TEST_CA),
        )
        .unwrap();
        let specific = |p: &HttpPeer| {
            matches!(
                p.agent.config().tls_config().root_certs(),
                ureq::tls::RootCerts::Specific(_)
            )
        };
        assert!(specific(&p), "with_ca trusts the given CA");
        let s = p.sibling("other db").unwrap();
        assert_eq!(s.url(), "https://h:6984/other%20db");
        assert!(
            specific(&s),
            "the sibling trusts the same CA (deploys to an internal CA)"
        );
        assert_eq!(s.auth.as_ref().map(|a| a.user.as_str()), Some("bob"));
        assert_eq!(s.timeout, Duration::from_secs(3));
        let plain = HttpPeer::new("https://h/a", None, Duration::from_secs(3)).unwrap();
        assert!(!specific(&plain.sibling("b").unwrap()));
    }
}
