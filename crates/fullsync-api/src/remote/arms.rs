//! The `remote` ops that need more than a line (the table in `remote.rs` calls them):
//! attachments, changes/views/Mango, connections and login, design documents, preview on a
//! sample, compare, pull a sample.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use fullsync_deploy::profiles;
use fullsync_engine::Engine;
use fullsync_remote::{RemoteError, Server, Target};
use serde_json::{json, Value};

use super::answers::{
    CompareAnswer, Connection, DesignDocViews, LoginAnswer, RemoteAttachment, SamplePreview,
    ServerChanges, ServerWritten, ViewSource, Welcome,
};
use super::{bad, lock, Endpoint, Session, ENGINE};
use crate::replication::{JobStatus, Mode, Replications, StartArgs};
use crate::{ApiError, ErrorCode};

/// The `remote` ops that need more than a line.
impl Session {
    /// Confirms a write to `conn` (see [`Session::confirm_write`]), then runs it.
    pub(super) fn write<T>(
        &self,
        conn: &str,
        confirm: bool,
        f: impl FnOnce(&Server) -> Result<T, RemoteError>,
    ) -> Result<T, ApiError> {
        self.confirm_write(conn, confirm)?;
        self.with(conn, f)
    }

    /// An attachment of a document on a server, base64.
    pub(super) fn attachment_get(
        &self,
        conn: &str,
        db: &str,
        id: &str,
        name: String,
        rev: Option<&str>,
    ) -> Result<RemoteAttachment, ApiError> {
        let (bytes, content_type) = self.with(conn, |s| s.get_attachment(db, id, &name, rev))?;
        Ok(RemoteAttachment {
            name,
            content_type,
            length: bytes.len(),
            data: base64::engine::general_purpose::STANDARD.encode(&bytes),
        })
    }

