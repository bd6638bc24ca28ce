//! Row-by-row differences between two answers to the same request (a view on the embedded
//! engine and on a server, or a Mango query on both).
//!
//! Rows are matched by identity: `(key, id)` for view rows (`key` alone for reduced rows),
//! `_id` for Mango documents (a row that occurs twice, like a document emitting the same key
//! twice, matches by occurrence). Then:
//! - a row on one side only is `only_left` / `only_right`;
//! - a matched row whose value (view) or body without `_rev` (Mango) differs is `value`;
//! - matched rows that are not in the same relative order are `order`: the fewest rows that
//!   must move (all matched rows minus a longest run in the same order on both sides).

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{json, Value};

/// What differs about one row.
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
pub struct Difference {
    /// `only_left`, `only_right`, `value` or `order`.
    #[ts(type = "'only_left' | 'only_right' | 'value' | 'order'")]
    pub kind: &'static str,
    /// The row's key (view) or `_id` (Mango).
    pub key: Value,
    /// The document id of a view row.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub id: Option<String>,
    /// Position on the left (0-based).
    #[ts(type = "number | null")]
    pub left_index: Option<usize>,
    /// Position on the right (0-based).
    #[ts(type = "number | null")]
    pub right_index: Option<usize>,
    /// The left row's value (view) or document (Mango).
    pub left: Option<Value>,
    /// The right row's value or document.
    pub right: Option<Value>,
}

impl Difference {
    /// One line for a terminal, naming the sides.
    pub fn describe(&self, left: &str, right: &str) -> String {
        let what = match &self.id {
            Some(id) => format!("key {} id {id}", self.key),
            None => format!("key {}", self.key),
        };
        let pos = |i: Option<usize>| i.map(|i| format!("#{}", i + 1)).unwrap_or_default();
        let val = |v: &Option<Value>| v.as_ref().map(Value::to_string).unwrap_or_default();
        match self.kind {
            "only_left" => format!(
                "only in {left} ({}): {what} value {}",
                pos(self.left_index),
                val(&self.left)
            ),
            "only_right" => format!(
                "only in {right} ({}): {what} value {}",
                pos(self.right_index),
                val(&self.right)
            ),
            "value" => format!(
                "value differs: {what}: {left} {} / {right} {}",
                val(&self.left),
                val(&self.right)
            ),
            _ => format!(
                "order differs: {what} is row {} in {left}, row {} in {right}",
                pos(self.left_index),
                pos(self.right_index)
            ),
        }
    }
}

/// The result of a compare.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct Comparison {
    /// No difference at all.
    pub equal: bool,
    /// Rows on the left.
    #[ts(type = "number")]
    pub left_rows: usize,
    /// Rows on the right.
    #[ts(type = "number")]
    pub right_rows: usize,
    /// Differences, in left order then right-only rows (at most `limit` of them).
    pub differences: Vec<Difference>,
    /// How many differences there are in all.
    #[ts(type = "number")]
    pub total_differences: usize,
}

fn identity(row: &Value, mango: bool) -> (Value, Option<String>, Value) {
    if mango {
        let mut body = row.clone();
        if let Some(o) = body.as_object_mut() {
            o.remove("_rev");
        }
        (row.get("_id").cloned().unwrap_or(Value::Null), None, body)
    } else {
        let id = row.get("id").and_then(Value::as_str).map(str::to_string);
        let mut value = row.get("value").cloned().unwrap_or(Value::Null);
        if let Some(doc) = row.get("doc") {
            let mut d = doc.clone();
            if let Some(o) = d.as_object_mut() {
                o.remove("_rev");
            }
            value = json!({"value": value, "doc": d});
        }
        (row.get("key").cloned().unwrap_or(Value::Null), id, value)
    }
}

/// Indices (into `seq`) of a longest strictly increasing subsequence.
fn lis(seq: &[usize]) -> Vec<usize> {
    let mut tails: Vec<usize> = vec![]; // index into seq of the tail of each length
    let mut prev: Vec<Option<usize>> = vec![None; seq.len()];
    for (i, &x) in seq.iter().enumerate() {
        let pos = tails.partition_point(|&t| seq[t] < x);
        if pos > 0 {
            prev[i] = Some(tails[pos - 1]);
        }
        if pos == tails.len() {
            tails.push(i);
        } else {
            tails[pos] = i;
        }
    }
    let mut out = vec![];
    let mut cur = tails.last().copied();
    while let Some(i) = cur {
        out.push(i);
        cur = prev[i];
    }
    out.reverse();
    out
}

