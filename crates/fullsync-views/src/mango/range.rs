//! The part of a JSON index a selector needs: the key ranges `_find` scans.
//!
//! Index rows are keyed by `[view 0] ++ sort_key([v1, .., vn]) ++ doc id ...` where `vi` is the
//! value of the i-th indexed field (see [`crate::index::row_key`]). The array's sort key is
//! `T_ARR ++ enc(v1) ++ .. ++ enc(vn) ++ END`, and each `enc(v)` is prefix-free (self-delimiting),
//! so the rows whose first `k` fields equal `v1..vk` are exactly the rows whose key starts with
//! `[0, T_ARR] ++ enc(v1) ++ .. ++ enc(vk)`, and comparing encodings compares values in
//! CouchDB's collation order. A range is therefore:
//!
//! - a prefix fixed by the leading indexed fields the selector sets with `$eq` (through `$and`);
//! - on the next field, the tightest bounds of its `$gt`/`$gte`/`$lt`/`$lte` conditions, or one
//!   point range per value of an `$in`;
//! - `succ(p)` (the smallest byte string above every string that starts with `p`) closes a
//!   prefix: `$gt v` starts at `succ(enc(v))`, `$lte v` ends before `succ(enc(v))`.
//!
//! The ranges only narrow what is read: every document read is still matched against the whole
//! selector, so a range must contain every matching row, never only them. Conditions under
//! `$or`, `$not` or `$nor` do not narrow the range.

use serde_json::{json, Value};

use super::plan::Norm;
use crate::collate;

/// Byte ranges of index rows (`[low, high)`, disjoint, in index order) and their description
/// for `_explain`.
#[derive(Debug)]
pub(crate) struct KeyRange {
    /// `[low, high)` byte ranges of row keys.
    pub(crate) ranges: Vec<(Vec<u8>, Vec<u8>)>,
    /// CouchDB's description: `start_key`, `end_key` (JSON keys, `"<MAX>"` for an open end),
    /// and whether each end is inclusive.
    pub(crate) explain: Value,
}

/// The smallest byte string greater than every string starting with `p`.
pub fn succ(p: &[u8]) -> Vec<u8> {
    let mut s = p.to_vec();
    while let Some(last) = s.pop() {
        if last < 0xFF {
            s.push(last + 1);
            return s;
        }
    }
    vec![0xFF; p.len() + 1]
}

fn enc(v: &Value) -> Vec<u8> {
    collate::sort_key(v)
}

/// The conditions `(op, argument)` the selector puts on `field` through `$and`.
fn conditions<'a>(n: &'a Norm, field: &str, out: &mut Vec<(&'a str, &'a Value)>) {
    match n {
        Norm::And(c) => c.iter().for_each(|x| conditions(x, field, out)),
        Norm::Cond { field: f, op, arg } if f == field => out.push((op.as_str(), arg)),
        _ => {}
    }
}