    /// Adds or replaces an attachment on a server (`data` is base64).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn attachment_put(
        &self,
        conn: &str,
        (db, id, rev): (&str, &str, &str),
        name: &str,
        content_type: Option<String>,
        data: &str,
        confirm: bool,
    ) -> Result<ServerWritten, ApiError> {
        self.confirm_write(conn, confirm)?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.as_bytes())
            .map_err(|e| bad(format!("the attachment is not valid base64: {e}")))?;
        let ctype = content_type
            .filter(|c| !c.trim().is_empty())
            .unwrap_or_else(|| "application/octet-stream".into());
        self.with(conn, |s| s.put_attachment(db, id, rev, name, &ctype, bytes))
            .map(ServerWritten)
    }

    /// A page of a server's changes feed: after `since`, the newest first with `latest`, or a
    /// longpoll of up to `wait_ms` (at most a minute).
    pub(super) fn changes(
        &self,
        conn: &str,
        db: &str,
        (since, limit, latest): (Value, usize, bool),
        wait_ms: Option<u32>,
    ) -> Result<ServerChanges, ApiError> {
        self.with(conn, |s| {
            let wait = wait_ms.map(|w| Duration::from_millis(u64::from(w.min(60_000))));
            if latest {
                // The newest `limit` rows, newest first; resume from the current seq.
                let now = s.changes(db, &json!("now"), 1, false, None)?;
                let rows = s.changes(db, &json!(0), limit, true, None)?;
                return Ok(json!({"results": rows["results"], "last_seq": now["last_seq"]}));
            }
            s.changes(db, &since, limit, false, wait)
        })
        .map(ServerChanges)
    }

    /// Runs `f` on the target of `at`; answers its result and how long it took (ms).
    pub(super) fn on_target(
        &self,
        views: &Arc<fullsync_views::Views>,
        at: &Endpoint,
        f: impl FnOnce(&Target) -> Result<Value, RemoteError>,
    ) -> Result<(Value, f64), ApiError> {
        let t = self.target(views, at)?;
        let started = std::time::Instant::now();
        let r = self.with_target(&at.conn, || f(&t))?;
        Ok((r, started.elapsed().as_secs_f64() * 1000.0))
    }

    pub(super) fn connections(&self) -> Result<Vec<Connection>, ApiError> {
        let mut out = vec![Connection {
            name: ENGINE.into(),
            kind: "engine".into(),
            label: Some("Embedded engine".into()),
            url: None,
            user: None,
            password: None,
            writes_confirmed: None,
        }];
        let all = profiles::load().map_err(|e| bad(e.to_string()))?;
        let confirmed = lock(&self.confirmed).clone();
        for (name, p) in all {
            out.push(Connection {
                kind: match p.kind {
                    profiles::ServerKind::Couchdb => "couchdb",
                    profiles::ServerKind::Convertigo => "convertigo",
                }
                .into(),
                label: None,
                url: Some(p.url.clone()),
                user: p.user.clone(),
                password: Some(self.password_source(&p)),
                writes_confirmed: Some(confirmed.contains(&name)),
                name,
            });
        }
        Ok(out)
    }

    pub(super) fn login(&self, conn: String, password: String) -> Result<LoginAnswer, ApiError> {
        let p = self.profile(&conn)?;
        if p.user.is_none() {
            return Err(bad(format!(
                "server `{conn}` has no user: add one to the profile (Deploy screen or `fullsync server add {conn} --user NAME`)"
            )));
        }
        let s = self.server_for(&p, Some(password.clone()))?;
        let welcome = s.check_login()?;
        lock(&self.passwords).insert(conn, password);
        Ok(LoginAnswer {
            ok: true,
            server: Welcome(welcome),
        })
    }

    pub(super) fn design_docs(
        &self,
        engine: &Arc<Engine>,
        conn: &str,
        db: &str,
    ) -> Result<Vec<DesignDocViews>, ApiError> {
        let docs: Vec<Value> = if conn == ENGINE {
            engine.db(db)?.design_docs()?
        } else {
            self.with(conn, |s| s.design_docs(db))?
        };
        Ok(docs
            .iter()
            .map(|d| {
                let id = d["_id"].as_str().unwrap_or_default();
                DesignDocViews {
                    id: id.to_string(),
                    name: id.trim_start_matches("_design/").to_string(),
                    views: d["views"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .filter(|(k, v)| *k != "lib" && v.get("map").is_some())
                        .map(|(k, v)| ViewSource {
                            name: k.clone(),
                            map: v["map"].as_str().unwrap_or_default().to_string(),
                            reduce: v.get("reduce").and_then(Value::as_str).map(str::to_string),
                        })
                        .collect(),
                }
            })
            .collect())
    }

    pub(super) fn preview_sample(
        &self,
        views: &Arc<fullsync_views::Views>,
        conn: &str,
        db: &str,
        a: PreviewArgs,
    ) -> Result<SamplePreview, ApiError> {
        let PreviewArgs {
            map,
            reduce,
            query,
            size,
            random,
            ddoc,
        } = a;
        if size == 0 || size > 10_000 {
            return Err(bad("the sample size must be between 1 and 10000 documents"));
        }
        self.with(conn, |s| {
            let lib = match &ddoc {
                Some(d) => s
                    .get_doc(
                        db,
                        &format!("_design/{}", d.trim_start_matches("_design/")),
                        None,
                    )
                    .ok()
                    .and_then(|dd| dd["views"].get("lib").cloned()),
                None => None,
            };
            fullsync_remote::preview_sample(
                s,
                db,
                &map,
                reduce.as_deref(),
                &query,
                fullsync_remote::target::Sample { size, random },
                lib.as_ref(),
                Some(views.pool().clone()),
            )
        })
        .map(SamplePreview)
    }

    pub(super) fn compare(
        &self,
        views: &Arc<fullsync_views::Views>,
        left: &Endpoint,
        right: &Endpoint,
        (ddoc, view, query): (Option<String>, Option<String>, Value),
        mango: Option<Value>,
        limit: Option<u32>,
    ) -> Result<CompareAnswer, ApiError> {
        let l = self.target(views, left)?;
        let r = self.target(views, right)?;
        // CouchDB's default limit (25) sent to both sides: some servers
        // (pouchdb-server) have none, a difference of defaults, not of data.
        let mango = mango.map(|mut m| {
            if m.get("limit").is_none() && m.is_object() {
                m["limit"] = json!(25);
            }
            m
        });
        let run = |t: &Target, e: &Endpoint| -> Result<Value, ApiError> {
            self.with_target(&e.conn, || match (&mango, &ddoc, &view) {
                (Some(m), _, _) => t.find(m),
                (None, Some(d), Some(v)) => t.view(d, v, &query),
                _ => Err(RemoteError::Config(
                    "compare needs a view (ddoc and view) or a Mango query".into(),
                )),
            })
        };
        let a = run(&l, left)?;
        let b = run(&r, right)?;
        let c = fullsync_remote::compare_rows(
            &fullsync_remote::compare::rows_of(&a),
            &fullsync_remote::compare::rows_of(&b),
            mango.is_some(),
            limit.unwrap_or(500) as usize,
        );
        Ok(CompareAnswer {
            left: l.describe(),
            right: r.describe(),
            comparison: c,
            left_result: a,
            right_result: b,
        })
    }

    /// What a pull copies: the ids given, the ids matching a selector now, the first `n`, or all.
    pub(super) fn pull_filter(
        &self,
        conn: &str,
        db: &str,
        doc_ids: Vec<String>,
        selector: Option<Value>,
        first_n: Option<u32>,
    ) -> Result<fullsync_replicate::Filter, ApiError> {
        Ok(if !doc_ids.is_empty() {
            fullsync_replicate::Filter::DocIds(doc_ids)
        } else if let Some(sel) = selector {
            if !sel.is_object() {
                return Err(bad("the selector must be a JSON object"));
            }
            // The ids matching the selector now (`_find`), replicated by id: servers
            // without the `_selector` changes filter (pouchdb-server, CouchDB 1.x)
            // work too.
            let mut ids = vec![];
            const PAGE: usize = 10_000;
            loop {
                let page = self.with(conn, |s| {
                    s.find(
                        db,
                        &json!({"selector": sel, "fields": ["_id"], "limit": PAGE, "skip": ids.len()}),
                    )
                })?;
                let got: Vec<String> = page["docs"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|d| d["_id"].as_str().map(str::to_string))
                    .collect();
                let n = got.len();
                ids.extend(got);
                if n < PAGE {
                    break;
                }
            }
            if ids.is_empty() {
                return Err(ApiError::new(
                    ErrorCode::NotFound,
                    format!("no document of {conn}/{db} matches the selector: nothing to pull"),
                ));
            }
            fullsync_replicate::Filter::DocIds(ids)
        } else if let Some(n) = first_n {
            let v = self.with(conn, |s| s.all_docs(db, &json!({"limit": n})))?;
            let ids: Vec<String> = v["rows"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["id"].as_str().map(str::to_string))
                .collect();
            fullsync_replicate::Filter::DocIds(ids)
        } else {
            fullsync_replicate::Filter::None
        })
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn pull_sample(
        &self,
        engine: &Arc<Engine>,
        views: &Arc<fullsync_views::Views>,
        replications: &Replications,
        conn: &str,
        db: &str,
        target: String,
        filter: fullsync_replicate::Filter,
    ) -> Result<JobStatus, ApiError> {
        let s = self.server_for(&self.profile(conn)?, None)?;
        if engine.db(&target).is_err() {
            engine.create_db(&target)?;
        }
        let auth = s.auth().cloned();
        let job = replications.start_filtered(
            engine,
            views,
            StartArgs {
                db: target,
                remote: s.db_url(db),
                direction: Mode::Pull,
                live: false,
                user: auth.as_ref().map(|a| a.user.clone()),
                password: auth.map(|a| a.password),
                max_backoff_secs: None,
            },
            filter,
        )?;
        Ok(job)
    }
}

/// The arguments of a preview on a sample.
pub(super) struct PreviewArgs {
    pub(super) map: String,
    pub(super) reduce: Option<String>,
    pub(super) query: Value,
    pub(super) size: usize,
    pub(super) random: bool,
    pub(super) ddoc: Option<String>,
}
