//! Editing imported Convertigo projects: an edit changes only its own lines of the export,
//! sequence references follow renames and `check` reports the ones that point at nothing.
//! Fixtures: `crm79` (7.9, CRLF, one-key objects on several lines, 7.x variable types, Test
//! Cases, sequences calling transactions of two connectors) and `shop8` (8.0, LF).

use std::path::{Path, PathBuf};

use fullsync_project::c8o_refs::{sequence_refs, used_by};
use fullsync_project::c8o_style::same_line_endings;
use fullsync_project::convertigo::*;
use fullsync_project::{load, ops, Diagnostic, Severity};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/convertigo")
        .join(name)
}

fn read(p: &Path) -> String {
    String::from_utf8(std::fs::read(p).unwrap()).unwrap()
}

fn write(root: &Path, rel: &str, text: &str) {
    std::fs::write(root.join(rel), text).unwrap();
}

/// Lines removed plus lines added between two texts (longest common subsequence of lines).
fn changed_lines(a: &str, b: &str) -> usize {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.split('\n').collect(), b.split('\n').collect());
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    a.len() + b.len() - 2 * lcs[0][0]
}

/// Every file of the Convertigo folder `a` compared with `b`: `(file, changed lines)` for the
/// ones that differ.
fn diff_folders(a: &Path, b: &Path) -> Vec<(String, usize)> {
    let (pa, pb) = (read_c8o(a).unwrap(), read_c8o(b).unwrap());
    let mut names: Vec<&String> = pa.files.keys().chain(pb.files.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter_map(|f| {
            let (x, y) = (
                pa.files.get(f).map(String::as_str).unwrap_or(""),
                pb.files.get(f).map(String::as_str).unwrap_or(""),
            );
            (x != y).then(|| (f.clone(), changed_lines(x, y)))
        })
        .collect()
}

fn import(fx: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let ours = tmp.path().join("ours");
    import_c8o(&fixture(fx), &ours).unwrap();
    (tmp, ours)
}

fn export(tmp: &tempfile::TempDir, ours: &Path) -> (PathBuf, ExportReport) {
    let out = tmp.path().join("out");
    let _ = std::fs::remove_dir_all(&out);
    let rep = export_c8o(ours, &out).unwrap();
    (out, rep)
}

fn errors(root: &Path) -> Vec<Diagnostic> {
    load(root)
        .1
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .collect()
}

#[test]
fn crlf_fixture_parses_and_writes_back() {
    let p = read_c8o(&fixture("crm79")).unwrap();
    assert!(p.files["c8oProject.yaml"].contains("\r\n"));
    let written = write_c8o(&p.root);
    assert_eq!(written.len(), p.files.len());
    for (f, text) in &p.files {
        assert_eq!(&same_line_endings(text, &written[f]), text, "{f}");
    }
}

#[test]
fn editing_one_map_changes_only_its_lines() {
    // (fixture, map file, line replaced, replacement)
    let cases = [
        (
            "crm79",
            "connectors/crm/design/contacts/views/by_city/map.js",
            "emit(doc.city, 1);",
            "emit(doc.city, 2);",
        ),
        (
            "shop8",
            "connectors/orders/design/app/views/by_status/map.js",
            "emit(doc.status, doc.total);",
            "emit(doc.status, doc.amount);",
        ),
        (
            "legacy7",
            "connectors/notes/design/main/views/all/map.js",
            "emit(doc._id, 1);",
            "emit(doc._id, 2);",
        ),
    ];
    for (fx, map, from, to) in cases {
        let (tmp, ours) = import(fx);
        let text = read(&ours.join(map));
        assert!(text.contains(from), "{fx}: {text}");
        write(&ours, map, &text.replace(from, to));
        let (out, rep) = export(&tmp, &ours);
        assert_eq!(rep.regenerated.len(), 1, "{fx}: {rep:?}");
        let diff = diff_folders(&fixture(fx), &out);
        eprintln!("{fx}: edit one map -> changed lines {diff:?}");
        assert_eq!(diff.len(), 1, "{fx}: {diff:?}");
        assert_eq!(diff[0].1, 2, "{fx}: one line out, one line in: {diff:?}");
        let file = out.join(&diff[0].0);
        assert!(read(&file).contains(to), "{fx}");
        if fx == "crm79" {
            assert!(!read(&file).replace("\r\n", "").contains('\n'), "CRLF kept");
        }
    }
}

#[test]
fn sequence_references_are_listed_with_their_steps() {
    let refs = sequence_refs(&read_c8o(&fixture("crm79")).unwrap());
    let got: Vec<(String, String, String)> = refs
        .iter()
        .map(|r| (r.sequence.clone(), r.step.clone(), r.value.clone()))
        .collect();
    let want = [
        ("crm.FindContact", "Call_ByName", "crm.crm.ByName"),
        (
            "crm.FindContact",
            "Loop/Call_ByName_again",
            "crm.crm.ByName",
        ),
        ("crm.FindContact", "Loop/Call_Archive", "crm.archive.GetAll"),
        ("crm.FindContact", "Call_Save", "crm.SaveContact"),
        ("crm.SaveContact", "Call_Add", "crm.crm.addContact"),
        ("crm.SaveContact", "Call_Other", "other.db.Get"),
    ];
    let want: Vec<(String, String, String)> = want
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(got, want);
    let (_tmp, ours) = import("crm79");
    let steps = |c: &str, t: Option<&str>| -> Vec<String> {
        used_by(&ours, c, t)
            .unwrap()
            .into_iter()
            .map(|r| format!("{} ({})", r.sequence, r.step))
            .collect()
    };
    assert_eq!(
        steps("crm", Some("ByName")),
        vec![
            "crm.FindContact (Call_ByName)",
            "crm.FindContact (Loop/Call_ByName_again)"
        ]
    );
    assert_eq!(steps("crm", Some("deleteContact")), Vec::<String>::new());
    assert_eq!(
        steps("archive", None),
        vec!["crm.FindContact (Loop/Call_Archive)"]
    );
    assert!(errors(&ours).is_empty(), "{:?}", errors(&ours));
}

#[test]
fn renaming_a_transaction_rewrites_sequences_and_keeps_test_cases() {
    for (fx, conn, old, new, callers) in [
        ("crm79", "crm", "addContact", "createContact", 1),
        ("crm79", "crm", "ByName", "FindByName", 2),
        ("shop8", "orders", "PostOrder", "SaveOrder", 1),
        // Connector inline in c8oProject.yaml (no _c8oProject/ files).
        ("legacy7", "notes", "save", "store", 0),
    ] {
        let (tmp, ours) = import(fx);
        ops::rename_item(&ours, conn, "transactions", old, new).unwrap();
        assert!(errors(&ours).is_empty(), "{fx}: {:?}", errors(&ours));
        let (out, rep) = export(&tmp, &ours);
        assert!(rep.warnings.is_empty(), "{fx}: {rep:?}");
        let diff = diff_folders(&fixture(fx), &out);
        eprintln!("{fx}: rename {old} -> changed lines {diff:?}");
        // The bean line, and one line per calling step.
        let total: usize = diff.iter().map(|d| d.1).sum();
        assert_eq!(total, 2 + 2 * callers, "{fx}: {diff:?}");
        let p = read_c8o(&out).unwrap();
        let conn_bean = p
            .project()
            .unwrap()
            .beans()
            .find(|b| b.name() == conn)
            .unwrap();
        let tx = conn_bean.beans().find(|b| b.name() == new).unwrap();
        let orig = read_c8o(&fixture(fx)).unwrap();
        let orig_tx = orig
            .project()
            .unwrap()
            .beans()
            .find(|b| b.name() == conn)
            .unwrap()
            .beans()
            .find(|b| b.name() == old)
            .unwrap()
            .clone();
        // Same children: Test Cases, variables and their priorities.
        assert_eq!(tx.children, orig_tx.children, "{fx}");
        let refs = sequence_refs(&p);
        assert_eq!(
            refs.iter()
                .filter(|r| r.value == format!("{}.{conn}.{new}", p.project().unwrap().name()))
                .count(),
            callers,
            "{fx}"
        );
    }
}

#[test]
fn deleting_a_transaction_or_connector_fails_check_naming_the_sequences() {
    let (tmp, ours) = import("crm79");
    ops::delete_item(&ours, "crm", "transactions", "ByName").unwrap();
    let errs = errors(&ours);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0]
            .message
            .contains("transaction `crm.ByName` does not exist")
            && errs[0].message.contains(
                "crm.FindContact (Call_ByName), crm.FindContact (Loop/Call_ByName_again)"
            ),
        "{}",
        errs[0]
    );
    assert!(errs[0]
        .file
        .ends_with("_c8oProject/sequences/FindContact.yaml"));
    assert_eq!(errs[0].line, Some(3));
    // Export goes on (sequences are fixed in Convertigo Studio) and says why it may break.
    let (out, rep) = export(&tmp, &ours);
    assert_eq!(rep.warnings.len(), 1, "{rep:?}");
    assert!(!read(&out.join("_c8oProject/connectors/crm.yaml")).contains("↓ByName ["));
    ops::delete_connector(&ours, "archive").unwrap();
    let errs = errors(&ours);
    assert!(
        errs.iter()
            .any(|e| e.message.contains("connector `archive` does not exist")
                && e.message.contains("crm.FindContact (Loop/Call_Archive)")),
        "{errs:?}"
    );
}

