//! Document transactions: post (one or bulk, with PostDocument policies), get, head, delete,
//! copy, `_all_docs`, Mango find.

use fullsync_engine::{AllDocsOptions, Database, ReadOptions, Rev};
use serde_json::{json, Map, Value};

use super::{as_json, Caller, Cx, RunError};
use crate::postdoc::{self, AclPolicy, Policy};
use fullsync_engine::UserCtx;

/// `PostDocument` (one document) or `PostBulkDocuments` (`bulk`: one write per item of `data`).
pub(super) fn post_documents(cx: &Cx<'_>, bulk: bool) -> Result<Value, RunError> {
    let policy = cx
        .prop("policy")
        .and_then(|p| p.as_str().and_then(Policy::parse))
        .unwrap_or(Policy::None);
    let acl = cx
        .prop("fullSyncAclPolicy")
        .and_then(|p| p.as_str().and_then(AclPolicy::parse))
        .unwrap_or(AclPolicy::FromAuthenticatedUser);
    let use_hash = cx
        .prop("useHash")
        .is_some_and(|v| v == json!(true) || v == json!("true"));
    let base = cx.prop("p_json_base").map(as_json);
    let db = cx.db()?;
    let inputs: Vec<Map<String, Value>> = if bulk {
        match cx.vars.get("data").map(|d| as_json(d.clone())) {
            Some(Value::Array(items)) => items
                .into_iter()
                .map(|item| {
                    let mut m = cx.vars.clone();
                    m.insert("data".into(), item);
                    m
                })
                .collect(),
            _ => vec![cx.vars.clone()],
        }
    } else {
        vec![cx.vars.clone()]
    };
    let mut results = vec![];
    for v in inputs {
        results.push(post_one(
            &db,
            &v,
            base.as_ref(),
            policy,
            acl,
            use_hash,
            cx.caller,
            &cx.user,
        ));
    }
    if !bulk {
        return results.pop().expect("one input");
    }
    Ok(Value::Array(
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|e| json!({"error": e.to_string()})))
            .collect(),
    ))
}

/// `GetDocument`, or `HeadDocument` (`head`: the id and revision only).
pub(super) fn get_document(cx: &Cx<'_>, head: bool) -> Result<Value, RunError> {
    let id = cx
        .var_str("docid")
        .or_else(|| cx.var_str("_id"))
        .ok_or(RunError::MissingVariable("docid".into()))?;
    let rev = cx.var_str("rev").map(|r| Rev::parse(&r)).transpose()?;
    let doc = cx.db()?.get(
        &id,
        rev.as_ref(),
        &ReadOptions {
            conflicts: true,
            ..Default::default()
        },
    )?;
    Ok(if head {
        json!({"_id": id, "_rev": doc["_rev"]})
    } else {
        doc
    })
}

