//! Loading, diagnostics, sync and view tests on real folders.

use std::path::Path;
use std::sync::Arc;

use fullsync_engine::{Engine, ReadOptions};
use fullsync_project::{load, Diagnostic, Severity};

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn base(root: &Path) {
    write(
        root,
        "fullsync.toml",
        "[project]\nname = \"t\"\nversion = \"1.0.0\"\n\n[convertigo]\nsequences = [\"t.Seq\"]\n",
    );
    write(
        root,
        "connectors/orders/connector.toml",
        "anonymous_replication = \"deny\"\nrevs_limit = 10\n",
    );
    write(
        root,
        "connectors/orders/design/app/views/by_type/map.js",
        "function (doc) {\n  emit(doc.type, 1);\n}\n",
    );
    write(
        root,
        "connectors/orders/design/app/views/by_type/reduce.js",
        "_count\n",
    );
    write(
        root,
        "connectors/orders/design/app/filters/f.js",
        "function (doc, req) { return true; }\n",
    );
}

fn errors(d: &[Diagnostic]) -> Vec<&Diagnostic> {
    d.iter().filter(|x| x.severity == Severity::Error).collect()
}

fn sample_root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../projects/sample")
}

#[test]
fn the_sample_project_is_clean_and_its_tests_pass() {
    let (p, diags) = load(&sample_root());
    let p = p.expect("sample loads");
    assert!(errors(&diags).is_empty(), "{diags:?}");
    let pool = Arc::new(fullsync_views::JsPool::new(1, Default::default()));
    assert!(load::compile_check(&p, &pool).is_empty());
    let results = fullsync_project::testing::run_tests(&p, &pool, None);
    assert!(results.len() >= 4);
    for r in &results {
        assert!(r.ok, "{}: {}", r.name, r.diff);
    }
}

#[test]
fn every_rule_gives_a_precise_diagnostic_and_the_rest_loads() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    base(root);
    // Invalid database name.
    write(
        root,
        "connectors/Bad Name/connector.toml",
        "revs_limit = 10\n",
    );
    // Misspelled builtin reduce.
    write(
        root,
        "connectors/orders/design/app/views/counted/map.js",
        "function (doc) { emit(doc._id); }\n",
    );
    write(
        root,
        "connectors/orders/design/app/views/counted/reduce.js",
        "_cout\n",
    );
    // JS syntax error on line 3.
    write(
        root,
        "connectors/orders/design/app/views/broken/map.js",
        "function (doc) {\n  var x = 1;\n  emit(doc.a;\n}\n",
    );
    // Listener pointing at a missing view, another at a missing sequence.
    write(
        root,
        "connectors/orders/listeners/l1.toml",
        "kind = \"update\"\nview = \"app/nope\"\n",
    );
    write(
        root,
        "connectors/orders/listeners/l2.toml",
        "kind = \"update\"\nview = \"app/by_type\"\n[target]\nsequence = \"t.Missing\"\n",
    );
    // Transaction pointing at a missing view, with a duplicated variable.
    write(
        root,
        "connectors/orders/transactions/tx.toml",
        "type = \"GetView\"\n[properties]\nviewname = \"app/missing\"\n[[variables]]\nname = \"a\"\n[[variables]]\nname = \"a\"\n",
    );
    // Half-written TOML file (line 2).
    write(
        root,
        "connectors/orders/listeners/half.toml",
        "kind = \"update\"\nview = \"app/by_\n",
    );
    // Unreadable JSON in a design doc key.
    write(
        root,
        "connectors/orders/design/app/options.json",
        "{\"include_design\": tru",
    );
    let (p, diags) = load(root);
    let p = p.expect("the project still loads");
    let pool = fullsync_views::JsPool::new(1, Default::default());
    let mut all = diags.clone();
    all.extend(load::compile_check(&p, &pool));
    let text: Vec<String> = all.iter().map(|d| d.to_string()).collect();
    let has = |needle: &str| text.iter().any(|t| t.contains(needle));
    assert!(has("`Bad Name` is not a valid database name"), "{text:#?}");
    assert!(
        has("`_cout` is not a builtin reduce") && has("did you mean `_count`"),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|t| t.contains("broken/map.js:3:") && t.contains("SyntaxError")),
        "{text:#?}"
    );
    assert!(has("uses view `app/nope`"), "{text:#?}");
    assert!(has("calls sequence `t.Missing`"), "{text:#?}");
    assert!(has("uses view `app/missing`"), "{text:#?}");
    assert!(has("variable `a` is declared twice"), "{text:#?}");
    assert!(
        text.iter()
            .any(|t| t.contains("half.toml:2:") && t.contains("invalid TOML")),
        "{text:#?}"
    );
    assert!(has("options.json:1:") && has("invalid JSON"), "{text:#?}");
    // The rest of the project is there.
    let orders = p.connector("orders").unwrap();
    assert!(orders.find_view("app/by_type").is_some());
    assert_eq!(
        orders.listeners.len(),
        2,
        "the half-written listener is skipped, the others load"
    );
}

