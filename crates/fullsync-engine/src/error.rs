//! The engine's error type.
//!
//! Every variant maps to one CouchDB error (`error` + `reason` + HTTP status) through
//! [`Error::couch_error`], [`Error::reason`] and [`Error::status`], so the HTTP layer and the
//! studio report exactly what CouchDB would, and the message tells the user what to do.

/// Errors returned by the engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The document, revision or attachment does not exist (`404 not_found`, reason `missing`
    /// or `deleted`).
    #[error("not found: {0}")]
    NotFound(String),
    /// The database does not exist (`404 not_found`).
    #[error("Database does not exist.")]
    DbNotFound,
    /// The database already exists (`412 file_exists`).
    #[error("The database could not be created, the file already exists.")]
    DbExists,
    /// The write does not extend a current leaf revision (`409 conflict`).
    #[error("Document update conflict.")]
    Conflict,
    /// The request is malformed (`400 bad_request`).
    #[error("{0}")]
    BadRequest(String),
    /// The document body breaks a document rule (`400 doc_validation`).
    #[error("{0}")]
    DocValidation(String),
    /// A document id breaks CouchDB's id rules (`400 illegal_docid`).
    #[error("{0}")]
    IllegalDocId(String),
    /// An illegal database name (`400 illegal_database_name`).
    #[error("Name: '{0}'. Only lowercase characters (a-z), digits (0-9), and any of the characters _, $, (, ), +, -, and / are allowed. Must begin with a letter.")]
    IllegalDbName(String),
    /// An attachment stub refers to an attachment that is not stored (`412 missing_stub`).
    #[error("{0}")]
    MissingStub(String),
    /// A validation function rejected the write (`403 forbidden`).
    #[error("{0}")]
    Forbidden(String),
    /// A validation function requires authentication (`401 unauthorized`).
    #[error("{0}")]
    Unauthorized(String),
    /// The document or request is larger than allowed (`413 too_large`).
    #[error("{0}")]
    TooLarge(String),
    /// The on-disk store failed; the message names the file and the cause.
    #[error("storage error: {0}")]
    Storage(String),
    /// The on-disk data could not be decoded (corruption or a newer format).
    #[error("corrupt record: {0}. Restore the database from a backup or replicate it again from a server.")]
    Corrupt(String),
    /// An error raised by an extension (views, access rules) with its own CouchDB code.
    #[error("{reason}")]
    Custom {
        /// HTTP status.
        status: u16,
        /// CouchDB `error`.
        error: String,
        /// CouchDB `reason`.
        reason: String,
    },
    /// An I/O error outside the store (data directory, server metadata).
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    /// The CouchDB `error` field for this error.
    pub fn couch_error(&self) -> &'static str {
        match self {
            Error::NotFound(_) | Error::DbNotFound => "not_found",
            Error::DbExists => "file_exists",
            Error::Conflict => "conflict",
            Error::BadRequest(_) => "bad_request",
            Error::DocValidation(_) => "doc_validation",
            Error::IllegalDbName(_) => "illegal_database_name",
            Error::IllegalDocId(_) => "illegal_docid",
            Error::MissingStub(_) => "missing_stub",
            Error::Forbidden(_) => "forbidden",
            Error::Unauthorized(_) => "unauthorized",
            Error::TooLarge(_) => "too_large",
            Error::Storage(_) | Error::Corrupt(_) | Error::Io(_) => "internal_server_error",
            Error::Custom { .. } => "custom",
        }
    }

    /// The CouchDB `error` field, including extension errors.
    pub fn error_name(&self) -> String {
        match self {
            Error::Custom { error, .. } => error.clone(),
            e => e.couch_error().to_string(),
        }
    }

    /// The CouchDB `reason` field for this error.
    pub fn reason(&self) -> String {
        match self {
            Error::NotFound(r) => r.clone(),
            other => other.to_string(),
        }
    }

    /// The HTTP status CouchDB uses for this error.
    pub fn status(&self) -> u16 {
        match self {
            Error::NotFound(_) | Error::DbNotFound => 404,
            Error::DbExists | Error::MissingStub(_) => 412,
            Error::Conflict => 409,
            Error::BadRequest(_)
            | Error::DocValidation(_)
            | Error::IllegalDbName(_)
            | Error::IllegalDocId(_) => 400,
            Error::Forbidden(_) => 403,
            Error::Unauthorized(_) => 401,
            Error::TooLarge(_) => 413,
            Error::Storage(_) | Error::Corrupt(_) | Error::Io(_) => 500,
            Error::Custom { status, .. } => *status,
        }
    }

    /// `404 missing`, the most common error.
    pub fn missing() -> Self {
        Error::NotFound("missing".into())
    }
}

macro_rules! storage_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Self {
                Error::Storage(e.to_string())
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
    redb::CompactionError
);

/// Result with the engine's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
