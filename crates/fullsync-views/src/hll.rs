//! The sketch behind `_approx_count_distinct`: a HyperLogLog of the keys' collation sort keys,
//! mergeable, so a node of the reduction tree ([`crate::rtree`]) keeps one and a range query
//! merges O(log n) of them, as CouchDB keeps one per B-tree node.
//!
//! Up to [`EXACT_MAX`] distinct keys the sketch is the set of their 64-bit hashes (*sparse*),
//! so the count is exact (barring a 64-bit hash collision); above that it becomes a dense
//! HyperLogLog of 2^[`P`] one-byte registers: a standard error of 1.04 / sqrt(2^P) (1.6%),
//! with linear counting for the small range. Merging is a set union (sparse) or a register
//! maximum (dense), so a sketch does not depend on how its keys were split into nodes: a range
//! answers the same count whichever nodes it is read from.

use std::collections::BTreeSet;

use base64::Engine as _;
use serde_json::Value;

/// Register index bits: 4,096 registers.
pub const P: u32 = 12;

/// Registers of a dense sketch.
const M: usize = 1 << P;

/// Distinct keys counted exactly (the sparse form: 8 bytes per key, 4 kB at most, the size of
/// the dense registers).
pub const EXACT_MAX: usize = 512;

/// A HyperLogLog sketch of a set of keys.
#[derive(Debug, Clone, PartialEq)]
pub enum Sketch {
    /// The hashes of the keys (at most [`EXACT_MAX`]).
    Sparse(BTreeSet<u64>),
    /// The registers: per bucket, the highest rank seen.
    Dense(Vec<u8>),
}

impl Default for Sketch {
    fn default() -> Self {
        Sketch::Sparse(BTreeSet::new())
    }
}

