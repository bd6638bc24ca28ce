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
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
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
