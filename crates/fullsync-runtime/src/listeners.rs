//! Listeners run locally: on every change of a database (from the studio, the HTTP API or
//! replication), each enabled listener selects the changed documents with its view (queried
//! with the changed ids as keys, `reduce=false`, `include_docs`, `conflicts`) or its filter, and
//! calls its target in chunks of `chunk`: an HTTP endpoint (POST of the documents as JSON), a
//! JavaScript handler file of the project, or the activity log only. `~c8oAcl` and `~c8oHash`
//! are removed from the documents, as the Convertigo server does. A failing or hanging target
//! is logged and never stops later chunks or other listeners.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fullsync_engine::{ChangesOptions, Database, Engine, ReadOptions};
use fullsync_project::{Connector, Listener, ListenerKind, Project};
use serde::Serialize;
use serde_json::{json, Value};

/// One call of a listener's target.
#[derive(Clone, Debug, Serialize)]
pub struct Activity {
    /// Listener name.
    pub listener: String,
    /// Database.
    pub db: String,
    /// Ids of the documents in this chunk.
    pub docs: Vec<String>,
    /// Milliseconds the target took.
    pub ms: f64,
    /// `ok`, or the error.
    pub result: String,
}

/// Runs the listeners of one connector.
pub struct Runner {
    engine: Arc<Engine>,
    views: Arc<fullsync_views::Views>,
    project_root: std::path::PathBuf,
    connector: Connector,
    /// Every target call so far.
    pub activity: Arc<Mutex<Vec<Activity>>>,
    /// Timeout of HTTP targets.
    pub http_timeout: Duration,
}

fn clean(mut d: Value) -> Value {
    if let Some(m) = d.as_object_mut() {
        m.shift_remove(fullsync_acl::ACL_KEY);
        m.shift_remove(fullsync_acl::HASH_KEY);
    }
    d
}

impl Runner {
    /// A runner for `connector` of project `p`.
    pub fn new(
        engine: Arc<Engine>,
        views: Arc<fullsync_views::Views>,
        p: &Project,
        connector: &str,
    ) -> Option<Runner> {
        Some(Runner {
            engine,
            views,
            project_root: p.root.clone(),
            connector: p.connector(connector)?.clone(),
            activity: Arc::new(Mutex::new(vec![])),
            http_timeout: Duration::from_secs(10),
        })
    }

    /// Processes the changes after `since`; returns the sequence reached.
    pub fn process(&self, since: u64) -> Result<u64, fullsync_engine::Error> {
        let db = self.engine.db_or_create(&self.connector.name)?;
        let ch = db.changes(&ChangesOptions {
            since,
            include_docs: true,
            conflicts: true,
            ..Default::default()
        })?;
        let mut updated = vec![];
        let mut deleted = vec![];
        for r in &ch.results {
            let id = r["id"].as_str().unwrap_or_default().to_string();
            if id.starts_with("_design/") {
                continue;
            }
            if r.get("deleted").and_then(Value::as_bool) == Some(true) {
                deleted.push((id, r["doc"].clone()));
            } else {
                updated.push((id, r["doc"].clone()));
            }
        }
        for l in &self.connector.listeners {
            if !l.enabled || l.chunk <= 0 {
                continue;
            }
            let changed = match l.kind {
                ListenerKind::Update => &updated,
                ListenerKind::Delete => &deleted,
            };
            if changed.is_empty() {
                continue;
            }
            let docs = match self.select(&db, l, changed) {
                Ok(d) => d,
                Err(e) => {
                    self.record(
                        l,
                        vec![],
                        0.0,
                        format!("error: cannot select documents: {e}"),
                    );
                    continue;
                }
            };
            for chunk in docs.chunks(l.chunk as usize) {
                let ids: Vec<String> = chunk
                    .iter()
                    .map(|d| d["_id"].as_str().unwrap_or_default().to_string())
                    .collect();
                let t = Instant::now();
                let result = match self.call_target(l, chunk) {
                    Ok(()) => "ok".to_string(),
                    Err(e) => format!("error: {e}"),
                };
                self.record(l, ids, t.elapsed().as_secs_f64() * 1000.0, result);
            }
        }
        Ok(ch.last_seq)
    }

