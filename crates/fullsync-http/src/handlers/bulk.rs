//! Many documents at once: `_all_docs`, `_design_docs`, `_local_docs`, `_bulk_docs`, `_bulk_get`.

use std::sync::Arc;

use axum::http::Method;
use fullsync_engine::{AllDocsOptions, Database, Error, OpenRev, OpenRevs, Rev, UserCtx};
use serde_json::{json, Map, Value};

use super::doc::*;
use crate::auth::Access;
use crate::ctx::*;
use crate::util::{json_response, ok, parse_json, require_json, ApiError, ApiResult, Query};

pub(crate) fn str_key(v: Option<Value>, name: &str) -> Result<Option<String>, ApiError> {
    match v {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::new(
            400,
            "query_parse_error",
            format!("{name} must be a JSON string for _all_docs"),
        )),
    }
}

pub(crate) async fn all_docs(
    ctx: Ctx,
    db: Arc<Database>,
    prefix: Option<&'static str>,
) -> ApiResult {
    let q = &ctx.query;
    let mut keys = match q.json("keys")? {
        Some(Value::Array(a)) => Some(a),
        Some(_) => {
            return Err(ApiError::new(
                400,
                "query_parse_error",
                "`keys` must be a JSON array",
            ))
        }
        None => None,
    };
    if ctx.method == Method::POST {
        require_json(&ctx.headers)?;
        let body = if ctx.body.is_empty() {
            json!({})
        } else {
            parse_json(&ctx.body)?
        };
        if let Some(k) = body.get("keys") {
            keys = Some(k.as_array().cloned().ok_or_else(|| {
                ApiError::new(400, "bad_request", "`keys` body member must be an array.")
            })?);
        }
    } else if ctx.method != Method::GET && ctx.method != Method::HEAD {
        return Err(ApiError::method("GET,HEAD,POST"));
    }
    let opts = all_docs_options(&ctx.query, keys, prefix)?;
    let update_seq = q.flag("update_seq")?;
    let access = ctx.access.clone();
    let permit = crate::stream::permit(&ctx.state).await;
    let (total, offset, rows, seq) = blocking(move || {
        let seq = db.update_seq();
        if access.filtered() {
            let (off, rows) = all_docs_visible(&db, &access, &opts)?;
            return Ok((rows.len() as u64 + off, off, rows, seq));
        }
        let (t, o, r) = db.all_docs(&opts)?;
        Ok((t, o, r, seq))
    })
    .await?;
    let mut out = Map::new();
    out.insert("total_rows".into(), json!(total));
    out.insert("offset".into(), json!(offset));
    out.insert("rows".into(), Value::Array(rows));
    if update_seq {
        out.insert("update_seq".into(), json!(seq));
    }
    crate::stream::json(permit, Value::Object(out))
}

/// The `_all_docs` options of a request (`keys` from the body or query), within `prefix`.
fn all_docs_options(
    q: &Query,
    keys: Option<Vec<Value>>,
    prefix: Option<&'static str>,
) -> Result<AllDocsOptions, ApiError> {
    let key = str_key(q.json("key")?, "key")?;
    let mut start = str_key(q.json("startkey")?.or(q.json("start_key")?), "startkey")?;
    let mut end = str_key(q.json("endkey")?.or(q.json("end_key")?), "endkey")?;
    if keys.is_some() && (start.is_some() || end.is_some() || key.is_some()) {
        return Err(ApiError::new(
            400,
            "query_parse_error",
            "`keys` is incompatible with `key`, `start_key` and `end_key`",
        ));
    }
    let descending = q.flag("descending")?;
    let mut inclusive_end = q.bool("inclusive_end")?.unwrap_or(true);
    if let Some(k) = key {
        start = Some(k.clone());
        end = Some(k);
        inclusive_end = true;
    }
    if let Some(p) = prefix {
        if descending {
            start = start.or(Some(format!("{p}\u{10ffff}")));
            end = end.or(Some(p.to_string()));
        } else {
            start = start.or(Some(p.to_string()));
            end = end.or(Some(format!("{p}\u{10ffff}")));
        }
    }
    Ok(AllDocsOptions {
        start,
        end,
        inclusive_end,
        limit: q.uint("limit")?.map(|l| l as usize),
        skip: q.uint("skip")?.unwrap_or(0) as usize,
        descending,
        include_docs: q.flag("include_docs")?,
        conflicts: q.flag("conflicts")?,
        attachments: q.flag("attachments")?,
        keys,
    })
}

