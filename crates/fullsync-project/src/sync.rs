//! Sync a project into the local engine: every connector's database exists with its settings,
//! and design documents (and Mango indexes) are written only when their content changed.

use std::path::Path;
use std::sync::Arc;

use fullsync_engine::{Engine, ReadOptions, UserCtx};
use serde::Serialize;
use serde_json::{json, Value};

use crate::model::Project;

/// What a sync changed.
#[derive(Debug, Default, Serialize, ts_rs::TS)]
pub struct SyncReport {
    /// Databases created.
    pub created_dbs: Vec<String>,
    /// Design documents written: `(db, ddoc id, views whose index must rebuild)`.
    pub updated: Vec<(String, String, Vec<String>)>,
    /// Design documents already up to date.
    pub unchanged: usize,
    /// Errors (a design document the engine refused, with why).
    pub errors: Vec<String>,
}

/// A stored design document without its `_rev`, to compare with a project's version.
pub fn strip_rev(mut v: Value) -> Value {
    if let Some(m) = v.as_object_mut() {
        m.remove("_rev");
    }
    v
}

/// The views of `after` whose index the server rebuilds when a design document goes from
/// `before` (`None`: it does not exist yet) to `after`.
///
/// CouchDB (and this engine) index a design document as one unit, named by its signature: the
/// map and reduce sources of every view, `views.lib`, the language and the options. Changing
/// any of them rebuilds **every** view of the design document, so this lists them all; a change
/// elsewhere (filters, `validate_doc_update`, other members) rebuilds nothing.
pub fn views_to_rebuild(before: Option<&Value>, after: &Value) -> Vec<String> {
    if before.is_some_and(|b| index_part(b) == index_part(after)) {
        return vec![];
    }
    after
        .get("views")
        .and_then(Value::as_object)
        .map(|m| m.keys().filter(|k| *k != "lib").cloned().collect())
        .unwrap_or_default()
}

/// What a design document's index signature depends on.
fn index_part(v: &Value) -> Value {
    json!({
        "language": v.get("language").and_then(Value::as_str).unwrap_or("javascript"),
        "views": v.get("views").cloned().unwrap_or(Value::Null),
        "options": v.get("options").cloned().unwrap_or(Value::Null),
    })
}

/// Every design document of a connector as stored in a database: the JavaScript design
/// documents and one `language: "query"` design document per Mango index.
pub fn design_docs(c: &crate::model::Connector) -> Vec<Value> {
    let mut docs: Vec<Value> = c.design_docs.iter().map(|d| d.to_json()).collect();
    for ix in &c.indexes {
        let ddoc = ix
            .ddoc
            .clone()
            .unwrap_or_else(|| format!("idx-{}", ix.name));
        let mut def = json!({"fields": ix.fields});
        let mut map_fields = serde_json::Map::new();
        for f in &ix.fields {
            match f {
                Value::String(s) => {
                    map_fields.insert(s.clone(), json!("asc"));
                }
                Value::Object(m) => map_fields.extend(m.clone()),
                _ => {}
            }
        }
        let mut map = json!({"fields": map_fields});
        if let Some(p) = &ix.partial_filter_selector {
            def["partial_filter_selector"] = p.clone();
            map["partial_filter_selector"] = p.clone();
        }
        docs.push(
            json!({"_id": format!("_design/{ddoc}"), "language": "query",
            "views": {ix.name.clone(): {"map": map, "reduce": "_count", "options": {"def": def}}}}),
        );
    }
    docs
}

