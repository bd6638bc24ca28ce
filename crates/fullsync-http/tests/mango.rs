//! Mango (`_find`, `_index`, `_explain`) over HTTP, checked against CouchDB 3.x's documented
//! answers. Each test names where CouchDB states the behaviour:
//!
//! - [find]: "/{db}/_find", "/{db}/_index", "/{db}/_explain" and "Index selection",
//!   <https://docs.couchdb.org/en/3.5.2.post2/api/database/find.html>
//!   (apache/couchdb `src/docs/src/api/database/find.rst`);
//! - [mango]: "Mango Queries" (selector syntax, operators, partial indexes),
//!   <https://docs.couchdb.org/en/stable/ddocs/mango.html>
//!   (apache/couchdb `src/docs/src/ddocs/mango.rst`);
//! - the error and warning texts are CouchDB's own (apache/couchdb `src/mango/src/
//!   mango_error.erl` and `mango_cursor.erl`, the `error`/`reason` pairs the pages above send
//!   their readers to).

use fullsync_testkit::TestServer;
use serde_json::{json, Value};

/// A server on a fresh in-memory engine, queried as the admin.
struct T {
    s: TestServer,
}

const NO_INDEX: &str = "No matching index found, create an index to optimize query time.";

impl T {
    fn new() -> T {
        T {
            s: TestServer::with_admin(),
        }
    }

    async fn json(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.s.json(method, path, body).await
    }

    /// A database `db` holding `docs`.
    async fn with_docs(docs: Value) -> T {
        let t = T::new();
        assert_eq!(t.json("PUT", "/db", None).await.0, 201);
        let (s, v) = t
            .json("POST", "/db/_bulk_docs", Some(json!({ "docs": docs })))
            .await;
        assert_eq!(s, 201, "{v}");
        t
    }

    async fn find(&self, body: Value) -> (u16, Value) {
        self.json("POST", "/db/_find", Some(body)).await
    }

    /// The ids `_find` answers (status 200 asserted).
    async fn ids(&self, body: Value) -> Vec<String> {
        let (s, v) = self.find(body).await;
        assert_eq!(s, 200, "{v}");
        ids(&v)
    }

    /// The name of the index `_explain` says `_find` uses.
    async fn explained(&self, body: Value) -> String {
        let (s, v) = self.json("POST", "/db/_explain", Some(body)).await;
        assert_eq!(s, 200, "{v}");
        v["index"]["name"].as_str().unwrap().to_string()
    }

    async fn index(&self, body: Value) -> Value {
        let (s, v) = self.json("POST", "/db/_index", Some(body)).await;
        assert_eq!(s, 200, "{v}");
        v
    }
}

