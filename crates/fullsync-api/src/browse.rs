//! The workbench's data commands: a page of a database's documents (server-side paging by id,
//! with an id prefix, a Mango selector and a "conflicted only" filter), the revision tree of a
//! document, the fields found in a sample of documents (editor completions), and running a
//! filter or `validate_doc_update` function over chosen documents (the tester).

use std::collections::{BTreeMap, BTreeSet};

use fullsync_engine::{AllDocsOptions, OpenRev, OpenRevs, ReadOptions, Rev, Selector};
use fullsync_views::js::{FnSet, JsError};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::{ApiError, ErrorCode, Studio};

/// How many documents one `docs_page` call reads at most while looking for matches (a
/// selective filter over a large database answers in steps: `next` says where to go on).
const SCAN_BUDGET: usize = 10_000;
/// Rows read from the engine per batch while scanning.
const BATCH: usize = 500;

/// Arguments of `docs_page`.
#[derive(Debug, Deserialize, ts_rs::TS)]
pub struct DocsPageArgs {
    /// Database.
    pub db: String,
    /// Only ids starting with this.
    #[serde(default)]
    #[ts(as = "Option<String>", optional)]
    pub prefix: String,
    /// Start after this id (the `next` of the previous page); none: from the first id.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub after: Option<String>,
    /// Rows to skip first (jumping into the middle of an unfiltered list).
    #[serde(default)]
    #[ts(as = "Option<f64>", optional)]
    pub skip: usize,
    /// At most this many rows.
    #[serde(default = "hundred")]
    #[ts(as = "Option<f64>", optional)]
    pub limit: usize,
    /// Ids in descending order.
    #[serde(default)]
    #[ts(as = "Option<bool>", optional)]
    pub descending: bool,
    /// Only documents matching this Mango selector.
    #[serde(default)]
    #[ts(as = "Option<serde_json::Value>", optional = nullable)]
    pub selector: Option<Value>,
    /// Only documents with conflicting revisions.
    #[serde(default)]
    #[ts(as = "Option<bool>", optional)]
    pub conflicted: bool,
}

fn hundred() -> usize {
    100
}

/// Arguments of `fn_test`.
#[derive(Debug, Deserialize, ts_rs::TS)]
pub struct FnTestArgs {
    /// Database (the documents' current revisions are the `oldDoc` of `validate_doc_update`).
    pub db: String,
    /// `filter` or `validate`.
    pub kind: TestKind,
    /// The function's source (the editor's text, saved or not).
    pub source: String,
    /// The documents to try (typed or picked).
    pub docs: Vec<Value>,
    /// For `validate`: the user's name (none: anonymous).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub user: Option<String>,
    /// For `validate`: the user's roles.
    #[serde(default)]
    #[ts(as = "Option<Vec<String>>", optional)]
    pub roles: Vec<String>,
    /// For `filter`: the request's query parameters (`req.query`).
    #[serde(default)]
    #[ts(as = "Option<serde_json::Value>", optional)]
    pub query: Value,
}

/// Which function `fn_test` runs.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum TestKind {
    /// A `_changes` filter: `function (doc, req)`, truthy passes.
    Filter,
    /// `validate_doc_update(newDoc, oldDoc, userCtx, secObj)`: accepts unless it throws.
    Validate,
}

/// `docs_page`'s answer: one page of documents.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct DocsPage {
    /// Documents in the database (not counting design documents' filters).
    #[ts(type = "number")]
    pub total: u64,
    /// The page's rows, in id order.
    pub rows: Vec<DocRow>,
    /// Where the next page starts (pass it as `after`); none: this was the last page.
    pub next: Option<String>,
    /// Documents read to fill this page (a selective filter reads more than it answers).
    #[ts(type = "number")]
    pub scanned: usize,
}

/// One row of [`DocsPage`].
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct DocRow {
    /// Document id.
    pub id: String,
    /// The winning revision.
    pub rev: String,
    /// The other live leaf revisions (empty: not conflicted).
    pub conflicts: Vec<String>,
    /// The winning body (without `_conflicts`).
    #[ts(type = "Record<string, JsonValue>")]
    pub doc: Value,
}

/// `doc_tree`'s answer: a document's revision tree.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct DocTree {
    /// Document id.
    pub id: String,
    /// The winning revision (a deleted leaf when every leaf is deleted).
    pub winner: Option<String>,
    /// Every leaf is deleted.
    pub deleted: bool,
    /// Every revision the tree knows, in revision order.
    pub revs: Vec<RevNode>,
}

