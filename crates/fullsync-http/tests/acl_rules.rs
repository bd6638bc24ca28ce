//! The FullSync access rules as an attacker meets them: every write rule of docs/design.md
//! ("FullSync access rules") as a table of requests with the status each must get, then the
//! system databases, the admin party, `_local` checkpoints, `_missing_revs`, database counts,
//! and the leaves a user's replicator is told about.
//!
//! Users: alice (group `team.a`), bob (groups `team.a`, `team.b`), carol (no group).
//! Database `fs` is a FullSync database that allows anonymous clients.

use fullsync_http::ServerConfig;
use fullsync_testkit::TestServer;
use serde_json::{json, Value};

const ADMIN: Option<(&str, &str)> = Some(("admin", "secret"));
const ALICE: Option<(&str, &str)> = Some(("alice", "pw-a"));
const BOB: Option<(&str, &str)> = Some(("bob", "pw-b"));
const CAROL: Option<(&str, &str)> = Some(("carol", "pw-c"));

struct Server {
    s: TestServer,
}

impl Server {
    /// A server as `fullsync serve` runs without `--admin`: a local admin, and the admin
    /// party for clients without credentials.
    async fn new() -> Server {
        let cfg = ServerConfig {
            admin: Some(("admin".into(), "secret".into())),
            admin_party: true,
            ..Default::default()
        };
        let s = Server {
            s: TestServer::in_memory(cfg),
        };
        s.call("PUT", "/_users", ADMIN, None).await;
        for (u, pw, roles) in [
            ("alice", "pw-a", json!(["team.a"])),
            ("bob", "pw-b", json!(["team.a"])),
            ("carol", "pw-c", json!([])),
        ] {
            let (st, _) = s
                .call(
                    "PUT",
                    &format!("/_users/org.couchdb.user:{u}"),
                    ADMIN,
                    Some(json!({"name": u, "password": pw, "roles": roles, "type": "user"})),
                )
                .await;
            assert_eq!(st, 201);
        }
        s.call("PUT", "/c8ofullsyncgrp", ADMIN, None).await;
        let (st, _) = s
            .call(
                "POST",
                "/c8ofullsyncgrp",
                ADMIN,
                Some(json!({"type": "c8oGrp", "user": "bob", "group": "team.b"})),
            )
            .await;
        assert_eq!(st, 201);
        for (db, anonymous) in [("fs", "allow"), ("closed", "deny")] {
            s.call("PUT", &format!("/{db}"), ADMIN, None).await;
            s.call(
                "PUT",
                &format!("/{db}/_security"),
                ADMIN,
                Some(json!({"fullsync": {"anonymous": anonymous}})),
            )
            .await;
        }
        s
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        user: Option<(&str, &str)>,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.s.json_as(user, method, path, body).await
    }

    async fn raw(
        &self,
        method: &str,
        path: &str,
        user: Option<(&str, &str)>,
        ctype: &str,
        body: Option<Vec<u8>>,
    ) -> (u16, Value) {
        let r = self
            .s
            .request_as(
                user,
                method,
                path,
                &[("content-type", ctype)],
                body.unwrap_or_default(),
            )
            .await;
        (r.status, r.json())
    }

    /// The access keys of the winning revision of `fs/id`, read as admin (deleted or not).
    async fn keys(&self, id: &str) -> Value {
        let (_, v) = self
            .call("GET", &format!("/fs/{id}?open_revs=all"), ADMIN, None)
            .await;
        let (_, info) = self
            .call(
                "GET",
                &format!("/fs/_all_docs?keys=%5B%22{id}%22%5D"),
                ADMIN,
                None,
            )
            .await;
        let win = info["rows"][0]["value"]["rev"].clone();
        let doc = v
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| &r["ok"])
            .find(|d| d["_rev"] == win)
            .cloned()
            .unwrap_or(Value::Null);
        keys_of(&doc)
    }
}

fn keys_of(doc: &Value) -> Value {
    let mut k = serde_json::Map::new();
    for key in ["~c8oAcl", "c8oGrp"] {
        if let Some(v) = doc.get(key) {
            k.insert(key.into(), v.clone());
        }
    }
    Value::Object(k)
}