fn ids(v: &Value) -> Vec<String> {
    v["docs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["_id"].as_str().unwrap().to_string())
        .collect()
}

/// [mango] "Condition Operators": `$lt $lte $eq $ne $gte $gt` take "Any JSON" argument, and
/// "comparison of strings is done with ICU" (view collation: null < false < true < numbers <
/// strings < arrays < objects); the selector `{"_id": {"$gt": null}}` is the documented way to
/// match every document through `_all_docs`.
#[tokio::test]
async fn comparisons_collate_across_json_types() {
    let t = T::with_docs(json!([
        {"_id": "01-null", "v": null},
        {"_id": "02-false", "v": false},
        {"_id": "03-true", "v": true},
        {"_id": "04-one", "v": 1},
        {"_id": "05-a", "v": "a"},
        {"_id": "06-A", "v": "A"},
        {"_id": "07-b", "v": "b"},
        {"_id": "08-B", "v": "B"},
        {"_id": "09-array", "v": [1]},
        {"_id": "10-object", "v": {"k": 1}},
        {"_id": "11-none"},
    ]))
    .await;
    let all: Vec<String> = [
        "01-null",
        "02-false",
        "03-true",
        "04-one",
        "05-a",
        "06-A",
        "07-b",
        "08-B",
        "09-array",
        "10-object",
        "11-none",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(
        t.ids(json!({"selector": {"_id": {"$gt": null}}})).await,
        all
    );
    assert_eq!(
        t.ids(json!({"selector": {"v": {"$gt": null}}})).await,
        all[1..10].to_vec(),
        "every value but null (and not the document without v)"
    );
    assert_eq!(
        t.ids(json!({"selector": {"v": {"$lt": "a"}}})).await,
        ["01-null", "02-false", "03-true", "04-one"]
    );
    assert_eq!(
        t.ids(json!({"selector": {"v": {"$gte": []}}})).await,
        ["09-array", "10-object"]
    );
    assert_eq!(
        t.ids(json!({"selector": {"v": {"$lte": true, "$gt": null}}}))
            .await,
        ["02-false", "03-true"]
    );
    // ICU root collation: a < A < b < B (code points would give A < B < a < b).
    assert_eq!(
        t.ids(json!({"selector": {"v": {"$gt": "A", "$lt": "B"}}}))
            .await,
        ["07-b"]
    );
    assert_eq!(
        t.ids(json!({"selector": {"v": {"$eq": 1.0}}})).await,
        ["04-one"]
    );
    assert_eq!(
        t.ids(json!({"selector": {"v": {"$eq": {"k": 1}}}})).await,
        ["10-object"]
    );
    // [mango]: "$ne means the specified field must exist".
    assert_eq!(
        t.ids(json!({"selector": {"v": {"$ne": "a"}}})).await.len(),
        9
    );
}

/// `_changes?filter=_selector` matches with the same selector engine: cross-type comparisons
/// work there too ([mango] operators; CouchDB's `_changes` selector filter is a Mango selector).
#[tokio::test]
async fn changes_selector_filter_compares_across_types() {
    let t = T::with_docs(json!([
        {"_id": "a", "n": 1},
        {"_id": "b", "n": "x"},
        {"_id": "c"},
    ]))
    .await;
    let (s, v) = t
        .json(
            "POST",
            "/db/_changes?filter=_selector",
            Some(json!({"selector": {"n": {"$gt": null}}})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let mut got: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    got.sort();
    assert_eq!(got, ["a", "b"]);
}

/// [mango] `$regex`: "Only matches when the field is a string value and matches the supplied
/// regular expression", PCRE syntax (Erlang `re`); an invalid pattern is refused by CouchDB's
/// selector normalization with `400 {"error": "bad_arg", "reason": "Bad argument for operator
/// $regex: ..."}`.
#[tokio::test]
async fn regex_operator() {
    let t = T::with_docs(json!([
        {"_id": "1", "name": "Alice"},
        {"_id": "2", "name": "alfred"},
        {"_id": "3", "name": "Bob"},
        {"_id": "4", "name": 42},
    ]))
    .await;
    assert_eq!(
        t.ids(json!({"selector": {"name": {"$regex": "^A"}}})).await,
        ["1"]
    );
    assert_eq!(
        t.ids(json!({"selector": {"name": {"$regex": "(?i)^al"}}}))
            .await,
        ["1", "2"]
    );
    assert_eq!(
        t.ids(json!({"selector": {"name": {"$regex": "^[A-Z][a-z]{2}$"}}}))
            .await,
        ["3"]
    );
    assert!(
        t.ids(json!({"selector": {"name": {"$regex": "4"}}}))
            .await
            .is_empty(),
        "a number never matches $regex"
    );
    let (s, v) = t
        .find(json!({"selector": {"name": {"$regex": "[a"}}}))
        .await;
    assert_eq!((s, v["error"].as_str()), (400, Some("bad_arg")), "{v}");
    assert!(v["reason"]
        .as_str()
        .unwrap()
        .starts_with("Bad argument for operator $regex"));
    let (s, v) = t.find(json!({"selector": {"name": {"$regex": 1}}})).await;
    assert_eq!((s, v["error"].as_str()), (400, Some("bad_arg")), "{v}");
}

/// Field names: [mango] (3.5, "Selectors" warning): "Field names starting with `$` must be
/// escaped with `\` (eg, `\$foo`) ("Invalid operator: $")" and "Empty field names ("") cannot
/// be queried ("One or more conditions is missing a field name.")"; CouchDB's field parser
/// (`mango_util:parse_field`) splits on unescaped dots and drops the backslashes, so
/// `"\\$foo"` is the field `$foo` and `"a\\.b"` the field `a.b`, while `"a.b"` is the
/// sub-field `b` of `a`.
#[tokio::test]
async fn escaped_field_names() {
    let t = T::with_docs(json!([
        {"_id": "1", "$foo": 1, "a.b": 2, "a": {"b": 3}},
        {"_id": "2", "$foo": 2, "a.b": 3, "a": {"b": 2}},
    ]))
    .await;
    assert_eq!(t.ids(json!({"selector": {"\\$foo": 1}})).await, ["1"]);
    assert_eq!(t.ids(json!({"selector": {"a\\.b": 2}})).await, ["1"]);
    assert_eq!(t.ids(json!({"selector": {"a.b": 2}})).await, ["2"]);
    let (_, v) = t
        .find(json!({"selector": {"\\$foo": 2}, "fields": ["_id", "a\\.b"]}))
        .await;
    assert_eq!(v["docs"], json!([{"_id": "2", "a.b": 3}]));
    let (s, v) = t.find(json!({"selector": {"$foo": 1}})).await;
    assert_eq!(
        (s, v),
        (
            400,
            json!({"error": "invalid_operator", "reason": "Invalid operator: $foo"})
        )
    );
    let (s, v) = t.find(json!({"selector": {"": 1}})).await;
    assert_eq!(
        (s, v),
        (
            400,
            json!({"error": "invalid_selector",
                "reason": "One or more conditions is missing a field name."})
        )
    );
}

/// [mango] `$in`/`$nin`: "Array of JSON values", `$all`: an array whose elements must all be
/// in the field's array; the elements are values, compared whole, so objects (even with
/// `$`-keys) are plain values, not selectors. `$nin`, like every condition, needs the field.
#[tokio::test]
async fn objects_as_values_in_in_nin_all() {
    let t = T::with_docs(json!([
        {"_id": "1", "o": {"k": 1}},
        {"_id": "2", "o": {"k": 2}},
        {"_id": "3", "tags": [{"k": 1}, {"k": 2}]},
        {"_id": "4", "o": {"$k": 1}},
    ]))
    .await;
    assert_eq!(
        t.ids(json!({"selector": {"o": {"$in": [{"k": 1}, {"k": 3}]}}}))
            .await,
        ["1"]
    );
    assert_eq!(
        t.ids(json!({"selector": {"o": {"$nin": [{"k": 1}]}}}))
            .await,
        ["2", "4"]
    );
    assert_eq!(
        t.ids(json!({"selector": {"tags": {"$all": [{"k": 2}, {"k": 1}]}}}))
            .await,
        ["3"]
    );
    assert_eq!(
        t.ids(json!({"selector": {"tags": {"$in": [{"k": 2}]}}}))
            .await,
        ["3"],
        "$in matches an array field holding one of the values"
    );
    assert_eq!(
        t.ids(json!({"selector": {"o": {"$in": [{"$k": 1}]}}}))
            .await,
        ["4"]
    );
    assert_eq!(
        t.ids(json!({"selector": {"o": {"$eq": {"$k": 1}}}})).await,
        ["4"]
    );
    let (s, v) = t.find(json!({"selector": {"o": {"$in": {"k": 1}}}})).await;
    assert_eq!((s, v["error"].as_str()), (400, Some("bad_arg")), "{v}");
}

/// [find] `POST /{db}/_index`: `result` is "created" or "exists" ("Flag to show whether the
/// index was created or one already exists"); indexes with the same fields and different names
/// are different indexes, both listed; [find] "Index selection": between equally good JSON
/// indexes, "the index with the first alphabetical name is chosen".
#[tokio::test]
async fn indexes_with_same_fields_and_different_names() {
    let t = T::with_docs(json!([{"_id": "1", "n": 1}, {"_id": "2", "n": 2}, {"_id": "3"}])).await;
    let b = t
        .index(json!({"index": {"fields": ["n"]}, "ddoc": "same", "name": "by_n_b"}))
        .await;
    assert_eq!(
        b,
        json!({"result": "created", "id": "_design/same", "name": "by_n_b"})
    );
    let a = t
        .index(json!({"index": {"fields": ["n"]}, "ddoc": "same", "name": "by_n_a"}))
        .await;
    assert_eq!(
        a,
        json!({"result": "created", "id": "_design/same", "name": "by_n_a"})
    );
    let again = t
        .index(json!({"index": {"fields": ["n"]}, "ddoc": "same", "name": "by_n_a"}))
        .await;
    assert_eq!(again["result"], "exists");
    let (_, list) = t.json("GET", "/db/_index", None).await;
    let names: Vec<&str> = list["indexes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["_all_docs", "by_n_b", "by_n_a"]);
    assert_eq!(list["total_rows"], 3);
    let q = json!({"selector": {"n": {"$gt": 0}}});
    assert_eq!(t.explained(q.clone()).await, "by_n_a");
    let (_, v) = t.find(q.clone()).await;
    assert_eq!(ids(&v), ["1", "2"]);
    assert!(v.get("warning").is_none(), "{v}");
    // The other one stays usable by name.
    let named = json!({"selector": {"n": {"$gt": 0}}, "use_index": ["same", "by_n_b"]});
    assert_eq!(t.explained(named).await, "by_n_b");
    assert_eq!(
        t.json("DELETE", "/db/_index/same/json/by_n_a", None)
            .await
            .1,
        json!({"ok": true})
    );
    assert_eq!(t.explained(q).await, "by_n_b");
    // Without a ddoc, each index gets its own design document.
    let other = t
        .index(json!({"index": {"fields": ["n"]}, "name": "by_n_c"}))
        .await;
    assert_eq!(other["result"], "created");
    assert_ne!(other["id"], "_design/same");
    let (_, list) = t.json("GET", "/db/_index", None).await;
    assert_eq!(list["total_rows"], 3, "_all_docs, by_n_b, by_n_c");
}

/// [find] "Sort Syntax": "Find does not support multiple fields with different sort orders, so
/// the directions must be either all ascending or all descending"; CouchDB answers `400
/// {"error": "unsupported_mixed_sort", "reason": "Sorts currently only support a single
/// direction for all fields."}`, for `_find`, `_explain` and index definitions alike.
#[tokio::test]
async fn mixed_sort_directions_are_refused() {
    let t = T::with_docs(json!([
        {"_id": "1", "a": 1, "b": 2},
        {"_id": "2", "a": 1, "b": 1},
        {"_id": "3", "a": 2, "b": 0},
    ]))
    .await;
    t.index(json!({"index": {"fields": ["a", "b"]}, "name": "ab"}))
        .await;
    let mixed = json!({"error": "unsupported_mixed_sort",
        "reason": "Sorts currently only support a single direction for all fields."});
    let q = json!({"selector": {"a": {"$gt": 0}}, "sort": [{"a": "asc"}, {"b": "desc"}]});
    assert_eq!(t.find(q.clone()).await, (400, mixed.clone()));
    assert_eq!(
        t.json("POST", "/db/_explain", Some(q)).await,
        (400, mixed.clone())
    );
    assert_eq!(
        t.json(
            "POST",
            "/db/_index",
            Some(json!({"index": {"fields": [{"a": "asc"}, {"b": "desc"}]}}))
        )
        .await,
        (400, mixed)
    );
    let desc = json!({"selector": {"a": {"$gt": 0}}, "sort": [{"a": "desc"}, {"b": "desc"}]});
    assert_eq!(t.ids(desc).await, ["3", "1", "2"]);
    let asc = json!({"selector": {"a": {"$gt": 0}}, "sort": ["a", "b"]});
    assert_eq!(t.ids(asc).await, ["2", "1", "3"]);
}

/// [mango] "Partial Indexes": documents that do not match `partial_filter_selector` are not in
/// the index, and "Partial indexes are not currently used by the query planner unless
/// specified by a `use_index` field"; [find] "Index selection": partial indexes are eliminated
/// (reason `is_partial`) unless named by `use_index`; `GET /{db}/_index` lists the definition.
#[tokio::test]
async fn partial_filter_selector() {
    let t = T::with_docs(json!([
        {"_id": "u1", "type": "user", "status": "active"},
        {"_id": "u2", "type": "user", "status": "archived"},
        {"_id": "u3", "type": "user"},
        {"_id": "g1", "type": "group", "status": "active"},
    ]))
    .await;
    let created = t
        .index(json!({
            "index": {
                "partial_filter_selector": {"status": {"$ne": "archived"}},
                "fields": ["type"]
            },
            "ddoc": "type-not-archived",
            "type": "json"
        }))
        .await;
    assert_eq!(created["result"], "created");
    assert_eq!(created["id"], "_design/type-not-archived");
    let (_, list) = t.json("GET", "/db/_index", None).await;
    let def = &list["indexes"][1]["def"];
    assert_eq!(
        def,
        &json!({"fields": [{"type": "asc"}], "partial_filter_selector": {"status": {"$ne": "archived"}}})
    );
    let q = json!({"selector": {"type": "user"}});
    assert_eq!(t.explained(q.clone()).await, "_all_docs");
    let (_, x) = t.json("POST", "/db/_explain", Some(q.clone())).await;
    let partial = x["index_candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["index"]["ddoc"] == "_design/type-not-archived")
        .expect("the partial index is a candidate");
    assert_eq!(partial["analysis"]["usable"], false);
    assert_eq!(
        partial["analysis"]["reasons"],
        json!([{"name": "is_partial"}])
    );
    let (_, v) = t.find(q).await;
    assert_eq!(ids(&v), ["u1", "u2", "u3"]);
    assert_eq!(v["warning"], NO_INDEX);
    let named = json!({"selector": {"type": "user"}, "use_index": "type-not-archived"});
    let (s, x) = t.json("POST", "/db/_explain", Some(named.clone())).await;
    assert_eq!(s, 200);
    assert_eq!(x["index"]["ddoc"], "_design/type-not-archived");
    let (_, v) = t.find(named).await;
    // u2 is archived; u3 has no status, and `$ne` needs the field: neither is in the index.
    assert_eq!(ids(&v), ["u1"]);
    assert!(v.get("warning").is_none(), "{v}");
}

/// [find] "Index selection" (and [mango]'s note "An index with fields is only used, when the
/// selector includes all of the fields indexed", `_id`/`_rev` excepted): with no `sort`, a JSON
/// index is chosen when the selector requires all its fields; among usable ones the closest
/// match of fields wins (`less_overlap`), then the fewest fields (`too_many_fields`); with none
/// usable, `_all_docs` answers with the warning "No matching index found, create an index to
/// optimize query time."; `_explain` names the index `_find` uses.
#[tokio::test]
async fn index_selection_without_sort() {
    let t = T::with_docs(json!([
        {"_id": "1", "n": 3, "m": 2, "x": 1},
        {"_id": "2", "n": 1, "m": 2},
        {"_id": "3", "n": 2},
        {"_id": "4", "m": 2},
    ]))
    .await;
    let q = |sel: Value| json!({ "selector": sel });
    // No index yet: _all_docs, with CouchDB's warning.
    let (_, v) = t.find(q(json!({"n": {"$gt": 1}}))).await;
    assert_eq!(ids(&v), ["1", "3"]);
    assert_eq!(v["warning"], NO_INDEX);
    t.index(json!({"index": {"fields": ["n"]}, "ddoc": "ix", "name": "by_n"}))
        .await;
    t.index(json!({"index": {"fields": ["n", "m"]}, "ddoc": "ix", "name": "by_n_m"}))
        .await;
    t.index(json!({"index": {"fields": ["n", "x"]}, "ddoc": "ix", "name": "a_n_x"}))
        .await;
    assert_eq!(t.explained(q(json!({"n": {"$gt": 1}}))).await, "by_n");
    let (_, v) = t.find(q(json!({"n": {"$gt": 1}}))).await;
    assert_eq!(ids(&v), ["3", "1"], "index order: by n");
    assert!(v.get("warning").is_none(), "{v}");
    // Both fields constrained: the two-field index covers more of the selector.
    assert_eq!(
        t.explained(q(json!({"n": {"$gt": 0}, "m": 2}))).await,
        "by_n_m"
    );
    // x only required to exist ($exists is not a range): by_n and a_n_x match as well, and the
    // one with fewer fields wins although "a_n_x" sorts first.
    let (_, x) = t
        .json(
            "POST",
            "/db/_explain",
            Some(q(json!({"n": {"$gt": 0}, "x": {"$exists": true}}))),
        )
        .await;
    assert_eq!(x["index"]["name"], "by_n");
    let reason = |name: &str| {
        x["index_candidates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["index"]["name"] == name)
            .map(|c| c["analysis"]["reasons"][0]["name"].clone())
    };
    assert_eq!(reason("a_n_x"), Some(json!("too_many_fields")));
    assert_eq!(reason("by_n_m"), Some(json!("field_mismatch")));
    assert_eq!(reason("_all_docs"), Some(json!("unfavored_type")));
    // A field required in every branch of an $or counts; in one branch only, it does not.
    assert_eq!(
        t.explained(q(json!({"$or": [{"n": 1}, {"n": 2}]}))).await,
        "by_n"
    );
    assert_eq!(
        t.explained(q(json!({"$or": [{"n": 1}, {"m": 2}]}))).await,
        "_all_docs"
    );
    // Negations are pushed down to the fields (CouchDB's selector normalization):
    // {"$not": {"n": 1}} is {"n": {"$ne": 1}}, which needs n, so by_n serves it and the
    // document without n is not an answer; a $not left on a field ($regex has no opposite)
    // does not prove the field exists (apache/couchdb#1719), so _all_docs serves that one.
    let not = q(json!({"$not": {"n": 1}}));
    assert_eq!(t.explained(not.clone()).await, "by_n");
    assert_eq!(t.ids(not).await, ["3", "1"]);
    assert_eq!(
        t.explained(q(json!({"n": {"$not": {"$regex": "^x"}}})))
            .await,
        "_all_docs"
    );
    // $exists: false does not require the field.
    let (_, v) = t.find(q(json!({"n": {"$exists": false}}))).await;
    assert_eq!(ids(&v), ["4"]);
    assert_eq!(v["warning"], NO_INDEX);
}

/// [find] `use_index`: "It is not guaranteed that the index will be actually used because if
/// the index is not valid for the selector, fallback to a valid index is attempted ... the
/// details are given in the `warning` field"; CouchDB's warnings are "_design/X was not used
/// because it does not contain a valid index for this query." and "_design/X, NAME was not
/// used because it is not a valid index for this query.", joined by a newline with the
/// `_all_docs` warning. A `sort` no usable index covers is `400 no_usable_index`.
#[tokio::test]
async fn use_index_fallback_and_sort_without_index() {
    let t = T::with_docs(json!([{"_id": "1", "n": 1, "m": 1}, {"_id": "2", "m": 2}])).await;
    t.index(json!({"index": {"fields": ["n"]}, "ddoc": "ix", "name": "by_n"}))
        .await;
    let (s, v) = t
        .find(json!({"selector": {"m": {"$gt": 0}}, "use_index": "ix"}))
        .await;
    assert_eq!(s, 200);
    assert_eq!(ids(&v), ["1", "2"]);
    assert_eq!(
        v["warning"],
        format!(
            "_design/ix was not used because it does not contain a valid index for this query.\n{NO_INDEX}"
        )
    );
    let (_, v) = t
        .find(json!({"selector": {"m": {"$gt": 0}}, "use_index": ["_design/ix", "by_n"]}))
        .await;
    assert_eq!(
        v["warning"],
        format!("_design/ix, by_n was not used because it is not a valid index for this query.\n{NO_INDEX}")
    );
    let (_, v) = t
        .find(json!({"selector": {"n": {"$gt": 0}}, "use_index": ["ix", "by_n"]}))
        .await;
    assert_eq!(ids(&v), ["1"]);
    assert!(v.get("warning").is_none(), "{v}");
    let (s, v) = t
        .find(json!({"selector": {"m": {"$gt": 0}}, "sort": ["m"]}))
        .await;
    assert_eq!(
        (s, v),
        (
            400,
            json!({"error": "no_usable_index",
                "reason": "No index exists for this sort, try indexing by the sort fields."})
        )
    );
    // Sorting on _id needs no index.
    let (s, v) = t
        .find(json!({"selector": {"m": {"$gt": 0}}, "sort": [{"_id": "desc"}]}))
        .await;
    assert_eq!((s, ids(&v)), (200, vec!["2".to_string(), "1".to_string()]));
}
