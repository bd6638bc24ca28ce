//! `fullsync see-as`: list the documents a FullSync user (with groups) would receive from a local database or a server database (URL).

use std::path::PathBuf;

use anyhow::Context;

/// The arguments of `fullsync see-as`.
#[derive(clap::Args)]
pub struct Args {
    /// Data directory.
    #[arg(long, default_value = "fullsync-data")]
    pub data: PathBuf,
    /// Database name, or URL (http(s)://host:port/db).
    pub db: String,
    /// Authenticate to the server as this user (password from the server profile with this
    /// URL, FULLSYNC_PASSWORD, or a prompt).
    #[arg(long)]
    pub login: Option<String>,
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
        login,
        user,
        groups,
    } = args;
    if super::remote::is_url(&db) {
        return super::remote::see_as_remote(&db, login.as_deref(), user.as_deref(), &groups);
    }
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
