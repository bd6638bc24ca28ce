//! `fullsync reset`: empty a local database (FullSync's fs://db.reset), keeping its revs_limit and _security.

use std::path::PathBuf;

use anyhow::Context;

/// The arguments of `fullsync reset`.
#[derive(clap::Args)]
pub struct Args {
    /// Data directory.
    #[arg(long, default_value = "fullsync-data")]
    pub data: PathBuf,
    /// Database name.
    pub db: String,
}

/// Runs `fullsync reset`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let Args { data, db } = args;
    let engine = fullsync_engine::Engine::open(&data)?;
    engine
        .reset_db(&db)
        .with_context(|| format!("cannot reset {db}"))?;
    let views_dir = data.join(".views").join(db.replace('/', "%2F"));
    let _ = std::fs::remove_dir_all(views_dir);
    eprintln!("{db} is now empty");
    Ok(())
}
