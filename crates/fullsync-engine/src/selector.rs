//! Mango selectors: matching a document against a CouchDB selector, for
//! `_changes?filter=_selector`, replication selectors and `_find` (fullsync-views).
//!
//! Supported: implicit equality and `$and` of fields, dotted paths with `\` escapes
//! (`"a\\.b"` is the field `a.b`, `"\\$foo"` the field `$foo`), `$eq $ne $gt $gte $lt $lte
//! $exists $type $in $nin $size $mod $regex $all $elemMatch $allMatch $keyMapMatch
//! $beginsWith $and $or $nor $not`. As in CouchDB, a condition on a field only matches when the
//! field exists (`$exists: false` excepted), negations included: `$not` and `$nor` are pushed
//! down to the fields as CouchDB normalizes them ([`push_negations`]), so `{"$not": {"a": 1}}`
//! is `{"a": {"$ne": 1}}`. Invalid selectors are refused with CouchDB's errors: `400
//! invalid_operator` ("Invalid operator: $foo"), `400 bad_arg` ("Bad argument for operator
//! $in: ..."), `400 not_supported` (`$where`, `$near`, ...), `400 invalid_selector` (an empty
//! field name).
//!
//! **Comparisons** (`$eq $ne $gt $gte $lt $lte $in $nin`) work across JSON types with CouchDB's
//! view collation, as CouchDB's `mango_json:cmp` does: `null < false < true < numbers <
//! strings < arrays < objects`, so `{"_id": {"$gt": null}}` matches every document. The top-level
//! `_id` field compares raw (byte order of the id; any non-string is below every id), as in
//! CouchDB.
//!
//! **Why string order is injected**: CouchDB orders strings with ICU's root collator. That
//! collator lives in `fullsync-views` (`collate.rs`, ICU4X data), and dependencies point views ->
//! engine, never back. So the type order and number order live here, and the string order is a
//! plain function: [`Selector::with_string_order`] takes the ICU one from views (`_find` uses
//! it), and [`set_default_string_order`] sets it for every selector of the process. Without
//! either, strings compare by code point, which differs from CouchDB only for strings that ICU
//! orders differently (`"a" < "B"` in ICU, `"B" < "a"` by code point).
//!
//! **`$regex`** uses the `regex` crate, whose syntax is Perl-like as Erlang's `re` (PCRE):
//! classes, anchors, repetitions, groups, alternation and inline flags such as `(?i)` behave the
//! same; lookaround and backreferences are not supported and are refused with `400 bad_arg`
//! naming the pattern.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// How two strings compare (the string part of the collation).
pub type StringOrder = fn(&str, &str) -> Ordering;

/// A checked selector, ready to match documents.
#[derive(Debug, Clone)]
pub struct Selector {
    sel: Value,
    /// `sel` with negations pushed down to the fields ([`push_negations`]): what is matched.
    norm: Value,
    regexes: Arc<HashMap<String, regex::Regex>>,
    strings: StringOrder,
}

fn code_point_order(a: &str, b: &str) -> Ordering {
    a.cmp(b)
}

static DEFAULT_STRING_ORDER: std::sync::OnceLock<StringOrder> = std::sync::OnceLock::new();

/// Sets the string order every [`Selector::new`] starts with, for the whole process (the
/// first call wins; returns whether this one did). A server that links fullsync-views sets
/// ICU collation here once at start-up, so `_changes?filter=_selector` and replication
/// selectors order strings as CouchDB does too. Unset, strings compare by code point.
pub fn set_default_string_order(order: StringOrder) -> bool {
    DEFAULT_STRING_ORDER.set(order).is_ok()
}

fn bad_arg(op: &str, arg: &Value) -> Error {
    Error::Custom {
        status: 400,
        error: "bad_arg".into(),
        reason: format!("Bad argument for operator {op}: {arg}"),
    }
}