#[test]
fn renaming_a_connector_rewrites_its_bean_file_listeners_and_callers() {
    let (tmp, ours) = import("crm79");
    ops::rename_connector(&ours, "crm", "people").unwrap();
    ops::rename_connector(&ours, "archive", "old_archive").unwrap();
    assert!(errors(&ours).is_empty(), "{:?}", errors(&ours));
    let (out, rep) = export(&tmp, &ours);
    assert!(rep.regenerated.is_empty(), "{rep:?}");
    let root = read(&out.join("c8oProject.yaml"));
    assert!(root.contains("  ↓people [connectors.FullSyncConnector]: 🗏 connectors/people.yaml\r\n"));
    let people = read(&out.join("_c8oProject/connectors/people.yaml"));
    assert!(
        people.contains("databaseName: people\r\n")
            && people.contains("targetView: crm.people.stats.all\r\n")
    );
    assert!(!out.join("_c8oProject/connectors/crm.yaml").exists());
    let seq = read(&out.join("_c8oProject/sequences/FindContact.yaml"));
    assert!(seq.contains("sourceTransaction: crm.people.ByName\r\n"));
    assert!(seq.contains("sourceTransaction: crm.old_archive.GetAll\r\n"));
    // Imported back, the project is the same apart from the names.
    let back = tmp.path().join("back");
    import_c8o(&out, &back).unwrap();
    let (p, _) = load(&back);
    let p = p.unwrap();
    assert_eq!(
        p.connectors
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["old_archive", "people"]
    );
    assert_eq!(
        p.connectors[1].listeners[0].view.as_deref(),
        Some("stats/all")
    );
}

