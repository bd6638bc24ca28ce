//! `_local` documents: never replicated, no revision tree (checkpoints, client state).

use serde_json::{Map, Value};

use super::*;
use crate::doc::DocIn;
use crate::error::{Error, Result};
use crate::store::{Writer, T};

impl Database {
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
}

pub(super) fn put_local(w: &mut Writer<'_>, doc: DocIn) -> Result<String> {
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
