//! The one startup of `fullsync serve --studio` and the desktop app: the project given, else the
//! last one opened; the web mode only when asked.

use std::path::{Path, PathBuf};

use fullsync_host::{assemble, HostError, Options};

fn options(data: PathBuf, project: Option<PathBuf>, reopen_last: bool, web: bool) -> Options {
    Options {
        data,
        http: Default::default(),
        project,
        reopen_last,
        commit: "test".into(),
        web_ui: web.then_some(fullsync_http::studio_web::UiFiles::Embedded(&[])),
    }
}

// One test: the recent-projects list lives in FULLSYNC_CONFIG_DIR, set for the whole process.
#[test]
fn the_given_project_else_the_last_one_and_web_mode_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    std::env::set_var("FULLSYNC_CONFIG_DIR", dir.path().join("config"));
    let sample = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../projects/sample")
        .canonicalize()
        .unwrap();

    // Nothing opened yet: no project to reopen.
    let host = assemble(options(dir.path().join("d0"), None, true, false)).unwrap();
    assert_eq!(host.project, None);
    assert!(host.token.is_none(), "no web mode unless asked");
    drop(host);

    // The given project opens (and is remembered); the web mode has a token.
    let host = assemble(options(
        dir.path().join("d1"),
        Some(sample.clone()),
        true,
        true,
    ))
    .unwrap();
    assert_eq!(host.project.as_deref(), Some(sample.as_path()));
    assert_eq!(host.token.as_ref().map(String::len), Some(32));
    let tree = host
        .studio
        .handle(fullsync_api::Request::ProjectTree)
        .unwrap();
    assert_eq!(tree["name"], "sample");
    host.studio.stop_listeners();
    drop(host);

    // Without a project: the last one is reopened, unless the host runs no project.
    let host = assemble(options(dir.path().join("d2"), None, true, false)).unwrap();
    assert_eq!(host.project.as_deref(), Some(sample.as_path()));
    host.studio.stop_listeners();
    drop(host);
    let host = assemble(options(dir.path().join("d3"), None, false, false)).unwrap();
    assert_eq!(host.project, None);
    drop(host);

    // A project that does not open is an error that names it.
    let missing = dir.path().join("no-project-here");
    match assemble(options(
        dir.path().join("d4"),
        Some(missing.clone()),
        true,
        false,
    )) {
        Err(HostError::Project { path, reason }) => {
            assert_eq!(path, missing);
            assert!(reason.contains("fullsync.toml"), "{reason}");
        }
        Err(e) => panic!("unexpected error: {e}"),
        Ok(_) => panic!("a missing project opened"),
    }
}