/// Bounds on one field's encoding: `low` included, `high` excluded (`None` = open).
#[derive(Default)]
struct Bounds<'a> {
    low: Option<(Vec<u8>, &'a Value, bool)>,
    high: Option<(Vec<u8>, &'a Value, bool)>,
}

impl<'a> Bounds<'a> {
    fn add(&mut self, op: &str, v: &'a Value) {
        let (low, high) = match op {
            "$gt" => (Some((succ(&enc(v)), v, false)), None),
            "$gte" => (Some((enc(v), v, true)), None),
            "$lt" => (None, Some((enc(v), v, false))),
            "$lte" => (None, Some((succ(&enc(v)), v, true))),
            _ => (None, None),
        };
        if let Some(l) = low {
            if self.low.as_ref().is_none_or(|c| l.0 > c.0) {
                self.low = Some(l);
            }
        }
        if let Some(h) = high {
            if self.high.as_ref().is_none_or(|c| h.0 < c.0) {
                self.high = Some(h);
            }
        }
    }
}

/// The key ranges of a JSON index on `fields` that hold every row `sel` can match (`sel`
/// normalized without pushing negations down).
pub(crate) fn key_range(fields: &[String], sel: &Norm) -> KeyRange {
    let arr_tag = enc(&json!([]))[0];
    let mut prefix = vec![0u8, arr_tag];
    let mut fixed: Vec<Value> = vec![];
    for field in fields {
        let mut conds = vec![];
        conditions(sel, field, &mut conds);
        if let Some((_, v)) = conds.iter().find(|(op, _)| *op == "$eq") {
            prefix.extend(enc(v));
            fixed.push((*v).clone());
            continue;
        }
        let mut b = Bounds::default();
        conds.iter().for_each(|(op, v)| b.add(op, v));
        if b.low.is_none() && b.high.is_none() {
            if let Some((_, Value::Array(vals))) = conds.iter().find(|(op, _)| *op == "$in") {
                return in_ranges(&prefix, &fixed, vals);
            }
        }
        let key = |end: &Option<(Vec<u8>, &Value, bool)>, open: Value| {
            let mut k = fixed.clone();
            k.push(end.as_ref().map_or(open, |e| e.1.clone()));
            Value::Array(k)
        };
        let explain = json!({
            "start_key": key(&b.low, Value::Null),
            "end_key": key(&b.high, json!("<MAX>")),
            "inclusive_start": b.low.as_ref().is_none_or(|l| l.2),
            "inclusive_end": b.high.as_ref().is_none_or(|h| h.2),
        });
        let mut low = prefix.clone();
        if let Some(l) = &b.low {
            low.extend_from_slice(&l.0);
        }
        let high = match b.high {
            Some(h) => [prefix.as_slice(), h.0.as_slice()].concat(),
            None => succ(&prefix),
        };
        return KeyRange {
            ranges: vec![(low, high)],
            explain,
        };
    }
    KeyRange {
        ranges: vec![(prefix.clone(), succ(&prefix))],
        explain: json!({"start_key": fixed, "end_key": fixed, "inclusive_start": true, "inclusive_end": true}),
    }
}

/// One point range per value of an `$in` on the field after the fixed prefix, and the range of
/// all arrays (an `$in` also matches an array holding one of its values, as on CouchDB), merged
/// and in index order.
fn in_ranges(prefix: &[u8], fixed: &[Value], vals: &[Value]) -> KeyRange {
    let arr_tag = enc(&json!([]))[0];
    let mut ranges: Vec<(Vec<u8>, Vec<u8>)> = vals
        .iter()
        .map(|v| {
            let p = [prefix, enc(v).as_slice()].concat();
            let end = succ(&p);
            (p, end)
        })
        .collect();
    let arrays = [prefix, &[arr_tag]].concat();
    ranges.push((arrays.clone(), succ(&arrays)));
    ranges.sort();
    let mut merged: Vec<(Vec<u8>, Vec<u8>)> = vec![];
    for (lo, hi) in ranges {
        match merged.last_mut() {
            Some(last) if lo <= last.1 => {
                if hi > last.1 {
                    last.1 = hi;
                }
            }
            _ => merged.push((lo, hi)),
        }
    }
    let keys: Vec<Value> = vals
        .iter()
        .map(|v| {
            let mut k = fixed.to_vec();
            k.push(v.clone());
            Value::Array(k)
        })
        .collect();
    KeyRange {
        ranges: merged,
        explain: json!({"keys": keys, "arrays": true, "inclusive_start": true, "inclusive_end": true}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn succ_closes_a_prefix() {
        assert_eq!(succ(&[1, 2, 3]), vec![1, 2, 4]);
        assert_eq!(succ(&[1, 0xFF, 0xFF]), vec![2]);
        let p = enc(&json!(5));
        assert!(succ(&p) > [p.clone(), vec![0xFF; 9]].concat());
        assert!(succ(&p) <= enc(&json!(5.000001)));
    }
}
