//! The studio's file commands on a project with symbolic links leading outside its root: reads
//! and writes through them are refused with a message naming the link, and edits are refused
//! while such a link exists.

#![cfg(unix)]

use std::os::unix::fs::symlink;
use std::path::Path;
use std::sync::Arc;

use fullsync_api::{ErrorCode, Studio};
use fullsync_engine::Engine;
use serde_json::{json, Value};

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

#[test]
fn file_commands_refuse_links_leading_outside_the_project() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("p");
    let outside = dir.path().join("home");
    write(&root, "fullsync.toml", "[project]\nname = \"p\"\n");
    write(
        &root,
        "connectors/db/design/app/views/v/map.js",
        "function (doc) { emit(doc._id, null); }\n",
    );
    write(&outside, "notes/secret.txt", "SECRET");
    symlink(outside.join("notes"), root.join("linked-folder")).unwrap();
    symlink(
        outside.join("notes/secret.txt"),
        root.join("linked-file.txt"),
    )
    .unwrap();
    symlink(
        root.join("connectors/db/design/app/views/v/map.js"),
        root.join("inside.js"),
    )
    .unwrap();

    let engine = Arc::new(Engine::in_memory());
    let views = Arc::new(fullsync_views::Views::new(engine.clone()));
    let s = Studio::new(engine, views);
    let open = json!({"cmd": "project_open", "args": {"path": root.display().to_string()}});
    s.handle_json(open).unwrap();

    let read = |path: &str| s.handle_json(json!({"cmd": "file_read", "args": {"path": path}}));
    for (path, link) in [
        ("linked-folder/secret.txt", "linked-folder"),
        ("linked-file.txt", "linked-file.txt"),
    ] {
        let e = read(path).unwrap_err();
        assert_eq!(e.code, ErrorCode::Forbidden, "{path}: {e}");
        assert!(e.message.contains(&format!("`{link}`")), "{e}");
        assert!(!e.message.contains("SECRET"), "{e}");
        assert!(!e.message.contains(&*outside.to_string_lossy()), "{e}");
    }
    // A link inside the project is followed.
    let ok: Value = read("inside.js").unwrap();
    assert!(ok["text"].as_str().unwrap().contains("emit"));

    // Writing through a link is refused, and the outside file is unchanged.
    let e = s
        .handle_json(json!({"cmd": "file_write", "args": {"path": "linked-file.txt", "text": "x"}}))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    assert_eq!(
        std::fs::read_to_string(outside.join("notes/secret.txt")).unwrap(),
        "SECRET"
    );

    // Explorer edits are refused while the project has such a link.
    let e = s
        .handle_json(json!({"cmd": "project_edit", "args": {"op": "create", "kind": "view", "connector": "db", "ddoc": "app", "name": "w"}}))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    assert!(e.message.contains("`linked-f"), "{e}");
}
