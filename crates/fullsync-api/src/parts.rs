//! Creating the parts of a project that the explorer's create/rename/delete of named items
//! ([`crate::project_ops`]) does not cover: a view's reduce (builtin or custom), filters,
//! `validate_doc_update`, `views.lib` modules, Mango indexes, listener handlers and view tests;
//! and deleting their files. Every edit then takes the one sync path ([`crate::live`]).

use std::path::Path;
use std::sync::Arc;

use fullsync_engine::{AllDocsOptions, Engine};
use fullsync_project::ops::{self, Part};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{rel, ApiError, ErrorCode};

/// How many documents of the local database a new view test takes as its input.
pub const TEST_DOCS: usize = 20;

/// The most documents a test saved from the preview takes (every document of the database).
pub const PREVIEW_TEST_DOCS: usize = 200;

/// A part to create (or a file to delete).
#[derive(Debug, Deserialize, ts_rs::TS)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum PartEdit {
    /// Sets a view's reduce: a builtin (`_count`, `_sum`, `_stats`, `_approx_count_distinct`),
    /// `custom` (a starter function to edit), or none (removes it).
    SetReduce {
        /// Connector.
        connector: String,
        /// Design document.
        ddoc: String,
        /// View.
        view: String,
        /// Builtin name, `custom`, or none.
        #[serde(default)]
        #[ts(optional = nullable)]
        reduce: Option<String>,
    },
    /// A replication filter `filters/<name>.js`.
    Filter {
        /// Connector.
        connector: String,
        /// Design document.
        ddoc: String,
        /// Name.
        name: String,
    },
    /// The design document's `validate_doc_update.js`.
    Validate {
        /// Connector.
        connector: String,
        /// Design document.
        ddoc: String,
    },
    /// A CommonJS module `views/lib/<name>.js` for `require`.
    Lib {
        /// Connector.
        connector: String,
        /// Design document.
        ddoc: String,
        /// Name.
        name: String,
    },
    /// A Mango index `indexes/<name>.json` on `fields`.
    Index {
        /// Connector.
        connector: String,
        /// Name.
        name: String,
        /// Fields.
        fields: Vec<String>,
    },
    /// A listener handler `handlers/<name>.js`.
    Handler {
        /// Name.
        name: String,
    },
    /// A view test `tests/<name>.test.json` of the view `ddoc/view`. Without `docs`, the first
    /// documents of the local database are its input; without `expect`, what the view answers
    /// for them now (a snapshot to check later changes against).
    Test {
        /// Connector.
        connector: String,
        /// Design document.
        ddoc: String,
        /// View.
        view: String,
        /// Test name.
        name: String,
        /// Input documents.
        #[serde(default)]
        #[ts(optional = nullable)]
        docs: Option<Vec<Value>>,
        /// Query options.
        #[serde(default)]
        #[ts(optional = nullable)]
        query: Option<Value>,
        /// Expected answer (`{"rows": [...]}`).
        #[serde(default)]
        #[ts(optional = nullable)]
        expect: Option<Value>,
        /// Every document of the local database is the input (what the live preview ran
        /// over: "save the preview as a test"); refused above [`PREVIEW_TEST_DOCS`].
        #[serde(default)]
        #[ts(as = "Option<bool>", optional)]
        all_docs: bool,
    },
    /// Deletes the file of one of these parts (a reduce, filter, `validate_doc_update`, lib
    /// module, index, handler or test); other files are refused.
    Delete {
        /// Project-relative path.
        path: String,
    },
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::BadRequest, msg)
}

/// Whether `path` (project-relative) is the file of a part [`PartEdit::Delete`] may remove.
fn deletable(path: &str) -> bool {
    let p: Vec<&str> = path.split('/').collect();
    match p.as_slice() {
        ["connectors", _, "design", _, "filters", f] => f.ends_with(".js"),
        ["connectors", _, "design", _, "validate_doc_update.js"] => true,
        ["connectors", _, "design", _, "views", "lib", f] => f.ends_with(".js"),
        ["connectors", _, "design", _, "views", _, "reduce.js"] => true,
        ["connectors", _, "indexes", f] => f.ends_with(".json"),
        ["handlers", f] => f.ends_with(".js"),
        ["tests", f] => f.ends_with(".test.json"),
        _ => false,
    }
}

