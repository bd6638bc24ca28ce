//! Convertigo import/export on hand-written fixtures (tests/fixtures/convertigo).

use std::path::{Path, PathBuf};

use fullsync_project::convertigo::*;
use fullsync_project::{load, ListenerKind, Severity};
use serde_json::{json, Value};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/convertigo")
        .join(name)
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// The loaded project as JSON without file paths.
fn model(dir: &Path) -> Value {
    let (p, d) = load(dir);
    let errors: Vec<_> = d.iter().filter(|x| x.severity == Severity::Error).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let mut v = serde_json::to_value(p.unwrap()).unwrap();
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for k in ["root", "dir", "path", "file"] {
                    m.remove(k);
                }
                m.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    v
}

#[test]
fn quoting_rules() {
    assert!(needs_quote("a: b"));
    assert!(needs_quote("'x"));
    assert!(needs_quote("{\"a\":1}"));
    assert!(needs_quote("ok\n- item"));
    assert!(needs_quote("\\s"));
    assert!(!needs_quote("c8o:admin"));
    assert!(!needs_quote("it's"));
}

#[test]
fn parse_then_write_is_identity() {
    for fx in ["shop8", "legacy7"] {
        let p = read_c8o(&fixture(fx)).unwrap();
        let written = write_c8o(&p.root);
        assert_eq!(written.len(), p.files.len(), "{fx}");
        for (f, text) in &p.files {
            assert_eq!(written.get(f), Some(text), "{fx}: {f}");
        }
    }
}

#[test]
fn parses_quotes_multiline_cdata_and_references() {
    let p = read_c8o(&fixture("shop8")).unwrap();
    assert_eq!(p.version(), "8.0.0.m006");
    let pb = p.project().unwrap();
    assert_eq!(pb.name(), "shop");
    assert_eq!(pb.prop("comment").unwrap(), "Shop: orders, and the catalog");
    let orders = pb.beans().find(|b| b.name() == "orders").unwrap();
    assert_eq!(orders.file.as_deref(), Some("connectors/orders.yaml"));
    assert_eq!(orders.attr("default"), Some("true"));
    let tx = orders.beans().find(|b| b.name() == "ByStatus").unwrap();
    let var = tx.beans().next().unwrap();
    assert_eq!(var.class(), "variables.RequestableVariable");
    assert_eq!(var.priority(), Some("1486393547007"));
    assert_eq!(
        var.prop("description").unwrap(),
        "Status: the one to list, it's required"
    );
    let post = orders.beans().find(|b| b.name() == "PostOrder").unwrap();
    let tags = post.beans().find(|b| b.name() == "tags").unwrap();
    assert_eq!(
        tags.prop("description").unwrap(),
        "Tags of the order,\none per value"
    );
    let seq = pb.beans().find(|b| b.name() == "OnOrder").unwrap();
    let step = seq.beans().find(|b| b.name() == "jsStep").unwrap();
    assert_eq!(
        step.prop("expression").unwrap(),
        "var a = 1;\nlog.warn('x: ' + a);"
    );
    let dd = orders.beans().find(|b| b.name() == "app").unwrap();
    let doc = parse_docdata(&dd.prop("docdata").unwrap()).unwrap();
    assert_eq!(doc["_id"], "_design/app");
    assert_eq!(
        doc["views"]["by_id"]["map"],
        "function (doc) {\r\n    emit(doc._id, null);\r\n}"
    );
    assert_eq!(
        doc["validate_doc_update"],
        "function (newDoc, oldDoc, userCtx) {\r\n    // it's fine\r\n}"
    );
}

#[test]
fn docdata_is_written_like_convertigo() {
    let tmp = tempfile::tempdir().unwrap();
    import_c8o(&fixture("shop8"), tmp.path()).unwrap();
    let (p, _) = load(tmp.path());
    let dd = &p.unwrap().connectors[0].design_docs[0];
    let p = read_c8o(&fixture("shop8")).unwrap();
    let orders = p
        .project()
        .unwrap()
        .beans()
        .find(|b| b.name() == "orders")
        .unwrap();
    let app = orders.beans().find(|b| b.name() == "app").unwrap();
    assert_eq!(docdata_text(dd), app.prop("docdata").unwrap());
}

