//! `fullsync see-as`: list the documents a FullSync user (with groups) would receive from a local database.

use std::path::PathBuf;

use anyhow::Context;

/// The arguments of `fullsync see-as`.
#[derive(clap::Args)]
pub struct Args {
    /// Data directory.
    #[arg(long, default_value = "fullsync-data")]
    pub data: PathBuf,
    /// Database name.
    pub db: String,
    /// User name (omit for an anonymous device).
    #[arg(long)]
    pub user: Option<String>,
    /// Groups, comma-separated (dots allowed in names).
    #[arg(long, value_delimiter = ',')]
    pub groups: Vec<String>,
}

/// Runs `fullsync see-as`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let Args {
        data,
        db,
        user,
        groups,
    } = args;
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
