//! Build script of `fullsync`: embeds the studio's built UI (`ui/dist`) so that
//! `fullsync serve --studio` works from any folder, and records the commit for `--version`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[path = "build_commit.rs"]
mod build_commit;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let commit = build_commit::git_commit(&manifest);
    println!("cargo:rustc-env=FULLSYNC_COMMIT={commit}");
    embed_ui(&manifest);
}

/// Writes `$OUT_DIR/ui_files.rs`: `UI_FILES`, every file of the built UI as
/// `(path relative to ui/dist, include_bytes!(...))`. The UI folder is `FULLSYNC_UI_DIST`
/// when set, else `ui/dist` of the repository. Without a built UI the table is empty (with a
/// warning): `serve --studio` then asks for `--ui-dir` or a rebuild.
fn embed_ui(manifest: &Path) {
    println!("cargo:rerun-if-env-changed=FULLSYNC_UI_DIST");
    let ui = manifest.join("../../ui");
    let dist = std::env::var_os("FULLSYNC_UI_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| ui.join("dist"));
    let mut files = vec![];
    if dist.join("index.html").is_file() {
        // A folder: cargo reruns the script when any file in it changes.
        println!("cargo:rerun-if-changed={}", dist.display());
        collect(&dist, &dist, &mut files);
        files.sort();
    } else {
        println!(
            "cargo:warning=the studio UI is not built ({} has no index.html): this `fullsync` will serve the studio only with --ui-dir. Build it first: cd ui && npm ci && npm run build",
            dist.display()
        );
        // Watch for the UI to appear (ui/ when it exists: dist/ is created in it).
        let watch = if ui.is_dir() { &ui } else { manifest };
        println!("cargo:rerun-if-changed={}", watch.display());
    }
    let mut code = String::from(
        "/// The built studio UI: (path relative to ui/dist, bytes), sorted by path.\npub static UI_FILES: &[(&str, &[u8])] = &[\n",
    );
    for (rel, abs) in &files {
        let abs = abs
            .canonicalize()
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", abs.display()));
        writeln!(
            code,
            "    ({rel:?}, include_bytes!({:?})),",
            abs.display().to_string()
        )
        .expect("write to a String");
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo")).join("ui_files.rs");
    std::fs::write(&out, code).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}

/// Every file under `dir`, as (path relative to `root` with `/` separators, path).
fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect(root, &path, out);
        } else {
            let rel = path
                .strip_prefix(root)
                .expect("under root")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            out.push((rel, path));
        }
    }
}
