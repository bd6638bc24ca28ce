//! One database: writes (with and without `new_edits`), reads, `_changes`, `_all_docs`,
//! `_local` documents, purge and compaction.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use base64::Engine as _;
use serde_json::{json, Map, Value};

use crate::codec::{self, decode_record, encode_record, record_deleted, DocRecord};
use crate::doc::{check_id, AttIn, DocIn, IdKind};
use crate::error::{Error, Result};
use crate::rev::{new_rev_hash, Rev};
use crate::store::{Reader, Store, Writer, T};
use crate::tree::{AttMeta, Body, BodyState, RevTree};

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

    // ----------------------------------------------------------------- writes

    /// `_bulk_docs` from JSON: parses each document (a malformed one gets its own error
    /// entry) and writes the rest in one transaction. Results are in request order.
    pub fn bulk_docs_json(
        &self,
        docs: Vec<Value>,
        new_edits: bool,
        user: &UserCtx,
    ) -> Result<Vec<DocResult>> {
        let mut slots: Vec<Option<DocResult>> = Vec::with_capacity(docs.len());
        let mut parsed = Vec::with_capacity(docs.len());
        for d in docs {
            let id = d
                .get("_id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            match crate::doc::parse_doc(d, None, &mut |_| None) {
                Ok(doc) => {
                    parsed.push(doc);
                    slots.push(None);
                }
                Err(e) => slots.push(Some(DocResult { id, result: Err(e) })),
            }
        }
        let mut written = self.bulk_docs(parsed, new_edits, user)?.into_iter();
        Ok(slots
            .into_iter()
            .map(|s| s.unwrap_or_else(|| written.next().expect("one result per doc")))
            .collect())
    }

    /// Writes one document with `new_edits=true` and returns its new revision.
    pub fn put(&self, doc: DocIn, user: &UserCtx) -> Result<String> {
        let mut r = self.bulk_docs(vec![doc], true, user)?;
        r.pop().expect("one result per document").result
    }

    /// Writes documents in one durable transaction (`_bulk_docs`). Per-document failures
    /// (conflicts, missing stubs, rejected by validation) are reported in the results and do
    /// not stop the others; a storage failure aborts the whole batch (nothing is written).
    pub fn bulk_docs(
        &self,
        docs: Vec<DocIn>,
        new_edits: bool,
        user: &UserCtx,
    ) -> Result<Vec<DocResult>> {
        let validators = self
            .validators
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let limit = self.revs_limit();
        let (results, seq) = self.store.write(|w| {
            let mut c = Counters {
                seq: w.meta_u64("update_seq")?,
                docs: 0,
                dels: 0,
                active: 0,
            };
            let start_seq = c.seq;
            let mut results = Vec::with_capacity(docs.len());
            for doc in docs {
                let id = doc.id.clone();
                let result = if doc.id.starts_with("_local/") {
                    put_local(w, doc)
                } else if new_edits {
                    self.apply_edit(w, doc, &mut c, limit, &validators, user)
                } else {
                    self.apply_replicated(w, doc, &mut c, limit, &validators, user)
                };
                let result = match result {
                    Err(e @ (Error::Storage(_) | Error::Corrupt(_) | Error::Io(_))) => {
                        return Err(e)
                    }
                    r => r,
                };
                results.push(DocResult { id, result });
            }
            if c.seq != start_seq {
                w.set_meta_u64("update_seq", c.seq)?;
                add_meta(w, "doc_count", c.docs)?;
                add_meta(w, "doc_del_count", c.dels)?;
                add_meta(w, "active_size", c.active)?;
            }
            Ok((results, c.seq))
        })?;
        self.seq_tx.send_if_modified(|s| {
            let changed = *s != seq;
            *s = seq;
            changed
        });
        Ok(results)
    }

    fn load(&self, w: &Writer<'_>, id: &str) -> Result<Option<DocRecord>> {
        w.get(T::Docs, id.as_bytes())?
            .map(|b| decode_record(&b))
            .transpose()
    }

    fn run_validators(
        &self,
        validators: &[Arc<dyn WriteValidator>],
        w: &Writer<'_>,
        doc: &DocIn,
        rec: Option<&DocRecord>,
        user: &UserCtx,
    ) -> Result<()> {
        if validators.is_empty() {
            return Ok(());
        }
        let mut new_doc: Map<String, Value> = serde_json::from_str(&doc.json).unwrap_or_default();
        new_doc.insert("_id".into(), Value::String(doc.id.clone()));
        if let Some(r) = &doc.rev {
            new_doc.insert("_rev".into(), Value::String(r.to_string()));
        }
        if doc.deleted {
            new_doc.insert("_deleted".into(), Value::Bool(true));
        }
        let new_doc = Value::Object(new_doc);
        let old = match rec {
            Some(rec) if !rec.winner_deleted() => Some(render(
                &WOrR::W(w),
                &doc.id,
                &rec.tree,
                rec.tree.winner(),
                &ReadOptions::default(),
            )?),
            _ => None,
        };
        for v in validators {
            v.validate(&new_doc, old.as_ref(), user)?;
        }
        Ok(())
    }

    fn apply_edit(
        &self,
        w: &mut Writer<'_>,
        doc: DocIn,
        c: &mut Counters,
        limit: u64,
        validators: &[Arc<dyn WriteValidator>],
        user: &UserCtx,
    ) -> Result<String> {
        let existing = self.load(w, &doc.id)?;
        let parent = match (&existing, &doc.rev) {
            (None, None) => None,
            (None, Some(_)) => return Err(Error::Conflict),
            (Some(rec), None) => {
                let win = rec.tree.winner();
                if rec.tree.nodes[win].deleted {
                    Some(win)
                } else {
                    return Err(Error::Conflict);
                }
            }
            (Some(rec), Some(r)) => match rec.tree.find_rev(r) {
                Some(i) if rec.tree.is_leaf(i) => Some(i),
                _ => return Err(Error::Conflict),
            },
        };
        self.run_validators(validators, w, &doc, existing.as_ref(), user)?;
        let parent_body = match (parent, &existing) {
            (Some(p), Some(rec)) => match &rec.tree.nodes[p].body {
                BodyState::Inline(b) => Some(b.clone()),
                _ => None,
            },
            _ => None,
        };
        let new_pos = match parent {
            None => 1,
            Some(p) => existing
                .as_ref()
                .expect("a parent implies a record")
                .tree
                .nodes[p]
                .pos
                .checked_add(1)
                .ok_or_else(|| {
                    Error::BadRequest(
                        "the document's revision generation is too large to edit".into(),
                    )
                })?,
        };
        let mut atts = Vec::with_capacity(doc.atts.len());
        for a in doc.atts {
            match a {
                AttIn::Stub { name, .. } => {
                    let found = parent_body
                        .as_ref()
                        .and_then(|b| b.atts.iter().find(|m| m.name == name));
                    match found {
                        Some(m) => atts.push(m.clone()),
                        None => {
                            return Err(Error::MissingStub(format!(
                                "Invalid attachment stub in {} for {name}",
                                doc.id
                            )))
                        }
                    }
                }
                AttIn::Data {
                    name,
                    content_type,
                    data,
                    digest,
                    ..
                } => {
                    store_att(w, &digest, &data)?;
                    atts.push(AttMeta {
                        name,
                        content_type,
                        length: data.len() as u64,
                        digest,
                        revpos: new_pos,
                    });
                }
            }
        }
        let pairs: Vec<(&str, &str)> = atts
            .iter()
            .map(|a| (a.name.as_str(), a.digest.as_str()))
            .collect();
        let mut rec = existing.clone().unwrap_or_default();
        let parent_rev = parent.map(|p| rec.tree.nodes[p].rev());
        let rev = Rev::new(
            new_pos,
            new_rev_hash(parent_rev.as_ref(), doc.deleted, &doc.json, &pairs),
        );
        let body = Body {
            json: doc.json,
            atts,
        };
        c.seq += 1;
        let (_, archived) = rec
            .tree
            .add_child(parent, rev.clone(), doc.deleted, c.seq, body);
        self.finish_write(
            w,
            &doc.id,
            existing.as_ref(),
            rec,
            archived.into_iter().collect(),
            c,
            limit,
        )?;
        Ok(rev.to_string())
    }

    fn apply_replicated(
        &self,
        w: &mut Writer<'_>,
        doc: DocIn,
        c: &mut Counters,
        limit: u64,
        validators: &[Arc<dyn WriteValidator>],
        user: &UserCtx,
    ) -> Result<String> {
        let rev = doc.rev.clone().ok_or_else(|| {
            Error::BadRequest("A document written with new_edits=false needs a _rev".into())
        })?;
        let path = match &doc.revisions {
            Some(p) => {
                if p.last() != Some(&rev) {
                    return Err(Error::BadRequest(
                        "_revisions does not end with _rev".into(),
                    ));
                }
                p.clone()
            }
            None => vec![rev.clone()],
        };
        let existing = self.load(w, &doc.id)?;
        if let Some(rec) = &existing {
            if rec.tree.find_rev(&rev).is_some() {
                return Ok(rev.to_string());
            }
        }
        self.run_validators(validators, w, &doc, existing.as_ref(), user)?;
        let mut atts = Vec::with_capacity(doc.atts.len());
        for a in doc.atts {
            match a {
                AttIn::Stub {
                    name,
                    digest,
                    revpos,
                    content_type,
                    length,
                } => {
                    let meta = find_stub(
                        w,
                        &doc.id,
                        existing.as_ref(),
                        &path,
                        &name,
                        digest.as_deref(),
                        revpos,
                    )?;
                    let meta = match meta {
                        Some(m) => m,
                        None => match (&digest, length) {
                            (Some(d), Some(len)) if w.contains(T::Atts, d.as_bytes())? => AttMeta {
                                name: name.clone(),
                                content_type: content_type
                                    .unwrap_or_else(|| "application/octet-stream".into()),
                                digest: d.clone(),
                                length: len,
                                revpos: revpos.unwrap_or(rev.pos),
                            },
                            _ => {
                                return Err(Error::MissingStub(format!(
                                    "Invalid attachment stub in {} for {name}",
                                    doc.id
                                )))
                            }
                        },
                    };
                    atts.push(meta);
                }
                AttIn::Data {
                    name,
                    content_type,
                    data,
                    digest,
                    revpos,
                } => {
                    store_att(w, &digest, &data)?;
                    atts.push(AttMeta {
                        name,
                        content_type,
                        length: data.len() as u64,
                        digest,
                        revpos: revpos.unwrap_or(rev.pos),
                    });
                }
            }
        }
        let mut rec = existing.clone().unwrap_or_default();
        c.seq += 1;
        let out = rec.tree.merge_path(
            &path,
            doc.deleted,
            c.seq,
            Body {
                json: doc.json,
                atts,
            },
        );
        self.finish_write(w, &doc.id, existing.as_ref(), rec, out.archived, c, limit)?;
        Ok(rev.to_string())
    }

    #[allow(clippy::too_many_arguments)]
    fn finish_write(
        &self,
        w: &mut Writer<'_>,
        id: &str,
        old: Option<&DocRecord>,
        mut rec: DocRecord,
        archived: Vec<(Rev, Body)>,
        c: &mut Counters,
        limit: u64,
    ) -> Result<()> {
        let mut buf = Vec::new();
        for (rev, body) in archived {
            buf.clear();
            codec::encode_body(&mut buf, &body);
            w.put(T::Revs, &revs_key(id, &rev), &buf)?;
        }
        for n in rec.tree.stem(limit) {
            if n.body == BodyState::Archived {
                w.del(T::Revs, &revs_key(id, &n.rev()))?;
            }
        }
        if let Some(o) = old {
            w.del(T::Seqs, &seq_key(o.seq))?;
            c.active -= leaf_size(&o.tree) as i64;
            if o.winner_deleted() {
                c.dels -= 1;
            } else {
                c.docs -= 1;
            }
        }
        rec.seq = c.seq;
        w.put(T::Seqs, &seq_key(c.seq), id.as_bytes())?;
        if rec.winner_deleted() {
            c.dels += 1;
        } else {
            c.docs += 1;
        }
        c.active += leaf_size(&rec.tree) as i64;
        w.put(T::Docs, id.as_bytes(), &encode_record(&rec))
    }

    // ----------------------------------------------------------------- reads

    /// The stored record of a document (revision tree with leaf bodies).
    pub fn record(&self, id: &str) -> Result<Option<DocRecord>> {
        self.store.read(|r| {
            r.get(T::Docs, id.as_bytes())?
                .map(|b| decode_record(&b))
                .transpose()
        })
    }

    /// `GET /db/doc[?rev=...]`: the winner (404 `deleted` when it is a tombstone), or the
    /// given revision.
    pub fn get(&self, id: &str, rev: Option<&Rev>, opts: &ReadOptions) -> Result<Value> {
        if id.starts_with("_local/") {
            return self.get_local(id);
        }
        self.store.read(|r| {
            let rec = r.get(T::Docs, id.as_bytes())?.ok_or_else(Error::missing)?;
            let rec = decode_record(&rec)?;
            let i = match rev {
                None => {
                    let win = rec.tree.winner();
                    if rec.tree.nodes[win].deleted {
                        return Err(Error::NotFound("deleted".into()));
                    }
                    win
                }
                Some(rev) => rec.tree.find_rev(rev).ok_or_else(Error::missing)?,
            };
            render(&WOrR::R(r), id, &rec.tree, i, opts)
        })
    }

    /// `GET /db/doc?open_revs=...`.
    pub fn open_revs(
        &self,
        id: &str,
        which: &OpenRevs,
        opts: &ReadOptions,
    ) -> Result<Vec<OpenRev>> {
        self.store.read(|r| {
            let rec = match r.get(T::Docs, id.as_bytes())? {
                Some(b) => Some(decode_record(&b)?),
                None => None,
            };
            let mut out = vec![];
            match which {
                OpenRevs::All => {
                    let rec = rec.ok_or_else(Error::missing)?;
                    for i in rec.tree.leaves() {
                        out.push(OpenRev::Ok(render(&WOrR::R(r), id, &rec.tree, i, opts)?));
                    }
                }
                OpenRevs::List(revs) => {
                    let mut seen = HashSet::new();
                    for rev in revs {
                        let found = rec
                            .as_ref()
                            .and_then(|rec| rec.tree.find_rev(rev).map(|i| (rec, i)));
                        match found {
                            Some((rec, i)) => {
                                let targets = if opts.latest {
                                    rec.tree.leaves_under(i)
                                } else {
                                    vec![i]
                                };
                                for t in targets {
                                    if seen.insert(t) {
                                        match render(&WOrR::R(r), id, &rec.tree, t, opts) {
                                            Ok(d) => out.push(OpenRev::Ok(d)),
                                            Err(Error::NotFound(_)) => {
                                                out.push(OpenRev::Missing(rev.to_string()))
                                            }
                                            Err(e) => return Err(e),
                                        }
                                    }
                                }
                            }
                            None => out.push(OpenRev::Missing(rev.to_string())),
                        }
                    }
                }
            }
            Ok(out)
        })
    }

    /// The bytes and metadata of an attachment of the winner (or of `rev`).
    pub fn attachment(
        &self,
        id: &str,
        name: &str,
        rev: Option<&Rev>,
    ) -> Result<(AttMeta, Vec<u8>)> {
        self.store.read(|r| {
            let rec = decode_record(&r.get(T::Docs, id.as_bytes())?.ok_or_else(Error::missing)?)?;
            let i = match rev {
                Some(rev) => rec.tree.find_rev(rev).ok_or_else(Error::missing)?,
                None => {
                    let w = rec.tree.winner();
                    if rec.tree.nodes[w].deleted {
                        return Err(Error::NotFound("deleted".into()));
                    }
                    w
                }
            };
            let body = node_body(&WOrR::R(r), id, &rec.tree, i)?.ok_or_else(Error::missing)?;
            let meta = body
                .atts
                .into_iter()
                .find(|a| a.name == name)
                .ok_or_else(|| Error::NotFound("Document is missing attachment".into()))?;
            let data = r.get(T::Atts, meta.digest.as_bytes())?.ok_or_else(|| {
                Error::Corrupt(format!("attachment {name} of {id} has no stored data"))
            })?;
            Ok((meta, data))
        })
    }

    /// `_revs_diff`: for each id, the given revisions we do not have, and possible ancestors.
    pub fn revs_diff(&self, req: &Map<String, Value>) -> Result<Map<String, Value>> {
        self.store.read(|r| {
            let mut out = Map::new();
            for (id, revs) in req {
                let revs = revs
                    .as_array()
                    .ok_or_else(|| Error::BadRequest("revs must be an array".into()))?;
                let rec = match r.get(T::Docs, id.as_bytes())? {
                    Some(b) => Some(decode_record(&b)?),
                    None => None,
                };
                let mut missing = vec![];
                let mut max_pos = 0;
                for v in revs {
                    let s = v
                        .as_str()
                        .ok_or_else(|| Error::BadRequest("Invalid rev format".into()))?;
                    let rev = Rev::parse(s)?;
                    let have = rec
                        .as_ref()
                        .is_some_and(|rec| rec.tree.find_rev(&rev).is_some());
                    if !have && !missing.contains(&Value::String(s.into())) {
                        max_pos = max_pos.max(rev.pos);
                        missing.push(Value::String(s.into()));
                    }
                }
                if missing.is_empty() {
                    continue;
                }
                let mut entry = Map::new();
                entry.insert("missing".into(), Value::Array(missing));
                if let Some(rec) = &rec {
                    let anc: Vec<Value> = rec
                        .tree
                        .leaves()
                        .into_iter()
                        .filter(|&i| rec.tree.nodes[i].pos < max_pos)
                        .map(|i| Value::String(rec.tree.nodes[i].rev().to_string()))
                        .collect();
                    if !anc.is_empty() {
                        entry.insert("possible_ancestors".into(), Value::Array(anc));
                    }
                }
                out.insert(id.clone(), Value::Object(entry));
            }
            Ok(out)
        })
    }

    /// `_changes` (one batch; the HTTP layer loops for longpoll/continuous feeds).
    pub fn changes(&self, opts: &ChangesOptions<'_>) -> Result<Changes> {
        self.store.read(|r| {
            let snapshot_seq = r.meta_u64("update_seq")?;
            let mut results = vec![];
            let mut last = if opts.descending { 0 } else { opts.since };
            let mut hit_limit = false;
            let start = seq_key(opts.since.saturating_add(1));
            let rdoc_opts = ReadOptions {
                conflicts: opts.conflicts,
                attachments: opts.attachments,
                ..Default::default()
            };
            r.scan(
                T::Seqs,
                Some(&start),
                None,
                false,
                opts.descending,
                |k, id| {
                    if opts.limit.is_some_and(|l| results.len() >= l) {
                        hit_limit = true;
                        return Ok(false);
                    }
                    let seq = u64::from_be_bytes(
                        k.try_into().map_err(|_| Error::Corrupt("seq key".into()))?,
                    );
                    let id =
                        std::str::from_utf8(id).map_err(|_| Error::Corrupt("seq value".into()))?;
                    last = seq;
                    match &opts.filter {
                        ChangesFilter::DocIds(ids) if !ids.contains(id) => return Ok(true),
                        ChangesFilter::Design if !id.starts_with("_design/") => return Ok(true),
                        _ => {}
                    }
                    let rec = match r.get(T::Docs, id.as_bytes())? {
                        Some(b) => decode_record(&b)?,
                        None => {
                            return Err(Error::Corrupt(format!(
                                "sequence {seq} points at missing doc {id}"
                            )))
                        }
                    };
                    let win = rec.tree.winner();
                    let need_doc = opts.include_docs
                        || matches!(
                            opts.filter,
                            ChangesFilter::Doc(_) | ChangesFilter::Selector(_)
                        );
                    let doc = if need_doc {
                        Some(render(&WOrR::R(r), id, &rec.tree, win, &rdoc_opts)?)
                    } else {
                        None
                    };
                    match (&opts.filter, &doc) {
                        (ChangesFilter::Doc(f), Some(d)) if !f(d) => return Ok(true),
                        (ChangesFilter::Selector(sel), Some(d)) if !sel.matches(d) => {
                            return Ok(true)
                        }
                        _ => {}
                    }
                    let changes: Vec<Value> = if opts.all_docs {
                        rec.tree
                            .leaves()
                            .into_iter()
                            .map(|i| json!({"rev": rec.tree.nodes[i].rev().to_string()}))
                            .collect()
                    } else {
                        vec![json!({"rev": rec.tree.nodes[win].rev().to_string()})]
                    };
                    let mut row = Map::new();
                    row.insert("seq".into(), json!(seq));
                    row.insert("id".into(), json!(id));
                    row.insert("changes".into(), Value::Array(changes));
                    if rec.tree.nodes[win].deleted {
                        row.insert("deleted".into(), Value::Bool(true));
                    }
                    if opts.include_docs {
                        row.insert("doc".into(), doc.unwrap_or(Value::Null));
                    }
                    results.push(Value::Object(row));
                    Ok(true)
                },
            )?;
            let last_seq = if opts.descending {
                if hit_limit || !results.is_empty() {
                    last
                } else {
                    snapshot_seq
                }
            } else if hit_limit {
                last
            } else {
                snapshot_seq.max(opts.since)
            };
            Ok(Changes { results, last_seq })
        })
    }

    /// `_all_docs`. Returns `(total_rows, offset, rows)`.
    pub fn all_docs(&self, opts: &AllDocsOptions) -> Result<(u64, u64, Vec<Value>)> {
        self.store.read(|r| {
            let total = r.meta_u64("doc_count")?;
            let dopts = ReadOptions {
                conflicts: opts.conflicts,
                attachments: opts.attachments,
                ..Default::default()
            };
            let mut rows = vec![];
            if let Some(keys) = &opts.keys {
                let iter: Box<dyn Iterator<Item = &Value>> = if opts.descending {
                    Box::new(keys.iter().rev())
                } else {
                    Box::new(keys.iter())
                };
                for key in iter.skip(opts.skip) {
                    if opts.limit.is_some_and(|l| rows.len() >= l) {
                        break;
                    }
                    let rec = match key.as_str() {
                        Some(id) => r
                            .get(T::Docs, id.as_bytes())?
                            .map(|b| decode_record(&b))
                            .transpose()?,
                        None => None,
                    };
                    let Some(rec) = rec else {
                        rows.push(json!({"key": key, "error": "not_found"}));
                        continue;
                    };
                    let id = key.as_str().unwrap_or_default();
                    let win = rec.tree.winner();
                    let rev = rec.tree.nodes[win].rev().to_string();
                    if rec.tree.nodes[win].deleted {
                        let mut row =
                            json!({"id": id, "key": id, "value": {"rev": rev, "deleted": true}});
                        if opts.include_docs {
                            row["doc"] = Value::Null;
                        }
                        rows.push(row);
                    } else {
                        let mut row = json!({"id": id, "key": id, "value": {"rev": rev}});
                        if opts.include_docs {
                            row["doc"] = render(&WOrR::R(r), id, &rec.tree, win, &dopts)?;
                        }
                        rows.push(row);
                    }
                }
                return Ok((total, 0, rows));
            }
            let (lo, hi, hi_incl) = if opts.descending {
                (opts.end.as_deref(), opts.start.as_deref(), true)
            } else {
                (
                    opts.start.as_deref(),
                    opts.end.as_deref(),
                    opts.inclusive_end,
                )
            };
            // With descending, `end` is the low bound and inclusive_end applies to it.
            let lo_excl = opts.descending && !opts.inclusive_end;
            let mut offset = 0u64;
            // offset = live docs before the first row in iteration order.
            if opts.descending {
                if let Some(h) = hi {
                    r.scan(T::Docs, Some(h.as_bytes()), None, false, false, |k, v| {
                        if k != h.as_bytes() && !record_deleted(v) {
                            offset += 1;
                        }
                        Ok(true)
                    })?;
                }
            } else if let Some(l) = lo {
                r.scan(T::Docs, None, Some(l.as_bytes()), false, false, |_, v| {
                    if !record_deleted(v) {
                        offset += 1;
                    }
                    Ok(true)
                })?;
            }
            let mut skipped = 0usize;
            r.scan(
                T::Docs,
                lo.map(str::as_bytes),
                hi.map(str::as_bytes),
                hi_incl,
                opts.descending,
                |k, v| {
                    if record_deleted(v) {
                        return Ok(true);
                    }
                    if lo_excl && Some(k) == lo.map(str::as_bytes) {
                        return Ok(true);
                    }
                    if skipped < opts.skip {
                        skipped += 1;
                        return Ok(true);
                    }
                    if opts.limit.is_some_and(|l| rows.len() >= l) {
                        return Ok(false);
                    }
                    let id =
                        std::str::from_utf8(k).map_err(|_| Error::Corrupt("doc key".into()))?;
                    let rec = decode_record(v)?;
                    let win = rec.tree.winner();
                    let mut row = Map::new();
                    row.insert("id".into(), json!(id));
                    row.insert("key".into(), json!(id));
                    row.insert(
                        "value".into(),
                        json!({"rev": rec.tree.nodes[win].rev().to_string()}),
                    );
                    if opts.include_docs {
                        row.insert(
                            "doc".into(),
                            render(&WOrR::R(r), id, &rec.tree, win, &dopts)?,
                        );
                    }
                    rows.push(Value::Object(row));
                    Ok(true)
                },
            )?;
            Ok((total, offset + skipped as u64, rows))
        })
    }

    /// Visits every document's id and record in id order (views, backup, ACL).
    pub fn for_each_record(
        &self,
        mut f: impl FnMut(&str, &DocRecord) -> Result<bool>,
    ) -> Result<()> {
        self.store.read(|r| {
            r.scan(T::Docs, None, None, false, false, |k, v| {
                let id = std::str::from_utf8(k).map_err(|_| Error::Corrupt("doc key".into()))?;
                f(id, &decode_record(v)?)
            })
        })
    }

    /// Renders revision `i` of a record as JSON (for callers that already hold the record).
    pub fn render_record(
        &self,
        id: &str,
        rec: &DocRecord,
        i: usize,
        opts: &ReadOptions,
    ) -> Result<Value> {
        self.store
            .read(|r| render(&WOrR::R(r), id, &rec.tree, i, opts))
    }

    // ----------------------------------------------------------------- local docs

    /// `GET /db/_local/id`.
    pub fn get_local(&self, id: &str) -> Result<Value> {
        let raw = self
            .store
            .read(|r| r.get(T::Local, id.as_bytes()))?
            .ok_or_else(Error::missing)?;
        serde_json::from_slice(&raw).map_err(|e| Error::Corrupt(format!("local doc {id}: {e}")))
    }

    /// `_local_docs`: the `_local` documents with ids in `[start, end]` (whole ids, with the
    /// `_local/` prefix), in id order (or reverse), as `(id, document)`.
    pub fn local_docs(
        &self,
        start: Option<&str>,
        end: Option<&str>,
        descending: bool,
        f: &mut dyn FnMut(&str, Value) -> bool,
    ) -> Result<()> {
        let (lo, hi) = if descending {
            (end, start)
        } else {
            (start, end)
        };
        let lo = lo.unwrap_or("_local/").as_bytes().to_vec();
        let hi = hi.unwrap_or("_local0").as_bytes().to_vec();
        self.store.read(|r| {
            r.scan(T::Local, Some(&lo), Some(&hi), true, descending, |k, v| {
                let id = std::str::from_utf8(k).map_err(|_| Error::Corrupt("local id".into()))?;
                let doc: Value = serde_json::from_slice(v)
                    .map_err(|e| Error::Corrupt(format!("local doc {id}: {e}")))?;
                Ok(f(id, doc))
            })
        })
    }

    /// Documents whose latest change is after `seq`: `pending` of `_changes`.
    pub fn pending_after(&self, seq: u64) -> Result<u64> {
        self.store.read(|r| {
            let mut n = 0u64;
            r.scan(
                T::Seqs,
                Some(&seq_key(seq.saturating_add(1))),
                None,
                false,
                false,
                |_, _| {
                    n += 1;
                    Ok(true)
                },
            )?;
            Ok(n)
        })
    }

    /// `DELETE /db/_local/id?rev=0-N`.
    pub fn delete_local(&self, id: &str, rev: Option<&str>) -> Result<String> {
        let doc = DocIn {
            id: id.to_string(),
            rev: None,
            local_rev: rev.map(str::to_string),
            revisions: None,
            deleted: true,
            json: "{}".into(),
            atts: vec![],
        };
        self.store.write(|w| put_local(w, doc))
    }

    // ----------------------------------------------------------------- maintenance

    /// `_purge`: removes the given leaf revisions (and ancestors that belong to them only).
    /// Returns, per id, the revisions that were purged.
    pub fn purge(&self, req: &Map<String, Value>) -> Result<(u64, Map<String, Value>)> {
        let (out, purge_seq, seq) = self.store.write(|w| {
            let mut c = Counters {
                seq: w.meta_u64("update_seq")?,
                docs: 0,
                dels: 0,
                active: 0,
            };
            let mut out = Map::new();
            for (id, revs) in req {
                let revs = revs
                    .as_array()
                    .ok_or_else(|| Error::BadRequest("revs must be an array".into()))?;
                let mut purged = vec![];
                let Some(old) = self.load(w, id)? else {
                    out.insert(id.clone(), json!([]));
                    continue;
                };
                let mut rec = old.clone();
                for v in revs {
                    let rev = Rev::parse(
                        v.as_str()
                            .ok_or_else(|| Error::BadRequest("Invalid rev format".into()))?,
                    )?;
                    let Some(i) = rec.tree.find_rev(&rev) else {
                        continue;
                    };
                    if !rec.tree.is_leaf(i) {
                        continue;
                    }
                    remove_branch(w, id, &mut rec.tree, i)?;
                    purged.push(Value::String(rev.to_string()));
                }
                if !purged.is_empty() {
                    w.del(T::Seqs, &seq_key(old.seq))?;
                    c.active -= leaf_size(&old.tree) as i64;
                    if old.winner_deleted() {
                        c.dels -= 1;
                    } else {
                        c.docs -= 1;
                    }
                    if rec.tree.nodes.is_empty() {
                        w.del(T::Docs, id.as_bytes())?;
                    } else {
                        c.seq += 1;
                        self.finish_write_purged(w, id, rec, &mut c)?;
                    }
                }
                out.insert(id.clone(), Value::Array(purged));
            }
            let purge_seq = w.meta_u64("purge_seq")? + 1;
            w.set_meta_u64("purge_seq", purge_seq)?;
            w.set_meta_u64("update_seq", c.seq)?;
            add_meta(w, "doc_count", c.docs)?;
            add_meta(w, "doc_del_count", c.dels)?;
            add_meta(w, "active_size", c.active)?;
            Ok((out, purge_seq, c.seq))
        })?;
        self.seq_tx.send_replace(seq);
        Ok((purge_seq, out))
    }

    fn finish_write_purged(
        &self,
        w: &mut Writer<'_>,
        id: &str,
        mut rec: DocRecord,
        c: &mut Counters,
    ) -> Result<()> {
        rec.seq = c.seq;
        w.put(T::Seqs, &seq_key(c.seq), id.as_bytes())?;
        if rec.winner_deleted() {
            c.dels += 1;
        } else {
            c.docs += 1;
        }
        c.active += leaf_size(&rec.tree) as i64;
        w.put(T::Docs, id.as_bytes(), &encode_record(&rec))
    }

    /// Compaction: drops the bodies of non-leaf revisions, unreferenced attachment data, and
    /// rewrites the file to reclaim space.
    pub fn compact(&self) -> Result<()> {
        self.store.write(|w| {
            w.clear(T::Revs)?;
            let mut live = HashSet::new();
            w.scan(T::Docs, None, None, false, false, |_, v| {
                let rec = decode_record(v)?;
                for n in &rec.tree.nodes {
                    if let BodyState::Inline(b) = &n.body {
                        for a in &b.atts {
                            live.insert(a.digest.clone());
                        }
                    }
                }
                Ok(true)
            })?;
            let mut dead = vec![];
            w.scan(T::Atts, None, None, false, false, |k, _| {
                if !live.contains(std::str::from_utf8(k).unwrap_or_default()) {
                    dead.push(k.to_vec());
                }
                Ok(true)
            })?;
            for k in dead {
                w.del(T::Atts, &k)?;
            }
            Ok(())
        })?;
        self.store.compact_file()
    }

    /// Flushes nothing: every write is already durable when acknowledged.
    pub fn ensure_full_commit(&self) {}
}

