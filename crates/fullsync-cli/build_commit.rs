//! Build-script helper shared by `fullsync` (crates/fullsync-cli/build.rs) and the desktop app
//! (src-tauri/build.rs): the commit a binary is built from, for `--version` and the studio's
//! About.

use std::path::Path;
use std::process::Command;

/// The commit this build comes from, as 12 hex digits: `FULLSYNC_COMMIT` when set (a build
/// from a source archive can name its commit), else `git rev-parse` in `dir`, else `unknown`
/// (no git, or not a git checkout). Tells cargo to run the build script again when the
/// checkout moves to another commit.
pub fn git_commit(dir: &Path) -> String {
    println!("cargo:rerun-if-env-changed=FULLSYNC_COMMIT");
    if let Some(c) = std::env::var("FULLSYNC_COMMIT")
        .ok()
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
    {
        return c;
    }
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
        (!s.is_empty()).then_some(s)
    };
    let Some(commit) = git(&["rev-parse", "--short=12", "HEAD"]) else {
        println!(
            "cargo:warning=the commit is unknown (git is missing or {} is not a git checkout); set FULLSYNC_COMMIT to name it",
            dir.display()
        );
        return "unknown".to_string();
    };
    // Run again when HEAD moves: HEAD itself (another branch), the branch's ref (a commit) and
    // packed-refs. `--git-path` resolves them in worktrees too.
    let mut watch = vec!["HEAD".to_string(), "packed-refs".to_string()];
    if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watch.push(r);
    }
    for w in watch {
        if let Some(p) = git(&["rev-parse", "--path-format=absolute", "--git-path", &w]) {
            if Path::new(&p).exists() {
                println!("cargo:rerun-if-changed={p}");
            }
        }
    }
    commit
}
