//! A persistent, incremental view index: one redb store per design-document signature, holding
//! the rows of all its views (built together, as CouchDB does).
//!
//! Tables:
//! - `rows`: `[view u8] ++ sort_key(key) ++ sort_key(doc id) ++ u32 emit number` ->
//!   JSON `[id, key, value]`. Byte order = CouchDB collation of `(key, doc id)`.
//! - `by_doc`: doc id -> the row keys it emitted (to remove them when the doc changes).
//! - `errors`: doc id -> JSON `[[view name, message], ...]` for documents a map function threw on.
//! - `meta`: `seq` (the database sequence indexed so far), `count/<view>` (rows per view).
//!
//! Updating reads `_changes` since `seq` in batches, maps them in QuickJS, and writes each batch
//! in one transaction together with the new `seq`, so the index is always consistent with some
//! database sequence and a crash only costs re-mapping the last batches.

use std::collections::BTreeSet;
use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use fullsync_engine::Database;
use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use serde_json::{json, Value};

use crate::collate;
use crate::ddoc::DesignDoc;
use crate::error::ViewError;
use crate::js::{JsPool, MapOut};
pub use crate::mapper::Mapper;
use crate::mapper::{in_two, map_batches, map_read, read_batch, read_changes, JsMapper, Mapped};
use crate::rtree::{self, Reducer};

const ROWS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("rows");
const BY_DOC: TableDefinition<&str, &[u8]> = TableDefinition::new("by_doc");
const ERRORS: TableDefinition<&str, &str> = TableDefinition::new("errors");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// A callback over rows: returns `false` to stop.
pub type RowVisitor<'a> = dyn FnMut(&[u8], Row) -> Result<bool, ViewError> + 'a;

/// Documents mapped per batch while updating.
pub const BATCH: usize = 1000;

/// How long a small update may stay not durable: as CouchDB's `commit_freq` (5 s), an update
/// of at most one batch is committed without fsync when the index's last durable commit is
/// more recent than this (a crash loses only that mapping work, never consistency: the
/// indexed sequence is in the same transaction as the rows). redb makes a pending commit
/// durable when the index is closed.
pub const COMMIT_DELAY: std::time::Duration = std::time::Duration::from_secs(5);

/// One stored row.
#[derive(Debug, Clone)]
pub struct Row {
    /// Emitting document.
    pub id: String,
    /// Key.
    pub key: Value,
    /// Value.
    pub value: Value,
    /// Sort key of `key` (for grouping).
    pub key_sort: Vec<u8>,
}

/// A map error recorded for a document.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MapError {
    /// Document id.
    pub id: String,
    /// View name.
    pub view: String,
    /// What the function threw.
    pub error: String,
}

/// The index of one design document signature.
pub struct ViewIndex {
    store: redb::Database,
    update_lock: Mutex<()>,
    /// Per view: every RANK_STRIDE-th row key with its rank, built on first need and dropped
    /// when the index changes. Makes `offset` O(stride) instead of O(rows before the range).
    ranks: Mutex<std::collections::HashMap<u8, RankSamples>>,
    /// When this index last committed durably (or was opened).
    durable_at: Mutex<Instant>,
}

/// Sampled row keys of one view with their rank (rows before them).
type RankSamples = Vec<(Vec<u8>, u64)>;

/// Rows between two rank samples.
pub const RANK_STRIDE: usize = 512;

/// Builds a row key: view, key, doc id, value (so that rows one document emits with the same
/// key come in the collation order of their values, as on CouchDB), emit number (unique).
pub fn row_key(view: u8, key_sort: &[u8], id: &str, value: &Value, n: u32) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + key_sort.len() + id.len() * 3 + 24);
    k.push(view);
    k.extend_from_slice(key_sort);
    collate::encode(&mut k, &Value::String(id.to_string()));
    collate::encode(&mut k, value);
    k.extend_from_slice(&n.to_be_bytes());
    k
}

