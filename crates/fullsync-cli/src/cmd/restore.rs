//! `fullsync restore`: restore FILE into a database (local name or URL).

use std::path::PathBuf;
use std::sync::Arc;

use super::{auth_from_env, progress_bar};

/// The arguments of `fullsync restore`.
#[derive(clap::Args)]
pub struct Args {
    /// Data directory of the local engine.
    #[arg(long, default_value = "fullsync-data")]
    pub data: PathBuf,
    /// Backup file (.json or .json.gz).
    pub file: PathBuf,
    /// Local database name or URL.
    pub target: String,
    /// Delete and recreate the target first (asks for confirmation unless --yes).
    #[arg(long)]
    pub recreate: bool,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
    /// Authenticate to a server as this user (password in FULLSYNC_PASSWORD).
    #[arg(long)]
    pub user: Option<String>,
}

/// Runs `fullsync restore`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let Args {
        data,
        file,
        target,
        recreate,
        yes,
        user,
    } = args;
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
        eprint!("This deletes every document of {} before restoring {}. Type the database name to confirm: ", fullsync_replicate::peer::split_credentials(&target).0, file.display());
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
    let n = fullsync_deploy::backup::restore(&file, &*peer, &mut prepare, &mut |done, total| {
        progress_bar("restore", done, total)
    })?;
    eprintln!(
        "\nrestored {n} revisions into {} in {:.1} s",
        fullsync_replicate::peer::split_credentials(&target).0,
        t.elapsed().as_secs_f64()
    );
    Ok(())
}