/// `DeleteDocument`: the current revision unless `rev` is given.
pub(super) fn delete_document(cx: &Cx<'_>) -> Result<Value, RunError> {
    let id = cx
        .var_str("docid")
        .or_else(|| cx.var_str("_id"))
        .ok_or(RunError::MissingVariable("docid".into()))?;
    let db = cx.db()?;
    let rev = match cx.var_str("rev") {
        Some(r) => r,
        None => db.get(&id, None, &ReadOptions::default())?["_rev"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    };
    let doc = fullsync_engine::parse_doc(
        json!({"_id": id, "_rev": rev, "_deleted": true}),
        None,
        &mut |_| None,
    )?;
    let new = db.put(doc, &cx.user)?;
    Ok(json!({"ok": true, "id": id, "rev": new}))
}

/// `CopyDocument`: `docid` to `destination` (over it when it exists).
pub(super) fn copy_document(cx: &Cx<'_>) -> Result<Value, RunError> {
    let id = cx
        .var_str("docid")
        .ok_or(RunError::MissingVariable("docid".into()))?;
    let dest = cx
        .var_str("destination")
        .ok_or(RunError::MissingVariable("destination".into()))?;
    let db = cx.db()?;
    let mut doc = db.get(
        &id,
        None,
        &ReadOptions {
            attachments: true,
            ..Default::default()
        },
    )?;
    doc["_id"] = json!(dest);
    if let Some(m) = doc.as_object_mut() {
        m.shift_remove("_rev");
    }
    if let Ok(cur) = db.get(&dest, None, &ReadOptions::default()) {
        doc["_rev"] = cur["_rev"].clone();
    }
    let rev = db.put(
        fullsync_engine::parse_doc(doc, None, &mut |_| None)?,
        &cx.user,
    )?;
    Ok(json!({"ok": true, "id": dest, "rev": rev}))
}

/// `AllDocs`.
pub(super) fn all_docs(cx: &Cx<'_>) -> Result<Value, RunError> {
    let q = |name: &str| {
        cx.prop(&format!("q_{name}"))
            .or_else(|| cx.vars.get(name).cloned())
    };
    let opts = AllDocsOptions {
        include_docs: q("include_docs").is_some_and(|v| v == json!(true) || v == json!("true")),
        limit: q("limit")
            .and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
            .map(|l| l as usize),
        skip: q("skip").and_then(|v| v.as_u64()).unwrap_or(0) as usize,
        descending: q("descending").is_some_and(|v| v == json!(true) || v == json!("true")),
        inclusive_end: true,
        ..Default::default()
    };
    let (total, offset, rows) = cx.db()?.all_docs(&opts)?;
    Ok(json!({"total_rows": total, "offset": offset, "rows": rows}))
}

/// `PostFind`: a Mango query from the `q_`/`p_` properties and variables.
pub(super) fn find(cx: &Cx<'_>) -> Result<Value, RunError> {
    let mut body = Map::new();
    for k in [
        "selector",
        "fields",
        "sort",
        "limit",
        "skip",
        "use_index",
        "bookmark",
    ] {
        if let Some(v) = cx
            .prop(&format!("q_{k}"))
            .or_else(|| cx.prop(&format!("p_{k}")))
            .or_else(|| cx.vars.get(k).cloned())
        {
            body.insert(k.into(), as_json(v));
        }
    }
    Ok(fullsync_views::mango::find(
        &*cx.db()?,
        &Value::Object(body),
    )?)
}

/// One PostDocument write, following every rule of the format notes.
#[allow(clippy::too_many_arguments)]
pub fn post_one(
    db: &Database,
    vars: &Map<String, Value>,
    base: Option<&Value>,
    policy: Policy,
    acl: AclPolicy,
    use_hash: bool,
    caller: &Caller,
    user: &UserCtx,
) -> Result<Value, RunError> {
    let posted = postdoc::build_doc(vars, base);
    let mut doc = posted.clone();
    let id = doc.get("_id").and_then(Value::as_str).map(str::to_string);
    let current = match (&id, policy) {
        (Some(id), Policy::Override | Policy::Merge) => {
            match db.get(id, None, &ReadOptions::default()) {
                Ok(d) => Some(d),
                Err(fullsync_engine::Error::NotFound(_)) => None,
                Err(e) => return Err(e.into()),
            }
        }
        _ => None,
    };
    match policy {
        Policy::None => {}
        Policy::Create => {
            if let Some(m) = doc.as_object_mut() {
                m.shift_remove("_id");
                m.shift_remove("_rev");
            }
        }
        Policy::Override => {
            if let (Some(cur), Some(m)) = (&current, doc.as_object_mut()) {
                m.insert("_rev".into(), cur["_rev"].clone());
            }
        }
        Policy::Merge => {
            if let Some(cur) = &current {
                let mut old = cur.clone();
                if let Some(m) = old.as_object_mut() {
                    m.shift_remove("_attachments");
                }
                let mut merged = postdoc::merge(&old, &doc);
                postdoc::apply_merge_directives(&mut merged, &posted, vars);
                merged["_rev"] = cur["_rev"].clone();
                if let Some(a) = cur.get("_attachments") {
                    merged["_attachments"] = a.clone();
                }
                doc = merged;
            }
        }
    }
    postdoc::apply_acl(&mut doc, acl, caller.user.as_deref(), vars);
    if use_hash {
        let h = postdoc::content_hash(&doc);
        if let Some(cur) = &current {
            if cur.get(fullsync_acl::HASH_KEY).and_then(Value::as_str) == Some(h.as_str()) {
                return Ok(
                    json!({"ok": true, "id": cur["_id"], "rev": cur["_rev"], "unchanged": true}),
                );
            }
        }
        doc[fullsync_acl::HASH_KEY] = json!(h);
    }
    if doc.get("_id").is_none() {
        doc["_id"] = json!(fullsync_engine::doc::new_uuid());
    }
    let parsed = fullsync_engine::parse_doc(doc, None, &mut |_| None)?;
    let id = parsed.id.clone();
    let rev = db.put(parsed, user)?;
    Ok(json!({"ok": true, "id": id, "rev": rev}))
}
