//! Property sheets: the settings of a connector, a listener or a transaction (with its
//! variables) as a form. `sheet_get` answers the item and the choices the form offers (views,
//! filters, handler files, transaction types and the properties each type reads); `sheet_save`
//! writes the item back to its file (atomically) and answers the project's diagnostics for it,
//! so a listener pointing at a missing view is reported at once.

use std::path::Path;

use fullsync_project::{ops, Listener, Project, Transaction};
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::{ApiError, ErrorCode};

/// A property a transaction type reads (`fullsync_runtime::transactions::PropertySpec`).
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct PropertySpec {
    /// Property name in the transaction file (`q_limit`, `policy`...).
    pub name: String,
    /// `string`, `bool`, `number`, `json`, `view` or `choice`.
    pub kind: String,
    /// The allowed values of a `choice`.
    pub choices: Vec<String>,
    /// The variable that overrides it at run time.
    pub variable: String,
    /// The schema type of that variable.
    pub schema_type: String,
}

/// The answer of `sheet_get`: the item and the choices its form offers. Which members are
/// present depends on the kind of sheet.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct Sheet {
    /// The item as its file holds it (a connector's settings, a listener, a transaction).
    #[ts(type = "Record<string, JsonValue>")]
    pub item: Value,
    /// Listener and transaction: the connector's views (`ddoc/view`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub views: Option<Vec<String>>,
    /// Listener: the connector's filters (`ddoc/filter`) and `_doc_ids`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub filters: Option<Vec<String>>,
    /// Listener: the project's handler files.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub handlers: Option<Vec<String>>,
    /// Listener: the project's sequences.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub sequences: Option<Vec<String>>,
    /// Transaction: each transaction type with the properties it reads.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub catalog: Option<BTreeMap<String, Vec<PropertySpec>>>,
    /// Connector and transaction: Convertigo properties kept but not edited.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub kept: Option<Vec<fullsync_project::c8o_kept::KeptProperty>>,
    /// Connector and transaction: `Sequence (step)` of every sequence step calling the item.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub used_by: Option<Vec<String>>,
}

impl Sheet {
    fn of(item: Value) -> Sheet {
        Sheet {
            item,
            views: None,
            filters: None,
            handlers: None,
            sequences: None,
            catalog: None,
            kept: None,
            used_by: None,
        }
    }
}

/// Which sheet.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum SheetKind {
    /// A connector's settings (`connector.toml`).
    Connector,
    /// A listener (`listeners/<name>.toml`).
    Listener,
    /// A transaction and its variables (`transactions/<name>.toml`).
    Transaction,
}

fn load(root: &Path) -> Result<Project, ApiError> {
    let (p, diags) = fullsync_project::load(root);
    p.ok_or_else(|| crate::invalid_project(&diags))
}

fn not_found(what: String) -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        format!("{what} does not exist: reload the project"),
    )
}

/// The `.js` files of the project outside `connectors/` (listener handler candidates).
fn handler_files(root: &Path) -> Vec<String> {
    let mut out = vec![];
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with('.') || ["connectors", "node_modules", "data"].contains(&&*name) {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else if name.ends_with(".js") {
                out.push(crate::rel(root, &p));
            }
        }
    }
    out.sort();
    out
}

