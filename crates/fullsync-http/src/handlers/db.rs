//! Database endpoints: `/db` (info, create, delete, post a document) and the routing of
//! `/db/...` to its endpoints (revs diff, purge, limits, security, compaction, Mango, FullSync).

use std::sync::Arc;

use axum::http::{header, HeaderValue, Method};
use fullsync_engine::{parse_doc, Database};
use serde_json::{json, Map, Value};

use super::{attachment::*, bulk::*, doc::*, mango, server::*};
use crate::auth::Access;
use crate::ctx::*;
use crate::util::{json_response, ok, parse_json, require_json, ApiError, ApiResult};

pub(crate) async fn database(ctx: Ctx, name: &str) -> ApiResult {
    let engine = ctx.state.engine.clone();
    let name = name.to_string();
    match ctx.method {
        Method::GET | Method::HEAD => {
            let user = ctx.user.clone();
            let state = ctx.state.clone();
            let info = blocking(move || {
                let db = engine.db(&name)?;
                let user = caller_on(&db, user);
                let access = crate::auth::db_access(&db, &user)?;
                Ok(info_for(&access, &db.info()?, state.compacting(&name)))
            })
            .await?;
            ok(info)
        }
        Method::PUT => {
            crate::auth::require_admin(&ctx.user)?;
            blocking(move || {
                engine.create_db(&name)?;
                Ok(())
            })
            .await?;
            Ok(json_response(201, &json!({"ok": true})))
        }
        Method::DELETE => {
            crate::auth::require_admin(&ctx.user)?;
            if let Ok(db) = engine.db(&name) {
                crate::auth::require_admin(&caller_on(&db, ctx.user.clone()))?;
            }
            if ctx.query.get("rev").is_some() {
                return Err(ApiError::bad_request(
                    "You tried to DELETE a database with a ?rev= parameter. Did you mean to DELETE a document instead?",
                ));
            }
            let views = ctx.state.views.clone();
            blocking(move || {
                engine.delete_db(&name)?;
                views.forget_db(&name);
                Ok(())
            })
            .await?;
            ok(json!({"ok": true}))
        }
        Method::POST => {
            require_json(&ctx.headers)?;
            check_doc_size(&ctx)?;
            let mut v = parse_json(&ctx.body)?;
            let batch_ok = ctx.query.get("batch") == Some("ok");
            let db0 = engine.db(&name)?;
            let mut ctx = ctx;
            ctx.user = caller_on(&db0, ctx.user);
            let user = ctx.user.clone();
            ctx.access = crate::auth::db_access(&db0, &ctx.user)?;
            if v.get("_id").is_none() {
                if let Value::Object(m) = &mut v {
                    m.insert("_id".into(), json!(fullsync_engine::doc::new_uuid()));
                }
            }
            prepare_write(&ctx, &db0, &mut v, true)?;
            let (id, rev) = blocking(move || {
                let db = engine.db(&name)?;
                let doc = parse_doc(v, None, &mut |_| None)?;
                if doc.id.starts_with("_local/") {
                    return Err(ApiError::bad_request("Use PUT for _local documents"));
                }
                let id = doc.id.clone();
                Ok((id, db.put(doc, &user)?))
            })
            .await?;
            let status = if batch_ok { 202 } else { 201 };
            let mut r = json_response(status, &json!({"ok": true, "id": id, "rev": rev}));
            if let Ok(v) = HeaderValue::from_str(&format!("\"{rev}\"")) {
                r.headers_mut().insert(header::ETAG, v);
            }
            Ok(r)
        }
        _ => Err(ApiError::method("GET,HEAD,PUT,DELETE,POST")),
    }
}

/// `_users` for a caller who is not an admin: he reads his own document (without the password
/// hash); anything else needs an admin, as on CouchDB.
pub(crate) async fn users_db_path(ctx: &Ctx, db: Arc<Database>, rest: &[&str]) -> ApiResult {
    let read = ctx.method == Method::GET || ctx.method == Method::HEAD;
    if let ([id], true) = (rest, read) {
        let (user, id) = (ctx.user.clone(), id.to_string());
        let own = blocking(move || crate::auth::own_user_doc(&db, &user, &id).transpose()).await?;
        if let Some(doc) = own {
            return ok(doc);
        }
    }
    crate::auth::require_admin(&ctx.user)?;
    Err(ApiError::not_found())
}

/// A database's info as `access` may see it: a FullSync user is not told how many documents
/// the database holds (only his own part of it is his business), so the counts are `null`.
pub(crate) fn info_for(access: &Access, info: &fullsync_engine::DbInfo, compacting: bool) -> Value {
    let mut v = info_json(info, compacting);
    if access.filtered() {
        v["doc_count"] = Value::Null;
        v["doc_del_count"] = Value::Null;
        v["sizes"] = json!({"file": Value::Null, "external": Value::Null, "active": Value::Null});
    }
    v
}

