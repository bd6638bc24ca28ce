//! One module per command of `fullsync` (its arguments and what it does), and the helpers
//! several commands share.

use anyhow::Context;

pub mod backup;
pub mod compare;
pub mod completions;
pub mod deploy;
pub mod find;
pub mod listen;
pub mod project;
pub mod remote;
pub mod replicate;
pub mod reset;
pub mod restore;
pub mod run;
pub mod see_as;
pub mod serve;
pub mod server;
pub mod view;

/// Loads the project at `dir`; one that does not load prints its diagnostics and is an error.
pub fn load_project(
    dir: &std::path::Path,
) -> anyhow::Result<(fullsync_project::Project, Vec<fullsync_project::Diagnostic>)> {
    let (p, diags) = fullsync_project::load(dir);
    match p {
        Some(p) => Ok((p, diags)),
        None => {
            for d in &diags {
                eprintln!("{d}");
            }
            anyhow::bail!("{} is not a loadable FullSync project", dir.display())
        }
    }
}

/// Credentials for `--user NAME`: the password from FULLSYNC_PASSWORD (never the command line).
pub fn auth_from_env(user: Option<String>) -> anyhow::Result<Option<fullsync_replicate::Auth>> {
    Ok(match user {
        Some(u) => Some(fullsync_replicate::Auth {
            user: u,
            password: std::env::var("FULLSYNC_PASSWORD").context(
                "--user needs the password in the FULLSYNC_PASSWORD environment variable",
            )?,
        }),
        None => None,
    })
}

/// A progress bar on standard error (backup, restore).
pub fn progress_bar(what: &str, done: u64, total: u64) {
    let pct = (done * 100).checked_div(total).map_or(100, |p| p.min(100));
    let filled = (pct / 5) as usize;
    eprint!(
        "\r{what} [{}{}] {pct:>3}%  {done}/{total}   ",
        "#".repeat(filled),
        "-".repeat(20 - filled)
    );
}
