//! First run: the project's seed files (`data/<db>.jsonl`) offered for loading into the local
//! databases that have no documents yet ("Load sample data"), through
//! [`fullsync_project::sync::load_data`], as `fullsync project sync --data` does.

use std::path::Path;
use std::sync::Arc;

use fullsync_engine::Engine;

use crate::{ApiError, ErrorCode};

/// Documents of `db` that are not design documents (0 when it does not exist).
fn user_docs(engine: &Engine, db: &str) -> Result<u64, ApiError> {
    let Ok(dbh) = engine.db(db) else {
        return Ok(0);
    };
    let total = dbh.info()?.doc_count;
    Ok(total.saturating_sub(dbh.design_docs()?.len() as u64))
}

/// A connector's seed file (`sample_data`).
#[derive(Debug, serde::Serialize, ts_rs::TS)]
pub struct SeedFile {
    /// Database (connector).
    pub db: String,
    /// Project-relative file (`data/<db>.jsonl`).
    pub file: String,
    /// Documents the file holds.
    pub documents: usize,
    /// Documents the database has (design documents aside).
    #[ts(type = "number")]
    pub db_documents: u64,
    /// Whether it may be loaded (the database has no documents).
    pub loadable: bool,
}

/// The answer of `sample_data`.
#[derive(Debug, serde::Serialize, ts_rs::TS)]
pub struct SeedFiles {
    /// One per connector with a seed file.
    pub data: Vec<SeedFile>,
}

/// Every connector of the project at `root` with a seed file: its database, the file, how
/// many documents the file holds and the database has, and whether it may be loaded (only
/// into a database without documents, so seed data never mixes with the developer's).
pub fn list(root: &Path, engine: &Engine) -> Result<SeedFiles, ApiError> {
    let (p, diags) = fullsync_project::load(root);
    let p = p.ok_or_else(|| crate::invalid_project(&diags))?;
    let mut out = vec![];
    for c in &p.connectors {
        let file = format!("data/{}.jsonl", c.name);
        let Ok(text) = std::fs::read_to_string(root.join(&file)) else {
            continue;
        };
        let lines = text.lines().filter(|l| !l.trim().is_empty()).count();
        let have = user_docs(engine, &c.name)?;
        out.push(SeedFile {
            db: c.name.clone(),
            file,
            documents: lines,
            db_documents: have,
            loadable: have == 0,
        });
    }
    Ok(SeedFiles { data: out })
}

/// Loads `data/<db>.jsonl` into the database `db`, which must have no documents yet.
pub fn load(
    root: &Path,
    engine: &Arc<Engine>,
    db: &str,
) -> Result<fullsync_project::sync::LoadedData, ApiError> {
    let (p, diags) = fullsync_project::load(root);
    let mut p = p.ok_or_else(|| crate::invalid_project(&diags))?;
    p.connectors.retain(|c| c.name == db);
    if p.connectors.is_empty() {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            format!("{db} is not a connector of the project"),
        ));
    }
    if !root.join(format!("data/{db}.jsonl")).is_file() {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            format!("the project has no data/{db}.jsonl: write one JSON document per line there"),
        ));
    }
    let have = user_docs(engine, db)?;
    if have > 0 {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!("{db} already has {have} document(s): sample data is loaded only into an empty database (delete its documents, or use `fullsync project sync --data` to add them anyway)"),
        ));
    }
    let loaded = fullsync_project::sync::load_data(engine, &p)
        .map_err(|e| ApiError::new(ErrorCode::BadRequest, format!("not loaded: {e}")))?;
    loaded.into_iter().next().ok_or_else(|| {
        ApiError::new(
            ErrorCode::Internal,
            format!(
                "data/{db}.jsonl was not loaded (nothing reported for it): please report this bug"
            ),
        )
    })
}
