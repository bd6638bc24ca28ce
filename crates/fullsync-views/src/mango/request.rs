//! A parsed `_find` request.

use base64::Engine as _;
use fullsync_engine::Selector;
use serde_json::{json, Value};

use super::defs::{bad, custom, mango_selector, parse_fields};
use crate::error::ViewError;

/// A parsed `_find` request.
pub(crate) struct Find {
    pub(crate) selector: Selector,
    pub(crate) selector_json: Value,
    pub(crate) limit: usize,
    pub(crate) skip: usize,
    pub(crate) sort: Vec<(String, bool)>,
    pub(crate) fields: Option<Vec<String>>,
    pub(crate) use_index: Option<(String, Option<String>)>,
    pub(crate) use_index_json: Value,
    pub(crate) conflicts: bool,
    pub(crate) stats: bool,
}

fn parse_use_index(v: Option<&Value>) -> Result<Option<(String, Option<String>)>, ViewError> {
    let ddoc_id = |d: &str| format!("_design/{}", d.strip_prefix("_design/").unwrap_or(d));
    let invalid = |v: &Value| {
        custom(
            400,
            "invalid_index_name",
            format!(
                "Invalid index name: {v}. use_index is \"<design doc>\" or \
                 [\"<design doc>\", \"<index name>\"]"
            ),
        )
    };
    match v {
        None => Ok(None),
        Some(Value::String(d)) if d.is_empty() => Ok(None),
        Some(Value::String(d)) => Ok(Some((ddoc_id(d), None))),
        Some(Value::Array(a)) => match a.as_slice() {
            [] => Ok(None),
            [Value::String(d)] => Ok(Some((ddoc_id(d), None))),
            [Value::String(d), Value::String(n)] => Ok(Some((ddoc_id(d), Some(n.clone())))),
            _ => Err(invalid(v.expect("some"))),
        },
        Some(other) => Err(invalid(other)),
    }
}

pub(crate) fn parse_find(body: &Value) -> Result<Find, ViewError> {
    let sel = body.get("selector").cloned().ok_or_else(|| {
        custom(
            400,
            "missing_required_key",
            "Missing required key: selector",
        )
    })?;
    if !sel.is_object() {
        return Err(custom(
            400,
            "invalid_selector_json",
            format!("Selector must be a JSON object, not: {sel}"),
        ));
    }
    let selector = mango_selector(&sel)?;
    let uint = |k: &str, d: usize| -> Result<usize, ViewError> {
        match body.get(k) {
            None => Ok(d),
            Some(v) => v.as_u64().map(|n| n as usize).ok_or_else(|| {
                bad(format!(
                    "Invalid value for {k}: must be a non-negative integer"
                ))
            }),
        }
    };
    let mut skip = uint("skip", 0)?;
    if let Some(b) = body
        .get("bookmark")
        .and_then(Value::as_str)
        .filter(|b| !b.is_empty() && *b != "nil")
    {
        let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(b)
            .ok()
            .and_then(|d| serde_json::from_slice::<Value>(&d).ok())
            .and_then(|v| v.get("skip").and_then(Value::as_u64))
            .ok_or_else(|| {
                custom(
                    400,
                    "invalid_bookmark",
                    format!("Invalid bookmark value: {b}"),
                )
            })?;
        skip += decoded as usize;
    }
    let sort = match body.get("sort") {
        None => vec![],
        Some(Value::Array(a)) if a.is_empty() => vec![],
        Some(v @ Value::Array(_)) => parse_fields(v)?,
        Some(v) => {
            return Err(custom(
                400,
                "invalid_sort_json",
                format!("Sort must be an array of sort specs, not: {v}"),
            ))
        }
    };
    let fields = match body.get("fields") {
        None => None,
        Some(Value::Array(a)) => Some(
            a.iter()
                .map(|f| {
                    f.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| bad("fields must be an array of strings"))
                })
                .collect::<Result<_, _>>()?,
        ),
        Some(_) => return Err(bad("fields must be an array of strings")),
    };
    let use_index = parse_use_index(body.get("use_index"))?;
    let use_index_json = match body.get("use_index") {
        None => json!([]),
        Some(Value::String(s)) if s.is_empty() => json!([]),
        Some(Value::String(s)) => json!([s]),
        Some(v) => v.clone(),
    };
    Ok(Find {
        selector,
        selector_json: sel,
        limit: uint("limit", 25)?,
        skip,
        sort,
        fields,
        use_index,
        use_index_json,
        conflicts: body
            .get("conflicts")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        stats: body
            .get("execution_stats")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}