/// Applies `e` to the project at `root`; answers the project-relative file created or removed.
pub fn edit(
    root: &Path,
    engine: &Arc<Engine>,
    views: &fullsync_views::Views,
    e: PartEdit,
) -> Result<String, ApiError> {
    let file = match &e {
        PartEdit::SetReduce {
            connector,
            ddoc,
            view,
            reduce,
        } => set_reduce(root, connector, ddoc, view, reduce.as_deref())?,
        PartEdit::Filter {
            connector,
            ddoc,
            name,
        } => ops::create_part(
            root,
            &Part::Filter {
                connector,
                ddoc,
                name,
            },
        )?,
        PartEdit::Validate { connector, ddoc } => {
            ops::create_part(root, &Part::Validate { connector, ddoc })?
        }
        PartEdit::Lib {
            connector,
            ddoc,
            name,
        } => ops::create_part(
            root,
            &Part::Lib {
                connector,
                ddoc,
                name,
            },
        )?,
        PartEdit::Index {
            connector,
            name,
            fields,
        } => ops::create_part(
            root,
            &Part::Index {
                connector,
                name,
                fields,
            },
        )?,
        PartEdit::Handler { name } => ops::create_part(root, &Part::Handler { name })?,
        PartEdit::Test { .. } => create_test(root, engine, views, &e)?,
        PartEdit::Delete { path } => delete_part(root, path)?,
    };
    Ok(rel(root, &file))
}

/// Sets, changes or removes a view's reduce (`reduce`: a builtin, `custom`, or none).
fn set_reduce(
    root: &Path,
    connector: &str,
    ddoc: &str,
    view: &str,
    reduce: Option<&str>,
) -> Result<std::path::PathBuf, ApiError> {
    let text = match reduce.map(str::trim) {
        None | Some("") => None,
        Some("custom") => Some(ops::starters::REDUCE.to_string()),
        Some(b) if ops::BUILTIN_REDUCES.contains(&b) => Some(format!("{b}\n")),
        Some(other) => {
            return Err(bad(format!(
                "`{other}` is not a reduce: choose {} or custom",
                ops::BUILTIN_REDUCES.join(", ")
            )))
        }
    };
    ops::set_reduce(root, connector, ddoc, view, text.as_deref())?;
    Ok(root
        .join("connectors")
        .join(connector)
        .join("design")
        .join(ddoc)
        .join("views")
        .join(view)
        .join("reduce.js"))
}

/// Writes a view test: its documents (given, the database's first ones, or all of them for a
/// test saved from the preview), its query, and what the view answers now unless `expect` is given.
fn create_test(
    root: &Path,
    engine: &Arc<Engine>,
    views: &fullsync_views::Views,
    e: &PartEdit,
) -> Result<std::path::PathBuf, ApiError> {
    let PartEdit::Test {
        connector,
        ddoc,
        view,
        name,
        docs,
        query,
        expect,
        all_docs,
    } = e
    else {
        return Err(bad("internal error: not a test; please report it"));
    };
    let (p, diags) = fullsync_project::load(root);
    let p = p.ok_or_else(|| crate::invalid_project(&diags))?;
    let c = p
        .connector(connector)
        .ok_or_else(|| bad(format!("connector {connector} does not exist")))?;
    if c.find_view(&format!("{ddoc}/{view}")).is_none() {
        return Err(bad(format!(
            "view {ddoc}/{view} does not exist in {connector}: create it first"
        )));
    }
    let docs = match docs {
        Some(d) => d.clone(),
        None if *all_docs => {
            let d = sample_docs(engine, connector, PREVIEW_TEST_DOCS + 1)?;
            if d.len() > PREVIEW_TEST_DOCS {
                return Err(bad(format!(
                    "{connector} has more than {PREVIEW_TEST_DOCS} documents: a test saved from the preview keeps them all; use New test in the view's menu (its first {TEST_DOCS} documents) instead"
                )));
            }
            d
        }
        None => sample_docs(engine, connector, TEST_DOCS)?,
    };
    let mut t = fullsync_project::ViewTest {
        name: name.clone(),
        file: Default::default(),
        connector: connector.clone(),
        view: format!("{ddoc}/{view}"),
        docs,
        query: query.clone().unwrap_or_else(|| json!({})),
        expect: Value::Null,
    };
    t.expect = match expect {
        Some(x) => x.clone(),
        None => {
            let got = fullsync_project::testing::answer(&p, &t, views.pool())
                .map_err(|e| bad(format!("cannot run the view for the test: {e}")))?;
            match got.get("error") {
                Some(_) => json!({"error": got["error"]}),
                None => json!({"rows": got["rows"]}),
            }
        }
    };
    let v = json!({
        "connector": t.connector, "view": t.view, "docs": t.docs,
        "query": t.query, "expect": t.expect,
    });
    Ok(ops::create_part(root, &Part::Test { name, test: &v })?)
}

