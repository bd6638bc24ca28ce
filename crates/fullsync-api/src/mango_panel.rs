//! The Mango panel: a `_find` query on a local database and its `_explain` (which index
//! answers it, and why the others do not), through [`fullsync_views::mango`], as the CouchDB
//! API answers `POST /db/_find` and `POST /db/_explain`.

use fullsync_engine::Engine;
use serde_json::{json, Value};

use crate::{ApiError, ErrorCode};

/// Runs `query` (`selector`, `fields`, `sort`, `limit`, `skip`, `use_index`, ...) on `db`;
/// answers `find` (docs, warning, execution stats), `explain` and `ms`.
pub fn query(engine: &Engine, db: &str, query: &Value) -> Result<Value, ApiError> {
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
    Ok(json!({"find": found, "explain": explain, "ms": ms}))
}
