//! View query options, parsed and validated exactly as CouchDB does (`couch_mrview_util`
//! `validate_args`), with its `query_parse_error` messages.

use serde_json::Value;

use crate::collate::collate;
use crate::error::ViewError;

/// When to bring the index up to date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Update {
    /// Before answering (default).
    #[default]
    True,
    /// Never (`stale=ok`, `update=false`).
    False,
    /// After answering (`stale=update_after`, `update=lazy`).
    Lazy,
}

/// Grouping of a reduce query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// One row for the whole range.
    None,
    /// One row per distinct key (`group=true`).
    Exact,
    /// Array keys truncated to this many elements (`group_level=N`).
    Level(usize),
}

/// A view query.
#[derive(Clone, Debug, Default)]
pub struct ViewQuery {
    /// `keys`
    pub keys: Option<Vec<Value>>,
    /// `key` (sets start and end)
    pub key: Option<Value>,
    /// `startkey` / `start_key`
    pub start_key: Option<Value>,
    /// `startkey_docid` / `start_key_doc_id`
    pub start_docid: Option<String>,
    /// `endkey` / `end_key`
    pub end_key: Option<Value>,
    /// `endkey_docid` / `end_key_doc_id`
    pub end_docid: Option<String>,
    /// `inclusive_end` (default true)
    pub inclusive_end: Option<bool>,
    /// `limit`
    pub limit: Option<usize>,
    /// `skip`
    pub skip: usize,
    /// `descending`
    pub descending: bool,
    /// `group`
    pub group: Option<bool>,
    /// `group_level`
    pub group_level: Option<usize>,
    /// `reduce`
    pub reduce: Option<bool>,
    /// `include_docs`
    pub include_docs: bool,
    /// `conflicts` (with include_docs)
    pub conflicts: bool,
    /// `attachments` (with include_docs)
    pub attachments: bool,
    /// `update` / `stale`
    pub update: Update,
    /// `update_seq`: report the index sequence
    pub update_seq: bool,
}

fn qp(msg: impl Into<String>) -> ViewError {
    ViewError::QueryParse(msg.into())
}

fn parse_bool(name: &str, v: &Value) -> Result<bool, ViewError> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s == "true" => Ok(true),
        Value::String(s) if s == "false" => Ok(false),
        other => Err(qp(format!(
            "Invalid boolean parameter: \"{}\" for {name}",
            other.as_str().unwrap_or(&other.to_string())
        ))),
    }
}

fn parse_uint(name: &str, v: &Value) -> Result<usize, ViewError> {
    match v {
        Value::Number(n) => n.as_u64().map(|n| n as usize),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| {
        let shown = v
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string());
        match name {
            "limit" => qp(format!(
                "Invalid value for integer: \"{shown}\"; `limit` must be a positive integer."
            )),
            "skip" => qp(format!(
                "Invalid value for integer: \"{shown}\"; `skip` must be >= 0"
            )),
            "group_level" => qp(format!(
                "Invalid value for integer: \"{shown}\"; `group_level` must be >= 0"
            )),
            _ => qp(format!("Invalid value for integer: \"{shown}\" for {name}")),
        }
    })
}

impl ViewQuery {
    /// Parses URL query parameters (JSON-encoded values where CouchDB expects JSON).
    pub fn from_params(params: &[(String, String)]) -> Result<ViewQuery, ViewError> {
        let mut obj = serde_json::Map::new();
        for (k, v) in params {
            let json_param = matches!(
                k.as_str(),
                "key" | "keys" | "startkey" | "start_key" | "endkey" | "end_key"
            );
            let val = if json_param {
                serde_json::from_str(v).map_err(|_| qp(format!("Invalid JSON for {k}: {v}")))?
            } else {
                Value::String(v.clone())
            };
            obj.insert(k.clone(), val);
        }
        Self::from_json(&Value::Object(obj))
    }

    /// Parses a JSON object of options (POST bodies, `queries`, the preview API).
    pub fn from_json(v: &Value) -> Result<ViewQuery, ViewError> {
        let Value::Object(m) = v else {
            return Err(qp("query options must be a JSON object"));
        };
        let mut q = ViewQuery::default();
        for (k, v) in m {
            match k.as_str() {
                "keys" => {
                    q.keys = Some(
                        v.as_array()
                            .cloned()
                            .ok_or_else(|| qp("`keys` must be an array of strings."))?,
                    )
                }
                "key" => q.key = Some(v.clone()),
                "startkey" | "start_key" => q.start_key = Some(v.clone()),
                "endkey" | "end_key" => q.end_key = Some(v.clone()),
                "startkey_docid" | "start_key_doc_id" => {
                    q.start_docid = Some(
                        v.as_str()
                            .ok_or_else(|| qp("`start_key_docid` must be a string."))?
                            .into(),
                    )
                }
                "endkey_docid" | "end_key_doc_id" => {
                    q.end_docid = Some(
                        v.as_str()
                            .ok_or_else(|| qp("`end_key_docid` must be a string."))?
                            .into(),
                    )
                }
                "inclusive_end" => q.inclusive_end = Some(parse_bool(k, v)?),
                "limit" => q.limit = Some(parse_uint(k, v)?),
                "skip" => q.skip = parse_uint(k, v)?,
                "descending" => q.descending = parse_bool(k, v)?,
                "group" => q.group = Some(parse_bool(k, v)?),
                "group_level" => q.group_level = Some(parse_uint(k, v)?),
                "reduce" => q.reduce = Some(parse_bool(k, v)?),
                "include_docs" => q.include_docs = parse_bool(k, v)?,
                "conflicts" => q.conflicts = parse_bool(k, v)?,
                "attachments" => q.attachments = parse_bool(k, v)?,
                "update_seq" => q.update_seq = parse_bool(k, v)?,
                "stale" => {
                    q.update = match v.as_str() {
                        Some("ok") => Update::False,
                        Some("update_after") => Update::Lazy,
                        Some("false") => Update::True,
                        _ => return Err(qp("Invalid value for `stale`.")),
                    }
                }
                "update" => {
                    q.update = match v {
                        Value::Bool(true) => Update::True,
                        Value::Bool(false) => Update::False,
                        Value::String(s) if s == "true" => Update::True,
                        Value::String(s) if s == "false" => Update::False,
                        Value::String(s) if s == "lazy" => Update::Lazy,
                        _ => return Err(qp("Invalid value for `update`.")),
                    }
                }
                "stable" | "sorted" | "att_encoding_info" | "local_seq" | "partition" => {}
                other => return Err(qp(format!("Invalid parameter: {other}"))),
            }
        }
        if let Some(k) = q.key.take() {
            if q.keys.is_some() {
                return Err(qp(
                    "`keys` is incompatible with `key`, `start_key` and `end_key`",
                ));
            }
            q.start_key = Some(k.clone());
            q.end_key = Some(k);
        }
        if q.keys.as_ref().is_some_and(|k| !k.is_empty())
            && (q.start_key.is_some() || q.end_key.is_some())
        {
            return Err(qp(
                "`keys` is incompatible with `key`, `start_key` and `end_key`",
            ));
        }
        Ok(q)
    }