impl Selector {
    /// Parses and validates a selector (`400` with CouchDB's `invalid_operator`, `bad_arg` or
    /// `not_supported` error naming the offending operator).
    pub fn new(v: Value) -> Result<Selector> {
        if !v.is_object() {
            return Err(Error::BadRequest(
                "Selector must be a JSON object, such as {\"type\": \"user\"}".into(),
            ));
        }
        let mut regexes = HashMap::new();
        validate_selector(&v, &mut regexes)?;
        Ok(Selector {
            norm: push_negations(&v),
            sel: v,
            regexes: Arc::new(regexes),
            strings: DEFAULT_STRING_ORDER
                .get()
                .copied()
                .unwrap_or(code_point_order),
        })
    }

    /// The same selector, comparing strings with `order` (fullsync-views passes ICU collation).
    pub fn with_string_order(mut self, order: StringOrder) -> Selector {
        self.strings = order;
        self
    }

    /// The selector as given.
    pub fn as_json(&self) -> &Value {
        &self.sel
    }

    /// Whether `doc` matches.
    pub fn matches(&self, doc: &Value) -> bool {
        match &self.norm {
            Value::Object(m) => self.match_obj(doc, m),
            _ => false,
        }
    }

    /// Compares two values with this selector's collation (type order, numbers by value,
    /// strings by the string order, arrays and objects element by element).
    pub fn compare(&self, a: &Value, b: &Value) -> Ordering {
        compare_with(a, b, self.strings)
    }

    fn match_obj(&self, doc: &Value, m: &Map<String, Value>) -> bool {
        m.iter().all(|(k, v)| match k.as_str() {
            "$and" => v
                .as_array()
                .is_some_and(|a| a.iter().all(|s| self.match_sel(doc, s))),
            // CouchDB: an empty `$or` matches everything.
            "$or" => v
                .as_array()
                .is_some_and(|a| a.is_empty() || a.iter().any(|s| self.match_sel(doc, s))),
            "$nor" => v
                .as_array()
                .is_some_and(|a| !a.iter().any(|s| self.match_sel(doc, s))),
            "$not" => !self.match_sel(doc, v),
            field => {
                let raw_id = field == "_id";
                self.match_field(get_path(doc, field), v, raw_id)
            }
        })
    }

    fn match_sel(&self, doc: &Value, sel: &Value) -> bool {
        match sel {
            Value::Object(m) => self.match_obj(doc, m),
            _ => false,
        }
    }

    /// `val` (the field's value, `None` when missing) against a condition: an operator
    /// object, a nested selector (`{"a": {"b": 1}}` = `{"a.b": 1}`), or a value (equality).
    fn match_field(&self, val: Option<&Value>, cond: &Value, raw_id: bool) -> bool {
        match cond {
            Value::Object(m) if !m.is_empty() => m.iter().all(|(k, arg)| {
                if k.starts_with('$') {
                    self.apply(val, k, arg, raw_id)
                } else {
                    let sub = val.and_then(|v| get_path(v, k));
                    self.match_field(sub, arg, false)
                }
            }),
            eq => self.apply(val, "$eq", eq, raw_id),
        }
    }

    fn cmp(&self, a: &Value, b: &Value, raw_id: bool) -> Ordering {
        if raw_id {
            raw_compare(a, b)
        } else {
            compare_with(a, b, self.strings)
        }
    }

