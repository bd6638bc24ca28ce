//! Backup then restore gives an identical database; bad files change nothing.

use std::sync::Arc;

use fullsync_deploy::backup::{backup, restore, verify, BackupError};
use fullsync_engine::{parse_doc, Database, Engine, ReadOptions, UserCtx};
use fullsync_replicate::{LocalPeer, Peer};
use serde_json::{json, Value};

fn put(db: &Database, v: Value) -> String {
    db.put(
        parse_doc(v, None, &mut |_| None).unwrap(),
        &UserCtx::default(),
    )
    .unwrap()
}

fn state(db: &Database) -> Vec<(String, Vec<String>, String, Vec<String>)> {
    let mut out = vec![];
    db.for_each_record(|id, rec| {
        let mut leaves: Vec<String> = rec
            .tree
            .leaves()
            .iter()
            .map(|&i| rec.tree.nodes[i].rev().to_string())
            .collect();
        leaves.sort();
        let win = rec.tree.nodes[rec.tree.winner()].rev().to_string();
        let atts = match &rec.tree.nodes[rec.tree.winner()].body {
            fullsync_engine::tree::BodyState::Inline(b) => {
                b.atts.iter().map(|a| a.digest.clone()).collect()
            }
            _ => vec![],
        };
        out.push((id.to_string(), leaves, win, atts));
        Ok(true)
    })
    .unwrap();
    out
}

fn populated(engine: &Arc<Engine>) -> Arc<Database> {
    let db = engine.create_db("src").unwrap();
    for i in 0..1000 {
        let mut d = json!({"_id": format!("d{i:04}"), "i": i, "text": "é ✓ \"quoted\""});
        if i % 10 == 0 {
            d["_attachments"] =
                json!({"a.bin": {"content_type": "application/octet-stream", "data": "AAECAwQ="}});
        }
        put(&db, d);
    }
    // Conflicts and deletions.
    db.bulk_docs_json((0..50).map(|i| json!({"_id": format!("d{i:04}"), "_rev": format!("2-conflict{i}"), "_revisions": {"start": 2, "ids": [format!("conflict{i}"), "x"]}, "side": "b"})).collect(), false, &UserCtx::default()).unwrap();
    for i in 100..150 {
        let id = format!("d{i:04}");
        let rev = db.get(&id, None, &ReadOptions::default()).unwrap()["_rev"].clone();
        put(&db, json!({"_id": id, "_rev": rev, "_deleted": true}));
    }
    db
}

#[test]
fn backup_then_restore_is_identical_plain_and_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(Engine::in_memory());
    let src = populated(&engine);
    let sp: Arc<dyn Peer> = Arc::new(LocalPeer::new(engine.clone(), "src", None));
    for name in ["b.json", "b.json.gz"] {
        let file = dir.path().join(name);
        let n = backup(&*sp, &file, &mut |_, _| {}).unwrap();
        assert_eq!(n, 1050, "every leaf revision");
        assert_eq!(verify(&file).unwrap(), 1050);
        let target = format!("dst{}", name.len());
        let tp: Arc<dyn Peer> = Arc::new(LocalPeer::new(engine.clone(), &target, None));
        let mut steps = 0;
        let written = restore(&file, &*tp, &mut || Ok(()), &mut |_, _| steps += 1).unwrap();
        assert_eq!(written, 1050);
        assert!(steps > 1, "progress reported");
        let dst = engine.db(&target).unwrap();
        assert_eq!(state(&dst), state(&src));
        assert_eq!(dst.info().unwrap().doc_del_count, 50);
        let (_, data) = dst.attachment("d0060", "a.bin", None).unwrap();
        assert_eq!(data, vec![0, 1, 2, 3, 4]);
    }
}

#[test]
fn corrupt_or_truncated_files_leave_the_target_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(Engine::in_memory());
    populated(&engine);
    let sp: Arc<dyn Peer> = Arc::new(LocalPeer::new(engine.clone(), "src", None));
    let good = dir.path().join("good.json");
    backup(&*sp, &good, &mut |_, _| {}).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let target = engine.create_db("target").unwrap();
    put(&target, json!({"_id": "keep-me"}));
    let tp: Arc<dyn Peer> = Arc::new(LocalPeer::new(engine.clone(), "target", None));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated.json", bytes[..bytes.len() / 2].to_vec()),
        ("garbage.json", b"hello, not json".to_vec()),
        ("nodocs.json", b"{\"new_edits\": false}".to_vec()),
        ("badgz.json.gz", bytes[..100].to_vec()),
        ("noid.json", b"{\"docs\": [{\"x\": 1}]}".to_vec()),
    ];
    for (name, content) in cases {
        let f = dir.path().join(name);
        std::fs::write(&f, content).unwrap();
        let mut recreated = false;
        let e = restore(
            &f,
            &*tp,
            &mut || {
                recreated = true;
                Ok(())
            },
            &mut |_, _| {},
        )
        .unwrap_err();
        assert!(matches!(e, BackupError::BadFile { .. }), "{name}: {e}");
        assert!(e.to_string().contains("nothing was written"), "{e}");
        assert!(!recreated, "{name}: the target was not prepared");
        assert_eq!(
            target.info().unwrap().doc_count,
            1,
            "{name}: target untouched"
        );
    }
}
