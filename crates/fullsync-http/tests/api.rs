//! HTTP API behaviour, through the router (no socket).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use fullsync_http::ServerConfig;
use fullsync_testkit::TestServer;
use serde_json::{json, Value};
use tower::ServiceExt;

struct T {
    s: TestServer,
}

impl T {
    /// A server on a fresh in-memory engine; unless `cfg` names an admin, the admin is
    /// `admin`/`secret` (FullSync databases need one even in admin party). Requests
    /// authenticate as the admin.
    fn new(mut cfg: ServerConfig) -> T {
        if cfg.admin.is_none() {
            cfg.admin = Some(("admin".into(), "secret".into()));
        }
        T {
            s: TestServer::in_memory(cfg),
        }
    }

    fn app(&self) -> &axum::Router {
        self.s.app()
    }

    async fn req(
        &self,
        method: &str,
        path: &str,
        ctype: Option<&str>,
        body: Vec<u8>,
        host: &str,
    ) -> (u16, Vec<u8>, axum::http::HeaderMap) {
        let mut headers = vec![("host", host)];
        if let Some(ct) = ctype {
            headers.push(("content-type", ct));
        }
        let r = self.s.request(method, path, &headers, body).await;
        (r.status, r.body, r.headers)
    }

    async fn json(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.s.json(method, path, body).await
    }

    /// A JSON request as `user` (no credentials for `None`).
    async fn as_user(
        &self,
        method: &str,
        path: &str,
        user: Option<(&str, &str)>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let data = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let headers = [("host", "localhost"), ("content-type", "application/json")];
        let r = self.s.request_as(user, method, path, &headers, data).await;
        (r.status, r.json())
    }
}

#[tokio::test]
async fn couchdb_errors() {
    let t = T::new(ServerConfig::default());
    assert_eq!(
        t.json("GET", "/nope", None).await,
        (
            404,
            json!({"error": "not_found", "reason": "Database does not exist."})
        )
    );
    assert_eq!(t.json("PUT", "/db", None).await.0, 201);
    assert_eq!(
        t.json("GET", "/db/", None).await.1["db_name"],
        "db",
        "trailing slash, as PouchDB sends"
    );
    assert_eq!(t.json("PUT", "/db2/", None).await.0, 201);
    assert_eq!(t.json("PUT", "/db", None).await.1["error"], "file_exists");
    assert_eq!(
        t.json("PUT", "/Bad", None).await.1["error"],
        "illegal_database_name"
    );
    assert_eq!(
        t.json("GET", "/db/missing", None).await,
        (404, json!({"error": "not_found", "reason": "missing"}))
    );
    let (s, v) = t.json("PUT", "/db/a", Some(json!({"x": 1}))).await;
    assert_eq!(s, 201);
    let rev = v["rev"].as_str().unwrap().to_string();
    assert_eq!(
        t.json("PUT", "/db/a", Some(json!({"x": 2}))).await,
        (
            409,
            json!({"error": "conflict", "reason": "Document update conflict."})
        )
    );
    assert_eq!(
        t.json("PUT", "/db/b", Some(json!({"_foo": 1}))).await.1["error"],
        "doc_validation"
    );
    assert_eq!(
        t.json("PUT", "/db/_bad", Some(json!({}))).await.1["error"],
        "illegal_docid"
    );
    assert_eq!(
        t.json("PUT", "/db/b", Some(json!({"_rev": "nope"})))
            .await
            .1["reason"],
        "Invalid rev format"
    );
    let (s, body, _) = t
        .req(
            "PUT",
            "/db/c",
            Some("application/json"),
            b"{bad".to_vec(),
            "localhost",
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap()["error"],
        "bad_request"
    );
    let (s, _, _) = t
        .req(
            "PUT",
            "/db/c",
            Some("application/json"),
            vec![b'"', 0xff, b'"'],
            "localhost",
        )
        .await;
    assert_eq!(s, 400, "invalid UTF-8");
    let (s, _, _) = t
        .req(
            "POST",
            "/db/_bulk_docs",
            Some("text/plain"),
            b"{}".to_vec(),
            "localhost",
        )
        .await;
    assert_eq!(s, 415);
    // ETag / If-None-Match
    let req = Request::builder()
        .uri("/db/a")
        .header("host", "localhost")
        .header("if-none-match", format!("\"{rev}\""))
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        t.app().clone().oneshot(req).await.unwrap().status(),
        StatusCode::NOT_MODIFIED
    );
}

