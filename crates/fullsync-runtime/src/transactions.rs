//! Running a project's FullSync transactions against a local database, with variable values
//! and a simulated user, as a Convertigo server would.

use std::sync::Arc;

use fullsync_engine::{AllDocsOptions, Database, Engine, ReadOptions, Rev, UserCtx};
use fullsync_project::{Transaction, Variable};
use serde_json::{json, Map, Value};

use crate::postdoc::{self, AclPolicy, Policy};

/// Errors of a transaction run, with what to do.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A required variable has no value.
    #[error("variable `{0}` is required; pass it with --var {0}=VALUE")]
    MissingVariable(String),
    /// The transaction type is not supported locally.
    #[error("transaction type `{0}` cannot run locally yet; supported: {1}")]
    Unsupported(String, String),
    /// A property or variable has a bad value.
    #[error("{0}")]
    Bad(String),
    /// The engine refused (conflict, not found, ...).
    #[error("{}: {}", .0.error_name(), .0.reason())]
    Engine(#[from] fullsync_engine::Error),
    /// A view query failed.
    #[error("{}: {}", .0.couch_error(), .0.reason())]
    View(#[from] fullsync_views::ViewError),
}

/// Supported transaction types.
pub const SUPPORTED: &[&str] = &[
    "GetServerInfo",
    "HeadDatabase",
    "PostCompact",
    "CopyDocument",
    "PostUpdate",
    "PutUpdate",
    "PostReplicate",
    "GetView",
    "PostDocument",
    "PostBulkDocuments",
    "GetDocument",
    "DeleteDocument",
    "HeadDocument",
    "AllDocs",
    "PostFind",
    "GetDatabaseInfo",
    "ResetDatabase",
    "PutDocumentAttachment",
    "GetDocumentAttachment",
    "DeleteDocumentAttachment",
    "PurgeDatabase",
    "PutDatabase",
    "DeleteDatabase",
    "GetServerDatabases",
];

/// Who runs the transaction.
#[derive(Clone, Debug, Default)]
pub struct Caller {
    /// Authenticated user (None = anonymous).
    pub user: Option<String>,
}

fn toml_to_json(v: &toml::Value) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Resolves variable values: given values, defaults, required checks; strings that parse as
/// JSON objects/arrays/numbers/booleans are taken as JSON (what a form or `--var` provides).
pub fn resolve_vars(
    declared: &[Variable],
    given: &Map<String, Value>,
) -> Result<Map<String, Value>, RunError> {
    let mut out = Map::new();
    for v in declared {
        match given.get(&v.name) {
            Some(val) => {
                out.insert(v.name.clone(), val.clone());
            }
            None if !v.default.is_null() => {
                out.insert(v.name.clone(), v.default.clone());
            }
            None if v.required => return Err(RunError::MissingVariable(v.name.clone())),
            None => {}
        }
    }
    // Undeclared `_use_*` and special variables are accepted too (as Convertigo does).
    for (k, val) in given {
        out.entry(k.clone()).or_insert_with(|| val.clone());
    }
    Ok(out)
}

/// A property, overridable by `_use_<name>` or `_use_<name without q_/p_>`.
fn prop(t: &Transaction, vars: &Map<String, Value>, name: &str) -> Option<Value> {
    let short = name.trim_start_matches("q_").trim_start_matches("p_");
    vars.get(&format!("_use_{name}"))
        .or_else(|| vars.get(&format!("_use_{short}")))
        .cloned()
        .or_else(|| t.properties.get(name).map(toml_to_json))
}

fn as_json(v: Value) -> Value {
    match &v {
        Value::String(s) => serde_json::from_str(s).unwrap_or(v),
        _ => v,
    }
}

const VIEW_OPTIONS: &[&str] = &[
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

fn string_or_json(v: &Value) -> Value {
    match v {
        Value::String(s) if s.starts_with('{') || s.starts_with('[') => {
            serde_json::from_str(s).unwrap_or_else(|_| v.clone())
        }
        other => other.clone(),
    }
}

/// Runs transaction `t` of connector database `db`. Returns the JSON a client would receive.
pub fn run(
    engine: &Arc<Engine>,
    views: &fullsync_views::Views,
    db_name: &str,
    t: &Transaction,
    given: &Map<String, Value>,
    caller: &Caller,
) -> Result<Value, RunError> {
    let vars = resolve_vars(&t.variables, given)?;
    let user = UserCtx {
        name: caller.user.clone(),
        roles: vec![],
    };
    let admin = UserCtx {
        name: caller.user.clone(),
        roles: vec!["_admin".into()],
    };
    let db = || -> Result<Arc<Database>, RunError> { Ok(engine.db_or_create(db_name)?) };
    let var_str = |k: &str| {
        vars.get(k).map(|v| {
            v.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string())
        })
    };
    match t.kind.as_str() {
        "GetView" => {
            let spec = match (prop(t, &vars, "ddoc"), prop(t, &vars, "view")) {
                (Some(d), Some(v)) => format!(
                    "{}/{}",
                    d.as_str().unwrap_or_default(),
                    v.as_str().unwrap_or_default()
                ),
                _ => prop(t, &vars, "viewname")
                    .and_then(|v| v.as_str().map(str::to_string))
                    .ok_or_else(|| {
                        RunError::Bad("GetView needs viewname = \"ddoc/view\"".into())
                    })?,
            };
            let (ddoc, view) = spec
                .split_once('/')
                .ok_or_else(|| RunError::Bad(format!("viewname `{spec}` is not ddoc/view")))?;
            let mut q = Map::new();
            for o in VIEW_OPTIONS {
                if let Some(v) = prop(t, &vars, &format!("q_{o}")) {
                    q.insert(o.to_string(), v);
                }
                if let Some(v) = vars.get(*o) {
                    q.insert(o.to_string(), v.clone());
                }
            }
            for key in ["key", "keys", "startkey", "start_key", "endkey", "end_key"] {
                if let Some(v) = q.get_mut(key) {
                    *v = string_or_json(v);
                }
            }
            let query = fullsync_views::ViewQuery::from_json(&Value::Object(q))?;
            db()?;
            Ok(views.query(db_name, ddoc, view, &query)?)
        }
        "PostDocument" | "PostBulkDocuments" => {
            let policy = prop(t, &vars, "policy")
                .and_then(|p| p.as_str().and_then(Policy::parse))
                .unwrap_or(Policy::None);
            let acl = prop(t, &vars, "fullSyncAclPolicy")
                .and_then(|p| p.as_str().and_then(AclPolicy::parse))
                .unwrap_or(AclPolicy::FromAuthenticatedUser);
            let use_hash =
                prop(t, &vars, "useHash").is_some_and(|v| v == json!(true) || v == json!("true"));
            let base = prop(t, &vars, "p_json_base").map(as_json);
            let db = db()?;
            let inputs: Vec<Map<String, Value>> = if t.kind == "PostBulkDocuments" {
                match vars.get("data").map(|d| as_json(d.clone())) {
                    Some(Value::Array(items)) => items
                        .into_iter()
                        .map(|item| {
                            let mut m = vars.clone();
                            m.insert("data".into(), item);
                            m
                        })
                        .collect(),
                    _ => vec![vars.clone()],
                }
            } else {
                vec![vars.clone()]
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
                    caller,
                    &user,
                ));
            }
            if t.kind == "PostDocument" {
                return results.pop().expect("one input");
            }
            Ok(Value::Array(
                results
                    .into_iter()
                    .map(|r| r.unwrap_or_else(|e| json!({"error": e.to_string()})))
                    .collect(),
            ))
        }
        "GetDocument" | "HeadDocument" => {
            let id = var_str("docid")
                .or_else(|| var_str("_id"))
                .ok_or(RunError::MissingVariable("docid".into()))?;
            let rev = var_str("rev").map(|r| Rev::parse(&r)).transpose()?;
            let doc = db()?.get(
                &id,
                rev.as_ref(),
                &ReadOptions {
                    conflicts: true,
                    ..Default::default()
                },
            )?;
            Ok(if t.kind == "HeadDocument" {
                json!({"_id": id, "_rev": doc["_rev"]})
            } else {
                doc
            })
        }
        "DeleteDocument" => {
            let id = var_str("docid")
                .or_else(|| var_str("_id"))
                .ok_or(RunError::MissingVariable("docid".into()))?;
            let db = db()?;
            let rev = match var_str("rev") {
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
            let new = db.put(doc, &user)?;
            Ok(json!({"ok": true, "id": id, "rev": new}))
        }
        "AllDocs" => {
            let q = |name: &str| {
                prop(t, &vars, &format!("q_{name}")).or_else(|| vars.get(name).cloned())
            };
            let opts = AllDocsOptions {
                include_docs: q("include_docs")
                    .is_some_and(|v| v == json!(true) || v == json!("true")),
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
            let (total, offset, rows) = db()?.all_docs(&opts)?;
            Ok(json!({"total_rows": total, "offset": offset, "rows": rows}))
        }
        "PostFind" => {
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
                if let Some(v) = prop(t, &vars, &format!("q_{k}"))
                    .or_else(|| prop(t, &vars, &format!("p_{k}")))
                    .or_else(|| vars.get(k).cloned())
                {
                    body.insert(k.into(), as_json(v));
                }
            }
            Ok(fullsync_views::mango::find(&*db()?, &Value::Object(body))?)
        }
        "GetDatabaseInfo" => {
            let i = db()?.info()?;
            Ok(
                json!({"db_name": i.name, "doc_count": i.doc_count, "doc_del_count": i.doc_del_count, "update_seq": i.update_seq}),
            )
        }
        "ResetDatabase" => {
            views.forget_db(db_name);
            engine.reset_db(db_name)?;
            Ok(json!({"ok": true}))
        }
        "PutDatabase" => {
            engine.db_or_create(db_name)?;
            Ok(json!({"ok": true}))
        }
        "DeleteDatabase" => {
            views.forget_db(db_name);
            engine.delete_db(db_name)?;
            Ok(json!({"ok": true}))
        }
        "GetServerDatabases" => Ok(json!(engine.all_dbs()?)),
        "GetServerInfo" => Ok(
            json!({"couchdb": "Welcome", "uuid": engine.uuid(), "vendor": {"name": "FullSync Studio (local)"}}),
        ),
        "HeadDatabase" => Ok(json!({"ok": engine.db(db_name).is_ok()})),
        "PostCompact" => {
            db()?.compact()?;
            Ok(json!({"ok": true}))
        }
        "CopyDocument" => {
            let id = var_str("docid").ok_or(RunError::MissingVariable("docid".into()))?;
            let dest =
                var_str("destination").ok_or(RunError::MissingVariable("destination".into()))?;
            let db = db()?;
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
            let rev = db.put(fullsync_engine::parse_doc(doc, None, &mut |_| None)?, &user)?;
            Ok(json!({"ok": true, "id": dest, "rev": rev}))
        }
        "PostUpdate" | "PutUpdate" => {
            // A design document update function: `function (doc, req) { return [doc, response]; }`.
            let spec = match (prop(t, &vars, "ddoc"), prop(t, &vars, "func")) {
                (Some(d), Some(f)) => format!(
                    "{}/{}",
                    d.as_str().unwrap_or_default(),
                    f.as_str().unwrap_or_default()
                ),
                _ => prop(t, &vars, "updatename")
                    .or_else(|| prop(t, &vars, "update"))
                    .and_then(|v| v.as_str().map(str::to_string))
                    .ok_or_else(|| {
                        RunError::Bad(
                            "an update transaction needs updatename = \"ddoc/function\"".into(),
                        )
                    })?,
            };
            let (ddoc, func) = spec
                .split_once('/')
                .ok_or_else(|| RunError::Bad(format!("`{spec}` is not ddoc/function")))?;
            let db = db()?;
            let dd = db.get(&format!("_design/{ddoc}"), None, &ReadOptions::default())?;
            let src = dd
                .get("updates")
                .and_then(|u| u.get(func))
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    RunError::Bad(format!("_design/{ddoc} has no update function `{func}`"))
                })?;
            let docid = var_str("docid");
            let doc = match &docid {
                Some(id) => db.get(id, None, &ReadOptions::default()).ok(),
                None => None,
            };
            let body: Map<String, Value> = vars
                .iter()
                .filter(|(k, _)| !k.starts_with("_use_") && k.as_str() != "docid")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let req = json!({"id": docid, "method": if t.kind == "PutUpdate" { "PUT" } else { "POST" }, "query": {}, "form": body,
                             "body": Value::Object(body.clone()).to_string(), "userCtx": {"db": db_name, "name": caller.user, "roles": []}});
            let set = fullsync_views::js::FnSet {
                key: format!("update:{db_name}:{ddoc}:{func}:{}", src.len()),
                sources: vec![(format!("_design/{ddoc}/updates/{func}"), src.to_string())],
                ddoc: dd.clone(),
            };
            let out = views
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
                    &user,
                )?;
                written = json!(rev);
            }
            Ok(json!({"response": response, "rev": written}))
        }
        "PostReplicate" => {
            let source = prop(t, &vars, "p_source")
                .or_else(|| prop(t, &vars, "source"))
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_else(|| db_name.to_string());
            let target = prop(t, &vars, "p_target")
                .or_else(|| prop(t, &vars, "target"))
                .and_then(|v| v.as_str().map(str::to_string))
                .ok_or_else(|| RunError::Bad("PostReplicate needs a target (p_target)".into()))?;
            let views_arc: Option<Arc<fullsync_views::Views>> = None;
            let src = fullsync_replicate::endpoint(
                &source,
                engine,
                views_arc.clone(),
                None,
                std::time::Duration::from_secs(60),
            )
            .map_err(|e| RunError::Bad(e.to_string()))?;
            let tgt = fullsync_replicate::endpoint(
                &target,
                engine,
                views_arc,
                None,
                std::time::Duration::from_secs(60),
            )
            .map_err(|e| RunError::Bad(e.to_string()))?;
            let s = fullsync_replicate::start(
                src,
                tgt,
                fullsync_replicate::Direction::Push,
                fullsync_replicate::Options::default(),
                Arc::new(|_| {}),
            )
            .wait();
            Ok(serde_json::to_value(&s).unwrap_or(Value::Null))
        }
        "PurgeDatabase" => {
            let req = vars
                .get("data")
                .map(|d| as_json(d.clone()))
                .and_then(|v| v.as_object().cloned())
                .ok_or_else(|| {
                    RunError::Bad("PurgeDatabase needs data = {\"docid\": [\"rev\", ...]}".into())
                })?;
            let (seq, purged) = db()?.purge(&req)?;
            Ok(json!({"purge_seq": seq, "purged": purged}))
        }
        "PutDocumentAttachment" | "DeleteDocumentAttachment" => {
            let id = var_str("docid").ok_or(RunError::MissingVariable("docid".into()))?;
            let name = var_str("attname").ok_or(RunError::MissingVariable("attname".into()))?;
            let db = db()?;
            let mut doc = match db.get(&id, None, &ReadOptions::default()) {
                Ok(d) => d,
                Err(fullsync_engine::Error::NotFound(_)) if t.kind == "PutDocumentAttachment" => {
                    json!({"_id": id})
                }
                Err(e) => return Err(e.into()),
            };
            let atts = doc
                .as_object_mut()
                .expect("documents are objects")
                .entry("_attachments")
                .or_insert_with(|| json!({}));
            let atts = atts
                .as_object_mut()
                .ok_or_else(|| RunError::Bad("bad _attachments".into()))?;
            if t.kind == "PutDocumentAttachment" {
                use base64::Engine as _;
                let content = var_str("attdata").unwrap_or_default();
                let ctype =
                    var_str("attcontent_type").unwrap_or_else(|| "application/octet-stream".into());
                atts.insert(name, json!({"content_type": ctype, "data": base64::engine::general_purpose::STANDARD.encode(content.as_bytes())}));
            } else if atts.shift_remove(&name).is_none() {
                return Err(RunError::Bad(format!(
                    "document {id} has no attachment {name}"
                )));
            }
            let rev = db.put(fullsync_engine::parse_doc(doc, None, &mut |_| None)?, &user)?;
            Ok(json!({"ok": true, "id": id, "rev": rev}))
        }
        "GetDocumentAttachment" => {
            let id = var_str("docid").ok_or(RunError::MissingVariable("docid".into()))?;
            let name = var_str("attname").ok_or(RunError::MissingVariable("attname".into()))?;
            let (meta, data) = db()?.attachment(&id, &name, None)?;
            Ok(
                json!({"content_type": meta.content_type, "length": meta.length, "digest": meta.digest, "text": String::from_utf8_lossy(&data)}),
            )
        }
        other => {
            let _ = admin;
            Err(RunError::Unsupported(other.into(), SUPPORTED.join(", ")))
        }
    }
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

