//! What turns documents into rows ([`Mapper`]: JavaScript map functions, or a Mango JSON
//! index's native mapper), and the reader side of an index update: `_changes` read in batches
//! and mapped, on every JS worker at once.

use std::sync::mpsc::{Receiver, SyncSender};

use fullsync_engine::tree::{BodyState, RevTree};
use fullsync_engine::{ChangesOptions, Database, ReadOptions};
use serde_json::Value;

use crate::ddoc::DesignDoc;
use crate::error::ViewError;
use crate::index::BATCH;
use crate::js::{FnSet, JsPool, MapOut};
use crate::rtree::Reducer;

/// What turns documents into rows: the JavaScript map functions of a design document, or the
/// native mapper of a Mango JSON index.
pub trait Mapper: Sync {
    /// The names of the views, in view-number order (used in recorded map errors).
    fn names(&self) -> &[String];
    /// Whether design documents are mapped too.
    fn include_design(&self) -> bool;
    /// Whether documents need `_conflicts` (JavaScript maps may read them).
    fn wants_conflicts(&self) -> bool {
        true
    }
    /// Maps a batch of documents: per document, one [`MapOut`] per view.
    fn map(&self, docs: Vec<Value>) -> Result<Vec<Vec<MapOut>>, ViewError>;
    /// Maps a batch of documents given as JSON texts.
    fn map_texts(&self, texts: Vec<String>) -> Result<Vec<Vec<MapOut>>, ViewError> {
        let docs = texts
            .iter()
            .map(|t| serde_json::from_str(t))
            .collect::<Result<Vec<Value>, _>>()
            .map_err(|e| ViewError::Storage(format!("bad document JSON: {e}")))?;
        self.map(docs)
    }
    /// Per view, the reducer whose partial reductions the index keeps ([`crate::rtree`]), if any.
    fn reducers(&self) -> Vec<Option<Reducer<'_>>> {
        vec![]
    }
}

/// One mapped batch of changes: per change, the document id and its slot in `outputs` (`None`:
/// deleted or not mapped), and the sequence it brings the index to.
pub(crate) struct Mapped {
    pub(crate) plan: Vec<(String, Option<usize>)>,
    pub(crate) outputs: Vec<Vec<MapOut>>,
    pub(crate) last_seq: u64,
}

/// One batch of changes read: per change, the document id and its slot in `texts` (`None`:
/// deleted or not mapped), the documents' JSON texts (never parsed on the reading side), and
/// the sequence it brings the index to.
pub(crate) struct Read {
    plan: Vec<(String, Option<usize>)>,
    texts: Vec<String>,
    last_seq: u64,
}

/// Stage 1 of [`ViewIndex::update_with`](crate::index::ViewIndex::update_with): reads
/// `_changes` since `since` in batches of [`BATCH`] until the database's current sequence; an
/// empty batch (nothing more to read) still records the sequence, then ends.
pub(crate) fn read_changes(
    db: &Database,
    mapper: &dyn Mapper,
    mut since: u64,
    tx: &SyncSender<Result<Read, ViewError>>,
) {
    if since == 0 {
        match scan_all(db, mapper, tx) {
            Ok(Some(seq)) => since = seq,
            Ok(None) => return,
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        }
    }
    loop {
        match read_batch(db, mapper, since) {
            Ok(Some(r)) => {
                since = r.last_seq;
                let empty = r.plan.is_empty();
                if tx.send(Ok(r)).is_err() || empty {
                    return;
                }
            }
            Ok(None) => return,
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        }
    }
}

