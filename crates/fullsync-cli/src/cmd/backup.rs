//! `fullsync backup`: back up a database (local name or URL) to FILE (.json, or .json.gz for gzip): every revision leaf with history and attachments, in the `_bulk_docs` new_edits=false format.

use std::path::PathBuf;
use std::sync::Arc;

use super::{auth_from_env, progress_bar};

/// The arguments of `fullsync backup`.
#[derive(clap::Args)]
pub struct Args {
    /// Data directory of the local engine.
    #[arg(long, default_value = "fullsync-data")]
    pub data: PathBuf,
    /// Local database name or URL.
    pub source: String,
    /// Output file.
    pub file: PathBuf,
    /// Authenticate to a server as this user (password in FULLSYNC_PASSWORD).
    #[arg(long)]
    pub user: Option<String>,
}

/// Runs `fullsync backup`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let Args {
        data,
        source,
        file,
        user,
    } = args;
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
        "\nbacked up {n} revisions of {} to {} in {:.1} s",
        fullsync_replicate::peer::split_credentials(&source).0,
        file.display(),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}