#[test]
fn sync_writes_only_changed_design_documents() {
    let dir = tempfile::tempdir().unwrap();
    base(dir.path());
    let (p, _) = load(dir.path());
    let p = p.unwrap();
    let engine = Arc::new(Engine::in_memory());
    let r = fullsync_project::sync::sync(&engine, &p);
    assert_eq!(r.created_dbs, vec!["orders"]);
    assert_eq!(r.updated.len(), 1);
    let db = engine.db("orders").unwrap();
    assert_eq!(db.revs_limit(), 10);
    assert_eq!(db.security().unwrap()["fullsync"]["anonymous"], "deny");
    let rev1 = db
        .get("_design/app", None, &ReadOptions::default())
        .unwrap()["_rev"]
        .clone();
    let r = fullsync_project::sync::sync(&engine, &p);
    assert!(r.updated.is_empty());
    assert_eq!(r.unchanged, 1);
    // Change one view: only that design doc is written, and the view is reported.
    write(
        dir.path(),
        "connectors/orders/design/app/views/by_type/map.js",
        "function (doc) { emit(doc.kind, 1); }\n",
    );
    let (p, _) = load(dir.path());
    let r = fullsync_project::sync::sync(&engine, &p.unwrap());
    assert_eq!(
        r.updated,
        vec![(
            "orders".to_string(),
            "_design/app".to_string(),
            vec!["by_type".to_string()]
        )]
    );
    assert_ne!(
        db.get("_design/app", None, &ReadOptions::default())
            .unwrap()["_rev"],
        rev1
    );
}

#[test]
fn atomic_writes_never_leave_half_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("map.js");
    fullsync_project::write_atomic(&f, b"old content").unwrap();
    // A child process writes big files atomically in a loop and is killed with SIGKILL; the
    // file always holds one complete version.
    let exe = std::env::current_exe().unwrap();
    for round in 0..5 {
        let mut child = std::process::Command::new(&exe)
            .args(["--exact", "atomic_writer_child", "--nocapture", "--ignored"])
            .env("ATOMIC_TARGET", &f)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(60 + round * 40));
        child.kill().unwrap();
        child.wait().unwrap();
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(
            text == "old content"
                || (text.len() == 200_000
                    && text.chars().all(|c| c == text.chars().next().unwrap())),
            "torn file ({} bytes)",
            text.len()
        );
    }
}

/// Run by `atomic_writes_never_leave_half_a_file` in a child process.
#[test]
#[ignore]
fn atomic_writer_child() {
    let Ok(target) = std::env::var("ATOMIC_TARGET") else {
        return;
    };
    let mut i = 0u8;
    loop {
        let c = b'a' + (i % 26);
        fullsync_project::write_atomic(Path::new(&target), &vec![c; 200_000]).unwrap();
        i = i.wrapping_add(1);
    }
}

#[test]
fn a_failing_view_test_prints_a_readable_diff() {
    let dir = tempfile::tempdir().unwrap();
    base(dir.path());
    write(
        dir.path(),
        "tests/wrong.test.json",
        r#"{"connector": "orders", "view": "app/by_type", "docs": [{"_id": "a", "type": "x"}], "query": {"group": true},
            "expect": {"rows": [{"key": "x", "value": 2}]}}"#,
    );
    let (p, _) = load(dir.path());
    let pool = Arc::new(fullsync_views::JsPool::new(1, Default::default()));
    let r = fullsync_project::testing::run_tests(&p.unwrap(), &pool, None);
    assert!(!r[0].ok);
    let lines: Vec<&str> = r[0].diff.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with('-') && l.contains("\"value\": 2")),
        "{}",
        r[0].diff
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with('+') && l.contains("\"value\": 1")),
        "{}",
        r[0].diff
    );
    let xml = fullsync_project::testing::junit_xml("t", &r);
    assert!(xml.contains("failures=\"1\"") && xml.contains("<failure"));
}