/// Reads the next batch of at most [`BATCH`] changes after `since`, or `None` when `since` is
/// the database's current sequence. The documents are read as the first build reads them
/// (JSON texts [`spliced`] from the stored bodies, never parsed here), each from its current
/// record: a document changed again since the change listed is mapped in its newer version
/// (and again, identically, when its newer change is read).
pub(crate) fn read_batch(
    db: &Database,
    mapper: &dyn Mapper,
    since: u64,
) -> Result<Option<Read>, ViewError> {
    if since >= db.update_seq() {
        return Ok(None);
    }
    let ch = db.changes(&ChangesOptions {
        since,
        limit: Some(BATCH),
        ..Default::default()
    })?;
    let ids: Vec<String> = (ch.results.iter())
        .map(|r| r["id"].as_str().unwrap_or_default().to_string())
        .collect();
    let read = in_two(&ids, |part| read_texts(db, mapper, part))?;
    let mut plan = Vec::with_capacity(ids.len());
    let mut texts = Vec::with_capacity(ids.len());
    for (id, text) in ids.into_iter().zip(read) {
        match text {
            Some(t) => {
                plan.push((id, Some(texts.len())));
                texts.push(t);
            }
            None => plan.push((id, None)),
        }
    }
    Ok(Some(Read {
        plan,
        texts,
        last_seq: ch.last_seq.max(since),
    }))
}

/// The current JSON text of each document of `ids` ([`spliced`], or rendered whole when it
/// has to be), `None` for a deleted one or a design document the mapper skips.
fn read_texts(
    db: &Database,
    mapper: &dyn Mapper,
    ids: &[String],
) -> Result<Vec<Option<String>>, ViewError> {
    let opts = ReadOptions {
        conflicts: mapper.wants_conflicts(),
        ..Default::default()
    };
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if id.starts_with("_design/") && !mapper.include_design() {
            out.push(None);
            continue;
        }
        out.push(match db.record(id)? {
            Some(rec) if !rec.winner_deleted() => match spliced(id, &rec.tree, rec.tree.winner()) {
                Some(t) => Some(t),
                None => match db.get(id, None, &opts) {
                    Ok(d) => Some(d.to_string()),
                    Err(fullsync_engine::Error::NotFound(_)) => None,
                    Err(e) => return Err(e.into()),
                },
            },
            _ => None,
        });
    }
    Ok(out)
}

/// `f` over `items`, on two threads (each half of them) when there are enough to pay for the
/// second thread, the results concatenated in order.
pub(crate) fn in_two<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&[T]) -> Result<Vec<R>, ViewError> + Sync,
) -> Result<Vec<R>, ViewError> {
    if items.len() < 128 {
        return f(items);
    }
    let (a, b) = items.split_at(items.len() / 2);
    std::thread::scope(|s| {
        let second = s.spawn(|| f(b));
        let mut out = f(a)?;
        let rest = second
            .join()
            .map_err(|_| ViewError::Storage("a view index worker thread panicked".into()))??;
        out.extend(rest);
        Ok(out)
    })
}

/// A document's JSON as `_changes?include_docs=true` renders it, spliced from the stored body
/// (`{"_id", "_rev", ...body}`) without parsing it, or `None` when the document needs the full
/// rendering (attachments, conflicts, a body not stored inline).
pub(crate) fn spliced(id: &str, tree: &RevTree, win: usize) -> Option<String> {
    let node = &tree.nodes[win];
    let BodyState::Inline(body) = &node.body else {
        return None;
    };
    if !body.atts.is_empty() || tree.leaves().len() != 1 {
        return None;
    }
    let inner = body.json.strip_prefix('{')?.strip_suffix('}')?.trim();
    let mut s = String::with_capacity(body.json.len() + id.len() + 64);
    s.push_str("{\"_id\":");
    s.push_str(&Value::String(id.to_string()).to_string());
    s.push_str(",\"_rev\":\"");
    s.push_str(&node.rev().to_string());
    s.push('"');
    if !inner.is_empty() {
        s.push(',');
        s.push_str(inner);
    }
    s.push('}');
    Some(s)
}