fn add_meta(w: &mut Writer<'_>, key: &str, delta: i64) -> Result<()> {
    if delta == 0 {
        return Ok(());
    }
    let v = w.meta_u64(key)? as i64 + delta;
    w.set_meta_u64(key, v.max(0) as u64)
}

fn leaf_size(tree: &RevTree) -> u64 {
    tree.nodes
        .iter()
        .map(|n| match &n.body {
            BodyState::Inline(b) => {
                b.json.len() as u64 + b.atts.iter().map(|a| a.length).sum::<u64>()
            }
            _ => 0,
        })
        .sum()
}

fn store_att(w: &mut Writer<'_>, digest: &str, data: &[u8]) -> Result<()> {
    if !w.contains(T::Atts, digest.as_bytes())? {
        w.put(T::Atts, digest.as_bytes(), data)?;
    }
    Ok(())
}

/// Finds the metadata of a stub attachment in the revisions of the path (replicated writes).
fn find_stub(
    w: &Writer<'_>,
    id: &str,
    rec: Option<&DocRecord>,
    path: &[Rev],
    name: &str,
    digest: Option<&str>,
    revpos: Option<u64>,
) -> Result<Option<AttMeta>> {
    let Some(rec) = rec else { return Ok(None) };
    let matches = |a: &AttMeta| {
        a.name == name
            && digest.is_none_or(|d| d == a.digest)
            && revpos.is_none_or(|p| p == a.revpos)
    };
    // Prefer revisions of this path, then any revision of the document.
    let mut order: Vec<usize> = path
        .iter()
        .rev()
        .filter_map(|r| rec.tree.find_rev(r))
        .collect();
    order.extend(0..rec.tree.nodes.len());
    for i in order {
        let body = match &rec.tree.nodes[i].body {
            BodyState::Inline(b) => Some(b.clone()),
            BodyState::Archived => w
                .get(T::Revs, &revs_key(id, &rec.tree.nodes[i].rev()))?
                .map(|b| codec::decode_body(&b))
                .transpose()?,
            BodyState::Missing => None,
        };
        if let Some(m) = body.and_then(|b| b.atts.into_iter().find(|a| matches(a))) {
            return Ok(Some(m));
        }
    }
    Ok(None)
}