/// One revision of [`DocTree`].
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct RevNode {
    /// `N-hash`.
    pub rev: String,
    /// The revision it was written on top of (none: the first one known).
    pub parent: Option<String>,
    /// A leaf of the tree.
    pub leaf: bool,
    /// A deleted leaf.
    pub deleted: bool,
    /// The winning revision.
    pub winner: bool,
    /// Its body is still stored (compaction drops the bodies of non-leaf revisions).
    pub available: bool,
}

/// `doc_fields`' answer: the fields seen in a sample of a database's documents.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct DocFields {
    /// Database.
    pub db: String,
    /// Documents read.
    #[ts(type = "number")]
    pub sampled: usize,
    /// Fields by path (`a.b` for nested objects), in path order.
    pub fields: Vec<FieldInfo>,
}

/// One field of [`DocFields`].
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct FieldInfo {
    /// `a.b.c`.
    pub path: String,
    /// JSON types seen (`string`, `number`, `boolean`, `null`, `array`, `object`).
    pub types: Vec<String>,
    /// In how many sampled documents.
    #[ts(type = "number")]
    pub count: usize,
    /// A scalar value seen (strings cut at 40 characters); none for objects and arrays.
    pub example: Option<Value>,
}

/// `fn_test`'s answer: each document's verdict.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct FnTestAnswer {
    /// `filter` or `validate_doc_update`.
    pub kind: String,
    /// One per document, in the order given.
    pub results: Vec<FnVerdict>,
    /// How many passed.
    #[ts(type = "number")]
    pub passed: usize,
    /// How many failed.
    #[ts(type = "number")]
    pub failed: usize,
}

/// One document's verdict in [`FnTestAnswer`].
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct FnVerdict {
    /// Its `_id`, or `(document N)`.
    pub id: String,
    /// The filter passed it / `validate_doc_update` accepted it.
    pub pass: bool,
    /// Why not: what the function threw (`forbidden: ...`, `unauthorized: ...`, `threw: ...`).
    pub message: Option<String>,
}