/// What the attacker sends.
#[derive(Clone, Copy, Debug)]
enum Op {
    /// `PUT /fs/id` with the current `_rev` and the given keys.
    Put,
    /// `DELETE /fs/id?rev=...`.
    Delete,
    /// `_bulk_docs` (new_edits=true) with the current `_rev`.
    BulkEdit,
    /// `_bulk_docs` new_edits=false: a child of the current revision (a pushed edit).
    Pushed,
    /// `_bulk_docs` new_edits=false: a deleted child of the current revision.
    PushedDelete,
    /// `PUT /fs/id/att.txt?rev=...`.
    Attach,
    /// `POST /fs` of a new document with the given keys.
    Create,
    /// `_bulk_docs` new_edits=false of a new document (a pushed create).
    PushedCreate,
    /// `_bulk_docs` new_edits=false of a new tombstone.
    PushedTombstone,
}

struct Case {
    what: &'static str,
    who: Option<(&'static str, &'static str)>,
    /// Keys of the document before the request (None: the request creates it).
    before: Option<Value>,
    op: Op,
    /// Keys the attacker sends (merged into the body).
    sent: Value,
    status: u16,
    /// Keys of the winning revision after the request (ignored when refused: unchanged).
    after: Value,
}

fn case(
    what: &'static str,
    who: Option<(&'static str, &'static str)>,
    before: Option<Value>,
    op: Op,
    sent: Value,
    status: u16,
    after: Value,
) -> Case {
    Case {
        what,
        who,
        before,
        op,
        sent,
        status,
        after,
    }
}

