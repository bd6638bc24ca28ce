//! `_changes` feeds (normal, longpoll, continuous, eventsource).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, Method};
use axum::response::Response;
use fullsync_engine::{ChangesFilter, ChangesOptions, Database};
use serde_json::{json, Value};

use crate::ctx::{blocking, Ctx};
use crate::util::{json_response, parse_json, parse_seq, ApiError, ApiResult};

type DocFilter = Arc<dyn Fn(&Value) -> bool + Send + Sync>;

#[derive(Clone, Copy, PartialEq)]
enum Feed {
    Normal,
    LongPoll,
    Continuous,
    EventSource,
}

/// Parsed `_changes` request.
#[derive(Clone)]
struct Req {
    feed: Feed,
    since: u64,
    limit: Option<usize>,
    descending: bool,
    include_docs: bool,
    all_docs: bool,
    conflicts: bool,
    attachments: bool,
    doc_ids: Option<HashSet<String>>,
    design_only: bool,
    selector: Option<fullsync_engine::Selector>,
    doc_filter: Option<DocFilter>,
    heartbeat: Option<Duration>,
    timeout: Duration,
    /// A FullSync user's access: rows list only the leaves he may see.
    access: crate::auth::Access,
    /// Where a JavaScript filter records what it threw.
    filter_error: Option<fullsync_views::validate::FilterError>,
}

impl Req {
    fn options(&self, since: u64) -> ChangesOptions<'_> {
        ChangesOptions {
            since,
            limit: self.limit,
            descending: self.descending,
            include_docs: self.include_docs,
            all_docs: self.all_docs,
            conflicts: self.conflicts,
            attachments: self.attachments,
            filter: if let Some(ids) = &self.doc_ids {
                ChangesFilter::DocIds(ids.clone())
            } else if let Some(f) = &self.doc_filter {
                ChangesFilter::Doc(&**f)
            } else if let Some(sel) = &self.selector {
                ChangesFilter::Selector(sel.clone())
            } else if self.design_only {
                ChangesFilter::Design
            } else {
                ChangesFilter::None
            },
        }
    }
}

fn parse(ctx: &Ctx, db: &Database) -> Result<Req, ApiError> {
    let q = &ctx.query;
    let body = if ctx.method == Method::POST && !ctx.body.is_empty() {
        crate::util::require_json(&ctx.headers)?;
        parse_json(&ctx.body)?
    } else {
        json!({})
    };
    let feed = match q.get("feed").unwrap_or("normal") {
        "normal" => Feed::Normal,
        "longpoll" => Feed::LongPoll,
        "continuous" => Feed::Continuous,
        "eventsource" => Feed::EventSource,
        other => {
            return Err(ApiError::bad_request(format!(
                "Supported `feed` types: normal, continuous, longpoll, eventsource (got {other})"
            )))
        }
    };
    let since = parse_since(ctx, db.update_seq())?;
    let style = q.get("style").unwrap_or("main_only");
    if style != "main_only" && style != "all_docs" {
        return Err(ApiError::bad_request(
            "Supported `style` values: main_only, all_docs",
        ));
    }
    let mut filters = parse_filter(ctx, db, body)?;
    let heartbeat = match q.get("heartbeat") {
        None => None,
        Some("true") => Some(Duration::from_millis(60_000)),
        Some(v) => Some(Duration::from_millis(
            v.parse::<u64>()
                .map_err(|_| {
                    ApiError::bad_request("heartbeat must be a number of milliseconds or true")
                })?
                .max(100),
        )),
    };
    let timeout = Duration::from_millis(q.uint("timeout")?.unwrap_or(60_000).max(10));
    if ctx.access.filtered() {
        filters.restrict_to(ctx.access.clone());
    }
    Ok(Req {
        feed,
        since,
        limit: q.uint("limit")?.map(|l| l.max(1) as usize),
        descending: q.flag("descending")?,
        include_docs: q.flag("include_docs")?,
        all_docs: style == "all_docs",
        conflicts: q.flag("conflicts")?,
        attachments: q.flag("attachments")?,
        doc_ids: filters.doc_ids,
        design_only: filters.design_only,
        selector: filters.selector,
        doc_filter: filters.doc_filter,
        heartbeat,
        timeout,
        access: ctx.access.clone(),
        filter_error: filters.filter_error,
    })
}

/// `since` (or `last-event-id`, as a parameter or an EventSource header); `now` for `now`.
fn parse_since(ctx: &Ctx, now: u64) -> Result<u64, ApiError> {
    let q = &ctx.query;
    match q.get("since").or(q.get("last-event-id")) {
        Some(s) => parse_seq(s, now),
        None => match ctx
            .headers
            .get("last-event-id")
            .and_then(|v| v.to_str().ok())
        {
            Some(s) => parse_seq(s, now),
            None => Ok(0),
        },
    }
}