#[test]
fn renames_update_every_reference_and_the_project_stays_valid() {
    use fullsync_project::ops;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    base(root);
    write(
        root,
        "connectors/orders/listeners/l.toml",
        "# keep this comment\nkind = \"update\"\nview = \"app/by_type\"\n",
    );
    write(
        root,
        "connectors/orders/transactions/t.toml",
        "type = \"GetView\"\n[properties]\nviewname = \"app/by_type\"\n",
    );
    write(
        root,
        "tests/x.test.json",
        r#"{"connector": "orders", "view": "app/by_type", "docs": [], "expect": {"rows": []}}"#,
    );
    let changed = ops::rename_view(root, "orders", "app", "by_type", "by_kind").unwrap();
    assert_eq!(changed.len(), 3);
    let l = std::fs::read_to_string(root.join("connectors/orders/listeners/l.toml")).unwrap();
    assert!(l.contains("# keep this comment") && l.contains("\"app/by_kind\""));
    let changed = ops::rename_design_doc(root, "orders", "app", "shop").unwrap();
    assert_eq!(changed.len(), 3);
    ops::rename_connector(root, "orders", "sales").unwrap();
    let (p, diags) = load(root);
    assert!(errors(&diags).is_empty(), "{diags:#?}");
    let p = p.unwrap();
    let c = p.connector("sales").unwrap();
    assert!(c.find_view("shop/by_kind").is_some());
    assert_eq!(c.listeners[0].view.as_deref(), Some("shop/by_kind"));
    assert_eq!(p.tests[0].view, "shop/by_kind");
    assert_eq!(p.tests[0].connector, "sales");
    // Variables: add, reorder position, rename, remove.
    ops::add_variable(
        root,
        "sales",
        "t",
        fullsync_project::Variable {
            name: "key".into(),
            description: "d".into(),
            default: serde_json::json!("x"),
            required: true,
            multi_valued: false,
            schema_type: "xsd:string".into(),
        },
        None,
    )
    .unwrap();
    ops::add_variable(
        root,
        "sales",
        "t",
        fullsync_project::Variable {
            name: "first".into(),
            description: String::new(),
            default: serde_json::Value::Null,
            required: false,
            multi_valued: true,
            schema_type: "xsd:string".into(),
        },
        Some(0),
    )
    .unwrap();
    assert!(ops::add_variable(
        root,
        "sales",
        "t",
        fullsync_project::Variable {
            name: "key".into(),
            description: String::new(),
            default: serde_json::Value::Null,
            required: false,
            multi_valued: false,
            schema_type: "xsd:string".into(),
        },
        None
    )
    .is_err());
    ops::rename_variable(root, "sales", "t", "key", "status").unwrap();
    let (p, _) = load(root);
    let names: Vec<String> = p.unwrap().connector("sales").unwrap().transactions[0]
        .variables
        .iter()
        .map(|v| v.name.clone())
        .collect();
    assert_eq!(names, vec!["first", "status"]);
    ops::remove_variable(root, "sales", "t", "first").unwrap();
    // Bad names and conflicts are refused with a clear error.
    assert!(ops::create_connector(root, "Bad")
        .unwrap_err()
        .to_string()
        .contains("invalid name"));
    assert!(
        ops::create_view(root, "sales", "shop", "by_kind", "function (doc) {}", None)
            .unwrap_err()
            .to_string()
            .contains("already exists")
    );
    ops::create_view(
        root,
        "sales",
        "shop",
        "n",
        "function (doc) { emit(doc.n); }",
        Some("_sum"),
    )
    .unwrap();
    ops::set_reduce(root, "sales", "shop", "n", None).unwrap();
    ops::delete_view(root, "sales", "shop", "n").unwrap();
    ops::delete_item(root, "sales", "listeners", "l").unwrap();
    let (p, diags) = load(root);
    assert!(errors(&diags).is_empty(), "{diags:#?}");
    assert!(p.unwrap().connector("sales").unwrap().listeners.is_empty());
}

