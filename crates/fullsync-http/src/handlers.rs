//! Request dispatch: server, database, document and attachment endpoints.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::response::Response;
use fullsync_engine::{
    parse_doc, AllDocsOptions, Database, DocIn, Error, OpenRev, OpenRevs, ReadOptions, Rev, UserCtx,
};
use serde_json::{json, Map, Value};

use crate::auth::Access;
use crate::util::{
    content_type, etag_matches, json_response, not_modified, ok, parse_json, percent_decode,
    require_json, with_etag, ApiError, ApiResult, Query,
};
use crate::AppState;

/// One request, parsed.
pub struct Ctx {
    pub state: Arc<AppState>,
    pub method: Method,
    pub headers: HeaderMap,
    pub query: Query,
    pub body: Bytes,
    pub user: UserCtx,
    /// What the user may do on the database of this request (set once the database is open).
    pub access: Access,
}

/// Prepares a document before it is written: admin-only documents, `_users` password
/// hashing, the FullSync access rules (which may refuse it, and set its access keys).
fn prepare_write(
    ctx: &Ctx,
    db: &Database,
    doc: &mut Value,
    new_edits: bool,
) -> Result<(), ApiError> {
    let id = doc
        .get("_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if id.starts_with("_design/") {
        crate::auth::require_admin(&ctx.user)?;
    }
    match db.name() {
        "_users" => {
            crate::auth::require_admin(&ctx.user)?;
            crate::auth::hash_user_doc(doc);
            ctx.state.users.invalidate();
        }
        "c8ofullsyncgrp" => {
            crate::auth::require_admin(&ctx.user)?;
            ctx.state.users.invalidate();
        }
        _ => {}
    }
    crate::auth::apply_write_rules(db, &ctx.access, doc, new_edits)
}

/// The stored id of a `_local` document: a FullSync user's checkpoints live in a namespace of
/// his own (`_local/~user.<len>.<name>/...`, anonymous clients `_local/~anonymous/...`), so no
/// client reads or overwrites another's.
fn local_id(access: &Access, id: &str) -> String {
    match (access, id.strip_prefix("_local/")) {
        (Access::Acl { user, .. }, Some(rest)) => match user {
            Some(u) => format!("_local/~user.{}.{u}/{rest}", u.len()),
            None => format!("_local/~anonymous/{rest}"),
        },
        _ => id.to_string(),
    }
}

fn not_for_acl(ctx: &Ctx) -> Result<(), ApiError> {
    if ctx.access.filtered() {
        return Err(ApiError::new(
            403,
            "forbidden",
            "This endpoint is not available to FullSync users: it could reveal other users' documents. Use replication.",
        ));
    }
    Ok(())
}

/// Runs blocking engine work off the async threads.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        ApiError::new(
            500,
            "internal_server_error",
            format!("request handler failed: {e}"),
        )
    })?
}

const VERSION: &str = "3.4.3";

pub async fn dispatch(ctx: Ctx, raw_path: &str) -> ApiResult {
    let segs: Vec<String> = raw_path
        .trim_start_matches('/')
        .split('/')
        .map(|s| percent_decode(s, false))
        .collect::<Result<_, _>>()?;
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    match segs.as_slice() {
        [""] => server_root(&ctx),
        ["_up"] => ok(json!({"status": "ok", "seeds": {}})),
        ["_all_dbs"] => {
            crate::auth::require_admin(&ctx.user)?;
            all_dbs(&ctx).await
        }
        ["_dbs_info"] => {
            crate::auth::require_admin(&ctx.user)?;
            dbs_info(&ctx).await
        }
        ["_uuids"] => uuids(&ctx),
        ["_session"] => session(&ctx),
        [db] if db.starts_with('_') && !matches!(*db, "_users" | "_replicator" | "_global_changes") => {
            Err(ApiError::new(400, "illegal_database_name", format!("Name: '{db}'. Only lowercase characters (a-z), digits (0-9), and any of the characters _, $, (, ), +, -, and / are allowed. Must begin with a letter.")))
        }
        [db] | [db, ""] => database(ctx, db).await,
        [db, rest @ ..] => {
            let db_name = db.to_string();
            db_path(ctx, &db_name, rest).await
        }
        [] => Err(ApiError::not_found()),
    }
}