/// Deletes a part's file (only parts: reduces, filters, validate_doc_update, lib modules,
/// indexes, handlers, tests), confined to the project.
fn delete_part(root: &Path, path: &str) -> Result<std::path::PathBuf, ApiError> {
    if !deletable(path) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            format!("{path} is not a reduce, filter, validate_doc_update, lib module, index, handler or test: delete it from its parent's menu"),
        ));
    }
    let f = root.join(path);
    fullsync_project::confine::check(root, Path::new(path))
        .map_err(|e| ApiError::new(ErrorCode::Forbidden, e.to_string()))?;
    std::fs::remove_file(&f)
        .map_err(|e| ApiError::new(ErrorCode::NotFound, format!("cannot delete {path}: {e}")))?;
    Ok(f)
}

/// The first `n` documents of the local database `db` (no design documents), without `_rev`:
/// the input of a new view test.
fn sample_docs(engine: &Arc<Engine>, db: &str, n: usize) -> Result<Vec<Value>, ApiError> {
    let Ok(dbh) = engine.db(db) else {
        return Ok(vec![]);
    };
    let (_, _, rows) = dbh.all_docs(&AllDocsOptions {
        include_docs: true,
        limit: Some(n + 50),
        ..Default::default()
    })?;
    let mut out = vec![];
    for r in rows {
        if r["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("_design/"))
        {
            continue;
        }
        if let Some(mut d) = r.get("doc").cloned().filter(Value::is_object) {
            if let Some(m) = d.as_object_mut() {
                m.remove("_rev");
            }
            out.push(d);
        }
        if out.len() == n {
            break;
        }
    }
    Ok(out)
}

/// The answer of `part_edit`: the file created or changed, and the reloaded project.
#[derive(Debug, serde::Serialize, ts_rs::TS)]
pub struct PartEdited {
    /// The part's file (project-relative).
    pub path: String,
    /// The project, reloaded and synced.
    pub project: crate::ProjectTree,
}

/// The explorer's project-level files: `fullsync.toml`, then the `handlers/`, `tests/` and
/// `data/` folders with their files (shown even when empty, to create parts in them).
pub fn project_files(root: &Path) -> Value {
    let mut out =
        vec![json!({"name": "fullsync.toml", "kind": "manifest", "path": "fullsync.toml"})];
    for (folder, ext) in [
        ("handlers", ".js"),
        ("tests", ".test.json"),
        ("data", ".jsonl"),
    ] {
        let mut files: Vec<String> = std::fs::read_dir(root.join(folder))
            .map(|r| {
                r.filter_map(|e| e.ok())
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                    .map(|e| e.file_name().to_string_lossy().to_string())
                    .filter(|n| !n.starts_with('.') && n.ends_with(ext))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        let kind = match folder {
            "handlers" => "handler",
            "tests" => "test",
            _ => "data",
        };
        let children: Vec<Value> = files
            .iter()
            .map(|n| json!({"name": n, "kind": kind, "path": format!("{folder}/{n}")}))
            .collect();
        out.push(json!({"name": folder, "kind": "folder", "children": children}));
    }
    Value::Array(out)
}
