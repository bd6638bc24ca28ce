//! Running a project's FullSync transactions against a local database, with variable values
//! and a simulated user, as a Convertigo server would.

mod attachments;
mod database;
mod design;
mod documents;
mod properties;

use std::sync::Arc;

pub use documents::post_one;
pub use properties::{properties_of, PropertySpec};

use fullsync_engine::{Database, Engine, UserCtx};
use fullsync_project::{Transaction, Variable};
use serde_json::{json, Map, Value};

/// Errors of a transaction run, with what to do.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A required variable has no value.
    #[error("variable `{0}` is required; pass it with --var {0}=VALUE")]
    MissingVariable(String),
    /// The transaction type is not supported locally.
    #[error("transaction type `{0}` cannot run locally yet; supported: {1}")]
    Unsupported(String, String),
    /// A property or variable has a bad value.
    #[error("{0}")]
    Bad(String),
    /// The engine refused (conflict, not found, ...).
    #[error("{}: {}", .0.error_name(), .0.reason())]
    Engine(#[from] fullsync_engine::Error),
    /// A view query failed.
    #[error("{}: {}", .0.couch_error(), .0.reason())]
    View(#[from] fullsync_views::ViewError),
}

/// Supported transaction types.
pub const SUPPORTED: &[&str] = &[
    "GetServerInfo",
    "HeadDatabase",
    "PostCompact",
    "CopyDocument",
    "PostUpdate",
    "PutUpdate",
    "PostReplicate",
    "GetView",
    "PostDocument",
    "PostBulkDocuments",
    "GetDocument",
    "DeleteDocument",
    "HeadDocument",
    "AllDocs",
    "PostFind",
    "GetDatabaseInfo",
    "ResetDatabase",
    "PutDocumentAttachment",
    "GetDocumentAttachment",
    "DeleteDocumentAttachment",
    "PurgeDatabase",
    "PutDatabase",
    "DeleteDatabase",
    "GetServerDatabases",
];

/// Who runs the transaction.
#[derive(Clone, Debug, Default)]
pub struct Caller {
    /// Authenticated user (None = anonymous).
    pub user: Option<String>,
}

fn toml_to_json(v: &toml::Value) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Resolves variable values: given values, defaults, required checks; strings that parse as
/// JSON objects/arrays/numbers/booleans are taken as JSON (what a form or `--var` provides).
pub fn resolve_vars(
    declared: &[Variable],
    given: &Map<String, Value>,
) -> Result<Map<String, Value>, RunError> {
    let mut out = Map::new();
    for v in declared {
        match given.get(&v.name) {
            Some(val) => {
                out.insert(v.name.clone(), val.clone());
            }
            None if !v.default.is_null() => {
                out.insert(v.name.clone(), v.default.clone());
            }
            None if v.required => return Err(RunError::MissingVariable(v.name.clone())),
            None => {}
        }
    }
    // Undeclared `_use_*` and special variables are accepted too (as Convertigo does).
    for (k, val) in given {
        out.entry(k.clone()).or_insert_with(|| val.clone());
    }
    Ok(out)
}

/// A property, overridable by `_use_<name>` or `_use_<name without q_/p_>`.
fn prop(t: &Transaction, vars: &Map<String, Value>, name: &str) -> Option<Value> {
    let short = name.trim_start_matches("q_").trim_start_matches("p_");
    vars.get(&format!("_use_{name}"))
        .or_else(|| vars.get(&format!("_use_{short}")))
        .cloned()
        .or_else(|| t.properties.get(name).map(toml_to_json))
}

fn as_json(v: Value) -> Value {
    match &v {
        Value::String(s) => serde_json::from_str(s).unwrap_or(v),
        _ => v,
    }
}

/// A transaction kind that runs locally (one per name of [`SUPPORTED`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    GetServerInfo,
    HeadDatabase,
    PostCompact,
    CopyDocument,
    PostUpdate,
    PutUpdate,
    PostReplicate,
    GetView,
    PostDocument,
    PostBulkDocuments,
    GetDocument,
    DeleteDocument,
    HeadDocument,
    AllDocs,
    PostFind,
    GetDatabaseInfo,
    ResetDatabase,
    PutDocumentAttachment,
    GetDocumentAttachment,
    DeleteDocumentAttachment,
    PurgeDatabase,
    PutDatabase,
    DeleteDatabase,
    GetServerDatabases,
}

impl Kind {
    /// Every kind, in the order of [`SUPPORTED`].
    const ALL: [Kind; 24] = [
        Kind::GetServerInfo,
        Kind::HeadDatabase,
        Kind::PostCompact,
        Kind::CopyDocument,
        Kind::PostUpdate,
        Kind::PutUpdate,
        Kind::PostReplicate,
        Kind::GetView,
        Kind::PostDocument,
        Kind::PostBulkDocuments,
        Kind::GetDocument,
        Kind::DeleteDocument,
        Kind::HeadDocument,
        Kind::AllDocs,
        Kind::PostFind,
        Kind::GetDatabaseInfo,
        Kind::ResetDatabase,
        Kind::PutDocumentAttachment,
        Kind::GetDocumentAttachment,
        Kind::DeleteDocumentAttachment,
        Kind::PurgeDatabase,
        Kind::PutDatabase,
        Kind::DeleteDatabase,
        Kind::GetServerDatabases,
    ];