fn remove_branch(w: &mut Writer<'_>, id: &str, tree: &mut RevTree, leaf: usize) -> Result<()> {
    // Remove the leaf, then any ancestor that became a leaf because of it.
    let mut cur = Some(leaf);
    let mut doomed = HashSet::new();
    while let Some(i) = cur {
        let has_other_child = tree
            .nodes
            .iter()
            .enumerate()
            .any(|(j, n)| n.parent == Some(i as u32) && !doomed.contains(&j));
        if has_other_child {
            break;
        }
        doomed.insert(i);
        cur = tree.nodes[i].parent.map(|p| p as usize);
    }
    let mut remap = vec![u32::MAX; tree.nodes.len()];
    let mut next = 0u32;
    for (i, slot) in remap.iter_mut().enumerate() {
        if !doomed.contains(&i) {
            *slot = next;
            next += 1;
        }
    }
    let old = std::mem::take(&mut tree.nodes);
    for (i, mut n) in old.into_iter().enumerate() {
        if doomed.contains(&i) {
            if n.body == BodyState::Archived {
                w.del(T::Revs, &revs_key(id, &n.rev()))?;
            }
            continue;
        }
        n.parent = n
            .parent
            .and_then(|p| (remap[p as usize] != u32::MAX).then_some(remap[p as usize]));
        tree.nodes.push(n);
    }
    // A parent that became a leaf again needs its body back inline.
    let flags = tree.leaf_flags();
    for (i, leaf) in flags.iter().enumerate() {
        if *leaf && tree.nodes[i].body == BodyState::Archived {
            let key = revs_key(id, &tree.nodes[i].rev());
            if let Some(b) = w.get(T::Revs, &key)? {
                tree.nodes[i].body = BodyState::Inline(codec::decode_body(&b)?);
                w.del(T::Revs, &key)?;
            } else {
                tree.nodes[i].body = BodyState::Missing;
            }
        }
    }
    Ok(())
}

