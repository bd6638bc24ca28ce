//! The project model, as loaded from files (see `docs/project-format.md`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// A source file (JavaScript) and its text.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SourceFile {
    /// Path of the file.
    pub path: PathBuf,
    /// Its content.
    pub text: String,
}

/// A view: `views/<name>/map.js` and optional `reduce.js`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct View {
    /// View name (folder name).
    pub name: String,
    /// Map function.
    pub map: SourceFile,
    /// Reduce function or builtin (`_count`, ...), if any.
    pub reduce: Option<SourceFile>,
}

/// A design document folder (couchapp layout).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DesignDoc {
    /// Name (without `_design/`).
    pub name: String,
    /// Folder.
    pub dir: PathBuf,
    /// Views, sorted by name.
    pub views: Vec<View>,
    /// `views/lib/*.js` CommonJS modules, by name (without `.js`).
    pub lib: BTreeMap<String, SourceFile>,
    /// `filters/<name>.js`, sorted by name.
    pub filters: Vec<(String, SourceFile)>,
    /// `validate_doc_update.js`.
    pub validate: Option<SourceFile>,
    /// Other top-level keys (`<key>.json` files).
    pub other: Map<String, Value>,
}

impl DesignDoc {
    /// The design document as stored in a database (no `_rev`).
    pub fn to_json(&self) -> Value {
        let mut views = Map::new();
        for v in &self.views {
            let mut def = json!({ "map": v.map.text });
            if let Some(r) = &v.reduce {
                def["reduce"] = json!(r.text.trim());
            }
            views.insert(v.name.clone(), def);
        }
        if !self.lib.is_empty() {
            let lib: Map<String, Value> = self
                .lib
                .iter()
                .map(|(k, f)| (k.clone(), json!(f.text)))
                .collect();
            views.insert("lib".into(), Value::Object(lib));
        }
        let mut doc = Map::new();
        doc.insert("_id".into(), json!(format!("_design/{}", self.name)));
        doc.insert("language".into(), json!("javascript"));
        if !views.is_empty() {
            doc.insert("views".into(), Value::Object(views));
        }
        if !self.filters.is_empty() {
            let f: Map<String, Value> = self
                .filters
                .iter()
                .map(|(n, s)| (n.clone(), json!(s.text)))
                .collect();
            doc.insert("filters".into(), Value::Object(f));
        }
        if let Some(v) = &self.validate {
            doc.insert("validate_doc_update".into(), json!(v.text));
        }
        for (k, v) in &self.other {
            doc.entry(k.clone()).or_insert_with(|| v.clone());
        }
        Value::Object(doc)
    }
}

/// A Mango JSON index (`indexes/<name>.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MangoIndex {
    /// Index name (file name).
    #[serde(skip_deserializing)]
    pub name: String,
    /// Fields, as in `POST /db/_index` (`["a", {"b": "desc"}]`).
    pub fields: Vec<Value>,
    /// Design document to store it in (default: generated).
    #[serde(default)]
    pub ddoc: Option<String>,
    /// Partial filter selector.
    #[serde(default)]
    pub partial_filter_selector: Option<Value>,
}

/// When a listener fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum ListenerKind {
    /// On created/updated documents.
    Update,
    /// On deleted documents.
    Delete,
}

/// What a listener calls.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize, ts_rs::TS)]
pub struct ListenerTarget {
    /// A Convertigo sequence (`Project.Sequence`), when deployed to Convertigo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub sequence: Option<String>,
    /// An HTTP endpoint (POST of the docs as JSON), for local runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub http: Option<String>,
    /// A JavaScript handler file in the project, for local runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub handler: Option<String>,
    /// Only log the activity.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[ts(as = "Option<bool>", optional)]
    pub log: bool,
}

/// A listener (`listeners/<name>.toml`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Listener {
    /// Name (file name).
    #[serde(skip)]
    pub name: String,
    /// File.
    #[serde(skip)]
    pub file: PathBuf,
    /// Update or delete.
    pub kind: ListenerKind,
    /// `ddoc/view` selecting the changed docs (the view must `emit(doc._id, ...)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub view: Option<String>,
    /// `ddoc/filter` (or `_doc_ids`) selecting the changed docs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub filter: Option<String>,
    /// Documents per call (0 or less disables the listener).
    #[serde(default = "default_chunk")]
    #[ts(type = "number")]
    pub chunk: i64,
    /// Whether it runs.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// What it calls.
    #[serde(default)]
    pub target: ListenerTarget,
}

