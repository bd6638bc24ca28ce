//! `fullsync project`: work with a FullSync project folder (check, test, sync).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Subcommand;

use super::load_project;

/// The arguments of `fullsync project`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub cmd: ProjectCmd,
}

/// Runs `fullsync project`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let Args { cmd } = args;
    project_cmd(cmd)
}

/// The subcommands of `fullsync project`.
#[derive(Subcommand)]
pub enum ProjectCmd {
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

fn project_cmd(cmd: ProjectCmd) -> anyhow::Result<()> {
    let pool = Arc::new(fullsync_views::JsPool::new(
        2,
        fullsync_views::JsLimits::default(),
    ));
    match cmd {
        ProjectCmd::ImportC8o { c8o, out } => import_c8o(c8o, out),
        ProjectCmd::ExportC8o { project, out } => export_c8o(project, out),
        ProjectCmd::Car { project, out } => car(project, out),
        ProjectCmd::Check { project } => check(project, pool),
        ProjectCmd::Test {
            project,
            only,
            junit,
        } => test(project, only, junit, pool),
        ProjectCmd::Sync {
            project,
            data,
            load_data,
        } => sync(project, data, load_data, pool),
    }
}

/// `fullsync project import-c8o`: a Convertigo project folder into a new FullSync project.
fn import_c8o(c8o: PathBuf, out: PathBuf) -> anyhow::Result<()> {
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

/// `fullsync project export-c8o`: the project back to a Convertigo project folder.
fn export_c8o(project: PathBuf, out: PathBuf) -> anyhow::Result<()> {
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

/// `fullsync project car`: the Convertigo .car archive of the project.
fn car(project: PathBuf, out: PathBuf) -> anyhow::Result<()> {
    let r = fullsync_project::convertigo::export_car(&project, &out)?;
    let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "wrote {} for project {} ({size} bytes)",
        out.display(),
        r.project
    );
    Ok(())
}

/// `fullsync project check`: every file, reference and JavaScript function; an error when any is wrong.
fn check(project: PathBuf, pool: Arc<fullsync_views::JsPool>) -> anyhow::Result<()> {
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

/// `fullsync project test`: the view tests on a fresh in-memory engine (with JUnit XML).
fn test(
    project: PathBuf,
    only: Option<String>,
    junit: Option<PathBuf>,
    pool: Arc<fullsync_views::JsPool>,
) -> anyhow::Result<()> {
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

/// `fullsync project sync`: databases and changed design documents into a local data directory.
fn sync(
    project: PathBuf,
    data: PathBuf,
    load_data: bool,
    pool: Arc<fullsync_views::JsPool>,
) -> anyhow::Result<()> {
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
        for d in fullsync_project::sync::load_data(&engine, &p).map_err(anyhow::Error::msg)? {
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
