//! Answers that must be CouchDB's to the letter (issue "Answer exactly as CouchDB does"): each
//! test names the CouchDB behaviour it checks. The references are the CouchDB 3.x API docs and
//! Apache CouchDB 3.4.3 measured on this machine kind (../shared/peers.md).

use std::sync::Arc;

use fullsync_engine::Engine;
use fullsync_http::ServerConfig;
use fullsync_testkit::TestServer;
use serde_json::{json, Value};

struct T {
    s: TestServer,
}

impl T {
    /// A server on a fresh in-memory engine, in admin party (no credentials sent).
    fn new() -> T {
        T::over(Arc::new(Engine::in_memory()))
    }

    fn over(engine: Arc<Engine>) -> T {
        T {
            s: TestServer::new(engine, ServerConfig::default()).with_host("localhost"),
        }
    }

    async fn raw(
        &self,
        method: &str,
        uri: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (u16, axum::http::HeaderMap, Vec<u8>) {
        let r = self.s.request(method, uri, headers, body).await;
        (r.status, r.headers, r.body)
    }

    async fn json(&self, method: &str, uri: &str, body: Option<Value>) -> (u16, Value) {
        self.s.json(method, uri, body).await
    }

    async fn seed(&self, db: &str, docs: Value) {
        self.s.seed(db, docs).await
    }
}

fn keys_of(v: &Value) -> Vec<Value> {
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].clone())
        .collect()
}

/// CouchDB 3.4.3: `keys=["b","a","z"]&descending=true` answers the rows of z, then a (the keys
/// last to first); `offset` with `keys=` is the index position of the first row returned,
/// plus `skip`.
#[tokio::test]
async fn keys_with_descending_and_offset() {
    let t = T::new();
    let docs: Vec<Value> = (0..69)
        .map(|i| json!({"_id": format!("d{i:02}"), "k": if i < 41 { "a" } else if i == 41 { "z" } else { "zz" }}))
        .collect();
    t.seed("db", Value::Array(docs)).await;
    t.json(
        "PUT",
        "/db/_design/app",
        Some(json!({"views": {"k": {"map": "function (doc) { if (doc.k) emit(doc.k, null); }"}}})),
    )
    .await;
    let (s, v) = t
        .json(
            "GET",
            "/db/_design/app/_view/k?keys=%5B%22b%22,%22a%22,%22z%22%5D&descending=true&limit=2",
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        keys_of(&v),
        vec![json!("z"), json!("a")],
        "z's row first, then a's"
    );
    // Descending: the index read backwards; z is after the 27 "zz" rows.
    assert_eq!(v["offset"], 27);
    let (_, v) = t
        .json(
            "GET",
            "/db/_design/app/_view/k?keys=%5B%22z%22,%22a%22%5D",
            None,
        )
        .await;
    assert_eq!(
        v["offset"], 41,
        "z's row is at index 41 of 69, as CouchDB reports it"
    );
    assert_eq!(keys_of(&v)[0], json!("z"));
    let (_, v) = t
        .json(
            "GET",
            "/db/_design/app/_view/k?keys=%5B%22a%22%5D&skip=3",
            None,
        )
        .await;
    assert_eq!(v["offset"], 3, "the first a-row is at 0, plus skip");
}

/// CouchDB: rows one document emits with the same key come in the collation order of their
/// values (then by doc id across documents).
#[tokio::test]
async fn same_key_rows_of_one_document_ordered_by_value() {
    let t = T::new();
    t.seed("db", json!([{"_id": "a"}, {"_id": "b"}])).await;
    t.json("PUT", "/db/_design/app", Some(json!({"views": {"v": {
        "map": "function (doc) { emit(1, 'b'); emit(1, 'a'); emit(1, 10); emit(1, [1]); emit(1, null); emit(1, 'A'); }"
    }}})))
    .await;
    let (_, v) = t.json("GET", "/db/_design/app/_view/v", None).await;
    let got: Vec<(String, Value)> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap().to_string(), r["value"].clone()))
        .collect();
    let order = [
        json!(null),
        json!(10),
        json!("a"),
        json!("A"),
        json!("b"),
        json!([1]),
    ];
    let want: Vec<(String, Value)> = ["a", "b"]
        .iter()
        .flat_map(|id| order.iter().map(move |v| (id.to_string(), v.clone())))
        .collect();
    assert_eq!(got, want);
}

