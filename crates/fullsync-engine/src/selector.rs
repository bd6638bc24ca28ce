//! Mango selectors (`_changes?filter=_selector`, and later `_find`): matching a document
//! against a CouchDB selector.
//!
//! Supported: implicit equality and `$and` of fields, dotted paths, `$eq $ne $gt $gte $lt $lte
//! $exists $type $in $nin $size $mod $all $elemMatch $allMatch $keyMapMatch $beginsWith $and $or
//! $nor $not`. Values are compared by CouchDB's type order (null < false < true < numbers <
//! strings < arrays < objects); strings compare by code point here (the views crate brings the
//! ICU-like collation). `$regex` is rejected with a clear error until a regex engine is chosen.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// A checked selector, ready to match documents.
#[derive(Debug, Clone)]
pub struct Selector(Value);

impl Selector {
    /// Parses and validates a selector (`400 bad_request` with the offending operator).
    pub fn new(v: Value) -> Result<Selector> {
        if !v.is_object() {
            return Err(Error::BadRequest("selector must be a JSON object".into()));
        }
        validate(&v)?;
        Ok(Selector(v))
    }

    /// Whether `doc` matches.
    pub fn matches(&self, doc: &Value) -> bool {
        match_cond(doc, &self.0)
    }
}

fn validate(v: &Value) -> Result<()> {
    match v {
        Value::Object(m) => {
            for (k, val) in m {
                if k.starts_with('$') {
                    const OPS: &[&str] = &[
                        "$eq",
                        "$ne",
                        "$gt",
                        "$gte",
                        "$lt",
                        "$lte",
                        "$exists",
                        "$type",
                        "$in",
                        "$nin",
                        "$size",
                        "$mod",
                        "$all",
                        "$elemMatch",
                        "$allMatch",
                        "$keyMapMatch",
                        "$beginsWith",
                        "$and",
                        "$or",
                        "$nor",
                        "$not",
                    ];
                    if k == "$regex" {
                        return Err(Error::BadRequest(
                            "$regex is not supported by this server yet".into(),
                        ));
                    }
                    if !OPS.contains(&k.as_str()) {
                        return Err(Error::BadRequest(format!("Invalid operator: {k}")));
                    }
                    if matches!(
                        k.as_str(),
                        "$and" | "$or" | "$nor" | "$in" | "$nin" | "$all"
                    ) && !val.is_array()
                    {
                        return Err(Error::BadRequest(format!("{k} requires a JSON array")));
                    }
                }
                validate(val)?;
            }
            Ok(())
        }
        Value::Array(a) => a.iter().try_for_each(validate),
        _ => Ok(()),
    }
}

fn type_rank(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Bool(false) => 1,
        Value::Bool(true) => 2,
        Value::Number(_) => 3,
        Value::String(_) => 4,
        Value::Array(_) => 5,
        Value::Object(_) => 6,
    }
}