/// `_all_docs` as a FullSync user sees it: documents he may not see are `not_found` (and
/// left out unless asked for by `keys`); offset and rows.
fn all_docs_visible(
    db: &Database,
    access: &Access,
    opts: &AllDocsOptions,
) -> Result<(u64, Vec<Value>), ApiError> {
    let wanted_docs = opts.include_docs;
    let mut o2 = opts.clone();
    o2.include_docs = true;
    let (_, off, rows) = db.all_docs(&o2)?;
    let rows: Vec<Value> = rows
        .into_iter()
        .map(|mut r| {
            let visible = match r.get("doc") {
                Some(Value::Null) | None => {
                    r.get("error").is_some() || r["value"].get("deleted").is_none()
                }
                Some(d) => access.can_see(d),
            };
            if !visible {
                return json!({"key": r["key"], "error": "not_found"});
            }
            if let Some(d) = r.get_mut("doc") {
                if d.is_object() && crate::auth::scrub_conflicts(db, access, d).is_err() {
                    return json!({"key": r["key"], "error": "not_found"});
                }
            }
            if !wanted_docs {
                if let Some(m) = r.as_object_mut() {
                    m.remove("doc");
                }
            }
            r
        })
        .filter(|r| o2.keys.is_some() || r.get("error").is_none())
        .collect();
    Ok((off, rows))
}

/// `GET|POST /db/_local_docs`: the `_local` documents (a FullSync user's own only), as
/// CouchDB answers them (`total_rows` and `offset` are `null`).
pub(crate) async fn local_docs(ctx: Ctx, db: Arc<Database>) -> ApiResult {
    if ctx.method != Method::GET && ctx.method != Method::HEAD && ctx.method != Method::POST {
        return Err(ApiError::method("GET,HEAD,POST"));
    }
    let q = &ctx.query;
    let key = str_key(q.json("key")?, "key")?;
    let start = key.clone().or(str_key(
        q.json("startkey")?.or(q.json("start_key")?),
        "startkey",
    )?);
    let end = key.or(str_key(q.json("endkey")?.or(q.json("end_key")?), "endkey")?);
    let descending = q.flag("descending")?;
    let include_docs = q.flag("include_docs")?;
    let skip = q.uint("skip")?.unwrap_or(0) as usize;
    let limit = q.uint("limit")?.map(|l| l as usize).unwrap_or(usize::MAX);
    let access = ctx.access.clone();
    let rows = blocking(move || {
        // A FullSync user lists his own namespace, under the ids he wrote.
        let ns = local_id(&access, "_local/");
        let stored = |k: Option<String>| k.map(|k| local_id(&access, &k));
        let (lo, hi) = (stored(start), stored(end));
        let (lo, hi) = (
            lo.or_else(|| (!descending).then(|| ns.clone())),
            hi.or_else(|| descending.then(|| format!("{ns}\u{10ffff}"))),
        );
        let (lo, hi) = if descending { (hi, lo) } else { (lo, hi) };
        let mut rows = vec![];
        let mut seen = 0usize;
        db.local_docs(lo.as_deref(), hi.as_deref(), descending, &mut |id, doc| {
            let Some(rest) = id.strip_prefix(ns.as_str()) else {
                return true;
            };
            seen += 1;
            if seen > skip {
                let id = format!("_local/{rest}");
                let mut row = json!({"id": id, "key": id, "value": {"rev": doc["_rev"]}});
                if include_docs {
                    let mut d = doc;
                    d["_id"] = json!(id);
                    row["doc"] = d;
                }
                rows.push(row);
            }
            rows.len() < limit
        })?;
        Ok(rows)
    })
    .await?;
    ok(json!({"total_rows": Value::Null, "offset": Value::Null, "rows": rows}))
}

