//! Builtin reduce functions (`_sum`, `_count`, `_stats`, `_approx_count_distinct`) in Rust, and
//! CouchDB's reduce-overflow check for JavaScript reduces.

use serde_json::{json, Map, Value};

use crate::error::ViewError;

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
}

fn to_json_num(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        json!(x as i64)
    } else {
        json!(x)
    }
}

/// `_sum` of values (numbers, arrays of numbers summed element-wise, objects summed by key).
pub fn sum(values: &[Value]) -> Result<Value, ViewError> {
    fn add(acc: Value, v: &Value) -> Result<Value, ViewError> {
        match (acc, v) {
            (Value::Null, v) => match v {
                Value::Number(_) | Value::Array(_) | Value::Object(_) => add(zero_like(v), v),
                other => Err(bad_sum(other)),
            },
            (Value::Number(a), Value::Number(b)) => Ok(to_json_num(
                a.as_f64().unwrap_or(0.0) + b.as_f64().unwrap_or(0.0),
            )),
            (Value::Array(mut a), Value::Array(b)) => {
                for (i, x) in b.iter().enumerate() {
                    if i < a.len() {
                        let cur = std::mem::take(&mut a[i]);
                        a[i] = add(cur, x)?;
                    } else {
                        a.push(add(Value::Null, x)?);
                    }
                }
                Ok(Value::Array(a))
            }
            (Value::Array(mut a), Value::Number(n)) => {
                let first = if a.is_empty() { json!(0) } else { a.remove(0) };
                a.insert(0, add(first, &Value::Number(n.clone()))?);
                Ok(Value::Array(a))
            }
            (Value::Number(n), Value::Array(b)) => add(
                Value::Array(vec![Value::Number(n)]),
                &Value::Array(b.clone()),
            ),
            (Value::Object(mut a), Value::Object(b)) => {
                for (k, x) in b {
                    let cur = a.shift_remove(k).unwrap_or(Value::Null);
                    a.insert(k.clone(), add(cur, x)?);
                }
                Ok(Value::Object(a))
            }
            (_, other) => Err(bad_sum(other)),
        }
    }
    fn zero_like(v: &Value) -> Value {
        match v {
            Value::Array(_) => json!([]),
            Value::Object(_) => Value::Object(Map::new()),
            _ => json!(0),
        }
    }
    fn bad_sum(v: &Value) -> ViewError {
        ViewError::BuiltinReduce(format!(
            "The _sum function requires that map values be numbers, arrays of numbers, or objects. Got: {v}"
        ))
    }
    let mut acc = Value::Null;
    for v in values {
        acc = add(acc, v)?;
    }
    Ok(if acc.is_null() { json!(0) } else { acc })
}

fn stats_of(v: &Value) -> Result<[f64; 5], ViewError> {
    if let Some(x) = num(v) {
        return Ok([x, 1.0, x, x, x * x]);
    }
    if let Value::Object(m) = v {
        let g = |k: &str| m.get(k).and_then(num);
        if let (Some(s), Some(c), Some(mi), Some(ma), Some(sq)) =
            (g("sum"), g("count"), g("min"), g("max"), g("sumsqr"))
        {
            return Ok([s, c, mi, ma, sq]);
        }
    }
    Err(ViewError::BuiltinReduce(format!(
        "The _stats function requires that map values be numbers or arrays of numbers, not '{v}'"
    )))
}

fn merge_stats(a: [f64; 5], b: [f64; 5]) -> [f64; 5] {
    [
        a[0] + b[0],
        a[1] + b[1],
        a[2].min(b[2]),
        a[3].max(b[3]),
        a[4] + b[4],
    ]
}

fn stats_json(s: [f64; 5]) -> Value {
    json!({"sum": to_json_num(s[0]), "count": to_json_num(s[1]), "min": to_json_num(s[2]), "max": to_json_num(s[3]), "sumsqr": to_json_num(s[4])})
}

