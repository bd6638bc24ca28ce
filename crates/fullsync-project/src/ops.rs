//! Edits of a project used by the studio and the CLI: create, rename and delete connectors,
//! design documents, views, listeners, transactions and variables. Every file is written
//! atomically ([`crate::write_atomic`]); a rename updates every reference to the renamed item
//! (listeners, transactions, view tests), editing the text in place so comments and layout
//! stay as the user wrote them.

use std::path::{Path, PathBuf};

use crate::model::{Listener, Transaction, Variable};
use crate::write_atomic;

/// Errors of project edits.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    /// The item does not exist.
    #[error("{0} does not exist")]
    NotFound(String),
    /// An item with that name exists already.
    #[error("{0} already exists; choose another name")]
    Exists(String),
    /// The name is not allowed.
    #[error("invalid name `{0}`: {1}")]
    InvalidName(String, String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// A file could not be parsed to apply the edit.
    #[error("{0}")]
    Parse(String),
    /// The project's Convertigo copy (`.convertigo/project`) could not be updated.
    #[error("the item was renamed, but the references of the Convertigo sequences could not be rewritten: {0}; run `fullsync project check` and fix them in Convertigo Studio")]
    Convertigo(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OpError + '_ {
    move |source| OpError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn check_name(name: &str) -> Result<(), OpError> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\', ':', '*', '?', '"', '<', '>', '|'])
        && name.trim() == name;
    if ok {
        Ok(())
    } else {
        Err(OpError::InvalidName(
            name.into(),
            "use letters, digits, - and _, without / or leading dots".into(),
        ))
    }
}

fn connector_dir(root: &Path, c: &str) -> PathBuf {
    root.join("connectors").join(c)
}

fn ddoc_dir(root: &Path, c: &str, d: &str) -> PathBuf {
    connector_dir(root, c).join("design").join(d)
}

fn must_exist(p: &Path, what: String) -> Result<(), OpError> {
    if p.exists() {
        Ok(())
    } else {
        Err(OpError::NotFound(what))
    }
}

fn must_not_exist(p: &Path, what: String) -> Result<(), OpError> {
    if p.exists() {
        Err(OpError::Exists(what))
    } else {
        Ok(())
    }
}

/// Replaces the quoted string `"from"` by `"to"` in every file of `files` that contains it.
fn replace_refs(files: &[PathBuf], from: &str, to: &str) -> Result<Vec<PathBuf>, OpError> {
    let (qf, qt) = (format!("\"{from}\""), format!("\"{to}\""));
    let mut changed = vec![];
    for f in files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        if text.contains(&qf) {
            write_atomic(f, text.replace(&qf, &qt).as_bytes()).map_err(io(f))?;
            changed.push(f.clone());
        }
    }
    Ok(changed)
}

fn files_in(dir: &Path, ext: &str) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|r| {
            r.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.to_string_lossy().ends_with(ext))
                .collect()
        })
        .unwrap_or_default()
}

fn reference_files(root: &Path, connector: &str) -> Vec<PathBuf> {
    let c = connector_dir(root, connector);
    let mut v = files_in(&c.join("listeners"), ".toml");
    v.extend(files_in(&c.join("transactions"), ".toml"));
    v.extend(files_in(&root.join("tests"), ".test.json"));
    v
}

/// Creates a connector (database) folder with default settings.
pub fn create_connector(root: &Path, name: &str) -> Result<PathBuf, OpError> {
    fullsync_engine::db::check_db_name(name).map_err(|_| {
        OpError::InvalidName(
            name.into(),
            "database names use a-z, 0-9 and _ $ ( ) + - /, starting with a letter".into(),
        )
    })?;
    let dir = connector_dir(root, name);
    must_not_exist(&dir, format!("connector {name}"))?;
    let f = dir.join("connector.toml");
    write_atomic(&f, b"anonymous_replication = \"deny\"\nrevs_limit = 10\n").map_err(io(&f))?;
    Ok(dir)
}

