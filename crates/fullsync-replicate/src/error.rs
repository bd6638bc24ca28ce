//! Replication errors. Messages name the endpoint (never its credentials) and say what to do.

/// Replication errors.
#[derive(Debug, thiserror::Error)]
pub enum ReplError {
    /// The server could not be reached (network down, refused, timed out): retryable.
    #[error("cannot reach the server: {0}. Check the URL and your network; with --retry the replication waits and tries again.")]
    Unreachable(String),
    /// The server answered something that is not the CouchDB protocol.
    #[error("{0}")]
    Garbage(String),
    /// The server answered an HTTP error.
    #[error("server error {status} {error}: {reason}")]
    Http {
        /// HTTP status.
        status: u16,
        /// CouchDB `error`.
        error: String,
        /// Where and why.
        reason: String,
    },
    /// The replication is misconfigured (bad URL, unknown filter).
    #[error("{0}")]
    Config(String),
    /// The local engine failed.
    #[error(transparent)]
    Engine(#[from] fullsync_engine::Error),
    /// Cancelled by the user.
    #[error("replication cancelled")]
    Cancelled,
}

impl ReplError {
    /// Whether retrying later may succeed.
    pub fn retryable(&self) -> bool {
        match self {
            ReplError::Unreachable(_) => true,
            ReplError::Http { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            _ => false,
        }
    }
}
