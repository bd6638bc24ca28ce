//! Server endpoints: `/`, `_up`, `_all_dbs`, `_dbs_info`, `_uuids`, `_session`.

use axum::http::{header, HeaderValue, Method};
use serde_json::{json, Value};

use crate::ctx::*;
use crate::util::{
    content_type, json_response, ok, parse_json, require_json, ApiError, ApiResult, Query,
};

pub(crate) const VERSION: &str = "3.4.3";

pub(crate) fn server_root(ctx: &Ctx) -> ApiResult {
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

pub(crate) async fn all_dbs(ctx: &Ctx) -> ApiResult {
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

pub(crate) fn info_json(info: &fullsync_engine::DbInfo, compacting: bool) -> Value {
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

pub(crate) async fn dbs_info(ctx: &Ctx) -> ApiResult {
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

pub(crate) fn uuids(ctx: &Ctx) -> ApiResult {
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

pub(crate) fn session(ctx: &Ctx) -> ApiResult {
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
