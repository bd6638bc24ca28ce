//! "The embedded engine or a server": one view or Mango request on either, so a compare runs
//! the same request on both; and [`preview_sample`], an unsaved map/reduce over a sample of a
//! server's documents.

use std::sync::Arc;

use fullsync_engine::{Engine, UserCtx};
use fullsync_views::js::JsPool;
use fullsync_views::{ViewQuery, Views};
use serde_json::{json, Value};

use crate::{RemoteError, Server};

/// Where a request runs.
pub enum Target {
    /// A database of the embedded engine.
    Local {
        /// The engine's views service.
        views: Arc<Views>,
        /// Database.
        db: String,
    },
    /// A database on a server.
    Remote {
        /// The server.
        server: Arc<Server>,
        /// Database.
        db: String,
    },
}

impl Target {
    /// How messages name it: `local db` or `server/db`.
    pub fn describe(&self) -> String {
        match self {
            Target::Local { db, .. } => format!("local {db}"),
            Target::Remote { server, db } => format!("{}/{db}", server.name()),
        }
    }

    /// Queries a saved view (`q`: CouchDB options as JSON).
    pub fn view(&self, ddoc: &str, view: &str, q: &Value) -> Result<Value, RemoteError> {
        let ddoc = ddoc.strip_prefix("_design/").unwrap_or(ddoc);
        match self {
            Target::Local { views, db } => {
                let q = if q.is_null() { json!({}) } else { q.clone() };
                Ok(views.query(db, ddoc, view, &ViewQuery::from_json(&q)?)?)
            }
            Target::Remote { server, db } => server.view(db, ddoc, view, q),
        }
    }

    /// Runs a Mango query (`_find`).
    pub fn find(&self, query: &Value) -> Result<Value, RemoteError> {
        match self {
            Target::Local { views, db } => {
                let dbh = views.engine().db(db)?;
                Ok(fullsync_views::mango::find(&dbh, query)?)
            }
            Target::Remote { server, db } => server.find(db, query),
        }
    }

    /// Explains a Mango query (`_explain`).
    pub fn explain(&self, query: &Value) -> Result<Value, RemoteError> {
        match self {
            Target::Local { views, db } => {
                let dbh = views.engine().db(db)?;
                Ok(fullsync_views::mango::explain(&dbh, query)?)
            }
            Target::Remote { server, db } => server.explain(db, query),
        }
    }
}

/// What to preview on.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    /// How many documents.
    pub size: usize,
    /// A random sample instead of the first `size` by id.
    pub random: bool,
}

/// Runs an unsaved map (and optional reduce) over a sample of the documents of `db` on
/// `server`, read-only: the documents are copied into a throw-away in-memory engine and previewed there like a local preview. Attachments are left
/// out (their stubs). `lib` is the design document's `views.lib`. Answers
/// `{"result", "errors", "docs", "ms", "sample": {"size", "random", "ids"}}`.
#[allow(clippy::too_many_arguments)]
pub fn preview_sample(
    server: &Server,
    db: &str,
    map: &str,
    reduce: Option<&str>,
    q: &Value,
    sample: Sample,
    lib: Option<&Value>,
    pool: Option<Arc<JsPool>>,
) -> Result<Value, RemoteError> {
    let docs = server.sample(db, sample.size, sample.random)?;
    let ids: Vec<Value> = docs.iter().map(|d| d["_id"].clone()).collect();
    {
        let engine = Arc::new(Engine::in_memory());
        let dbh = engine.create_db("sample")?;
        let docs: Vec<Value> = docs
            .into_iter()
            .map(|mut d| {
                if let Some(o) = d.as_object_mut() {
                    o.remove("_attachments");
                    o.remove("_conflicts");
                }
                d
            })
            .collect();
        for chunk in docs.chunks(500) {
            dbh.bulk_docs_json(chunk.to_vec(), false, &UserCtx::default())?;
        }
        let views = match pool {
            Some(p) => Views::with_pool(engine.clone(), p),
            None => Views::new(engine.clone()),
        };
        let q = if q.is_null() { json!({}) } else { q.clone() };
        let p = views.preview_with_lib("sample", map, reduce, &ViewQuery::from_json(&q)?, lib)?;
        let mut v = serde_json::to_value(p).unwrap_or(Value::Null);
        v["sample"] = json!({"size": sample.size, "random": sample.random, "ids": ids});
        Ok(v)
    }
}