/// The sheet of one item, with the choices its form offers.
pub fn get(root: &Path, connector: &str, kind: SheetKind, name: &str) -> Result<Sheet, ApiError> {
    let p = load(root)?;
    let c = p
        .connectors
        .iter()
        .find(|c| c.name == connector)
        .ok_or_else(|| not_found(format!("connector {connector}")))?;
    let views: Vec<String> = c
        .design_docs
        .iter()
        .flat_map(|d| {
            d.views
                .iter()
                .map(move |v| format!("{}/{}", d.name, v.name))
        })
        .collect();
    match kind {
        SheetKind::Connector => Ok(Sheet {
            kept: Some(kept(root, connector, None)),
            used_by: Some(used_by(root, connector, None)),
            ..Sheet::of(
                json!({"anonymous_replication": c.anonymous_replication, "revs_limit": c.revs_limit}),
            )
        }),
        SheetKind::Listener => {
            let l = c
                .listeners
                .iter()
                .find(|l| l.name == name)
                .ok_or_else(|| not_found(format!("listener {name}")))?;
            let mut filters: Vec<String> = c
                .design_docs
                .iter()
                .flat_map(|d| {
                    d.filters
                        .iter()
                        .map(move |(f, _)| format!("{}/{f}", d.name))
                })
                .collect();
            filters.push("_doc_ids".into());
            Ok(Sheet {
                views: Some(views),
                filters: Some(filters),
                handlers: Some(handler_files(root)),
                sequences: Some(p.sequences.clone()),
                ..Sheet::of(serde_json::to_value(l).unwrap_or(Value::Null))
            })
        }
        SheetKind::Transaction => {
            let t = c
                .transactions
                .iter()
                .find(|t| t.name == name)
                .ok_or_else(|| not_found(format!("transaction {name}")))?;
            let catalog = fullsync_runtime::transactions::SUPPORTED
                .iter()
                .map(|k| {
                    let specs = fullsync_runtime::transactions::properties_of(k)
                        .into_iter()
                        .map(|s| PropertySpec {
                            name: s.name.to_string(),
                            kind: s.kind.to_string(),
                            choices: s.choices.iter().map(|c| c.to_string()).collect(),
                            variable: s.variable,
                            schema_type: s.schema_type.to_string(),
                        })
                        .collect();
                    (k.to_string(), specs)
                })
                .collect();
            let mut item = serde_json::to_value(t).unwrap_or(Value::Null);
            // TOML values as JSON for the form.
            item["properties"] = serde_json::to_value(&t.properties).unwrap_or(Value::Null);
            Ok(Sheet {
                views: Some(views),
                catalog: Some(catalog),
                kept: Some(kept(root, connector, Some(name))),
                used_by: Some(used_by(root, connector, Some(name))),
                ..Sheet::of(item)
            })
        }
    }
}

/// The Convertigo properties kept but not edited (read-only rows of the sheet); none when the
/// Convertigo copy cannot be read (`check` reports that).
fn kept(
    root: &Path,
    connector: &str,
    transaction: Option<&str>,
) -> Vec<fullsync_project::c8o_kept::KeptProperty> {
    fullsync_project::c8o_kept::kept_properties(root, connector, transaction).unwrap_or_default()
}

/// `Sequence (step)` of every sequence step calling the item.
fn used_by(root: &Path, connector: &str, transaction: Option<&str>) -> Vec<String> {
    let refs = fullsync_project::c8o_refs::used_by(root, connector, transaction);
    refs.unwrap_or_default()
        .iter()
        .map(|r| format!("{} ({})", r.sequence, r.step))
        .collect()
}

fn bad(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        ErrorCode::BadRequest,
        format!("the form does not describe a valid item ({e}): fix the highlighted field"),
    )
}

/// JSON from the form to a TOML value (nulls and empty strings mean "not set").
fn to_toml(v: &Value) -> Option<toml::Value> {
    match v {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(toml::Value::String(s.clone())),
        Value::Bool(b) => Some(toml::Value::Boolean(*b)),
        Value::Number(n) => Some(match n.as_i64() {
            Some(i) => toml::Value::Integer(i),
            None => toml::Value::Float(n.as_f64().unwrap_or(0.0)),
        }),
        // Objects and arrays are kept as JSON text, as Convertigo stores them.
        other => Some(toml::Value::String(other.to_string())),
    }
}

/// The diagnostics about `file` (project-relative).
pub(crate) fn diagnostics_of<'a>(
    diags: &'a [fullsync_project::Diagnostic],
    file: &str,
) -> Vec<&'a fullsync_project::Diagnostic> {
    diags
        .iter()
        .filter(|d| d.file.to_string_lossy().replace('\\', "/").ends_with(file))
        .collect()
}

