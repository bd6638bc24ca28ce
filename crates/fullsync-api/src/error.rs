//! Errors of the command surface: a stable [`ErrorCode`] the UI matches on and a message that
//! says what to do; private folders are never shown.

use std::path::Path;

use serde::Serialize;

/// Stable error codes the UI can match on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Something does not exist.
    NotFound,
    /// A write conflict.
    Conflict,
    /// Refused.
    Forbidden,
    /// Malformed input.
    BadRequest,
    /// No project is open, or it cannot be loaded.
    InvalidProject,
    /// JavaScript failed (compile error, throw, timeout).
    JsError,
    /// Anything else.
    Internal,
    /// A server is down, too slow, or answers something that is not CouchDB.
    Unavailable,
    /// A server refused the credentials, or needs a password (ask for it).
    Unauthorized,
    /// The first write to a server in this session: ask the user, then send `confirm`.
    ConfirmRequired,
}

/// An API error: a code and a message that says what to do.
#[derive(Debug, Serialize, thiserror::Error, ts_rs::TS)]
#[error("{message}")]
pub struct ApiError {
    /// Code.
    pub code: ErrorCode,
    /// Message.
    pub message: String,
    /// For JavaScript that does not compile: the 1-based line in the function's source (the
    /// editor marks it).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub line: Option<u32>,
}

impl ApiError {
    /// An error with `code` and a message that says what to do.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            line: None,
            message: message.into(),
        }
    }
}

impl From<fullsync_engine::Error> for ApiError {
    fn from(e: fullsync_engine::Error) -> Self {
        let code = match e.status() {
            404 => ErrorCode::NotFound,
            409 => ErrorCode::Conflict,
            401 | 403 => ErrorCode::Forbidden,
            400 | 412 | 413 | 415 => ErrorCode::BadRequest,
            _ => ErrorCode::Internal,
        };
        ApiError::new(code, format!("{}: {}", e.error_name(), e.reason()))
    }
}

impl From<fullsync_views::ViewError> for ApiError {
    fn from(e: fullsync_views::ViewError) -> Self {
        let code = match &e {
            fullsync_views::ViewError::Js(_) => ErrorCode::JsError,
            fullsync_views::ViewError::NotFound(_) => ErrorCode::NotFound,
            _ if e.status() == 400 => ErrorCode::BadRequest,
            _ => ErrorCode::Internal,
        };
        let line = match &e {
            fullsync_views::ViewError::Js(fullsync_views::js::JsError::Compile {
                line, ..
            }) => *line,
            _ => None,
        };
        ApiError {
            line,
            ..ApiError::new(code, format!("{}: {}", e.couch_error(), e.reason()))
        }
    }
}

/// `message` without the absolute paths of the data folder (`the data folder`) and of the
/// user's home (`~`): error messages never show them.
pub(crate) fn without_private_dirs(message: &str, data: Option<&Path>) -> String {
    fullsync_engine::privacy::scrub(message, &fullsync_engine::privacy::private_dirs(data))
}

/// Refuses to edit a project that has a symbolic link leading outside it: an edit could write
/// through the link into another folder of this machine.
pub(crate) fn refuse_escapes(root: &Path) -> Result<(), ApiError> {
    match fullsync_project::confine::Confine::new(root)
        .escapes()
        .first()
    {
        Some(e) => Err(ApiError::new(
            ErrorCode::Forbidden,
            format!("{e}; the project cannot be edited until then"),
        )),
        None => Ok(()),
    }
}

/// The error of a project that does not load: its diagnostics, one per line.
pub(crate) fn invalid_project(diags: &[fullsync_project::Diagnostic]) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidProject,
        diags
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
    )
}
