//! Writes: `_bulk_docs` with and without `new_edits` (interactive edits and replicated
//! revisions), validators, attachments of a write.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::*;
use super::{local::*, read::*};
use crate::codec::{self, decode_record, encode_record, DocRecord};
use crate::doc::{AttIn, DocIn};
use crate::error::{Error, Result};
use crate::rev::{new_rev_hash, Rev};
use crate::store::{Writer, T};
use crate::tree::{AttMeta, Body, BodyState, RevTree};

impl Database {
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

    pub(super) fn load(&self, w: &Writer<'_>, id: &str) -> Result<Option<DocRecord>> {
        w.get(T::Docs, id.as_bytes())?
            .map(|b| decode_record(&b))
            .transpose()
    }

    pub(super) fn run_validators(
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

    pub(super) fn apply_edit(
        &self,
        w: &mut Writer<'_>,
        doc: DocIn,
        c: &mut Counters,
        limit: u64,
        validators: &[Arc<dyn WriteValidator>],
        user: &UserCtx,
    ) -> Result<String> {
        let existing = self.load(w, &doc.id)?;
        let parent = edit_parent(existing.as_ref(), doc.rev.as_ref())?;
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
        let atts = edit_attachments(w, &doc.id, doc.atts, parent_body.as_ref(), new_pos)?;
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

    pub(super) fn apply_replicated(
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
        let atts = replicated_attachments(w, &doc.id, doc.atts, existing.as_ref(), &path, &rev)?;
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
    pub(super) fn finish_write(
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
}

pub(super) fn add_meta(w: &mut Writer<'_>, key: &str, delta: i64) -> Result<()> {
    if delta == 0 {
        return Ok(());
    }
    let v = w.meta_u64(key)? as i64 + delta;
    w.set_meta_u64(key, v.max(0) as u64)
}

pub(super) fn leaf_size(tree: &RevTree) -> u64 {
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

pub(super) fn store_att(w: &mut Writer<'_>, digest: &str, data: &[u8]) -> Result<()> {
    if !w.contains(T::Atts, digest.as_bytes())? {
        w.put(T::Atts, digest.as_bytes(), data)?;
    }
    Ok(())
}

/// Finds the metadata of a stub attachment in the revisions of the path (replicated writes).
pub(super) fn find_stub(
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

pub(super) fn remove_branch(
    w: &mut Writer<'_>,
    id: &str,
    tree: &mut RevTree,
    leaf: usize,
) -> Result<()> {
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

/// The leaf an interactive edit with `rev` continues (`None`: a new document, or one that was
/// deleted); a conflict when `rev` is not a leaf, or is missing for a live document.
fn edit_parent(existing: Option<&DocRecord>, rev: Option<&Rev>) -> Result<Option<usize>> {
    Ok(match (existing, rev) {
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
    })
}

/// The attachments of a new revision at `new_pos`: stubs taken from the parent's body, data
/// stored.
fn edit_attachments(
    w: &mut Writer<'_>,
    id: &str,
    atts_in: Vec<AttIn>,
    parent_body: Option<&Body>,
    new_pos: u64,
) -> Result<Vec<AttMeta>> {
    let mut atts = Vec::with_capacity(atts_in.len());
    for a in atts_in {
        match a {
            AttIn::Stub { name, .. } => {
                let found = parent_body.and_then(|b| b.atts.iter().find(|m| m.name == name));
                match found {
                    Some(m) => atts.push(m.clone()),
                    None => {
                        return Err(Error::MissingStub(format!(
                            "Invalid attachment stub in {} for {name}",
                            id
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
    Ok(atts)
}

/// The attachments of a replicated revision `rev` (with ancestry `path`): stubs found in the
/// stored revisions of `existing` (or by digest when the bytes are stored), data stored.
fn replicated_attachments(
    w: &mut Writer<'_>,
    id: &str,
    atts_in: Vec<AttIn>,
    existing: Option<&DocRecord>,
    path: &[Rev],
    rev: &Rev,
) -> Result<Vec<AttMeta>> {
    let mut atts = Vec::with_capacity(atts_in.len());
    for a in atts_in {
        match a {
            AttIn::Stub {
                name,
                digest,
                revpos,
                content_type,
                length,
            } => {
                let meta = find_stub(w, id, existing, path, &name, digest.as_deref(), revpos)?;
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
                                id
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
    Ok(atts)
}
