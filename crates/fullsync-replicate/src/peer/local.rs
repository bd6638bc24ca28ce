//! The local engine as a replication endpoint, in-process.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use fullsync_engine::{
    ChangesFilter, ChangesOptions, Database, Engine, OpenRev, OpenRevs, ReadOptions, Rev, UserCtx,
};
use serde_json::{json, Map, Value};

use super::*;
use crate::error::ReplError;

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
        let since_n = fullsync_engine::seq::seq_num(since);
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
