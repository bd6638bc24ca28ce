//! Reduce queries answered from the stored reductions ([`crate::rtree`]): each group is found
//! by reading its first row, its key range is computed from the group key, and its reduction
//! is read from the tree, so a query costs O(log n) per group returned instead of reading every
//! row of its range.

use std::ops::Bound;

use redb::ReadableTable;
use serde_json::{json, Value};

use crate::error::ViewError;
use crate::mango::succ;
use crate::query::{Group, ViewQuery};
use crate::rtree::{answer, Reducer, Tree};
use crate::{collate, group_key, keys_in_order, range};

/// A query's byte bounds as `[low, high)` within view `v`.
fn half_open(v: u8, (lo, hi): (Bound<Vec<u8>>, Bound<Vec<u8>>)) -> (Vec<u8>, Vec<u8>) {
    let after = |mut x: Vec<u8>| {
        x.push(0);
        x
    };
    let lo = match lo {
        Bound::Included(x) => x,
        Bound::Excluded(x) => after(x),
        Bound::Unbounded => vec![v],
    };
    let hi = match hi {
        Bound::Excluded(x) => x,
        Bound::Included(x) => after(x),
        Bound::Unbounded => vec![v + 1],
    };
    (lo, hi)
}

/// The row-key prefix shared by every row of the group of `key` (view `v`): the whole key's
/// sort key, or for `group_level=N` on an array of at least N elements, the array's tag and its
/// first N elements (the arrays that start with them, whatever follows).
fn group_prefix(v: u8, key: &Value, group: Group) -> Vec<u8> {
    let mut p = vec![v];
    match (group, key) {
        (Group::Level(n), Value::Array(a)) if a.len() >= n => {
            p.push(collate::sort_key(&json!([]))[0]);
            a.iter().take(n).for_each(|e| collate::encode(&mut p, e));
        }
        _ => collate::encode(&mut p, key),
    }
    p
}

/// The rows of a reduce query (`{"key", "value"}`, after `skip` and `limit`) from the tree.
pub(crate) fn rows<R, N>(
    t: &Tree<'_, R, N>,
    q: &ViewQuery,
    group: Group,
    red: &Reducer,
    label: &str,
) -> Result<Vec<Value>, ViewError>
where
    R: ReadableTable<&'static [u8], &'static [u8]>,
    N: ReadableTable<&'static [u8], &'static [u8]>,
{
    let v = t.view;
    let ranges: Vec<(Vec<u8>, Vec<u8>)> = match &q.keys {
        Some(keys) => keys_in_order(keys, q.descending)
            .map(|k| half_open(v, range(v, q, Some(k))))
            .collect(),
        None => vec![half_open(v, range(v, q, None))],
    };
    let limit = q.limit.unwrap_or(usize::MAX);
    let mut skip = q.skip;
    let mut out = vec![];
    if group == Group::None {
        let parts = ranges
            .iter()
            .map(|(lo, hi)| t.reduce_range(lo, hi, red))
            .collect::<Result<Vec<_>, _>>()?;
        let p = red.rereduce(&parts);
        if p.rows > 0 && skip == 0 && limit > 0 {
            out.push(json!({"key": null, "value": answer(&p, red, label)?}));
        }
        return Ok(out);
    }
    for (mut lo, mut hi) in ranges {
        while out.len() < limit {
            let Some(first) = t.edge_row(&lo, &hi, q.descending)? else {
                break;
            };
            let prefix = group_prefix(v, &first.key, group);
            let glo = lo.clone().max(prefix.clone());
            let ghi = hi.clone().min(succ(&prefix));
            if skip > 0 {
                skip -= 1;
            } else {
                let p = t.reduce_range(&glo, &ghi, red)?;
                let key = group_key(&first.key, group);
                out.push(json!({"key": key, "value": answer(&p, red, label)?}));
            }
            if q.descending {
                hi = glo;
            } else {
                lo = ghi;
            }
        }
    }
    Ok(out)
}
