//! Attachment endpoints: `GET|HEAD|PUT|DELETE /db/doc/att` (ranges, encodings, etags).

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, Method};
use axum::response::Response;
use fullsync_engine::{parse_doc, Database, Error, ReadOptions, Rev, UserCtx};
use serde_json::json;

use crate::ctx::*;
use crate::util::{
    etag_matches, json_response, not_modified, with_etag, ApiError, ApiResult, Query,
};

pub(crate) async fn attachment(ctx: Ctx, db: Arc<Database>, id: String, name: String) -> ApiResult {
    match ctx.method {
        Method::GET | Method::HEAD => get_attachment(ctx, db, id, name).await,
        Method::PUT | Method::DELETE => put_attachment(ctx, db, id, name).await,
        _ => Err(ApiError::method("GET,HEAD,PUT,DELETE")),
    }
}

/// `GET|HEAD /db/doc/att`.
async fn get_attachment(ctx: Ctx, db: Arc<Database>, id: String, name: String) -> ApiResult {
    let rev = ctx
        .query
        .get("rev")
        .map(Rev::parse)
        .transpose()
        .map_err(ApiError::from)?;
    let access = ctx.access.clone();
    let (meta, data) = blocking(move || {
        if access.filtered() {
            let d = db.get(&id, rev.as_ref(), &ReadOptions::default())?;
            if !access.can_see(&d) {
                return Err(ApiError::not_found());
            }
        }
        Ok(db.attachment(&id, &name, rev.as_ref())?)
    })
    .await?;
    if etag_matches(&ctx.headers, &meta.digest) {
        return Ok(not_modified(&meta.digest));
    }
    let body = if ctx.method == Method::HEAD {
        Body::empty()
    } else {
        Body::from(data)
    };
    let r = Response::builder()
        .status(200)
        .header(header::CONTENT_TYPE, meta.content_type.as_str())
        .header(header::CONTENT_LENGTH, meta.length)
        .header("Content-MD5", meta.digest.trim_start_matches("md5-"))
        .header(header::ACCEPT_RANGES, "none")
        .body(body)
        .expect("valid response");
    Ok(with_etag(r, &meta.digest))
}

/// `PUT|DELETE /db/doc/att`: a new revision of the document with the attachment set or
/// removed.
async fn put_attachment(ctx: Ctx, db: Arc<Database>, id: String, name: String) -> ApiResult {
    if id.starts_with("_local/") {
        return Err(ApiError::bad_request(
            "_local documents do not accept attachments; store the data in a regular document.",
        ));
    }
    if ctx.method == Method::PUT {
        fullsync_engine::check_att_name(&name).map_err(ApiError::from)?;
    }
    let rev = ctx.query.get("rev").map(str::to_string).or_else(|| {
        ctx.headers
            .get(header::IF_MATCH)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.trim_matches('"').to_string())
    });
    let ctype = ctx
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_string();
    let delete = ctx.method == Method::DELETE;
    let data = ctx.body.to_vec();
    let user = ctx.user.clone();
    let id2 = id.clone();
    let wctx = Ctx {
        state: ctx.state.clone(),
        method: ctx.method.clone(),
        headers: HeaderMap::new(),
        query: Query::default(),
        body: Bytes::new(),
        user: ctx.user.clone(),
        access: ctx.access.clone(),
    };
    let rev = blocking(move || {
        let change = if delete { None } else { Some((ctype, data)) };
        write_attachment(&wctx, &db, &id2, &name, rev, change, &user)
    })
    .await?;
    let status = if delete { 200 } else { 201 };
    Ok(with_etag(
        json_response(status, &json!({"ok": true, "id": id, "rev": rev})),
        &rev,
    ))
}

/// Writes revision `rev` of `id` again with attachment `name` set to `change` (content type
/// and bytes), or removed (`None`); returns the new revision.
fn write_attachment(
    wctx: &Ctx,
    db: &Database,
    id2: &str,
    name: &str,
    rev: Option<String>,
    change: Option<(String, Vec<u8>)>,
    user: &UserCtx,
) -> Result<String, ApiError> {
    let rev = rev.map(|r| Rev::parse(&r)).transpose()?;
    // Current revision's body and attachments (as stubs), then change one.
    let mut doc = match &rev {
        Some(r) => db.get(id2, Some(r), &ReadOptions::default())?,
        None => match db.get(id2, None, &ReadOptions::default()) {
            Ok(_) => return Err(ApiError::from(Error::Conflict)),
            Err(Error::NotFound(_)) => json!({}),
            Err(e) => return Err(e.into()),
        },
    };
    let m = doc.as_object_mut().expect("documents are objects");
    m.remove("_id");
    let atts = m.entry("_attachments").or_insert_with(|| json!({}));
    let atts = atts
        .as_object_mut()
        .ok_or_else(|| ApiError::bad_request("bad _attachments"))?;
    if let Some((ctype, data)) = change {
        use base64::Engine as _;
        atts.insert(
            name.to_string(),
            json!({"content_type": ctype, "data": base64::engine::general_purpose::STANDARD.encode(&data)}),
        );
    } else if atts.shift_remove(name).is_none() {
        return Err(ApiError::new(
            404,
            "not_found",
            "Document is missing attachment",
        ));
    }
    m.insert("_id".into(), json!(id2));
    if !wctx.access.can_see(&doc) {
        return Err(ApiError::not_found());
    }
    prepare_write(wctx, db, &mut doc, true)?;
    let parsed = parse_doc(doc, Some(id2), &mut |_| None)?;
    Ok(db.put(parsed, user)?)
}