    /// The kind named `name` (a Convertigo transaction type), if it runs locally.
    fn parse(name: &str) -> Option<Kind> {
        SUPPORTED
            .iter()
            .position(|s| *s == name)
            .map(|i| Kind::ALL[i])
    }
}

/// What every transaction kind runs with: the engine, the connector database, the
/// transaction, its resolved variables and the caller.
struct Cx<'a> {
    engine: &'a Arc<Engine>,
    views: &'a fullsync_views::Views,
    db_name: &'a str,
    t: &'a Transaction,
    vars: Map<String, Value>,
    caller: &'a Caller,
    /// The caller as the engine sees him (no roles).
    user: UserCtx,
}

impl Cx<'_> {
    /// The connector database (created when missing, as Convertigo does).
    fn db(&self) -> Result<Arc<Database>, RunError> {
        Ok(self.engine.db_or_create(self.db_name)?)
    }

    /// A variable as a string (JSON text for values that are not strings).
    fn var_str(&self, k: &str) -> Option<String> {
        self.vars.get(k).map(|v| {
            v.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string())
        })
    }

    /// A property of the transaction, overridable by `_use_` variables.
    fn prop(&self, name: &str) -> Option<Value> {
        prop(self.t, &self.vars, name)
    }
}

/// Runs transaction `t` of connector database `db`. Returns the JSON a client would receive.
pub fn run(
    engine: &Arc<Engine>,
    views: &fullsync_views::Views,
    db_name: &str,
    t: &Transaction,
    given: &Map<String, Value>,
    caller: &Caller,
) -> Result<Value, RunError> {
    let vars = resolve_vars(&t.variables, given)?;
    let kind = Kind::parse(&t.kind)
        .ok_or_else(|| RunError::Unsupported(t.kind.clone(), SUPPORTED.join(", ")))?;
    let cx = Cx {
        engine,
        views,
        db_name,
        t,
        vars,
        caller,
        user: UserCtx {
            name: caller.user.clone(),
            roles: vec![],
        },
    };
    match kind {
        Kind::GetView => design::get_view(&cx),
        Kind::PostUpdate => design::update(&cx, false),
        Kind::PutUpdate => design::update(&cx, true),
        Kind::PostDocument => documents::post_documents(&cx, false),
        Kind::PostBulkDocuments => documents::post_documents(&cx, true),
        Kind::GetDocument => documents::get_document(&cx, false),
        Kind::HeadDocument => documents::get_document(&cx, true),
        Kind::DeleteDocument => documents::delete_document(&cx),
        Kind::CopyDocument => documents::copy_document(&cx),
        Kind::AllDocs => documents::all_docs(&cx),
        Kind::PostFind => documents::find(&cx),
        Kind::PutDocumentAttachment => attachments::put_or_delete_attachment(&cx, true),
        Kind::DeleteDocumentAttachment => attachments::put_or_delete_attachment(&cx, false),
        Kind::GetDocumentAttachment => attachments::get_attachment(&cx),
        Kind::PostReplicate => database::replicate(&cx),
        Kind::PurgeDatabase => database::purge(&cx),
        Kind::GetDatabaseInfo => {
            let i = cx.db()?.info()?;
            Ok(
                json!({"db_name": i.name, "doc_count": i.doc_count, "doc_del_count": i.doc_del_count, "update_seq": i.update_seq}),
            )
        }
        Kind::ResetDatabase => {
            views.forget_db(db_name);
            engine.reset_db(db_name)?;
            Ok(json!({"ok": true}))
        }
        Kind::PutDatabase => {
            engine.db_or_create(db_name)?;
            Ok(json!({"ok": true}))
        }
        Kind::DeleteDatabase => {
            views.forget_db(db_name);
            engine.delete_db(db_name)?;
            Ok(json!({"ok": true}))
        }
        Kind::GetServerDatabases => Ok(json!(engine.all_dbs()?)),
        Kind::GetServerInfo => Ok(
            json!({"couchdb": "Welcome", "uuid": engine.uuid(), "vendor": {"name": "FullSync Studio (local)"}}),
        ),
        Kind::HeadDatabase => Ok(json!({"ok": engine.db(db_name).is_ok()})),
        Kind::PostCompact => {
            cx.db()?.compact()?;
            Ok(json!({"ok": true}))
        }
    }
}

#[cfg(test)]
mod kind_tests {
    use super::*;

    #[test]
    fn every_supported_name_is_one_kind() {
        let kinds: Vec<Kind> = SUPPORTED.iter().map(|s| Kind::parse(s).unwrap()).collect();
        assert_eq!(kinds, Kind::ALL.to_vec());
        assert_eq!(Kind::parse("PostDocument"), Some(Kind::PostDocument));
        assert_eq!(Kind::parse("GetDatabaseInfo"), Some(Kind::GetDatabaseInfo));
        assert_eq!(Kind::parse("PostFoo"), None);
    }
}
