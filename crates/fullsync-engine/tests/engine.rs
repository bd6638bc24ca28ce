//! Behaviour of the engine through its public API.

use fullsync_engine::{
    parse_doc, AllDocsOptions, ChangesFilter, ChangesOptions, Database, Engine, Error, OpenRev,
    OpenRevs, ReadOptions, Rev, UserCtx,
};
use proptest::prelude::*;
use serde_json::{json, Value};

fn u() -> UserCtx {
    UserCtx::default()
}

fn put(db: &Database, v: Value) -> Result<String, Error> {
    db.put(parse_doc(v, None, &mut |_| None)?, &u())
}

fn put_replicated(db: &Database, v: Value) {
    let r = db.bulk_docs_json(vec![v], false, &u()).unwrap();
    r[0].result.as_ref().unwrap();
}

fn get(db: &Database, id: &str) -> Value {
    db.get(id, None, &ReadOptions::default()).unwrap()
}

fn leaves(db: &Database, id: &str) -> Vec<String> {
    let mut v: Vec<String> = db
        .open_revs(id, &OpenRevs::All, &ReadOptions::default())
        .unwrap()
        .into_iter()
        .map(|r| match r {
            OpenRev::Ok(d) => d["_rev"].as_str().unwrap().to_string(),
            OpenRev::Missing(m) => panic!("missing {m}"),
        })
        .collect();
    v.sort();
    v
}

