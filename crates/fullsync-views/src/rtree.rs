//! Stored reductions: a tree of partial reductions kept next to the rows of a view, so a reduce
//! query over any key range costs O(log n) node reads plus the groups it returns, as CouchDB's
//! B-tree reductions do.
//!
//! # Layout
//!
//! Table `reduce`: `[view, level] ++ start` -> a `Partial` (JSON `[rows, kind, value]`).
//! A node at level `L >= 1` starts at `start` (a row key, or empty: the *head* node, before
//! every row) and ends where the next node of level `L` starts (or at the end of the view).
//!
//! # Invariants
//!
//! 1. **Boundaries are a function of the row key only.** A row key `k` *starts* a node at every
//!    level `1..=level(k)`, where `level(k)` is the number of trailing zero groups of
//!    [`FAN_BITS`] bits of a hash of `k` (capped at [`LEVELS`]). So the set of nodes depends on
//!    the set of rows only, never on the order rows were written (history independence):
//!    inserting or deleting a row touches the nodes that contain it at each level, and creates
//!    or removes the nodes it starts.
//! 2. **Levels nest.** A boundary of level `L` is a boundary of every level below, and the head
//!    node exists at every level, so a node of level `L` is exactly the union of the nodes of
//!    level `L - 1` that start inside it; a node of level 1 is a run of about `2^FAN_BITS` rows.
//! 3. **Every stored value is the reduction of exactly the rows under its node** (level 1: a
//!    `reduce` of its rows; level `L > 1`: a `rereduce` of its children), and the row count.
//!    `update` restores this in the same write transaction as the rows it changed, for every
//!    node containing a changed row key (before or after the change) at every level.
//! 4. The tree of a view exists only once `build` ran over all its rows (meta `tree/<view>`);
//!    before that, queries reduce rows at query time (same answer, slower).
//!
//! A range query (`Tree::reduce_range`) takes the stored value of each node fully inside the range
//! and descends into the (at most two per level) nodes that straddle its ends, down to rows.

use std::collections::BTreeSet;
use std::ops::Bound;

use redb::{ReadableTable, Table, TableDefinition};
use serde_json::{json, Value};

use crate::collate;
use crate::ddoc::Reduce;
use crate::error::ViewError;
use crate::hll::Sketch;
use crate::js::{FnSet, JsError, JsPool};
use crate::reduce;

/// Partial reductions by `[view, level] ++ start`.
pub(crate) const REDUCE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("reduce");

/// A node of level 1 holds about `2^FAN_BITS` rows; a node of level `L` about `2^FAN_BITS`
/// nodes of level `L - 1`.
pub const FAN_BITS: u32 = 5;

/// Levels of nodes above the rows (32^5 = 33M rows before the top level has more than one node
/// on average; above that a query reads more top nodes, still correct).
pub const LEVELS: u8 = 5;

/// One stored row, as the reducer sees it.
pub(crate) struct RowKv {
    pub(crate) id: String,
    pub(crate) key: Value,
    pub(crate) value: Value,
}

/// Decodes a stored row (`[id, key, value]`).
pub(crate) fn decode_row(b: &[u8]) -> Result<RowKv, ViewError> {
    let (id, key, value): (String, Value, Value) =
        serde_json::from_slice(b).map_err(|e| ViewError::Storage(format!("bad row: {e}")))?;
    Ok(RowKv { id, key, value })
}

/// The reduction of some rows: how many, and the value or why there is none.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Partial {
    /// Rows under it.
    pub(crate) rows: u64,
    /// The reduction.
    pub(crate) state: State,
}

/// What a reduction gave.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum State {
    /// A value.
    Value(Value),
    /// A builtin refused a value (`_sum` of a string): the query fails with this message.
    BuiltinError(String),
    /// A JavaScript reduce threw: the reduction is `null` (as CouchDB, which logs it).
    Threw(String),
    /// A JavaScript reduce did not shrink: CouchDB's `reduce_overflow_error` value.
    Overflow(Value),
}

impl Partial {
    fn empty() -> Partial {
        Partial {
            rows: 0,
            state: State::Value(Value::Null),
        }
    }