#[tokio::test]
async fn limits_and_host() {
    let t = T::new(ServerConfig {
        max_request_bytes: 1 << 20,
        max_document_bytes: 1000,
        ..Default::default()
    });
    t.json("PUT", "/db", None).await;
    let big = json!({"p": "x".repeat(2000)});
    assert_eq!(
        t.json("PUT", "/db/big", Some(big)).await.1["error"],
        "document_too_large"
    );
    let huge = vec![b' '; 2 << 20];
    let (s, _, _) = t
        .req(
            "POST",
            "/db/_bulk_docs",
            Some("application/json"),
            huge,
            "localhost",
        )
        .await;
    assert_eq!(s, 413);
    let (s, body, _) = t.req("GET", "/", None, vec![], "evil.example").await;
    assert_eq!(s, 403);
    assert!(String::from_utf8_lossy(&body).contains("loopback"));
}

#[tokio::test]
async fn multipart_put_and_open_revs() {
    let t = T::new(ServerConfig::default());
    t.json("PUT", "/db", None).await;
    let doc = json!({"_id": "m", "_rev": "2-bb", "_revisions": {"start": 2, "ids": ["bb", "aa"]},
        "_attachments": {"f.bin": {"content_type": "application/octet-stream", "follows": true, "length": 3}}});
    let mut body = Vec::new();
    body.extend_from_slice(b"--XYZ\r\nContent-Type: application/json\r\n\r\n");
    body.extend_from_slice(doc.to_string().as_bytes());
    body.extend_from_slice(
        b"\r\n--XYZ\r\nContent-Disposition: attachment; filename=\"f.bin\"\r\n\r\n",
    );
    body.extend_from_slice(&[1, 2, 3]);
    body.extend_from_slice(b"\r\n--XYZ--");
    let (s, out, _) = t
        .req(
            "PUT",
            "/db/m?new_edits=false",
            Some("multipart/related; boundary=\"XYZ\""),
            body,
            "localhost",
        )
        .await;
    assert_eq!(s, 201, "{}", String::from_utf8_lossy(&out));
    let (s, v) = t
        .json("GET", "/db/m?revs=true&attachments=true", None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["_rev"], "2-bb");
    assert_eq!(v["_revisions"], json!({"start": 2, "ids": ["bb", "aa"]}));
    assert_eq!(v["_attachments"]["f.bin"]["data"], "AQID");
    // open_revs as multipart/mixed, as the CouchDB replicator asks.
    let req = Request::builder()
        .uri("/db/m?open_revs=[%222-bb%22,%223-zz%22]&revs=true")
        .header("host", "localhost")
        .header("accept", "multipart/mixed")
        .body(Body::empty())
        .unwrap();
    let resp = t.app().clone().oneshot(req).await.unwrap();
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("multipart/mixed"));
    let text = String::from_utf8(
        axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    assert!(text.contains("\"_rev\":\"2-bb\""));
    assert!(text.contains("\"missing\":\"3-zz\""));
    // JSON open_revs
    let (_, v) = t.json("GET", "/db/m?open_revs=all", None).await;
    assert_eq!(v[0]["ok"]["_rev"], "2-bb");
    // Attachment GET/PUT/DELETE
    let (s, data, h) = t.req("GET", "/db/m/f.bin", None, vec![], "localhost").await;
    assert_eq!((s, data), (200, vec![1, 2, 3]));
    assert_eq!(h["etag"], "\"md5-Uonfc331cyb83SJZevsfrA==\"");
    let (s, out, _) = t
        .req(
            "PUT",
            "/db/m/g.txt?rev=2-bb",
            Some("text/plain"),
            b"hi".to_vec(),
            "localhost",
        )
        .await;
    assert_eq!(s, 201);
    let rev = serde_json::from_slice::<Value>(&out).unwrap()["rev"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, v) = t.json("GET", "/db/m", None).await;
    assert_eq!(v["_attachments"]["g.txt"]["content_type"], "text/plain");
    assert_eq!(v["_attachments"]["f.bin"]["revpos"], 2);
    let (s, _) = t
        .json("DELETE", &format!("/db/m/g.txt?rev={rev}"), None)
        .await;
    assert_eq!(s, 200);
    let (s, _) = t.json("GET", "/db/m/g.txt", None).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn bulk_get_revs_diff_and_changes() {
    let t = T::new(ServerConfig::default());
    t.json("PUT", "/db", None).await;
    let (_, v) = t
        .json(
            "POST",
            "/db/_bulk_docs",
            Some(json!({"new_edits": false, "docs": [
            {"_id": "x", "_rev": "1-a"}, {"_id": "x", "_rev": "1-b", "v": 2}]})),
        )
        .await;
    assert_eq!(v, json!([]), "new_edits=false answers only errors");
    let (_, v) = t
        .json(
            "POST",
            "/db/_revs_diff",
            Some(json!({"x": ["1-a", "1-c"], "y": ["1-z"]})),
        )
        .await;
    assert_eq!(
        v,
        json!({"x": {"missing": ["1-c"]}, "y": {"missing": ["1-z"]}})
    );
    let (_, v) = t.json("POST", "/db/_bulk_get?revs=true", Some(json!({"docs": [{"id": "x", "rev": "1-a"}, {"id": "x", "rev": "9-q"}, {"id": "x"}]}))).await;
    assert_eq!(v["results"][0]["docs"][0]["ok"]["_rev"], "1-a");
    assert_eq!(v["results"][1]["docs"][0]["error"]["error"], "not_found");
    assert_eq!(
        v["results"][2]["docs"][0]["ok"]["_rev"], "1-b",
        "winner without rev"
    );
    let (_, v) = t.json("GET", "/db/_changes?style=all_docs", None).await;
    assert_eq!(
        v["results"][0]["changes"],
        json!([{"rev": "1-b"}, {"rev": "1-a"}])
    );
    let (_, v) = t
        .json("GET", "/db/_changes?since=%2213-g1AAAA%22", None)
        .await;
    assert_eq!(v["results"], json!([]));
    let (_, v) = t
        .json(
            "GET",
            "/db/_changes?since=now&feed=longpoll&timeout=50",
            None,
        )
        .await;
    assert_eq!(v["results"], json!([]));
    let (s, v) = t.json("GET", "/db/_changes?feed=bogus", None).await;
    assert_eq!((s, v["error"].as_str()), (400, Some("bad_request")));
    let (_, v) = t.json("GET", "/db/_all_docs?startkey=1", None).await;
    assert_eq!(v["error"], "query_parse_error");
    let (_, v) = t.json("PUT", "/db/_revs_limit", Some(json!(10))).await;
    assert_eq!(v["ok"], true);
    assert_eq!(t.json("GET", "/db/_revs_limit", None).await.1, json!(10));
}

#[tokio::test]
async fn views_over_http() {
    let t = T::new(ServerConfig::default());
    t.json("PUT", "/db", None).await;
    t.json(
        "POST",
        "/db/_bulk_docs",
        Some(json!({"docs": [
            {"_id": "a", "t": "x", "n": 1}, {"_id": "b", "t": "y", "n": 2}, {"_id": "c", "t": "x", "n": 3},
            {"_id": "_design/d", "views": {"t": {"map": "function (doc) { if (doc.t) emit(doc.t, doc.n); }", "reduce": "_sum"}}}
        ]})),
    )
    .await;
    assert_eq!(
        t.json("GET", "/db/_design/d/_view/t", None).await.1,
        json!({"rows": [{"key": null, "value": 6}]})
    );
    let (_, v) = t
        .json(
            "GET",
            "/db/_design/d/_view/t?reduce=false&key=%22x%22",
            None,
        )
        .await;
    assert_eq!(v["rows"].as_array().unwrap().len(), 2);
    let (_, v) = t
        .json(
            "POST",
            "/db/_design/d/_view/t?group=true",
            Some(json!({"keys": ["y"]})),
        )
        .await;
    assert_eq!(v["rows"], json!([{"key": "y", "value": 2}]));
    let (_, v) = t
        .json(
            "POST",
            "/db/_design/d/_view/t/queries",
            Some(json!({"queries": [{"reduce": false, "limit": 1}, {"group": true}]})),
        )
        .await;
    assert_eq!(v["results"][1]["rows"][0], json!({"key": "x", "value": 4}));
    assert_eq!(
        t.json("GET", "/db/_design/d/_view/t?group=true&reduce=false", None)
            .await,
        (
            400,
            json!({"error": "query_parse_error", "reason": "Invalid use of grouping on a map view."})
        )
    );
    assert_eq!(
        t.json("GET", "/db/_design/d/_view/t?startkey=%7Bbad", None)
            .await
            .1["error"],
        "query_parse_error"
    );
    assert_eq!(
        t.json("GET", "/db/_design/d/_view/nope", None).await,
        (
            404,
            json!({"error": "not_found", "reason": "missing_named_view"})
        )
    );
    assert_eq!(
        t.json("GET", "/db/_design/zz/_view/t", None).await,
        (404, json!({"error": "not_found", "reason": "missing"}))
    );
    assert_eq!(
        t.json("GET", "/db/_design/d/_info", None).await.1["name"],
        "d"
    );
    assert_eq!(t.json("POST", "/db/_view_cleanup", None).await.0, 202);
}

#[tokio::test]
async fn changes_filters() {
    let t = T::new(ServerConfig::default());
    t.json("PUT", "/db", None).await;
    t.json(
        "POST",
        "/db/_bulk_docs",
        Some(json!({"docs": [
            {"_id": "a", "t": "x"}, {"_id": "b", "t": "y"}, {"_id": "c", "t": "x"},
            {"_id": "_design/f", "filters": {"by_t": "function (doc, req) { return doc.t === req.query.t; }"},
             "views": {"xs": {"map": "function (doc) { if (doc.t === 'x') emit(doc._id); }"}}}
        ]})),
    )
    .await;
    let ids = |v: &Value| {
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let (_, v) = t.json("GET", "/db/_changes?filter=f/by_t&t=y", None).await;
    assert_eq!(ids(&v), vec!["b"]);
    let (_, v) = t
        .json("GET", "/db/_changes?filter=_view&view=f/xs", None)
        .await;
    assert_eq!(ids(&v), vec!["a", "c"]);
    let (_, v) = t
        .json(
            "POST",
            "/db/_changes?filter=_doc_ids",
            Some(json!({"doc_ids": ["c"]})),
        )
        .await;
    assert_eq!(ids(&v), vec!["c"]);
    let (_, v) = t
        .json(
            "POST",
            "/db/_changes?filter=_selector",
            Some(json!({"selector": {"t": "y"}})),
        )
        .await;
    assert_eq!(ids(&v), vec!["b"]);
    let (s, v) = t.json("GET", "/db/_changes?filter=f/nope", None).await;
    assert_eq!((s, v["error"].as_str().unwrap()), (404, "not_found"));
    let (s, _) = t.json("GET", "/db/_changes?filter=zz/nope", None).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn mango_over_http() {
    let t = T::new(ServerConfig::default());
    t.json("PUT", "/db", None).await;
    t.json(
        "POST",
        "/db/_bulk_docs",
        Some(json!({"docs": [{"_id": "a", "n": 2}, {"_id": "b", "n": 1}, {"_id": "c"}]})),
    )
    .await;
    let (s, v) = t
        .json(
            "POST",
            "/db/_find",
            Some(json!({"selector": {"n": {"$gte": 1}}, "sort": ["n"]})),
        )
        .await;
    assert_eq!((s, v["error"].as_str()), (400, Some("no_usable_index")));
    let (s, v) = t
        .json(
            "POST",
            "/db/_index",
            Some(json!({"index": {"fields": ["n"]}, "name": "by_n", "ddoc": "ix"})),
        )
        .await;
    assert_eq!(
        (s, v),
        (
            200,
            json!({"result": "created", "id": "_design/ix", "name": "by_n"})
        )
    );
    let (_, v) = t
        .json(
            "POST",
            "/db/_find",
            Some(json!({"selector": {"n": {"$gte": 1}}, "sort": ["n"], "fields": ["_id"]})),
        )
        .await;
    assert_eq!(v["docs"], json!([{"_id": "b"}, {"_id": "a"}]));
    let (_, v) = t.json("GET", "/db/_index", None).await;
    assert_eq!(v["total_rows"], 2);
    let (_, v) = t
        .json(
            "POST",
            "/db/_explain",
            Some(json!({"selector": {"n": 1}, "sort": ["n"]})),
        )
        .await;
    assert_eq!(v["index"]["name"], "by_n");
    assert_eq!(
        t.json("DELETE", "/db/_index/ix/json/by_n", None).await.1,
        json!({"ok": true})
    );
    let (s, _) = t.json("DELETE", "/db/_index/ix/json/by_n", None).await;
    assert_eq!(s, 404);
    let (s, v) = t
        .json(
            "POST",
            "/db/_find",
            Some(json!({"selector": {"n": {"$bogus": 1}}})),
        )
        .await;
    assert_eq!((s, v["error"].as_str()), (400, Some("invalid_operator")));
}

#[tokio::test]
async fn fullsync_acl_filters_every_read_path() {
    let t = T::new(ServerConfig::default());
    t.json("PUT", "/_users", None).await;
    for (u, roles) in [("bob", json!(["sales.eu"])), ("ann", json!([]))] {
        let (s, _) = t
            .json(
                "PUT",
                &format!("/_users/org.couchdb.user:{u}"),
                Some(json!({"name": u, "password": "pw", "roles": roles, "type": "user"})),
            )
            .await;
        assert_eq!(s, 201);
    }
    let (_, stored) = t.json("GET", "/_users/org.couchdb.user:bob", None).await;
    assert!(
        stored.get("password").is_none() && stored.get("derived_key").is_some(),
        "password hashed"
    );
    t.json("PUT", "/fs", None).await;
    t.json(
        "PUT",
        "/fs/_security",
        Some(json!({"fullsync": {"anonymous": "deny"}})),
    )
    .await;
    t.json(
        "POST",
        "/fs/_bulk_docs",
        Some(json!({"docs": [
            {"_id": "pub", "v": 1},
            {"_id": "bobs", "~c8oAcl": "bob", "_attachments": {"a": {"data": "aGk="}}},
            {"_id": "anns", "~c8oAcl": "ann"},
            {"_id": "grp", "c8oGrp": "sales.eu"},
            {"_id": "grpobj", "c8oGrp": {"sales.eu": "true", "x": false}},
            {"_id": "other", "c8oGrp": "sales"}
        ]})),
    )
    .await;
    let bob = Some(("bob", "pw"));
    let ids = |v: &Value, key: &str| {
        let mut out: Vec<String> = v[key]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["id"].as_str().map(str::to_string))
            .collect();
        out.sort();
        out
    };
    let (s, v) = t.as_user("GET", "/fs/_changes", bob, None).await;
    assert_eq!(s, 200);
    assert_eq!(ids(&v, "results"), vec!["bobs", "grp", "grpobj", "pub"]);
    let (_, v) = t.as_user("GET", "/fs/_all_docs", bob, None).await;
    assert_eq!(ids(&v, "rows"), vec!["bobs", "grp", "grpobj", "pub"]);
    assert_eq!(t.as_user("GET", "/fs/anns", bob, None).await.0, 404);
    assert_eq!(t.as_user("GET", "/fs/bobs", bob, None).await.0, 200);
    assert_eq!(
        t.as_user("GET", "/fs/bobs/a", Some(("ann", "pw")), None)
            .await
            .0,
        404
    );
    let (_, v) = t
        .as_user(
            "POST",
            "/fs/_bulk_get",
            bob,
            Some(json!({"docs": [{"id": "anns"}, {"id": "pub"}]})),
        )
        .await;
    assert_eq!(v["results"][0]["docs"][0]["error"]["error"], "not_found");
    assert_eq!(v["results"][1]["docs"][0]["ok"]["_id"], "pub");
    let (_, anns_rev) = t.json("GET", "/fs/anns", None).await;
    let (_, v) = t
        .as_user(
            "POST",
            "/fs/_revs_diff",
            bob,
            Some(json!({"anns": [anns_rev["_rev"]]})),
        )
        .await;
    assert_eq!(
        v["anns"]["missing"][0], anns_rev["_rev"],
        "another user's doc looks absent"
    );
    // Writes are tagged with the user.
    let (s, _) = t
        .as_user("PUT", "/fs/new", bob, Some(json!({"x": 1})))
        .await;
    assert_eq!(s, 201);
    assert_eq!(t.json("GET", "/fs/new", None).await.1["~c8oAcl"], "bob");
    // Anonymous refused; wrong password refused; admin-only and leaky endpoints refused.
    assert_eq!(
        t.as_user("GET", "/fs/_changes", None, None).await.0,
        401,
        "admin party stops at FullSync databases: no credentials = anonymous, denied here"
    );
    assert_eq!(
        t.as_user("GET", "/fs/_changes", Some(("bob", "bad")), None)
            .await
            .0,
        401
    );
    assert_eq!(
        t.as_user("POST", "/fs/_find", bob, Some(json!({"selector": {}})))
            .await
            .0,
        403
    );
    assert_eq!(
        t.as_user("PUT", "/fs/_design/x", bob, Some(json!({})))
            .await
            .0,
        403
    );
    assert_eq!(t.as_user("DELETE", "/fs", bob, None).await.0, 403);
    assert_eq!(t.as_user("GET", "/_all_dbs", bob, None).await.0, 403);
}

#[tokio::test]
async fn anonymous_fullsync_access_follows_the_database_setting() {
    let t = T::new(ServerConfig {
        admin: Some(("admin".into(), "secret".into())),
        admin_party: false,
        ..Default::default()
    });
    let admin = Some(("admin", "secret"));
    t.as_user("PUT", "/cat", admin, None).await;
    t.as_user(
        "PUT",
        "/cat/_security",
        admin,
        Some(json!({"fullsync": {"anonymous": "deny"}})),
    )
    .await;
    t.as_user("PUT", "/cat/p1", admin, Some(json!({"name": "chair"})))
        .await;
    t.as_user("PUT", "/cat/p2", admin, Some(json!({"~c8oAcl": "bob"})))
        .await;
    assert_eq!(t.as_user("GET", "/cat/_changes", None, None).await.0, 401);
    t.as_user(
        "PUT",
        "/cat/_security",
        admin,
        Some(json!({"fullsync": {"anonymous": "allow"}})),
    )
    .await;
    let (s, v) = t.as_user("GET", "/cat/_changes", None, None).await;
    assert_eq!(s, 200);
    assert_eq!(
        v["results"].as_array().unwrap().len(),
        1,
        "anonymous sees only unowned docs"
    );
    assert_eq!(t.as_user("PUT", "/cat2", None, None).await.0, 401);
}

#[tokio::test]
async fn see_as_user_and_reset() {
    let t = T::new(ServerConfig::default());
    t.json("PUT", "/fs", None).await;
    t.json("PUT", "/fs/_revs_limit", Some(json!(10))).await;
    t.json("POST", "/fs/_bulk_docs", Some(json!({"docs": [
        {"_id": "a"}, {"_id": "b", "~c8oAcl": "bob"}, {"_id": "c", "c8oGrp": {"team.x": true}}, {"_id": "d", "~c8oAcl": "ann"}
    ]}))).await;
    let (_, v) = t
        .json("GET", "/fs/_fullsync/see_as?user=bob&groups=team.x", None)
        .await;
    assert_eq!(v["ids"], json!(["a", "b", "c"]));
    assert_eq!(v["count"], 3);
    let (_, v) = t.json("GET", "/fs/_fullsync/see_as", None).await;
    assert_eq!(v["ids"], json!(["a"]));
    assert_eq!(
        t.json("POST", "/fs/_fullsync/reset", Some(json!({})))
            .await
            .0,
        200
    );
    let (_, info) = t.json("GET", "/fs", None).await;
    assert_eq!(info["doc_count"], 0);
    assert_eq!(t.json("GET", "/fs/_revs_limit", None).await.1, json!(10));
}

#[tokio::test]
async fn fullsync_users_cannot_write_hidden_docs_and_deletions_keep_access_keys() {
    let t = T::new(ServerConfig::default());
    t.json("PUT", "/_users", None).await;
    for (u, roles) in [("bob", json!(["g.1"])), ("ann", json!(["g.1"]))] {
        t.json(
            "PUT",
            &format!("/_users/org.couchdb.user:{u}"),
            Some(json!({"name": u, "password": "pw", "roles": roles})),
        )
        .await;
    }
    t.json("PUT", "/fs", None).await;
    t.json(
        "PUT",
        "/fs/_security",
        Some(json!({"fullsync": {"anonymous": "deny"}})),
    )
    .await;
    let (_, a) = t
        .json("PUT", "/fs/alices", Some(json!({"~c8oAcl": "alice"})))
        .await;
    let (_, g) = t
        .json("PUT", "/fs/grp", Some(json!({"c8oGrp": "g.1", "v": 1})))
        .await;
    let bob = Some(("bob", "pw"));
    let rev = a["rev"].as_str().unwrap();
    assert_eq!(
        t.as_user("PUT", "/fs/alices", bob, Some(json!({"_rev": rev, "x": 1})))
            .await
            .0,
        403
    );
    assert_eq!(
        t.as_user("DELETE", &format!("/fs/alices?rev={rev}"), bob, None)
            .await
            .0,
        403
    );
    let (s, v) = t
        .as_user("POST", "/fs/_bulk_docs", bob, Some(json!({"new_edits": false, "docs": [{"_id": "alices", "_rev": "1-ffff"}, {"_id": "mine", "_rev": "1-aaaa"}]})))
        .await;
    assert_eq!(s, 201);
    assert_eq!(
        v,
        json!([{"id": "alices", "error": "forbidden", "reason": "You may not write this document: it is not shared with you."}])
    );
    assert_eq!(
        t.json("GET", "/fs/alices", None).await.1["~c8oAcl"],
        "alice",
        "alice keeps her document"
    );
    // Bob deletes a group document: the tombstone keeps c8oGrp, so ann receives the deletion.
    let grev = g["rev"].as_str().unwrap();
    assert_eq!(
        t.as_user("DELETE", &format!("/fs/grp?rev={grev}"), bob, None)
            .await
            .0,
        200
    );
    let (_, v) = t
        .as_user("GET", "/fs/_changes", Some(("ann", "pw")), None)
        .await;
    let row = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "grp")
        .cloned();
    assert_eq!(row.unwrap()["deleted"], true);
}
