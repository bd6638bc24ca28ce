//! Mango endpoints: `_find`, `_explain`, `_index` (list, create, delete).

use std::sync::Arc;

use axum::http::Method;
use fullsync_engine::Database;
use serde_json::{json, Value};

use crate::ctx::{blocking, post_only, view_err, Ctx};
use crate::util::{ok, parse_json, require_json, ApiError, ApiResult};

/// `POST /db/_find`, or `/db/_explain` when `explain`.
pub(crate) async fn find(ctx: Ctx, db: Arc<Database>, explain: bool) -> ApiResult {
    post_only(&ctx)?;
    let body = parse_json(&ctx.body)?;
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

/// `GET|POST /db/_index`: lists the indexes, or creates one.
pub(crate) async fn index(ctx: Ctx, db: Arc<Database>) -> ApiResult {
    match ctx.method {
        Method::GET => {
            let list = blocking(move || fullsync_views::mango::list_indexes(&db).map_err(view_err))
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
    }
}

/// `DELETE /db/_index/[_design/]ddoc/json/name`.
pub(crate) async fn delete_index(ctx: Ctx, db: Arc<Database>, ddoc: &str, name: &str) -> ApiResult {
    if ctx.method != Method::DELETE {
        return Err(ApiError::method("DELETE"));
    }
    let (ddoc, name, user) = (ddoc.to_string(), name.to_string(), ctx.user.clone());
    ok(blocking(move || {
        fullsync_views::mango::delete_index(&db, &ddoc, &name, &user).map_err(view_err)
    })
    .await?)
}