fn table() -> Vec<Case> {
    let own = || Some(json!({"~c8oAcl": "alice"}));
    let grp = || Some(json!({"c8oGrp": "team.a"}));
    let bobs_grp = || Some(json!({"~c8oAcl": "bob", "c8oGrp": {"team.a": true}}));
    let shared = || Some(json!({}));
    let bobs = || Some(json!({"~c8oAcl": "bob"}));
    let other_grp = || Some(json!({"c8oGrp": "team.b"}));
    use Op::*;
    vec![
        // Own documents.
        case(
            "update own, keys as read",
            ALICE,
            own(),
            Put,
            json!({"~c8oAcl": "alice"}),
            201,
            json!({"~c8oAcl": "alice"}),
        ),
        case(
            "update own, keys left out: kept",
            ALICE,
            own(),
            Put,
            json!({}),
            201,
            json!({"~c8oAcl": "alice"}),
        ),
        case(
            "give own doc to another user",
            ALICE,
            own(),
            Put,
            json!({"~c8oAcl": "bob"}),
            403,
            json!(null),
        ),
        case(
            "tag own doc with own group",
            ALICE,
            own(),
            Put,
            json!({"c8oGrp": "team.a"}),
            201,
            json!({"~c8oAcl": "alice", "c8oGrp": "team.a"}),
        ),
        case(
            "tag own doc with a group not his",
            ALICE,
            own(),
            Put,
            json!({"c8oGrp": "team.b"}),
            403,
            json!(null),
        ),
        case(
            "owner untags his doc from a group",
            ALICE,
            Some(json!({"~c8oAcl": "alice", "c8oGrp": "team.a"})),
            Put,
            json!({"~c8oAcl": "alice", "c8oGrp": {"team.a": false}}),
            201,
            json!({"~c8oAcl": "alice", "c8oGrp": {"team.a": false}}),
        ),
        case(
            "delete own",
            ALICE,
            own(),
            Delete,
            json!({}),
            200,
            json!({"~c8oAcl": "alice"}),
        ),
        case(
            "push an edit of own",
            ALICE,
            own(),
            Pushed,
            json!({"~c8oAcl": "alice"}),
            201,
            json!({"~c8oAcl": "alice"}),
        ),
        case(
            "push an edit of own that forges the owner",
            ALICE,
            own(),
            Pushed,
            json!({"~c8oAcl": "bob"}),
            403,
            json!(null),
        ),
        case(
            "push a deletion of own, tagged for bob",
            ALICE,
            own(),
            PushedDelete,
            json!({"~c8oAcl": "bob"}),
            201,
            json!({"~c8oAcl": "alice"}),
        ),
        case(
            "attach a file to own",
            ALICE,
            own(),
            Attach,
            json!({}),
            201,
            json!({"~c8oAcl": "alice"}),
        ),
        // Group documents.
        case(
            "member updates a group doc",
            ALICE,
            grp(),
            Put,
            json!({"c8oGrp": "team.a"}),
            201,
            json!({"c8oGrp": "team.a"}),
        ),
        case(
            "member updates a group doc, keys left out: kept",
            ALICE,
            grp(),
            BulkEdit,
            json!({}),
            201,
            json!({"c8oGrp": "team.a"}),
        ),
        case(
            "member takes a group doc away from the group",
            ALICE,
            grp(),
            Put,
            json!({"c8oGrp": {"team.a": false}}),
            403,
            json!(null),
        ),
        case(
            "member claims an ownerless group doc",
            ALICE,
            grp(),
            Put,
            json!({"~c8oAcl": "alice", "c8oGrp": "team.a"}),
            403,
            json!(null),
        ),
        case(
            "member claims bob's group doc",
            ALICE,
            bobs_grp(),
            Put,
            json!({"~c8oAcl": "alice", "c8oGrp": {"team.a": true}}),
            403,
            json!(null),
        ),
        case(
            "member adds a group he is not in",
            ALICE,
            bobs_grp(),
            Put,
            json!({"c8oGrp": {"team.a": true, "team.b": true}}),
            403,
            json!(null),
        ),
        case(
            "member adds bob's doc to nothing new",
            ALICE,
            bobs_grp(),
            Put,
            json!({}),
            201,
            json!({"~c8oAcl": "bob", "c8oGrp": {"team.a": true}}),
        ),
        case(
            "member deletes a group doc",
            ALICE,
            grp(),
            Delete,
            json!({}),
            200,
            json!({"c8oGrp": "team.a"}),
        ),
        case(
            "non-member updates a group doc",
            CAROL,
            grp(),
            Put,
            json!({"c8oGrp": "team.a"}),
            403,
            json!(null),
        ),
        case(
            "non-member deletes a group doc",
            CAROL,
            grp(),
            Delete,
            json!({}),
            403,
            json!(null),
        ),
        case(
            "member of another group writes into team.b",
            ALICE,
            other_grp(),
            Put,
            json!({"c8oGrp": "team.b"}),
            403,
            json!(null),
        ),
        // Shared documents (neither key): read-only for users and anonymous clients.
        case(
            "user takes over a shared doc",
            ALICE,
            shared(),
            Put,
            json!({}),
            403,
            json!(null),
        ),
        case(
            "user deletes a shared doc",
            ALICE,
            shared(),
            Delete,
            json!({}),
            403,
            json!(null),
        ),
        case(
            "user pushes an edit of a shared doc",
            ALICE,
            shared(),
            Pushed,
            json!({}),
            403,
            json!(null),
        ),
        case(
            "user attaches a file to a shared doc",
            ALICE,
            shared(),
            Attach,
            json!({}),
            403,
            json!(null),
        ),
        case(
            "anonymous updates a shared doc",
            None,
            shared(),
            Put,
            json!({}),
            403,
            json!(null),
        ),
        case(
            "anonymous deletes a shared doc",
            None,
            shared(),
            Delete,
            json!({}),
            403,
            json!(null),
        ),
        // Other users' documents.
        case(
            "update bob's doc",
            ALICE,
            bobs(),
            Put,
            json!({"~c8oAcl": "bob"}),
            403,
            json!(null),
        ),
        case(
            "update bob's doc with _bulk_docs",
            ALICE,
            bobs(),
            BulkEdit,
            json!({}),
            403,
            json!(null),
        ),
        case(
            "delete bob's doc",
            ALICE,
            bobs(),
            Delete,
            json!({}),
            403,
            json!(null),
        ),
        case(
            "push an edit of bob's doc",
            ALICE,
            bobs(),
            Pushed,
            json!({"~c8oAcl": "alice"}),
            403,
            json!(null),
        ),
        case(
            "push a deletion of bob's doc",
            ALICE,
            bobs(),
            PushedDelete,
            json!({}),
            403,
            json!(null),
        ),
        case(
            "attach a file to bob's doc",
            ALICE,
            bobs(),
            Attach,
            json!({}),
            404,
            json!(null),
        ),
        // Creates.
        case(
            "create: tagged with the writer",
            ALICE,
            None,
            Create,
            json!({}),
            201,
            json!({"~c8oAcl": "alice"}),
        ),
        case(
            "create for bob (forged owner)",
            ALICE,
            None,
            Create,
            json!({"~c8oAcl": "bob"}),
            403,
            json!(null),
        ),
        case(
            "create into own group",
            ALICE,
            None,
            Create,
            json!({"c8oGrp": "team.a"}),
            201,
            json!({"~c8oAcl": "alice", "c8oGrp": "team.a"}),
        ),
        case(
            "create into a group not his (joins by writing)",
            ALICE,
            None,
            Create,
            json!({"c8oGrp": {"team.b": "true"}}),
            403,
            json!(null),
        ),
        case(
            "push a create for bob",
            ALICE,
            None,
            PushedCreate,
            json!({"~c8oAcl": "bob"}),
            403,
            json!(null),
        ),
        case(
            "push a create: tagged with the writer",
            ALICE,
            None,
            PushedCreate,
            json!({}),
            201,
            json!({"~c8oAcl": "alice"}),
        ),
        case(
            "push a tombstone tagged for bob",
            ALICE,
            None,
            PushedTombstone,
            json!({"~c8oAcl": "bob"}),
            403,
            json!(null),
        ),
        case(
            "anonymous creates a shared doc",
            None,
            None,
            Create,
            json!({}),
            201,
            json!({}),
        ),
        case(
            "anonymous creates a doc owned by bob",
            None,
            None,
            Create,
            json!({"~c8oAcl": "bob"}),
            403,
            json!(null),
        ),
        case(
            "anonymous creates a group doc",
            None,
            None,
            Create,
            json!({"c8oGrp": "team.a"}),
            403,
            json!(null),
        ),
        case(
            "anonymous pushes a create owned by bob",
            None,
            None,
            PushedCreate,
            json!({"~c8oAcl": "bob"}),
            403,
            json!(null),
        ),
        case(
            "anonymous pushes a tombstone owned by bob",
            None,
            None,
            PushedTombstone,
            json!({"~c8oAcl": "bob"}),
            403,
            json!(null),
        ),
    ]
}