#[test]
fn seven_x_variable_types_are_read_and_set_in_place() {
    let (tmp, ours) = import("crm79");
    let (p, _) = load(&ours);
    let p = p.unwrap();
    let tx = p
        .connector("crm")
        .unwrap()
        .transactions
        .iter()
        .find(|t| t.name == "addContact")
        .unwrap()
        .clone();
    assert_eq!(tx.variables[1].schema_type, "xsd:long");
    let mut t = tx.clone();
    t.variables[1].schema_type = "xsd:int".into();
    ops::save_transaction(&ours, "crm", "addContact", &t).unwrap();
    let (out, _) = export(&tmp, &ours);
    let diff = diff_folders(&fixture("crm79"), &out);
    assert_eq!(
        diff,
        vec![("_c8oProject/connectors/crm.yaml".to_string(), 2)]
    );
    let text = read(&out.join("_c8oProject/connectors/crm.yaml"));
    assert!(text.contains("          - ↑pLocalPart: int\r\n"), "{text}");
    assert!(
        !text.contains("schemaType"),
        "no second type property: {text}"
    );
    // The empty value stays `value: ` and the comment stays.
    assert!(
        text.contains("    comment: Full name\r\n    value: \r\n"),
        "{text}"
    );
}

#[test]
fn bean_order_is_kept_and_new_beans_go_in_convertigo_order() {
    let (tmp, ours) = import("crm79");
    write(
        &ours,
        "connectors/crm/transactions/cleanup.toml",
        "type = \"PurgeDatabase\"\n",
    );
    let t = read(&ours.join("connectors/crm/transactions/addContact.toml"));
    write(
        &ours,
        "connectors/crm/transactions/addContact.toml",
        &t.replace("\"merge\"", "\"override\""),
    );
    let (out, _) = export(&tmp, &ours);
    let text = read(&out.join("_c8oProject/connectors/crm.yaml"));
    let order: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("↓"))
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(
        order,
        [
            "↓addContact",
            "↓ByName",
            "↓cleanup",
            "↓deleteContact",
            "↓OnContact",
            "↓contacts",
            "↓stats"
        ]
    );
    let diff = diff_folders(&fixture("crm79"), &out);
    // `policy` changed (2 lines) and the new bean (1 line).
    assert_eq!(
        diff,
        vec![("_c8oProject/connectors/crm.yaml".to_string(), 3)]
    );
}