    fn encode(&self) -> Vec<u8> {
        let (kind, v) = match &self.state {
            State::Value(v) => (0, v.clone()),
            State::BuiltinError(m) => (1, json!(m)),
            State::Threw(m) => (2, json!(m)),
            State::Overflow(v) => (3, v.clone()),
        };
        serde_json::to_vec(&json!([self.rows, kind, v])).expect("JSON serializes")
    }

    fn decode(b: &[u8]) -> Result<Partial, ViewError> {
        let (rows, kind, v): (u64, u8, Value) = serde_json::from_slice(b)
            .map_err(|e| ViewError::Storage(format!("bad stored reduction: {e}")))?;
        let text = || v.as_str().unwrap_or_default().to_string();
        let state = match kind {
            0 => State::Value(v.clone()),
            1 => State::BuiltinError(text()),
            2 => State::Threw(text()),
            _ => State::Overflow(v.clone()),
        };
        Ok(Partial { rows, state })
    }
}

/// How the rows of one view reduce: a builtin in Rust, or a JavaScript reduce with rereduce.
pub enum Reducer<'a> {
    /// `_count`, `_sum`, `_stats`, `_approx_count_distinct` (a [`Sketch`] per node).
    Builtin(Reduce),
    /// A JavaScript `function (keys, values, rereduce)`: function `view` of `set`.
    Js {
        /// The JS pool.
        pool: &'a JsPool,
        /// The design document's reduce functions.
        set: FnSet,
        /// Which one.
        view: usize,
    },
}

impl<'a> Reducer<'a> {
    /// The reducer of a view (every reduce is kept in the tree: `_approx_count_distinct` as a
    /// [`Sketch`] per node, turned into a count by [`Reducer::answer`]). `None` is kept for
    /// reduces a tree cannot hold (none today).
    pub(crate) fn of(
        r: &Reduce,
        pool: &'a JsPool,
        set: impl FnOnce() -> FnSet,
        view: usize,
    ) -> Option<Reducer<'a>> {
        match r {
            Reduce::Js(_) => Some(Reducer::Js {
                pool,
                set: set(),
                view,
            }),
            b => Some(Reducer::Builtin(b.clone())),
        }
    }

    fn js(&self, args: Value) -> State {
        let Reducer::Js { pool, set, view } = self else {
            unreachable!("js() is only called on a JS reducer")
        };
        let input_len = args.to_string().len();
        match pool.call(set, *view, args, false) {
            Ok(out) => match reduce::overflow(&out, input_len) {
                Some(o) => State::Overflow(o),
                None => State::Value(out),
            },
            Err(JsError::Thrown(m)) => State::Threw(m),
            Err(e) => State::Threw(e.to_string()),
        }
    }

    fn builtin(r: &Reduce, values: &[Value], rereduce: bool) -> State {
        let out = match r {
            Reduce::Count if rereduce => reduce::sum(values),
            Reduce::Count => Ok(json!(values.len())),
            Reduce::Sum => reduce::sum(values),
            Reduce::ApproxCountDistinct => {
                let mut s = Sketch::default();
                for v in values {
                    match Sketch::from_json(v) {
                        Some(part) => s.merge(&part),
                        None => return State::BuiltinError(format!("bad stored sketch: {v}")),
                    }
                }
                Ok(s.to_json())
            }
            _ => reduce::stats(values),
        };
        match out {
            Ok(v) => State::Value(v),
            Err(ViewError::BuiltinReduce(m)) => State::BuiltinError(m),
            Err(e) => State::BuiltinError(e.to_string()),
        }
    }

    /// Reduces rows (`rereduce = false`).
    pub(crate) fn reduce(&self, rows: &[RowKv]) -> Partial {
        if rows.is_empty() {
            return Partial::empty();
        }
        let state = match self {
            Reducer::Builtin(Reduce::ApproxCountDistinct) => {
                let keys: Vec<Vec<u8>> = rows.iter().map(|r| collate::sort_key(&r.key)).collect();
                State::Value(Sketch::of(keys.iter().map(Vec::as_slice)).to_json())
            }
            Reducer::Builtin(b) => {
                let values: Vec<Value> = rows.iter().map(|r| r.value.clone()).collect();
                Self::builtin(b, &values, false)
            }
            Reducer::Js { .. } => {
                let values: Vec<Value> = rows.iter().map(|r| r.value.clone()).collect();
                let keys: Vec<Value> = rows.iter().map(|r| json!([r.key, r.id])).collect();
                self.js(json!([keys, values, false]))
            }
        };
        Partial {
            rows: rows.len() as u64,
            state,
        }
    }

    /// Combines partial reductions (`rereduce = true`); empty ones are left out, and the first
    /// builtin error, JavaScript error or overflow wins over values.
    pub(crate) fn rereduce(&self, parts: &[Partial]) -> Partial {
        let parts: Vec<&Partial> = parts.iter().filter(|p| p.rows > 0).collect();
        let rows = parts.iter().map(|p| p.rows).sum();
        if let [one] = parts.as_slice() {
            return (*one).clone();
        }
        if parts.is_empty() {
            return Partial::empty();
        }
        if let Some(p) = parts.iter().find(|p| !matches!(p.state, State::Value(_))) {
            return Partial {
                rows,
                state: p.state.clone(),
            };
        }
        let values: Vec<Value> = parts
            .iter()
            .map(|p| match &p.state {
                State::Value(v) => v.clone(),
                _ => Value::Null,
            })
            .collect();
        let state = match self {
            Reducer::Builtin(b) => Self::builtin(b, &values, true),
            Reducer::Js { .. } => self.js(json!([null, values, true])),
        };
        Partial { rows, state }
    }
}

