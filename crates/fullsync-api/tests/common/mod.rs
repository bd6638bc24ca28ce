//! Helpers shared by the studio API's integration tests (each test file uses some of them).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use std::sync::Arc;

use fullsync_api::Studio;
use fullsync_engine::Engine;
use serde_json::Value;

/// Runs one command; panics with the command and the error when it fails.
pub fn call(s: &Studio, v: Value) -> Value {
    s.handle_json(v.clone())
        .unwrap_or_else(|e| panic!("{v} failed: {e}"))
}

/// Polls `f` until it returns `Some`, for at most a minute.
pub fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A copy of projects/sample under `dir` (tests edit it and deploys write their history into it).
pub fn sample_copy(dir: &Path) -> PathBuf {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap().flatten() {
            let t = to.join(e.file_name());
            if e.file_type().unwrap().is_dir() {
                copy(&e.path(), &t);
            } else {
                std::fs::copy(e.path(), t).unwrap();
            }
        }
    }
    let root = dir.join("sample");
    copy(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../projects/sample"),
        &root,
    );
    root
}

/// A studio on an in-memory engine with a copy of projects/sample (under `dir`) open: the
/// studio, its engine and the copy's root.
pub fn sample_studio(dir: &Path) -> (Studio, Arc<Engine>, PathBuf) {
    let root = sample_copy(dir);
    let engine = Arc::new(Engine::in_memory());
    let views = Arc::new(fullsync_views::Views::new(engine.clone()));
    let s = Studio::new(engine.clone(), views);
    call(
        &s,
        serde_json::json!({"cmd": "project_open", "args": {"path": root.display().to_string()}}),
    );
    (s, engine, root)
}