fn merged(base: &Value, keys: &Value) -> Value {
    let mut b = base.clone();
    for (k, v) in keys.as_object().unwrap() {
        b[k] = v.clone();
    }
    b
}

/// `_bulk_docs` answers 201 with per-document errors: a refusal there counts as its status.
fn bulk_status(s: u16, v: &Value) -> u16 {
    match v.as_array().and_then(|a| a.first()) {
        Some(r) if r["error"] == "forbidden" => 403,
        Some(r) if r["error"] == "not_found" => 404,
        Some(r) if r.get("error").is_some() => 400,
        _ => s,
    }
}

async fn run(s: &Server, i: usize, c: &Case) -> (u16, Value) {
    let id = format!("c{i:02}");
    let mut rev = String::new();
    if let Some(keys) = &c.before {
        let (st, v) = s
            .call(
                "PUT",
                &format!("/fs/{id}"),
                ADMIN,
                Some(merged(&json!({"v": 0}), keys)),
            )
            .await;
        assert_eq!(st, 201, "{}: fixture", c.what);
        rev = v["rev"].as_str().unwrap().to_string();
    }
    let body = |extra: Value| merged(&merged(&json!({"v": 1}), &extra), &c.sent);
    let pushed = |deleted: bool| {
        let (start, parent) = match rev.split_once('-') {
            Some((n, h)) => (n.parse::<u64>().unwrap() + 1, Some(h.to_string())),
            None => (1, None),
        };
        let mut ids = vec![json!(format!("{:032x}", 0xabc + i))];
        ids.extend(parent.map(Value::from));
        let mut d = body(
            json!({"_id": id, "_rev": format!("{start}-{:032x}", 0xabc + i),
            "_revisions": {"start": start, "ids": ids}}),
        );
        if deleted {
            d["_deleted"] = json!(true);
        }
        d
    };
    let (st, v) = match c.op {
        Op::Put => {
            s.call(
                "PUT",
                &format!("/fs/{id}"),
                c.who,
                Some(body(json!({"_rev": rev}))),
            )
            .await
        }
        Op::Delete => {
            s.call("DELETE", &format!("/fs/{id}?rev={rev}"), c.who, None)
                .await
        }
        Op::BulkEdit => {
            let d = body(json!({"_id": id, "_rev": rev}));
            let (st, v) = s
                .call("POST", "/fs/_bulk_docs", c.who, Some(json!({"docs": [d]})))
                .await;
            (bulk_status(st, &v), v)
        }
        Op::Pushed | Op::PushedDelete | Op::PushedCreate | Op::PushedTombstone => {
            let deleted = matches!(c.op, Op::PushedDelete | Op::PushedTombstone);
            let docs = json!({"new_edits": false, "docs": [pushed(deleted)]});
            let (st, v) = s.call("POST", "/fs/_bulk_docs", c.who, Some(docs)).await;
            (bulk_status(st, &v), v)
        }
        Op::Attach => {
            s.raw(
                "PUT",
                &format!("/fs/{id}/att.txt?rev={rev}"),
                c.who,
                "text/plain",
                Some(b"hello".to_vec()),
            )
            .await
        }
        Op::Create => {
            s.call("POST", "/fs", c.who, Some(body(json!({"_id": id}))))
                .await
        }
    };
    (st, v)
}

