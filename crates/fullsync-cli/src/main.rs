//! `fullsync`: the FullSync command-line tool.
//!
//! `fullsync serve --data DIR [--port 5984]` serves the embedded engine over a CouchDB-compatible
//! HTTP API on 127.0.0.1 (with `--studio`, also the studio's UI, compiled into this binary by
//! build.rs). More commands: view, replicate, project, deploy, server, run, listen, backup,
//! restore, reset, see-as, and `completions` for the shells. `fullsync --version` names the
//! commit it was built from.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{CommandFactory, Parser, Subcommand};

/// The built studio UI, embedded at compile time (build.rs): `UI_FILES`.
mod ui {
    include!(concat!(env!("OUT_DIR"), "/ui_files.rs"));
}

/// The commit this binary was built from (build.rs; `unknown` without git).
const COMMIT: &str = env!("FULLSYNC_COMMIT");

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
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum ServerCmd {
    /// Add or replace a profile.
    Add {
        /// Profile name.
        name: String,
        /// Base URL (http(s)://host:port).
        #[arg(long)]
        url: String,
        /// couchdb or convertigo.
        #[arg(long, default_value = "couchdb")]
        kind: String,
        /// User name.
        #[arg(long)]
        user: Option<String>,
        /// PEM file of the CA that signed the server's certificate (internal CAs).
        #[arg(long)]
        ca_file: Option<PathBuf>,
        /// Read the password from standard input and store it in the OS keyring.
        #[arg(long)]
        store_password: bool,
    },
    /// List profiles.
    List,
    /// Remove a profile.
    Remove {
        /// Profile name.
        name: String,
    },
}