#[test]
fn imports_an_8x_project() {
    let tmp = tempfile::tempdir().unwrap();
    let rep = import_c8o(&fixture("shop8"), tmp.path()).unwrap();
    assert_eq!(rep.project, "shop");
    assert_eq!(rep.connectors, vec!["orders"]);
    assert_eq!(rep.sequences, vec!["shop.OnOrder", "shop.OnDelete"]);
    let ro: Vec<&str> = rep.read_only.iter().map(|r| r.path.as_str()).collect();
    for x in [
        "shop/backend",
        "shop/OnOrder",
        "shop/OnDelete",
        "shop/CouchDb_schema",
        "shop/orders/Broken",
    ] {
        assert!(ro.contains(&x), "{x} in {ro:?}");
    }
    // The broken listener kept read-only is reported (import and check), as a warning.
    assert_eq!(rep.diagnostics.len(), 1, "{:?}", rep.diagnostics);
    assert!(
        rep.diagnostics[0].contains("orders.yaml:43: warning: `shop/orders/Broken`")
            && rep.diagnostics[0].contains("shop.orders.app.missing"),
        "{:?}",
        rep.diagnostics
    );
    let (p, d) = load(tmp.path());
    assert!(
        d.iter().all(|x| x.severity == Severity::Warning) && d.len() == 1,
        "{d:?}"
    );
    assert!(tmp.path().join(".gitignore").exists());
    let p = p.unwrap();
    assert_eq!(p.name, "shop");
    assert_eq!(p.version, "1.2.0");
    assert_eq!(p.description, "Shop: orders, and the catalog");
    let c = &p.connectors[0];
    assert!(c.anonymous_replication);
    assert_eq!(c.revs_limit, 10);
    let dd = &c.design_docs[0];
    assert_eq!(dd.name, "app");
    assert_eq!(dd.views.len(), 2);
    assert_eq!(dd.views[1].reduce.as_ref().unwrap().text, "_count");
    assert_eq!(dd.lib["util"].text, "exports.x = 1;");
    assert_eq!(dd.filters[0].0, "by_type");
    assert!(dd.validate.is_some());
    assert!(tmp
        .path()
        .join("connectors/orders/design/app/views/by_id/map.js")
        .exists());
    // Indexes.
    let ix: Vec<_> = c
        .indexes
        .iter()
        .map(|i| (i.name.as_str(), json!(i.fields)))
        .collect();
    assert_eq!(
        ix,
        vec![
            ("by_date", json!([{"date": "desc"}, {"total": "desc"}])),
            ("by_type_idx", json!(["type"]))
        ]
    );
    // Listeners: the four kinds, defaults omitted in the source.
    let l = |n: &str| c.listeners.iter().find(|l| l.name == n).unwrap();
    assert_eq!(
        (
            l("OnPaid").kind,
            l("OnPaid").view.as_deref(),
            l("OnPaid").chunk
        ),
        (ListenerKind::Update, Some("app/by_id"), 5)
    );
    assert_eq!(l("OnPaid").target.sequence.as_deref(), Some("shop.OnOrder"));
    assert_eq!(
        (
            l("OnTyped").kind,
            l("OnTyped").filter.as_deref(),
            l("OnTyped").enabled
        ),
        (ListenerKind::Update, Some("app/by_type"), false)
    );
    assert_eq!(
        (
            l("OnGone").kind,
            l("OnGone").view.as_deref(),
            l("OnGone").chunk,
            l("OnGone").enabled
        ),
        (ListenerKind::Delete, Some("app/by_id"), 10, true)
    );
    assert_eq!(
        (
            l("OnGoneIds").kind,
            l("OnGoneIds").filter.as_deref(),
            l("OnGoneIds").chunk
        ),
        (ListenerKind::Delete, Some("_doc_ids"), 0)
    );
    assert_eq!(c.listeners.len(), 4);
    // Transactions and variables.
    let t = |n: &str| c.transactions.iter().find(|t| t.name == n).unwrap();
    assert_eq!(t("ByStatus").kind, "GetView");
    assert_eq!(
        t("ByStatus").properties["q_limit"],
        toml::Value::Integer(10)
    );
    assert_eq!(
        t("ByStatus").properties["q_reduce"],
        toml::Value::Boolean(false)
    );
    assert_eq!(
        t("ByStatus").properties["viewname"].as_str(),
        Some("app/by_status")
    );
    let v = &t("ByStatus").variables[0];
    assert_eq!(
        (v.name.as_str(), v.required, v.default.clone()),
        ("_use_key", true, json!("paid"))
    );
    assert_eq!(t("DeleteAll").kind, "DeleteDatabase");
    assert!(t("DeleteAll").properties.is_empty());
    let post = t("PostOrder");
    assert_eq!(post.properties["policy"].as_str(), Some("merge"));
    assert_eq!(
        post.properties["p_json_base"].as_str(),
        Some("{\"type\":\"order\"}")
    );
    assert_eq!(post.variables.len(), 2);
    assert!(post.variables[0].multi_valued);
    assert_eq!(
        post.variables[0].description,
        "Tags of the order,\none per value"
    );
    assert_eq!(post.variables[1].schema_type, "xsd:boolean");
    // Verbatim copy.
    assert!(tmp
        .path()
        .join(".convertigo/project/_c8oProject/sequences/OnOrder.yaml")
        .exists());
}