/// A stored row: JSON `[id, key, value]`, written without building a JSON value.
fn stored_row(id: &str, key: &Value, value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(id.len() + 64);
    out.push(b'[');
    serde_json::to_writer(&mut out, id).expect("JSON serializes");
    out.push(b',');
    serde_json::to_writer(&mut out, key).expect("JSON serializes");
    out.push(b',');
    serde_json::to_writer(&mut out, value).expect("JSON serializes");
    out.push(b']');
    out
}

/// Rows to write: (row key, stored row).
type RowsOut = Vec<(Vec<u8>, Vec<u8>)>;

/// The rows one document's map output gives, and its map errors as `[view name, message]`.
fn doc_rows(id: &str, out: &[MapOut], names: &[String]) -> (RowsOut, Vec<Value>) {
    let (mut rows, mut errs) = (vec![], vec![]);
    for (v, out) in out.iter().enumerate() {
        match out {
            MapOut::Rows(emitted) => {
                for (n, (k, val)) in emitted.iter().enumerate() {
                    let rk = row_key(v as u8, &collate::sort_key(k), id, val, n as u32);
                    rows.push((rk, stored_row(id, k, val)));
                }
            }
            MapOut::Error(e) => errs.push(json!([names[v], e])),
        }
    }
    (rows, errs)
}

fn encode_keys(keys: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for k in keys {
        out.extend_from_slice(&(k.len() as u32).to_be_bytes());
        out.extend_from_slice(k);
    }
    out
}

fn decode_keys(mut b: &[u8]) -> Vec<Vec<u8>> {
    let mut out = vec![];
    while b.len() >= 4 {
        let n = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
        if b.len() < 4 + n {
            break;
        }
        out.push(b[4..4 + n].to_vec());
        b = &b[4 + n..];
    }
    out
}