/// Saves a sheet; answers the item's file (project-relative), whose diagnostics the caller
/// reports after reloading the project.
pub fn save(
    root: &Path,
    connector: &str,
    kind: SheetKind,
    name: &str,
    item: Value,
) -> Result<String, ApiError> {
    let file = match kind {
        SheetKind::Connector => {
            let anonymous = item["anonymous_replication"].as_bool().unwrap_or(false);
            let revs = item["revs_limit"]
                .as_u64()
                .ok_or_else(|| bad("revs_limit must be a whole number"))?;
            ops::save_connector_settings(root, connector, anonymous, revs)?;
            format!("connectors/{connector}/connector.toml")
        }
        SheetKind::Listener => {
            let mut l: Listener = serde_json::from_value(item).map_err(bad)?;
            l.name = name.to_string();
            for o in [&mut l.view, &mut l.filter] {
                if o.as_deref().is_some_and(|s| s.trim().is_empty()) {
                    *o = None;
                }
            }
            let f = ops::save_listener(root, connector, name, &l)?;
            crate::rel(root, &f)
        }
        SheetKind::Transaction => {
            let mut obj = match item {
                Value::Object(o) => o,
                _ => return Err(bad("not an object")),
            };
            let props = match obj.remove("properties") {
                Some(Value::Object(p)) => p,
                Some(Value::Null) | None => Default::default(),
                Some(_) => return Err(bad("properties must be an object")),
            };
            obj.insert("properties".into(), json!({}));
            let mut t: Transaction = serde_json::from_value(Value::Object(obj)).map_err(bad)?;
            t.properties = props
                .iter()
                .filter_map(|(k, v)| to_toml(v).map(|v| (k.clone(), v)))
                .collect();
            let mut seen = std::collections::HashSet::new();
            for v in &t.variables {
                if v.name.trim().is_empty() {
                    return Err(bad("a variable has no name"));
                }
                if !seen.insert(v.name.as_str()) {
                    return Err(bad(format!("two variables are named `{}`", v.name)));
                }
            }
            t.name = name.to_string();
            let f = ops::save_transaction(root, connector, name, &t)?;
            crate::rel(root, &f)
        }
    };
    Ok(file)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use fullsync_engine::Engine;
    use serde_json::{json, Value};

    use crate::{ErrorCode, Studio};

    fn sample() -> (tempfile::TempDir, Studio) {
        let dir = tempfile::tempdir().unwrap();
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../projects/sample");
        copy(&src, &dir.path().join("s"));
        let engine = Arc::new(Engine::in_memory());
        let views = Arc::new(fullsync_views::Views::new(engine.clone()));
        let s = Studio::new(engine, views);
        s.handle_json(json!({"cmd": "project_open", "args": {"path": dir.path().join("s").display().to_string()}}))
            .unwrap();
        (dir, s)
    }

    fn copy(from: &std::path::Path, to: &std::path::Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap().flatten() {
            if e.path().is_dir() {
                copy(&e.path(), &to.join(e.file_name()));
            } else {
                std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
            }
        }
    }

    fn call(s: &Studio, v: Value) -> Value {
        s.handle_json(v).unwrap()
    }

    #[test]
    fn listener_sheet_round_trip_with_diagnostics() {
        let (dir, s) = sample();
        let g = call(
            &s,
            json!({"cmd": "sheet_get", "args": {"connector": "orders", "kind": "listener", "name": "paid"}}),
        );
        assert_eq!(g["item"]["chunk"], 5);
        assert_eq!(g["item"]["target"]["handler"], "handlers/paid.js");
        assert!(g["views"]
            .as_array()
            .unwrap()
            .contains(&json!("app/by_status")));
        assert!(g["filters"]
            .as_array()
            .unwrap()
            .contains(&json!("_doc_ids")));
        assert!(g["handlers"]
            .as_array()
            .unwrap()
            .contains(&json!("handlers/paid.js")));
        let mut item = g["item"].clone();
        item["chunk"] = json!(25);
        item["enabled"] = json!(true);
        item["filter"] = json!("");
        item["view"] = json!("app/nope");
        let r = call(
            &s,
            json!({"cmd": "sheet_save", "args": {"connector": "orders", "kind": "listener", "name": "paid", "item": item}}),
        );
        let text =
            std::fs::read_to_string(dir.path().join("s/connectors/orders/listeners/paid.toml"))
                .unwrap();
        assert!(text.contains("chunk = 25"), "{text}");
        assert!(text.contains("enabled = true"), "{text}");
        assert!(
            !text.contains("filter"),
            "an empty filter is not written: {text}"
        );
        let diags = r["diagnostics"].to_string();
        assert!(
            diags.contains("app/nope"),
            "the missing view is reported: {diags}"
        );
        // A form that is not a listener is refused and the file is untouched.
        let e = s
            .handle_json(json!({"cmd": "sheet_save", "args": {"connector": "orders", "kind": "listener", "name": "paid", "item": {"kind": "sometimes"}}}))
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::BadRequest);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("s/connectors/orders/listeners/paid.toml"))
                .unwrap(),
            text
        );
    }

    #[test]
    fn transaction_sheet_properties_and_variables() {
        let (dir, s) = sample();
        let g = call(
            &s,
            json!({"cmd": "sheet_get", "args": {"connector": "orders", "kind": "transaction", "name": "GetOrdersByStatus"}}),
        );
        assert_eq!(g["item"]["type"], "GetView");
        assert_eq!(g["item"]["properties"]["viewname"], "app/by_status");
        let specs = g["catalog"]["GetView"].as_array().unwrap();
        assert!(specs
            .iter()
            .any(|p| p["name"] == "q_limit" && p["variable"] == "limit"));
        let mut item = g["item"].clone();
        item["properties"]["q_descending"] = json!(true);
        item["properties"]["q_reduce"] = Value::Null; // cleared
        item["properties"]["q_startkey"] = json!(["a", 1]);
        let vars = item["variables"].as_array_mut().unwrap();
        vars.reverse();
        vars.push(json!({"name": "skip", "schema_type": "xsd:integer", "default": 10}));
        call(
            &s,
            json!({"cmd": "sheet_save", "args": {"connector": "orders", "kind": "transaction", "name": "GetOrdersByStatus", "item": item}}),
        );
        let text = std::fs::read_to_string(
            dir.path()
                .join("s/connectors/orders/transactions/GetOrdersByStatus.toml"),
        )
        .unwrap();
        assert!(text.contains("q_descending = true"), "{text}");
        assert!(!text.contains("q_reduce"), "{text}");
        assert!(text.contains(r#"q_startkey = '["a",1]'"#), "{text}");
        let (limit, key, skip) = (
            text.find("name = \"limit\"").unwrap(),
            text.find("name = \"key\"").unwrap(),
            text.find("name = \"skip\"").unwrap(),
        );
        assert!(limit < key && key < skip, "order kept: {text}");
        let g2 = call(
            &s,
            json!({"cmd": "sheet_get", "args": {"connector": "orders", "kind": "transaction", "name": "GetOrdersByStatus"}}),
        );
        assert_eq!(g2["item"]["variables"][2]["default"], 10);
        // Two variables with one name are refused.
        let mut dup = g2["item"].clone();
        dup["variables"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "key"}));
        let e = s
            .handle_json(json!({"cmd": "sheet_save", "args": {"connector": "orders", "kind": "transaction", "name": "GetOrdersByStatus", "item": dup}}))
            .unwrap_err();
        assert!(
            e.message.contains("two variables are named `key`"),
            "{}",
            e.message
        );
    }

    #[test]
    fn connector_sheet_keeps_comments() {
        let (dir, s) = sample();
        let g = call(
            &s,
            json!({"cmd": "sheet_get", "args": {"connector": "orders", "kind": "connector"}}),
        );
        assert_eq!(
            g["item"],
            json!({"anonymous_replication": false, "revs_limit": 10})
        );
        call(
            &s,
            json!({"cmd": "sheet_save", "args": {"connector": "orders", "kind": "connector", "item": {"anonymous_replication": true, "revs_limit": 50}}}),
        );
        let text =
            std::fs::read_to_string(dir.path().join("s/connectors/orders/connector.toml")).unwrap();
        assert!(text.starts_with("# Each device"), "{text}");
        assert!(
            text.contains("anonymous_replication = \"allow\"\nrevs_limit = 50"),
            "{text}"
        );
        let e = s
            .handle_json(json!({"cmd": "sheet_save", "args": {"connector": "orders", "kind": "connector", "item": {"revs_limit": 0}}}))
            .unwrap_err();
        assert!(e.message.contains("revs_limit"), "{}", e.message);
    }
}