/// Saves a connector's settings (`connector.toml`), keeping its leading comment lines.
pub fn save_connector_settings(
    root: &Path,
    connector: &str,
    anonymous_replication: bool,
    revs_limit: u64,
) -> Result<(), OpError> {
    if revs_limit == 0 {
        return Err(OpError::Parse(
            "revs_limit must be at least 1 (CouchDB's default is 1000)".into(),
        ));
    }
    let f = connector_dir(root, connector).join("connector.toml");
    must_exist(&f, format!("connector {connector}"))?;
    let old = std::fs::read_to_string(&f).map_err(io(&f))?;
    let mut text: String = old
        .lines()
        .take_while(|l| l.trim_start().starts_with('#') || l.trim().is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    text.push_str(&format!(
        "anonymous_replication = \"{}\"\nrevs_limit = {revs_limit}\n",
        if anonymous_replication {
            "allow"
        } else {
            "deny"
        }
    ));
    write_atomic(&f, text.as_bytes()).map_err(io(&f))
}

/// Renames a connector, the view tests that use it and, for a project imported from
/// Convertigo, the connector bean of the Convertigo copy and the sequence steps calling it.
pub fn rename_connector(root: &Path, old: &str, new: &str) -> Result<Vec<PathBuf>, OpError> {
    fullsync_engine::db::check_db_name(new).map_err(|_| {
        OpError::InvalidName(
            new.into(),
            "database names use a-z, 0-9 and _ $ ( ) + - /".into(),
        )
    })?;
    let (from, to) = (connector_dir(root, old), connector_dir(root, new));
    must_exist(&from, format!("connector {old}"))?;
    must_not_exist(&to, format!("connector {new}"))?;
    std::fs::rename(&from, &to).map_err(io(&from))?;
    let mut changed = replace_refs(&files_in(&root.join("tests"), ".test.json"), old, new)?;
    changed.extend(
        crate::c8o_refs::rename_connector(root, old, new)
            .map_err(|e| OpError::Convertigo(e.to_string()))?,
    );
    Ok(changed)
}

/// Deletes a connector folder.
pub fn delete_connector(root: &Path, name: &str) -> Result<(), OpError> {
    let dir = connector_dir(root, name);
    must_exist(&dir, format!("connector {name}"))?;
    std::fs::remove_dir_all(&dir).map_err(io(&dir))
}

/// Creates a design document folder.
pub fn create_design_doc(root: &Path, connector: &str, name: &str) -> Result<PathBuf, OpError> {
    check_name(name)?;
    must_exist(
        &connector_dir(root, connector),
        format!("connector {connector}"),
    )?;
    let dir = ddoc_dir(root, connector, name);
    must_not_exist(&dir, format!("design document {name}"))?;
    std::fs::create_dir_all(dir.join("views")).map_err(io(&dir))?;
    Ok(dir)
}

/// Renames a design document and every `ddoc/...` reference to it.
pub fn rename_design_doc(
    root: &Path,
    connector: &str,
    old: &str,
    new: &str,
) -> Result<Vec<PathBuf>, OpError> {
    check_name(new)?;
    let (from, to) = (
        ddoc_dir(root, connector, old),
        ddoc_dir(root, connector, new),
    );
    must_exist(&from, format!("design document {old}"))?;
    must_not_exist(&to, format!("design document {new}"))?;
    // Collect the ddoc's views and filters to rewrite `old/x` references.
    let mut names = vec![];
    for sub in ["views", "filters"] {
        for e in std::fs::read_dir(from.join(sub))
            .into_iter()
            .flatten()
            .flatten()
        {
            let n = e
                .path()
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_default();
            names.push(n);
        }
    }
    std::fs::rename(&from, &to).map_err(io(&from))?;
    let files = reference_files(root, connector);
    let mut changed = vec![];
    for n in names {
        changed.extend(replace_refs(
            &files,
            &format!("{old}/{n}"),
            &format!("{new}/{n}"),
        )?);
    }
    changed.sort();
    changed.dedup();
    Ok(changed)
}

/// Deletes a design document folder.
pub fn delete_design_doc(root: &Path, connector: &str, name: &str) -> Result<(), OpError> {
    let dir = ddoc_dir(root, connector, name);
    must_exist(&dir, format!("design document {name}"))?;
    std::fs::remove_dir_all(&dir).map_err(io(&dir))
}

/// Creates a view with a map function and an optional reduce.
pub fn create_view(
    root: &Path,
    connector: &str,
    ddoc: &str,
    name: &str,
    map: &str,
    reduce: Option<&str>,
) -> Result<PathBuf, OpError> {
    check_name(name)?;
    if name == "lib" {
        return Err(OpError::InvalidName(
            name.into(),
            "`lib` holds CommonJS modules, not a view".into(),
        ));
    }
    must_exist(
        &ddoc_dir(root, connector, ddoc),
        format!("design document {ddoc}"),
    )?;
    let dir = ddoc_dir(root, connector, ddoc).join("views").join(name);
    must_not_exist(&dir, format!("view {ddoc}/{name}"))?;
    let m = dir.join("map.js");
    write_atomic(&m, map.as_bytes()).map_err(io(&m))?;
    if let Some(r) = reduce {
        let rp = dir.join("reduce.js");
        write_atomic(&rp, r.as_bytes()).map_err(io(&rp))?;
    }
    Ok(dir)
}

/// Sets (or removes, with `None`) a view's reduce.
pub fn set_reduce(
    root: &Path,
    connector: &str,
    ddoc: &str,
    view: &str,
    reduce: Option<&str>,
) -> Result<(), OpError> {
    let dir = ddoc_dir(root, connector, ddoc).join("views").join(view);
    must_exist(&dir, format!("view {ddoc}/{view}"))?;
    let rp = dir.join("reduce.js");
    match reduce {
        Some(r) => write_atomic(&rp, r.as_bytes()).map_err(io(&rp)),
        None if rp.exists() => std::fs::remove_file(&rp).map_err(io(&rp)),
        None => Ok(()),
    }
}

/// Renames a view and every `ddoc/view` reference to it. Returns the files changed.
pub fn rename_view(
    root: &Path,
    connector: &str,
    ddoc: &str,
    old: &str,
    new: &str,
) -> Result<Vec<PathBuf>, OpError> {
    check_name(new)?;
    let views = ddoc_dir(root, connector, ddoc).join("views");
    let (from, to) = (views.join(old), views.join(new));
    must_exist(&from, format!("view {ddoc}/{old}"))?;
    must_not_exist(&to, format!("view {ddoc}/{new}"))?;
    std::fs::rename(&from, &to).map_err(io(&from))?;
    replace_refs(
        &reference_files(root, connector),
        &format!("{ddoc}/{old}"),
        &format!("{ddoc}/{new}"),
    )
}

/// Deletes a view.
pub fn delete_view(root: &Path, connector: &str, ddoc: &str, name: &str) -> Result<(), OpError> {
    let dir = ddoc_dir(root, connector, ddoc).join("views").join(name);
    must_exist(&dir, format!("view {ddoc}/{name}"))?;
    std::fs::remove_dir_all(&dir).map_err(io(&dir))
}

fn item_file(root: &Path, connector: &str, kind: &str, name: &str) -> PathBuf {
    connector_dir(root, connector)
        .join(kind)
        .join(format!("{name}.toml"))
}

/// Writes a listener (creating or replacing `listeners/<name>.toml`).
pub fn save_listener(
    root: &Path,
    connector: &str,
    name: &str,
    l: &Listener,
) -> Result<PathBuf, OpError> {
    save_item(root, connector, "listeners", name, l)
}

/// Writes a transaction (creating or replacing `transactions/<name>.toml`).
pub fn save_transaction(
    root: &Path,
    connector: &str,
    name: &str,
    t: &Transaction,
) -> Result<PathBuf, OpError> {
    save_item(root, connector, "transactions", name, t)
}

/// Writes `<connector>/<kind>/<name>.toml` atomically from `item`.
fn save_item<T: serde::Serialize>(
    root: &Path,
    connector: &str,
    kind: &str,
    name: &str,
    item: &T,
) -> Result<PathBuf, OpError> {
    check_name(name)?;
    must_exist(
        &connector_dir(root, connector),
        format!("connector {connector}"),
    )?;
    let f = item_file(root, connector, kind, name);
    let text = toml::to_string(item).map_err(|e| OpError::Parse(e.to_string()))?;
    write_atomic(&f, text.as_bytes()).map_err(io(&f))?;
    Ok(f)
}

/// Renames a listener or transaction file (`kind` = `listeners` or `transactions`). For a
/// transaction of a project imported from Convertigo, the transaction bean of the Convertigo
/// copy is renamed too (keeping its Test Cases and variables) and so are the sequence steps
/// calling it.
pub fn rename_item(
    root: &Path,
    connector: &str,
    kind: &str,
    old: &str,
    new: &str,
) -> Result<(), OpError> {
    check_name(new)?;
    let (from, to) = (
        item_file(root, connector, kind, old),
        item_file(root, connector, kind, new),
    );
    must_exist(&from, format!("{kind}/{old}"))?;
    must_not_exist(&to, format!("{kind}/{new}"))?;
    std::fs::rename(&from, &to).map_err(io(&from))?;
    if kind == "transactions" {
        crate::c8o_refs::rename_transaction(root, connector, old, new)
            .map_err(|e| OpError::Convertigo(e.to_string()))?;
    }
    Ok(())
}

/// Deletes a listener or transaction file.
pub fn delete_item(root: &Path, connector: &str, kind: &str, name: &str) -> Result<(), OpError> {
    let f = item_file(root, connector, kind, name);
    must_exist(&f, format!("{kind}/{name}"))?;
    std::fs::remove_file(&f).map_err(io(&f))
}

fn load_tx(root: &Path, connector: &str, tx: &str) -> Result<Transaction, OpError> {
    let f = item_file(root, connector, "transactions", tx);
    let text =
        std::fs::read_to_string(&f).map_err(|_| OpError::NotFound(format!("transaction {tx}")))?;
    toml::from_str(&text).map_err(|e| OpError::Parse(format!("{}: {e}", f.display())))
}

/// Adds a variable to a transaction (at `position`, or at the end).
pub fn add_variable(
    root: &Path,
    connector: &str,
    tx: &str,
    v: Variable,
    position: Option<usize>,
) -> Result<(), OpError> {
    let mut t = load_tx(root, connector, tx)?;
    if t.variables.iter().any(|x| x.name == v.name) {
        return Err(OpError::Exists(format!("variable {}", v.name)));
    }
    let at = position.unwrap_or(t.variables.len()).min(t.variables.len());
    t.variables.insert(at, v);
    save_transaction(root, connector, tx, &t).map(|_| ())
}

/// Removes a variable from a transaction.
pub fn remove_variable(root: &Path, connector: &str, tx: &str, name: &str) -> Result<(), OpError> {
    let mut t = load_tx(root, connector, tx)?;
    let before = t.variables.len();
    t.variables.retain(|v| v.name != name);
    if t.variables.len() == before {
        return Err(OpError::NotFound(format!("variable {name}")));
    }
    save_transaction(root, connector, tx, &t).map(|_| ())
}

/// Renames a variable of a transaction.
pub fn rename_variable(
    root: &Path,
    connector: &str,
    tx: &str,
    old: &str,
    new: &str,
) -> Result<(), OpError> {
    check_name(new)?;
    let mut t = load_tx(root, connector, tx)?;
    if t.variables.iter().any(|v| v.name == new) {
        return Err(OpError::Exists(format!("variable {new}")));
    }
    let v = t
        .variables
        .iter_mut()
        .find(|v| v.name == old)
        .ok_or_else(|| OpError::NotFound(format!("variable {old}")))?;
    v.name = new.to_string();
    save_transaction(root, connector, tx, &t).map(|_| ())
}

/// The builtin reduces a view may name in its `reduce.js` instead of a function.
pub const BUILTIN_REDUCES: &[&str] = &["_count", "_sum", "_stats", "_approx_count_distinct"];

/// Starter sources of the parts [`create_part`] writes: each runs as is and says what to
/// change.
pub mod starters {
    /// A custom reduce (sums the values; rereduce sums the partial sums).
    pub const REDUCE: &str = "function (keys, values, rereduce) {\n  // rereduce: values are results of this function; otherwise the emitted values.\n  return sum(values);\n}\n";
    /// A replication filter.
    pub const FILTER: &str = "function (doc, req) {\n  // true: the document is replicated (req.query holds the filter's parameters).\n  return doc.type === req.query.type;\n}\n";
    /// A `validate_doc_update`.
    pub const VALIDATE: &str = "function (newDoc, oldDoc, userCtx, secObj) {\n  if (newDoc._deleted) return;\n  if (!newDoc.type) {\n    throw({ forbidden: 'every document needs a type' });\n  }\n}\n";
    /// A `views.lib` CommonJS module.
    pub const LIB: &str = "// A CommonJS module for map functions: var m = require('views/lib/NAME');\nexports.double = function (x) {\n  return x * 2;\n};\n";
    /// A listener handler.
    pub const HANDLER: &str = "// A local listener handler: receives the changed docs, may read and post docs.\nfunction handle(docs, api) {\n  docs.forEach(function (doc) {\n    api.log('changed ' + doc._id);\n  });\n}\n";
}

/// A part of a project that lives in one file of its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part<'a> {
    /// `connectors/<c>/design/<d>/filters/<name>.js`.
    Filter {
        /// Connector.
        connector: &'a str,
        /// Design document.
        ddoc: &'a str,
        /// Filter name.
        name: &'a str,
    },
    /// `connectors/<c>/design/<d>/validate_doc_update.js`.
    Validate {
        /// Connector.
        connector: &'a str,
        /// Design document.
        ddoc: &'a str,
    },
    /// `connectors/<c>/design/<d>/views/lib/<name>.js` (`require('views/lib/<name>')`).
    Lib {
        /// Connector.
        connector: &'a str,
        /// Design document.
        ddoc: &'a str,
        /// Module name.
        name: &'a str,
    },
    /// `connectors/<c>/indexes/<name>.json`.
    Index {
        /// Connector.
        connector: &'a str,
        /// Index name.
        name: &'a str,
        /// Fields (`["a", "b"]`), at least one.
        fields: &'a [String],
    },
    /// `handlers/<name>.js`.
    Handler {
        /// Handler name.
        name: &'a str,
    },
    /// `tests/<name>.test.json`.
    Test {
        /// Test name.
        name: &'a str,
        /// The test (connector, view, docs, query, expect).
        test: &'a serde_json::Value,
    },
}