#[tokio::test]
async fn every_write_rule_as_the_attacker_sends_it() {
    let s = Server::new().await;
    let mut fails = vec![];
    for (i, c) in table().iter().enumerate() {
        let id = format!("c{i:02}");
        let (st, v) = run(&s, i, c).await;
        if st != c.status {
            fails.push(format!("{}: {st} (expected {}) {v}", c.what, c.status));
            continue;
        }
        if c.status >= 300 && c.before.is_none() {
            // A refused create writes nothing.
            let (st, _) = s.call("GET", &format!("/fs/{id}"), ADMIN, None).await;
            if st != 404 {
                fails.push(format!("{}: refused, yet the document exists", c.what));
            }
            continue;
        }
        let keys = s.keys(&id).await;
        let expected = if c.status < 300 {
            c.after.clone()
        } else {
            c.before.clone().unwrap_or(json!({}))
        };
        if keys != expected {
            fails.push(format!(
                "{}: keys after {keys}, expected {expected}",
                c.what
            ));
        }
        if c.status == 403 && v["reason"].as_str().is_none_or(|r| r.len() <= 20) {
            let reason = v[0]["reason"].as_str().unwrap_or_default();
            if reason.len() < 20 {
                fails.push(format!("{}: a refusal must say why: {v}", c.what));
            }
        }
    }
    assert!(
        fails.is_empty(),
        "{} rule(s) broken:\n{}",
        fails.len(),
        fails.join("\n")
    );
}

#[tokio::test]
async fn nobody_but_an_admin_joins_a_group_or_reads_memberships() {
    let s = Server::new().await;
    s.call(
        "PUT",
        "/fs/secret",
        ADMIN,
        Some(json!({"c8oGrp": "sales.eu"})),
    )
    .await;
    let join = json!({"type": "c8oGrp", "user": "alice", "group": "sales.eu"});
    for (who, status) in [(ALICE, 403), (None, 401)] {
        let (st, v) = s
            .call("POST", "/c8ofullsyncgrp", who, Some(join.clone()))
            .await;
        assert_eq!(st, status, "POST membership: {v}");
        let (st, _) = s
            .call(
                "POST",
                "/c8ofullsyncgrp/_bulk_docs",
                who,
                Some(json!({"docs": [join.clone()]})),
            )
            .await;
        assert_eq!(st, status, "_bulk_docs membership");
        let (st, _) = s.call("GET", "/c8ofullsyncgrp/_all_docs", who, None).await;
        assert_eq!(st, status, "memberships are not readable");
        let (st, _) = s.call("GET", "/c8ofullsyncgrp/_changes", who, None).await;
        assert_eq!(st, status, "membership changes are not readable");
    }
    assert_eq!(s.call("GET", "/fs/secret", ALICE, None).await.0, 404);
}

#[tokio::test]
async fn password_hashes_are_for_admins_only() {
    let s = Server::new().await;
    let bob_doc = "/_users/org.couchdb.user:bob";
    for (who, status) in [(None, 401), (ALICE, 403)] {
        let (st, v) = s.call("GET", bob_doc, who, None).await;
        assert_eq!(st, status, "{v}");
        assert!(v.get("derived_key").is_none());
        assert_eq!(
            s.call("GET", "/_users/_all_docs?include_docs=true", who, None)
                .await
                .0,
            status
        );
        assert_eq!(
            s.call("GET", "/_users/_changes?include_docs=true", who, None)
                .await
                .0,
            status
        );
    }
    let (st, own) = s.call("GET", bob_doc, BOB, None).await;
    assert_eq!(st, 200);
    assert_eq!(own["name"], "bob");
    for k in [
        "derived_key",
        "salt",
        "iterations",
        "password_scheme",
        "pbkdf2_prf",
    ] {
        assert!(own.get(k).is_none(), "{k} shown to the user: {own}");
    }
    let (_, full) = s.call("GET", bob_doc, ADMIN, None).await;
    assert!(full["derived_key"].is_string(), "the admin sees the hash");
    // A user may not rewrite his own roles (a role is a group).
    let mut forged = own.clone();
    forged["roles"] = json!(["team.b"]);
    assert_eq!(s.call("PUT", bob_doc, BOB, Some(forged)).await.0, 403);
}