    fn apply(&self, val: Option<&Value>, op: &str, arg: &Value, raw_id: bool) -> bool {
        match op {
            "$and" => {
                return arg
                    .as_array()
                    .is_some_and(|a| a.iter().all(|c| self.match_field(val, c, raw_id)))
            }
            "$or" => {
                return arg.as_array().is_some_and(|a| {
                    a.is_empty() || a.iter().any(|c| self.match_field(val, c, raw_id))
                })
            }
            "$nor" => {
                return arg
                    .as_array()
                    .is_some_and(|a| !a.iter().any(|c| self.match_field(val, c, raw_id)))
            }
            _ => {}
        }
        // A condition needs the field, except `$exists: false`.
        let Some(v) = val else {
            return op == "$exists" && arg == &Value::Bool(false);
        };
        match op {
            // Only left on conditions that have no opposite (`$regex`, `$size`, ...): the
            // field exists and does not match.
            "$not" => !self.match_field(val, arg, raw_id),
            "$eq" => self.cmp(v, arg, raw_id) == Ordering::Equal,
            "$ne" => self.cmp(v, arg, raw_id) != Ordering::Equal,
            "$gt" => self.cmp(v, arg, raw_id) == Ordering::Greater,
            "$gte" => self.cmp(v, arg, raw_id) != Ordering::Less,
            "$lt" => self.cmp(v, arg, raw_id) == Ordering::Less,
            "$lte" => self.cmp(v, arg, raw_id) != Ordering::Greater,
            "$exists" => arg == &Value::Bool(true),
            "$type" => Some(type_name(v)) == arg.as_str(),
            "$in" => {
                let args = arg.as_array().map(Vec::as_slice).unwrap_or_default();
                match v {
                    Value::Array(items) => args.iter().any(|a| {
                        items
                            .iter()
                            .any(|i| self.cmp(i, a, raw_id) == Ordering::Equal)
                    }),
                    _ => args
                        .iter()
                        .any(|a| self.cmp(v, a, raw_id) == Ordering::Equal),
                }
            }
            "$nin" => !self.apply(val, "$in", arg, raw_id),
            "$size" => v
                .as_array()
                .is_some_and(|a| Some(a.len() as u64) == arg.as_u64()),
            "$mod" => match (v.as_i64(), arg.as_array()) {
                (Some(n), Some(a)) if a.len() == 2 => match (a[0].as_i64(), a[1].as_i64()) {
                    (Some(d), Some(r)) if d != 0 => n % d == r,
                    _ => false,
                },
                _ => false,
            },
            "$regex" => match (v.as_str(), arg.as_str()) {
                (Some(s), Some(p)) => self.regexes.get(p).is_some_and(|re| re.is_match(s)),
                _ => false,
            },
            "$all" => {
                let (Some(have), Some(want)) = (v.as_array(), arg.as_array()) else {
                    return false;
                };
                if want.is_empty() {
                    return false;
                }
                // CouchDB: every argument is an element, or the only argument is the array.
                want.iter().all(|w| have.contains(w))
                    || (want.len() == 1 && want[0].as_array() == Some(have))
            }
            "$elemMatch" => v
                .as_array()
                .is_some_and(|a| a.iter().any(|e| self.match_field(Some(e), arg, false))),
            "$allMatch" => v.as_array().is_some_and(|a| {
                !a.is_empty() && a.iter().all(|e| self.match_field(Some(e), arg, false))
            }),
            "$keyMapMatch" => v.as_object().is_some_and(|m| {
                m.keys()
                    .any(|k| self.match_field(Some(&Value::String(k.clone())), arg, false))
            }),
            "$beginsWith" => match (v.as_str(), arg.as_str()) {
                (Some(s), Some(p)) => s.starts_with(p),
                _ => false,
            },
            _ => false,
        }
    }
}

/// CouchDB's negation normalization (`mango_selector:norm_negations`): `$not` and `$nor` are
/// pushed down to the field conditions, by De Morgan's laws and by the opposite operators
/// (`$gt` <-> `$lte`, `$eq` <-> `$ne`, `$in` <-> `$nin`, `$exists` flipped); a condition
/// without an opposite keeps a `$not` on the field. So `{"$not": {"a": 1}}` is `{"a": {"$ne":
/// 1}}` and, as in CouchDB, does not match documents without `a`.
pub fn push_negations(sel: &Value) -> Value {
    pos_sel(sel)
}

fn and_of(parts: Vec<Value>, op: &str) -> Value {
    if parts.len() == 1 {
        parts.into_iter().next().expect("one part")
    } else {
        let mut m = Map::new();
        m.insert(op.to_string(), Value::Array(parts));
        Value::Object(m)
    }
}

fn one(k: &str, v: Value) -> Value {
    let mut m = Map::new();
    m.insert(k.to_string(), v);
    Value::Object(m)
}

