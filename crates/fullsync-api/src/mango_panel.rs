//! The Mango panel: a `_find` query on a local database and its `_explain` (which index
//! answers it, and why the others do not), through [`fullsync_views::mango`], as the CouchDB
//! API answers `POST /db/_find` and `POST /db/_explain`.

use fullsync_engine::Engine;
use serde::Serialize;
use serde_json::Value;

use crate::{ApiError, ErrorCode};

/// What `POST /db/_find` answers (`docs`, `warning`, `execution_stats`, `bookmark`).
#[derive(Debug, Serialize, ts_rs::TS)]
#[serde(transparent)]
pub struct FindResult(
    #[ts(
        type = "{ docs: Array<Record<string, JsonValue>>; warning?: string; execution_stats?: Record<string, number>; bookmark?: string }"
    )]
    pub Value,
);

/// What `POST /db/_explain` answers (`index` with `ddoc`, `name`, `type`, `def`; `range`,
/// `opts`, ...).
#[derive(Debug, Serialize, ts_rs::TS)]
#[serde(transparent)]
pub struct ExplainResult(
    #[ts(
        type = "{ index: { name: string; ddoc: string | null; type: string; def?: JsonValue }; [key: string]: JsonValue }"
    )]
    pub Value,
);

/// `mango_query`'s answer.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct MangoAnswer {
    /// The `_find` answer.
    pub find: FindResult,
    /// The `_explain` answer.
    pub explain: ExplainResult,
    /// How long `_find` took, in milliseconds.
    pub ms: f64,
}

/// Runs `query` (`selector`, `fields`, `sort`, `limit`, `skip`, `use_index`, ...) on `db`;
/// answers `find` (docs, warning, execution stats), `explain` and `ms`.
pub fn query(engine: &Engine, db: &str, query: &Value) -> Result<MangoAnswer, ApiError> {
    if !query.is_object() || query.get("selector").is_none() {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            "a Mango query is a JSON object with a `selector` (e.g. {\"selector\": {\"type\": \"order\"}})",
        ));
    }
    let dbh = engine.db(db)?;
    let explain = fullsync_views::mango::explain(&dbh, query)?;
    let started = std::time::Instant::now();
    let found = fullsync_views::mango::find(&dbh, query)?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok(MangoAnswer {
        find: FindResult(found),
        explain: ExplainResult(explain),
        ms,
    })
}