pub(crate) async fn db_path(ctx: Ctx, db_name: &str, rest: &[&str]) -> ApiResult {
    let db = {
        let engine = ctx.state.engine.clone();
        let n = db_name.to_string();
        blocking(move || Ok(engine.db(&n)?)).await?
    };
    let mut ctx = ctx;
    ctx.user = caller_on(&db, ctx.user);
    if db.name() == "_users" && !crate::auth::is_admin(&ctx.user) {
        return users_db_path(&ctx, db, rest).await;
    }
    {
        let (db2, user) = (db.clone(), ctx.user.clone());
        ctx.access = blocking(move || crate::auth::db_access(&db2, &user)).await?;
    }
    check_path_access(&ctx, rest)?;
    match rest {
        ["_all_docs"] => all_docs(ctx, db, None).await,
        ["_design_docs"] => all_docs(ctx, db, Some("_design/")).await,
        ["_local_docs"] => local_docs(ctx, db).await,
        ["_changes"] => crate::changes::changes(ctx, db).await,
        ["_bulk_docs"] => bulk_docs(ctx, db).await,
        ["_bulk_get"] => bulk_get(ctx, db).await,
        ["_revs_diff"] => revs_diff(ctx, db, false).await,
        ["_missing_revs"] => revs_diff(ctx, db, true).await,
        ["_purge"] => purge(ctx, db).await,
        ["_revs_limit"] => revs_limit(ctx, db).await,
        ["_security"] => security(ctx, db).await,
        ["_compact"] | ["_compact", _] => compact(ctx, db),
        ["_view_cleanup"] => view_cleanup(ctx, db).await,
        ["_fullsync", "see_as"] => see_as(ctx, db).await,
        ["_fullsync", "reset"] => reset(ctx, db).await,
        ["_find"] | ["_explain"] => mango::find(ctx, db, rest[0] == "_explain").await,
        ["_index"] => mango::index(ctx, db).await,
        ["_index", ddoc, "json", name] | ["_index", "_design", ddoc, "json", name] => {
            mango::delete_index(ctx, db, ddoc, name).await
        }
        ["_design", ddoc, "_view", view] => crate::views::view(ctx, db, ddoc, view, false).await,
        ["_design", ddoc, "_view", view, "queries"] => {
            crate::views::view(ctx, db, ddoc, view, true).await
        }
        ["_design", ddoc, "_info"] => {
            let views = ctx.state.views.clone();
            let (name, ddoc) = (db.name().to_string(), ddoc.to_string());
            ok(blocking(move || views.info(&name, &ddoc).map_err(view_err)).await?)
        }
        ["_ensure_full_commit"] => {
            post_only(&ctx)?;
            db.ensure_full_commit();
            Ok(json_response(
                201,
                &json!({"ok": true, "instance_start_time": "0"}),
            ))
        }
        [first, ..] if first.starts_with('_') && !matches!(*first, "_design" | "_local") => {
            Err(ApiError::new(
                400,
                "illegal_docid",
                "Only reserved document ids may start with underscore.",
            ))
        }
        _ => {
            let (id, att) = split_doc_path(rest)?;
            match att {
                None => document(ctx, db, id).await,
                Some(att) => attachment(ctx, db, id, att).await,
            }
        }
    }
}

/// Who may reach `/db/<rest>`: admin-only endpoints, and those closed to FullSync users.
fn check_path_access(ctx: &Ctx, rest: &[&str]) -> Result<(), ApiError> {
    let admin_only = matches!(
        rest,
        ["_purge"] | ["_compact"] | ["_compact", _] | ["_view_cleanup"] | ["_index", ..]
    ) && ctx.method != Method::GET
        || (matches!(rest, ["_security"] | ["_revs_limit"]) && ctx.method == Method::PUT);
    if admin_only {
        crate::auth::require_admin(&ctx.user)?;
    }
    if matches!(
        rest,
        ["_design_docs"]
            | ["_find"]
            | ["_explain"]
            | ["_index", ..]
            | ["_design", _, "_view", ..]
            | ["_design", _, "_info"]
    ) {
        not_for_acl(ctx)?;
    }
    Ok(())
}

/// The body of a POST that must be a JSON object.
fn object_body(ctx: &Ctx) -> Result<Map<String, Value>, ApiError> {
    post_only(ctx)?;
    match parse_json(&ctx.body)? {
        Value::Object(m) => Ok(m),
        _ => Err(ApiError::bad_request("Request body must be a JSON object")),
    }
}

/// `POST /db/_revs_diff`, or `/db/_missing_revs` when `missing_revs`.
async fn revs_diff(ctx: Ctx, db: Arc<Database>, missing_revs: bool) -> ApiResult {
    let m = object_body(&ctx)?;
    let access = ctx.access.clone();
    let out = blocking(move || revs_diff_for(&db, &access, &m)).await?;
    if !missing_revs {
        return ok(Value::Object(out));
    }
    let mut missing = Map::new();
    for (k, v) in out {
        missing.insert(k, v.get("missing").cloned().unwrap_or(json!([])));
    }
    ok(json!({"missing_revs": missing}))
}

