//! `fullsync serve`: serve the local engine over a CouchDB-compatible HTTP API (loopback only by default).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use anyhow::Context;
use fullsync_http::studio_web::UiFiles;

/// The arguments of `fullsync serve`.
#[derive(clap::Args)]
pub struct Args {
    /// Data directory (one file per database; created if missing).
    #[arg(long, default_value = "fullsync-data")]
    pub data: PathBuf,
    /// Port to listen on (0 picks a free port).
    #[arg(long, default_value_t = 5984)]
    pub port: u16,
    /// Address to bind. Anything but loopback exposes your data to the network.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Extra Host header names to accept (loopback names are always accepted).
    #[arg(long = "allow-host")]
    pub allow_hosts: Vec<String>,
    /// Origins allowed by CORS (repeatable; `*` for any). CORS is off by default.
    #[arg(long = "cors-origin")]
    pub cors_origins: Vec<String>,
    /// Require this admin user (the password comes from FULLSYNC_ADMIN_PASSWORD): clients
    /// without credentials are then anonymous everywhere. Without it, a local admin is
    /// generated once (its password kept in local-admin.json of the configuration folder),
    /// clients without credentials administer ordinary databases, and FullSync databases,
    /// _users and c8ofullsyncgrp keep their access rules.
    #[arg(long)]
    pub admin: Option<String>,
    /// Also serve the studio in the browser (web mode) at /_studio/, protected by a token
    /// printed at start.
    #[arg(long)]
    pub studio: bool,
    /// Project to open in the studio.
    #[arg(long)]
    pub project: Option<PathBuf>,
    /// Serve the studio's UI from this folder (ui/dist, while working on the UI) instead
    /// of the UI compiled into this binary.
    #[arg(long)]
    pub ui_dir: Option<PathBuf>,
}

/// Runs `fullsync serve`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let Args {
        data,
        port,
        bind,
        allow_hosts,
        cors_origins,
        admin,
        studio,
        project,
        ui_dir,
    } = args;
    let web_ui = match ui_dir {
        Some(dir) => Some(UiFiles::Dir(dir)),
        None if studio && crate::ui::UI_FILES.is_empty() => anyhow::bail!(
            "this fullsync was built without the studio's UI (ui/dist was not built when it was compiled): build the UI (cd ui && npm ci && npm run build) and rebuild fullsync, or pass --ui-dir ui/dist"
        ),
        None => Some(UiFiles::Embedded(crate::ui::UI_FILES)),
    }
    .filter(|_| studio);
    let admin_party = admin.is_none();
    let admin = admin_credentials(admin)?;
    let http = fullsync_http::ServerConfig {
        bind: SocketAddr::new(bind, port),
        allowed_hosts: allow_hosts,
        cors_origins,
        admin: Some(admin),
        admin_party,
        ..Default::default()
    };
    let bind = http.bind;
    // The same startup as the desktop app: without --project, the studio reopens the last
    // project opened (that still exists).
    let host = fullsync_host::assemble(fullsync_host::Options {
        data,
        http,
        project: project.filter(|_| studio),
        reopen_last: studio,
        commit: crate::COMMIT.to_string(),
        web_ui,
    })?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(fullsync_http::serve_router(
        host.router,
        bind,
        |addr| {
            println!("FullSync listening on http://{addr}/");
            if let Some(token) = &host.token {
                println!("Studio (web mode): http://{addr}/_studio/#token={token}");
            }
            use std::io::Write;
            let _ = std::io::stdout().flush();
        },
        shutdown_signal(),
    ))?;
    Ok(())
}

/// The admin of the HTTP API: `--admin NAME` with FULLSYNC_ADMIN_PASSWORD, else the local admin
/// (created once, its password shown once and kept in local-admin.json).
fn admin_credentials(admin: Option<String>) -> anyhow::Result<(String, String)> {
    Ok(match admin {
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
    })
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {},
    }
}