fn server_root(ctx: &Ctx) -> ApiResult {
    if ctx.method != Method::GET && ctx.method != Method::HEAD {
        return Err(ApiError::method("GET,HEAD"));
    }
    ok(json!({
        "couchdb": "Welcome",
        "version": VERSION,
        "git_sha": "fullsync",
        "uuid": ctx.state.engine.uuid(),
        "features": ["access-ready"],
        "vendor": {"name": "FullSync Studio", "version": env!("CARGO_PKG_VERSION")}
    }))
}

async fn all_dbs(ctx: &Ctx) -> ApiResult {
    let engine = ctx.state.engine.clone();
    let mut names = blocking(move || Ok(engine.all_dbs()?)).await?;
    if ctx.query.flag("descending")? {
        names.reverse();
    }
    let skip = ctx.query.uint("skip")?.unwrap_or(0) as usize;
    let limit = ctx
        .query
        .uint("limit")?
        .map(|l| l as usize)
        .unwrap_or(usize::MAX);
    let names: Vec<String> = names.into_iter().skip(skip).take(limit).collect();
    ok(json!(names))
}

fn info_json(info: &fullsync_engine::DbInfo, compacting: bool) -> Value {
    json!({
        "db_name": info.name,
        "purge_seq": info.purge_seq.to_string(),
        "update_seq": info.update_seq,
        "sizes": {"file": info.file_size, "external": info.active_size, "active": info.active_size},
        "props": {},
        "doc_del_count": info.doc_del_count,
        "doc_count": info.doc_count,
        "disk_format_version": 8,
        "compact_running": compacting,
        "cluster": {"q": 1, "n": 1, "w": 1, "r": 1},
        "instance_start_time": "0"
    })
}

async fn dbs_info(ctx: &Ctx) -> ApiResult {
    let keys: Vec<String> = if ctx.method == Method::POST {
        require_json(&ctx.headers)?;
        let body = parse_json(&ctx.body)?;
        body.get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| ApiError::bad_request("`keys` member must exist."))?
            .iter()
            .map(|k| k.as_str().unwrap_or_default().to_string())
            .collect()
    } else {
        ctx.state.engine.all_dbs()?
    };
    let engine = ctx.state.engine.clone();
    let state = ctx.state.clone();
    let out = blocking(move || {
        let mut out = vec![];
        for k in keys {
            match engine.db(&k).and_then(|db| db.info()) {
                Ok(info) => {
                    out.push(json!({"key": k, "info": info_json(&info, state.compacting(&k))}))
                }
                Err(_) => out.push(json!({"key": k, "error": "not_found"})),
            }
        }
        Ok(out)
    })
    .await?;
    ok(Value::Array(out))
}

fn uuids(ctx: &Ctx) -> ApiResult {
    let count = ctx.query.uint("count")?.unwrap_or(1);
    if count > 1000 {
        return Err(ApiError::bad_request(
            "count parameter too large (at most 1000)",
        ));
    }
    let ids: Vec<String> = (0..count)
        .map(|_| fullsync_engine::doc::new_uuid())
        .collect();
    ok(json!({"uuids": ids}))
}