fn default_chunk() -> i64 {
    10
}

fn yes() -> bool {
    true
}

/// A transaction variable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Variable {
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[ts(as = "Option<String>", optional)]
    pub description: String,
    /// Default value.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    #[ts(as = "Option<Value>", optional)]
    pub default: Value,
    /// Must be given.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[ts(as = "Option<bool>", optional)]
    pub required: bool,
    /// Takes a list of values.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[ts(as = "Option<bool>", optional)]
    pub multi_valued: bool,
    /// Schema type (`xsd:string`, `xsd:boolean`, ...).
    #[serde(default = "xsd_string")]
    pub schema_type: String,
}

fn xsd_string() -> String {
    "xsd:string".into()
}

/// A FullSync transaction (`transactions/<name>.toml`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Transaction {
    /// Name (file name).
    #[serde(skip)]
    pub name: String,
    /// File.
    #[serde(skip)]
    pub file: PathBuf,
    /// Type: `GetView`, `PostDocument`, ... (Convertigo's class names without `Transaction`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Properties (`viewname`, `policy`, `q_limit`, `p_json_base`, ...).
    #[serde(default)]
    pub properties: BTreeMap<String, toml::Value>,
    /// Variables.
    #[serde(default)]
    pub variables: Vec<Variable>,
}

/// A connector: one database.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Connector {
    /// Database name (folder name).
    pub name: String,
    /// Folder.
    pub dir: PathBuf,
    /// Whether anonymous devices may replicate.
    pub anonymous_replication: bool,
    /// `revs_limit` of the database.
    pub revs_limit: u64,
    /// Design documents, sorted by name.
    pub design_docs: Vec<DesignDoc>,
    /// Mango indexes.
    pub indexes: Vec<MangoIndex>,
    /// Listeners, sorted by name.
    pub listeners: Vec<Listener>,
    /// Transactions, sorted by name.
    pub transactions: Vec<Transaction>,
}

impl Connector {
    /// Finds `ddoc/view`.
    pub fn find_view(&self, spec: &str) -> Option<(&DesignDoc, &View)> {
        let (d, v) = spec.split_once('/')?;
        let dd = self.design_docs.iter().find(|x| x.name == d)?;
        Some((dd, dd.views.iter().find(|x| x.name == v)?))
    }

    /// Finds `ddoc/filter`.
    pub fn find_filter(&self, spec: &str) -> bool {
        if spec == "_doc_ids" {
            return true;
        }
        spec.split_once('/').is_some_and(|(d, f)| {
            self.design_docs
                .iter()
                .any(|x| x.name == d && x.filters.iter().any(|(n, _)| n == f))
        })
    }
}

/// A view test (`tests/<name>.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ViewTest {
    /// Name (file name).
    #[serde(skip_deserializing)]
    pub name: String,
    /// File.
    #[serde(skip)]
    pub file: PathBuf,
    /// Connector whose design documents are used.
    pub connector: String,
    /// `ddoc/view` to query.
    pub view: String,
    /// Input documents.
    #[serde(default)]
    pub docs: Vec<Value>,
    /// Query options (CouchDB names).
    #[serde(default)]
    pub query: Value,
    /// Expected answer: `{"rows": [...]}` (compared exactly, plus `total_rows` / `offset` when
    /// given) or `{"error": "query_parse_error"}`.
    pub expect: Value,
}

/// A loaded project.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Project {
    /// Root folder.
    pub root: PathBuf,
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Description.
    pub description: String,
    /// Connectors, sorted by name.
    pub connectors: Vec<Connector>,
    /// View tests, sorted by name.
    pub tests: Vec<ViewTest>,
    /// Convertigo sequences known to the project (listener targets are checked against them
    /// when the list is not empty).
    pub sequences: Vec<String>,
}

impl Project {
    /// A connector by name.
    pub fn connector(&self, name: &str) -> Option<&Connector> {
        self.connectors.iter().find(|c| c.name == name)
    }
}