/// CouchDB recognises a builtin reduce by its prefix (`"_sum\n..."` is `_sum`), and writes
/// "Multi-key fetches for reduce views must use `group=true`".
#[tokio::test]
async fn builtin_reduce_by_prefix_and_multi_key_error_text() {
    let t = T::new();
    t.seed("db", json!([{"n": 1}, {"n": 2}, {"n": 4}])).await;
    t.json(
        "PUT",
        "/db/_design/app",
        Some(json!({"views": {
            "s": {"map": "function (doc) { emit(doc.n, doc.n); }", "reduce": "_sum\n// the total"},
            "c": {"map": "function (doc) { emit(doc.n, doc.n); }", "reduce": "_count // rows"}
        }})),
    )
    .await;
    let (s, v) = t.json("GET", "/db/_design/app/_view/s", None).await;
    assert_eq!((s, &v["rows"][0]["value"]), (200, &json!(7)), "{v}");
    let (_, v) = t.json("GET", "/db/_design/app/_view/c", None).await;
    assert_eq!(v["rows"][0]["value"], 3);
    let (s, v) = t
        .json("GET", "/db/_design/app/_view/s?keys=%5B1,2%5D", None)
        .await;
    assert_eq!(s, 400);
    assert_eq!(
        v,
        json!({"error": "query_parse_error", "reason": "Multi-key fetches for reduce views must use `group=true`"})
    );
}

/// CouchDB: a filter function that throws fails the `_changes` request (500, the exception's
/// name as `error`) instead of silently matching nothing.
#[tokio::test]
async fn a_throwing_filter_fails_the_changes_request() {
    let t = T::new();
    t.seed("db", json!([{"_id": "a", "x": {"y": 1}}, {"_id": "b"}]))
        .await;
    t.json(
        "PUT",
        "/db/_design/f",
        Some(json!({"filters": {
            "bad": "function (doc, req) { return doc.x.y === 1; }",
            "good": "function (doc, req) { return !!doc.x; }"
        }})),
    )
    .await;
    let (s, v) = t.json("GET", "/db/_changes?filter=f/bad", None).await;
    assert_eq!(s, 500, "{v}");
    assert_eq!(v["error"], "TypeError");
    assert!(v["reason"].as_str().unwrap().contains("f/bad"), "{v}");
    let (s, v) = t.json("GET", "/db/_changes?filter=f/good", None).await;
    assert_eq!((s, v["results"].as_array().unwrap().len()), (200, 1));
}

/// CouchDB refuses these `_bulk_docs` requests as a whole (400), writing nothing.
#[tokio::test]
async fn bulk_docs_refused_as_a_whole() {
    let t = T::new();
    t.json("PUT", "/db", None).await;
    let cases = [
        (
            json!({"docs": [{"_id": "ok1"}, {"_id": "_bad"}]}),
            "illegal_docid",
        ),
        (
            json!({"docs": [{"_id": "ok2"}, {"_id": "x", "_foo": 1}]}),
            "doc_validation",
        ),
        (
            json!({"new_edits": false, "docs": [{"_id": "ok3", "_rev": "1-a"}, {"_id": "norev"}]}),
            "bad_request",
        ),
        (
            json!({"docs": [{"_id": "ok4"}, {"_id": "y", "_attachments": {"_x.txt": {"data": "aGk="}}}]}),
            "bad_request",
        ),
    ];
    for (body, error) in cases {
        let (s, v) = t.json("POST", "/db/_bulk_docs", Some(body.clone())).await;
        assert_eq!(
            (s, v["error"].as_str()),
            (400, Some(error)),
            "{body} -> {v}"
        );
    }
    let (_, info) = t.json("GET", "/db", None).await;
    assert_eq!(
        info["doc_count"], 0,
        "nothing of a refused request is written"
    );
}