/// The `filter` of a `_changes` request, parsed.
#[derive(Default)]
struct Filters {
    doc_ids: Option<HashSet<String>>,
    design_only: bool,
    selector: Option<fullsync_engine::Selector>,
    doc_filter: Option<DocFilter>,
    filter_error: Option<fullsync_views::validate::FilterError>,
}

impl Filters {
    /// For a FullSync user: a change is listed only if the user may see the document (and it
    /// passes the filter asked for), so a device never learns another user's doc ids.
    fn restrict_to(&mut self, access: crate::auth::Access) {
        let (ids, sel, f, design) = (
            self.doc_ids.take(),
            self.selector.take(),
            self.doc_filter.take(),
            self.design_only,
        );
        self.design_only = false;
        self.doc_filter = Some(Arc::new(move |d: &Value| {
            let id = d.get("_id").and_then(Value::as_str).unwrap_or_default();
            access.can_see(d)
                && ids.as_ref().is_none_or(|ids| ids.contains(id))
                && (!design || id.starts_with("_design/"))
                && sel.as_ref().is_none_or(|s| s.matches(d))
                && f.as_ref().is_none_or(|f| f(d))
        }));
    }
}

/// `filter=_doc_ids|_design|_selector|_view|ddoc/name`.
fn parse_filter(ctx: &Ctx, db: &Database, body: Value) -> Result<Filters, ApiError> {
    let q = &ctx.query;
    let mut out = Filters::default();
    match q.get("filter") {
        None => {}
        Some("_doc_ids") => {
            let ids = match q.json("doc_ids")? {
                Some(v) => v,
                None => body.get("doc_ids").cloned().unwrap_or(Value::Null),
            };
            let ids = ids.as_array().ok_or_else(|| {
                ApiError::bad_request("`doc_ids` filter parameter is not a list of doc ids.")
            })?;
            out.doc_ids = Some(
                ids.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
            );
        }
        Some("_design") => out.design_only = true,
        Some("_selector") => {
            let sel = body.get("selector").cloned().ok_or_else(|| {
                ApiError::bad_request("Selector must be specified in POST payload")
            })?;
            out.selector = Some(fullsync_engine::Selector::new(sel)?);
        }
        Some("_view") => {
            let spec = q
                .get("view")
                .ok_or_else(|| ApiError::bad_request("`view` filter parameter is not provided."))?;
            let f = fullsync_views::validate::view_filter(ctx.state.views.pool().clone(), db, spec)
                .map_err(crate::ctx::view_err)?;
            out.doc_filter = Some(f);
        }
        Some(f) => {
            let req = json!({
                "query": q.0.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect::<serde_json::Map<_, _>>(),
                "method": ctx.method.as_str(),
                "body": body,
                "userCtx": fullsync_views::validate::user_ctx_json(db.name(), &ctx.user),
                "info": {"db_name": db.name()},
            });
            let (f, err) = fullsync_views::validate::js_filter_checked(
                ctx.state.views.pool().clone(),
                db,
                f,
                req,
            )
            .map_err(crate::ctx::view_err)?;
            out.doc_filter = Some(f);
            out.filter_error = Some(err);
        }
    }
    Ok(out)
}

async fn read(
    db: &Arc<Database>,
    req: &Req,
    since: u64,
) -> Result<fullsync_engine::Changes, ApiError> {
    let db = db.clone();
    let req = req.clone();
    blocking(move || {
        let mut c = db.changes(&req.options(since))?;
        if let Some(slot) = &req.filter_error {
            if let Some((name, reason)) = slot.lock().unwrap_or_else(|p| p.into_inner()).take() {
                return Err(ApiError::new(500, &name, reason));
            }
        }
        if req.access.filtered() {
            for row in &mut c.results {
                scrub_row(&db, &req.access, row)?;
            }
        }
        Ok(c)
    })
    .await
}

/// A FullSync user's change row: only the leaves he may see in `changes` (with
/// `style=all_docs`), and in the document's `_conflicts`.
fn scrub_row(db: &Database, access: &crate::auth::Access, row: &mut Value) -> Result<(), ApiError> {
    let id = row
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if let Some(Value::Array(changes)) = row.get("changes") {
        if changes.len() > 1 {
            let revs: Vec<String> = changes
                .iter()
                .filter_map(|c| c.get("rev").and_then(Value::as_str).map(str::to_string))
                .collect();
            let keep = crate::auth::visible_revs(db, access, &id, revs)?;
            row["changes"] = keep.iter().map(|r| json!({ "rev": r })).collect();
        }
    }
    if let Some(doc) = row.get_mut("doc") {
        if doc.is_object() {
            crate::auth::scrub_conflicts(db, access, doc)?;
        }
    }
    Ok(())
}

