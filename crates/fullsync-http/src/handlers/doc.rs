//! Document endpoints: `GET|PUT|DELETE /db/doc` (with `open_revs`, `latest`, multipart).

use std::sync::Arc;

use axum::http::{header, HeaderMap, Method};
use fullsync_engine::{parse_doc, Database, DocIn, Error, OpenRev, OpenRevs, ReadOptions, Rev};
use serde_json::{json, Value};

use crate::ctx::*;
use crate::util::{
    content_type, etag_matches, json_response, not_modified, ok, parse_json, require_json,
    with_etag, ApiError, ApiResult, Query,
};

/// Splits `doc[/att...]`, `_design/x[/att...]`, `_local/x`.
pub(crate) fn split_doc_path(rest: &[&str]) -> Result<(String, Option<String>), ApiError> {
    match rest {
        [kind @ ("_design" | "_local"), name, att @ ..] => {
            let id = format!("{kind}/{name}");
            Ok((
                id,
                if att.is_empty() {
                    None
                } else {
                    Some(att.join("/"))
                },
            ))
        }
        [kind @ ("_design" | "_local")] => Err(ApiError::new(
            400,
            "illegal_docid",
            format!("Document id must not be empty: {kind}/"),
        )),
        [id] => Ok((id.to_string(), None)),
        [id, att @ ..] => Ok((id.to_string(), Some(att.join("/")))),
        [] => Err(ApiError::not_found()),
    }
}

pub(crate) fn read_options(q: &Query) -> Result<ReadOptions, ApiError> {
    let atts_since = match q.json("atts_since")? {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(Rev::parse)
            .collect::<Result<Vec<_>, _>>()
            .map_err(ApiError::from)?,
        Some(_) => {
            return Err(ApiError::bad_request(
                "atts_since must be a JSON array of revisions",
            ))
        }
        None => vec![],
    };
    let meta = q.flag("meta")?;
    Ok(ReadOptions {
        revs: q.flag("revs")?,
        revs_info: q.flag("revs_info")? || meta,
        conflicts: q.flag("conflicts")? || meta,
        deleted_conflicts: q.flag("deleted_conflicts")? || meta,
        local_seq: q.flag("local_seq")?,
        attachments: q.flag("attachments")?,
        atts_since,
        latest: q.flag("latest")?,
    })
}

pub(crate) async fn document(ctx: Ctx, db: Arc<Database>, id: String) -> ApiResult {
    match ctx.method {
        Method::GET | Method::HEAD => get_document(ctx, db, id).await,
        Method::PUT => put_document(ctx, db, id).await,
        Method::DELETE => {
            let rev = ctx.query.get("rev").map(str::to_string).or_else(|| {
                ctx.headers
                    .get(header::IF_MATCH)
                    .and_then(|v| v.to_str().ok())
                    .map(|s| s.trim_matches('"').to_string())
            });
            let user = ctx.user.clone();
            let is_local = id.starts_with("_local/");
            let id2 = local_id(&ctx.access, &id);
            let mut tomb = json!({"_id": id, "_deleted": true});
            prepare_write(&ctx, &db, &mut tomb, true)?;
            let rev = blocking(move || {
                if is_local {
                    return Ok(db.delete_local(&id2, rev.as_deref())?);
                }
                let rev = rev.ok_or(Error::Conflict)?;
                let mut body = tomb;
                if let Some(m) = body.as_object_mut() {
                    m.retain(|k, _| !k.starts_with('_') || k == fullsync_acl::ACL_KEY);
                }
                let doc = DocIn {
                    id: id2.clone(),
                    rev: Some(Rev::parse(&rev)?),
                    local_rev: None,
                    revisions: None,
                    deleted: true,
                    json: body.to_string(),
                    atts: vec![],
                };
                fullsync_engine::check_id(&id2)?;
                Ok(db.put(doc, &user)?)
            })
            .await?;
            let r = json_response(200, &json!({"ok": true, "id": id, "rev": rev}));
            Ok(with_etag(r, &rev))
        }
        Method::POST => Err(ApiError::method("GET,HEAD,PUT,DELETE")),
        _ => Err(ApiError::method("GET,HEAD,PUT,DELETE")),
    }
}