fn put_local(w: &mut Writer<'_>, doc: DocIn) -> Result<String> {
    let current = w.get(T::Local, doc.id.as_bytes())?;
    let cur_n = match &current {
        Some(raw) => {
            let v: Value =
                serde_json::from_slice(raw).map_err(|e| Error::Corrupt(e.to_string()))?;
            let r = v
                .get("_rev")
                .and_then(Value::as_str)
                .unwrap_or("0-0")
                .to_string();
            if doc.local_rev.as_deref() != Some(r.as_str()) {
                return Err(Error::Conflict);
            }
            r.strip_prefix("0-")
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0)
        }
        None => {
            if doc.deleted {
                return Err(Error::missing());
            }
            0
        }
    };
    if doc.deleted {
        w.del(T::Local, doc.id.as_bytes())?;
        return Ok("0-0".into());
    }
    let rev = format!("0-{}", cur_n + 1);
    let mut out: Map<String, Value> = Map::new();
    out.insert("_id".into(), Value::String(doc.id.clone()));
    out.insert("_rev".into(), Value::String(rev.clone()));
    if let Value::Object(body) = serde_json::from_str(&doc.json).unwrap_or(Value::Null) {
        out.extend(body);
    }
    w.put(
        T::Local,
        doc.id.as_bytes(),
        &serde_json::to_vec(&out).expect("JSON serializes"),
    )?;
    Ok(rev)
}

