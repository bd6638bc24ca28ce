//! One database: writes (with and without `new_edits`), reads, `_changes`, `_all_docs`,
//! `_local` documents, purge and compaction.

mod changes;
mod local;
mod maintenance;
mod read;
mod write;

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use serde_json::{json, Value};

use crate::doc::{check_id, IdKind};
use crate::error::{Error, Result};
use crate::rev::Rev;
use crate::store::{Store, T};

/// Default `revs_limit`, as in CouchDB.
pub const DEFAULT_REVS_LIMIT: u64 = 1000;

/// Who is writing, for validation functions and access rules (CouchDB's `userCtx`).
#[derive(Clone, Debug, Default)]
pub struct UserCtx {
    /// User name; `None` for anonymous.
    pub name: Option<String>,
    /// Roles (and FullSync groups).
    pub roles: Vec<String>,
}

/// A check run before every document write (`validate_doc_update`, access rules).
///
/// `new_doc` is the document as it will be stored (with `_id`, `_rev` of the parent when
/// editing, `_deleted`); `old_doc` the current winner, if any. Returning an error rejects that
/// document only.
pub trait WriteValidator: Send + Sync {
    /// Checks one write.
    fn validate(&self, new_doc: &Value, old_doc: Option<&Value>, user: &UserCtx) -> Result<()>;
}

/// The result of writing one document.
#[derive(Debug)]
pub struct DocResult {
    /// The document id.
    pub id: String,
    /// The new revision, or why this document was not written.
    pub result: Result<String>,
}

/// Options for reading a document (query parameters of `GET /db/doc`).
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    /// Include `_revisions`.
    pub revs: bool,
    /// Include `_revs_info`.
    pub revs_info: bool,
    /// Include `_conflicts`.
    pub conflicts: bool,
    /// Include `_deleted_conflicts`.
    pub deleted_conflicts: bool,
    /// Include `_local_seq`.
    pub local_seq: bool,
    /// Inline attachment data (base64) instead of stubs.
    pub attachments: bool,
    /// Inline only attachments changed after these revisions.
    pub atts_since: Vec<Rev>,
    /// With `open_revs`/`rev`: return the leaves descending from a non-leaf revision.
    pub latest: bool,
}

/// Which revisions `open_revs` asks for.
#[derive(Clone, Debug)]
pub enum OpenRevs {
    /// All leaves.
    All,
    /// These revisions.
    List(Vec<Rev>),
}

/// One answer of `open_revs`: the document, or the revision that is missing.
#[derive(Debug)]
pub enum OpenRev {
    /// Found.
    Ok(Value),
    /// Not stored.
    Missing(String),
}

/// A `_changes` filter evaluated inside the engine.
pub enum ChangesFilter<'a> {
    /// Every document.
    None,
    /// Only these ids (`_doc_ids`).
    DocIds(HashSet<String>),
    /// Only design documents (`_design`).
    Design,
    /// A Mango selector on the winning document (`_selector`).
    Selector(crate::selector::Selector),
    /// A predicate on the winning document (JS filters, access rules).
    Doc(&'a (dyn Fn(&Value) -> bool + Sync)),
}

/// Options of `_changes`.
pub struct ChangesOptions<'a> {
    /// Only changes after this sequence.
    pub since: u64,
    /// At most this many rows.
    pub limit: Option<usize>,
    /// Newest first.
    pub descending: bool,
    /// Include the winning document.
    pub include_docs: bool,
    /// All leaf revisions in `changes` (`style=all_docs`) instead of the winner only.
    pub all_docs: bool,
    /// With `include_docs`: `_conflicts` in docs.
    pub conflicts: bool,
    /// With `include_docs`: inline attachments.
    pub attachments: bool,
    /// Which documents.
    pub filter: ChangesFilter<'a>,
}

impl Default for ChangesOptions<'_> {
    fn default() -> Self {
        ChangesOptions {
            since: 0,
            limit: None,
            descending: false,
            include_docs: false,
            all_docs: false,
            conflicts: false,
            attachments: false,
            filter: ChangesFilter::None,
        }
    }
}

/// The result of a `_changes` read.
#[derive(Debug)]
pub struct Changes {
    /// Rows `{seq, id, changes, deleted?, doc?}`.
    pub results: Vec<Value>,
    /// Sequence to resume from.
    pub last_seq: u64,
}

/// Options of `_all_docs`.
#[derive(Clone, Debug, Default)]
pub struct AllDocsOptions {
    /// First id (inclusive).
    pub start: Option<String>,
    /// Last id.
    pub end: Option<String>,
    /// Whether `end` itself is included (default true).
    pub inclusive_end: bool,
    /// Maximum rows.
    pub limit: Option<usize>,
    /// Rows to skip.
    pub skip: usize,
    /// Reverse order.
    pub descending: bool,
    /// Include the documents.
    pub include_docs: bool,
    /// With include_docs: `_conflicts`.
    pub conflicts: bool,
    /// With include_docs: inline attachments.
    pub attachments: bool,
    /// Exactly these keys, in this order.
    pub keys: Option<Vec<Value>>,
}