fn each(v: &Value, f: fn(&Value) -> Value) -> Value {
    match v {
        Value::Array(a) => Value::Array(a.iter().map(f).collect()),
        other => other.clone(),
    }
}

fn pos_sel(sel: &Value) -> Value {
    match sel {
        Value::Object(m) if !m.is_empty() => {
            and_of(m.iter().map(|(k, v)| pos_entry(k, v)).collect(), "$and")
        }
        other => other.clone(),
    }
}

fn pos_entry(k: &str, v: &Value) -> Value {
    match k {
        "$and" | "$or" => one(k, each(v, pos_sel)),
        "$nor" => one("$and", each(v, neg_sel)),
        "$not" => neg_sel(v),
        field => one(field, pos_cond(v)),
    }
}

fn pos_cond(c: &Value) -> Value {
    let Value::Object(m) = c else {
        return c.clone();
    };
    if m.is_empty() {
        return c.clone();
    }
    let parts = m
        .iter()
        .map(|(k, v)| match k.as_str() {
            "$not" => neg_cond(v),
            "$nor" => one("$and", each(v, neg_cond)),
            "$and" | "$or" => one(k, each(v, pos_cond)),
            "$elemMatch" | "$allMatch" | "$keyMapMatch" => one(k, pos_cond(v)),
            op if op.starts_with('$') => one(k, v.clone()),
            _ => one(k, pos_cond(v)),
        })
        .collect();
    and_of(parts, "$and")
}

fn neg_sel(sel: &Value) -> Value {
    match sel {
        Value::Object(m) if !m.is_empty() => {
            and_of(m.iter().map(|(k, v)| neg_entry(k, v)).collect(), "$or")
        }
        other => one("$not", other.clone()),
    }
}

fn neg_entry(k: &str, v: &Value) -> Value {
    match k {
        "$and" => one("$or", each(v, neg_sel)),
        "$or" => one("$and", each(v, neg_sel)),
        "$not" => pos_sel(v),
        "$nor" => one("$or", each(v, pos_sel)),
        field => one(field, neg_cond(v)),
    }
}

fn neg_cond(c: &Value) -> Value {
    let m = match c {
        Value::Object(m) if !m.is_empty() => m,
        v => return one("$ne", v.clone()),
    };
    let parts = m
        .iter()
        .map(|(k, v)| match k.as_str() {
            "$lt" => one("$gte", v.clone()),
            "$lte" => one("$gt", v.clone()),
            "$gt" => one("$lte", v.clone()),
            "$gte" => one("$lt", v.clone()),
            "$eq" => one("$ne", v.clone()),
            "$ne" => one("$eq", v.clone()),
            "$in" => one("$nin", v.clone()),
            "$nin" => one("$in", v.clone()),
            "$exists" => one("$exists", Value::Bool(v != &Value::Bool(true))),
            "$not" => pos_cond(v),
            "$and" => one("$or", each(v, neg_cond)),
            "$or" => one("$and", each(v, neg_cond)),
            "$nor" => one("$or", each(v, pos_cond)),
            op if op.starts_with('$') => one("$not", one(op, pos_cond(v))),
            field => one(field, neg_cond(v)),
        })
        .collect();
    and_of(parts, "$or")
}

/// Validates a selector object (field names and combination operators).
fn missing_field_name() -> Error {
    Error::Custom {
        status: 400,
        error: "invalid_selector".into(),
        reason: "One or more conditions is missing a field name.".into(),
    }
}

fn validate_selector(v: &Value, re: &mut HashMap<String, regex::Regex>) -> Result<()> {
    let Value::Object(m) = v else {
        return Err(bad_arg("$and", v));
    };
    for (k, val) in m {
        if k.is_empty() {
            return Err(missing_field_name());
        }
        if k.starts_with('$') {
            validate_op(k, val, re)?;
        } else {
            validate_cond(val, re)?;
        }
    }
    Ok(())
}

