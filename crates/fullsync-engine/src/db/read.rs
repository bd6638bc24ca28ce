//! Reads: one document (revisions, `open_revs`, attachments), `_revs_diff`, `_all_docs`, and
//! the rendering of a stored revision as CouchDB answers it.

use std::collections::HashSet;

use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::*;
use crate::codec::{self, decode_record, record_deleted, DocRecord};
use crate::error::{Error, Result};
use crate::rev::Rev;
use crate::store::{Reader, Writer, T};
use crate::tree::{AttMeta, Body, BodyState, RevTree};

impl Database {
    /// Every design document of the database with its body, in id order: what views, Mango
    /// and validators load (`_all_docs` from `_design/` to `_design0`).
    pub fn design_docs(&self) -> Result<Vec<Value>> {
        let (_, _, rows) = self.all_docs(&AllDocsOptions {
            start: Some("_design/".into()),
            end: Some("_design0".into()),
            inclusive_end: false,
            include_docs: true,
            ..Default::default()
        })?;
        Ok(rows.into_iter().map(|mut r| r["doc"].take()).collect())
    }

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

    /// `_all_docs`. Returns `(total_rows, offset, rows)`.
    pub fn all_docs(&self, opts: &AllDocsOptions) -> Result<(u64, u64, Vec<Value>)> {
        self.store.read(|r| {
            let total = r.meta_u64("doc_count")?;
            let dopts = ReadOptions {
                conflicts: opts.conflicts,
                attachments: opts.attachments,
                ..Default::default()
            };
            if let Some(keys) = &opts.keys {
                return Ok((total, 0, all_docs_keys(r, keys, opts, &dopts)?));
            }
            let (offset, rows) = all_docs_range(r, opts, &dopts)?;
            Ok((total, offset, rows))
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
}

/// Read access from either a write or a read transaction.
pub(super) enum WOrR<'a, 'w> {
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

pub(super) fn node_body(
    r: &WOrR<'_, '_>,
    id: &str,
    tree: &RevTree,
    i: usize,
) -> Result<Option<Body>> {
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
pub(super) fn render(
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
        let atts = render_attachments(r, id, tree, i, &body.atts, opts)?;
        out.insert("_attachments".into(), atts);
    }
    if opts.local_seq {
        out.insert("_local_seq".into(), json!(node.seq));
    }
    if opts.conflicts || opts.deleted_conflicts {
        add_conflicts(&mut out, tree, i, opts);
    }
    if opts.revs_info {
        out.insert("_revs_info".into(), revs_info(r, id, tree, i)?);
    }
    if opts.revs {
        let (start, ids) = tree.revisions(i, None);
        out.insert("_revisions".into(), json!({"start": start, "ids": ids}));
    }
    Ok(Value::Object(out))
}

/// The `_attachments` of revision `i`: stubs, or data for those asked (`attachments`, or
/// newer than `atts_since`).
fn render_attachments(
    r: &WOrR<'_, '_>,
    id: &str,
    tree: &RevTree,
    i: usize,
    body_atts: &[AttMeta],
    opts: &ReadOptions,
) -> Result<Value> {
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
    for a in body_atts {
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
    Ok(Value::Object(atts))
}

/// `_conflicts` / `_deleted_conflicts` of the winning revision `i`.
fn add_conflicts(out: &mut Map<String, Value>, tree: &RevTree, i: usize, opts: &ReadOptions) {
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

/// `_revs_info` of revision `i`: each ancestor's availability.
fn revs_info(r: &WOrR<'_, '_>, id: &str, tree: &RevTree, i: usize) -> Result<Value> {
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
    Ok(Value::Array(info))
}

/// `_all_docs` rows for `keys` (in their order, reversed when descending): one row per key,
/// `not_found` for an unknown id, deleted documents marked so.
fn all_docs_keys(
    r: &Reader,
    keys: &[Value],
    opts: &AllDocsOptions,
    dopts: &ReadOptions,
) -> Result<Vec<Value>> {
    let mut rows = vec![];
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
            let mut row = json!({"id": id, "key": id, "value": {"rev": rev, "deleted": true}});
            if opts.include_docs {
                row["doc"] = Value::Null;
            }
            rows.push(row);
        } else {
            let mut row = json!({"id": id, "key": id, "value": {"rev": rev}});
            if opts.include_docs {
                row["doc"] = render(&WOrR::R(r), id, &rec.tree, win, dopts)?;
            }
            rows.push(row);
        }
    }
    Ok(rows)
}

/// `_all_docs` rows of the id range of `opts` (live documents only), and the offset of the
/// first row.
fn all_docs_range(
    r: &Reader,
    opts: &AllDocsOptions,
    dopts: &ReadOptions,
) -> Result<(u64, Vec<Value>)> {
    let mut rows = vec![];
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
            let id = std::str::from_utf8(k).map_err(|_| Error::Corrupt("doc key".into()))?;
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
                    render(&WOrR::R(r), id, &rec.tree, win, dopts)?,
                );
            }
            rows.push(Value::Object(row));
            Ok(true)
        },
    )?;
    Ok((offset + skipped as u64, rows))
}