/// The highest level whose nodes row key `k` starts (0: none).
pub(crate) fn level(k: &[u8]) -> u8 {
    // The same hash as the HyperLogLog sketches (FNV-1a, then SplitMix64 to spread the low bits).
    ((crate::hll::hash(k).trailing_zeros() / FAN_BITS) as u8).min(LEVELS)
}

fn node_key(v: u8, l: u8, start: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(2 + start.len());
    k.push(v);
    k.push(l);
    k.extend_from_slice(start);
    k
}

/// The first row key a node may hold (`[v]` for the head).
fn row_start(v: u8, start: &[u8]) -> Vec<u8> {
    if start.is_empty() {
        vec![v]
    } else {
        start.to_vec()
    }
}

/// Reads rows and nodes: the same code serves queries (read transaction) and updates (write
/// transaction).
pub struct Tree<'t, R, N> {
    /// The `rows` table.
    pub rows: &'t R,
    /// The `reduce` table.
    pub nodes: &'t N,
    /// The view.
    pub view: u8,
}

impl<R, N> Tree<'_, R, N>
where
    R: ReadableTable<&'static [u8], &'static [u8]>,
    N: ReadableTable<&'static [u8], &'static [u8]>,
{
    /// The start of the node of level `l` holding row key `k` (`Included`: `start <= k`;
    /// `Excluded`: `start < k`).
    fn floor(&self, l: u8, k: Bound<&[u8]>) -> Result<Vec<u8>, ViewError> {
        let head = node_key(self.view, l, &[]);
        let hi = match k {
            Bound::Included(k) => Bound::Included(node_key(self.view, l, k)),
            Bound::Excluded(k) => Bound::Excluded(node_key(self.view, l, k)),
            Bound::Unbounded => Bound::Excluded(node_key(self.view, l + 1, &[])),
        };
        let hi_ref = match &hi {
            Bound::Included(x) => Bound::Included(x.as_slice()),
            Bound::Excluded(x) => Bound::Excluded(x.as_slice()),
            Bound::Unbounded => Bound::Unbounded,
        };
        let found = self
            .nodes
            .range::<&[u8]>((Bound::Included(head.as_slice()), hi_ref))?
            .next_back()
            .transpose()?;
        Ok(found
            .map(|(k, _)| k.value()[2..].to_vec())
            .unwrap_or_default())
    }

    /// Where the node of level `l` starting at `start` ends: the next start, or the view's end.
    fn node_end(&self, l: u8, start: &[u8]) -> Result<Vec<u8>, ViewError> {
        let lo = node_key(self.view, l, start);
        let hi = node_key(self.view, l + 1, &[]);
        let next = self
            .nodes
            .range::<&[u8]>((
                Bound::Excluded(lo.as_slice()),
                Bound::Excluded(hi.as_slice()),
            ))?
            .next()
            .transpose()?;
        Ok(match next {
            Some((k, _)) => k.value()[2..].to_vec(),
            None => vec![self.view + 1],
        })
    }

    /// Rows with keys in `[lo, hi)`.
    pub(crate) fn rows_in(&self, lo: &[u8], hi: &[u8]) -> Result<Vec<RowKv>, ViewError> {
        if lo >= hi {
            return Ok(vec![]);
        }
        let mut out = vec![];
        for item in self.rows.range::<&[u8]>(lo..hi)? {
            let (_, v) = item?;
            out.push(decode_row(v.value())?);
        }
        Ok(out)
    }

    /// Recomputes the node of level `l` starting at `start` from its rows or children.
    fn compute(&self, l: u8, start: &[u8], red: &Reducer) -> Result<Partial, ViewError> {
        let end = self.node_end(l, start)?;
        if l == 1 {
            return Ok(red.reduce(&self.rows_in(&row_start(self.view, start), &end)?));
        }
        let lo = node_key(self.view, l - 1, start);
        let hi = if end == [self.view + 1] {
            node_key(self.view, l, &[])
        } else {
            node_key(self.view, l - 1, &end)
        };
        let mut parts = vec![];
        for item in self.nodes.range::<&[u8]>(lo.as_slice()..hi.as_slice())? {
            let (_, v) = item?;
            parts.push(Partial::decode(v.value())?);
        }
        Ok(red.rereduce(&parts))
    }

    /// The reduction of the rows with keys in `[lo, hi)`.
    pub(crate) fn reduce_range(
        &self,
        lo: &[u8],
        hi: &[u8],
        red: &Reducer,
    ) -> Result<Partial, ViewError> {
        let mut parts = vec![];
        self.collect(LEVELS, lo, hi, red, &mut parts)?;
        Ok(red.rereduce(&parts))
    }

    fn collect(
        &self,
        l: u8,
        lo: &[u8],
        hi: &[u8],
        red: &Reducer,
        out: &mut Vec<Partial>,
    ) -> Result<(), ViewError> {
        if lo >= hi {
            return Ok(());
        }
        if l == 0 {
            out.push(red.reduce(&self.rows_in(lo, hi)?));
            return Ok(());
        }
        let first = self.floor(l, Bound::Included(lo))?;
        let from = node_key(self.view, l, &first);
        let to = node_key(self.view, l, hi);
        let nodes: Vec<(Vec<u8>, Partial)> = self
            .nodes
            .range::<&[u8]>(from.as_slice()..to.as_slice())?
            .map(|item| {
                let (k, v) = item?;
                Ok((k.value()[2..].to_vec(), Partial::decode(v.value())?))
            })
            .collect::<Result<_, ViewError>>()?;
        for (i, (start, part)) in nodes.iter().enumerate() {
            let end = match nodes.get(i + 1) {
                Some((next, _)) => next.clone(),
                None => self.node_end(l, start)?,
            };
            let s = row_start(self.view, start);
            if s.as_slice() >= lo && end.as_slice() <= hi {
                out.push(part.clone());
            } else {
                let a = if s.as_slice() > lo { s.as_slice() } else { lo };
                let b = if end.as_slice() < hi {
                    end.as_slice()
                } else {
                    hi
                };
                self.collect(l - 1, a, b, red, out)?;
            }
        }
        Ok(())
    }

    /// The first (or, `last`, the last) row with a key in `[lo, hi)`.
    pub(crate) fn edge_row(
        &self,
        lo: &[u8],
        hi: &[u8],
        last: bool,
    ) -> Result<Option<RowKv>, ViewError> {
        if lo >= hi {
            return Ok(None);
        }
        let mut it = self.rows.range::<&[u8]>(lo..hi)?;
        let item = if last { it.next_back() } else { it.next() };
        match item.transpose()? {
            Some((_, v)) => Ok(Some(decode_row(v.value())?)),
            None => Ok(None),
        }
    }
}