fn assert_same_files(a: &Path, b: &Path) {
    let (fa, fb) = (files(a), files(b));
    let na: Vec<_> = fa.iter().map(|x| &x.0).collect();
    let nb: Vec<_> = fb.iter().map(|x| &x.0).collect();
    assert_eq!(na, nb);
    for ((n, x), (_, y)) in fa.iter().zip(&fb) {
        assert!(
            x == y,
            "{n} differs:\n{}\n---\n{}",
            String::from_utf8_lossy(x),
            String::from_utf8_lossy(y)
        );
    }
}

#[test]
fn unchanged_import_exports_byte_identical() {
    for fx in ["shop8", "legacy7", "crm79"] {
        let tmp = tempfile::tempdir().unwrap();
        let (ours, out) = (tmp.path().join("ours"), tmp.path().join("out"));
        import_c8o(&fixture(fx), &ours).unwrap();
        let rep = export_c8o(&ours, &out).unwrap();
        assert!(
            rep.regenerated.is_empty() && rep.written.is_empty(),
            "{rep:?}"
        );
        assert_same_files(&fixture(fx), &out);
    }
}

#[test]
fn import_export_import_is_lossless() {
    for fx in ["shop8", "legacy7", "crm79"] {
        let tmp = tempfile::tempdir().unwrap();
        let (a, c, b) = (
            tmp.path().join("a"),
            tmp.path().join("c"),
            tmp.path().join("b"),
        );
        import_c8o(&fixture(fx), &a).unwrap();
        export_c8o(&a, &c).unwrap();
        import_c8o(&c, &b).unwrap();
        assert_eq!(model(&a), model(&b), "{fx}");
    }
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

#[test]
fn edited_connector_is_regenerated_and_round_trips() {
    for fx in ["shop8", "legacy7"] {
        let tmp = tempfile::tempdir().unwrap();
        let (a, c, b) = (
            tmp.path().join("a"),
            tmp.path().join("c"),
            tmp.path().join("b"),
        );
        import_c8o(&fixture(fx), &a).unwrap();
        let conn = if fx == "shop8" { "orders" } else { "notes" };
        let ddoc = if fx == "shop8" { "app" } else { "main" };
        let cd = format!("connectors/{conn}");
        write(
            &a,
            &format!("{cd}/design/{ddoc}/views/by_kind/map.js"),
            "function (doc) {\n\temit(doc._id, 'it''s: \"x\"/y');\n}",
        );
        write(
            &a,
            &format!("{cd}/design/{ddoc}/views/by_kind/reduce.js"),
            "_sum",
        );
        write(
            &a,
            &format!("{cd}/design/{ddoc}/filters/mine.js"),
            "function (doc, req) { return true; }",
        );
        write(
            &a,
            &format!("{cd}/connector.toml"),
            "anonymous_replication = \"deny\"\n",
        );
        let seq = if fx == "shop8" {
            "shop.OnDelete"
        } else {
            "legacy.Handle"
        };
        write(&a, &format!("{cd}/listeners/NewOne.toml"), &format!("kind = \"delete\"\nfilter = \"{ddoc}/mine\"\nchunk = 3\n[target]\nsequence = \"{seq}\"\n"));
        write(
            &a,
            &format!("{cd}/indexes/by_x.json"),
            "{\"fields\": [\"x\", {\"y\": \"asc\"}]}",
        );
        write(&a, &format!("{cd}/transactions/Find.toml"), "type = \"PostFind\"\n[properties]\nq_limit = 5\nnote = \"a: b\\nc\"\n[[variables]]\nname = \"sel\"\ndescription = \"it's: multi\\nline\"\nmulti_valued = true\nrequired = true\nschema_type = \"xsd:boolean\"\ndefault = \"x\"\n");
        let rep = export_c8o(&a, &c).unwrap();
        assert_eq!(rep.regenerated, vec![conn.to_string()]);
        import_c8o(&c, &b).unwrap();
        assert_eq!(model(&a), model(&b), "{fx}");
        // Beans we do not edit stay byte-identical, and so does the rest of the connector.
        let text = std::fs::read_to_string(if fx == "shop8" {
            c.join("_c8oProject/connectors/orders.yaml")
        } else {
            c.join("c8oProject.yaml")
        })
        .unwrap();
        assert!(
            text.contains("targetView: ")
                && text.contains("↓NewOne [couchdb.FullSyncDeleteFilterListener]: "),
            "{text}"
        );
        if fx == "shop8" {
            assert!(text.contains("↓Test_Case [core.TestCase]: "), "{text}");
            assert!(text.contains(
                "↓Broken [couchdb.FullSyncListener]: \n  targetView: shop.orders.app.missing"
            ));
            for f in [
                "c8oProject.yaml",
                "_c8oProject/sequences/OnOrder.yaml",
                "_c8oProject/connectors/backend.yaml",
            ] {
                assert_eq!(
                    std::fs::read(c.join(f)).unwrap(),
                    std::fs::read(fixture(fx).join(f)).unwrap(),
                    "{f}"
                );
            }
        } else {
            assert!(text.contains("log.warn(''x: '' + a);'"));
        }
    }
}

#[test]
fn new_project_exports_and_imports_back() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, c, b) = (
        tmp.path().join("a"),
        tmp.path().join("c"),
        tmp.path().join("b"),
    );
    write(&a, "fullsync.toml", "[project]\nname = \"fresh\"\nversion = \"2.0.0\"\ndescription = \"New: project\"\n[convertigo]\nsequences = [\"fresh.S\"]\n");
    write(
        &a,
        "connectors/things/connector.toml",
        "anonymous_replication = \"allow\"\n",
    );
    write(
        &a,
        "connectors/things/design/d/views/all/map.js",
        "function (doc) { emit(doc._id, null); }\n",
    );
    write(
        &a,
        "connectors/things/listeners/l.toml",
        "kind = \"update\"\nview = \"d/all\"\n[target]\nsequence = \"fresh.S\"\n",
    );
    let rep = export_c8o(&a, &c).unwrap();
    assert_eq!(rep.regenerated, vec!["things"]);
    let root = std::fs::read_to_string(c.join("c8oProject.yaml")).unwrap();
    assert!(
        root.starts_with("↑convertigo: 8.0.0.m006\n↓fresh [core.Project]: "),
        "{root}"
    );
    assert!(c.join("_c8oProject/connectors/things.yaml").exists());
    import_c8o(&c, &b).unwrap();
    let (mb, ma) = (model(&b), model(&a));
    assert_eq!(mb["connectors"], ma["connectors"]);
    assert_eq!(
        (
            mb["name"].clone(),
            mb["version"].clone(),
            mb["description"].clone()
        ),
        (
            ma["name"].clone(),
            ma["version"].clone(),
            ma["description"].clone()
        )
    );
}

#[test]
fn car_has_the_expected_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    import_c8o(&fixture("shop8"), &a).unwrap();
    write(&a, ".convertigo/project/_private/secret.txt", "x");
    write(&a, ".convertigo/project/node_modules/m/index.js", "x");
    write(&a, ".convertigo/project/DisplayObjects/a.txt", "kept");
    let car = tmp.path().join("shop.car");
    export_car(&a, &car).unwrap();
    let entries = unzip_stored(&std::fs::read(&car).unwrap()).unwrap();
    let names: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "shop/DisplayObjects/a.txt",
            "shop/_c8oProject/connectors/backend.yaml",
            "shop/_c8oProject/connectors/orders.yaml",
            "shop/_c8oProject/sequences/OnDelete.yaml",
            "shop/_c8oProject/sequences/OnOrder.yaml",
            "shop/c8oProject.yaml",
        ]
    );
    let orders = &entries[2].1;
    assert_eq!(
        orders,
        &std::fs::read(fixture("shop8").join("_c8oProject/connectors/orders.yaml")).unwrap()
    );
}
