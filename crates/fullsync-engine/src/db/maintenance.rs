//! Maintenance: purge, compaction, full commit.

use std::collections::HashSet;

use serde_json::{json, Map, Value};

use super::write::*;
use super::*;
use crate::codec::{decode_record, encode_record, DocRecord};
use crate::error::{Error, Result};
use crate::rev::Rev;
use crate::store::{Writer, T};
use crate::tree::BodyState;

impl Database {
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

    pub(super) fn finish_write_purged(
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