#[derive(Subcommand)]
enum ProjectCmd {
    /// Load and validate a project: every file, every reference, every JavaScript function.
    /// Exit status 1 when there are errors.
    Check {
        /// Project folder (contains fullsync.toml).
        #[arg(default_value = ".")]
        project: PathBuf,
    },
    /// Run the project's view tests (tests/*.test.json) on a fresh in-memory engine.
    Test {
        /// Project folder.
        #[arg(default_value = ".")]
        project: PathBuf,
        /// Only tests whose name contains this.
        #[arg(long)]
        only: Option<String>,
        /// Also write JUnit XML here (for CI).
        #[arg(long)]
        junit: Option<PathBuf>,
    },
    /// Import a Convertigo project folder (c8oProject.yaml + _c8oProject/) into our format.
    ImportC8o {
        /// Convertigo project folder.
        c8o: PathBuf,
        /// Output folder (must not exist or be empty).
        out: PathBuf,
    },
    /// Export a project back to a Convertigo project folder.
    ExportC8o {
        /// Project folder.
        project: PathBuf,
        /// Output folder.
        out: PathBuf,
    },
    /// Build the project's Convertigo .car archive.
    Car {
        /// Project folder.
        project: PathBuf,
        /// Output .car file.
        out: PathBuf,
    },
    /// Create the project's databases and design documents in a local data directory
    /// (only changed design documents are written).
    Sync {
        /// Project folder.
        #[arg(default_value = ".")]
        project: PathBuf,
        /// Data directory.
        #[arg(long, default_value = "fullsync-data")]
        data: PathBuf,
        /// Also load data/<connector>.jsonl into each database.
        #[arg(long)]
        load_data: bool,
    },
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve the local engine over a CouchDB-compatible HTTP API (loopback only by default).
    Serve {
        /// Data directory (one file per database; created if missing).
        #[arg(long, default_value = "fullsync-data")]
        data: PathBuf,
        /// Port to listen on (0 picks a free port).
        #[arg(long, default_value_t = 5984)]
        port: u16,
        /// Address to bind. Anything but loopback exposes your data to the network.
        #[arg(long, default_value = "127.0.0.1")]
        bind: IpAddr,
        /// Extra Host header names to accept (loopback names are always accepted).
        #[arg(long = "allow-host")]
        allow_hosts: Vec<String>,
        /// Origins allowed by CORS (repeatable; `*` for any). CORS is off by default.
        #[arg(long = "cors-origin")]
        cors_origins: Vec<String>,
        /// Require this admin user (the password comes from FULLSYNC_ADMIN_PASSWORD): clients
        /// without credentials are then anonymous everywhere. Without it, a local admin is
        /// generated once (its password kept in local-admin.json of the configuration folder),
        /// clients without credentials administer ordinary databases, and FullSync databases,
        /// _users and c8ofullsyncgrp keep their access rules.
        #[arg(long)]
        admin: Option<String>,
        /// Also serve the studio in the browser (web mode) at /_studio/, protected by a token
        /// printed at start.
        #[arg(long)]
        studio: bool,
        /// Project to open in the studio.
        #[arg(long)]
        project: Option<PathBuf>,
        /// Serve the studio's UI from this folder (ui/dist, while working on the UI) instead
        /// of the UI compiled into this binary.
        #[arg(long)]
        ui_dir: Option<PathBuf>,
    },
    /// Query a view of a local database and print its rows (one JSON row per line).
    ///
    /// Options are CouchDB query parameters, JSON values where CouchDB expects JSON:
    /// `fullsync view mydb app/by_type startkey='"a"' limit=10 group=true`
    View {
        /// Data directory.
        #[arg(long, default_value = "fullsync-data")]
        data: PathBuf,
        /// Database name.
        db: String,
        /// DDOC/VIEW (the design document name without `_design/`).
        view: String,
        /// Query options as name=value.
        options: Vec<String>,
        /// Print the whole CouchDB response instead of one row per line.
        #[arg(long)]
        json: bool,
    },
    /// Work with a FullSync project folder (check, test, sync).
    Project {
        #[command(subcommand)]
        cmd: ProjectCmd,
    },
    /// Back up a database (local name or URL) to FILE (.json, or .json.gz for gzip): every
    /// revision leaf with history and attachments, in the `_bulk_docs` new_edits=false format.
    Backup {
        /// Data directory of the local engine.
        #[arg(long, default_value = "fullsync-data")]
        data: PathBuf,
        /// Local database name or URL.
        source: String,
        /// Output file.
        file: PathBuf,
        /// Authenticate to a server as this user (password in FULLSYNC_PASSWORD).
        #[arg(long)]
        user: Option<String>,
    },
    /// Restore FILE into a database (local name or URL). The file is checked completely first:
    /// a corrupt or truncated file changes nothing.
    Restore {
        /// Data directory of the local engine.
        #[arg(long, default_value = "fullsync-data")]
        data: PathBuf,
        /// Backup file (.json or .json.gz).
        file: PathBuf,
        /// Local database name or URL.
        target: String,
        /// Delete and recreate the target first (asks for confirmation unless --yes).
        #[arg(long)]
        recreate: bool,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        /// Authenticate to a server as this user (password in FULLSYNC_PASSWORD).
        #[arg(long)]
        user: Option<String>,
    },
    /// Run a project's FullSync transaction against a local database.
    ///
    /// `fullsync run projects/sample orders/PostOrder --var customer=Ann --var total=12.5 --user bob`
    Run {
        /// Project folder.
        project: PathBuf,
        /// CONNECTOR/TRANSACTION.
        transaction: String,
        /// Variable values as name=value (JSON values are parsed: numbers, true, {...}, [...]).
        #[arg(long = "var")]
        vars: Vec<String>,
        /// Simulated authenticated user (for the access policies).
        #[arg(long)]
        user: Option<String>,
        /// Data directory.
        #[arg(long, default_value = "fullsync-data")]
        data: PathBuf,
    },
    /// Run a project's listeners on a live local database and print their activity
    /// (Ctrl-C to stop). Changes from any source fire them: the studio, the HTTP API, replication.
    Listen {
        /// Project folder.
        project: PathBuf,
        /// Data directory.
        #[arg(long, default_value = "fullsync-data")]
        data: PathBuf,
        /// Also process the changes already in the database (from sequence 0).
        #[arg(long)]
        from_start: bool,
    },
    /// Deploy a project to servers: databases and design documents, only what changed.
    Deploy {
        /// Project folder.
        project: PathBuf,
        /// Server profile names (see `fullsync server add`); several deploy to each in turn.
        #[arg(long = "server", required = true)]
        servers: Vec<String>,
        /// Show the plan only.
        #[arg(long)]
        dry_run: bool,
        /// Go back one deploy: restore the design documents as they were before the deploy in
        /// effect (again: one more step back).
        #[arg(long, conflicts_with = "rollback_to")]
        rollback: bool,
        /// Restore the design documents as they were right after deploy ID (see --history;
        /// 0: before the first recorded deploy).
        #[arg(long, value_name = "ID")]
        rollback_to: Option<u64>,
        /// List the deploys recorded for each server (id, time, what changed) and stop.
        #[arg(long, conflicts_with_all = ["rollback", "rollback_to", "dry_run", "staged"])]
        history: bool,
        /// Build changed views in a staging design document, wait until the index is built
        /// (with progress), then switch: the live views never answer from a partial index.
        #[arg(long)]
        staged: bool,
    },
    /// Manage server profiles (no secrets are stored: passwords come from
    /// FULLSYNC_SERVER_<NAME>_PASSWORD or the studio's keyring).
    Server {
        #[command(subcommand)]
        cmd: ServerCmd,
    },
    /// Empty a local database (FullSync's fs://db.reset), keeping its revs_limit and _security.
    Reset {
        /// Data directory.
        #[arg(long, default_value = "fullsync-data")]
        data: PathBuf,
        /// Database name.
        db: String,
    },
    /// List the documents a FullSync user (with groups) would receive from a local database.
    SeeAs {
        /// Data directory.
        #[arg(long, default_value = "fullsync-data")]
        data: PathBuf,
        /// Database name.
        db: String,
        /// User name (omit for an anonymous device).
        #[arg(long)]
        user: Option<String>,
        /// Groups, comma-separated (dots allowed in names).
        #[arg(long, value_delimiter = ',')]
        groups: Vec<String>,
    },
    /// Replicate SOURCE to TARGET: local database names or URLs (http(s)://host:port/db).
    ///
    /// Credentials: `--user NAME` with the password in FULLSYNC_PASSWORD (never on the command
    /// line), or in the URL. Exit status 1 when the replication fails.
    Replicate {
        /// Data directory of the local engine.
        #[arg(long, default_value = "fullsync-data")]
        data: PathBuf,
        /// Source: local database name or URL.
        source: String,
        /// Target: local database name or URL.
        target: String,
        /// Keep following changes until interrupted.
        #[arg(long)]
        live: bool,
        /// Retry with exponential backoff while a server is unreachable (the wait goes back to
        /// 0.5 s after every attempt that made progress).
        #[arg(long)]
        retry: bool,
        /// Longest wait between retries, in seconds.
        #[arg(long, default_value_t = 60.0)]
        max_backoff: f64,
        /// Changes per batch.
        #[arg(long, default_value_t = 100)]
        batch_size: usize,
        /// Only these document ids (comma-separated).
        #[arg(long, value_delimiter = ',')]
        doc_ids: Vec<String>,
        /// Only documents matching this Mango selector (JSON).
        #[arg(long)]
        selector: Option<String>,
        /// Only documents passing the source's filter function DDOC/NAME.
        #[arg(long)]
        filter: Option<String>,
        /// query_params for --filter, as name=value (repeatable).
        #[arg(long = "query-param")]
        query_params: Vec<String>,
        /// Only documents the source's view DDOC/VIEW emits for.
        #[arg(long)]
        view: Option<String>,
        /// Start from this source sequence instead of the checkpoint.
        #[arg(long)]
        since: Option<String>,
        /// Authenticate to remote servers as this user (password in FULLSYNC_PASSWORD).
        #[arg(long)]
        user: Option<String>,
        /// Print every event as a JSON line on stdout (for scripts), instead of a progress bar.
        #[arg(long)]
        json_events: bool,
    },
    /// Print the shell completion script for bash, zsh or fish.
    ///
    /// bash: `fullsync completions bash > ~/.local/share/bash-completion/completions/fullsync`;
    /// zsh: `fullsync completions zsh > ~/.zfunc/_fullsync` (with `fpath+=~/.zfunc` before
    /// `compinit`); fish: `fullsync completions fish > ~/.config/fish/completions/fullsync.fish`.
    Completions {
        /// The shell.
        shell: Shell,
    },
}