/// Compares two answers' rows: view rows (`{"id", "key", "value"[, "doc"]}`) or, with
/// `mango`, documents of `_find` (`_rev` left out: the same data loaded separately on two
/// servers has other revisions). At most `limit` differences are listed.
pub fn compare_rows(left: &[Value], right: &[Value], mango: bool, limit: usize) -> Comparison {
    let l: Vec<_> = left.iter().map(|r| identity(r, mango)).collect();
    let r: Vec<_> = right.iter().map(|r| identity(r, mango)).collect();
    // identity -> right positions in order, consumed by occurrence.
    let mut by_id: HashMap<String, std::collections::VecDeque<usize>> = HashMap::new();
    let ident_key =
        |k: &Value, id: &Option<String>| format!("{k}\u{0}{}", id.as_deref().unwrap_or(""));
    for (j, (k, id, _)) in r.iter().enumerate() {
        by_id.entry(ident_key(k, id)).or_default().push_back(j);
    }
    let mut matched: Vec<(usize, usize)> = vec![];
    let mut diffs = vec![];
    let mut right_used = vec![false; r.len()];
    for (i, (k, id, v)) in l.iter().enumerate() {
        match by_id.get_mut(&ident_key(k, id)).and_then(|q| q.pop_front()) {
            Some(j) => {
                right_used[j] = true;
                matched.push((i, j));
                if *v != r[j].2 {
                    diffs.push(Difference {
                        kind: "value",
                        key: k.clone(),
                        id: id.clone(),
                        left_index: Some(i),
                        right_index: Some(j),
                        left: Some(v.clone()),
                        right: Some(r[j].2.clone()),
                    });
                }
            }
            None => diffs.push(Difference {
                kind: "only_left",
                key: k.clone(),
                id: id.clone(),
                left_index: Some(i),
                right_index: None,
                left: Some(v.clone()),
                right: None,
            }),
        }
    }
    let seq: Vec<usize> = matched.iter().map(|&(_, j)| j).collect();
    let keep: std::collections::HashSet<usize> = lis(&seq).into_iter().collect();
    for (n, &(i, j)) in matched.iter().enumerate() {
        if !keep.contains(&n) {
            diffs.push(Difference {
                kind: "order",
                key: l[i].0.clone(),
                id: l[i].1.clone(),
                left_index: Some(i),
                right_index: Some(j),
                left: None,
                right: None,
            });
        }
    }
    for (j, used) in right_used.iter().enumerate() {
        if !used {
            diffs.push(Difference {
                kind: "only_right",
                key: r[j].0.clone(),
                id: r[j].1.clone(),
                left_index: None,
                right_index: Some(j),
                left: None,
                right: Some(r[j].2.clone()),
            });
        }
    }
    diffs.sort_by_key(|d| (d.left_index.unwrap_or(usize::MAX), d.right_index));
    let total = diffs.len();
    diffs.truncate(limit);
    Comparison {
        equal: total == 0,
        left_rows: left.len(),
        right_rows: right.len(),
        differences: diffs,
        total_differences: total,
    }
}

/// The rows of an answer: `rows` of a view answer, `docs` of a `_find` answer.
pub fn rows_of(answer: &Value) -> Vec<Value> {
    answer
        .get("rows")
        .or_else(|| answer.get("docs"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, key: Value, value: Value) -> Value {
        json!({"id": id, "key": key, "value": value})
    }

    #[test]
    fn equal_rows_are_equal() {
        let a = vec![row("a", json!(1), json!(1)), row("b", json!(2), json!(1))];
        let c = compare_rows(&a, &a.clone(), false, 100);
        assert!(c.equal);
        assert_eq!(c.total_differences, 0);
    }

    #[test]
    fn missing_changed_and_moved_rows() {
        let left = vec![
            row("a", json!("a"), json!(1)),
            row("b", json!("b"), json!(2)),
            row("c", json!("c"), json!(3)),
            row("d", json!("d"), json!(4)),
        ];
        let right = vec![
            row("a", json!("a"), json!(1)),
            row("d", json!("d"), json!(4)),
            row("b", json!("b"), json!(20)),
            row("c", json!("c"), json!(3)),
            row("e", json!("e"), json!(5)),
        ];
        let c = compare_rows(&left, &right, false, 100);
        assert!(!c.equal);
        let kinds: Vec<(&str, Value)> = c
            .differences
            .iter()
            .map(|d| (d.kind, d.key.clone()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("value", json!("b")),
                ("order", json!("d")),
                ("only_right", json!("e")),
            ],
            "{:#?}",
            c.differences
        );
        assert!(c.differences[0]
            .describe("local", "server")
            .contains("local 2 / server 20"));
    }

    #[test]
    fn mango_ignores_revisions_and_uses_ids() {
        let l = vec![json!({"_id": "x", "_rev": "1-a", "n": 1})];
        let r = vec![json!({"_id": "x", "_rev": "1-b", "n": 1})];
        assert!(compare_rows(&l, &r, true, 10).equal);
        let r2 = vec![json!({"_id": "x", "_rev": "1-b", "n": 2})];
        let c = compare_rows(&l, &r2, true, 10);
        assert_eq!(c.differences[0].kind, "value");
    }

    #[test]
    fn duplicate_rows_match_by_occurrence_and_limit_caps_the_list() {
        let l = vec![row("a", json!(1), json!(1)), row("a", json!(1), json!(1))];
        let r = vec![row("a", json!(1), json!(1))];
        let c = compare_rows(&l, &r, false, 10);
        assert_eq!(c.total_differences, 1);
        assert_eq!(c.differences[0].kind, "only_left");
        let many: Vec<Value> = (0..20).map(|i| row("z", json!(i), json!(i))).collect();
        let c = compare_rows(&many, &[], false, 5);
        assert_eq!((c.differences.len(), c.total_differences), (5, 20));
    }
}