/// Builds the tree of view `v` from all its rows, in one pass (the first build of an index).
pub(crate) fn build(
    rows: &Table<&[u8], &[u8]>,
    nodes: &mut Table<&[u8], &[u8]>,
    v: u8,
    red: &Reducer,
) -> Result<(), ViewError> {
    let old = node_key(v, 0, &[]);
    let end = node_key(v + 1, 0, &[]);
    nodes.retain_in::<&[u8], _>(old.as_slice()..end.as_slice(), |_, _| false)?;
    // Per level: the start of the open node and what it holds so far.
    let mut open: Vec<(Vec<u8>, Vec<Partial>)> = vec![(vec![], vec![]); LEVELS as usize + 1];
    let mut run: Vec<RowKv> = vec![];
    let lo = [v];
    let hi = [v + 1];
    let close = |l: u8,
                 open: &mut Vec<(Vec<u8>, Vec<Partial>)>,
                 run: &mut Vec<RowKv>,
                 nodes: &mut Table<&[u8], &[u8]>|
     -> Result<(), ViewError> {
        let part = if l == 1 {
            red.reduce(&std::mem::take(run))
        } else {
            red.rereduce(&std::mem::take(&mut open[l as usize].1))
        };
        let start = open[l as usize].0.clone();
        nodes.insert(node_key(v, l, &start).as_slice(), part.encode().as_slice())?;
        if l < LEVELS {
            open[l as usize + 1].1.push(part);
        }
        Ok(())
    };
    for item in rows.range::<&[u8]>(lo.as_slice()..hi.as_slice())? {
        let (k, val) = item?;
        let key = k.value();
        let lv = level(key);
        for l in 1..=lv {
            close(l, &mut open, &mut run, nodes)?;
            open[l as usize].0 = key.to_vec();
        }
        run.push(decode_row(val.value())?);
    }
    for l in 1..=LEVELS {
        close(l, &mut open, &mut run, nodes)?;
    }
    Ok(())
}