/// Read access from either a write or a read transaction.
enum WOrR<'a, 'w> {
    W(&'a Writer<'w>),
    R(&'a Reader),
}

impl WOrR<'_, '_> {
    fn get(&self, t: T, k: &[u8]) -> Result<Option<Vec<u8>>> {
        match self {
            WOrR::W(w) => w.get(t, k),
            WOrR::R(r) => r.get(t, k),
        }
    }
}

fn node_body(r: &WOrR<'_, '_>, id: &str, tree: &RevTree, i: usize) -> Result<Option<Body>> {
    Ok(match &tree.nodes[i].body {
        BodyState::Inline(b) => Some(b.clone()),
        BodyState::Archived => r
            .get(T::Revs, &revs_key(id, &tree.nodes[i].rev()))?
            .map(|b| codec::decode_body(&b))
            .transpose()?,
        BodyState::Missing => None,
    })
}

/// Renders revision `i` as CouchDB shows a document: `_id`, `_rev`, body members,
/// `_attachments`, `_deleted`, then the requested meta members.
fn render(
    r: &WOrR<'_, '_>,
    id: &str,
    tree: &RevTree,
    i: usize,
    opts: &ReadOptions,
) -> Result<Value> {
    let node = &tree.nodes[i];
    let body = node_body(r, id, tree, i)?.ok_or_else(Error::missing)?;
    let mut out = Map::new();
    out.insert("_id".into(), Value::String(id.to_string()));
    out.insert("_rev".into(), Value::String(node.rev().to_string()));
    if let Value::Object(m) = serde_json::from_str(&body.json)
        .map_err(|e| Error::Corrupt(format!("body of {id}: {e}")))?
    {
        out.extend(m);
    }
    if node.deleted {
        out.insert("_deleted".into(), Value::Bool(true));
    }
    if !body.atts.is_empty() {
        let since = if opts.atts_since.is_empty() {
            None
        } else {
            let path = tree.path(i);
            Some(
                opts.atts_since
                    .iter()
                    .filter_map(|r| {
                        tree.find_rev(r)
                            .filter(|j| path.contains(j))
                            .map(|j| tree.nodes[j].pos)
                    })
                    .max()
                    .unwrap_or(0),
            )
        };
        let mut atts = Map::new();
        for a in &body.atts {
            let inline = match since {
                Some(p) => a.revpos > p,
                None => opts.attachments,
            };
            let mut m = Map::new();
            m.insert("content_type".into(), json!(a.content_type));
            m.insert("revpos".into(), json!(a.revpos));
            m.insert("digest".into(), json!(a.digest));
            if inline {
                let data = r.get(T::Atts, a.digest.as_bytes())?.ok_or_else(|| {
                    Error::Corrupt(format!("attachment {} of {id} has no stored data", a.name))
                })?;
                m.insert(
                    "data".into(),
                    json!(base64::engine::general_purpose::STANDARD.encode(data)),
                );
            } else {
                m.insert("length".into(), json!(a.length));
                m.insert("stub".into(), Value::Bool(true));
            }
            atts.insert(a.name.clone(), Value::Object(m));
        }
        out.insert("_attachments".into(), Value::Object(atts));
    }
    if opts.local_seq {
        out.insert("_local_seq".into(), json!(node.seq));
    }
    if opts.conflicts || opts.deleted_conflicts {
        let win = tree.winner();
        let others: Vec<usize> = tree.leaves().into_iter().filter(|&l| l != win).collect();
        if opts.conflicts {
            let c: Vec<Value> = others
                .iter()
                .filter(|&&l| !tree.nodes[l].deleted)
                .map(|&l| json!(tree.nodes[l].rev().to_string()))
                .collect();
            if !c.is_empty() && i == win {
                out.insert("_conflicts".into(), Value::Array(c));
            }
        }
        if opts.deleted_conflicts {
            let c: Vec<Value> = others
                .iter()
                .filter(|&&l| tree.nodes[l].deleted)
                .map(|&l| json!(tree.nodes[l].rev().to_string()))
                .collect();
            if !c.is_empty() && i == win {
                out.insert("_deleted_conflicts".into(), Value::Array(c));
            }
        }
    }
    if opts.revs_info {
        let mut info = vec![];
        for j in tree.path(i) {
            let n = &tree.nodes[j];
            let status = if n.deleted {
                "deleted"
            } else {
                match &n.body {
                    BodyState::Inline(_) => "available",
                    BodyState::Archived if r.get(T::Revs, &revs_key(id, &n.rev()))?.is_some() => {
                        "available"
                    }
                    _ => "missing",
                }
            };
            info.push(json!({"rev": n.rev().to_string(), "status": status}));
        }
        out.insert("_revs_info".into(), Value::Array(info));
    }
    if opts.revs {
        let (start, ids) = tree.revisions(i, None);
        out.insert("_revisions".into(), json!({"start": start, "ids": ids}));
    }
    Ok(Value::Object(out))
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