#[test]
fn create_update_conflict_delete_recreate() {
    let e = Engine::in_memory();
    let db = e.create_db("t").unwrap();
    let r1 = put(&db, json!({"_id": "a", "v": 1})).unwrap();
    assert!(r1.starts_with("1-"));
    assert!(matches!(
        put(&db, json!({"_id": "a", "v": 2})),
        Err(Error::Conflict)
    ));
    let r2 = put(&db, json!({"_id": "a", "_rev": r1, "v": 2})).unwrap();
    assert!(r2.starts_with("2-"));
    assert!(matches!(
        put(&db, json!({"_id": "a", "_rev": r1, "v": 3})),
        Err(Error::Conflict)
    ));
    assert_eq!(get(&db, "a")["v"], 2);
    let r3 = put(&db, json!({"_id": "a", "_rev": r2, "_deleted": true})).unwrap();
    assert!(r3.starts_with("3-"));
    match db.get("a", None, &ReadOptions::default()) {
        Err(Error::NotFound(r)) => assert_eq!(r, "deleted"),
        other => panic!("{other:?}"),
    }
    // The tombstone is readable by rev.
    let t = db
        .get(
            "a",
            Some(&Rev::parse(&r3).unwrap()),
            &ReadOptions::default(),
        )
        .unwrap();
    assert_eq!(t["_deleted"], true);
    // Recreating without a rev extends the tombstone.
    let r4 = put(&db, json!({"_id": "a", "v": 4})).unwrap();
    assert!(r4.starts_with("4-"));
    let info = db.info().unwrap();
    assert_eq!(
        (info.doc_count, info.doc_del_count, info.update_seq),
        (1, 0, 4)
    );
    // revs and revs_info
    let d = db
        .get(
            "a",
            None,
            &ReadOptions {
                revs: true,
                revs_info: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(d["_revisions"]["start"], 4);
    assert_eq!(d["_revisions"]["ids"].as_array().unwrap().len(), 4);
    assert_eq!(d["_revs_info"][1]["status"], "deleted");
    assert_eq!(d["_revs_info"][2]["status"], "available");
}

#[test]
fn same_edit_gives_same_rev_on_two_replicas() {
    let (e1, e2) = (Engine::in_memory(), Engine::in_memory());
    let (a, b) = (e1.create_db("x").unwrap(), e2.create_db("x").unwrap());
    let ra = put(&a, json!({"_id": "d", "k": [1, 2]})).unwrap();
    let rb = put(&b, json!({"_id": "d", "k": [1, 2]})).unwrap();
    assert_eq!(ra, rb);
    let ra2 = put(&a, json!({"_id": "d", "_rev": ra, "k": 3})).unwrap();
    let rb2 = put(&b, json!({"_id": "d", "_rev": rb, "k": 3})).unwrap();
    assert_eq!(ra2, rb2);
    assert_ne!(
        put(&a, json!({"_id": "e", "k": 1})).unwrap(),
        put(&b, json!({"_id": "e", "k": 2})).unwrap()
    );
}

#[test]
fn replicated_conflicts_and_winner() {
    let e = Engine::in_memory();
    let db = e.create_db("t").unwrap();
    put_replicated(
        &db,
        json!({"_id": "c", "_rev": "2-b", "_revisions": {"start": 2, "ids": ["b", "a"]}, "v": "b"}),
    );
    put_replicated(
        &db,
        json!({"_id": "c", "_rev": "2-c", "_revisions": {"start": 2, "ids": ["c", "a"]}, "v": "c"}),
    );
    put_replicated(
        &db,
        json!({"_id": "c", "_rev": "3-d", "_revisions": {"start": 3, "ids": ["d", "b", "a"]}, "_deleted": true}),
    );
    // 2-c (live) beats 3-d (deleted).
    let d = db
        .get(
            "c",
            None,
            &ReadOptions {
                conflicts: true,
                deleted_conflicts: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(d["_rev"], "2-c");
    assert_eq!(d.get("_conflicts"), None);
    assert_eq!(d["_deleted_conflicts"], json!(["3-d"]));
    assert_eq!(leaves(&db, "c"), vec!["2-c", "3-d"]);
    // Writing an existing revision again changes nothing.
    let seq = db.update_seq();
    put_replicated(&db, json!({"_id": "c", "_rev": "2-c", "v": "other"}));
    assert_eq!(db.update_seq(), seq);
    assert_eq!(get(&db, "c")["v"], "c");
    // Higher generation wins among live leaves: 10 > 9 numerically.
    put_replicated(&db, json!({"_id": "n", "_rev": "9-z"}));
    put_replicated(&db, json!({"_id": "n", "_rev": "10-a"}));
    assert_eq!(get(&db, "n")["_rev"], "10-a");
    // Updating a losing leaf is allowed; updating a non-leaf is a conflict.
    assert!(put(&db, json!({"_id": "c", "_rev": "2-b", "v": 1})).is_err());
    let d = db.get(
        "c",
        Some(&Rev::parse("2-b").unwrap()),
        &ReadOptions::default(),
    );
    assert!(d.is_ok(), "2-b body kept until compaction");
}

#[test]
fn stemming_follows_revs_limit() {
    let e = Engine::in_memory();
    let db = e.create_db("t").unwrap();
    db.set_revs_limit(3).unwrap();
    let mut rev = put(&db, json!({"_id": "s", "i": 0})).unwrap();
    for i in 1..10 {
        rev = put(&db, json!({"_id": "s", "_rev": rev, "i": i})).unwrap();
    }
    let d = db
        .get(
            "s",
            None,
            &ReadOptions {
                revs: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(d["_revisions"]["start"], 10);
    assert_eq!(d["_revisions"]["ids"].as_array().unwrap().len(), 3);
    assert_eq!(db.record("s").unwrap().unwrap().tree.nodes.len(), 3);
}

#[test]
fn attachments_stubs_digests_revpos() {
    let e = Engine::in_memory();
    let db = e.create_db("t").unwrap();
    let r1 = put(&db, json!({"_id": "a", "_attachments": {"f.txt": {"content_type": "text/plain", "data": "aGVsbG8="}}}))
        .unwrap();
    let d = get(&db, "a");
    assert_eq!(
        d["_attachments"]["f.txt"]["digest"],
        "md5-XUFAKrxLKna5cZ2REBfFkg=="
    );
    assert_eq!(d["_attachments"]["f.txt"]["stub"], true);
    assert_eq!(d["_attachments"]["f.txt"]["length"], 5);
    assert_eq!(d["_attachments"]["f.txt"]["revpos"], 1);
    // A stub keeps it; revpos stays 1.
    let r2 = put(&db, json!({"_id": "a", "_rev": r1, "x": 1, "_attachments": {"f.txt": {"stub": true}, "g": {"data": "AAE="}}}))
        .unwrap();
    let d = db
        .get(
            "a",
            None,
            &ReadOptions {
                attachments: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(d["_attachments"]["f.txt"]["revpos"], 1);
    assert_eq!(d["_attachments"]["f.txt"]["data"], "aGVsbG8=");
    assert_eq!(d["_attachments"]["g"]["revpos"], 2);
    // atts_since: only attachments newer than the given rev are inlined.
    let d = db
        .get(
            "a",
            None,
            &ReadOptions {
                atts_since: vec![Rev::parse(&r1).unwrap()],
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(d["_attachments"]["f.txt"]["stub"], true);
    assert_eq!(d["_attachments"]["g"]["data"], "AAE=");
    let (meta, data) = db.attachment("a", "g", None).unwrap();
    assert_eq!(
        (meta.content_type.as_str(), data),
        ("application/octet-stream", vec![0u8, 1])
    );
    // A stub that does not exist is 412 missing_stub.
    let err = put(
        &db,
        json!({"_id": "a", "_rev": r2, "_attachments": {"nope": {"stub": true}}}),
    )
    .unwrap_err();
    assert_eq!(err.status(), 412);
    // Omitting _attachments removes them.
    put(&db, json!({"_id": "a", "_rev": r2})).unwrap();
    assert!(get(&db, "a").get("_attachments").is_none());
    assert!(db.attachment("a", "g", None).is_err());
}

#[test]
fn local_docs() {
    let e = Engine::in_memory();
    let db = e.create_db("t").unwrap();
    let r = put(&db, json!({"_id": "_local/cp", "seq": 1})).unwrap();
    assert_eq!(r, "0-1");
    assert!(matches!(
        put(&db, json!({"_id": "_local/cp", "seq": 2})),
        Err(Error::Conflict)
    ));
    let r = put(&db, json!({"_id": "_local/cp", "_rev": "0-1", "seq": 2})).unwrap();
    assert_eq!(r, "0-2");
    assert_eq!(db.get_local("_local/cp").unwrap()["seq"], 2);
    // Not in changes nor all_docs; no seq bump.
    assert_eq!(db.update_seq(), 0);
    assert_eq!(db.all_docs(&AllDocsOptions::default()).unwrap().2.len(), 0);
    db.delete_local("_local/cp", Some("0-2")).unwrap();
    assert!(db.get_local("_local/cp").is_err());
}

#[test]
fn changes_feed_options() {
    let e = Engine::in_memory();
    let db = e.create_db("t").unwrap();
    for i in 0..5 {
        put(&db, json!({"_id": format!("d{i}")})).unwrap();
    }
    let r = db.get("d1", None, &ReadOptions::default()).unwrap()["_rev"]
        .as_str()
        .unwrap()
        .to_string();
    put(&db, json!({"_id": "d1", "_rev": r, "_deleted": true})).unwrap();
    let c = db.changes(&ChangesOptions::default()).unwrap();
    let ids: Vec<&str> = c
        .results
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["d0", "d2", "d3", "d4", "d1"]);
    assert_eq!(c.last_seq, 6);
    assert_eq!(c.results[4]["deleted"], true);
    let c = db
        .changes(&ChangesOptions {
            since: 3,
            limit: Some(1),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(c.results.len(), 1);
    assert_eq!(c.results[0]["seq"], 4);
    assert_eq!(c.last_seq, 4);
    let c = db
        .changes(&ChangesOptions {
            descending: true,
            limit: Some(2),
            ..Default::default()
        })
        .unwrap();
    let ids: Vec<&str> = c
        .results
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["d1", "d4"]);
    let c = db
        .changes(&ChangesOptions {
            filter: ChangesFilter::DocIds(["d3".to_string()].into_iter().collect()),
            include_docs: true,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(c.results.len(), 1);
    assert_eq!(c.results[0]["doc"]["_id"], "d3");
    assert_eq!(c.last_seq, 6);
}

#[test]
fn all_docs_ranges() {
    let e = Engine::in_memory();
    let db = e.create_db("t").unwrap();
    for id in ["b", "a", "c", "_design/x", "B", "é"] {
        put(&db, json!({"_id": id})).unwrap();
    }
    let ids = |o: AllDocsOptions| -> (u64, Vec<String>) {
        let (_, off, rows) = db.all_docs(&o).unwrap();
        (
            off,
            rows.iter()
                .map(|r| r["key"].as_str().unwrap_or("?").to_string())
                .collect(),
        )
    };
    // Raw byte order.
    assert_eq!(
        ids(AllDocsOptions {
            inclusive_end: true,
            ..Default::default()
        })
        .1,
        vec!["B", "_design/x", "a", "b", "c", "é"]
    );
    assert_eq!(
        ids(AllDocsOptions {
            start: Some("a".into()),
            end: Some("c".into()),
            inclusive_end: false,
            ..Default::default()
        }),
        (2, vec!["a".to_string(), "b".to_string()])
    );
    assert_eq!(
        ids(AllDocsOptions {
            start: Some("b".into()),
            end: Some("a".into()),
            descending: true,
            inclusive_end: true,
            ..Default::default()
        })
        .1,
        vec!["b", "a"]
    );
    assert_eq!(
        ids(AllDocsOptions {
            skip: 1,
            limit: Some(2),
            inclusive_end: true,
            ..Default::default()
        }),
        (1, vec!["_design/x".to_string(), "a".to_string()])
    );
    let (_, _, rows) = db
        .all_docs(&AllDocsOptions {
            keys: Some(vec![json!("c"), json!("zz")]),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(rows[0]["id"], "c");
    assert_eq!(rows[1], json!({"key": "zz", "error": "not_found"}));
}

#[test]
fn purge_and_compact() {
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(dir.path()).unwrap();
    let db = e.create_db("t").unwrap();
    let r1 = put(
        &db,
        json!({"_id": "p", "_attachments": {"a": {"data": "AAAA"}}}),
    )
    .unwrap();
    let r2 = put(&db, json!({"_id": "p", "_rev": r1, "v": 2})).unwrap();
    db.compact().unwrap();
    // Old body gone after compaction; leaf stays.
    assert!(db
        .get(
            "p",
            Some(&Rev::parse(&r1).unwrap()),
            &ReadOptions::default()
        )
        .is_err());
    assert_eq!(get(&db, "p")["v"], 2);
    let (_, purged) = db.purge(json!({"p": [r2]}).as_object().unwrap()).unwrap();
    assert_eq!(purged["p"].as_array().unwrap().len(), 1);
    assert!(db.record("p").unwrap().is_none());
    assert_eq!(db.info().unwrap().doc_count, 0);
}

#[test]
fn data_survives_reopen_and_uuid_is_stable() {
    let dir = tempfile::tempdir().unwrap();
    let uuid;
    {
        let e = Engine::open(dir.path()).unwrap();
        uuid = e.uuid().to_string();
        let db = e.create_db("a/b").unwrap();
        put(&db, json!({"_id": "x", "v": 1})).unwrap();
        assert!(matches!(e.create_db("a/b"), Err(Error::DbExists)));
        assert!(matches!(e.create_db("Bad"), Err(Error::IllegalDbName(_))));
    }
    let e = Engine::open(dir.path()).unwrap();
    assert_eq!(e.uuid(), uuid);
    assert_eq!(e.all_dbs().unwrap(), vec!["a/b"]);
    assert_eq!(get(&e.db("a/b").unwrap(), "x")["v"], 1);
    e.delete_db("a/b").unwrap();
    assert!(matches!(e.db("a/b"), Err(Error::DbNotFound)));
}

/// Copies every leaf (with full history) of `src` into `dst`, as a replicator would.
fn replicate(src: &Database, dst: &Database) {
    let mut docs = vec![];
    src.for_each_record(|id, _| {
        docs.push(id.to_string());
        Ok(true)
    })
    .unwrap();
    for id in docs {
        for r in src
            .open_revs(
                &id,
                &OpenRevs::All,
                &ReadOptions {
                    revs: true,
                    ..Default::default()
                },
            )
            .unwrap()
        {
            if let OpenRev::Ok(d) = r {
                put_replicated(dst, d);
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Edit { replica: usize, doc: u8, value: u8 },
    Delete { replica: usize, doc: u8 },
    Sync { from: usize, to: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..3usize, 0..4u8, 0..3u8).prop_map(|(replica, doc, value)| Op::Edit { replica, doc, value }),
        1 => (0..3usize, 0..4u8).prop_map(|(replica, doc)| Op::Delete { replica, doc }),
        2 => (0..3usize, 0..3usize).prop_map(|(from, to)| Op::Sync { from, to }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    /// Random edits on three replicas, random partial syncs, then a full sync in two different
    /// orders: every replica ends with the same leaves and the same winner.
    #[test]
    fn replicas_converge(ops in proptest::collection::vec(op(), 1..40)) {
        let engines: Vec<Engine> = (0..3).map(|_| Engine::in_memory()).collect();
        let dbs: Vec<_> = engines.iter().map(|e| e.create_db("p").unwrap()).collect();
        for op in &ops {
            match *op {
                Op::Edit { replica, doc, value } => {
                    let db = &dbs[replica];
                    let id = format!("d{doc}");
                    let cur = db.get(&id, None, &ReadOptions::default()).ok();
                    let mut v = json!({"_id": id, "v": value});
                    if let Some(c) = cur { v["_rev"] = c["_rev"].clone(); }
                    put(db, v).unwrap();
                }
                Op::Delete { replica, doc } => {
                    let db = &dbs[replica];
                    let id = format!("d{doc}");
                    if let Ok(c) = db.get(&id, None, &ReadOptions::default()) {
                        put(db, json!({"_id": id, "_rev": c["_rev"], "_deleted": true})).unwrap();
                    }
                }
                Op::Sync { from, to } if from != to => replicate(&dbs[from], &dbs[to]),
                Op::Sync { .. } => {}
            }
        }
        // Full sync, in a different order for each target.
        replicate(&dbs[0], &dbs[1]); replicate(&dbs[2], &dbs[1]);
        replicate(&dbs[2], &dbs[0]); replicate(&dbs[1], &dbs[0]);
        replicate(&dbs[1], &dbs[2]);
        for doc in 0..4u8 {
            let id = format!("d{doc}");
            let state = |db: &Database| db.record(&id).unwrap().map(|r| {
                let mut l: Vec<String> = r.tree.leaves().iter().map(|&i| r.tree.nodes[i].rev().to_string()).collect();
                l.sort();
                (l, r.tree.nodes[r.tree.winner()].rev().to_string())
            });
            let s0 = state(&dbs[0]);
            prop_assert_eq!(&s0, &state(&dbs[1]));
            prop_assert_eq!(&s0, &state(&dbs[2]));
        }
    }
}

#[test]
fn huge_generations_are_rejected_not_overflowed() {
    // Found by reading the fuzz target's code: a replicated u64::MAX generation then an edit.
    let e = Engine::in_memory();
    let db = e.create_db("t").unwrap();
    let r = db
        .bulk_docs_json(
            vec![json!({"_id": "a", "_rev": "18446744073709551615-x"})],
            false,
            &u(),
        )
        .unwrap();
    assert_eq!(
        r[0].result.as_ref().unwrap_err().couch_error(),
        "bad_request"
    );
    let r = db
        .bulk_docs_json(
            vec![json!({"_id": "a", "_rev": "9007199254740992-x"})],
            false,
            &u(),
        )
        .unwrap();
    assert!(
        r[0].result.is_ok(),
        "2^53 is the largest accepted generation"
    );
    let err = put(
        &db,
        json!({"_id": "a", "_rev": "9007199254740992-x", "v": 1}),
    );
    assert!(err.is_ok() || err.unwrap_err().status() == 400);
    db.for_each_record(|_, _| Ok(true)).unwrap();
}