    /// Resolves reduce/grouping against the view's kind and checks the remaining rules.
    /// Returns `(reduce, group)`.
    pub fn validate(&self, has_reduce: bool) -> Result<(bool, Group), ViewError> {
        let group = match (self.group, self.group_level) {
            (Some(false), Some(l)) if l > 0 => {
                return Err(qp(
                    "Can't specify group=false and group_level>0 at the same time",
                ))
            }
            (Some(true), None) => Group::Exact,
            (_, Some(0)) | (None | Some(false), None) => Group::None,
            (_, Some(l)) => Group::Level(l),
        };
        if !has_reduce && self.reduce == Some(true) {
            return Err(qp("Reduce is invalid for map-only views."));
        }
        let reduce = has_reduce && self.reduce != Some(false);
        if !reduce && group != Group::None {
            return Err(qp("Invalid use of grouping on a map view."));
        }
        if reduce && self.keys.is_some() && group != Group::Exact {
            return Err(qp(
                "Multi-key fetches for reduce views must use `group=true`",
            ));
        }
        if reduce && self.include_docs {
            return Err(qp("`include_docs` is invalid for reduce"));
        }
        if reduce && self.conflicts {
            return Err(qp("`conflicts` is invalid for reduce views."));
        }
        if let (Some(s), Some(e)) = (&self.start_key, &self.end_key) {
            let c = collate(s, e).then_with(|| {
                self.start_docid
                    .as_deref()
                    .unwrap_or("")
                    .cmp(self.end_docid.as_deref().unwrap_or("\u{10ffff}"))
            });
            if s != e {
                if !self.descending && c == std::cmp::Ordering::Greater {
                    return Err(qp(
                        "No rows can match your key range, reverse your start_key and end_key or set descending=true",
                    ));
                }
                if self.descending && c == std::cmp::Ordering::Less {
                    return Err(qp(
                        "No rows can match your key range, reverse your start_key and end_key or set descending=false",
                    ));
                }
            }
        }
        Ok((reduce, group))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(pairs: &[(&str, &str)]) -> Result<ViewQuery, ViewError> {
        ViewQuery::from_params(
            &pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn couchdb_errors() {
        let e = |r: Result<(bool, Group), ViewError>| r.unwrap_err().to_string();
        assert_eq!(
            e(p(&[("group", "true"), ("reduce", "false")])
                .unwrap()
                .validate(true)),
            "Invalid use of grouping on a map view."
        );
        assert_eq!(
            e(p(&[("reduce", "true")]).unwrap().validate(false)),
            "Reduce is invalid for map-only views."
        );
        assert_eq!(
            e(p(&[("include_docs", "true")]).unwrap().validate(true)),
            "`include_docs` is invalid for reduce"
        );
        assert_eq!(
            e(p(&[("keys", "[1]")]).unwrap().validate(true)),
            "Multi-key fetches for reduce views must use `group=true`"
        );
        assert!(e(p(&[("startkey", "2"), ("endkey", "1")])
            .unwrap()
            .validate(false))
        .starts_with("No rows can match"));
        assert_eq!(
            e(p(&[("group", "false"), ("group_level", "1")])
                .unwrap()
                .validate(true)),
            "Can't specify group=false and group_level>0 at the same time"
        );
        assert!(p(&[("keys", "[1]"), ("startkey", "1")])
            .unwrap_err()
            .to_string()
            .contains("incompatible"));
        assert!(p(&[("startkey", "{bad")])
            .unwrap_err()
            .to_string()
            .contains("Invalid JSON"));
        assert!(p(&[("limit", "-1")]).is_err());
        assert!(p(&[("descending", "maybe")]).is_err());
        assert!(p(&[("stale", "nope")]).is_err());
        assert!(p(&[("bogus", "1")]).is_err());
        assert_eq!(
            p(&[("group_level", "2")]).unwrap().validate(true).unwrap(),
            (true, Group::Level(2))
        );
        assert_eq!(
            p(&[("reduce", "false")]).unwrap().validate(true).unwrap(),
            (false, Group::None)
        );
        let q = ViewQuery::from_json(&json!({"key": "a", "update": "lazy"})).unwrap();
        assert_eq!(
            (q.start_key, q.end_key, q.update),
            (Some(json!("a")), Some(json!("a")), Update::Lazy)
        );
    }
}
