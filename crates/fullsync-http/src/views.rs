//! View endpoints: `GET|POST /db/_design/ddoc/_view/view` and `POST .../queries`.

use std::sync::Arc;

use axum::http::Method;
use fullsync_engine::Database;
use fullsync_views::ViewQuery;
use serde_json::{json, Value};

use crate::ctx::{blocking, view_err, Ctx};
use crate::util::{parse_json, require_json, ApiError, ApiResult};

/// Answers a view query (or several with `queries`).
pub async fn view(ctx: Ctx, db: Arc<Database>, ddoc: &str, view: &str, multi: bool) -> ApiResult {
    let body = match ctx.method {
        Method::GET | Method::HEAD if !multi => None,
        Method::POST => {
            require_json(&ctx.headers)?;
            Some(if ctx.body.is_empty() {
                json!({})
            } else {
                parse_json(&ctx.body)?
            })
        }
        _ => {
            return Err(ApiError::method(if multi {
                "POST"
            } else {
                "GET,POST,HEAD"
            }))
        }
    };
    let url = ViewQuery::from_params(&ctx.query.0).map_err(view_err)?;
    let queries: Vec<ViewQuery> = if multi {
        let list = body
            .as_ref()
            .and_then(|b| b.get("queries"))
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| ApiError::bad_request("Request body must contain a `queries` array"))?;
        list.iter()
            .map(ViewQuery::from_json)
            .collect::<Result<_, _>>()
            .map_err(view_err)?
    } else {
        match body {
            Some(Value::Object(m)) if !m.is_empty() => {
                // POST: URL options plus the body (usually `keys`).
                let mut merged = serde_json::Map::new();
                for (k, v) in &ctx.query.0 {
                    let json_param = matches!(
                        k.as_str(),
                        "key" | "keys" | "startkey" | "start_key" | "endkey" | "end_key"
                    );
                    let val = if json_param {
                        serde_json::from_str(v).map_err(|_| {
                            ApiError::new(
                                400,
                                "query_parse_error",
                                format!("Invalid JSON for {k}: {v}"),
                            )
                        })?
                    } else {
                        Value::String(v.clone())
                    };
                    merged.insert(k.clone(), val);
                }
                merged.extend(m);
                vec![ViewQuery::from_json(&Value::Object(merged)).map_err(view_err)?]
            }
            Some(Value::Object(_)) | None => vec![url],
            Some(_) => return Err(ApiError::bad_request("Request body must be a JSON object")),
        }
    };
    let views = ctx.state.views.clone();
    let (ddoc, view) = (ddoc.to_string(), view.to_string());
    let permit = crate::stream::permit(&ctx.state).await;
    let results = blocking(move || {
        let dd = views.design_doc(&db, &ddoc).map_err(view_err)?;
        let mut out = vec![];
        for q in &queries {
            out.push(views.query_ddoc(&db, &dd, &view, q).map_err(view_err)?);
        }
        Ok(out)
    })
    .await?;
    if multi {
        crate::stream::json(permit, json!({ "results": results }))
    } else {
        crate::stream::json(permit, results.into_iter().next().unwrap_or(Value::Null))
    }
}