/// Restores invariant 3 after the rows with keys `changed` (view `v`) were inserted or removed
/// in this transaction: creates or removes the nodes they start, then recomputes, level by
/// level, every node that holds one of them.
pub(crate) fn update(
    rows: &Table<&[u8], &[u8]>,
    nodes: &mut Table<&[u8], &[u8]>,
    v: u8,
    changed: &BTreeSet<Vec<u8>>,
    red: &Reducer,
) -> Result<(), ViewError> {
    let placeholder = Partial::empty().encode();
    for k in changed {
        let lv = level(k);
        if lv == 0 {
            continue;
        }
        let present = rows.get(k.as_slice())?.is_some();
        for l in 1..=lv {
            let nk = node_key(v, l, k);
            if present {
                nodes.insert(nk.as_slice(), placeholder.as_slice())?;
            } else {
                nodes.remove(nk.as_slice())?;
            }
        }
    }
    for l in 1..=LEVELS {
        let mut dirty: BTreeSet<Vec<u8>> = BTreeSet::new();
        {
            let t = Tree {
                rows,
                nodes: &*nodes,
                view: v,
            };
            for k in changed {
                dirty.insert(t.floor(l, Bound::Included(k))?);
                dirty.insert(t.floor(l, Bound::Excluded(k))?);
            }
        }
        for start in dirty {
            let nk = node_key(v, l, &start);
            if !start.is_empty() && nodes.get(nk.as_slice())?.is_none() {
                continue;
            }
            let part = Tree {
                rows,
                nodes: &*nodes,
                view: v,
            }
            .compute(l, &start, red)?;
            nodes.insert(nk.as_slice(), part.encode().as_slice())?;
        }
    }
    Ok(())
}

/// The answer of a reduction: its value (for `_approx_count_distinct`, the count its sketch
/// estimates), or the query's error.
pub(crate) fn answer(p: &Partial, red: &Reducer, label: &str) -> Result<Value, ViewError> {
    match &p.state {
        State::Value(v) if matches!(red, Reducer::Builtin(Reduce::ApproxCountDistinct)) => {
            match Sketch::from_json(v) {
                Some(s) => Ok(json!(s.count())),
                // The empty reduction (no rows) holds `null`.
                None if v.is_null() => Ok(json!(0)),
                None => Err(ViewError::Storage(format!(
                    "bad stored sketch in {label}: rebuild the index (delete its file)"
                ))),
            }
        }
        State::Value(v) => Ok(v.clone()),
        State::BuiltinError(m) => Err(ViewError::BuiltinReduce(m.clone())),
        State::Threw(m) => {
            eprintln!("reduce of {label} threw: {m}; the reduction is null");
            Ok(Value::Null)
        }
        State::Overflow(v) => Ok(v.clone()),
    }
}