impl ViewIndex {
    /// Opens (or creates) the index file at `path`, or an in-memory index.
    pub fn open(path: Option<&Path>) -> Result<ViewIndex, ViewError> {
        let mut b = redb::Database::builder();
        b.set_cache_size(32 << 20);
        let store = match path {
            Some(p) => {
                if let Some(dir) = p.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        ViewError::Storage(format!(
                            "cannot create the view index folder in the data directory: {e}"
                        ))
                    })?;
                }
                b.create(p)?
            }
            None => b.create_with_backend(redb::backends::InMemoryBackend::new())?,
        };
        let txn = store.begin_write()?;
        txn.open_table(ROWS)?;
        txn.open_table(BY_DOC)?;
        txn.open_table(ERRORS)?;
        txn.open_table(META)?;
        txn.open_table(rtree::REDUCE)?;
        txn.commit()?;
        Ok(ViewIndex {
            store,
            update_lock: Mutex::new(()),
            ranks: Mutex::new(Default::default()),
            durable_at: Mutex::new(Instant::now()),
        })
    }

    /// The database sequence this index reflects.
    pub fn seq(&self) -> Result<u64, ViewError> {
        let r = self.store.begin_read()?;
        Ok(r.open_table(META)?
            .get("seq")?
            .map(|v| v.value())
            .unwrap_or(0))
    }

    /// Brings the index up to the database's current sequence with the design document's
    /// JavaScript map functions. Returns the indexed sequence. `progress(done, total)` is called
    /// after each batch.
    pub fn update(
        &self,
        db: &Database,
        ddoc: &DesignDoc,
        pool: &JsPool,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<u64, ViewError> {
        let mapper = JsMapper::new(ddoc, db.name(), pool);
        self.update_with(db, &mapper, progress)
    }

    /// Brings the index up to the database's current sequence with any [`Mapper`] (JavaScript
    /// map functions, or the native mapper of a Mango JSON index).
    ///
    /// A pipeline of three stages: a thread reads `_changes` in batches, a second maps them (on
    /// every JS worker at once), and this thread writes each mapped batch in one transaction,
    /// so reading, mapping and writing overlap.
    pub fn update_with(
        &self,
        db: &Database,
        mapper: &dyn Mapper,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<u64, ViewError> {
        let _guard = self.update_lock.lock().unwrap_or_else(|e| e.into_inner());
        let reducers = mapper.reducers();
        let mut since = self.seq()?;
        let target = db.update_seq();
        if since >= target {
            self.build_trees(&reducers)?;
            return Ok(since);
        }
        let start = since;
        if since > 0 && target - since <= BATCH as u64 {
            // A small update (a few documents changed since the last query): one batch read,
            // mapped and written on this thread, without the pipeline's threads and hand-offs.
            while let Some(r) = read_batch(db, mapper, since)? {
                let b = map_read(mapper, r)?;
                let last = b.last_seq >= target || b.plan.is_empty();
                let durable = last && self.commit_due();
                let names = mapper.names();
                self.write_batch(names, &reducers, &b.plan, &b.outputs, b.last_seq, durable)?;
                since = b.last_seq;
                progress(since, target);
                if last {
                    break;
                }
            }
            self.build_trees(&reducers)?;
            return Ok(since);
        }
        std::thread::scope(|s| -> Result<(), ViewError> {
            let (tx_read, rx_read) = std::sync::mpsc::sync_channel(1);
            let (tx, rx) = std::sync::mpsc::sync_channel(1);
            s.spawn(move || read_changes(db, mapper, start, &tx_read));
            s.spawn(move || map_batches(mapper, rx_read, &tx));
            for batch in rx {
                let b: Mapped = batch?;
                let last = b.last_seq >= target;
                let names = mapper.names();
                self.write_batch(names, &reducers, &b.plan, &b.outputs, b.last_seq, last)?;
                since = b.last_seq;
                progress(since, target);
            }
            Ok(())
        })?;
        self.build_trees(&reducers)?;
        Ok(since)
    }

    fn write_batch(
        &self,
        names: &[String],
        reducers: &[Option<Reducer>],
        plan: &[(String, Option<usize>)],
        outputs: &[Vec<MapOut>],
        seq: u64,
        durable: bool,
    ) -> Result<(), ViewError> {
        self.ranks.lock().unwrap_or_else(|e| e.into_inner()).clear();
        let mut txn = self.store.begin_write()?;
        if !durable {
            // Intermediate batches, and small updates within COMMIT_DELAY of the last durable
            // commit, are not fsynced: after a crash the index resumes from the last durable
            // batch, which is still consistent (the changes since are mapped again).
            txn.set_durability(redb::Durability::None)?;
        }
        {
            let mut rows = txn.open_table(ROWS)?;
            let mut by_doc = txn.open_table(BY_DOC)?;
            let mut errors = txn.open_table(ERRORS)?;
            let mut meta = txn.open_table(META)?;
            let mut deltas = vec![0i64; names.len()];
            // Most indexes record no map error: skip the lookups then.
            let mut had_errors = errors.first()?.is_some();
            // Row keys changed per view whose reduction tree is built (kept up to date below).
            let mut changed: Vec<Option<BTreeSet<Vec<u8>>>> = (0..reducers.len())
                .map(|v| -> Result<_, ViewError> {
                    let built =
                        reducers[v].is_some() && meta.get(format!("tree/{v}").as_str())?.is_some();
                    Ok(built.then(BTreeSet::new))
                })
                .collect::<Result<_, _>>()?;
            let mut note = |k: &[u8]| {
                if let Some(Some(set)) = changed.get_mut(k[0] as usize) {
                    set.insert(k.to_vec());
                }
            };
            // The rows (collation sort keys: the costly part) built on two threads first.
            let built = in_two(plan, |part| {
                Ok(part
                    .iter()
                    .map(|(id, slot)| match slot {
                        Some(i) => doc_rows(id, &outputs[*i], names),
                        None => (vec![], vec![]),
                    })
                    .collect())
            })?;
            for ((id, _), (new, errs)) in plan.iter().zip(built) {
                // One lookup swaps the document's row keys (insert answers the old value).
                let old = if new.is_empty() {
                    by_doc.remove(id.as_str())?.map(|v| decode_keys(v.value()))
                } else {
                    let keys: Vec<&[u8]> = new.iter().map(|(k, _)| k.as_slice()).collect();
                    let enc = encode_keys(&keys);
                    by_doc
                        .insert(id.as_str(), enc.as_slice())?
                        .map(|v| decode_keys(v.value()))
                };
                // Old rows first: a row emitted again has the same key.
                for k in old.unwrap_or_default() {
                    note(&k);
                    if rows.remove(k.as_slice())?.is_some() {
                        if let Some(d) = deltas.get_mut(k[0] as usize) {
                            *d -= 1;
                        }
                    }
                }
                for (rk, stored) in &new {
                    rows.insert(rk.as_slice(), stored.as_slice())?;
                    note(rk);
                    deltas[rk[0] as usize] += 1;
                }
                if had_errors {
                    errors.remove(id.as_str())?;
                }
                if !errs.is_empty() {
                    had_errors = true;
                    errors.insert(id.as_str(), Value::Array(errs).to_string().as_str())?;
                }
            }
            for (v, d) in deltas.iter().enumerate() {
                if *d != 0 {
                    let name = format!("count/{v}");
                    let cur = meta.get(name.as_str())?.map(|x| x.value()).unwrap_or(0) as i64;
                    meta.insert(name.as_str(), (cur + d).max(0) as u64)?;
                }
            }
            meta.insert("seq", seq)?;
            let mut nodes = txn.open_table(rtree::REDUCE)?;
            for (v, set) in changed.iter().enumerate() {
                if let (Some(set), Some(red)) = (set, &reducers[v]) {
                    rtree::update(&rows, &mut nodes, v as u8, set, red)?;
                }
            }
        }
        txn.commit()?;
        if durable {
            *self.durable_at.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        }
        Ok(())
    }

    /// Whether the next small update should be made durable: its last durable commit is
    /// older than [`COMMIT_DELAY`].
    fn commit_due(&self) -> bool {
        let at = self.durable_at.lock().unwrap_or_else(|e| e.into_inner());
        at.elapsed() >= COMMIT_DELAY
    }

    /// Fills an empty index from documents already read (the preview: `texts[i]` is the JSON of
    /// document `ids[i]`), mapped on every JS worker at once and written in one transaction,
    /// at sequence `seq`: the rows sorted first (inserted in key order), and no `by_doc`
    /// entries (an index filled so is queried, never updated).
    pub(crate) fn load_texts(
        &self,
        mapper: &JsMapper,
        ids: &[String],
        texts: Arc<Vec<String>>,
        seq: u64,
    ) -> Result<(), ViewError> {
        let outputs = mapper.pool.map_shared(&mapper.set, texts)?.0;
        let names = mapper.names();
        let mut sorted: RowsOut = vec![];
        let mut counts = vec![0u64; names.len()];
        let mut errors: Vec<(&str, String)> = vec![];
        for (id, per) in ids.iter().zip(&outputs) {
            let (rows, errs) = doc_rows(id, per, names);
            for (rk, _) in &rows {
                counts[rk[0] as usize] += 1;
            }
            sorted.extend(rows);
            if !errs.is_empty() {
                errors.push((id, Value::Array(errs).to_string()));
            }
        }
        sorted.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let txn = self.store.begin_write()?;
        {
            let mut rows = txn.open_table(ROWS)?;
            for (k, v) in &sorted {
                rows.insert(k.as_slice(), v.as_slice())?;
            }
            let mut errs = txn.open_table(ERRORS)?;
            for (id, e) in &errors {
                errs.insert(*id, e.as_str())?;
            }
            let mut meta = txn.open_table(META)?;
            for (v, c) in counts.iter().enumerate() {
                meta.insert(format!("count/{v}").as_str(), *c)?;
            }
            meta.insert("seq", seq)?;
        }
        txn.commit()?;
        self.build_trees(&mapper.reducers())
    }

    /// Builds the reduction tree of every view that has a stored reducer and no tree yet
    /// (invariant 4 of [`rtree`]), in one write transaction per view.
    fn build_trees(&self, reducers: &[Option<Reducer>]) -> Result<(), ViewError> {
        for (v, red) in reducers.iter().enumerate() {
            let Some(red) = red else { continue };
            let name = format!("tree/{v}");
            if self
                .store
                .begin_read()?
                .open_table(META)?
                .get(name.as_str())?
                .is_some()
            {
                continue;
            }
            let txn = self.store.begin_write()?;
            {
                let rows = txn.open_table(ROWS)?;
                let mut nodes = txn.open_table(rtree::REDUCE)?;
                rtree::build(&rows, &mut nodes, v as u8, red)?;
                txn.open_table(META)?.insert(name.as_str(), 1)?;
            }
            txn.commit()?;
        }
        Ok(())
    }

    /// Runs `f` on the reduction tree of view `v` in a read transaction, or answers `None`
    /// when the tree is not built yet.
    pub(crate) fn with_tree<T>(
        &self,
        v: u8,
        f: impl FnOnce(
            &rtree::Tree<
                '_,
                redb::ReadOnlyTable<&'static [u8], &'static [u8]>,
                redb::ReadOnlyTable<&'static [u8], &'static [u8]>,
            >,
        ) -> Result<T, ViewError>,
    ) -> Result<Option<T>, ViewError> {
        let r = self.store.begin_read()?;
        if r.open_table(META)?
            .get(format!("tree/{v}").as_str())?
            .is_none()
        {
            return Ok(None);
        }
        let rows = r.open_table(ROWS)?;
        let nodes = r.open_table(rtree::REDUCE)?;
        f(&rtree::Tree {
            rows: &rows,
            nodes: &nodes,
            view: v,
        })
        .map(Some)
    }

    /// Number of rows of view `v`.
    pub fn total_rows(&self, v: usize) -> Result<u64, ViewError> {
        let r = self.store.begin_read()?;
        Ok(r.open_table(META)?
            .get(format!("count/{v}").as_str())?
            .map(|x| x.value())
            .unwrap_or(0))
    }

    /// Map errors recorded for this index (all views), up to `limit`.
    pub fn errors(&self, ddoc: &DesignDoc, limit: usize) -> Result<Vec<MapError>, ViewError> {
        let _ = ddoc;
        let r = self.store.begin_read()?;
        let t = r.open_table(ERRORS)?;
        let mut out = vec![];
        for item in t.iter()? {
            let (k, v) = item?;
            let list: Vec<(String, String)> = serde_json::from_str(v.value()).unwrap_or_default();
            for (view, error) in list {
                out.push(MapError {
                    id: k.value().to_string(),
                    view,
                    error,
                });
            }
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    /// Visits rows of view `v` between byte bounds, in order or reversed, until `f` says stop.
    pub fn scan(
        &self,
        v: u8,
        lo: Bound<Vec<u8>>,
        hi: Bound<Vec<u8>>,
        reverse: bool,
        f: &mut RowVisitor<'_>,
    ) -> Result<(), ViewError> {
        let lo = match lo {
            Bound::Unbounded => Bound::Included(vec![v]),
            b => b,
        };
        let hi = match hi {
            Bound::Unbounded => Bound::Excluded(vec![v + 1]),
            b => b,
        };
        if let (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) =
            (&lo, &hi)
        {
            if a > b {
                return Ok(());
            }
        }
        let r = self.store.begin_read()?;
        let t = r.open_table(ROWS)?;
        let lo_ref = match &lo {
            Bound::Included(x) => Bound::Included(x.as_slice()),
            Bound::Excluded(x) => Bound::Excluded(x.as_slice()),
            Bound::Unbounded => Bound::Unbounded,
        };
        let hi_ref = match &hi {
            Bound::Included(x) => Bound::Included(x.as_slice()),
            Bound::Excluded(x) => Bound::Excluded(x.as_slice()),
            Bound::Unbounded => Bound::Unbounded,
        };
        let range = t.range::<&[u8]>((lo_ref, hi_ref))?;
        let mut visit = |k: &[u8], val: &[u8]| -> Result<bool, ViewError> {
            let arr: (String, Value, Value) = serde_json::from_slice(val)
                .map_err(|e| ViewError::Storage(format!("bad row: {e}")))?;
            // The key's sort key is the row key minus the view byte, doc id and counter: recompute.
            let key_sort = collate::sort_key(&arr.1);
            f(
                k,
                Row {
                    id: arr.0,
                    key: arr.1,
                    value: arr.2,
                    key_sort,
                },
            )
        };
        if reverse {
            for item in range.rev() {
                let (k, val) = item?;
                if !visit(k.value(), val.value())? {
                    break;
                }
            }
        } else {
            for item in range {
                let (k, val) = item?;
                if !visit(k.value(), val.value())? {
                    break;
                }
            }
        }
        Ok(())
    }

    /// Counts rows of view `v` before a query's range: the `offset` of the answer.
    pub fn count_before(
        &self,
        v: u8,
        bound: &Bound<Vec<u8>>,
        reverse: bool,
    ) -> Result<u64, ViewError> {
        // Ascending: rows before the lower bound. Descending: rows after the upper bound.
        match (bound, reverse) {
            (Bound::Unbounded, _) => Ok(0),
            (Bound::Included(b), false) => self.rows_before(v, b, false),
            (Bound::Excluded(b), false) => self.rows_before(v, b, true),
            (Bound::Included(b), true) => Ok(self
                .total_rows(v as usize)?
                .saturating_sub(self.rows_before(v, b, true)?)),
            (Bound::Excluded(b), true) => Ok(self
                .total_rows(v as usize)?
                .saturating_sub(self.rows_before(v, b, false)?)),
        }
    }

    /// Rows of view `v` with key `< b` (or `<= b` with `inclusive`), using the rank samples: a
    /// binary search finds the nearest sampled row, then at most [`RANK_STRIDE`] rows are counted.
    fn rows_before(&self, v: u8, b: &[u8], inclusive: bool) -> Result<u64, ViewError> {
        let r = self.store.begin_read()?;
        let t = r.open_table(ROWS)?;
        let mut cache = self.ranks.lock().unwrap_or_else(|e| e.into_inner());
        if let std::collections::hash_map::Entry::Vacant(slot) = cache.entry(v) {
            let mut samples = vec![];
            let end = [v + 1];
            for (i, item) in t
                .range::<&[u8]>((
                    Bound::Included([v].as_slice()),
                    Bound::Excluded(end.as_slice()),
                ))?
                .enumerate()
            {
                if i % RANK_STRIDE == 0 {
                    let (k, _) = item?;
                    samples.push((k.value().to_vec(), i as u64));
                }
            }
            slot.insert(samples);
        }
        let samples = &cache[&v];
        // Last sample strictly below b (or at/below b when inclusive).
        let idx = samples.partition_point(|(k, _)| {
            if inclusive {
                k.as_slice() <= b
            } else {
                k.as_slice() < b
            }
        });
        let (start, base): (Vec<u8>, u64) = if idx == 0 {
            (vec![v], 0)
        } else {
            samples[idx - 1].clone()
        };
        let hi = if inclusive {
            Bound::Included(b)
        } else {
            Bound::Excluded(b)
        };
        let n = t
            .range::<&[u8]>((Bound::Included(start.as_slice()), hi))?
            .count() as u64;
        Ok(base + n)
    }
}
