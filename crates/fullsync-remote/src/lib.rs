//! FullSync Studio on real servers.
//!
//! - [`Server`]: the CouchDB calls the studio's screens and the CLI need on a remote
//!   CouchDB-compatible server (databases, documents with `_rev` checks, attachments, conflicts
//!   and their resolution, `_changes` with longpoll, views with every option, `_find` and
//!   `_explain`), with errors that name the server (never the password) and say what to do when
//!   it is down, slow, answers something that is not CouchDB, or refuses the credentials.
//! - [`Target`]: "the embedded engine or a server": the same view / Mango request on either.
//! - [`compare`]: row-by-row differences between two answers (order, keys, values).
//! - [`preview_sample`]: an unsaved map/reduce over a sample of a server's documents, in a
//!   throw-away engine (nothing is written to the server).

pub mod client;
pub mod compare;
pub mod target;

pub use client::Server;
pub use compare::{compare_rows, Comparison, Difference};
pub use target::{preview_sample, Target};

/// Errors of remote work. Every message names the server and says what to do; none carries a
/// password.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// Bad input (URL, option) before anything was sent.
    #[error("{0}")]
    Config(String),
    /// Connection refused, DNS failure, TLS failure, connection reset.
    #[error("cannot reach {server}: {detail}. Is the server running and the URL right?")]
    Unreachable {
        /// Server name.
        server: String,
        /// What the transport said.
        detail: String,
    },
    /// The server did not answer in time.
    #[error("{server} did not answer {what} within {secs:.0} s: the server is slow or overloaded; try again, or narrow the request (limit, a smaller sample)")]
    Timeout {
        /// Server name.
        server: String,
        /// The request.
        what: String,
        /// The time limit.
        secs: f64,
    },
    /// The answer is not JSON: not a CouchDB, or a proxy's error page.
    #[error("{server} answered {what} with HTTP {status} and something that is not JSON ({shown:?}): is this URL a CouchDB server (not a proxy or login page)?")]
    Garbage {
        /// Server name.
        server: String,
        /// The request.
        what: String,
        /// HTTP status.
        status: u16,
        /// The first characters of the answer.
        shown: String,
    },
    /// 401: wrong or missing credentials.
    #[error("{server} refused {}: {reason}. {}", user.as_deref().map(|u| format!("the credentials of `{u}`")).unwrap_or_else(|| "an anonymous request".into()), if user.is_some() { "Check the user and type the password again" } else { "Give a user (--user, or the server profile's user) and its password" })]
    Unauthorized {
        /// Server name.
        server: String,
        /// The user tried.
        user: Option<String>,
        /// The server's reason.
        reason: String,
    },
    /// 403.
    #[error("{server} forbids {what}: {reason}")]
    Forbidden {
        /// Server name.
        server: String,
        /// The request.
        what: String,
        /// The server's reason.
        reason: String,
    },
    /// 404.
    #[error("{server}: {what}: not found ({reason})")]
    NotFound {
        /// Server name.
        server: String,
        /// The request.
        what: String,
        /// The server's reason.
        reason: String,
    },
    /// 409: a stale `_rev`.
    #[error("{server}: {what}: conflict ({reason}): the document changed on the server since you opened it; reload it")]
    Conflict {
        /// Server name.
        server: String,
        /// The request.
        what: String,
        /// The server's reason.
        reason: String,
    },
    /// Any other HTTP error.
    #[error("{server}: {what} failed with HTTP {status} {error}: {reason}")]
    Http {
        /// Server name.
        server: String,
        /// The request.
        what: String,
        /// HTTP status.
        status: u16,
        /// CouchDB `error`.
        error: String,
        /// CouchDB `reason`.
        reason: String,
    },
    /// A local engine or view error (the local side of a compare, a preview).
    #[error("{0}")]
    Local(String),
}

impl From<fullsync_views::ViewError> for RemoteError {
    fn from(e: fullsync_views::ViewError) -> Self {
        RemoteError::Local(format!(
            "{} ({}): {}",
            e.couch_error(),
            e.status(),
            e.reason()
        ))
    }
}

impl From<fullsync_engine::Error> for RemoteError {
    fn from(e: fullsync_engine::Error) -> Self {
        RemoteError::Local(e.to_string())
    }
}

/// `n` of `items`, chosen at random (all of them, shuffled, when there are fewer).
pub fn pick_random<T>(mut items: Vec<T>, n: usize) -> Vec<T> {
    let mut seed = [0u8; 8];
    let _ = getrandom::fill(&mut seed);
    let mut x = u64::from_le_bytes(seed) | 1;
    let mut next = move || {
        // xorshift64*
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let n = n.min(items.len());
    for i in 0..n {
        let j = i + (next() % (items.len() - i) as u64) as usize;
        items.swap(i, j);
    }
    items.truncate(n);
    items
}

#[cfg(test)]
mod tests {
    #[test]
    fn pick_random_picks_distinct_items() {
        let v: Vec<u32> = (0..100).collect();
        let mut p = super::pick_random(v, 10);
        assert_eq!(p.len(), 10);
        p.sort();
        p.dedup();
        assert_eq!(p.len(), 10, "no item twice");
        assert_eq!(super::pick_random(vec![1, 2], 5).len(), 2);
    }
}
