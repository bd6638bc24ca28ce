//! The documents the live preview maps, kept between keystrokes: reading and encoding every
//! document of a database for each preview would cost more than mapping them. The cache holds
//! one database's documents as the JSON texts the JS workers parse, and is valid for one
//! database instance at one update sequence (any write, a purge or a recreated database
//! reads them again).

use std::sync::{Arc, Mutex};

use fullsync_engine::{Database, ReadOptions};

use crate::error::ViewError;
use crate::mapper::spliced;

/// The live preview maps at most this many documents (the first by id): it answers as you type
/// over any database, and costs what a 10k-document sample costs, not what the database holds.
/// A saved view (the runner) still indexes every document.
pub const MAX_PREVIEW_DOCS: usize = 10_000;

/// Documents above this total size are read for each preview, not kept.
pub const MAX_CACHED_BYTES: usize = 64 << 20;

/// One database's documents at one update sequence.
pub(crate) struct PreviewDocs {
    key: (String, u64, u64),
    /// Document ids (design documents left out).
    pub(crate) ids: Vec<String>,
    /// Their JSON, as `_changes?include_docs=true&conflicts=true` gives them (shared with the
    /// JS workers, never copied).
    pub(crate) texts: Arc<Vec<String>>,
    /// The update sequence they were read at.
    pub(crate) seq: u64,
    /// The database holds more documents than these (the first [`MAX_PREVIEW_DOCS`] by id).
    pub(crate) more: bool,
}

/// The documents of `db`, from `cache` when it holds them at the current update sequence.
/// Read as a first view build reads them ([`spliced`] from the stored bodies, in id order,
/// without parsing them), the rare document that needs the full rendering (attachments,
/// conflicts) read whole.
pub(crate) fn docs(
    cache: &Mutex<Option<Arc<PreviewDocs>>>,
    db: &Database,
) -> Result<Arc<PreviewDocs>, ViewError> {
    let seq = db.update_seq();
    let key = (db.name().to_string(), db.instance(), seq);
    if let Some(c) = cache.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
        if c.key == key {
            return Ok(c.clone());
        }
    }
    let (mut ids, mut texts, mut later) = (vec![], vec![], vec![]);
    db.for_each_record(|id, rec| {
        if rec.winner_deleted() || id.starts_with("_design/") {
            return Ok(true);
        }
        match spliced(id, &rec.tree, rec.tree.winner()) {
            Some(t) => texts.push(t),
            None => {
                later.push(ids.len());
                texts.push(String::new());
            }
        }
        ids.push(id.to_string());
        // One more than mapped: whether the database holds more than the preview maps.
        Ok(ids.len() <= MAX_PREVIEW_DOCS)
    })?;
    let more = ids.len() > MAX_PREVIEW_DOCS;
    ids.truncate(MAX_PREVIEW_DOCS);
    texts.truncate(MAX_PREVIEW_DOCS);
    later.retain(|&i| i < MAX_PREVIEW_DOCS);
    let opts = ReadOptions {
        conflicts: true,
        ..Default::default()
    };
    let mut gone = vec![];
    for i in later {
        match db.get(&ids[i], None, &opts) {
            Ok(d) => texts[i] = d.to_string(),
            Err(fullsync_engine::Error::NotFound(_)) => gone.push(i),
            Err(e) => return Err(e.into()),
        }
    }
    for i in gone.into_iter().rev() {
        ids.remove(i);
        texts.remove(i);
    }
    let size: usize = texts.iter().map(String::len).sum();
    let docs = Arc::new(PreviewDocs {
        key,
        ids,
        texts: Arc::new(texts),
        seq,
        more,
    });
    *cache.lock().unwrap_or_else(|e| e.into_inner()) =
        (size <= MAX_CACHED_BYTES).then(|| docs.clone());
    Ok(docs)
}