/// Compares two JSON values by CouchDB's type order, then by value.
pub fn compare(a: &Value, b: &Value) -> Ordering {
    let (ra, rb) = (type_rank(a), type_rank(b));
    if ra != rb {
        return ra.cmp(&rb);
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .unwrap_or(0.0)
            .partial_cmp(&y.as_f64().unwrap_or(0.0))
            .unwrap_or(Ordering::Equal),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => {
            for (p, q) in x.iter().zip(y) {
                let c = compare(p, q);
                if c != Ordering::Equal {
                    return c;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(x), Value::Object(y)) => {
            for ((k1, v1), (k2, v2)) in x.iter().zip(y) {
                let c = k1.cmp(k2).then_with(|| compare(v1, v2));
                if c != Ordering::Equal {
                    return c;
                }
            }
            x.len().cmp(&y.len())
        }
        _ => Ordering::Equal,
    }
}

fn get_path<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = doc;
    // `\.` escapes a dot inside a field name.
    let mut parts = vec![];
    let mut buf = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'.') => {
                buf.push('.');
                chars.next();
            }
            '.' => parts.push(std::mem::take(&mut buf)),
            c => buf.push(c),
        }
    }
    parts.push(buf);
    for p in parts {
        cur = match cur {
            Value::Object(m) => m.get(&p)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn match_cond(doc: &Value, sel: &Value) -> bool {
    let Value::Object(m) = sel else { return false };
    m.iter().all(|(k, v)| match k.as_str() {
        "$and" => v
            .as_array()
            .is_some_and(|a| a.iter().all(|s| match_cond(doc, s))),
        "$or" => v
            .as_array()
            .is_some_and(|a| a.iter().any(|s| match_cond(doc, s))),
        "$nor" => v
            .as_array()
            .is_some_and(|a| !a.iter().any(|s| match_cond(doc, s))),
        "$not" => !match_cond(doc, v),
        field => match_field(get_path(doc, field), v),
    })
}

fn match_field(val: Option<&Value>, cond: &Value) -> bool {
    match cond {
        Value::Object(ops) if ops.keys().any(|k| k.starts_with('$')) => {
            ops.iter().all(|(op, arg)| apply(val, op, arg))
        }
        Value::Object(sub) => match val {
            // A nested selector applies to the sub-object.
            Some(v @ Value::Object(_)) => match_cond(v, &Value::Object(sub.clone())),
            _ => false,
        },
        eq => val.is_some_and(|v| compare(v, eq) == Ordering::Equal),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn apply(val: Option<&Value>, op: &str, arg: &Value) -> bool {
    let cmp = |f: fn(Ordering) -> bool| {
        val.is_some_and(|v| type_rank(v) == type_rank(arg) && f(compare(v, arg)))
    };
    match op {
        "$eq" => val.is_some_and(|v| compare(v, arg) == Ordering::Equal),
        "$ne" => val.is_none_or(|v| compare(v, arg) != Ordering::Equal),
        "$gt" => cmp(|o| o == Ordering::Greater),
        "$gte" => cmp(|o| o != Ordering::Less),
        "$lt" => cmp(|o| o == Ordering::Less),
        "$lte" => cmp(|o| o != Ordering::Greater),
        "$exists" => val.is_some() == arg.as_bool().unwrap_or(true),
        "$type" => val.is_some_and(|v| Some(type_name(v)) == arg.as_str()),
        "$in" => val.is_some_and(|v| {
            arg.as_array().is_some_and(|a| {
                a.iter().any(|x| {
                    compare(v, x) == Ordering::Equal
                        || v.as_array()
                            .is_some_and(|arr| arr.iter().any(|e| compare(e, x) == Ordering::Equal))
                })
            })
        }),
        "$nin" => !apply(val, "$in", arg),
        "$size" => val
            .and_then(Value::as_array)
            .is_some_and(|a| Some(a.len() as u64) == arg.as_u64()),
        "$mod" => match (val.and_then(Value::as_i64), arg.as_array()) {
            (Some(n), Some(a)) if a.len() == 2 => match (a[0].as_i64(), a[1].as_i64()) {
                (Some(d), Some(r)) if d != 0 => n % d == r,
                _ => false,
            },
            _ => false,
        },
        "$all" => val.and_then(Value::as_array).is_some_and(|have| {
            arg.as_array().is_some_and(|want| {
                want.iter()
                    .all(|w| have.iter().any(|h| compare(h, w) == Ordering::Equal))
            })
        }),
        "$elemMatch" => val
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|e| match_field(Some(e), arg))),
        "$allMatch" => val
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty() && a.iter().all(|e| match_field(Some(e), arg))),
        "$keyMapMatch" => val
            .and_then(Value::as_object)
            .is_some_and(|m: &Map<String, Value>| {
                m.keys()
                    .any(|k| match_field(Some(&Value::String(k.clone())), arg))
            }),
        "$beginsWith" => match (val.and_then(Value::as_str), arg.as_str()) {
            (Some(s), Some(p)) => s.starts_with(p),
            _ => false,
        },
        "$not" => !match_field(val, arg),
        "$and" => arg
            .as_array()
            .is_some_and(|a| a.iter().all(|c| match_field(val, c))),
        "$or" => arg
            .as_array()
            .is_some_and(|a| a.iter().any(|c| match_field(val, c))),
        "$nor" => arg
            .as_array()
            .is_some_and(|a| !a.iter().any(|c| match_field(val, c))),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(sel: Value, doc: Value) -> bool {
        Selector::new(sel).unwrap().matches(&doc)
    }

    #[test]
    fn operators() {
        let d = json!({"type": "a", "n": 5, "tags": ["x", "y"], "o": {"p": 1}, "s": "hello"});
        assert!(m(json!({"type": "a"}), d.clone()));
        assert!(!m(json!({"type": "b"}), d.clone()));
        assert!(m(json!({"n": {"$gt": 4, "$lte": 5}}), d.clone()));
        assert!(
            !m(json!({"n": {"$gt": "4"}}), d.clone()),
            "$gt compares within a type only"
        );
        assert!(m(json!({"o.p": 1}), d.clone()));
        assert!(m(json!({"o": {"p": 1}}), d.clone()));
        assert!(m(json!({"missing": {"$exists": false}}), d.clone()));
        assert!(m(
            json!({"tags": {"$all": ["y", "x"]}, "s": {"$beginsWith": "he"}}),
            d.clone()
        ));
        assert!(m(json!({"tags": {"$elemMatch": {"$eq": "y"}}}), d.clone()));
        assert!(m(json!({"$or": [{"n": 1}, {"n": 5}]}), d.clone()));
        assert!(m(json!({"$not": {"n": 1}}), d.clone()));
        assert!(m(
            json!({"n": {"$in": [1, 5]}, "type": {"$nin": ["b"]}}),
            d.clone()
        ));
        assert!(m(
            json!({"tags": {"$size": 2}, "n": {"$mod": [2, 1]}, "s": {"$type": "string"}}),
            d.clone()
        ));
        assert!(m(json!({"type": {"$ne": "z"}}), d));
        assert!(Selector::new(json!({"a": {"$bogus": 1}})).is_err());
        assert!(Selector::new(json!({"$or": {}})).is_err());
    }
}