/// CouchDB: with `new_edits=false`, `_revisions` is authoritative (its newest entry is the
/// revision, whatever `_rev` says), ids beyond generation 1 are accepted; `_replication_*`
/// members are kept.
#[tokio::test]
async fn revisions_are_authoritative_and_replication_fields_kept() {
    let t = T::new();
    t.json("PUT", "/db", None).await;
    let (s, v) = t
        .json("POST", "/db/_bulk_docs", Some(json!({"new_edits": false, "docs": [
            {"_id": "a", "_rev": "3-zzz", "_revisions": {"start": 2, "ids": ["bbb", "aaa"]}, "v": 1},
            {"_id": "b", "_rev": "2-ddd", "_revisions": {"start": 2, "ids": ["ddd", "ccc", "older"]}, "v": 2}
        ]})))
        .await;
    assert_eq!((s, &v), (201, &json!([])));
    let (_, a) = t.json("GET", "/db/a?revs=true", None).await;
    assert_eq!(a["_rev"], "2-bbb");
    assert_eq!(a["_revisions"], json!({"start": 2, "ids": ["bbb", "aaa"]}));
    let (_, b) = t.json("GET", "/db/b?revs=true", None).await;
    assert_eq!(b["_revisions"], json!({"start": 2, "ids": ["ddd", "ccc"]}));
    let (s, _) = t
        .json(
            "PUT",
            "/db/job",
            Some(
                json!({"source": "a", "_replication_state": "completed", "_replication_id": "r1"}),
            ),
        )
        .await;
    assert_eq!(s, 201);
    let (_, job) = t.json("GET", "/db/job", None).await;
    assert_eq!(
        (&job["_replication_state"], &job["_replication_id"]),
        (&json!("completed"), &json!("r1"))
    );
}

/// CouchDB: `GET /db/doc?rev=OLD&latest=true` answers the newest leaf descending from OLD.
#[tokio::test]
async fn latest_leaf_of_an_old_revision() {
    let t = T::new();
    t.json("PUT", "/db", None).await;
    let (_, r1) = t.json("PUT", "/db/d", Some(json!({"v": 1}))).await;
    let rev1 = r1["rev"].as_str().unwrap().to_string();
    let (_, r2) = t
        .json("PUT", &format!("/db/d?rev={rev1}"), Some(json!({"v": 2})))
        .await;
    let (_, r3) = t
        .json(
            "PUT",
            &format!("/db/d?rev={}", r2["rev"].as_str().unwrap()),
            Some(json!({"v": 3})),
        )
        .await;
    let (s, v) = t
        .json("GET", &format!("/db/d?rev={rev1}&latest=true"), None)
        .await;
    assert_eq!(s, 200);
    assert_eq!((&v["_rev"], &v["v"]), (&r3["rev"], &json!(3)));
    let (_, v) = t.json("GET", &format!("/db/d?rev={rev1}"), None).await;
    assert_eq!(v["v"], 1, "without latest, the revision asked for");
}

/// CouchDB: `_local` documents refuse attachments (400); attachment names starting with `_`
/// are refused (400 `bad_request`, "Attachment name '_x' starts with prohibited character '_'").
#[tokio::test]
async fn attachment_refusals() {
    let t = T::new();
    t.json("PUT", "/db", None).await;
    let (s, v) = t
        .json(
            "PUT",
            "/db/_local/l",
            Some(json!({"_attachments": {"a.txt": {"data": "aGk="}}})),
        )
        .await;
    assert_eq!((s, v["error"].as_str()), (400, Some("bad_request")), "{v}");
    let (s, _, _) = t
        .raw(
            "PUT",
            "/db/_local/l/a.txt",
            &[("content-type", "text/plain")],
            b"hi".to_vec(),
        )
        .await;
    assert_eq!(s, 400);
    let (s, v) = t
        .json(
            "PUT",
            "/db/d",
            Some(json!({"_attachments": {"_x.txt": {"data": "aGk="}}})),
        )
        .await;
    assert_eq!(
        (s, v),
        (
            400,
            json!({"error": "bad_request", "reason": "Attachment name '_x.txt' starts with prohibited character '_'"})
        )
    );
    let (_, r) = t.json("PUT", "/db/e", Some(json!({}))).await;
    let (s, _, b) = t
        .raw(
            "PUT",
            &format!("/db/e/_y?rev={}", r["rev"].as_str().unwrap()),
            &[("content-type", "text/plain")],
            b"hi".to_vec(),
        )
        .await;
    assert_eq!(s, 400, "{}", String::from_utf8_lossy(&b));
}

