//! Design-document transactions: views and update functions.

use fullsync_engine::ReadOptions;
use serde_json::{json, Map, Value};

use super::{Cx, RunError};

/// `GetView`: `ddoc` + `view` (or `viewname = "ddoc/view"`), options from `q_*` properties and variables.
pub(super) fn get_view(cx: &Cx<'_>) -> Result<Value, RunError> {
    let spec = match (cx.prop("ddoc"), cx.prop("view")) {
        (Some(d), Some(v)) => format!(
            "{}/{}",
            d.as_str().unwrap_or_default(),
            v.as_str().unwrap_or_default()
        ),
        _ => cx
            .prop("viewname")
            .and_then(|v| v.as_str().map(str::to_string))
            .ok_or_else(|| RunError::Bad("GetView needs viewname = \"ddoc/view\"".into()))?,
    };
    let (ddoc, view) = spec
        .split_once('/')
        .ok_or_else(|| RunError::Bad(format!("viewname `{spec}` is not ddoc/view")))?;
    let mut q = Map::new();
    for o in VIEW_OPTIONS {
        if let Some(v) = cx.prop(&format!("q_{o}")) {
            q.insert(o.to_string(), v);
        }
        if let Some(v) = cx.vars.get(*o) {
            q.insert(o.to_string(), v.clone());
        }
    }
    for key in ["key", "keys", "startkey", "start_key", "endkey", "end_key"] {
        if let Some(v) = q.get_mut(key) {
            *v = string_or_json(v);
        }
    }
    let query = fullsync_views::ViewQuery::from_json(&Value::Object(q))?;
    cx.db()?;
    Ok(cx.views.query(cx.db_name, ddoc, view, &query)?)
}

/// `PostUpdate` or `PutUpdate` (`put`): a design document update function,
/// `function (doc, req) { return [doc, response]; }`.
pub(super) fn update(cx: &Cx<'_>, put: bool) -> Result<Value, RunError> {
    // A design document update function: `function (doc, req) { return [doc, response]; }`.
    let spec = match (cx.prop("ddoc"), cx.prop("func")) {
        (Some(d), Some(f)) => format!(
            "{}/{}",
            d.as_str().unwrap_or_default(),
            f.as_str().unwrap_or_default()
        ),
        _ => cx
            .prop("updatename")
            .or_else(|| cx.prop("update"))
            .and_then(|v| v.as_str().map(str::to_string))
            .ok_or_else(|| {
                RunError::Bad("an update transaction needs updatename = \"ddoc/function\"".into())
            })?,
    };
    let (ddoc, func) = spec
        .split_once('/')
        .ok_or_else(|| RunError::Bad(format!("`{spec}` is not ddoc/function")))?;
    let db = cx.db()?;
    let dd = db.get(&format!("_design/{ddoc}"), None, &ReadOptions::default())?;
    let src = dd
        .get("updates")
        .and_then(|u| u.get(func))
        .and_then(Value::as_str)
        .ok_or_else(|| RunError::Bad(format!("_design/{ddoc} has no update function `{func}`")))?;
    let docid = cx.var_str("docid");
    let doc = match &docid {
        Some(id) => db.get(id, None, &ReadOptions::default()).ok(),
        None => None,
    };
    let body: Map<String, Value> = cx
        .vars
        .iter()
        .filter(|(k, _)| !k.starts_with("_use_") && k.as_str() != "docid")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let req = json!({"id": docid, "method": if put { "PUT" } else { "POST" }, "query": {}, "form": body,
                         "body": Value::Object(body.clone()).to_string(), "userCtx": {"db": cx.db_name, "name": cx.caller.user, "roles": []}});
    let set = fullsync_views::js::FnSet {
        key: format!("update:{}:{ddoc}:{func}:{}", cx.db_name, src.len()),
        sources: vec![(format!("_design/{ddoc}/updates/{func}"), src.to_string())],
        ddoc: dd.clone(),
    };
    let out = cx
        .views
        .pool()
        .call(&set, 0, json!([doc, req]), false)
        .map_err(|e| RunError::Bad(e.to_string()))?;
    let (new_doc, response) = match out {
        Value::Array(mut a) if a.len() == 2 => {
            let r = a.pop().unwrap_or(Value::Null);
            (a.pop().unwrap_or(Value::Null), r)
        }
        other => {
            return Err(RunError::Bad(format!(
                "the update function must return [doc, response], not {other}"
            )))
        }
    };
    let mut written = Value::Null;
    if new_doc.is_object() {
        let rev = db.put(
            fullsync_engine::parse_doc(new_doc, None, &mut |_| None)?,
            &cx.user,
        )?;
        written = json!(rev);
    }
    Ok(json!({"response": response, "rev": written}))
}

pub(super) const VIEW_OPTIONS: &[&str] = &[
    "key",
    "keys",
    "startkey",
    "start_key",
    "endkey",
    "end_key",
    "startkey_docid",
    "endkey_docid",
    "inclusive_end",
    "limit",
    "skip",
    "descending",
    "group",
    "group_level",
    "reduce",
    "include_docs",
    "conflicts",
    "update_seq",
    "stale",
];

pub(super) fn string_or_json(v: &Value) -> Value {
    match v {
        Value::String(s) if s.starts_with('{') || s.starts_with('[') => {
            serde_json::from_str(s).unwrap_or_else(|_| v.clone())
        }
        other => other.clone(),
    }
}