#[test]
fn an_external_edit_is_resynced_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    base(&root);
    let engine = Arc::new(Engine::in_memory());
    let (p, _) = load(&root);
    fullsync_project::sync::sync(&engine, &p.unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    let e2 = engine.clone();
    let _w =
        fullsync_project::watch::watch(&root, std::time::Duration::from_millis(150), move |ch| {
            if let Some(p) = &ch.project {
                let r = fullsync_project::sync::sync(&e2, p);
                let _ = tx.send((ch.paths.clone(), r.updated.len(), ch.diagnostics.len()));
            }
        })
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(100));
    let t = std::time::Instant::now();
    // Another editor rewrites the map function.
    std::fs::write(
        root.join("connectors/orders/design/app/views/by_type/map.js"),
        "function (doc) { emit(doc.kind, 1); }\n",
    )
    .unwrap();
    let (paths, updated, diags) = rx
        .recv_timeout(std::time::Duration::from_secs(5))
        .expect("change announced");
    assert!(
        t.elapsed() < std::time::Duration::from_secs(1),
        "took {:?}",
        t.elapsed()
    );
    assert!(paths.iter().any(|p| p.ends_with("map.js")));
    assert_eq!((updated, diags), (1, 0));
    let ddoc = engine
        .db("orders")
        .unwrap()
        .get("_design/app", None, &ReadOptions::default())
        .unwrap();
    assert!(ddoc["views"]["by_type"]["map"]
        .as_str()
        .unwrap()
        .contains("doc.kind"));
}

#[test]
fn git_status_diff_commit_log_discard_branches() {
    use fullsync_project::git;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    base(root);
    git::init(root).unwrap();
    let gi = std::fs::read_to_string(root.join(".gitignore")).unwrap();
    assert!(gi.contains("*.redb") && gi.contains(".env"));
    std::fs::create_dir_all(root.join("data")).unwrap();
    std::fs::write(root.join("data/local.redb"), b"binary").unwrap();
    std::fs::write(root.join("data/notes.txt"), b"scratch").unwrap();
    std::fs::write(root.join("data/orders.jsonl"), b"{\"_id\": \"a\"}\n").unwrap();
    let st = git::status(root).unwrap();
    assert!(
        st.iter().any(|f| f.path == "data/orders.jsonl"),
        "seed files are part of the project: {st:?}"
    );
    assert!(st
        .iter()
        .any(|f| f.path == "fullsync.toml" && f.status == "new" && !f.staged));
    assert!(
        !st.iter()
            .any(|f| f.path == "data/local.redb" || f.path == "data/notes.txt"),
        "local data is ignored: {st:?}"
    );
    git::stage(root, &[]).unwrap();
    let id = git::commit(root, "first", "Test", "test@example.com").unwrap();
    assert_eq!(id.len(), 40);
    assert!(git::status(root).unwrap().is_empty());
    let map = "connectors/orders/design/app/views/by_type/map.js";
    std::fs::write(
        root.join(map),
        "function (doc) {\n  emit(doc.kind, 1);\n}\n",
    )
    .unwrap();
    let st = git::status(root).unwrap();
    assert_eq!(
        st,
        vec![git::FileStatus {
            path: map.into(),
            status: "modified",
            staged: false
        }]
    );
    let d = git::diff_file(root, map).unwrap();
    assert!(
        d.contains("-  emit(doc.type, 1);") && d.contains("+  emit(doc.kind, 1);"),
        "{d}"
    );
    git::discard(root, map).unwrap();
    assert!(git::status(root).unwrap().is_empty());
    git::checkout(root, "feature", true).unwrap();
    std::fs::write(
        root.join("connectors/orders/design/app/filters/g.js"),
        "function (doc) { return false; }\n",
    )
    .unwrap();
    git::stage(root, &["connectors/orders/design/app/filters/g.js"]).unwrap();
    git::commit(root, "add filter g", "Test", "test@example.com").unwrap();
    let names: Vec<(String, bool)> = git::branches(root)
        .unwrap()
        .into_iter()
        .map(|b| (b.name, b.current))
        .collect();
    assert!(names.contains(&("feature".to_string(), true)));
    let main = names
        .iter()
        .find(|(n, _)| n != "feature")
        .unwrap()
        .0
        .clone();
    git::checkout(root, &main, false).unwrap();
    assert!(
        !root
            .join("connectors/orders/design/app/filters/g.js")
            .exists(),
        "checkout switched the files"
    );
    assert_eq!(git::log(root, 10).unwrap()[0].summary, "first");
}

#[test]
fn load_data_reports_the_documents_it_refuses() {
    let dir = tempfile::tempdir().unwrap();
    base(dir.path());
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::write(
        dir.path().join("data/orders.jsonl"),
        "{\"_id\":\"a\",\"type\":\"order\"}\n\n{\"_id\":\"_secret\",\"x\":1}\n{\"_id\":\"b\"}\n",
    )
    .unwrap();
    let (p, _) = load(dir.path());
    let engine = Arc::new(Engine::in_memory());
    let r = fullsync_project::sync::load_data(&engine, &p.unwrap()).unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!((r[0].db.as_str(), r[0].written), ("orders", 2));
    assert_eq!(r[0].refused.len(), 1, "{:?}", r[0].refused);
    assert!(
        r[0].refused[0].contains("orders.jsonl:3: document `_secret`"),
        "{:?}",
        r[0].refused
    );
}