#[test]
fn check_reports_what_convertigo_would_trip_on() {
    // A GetView transaction whose default view does not exist (kept read-only by import).
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    for (rel, text) in read_c8o(&fixture("crm79")).unwrap().files {
        let p = src.join(&rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(
            p,
            text.replace("viewname: contacts/by_name", "viewname: contacts/gone"),
        )
        .unwrap();
    }
    let ours = tmp.path().join("ours");
    import_c8o(&src, &ours).unwrap();
    let errs = errors(&ours);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].message.contains("GetView transaction `ByName`")
            && errs[0].message.contains("`contacts/gone`"),
        "{}",
        errs[0]
    );
    // Creating the view fixes it.
    ops::create_view(
        &ours,
        "crm",
        "contacts",
        "gone",
        "function (doc) { emit(doc._id, null); }",
        None,
    )
    .unwrap();
    assert!(errors(&ours).is_empty(), "{:?}", errors(&ours));

    // A listener whose view does not emit doc._id; an unknown sequence names the closest.
    let (_t2, ours) = import("crm79");
    write(
        &ours,
        "connectors/crm/listeners/OnContact.toml",
        "kind = \"update\"\nview = \"contacts/by_name\"\n[target]\nsequence = \"crm.SaveContac\"\n",
    );
    let (_, d) = load(&ours);
    let warn = d
        .iter()
        .find(|x| x.severity == Severity::Warning && x.message.contains("does not emit(doc._id"))
        .expect("warning");
    assert!(warn.message.contains("listener `OnContact`"), "{warn}");
    let seq = d
        .iter()
        .find(|x| x.message.contains("crm.SaveContac`"))
        .expect("unknown sequence");
    assert!(
        seq.hint.contains("did you mean `crm.SaveContact`?"),
        "{seq}"
    );

    // A design document whose docdata is not JSON is reported by check, not only at import.
    let src = tmp.path().join("src2");
    for (rel, text) in read_c8o(&fixture("shop8")).unwrap().files {
        let p = src.join(&rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(
            p,
            text.replace("\"reduce\": \"_count\"", "\"reduce\": _count"),
        )
        .unwrap();
    }
    let ours = tmp.path().join("ours2");
    import_c8o(&src, &ours).unwrap();
    let (_, d) = load(&ours);
    assert!(
        d.iter()
            .any(|x| x.message.contains("`shop/orders/app`") && x.message.contains("not JSON")),
        "{d:?}"
    );
}

#[test]
fn a_pre_yaml_project_gets_a_hint() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "legacy.xml", "<convertigo/>");
    let e = import_c8o(tmp.path(), &tmp.path().join("out"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("legacy.xml")
            && e.contains("pre-YAML")
            && e.contains("Convertigo Studio 7.x or later"),
        "{e}"
    );
}

#[test]
fn kept_properties_are_listed_for_the_sheets() {
    use fullsync_project::c8o_kept::kept_properties;
    let (_tmp, ours) = import("crm79");
    let got: Vec<(String, String, String)> = kept_properties(&ours, "crm", None)
        .unwrap()
        .into_iter()
        .map(|k| (k.owner, k.key, k.value))
        .collect();
    let s = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    assert_eq!(
        got,
        vec![
            s("connector", "comment", "Contacts of the CRM"),
            s("connector", "databaseName", "crm"),
            s("connector", "secureDatabase", "true"),
        ]
    );
    let got: Vec<(String, String, String)> = kept_properties(&ours, "crm", Some("addContact"))
        .unwrap()
        .into_iter()
        .map(|k| (k.owner, k.key, k.value))
        .collect();
    assert_eq!(
        got,
        vec![
            s("variable name", "comment", "Full name"),
            s("variable age", "visibility", "1"),
            s("variable age", "xmlTypeAffectation", "xsd:long"),
        ]
    );
}

#[test]
fn a_transaction_file_renamed_outside_the_studio_keeps_its_bean() {
    let (tmp, ours) = import("crm79");
    let dir = ours.join("connectors/crm/transactions");
    std::fs::rename(dir.join("addContact.toml"), dir.join("newContact.toml")).unwrap();
    // The Convertigo copy was not told: its step still calls addContact, and check says so.
    let errs = errors(&ours);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].message.contains("crm.SaveContact (Call_Add)"),
        "{}",
        errs[0]
    );
    let (out, rep) = export(&tmp, &ours);
    assert_eq!(rep.warnings.len(), 1, "{rep:?}");
    let diff = diff_folders(&fixture("crm79"), &out);
    assert_eq!(
        diff,
        vec![("_c8oProject/connectors/crm.yaml".to_string(), 2)]
    );
    let text = read(&out.join("_c8oProject/connectors/crm.yaml"));
    assert!(text.contains("↓newContact [transactions.couchdb.PostDocumentTransaction]: \r\n  policy: merge\r\n  ↓Test_Case [core.TestCase]: "), "{text}");
}