/// The first build (an index at sequence 0): reads every document once in id order instead of
/// `_changes`, as JSON texts spliced from the stored bodies. Batches before the last one keep
/// the index at sequence 0 (a crash restarts the scan; rows already written are replaced);
/// the last one brings it to the sequence read before the scan. Returns that sequence, or
/// `None` when the writer stopped.
fn scan_all(
    db: &Database,
    mapper: &dyn Mapper,
    tx: &SyncSender<Result<Read, ViewError>>,
) -> Result<Option<u64>, ViewError> {
    let seq = db.update_seq();
    let (mut plan, mut texts, mut later) = (vec![], vec![], vec![]);
    let mut stopped = false;
    db.for_each_record(|id, rec| {
        if rec.winner_deleted() || (id.starts_with("_design/") && !mapper.include_design()) {
            return Ok(true);
        }
        match spliced(id, &rec.tree, rec.tree.winner()) {
            Some(t) => {
                plan.push((id.to_string(), Some(texts.len())));
                texts.push(t);
            }
            None => later.push(id.to_string()),
        }
        if texts.len() >= BATCH {
            let r = Read {
                plan: std::mem::take(&mut plan),
                texts: std::mem::take(&mut texts),
                last_seq: 0,
            };
            stopped = tx.send(Ok(r)).is_err();
        }
        Ok(!stopped)
    })?;
    if stopped {
        return Ok(None);
    }
    let opts = ReadOptions {
        conflicts: mapper.wants_conflicts(),
        ..Default::default()
    };
    for id in later {
        match db.get(&id, None, &opts) {
            Ok(d) => {
                plan.push((id, Some(texts.len())));
                texts.push(d.to_string());
            }
            Err(fullsync_engine::Error::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let last = Read {
        plan,
        texts,
        last_seq: seq,
    };
    Ok((tx.send(Ok(last)).is_ok()).then_some(seq))
}

/// Stage 2: maps each batch read (while stage 1 reads the next one and the writer writes the
/// previous one).
pub(crate) fn map_batches(
    mapper: &dyn Mapper,
    rx: Receiver<Result<Read, ViewError>>,
    tx: &SyncSender<Result<Mapped, ViewError>>,
) {
    for read in rx {
        let mapped = read.and_then(|r| map_read(mapper, r));
        let failed = mapped.is_err();
        if tx.send(mapped).is_err() || failed {
            return;
        }
    }
}

/// Maps one batch read.
pub(crate) fn map_read(mapper: &dyn Mapper, r: Read) -> Result<Mapped, ViewError> {
    let outputs = if r.texts.is_empty() {
        vec![]
    } else {
        mapper.map_texts(r.texts)?
    };
    Ok(Mapped {
        plan: r.plan,
        outputs,
        last_seq: r.last_seq,
    })
}

/// The JavaScript map functions of a design document, run in the pool.
pub(crate) struct JsMapper<'a> {
    pub(crate) ddoc: &'a DesignDoc,
    pub(crate) db: &'a str,
    pub(crate) set: FnSet,
    pub(crate) pool: &'a JsPool,
    pub(crate) names: Vec<String>,
    pub(crate) include_design: bool,
}

impl<'a> JsMapper<'a> {
    /// The map functions of `ddoc` (database `db`) in `pool`.
    pub(crate) fn new(ddoc: &'a DesignDoc, db: &'a str, pool: &'a JsPool) -> JsMapper<'a> {
        JsMapper {
            ddoc,
            db,
            set: ddoc.map_set(db),
            pool,
            names: ddoc.views.iter().map(|v| v.name.clone()).collect(),
            include_design: ddoc.include_design,
        }
    }
}

impl Mapper for JsMapper<'_> {
    fn names(&self) -> &[String] {
        &self.names
    }
    fn include_design(&self) -> bool {
        self.include_design
    }
    fn map(&self, docs: Vec<Value>) -> Result<Vec<Vec<MapOut>>, ViewError> {
        let to_json = |docs: Vec<Value>| docs.iter().map(Value::to_string).collect();
        Ok(self.pool.map_parallel_with(&self.set, docs, to_json)?.0)
    }
    fn map_texts(&self, texts: Vec<String>) -> Result<Vec<Vec<MapOut>>, ViewError> {
        Ok(self.pool.map_parallel(&self.set, texts)?.0)
    }
    fn reducers(&self) -> Vec<Option<Reducer<'_>>> {
        (self.ddoc.views.iter().enumerate())
            .map(|(i, v)| {
                let r = v.reduce.as_ref()?;
                Reducer::of(r, self.pool, || self.ddoc.reduce_set(self.db), i)
            })
            .collect()
    }
}