impl Studio {
    /// `docs_page`: one page of documents in id order, each with its body and conflicts.
    pub(crate) fn docs_page(&self, a: DocsPageArgs) -> Result<DocsPage, ApiError> {
        let dbh = self.engine.db(&a.db)?;
        let total = dbh.info()?.doc_count;
        let selector = selector_of(a.selector.as_ref())?;
        let limit = a.limit.clamp(1, 1_000);
        let filtered = selector.is_some() || a.conflicted;
        let (lo, hi) = if a.prefix.is_empty() {
            (None, None)
        } else {
            (
                Some(a.prefix.clone()),
                Some(format!("{}\u{10ffff}", a.prefix)),
            )
        };
        let mut rows = vec![];
        let mut scanned = 0usize;
        // The last id read: where the next page starts (after it).
        let mut cursor = a.after.clone();
        let mut skip = a.skip;
        let mut done = false;
        while rows.len() < limit && scanned < SCAN_BUDGET {
            let start = cursor
                .clone()
                .or(if a.descending { hi.clone() } else { lo.clone() });
            let end = if a.descending { lo.clone() } else { hi.clone() };
            let want = if filtered { BATCH } else { limit - rows.len() };
            // After a cursor, the cursor itself comes back first: one more row, then dropped.
            let ask = want + usize::from(cursor.is_some());
            let (_, _, batch) = dbh.all_docs(&AllDocsOptions {
                start,
                end,
                inclusive_end: true,
                limit: Some(ask),
                skip,
                descending: a.descending,
                include_docs: true,
                conflicts: true,
                ..Default::default()
            })?;
            skip = 0;
            let got = batch.len();
            let previous = cursor.clone();
            for row in batch {
                let id = row["id"].as_str().unwrap_or_default().to_string();
                if previous.as_deref() == Some(id.as_str()) {
                    continue;
                }
                cursor = Some(id.clone());
                scanned += 1;
                let doc = &row["doc"];
                let conflicts: Vec<String> = doc
                    .get("_conflicts")
                    .and_then(Value::as_array)
                    .map(|c| {
                        c.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default();
                let conflicted = !conflicts.is_empty();
                if (a.conflicted && !conflicted)
                    || selector.as_ref().is_some_and(|s| !s.matches(doc))
                {
                    continue;
                }
                let mut body = doc.clone();
                if let Some(o) = body.as_object_mut() {
                    o.remove("_conflicts");
                }
                rows.push(DocRow {
                    id,
                    rev: row["value"]["rev"].as_str().unwrap_or_default().to_string(),
                    conflicts,
                    doc: body,
                });
                if rows.len() == limit {
                    break;
                }
            }
            if rows.len() < limit && got < ask {
                done = true;
                break;
            }
        }
        Ok(DocsPage {
            total,
            rows,
            next: if done { None } else { cursor },
            scanned,
        })
    }

    /// `doc_tree`: every revision of a document known to its revision tree, with its parent,
    /// whether it is a leaf, deleted, the winner, and whether its body is still stored.
    pub(crate) fn doc_tree(&self, db: &str, id: &str) -> Result<DocTree, ApiError> {
        let dbh = self.engine.db(db)?;
        let winner = dbh.get(id, None, &ReadOptions::default()).ok();
        let opts = ReadOptions {
            revs: true,
            ..Default::default()
        };
        let mut nodes: BTreeMap<String, (Option<String>, bool, bool)> = BTreeMap::new();
        let mut leaves = BTreeSet::new();
        let mut winner_rev = winner
            .as_ref()
            .and_then(|w| w["_rev"].as_str().map(str::to_string));
        for r in dbh.open_revs(id, &OpenRevs::All, &opts)? {
            let OpenRev::Ok(d) = r else { continue };
            let deleted = d.get("_deleted") == Some(&Value::Bool(true));
            let start = d["_revisions"]["start"].as_u64().unwrap_or(0);
            let ids: Vec<&str> = d["_revisions"]["ids"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let path: Vec<String> = ids
                .iter()
                .enumerate()
                .map(|(i, h)| format!("{}-{h}", start - i as u64))
                .collect();
            for (i, rev) in path.iter().enumerate() {
                let parent = path.get(i + 1).cloned();
                let e = nodes.entry(rev.clone()).or_insert((parent, false, false));
                if i == 0 {
                    e.1 = true;
                    e.2 = deleted;
                }
            }
            if let Some(leaf) = path.first() {
                leaves.insert(leaf.clone());
            }
        }
        if nodes.is_empty() {
            return Err(ApiError::new(
                ErrorCode::NotFound,
                format!("{id} is not in {db}: check the id (ids are case-sensitive)"),
            ));
        }
        // A document whose every leaf is deleted has no winner body: the winner is the
        // deleted leaf CouchDB would pick (highest generation, then highest hash).
        if winner_rev.is_none() {
            winner_rev = leaves
                .iter()
                .max_by_key(|r| (Rev::parse(r).map(|v| v.pos).unwrap_or(0), (*r).clone()))
                .cloned();
        }
        let revs: Vec<RevNode> = nodes
            .into_iter()
            .map(|(rev, (parent, leaf, deleted))| {
                let available = leaf
                    || Rev::parse(&rev)
                        .ok()
                        .is_some_and(|r| dbh.get(id, Some(&r), &ReadOptions::default()).is_ok());
                RevNode {
                    winner: winner_rev.as_deref() == Some(rev.as_str()),
                    rev,
                    parent,
                    leaf,
                    deleted,
                    available,
                }
            })
            .collect();
        Ok(DocTree {
            id: id.to_string(),
            winner: winner_rev,
            deleted: winner.is_none(),
            revs,
        })
    }

    /// `doc_fields`: the fields of up to `sample` documents (nested objects as `a.b`), each
    /// with the JSON types seen and in how many documents.
    pub(crate) fn doc_fields(&self, db: &str, sample: usize) -> Result<DocFields, ApiError> {
        let dbh = self.engine.db(db)?;
        let (_, _, rows) = dbh.all_docs(&AllDocsOptions {
            limit: Some(sample.clamp(1, 2_000)),
            include_docs: true,
            inclusive_end: true,
            // Design documents are code, not data.
            end: Some("_design".into()),
            ..Default::default()
        })?;
        let (_, _, after) = dbh.all_docs(&AllDocsOptions {
            limit: Some(sample.clamp(1, 2_000).saturating_sub(rows.len())),
            include_docs: true,
            start: Some("_design\u{10ffff}".into()),
            inclusive_end: true,
            ..Default::default()
        })?;
        let mut fields: BTreeMap<String, (BTreeSet<&'static str>, usize, Option<Value>)> =
            BTreeMap::new();
        let mut n = 0;
        for row in rows.iter().chain(after.iter()) {
            let Some(doc) = row["doc"].as_object() else {
                continue;
            };
            n += 1;
            collect_fields(doc, "", 0, &mut fields);
        }
        let fields = fields
            .into_iter()
            .map(|(path, (types, count, example))| FieldInfo {
                path,
                types: types.into_iter().map(str::to_string).collect(),
                count,
                example,
            })
            .collect();
        Ok(DocFields {
            db: db.to_string(),
            sampled: n,
            fields,
        })
    }

    /// `fn_test`: runs a filter or `validate_doc_update` function over each document.
    pub(crate) fn fn_test(&self, a: FnTestArgs) -> Result<FnTestAnswer, ApiError> {
        let dbh = self.engine.db(&a.db)?;
        let (name, key) = match a.kind {
            TestKind::Filter => ("filter", "filters"),
            TestKind::Validate => ("validate_doc_update", "validate"),
        };
        let mut h = std::collections::hash_map::DefaultHasher::new();
        std::hash::Hash::hash(&a.source, &mut h);
        let set = FnSet {
            key: format!("tester:{key}:{:x}", std::hash::Hasher::finish(&h)),
            sources: vec![(format!("the tested {name} function"), a.source.clone())],
            ddoc: Value::Null,
        };
        let pool = self.views.pool();
        pool.check(&set).map_err(|e| {
            let line = match &e {
                JsError::Compile { line, .. } => *line,
                _ => None,
            };
            let mut err = ApiError::new(
                ErrorCode::JsError,
                format!("{e}: fix the function and try again"),
            );
            err.line = line;
            err
        })?;
        let sec = dbh.security()?;
        let user_ctx = json!({"db": a.db, "name": a.user.as_deref().filter(|u| !u.is_empty()), "roles": a.roles});
        let mut results = vec![];
        for (i, doc) in a.docs.iter().enumerate() {
            let id = doc
                .get("_id")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| format!("(document {})", i + 1));
            let (pass, message) = match a.kind {
                TestKind::Filter => {
                    let req = json!({"query": a.query, "userCtx": user_ctx});
                    match pool.call(&set, 0, json!([doc, req]), false) {
                        Ok(v) => (truthy(&v), None),
                        Err(e) => (false, Some(format!("threw: {}", thrown(e)))),
                    }
                }
                TestKind::Validate => {
                    let old = doc
                        .get("_id")
                        .and_then(Value::as_str)
                        .and_then(|id| dbh.get(id, None, &ReadOptions::default()).ok());
                    match pool.call(&set, 0, json!([doc, old, user_ctx, sec]), true) {
                        Ok(Value::Null) => (true, None),
                        Ok(v) => {
                            if let Some(m) = v.get("forbidden").or_else(|| v.get("unauthorized")) {
                                let what = if v.get("forbidden").is_some() {
                                    "forbidden"
                                } else {
                                    "unauthorized"
                                };
                                let m = m
                                    .as_str()
                                    .map(str::to_string)
                                    .unwrap_or_else(|| m.to_string());
                                (false, Some(format!("{what}: {m}")))
                            } else {
                                (true, None)
                            }
                        }
                        Err(e) => (false, Some(format!("threw: {}", thrown(e)))),
                    }
                }
            };
            results.push(FnVerdict { id, pass, message });
        }
        let passed = results.iter().filter(|r| r.pass).count();
        Ok(FnTestAnswer {
            kind: name.to_string(),
            failed: results.len() - passed,
            passed,
            results,
        })
    }
}

/// The documents table's Mango filter (none when absent or null).
fn selector_of(v: Option<&Value>) -> Result<Option<Selector>, ApiError> {
    match v {
        Some(s) if !s.is_null() => Selector::new(s.clone()).map(Some).map_err(|e| {
            ApiError::new(
                ErrorCode::BadRequest,
                format!(
                    "the Mango selector is not valid ({}): write it as JSON, e.g. {{\"type\": \"order\"}}",
                    e.reason()
                ),
            )
        }),
        _ => Ok(None),
    }
}

fn thrown(e: JsError) -> String {
    match e {
        JsError::Thrown(m) => m,
        other => other.to_string(),
    }
}

fn truthy(v: &Value) -> bool {
    !matches!(v, Value::Null | Value::Bool(false)) && *v != json!(0) && *v != json!("")
}

type Fields = BTreeMap<String, (BTreeSet<&'static str>, usize, Option<Value>)>;

fn collect_fields(obj: &Map<String, Value>, prefix: &str, depth: usize, out: &mut Fields) {
    for (k, v) in obj {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        let e = out.entry(path.clone()).or_default();
        e.0.insert(fullsync_engine::selector::type_name(v));
        e.1 += 1;
        if e.2.is_none() && !matches!(v, Value::Object(_) | Value::Array(_)) {
            let mut ex = v.clone();
            if let Value::String(s) = &mut ex {
                if s.chars().count() > 40 {
                    *s = s.chars().take(40).collect::<String>() + "…";
                }
            }
            e.2 = Some(ex);
        }
        if let (Value::Object(inner), true) = (v, depth < 3) {
            collect_fields(inner, &path, depth + 1, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use fullsync_engine::Engine;
    use serde_json::{json, Value};

    use crate::Studio;

    fn studio() -> Studio {
        let engine = Arc::new(Engine::in_memory());
        let views = Arc::new(fullsync_views::Views::new(engine.clone()));
        engine.create_db("db").unwrap();
        Studio::new(engine, views)
    }

    fn call(s: &Studio, cmd: &str, args: Value) -> Value {
        s.handle_json(json!({"cmd": cmd, "args": args})).unwrap()
    }

    fn bulk(s: &Studio, docs: Vec<Value>, new_edits: bool) {
        let dbh = s.engine.db("db").unwrap();
        let admin = fullsync_engine::UserCtx {
            name: None,
            roles: vec!["_admin".into()],
        };
        for r in dbh.bulk_docs_json(docs, new_edits, &admin).unwrap() {
            r.result.unwrap();
        }
    }

    #[test]
    fn pages_follow_each_other_without_gaps_or_repeats() {
        let s = studio();
        bulk(
            &s,
            (0..250)
                .map(|i| json!({"_id": format!("d{i:04}"), "n": i}))
                .collect(),
            true,
        );
        let mut seen = vec![];
        let mut after = Value::Null;
        loop {
            let p = call(
                &s,
                "docs_page",
                json!({"db": "db", "limit": 100, "after": after}),
            );
            assert_eq!(p["total"], 250);
            for r in p["rows"].as_array().unwrap() {
                seen.push(r["id"].as_str().unwrap().to_string());
            }
            after = p["next"].clone();
            if after.is_null() {
                break;
            }
        }
        let want: Vec<String> = (0..250).map(|i| format!("d{i:04}")).collect();
        assert_eq!(seen, want);
        // A jump into the middle, and the descending order.
        let p = call(
            &s,
            "docs_page",
            json!({"db": "db", "skip": 120, "limit": 2}),
        );
        assert_eq!(p["rows"][0]["id"], "d0120");
        assert_eq!(p["rows"][1]["doc"]["n"], 121);
        let p = call(
            &s,
            "docs_page",
            json!({"db": "db", "descending": true, "limit": 1}),
        );
        assert_eq!(p["rows"][0]["id"], "d0249");
        let p = call(
            &s,
            "docs_page",
            json!({"db": "db", "prefix": "d001", "limit": 100}),
        );
        assert_eq!(p["rows"].as_array().unwrap().len(), 10);
        assert!(p["next"].is_null());
    }

    #[test]
    fn conflicted_and_selector_filters() {
        let s = studio();
        bulk(
            &s,
            (0..40)
                .map(|i| json!({"_id": format!("d{i:02}"), "type": if i % 2 == 0 { "a" } else { "b" }}))
                .collect(),
            true,
        );
        bulk(
            &s,
            vec![
                json!({"_id": "d07", "_rev": "2-aa", "type": "b", "_revisions": {"start": 2, "ids": ["aa", "r1"]}}),
                json!({"_id": "d07", "_rev": "2-bb", "type": "b", "_revisions": {"start": 2, "ids": ["bb", "r1"]}}),
            ],
            false,
        );
        let p = call(&s, "docs_page", json!({"db": "db", "conflicted": true}));
        let ids: Vec<&str> = p["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["d07"]);
        assert!(!p["rows"][0]["conflicts"].as_array().unwrap().is_empty());
        let p = call(
            &s,
            "docs_page",
            json!({"db": "db", "selector": {"type": "a"}, "limit": 5}),
        );
        assert_eq!(p["rows"].as_array().unwrap().len(), 5);
        assert!(p["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["doc"]["type"] == "a"));
        assert_eq!(p["next"], "d08");
        let bad = s
            .handle_json(
                json!({"cmd": "docs_page", "args": {"db": "db", "selector": {"$nope": 1}}}),
            )
            .unwrap_err();
        assert!(bad.message.contains("Mango selector"), "{}", bad.message);
    }

    #[test]
    fn revision_tree_with_branches_and_deleted_leaf() {
        let s = studio();
        bulk(
            &s,
            vec![
                json!({"_id": "x", "_rev": "3-cc", "v": 3, "_revisions": {"start": 3, "ids": ["cc", "bb", "aa"]}}),
                json!({"_id": "x", "_rev": "2-dd", "v": 2, "_revisions": {"start": 2, "ids": ["dd", "aa"]}}),
                json!({"_id": "x", "_rev": "3-ee", "_deleted": true, "_revisions": {"start": 3, "ids": ["ee", "dd", "aa"]}}),
            ],
            false,
        );
        let t = call(&s, "doc_tree", json!({"db": "db", "id": "x"}));
        assert_eq!(t["winner"], "3-cc");
        let revs = t["revs"].as_array().unwrap();
        let find = |r: &str| revs.iter().find(|n| n["rev"] == r).unwrap().clone();
        assert_eq!(revs.len(), 5);
        assert_eq!(find("1-aa")["parent"], Value::Null);
        assert_eq!(find("2-bb")["parent"], "1-aa");
        assert_eq!(find("3-ee")["deleted"], true);
        assert_eq!(find("3-ee")["leaf"], true);
        assert_eq!(find("2-dd")["leaf"], false);
        assert_eq!(find("3-cc")["winner"], true);
        let missing = s
            .handle_json(json!({"cmd": "doc_tree", "args": {"db": "db", "id": "nope"}}))
            .unwrap_err();
        assert_eq!(missing.code, crate::ErrorCode::NotFound);
    }

    #[test]
    fn fields_of_a_sample_with_their_types() {
        let s = studio();
        bulk(
            &s,
            vec![
                json!({"_id": "a", "type": "order", "total": 3, "customer": {"name": "Ann"}}),
                json!({"_id": "b", "type": "order", "total": "4", "tags": []}),
                json!({"_id": "_design/x", "views": {}}),
            ],
            true,
        );
        let f = call(&s, "doc_fields", json!({"db": "db"}));
        assert_eq!(f["sampled"], 2, "design documents are not data");
        let field = |p: &str| {
            f["fields"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["path"] == p)
                .cloned()
        };
        assert_eq!(
            field("total").unwrap()["types"],
            json!(["number", "string"])
        );
        assert_eq!(field("customer.name").unwrap()["types"], json!(["string"]));
        assert_eq!(field("type").unwrap()["count"], 2);
        assert!(field("views").is_none());
    }

    #[test]
    fn tester_reports_each_document() {
        let s = studio();
        let r = call(
            &s,
            "fn_test",
            json!({"db": "db", "kind": "filter", "source": "function (doc, req) { return doc.type === req.query.t; }",
                   "docs": [{"_id": "a", "type": "x"}, {"_id": "b", "type": "y"}], "query": {"t": "x"}}),
        );
        assert_eq!(r["results"][0]["pass"], true);
        assert_eq!(r["results"][1]["pass"], false);
        let vdu = "function (newDoc, oldDoc, userCtx) { if (userCtx.roles.indexOf('editor') < 0) throw({forbidden: 'only editors, not ' + userCtx.name}); }";
        let r = call(
            &s,
            "fn_test",
            json!({"db": "db", "kind": "validate", "source": vdu, "docs": [{"_id": "a"}], "user": "bob", "roles": []}),
        );
        assert_eq!(r["results"][0]["pass"], false);
        assert_eq!(
            r["results"][0]["message"],
            "forbidden: only editors, not bob"
        );
        let r = call(
            &s,
            "fn_test",
            json!({"db": "db", "kind": "validate", "source": vdu, "docs": [{"_id": "a"}], "user": "eve", "roles": ["editor"]}),
        );
        assert_eq!(r["passed"], 1);
        let bad = s
            .handle_json(json!({"cmd": "fn_test", "args": {"db": "db", "kind": "filter", "source": "function (doc {", "docs": []}}))
            .unwrap_err();
        assert_eq!(bad.code, crate::ErrorCode::JsError);
    }
}
