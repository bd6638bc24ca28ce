//! FullSync's embedded document engine.
//!
//! CouchDB/PouchDB semantics in-process: documents with revision trees and conflicts,
//! deterministic revision ids, `new_edits=false` replication writes, attachments, `_changes`,
//! `_all_docs`, `_local` documents, `revs_limit` stemming, purge and compaction, stored on disk
//! with `redb` (one file per database). The engine knows nothing of HTTP, projects or the GUI;
//! the HTTP API, the replicator and the studio all use this API.
//!
//! ```
//! use fullsync_engine::{Engine, UserCtx};
//! let engine = Engine::in_memory();
//! let db = engine.create_db("demo").unwrap();
//! let doc = fullsync_engine::parse_doc(serde_json::json!({"_id": "a", "n": 1}), None, &mut |_| None).unwrap();
//! let rev = db.put(doc, &UserCtx::default()).unwrap();
//! assert!(rev.starts_with("1-"));
//! ```

pub mod codec;
pub mod db;
pub mod doc;
pub mod engine;
mod error;
pub mod privacy;
pub mod rev;
pub mod selector;
pub mod seq;
mod store;
pub mod tree;

pub use db::{
    AllDocsOptions, Changes, ChangesFilter, ChangesOptions, Database, DbInfo, DocResult, OpenRev,
    OpenRevs, ReadOptions, UserCtx, WriteValidator,
};
pub use doc::{att_digest, check_att_name, check_bulk_doc, check_id, parse_doc, DocIn, IdKind};
pub use engine::Engine;
pub use error::{Error, Result};
pub use rev::Rev;
pub use selector::Selector;
