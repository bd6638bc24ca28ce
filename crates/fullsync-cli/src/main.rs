//! `fullsync`: the FullSync command-line tool.
//!
//! `fullsync serve --data DIR [--port 5984]` serves the embedded engine over a CouchDB-compatible
//! HTTP API on 127.0.0.1. More commands (view, replicate, project, deploy, backup, restore, run,
//! listen) arrive with their crates.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "fullsync",
    version,
    about = "FullSync Studio command-line tool: a local CouchDB-compatible sync engine and the tools around it"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
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
        /// Require this admin user; the password comes from FULLSYNC_ADMIN_PASSWORD.
        #[arg(long)]
        admin: Option<String>,
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
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::View {
            data,
            db,
            view,
            options,
            json,
        } => view_cmd(&data, &db, &view, &options, json),
        Cmd::Serve {
            data,
            port,
            bind,
            allow_hosts,
            cors_origins,
            admin,
        } => {
            let admin = match admin {
                Some(name) => {
                    let pass = std::env::var("FULLSYNC_ADMIN_PASSWORD").context(
                        "--admin needs the password in the FULLSYNC_ADMIN_PASSWORD environment variable (never on the command line)",
                    )?;
                    Some((name, pass))
                }
                None => None,
            };
            let engine = Arc::new(
                fullsync_engine::Engine::open(&data)
                    .with_context(|| format!("cannot open data directory {}", data.display()))?,
            );
            let cfg = fullsync_http::ServerConfig {
                bind: SocketAddr::new(bind, port),
                allowed_hosts: allow_hosts,
                cors_origins,
                admin,
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
                fullsync_http::serve(
                    engine,
                    cfg,
                    |addr| {
                        println!("FullSync listening on http://{addr}/");
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
    let engine = Arc::new(fullsync_engine::Engine::open(data)?);
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
