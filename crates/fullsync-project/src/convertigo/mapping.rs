//! The FullSync mapping: Convertigo beans to our project model and back (design documents,
//! indexes, listeners, transactions, connectors).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::*;
use crate::model::*;

pub(super) const FULLSYNC_CONNECTOR: &str = "connectors.FullSyncConnector";
pub(super) const VAR: &str = "variables.RequestableVariable";
pub(super) const MULTI_VAR: &str = "variables.RequestableMultiValuedVariable";

/// A bean kept verbatim (not edited by FullSync Studio).
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
pub struct ReadOnlyBean {
    /// `Project/child` or `Project/connector/child`.
    pub path: String,
    /// Bean class (without `com.twinsoft.convertigo.beans.`).
    pub class: String,
    /// Why it is read-only.
    pub reason: String,
}

/// What [`import_c8o`] did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, ts_rs::TS)]
pub struct ImportReport {
    /// Project name.
    pub project: String,
    /// Convertigo version header.
    pub c8o_version: String,
    /// Imported FullSync connectors.
    pub connectors: Vec<String>,
    /// Sequences (`Project.Sequence`).
    pub sequences: Vec<String>,
    /// Beans kept verbatim.
    pub read_only: Vec<ReadOnlyBean>,
    /// Diagnostics of loading the imported project (warnings only when all went well).
    pub diagnostics: Vec<String>,
}

pub(crate) fn kind_of(class: &str) -> Option<&'static str> {
    match class {
        "couchdb.DesignDocument" => Some("ddoc"),
        "couchdb.JsonIndex" => Some("index"),
        "couchdb.FullSyncListener"
        | "couchdb.FullSyncFilterListener"
        | "couchdb.FullSyncDeleteViewListener"
        | "couchdb.FullSyncDeleteFilterListener" => Some("listener"),
        c if c.starts_with("transactions.couchdb.") && c.ends_with("Transaction") => {
            Some("transaction")
        }
        _ => None,
    }
}

pub(super) fn safe_name(n: &str) -> bool {
    !n.is_empty()
        && !n.starts_with('.')
        && !n.contains(['/', '\\', ':', '*', '?', '"', '<', '>', '|', '\n', '\r'])
        && n.trim() == n
}