/// A 64-bit hash of a key's sort key (FNV-1a, then the SplitMix64 finalizer). Stored in index
/// files: never change it without changing `INDEX_FORMAT`.
pub fn hash(sort_key: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in sort_key {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

fn set_register(regs: &mut [u8], h: u64) {
    let bucket = (h >> (64 - P)) as usize;
    // Rank: position of the first 1 bit in the remaining 64 - P bits (1-based).
    let rest = h << P;
    let rank = (rest.leading_zeros().min(64 - P) + 1) as u8;
    if regs[bucket] < rank {
        regs[bucket] = rank;
    }
}

impl Sketch {
    /// The sketch of these sort keys.
    pub fn of<'a>(sort_keys: impl IntoIterator<Item = &'a [u8]>) -> Sketch {
        let mut s = Sketch::default();
        for k in sort_keys {
            s.insert(hash(k));
        }
        s
    }

    /// Adds a key by its [`hash`].
    pub fn insert(&mut self, h: u64) {
        match self {
            Sketch::Sparse(set) => {
                set.insert(h);
                if set.len() > EXACT_MAX {
                    self.densify();
                }
            }
            Sketch::Dense(regs) => set_register(regs, h),
        }
    }

    fn densify(&mut self) {
        if let Sketch::Sparse(set) = self {
            let mut regs = vec![0u8; M];
            for h in set.iter() {
                set_register(&mut regs, *h);
            }
            *self = Sketch::Dense(regs);
        }
    }

    /// Adds every key of `other` (a union).
    pub fn merge(&mut self, other: &Sketch) {
        match other {
            Sketch::Sparse(set) => set.iter().for_each(|h| self.insert(*h)),
            Sketch::Dense(theirs) => {
                self.densify();
                if let Sketch::Dense(regs) = self {
                    for (r, t) in regs.iter_mut().zip(theirs) {
                        *r = (*r).max(*t);
                    }
                }
            }
        }
    }

    /// The number of distinct keys: exact for a sparse sketch, estimated for a dense one.
    pub fn count(&self) -> u64 {
        match self {
            Sketch::Sparse(set) => set.len() as u64,
            Sketch::Dense(regs) => {
                let m = M as f64;
                let alpha = 0.7213 / (1.0 + 1.079 / m);
                let sum: f64 = regs.iter().map(|r| 2f64.powi(-(*r as i32))).sum();
                let raw = alpha * m * m / sum;
                let zeros = regs.iter().filter(|r| **r == 0).count();
                let est = if raw <= 2.5 * m && zeros > 0 {
                    m * (m / zeros as f64).ln()
                } else {
                    raw
                };
                // Never below what a sparse sketch could hold: it became dense above that.
                (est.round() as u64).max(EXACT_MAX as u64 + 1)
            }
        }
    }

    /// The sketch as a JSON string (how the reduction tree stores it): base64 of a tag byte
    /// (0 sparse, 1 dense) and the hashes (8 bytes each, big-endian) or the registers.
    pub fn to_json(&self) -> Value {
        let mut b = vec![];
        match self {
            Sketch::Sparse(set) => {
                b.reserve(1 + set.len() * 8);
                b.push(0);
                set.iter()
                    .for_each(|h| b.extend_from_slice(&h.to_be_bytes()));
            }
            Sketch::Dense(regs) => {
                b.push(1);
                b.extend_from_slice(regs);
            }
        }
        Value::String(base64::engine::general_purpose::STANDARD_NO_PAD.encode(b))
    }

    /// Reads a sketch written by [`Sketch::to_json`]; `None` when it is not one.
    pub fn from_json(v: &Value) -> Option<Sketch> {
        let b = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(v.as_str()?)
            .ok()?;
        match b.split_first()? {
            (0, rest) if rest.len() % 8 == 0 && rest.len() / 8 <= EXACT_MAX => {
                Some(Sketch::Sparse(
                    rest.chunks_exact(8)
                        .map(|c| u64::from_be_bytes(c.try_into().expect("8 bytes")))
                        .collect(),
                ))
            }
            (1, rest) if rest.len() == M => Some(Sketch::Dense(rest.to_vec())),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(range: std::ops::Range<u64>) -> Vec<Vec<u8>> {
        range.map(|i| format!("key {i}").into_bytes()).collect()
    }

    #[test]
    fn exact_up_to_the_sparse_limit() {
        for n in [0, 1, 2, 100, EXACT_MAX as u64] {
            let ks = keys(0..n);
            let mut s = Sketch::of(ks.iter().map(Vec::as_slice));
            // Repeated keys are counted once.
            s.merge(&Sketch::of(ks.iter().take(10).map(Vec::as_slice)));
            assert!(matches!(s, Sketch::Sparse(_)));
            assert_eq!(s.count(), n);
        }
    }

    #[test]
    fn estimates_large_sets_within_the_standard_error() {
        for n in [EXACT_MAX as u64 + 1, 2_000, 20_000, 300_000] {
            let ks = keys(0..n);
            let s = Sketch::of(ks.iter().map(Vec::as_slice));
            assert!(matches!(s, Sketch::Dense(_)));
            let err = (s.count() as f64 - n as f64).abs() / n as f64;
            // 4 standard errors (1.6% each): a deterministic hash, so this cannot flake.
            assert!(err < 0.065, "{n} keys estimated {} ({err})", s.count());
        }
    }

    #[test]
    fn merging_parts_equals_the_sketch_of_the_whole() {
        let ks = keys(0..5_000);
        let whole = Sketch::of(ks.iter().map(Vec::as_slice));
        let mut merged = Sketch::default();
        for chunk in ks.chunks(37) {
            merged.merge(&Sketch::of(chunk.iter().map(Vec::as_slice)));
        }
        assert_eq!(merged, whole);
        let small = Sketch::of(ks[..300].iter().map(Vec::as_slice));
        let mut two = Sketch::of(ks[..200].iter().map(Vec::as_slice));
        two.merge(&Sketch::of(ks[150..300].iter().map(Vec::as_slice)));
        assert_eq!(two, small);
    }

    #[test]
    fn json_round_trip() {
        for n in [0, 3, 700] {
            let ks = keys(0..n);
            let s = Sketch::of(ks.iter().map(Vec::as_slice));
            assert_eq!(Sketch::from_json(&s.to_json()), Some(s));
        }
        assert_eq!(Sketch::from_json(&Value::from(3)), None);
        assert_eq!(Sketch::from_json(&Value::from("AgAA")), None);
    }
}