pub(crate) async fn bulk_docs(ctx: Ctx, db: Arc<Database>) -> ApiResult {
    post_only(&ctx)?;
    let v = parse_json(&ctx.body)?;
    let docs = v
        .get("docs")
        .and_then(Value::as_array)
        .cloned()
        .ok_or_else(|| ApiError::bad_request("POST body must include `docs` parameter."))?;
    let new_edits = match v.get("new_edits") {
        None => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(ApiError::bad_request(
                "`new_edits` parameter must be a boolean.",
            ))
        }
    };
    for d in &docs {
        // What CouchDB refuses for the whole request (400), before anything is written.
        fullsync_engine::check_bulk_doc(d, new_edits).map_err(ApiError::from)?;
    }
    let (docs, local_ids, refused) = prepare_bulk(&ctx, &db, docs, new_edits)?;
    let max = ctx.state.cfg.max_document_bytes;
    let user = ctx.user.clone();
    let results = blocking(move || write_bulk(&db, docs, new_edits, &user, max, &refused)).await?;
    let mut results = results;
    for r in &mut results {
        let stored = r.get("id").and_then(Value::as_str).unwrap_or_default();
        if let Some((_, asked)) = local_ids.iter().find(|(s, _)| s == stored) {
            r["id"] = json!(asked);
        }
    }
    Ok(json_response(201, &Value::Array(results)))
}

/// A document `_bulk_docs` refused before writing: its position, id and the refusal.
type Refused = Vec<(usize, String, ApiError)>;

/// Prepares the documents of a `_bulk_docs`: `_local` ids in the caller's namespace (with the
/// ids asked, to answer with), and the write rules, which may refuse some (a placeholder
/// stands in their place). Fails the whole request on what CouchDB fails it for.
#[allow(clippy::type_complexity)]
fn prepare_bulk(
    ctx: &Ctx,
    db: &Database,
    docs: Vec<Value>,
    new_edits: bool,
) -> Result<(Vec<Value>, Vec<(String, String)>, Refused), ApiError> {
    let mut docs = docs;
    let mut local_ids: Vec<(String, String)> = vec![];
    for d in docs.iter_mut() {
        let Some(id) = d.get("_id").and_then(Value::as_str).map(str::to_string) else {
            continue;
        };
        let stored = local_id(&ctx.access, &id);
        if stored != id {
            d["_id"] = json!(stored);
            local_ids.push((stored, id));
        }
    }
    let mut refused: Vec<(usize, String, ApiError)> = vec![];
    for (i, d) in docs.iter_mut().enumerate() {
        if let Err(e) = prepare_write(ctx, db, d, new_edits) {
            if !ctx.access.filtered() && e.status != 403 {
                return Err(e);
            }
            refused.push((
                i,
                d.get("_id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                e,
            ));
        }
    }
    let refused_idx: Vec<usize> = refused.iter().map(|(i, _, _)| *i).collect();
    let docs: Vec<Value> = docs
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            if refused_idx.contains(&i) {
                json!({"__refused": true})
            } else {
                d
            }
        })
        .collect();
    Ok((docs, local_ids, refused))
}

/// Writes the documents of a `_bulk_docs` (placeholders and documents over `max` bytes
/// are answered as refused, without writing); one answer row per document.
fn write_bulk(
    db: &Database,
    docs: Vec<Value>,
    new_edits: bool,
    user: &UserCtx,
    max: usize,
    refused: &Refused,
) -> Result<Vec<Value>, ApiError> {
    let mut too_big = vec![];
    let mut keep = Vec::with_capacity(docs.len());
    for (i, d) in docs.into_iter().enumerate() {
        // Cheap size check: serialized length of each doc.
        let len = serde_json::to_vec(&d).map(|b| b.len()).unwrap_or(0);
        if d.get("__refused").is_some() {
            keep.push(None);
        } else if len > max {
            too_big.push((
                i,
                d.get("_id")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            ));
            keep.push(None);
        } else {
            keep.push(Some(d));
        }
    }
    let valid: Vec<Value> = keep.iter().flatten().cloned().collect();
    let mut written = db.bulk_docs_json(valid, new_edits, user)?.into_iter();
    let mut out = vec![];
    for (i, slot) in keep.into_iter().enumerate() {
        match slot {
            Some(_) => {
                let r = written.next().expect("one result per doc");
                match r.result {
                    Ok(rev) if new_edits => out.push(json!({"ok": true, "id": r.id, "rev": rev})),
                    Ok(_) => {}
                    Err(e) => {
                        let mut row =
                            json!({"id": r.id, "error": e.error_name(), "reason": e.reason()});
                        if matches!(e, Error::Conflict) {
                            row["reason"] = json!("Document update conflict.");
                        }
                        out.push(row)
                    }
                }
            }
            None => {
                if let Some((_, id, e)) = refused.iter().find(|(j, _, _)| *j == i) {
                    out.push(json!({"id": id, "error": e.error, "reason": e.reason}));
                    continue;
                }
                let id = too_big
                    .iter()
                    .find(|(j, _)| *j == i)
                    .map(|(_, id)| id.clone())
                    .unwrap_or_default();
                out.push(json!({"id": id, "error": "document_too_large", "reason": id}));
            }
        }
    }
    Ok(out)
}

