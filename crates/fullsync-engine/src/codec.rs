//! Binary encoding of document records and archived bodies.
//!
//! A record is the value of the `docs` table:
//!
//! ```text
//! u8      flags          bit 0: the winning revision is deleted (read by counting scans
//!                        without decoding the rest)
//! u8      version        RECORD_VERSION
//! varint  seq            the document's current update sequence
//! varint  n              number of revision nodes, then n times:
//!   varint pos, str hash, varint parent+1 (0 = root), u8 flags (bit0 deleted,
//!   bits 1-2: 0 missing, 1 inline, 2 archived), varint seq, [body if inline]
//! body:   str json, varint natts, natts x (str name, str content_type, str digest,
//!         varint length, varint revpos)
//! str:    varint length + UTF-8 bytes
//! ```
//!
//! Decoding checks every length against the remaining bytes and reports a
//! [`Error::Corrupt`](crate::Error::Corrupt) instead of panicking on damaged data.

use crate::error::{Error, Result};
use crate::tree::{AttMeta, Body, BodyState, RevNode, RevTree};

/// Format version written in every record.
pub const RECORD_VERSION: u8 = 1;

/// A document as stored: its current sequence and its revision tree.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DocRecord {
    /// Sequence of the document's latest change.
    pub seq: u64,
    /// Revision tree, leaf bodies inline.
    pub tree: RevTree,
}

impl DocRecord {
    /// Whether the winning revision is a deletion.
    pub fn winner_deleted(&self) -> bool {
        self.tree.nodes[self.tree.winner()].deleted
    }
}

/// Whether a stored record's winner is deleted, from its first byte only.
pub fn record_deleted(bytes: &[u8]) -> bool {
    bytes.first().is_some_and(|f| f & 1 == 1)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// Encodes a body (also the value of the `revs` table).
pub fn encode_body(out: &mut Vec<u8>, b: &Body) {
    put_str(out, &b.json);
    put_varint(out, b.atts.len() as u64);
    for a in &b.atts {
        put_str(out, &a.name);
        put_str(out, &a.content_type);
        put_str(out, &a.digest);
        put_varint(out, a.length);
        put_varint(out, a.revpos);
    }
}

/// Encodes a record.
pub fn encode_record(rec: &DocRecord) -> Vec<u8> {
    let size: usize = rec
        .tree
        .nodes
        .iter()
        .map(|n| {
            24 + n.hash.len()
                + match &n.body {
                    BodyState::Inline(b) => b.json.len() + b.atts.len() * 96,
                    _ => 0,
                }
        })
        .sum();
    let mut out = Vec::with_capacity(size + 12);
    out.push(rec.winner_deleted() as u8);
    out.push(RECORD_VERSION);
    put_varint(&mut out, rec.seq);
    put_varint(&mut out, rec.tree.nodes.len() as u64);
    for n in &rec.tree.nodes {
        put_varint(&mut out, n.pos);
        put_str(&mut out, &n.hash);
        put_varint(&mut out, n.parent.map(|p| p as u64 + 1).unwrap_or(0));
        let state = match n.body {
            BodyState::Missing => 0u8,
            BodyState::Inline(_) => 1,
            BodyState::Archived => 2,
        };
        out.push(n.deleted as u8 | (state << 1));
        put_varint(&mut out, n.seq);
        if let BodyState::Inline(b) = &n.body {
            encode_body(&mut out, b);
        }
    }
    out
}

/// A bounds-checked reader over encoded bytes.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Reads from the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    fn corrupt(&self, what: &str) -> Error {
        Error::Corrupt(format!("{what} at byte {}", self.pos))
    }

    fn u8(&mut self) -> Result<u8> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| self.corrupt("truncated"))?;
        self.pos += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        let mut shift = 0;
        loop {
            let b = self.u8()?;
            if shift > 63 {
                return Err(self.corrupt("varint too long"));
            }
            v |= ((b & 0x7f) as u64) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
            shift += 7;
        }
    }

    fn str(&mut self) -> Result<String> {
        let len = self.varint()? as usize;
        let end = self.pos.checked_add(len).filter(|&e| e <= self.buf.len());
        let end = end.ok_or_else(|| self.corrupt("string past end"))?;
        let s = std::str::from_utf8(&self.buf[self.pos..end])
            .map_err(|_| self.corrupt("invalid UTF-8"))?;
        self.pos = end;
        Ok(s.to_string())
    }

    /// Reads a body.
    pub fn body(&mut self) -> Result<Body> {
        let json = self.str()?;
        let n = self.varint()? as usize;
        if n > self.buf.len() {
            return Err(self.corrupt("attachment count"));
        }
        let mut atts = Vec::with_capacity(n);
        for _ in 0..n {
            atts.push(AttMeta {
                name: self.str()?,
                content_type: self.str()?,
                digest: self.str()?,
                length: self.varint()?,
                revpos: self.varint()?,
            });
        }
        Ok(Body { json, atts })
    }
}