/// `POST /db/_purge`.
async fn purge(ctx: Ctx, db: Arc<Database>) -> ApiResult {
    let m = object_body(&ctx)?;
    let (seq, purged) = blocking(move || Ok(db.purge(&m)?)).await?;
    Ok(json_response(
        201,
        &json!({"purge_seq": seq.to_string(), "purged": purged}),
    ))
}

/// `GET|PUT /db/_revs_limit`.
async fn revs_limit(ctx: Ctx, db: Arc<Database>) -> ApiResult {
    match ctx.method {
        Method::GET => ok(json!(db.revs_limit())),
        Method::PUT => {
            let v = parse_json(&ctx.body)?;
            let n = v
                .as_u64()
                .filter(|&n| n > 0)
                .ok_or_else(|| ApiError::bad_request("revs_limit must be a positive integer"))?;
            blocking(move || Ok(db.set_revs_limit(n)?)).await?;
            ok(json!({"ok": true}))
        }
        _ => Err(ApiError::method("GET,PUT")),
    }
}

/// `GET|PUT /db/_security`.
async fn security(ctx: Ctx, db: Arc<Database>) -> ApiResult {
    match ctx.method {
        Method::GET => ok(blocking(move || Ok(db.security()?)).await?),
        Method::PUT => {
            let v = parse_json(&ctx.body)?;
            if !v.is_object() {
                return Err(ApiError::bad_request(
                    "The security object must be a JSON object",
                ));
            }
            blocking(move || Ok(db.set_security(&v)?)).await?;
            ok(json!({"ok": true}))
        }
        _ => Err(ApiError::method("GET,PUT")),
    }
}

/// `POST /db/_compact[/ddoc]`: starts the compaction and answers at once.
fn compact(ctx: Ctx, db: Arc<Database>) -> ApiResult {
    post_only(&ctx)?;
    require_json(&ctx.headers)?;
    // `compact_running` is true from now until the compaction ends, so clients that
    // poll `GET /db` wait for it.
    let state = ctx.state.clone();
    state.set_compacting(db.name(), true);
    tokio::task::spawn_blocking(move || {
        let _ = db.compact();
        state.set_compacting(db.name(), false);
    });
    Ok(json_response(202, &json!({"ok": true})))
}

/// `POST /db/_view_cleanup`.
async fn view_cleanup(ctx: Ctx, db: Arc<Database>) -> ApiResult {
    post_only(&ctx)?;
    let views = ctx.state.views.clone();
    let name = db.name().to_string();
    blocking(move || views.cleanup(&name).map_err(view_err)).await?;
    Ok(json_response(202, &json!({"ok": true})))
}

/// `GET /db/_fullsync/see_as?user=&groups=` (FullSync extension): the documents a user with
/// groups would receive.
async fn see_as(ctx: Ctx, db: Arc<Database>) -> ApiResult {
    crate::auth::require_admin(&ctx.user)?;
    let user = ctx
        .query
        .get("user")
        .filter(|u| !u.is_empty())
        .map(str::to_string);
    let groups: Vec<String> = ctx
        .query
        .get("groups")
        .map(|g| {
            g.split(',')
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let (u2, g2) = (user.clone(), groups.clone());
    let ids = blocking(move || Ok(fullsync_acl::see_as_user(&db, u2.as_deref(), &g2)?)).await?;
    ok(json!({"user": user, "groups": groups, "count": ids.len(), "ids": ids}))
}

/// `POST /db/_fullsync/reset` (FullSync extension): empties the database.
async fn reset(ctx: Ctx, db: Arc<Database>) -> ApiResult {
    post_only(&ctx)?;
    crate::auth::require_admin(&ctx.user)?;
    let (engine, views, name) = (
        ctx.state.engine.clone(),
        ctx.state.views.clone(),
        db.name().to_string(),
    );
    drop(db);
    blocking(move || {
        views.forget_db(&name);
        engine.reset_db(&name)?;
        Ok(())
    })
    .await?;
    ok(json!({"ok": true}))
}

/// `_revs_diff` as `access` sees the database: a document the user may not see looks absent
/// (every revision is missing), so neither `_revs_diff` nor `_missing_revs` tells whether it
/// exists.
pub(crate) fn revs_diff_for(
    db: &Database,
    access: &Access,
    m: &Map<String, Value>,
) -> Result<Map<String, Value>, ApiError> {
    let mut out = db.revs_diff(m)?;
    if access.filtered() {
        for (id, revs) in m {
            if !crate::auth::winner_visible(db, access, id)? {
                out.insert(id.clone(), json!({ "missing": revs }));
            }
        }
    }
    Ok(out)
}
