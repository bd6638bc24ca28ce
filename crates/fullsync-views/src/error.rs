//! Errors of the views layer, each with CouchDB's `error`, `reason` and HTTP status.

use crate::js::JsError;

/// Views errors.
#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    /// A query option is invalid (`400 query_parse_error`).
    #[error("{0}")]
    QueryParse(String),
    /// The design document or view does not exist (`404 not_found`).
    #[error("{0}")]
    NotFound(String),
    /// The design document is not usable (`400 invalid_design_doc`).
    #[error("{0}")]
    InvalidDesignDoc(String),
    /// A JavaScript function failed as a whole (compile error, reduce error).
    #[error("{0}")]
    Js(#[from] JsError),
    /// A builtin reduce got values it cannot reduce (`500 builtin_reduce_error`).
    #[error("{0}")]
    BuiltinReduce(String),
    /// A reduce function's output does not shrink (`500 reduce_overflow_error`).
    #[error("{0}")]
    ReduceOverflow(String),
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] fullsync_engine::Error),
    /// The index store failed.
    #[error(
        "view index storage error: {0}. Delete the index (POST /db/_view_cleanup) to rebuild it."
    )]
    Storage(String),
}

impl ViewError {
    /// CouchDB `error`.
    pub fn couch_error(&self) -> &str {
        match self {
            ViewError::QueryParse(_) => "query_parse_error",
            ViewError::NotFound(_) => "not_found",
            ViewError::InvalidDesignDoc(_) => "invalid_design_doc",
            ViewError::Js(JsError::Compile { .. }) => "compilation_error",
            ViewError::Js(_) => "javascript_error",
            ViewError::BuiltinReduce(_) => "builtin_reduce_error",
            ViewError::ReduceOverflow(_) => "reduce_overflow_error",
            ViewError::Engine(fullsync_engine::Error::Custom { error, .. }) => error.as_str(),
            ViewError::Engine(e) => e.couch_error(),
            ViewError::Storage(_) => "internal_server_error",
        }
    }

    /// HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            ViewError::QueryParse(_) | ViewError::InvalidDesignDoc(_) => 400,
            ViewError::Js(JsError::Compile { .. }) => 400,
            ViewError::NotFound(_) => 404,
            ViewError::Engine(e) => e.status(),
            _ => 500,
        }
    }

    /// CouchDB `reason`.
    pub fn reason(&self) -> String {
        match self {
            ViewError::Engine(e) => e.reason(),
            e => e.to_string(),
        }
    }
}

macro_rules! storage_from {
    ($($t:ty),*) => {$(
        impl From<$t> for ViewError {
            fn from(e: $t) -> Self {
                ViewError::Storage(e.to_string())
            }
        }
    )*};
}
storage_from!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SetDurabilityError
);
