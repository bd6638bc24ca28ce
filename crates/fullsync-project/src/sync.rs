//! Sync a project into the local engine: every connector's database exists with its settings,
//! and design documents (and Mango indexes) are written only when their content changed.

use std::sync::Arc;

use fullsync_engine::{Engine, ReadOptions, UserCtx};
use serde::Serialize;
use serde_json::{json, Value};

use crate::model::Project;

/// What a sync changed.
#[derive(Debug, Default, Serialize)]
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

fn strip_rev(mut v: Value) -> Value {
    if let Some(m) = v.as_object_mut() {
        m.remove("_rev");
    }
    v
}

fn view_sources(v: &Value) -> Vec<(String, Value)> {
    v.get("views")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter(|(k, _)| *k != "lib")
                .map(|(k, d)| (k.clone(), d.clone()))
                .collect()
        })
        .unwrap_or_default()
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
            docs.push(json!({"_id": format!("_design/{ddoc}"), "language": "query",
                "views": {ix.name.clone(): {"map": map, "reduce": "_count", "options": {"def": def}}}}));
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
            let rebuild: Vec<String> = {
                let before = old.as_ref().map(view_sources).unwrap_or_default();
                view_sources(&new)
                    .into_iter()
                    .filter(|v| !before.contains(v))
                    .map(|(k, _)| k)
                    .collect()
            };
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