#[tokio::test]
async fn without_admin_credentials_fullsync_databases_keep_their_rules() {
    let s = Server::new().await;
    s.call("PUT", "/closed/d", ADMIN, Some(json!({"v": 1})))
        .await;
    s.call("PUT", "/fs/bobs", ADMIN, Some(json!({"~c8oAcl": "bob"})))
        .await;
    s.call("PUT", "/fs/pub", ADMIN, Some(json!({"v": 1}))).await;
    // No credentials on a deny database: refused on every path, not admin.
    for (m, p) in [
        ("GET", "/closed"),
        ("GET", "/closed/_changes"),
        ("GET", "/closed/_all_docs"),
        ("GET", "/closed/d"),
        ("DELETE", "/closed"),
        ("GET", "/closed/_security"),
    ] {
        assert_eq!(s.call(m, p, None, None).await.0, 401, "{m} {p}");
    }
    let (st, _) = s
        .call(
            "PUT",
            "/closed/_security",
            None,
            Some(json!({"members": {}})),
        )
        .await;
    assert_eq!(
        st, 401,
        "the rules cannot be switched off without credentials"
    );
    // An allow database: only what anonymous clients may see.
    let (st, v) = s.call("GET", "/fs/_all_docs", None, None).await;
    assert_eq!(st, 200);
    let ids: Vec<&str> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert_eq!(ids, vec!["pub"]);
    assert_eq!(s.call("GET", "/fs/bobs", None, None).await.0, 404);
    assert_eq!(
        s.call("PUT", "/fs/_design/x", None, Some(json!({})))
            .await
            .0,
        401
    );
    // Ordinary databases keep the loopback admin party; the local admin works everywhere.
    assert_eq!(s.call("PUT", "/plain", None, None).await.0, 201);
    assert_eq!(
        s.call("PUT", "/plain/x", None, Some(json!({}))).await.0,
        201
    );
    assert_eq!(s.call("GET", "/closed/d", ADMIN, None).await.0, 200);
}

#[tokio::test]
async fn local_checkpoints_missing_revs_and_counts_are_per_user() {
    let s = Server::new().await;
    let (st, v) = s
        .call(
            "PUT",
            "/fs/_local/ckpt",
            ALICE,
            Some(json!({"last_seq": "7"})),
        )
        .await;
    assert_eq!((st, v["id"].as_str()), (201, Some("_local/ckpt")));
    let (st, v) = s.call("GET", "/fs/_local/ckpt", ALICE, None).await;
    assert_eq!(
        (st, &v["last_seq"], &v["_id"]),
        (200, &json!("7"), &json!("_local/ckpt"))
    );
    assert_eq!(
        s.call("GET", "/fs/_local/ckpt", BOB, None).await.0,
        404,
        "bob does not read alice's checkpoint"
    );
    assert_eq!(s.call("GET", "/fs/_local/ckpt", None, None).await.0, 404);
    assert_eq!(
        s.call("DELETE", "/fs/_local/ckpt?rev=0-1", BOB, None)
            .await
            .0,
        404
    );
    let (st, _) = s
        .call(
            "PUT",
            "/fs/_local/ckpt",
            BOB,
            Some(json!({"last_seq": "1"})),
        )
        .await;
    assert_eq!(st, 201, "bob writes his own");
    assert_eq!(
        s.call("GET", "/fs/_local/ckpt", ALICE, None).await.1["last_seq"],
        "7",
        "alice's is untouched"
    );
    // _missing_revs: a hidden document looks absent, exactly as a missing one.
    let (_, hidden) = s
        .call(
            "PUT",
            "/fs/carols",
            ADMIN,
            Some(json!({"~c8oAcl": "carol"})),
        )
        .await;
    let rev = hidden["rev"].clone();
    let (_, v) = s
        .call(
            "POST",
            "/fs/_missing_revs",
            ALICE,
            Some(json!({"carols": [rev], "nope": ["1-abc"]})),
        )
        .await;
    assert_eq!(v["missing_revs"]["carols"], json!([rev]));
    assert_eq!(v["missing_revs"]["nope"], json!(["1-abc"]));
    let (_, v) = s
        .call(
            "POST",
            "/fs/_missing_revs",
            CAROL,
            Some(json!({"carols": [rev]})),
        )
        .await;
    assert!(
        v["missing_revs"].get("carols").is_none(),
        "the owner has it: {v}"
    );
    // GET /db: a user is not told how many documents the database holds.
    let (st, info) = s.call("GET", "/fs", ALICE, None).await;
    assert_eq!(st, 200);
    assert!(
        info["doc_count"].is_null() && info["doc_del_count"].is_null(),
        "{info}"
    );
    assert_eq!(s.call("GET", "/fs", ADMIN, None).await.1["doc_count"], 1);
}