/// Writes the project's databases and design documents into `engine`.
pub fn sync(engine: &Arc<Engine>, p: &Project) -> SyncReport {
    let mut r = SyncReport::default();
    let admin = UserCtx {
        name: None,
        roles: vec!["_admin".into()],
    };
    for c in &p.connectors {
        let db = match engine.db(&c.name) {
            Ok(db) => db,
            Err(_) => match engine.create_db(&c.name) {
                Ok(db) => {
                    r.created_dbs.push(c.name.clone());
                    db
                }
                Err(e) => {
                    r.errors
                        .push(format!("cannot create database {}: {e}", c.name));
                    continue;
                }
            },
        };
        if db.revs_limit() != c.revs_limit {
            let _ = db.set_revs_limit(c.revs_limit);
        }
        let mut sec = db.security().unwrap_or(json!({}));
        let want = json!({"anonymous": if c.anonymous_replication { "allow" } else { "deny" }});
        if sec.get("fullsync") != Some(&want) {
            sec["fullsync"] = want;
            let _ = db.set_security(&sec);
        }
        let mut docs = design_docs(c);
        for d in docs.iter_mut() {
            // The marker `fullsync deploy` puts on the design documents it owns: the same project
            // gives the same document here and on a server deployed to, so replicating one into
            // the other never makes two versions of a design document fight.
            d["fullsync_project"] = json!(p.name);
        }
        for new in docs {
            let id = new["_id"].as_str().unwrap_or_default().to_string();
            let old = db.get(&id, None, &ReadOptions::default()).ok();
            let mut doc = new.clone();
            if let Some(old) = &old {
                if strip_rev(old.clone()) == new {
                    r.unchanged += 1;
                    continue;
                }
                doc["_rev"] = old["_rev"].clone();
            }
            let rebuild = views_to_rebuild(old.as_ref(), &new);
            match fullsync_engine::parse_doc(doc, None, &mut |_| None)
                .and_then(|d| db.put(d, &admin))
            {
                Ok(_) => r.updated.push((c.name.clone(), id, rebuild)),
                Err(e) => r
                    .errors
                    .push(format!("{} in {}: {}", id, c.name, e.reason())),
            }
        }
    }
    r
}

/// What [`load_data`] did for one database.
#[derive(Debug, Default, Serialize, PartialEq, ts_rs::TS)]
pub struct LoadedData {
    /// Database (connector) name.
    pub db: String,
    /// Documents written.
    #[ts(type = "number")]
    pub written: usize,
    /// Documents the database refused (`file:line: id: why`), e.g. an id starting with `_`
    /// that is not `_design/`: they are reported, never dropped silently.
    pub refused: Vec<String>,
}

fn write_batch(
    db: &fullsync_engine::Database,
    batch: &mut Vec<(usize, Value)>,
    file: &Path,
    out: &mut LoadedData,
) -> Result<(), String> {
    let admin = UserCtx {
        name: None,
        roles: vec!["_admin".into()],
    };
    let (lines, docs): (Vec<usize>, Vec<Value>) = std::mem::take(batch).into_iter().unzip();
    let results = db
        .bulk_docs_json(docs, true, &admin)
        .map_err(|e| e.to_string())?;
    for (r, line) in results.iter().zip(lines) {
        match &r.result {
            Ok(_) => out.written += 1,
            Err(e) => out.refused.push(format!(
                "{}:{line}: document `{}`: {}",
                file.display(),
                r.id,
                e.reason()
            )),
        }
    }
    Ok(())
}

/// Loads `data/<connector>.jsonl` (one JSON document per line) into each connector's database,
/// in batches of 1,000. A malformed line is an error naming the file and line, and nothing
/// after it is written; a document the database refuses is listed in
/// [`LoadedData::refused`] with its line.
pub fn load_data(engine: &Arc<Engine>, p: &Project) -> Result<Vec<LoadedData>, String> {
    let mut out = vec![];
    for c in &p.connectors {
        let rel = format!("data/{}.jsonl", c.name);
        crate::confine::check(&p.root, Path::new(&rel)).map_err(|e| e.to_string())?;
        let file = p.root.join(&rel);
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let db = engine.db_or_create(&c.name).map_err(|e| e.to_string())?;
        let mut rep = LoadedData {
            db: c.name.clone(),
            ..Default::default()
        };
        let mut batch = vec![];
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let v: Value = serde_json::from_str(line)
                .map_err(|e| format!("{rel}:{}: invalid JSON: {e}", i + 1))?;
            batch.push((i + 1, v));
            if batch.len() == 1000 {
                write_batch(&db, &mut batch, Path::new(&rel), &mut rep)?;
            }
        }
        if !batch.is_empty() {
            write_batch(&db, &mut batch, Path::new(&rel), &mut rep)?;
        }
        out.push(rep);
    }
    Ok(out)
}