/// Validates the condition given for a field: an operator object, a nested selector, or a
/// value (equality: any JSON, not inspected).
fn validate_cond(v: &Value, re: &mut HashMap<String, regex::Regex>) -> Result<()> {
    match v {
        Value::Object(m) => {
            for (k, val) in m {
                if k.is_empty() {
                    return Err(missing_field_name());
                }
                if k.starts_with('$') {
                    validate_op(k, val, re)?;
                } else {
                    validate_cond(val, re)?;
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn validate_op(op: &str, arg: &Value, re: &mut HashMap<String, regex::Regex>) -> Result<()> {
    match op {
        "$and" | "$or" | "$nor" => match arg {
            Value::Array(a) => a.iter().try_for_each(|s| match s {
                Value::Object(_) => validate_cond(s, re),
                _ => Err(bad_arg(op, arg)),
            }),
            _ => Err(bad_arg(op, arg)),
        },
        "$not" | "$elemMatch" | "$allMatch" | "$keyMapMatch" => match arg {
            Value::Object(_) => validate_cond(arg, re),
            _ => Err(bad_arg(op, arg)),
        },
        // Any JSON value, compared as a whole: objects inside are values, not selectors.
        "$eq" | "$ne" | "$gt" | "$gte" | "$lt" | "$lte" => Ok(()),
        "$in" | "$nin" | "$all" if arg.is_array() => Ok(()),
        "$exists" if arg.is_boolean() => Ok(()),
        "$type" | "$beginsWith" if arg.is_string() => Ok(()),
        "$size" if arg.is_u64() => Ok(()),
        "$mod" => match arg.as_array().map(Vec::as_slice) {
            Some([d, r]) if d.is_i64() && r.is_i64() && d.as_i64() != Some(0) => Ok(()),
            _ => Err(bad_arg(op, arg)),
        },
        "$regex" => {
            let Some(p) = arg.as_str() else {
                return Err(bad_arg(op, arg));
            };
            if !re.contains_key(p) {
                let compiled = regex::Regex::new(p).map_err(|e| Error::Custom {
                    status: 400,
                    error: "bad_arg".into(),
                    reason: format!(
                        "Bad argument for operator $regex: {arg}: {e}. Lookaround and \
                         backreferences are not supported; rewrite the pattern without them."
                    ),
                })?;
                re.insert(p.to_string(), compiled);
            }
            Ok(())
        }
        "$in" | "$nin" | "$all" | "$exists" | "$type" | "$beginsWith" | "$size" => {
            Err(bad_arg(op, arg))
        }
        "$where" | "$geoWithin" | "$geoIntersects" | "$near" | "$nearSphere" | "$text" => {
            Err(Error::Custom {
                status: 400,
                error: "not_supported".into(),
                reason: format!("Unsupported operator: {op}"),
            })
        }
        _ => Err(Error::Custom {
            status: 400,
            error: "invalid_operator".into(),
            reason: format!("Invalid operator: {op}"),
        }),
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

fn number_cmp(x: &serde_json::Number, y: &serde_json::Number) -> Ordering {
    match (x.as_i64(), y.as_i64()) {
        (Some(a), Some(b)) => a.cmp(&b),
        _ => x
            .as_f64()
            .unwrap_or(0.0)
            .partial_cmp(&y.as_f64().unwrap_or(0.0))
            .unwrap_or(Ordering::Equal),
    }
}

/// Compares two JSON values by CouchDB's type order, then by value; strings by code point.
pub fn compare(a: &Value, b: &Value) -> Ordering {
    compare_with(a, b, code_point_order)
}

/// Compares two JSON values by CouchDB's collation, strings (and object keys) by `strings`.
pub fn compare_with(a: &Value, b: &Value, strings: StringOrder) -> Ordering {
    let (ra, rb) = (type_rank(a), type_rank(b));
    if ra != rb {
        return ra.cmp(&rb);
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => number_cmp(x, y),
        (Value::String(x), Value::String(y)) => strings(x, y),
        (Value::Array(x), Value::Array(y)) => {
            for (p, q) in x.iter().zip(y) {
                let c = compare_with(p, q, strings);
                if c != Ordering::Equal {
                    return c;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(x), Value::Object(y)) => {
            for ((k1, v1), (k2, v2)) in x.iter().zip(y) {
                let c = strings(k1, k2).then_with(|| compare_with(v1, v2, strings));
                if c != Ordering::Equal {
                    return c;
                }
            }
            x.len().cmp(&y.len())
        }
        _ => Ordering::Equal,
    }
}

/// CouchDB compares the top-level `_id` raw (Erlang term order): numbers < `false`/`null`/
/// `true` < objects < arrays < strings, strings by bytes.
fn raw_compare(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Number(_) => 0,
            Value::Bool(false) => 1,
            Value::Null => 2,
            Value::Bool(true) => 3,
            Value::Object(_) => 4,
            Value::Array(_) => 5,
            Value::String(_) => 6,
        }
    }
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.as_bytes().cmp(y.as_bytes()),
        _ if rank(a) != rank(b) => rank(a).cmp(&rank(b)),
        _ => compare(a, b),
    }
}

/// Splits a Mango field name into its path: dots separate members, and a backslash escapes
/// the next character (`"a\\.b"` is the member `a.b`, `"\\$foo"` the member `$foo`).
pub fn field_path(path: &str) -> Vec<String> {
    let mut parts = vec![];
    let mut buf = String::new();
    let mut chars = path.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    buf.push(n);
                }
            }
            '.' => parts.push(std::mem::take(&mut buf)),
            c => buf.push(c),
        }
    }
    parts.push(buf);
    parts
}

/// The value at a Mango field name (see [`field_path`]) in `doc`, if any.
pub fn get_path<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    if !path.contains(['.', '\\']) {
        return doc.as_object()?.get(path);
    }
    let mut cur = doc;
    for p in field_path(path) {
        cur = cur.as_object()?.get(&p)?;
    }
    Some(cur)
}

/// The JSON type of `v` as Mango's `$type` names it (`null`, `boolean`, `number`, `string`,
/// `array`, `object`).
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(sel: Value, doc: Value) -> bool {
        Selector::new(sel).unwrap().matches(&doc)
    }

    fn err(sel: Value) -> (u16, String, String) {
        let e = Selector::new(sel).unwrap_err();
        (e.status(), e.error_name(), e.reason())
    }

    #[test]
    fn operators() {
        let d = json!({"type": "a", "n": 5, "tags": ["x", "y"], "o": {"p": 1}, "s": "hello"});
        assert!(m(json!({"type": "a"}), d.clone()));
        assert!(!m(json!({"type": "b"}), d.clone()));
        assert!(m(json!({"n": {"$gt": 4, "$lte": 5}}), d.clone()));
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
        assert!(m(json!({"type": {"$ne": "z"}}), d.clone()));
        assert!(
            !m(json!({"missing": {"$ne": "z"}}), d.clone()),
            "$ne needs the field"
        );
        assert!(!m(json!({"missing": {"$nin": ["z"]}}), d));
        assert_eq!(err(json!({"a": {"$bogus": 1}})).1, "invalid_operator");
        assert_eq!(err(json!({"$or": {}})).1, "bad_arg");
        assert_eq!(err(json!({"a": {"$where": "x"}})).1, "not_supported");
        assert_eq!(
            err(json!({"": 1})),
            (
                400,
                "invalid_selector".to_string(),
                "One or more conditions is missing a field name.".to_string()
            )
        );
    }

    /// CouchDB pushes negations down to the fields (`mango_selector:norm_negations`), so a
    /// negated condition still needs the field.
    #[test]
    fn negations_need_the_field() {
        let with = json!({"a": 1, "s": "x", "t": [1]});
        let without = json!({"b": 1});
        let cases = [
            (json!({"$not": {"a": 2}}), true, false),
            (json!({"$not": {"a": 1}}), false, false),
            (json!({"a": {"$not": {"$gt": 5}}}), true, false),
            (json!({"$nor": [{"a": 2}, {"a": 3}]}), true, false),
            (json!({"$not": {"a": {"$exists": true}}}), false, true),
            (
                json!({"$not": {"$and": [{"a": 1}, {"s": "y"}]}}),
                true,
                false,
            ),
            (json!({"$not": {"$or": [{"a": 2}, {"b": 1}]}}), false, false),
            (json!({"s": {"$not": {"$regex": "^y"}}}), true, false),
            (json!({"$not": {"$not": {"a": 1}}}), true, false),
            (json!({"t": {"$not": {"$size": 2}}}), true, false),
        ];
        for (sel, w, wo) in cases {
            assert_eq!(m(sel.clone(), with.clone()), w, "{sel} on {with}");
            assert_eq!(m(sel.clone(), without.clone()), wo, "{sel} on {without}");
        }
        assert_eq!(
            push_negations(&json!({"$not": {"a": {"$gt": 1, "$lt": 5}}})),
            json!({"a": {"$or": [{"$lte": 1}, {"$gte": 5}]}})
        );
    }

    #[test]
    fn comparisons_cross_types() {
        let d = json!({"_id": "x", "n": 5, "s": "b", "z": null});
        // null < false < true < numbers < strings < arrays < objects
        assert!(m(json!({"n": {"$gt": null}}), d.clone()));
        assert!(m(json!({"n": {"$gt": true}}), d.clone()));
        assert!(m(json!({"n": {"$lt": "0"}}), d.clone()));
        assert!(m(
            json!({"s": {"$gt": 1000}, "s2": {"$exists": false}}),
            d.clone()
        ));
        assert!(m(json!({"s": {"$lt": []}}), d.clone()));
        assert!(m(json!({"z": {"$lt": false}}), d.clone()));
        assert!(!m(json!({"n": {"$gt": "4"}}), d.clone()));
        assert!(m(json!({"_id": {"$gt": null}}), d.clone()));
        assert!(m(json!({"_id": {"$gt": 99}}), d.clone()));
        assert!(
            m(json!({"_id": {"$gt": "X"}}), d.clone()),
            "ids compare by bytes"
        );
        let icu = |a: &str, b: &str| a.to_lowercase().cmp(&b.to_lowercase());
        let s = Selector::new(json!({"s": {"$gt": "B"}})).unwrap();
        assert!(s.matches(&d), "code point order: b > B");
        let s = s.with_string_order(icu);
        assert!(!s.matches(&d), "injected order: b == B");
        assert!(m(json!({"n": 5.0}), d));
    }

    #[test]
    fn regex_escapes_and_values() {
        let d = json!({"name": "Alice", "$foo": 1, "a.b": 2, "v": {"k": 1}, "arr": [{"k": 1}]});
        assert!(m(json!({"name": {"$regex": "^A"}}), d.clone()));
        assert!(m(json!({"name": {"$regex": "(?i)^al"}}), d.clone()));
        assert!(!m(json!({"name": {"$regex": "^a"}}), d.clone()));
        assert_eq!(err(json!({"name": {"$regex": "[a"}})).1, "bad_arg");
        assert_eq!(err(json!({"name": {"$regex": 1}})).1, "bad_arg");
        assert!(m(json!({"\\$foo": 1}), d.clone()));
        assert!(m(json!({"a\\.b": 2}), d.clone()));
        assert!(m(json!({"v": {"$in": [{"k": 1}]}}), d.clone()));
        assert!(m(json!({"v": {"$eq": {"k": 1}}}), d.clone()));
        assert!(m(json!({"arr": {"$all": [{"k": 1}]}}), d.clone()));
        assert!(m(json!({"v": {"$nin": [{"k": 2}, {"$x": 1}]}}), d.clone()));
        assert!(!m(json!({"arr": {"$all": []}}), d));
        assert_eq!(field_path("a\\.b.c"), vec!["a.b", "c"]);
        assert_eq!(field_path("\\$foo"), vec!["$foo"]);
    }
}
