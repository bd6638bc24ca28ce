//! The Run panel: a transaction's form (variables), a run as a user with the documents it
//! wrote, a refused run, and the history.

use fullsync_engine::ReadOptions;
use serde_json::json;

mod common;
use common::{call, sample_studio};

#[test]
fn a_post_document_run_as_a_user_writes_his_document_and_is_kept_in_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let (s, engine, _) = sample_studio(dir.path());
    s.stop_listeners();
    let l = call(&s, json!({"cmd": "transactions_list"}));
    let post = l["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "PostOrder")
        .unwrap()
        .clone();
    assert_eq!(post["kind"], "PostDocument");
    assert_eq!(post["supported"], true);
    let items = post["variables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "items")
        .unwrap()
        .clone();
    assert_eq!(items["multi_valued"], true);

    let missing = call(
        &s,
        json!({"cmd": "transaction_run", "args": {"connector": "orders", "name": "PostOrder", "vars": {"customer": "ann"}}}),
    );
    assert_eq!(missing["ok"], false);
    assert!(
        missing["error"]
            .as_str()
            .unwrap()
            .contains("`total` is required"),
        "{missing}"
    );
    assert_eq!(missing["written"], json!([]));

    let run = call(
        &s,
        json!({"cmd": "transaction_run", "args": {"connector": "orders", "name": "PostOrder", "user": "ann",
            "vars": {"_id": "order-run-1", "customer": "ann", "total": 12.5, "items": ["p1", "p2"]}}}),
    );
    assert_eq!(run["ok"], true, "{run}");
    assert_eq!(run["response"]["ok"], true, "{run}");
    assert_eq!(run["written"][0]["id"], "order-run-1", "{run}");
    let doc = &run["written"][0]["doc"];
    assert_eq!(doc["~c8oAcl"], "ann", "fromAuthenticatedUser: {doc}");
    assert_eq!(doc["status"], "pending", "p_json_base: {doc}");
    assert_eq!(doc["items"], json!(["p1", "p2"]));
    assert!(engine
        .db("orders")
        .unwrap()
        .get("order-run-1", None, &ReadOptions::default())
        .is_ok());

    let h = call(&s, json!({"cmd": "transaction_history"}));
    let runs = h["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["index"], 2, "newest first");
    assert_eq!(runs[0]["user"], "ann");
    assert_eq!(runs[1]["ok"], false);
}

#[test]
fn a_mango_query_answers_documents_and_its_explain() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _, _) = sample_studio(dir.path());
    s.stop_listeners();
    call(
        &s,
        json!({"cmd": "sample_data_load", "args": {"db": "orders"}}),
    );
    let r = call(
        &s,
        json!({"cmd": "mango_query", "args": {"db": "orders", "query": {"selector": {"type": "order", "date": {"$gt": "2026"}}, "fields": ["_id", "date"], "sort": [{"type": "asc"}, {"date": "asc"}], "limit": 3}}}),
    );
    let docs = r["find"]["docs"].as_array().unwrap();
    assert_eq!(docs.len(), 3, "{r}");
    assert!(docs[0]["date"].as_str().unwrap() <= docs[1]["date"].as_str().unwrap());
    assert_eq!(
        r["explain"]["index"]["name"], "by_date",
        "the project's index answers: {}",
        r["explain"]
    );
    let e = s
        .handle_json(
            json!({"cmd": "mango_query", "args": {"db": "orders", "query": {"fields": ["a"]}}}),
        )
        .unwrap_err();
    assert!(e.message.contains("selector"), "{}", e.message);
    let e = s
        .handle_json(json!({"cmd": "mango_query", "args": {"db": "orders", "query": {"selector": {"a": {"$bogus": 1}}}}}))
        .unwrap_err();
    assert!(e.message.contains("$bogus"), "{}", e.message);
}