/// The shells `fullsync completions` writes for.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Shell {
    Bash,
    Zsh,
    Fish,
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

fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Completions { shell } => {
            let shell = match shell {
                Shell::Bash => clap_complete::Shell::Bash,
                Shell::Zsh => clap_complete::Shell::Zsh,
                Shell::Fish => clap_complete::Shell::Fish,
            };
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "fullsync",
                &mut std::io::stdout(),
            );
            Ok(())
        }
        Cmd::View {
            data,
            db,
            view,
            options,
            json,
        } => view_cmd(&data, &db, &view, &options, json),
        Cmd::Project { cmd } => project_cmd(cmd),
        Cmd::Listen {
            project,
            data,
            from_start,
        } => {
            let (p, _) = load_project(&project)?;
            let engine = Arc::new(fullsync_engine::Engine::open(&data)?);
            let views = Arc::new(fullsync_views::Views::new(engine.clone()));
            fullsync_project::sync::sync(&engine, &p);
            let mut runners = vec![];
            for c in &p.connectors {
                if c.listeners.is_empty() {
                    continue;
                }
                let r = fullsync_runtime::listeners::Runner::new(
                    engine.clone(),
                    views.clone(),
                    &p,
                    &c.name,
                )
                .expect("connector exists");
                let db = engine.db(&c.name)?;
                let since = if from_start { 0 } else { db.update_seq() };
                eprintln!(
                    "listening on {} ({} listeners) from sequence {since}",
                    c.name,
                    c.listeners.len()
                );
                runners.push((r, db, since, 0usize));
            }
            if runners.is_empty() {
                anyhow::bail!("the project has no listeners");
            }
            loop {
                for (r, db, since, shown) in runners.iter_mut() {
                    if db.update_seq() > *since {
                        *since = r.process(*since)?;
                        let act = r.activity.lock().unwrap_or_else(|e| e.into_inner());
                        for a in act.iter().skip(*shown) {
                            println!(
                                "{}\t{}\t{} doc(s)\t{:.1} ms\t{}\t{}",
                                a.db,
                                a.listener,
                                a.docs.len(),
                                a.ms,
                                a.result,
                                a.docs.join(",")
                            );
                        }
                        *shown = act.len();
                    }
                }
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
        }
        Cmd::Run {
            project,
            transaction,
            vars,
            user,
            data,
        } => {
            let (p, _) = load_project(&project)?;
            let (conn, name) = transaction
                .split_once('/')
                .with_context(|| format!("`{transaction}` is not CONNECTOR/TRANSACTION"))?;
            let c = p
                .connector(conn)
                .with_context(|| format!("the project has no connector `{conn}`"))?;
            let t = c
                .transactions
                .iter()
                .find(|t| t.name == name)
                .with_context(|| {
                    let names: Vec<&str> = c.transactions.iter().map(|t| t.name.as_str()).collect();
                    format!(
                        "connector `{conn}` has no transaction `{name}` (it has: {})",
                        names.join(", ")
                    )
                })?;
            let mut given = serde_json::Map::new();
            for v in vars {
                let (k, val) = v
                    .split_once('=')
                    .with_context(|| format!("--var `{v}` is not name=value"))?;
                let parsed = serde_json::from_str::<serde_json::Value>(val)
                    .unwrap_or_else(|_| serde_json::Value::String(val.to_string()));
                given.insert(k.to_string(), parsed);
            }
            let engine = Arc::new(fullsync_engine::Engine::open(&data)?);
            let views = fullsync_views::Views::new(engine.clone());
            fullsync_project::sync::sync(&engine, &p);
            let out = fullsync_runtime::transactions::run(
                &engine,
                &views,
                conn,
                t,
                &given,
                &fullsync_runtime::transactions::Caller { user },
            )
            .map_err(|e| anyhow::anyhow!("{conn}/{name}: {e}"))?;
            println!("{}", serde_json::to_string_pretty(&out)?);
            Ok(())
        }
        Cmd::Server { cmd } => {
            match cmd {
                ServerCmd::Add {
                    name,
                    url,
                    kind,
                    user,
                    ca_file,
                    store_password,
                } => {
                    let kind = match kind.as_str() {
                        "couchdb" => fullsync_deploy::profiles::ServerKind::Couchdb,
                        "convertigo" => fullsync_deploy::profiles::ServerKind::Convertigo,
                        other => anyhow::bail!("--kind {other} is not couchdb or convertigo"),
                    };
                    if !url.starts_with("http://") && !url.starts_with("https://") {
                        anyhow::bail!("--url must start with http:// or https://");
                    }
                    if url.contains('@') {
                        anyhow::bail!("put no credentials in the URL: use --user and FULLSYNC_SERVER_<NAME>_PASSWORD");
                    }
                    let p = fullsync_deploy::profiles::ServerProfile {
                        name: name.clone(),
                        kind,
                        url,
                        user: user.clone(),
                        ca_file,
                    };
                    fullsync_deploy::profiles::save(&p)?;
                    if store_password {
                        let mut line = String::new();
                        std::io::stdin().read_line(&mut line)?;
                        let pw = line.trim_end_matches(['\r', '\n']);
                        if pw.is_empty() {
                            anyhow::bail!("--store-password reads the password from standard input; it was empty");
                        }
                        fullsync_deploy::profiles::store_password(&p, pw)?;
                        eprintln!("stored the password of `{name}` in the OS keyring");
                    }
                    eprintln!("saved server `{name}`");
                    if user.is_some() {
                        eprintln!(
                            "its password is read from {}",
                            fullsync_deploy::profiles::password_var(&name)
                        );
                    }
                    Ok(())
                }
                ServerCmd::List => {
                    for (name, p) in fullsync_deploy::profiles::load()? {
                        println!(
                            "{name}\t{:?}\t{}\t{}",
                            p.kind,
                            p.url,
                            p.user.unwrap_or_default()
                        );
                    }
                    Ok(())
                }
                ServerCmd::Remove { name } => Ok(fullsync_deploy::profiles::remove(&name)?),
            }
        }
        Cmd::Deploy {
            project,
            servers,
            dry_run,
            rollback,
            staged,
            rollback_to,
            history,
        } => {
            if history {
                return deploy_history_cmd(&project, &servers);
            }
            let rollback = if rollback {
                Some(None)
            } else {
                rollback_to.map(Some)
            };
            deploy_cmd(&project, &servers, dry_run, rollback, staged)
        }
        Cmd::Backup {
            data,
            source,
            file,
            user,
        } => {
            let engine = Arc::new(fullsync_engine::Engine::open(&data)?);
            let peer = fullsync_replicate::endpoint(
                &source,
                &engine,
                None,
                auth_from_env(user)?,
                std::time::Duration::from_secs(60),
            )?;
            let t = std::time::Instant::now();
            let n = fullsync_deploy::backup::backup(&*peer, &file, &mut |done, total| {
                progress_bar("backup", done, total)
            })?;
            eprintln!(
                "\nbacked up {n} revisions of {source} to {} in {:.1} s",
                file.display(),
                t.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Cmd::Restore {
            data,
            file,
            target,
            recreate,
            yes,
            user,
        } => {
            let engine = Arc::new(fullsync_engine::Engine::open(&data)?);
            let auth = auth_from_env(user)?;
            let peer = fullsync_replicate::endpoint(
                &target,
                &engine,
                None,
                auth.clone(),
                std::time::Duration::from_secs(60),
            )?;
            if recreate && !yes {
                use std::io::{BufRead, Write};
                eprint!("This deletes every document of {target} before restoring {}. Type the database name to confirm: ", file.display());
                std::io::stderr().flush()?;
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                let name = target.rsplit('/').next().unwrap_or(&target);
                if line.trim() != name {
                    anyhow::bail!("not confirmed; nothing was changed");
                }
            }
            let engine2 = engine.clone();
            let target2 = target.clone();
            let mut prepare = move || -> Result<(), fullsync_deploy::backup::BackupError> {
                if !recreate {
                    return Ok(());
                }
                if target2.contains("://") {
                    fullsync_replicate::HttpPeer::new(
                        &target2,
                        auth.clone(),
                        std::time::Duration::from_secs(60),
                    )?
                    .recreate()?;
                } else {
                    let _ = engine2.delete_db(&target2);
                    engine2
                        .create_db(&target2)
                        .map_err(fullsync_replicate::ReplError::from)?;
                }
                Ok(())
            };
            let t = std::time::Instant::now();
            let n = fullsync_deploy::backup::restore(
                &file,
                &*peer,
                &mut prepare,
                &mut |done, total| progress_bar("restore", done, total),
            )?;
            eprintln!(
                "\nrestored {n} revisions into {target} in {:.1} s",
                t.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Cmd::Reset { data, db } => {
            let engine = fullsync_engine::Engine::open(&data)?;
            engine
                .reset_db(&db)
                .with_context(|| format!("cannot reset {db}"))?;
            let views_dir = data.join(".views").join(db.replace('/', "%2F"));
            let _ = std::fs::remove_dir_all(views_dir);
            eprintln!("{db} is now empty");
            Ok(())
        }
        Cmd::SeeAs {
            data,
            db,
            user,
            groups,
        } => {
            let engine = fullsync_engine::Engine::open(&data)?;
            let dbh = engine
                .db(&db)
                .with_context(|| format!("cannot open {db}"))?;
            let ids = fullsync_replicate::acl::see_as_user(&dbh, user.as_deref(), &groups)?;
            for id in &ids {
                println!("{id}");
            }
            eprintln!(
                "{} documents for {} with groups [{}]",
                ids.len(),
                user.as_deref().unwrap_or("an anonymous device"),
                groups.join(", ")
            );
            Ok(())
        }
        Cmd::Replicate {
            data,
            source,
            target,
            live,
            retry,
            max_backoff,
            batch_size,
            doc_ids,
            selector,
            filter,
            query_params,
            view,
            since,
            user,
            json_events,
        } => {
            let filter = if !doc_ids.is_empty() {
                fullsync_replicate::Filter::DocIds(doc_ids)
            } else if let Some(s) = selector {
                fullsync_replicate::Filter::Selector(
                    serde_json::from_str(&s).context("--selector is not valid JSON")?,
                )
            } else if let Some(f) = filter {
                let mut qp = serde_json::Map::new();
                for p in query_params {
                    let (k, v) = p
                        .split_once('=')
                        .with_context(|| format!("--query-param `{p}` is not name=value"))?;
                    qp.insert(k.to_string(), serde_json::Value::String(v.to_string()));
                }
                fullsync_replicate::Filter::Function {
                    name: f,
                    query_params: qp,
                }
            } else if let Some(v) = view {
                fullsync_replicate::Filter::View(v)
            } else {
                fullsync_replicate::Filter::None
            };
            if !(max_backoff.is_finite() && max_backoff > 0.0) {
                anyhow::bail!("--max-backoff must be a positive number of seconds");
            }
            let opts = fullsync_replicate::Options {
                live,
                retry,
                max_backoff: std::time::Duration::from_secs_f64(max_backoff),
                batch_size: batch_size.max(1),
                filter,
                since: since.map(|s| {
                    s.parse::<u64>()
                        .map(serde_json::Value::from)
                        .unwrap_or(serde_json::Value::String(s))
                }),
                ..Default::default()
            };
            replicate_cmd(&data, &source, &target, opts, user, json_events)
        }
        Cmd::Serve {
            data,
            port,
            bind,
            allow_hosts,
            cors_origins,
            admin,
            studio,
            project,
            ui_dir,
        } => {
            let ui = match ui_dir {
                Some(dir) => fullsync_api::web::UiFiles::Dir(dir),
                None if studio && ui::UI_FILES.is_empty() => anyhow::bail!(
                    "this fullsync was built without the studio's UI (ui/dist was not built when it was compiled): build the UI (cd ui && npm ci && npm run build) and rebuild fullsync, or pass --ui-dir ui/dist"
                ),
                None => fullsync_api::web::UiFiles::Embedded(ui::UI_FILES),
            };
            let admin_party = admin.is_none();
            let admin = match admin {
                Some(name) => {
                    let pass = std::env::var("FULLSYNC_ADMIN_PASSWORD").context(
                        "--admin needs the password in the FULLSYNC_ADMIN_PASSWORD environment variable (never on the command line)",
                    )?;
                    (name, pass)
                }
                None => {
                    let (name, pass, created) = fullsync_deploy::profiles::local_admin()?;
                    let file = fullsync_deploy::profiles::config_dir().join("local-admin.json");
                    if created {
                        eprintln!(
                            "Local admin created: name `{name}`, password `{pass}` (shown once; kept in {}).",
                            file.display()
                        );
                    }
                    eprintln!(
                        "Without --admin, clients without credentials administer ordinary databases on loopback; FullSync databases, _users and c8ofullsyncgrp need the local admin `{name}` (password in {}).",
                        file.display()
                    );
                    (name, pass)
                }
            };
            let engine = Arc::new(
                fullsync_engine::Engine::open(&data)
                    .with_context(|| format!("cannot open data directory {}", data.display()))?,
            );
            let cfg = fullsync_http::ServerConfig {
                bind: SocketAddr::new(bind, port),
                allowed_hosts: allow_hosts,
                cors_origins,
                admin: Some(admin),
                admin_party,
                ..Default::default()
            };
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            rt.block_on(async move {
                let shutdown = async {
                    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => {},
                        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {},
                    }
                };
                let views = Arc::new(fullsync_views::Views::new(engine.clone()));
                let bind = cfg.bind;
                let mut app = fullsync_http::router_with_views(engine.clone(), views.clone(), cfg);
                let mut token = String::new();
                if studio {
                    let backend = Arc::new(fullsync_api::Studio::new(engine.clone(), views.clone()).with_commit(COMMIT));
                    if let Some(p) = &project {
                        let b = backend.clone();
                        let path = p.display().to_string();
                        tokio::task::spawn_blocking(move || b.handle(fullsync_api::Request::ProjectOpen { path, remember: true }))
                            .await
                            .map_err(std::io::Error::other)?
                            .map_err(|e| std::io::Error::other(format!("cannot open the project: {e}")))?;
                    }
                    token = fullsync_engine::doc::new_uuid();
                    let web = fullsync_api::web::router(fullsync_api::web::WebMode { studio: backend, token: token.clone(), ui });
                    app = web.merge(app);
                }
                fullsync_http::serve_router(
                    app,
                    bind,
                    |addr| {
                        println!("FullSync listening on http://{addr}/");
                        if studio {
                            println!("Studio (web mode): http://{addr}/_studio/#token={token}");
                        }
                        use std::io::Write;
                        let _ = std::io::stdout().flush();
                    },
                    shutdown,
                )
                .await
            })?;
            Ok(())
        }
    }
}

fn view_cmd(
    data: &std::path::Path,
    db: &str,
    view: &str,
    options: &[String],
    json: bool,
) -> anyhow::Result<()> {
    let (ddoc, name) = view
        .split_once('/')
        .with_context(|| format!("`{view}` is not DDOC/VIEW (for example app/by_type)"))?;
    let ddoc = ddoc.strip_prefix("_design/").unwrap_or(ddoc);
    let mut params = vec![];
    for o in options {
        let (k, v) = o.split_once('=').with_context(|| {
            format!("option `{o}` is not name=value (for example limit=10 or key='\"a\"')")
        })?;
        params.push((k.to_string(), v.to_string()));
    }
    if !data.exists() {
        anyhow::bail!(
            "data directory {} does not exist; pass --data DIR",
            data.display()
        );
    }
    // A query leaves no server.json behind: the data directory may belong to another tool.
    let engine = Arc::new(fullsync_engine::Engine::open_without_uuid_file(data)?);
    let views = fullsync_views::Views::new(engine);
    let q = fullsync_views::ViewQuery::from_params(&params)
        .map_err(|e| anyhow::anyhow!("{}: {e}", e.couch_error()))?;
    let t = std::time::Instant::now();
    let res = views
        .query(db, ddoc, name, &q)
        .map_err(|e| anyhow::anyhow!("{} ({}): {}", e.couch_error(), e.status(), e.reason()))?;
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    if json {
        println!("{}", serde_json::to_string_pretty(&res)?);
    } else {
        use std::io::Write;
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        for row in res["rows"].as_array().into_iter().flatten() {
            writeln!(out, "{row}")?;
        }
        out.flush()?;
    }
    let errors = views.errors(db, ddoc, 1000).unwrap_or_default();
    let total = res
        .get("total_rows")
        .map(|t| format!(" of {t}"))
        .unwrap_or_default();
    eprintln!(
        "{} rows{total} in {ms:.1} ms",
        res["rows"].as_array().map_or(0, |r| r.len())
    );
    for e in errors.iter().take(20) {
        eprintln!("map error in view {} on doc {}: {}", e.view, e.id, e.error);
    }
    if errors.len() > 20 {
        eprintln!("... and {} more map errors", errors.len() - 20);
    }
    Ok(())
}

fn replicate_cmd(
    data: &std::path::Path,
    source: &str,
    target: &str,
    opts: fullsync_replicate::Options,
    user: Option<String>,
    json_events: bool,
) -> anyhow::Result<()> {
    let auth = match user {
        Some(u) => Some(fullsync_replicate::Auth {
            user: u,
            password: std::env::var("FULLSYNC_PASSWORD").context(
                "--user needs the password in the FULLSYNC_PASSWORD environment variable",
            )?,
        }),
        None => None,
    };
    let engine = Arc::new(fullsync_engine::Engine::open(data)?);
    let views = Arc::new(fullsync_views::Views::new(engine.clone()));
    let src = fullsync_replicate::endpoint(
        source,
        &engine,
        Some(views.clone()),
        auth.clone(),
        opts.timeout,
    )?;
    let tgt = fullsync_replicate::endpoint(target, &engine, Some(views), auth, opts.timeout)?;
    // Pull: from a server into a local database; everything else writes to the target (push).
    let direction = if source.contains("://") && !target.contains("://") {
        fullsync_replicate::Direction::Pull
    } else {
        fullsync_replicate::Direction::Push
    };
    let listener: fullsync_replicate::Listener = Arc::new(move |e: fullsync_replicate::Event| {
        use fullsync_replicate::Event as E;
        if json_events {
            println!("{}", serde_json::to_string(&e).unwrap_or_default());
            return;
        }
        match e {
            E::Change {
                docs_read,
                docs_written,
                current,
                total,
                progress,
                ..
            } => {
                let filled = (progress as usize) / 5;
                eprint!(
                    "\r[{}{}] {progress:>3}%  seq {current}/{total}  {docs_read} read, {docs_written} written   ",
                    "#".repeat(filled),
                    "-".repeat(20 - filled)
                );
            }
            E::Paused {
                error: Some(err),
                retry_in_ms,
                ..
            } => eprintln!(
                "\npaused: {err}; retrying in {:.1} s",
                retry_in_ms.unwrap_or(0) as f64 / 1000.0
            ),
            E::Paused { error: None, .. } => {
                eprintln!("\nup to date; waiting for changes (Ctrl-C to stop)")
            }
            _ => {}
        }
    });
    let rep = fullsync_replicate::start(src, tgt, direction, opts, listener);
    let summary = rep.wait();
    if !json_events {
        eprintln!(
            "\n{}: {} read, {} written, {} refused, last_seq {}",
            if summary.ok { "done" } else { "FAILED" },
            summary.docs_read,
            summary.docs_written,
            summary.doc_write_failures,
            summary.last_seq
        );
        for e in summary.errors.iter().take(10) {
            eprintln!("  {e}");
        }
    }
    if !summary.ok {
        anyhow::bail!("the replication did not complete (see above)");
    }
    Ok(())
}

fn load_project(
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

fn project_cmd(cmd: ProjectCmd) -> anyhow::Result<()> {
    let pool = Arc::new(fullsync_views::JsPool::new(
        2,
        fullsync_views::JsLimits::default(),
    ));
    match cmd {
        ProjectCmd::ImportC8o { c8o, out } => {
            if out.exists()
                && std::fs::read_dir(&out)
                    .map(|mut d| d.next().is_some())
                    .unwrap_or(false)
            {
                anyhow::bail!("{} is not empty; import into a new folder", out.display());
            }
            let r = fullsync_project::convertigo::import_c8o(&c8o, &out)?;
            eprintln!(
                "imported {} (Convertigo {}): connectors {}",
                r.project,
                r.c8o_version,
                r.connectors.join(", ")
            );
            for b in &r.read_only {
                eprintln!("  kept read-only: {} [{}]: {}", b.path, b.class, b.reason);
            }
            for d in &r.diagnostics {
                eprintln!("  {d}");
            }
            Ok(())
        }
        ProjectCmd::ExportC8o { project, out } => {
            let r = fullsync_project::convertigo::export_c8o(&project, &out)?;
            eprintln!(
                "exported {} to {}: {} connector(s) unchanged, {} regenerated, {} removed",
                r.project,
                out.display(),
                r.unchanged.len(),
                r.regenerated.len(),
                r.removed.len()
            );
            for w in &r.warnings {
                eprintln!("warning (exported anyway, fix it in Convertigo Studio): {w}");
            }
            Ok(())
        }
        ProjectCmd::Car { project, out } => {
            let r = fullsync_project::convertigo::export_car(&project, &out)?;
            let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
            eprintln!(
                "wrote {} for project {} ({size} bytes)",
                out.display(),
                r.project
            );
            Ok(())
        }
        ProjectCmd::Check { project } => {
            let t = std::time::Instant::now();
            let (p, mut diags) = load_project(&project)?;
            diags.extend(fullsync_project::load::compile_check(&p, &pool));
            for d in &diags {
                eprintln!("{d}");
            }
            let errors = diags
                .iter()
                .filter(|d| d.severity == fullsync_project::Severity::Error)
                .count();
            let views: usize = p
                .connectors
                .iter()
                .flat_map(|c| &c.design_docs)
                .map(|d| d.views.len())
                .sum();
            eprintln!(
                "{}: {} connectors, {views} views, {} listeners, {} transactions, {} tests; {errors} errors, {} warnings ({:.0} ms)",
                p.name,
                p.connectors.len(),
                p.connectors.iter().map(|c| c.listeners.len()).sum::<usize>(),
                p.connectors.iter().map(|c| c.transactions.len()).sum::<usize>(),
                p.tests.len(),
                diags.len() - errors,
                t.elapsed().as_secs_f64() * 1000.0
            );
            if errors > 0 {
                anyhow::bail!("the project has {errors} error(s)");
            }
            Ok(())
        }
        ProjectCmd::Test {
            project,
            only,
            junit,
        } => {
            let (p, diags) = load_project(&project)?;
            for d in diags
                .iter()
                .filter(|d| d.severity == fullsync_project::Severity::Error)
            {
                eprintln!("{d}");
            }
            let results = fullsync_project::testing::run_tests(&p, &pool, only.as_deref());
            for r in &results {
                if r.ok {
                    println!("ok    {} ({:.1} ms)", r.name, r.ms);
                } else {
                    println!("FAIL  {}  ({})", r.name, r.file);
                    for line in r.diff.lines() {
                        println!("      {line}");
                    }
                }
            }
            let failed = results.iter().filter(|r| !r.ok).count();
            println!("{} passed, {failed} failed", results.len() - failed);
            if let Some(path) = junit {
                std::fs::write(
                    &path,
                    fullsync_project::testing::junit_xml(&p.name, &results),
                )
                .with_context(|| format!("cannot write {}", path.display()))?;
            }
            if failed > 0 {
                anyhow::bail!("{failed} view test(s) failed");
            }
            Ok(())
        }
        ProjectCmd::Sync {
            project,
            data,
            load_data,
        } => {
            let (p, diags) = load_project(&project)?;
            for d in &diags {
                eprintln!("{d}");
            }
            let engine = Arc::new(fullsync_engine::Engine::open(&data)?);
            let _views = fullsync_views::Views::with_pool(engine.clone(), pool);
            let r = fullsync_project::sync::sync(&engine, &p);
            for db in &r.created_dbs {
                eprintln!("created database {db}");
            }
            for (db, id, rebuild) in &r.updated {
                eprintln!(
                    "wrote {id} in {db}; indexes to rebuild: {}",
                    if rebuild.is_empty() {
                        "none".to_string()
                    } else {
                        rebuild.join(", ")
                    }
                );
            }
            for e in &r.errors {
                eprintln!("error: {e}");
            }
            eprintln!("{} design documents already up to date", r.unchanged);
            if load_data {
                let mut refused = 0;
                for d in
                    fullsync_project::sync::load_data(&engine, &p).map_err(anyhow::Error::msg)?
                {
                    eprintln!("loaded {} documents into {}", d.written, d.db);
                    for r in &d.refused {
                        eprintln!("refused: {r}");
                    }
                    refused += d.refused.len();
                }
                if refused > 0 {
                    anyhow::bail!("{refused} document(s) were refused (see above): fix their ids (an id starting with `_` must be `_design/...`) and sync again");
                }
            }
            if !r.errors.is_empty() {
                anyhow::bail!("{} design document(s) could not be written", r.errors.len());
            }
            Ok(())
        }
    }
}

fn auth_from_env(user: Option<String>) -> anyhow::Result<Option<fullsync_replicate::Auth>> {
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

fn progress_bar(what: &str, done: u64, total: u64) {
    let pct = (done * 100).checked_div(total).map_or(100, |p| p.min(100));
    let filled = (pct / 5) as usize;
    eprint!(
        "\r{what} [{}{}] {pct:>3}%  {done}/{total}   ",
        "#".repeat(filled),
        "-".repeat(20 - filled)
    );
}

fn deploy_history_cmd(project: &std::path::Path, servers: &[String]) -> anyhow::Result<()> {
    let (p, _) = load_project(project)?;
    for name in servers {
        println!("== {name}");
        let reports = fullsync_deploy::deploy::history(&p.root, name)?;
        if reports.is_empty() {
            println!("no deploy recorded");
        }
        for r in reports.iter().rev() {
            if r.applied.is_empty() && r.error.is_none() {
                continue;
            }
            if r.applied.is_empty() {
                println!("{}  (nothing applied: not a rollback target)", r.summary());
            } else {
                println!("{}", r.summary());
            }
        }
    }
    Ok(())
}

/// `rollback`: `None` for a deploy, `Some(None)` for one step back, `Some(Some(id))` for
/// `--rollback-to id`.
fn deploy_cmd(
    project: &std::path::Path,
    servers: &[String],
    dry_run: bool,
    rollback: Option<Option<u64>>,
    staged: bool,
) -> anyhow::Result<()> {
    let (p, diags) = load_project(project)?;
    let errors: Vec<_> = diags
        .iter()
        .filter(|d| d.severity == fullsync_project::Severity::Error)
        .collect();
    if !errors.is_empty() && rollback.is_none() {
        for d in &errors {
            eprintln!("{d}");
        }
        anyhow::bail!("the project has errors; fix them before deploying (fullsync project check)");
    }
    let mut failed = 0;
    for name in servers {
        eprintln!("== {name}");
        let result = (|| -> anyhow::Result<()> {
            let profile = fullsync_deploy::profiles::get(name)?;
            if profile.kind == fullsync_deploy::profiles::ServerKind::Convertigo {
                if rollback.is_some() {
                    anyhow::bail!("rollback is for CouchDB servers; redeploy an earlier version of the project to a Convertigo server");
                }
                let tmp = std::env::temp_dir().join(format!(
                    "fullsync-{}-{}.car",
                    p.name,
                    std::process::id()
                ));
                fullsync_project::convertigo::export_car(&p.root, &tmp)?;
                let bytes = std::fs::read(&tmp)?;
                let _ = std::fs::remove_file(&tmp);
                println!(
                    "~ Convertigo project {} ({} bytes .car)",
                    p.name,
                    bytes.len()
                );
                if dry_run {
                    return Ok(());
                }
                let user = profile
                    .user
                    .clone()
                    .context("a Convertigo server profile needs --user (the admin login)")?;
                let password = fullsync_deploy::profiles::password(&profile)?.unwrap_or_default();
                let answer = fullsync_deploy::convertigo::deploy_car(
                    &profile.url,
                    &user,
                    &password,
                    &format!("{}.car", p.name),
                    &bytes,
                )?;
                eprintln!("{name}: {answer}");
                return Ok(());
            }
            let server = fullsync_deploy::deploy::connect(&profile)?;
            let plan = if let Some(to) = rollback {
                fullsync_deploy::deploy::rollback_plan(&p.root, &server, name, to)?
            } else {
                fullsync_deploy::deploy::plan(&p, &server, name)?
            };
            print!("{}", plan.render());
            if dry_run || plan.is_noop() {
                return Ok(());
            }
            let opts = fullsync_deploy::deploy::ApplyOptions {
                staged,
                staging_timeout: None,
            };
            let report =
                fullsync_deploy::deploy::apply(&plan, &server, &p.root, &opts, &mut |pr| match (
                    pr.index_done,
                    pr.index_total,
                ) {
                    (Some(d), Some(t)) if t > 0 => eprintln!(
                        "[{}/{}] {} ({}%)",
                        pr.current,
                        pr.total,
                        pr.message,
                        d * 100 / t
                    ),
                    _ => eprintln!("[{}/{}] {}", pr.current, pr.total, pr.message),
                })?;
            eprintln!(
                "{name}: applied {} change(s), created {} database(s)",
                report.applied.len(),
                report.created_dbs.len()
            );
            Ok(())
        })();
        if let Err(e) = result {
            eprintln!("{name}: FAILED: {e:#}");
            failed += 1;
        }
    }
    if failed > 0 {
        anyhow::bail!("{failed} of {} server(s) failed; the deploy history in .fullsync/deploy-history says what was applied; run the deploy again to complete it", servers.len());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_definition_is_valid() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
