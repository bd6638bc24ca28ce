//! Database and server transactions: info, create, delete, reset, compact, purge, replicate.

use std::sync::Arc;

use serde_json::{json, Value};

use super::{as_json, Cx, RunError};

/// `PostReplicate`: a one-shot push from `p_source` (default: the connector database) to `p_target`.
pub(super) fn replicate(cx: &Cx<'_>) -> Result<Value, RunError> {
    let source = cx
        .prop("p_source")
        .or_else(|| cx.prop("source"))
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| cx.db_name.to_string());
    let target = cx
        .prop("p_target")
        .or_else(|| cx.prop("target"))
        .and_then(|v| v.as_str().map(str::to_string))
        .ok_or_else(|| RunError::Bad("PostReplicate needs a target (p_target)".into()))?;
    let views_arc: Option<Arc<fullsync_views::Views>> = None;
    let src = fullsync_replicate::endpoint(
        &source,
        cx.engine,
        views_arc.clone(),
        None,
        std::time::Duration::from_secs(60),
    )
    .map_err(|e| RunError::Bad(e.to_string()))?;
    let tgt = fullsync_replicate::endpoint(
        &target,
        cx.engine,
        views_arc,
        None,
        std::time::Duration::from_secs(60),
    )
    .map_err(|e| RunError::Bad(e.to_string()))?;
    let s = fullsync_replicate::start(
        src,
        tgt,
        fullsync_replicate::Direction::Push,
        fullsync_replicate::Options::default(),
        Arc::new(|_| {}),
    )
    .wait();
    Ok(serde_json::to_value(&s).unwrap_or(Value::Null))
}

/// `PurgeDatabase`: `data = {"docid": ["rev", ...]}`.
pub(super) fn purge(cx: &Cx<'_>) -> Result<Value, RunError> {
    let req = cx
        .vars
        .get("data")
        .map(|d| as_json(d.clone()))
        .and_then(|v| v.as_object().cloned())
        .ok_or_else(|| {
            RunError::Bad("PurgeDatabase needs data = {\"docid\": [\"rev\", ...]}".into())
        })?;
    let (seq, purged) = cx.db()?.purge(&req)?;
    Ok(json!({"purge_seq": seq, "purged": purged}))
}
