//! CouchDB views for the FullSync engine.
//!
//! - [`js`]: the QuickJS sandbox that runs map, reduce, filter and validation functions;
//! - [`collate`]: CouchDB's view collation and order-preserving sort keys;
//! - [`ddoc`]: design documents and their index signature;
//! - [`index`]: the persistent, incremental index of one design document;
//! - [`query`]: query options and CouchDB's errors for them;
//! - [`reduce`]: builtin reduces;
//! - [`Views`]: the service the HTTP API, the CLI and the studio call.
//!
//! Map and reduce are pure functions (`doc -> rows`, `rows -> value`) testable without storage;
//! the index that stores their output is a separate layer.

pub mod collate;
pub mod ddoc;
pub mod error;
mod grouped;
pub mod hll;
pub mod index;
pub mod js;
pub mod mango;
pub mod mapper;
mod preview;
pub use preview::MAX_PREVIEW_DOCS;
pub mod query;
pub mod reduce;
pub mod rtree;
pub mod validate;

use std::collections::HashMap;
use std::ops::Bound;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use fullsync_engine::{Database, Engine, ReadOptions, Rev};
use serde_json::{json, Map, Value};

pub use ddoc::{DesignDoc, Reduce};
pub use error::ViewError;
pub use index::{MapError, ViewIndex};
pub use js::{JsLimits, JsPool};
pub use query::{Group, Update, ViewQuery};

/// Lowercase hex.
pub(crate) fn hex(b: &[u8]) -> String {
    fullsync_engine::rev::hex(b)
}

/// The views service: indexes per database and design document, queries, previews.
pub struct Views {
    engine: Arc<Engine>,
    pool: Arc<JsPool>,
    indexes: Mutex<HashMap<(String, String), Arc<ViewIndex>>>,
    preview_docs: Mutex<Option<Arc<preview::PreviewDocs>>>,
}

/// Result of a preview: rows of an unsaved map/reduce and the per-document errors.
#[derive(Debug, serde::Serialize)]
pub struct Preview {
    /// The query answer (`total_rows`, `offset`, `rows`, or `rows` for reduce).
    pub result: Value,
    /// Documents the map function threw on.
    pub errors: Vec<MapError>,
    /// Documents mapped (at most [`MAX_PREVIEW_DOCS`], the first by id).
    pub docs: u64,
    /// Documents in the database (design documents included).
    pub total: u64,
    /// The database holds more documents than the preview maps: the rows are those of the
    /// first [`MAX_PREVIEW_DOCS`] documents by id.
    pub limited: bool,
    /// Milliseconds taken.
    pub ms: f64,
}

const HI: [u8; 5] = [0xFF; 5];

/// The layout of stored rows: the collation (ICU4X root, `collate`), the row key (key, doc
/// id, value, emit number) and, since 3, the stored reductions ([`rtree`]). An index file of another format is never opened: it is rebuilt,
/// and `_view_cleanup` removes the old one.
pub const INDEX_FORMAT: u32 = 3;

/// The file name (without `.redb`) of a design document's index: its signature, the database
/// instance and purge sequence (a recreated or purged database rebuilds), and `INDEX_FORMAT`.
fn index_name(dd: &DesignDoc, db: &Database, purge_seq: u64) -> String {
    format!(
        "{}-{:x}-{}-f{INDEX_FORMAT}",
        dd.signature(),
        db.instance(),
        purge_seq
    )
}

fn with(mut a: Vec<u8>, b: &[u8]) -> Vec<u8> {
    a.extend_from_slice(b);
    a
}

/// The `keys=[...]` of a query in the order CouchDB answers them: as given, or last to first
/// with `descending=true`.
fn keys_in_order(keys: &[Value], descending: bool) -> Box<dyn Iterator<Item = &Value> + '_> {
    if descending {
        Box::new(keys.iter().rev())
    } else {
        Box::new(keys.iter())
    }
}

fn id_sort(id: &str) -> Vec<u8> {
    collate::sort_key(&Value::String(id.to_string()))
}

