//! The Tests panel: runs the project's view tests (all, one connector's, or one test) on fresh
//! in-memory engines with the project's design documents, as `fullsync project test` does, and
//! answers each result with its view's map file so the panel can jump to it.

use std::path::Path;

use crate::ApiError;

/// One view test's result.
#[derive(Debug, serde::Serialize, ts_rs::TS)]
pub struct TestResult {
    /// Test name.
    pub name: String,
    /// Its file (project-relative).
    pub file: String,
    /// Connector.
    pub connector: String,
    /// `ddoc/view`.
    pub view: String,
    /// The view's map file, when the view is named `ddoc/view`.
    pub view_path: Option<String>,
    /// Whether it passed.
    pub ok: bool,
    /// What differs (empty when it passed).
    pub diff: String,
    /// Milliseconds.
    pub ms: f64,
}

/// The answer of `tests_run`.
#[derive(Debug, serde::Serialize, ts_rs::TS)]
pub struct TestRun {
    /// Each test run.
    pub results: Vec<TestResult>,
    /// Tests passed.
    pub passed: usize,
    /// Tests failed.
    pub failed: usize,
    /// Milliseconds in all.
    pub ms: f64,
}

/// Runs the view tests of the project at `root`: every test, or only those of `connector`, or
/// only the test named `name` (exactly).
pub fn run(
    root: &Path,
    views: &fullsync_views::Views,
    connector: Option<&str>,
    name: Option<&str>,
) -> Result<TestRun, ApiError> {
    let (p, diags) = fullsync_project::load(root);
    let mut p = p.ok_or_else(|| crate::invalid_project(&diags))?;
    p.tests
        .retain(|t| connector.is_none_or(|c| t.connector == c) && name.is_none_or(|n| t.name == n));
    if let (Some(n), true) = (name, p.tests.is_empty()) {
        return Err(ApiError::new(
            crate::ErrorCode::NotFound,
            format!(
                "there is no view test `{n}` in tests/: create one from a view's menu (New test)"
            ),
        ));
    }
    let by_name: std::collections::HashMap<String, (String, String)> = p
        .tests
        .iter()
        .map(|t| (t.name.clone(), (t.connector.clone(), t.view.clone())))
        .collect();
    let started = std::time::Instant::now();
    let results = fullsync_project::testing::run_tests(&p, views.pool(), None);
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let out: Vec<TestResult> = results
        .into_iter()
        // `run_tests` filters by substring; keep only the exact test asked for.
        .filter(|r| name.is_none_or(|n| r.name == n))
        .map(|r| {
            let (c, v) = by_name.get(&r.name).cloned().unwrap_or_default();
            let map = v
                .split_once('/')
                .map(|(d, v)| format!("connectors/{c}/design/{d}/views/{v}/map.js"));
            TestResult {
                name: r.name,
                file: crate::rel(root, Path::new(&r.file)),
                connector: c,
                view: v,
                view_path: map,
                ok: r.ok,
                diff: r.diff,
                ms: r.ms,
            }
        })
        .collect();
    let failed = out.iter().filter(|r| !r.ok).count();
    Ok(TestRun {
        passed: out.len() - failed,
        failed,
        results: out,
        ms,
    })
}