fn session(ctx: &Ctx) -> ApiResult {
    let state = &ctx.state;
    match ctx.method {
        Method::GET => {
            let user = state.authenticate(&ctx.headers).unwrap_or_default();
            ok(json!({
                "ok": true,
                "userCtx": {"name": user.name, "roles": user.roles},
                "info": {"authentication_handlers": ["cookie", "default"], "authenticated": if user.name.is_some() {"default"} else {"none"}}
            }))
        }
        Method::POST => {
            let ct = content_type(&ctx.headers);
            let (name, password) = if ct == "application/x-www-form-urlencoded" {
                let q = Query::parse(Some(std::str::from_utf8(&ctx.body).unwrap_or("")))?;
                (
                    q.get("name").unwrap_or("").to_string(),
                    q.get("password").unwrap_or("").to_string(),
                )
            } else {
                let v = parse_json(&ctx.body)?;
                (
                    v.get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    v.get("password")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                )
            };
            let is_admin = state.cfg.admin.as_ref().is_some_and(|(a, p)| {
                *a == name && crate::constant_eq(p.as_bytes(), password.as_bytes())
            });
            let roles: Vec<String> = if is_admin {
                vec!["_admin".into()]
            } else if let Some(ctx) = state.users.verify(&name, &password) {
                ctx.roles
            } else if state.cfg.admin_party && name.is_empty() {
                return ok(json!({"ok": true, "name": Value::Null, "roles": ["_admin"]}));
            } else {
                return Err(ApiError::new(
                    401,
                    "unauthorized",
                    "Name or password is incorrect.",
                ));
            };
            let token = state.new_session(&name);
            let mut r = json_response(200, &json!({"ok": true, "name": name, "roles": roles}));
            if let Ok(v) =
                HeaderValue::from_str(&format!("AuthSession={token}; Version=1; Path=/; HttpOnly"))
            {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            Ok(r)
        }
        Method::DELETE => {
            state.drop_session(&ctx.headers);
            let mut r = json_response(200, &json!({"ok": true}));
            r.headers_mut().insert(
                header::SET_COOKIE,
                HeaderValue::from_static("AuthSession=; Version=1; Path=/; HttpOnly; Max-Age=0"),
            );
            Ok(r)
        }
        _ => Err(ApiError::method("GET,POST,DELETE")),
    }
}

async fn database(ctx: Ctx, name: &str) -> ApiResult {
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

/// The caller as a database sees him: a client without credentials that the server makes admin
/// on loopback ("admin party") is anonymous on a protected database (system or FullSync).
fn caller_on(db: &Database, user: UserCtx) -> UserCtx {
    if crate::auth::is_party(&user) && crate::auth::protected(db) {
        UserCtx::default()
    } else {
        user
    }
}

fn check_doc_size(ctx: &Ctx) -> Result<(), ApiError> {
    let max = ctx.state.cfg.max_document_bytes;
    if ctx.body.len() > max {
        return Err(ApiError::new(
            413,
            "document_too_large",
            format!(
                "Document is {} bytes; the limit is {max}. Store large data as attachments.",
                ctx.body.len()
            ),
        ));
    }
    Ok(())
}

/// `_users` for a caller who is not an admin: he reads his own document (without the password
/// hash); anything else needs an admin, as on CouchDB.
async fn users_db_path(ctx: &Ctx, db: Arc<Database>, rest: &[&str]) -> ApiResult {
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
fn info_for(access: &Access, info: &fullsync_engine::DbInfo, compacting: bool) -> Value {
    let mut v = info_json(info, compacting);
    if access.filtered() {
        v["doc_count"] = Value::Null;
        v["doc_del_count"] = Value::Null;
        v["sizes"] = json!({"file": Value::Null, "external": Value::Null, "active": Value::Null});
    }
    v
}

async fn db_path(ctx: Ctx, db_name: &str, rest: &[&str]) -> ApiResult {
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
        not_for_acl(&ctx)?;
    }
    match rest {
        ["_all_docs"] => all_docs(ctx, db, None).await,
        ["_design_docs"] => all_docs(ctx, db, Some("_design/")).await,
        ["_local_docs"] => local_docs(ctx, db).await,
        ["_changes"] => crate::changes::changes(ctx, db).await,
        ["_bulk_docs"] => bulk_docs(ctx, db).await,
        ["_bulk_get"] => bulk_get(ctx, db).await,
        ["_revs_diff"] => {
            post_only(&ctx)?;
            let v = parse_json(&ctx.body)?;
            let Value::Object(m) = v else {
                return Err(ApiError::bad_request("Request body must be a JSON object"));
            };
            let access = ctx.access.clone();
            let out = blocking(move || revs_diff_for(&db, &access, &m)).await?;
            ok(Value::Object(out))
        }
        ["_missing_revs"] => {
            post_only(&ctx)?;
            let v = parse_json(&ctx.body)?;
            let Value::Object(m) = v else {
                return Err(ApiError::bad_request("Request body must be a JSON object"));
            };
            let access = ctx.access.clone();
            let out = blocking(move || revs_diff_for(&db, &access, &m)).await?;
            let mut missing = Map::new();
            for (k, v) in out {
                missing.insert(k, v.get("missing").cloned().unwrap_or(json!([])));
            }
            ok(json!({"missing_revs": missing}))
        }
        ["_purge"] => {
            post_only(&ctx)?;
            let v = parse_json(&ctx.body)?;
            let Value::Object(m) = v else {
                return Err(ApiError::bad_request("Request body must be a JSON object"));
            };
            let (seq, purged) = blocking(move || Ok(db.purge(&m)?)).await?;
            Ok(json_response(
                201,
                &json!({"purge_seq": seq.to_string(), "purged": purged}),
            ))
        }
        ["_revs_limit"] => match ctx.method {
            Method::GET => ok(json!(db.revs_limit())),
            Method::PUT => {
                let v = parse_json(&ctx.body)?;
                let n = v.as_u64().filter(|&n| n > 0).ok_or_else(|| {
                    ApiError::bad_request("revs_limit must be a positive integer")
                })?;
                blocking(move || Ok(db.set_revs_limit(n)?)).await?;
                ok(json!({"ok": true}))
            }
            _ => Err(ApiError::method("GET,PUT")),
        },
        ["_security"] => match ctx.method {
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
        },
        ["_compact"] | ["_compact", _] => {
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
        ["_view_cleanup"] => {
            post_only(&ctx)?;
            let views = ctx.state.views.clone();
            let name = db.name().to_string();
            blocking(move || views.cleanup(&name).map_err(view_err)).await?;
            Ok(json_response(202, &json!({"ok": true})))
        }
        ["_fullsync", "see_as"] => {
            // FullSync extension: the documents a user with groups would receive.
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
            let ids =
                blocking(move || Ok(fullsync_acl::see_as_user(&db, u2.as_deref(), &g2)?)).await?;
            ok(json!({"user": user, "groups": groups, "count": ids.len(), "ids": ids}))
        }
        ["_fullsync", "reset"] => {
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
        ["_find"] | ["_explain"] => {
            post_only(&ctx)?;
            let body = parse_json(&ctx.body)?;
            let explain = rest[0] == "_explain";
            let permit = crate::stream::permit(&ctx.state).await;
            let out = blocking(move || {
                if explain {
                    fullsync_views::mango::explain(&db, &body).map_err(view_err)
                } else {
                    fullsync_views::mango::find(&db, &body).map_err(view_err)
                }
            })
            .await?;
            crate::stream::json(permit, out)
        }
        ["_index"] => match ctx.method {
            Method::GET => {
                let list =
                    blocking(move || fullsync_views::mango::list_indexes(&db).map_err(view_err))
                        .await?;
                let indexes: Vec<Value> = list.iter().map(|i| i.to_json()).collect();
                ok(json!({"total_rows": indexes.len(), "indexes": indexes}))
            }
            Method::POST => {
                require_json(&ctx.headers)?;
                let body = parse_json(&ctx.body)?;
                let user = ctx.user.clone();
                ok(blocking(move || {
                    fullsync_views::mango::create_index(&db, &body, &user).map_err(view_err)
                })
                .await?)
            }
            _ => Err(ApiError::method("GET,POST")),
        },
        ["_index", ddoc, "json", name] | ["_index", "_design", ddoc, "json", name] => {
            if ctx.method != Method::DELETE {
                return Err(ApiError::method("DELETE"));
            }
            let (ddoc, name, user) = (ddoc.to_string(), name.to_string(), ctx.user.clone());
            ok(blocking(move || {
                fullsync_views::mango::delete_index(&db, &ddoc, &name, &user).map_err(view_err)
            })
            .await?)
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

/// `_revs_diff` as `access` sees the database: a document the user may not see looks absent
/// (every revision is missing), so neither `_revs_diff` nor `_missing_revs` tells whether it
/// exists.
fn revs_diff_for(
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

/// `GET|POST /db/_local_docs`: the `_local` documents (a FullSync user's own only), as
/// CouchDB answers them (`total_rows` and `offset` are `null`).
async fn local_docs(ctx: Ctx, db: Arc<Database>) -> ApiResult {
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

/// Renders a views error as CouchDB does.
pub fn view_err(e: fullsync_views::ViewError) -> ApiError {
    ApiError::new(e.status(), e.couch_error(), e.reason())
}

fn post_only(ctx: &Ctx) -> Result<(), ApiError> {
    if ctx.method != Method::POST {
        return Err(ApiError::method("POST"));
    }
    require_json(&ctx.headers)
}

/// Splits `doc[/att...]`, `_design/x[/att...]`, `_local/x`.
fn split_doc_path(rest: &[&str]) -> Result<(String, Option<String>), ApiError> {
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

fn read_options(q: &Query) -> Result<ReadOptions, ApiError> {
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

async fn document(ctx: Ctx, db: Arc<Database>, id: String) -> ApiResult {
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

async fn get_document(ctx: Ctx, db: Arc<Database>, id: String) -> ApiResult {
    let q = &ctx.query;
    let mut opts = read_options(q)?;
    if id.starts_with("_local/") {
        let stored = local_id(&ctx.access, &id);
        let mut v = blocking(move || Ok(db.get_local(&stored)?)).await?;
        if let Some(m) = v.as_object_mut() {
            m.insert("_id".into(), json!(id));
        }
        return ok(v);
    }
    if let Some(open) = q.get("open_revs") {
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
            return Ok(crate::changes::multipart_open_revs(rows));
        }
        return ok(Value::Array(rows));
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

/// Of the leaves descending from revision `rev` of `id`, the one that would win (live before
/// deleted, then the longest path, then the highest hash).
fn latest_leaf(db: &Database, id: &str, rev: &Rev, opts: &ReadOptions) -> Result<Value, ApiError> {
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

fn accepts_multipart(h: &HeaderMap) -> bool {
    h.get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("multipart/mixed") && !a.contains("application/json"))
}

async fn put_document(ctx: Ctx, db: Arc<Database>, id: String) -> ApiResult {
    let ct = content_type(&ctx.headers);
    let (v, parts) = if ct == "multipart/related" {
        crate::changes::parse_multipart_related(&ctx.headers, &ctx.body)?
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

async fn attachment(ctx: Ctx, db: Arc<Database>, id: String, name: String) -> ApiResult {
    match ctx.method {
        Method::GET | Method::HEAD => {
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
        Method::PUT | Method::DELETE => {
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
                let rev = rev.map(|r| Rev::parse(&r)).transpose()?;
                // Current revision's body and attachments (as stubs), then change one.
                let mut doc = match &rev {
                    Some(r) => db.get(&id2, Some(r), &ReadOptions::default())?,
                    None => match db.get(&id2, None, &ReadOptions::default()) {
                        Ok(_) => return Err(ApiError::from(Error::Conflict)),
                        Err(Error::NotFound(_)) => json!({}),
                        Err(e) => return Err(e.into()),
                    },
                };
                let m = doc.as_object_mut().expect("documents are objects");
                m.remove("_id");
                let atts = m.entry("_attachments").or_insert_with(|| json!({}));
                let atts = atts.as_object_mut().ok_or_else(|| ApiError::bad_request("bad _attachments"))?;
                if delete {
                    if atts.shift_remove(&name).is_none() {
                        return Err(ApiError::new(404, "not_found", "Document is missing attachment"));
                    }
                } else {
                    use base64::Engine as _;
                    atts.insert(
                        name.clone(),
                        json!({"content_type": ctype, "data": base64::engine::general_purpose::STANDARD.encode(&data)}),
                    );
                }
                m.insert("_id".into(), json!(id2));
                if !wctx.access.can_see(&doc) {
                    return Err(ApiError::not_found());
                }
                prepare_write(&wctx, &db, &mut doc, true)?;
                let parsed = parse_doc(doc, Some(&id2), &mut |_| None)?;
                Ok(db.put(parsed, &user)?)
            })
            .await?;
            let status = if delete { 200 } else { 201 };
            Ok(with_etag(
                json_response(status, &json!({"ok": true, "id": id, "rev": rev})),
                &rev,
            ))
        }
        _ => Err(ApiError::method("GET,HEAD,PUT,DELETE")),
    }
}

fn str_key(v: Option<Value>, name: &str) -> Result<Option<String>, ApiError> {
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

async fn all_docs(ctx: Ctx, db: Arc<Database>, prefix: Option<&'static str>) -> ApiResult {
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
    let opts = AllDocsOptions {
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
    };
    let update_seq = q.flag("update_seq")?;
    let access = ctx.access.clone();
    let permit = crate::stream::permit(&ctx.state).await;
    let (total, offset, rows, seq) = blocking(move || {
        let seq = db.update_seq();
        if access.filtered() {
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
                        if d.is_object() && crate::auth::scrub_conflicts(&db, &access, d).is_err() {
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

async fn bulk_docs(ctx: Ctx, db: Arc<Database>) -> ApiResult {
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
        if let Err(e) = prepare_write(&ctx, &db, d, new_edits) {
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
    let max = ctx.state.cfg.max_document_bytes;
    let user = ctx.user.clone();
    let results = blocking(move || {
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
        let mut written = db.bulk_docs_json(valid, new_edits, &user)?.into_iter();
        let mut out = vec![];
        for (i, slot) in keep.into_iter().enumerate() {
            match slot {
                Some(_) => {
                    let r = written.next().expect("one result per doc");
                    match r.result {
                        Ok(rev) if new_edits => {
                            out.push(json!({"ok": true, "id": r.id, "rev": rev}))
                        }
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
    })
    .await?;
    let mut results = results;
    for r in &mut results {
        let stored = r.get("id").and_then(Value::as_str).unwrap_or_default();
        if let Some((_, asked)) = local_ids.iter().find(|(s, _)| s == stored) {
            r["id"] = json!(asked);
        }
    }
    Ok(json_response(201, &Value::Array(results)))
}

async fn bulk_get(ctx: Ctx, db: Arc<Database>) -> ApiResult {
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
