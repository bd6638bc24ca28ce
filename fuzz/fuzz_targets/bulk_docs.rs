//! Fuzzes JSON parsing, revision parsing and `_bulk_docs` (both `new_edits` modes): any input
//! must give documents or errors, never a panic, and leave a readable database.
#![no_main]

use fullsync_engine::{Engine, OpenRevs, ReadOptions, Rev, UserCtx};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = Rev::parse(s);
    }
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let docs = match v {
        serde_json::Value::Array(a) => a,
        other => vec![other],
    };
    let engine = Engine::in_memory();
    let db = engine.create_db("fuzz").unwrap();
    let user = UserCtx::default();
    let _ = db.bulk_docs_json(docs.clone(), true, &user);
    let _ = db.bulk_docs_json(docs.clone(), false, &user);
    // Edit again on top of what replication wrote (e.g. a replicated rev with a huge generation).
    let _ = db.bulk_docs_json(docs, true, &user);
    // Everything written must read back.
    let mut ids = vec![];
    db.for_each_record(|id, _| {
        ids.push(id.to_string());
        Ok(true)
    })
    .unwrap();
    for id in ids {
        db.open_revs(&id, &OpenRevs::All, &ReadOptions { revs: true, revs_info: true, ..Default::default() })
            .unwrap();
    }
    db.changes(&Default::default()).unwrap();
});