pub(crate) async fn bulk_get(ctx: Ctx, db: Arc<Database>) -> ApiResult {
    post_only(&ctx)?;
    let v = parse_json(&ctx.body)?;
    let docs = v
        .get("docs")
        .and_then(Value::as_array)
        .cloned()
        .ok_or_else(|| ApiError::bad_request("Missing JSON list of 'docs'."))?;
    let mut base = read_options(&ctx.query)?;
    base.latest = ctx.query.flag("latest")?;
    let access = ctx.access.clone();
    let permit = crate::stream::permit(&ctx.state).await;
    let results = blocking(move || {
        let mut out = vec![];
        for d in docs {
            let id = d.get("id").and_then(Value::as_str).unwrap_or("").to_string();
            let mut opts = base.clone();
            if let Some(Value::Array(a)) = d.get("atts_since") {
                opts.atts_since = a.iter().filter_map(Value::as_str).filter_map(|s| Rev::parse(s).ok()).collect();
            }
            let rev = d.get("rev").and_then(Value::as_str);
            let entry = |e: Error, rev: Option<&str>| {
                json!({"error": {"id": id, "rev": rev.unwrap_or(""), "error": e.error_name(), "reason": e.reason()}})
            };
            let docs_out: Vec<Value> = if id.is_empty() {
                vec![entry(Error::BadRequest("document id missed".into()), rev)]
            } else {
                match rev {
                    Some(r) => match Rev::parse(r) {
                        Err(e) => vec![entry(e, Some(r))],
                        Ok(parsed) => match db.open_revs(&id, &OpenRevs::List(vec![parsed]), &opts) {
                            Ok(found) => found
                                .into_iter()
                                .map(|f| match f {
                                    OpenRev::Ok(doc) => json!({"ok": doc}),
                                    OpenRev::Missing(m) => entry(Error::missing(), Some(&m)),
                                })
                                .collect(),
                            Err(e) => vec![entry(e, Some(r))],
                        },
                    },
                    None => match db.open_revs(&id, &OpenRevs::All, &opts) {
                        Ok(found) => {
                            // Without a rev: the winning revision.
                            let win = db.record(&id)?.map(|rec| rec.tree.nodes[rec.tree.winner()].rev().to_string());
                            found
                                .into_iter()
                                .filter_map(|f| match f {
                                    OpenRev::Ok(doc) if doc.get("_rev").and_then(Value::as_str) == win.as_deref() => {
                                        Some(json!({"ok": doc}))
                                    }
                                    _ => None,
                                })
                                .collect()
                        }
                        Err(e) => vec![entry(e, None)],
                    },
                }
            };
            let docs_out: Vec<Value> = docs_out
                .into_iter()
                .map(|mut d| match d.get_mut("ok") {
                    Some(doc) if !access.can_see(doc) => json!({"error": {"id": id, "rev": doc["_rev"], "error": "not_found", "reason": "missing"}}),
                    Some(doc) => {
                        let _ = crate::auth::scrub_conflicts(&db, &access, doc);
                        d
                    }
                    None => d,
                })
                .collect();
            out.push(json!({"id": id, "docs": docs_out}));
        }
        Ok(out)
    })
    .await?;
    crate::stream::json(permit, json!({"results": results}))
}