/// The byte range of a query on view `v` (one key, or start/end).
fn range(v: u8, q: &ViewQuery, key: Option<&Value>) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    let base = |k: &Value| with(vec![v], &collate::sort_key(k));
    if let Some(k) = key {
        return (
            Bound::Included(base(k)),
            Bound::Excluded(with(base(k), &[0xFF])),
        );
    }
    let incl = q.inclusive_end.unwrap_or(true);
    if !q.descending {
        let lo = match &q.start_key {
            Some(s) => Bound::Included(match &q.start_docid {
                Some(d) => with(base(s), &id_sort(d)),
                None => base(s),
            }),
            None => Bound::Unbounded,
        };
        let hi = match (&q.end_key, &q.end_docid, incl) {
            (None, _, _) => Bound::Unbounded,
            (Some(e), Some(d), true) => Bound::Excluded(with(with(base(e), &id_sort(d)), &HI)),
            (Some(e), None, true) => Bound::Excluded(with(base(e), &[0xFF])),
            (Some(e), Some(d), false) => Bound::Excluded(with(base(e), &id_sort(d))),
            (Some(e), None, false) => Bound::Excluded(base(e)),
        };
        (lo, hi)
    } else {
        let hi = match (&q.start_key, &q.start_docid) {
            (None, _) => Bound::Unbounded,
            (Some(s), Some(d)) => Bound::Excluded(with(with(base(s), &id_sort(d)), &HI)),
            (Some(s), None) => Bound::Excluded(with(base(s), &[0xFF])),
        };
        let lo = match (&q.end_key, &q.end_docid, incl) {
            (None, _, _) => Bound::Unbounded,
            (Some(e), Some(d), true) => Bound::Included(with(base(e), &id_sort(d))),
            (Some(e), None, true) => Bound::Included(base(e)),
            (Some(e), Some(d), false) => Bound::Excluded(with(with(base(e), &id_sort(d)), &HI)),
            (Some(e), None, false) => Bound::Excluded(with(base(e), &[0xFF])),
        };
        (lo, hi)
    }
}

fn group_key(key: &Value, group: Group) -> Value {
    match (group, key) {
        (Group::None, _) => Value::Null,
        (Group::Exact, k) => k.clone(),
        (Group::Level(n), Value::Array(a)) => Value::Array(a.iter().take(n).cloned().collect()),
        (Group::Level(_), k) => k.clone(),
    }
}

impl Views {
    /// A views service over `engine`, with the default JS limits.
    pub fn new(engine: Arc<Engine>) -> Views {
        let n = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .min(4);
        Self::with_pool(engine, Arc::new(JsPool::new(n, JsLimits::default())))
    }

    /// A views service with a given JS pool (tests use short time limits). Attaches the
    /// design-document write checks (`validate_doc_update`, design doc compilation) to every
    /// database of the engine; create one `Views` per engine.
    pub fn with_pool(engine: Arc<Engine>, pool: Arc<JsPool>) -> Views {
        // Every selector of the process (`_changes?filter=_selector`, replication selectors)
        // orders strings with ICU, as `_find` does and as CouchDB does.
        fullsync_engine::selector::set_default_string_order(mango::icu_string_order);
        let p = pool.clone();
        let root = engine.dir().map(|d| d.join(".views"));
        engine.add_open_hook(Arc::new(move |db: &Arc<Database>| {
            db.add_validator(Arc::new(validate::DdocValidator::new(db, p.clone())));
            if let Some(r) = &root {
                // JSON indexes are kept next to the database's view indexes.
                mango::register_dir(db, r.join(fullsync_engine::engine::file_stem(db.name())));
            }
        }));
        Views {
            engine,
            pool,
            indexes: Mutex::new(HashMap::new()),
            preview_docs: Mutex::new(None),
        }
    }

    /// The JS pool (filters and validation use it too).
    pub fn pool(&self) -> &Arc<JsPool> {
        &self.pool
    }