/// A property a transaction type reads: what its property sheet shows. At run time a variable
/// overrides it: the plain option name for view, `_all_docs` and Mango options (`key`,
/// `limit`...), `_use_<name>` for the others (`_use_policy`...).
#[derive(Clone, Debug, serde::Serialize)]
pub struct PropertySpec {
    /// Property name in the transaction file (`q_limit`, `policy`...).
    pub name: &'static str,
    /// `string`, `bool`, `number`, `json` (any JSON, typed as text), `view` (`ddoc/view`) or
    /// `choice` (one of `choices`).
    pub kind: &'static str,
    /// The allowed values of a `choice`.
    pub choices: &'static [&'static str],
    /// The variable that overrides it at run time.
    pub variable: String,
    /// The schema type of that variable (`xsd:string`, `xsd:boolean`, `xsd:integer`).
    pub schema_type: &'static str,
}

fn option_kind(o: &str) -> &'static str {
    match o {
        "limit" | "skip" | "group_level" => "number",
        "inclusive_end" | "descending" | "group" | "reduce" | "include_docs" | "conflicts"
        | "update_seq" => "bool",
        "startkey_docid" | "endkey_docid" | "stale" | "bookmark" | "use_index" => "string",
        _ => "json",
    }
}

fn schema_of(kind: &str) -> &'static str {
    match kind {
        "bool" => "xsd:boolean",
        "number" => "xsd:integer",
        _ => "xsd:string",
    }
}