#[tokio::test]
async fn a_user_is_told_only_of_the_leaves_he_may_fetch() {
    let s = Server::new().await;
    // One visible document with three leaves: alice's winner, bob's conflict and a deleted
    // conflict of bob's; and bob's document with a conflicting leaf of alice's.
    let docs = json!({"new_edits": false, "docs": [
        {"_id": "d", "_rev": "1-aaaa", "~c8oAcl": "alice", "v": "root"},
        {"_id": "d", "_rev": "2-ffff", "_revisions": {"start": 2, "ids": ["ffff", "aaaa"]}, "~c8oAcl": "alice"},
        {"_id": "d", "_rev": "2-1111", "_revisions": {"start": 2, "ids": ["1111", "aaaa"]}, "~c8oAcl": "bob"},
        {"_id": "d", "_rev": "2-2222", "_revisions": {"start": 2, "ids": ["2222", "aaaa"]}, "~c8oAcl": "bob", "_deleted": true},
        {"_id": "e", "_rev": "1-ffff", "~c8oAcl": "bob"},
        {"_id": "e", "_rev": "1-0000", "~c8oAcl": "alice"}
    ]});
    assert_eq!(
        s.call("POST", "/fs/_bulk_docs", ADMIN, Some(docs)).await.0,
        201
    );
    let (_, v) = s
        .call("GET", "/fs/_changes?style=all_docs", ALICE, None)
        .await;
    let rows = v["results"].as_array().unwrap();
    assert_eq!(
        rows.len(),
        1,
        "e's winner is bob's: alice is not told of e: {v}"
    );
    assert_eq!(rows[0]["id"], "d");
    assert_eq!(
        rows[0]["changes"],
        json!([{"rev": "2-ffff"}]),
        "bob's leaves are not listed"
    );
    let (_, v) = s
        .call("GET", "/fs/_changes?style=all_docs", BOB, None)
        .await;
    let e = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "e")
        .cloned()
        .unwrap();
    assert_eq!(e["changes"], json!([{"rev": "1-ffff"}]));
    // Every listed revision can be fetched.
    let (_, v) = s
        .call(
            "POST",
            "/fs/_bulk_get?revs=true",
            ALICE,
            Some(json!({"docs": [{"id": "d", "rev": "2-ffff"}]})),
        )
        .await;
    assert_eq!(v["results"][0]["docs"][0]["ok"]["_rev"], "2-ffff");
    let (_, v) = s.call("GET", "/fs/d?open_revs=all", ALICE, None).await;
    assert_eq!(
        v.as_array().unwrap().len(),
        1,
        "open_revs=all lists only alice's leaf: {v}"
    );
    let (_, v) = s
        .call(
            "GET",
            "/fs/d?conflicts=true&deleted_conflicts=true",
            ALICE,
            None,
        )
        .await;
    assert!(
        v.get("_conflicts").is_none() && v.get("_deleted_conflicts").is_none(),
        "{v}"
    );
    let (_, v) = s
        .call(
            "GET",
            "/fs/_changes?include_docs=true&conflicts=true",
            ALICE,
            None,
        )
        .await;
    assert!(v["results"][0]["doc"].get("_conflicts").is_none(), "{v}");
    let (_, v) = s
        .call(
            "GET",
            "/fs/d?conflicts=true&deleted_conflicts=true",
            ADMIN,
            None,
        )
        .await;
    assert_eq!(
        v["_conflicts"],
        json!(["2-1111"]),
        "the admin sees them all"
    );
    assert_eq!(v["_deleted_conflicts"], json!(["2-2222"]));
}