/// `pending`: changes after `last_seq` (ascending feeds; `0` for a FullSync user, who is never
/// told how many changes other users' documents made).
async fn pending(db: &Arc<Database>, req: &Req, last_seq: u64) -> Result<u64, ApiError> {
    if req.descending || req.access.filtered() {
        return Ok(0);
    }
    let db = db.clone();
    blocking(move || Ok(db.pending_after(last_seq)?)).await
}

/// `GET|POST /db/_changes`.
pub async fn changes(ctx: Ctx, db: Arc<Database>) -> ApiResult {
    if ctx.method != Method::GET && ctx.method != Method::POST && ctx.method != Method::HEAD {
        return Err(ApiError::method("GET,POST,HEAD"));
    }
    let req = parse(&ctx, &db)?;
    match req.feed {
        Feed::Normal => {
            let permit = crate::stream::permit(&ctx.state).await;
            let c = read(&db, &req, req.since).await?;
            let pending = pending(&db, &req, c.last_seq).await?;
            crate::stream::json(
                permit,
                json!({"results": c.results, "last_seq": c.last_seq, "pending": pending}),
            )
        }
        Feed::LongPoll => {
            let mut rx = db.subscribe();
            let mut c = read(&db, &req, req.since).await?;
            if c.results.is_empty() && !req.descending {
                let deadline = tokio::time::Instant::now() + req.timeout;
                loop {
                    let changed = tokio::time::timeout_at(deadline, rx.changed()).await;
                    if !matches!(changed, Ok(Ok(()))) {
                        break;
                    }
                    c = read(&db, &req, c.last_seq).await?;
                    if !c.results.is_empty() {
                        break;
                    }
                }
            }
            let pending = pending(&db, &req, c.last_seq).await?;
            Ok(json_response(
                200,
                &json!({"results": c.results, "last_seq": c.last_seq, "pending": pending}),
            ))
        }
        Feed::Continuous | Feed::EventSource => Ok(stream(db, req)),
    }
}

fn stream(db: Arc<Database>, req: Req) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(64);
    let es = req.feed == Feed::EventSource;
    tokio::spawn(async move {
        let mut rx_seq = db.subscribe();
        let mut since = req.since;
        let mut sent = 0usize;
        let fmt = |row: &Value| -> Bytes {
            if es {
                let seq = row.get("seq").cloned().unwrap_or(Value::Null);
                Bytes::from(format!("data: {row}\nid: {seq}\n\n"))
            } else {
                Bytes::from(format!("{row}\n"))
            }
        };
        loop {
            let c = match read(&db, &req, since).await {
                Ok(c) => c,
                Err(e) => {
                    let _ = tx
                        .send(Bytes::from(format!(
                            "{}\n",
                            json!({"error": e.error, "reason": e.reason})
                        )))
                        .await;
                    return;
                }
            };
            for row in &c.results {
                if tx.send(fmt(row)).await.is_err() {
                    return;
                }
                sent += 1;
                if req.limit.is_some_and(|l| sent >= l) {
                    let end = if es {
                        String::new()
                    } else {
                        format!("{}\n", json!({"last_seq": row["seq"], "pending": 0}))
                    };
                    let _ = tx.send(Bytes::from(end)).await;
                    return;
                }
            }
            since = c.last_seq;
            if req.descending {
                let _ = tx
                    .send(Bytes::from(format!("{}\n", json!({"last_seq": since}))))
                    .await;
                return;
            }
            // Wait for the next change, sending heartbeats; end after `timeout` of silence
            // unless heartbeats were asked for.
            let wait = req.heartbeat.unwrap_or(req.timeout);
            match tokio::time::timeout(wait, rx_seq.changed()).await {
                Ok(Ok(())) => continue,
                Ok(Err(_)) => return,
                Err(_) if req.heartbeat.is_some() => {
                    let hb = if es {
                        Bytes::from_static(b"event: heartbeat\ndata: \n\n")
                    } else {
                        Bytes::from_static(b"\n")
                    };
                    if tx.send(hb).await.is_err() {
                        return;
                    }
                }
                Err(_) => {
                    if !es {
                        let _ = tx
                            .send(Bytes::from(format!(
                                "{}\n",
                                json!({"last_seq": since, "pending": 0})
                            )))
                            .await;
                    }
                    return;
                }
            }
        }
    });
    let body = Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, std::io::Error>(b), rx))
    }));
    let ctype = if es {
        "text/event-stream"
    } else {
        "application/json"
    };
    Response::builder()
        .status(200)
        .header(header::CONTENT_TYPE, ctype)
        .header(header::CACHE_CONTROL, "no-cache")
        .body(body)
        .expect("valid response")
}