    /// The engine.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    fn views_dir(&self, db: &str) -> Option<PathBuf> {
        self.engine.dir().map(|d| {
            d.join(".views")
                .join(fullsync_engine::engine::file_stem(db))
        })
    }

    /// Loads a design document (`name` without `_design/`).
    pub fn design_doc(&self, db: &Database, name: &str) -> Result<DesignDoc, ViewError> {
        let id = format!("_design/{name}");
        let v = match db.get(&id, None, &ReadOptions::default()) {
            Ok(v) => v,
            Err(fullsync_engine::Error::NotFound(r)) => return Err(ViewError::NotFound(r)),
            Err(e) => return Err(e.into()),
        };
        DesignDoc::from_json(&v)
    }

    /// The index of a design document (opened or created).
    pub fn index_for(&self, db: &Database, ddoc: &DesignDoc) -> Result<Arc<ViewIndex>, ViewError> {
        let sig = index_name(ddoc, db, db.info()?.purge_seq);
        let key = (db.name().to_string(), sig.clone());
        let mut cache = self.indexes.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(ix) = cache.get(&key) {
            return Ok(ix.clone());
        }
        let path = self
            .views_dir(db.name())
            .map(|d| d.join(format!("{sig}.redb")));
        let ix = Arc::new(ViewIndex::open(path.as_deref())?);
        cache.insert(key, ix.clone());
        Ok(ix)
    }

    /// Queries `ddoc/view` of database `db`, answering CouchDB's JSON.
    pub fn query(
        &self,
        db: &str,
        ddoc: &str,
        view: &str,
        q: &ViewQuery,
    ) -> Result<Value, ViewError> {
        let db = self.engine.db(db)?;
        let dd = self.design_doc(&db, ddoc)?;
        self.query_ddoc(&db, &dd, view, q)
    }

    /// Queries a view of an already loaded design document.
    pub fn query_ddoc(
        &self,
        db: &Arc<Database>,
        dd: &DesignDoc,
        view: &str,
        q: &ViewQuery,
    ) -> Result<Value, ViewError> {
        let v = dd
            .view_index(view)
            .ok_or_else(|| ViewError::NotFound("missing_named_view".into()))?;
        let (reduce, group) = q.validate(dd.views[v].reduce.is_some())?;
        let ix = self.index_for(db, dd)?;
        let seq = match q.update {
            Update::True => ix.update(db, dd, &self.pool, &mut |_, _| {})?,
            Update::False => ix.seq()?,
            Update::Lazy => {
                let seq = ix.seq()?;
                let (db2, dd2, ix2, pool) = (db.clone(), dd.clone(), ix.clone(), self.pool.clone());
                std::thread::spawn(move || {
                    let _ = ix2.update(&db2, &dd2, &pool, &mut |_, _| {});
                });
                seq
            }
        };
        let mut out = if reduce {
            self.run_reduce(db, dd, &ix, v, q, group)?
        } else {
            self.run_map(db, &ix, v, q)?
        };
        if q.update_seq {
            out.insert("update_seq".into(), json!(seq));
        }
        Ok(Value::Object(out))
    }

    fn run_map(
        &self,
        db: &Database,
        ix: &ViewIndex,
        v: usize,
        q: &ViewQuery,
    ) -> Result<Map<String, Value>, ViewError> {
        let total = ix.total_rows(v)?;
        let mut rows = vec![];
        let mut skipped = 0usize;
        let limit = q.limit.unwrap_or(usize::MAX);
        let mut first: Option<Vec<u8>> = None;
        let mut visit = |k: &[u8], r: index::Row| -> Result<bool, ViewError> {
            if first.is_none() {
                first = Some(k.to_vec());
            }
            if rows.len() >= limit {
                return Ok(false);
            }
            if skipped < q.skip {
                skipped += 1;
                return Ok(true);
            }
            let mut row = Map::new();
            row.insert("id".into(), json!(r.id));
            row.insert("key".into(), r.key);
            if q.include_docs {
                let (doc_id, rev) = match r.value.get("_id").and_then(Value::as_str) {
                    Some(linked) => (
                        linked.to_string(),
                        r.value
                            .get("_rev")
                            .and_then(Value::as_str)
                            .and_then(|s| Rev::parse(s).ok()),
                    ),
                    None => (r.id.clone(), None),
                };
                row.insert("value".into(), r.value);
                let opts = ReadOptions {
                    conflicts: q.conflicts,
                    attachments: q.attachments,
                    ..Default::default()
                };
                let doc = db.get(&doc_id, rev.as_ref(), &opts).unwrap_or(Value::Null);
                row.insert("doc".into(), doc);
            } else {
                row.insert("value".into(), r.value);
            }
            rows.push(Value::Object(row));
            Ok(true)
        };
        let offset = match &q.keys {
            Some(keys) => {
                // As CouchDB: with `descending`, the keys are visited last to first; `offset` is
                // the index position of the first row found (before `skip`).
                for k in keys_in_order(keys, q.descending) {
                    let (lo, hi) = range(v as u8, q, Some(k));
                    ix.scan(v as u8, lo, hi, q.descending, &mut visit)?;
                }
                match first.take() {
                    Some(k) => ix.count_before(v as u8, &Bound::Included(k), q.descending)?,
                    None => total,
                }
            }
            None => {
                let (lo, hi) = range(v as u8, q, None);
                let before = if q.descending {
                    ix.count_before(v as u8, &hi, true)?
                } else {
                    ix.count_before(v as u8, &lo, false)?
                };
                ix.scan(v as u8, lo, hi, q.descending, &mut visit)?;
                before
            }
        };
        let mut out = Map::new();
        out.insert("total_rows".into(), json!(total));
        out.insert("offset".into(), json!((offset + skipped as u64).min(total)));
        out.insert("rows".into(), Value::Array(rows));
        Ok(out)
    }

    fn reduce_rows(
        &self,
        db: &str,
        dd: &DesignDoc,
        v: usize,
        rows: &[index::Row],
    ) -> Result<Value, ViewError> {
        let values: Vec<Value> = rows.iter().map(|r| r.value.clone()).collect();
        match dd.views[v].reduce.as_ref().expect("reduce view") {
            Reduce::Sum => reduce::sum(&values),
            Reduce::Count => Ok(json!(rows.len())),
            Reduce::Stats => reduce::stats(&values),
            Reduce::ApproxCountDistinct => {
                let keys: Vec<&[u8]> = rows.iter().map(|r| r.key_sort.as_slice()).collect();
                Ok(reduce::count_distinct(&keys))
            }
            Reduce::Js(_) => {
                let set = dd.reduce_set(db);
                // As CouchDB: a reduce that throws gives `null` for that reduction (the query
                // still answers) and the error is logged with the view's name.
                let call = |args: Value| match self.pool.call(&set, v, args, false) {
                    Err(js::JsError::Thrown(m)) => {
                        eprintln!(
                            "reduce of {db}/{}/{} threw: {m}; the reduction is null",
                            dd.id, dd.views[v].name
                        );
                        Ok(None)
                    }
                    r => r.map(Some).map_err(ViewError::from),
                };
                let mut partials = vec![];
                for chunk in rows.chunks(1000) {
                    let keys: Vec<Value> = chunk.iter().map(|r| json!([r.key, r.id])).collect();
                    let vals: Vec<Value> = chunk.iter().map(|r| r.value.clone()).collect();
                    let args = json!([keys, vals, false]);
                    let input_len = args.to_string().len();
                    let Some(out) = call(args)? else {
                        return Ok(Value::Null);
                    };
                    if let Some(err) = reduce::overflow(&out, input_len) {
                        return Ok(err);
                    }
                    partials.push(out);
                }
                if partials.len() == 1 {
                    return Ok(partials.pop().expect("one partial"));
                }
                if partials.is_empty() {
                    return Ok(call(json!([[], [], false]))?.unwrap_or(Value::Null));
                }
                let args = json!([null, partials, true]);
                let input_len = args.to_string().len();
                let Some(out) = call(args)? else {
                    return Ok(Value::Null);
                };
                Ok(reduce::overflow(&out, input_len).unwrap_or(out))
            }
        }
    }

    fn run_reduce(
        &self,
        db: &Database,
        dd: &DesignDoc,
        ix: &ViewIndex,
        v: usize,
        q: &ViewQuery,
        group: Group,
    ) -> Result<Map<String, Value>, ViewError> {
        let stored = dd.views[v]
            .reduce
            .as_ref()
            .and_then(|r| rtree::Reducer::of(r, &self.pool, || dd.reduce_set(db.name()), v));
        if let Some(red) = stored {
            let label = format!("{}/{}/{}", db.name(), dd.id, dd.views[v].name);
            let from_tree = ix.with_tree(v as u8, |t| grouped::rows(t, q, group, &red, &label))?;
            if let Some(rows) = from_tree {
                let mut out = Map::new();
                out.insert("rows".into(), Value::Array(rows));
                return Ok(out);
            }
        }
        // Without a tree (not built yet: `update=false` on an index built before its view had a
        // stored reducer): reduce the rows.
        // Collect groups: (group key, sort key of group key, rows).
        let mut groups: Vec<(Value, Vec<u8>, Vec<index::Row>)> = vec![];
        let mut push = |r: index::Row| -> Result<bool, ViewError> {
            let gk = group_key(&r.key, group);
            let gs = if group == Group::None {
                vec![]
            } else {
                collate::sort_key(&gk)
            };
            match groups.last_mut() {
                Some((_, s, rows)) if *s == gs => rows.push(r),
                _ => groups.push((gk, gs, vec![r])),
            }
            Ok(true)
        };
        match &q.keys {
            Some(keys) => {
                for k in keys_in_order(keys, q.descending) {
                    let (lo, hi) = range(v as u8, q, Some(k));
                    ix.scan(v as u8, lo, hi, q.descending, &mut |_, r| push(r))?;
                }
            }
            None => {
                let (lo, hi) = range(v as u8, q, None);
                ix.scan(v as u8, lo, hi, q.descending, &mut |_, r| push(r))?;
            }
        }
        let limit = q.limit.unwrap_or(usize::MAX);
        let mut rows = vec![];
        for (gk, _, grows) in groups.into_iter().skip(q.skip).take(limit) {
            let value = self.reduce_rows(db.name(), dd, v, &grows)?;
            rows.push(json!({"key": gk, "value": value}));
        }
        let mut out = Map::new();
        out.insert("rows".into(), Value::Array(rows));
        Ok(out)
    }

    /// Map errors recorded by the index of `ddoc` (after bringing it up to date).
    pub fn errors(&self, db: &str, ddoc: &str, limit: usize) -> Result<Vec<MapError>, ViewError> {
        let db = self.engine.db(db)?;
        let dd = self.design_doc(&db, ddoc)?;
        let ix = self.index_for(&db, &dd)?;
        ix.update(&db, &dd, &self.pool, &mut |_, _| {})?;
        ix.errors(&dd, limit)
    }

    /// Builds (or updates) the index of `ddoc`, reporting progress `(seq done, seq target)`.
    pub fn build(
        &self,
        db: &str,
        ddoc: &str,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<u64, ViewError> {
        let db = self.engine.db(db)?;
        let dd = self.design_doc(&db, ddoc)?;
        let ix = self.index_for(&db, &dd)?;
        ix.update(&db, &dd, &self.pool, progress)
    }

    /// `GET /db/_design/ddoc/_info`.
    pub fn info(&self, db: &str, ddoc: &str) -> Result<Value, ViewError> {
        let dbh = self.engine.db(db)?;
        let dd = self.design_doc(&dbh, ddoc)?;
        let ix = self.index_for(&dbh, &dd)?;
        let seq = ix.seq()?;
        Ok(json!({
            "name": ddoc,
            "view_index": {
                "signature": dd.signature(),
                "language": "javascript",
                "update_seq": seq,
                "purge_seq": 0,
                "updater_running": false,
                "compact_running": false,
                "waiting_clients": 0,
                "waiting_commit": false,
                "sizes": {"file": 0, "active": 0, "external": 0},
                "views": dd.views.iter().map(|v| v.name.clone()).collect::<Vec<_>>(),
            }
        }))
    }

    /// `POST /db/_view_cleanup`: deletes index files no current design document uses.
    /// Returns how many were removed.
    pub fn cleanup(&self, db: &str) -> Result<usize, ViewError> {
        let dbh = self.engine.db(db)?;
        let mut live = std::collections::HashSet::new();
        let (_, _, rows) = dbh.all_docs(&fullsync_engine::AllDocsOptions {
            start: Some("_design/".into()),
            end: Some("_design0".into()),
            inclusive_end: false,
            include_docs: true,
            ..Default::default()
        })?;
        let purge_seq = dbh.info()?.purge_seq;
        for r in rows {
            if let Ok(dd) = DesignDoc::from_json(&r["doc"]) {
                live.insert(index_name(&dd, &dbh, purge_seq));
            }
        }
        for ix in mango::list_indexes(&dbh)?
            .iter()
            .filter(|i| i.ddoc.is_some())
        {
            live.insert(mango::index_file_name(&dbh, ix, purge_seq));
        }
        mango::retain(db, &live);
        let mut removed = 0;
        self.indexes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(d, sig), _| d != db || live.contains(sig));
        if let Some(dir) = self.views_dir(db) {
            if let Ok(entries) = std::fs::read_dir(&dir) {
                for e in entries.flatten() {
                    let name = e.file_name().to_string_lossy().to_string();
                    let sig = name.trim_end_matches(".redb");
                    if !live.contains(sig) && std::fs::remove_file(e.path()).is_ok() {
                        removed += 1;
                    }
                }
            }
        }
        Ok(removed)
    }

    /// Forgets every index of a deleted database.
    pub fn forget_db(&self, db: &str) {
        self.indexes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(d, _), _| d != db);
        mango::forget_db(db);
        if let Some(dir) = self.views_dir(db) {
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    /// Runs an unsaved map (and optional reduce) over database `db` without writing any index
    /// to disk: the editor's live preview. Returns the answer to `q` and the map errors.
    pub fn preview(
        &self,
        db: &str,
        map: &str,
        reduce: Option<&str>,
        q: &ViewQuery,
    ) -> Result<Preview, ViewError> {
        self.preview_with_lib(db, map, reduce, q, None)
    }

    /// [`Views::preview`] with the design document's `views.lib` modules, so an unsaved map that
    /// calls `require('views/lib/...')` runs as it will once saved.
    pub fn preview_with_lib(
        &self,
        db: &str,
        map: &str,
        reduce: Option<&str>,
        q: &ViewQuery,
        lib: Option<&Value>,
    ) -> Result<Preview, ViewError> {
        let t = Instant::now();
        let dbh = self.engine.db(db)?;
        let mut view = json!({ "map": map });
        if let Some(r) = reduce.filter(|r| !r.trim().is_empty()) {
            view["reduce"] = json!(r);
        }
        let mut views_obj = json!({ "preview": view });
        if let Some(l) = lib {
            views_obj["lib"] = l.clone();
        }
        let dd = DesignDoc::from_json(&json!({"_id": "_design/_preview", "views": views_obj}))?;
        let ix = Arc::new(ViewIndex::open(None)?);
        let docs = preview::docs(&self.preview_docs, &dbh)?;
        let mapper = mapper::JsMapper::new(&dd, dbh.name(), &self.pool);
        ix.load_texts(&mapper, &docs.ids, docs.texts.clone(), docs.seq)?;
        let (reduce_on, group) = q.validate(dd.views[0].reduce.is_some())?;
        let result = if reduce_on {
            Value::Object(self.run_reduce(&dbh, &dd, &ix, 0, q, group)?)
        } else {
            Value::Object(self.run_map(&dbh, &ix, 0, q)?)
        };
        let errors = ix.errors(&dd, 1000)?;
        let mapped = docs.ids.len();
        Ok(Preview {
            result,
            errors,
            docs: mapped as u64,
            total: dbh.info()?.doc_count,
            limited: docs.more,
            ms: t.elapsed().as_secs_f64() * 1000.0,
        })
    }
}