/// Decodes a record written by [`encode_record`].
pub fn decode_record(bytes: &[u8]) -> Result<DocRecord> {
    let mut r = Reader::new(bytes);
    let _flags = r.u8()?;
    let version = r.u8()?;
    if version != RECORD_VERSION {
        return Err(Error::Corrupt(format!("unknown record version {version}")));
    }
    let seq = r.varint()?;
    let n = r.varint()? as usize;
    if n == 0 || n > bytes.len() {
        return Err(Error::Corrupt(format!("bad revision count {n}")));
    }
    let mut nodes = Vec::with_capacity(n);
    for _ in 0..n {
        let pos = r.varint()?;
        let hash = r.str()?;
        let parent = match r.varint()? {
            0 => None,
            p if (p as usize) <= n && p - 1 != nodes.len() as u64 => Some((p - 1) as u32),
            _ => return Err(Error::Corrupt("parent index out of range".into())),
        };
        let flags = r.u8()?;
        let seq = r.varint()?;
        let body = match flags >> 1 {
            0 => BodyState::Missing,
            1 => BodyState::Inline(r.body()?),
            2 => BodyState::Archived,
            _ => return Err(Error::Corrupt("bad body state".into())),
        };
        nodes.push(RevNode {
            pos,
            hash,
            parent,
            deleted: flags & 1 == 1,
            seq,
            body,
        });
    }
    if r.pos != bytes.len() {
        return Err(Error::Corrupt("trailing bytes in record".into()));
    }
    // A parent is exactly one generation older: this also rules out cycles.
    for n in &nodes {
        if let Some(p) = n.parent {
            if nodes[p as usize].pos.checked_add(1) != Some(n.pos) {
                return Err(Error::Corrupt("parent generation mismatch".into()));
            }
        }
    }
    Ok(DocRecord {
        seq,
        tree: RevTree { nodes },
    })
}

/// Decodes a body written by [`encode_body`].
pub fn decode_body(bytes: &[u8]) -> Result<Body> {
    Reader::new(bytes).body()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rev::Rev;

    #[test]
    fn roundtrip_and_truncation() {
        let mut t = RevTree::default();
        let body = Body {
            json: r#"{"a":"é"}"#.into(),
            atts: vec![AttMeta {
                name: "f.txt".into(),
                content_type: "text/plain".into(),
                digest: "md5-abc".into(),
                length: 3,
                revpos: 1,
            }],
        };
        let (a, _) = t.add_child(None, Rev::parse("1-a").unwrap(), false, 1, body.clone());
        t.add_child(
            Some(a),
            Rev::parse("2-b").unwrap(),
            true,
            2,
            Body::default(),
        );
        let rec = DocRecord { seq: 2, tree: t };
        let bytes = encode_record(&rec);
        assert!(record_deleted(&bytes));
        assert_eq!(decode_record(&bytes).unwrap(), rec);
        for cut in 0..bytes.len() {
            assert!(decode_record(&bytes[..cut]).is_err());
        }
    }
}
