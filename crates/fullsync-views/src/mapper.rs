//! What turns documents into rows ([`Mapper`]: JavaScript map functions, or a Mango JSON
//! index's native mapper), and the reader side of an index update: `_changes` read in batches
//! and mapped, on every JS worker at once.

use std::sync::mpsc::{Receiver, SyncSender};

use fullsync_engine::{ChangesOptions, Database};
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
    /// Per view, the reducer whose partial reductions the index keeps ([`rtree`]), if any.
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

/// One batch of changes read: per change, the document id and its slot in `docs` (`None`:
/// deleted or not mapped), and the sequence it brings the index to.
pub(crate) struct Read {
    plan: Vec<(String, Option<usize>)>,
    docs: Vec<Value>,
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
    let mut one = || -> Result<Option<Read>, ViewError> {
        if since >= db.update_seq() {
            return Ok(None);
        }
        let ch = db.changes(&ChangesOptions {
            since,
            limit: Some(BATCH),
            include_docs: true,
            conflicts: mapper.wants_conflicts(),
            ..Default::default()
        })?;
        let mut plan = Vec::with_capacity(ch.results.len());
        let mut docs = Vec::with_capacity(ch.results.len());
        for mut row in ch.results {
            let id = row["id"].as_str().unwrap_or_default().to_string();
            let deleted = row.get("deleted").and_then(Value::as_bool).unwrap_or(false);
            if deleted || (id.starts_with("_design/") && !mapper.include_design()) {
                plan.push((id, None));
            } else {
                plan.push((id, Some(docs.len())));
                docs.push(row.get_mut("doc").map(Value::take).unwrap_or(Value::Null));
            }
        }
        since = ch.last_seq.max(since);
        Ok(Some(Read {
            plan,
            docs,
            last_seq: since,
        }))
    };
    loop {
        match one() {
            Ok(Some(r)) => {
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

/// Stage 2: maps each batch read (while stage 1 reads the next one and the writer writes the
/// previous one).
pub(crate) fn map_batches(
    mapper: &dyn Mapper,
    rx: Receiver<Result<Read, ViewError>>,
    tx: &SyncSender<Result<Mapped, ViewError>>,
) {
    for read in rx {
        let mapped = read.and_then(|r| {
            let outputs = if r.docs.is_empty() {
                vec![]
            } else {
                mapper.map(r.docs)?
            };
            Ok(Mapped {
                plan: r.plan,
                outputs,
                last_seq: r.last_seq,
            })
        });
        let failed = mapped.is_err();
        if tx.send(mapped).is_err() || failed {
            return;
        }
    }
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

    /// Maps documents given as JSON texts (no encoding step), on every worker at once.
    pub(crate) fn map_texts(&self, texts: Vec<String>) -> Result<Vec<Vec<MapOut>>, ViewError> {
        Ok(self.pool.map_parallel(&self.set, texts)?.0)
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
    fn reducers(&self) -> Vec<Option<Reducer<'_>>> {
        (self.ddoc.views.iter().enumerate())
            .map(|(i, v)| {
                let r = v.reduce.as_ref()?;
                Reducer::of(r, self.pool, || self.ddoc.reduce_set(self.db), i)
            })
            .collect()
    }
}
