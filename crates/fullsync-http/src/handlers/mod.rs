//! Request dispatch: the path of a request picks a server, database, document, attachment or
//! bulk endpoint, each in its own module.

mod attachment;
mod bulk;
mod db;
mod doc;
mod mango;
mod server;

use serde_json::json;

use crate::ctx::Ctx;
use crate::util::{ok, percent_decode, ApiError, ApiResult};

/// Routes one request by its path (percent-decoded segments).
pub async fn dispatch(ctx: Ctx, raw_path: &str) -> ApiResult {
    let segs: Vec<String> = raw_path
        .trim_start_matches('/')
        .split('/')
        .map(|s| percent_decode(s, false))
        .collect::<Result<_, _>>()?;
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    match segs.as_slice() {
        [""] => server::server_root(&ctx),
        ["_up"] => ok(json!({"status": "ok", "seeds": {}})),
        ["_all_dbs"] => {
            crate::auth::require_admin(&ctx.user)?;
            server::all_dbs(&ctx).await
        }
        ["_dbs_info"] => {
            crate::auth::require_admin(&ctx.user)?;
            server::dbs_info(&ctx).await
        }
        ["_uuids"] => server::uuids(&ctx),
        ["_session"] => server::session(&ctx),
        [db] if db.starts_with('_') && !matches!(*db, "_users" | "_replicator" | "_global_changes") => {
            Err(ApiError::new(400, "illegal_database_name", format!("Name: '{db}'. Only lowercase characters (a-z), digits (0-9), and any of the characters _, $, (, ), +, -, and / are allowed. Must begin with a letter.")))
        }
        [db] | [db, ""] => db::database(ctx, db).await,
        [db, rest @ ..] => {
            let db_name = db.to_string();
            db::db_path(ctx, &db_name, rest).await
        }
        [] => Err(ApiError::not_found()),
    }
}
