//! `fullsync listen`: run a project's listeners on a live local database and print their activity (Ctrl-C to stop).

use std::path::PathBuf;
use std::sync::Arc;

use super::load_project;

/// The arguments of `fullsync listen`.
#[derive(clap::Args)]
pub struct Args {
    /// Project folder.
    pub project: PathBuf,
    /// Data directory.
    #[arg(long, default_value = "fullsync-data")]
    pub data: PathBuf,
    /// Also process the changes already in the database (from sequence 0).
    #[arg(long)]
    pub from_start: bool,
}

/// Runs `fullsync listen`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let Args {
        project,
        data,
        from_start,
    } = args;
    let (p, _) = load_project(&project)?;
    let engine = Arc::new(fullsync_engine::Engine::open(&data)?);
    let views = Arc::new(fullsync_views::Views::new(engine.clone()));
    fullsync_project::sync::sync(&engine, &p);
    let mut runners = vec![];
    for c in &p.connectors {
        if c.listeners.is_empty() {
            continue;
        }
        let r =
            fullsync_runtime::listeners::Runner::new(engine.clone(), views.clone(), &p, &c.name)
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
