//! The answers of the `remote` command, one type per [`RemoteOp`](super::RemoteOp) (the
//! table in `remote.rs` says which). Most are a server's own CouchDB JSON, passed through as
//! the server wrote it: those are transparent wrappers whose TypeScript shape is the one the
//! CouchDB API documents (the part the studio reads; servers may add fields).

use serde::Serialize;
use serde_json::Value;

/// One connection: the embedded engine, or a server profile.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct Connection {
    /// `engine` or the profile's name.
    pub name: String,
    /// `engine`, `couchdb` or `convertigo`.
    pub kind: String,
    /// What the engine is called in the list (the engine only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub label: Option<String>,
    /// The server's URL (profiles only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub url: Option<String>,
    /// The user the profile signs in as (none: anonymous; the engine has none).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub user: Option<String>,
    /// Where the password comes from: `none`, `session`, `env`, `keyring` or `missing`
    /// (profiles only; never the password itself).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "'none' | 'session' | 'env' | 'keyring' | 'missing'")]
    pub password: Option<&'static str>,
    /// A write to this server was confirmed this session (profiles only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub writes_confirmed: Option<bool>,
}

/// The answer of `login`: the password works.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct LoginAnswer {
    /// Always `true`.
    pub ok: bool,
    /// The server's welcome (`GET /`).
    pub server: Welcome,
}

/// A server's welcome (`GET /`: `couchdb`, `version`, `vendor`, ...).
#[derive(Debug, Serialize, ts_rs::TS)]
#[serde(transparent)]
pub struct Welcome(
    #[ts(
        type = "{ couchdb?: string; version?: string; vendor?: { name?: string; version?: string }; [key: string]: JsonValue }"
    )]
    pub Value,
);

/// The answer of `databases`.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct ServerDatabases {
    /// The server's welcome.
    pub server: Welcome,
    /// Its databases (empty when listing them is forbidden: see `note`).
    pub databases: Vec<String>,
    /// Why the list is empty when the server refused it (`_all_dbs` needs an admin).
    pub note: Option<String>,
    /// The server's URL (never with a password).
    pub url: String,
}

/// Any CouchDB JSON object the server answered (database info, a document, `_explain`).
#[derive(Debug, Serialize, ts_rs::TS)]
#[serde(transparent)]
pub struct CouchJson(#[ts(type = "Record<string, JsonValue>")] pub Value);

/// A page of the documents panel: `_all_docs`' `total_rows` and rows.
#[derive(Debug, Serialize, ts_rs::TS)]
#[serde(transparent)]
pub struct ServerDocsPage(
    #[ts(
        type = "{ total: number; rows: Array<{ id: string; key: string; value: { rev: string; deleted?: boolean } }> }"
    )]
    pub Value,
);

/// What CouchDB answers a write (`PUT`/`DELETE` of a document or an attachment).
#[derive(Debug, Serialize, ts_rs::TS)]
#[serde(transparent)]
pub struct ServerWritten(#[ts(type = "{ ok: boolean; id: string; rev: string }")] pub Value);

/// What resolving a conflict on a server did (as the local `doc_resolve` answers).
#[derive(Debug, Serialize, ts_rs::TS)]
#[serde(transparent)]
pub struct ServerResolved(
    #[ts(type = "{ ok: boolean; id: string; rev: string; deleted: Array<string> }")] pub Value,
);

/// An attachment read from a server.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct RemoteAttachment {
    /// Attachment name.
    pub name: String,
    /// Its MIME type.
    pub content_type: String,
    /// Bytes.
    #[ts(type = "number")]
    pub length: usize,
    /// The bytes, base64.
    pub data: String,
}

/// A page of a server's `_changes` feed.
#[derive(Debug, Serialize, ts_rs::TS)]
#[serde(transparent)]
pub struct ServerChanges(
    #[ts(
        type = "{ results: Array<{ id: string; seq: JsonValue; deleted?: boolean; changes: Array<{ rev: string }> }>; last_seq: JsonValue }"
    )]
    pub Value,
);

/// The answer of `find`: what `_find` answered and how long it took.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct TimedFind {
    /// The `_find` answer.
    pub result: crate::mango_panel::FindResult,
    /// Milliseconds, as the studio measured them (network included).
    pub ms: f64,
}

/// A design document and its views (the view runner's choices).
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct DesignDocViews {
    /// `_design/...`.
    pub id: String,
    /// The id without `_design/`.
    pub name: String,
    /// Its views that have a map (not `lib`).
    pub views: Vec<ViewSource>,
}

/// One view of [`DesignDocViews`].
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct ViewSource {
    /// View name.
    pub name: String,
    /// Map source.
    pub map: String,
    /// Reduce source or builtin (`_count`, ...), if any.
    pub reduce: Option<String>,
}

/// A preview of an unsaved map/reduce over a sample of a server's documents.
#[derive(Debug, Serialize, ts_rs::TS)]
#[serde(transparent)]
pub struct SamplePreview(
    #[ts(
        type = "PreviewAnswer & { sample: { size: number; random: boolean; ids: Array<JsonValue> } }"
    )]
    pub Value,
);

/// The answer of `compare`.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct CompareAnswer {
    /// The left side, described (`local orders`, `prod/orders`).
    pub left: String,
    /// The right side, described.
    pub right: String,
    /// The differences, row by row.
    pub comparison: fullsync_remote::Comparison,
    /// The left side's whole answer.
    pub left_result: Value,
    /// The right side's whole answer.
    pub right_result: Value,
}
