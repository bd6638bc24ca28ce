//! Revision ids (`"<generation>-<hash>"`) and the deterministic hash of a new revision.

use std::cmp::Ordering;
use std::fmt;

use md5::{Digest, Md5};

use crate::error::{Error, Result};

/// Largest accepted generation (2^53, the largest integer JavaScript clients represent
/// exactly). Larger ones are rejected as malformed, so `generation + 1` never overflows.
pub const MAX_GENERATION: u64 = 1 << 53;

/// A revision id: generation number and hash, written `"3-a1b2..."`.
///
/// Ordering is CouchDB's: by generation as a number (`10-a` > `9-z`), then by hash in byte order.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Rev {
    /// Generation (1 for a new document, parent + 1 for an edit).
    pub pos: u64,
    /// Hash part. Ours are 32 lowercase hex digits; revisions replicated from other servers may
    /// carry any non-empty string.
    pub hash: String,
}

impl Rev {
    /// Builds a revision from its parts.
    pub fn new(pos: u64, hash: impl Into<String>) -> Self {
        Rev {
            pos,
            hash: hash.into(),
        }
    }

    /// Parses `"N-hash"`. Errors are CouchDB's `400 bad_request` "Invalid rev format".
    pub fn parse(s: &str) -> Result<Rev> {
        let bad = || Error::BadRequest("Invalid rev format".into());
        let (pos, hash) = s.split_once('-').ok_or_else(bad)?;
        if pos.is_empty() || hash.is_empty() || !pos.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let pos: u64 = pos.parse().map_err(|_| bad())?;
        if pos == 0 || pos > MAX_GENERATION {
            return Err(bad());
        }
        Ok(Rev {
            pos,
            hash: hash.to_string(),
        })
    }
}

impl fmt::Display for Rev {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.pos, self.hash)
    }
}

impl PartialOrd for Rev {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Rev {
    fn cmp(&self, other: &Self) -> Ordering {
        self.pos
            .cmp(&other.pos)
            .then_with(|| self.hash.as_bytes().cmp(other.hash.as_bytes()))
    }
}

/// Computes the hash of a new revision made with `new_edits=true`.
///
/// Deterministic: the same edit (same parent, same deletion flag, same body bytes, same
/// attachments) made on two replicas yields the same revision id, so replicating both does not
/// create a spurious conflict. Inputs are length-prefixed so no two different edits share an
/// input.
pub fn new_rev_hash(
    parent: Option<&Rev>,
    deleted: bool,
    body_json: &str,
    atts: &[(&str, &str)],
) -> String {
    let mut h = Md5::new();
    let parent = parent.map(|r| r.to_string()).unwrap_or_default();
    h.update((parent.len() as u64).to_le_bytes());
    h.update(parent.as_bytes());
    h.update([deleted as u8]);
    h.update((body_json.len() as u64).to_le_bytes());
    h.update(body_json.as_bytes());
    for (name, digest) in atts {
        h.update((name.len() as u64).to_le_bytes());
        h.update(name.as_bytes());
        h.update((digest.len() as u64).to_le_bytes());
        h.update(digest.as_bytes());
    }
    hex(&h.finalize())
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(D[(b >> 4) as usize] as char);
        s.push(D[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_order() {
        let a = Rev::parse("10-a").unwrap();
        let b = Rev::parse("9-z").unwrap();
        assert!(a > b);
        assert!(Rev::parse("2-b").unwrap() > Rev::parse("2-a").unwrap());
        assert_eq!(a.to_string(), "10-a");
        for bad in [
            "",
            "1",
            "-a",
            "a-b",
            "0-a",
            "1-",
            "x1-a",
            "1a-b",
            "-1-a",
            "18446744073709551615-x",
            "9007199254740993-x",
        ] {
            assert!(Rev::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn deterministic_hash() {
        let p = Rev::parse("1-abc").unwrap();
        let a = new_rev_hash(Some(&p), false, r#"{"a":1}"#, &[("f", "md5-x")]);
        let b = new_rev_hash(Some(&p), false, r#"{"a":1}"#, &[("f", "md5-x")]);
        assert_eq!(a, b);
        assert_eq!(a.len(), 32);
        assert_ne!(
            a,
            new_rev_hash(Some(&p), true, r#"{"a":1}"#, &[("f", "md5-x")])
        );
        assert_ne!(
            a,
            new_rev_hash(None, false, r#"{"a":1}"#, &[("f", "md5-x")])
        );
        assert_ne!(
            a,
            new_rev_hash(Some(&p), false, r#"{"a":2}"#, &[("f", "md5-x")])
        );
        assert_ne!(a, new_rev_hash(Some(&p), false, r#"{"a":1}"#, &[]));
    }
}