fn spec(name: &'static str, kind: &'static str, choices: &'static [&'static str]) -> PropertySpec {
    let short = name.trim_start_matches("q_").trim_start_matches("p_");
    let variable = if name.starts_with("q_") {
        short.to_string()
    } else {
        format!("_use_{short}")
    };
    PropertySpec {
        name,
        kind,
        choices,
        variable,
        schema_type: schema_of(kind),
    }
}

/// The properties transaction type `kind` reads (empty for types without properties or
/// unknown types).
pub fn properties_of(kind: &str) -> Vec<PropertySpec> {
    const AND_Q: &[(&str, &str)] = &[
        ("key", "q_key"),
        ("keys", "q_keys"),
        ("startkey", "q_startkey"),
        ("start_key", "q_start_key"),
        ("endkey", "q_endkey"),
        ("end_key", "q_end_key"),
        ("startkey_docid", "q_startkey_docid"),
        ("endkey_docid", "q_endkey_docid"),
        ("inclusive_end", "q_inclusive_end"),
        ("limit", "q_limit"),
        ("skip", "q_skip"),
        ("descending", "q_descending"),
        ("group", "q_group"),
        ("group_level", "q_group_level"),
        ("reduce", "q_reduce"),
        ("include_docs", "q_include_docs"),
        ("conflicts", "q_conflicts"),
        ("update_seq", "q_update_seq"),
        ("stale", "q_stale"),
        ("selector", "q_selector"),
        ("fields", "q_fields"),
        ("sort", "q_sort"),
        ("use_index", "q_use_index"),
        ("bookmark", "q_bookmark"),
    ];
    let q = |o: &str| {
        let name = AND_Q
            .iter()
            .find(|(s, _)| *s == o)
            .map(|(_, n)| *n)
            .expect("known option");
        spec(name, option_kind(o), &[])
    };
    match kind {
        "GetView" => std::iter::once(spec("viewname", "view", &[]))
            .chain(VIEW_OPTIONS.iter().map(|o| q(o)))
            .collect(),
        "PostDocument" | "PostBulkDocuments" => vec![
            spec("policy", "choice", &["none", "create", "override", "merge"]),
            spec(
                "fullSyncAclPolicy",
                "choice",
                &[
                    "fromAuthenticatedUser",
                    "anonymous",
                    "noOp",
                    "fromKeyC8oAcl",
                ],
            ),
            spec("useHash", "bool", &[]),
            spec("p_json_base", "json", &[]),
        ],
        "AllDocs" => ["include_docs", "limit", "skip", "descending"]
            .iter()
            .map(|o| q(o))
            .collect(),
        "PostFind" => [
            "selector",
            "fields",
            "sort",
            "limit",
            "skip",
            "use_index",
            "bookmark",
        ]
        .iter()
        .map(|o| q(o))
        .collect(),
        "PostReplicate" => vec![
            spec("p_source", "string", &[]),
            spec("p_target", "string", &[]),
        ],
        _ => vec![],
    }
}

#[cfg(test)]
mod property_tests {
    use super::*;

    #[test]
    fn every_view_option_is_a_getview_property_with_its_variable() {
        let p = properties_of("GetView");
        assert_eq!(p[0].name, "viewname");
        assert_eq!(p.len(), VIEW_OPTIONS.len() + 1);
        let limit = p.iter().find(|s| s.name == "q_limit").unwrap();
        assert_eq!((limit.kind, limit.variable.as_str()), ("number", "limit"));
        let policy = &properties_of("PostDocument")[0];
        assert_eq!(policy.variable, "_use_policy");
        assert!(policy.choices.contains(&"merge"));
        // Every advertised choice parses.
        for c in policy.choices {
            assert!(crate::postdoc::Policy::parse(c).is_some(), "{c}");
        }
        for c in properties_of("PostDocument")[1].choices {
            assert!(crate::postdoc::AclPolicy::parse(c).is_some(), "{c}");
        }
        assert!(properties_of("GetServerInfo").is_empty());
    }
}
