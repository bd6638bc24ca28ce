//! The documents the live preview maps, kept between keystrokes: reading and encoding every
//! document of a database for each preview would cost more than mapping them. The cache holds
//! one database's documents as the JSON texts the JS workers parse, and is valid for one
//! database instance at one update sequence (any write, a purge or a recreated database
//! reads them again).

use std::sync::{Arc, Mutex};

use fullsync_engine::{AllDocsOptions, Database};

use crate::error::ViewError;

/// Documents above this total size are read for each preview, not kept.
pub const MAX_CACHED_BYTES: usize = 64 << 20;

/// One database's documents at one update sequence.
pub(crate) struct PreviewDocs {
    key: (String, u64, u64),
    /// Document ids (design documents left out).
    pub(crate) ids: Vec<String>,
    /// Their JSON, as `_changes?include_docs=true&conflicts=true` gives them.
    pub(crate) texts: Vec<String>,
    /// The update sequence they were read at.
    pub(crate) seq: u64,
}

/// The documents of `db`, from `cache` when it holds them at the current update sequence.
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
    let (_, _, rows) = db.all_docs(&AllDocsOptions {
        include_docs: true,
        conflicts: true,
        ..Default::default()
    })?;
    let mut ids = Vec::with_capacity(rows.len());
    let mut texts = Vec::with_capacity(rows.len());
    for r in rows {
        let id = r["id"].as_str().unwrap_or_default();
        if id.starts_with("_design/") {
            continue;
        }
        ids.push(id.to_string());
        texts.push(r["doc"].to_string());
    }
    let docs = Arc::new(PreviewDocs {
        key,
        ids,
        texts,
        seq,
    });
    let size: usize = docs.texts.iter().map(String::len).sum();
    *cache.lock().unwrap_or_else(|e| e.into_inner()) =
        (size <= MAX_CACHED_BYTES).then(|| docs.clone());
    Ok(docs)
}
