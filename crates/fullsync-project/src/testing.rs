//! Project view tests: input documents, a query, expected rows or error. Each test runs on a
//! fresh in-memory engine with the project's design documents.

use std::sync::Arc;

use fullsync_engine::{Engine, UserCtx};
use serde::Serialize;
use serde_json::{json, Value};

use crate::model::{Project, ViewTest};

/// The outcome of one test.
#[derive(Debug, Serialize)]
pub struct TestResult {
    /// Test name.
    pub name: String,
    /// File.
    pub file: String,
    /// Passed.
    pub ok: bool,
    /// Readable difference when it failed.
    pub diff: String,
    /// Milliseconds.
    pub ms: f64,
}

/// A line-by-line diff of two JSON values (pretty-printed), `-` expected, `+` actual.
pub fn json_diff(expected: &Value, actual: &Value) -> String {
    let e = serde_json::to_string_pretty(expected).unwrap_or_default();
    let a = serde_json::to_string_pretty(actual).unwrap_or_default();
    let (el, al): (Vec<&str>, Vec<&str>) = (e.lines().collect(), a.lines().collect());
    // Longest common subsequence, good enough for test output.
    let (n, m) = (el.len(), al.len());
    let mut t = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            t[i][j] = if el[i] == al[j] {
                t[i + 1][j + 1] + 1
            } else {
                t[i + 1][j].max(t[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < n || j < m {
        if i < n && j < m && el[i] == al[j] {
            out.push_str(&format!("  {}\n", el[i]));
            i += 1;
            j += 1;
        } else if j < m && (i == n || t[i][j + 1] > t[i + 1][j]) {
            // On a tie the expected line comes first: `-` before `+`, as diff tools show it.
            out.push_str(&format!("+ {}\n", al[j]));
            j += 1;
        } else {
            out.push_str(&format!("- {}\n", el[i]));
            i += 1;
        }
    }
    out
}

fn run_one(p: &Project, t: &ViewTest, pool: &Arc<fullsync_views::JsPool>) -> Result<Value, String> {
    let c = p
        .connector(&t.connector)
        .ok_or_else(|| format!("connector `{}` does not exist", t.connector))?;
    let engine = Arc::new(Engine::in_memory());
    let views = fullsync_views::Views::with_pool(engine.clone(), pool.clone());
    let db = engine.create_db(&c.name).map_err(|e| e.to_string())?;
    let mut docs: Vec<Value> = c.design_docs.iter().map(|d| d.to_json()).collect();
    docs.extend(t.docs.iter().cloned());
    for r in db
        .bulk_docs_json(
            docs,
            true,
            &UserCtx {
                name: None,
                roles: vec!["_admin".into()],
            },
        )
        .map_err(|e| e.to_string())?
    {
        if let Err(e) = r.result {
            return Err(format!(
                "input document {} was refused: {}",
                r.id,
                e.reason()
            ));
        }
    }
    let (ddoc, view) = t
        .view
        .split_once('/')
        .ok_or_else(|| format!("`{}` is not ddoc/view", t.view))?;
    let q = if t.query.is_null() {
        json!({})
    } else {
        t.query.clone()
    };
    let q = fullsync_views::ViewQuery::from_json(&q).map_err(|e| format!("bad query: {e}"))?;
    Ok(match views.query(&c.name, ddoc, view, &q) {
        Ok(v) => v,
        Err(e) => json!({"error": e.couch_error(), "reason": e.reason()}),
    })
}

/// What the view of test `t` answers for its documents and query (on a fresh in-memory engine
/// with the project's design documents): the `actual` side of a test, and the `expect` of a
/// test saved from what the studio shows.
pub fn answer(
    p: &Project,
    t: &ViewTest,
    pool: &Arc<fullsync_views::JsPool>,
) -> Result<Value, String> {
    run_one(p, t, pool)
}

/// Runs every view test of the project.
pub fn run_tests(
    p: &Project,
    pool: &Arc<fullsync_views::JsPool>,
    only: Option<&str>,
) -> Vec<TestResult> {
    let mut out = vec![];
    for t in p
        .tests
        .iter()
        .filter(|t| only.is_none_or(|o| t.name.contains(o)))
    {
        let start = std::time::Instant::now();
        let (ok, diff) = match run_one(p, t, pool) {
            Err(e) => (false, format!("could not run: {e}")),
            Ok(actual) => {
                // Compare only what the test states: rows and any other key it gives.
                let mut shown = serde_json::Map::new();
                if let Value::Object(exp) = &t.expect {
                    for k in exp.keys() {
                        shown.insert(k.clone(), actual.get(k).cloned().unwrap_or(Value::Null));
                    }
                }
                let shown = Value::Object(shown);
                if shown == t.expect {
                    (true, String::new())
                } else {
                    (false, json_diff(&t.expect, &shown))
                }
            }
        };
        out.push(TestResult {
            name: t.name.clone(),
            file: t.file.display().to_string(),
            ok,
            diff,
            ms: start.elapsed().as_secs_f64() * 1000.0,
        });
    }
    out
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// JUnit XML for CI systems.
pub fn junit_xml(project: &str, results: &[TestResult]) -> String {
    let failures = results.iter().filter(|r| !r.ok).count();
    let total: f64 = results.iter().map(|r| r.ms).sum::<f64>() / 1000.0;
    let mut x = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" time=\"{total:.3}\">\n",
        xml_escape(project),
        results.len()
    );
    for r in results {
        x.push_str(&format!(
            "  <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
            xml_escape(project),
            xml_escape(&r.name),
            r.ms / 1000.0
        ));
        if r.ok {
            x.push_str("/>\n");
        } else {
            x.push_str(&format!(
                ">\n    <failure message=\"view answer differs\">{}</failure>\n  </testcase>\n",
                xml_escape(&r.diff)
            ));
        }
    }
    x.push_str("</testsuite>\n");
    x
}