/// FullSync content of one connector bean.
pub(super) struct Extracted {
    pub(super) connector: Connector,
    pub(super) managed: BTreeSet<(&'static str, String)>,
    pub(super) read_only: Vec<ReadOnlyBean>,
    pub(super) sequences: Vec<String>,
}

pub(super) fn typed(v: &str) -> toml::Value {
    match v {
        "true" => toml::Value::Boolean(true),
        "false" => toml::Value::Boolean(false),
        _ => match v.parse::<i64>() {
            Ok(i) if i.to_string() == v => toml::Value::Integer(i),
            _ => toml::Value::String(v.into()),
        },
    }
}

pub(super) fn untyped(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `Project.connector.a.b` -> `a/b`, choosing the split where `a` is a known ddoc.
pub(super) fn target_ref(
    t: &str,
    project: &str,
    conn: &str,
    ddocs: &[DesignDoc],
    check: impl Fn(&DesignDoc, &str) -> bool,
) -> Option<String> {
    let rest = t.strip_prefix(&format!("{project}.{conn}."))?;
    for dd in ddocs {
        if let Some(n) = rest.strip_prefix(&format!("{}.", dd.name)) {
            if check(dd, n) {
                return Some(format!("{}/{n}", dd.name));
            }
        }
    }
    None
}

pub(super) fn source(path: PathBuf, text: &str) -> SourceFile {
    SourceFile {
        path,
        text: text.into(),
    }
}

pub(super) fn extract_ddoc(b: &Elem, dir: &Path) -> Result<DesignDoc, String> {
    let name = b.name().to_string();
    if !safe_name(&name) {
        return Err("its name cannot be a folder name".into());
    }
    let data = b.prop("docdata").ok_or("it has no docdata")?;
    let doc = parse_docdata(&data).map_err(|e| format!("its docdata is not JSON: {e}"))?;
    let Value::Object(doc) = doc else {
        return Err("its docdata is not a JSON object".into());
    };
    if doc.get("language").and_then(|l| l.as_str()) == Some("query") {
        return Err("Mango design document".into());
    }
    let ddir = dir.join("design").join(&name);
    let mut dd = DesignDoc {
        name,
        dir: ddir.clone(),
        views: vec![],
        lib: BTreeMap::new(),
        filters: vec![],
        validate: None,
        other: Map::new(),
    };
    let all_str = |m: &Map<String, Value>| m.values().all(|v| v.is_string());
    for (k, v) in doc {
        match (k.as_str(), &v) {
            ("_id" | "_rev", _) => {}
            ("views", Value::Object(m))
                if !m.is_empty()
                    && m.iter().all(|(n, d)| match d {
                        Value::Object(o) if n == "lib" => all_str(o) && !o.is_empty(),
                        Value::Object(o) => {
                            safe_name(n)
                                && o.get("map").is_some_and(|m| m.is_string())
                                && o.get("reduce").is_none_or(|r| r.is_string())
                                && o.keys().all(|k| k == "map" || k == "reduce")
                        }
                        _ => false,
                    })
                    && m.get("lib")
                        .and_then(|l| l.as_object())
                        .is_none_or(|l| l.keys().all(|k| safe_name(k))) =>
            {
                for (n, d) in m {
                    let vdir = ddir.join("views").join(n);
                    if n == "lib" {
                        for (mn, t) in d.as_object().into_iter().flatten() {
                            let p = ddir.join("views/lib").join(format!("{mn}.js"));
                            dd.lib
                                .insert(mn.clone(), source(p, t.as_str().unwrap_or("")));
                        }
                        continue;
                    }
                    dd.views.push(View {
                        name: n.clone(),
                        map: source(vdir.join("map.js"), d["map"].as_str().unwrap_or("")),
                        reduce: d
                            .get("reduce")
                            .and_then(|r| r.as_str())
                            .map(|r| source(vdir.join("reduce.js"), r)),
                    });
                }
            }
            ("filters", Value::Object(m))
                if !m.is_empty() && all_str(m) && m.keys().all(|k| safe_name(k)) =>
            {
                for (n, t) in m {
                    let p = ddir.join("filters").join(format!("{n}.js"));
                    dd.filters
                        .push((n.clone(), source(p, t.as_str().unwrap_or(""))));
                }
            }
            ("validate_doc_update", Value::String(s)) => {
                dd.validate = Some(source(ddir.join("validate_doc_update.js"), s));
            }
            _ if safe_name(&k) => {
                dd.other.insert(k, v);
            }
            _ => return Err(format!("key `{k}` cannot be a file name")),
        }
    }
    dd.views.sort_by(|a, b| a.name.cmp(&b.name));
    dd.filters.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(dd)
}

pub(super) fn extract_index(b: &Elem) -> Result<MangoIndex, String> {
    if !safe_name(b.name()) {
        return Err("its name cannot be a file name".into());
    }
    let f = b.prop("fields").ok_or("it has no fields")?;
    let Ok(Value::Array(fields)) = serde_json::from_str::<Value>(&f) else {
        return Err("fields is not a JSON array".into());
    };
    let desc = b.prop("ascending").as_deref() == Some("false");
    let fields = fields
        .into_iter()
        .map(|v| match v {
            Value::String(s) if desc => json!({ s: "desc" }),
            other => other,
        })
        .collect();
    Ok(MangoIndex {
        name: b.name().into(),
        fields,
        ddoc: None,
        partial_filter_selector: None,
    })
}

pub(super) fn extract_listener(
    b: &Elem,
    project: &str,
    conn: &str,
    ddocs: &[DesignDoc],
    dir: &Path,
) -> Result<Listener, String> {
    let name = b.name().to_string();
    if !safe_name(&name) {
        return Err("its name cannot be a file name".into());
    }
    let (kind, by_view) = match b.class() {
        "couchdb.FullSyncListener" => (ListenerKind::Update, true),
        "couchdb.FullSyncFilterListener" => (ListenerKind::Update, false),
        "couchdb.FullSyncDeleteViewListener" => (ListenerKind::Delete, true),
        _ => (ListenerKind::Delete, false),
    };
    let chunk = match b.prop("chunk") {
        Some(c) => c
            .parse::<i64>()
            .map_err(|_| format!("chunk `{c}` is not a number"))?,
        None => 10,
    };
    let enabled = b.prop("isEnabled").as_deref() != Some("false");
    let (mut view, mut filter) = (None, None);
    if by_view {
        let t = b.prop("targetView").unwrap_or_default();
        view = Some(
            target_ref(&t, project, conn, ddocs, |d, v| {
                d.views.iter().any(|x| x.name == v)
            })
            .ok_or_else(|| format!("targetView `{t}` is not a view of this connector"))?,
        );
    } else {
        let t = b.prop("targetFilter").unwrap_or_else(|| "_doc_ids".into());
        filter = Some(if t == "_doc_ids" {
            t
        } else {
            target_ref(&t, project, conn, ddocs, |d, f| {
                d.filters.iter().any(|x| x.0 == f)
            })
            .ok_or_else(|| format!("targetFilter `{t}` is not a filter of this connector"))?
        });
    }
    Ok(Listener {
        file: dir.join("listeners").join(format!("{name}.toml")),
        name,
        kind,
        view,
        filter,
        chunk,
        enabled,
        target: ListenerTarget {
            sequence: b.prop("targetSequence").filter(|s| !s.is_empty()),
            ..Default::default()
        },
    })
}

pub(super) fn extract_transaction(
    b: &Elem,
    ddocs: &[DesignDoc],
    dir: &Path,
) -> Result<Transaction, String> {
    let name = b.name().to_string();
    if !safe_name(&name) {
        return Err("its name cannot be a file name".into());
    }
    let kind = b
        .class()
        .trim_start_matches("transactions.couchdb.")
        .trim_end_matches("Transaction")
        .to_string();
    let mut properties = BTreeMap::new();
    let mut variables: Vec<Variable> = vec![];
    for n in &b.children {
        let Node::Elem(e) = n else { continue };
        if !e.bean {
            if let Some(v) = simple_value(e) {
                properties.insert(e.key.clone(), typed(&v));
            }
        } else if e.class() == VAR || e.class() == MULTI_VAR {
            if variables.iter().any(|v| v.name == e.name()) {
                return Err(format!("variable `{}` is declared twice", e.name()));
            }
            variables.push(Variable {
                name: e.name().into(),
                description: e.prop("description").unwrap_or_default(),
                default: e.prop("value").map(Value::String).unwrap_or(Value::Null),
                required: e.prop("required").as_deref() == Some("true"),
                multi_valued: e.class() == MULTI_VAR,
                schema_type: e
                    .prop("schemaType")
                    .or_else(|| crate::c8o_types::qname_type(e))
                    .unwrap_or_else(|| "xsd:string".into()),
            });
        }
    }
    if let Some(toml::Value::String(vn)) = properties.get("viewname") {
        let ok = vn.split_once('/').is_some_and(|(d, v)| {
            ddocs
                .iter()
                .any(|x| x.name == d && x.views.iter().any(|y| y.name == v))
        });
        if !ok {
            return Err(format!("viewname `{vn}` is not a view of this connector"));
        }
    }
    Ok(Transaction {
        file: dir.join("transactions").join(format!("{name}.toml")),
        name,
        kind,
        properties,
        variables,
    })
}

pub(super) fn extract_connector(b: &Elem, project: &str, dir: &Path) -> Extracted {
    let name = b.name().to_string();
    let mut ex = Extracted {
        connector: Connector {
            name: name.clone(),
            dir: dir.to_path_buf(),
            anonymous_replication: b.prop("anonymousReplication").as_deref() == Some("allow"),
            revs_limit: 10,
            design_docs: vec![],
            indexes: vec![],
            listeners: vec![],
            transactions: vec![],
        },
        managed: BTreeSet::new(),
        read_only: vec![],
        sequences: vec![],
    };
    let ro = |c: &Elem, reason: String, ex: &mut Extracted| {
        ex.read_only.push(ReadOnlyBean {
            path: format!("{project}/{name}/{}", c.name()),
            class: c.class().into(),
            reason,
        })
    };
    // Design documents first: listeners and transactions are checked against them.
    for c in b.beans() {
        if kind_of(c.class()) == Some("ddoc") {
            match extract_ddoc(c, dir) {
                Ok(dd) if !ex.managed.contains(&("ddoc", dd.name.clone())) => {
                    ex.managed.insert(("ddoc", dd.name.clone()));
                    ex.connector.design_docs.push(dd);
                }
                Ok(_) => ro(c, "duplicate name".into(), &mut ex),
                Err(r) => ro(c, r, &mut ex),
            }
        }
    }
    ex.connector.design_docs.sort_by(|a, b| a.name.cmp(&b.name));
    let ddocs = ex.connector.design_docs.clone();
    for c in b.beans() {
        let k = kind_of(c.class());
        let res: Result<(), String> = match k {
            Some("ddoc") => continue,
            Some("index") => extract_index(c).map(|ix| ex.connector.indexes.push(ix)),
            Some("listener") => extract_listener(c, project, &name, &ddocs, dir).map(|l| {
                if let Some(s) = &l.target.sequence {
                    ex.sequences.push(s.clone());
                }
                ex.connector.listeners.push(l)
            }),
            Some("transaction") => {
                extract_transaction(c, &ddocs, dir).map(|t| ex.connector.transactions.push(t))
            }
            _ => Err("not edited by FullSync Studio; kept verbatim".into()),
        };
        match res {
            Ok(()) => {
                if let Some(k) = k {
                    if !ex.managed.insert((k, c.name().to_string())) {
                        // Same name twice: keep the second one verbatim.
                        match k {
                            "index" => drop(ex.connector.indexes.pop()),
                            "listener" => drop(ex.connector.listeners.pop()),
                            _ => drop(ex.connector.transactions.pop()),
                        }
                        ro(c, "duplicate name".into(), &mut ex);
                    }
                }
            }
            Err(r) => ro(c, r, &mut ex),
        }
    }
    ex.connector.indexes.sort_by(|a, b| a.name.cmp(&b.name));
    ex.connector.listeners.sort_by(|a, b| a.name.cmp(&b.name));
    ex.connector
        .transactions
        .sort_by(|a, b| a.name.cmp(&b.name));
    ex
}

/// Whether a FullSync connector bean can be imported (its name is a database and folder name).
pub(crate) fn is_importable(b: &Elem) -> bool {
    fullsync_engine::db::check_db_name(b.name()).is_ok() && safe_name(b.name())
}

/// Names of the transactions of a FullSync connector bean that import turns into files.
pub(crate) fn managed_transactions(b: &Elem, project: &str) -> BTreeSet<String> {
    extract_connector(b, project, Path::new(""))
        .managed
        .into_iter()
        .filter(|(k, _)| *k == "transaction")
        .map(|(_, n)| n)
        .collect()
}

/// The children of a FullSync connector bean that import keeps read-only, with why.
pub(crate) fn read_only_parts(b: &Elem, project: &str) -> Vec<ReadOnlyBean> {
    extract_connector(b, project, Path::new("")).read_only
}

/// The Convertigo-relevant content of a connector, without file paths, in name order: what
/// export compares to decide whether a connector changed since the import.
pub fn canonical_connector(c: &Connector) -> Value {
    let mut dd: Vec<_> = c
        .design_docs
        .iter()
        .map(|d| (d.name.clone(), docdata_text(d)))
        .collect();
    dd.sort();
    let mut ix: Vec<_> = c
        .indexes
        .iter()
        .map(|i| json!([i.name, i.fields]))
        .collect();
    ix.sort_by_key(|v| v.to_string());
    let mut ls: Vec<_> = c
        .listeners
        .iter()
        .map(|l| {
            json!([
                l.name,
                l.kind,
                l.view,
                if l.view.is_some() {
                    None
                } else {
                    l.filter.clone()
                },
                l.chunk,
                l.enabled,
                l.target.sequence
            ])
        })
        .collect();
    ls.sort_by_key(|v| v.to_string());
    let mut tx: Vec<_> = c
        .transactions
        .iter()
        .map(|t| {
            let props: BTreeMap<_, _> = t
                .properties
                .iter()
                .map(|(k, v)| (k.clone(), untyped(v)))
                .collect();
            json!([t.name, t.kind, props, t.variables])
        })
        .collect();
    tx.sort_by_key(|v| v.to_string());
    json!({"name": c.name, "anonymous": c.anonymous_replication, "ddocs": dd, "indexes": ix,
           "listeners": ls, "transactions": tx})
}