/// CouchDB: `_changes` reports `pending` (changes after `last_seq`); `_local_docs` lists the
/// local documents (`total_rows` and `offset` null).
#[tokio::test]
async fn changes_pending_and_local_docs() {
    let t = T::new();
    t.seed(
        "db",
        json!([{"_id": "a"}, {"_id": "b"}, {"_id": "c"}, {"_id": "d"}]),
    )
    .await;
    let (_, v) = t.json("GET", "/db/_changes?limit=1", None).await;
    assert_eq!(v["pending"], 3);
    let (_, v) = t.json("GET", "/db/_changes", None).await;
    assert_eq!(v["pending"], 0);
    for id in ["ck1", "ck2"] {
        t.json("PUT", &format!("/db/_local/{id}"), Some(json!({"seq": id})))
            .await;
    }
    let (_, v) = t
        .json("GET", "/db/_local_docs?include_docs=true", None)
        .await;
    assert_eq!(v["total_rows"], Value::Null);
    let ids: Vec<&str> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["_local/ck1", "_local/ck2"]);
    assert_eq!(v["rows"][1]["doc"]["seq"], "ck2");
    assert_eq!(v["rows"][0]["value"]["rev"], "0-1");
    let (_, v) = t
        .json("GET", "/db/_local_docs?descending=true&limit=1", None)
        .await;
    assert_eq!(v["rows"][0]["id"], "_local/ck2");
}