/// Database information, as `GET /db` reports it.
#[derive(Clone, Debug)]
pub struct DbInfo {
    /// Name.
    pub name: String,
    /// Documents whose winner is not deleted.
    pub doc_count: u64,
    /// Documents whose winner is deleted.
    pub doc_del_count: u64,
    /// Current sequence.
    pub update_seq: u64,
    /// Purge sequence.
    pub purge_seq: u64,
    /// Size of the file.
    pub file_size: u64,
    /// Bytes of live document bodies and attachments.
    pub active_size: u64,
}

/// A database.
pub struct Database {
    name: String,
    instance: u64,
    store: Store,
    seq_tx: tokio::sync::watch::Sender<u64>,
    revs_limit: AtomicU64,
    validators: RwLock<Vec<Arc<dyn WriteValidator>>>,
}

fn seq_key(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

fn revs_key(id: &str, rev: &Rev) -> Vec<u8> {
    let mut k = Vec::with_capacity(id.len() + 40);
    k.extend_from_slice(id.as_bytes());
    k.push(0);
    k.extend_from_slice(rev.to_string().as_bytes());
    k
}

struct Counters {
    seq: u64,
    docs: i64,
    dels: i64,
    active: i64,
}

impl Database {
    /// Opens a database on a store.
    pub fn open(name: &str, store: Store) -> Result<Database> {
        let (seq, limit, mut instance) = store.read(|r| {
            Ok((
                r.meta_u64("update_seq")?,
                r.meta_u64("revs_limit")?,
                r.meta_u64("instance")?,
            ))
        })?;
        if instance == 0 {
            let mut b = [0u8; 8];
            getrandom::fill(&mut b).expect("the OS random source is available");
            instance = u64::from_le_bytes(b) | 1;
            store.write(|w| w.set_meta_u64("instance", instance))?;
        }
        let (seq_tx, _) = tokio::sync::watch::channel(seq);
        Ok(Database {
            name: name.to_string(),
            instance,
            store,
            seq_tx,
            revs_limit: AtomicU64::new(if limit == 0 {
                DEFAULT_REVS_LIMIT
            } else {
                limit
            }),
            validators: RwLock::new(vec![]),
        })
    }

    /// A random id given to this database when it was created: a database deleted and created
    /// again under the same name gets a new one (indexes use it to notice).
    pub fn instance(&self) -> u64 {
        self.instance
    }

    /// The database name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Subscribes to the update sequence (for longpoll and continuous feeds, listeners).
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.seq_tx.subscribe()
    }

    /// The current update sequence.
    pub fn update_seq(&self) -> u64 {
        *self.seq_tx.borrow()
    }

    /// Adds a check run before every document write.
    pub fn add_validator(&self, v: Arc<dyn WriteValidator>) {
        self.validators
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(v);
    }

    /// Removes all write checks.
    pub fn clear_validators(&self) {
        self.validators
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// `revs_limit` of this database.
    pub fn revs_limit(&self) -> u64 {
        self.revs_limit.load(Ordering::Relaxed)
    }

    /// Sets `revs_limit` (applied to documents as they are next written, as in CouchDB).
    pub fn set_revs_limit(&self, limit: u64) -> Result<()> {
        if limit == 0 {
            return Err(Error::BadRequest(
                "revs_limit must be a positive integer".into(),
            ));
        }
        self.store.write(|w| w.set_meta_u64("revs_limit", limit))?;
        self.revs_limit.store(limit, Ordering::Relaxed);
        Ok(())
    }

    /// Database information.
    pub fn info(&self) -> Result<DbInfo> {
        let (doc_count, doc_del_count, update_seq, purge_seq, active) = self.store.read(|r| {
            Ok((
                r.meta_u64("doc_count")?,
                r.meta_u64("doc_del_count")?,
                r.meta_u64("update_seq")?,
                r.meta_u64("purge_seq")?,
                r.meta_u64("active_size")?,
            ))
        })?;
        Ok(DbInfo {
            name: self.name.clone(),
            doc_count,
            doc_del_count,
            update_seq,
            purge_seq,
            file_size: self.store.file_size(),
            active_size: active,
        })
    }

    /// The JSON of `GET /db/_security` (`{}` when unset).
    pub fn security(&self) -> Result<Value> {
        let raw = self.store.read(|r| r.get(T::Meta, b"security"))?;
        Ok(raw
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_else(|| json!({})))
    }

    /// Replaces the security object.
    pub fn set_security(&self, sec: &Value) -> Result<()> {
        let bytes = serde_json::to_vec(sec).expect("JSON serializes");
        self.store.write(|w| w.put(T::Meta, b"security", &bytes))
    }
}

/// Checks a database name against CouchDB's rules.
pub fn check_db_name(name: &str) -> Result<()> {
    const SYSTEM: &[&str] = &["_users", "_replicator", "_global_changes"];
    if SYSTEM.contains(&name) {
        return Ok(());
    }
    let mut chars = name.chars();
    let ok = matches!(chars.next(), Some('a'..='z'))
        && name.len() <= 238
        && chars
            .all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_' | '$' | '(' | ')' | '+' | '-' | '/'));
    if ok {
        Ok(())
    } else {
        Err(Error::IllegalDbName(name.to_string()))
    }
}

/// Parses and checks a document id for `GET`/`PUT` paths.
pub fn check_doc_id(id: &str) -> Result<IdKind> {
    check_id(id)
}