/// An untrusted project (from `git clone`) with symbolic links to a folder, a file and a map
/// function outside its root: each link is refused with an error naming it, and nothing from
/// outside reaches the engine or the Convertigo export.
#[cfg(unix)]
#[test]
fn symbolic_links_leading_outside_the_project_are_refused() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("p");
    let outside = dir.path().join("home");
    base(&root);
    write(
        &outside,
        "secret.js",
        "function (doc) { emit('SECRET-FILE', 1); }\n",
    );
    write(
        &outside,
        "map.js",
        "function (doc) { emit('SECRET-MAP', 1); }\n",
    );
    write(
        &outside,
        "views/stolen/map.js",
        "function (doc) { emit('SECRET-DIR', 1); }\n",
    );
    let app = root.join("connectors/orders/design/app");
    // A folder: a whole design document's views come from elsewhere.
    symlink(
        outside.join("views"),
        root.join("connectors/orders/design/ext"),
    )
    .unwrap();
    // A file: a filter.
    symlink(outside.join("secret.js"), app.join("filters/steal.js")).unwrap();
    // A map function.
    std::fs::create_dir_all(app.join("views/mapped")).unwrap();
    symlink(outside.join("map.js"), app.join("views/mapped/map.js")).unwrap();
    // A link inside the project is fine.
    symlink(app.join("filters/f.js"), app.join("filters/same.js")).unwrap();

    let (p, diags) = load(&root);
    let p = p.unwrap();
    let mut refused: Vec<String> = errors(&diags)
        .iter()
        .filter(|d| {
            d.message
                .contains("symbolic link that leads outside the project")
        })
        .map(|d| d.file.strip_prefix(&root).unwrap().display().to_string())
        .collect();
    refused.sort();
    assert_eq!(
        refused,
        vec![
            "connectors/orders/design/app/filters/steal.js",
            "connectors/orders/design/app/views/mapped/map.js",
            "connectors/orders/design/ext",
        ],
        "{diags:?}"
    );
    for d in &diags {
        assert!(!d.message.contains(&*outside.to_string_lossy()), "{d}");
    }
    let engine = Arc::new(Engine::in_memory());
    fullsync_project::sync::sync(&engine, &p);
    let db = engine.db("orders").unwrap();
    let app_doc = db
        .get("_design/app", None, &ReadOptions::default())
        .unwrap();
    let text = app_doc.to_string();
    assert!(!text.contains("SECRET"), "{text}");
    assert!(app_doc["filters"]["same"].is_string(), "{text}");
    assert!(app_doc["views"].get("mapped").is_none());
    assert!(db
        .get("_design/ext", None, &ReadOptions::default())
        .is_err());

    // The Convertigo export refuses the project instead of shipping the linked files.
    let err = fullsync_project::convertigo::export_c8o(&root, &dir.path().join("out"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("steal.js"), "{err}");
}

/// The watcher: a link to an outside file added after the project was opened is refused on
/// reload, and its content never reaches the engine.
#[cfg(unix)]
#[test]
fn the_watcher_refuses_a_link_added_later() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("p");
    base(&root);
    write(
        dir.path(),
        "secret.js",
        "function (doc) { emit('SECRET', 1); }\n",
    );
    let engine = Arc::new(Engine::in_memory());
    fullsync_project::sync::sync(&engine, &load(&root).0.unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    let e2 = engine.clone();
    let _w =
        fullsync_project::watch::watch(&root, std::time::Duration::from_millis(100), move |ch| {
            if let Some(p) = &ch.project {
                fullsync_project::sync::sync(&e2, p);
            }
            let _ = tx.send(ch.diagnostics);
        })
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(100));
    std::os::unix::fs::symlink(
        dir.path().join("secret.js"),
        root.join("connectors/orders/design/app/filters/steal.js"),
    )
    .unwrap();
    let diags = rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("change announced");
    assert!(
        diags.iter().any(|d| d.file.ends_with("filters/steal.js")
            && d.message.contains("leads outside the project")),
        "{diags:?}"
    );
    let ddoc = engine
        .db("orders")
        .unwrap()
        .get("_design/app", None, &ReadOptions::default())
        .unwrap();
    assert!(!ddoc.to_string().contains("SECRET"));
}
