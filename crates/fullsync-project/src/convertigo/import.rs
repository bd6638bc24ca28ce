//! Import of a Convertigo project ([`import_c8o`]).

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::json;

use super::*;
use crate::model::*;
use crate::write_atomic;

pub(super) fn is_excluded(rel: &Path, project: &str) -> bool {
    let comps: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().to_string())
        .collect();
    if comps.iter().any(|c| {
        matches!(
            c.as_str(),
            ".git" | ".svn" | ".gradle" | "CVS" | "node_modules"
        )
    }) {
        return true;
    }
    match comps.first().map(String::as_str) {
        Some("_private" | "_data" | "build" | "oas2" | "oas3") => true,
        Some(f) => comps.len() == 1 && f == format!("{project}.car"),
        None => false,
    }
}

/// The files under `dir` (relative), without the excluded folders; refuses symbolic links that
/// lead outside `dir`, and lists links inside it as what they point to.
pub(super) fn list_files(dir: &Path, project: &str) -> Result<Vec<PathBuf>, C8oError> {
    let confine = crate::confine::Confine::new(dir);
    let mut seen = std::collections::HashSet::new();
    let mut out = vec![];
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let abs = dir.join(&rel);
        for e in std::fs::read_dir(&abs).map_err(io(&abs))? {
            let e = e.map_err(io(&abs))?;
            let r = rel.join(e.file_name());
            if is_excluded(&r, project) {
                continue;
            }
            let mut ft = e.file_type().map_err(io(&abs))?;
            if ft.is_symlink() {
                confine.check(&r)?;
                ft = std::fs::metadata(e.path()).map_err(io(&abs))?.file_type();
            }
            if ft.is_dir() {
                if !seen.insert(e.path().canonicalize().map_err(io(&abs))?) {
                    continue;
                }
                stack.push(r);
            } else {
                out.push(r);
            }
        }
    }
    out.sort();
    Ok(out)
}

pub(super) fn copy_tree(from: &Path, to: &Path, project: &str) -> Result<(), C8oError> {
    for rel in list_files(from, project)? {
        let src = from.join(&rel);
        let bytes = std::fs::read(&src).map_err(io(&src))?;
        let dst = to.join(&rel);
        write_atomic(&dst, &bytes).map_err(io(&dst))?;
    }
    Ok(())
}

pub(super) fn put(path: &Path, text: &str) -> Result<(), C8oError> {
    write_atomic(path, text.as_bytes()).map_err(io(path))
}

pub(super) fn toml_text<T: Serialize>(v: &T) -> Result<String, C8oError> {
    toml::to_string(v).map_err(|e| C8oError::Invalid(format!("cannot write TOML: {e}")))
}

pub(super) fn write_connector(c: &Connector, dir: &Path) -> Result<(), C8oError> {
    put(
        &dir.join("connector.toml"),
        &format!(
            "anonymous_replication = \"{}\"\nrevs_limit = {}\n",
            if c.anonymous_replication {
                "allow"
            } else {
                "deny"
            },
            c.revs_limit
        ),
    )?;
    for dd in &c.design_docs {
        let d = dir.join("design").join(&dd.name);
        std::fs::create_dir_all(&d).map_err(io(&d))?;
        for v in &dd.views {
            put(&d.join("views").join(&v.name).join("map.js"), &v.map.text)?;
            if let Some(r) = &v.reduce {
                put(&d.join("views").join(&v.name).join("reduce.js"), &r.text)?;
            }
        }
        for (n, f) in &dd.lib {
            put(&d.join("views/lib").join(format!("{n}.js")), &f.text)?;
        }
        for (n, f) in &dd.filters {
            put(&d.join("filters").join(format!("{n}.js")), &f.text)?;
        }
        if let Some(v) = &dd.validate {
            put(&d.join("validate_doc_update.js"), &v.text)?;
        }
        for (k, v) in &dd.other {
            let t = serde_json::to_string_pretty(v).unwrap_or_default();
            put(&d.join(format!("{k}.json")), &(t + "\n"))?;
        }
    }
    for ix in &c.indexes {
        let t = serde_json::to_string_pretty(&json!({ "fields": ix.fields })).unwrap_or_default();
        put(
            &dir.join("indexes").join(format!("{}.json", ix.name)),
            &(t + "\n"),
        )?;
    }
    for l in &c.listeners {
        put(
            &dir.join("listeners").join(format!("{}.toml", l.name)),
            &toml_text(l)?,
        )?;
    }
    for t in &c.transactions {
        put(
            &dir.join("transactions").join(format!("{}.toml", t.name)),
            &toml_text(t)?,
        )?;
    }
    Ok(())
}

