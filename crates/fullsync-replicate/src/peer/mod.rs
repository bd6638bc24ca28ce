//! Replication endpoints: the local engine in-process, or a CouchDB-compatible server over
//! HTTP/HTTPS. Both answer the same few questions the protocol asks.

mod http;
mod local;

pub use http::{root_certs_from_pem, split_credentials, Auth, HttpPeer};
pub use local::LocalPeer;

use std::time::Duration;

use serde_json::{Map, Value};

use crate::error::ReplError;

/// Which documents a replication carries.
#[derive(Clone, Debug, Default)]
pub enum Filter {
    /// All documents.
    #[default]
    None,
    /// Only these ids.
    DocIds(Vec<String>),
    /// Documents matching a Mango selector.
    Selector(Value),
    /// A filter function `ddoc/name` of the source, with `query_params`.
    Function {
        /// `ddoc/name`
        name: String,
        /// Passed to the function as `req.query`.
        query_params: Map<String, Value>,
    },
    /// Documents the view `ddoc/view` of the source emits for.
    View(String),
}

/// One row of a changes feed.
#[derive(Clone, Debug)]
pub struct Change {
    /// Sequence (opaque; integers for us, strings for CouchDB).
    pub seq: Value,
    /// Document id.
    pub id: String,
    /// Leaf revisions (`style=all_docs`).
    pub revs: Vec<String>,
}

impl Change {
    /// Reads one `_changes` row (`{seq, id, changes: [{rev}]}`), ours or a server's.
    fn from_row(r: &Value) -> Change {
        Change {
            seq: r["seq"].clone(),
            id: r["id"].as_str().unwrap_or_default().to_string(),
            revs: r["changes"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|c| c["rev"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// A batch of changes and where to resume.
#[derive(Clone, Debug)]
pub struct ChangesBatch {
    /// Rows.
    pub rows: Vec<Change>,
    /// Sequence to resume from.
    pub last_seq: Value,
}

/// What a replication needs from an endpoint.
pub trait Peer: Send + Sync {
    /// A name for messages (URL without credentials, or `local:db`).
    fn describe(&self) -> String;
    /// Server uuid and the database's current sequence. Creates the database when `create`.
    fn info(&self, create: bool) -> Result<(String, Value), ReplError>;
    /// Reads a `_local/` document.
    fn get_local(&self, id: &str) -> Result<Option<Value>, ReplError>;
    /// Writes a `_local/` document (replacing it).
    fn put_local(&self, id: &str, doc: Value) -> Result<(), ReplError>;
    /// Changes since `since` (`style=all_docs`); with `wait`, waits up to that long for the
    /// first change (longpoll).
    fn changes(
        &self,
        since: &Value,
        limit: usize,
        filter: &Filter,
        wait: Option<Duration>,
    ) -> Result<ChangesBatch, ReplError>;
    /// `_revs_diff`.
    fn revs_diff(&self, req: &Map<String, Value>) -> Result<Map<String, Value>, ReplError>;
    /// Documents with full history (`_revisions`) and inline attachments, for these
    /// `(id, rev, atts_since)`.
    fn get_revs(&self, wanted: &[(String, String, Vec<String>)]) -> Result<Vec<Value>, ReplError>;
    /// Writes replicated revisions (`new_edits=false`); returns per-document errors.
    fn write_revs(&self, docs: Vec<Value>) -> Result<Vec<Value>, ReplError>;
}
