//! One request as the handlers see it ([`Ctx`]), and the checks and helpers every handler
//! uses: blocking work off the async threads, the caller on a database, write preparation.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method};
use fullsync_engine::{Database, UserCtx};
use serde_json::Value;

use crate::auth::Access;
use crate::util::{require_json, ApiError, Query};
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
pub(crate) fn prepare_write(
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
pub(crate) fn local_id(access: &Access, id: &str) -> String {
    match (access, id.strip_prefix("_local/")) {
        (Access::Acl { user, .. }, Some(rest)) => match user {
            Some(u) => format!("_local/~user.{}.{u}/{rest}", u.len()),
            None => format!("_local/~anonymous/{rest}"),
        },
        _ => id.to_string(),
    }
}

pub(crate) fn not_for_acl(ctx: &Ctx) -> Result<(), ApiError> {
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

/// The caller as a database sees him: a client without credentials that the server makes admin
/// on loopback ("admin party") is anonymous on a protected database (system or FullSync).
pub(crate) fn caller_on(db: &Database, user: UserCtx) -> UserCtx {
    if crate::auth::is_party(&user) && crate::auth::protected(db) {
        UserCtx::default()
    } else {
        user
    }
}

pub(crate) fn check_doc_size(ctx: &Ctx) -> Result<(), ApiError> {
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

/// Renders a views error as CouchDB does.
pub fn view_err(e: fullsync_views::ViewError) -> ApiError {
    ApiError::new(e.status(), e.couch_error(), e.reason())
}

pub(crate) fn post_only(ctx: &Ctx) -> Result<(), ApiError> {
    if ctx.method != Method::POST {
        return Err(ApiError::method("POST"));
    }
    require_json(&ctx.headers)
}
