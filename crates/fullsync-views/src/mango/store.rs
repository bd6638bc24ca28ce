//! Persistent JSON indexes: each JSON index of a database is a [`ViewIndex`] (the view index
//! machinery: one redb file, rows in collation order, updated incrementally from `_changes`)
//! with one view whose rows are `key = [value of each indexed field], value = null`, emitted by a
//! native [`Mapper`] (no JavaScript) for each document that has every indexed field and matches
//! the index's `partial_filter_selector`, as CouchDB's `mango_native_proc` does.
//!
//! `_find` is called with a database only (the HTTP API, transactions), so the open indexes live
//! in a process-wide registry keyed by database name and index file name. The file name holds
//! the index definition's hash, the database instance and purge sequence and
//! [`INDEX_FORMAT`](crate::INDEX_FORMAT): a recreated or purged database, or a new row format,
//! gets a new file (`_view_cleanup` removes the old ones). Databases whose folder is known
//! ([`register_dir`], done by [`crate::Views`] for every database of an on-disk engine) keep
//! their JSON indexes on disk next to the view indexes; others (in-memory engines, tools that
//! call `_find` without a `Views` service) get in-memory indexes that live as long as the
//! process.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use fullsync_engine::selector::get_path;
use fullsync_engine::{Database, Selector};
use md5::{Digest, Md5};
use serde_json::{json, Value};

use super::defs::{mango_selector, MangoIndex};
use crate::error::ViewError;
use crate::index::{Mapper, ViewIndex};
use crate::js::MapOut;

#[derive(Default)]
struct Registry {
    /// Index folder per database instance.
    dirs: HashMap<u64, PathBuf>,
    /// Open indexes by (database name, file name).
    open: HashMap<(String, String), Arc<ViewIndex>>,
}

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    static R: OnceLock<Mutex<Registry>> = OnceLock::new();
    R.get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// Records the folder where the JSON indexes of `db` are stored (the database's view index
/// folder). Without it, the database's JSON indexes are kept in memory.
pub fn register_dir(db: &Database, dir: PathBuf) {
    registry().dirs.insert(db.instance(), dir);
}

/// Closes the JSON indexes of database `name` (deleted: its index folder goes with it).
pub(crate) fn forget_db(name: &str) {
    registry().open.retain(|(d, _), _| d != name);
}

/// Closes the JSON indexes of `db` that are not in `live` (file names, `_view_cleanup`).
pub(crate) fn retain(db: &str, live: &std::collections::HashSet<String>) {
    registry()
        .open
        .retain(|(d, f), _| d != db || live.contains(f));
}

/// The file name (without `.redb`) of the JSON index `ix` of `db`.
pub(crate) fn file_name(db: &Database, ix: &MangoIndex, purge_seq: u64) -> String {
    let def = json!({"fields": ix.fields, "partial": ix.partial}).to_string();
    format!(
        "mango-{}-{:x}-{purge_seq}-f{}",
        crate::hex(&Md5::digest(def.as_bytes())),
        db.instance(),
        crate::INDEX_FORMAT
    )
}

/// The native mapper of a JSON index: one row per document that has every indexed field (and
/// matches the partial filter), keyed by the array of the fields' values.
pub(crate) struct JsonMapper {
    fields: Vec<String>,
    partial: Option<Selector>,
    names: Vec<String>,
}

impl JsonMapper {
    pub(crate) fn new(ix: &MangoIndex) -> Result<JsonMapper, ViewError> {
        Ok(JsonMapper {
            fields: ix.fields.iter().map(|(f, _)| f.clone()).collect(),
            partial: ix.partial.as_ref().map(mango_selector).transpose()?,
            names: vec![ix.name.clone()],
        })
    }

    /// The key a document has in the index, or `None` when it is not indexed.
    pub(crate) fn key(&self, doc: &Value) -> Option<Value> {
        if self.partial.as_ref().is_some_and(|p| !p.matches(doc)) {
            return None;
        }
        self.fields
            .iter()
            .map(|f| get_path(doc, f).cloned())
            .collect::<Option<Vec<Value>>>()
            .map(Value::Array)
    }
}

impl Mapper for JsonMapper {
    fn names(&self) -> &[String] {
        &self.names
    }
    fn include_design(&self) -> bool {
        false
    }
    fn wants_conflicts(&self) -> bool {
        false
    }
    fn map(&self, docs: Vec<Value>) -> Result<Vec<Vec<MapOut>>, ViewError> {
        Ok(docs
            .iter()
            .map(|d| {
                let rows = self.key(d).map(|k| (k, Value::Null)).into_iter().collect();
                vec![MapOut::Rows(rows)]
            })
            .collect())
    }
}

/// The JSON index `ix` of `db`, opened (or created) and brought up to date.
pub(crate) fn up_to_date(db: &Database, ix: &MangoIndex) -> Result<Arc<ViewIndex>, ViewError> {
    let name = file_name(db, ix, db.info()?.purge_seq);
    let index = {
        let mut reg = registry();
        let key = (db.name().to_string(), name.clone());
        match reg.open.get(&key) {
            Some(i) => i.clone(),
            None => {
                let path = reg
                    .dirs
                    .get(&db.instance())
                    .map(|d| d.join(format!("{name}.redb")));
                let i = Arc::new(ViewIndex::open(path.as_deref())?);
                reg.open.insert(key, i.clone());
                i
            }
        }
    };
    index.update_with(db, &JsonMapper::new(ix)?, &mut |_, _| {})?;
    Ok(index)
}