pub(crate) async fn get_document(ctx: Ctx, db: Arc<Database>, id: String) -> ApiResult {
    let q = &ctx.query;
    let opts = read_options(q)?;
    if id.starts_with("_local/") {
        let stored = local_id(&ctx.access, &id);
        let mut v = blocking(move || Ok(db.get_local(&stored)?)).await?;
        if let Some(m) = v.as_object_mut() {
            m.insert("_id".into(), json!(id));
        }
        return ok(v);
    }
    if let Some(open) = q.get("open_revs") {
        let open = open.to_string();
        return open_revs(&ctx, db, id, &open, opts).await;
    }
    let rev = q
        .get("rev")
        .map(Rev::parse)
        .transpose()
        .map_err(ApiError::from)?;
    let plain = rev.is_none()
        && !opts.revs
        && !opts.revs_info
        && !opts.conflicts
        && !opts.deleted_conflicts
        && !opts.attachments;
    let access = ctx.access.clone();
    let doc = blocking(move || {
        let mut doc = match (&rev, opts.latest) {
            // `rev=OLD&latest=true`: the newest leaf descending from OLD, as CouchDB answers.
            (Some(r), true) => latest_leaf(&db, &id, r, &opts)?,
            _ => db.get(&id, rev.as_ref(), &opts)?,
        };
        if access.filtered() {
            // Without `rev`, `doc` is the winner itself: no second read of it.
            let winner_seen = rev.is_none() || crate::auth::winner_visible(&db, &access, &id)?;
            if !access.can_see(&doc) || !winner_seen {
                return Err(ApiError::not_found());
            }
            crate::auth::scrub_conflicts(&db, &access, &mut doc)?;
        }
        Ok(doc)
    })
    .await?;
    let etag = doc
        .get("_rev")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if plain && etag_matches(&ctx.headers, &etag) {
        return Ok(not_modified(&etag));
    }
    Ok(with_etag(json_response(200, &doc), &etag))
}

/// `GET /db/doc?open_revs=all|[...]`: the leaves asked for, as JSON rows or as
/// `multipart/mixed` (what the CouchDB replicator asks for).
async fn open_revs(
    ctx: &Ctx,
    db: Arc<Database>,
    id: String,
    open: &str,
    mut opts: ReadOptions,
) -> ApiResult {
    // As CouchDB: a multipart answer always carries the attachment bodies (as parts),
    // trimmed only by `atts_since`; the CouchDB replicator relies on it.
    if accepts_multipart(&ctx.headers) {
        opts.attachments = true;
    }
    let which = if open == "all" {
        OpenRevs::All
    } else {
        let v: Value = serde_json::from_str(open).map_err(|_| {
            ApiError::bad_request("open_revs must be \"all\" or a JSON array of revisions")
        })?;
        let arr = v.as_array().ok_or_else(|| {
            ApiError::bad_request("open_revs must be \"all\" or a JSON array of revisions")
        })?;
        OpenRevs::List(
            arr.iter()
                .map(|r| Rev::parse(r.as_str().unwrap_or("")))
                .collect::<Result<Vec<_>, _>>()
                .map_err(ApiError::from)?,
        )
    };
    let all = matches!(which, OpenRevs::All);
    let access = ctx.access.clone();
    let rows = blocking(move || {
        let found = db.open_revs(&id, &which, &opts)?;
        if access.filtered() && !crate::auth::winner_visible(&db, &access, &id)? {
            // A hidden document looks absent; a hidden leaf of a visible one is not listed.
            return Ok(vec![]);
        }
        let mut rows = vec![];
        for r in found {
            rows.push(match r {
                OpenRev::Ok(d) if access.can_see(&d) => {
                    let mut d = d;
                    crate::auth::scrub_conflicts(&db, &access, &mut d)?;
                    json!({"ok": d})
                }
                OpenRev::Ok(_) if all => continue,
                OpenRev::Ok(d) => json!({"missing": d["_rev"]}),
                OpenRev::Missing(rev) => json!({"missing": rev}),
            });
        }
        Ok(rows)
    })
    .await?;
    if accepts_multipart(&ctx.headers) {
        return Ok(crate::multipart::multipart_open_revs(rows));
    }
    ok(Value::Array(rows))
}