    fn record(&self, l: &Listener, docs: Vec<String>, ms: f64, result: String) {
        self.activity
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Activity {
                listener: l.name.clone(),
                db: self.connector.name.clone(),
                docs,
                ms,
                result,
            });
    }

    /// The documents a listener receives among the changed ones.
    fn select(
        &self,
        db: &Database,
        l: &Listener,
        changed: &[(String, Value)],
    ) -> Result<Vec<Value>, String> {
        if let Some(view) = &l.view {
            let (ddoc, v) = view.split_once('/').ok_or("view is not ddoc/view")?;
            if l.kind == ListenerKind::Delete {
                // A deleted document is not in the view any more: select it by its last revision
                // before the deletion, mapped with the view's function.
                let dd = self.views.design_doc(db, ddoc).map_err(|e| e.to_string())?;
                let vi = dd.view_index(v).ok_or("no such view")?;
                let mut set = dd.map_set(db.name());
                set.sources = vec![set.sources[vi].clone()];
                set.key = format!("{}#listener{vi}", set.key);
                let mut out = vec![];
                for (id, tomb) in changed {
                    let prev = db.record(id).ok().flatten().and_then(|rec| {
                        let w = rec.tree.winner();
                        let p = rec.tree.nodes[w].parent? as usize;
                        db.render_record(id, &rec, p, &ReadOptions::default()).ok()
                    });
                    let Some(prev) = prev else { continue };
                    let emits = self
                        .views
                        .pool()
                        .map(&set, vec![prev.to_string()])
                        .map(|(o, _)| matches!(o.first().and_then(|x| x.first()), Some(fullsync_views::js::MapOut::Rows(r)) if !r.is_empty()))
                        .unwrap_or(false);
                    if emits {
                        out.push(clean(tomb.clone()));
                    }
                }
                return Ok(out);
            }
            let keys: Vec<Value> = changed.iter().map(|(id, _)| json!(id)).collect();
            let q = fullsync_views::ViewQuery::from_json(
                &json!({"keys": keys, "reduce": false, "include_docs": true, "conflicts": true}),
            )
            .map_err(|e| e.to_string())?;
            let r = self
                .views
                .query(db.name(), ddoc, v, &q)
                .map_err(|e| e.to_string())?;
            let mut seen = std::collections::HashSet::new();
            return Ok(r["rows"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|row| row.get("doc").filter(|d| d.is_object()).cloned())
                .filter(|d| seen.insert(d["_id"].as_str().unwrap_or_default().to_string()))
                .map(clean)
                .collect());
        }
        let filter = l.filter.as_deref().unwrap_or("_doc_ids");
        if filter == "_doc_ids" {
            return Ok(changed.iter().map(|(_, d)| clean(d.clone())).collect());
        }
        let pred = fullsync_views::validate::js_filter(
            self.views.pool().clone(),
            db,
            filter,
            json!({"query": {}}),
        )
        .map_err(|e| e.to_string())?;
        Ok(changed
            .iter()
            .filter(|(_, d)| pred(d))
            .map(|(_, d)| clean(d.clone()))
            .collect())
    }

    fn call_target(&self, l: &Listener, docs: &[Value]) -> Result<(), String> {
        let t = &l.target;
        if let Some(url) = &t.http {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .proxy(None)
                .timeout_global(Some(self.http_timeout))
                .build()
                .into();
            let body =
                json!({"listener": l.name, "db": self.connector.name, "docs": docs}).to_string();
            let resp = agent
                .post(url)
                .header("Content-Type", "application/json")
                .send(body.as_bytes())
                .map_err(|e| format!("POST {url}: {e}"))?;
            let status = resp.status().as_u16();
            if !(200..300).contains(&status) {
                return Err(format!("POST {url} answered HTTP {status}"));
            }
        }
        if let Some(h) = &t.handler {
            let path = self.project_root.join(h);
            fullsync_project::confine::check(&self.project_root, Path::new(h))
                .map_err(|e| e.to_string())?;
            let src = std::fs::read_to_string(&path).map_err(|e| format!("{h}: {e}"))?;
            let set = fullsync_views::js::FnSet {
                key: format!("handler:{}:{}", path.display(), src.len()),
                sources: vec![(
                    h.clone(),
                    format!(
                        "function (docs) {{ var __lines = []; var api = {{\n\
                         log: function (m) {{ __lines.push(String(m)); }},\n\
                         get: function (id) {{ return JSON.parse(__host('get', JSON.stringify(id))); }},\n\
                         post: function (doc) {{ return JSON.parse(__host('post', JSON.stringify(doc))); }} }};\n\
                         {src}\nhandle(docs, api); return __lines; }}"
                    ),
                )],
                ddoc: Value::Null,
            };
            let db = self
                .engine
                .db_or_create(&self.connector.name)
                .map_err(|e| e.to_string())?;
            let host: fullsync_views::js::HostFn =
                Arc::new(move |op: &str, arg: &Value| match op {
                    "get" => db
                        .get(
                            arg.as_str().unwrap_or_default(),
                            None,
                            &ReadOptions::default(),
                        )
                        .unwrap_or(Value::Null),
                    "post" => match fullsync_engine::parse_doc(arg.clone(), None, &mut |_| None)
                        .and_then(|d| {
                            db.put(
                                d,
                                &fullsync_engine::UserCtx {
                                    name: None,
                                    roles: vec!["_admin".into()],
                                },
                            )
                        }) {
                        Ok(rev) => json!({"ok": true, "rev": rev}),
                        Err(e) => json!({"error": e.error_name(), "reason": e.reason()}),
                    },
                    _ => Value::Null,
                });
            self.views
                .pool()
                .call_with_host(&set, 0, json!([docs]), host)
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}