/// Refuses a folder without `c8oProject.yaml`, saying what to do: a pre-YAML (`<name>.xml`)
/// project is converted by opening it in Convertigo Studio 7.x or later.
pub(super) fn not_yaml_hint(dir: &Path) -> Result<(), C8oError> {
    if dir.join("c8oProject.yaml").exists() {
        return Ok(());
    }
    let xml = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .find(|n| n.ends_with(".xml"));
    Err(C8oError::Invalid(match xml {
        Some(x) => format!(
            "{} holds {x} but no c8oProject.yaml: it is a Convertigo project in the pre-YAML (XML) format; open it once in Convertigo Studio 7.x or later (which converts it to c8oProject.yaml), then import that folder",
            dir.display()
        ),
        None => format!(
            "{} has no c8oProject.yaml: choose the folder of a Convertigo project (the one holding c8oProject.yaml)",
            dir.display()
        ),
    }))
}

/// Imports the Convertigo project at `c8o_dir` into our format at `out_dir` (see the module
/// documentation). The result loads with [`crate::load`] without errors.
pub fn import_c8o(c8o_dir: &Path, out_dir: &Path) -> Result<ImportReport, C8oError> {
    not_yaml_hint(c8o_dir)?;
    let proj = read_c8o(c8o_dir)?;
    let pb = proj
        .project()
        .ok_or_else(|| C8oError::Invalid("c8oProject.yaml has no core.Project bean".into()))?;
    let pname = pb.name().to_string();
    let mut rep = ImportReport {
        project: pname.clone(),
        c8o_version: proj.version().into(),
        ..Default::default()
    };
    let mut connectors = vec![];
    for b in pb.beans() {
        if b.class().starts_with("sequences.") {
            rep.sequences.push(format!("{pname}.{}", b.name()));
        }
        let reason = if b.class() != FULLSYNC_CONNECTOR {
            "not edited by FullSync Studio; kept verbatim".to_string()
        } else if fullsync_engine::db::check_db_name(b.name()).is_err() || !safe_name(b.name()) {
            "its name is not a valid database name; kept verbatim".to_string()
        } else if connectors
            .iter()
            .any(|e: &Extracted| e.connector.name == b.name())
        {
            "duplicate connector name; kept verbatim".to_string()
        } else {
            let ex = extract_connector(b, &pname, &out_dir.join("connectors").join(b.name()));
            connectors.push(ex);
            continue;
        };
        rep.read_only.push(ReadOnlyBean {
            path: format!("{pname}/{}", b.name()),
            class: b.class().into(),
            reason,
        });
    }
    for ex in &connectors {
        for s in &ex.sequences {
            if !rep.sequences.contains(s) {
                rep.sequences.push(s.clone());
            }
        }
        rep.read_only.extend(ex.read_only.iter().cloned());
        rep.connectors.push(ex.connector.name.clone());
    }
    // Manifest.
    let mut project = toml::Table::new();
    project.insert("name".into(), pname.clone().into());
    project.insert(
        "version".into(),
        pb.prop("version").unwrap_or_else(|| "0.1.0".into()).into(),
    );
    if let Some(c) = pb.prop("comment").filter(|c| !c.is_empty()) {
        project.insert("description".into(), c.into());
    }
    let mut conv = toml::Table::new();
    conv.insert(
        "sequences".into(),
        toml::Value::Array(rep.sequences.iter().map(|s| s.clone().into()).collect()),
    );
    let mut manifest = toml::Table::new();
    manifest.insert("project".into(), toml::Value::Table(project));
    manifest.insert("convertigo".into(), toml::Value::Table(conv));
    put(&out_dir.join(crate::load::MANIFEST), &toml_text(&manifest)?)?;
    for ex in &connectors {
        write_connector(&ex.connector, &ex.connector.dir)?;
    }
    copy_tree(c8o_dir, &out_dir.join(ORIGINAL_DIR), &pname)?;
    let gi = out_dir.join(".gitignore");
    if !gi.exists() {
        put(&gi, crate::git::GITIGNORE)?;
    }
    let (_, diags) = crate::load(out_dir);
    rep.diagnostics = diags.iter().map(|d| d.to_string()).collect();
    Ok(rep)
}