/// Creates the file of `part` with a starter content; refuses a name already taken, a bad
/// name, and a design document or connector that does not exist. Returns the file.
pub fn create_part(root: &Path, part: &Part) -> Result<PathBuf, OpError> {
    let (file, what, text) = match part {
        Part::Filter {
            connector,
            ddoc,
            name,
        } => {
            check_name(name)?;
            let d = ddoc_dir(root, connector, ddoc);
            must_exist(&d, format!("design document {ddoc}"))?;
            (
                d.join("filters").join(format!("{name}.js")),
                format!("filter {ddoc}/{name}"),
                starters::FILTER.to_string(),
            )
        }
        Part::Validate { connector, ddoc } => {
            let d = ddoc_dir(root, connector, ddoc);
            must_exist(&d, format!("design document {ddoc}"))?;
            (
                d.join("validate_doc_update.js"),
                format!("the validate_doc_update of {ddoc}"),
                starters::VALIDATE.to_string(),
            )
        }
        Part::Lib {
            connector,
            ddoc,
            name,
        } => {
            check_name(name)?;
            let d = ddoc_dir(root, connector, ddoc);
            must_exist(&d, format!("design document {ddoc}"))?;
            (
                d.join("views").join("lib").join(format!("{name}.js")),
                format!("module views/lib/{name} of {ddoc}"),
                starters::LIB.replace("NAME", name),
            )
        }
        Part::Index {
            connector,
            name,
            fields,
        } => {
            check_name(name)?;
            let c = connector_dir(root, connector);
            must_exist(&c, format!("connector {connector}"))?;
            let fields: Vec<&str> = fields
                .iter()
                .map(|f| f.trim())
                .filter(|f| !f.is_empty())
                .collect();
            if fields.is_empty() {
                return Err(OpError::InvalidName(
                    name.to_string(),
                    "a Mango index needs at least one field: type them separated by commas".into(),
                ));
            }
            (
                c.join("indexes").join(format!("{name}.json")),
                format!("index {name}"),
                format!("{}\n", serde_json::json!({ "fields": fields })),
            )
        }
        Part::Handler { name } => {
            check_name(name)?;
            (
                root.join("handlers").join(format!("{name}.js")),
                format!("handler handlers/{name}.js"),
                starters::HANDLER.to_string(),
            )
        }
        Part::Test { name, test } => {
            check_name(name)?;
            (
                root.join("tests").join(format!("{name}.test.json")),
                format!("test {name}"),
                format!(
                    "{}\n",
                    serde_json::to_string_pretty(test)
                        .map_err(|e| OpError::Parse(e.to_string()))?
                ),
            )
        }
    };
    must_not_exist(&file, what)?;
    write_atomic(&file, text.as_bytes()).map_err(io(&file))?;
    Ok(file)
}
