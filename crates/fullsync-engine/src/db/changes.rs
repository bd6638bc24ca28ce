//! The `_changes` feed of a database.

use serde_json::{json, Map, Value};

use super::read::*;
use super::*;
use crate::codec::decode_record;
use crate::error::{Error, Result};
use crate::store::T;

impl Database {
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
}