/// `_stats` of values (numbers or arrays of numbers, or stats objects when rereducing).
pub fn stats(values: &[Value]) -> Result<Value, ViewError> {
    if values.iter().all(|v| v.is_array()) && !values.is_empty() {
        let mut acc: Vec<[f64; 5]> = vec![];
        for v in values {
            for (i, x) in v.as_array().unwrap().iter().enumerate() {
                let s = stats_of(x)?;
                if i < acc.len() {
                    acc[i] = merge_stats(acc[i], s);
                } else {
                    acc.push(s);
                }
            }
        }
        return Ok(Value::Array(acc.into_iter().map(stats_json).collect()));
    }
    let mut acc: Option<[f64; 5]> = None;
    for v in values {
        let s = stats_of(v)?;
        acc = Some(match acc {
            None => s,
            Some(a) => merge_stats(a, s),
        });
    }
    Ok(acc
        .map(stats_json)
        .unwrap_or_else(|| stats_json([0.0, 0.0, 0.0, 0.0, 0.0])))
}

/// `_approx_count_distinct` of keys (their sort keys): as CouchDB, a HyperLogLog estimate
/// ([`crate::hll`]), exact up to [`crate::hll::EXACT_MAX`] distinct keys; the same sketch the
/// reduction tree keeps, so both paths answer the same count.
pub fn count_distinct(sort_keys: &[&[u8]]) -> Value {
    json!(crate::hll::Sketch::of(sort_keys.iter().copied()).count())
}

/// CouchDB's reduce_limit check: a reduce whose output is over 4,906 bytes and more than half
/// its input size is not reducing. Answers, as CouchDB 3 does, the value that replaces the
/// reduction in the row: `{"reduce_overflow_error": "Reduce output must shrink more rapidly: ..."}`
/// (the request itself succeeds).
pub fn overflow(output: &Value, input_len: usize) -> Option<Value> {
    let out = output.to_string();
    if out.len() > 4906 && out.len() * 2 > input_len {
        let shown: String = out.chars().take(100).collect();
        return Some(json!({
            "reduce_overflow_error": format!(
                "Reduce output must shrink more rapidly: Current output: '{shown}'... (first 100 of {} bytes). \
                 A reduce function must return a small value (a number or a small object), not a list of its input.",
                out.len()
            )
        }));
    }
    None
}

/// Whether `v` is the value of an overflowed reduction (a rereduce over it gives it back, as
/// in CouchDB).
pub fn is_overflow(v: &Value) -> bool {
    v.as_object()
        .is_some_and(|m| m.len() == 1 && m.contains_key("reduce_overflow_error"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins() {
        assert_eq!(sum(&[json!(1), json!(2.5)]).unwrap(), json!(3.5));
        assert_eq!(sum(&[json!([1, 2]), json!([3])]).unwrap(), json!([4, 2]));
        assert_eq!(
            sum(&[json!({"a": 1}), json!({"a": 2, "b": 1})]).unwrap(),
            json!({"a": 3, "b": 1})
        );
        assert!(sum(&[json!("x")]).is_err());
        assert_eq!(sum(&[]).unwrap(), json!(0));
        assert_eq!(
            stats(&[json!(2), json!(4)]).unwrap(),
            json!({"sum": 6, "count": 2, "min": 2, "max": 4, "sumsqr": 20})
        );
        let s1 = stats(&[json!(1)]).unwrap();
        let s2 = stats(&[json!(3)]).unwrap();
        assert_eq!(
            stats(&[s1, s2]).unwrap(),
            json!({"sum": 4, "count": 2, "min": 1, "max": 3, "sumsqr": 10})
        );
        assert!(stats(&[json!("a")]).is_err());
        assert_eq!(count_distinct(&[b"a", b"b", b"a"]), json!(2));
        let o = overflow(&json!("x".repeat(6000)), 7000).unwrap();
        assert!(is_overflow(&o));
        assert!(o["reduce_overflow_error"]
            .as_str()
            .unwrap()
            .starts_with("Reduce output must shrink more rapidly"));
        assert!(overflow(&json!("x".repeat(6000)), 100_000).is_none());
    }
}
