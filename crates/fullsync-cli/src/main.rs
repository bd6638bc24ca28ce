//! `fullsync`: the FullSync command-line tool.
//!
//! `fullsync serve --data DIR [--port 5984]` serves the embedded engine over a CouchDB-compatible
//! HTTP API on 127.0.0.1 (with `--studio`, also the studio's UI, compiled into this binary by
//! build.rs). More commands: view, replicate, project, deploy, server, run, listen, backup,
//! restore, reset, see-as, and `completions` for the shells. `fullsync --version` names the
//! commit it was built from.

use clap::{Parser, Subcommand};

mod cmd;

/// The built studio UI, embedded at compile time (build.rs): `UI_FILES`.
mod ui {
    include!(concat!(env!("OUT_DIR"), "/ui_files.rs"));
}

/// The commit this binary was built from (build.rs; `unknown` without git).
pub(crate) const COMMIT: &str = env!("FULLSYNC_COMMIT");

/// `fullsync --version`: the version and the commit.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("FULLSYNC_COMMIT"),
    ")"
);

#[derive(Parser)]
#[command(
    name = "fullsync",
    version = VERSION,
    about = "FullSync Studio command-line tool: a local CouchDB-compatible sync engine and the tools around it"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve the local engine over a CouchDB-compatible HTTP API (loopback only by default).
    Serve(cmd::serve::Args),
    /// Query a view of a local database or a server and print its rows (one JSON row per line).
    ///
    /// Options are CouchDB query parameters, JSON values where CouchDB expects JSON:
    /// `fullsync view mydb app/by_type startkey='"a"' limit=10 group=true`, or on a server:
    /// `fullsync view https://couch.example.com/orders app/by_status group=true --user bob`
    View(cmd::view::Args),
    /// Run a Mango query (`_find`) on a local database or a server and print the documents
    /// (one JSON document per line).
    ///
    /// `fullsync find orders '{"status": "paid"}'` (a selector), or a whole query:
    /// `fullsync find https://couch.example.com/orders '{"selector": {"total": {"$gt": 10}},
    /// "sort": [{"_id": "asc"}], "limit": 20}' --user bob`
    Find(cmd::find::Args),
    /// Run the same view (or Mango query) on SOURCE and TARGET, local names or URLs, and print
    /// the differences row by row (missing rows, other values, other order). Exit status: 0
    /// when equal, 1 when there are differences, 2 when a side could not be queried.
    ///
    /// `fullsync compare orders https://couch.example.com/orders app/by_status group=true --user bob`
    Compare(cmd::compare::Args),
    /// Work with a FullSync project folder (check, test, sync).
    Project(cmd::project::Args),
    /// Back up a database (local name or URL) to FILE (.json, or .json.gz for gzip): every
    /// revision leaf with history and attachments, in the `_bulk_docs` new_edits=false format.
    Backup(cmd::backup::Args),
    /// Restore FILE into a database (local name or URL). The file is checked completely first:
    /// a corrupt or truncated file changes nothing.
    Restore(cmd::restore::Args),
    /// Run a project's FullSync transaction against a local database.
    ///
    /// `fullsync run projects/sample orders/PostOrder --var customer=Ann --var total=12.5 --user bob`
    Run(cmd::run::Args),
    /// Run a project's listeners on a live local database and print their activity
    /// (Ctrl-C to stop). Changes from any source fire them: the studio, the HTTP API, replication.
    Listen(cmd::listen::Args),
    /// Deploy a project to servers: databases and design documents, only what changed.
    Deploy(cmd::deploy::Args),
    /// Manage server profiles (no secrets are stored: passwords come from
    /// FULLSYNC_SERVER_<NAME>_PASSWORD or the studio's keyring).
    Server(cmd::server::Args),
    /// Empty a local database (FullSync's fs://db.reset), keeping its revs_limit and _security.
    Reset(cmd::reset::Args),
    /// List the documents a FullSync user (with groups) would receive from a local database
    /// or a server database (URL).
    SeeAs(cmd::see_as::Args),
    /// Replicate SOURCE to TARGET: local database names or URLs (http(s)://host:port/db).
    ///
    /// Credentials: `--user NAME` with the password in FULLSYNC_PASSWORD (never on the command
    /// line), or in the URL. Exit status 1 when the replication fails.
    Replicate(cmd::replicate::Args),
    /// Print the shell completion script for bash, zsh or fish.
    ///
    /// bash: `fullsync completions bash > ~/.local/share/bash-completion/completions/fullsync`;
    /// zsh: `fullsync completions zsh > ~/.zfunc/_fullsync` (with `fpath+=~/.zfunc` before
    /// `compinit`); fish: `fullsync completions fish > ~/.config/fish/completions/fullsync.fish`.
    Completions(cmd::completions::Args),
}

/// Memory that large answers free goes back to the system: glibc keeps freed blocks in one
/// arena per thread (HTTP workers, blocking threads) and, after the first large free, serves
/// even 14 MB buffers from those arenas, so a burst of large answers left gigabytes resident.
/// Fewer arenas, and blocks of 1 MB or more always mapped (and unmapped when freed).
#[allow(unsafe_code)] // `mallopt`: allocator tuning only (SAFETY below)
fn tune_malloc() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only changes allocator tuning; called first in main, before any thread.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

fn main() {
    tune_malloc();
    if let Err(e) = run() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

/// Runs the command of the command line.
fn run() -> anyhow::Result<()> {
    match Cli::parse().cmd {
        Cmd::Serve(args) => cmd::serve::run(args),
        Cmd::View(args) => cmd::view::run(args),
        Cmd::Find(args) => cmd::find::run(args),
        Cmd::Compare(args) => cmd::compare::run(args),
        Cmd::Project(args) => cmd::project::run(args),
        Cmd::Backup(args) => cmd::backup::run(args),
        Cmd::Restore(args) => cmd::restore::run(args),
        Cmd::Run(args) => cmd::run::run(args),
        Cmd::Listen(args) => cmd::listen::run(args),
        Cmd::Deploy(args) => cmd::deploy::run(args),
        Cmd::Server(args) => cmd::server::run(args),
        Cmd::Reset(args) => cmd::reset::run(args),
        Cmd::SeeAs(args) => cmd::see_as::run(args),
        Cmd::Replicate(args) => cmd::replicate::run(args),
        Cmd::Completions(args) => cmd::completions::run(args),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_definition_is_valid() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