/// Of the leaves descending from revision `rev` of `id`, the one that would win (live before
/// deleted, then the longest path, then the highest hash).
pub(crate) fn latest_leaf(
    db: &Database,
    id: &str,
    rev: &Rev,
    opts: &ReadOptions,
) -> Result<Value, ApiError> {
    let found = db.open_revs(id, &OpenRevs::List(vec![rev.clone()]), opts)?;
    let rank = |d: &Value| {
        let r = d
            .get("_rev")
            .and_then(Value::as_str)
            .and_then(|r| Rev::parse(r).ok());
        let deleted = d.get("_deleted") == Some(&Value::Bool(true));
        (!deleted, r.as_ref().map(|r| r.pos), r.map(|r| r.hash))
    };
    found
        .into_iter()
        .filter_map(|f| match f {
            OpenRev::Ok(d) => Some(d),
            OpenRev::Missing(_) => None,
        })
        .max_by_key(rank)
        .ok_or_else(|| ApiError::from(Error::missing()))
}

pub(crate) fn accepts_multipart(h: &HeaderMap) -> bool {
    h.get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("multipart/mixed") && !a.contains("application/json"))
}

pub(crate) async fn put_document(ctx: Ctx, db: Arc<Database>, id: String) -> ApiResult {
    let ct = content_type(&ctx.headers);
    let (v, parts) = if ct == "multipart/related" {
        crate::multipart::parse_multipart_related(&ctx.headers, &ctx.body)?
    } else {
        require_json(&ctx.headers)?;
        check_doc_size(&ctx)?;
        (parse_json(&ctx.body)?, vec![])
    };
    let new_edits = ctx.query.bool("new_edits")?.unwrap_or(true);
    let mut v = v;
    if let (Some(rev), Value::Object(m)) = (ctx.query.get("rev"), &mut v) {
        m.entry("_rev")
            .or_insert_with(|| Value::String(rev.to_string()));
    }
    if let Value::Object(m) = &v {
        if let Some(body_id) = m.get("_id").and_then(Value::as_str) {
            if body_id != id {
                return Err(ApiError::bad_request(format!(
                    "Document id in the URL ({id}) and in the body ({body_id}) differ"
                )));
            }
        }
    }
    if let Value::Object(m) = &mut v {
        m.entry("_id").or_insert_with(|| json!(id));
    }
    let stored_id = local_id(&ctx.access, &id);
    if stored_id != id {
        if let Value::Object(m) = &mut v {
            m.insert("_id".into(), json!(stored_id));
        }
    }
    prepare_write(&ctx, &db, &mut v, new_edits)?;
    let user = ctx.user.clone();
    let id2 = stored_id;
    let rev = blocking(move || {
        let mut parts = parts.into_iter();
        let mut follows = |_: &str| parts.next();
        let doc = parse_doc(v, Some(&id2), &mut follows)?;
        if new_edits {
            Ok(db.put(doc, &user)?)
        } else {
            let mut r = db.bulk_docs(vec![doc], false, &user)?;
            Ok(r.pop().expect("one result").result?)
        }
    })
    .await?;
    let r = json_response(201, &json!({"ok": true, "id": id, "rev": rev}));
    Ok(with_etag(r, &rev))
}
