//! Backup and restore of a database, local or remote, in the format couchdb-dump and
//! `_bulk_docs` use: `{"new_edits":false,"docs":[...]}`, every leaf revision with its
//! `_revisions` history and inline attachments, so history, conflicts and deletions survive.
//!
//! Both directions stream: memory stays bounded by one batch, whatever the database size. A
//! `.gz` file name means gzip. Restore reads the whole file once to check it before writing
//! anything, so a corrupt or truncated file leaves the target untouched.

use std::fmt;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use fullsync_replicate::{Filter, Peer, ReplError};
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{json, Value};

/// Backup/restore errors.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// Reading or writing the file failed.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The backup file is not a valid backup (nothing was written to the target).
    #[error("{path} is not a valid backup ({reason}); nothing was written to the target")]
    BadFile {
        /// File.
        path: String,
        /// What is wrong, with the position.
        reason: String,
    },
    /// The source or target failed.
    #[error(transparent)]
    Peer(#[from] ReplError),
}

/// Documents (leaf revisions) per batch.
pub const BATCH: usize = 100;

/// Progress of a backup or restore: `(documents done, documents in total)`.
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64);

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn is_gz(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "gz")
}

/// Writes every document of `source` (all leaf revisions, with history and attachments) to
/// `path`. Returns the number of revisions written.
pub fn backup(source: &dyn Peer, path: &Path, progress: Progress<'_>) -> Result<u64, BackupError> {
    let (_, seq) = source.info(false)?;
    let total = fullsync_engine::seq::seq_num(&seq);
    let tmp = path.with_extension(format!(
        "{}.partial",
        path.extension().and_then(|e| e.to_str()).unwrap_or("json")
    ));
    let file = File::create(&tmp).map_err(io_err(&tmp))?;
    let mut out: Box<dyn Write> = if is_gz(path) {
        Box::new(BufWriter::new(flate2::write::GzEncoder::new(
            file,
            flate2::Compression::default(),
        )))
    } else {
        Box::new(BufWriter::new(file))
    };
    let w = |out: &mut Box<dyn Write>, b: &[u8]| out.write_all(b).map_err(io_err(&tmp));
    w(&mut out, b"{\"new_edits\":false,\"docs\":[\n")?;
    let mut since = json!(0);
    let mut written = 0u64;
    let mut first = true;
    loop {
        let batch = source.changes(&since, BATCH, &Filter::None, None)?;
        if batch.rows.is_empty() {
            break;
        }
        let wanted: Vec<(String, String, Vec<String>)> = batch
            .rows
            .iter()
            .flat_map(|c| c.revs.iter().map(|r| (c.id.clone(), r.clone(), vec![])))
            .collect();
        for doc in source.get_revs(&wanted)? {
            if !first {
                w(&mut out, b",\n")?;
            }
            first = false;
            w(
                &mut out,
                serde_json::to_string(&doc)
                    .expect("JSON serializes")
                    .as_bytes(),
            )?;
            written += 1;
        }
        since = batch
            .rows
            .last()
            .map(|r| r.seq.clone())
            .unwrap_or(batch.last_seq);
        progress(fullsync_engine::seq::seq_num(&since), total);
    }
    w(&mut out, b"\n]}\n")?;
    out.flush().map_err(io_err(&tmp))?;
    drop(out);
    std::fs::rename(&tmp, path).map_err(io_err(path))?;
    Ok(written)
}

fn open_reader(path: &Path) -> Result<Box<dyn Read>, BackupError> {
    let f = File::open(path).map_err(io_err(path))?;
    Ok(if is_gz(path) {
        Box::new(BufReader::new(flate2::read::GzDecoder::new(f)))
    } else {
        Box::new(BufReader::new(f))
    })
}

/// Streams the documents of a backup file to `each`, one at a time.
struct DocsSeed<'a> {
    each: &'a mut dyn FnMut(Value) -> Result<(), String>,
}

impl<'de> DeserializeSeed<'de> for DocsSeed<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for DocsSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of documents")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(doc) = seq.next_element::<Value>()? {
            if !doc.is_object()
                || doc.get("_id").and_then(Value::as_str).is_none()
                || doc.get("_rev").is_none()
            {
                return Err(serde::de::Error::custom("a document without _id and _rev"));
            }
            (self.each)(doc).map_err(serde::de::Error::custom)?;
        }
        Ok(())
    }
}

struct FileSeed<'a> {
    each: &'a mut dyn FnMut(Value) -> Result<(), String>,
}

impl<'de> Visitor<'de> for FileSeed<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{\"new_edits\": false, \"docs\": [...]}")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut saw_docs = false;
        let each = self.each;
        while let Some(key) = map.next_key::<String>()? {
            if key == "docs" {
                map.next_value_seed(DocsSeed { each: &mut *each })?;
                saw_docs = true;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(saw_docs)
    }
}

fn scan(path: &Path, each: &mut dyn FnMut(Value) -> Result<(), String>) -> Result<(), BackupError> {
    let bad = |reason: String| BackupError::BadFile {
        path: path.display().to_string(),
        reason,
    };
    let reader = open_reader(path)?;
    let mut de = serde_json::Deserializer::from_reader(reader);
    let saw = serde::Deserializer::deserialize_map(&mut de, FileSeed { each })
        .map_err(|e| bad(e.to_string()))?;
    de.end().map_err(|e| bad(format!("trailing data: {e}")))?;
    if !saw {
        return Err(bad("no \"docs\" array".into()));
    }
    Ok(())
}

/// Checks a backup file completely; returns its number of documents.
pub fn verify(path: &Path) -> Result<u64, BackupError> {
    let mut n = 0u64;
    scan(path, &mut |_| {
        n += 1;
        Ok(())
    })?;
    Ok(n)
}

/// Restores a backup into `target` (`new_edits=false`, so revisions, conflicts and deletions
/// are kept). The file is verified first; `before_write` runs after verification and before
/// the first write (to recreate the database). Returns the revisions written.
pub fn restore(
    path: &Path,
    target: &dyn Peer,
    before_write: &mut dyn FnMut() -> Result<(), BackupError>,
    progress: Progress<'_>,
) -> Result<u64, BackupError> {
    let total = verify(path)?;
    before_write()?;
    target.info(true)?;
    let mut batch = Vec::with_capacity(BATCH);
    let mut done = 0u64;
    let mut failed: Option<ReplError> = None;
    let flush = |batch: &mut Vec<Value>, done: &mut u64| -> Result<(), ReplError> {
        let n = batch.len() as u64;
        let errors = target.write_revs(std::mem::take(batch))?;
        if let Some(e) = errors.first() {
            return Err(ReplError::Http {
                status: 400,
                error: e
                    .get("error")
                    .and_then(Value::as_str)
                    .unwrap_or("error")
                    .into(),
                reason: format!(
                    "{} was refused: {}",
                    e.get("id").and_then(Value::as_str).unwrap_or("?"),
                    e.get("reason").and_then(Value::as_str).unwrap_or("")
                ),
            });
        }
        *done += n;
        Ok(())
    };
    scan(path, &mut |doc| {
        batch.push(doc);
        if batch.len() >= BATCH {
            if let Err(e) = flush(&mut batch, &mut done) {
                let msg = e.to_string();
                failed = Some(e);
                return Err(msg);
            }
            progress(done, total);
        }
        Ok(())
    })
    .map_err(|e| match failed.take() {
        Some(f) => BackupError::Peer(f),
        None => e,
    })?;
    if !batch.is_empty() {
        flush(&mut batch, &mut done)?;
    }
    progress(done, total);
    Ok(done)
}