/// CouchDB: `compact_running` is true while a compaction runs, so a client that waits for the
/// compaction (polling `GET /db`) waits; it is false once done.
#[tokio::test]
async fn compact_running_while_compacting() {
    let dir = tempfile::tempdir().unwrap();
    let t = T::over(Arc::new(Engine::open(dir.path()).unwrap()));
    let docs: Vec<Value> = (0..3000)
        .map(|i| json!({"_id": format!("d{i}"), "pad": "x".repeat(200)}))
        .collect();
    t.seed("db", Value::Array(docs)).await;
    // The GET may come after a quick compaction ended (a busy machine can delay it): try a few
    // compactions; at least one must be seen running, and a compaction not seen running must
    // have ended (false, a boolean).
    let mut seen_running = false;
    for _ in 0..5 {
        let (s, _) = t.json("POST", "/db/_compact", Some(json!({}))).await;
        assert_eq!(s, 202);
        let (_, info) = t.json("GET", "/db", None).await;
        if info["compact_running"] == true {
            seen_running = true;
            break;
        }
        assert_eq!(info["compact_running"], false, "a boolean: {info}");
    }
    assert!(
        seen_running,
        "compact_running is true right after POST _compact"
    );
    let mut done = false;
    for _ in 0..600 {
        if t.json("GET", "/db", None).await.1["compact_running"] == false {
            done = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(done, "compaction ends and says so");
}

/// CouchDB's own replicator (source = our server) fetches a document with attachments by
/// `GET /db/doc?revs=true&open_revs=["rev"]&latest=true` with `Accept: multipart/mixed` and no
/// `attachments=true`: the answer must carry the attachment bodies as `follows` parts of a
/// `multipart/related` part (never stubs, or it stops with `missing_stub`).
#[tokio::test]
async fn couchdb_replicator_fetch_of_a_document_with_attachments() {
    let t = T::new();
    t.json("PUT", "/db", None).await;
    let bytes: Vec<u8> = (0..3000u32).map(|i| (i * 7 % 251) as u8).collect();
    use base64::Engine as _;
    let data = base64::engine::general_purpose::STANDARD.encode(&bytes);
    let (_, r) = t
        .json("PUT", "/db/doc", Some(json!({"v": 1, "_attachments": {"f.bin": {"content_type": "application/octet-stream", "data": data}}})))
        .await;
    let rev = r["rev"].as_str().unwrap().to_string();
    // The replicator's sequence: server info, db info, changes, then the document.
    assert_eq!(t.json("GET", "/", None).await.0, 200);
    assert_eq!(t.json("GET", "/db/", None).await.0, 200);
    let (_, ch) = t
        .json(
            "GET",
            "/db/_changes?feed=normal&style=all_docs&since=0",
            None,
        )
        .await;
    assert_eq!(ch["results"][0]["changes"][0]["rev"], rev);
    let uri = format!("/db/doc?revs=true&open_revs=%5B%22{rev}%22%5D&latest=true");
    let (s, h, body) = t
        .raw("GET", &uri, &[("accept", "multipart/mixed")], vec![])
        .await;
    assert_eq!(s, 200);
    let ct = h["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("multipart/mixed"), "{ct}");
    let text = body.clone();
    let inner = find_inner_boundary(&text).expect("a multipart/related part for the document");
    let parts = split_parts(&text, &inner);
    assert_eq!(
        parts.len(),
        2,
        "the JSON document, then the attachment body"
    );
    let json_start = find(&parts[0], b"\r\n\r\n").unwrap() + 4;
    let doc: Value = serde_json::from_slice(&parts[0][json_start..]).unwrap();
    assert_eq!(doc["_attachments"]["f.bin"]["follows"], true, "{doc}");
    assert!(doc["_attachments"]["f.bin"].get("stub").is_none());
    assert_eq!(doc["_revisions"]["start"], 1);
    let att_start = find(&parts[1], b"\r\n\r\n").unwrap() + 4;
    assert_eq!(&parts[1][att_start..], &bytes[..], "the attachment bytes");
    // atts_since at the current revision trims the body back to a stub.
    let uri = format!("/db/doc?revs=true&open_revs=%5B%22{rev}%22%5D&atts_since=%5B%22{rev}%22%5D");
    let (_, _, body) = t
        .raw("GET", &uri, &[("accept", "multipart/mixed")], vec![])
        .await;
    assert!(find_inner_boundary(&body).is_none());
    assert!(String::from_utf8_lossy(&body).contains("\"stub\":true"));
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn find_inner_boundary(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let at = text.find("multipart/related; boundary=\"")? + "multipart/related; boundary=\"".len();
    let end = text[at..].find('"')?;
    Some(text[at..at + end].to_string())
}

fn split_parts(body: &[u8], boundary: &str) -> Vec<Vec<u8>> {
    let delim = format!("--{boundary}");
    let mut parts = vec![];
    let mut rest = body;
    while let Some(i) = find(rest, delim.as_bytes()) {
        rest = &rest[i + delim.len()..];
        if rest.starts_with(b"--") {
            break;
        }
        let end = find(rest, format!("\r\n{delim}").as_bytes()).unwrap_or(rest.len());
        parts.push(rest[2..end].to_vec());
        rest = &rest[end..];
    }
    parts
}

/// CouchDB: an exception thrown in a JavaScript reduce does not fail the query: that reduction
/// is `null` (and the error is logged); the other groups keep their values.
#[tokio::test]
async fn a_throwing_reduce_gives_null_for_that_reduction() {
    let t = T::new();
    t.seed(
        "db",
        json!([{"g": "a", "n": 1}, {"g": "a", "n": 2}, {"g": "b", "n": 5}]),
    )
    .await;
    t.json("PUT", "/db/_design/app", Some(json!({"views": {"r": {
        "map": "function (doc) { emit(doc.g, doc.n); }",
        "reduce": "function (keys, values, rereduce) { if (!rereduce && keys.some(function (k) { return k[0] === 'b'; })) throw new Error('no b'); return sum(values); }"
    }}})))
    .await;
    let (s, v) = t
        .json("GET", "/db/_design/app/_view/r?group=true", None)
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["rows"],
        json!([{"key": "a", "value": 3}, {"key": "b", "value": null}])
    );
    let (s, v) = t.json("GET", "/db/_design/app/_view/r", None).await;
    assert_eq!((s, &v["rows"][0]["value"]), (200, &Value::Null), "{v}");
}
