//! `fullsync deploy`: deploy a project to servers: databases and design documents, only what changed.

use std::path::PathBuf;

use anyhow::Context;

use super::load_project;

/// The arguments of `fullsync deploy`.
#[derive(clap::Args)]
pub struct Args {
    /// Project folder.
    pub project: PathBuf,
    /// Server profile names (see `fullsync server add`); several deploy to each in turn.
    #[arg(long = "server", required = true)]
    pub servers: Vec<String>,
    /// Show the plan only.
    #[arg(long)]
    pub dry_run: bool,
    /// Go back one deploy: restore the design documents as they were before the deploy in
    /// effect (again: one more step back).
    #[arg(long, conflicts_with = "rollback_to")]
    pub rollback: bool,
    /// Restore the design documents as they were right after deploy ID (see --history;
    /// 0: before the first recorded deploy).
    #[arg(long, value_name = "ID")]
    pub rollback_to: Option<u64>,
    /// List the deploys recorded for each server (id, time, what changed) and stop.
    #[arg(long, conflicts_with_all = ["rollback", "rollback_to", "dry_run", "staged"])]
    pub history: bool,
    /// Build changed views in a staging design document, wait until the index is built
    /// (with progress), then switch: the live views never answer from a partial index.
    #[arg(long)]
    pub staged: bool,
}

/// Runs `fullsync deploy`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let Args {
        project,
        servers,
        dry_run,
        rollback,
        rollback_to,
        history,
        staged,
    } = args;
    if history {
        return deploy_history_cmd(&project, &servers);
    }
    let rollback = if rollback {
        Some(None)
    } else {
        rollback_to.map(Some)
    };
    deploy_cmd(&project, &servers, dry_run, rollback, staged)
}

fn deploy_history_cmd(project: &std::path::Path, servers: &[String]) -> anyhow::Result<()> {
    let (p, _) = load_project(project)?;
    for name in servers {
        println!("== {name}");
        let reports = fullsync_deploy::deploy::history(&p.root, name)?;
        if reports.is_empty() {
            println!("no deploy recorded");
        }
        for r in reports.iter().rev() {
            if r.applied.is_empty() && r.error.is_none() {
                continue;
            }
            if r.applied.is_empty() {
                println!("{}  (nothing applied: not a rollback target)", r.summary());
            } else {
                println!("{}", r.summary());
            }
        }
    }
    Ok(())
}

/// `rollback`: `None` for a deploy, `Some(None)` for one step back, `Some(Some(id))` for
/// `--rollback-to id`.
fn deploy_cmd(
    project: &std::path::Path,
    servers: &[String],
    dry_run: bool,
    rollback: Option<Option<u64>>,
    staged: bool,
) -> anyhow::Result<()> {
    let (p, diags) = load_project(project)?;
    let errors: Vec<_> = diags
        .iter()
        .filter(|d| d.severity == fullsync_project::Severity::Error)
        .collect();
    if !errors.is_empty() && rollback.is_none() {
        for d in &errors {
            eprintln!("{d}");
        }
        anyhow::bail!("the project has errors; fix them before deploying (fullsync project check)");
    }
    let mut failed = 0;
    for name in servers {
        eprintln!("== {name}");
        let result = deploy_one(&p, name, dry_run, rollback, staged);
        if let Err(e) = result {
            eprintln!("{name}: FAILED: {e:#}");
            failed += 1;
        }
    }
    if failed > 0 {
        anyhow::bail!("{failed} of {} server(s) failed; the deploy history in .fullsync/deploy-history says what was applied; run the deploy again to complete it", servers.len());
    }
    Ok(())
}

/// Deploys the project to one server profile (`rollback`: as in [`deploy_cmd`]).
fn deploy_one(
    p: &fullsync_project::Project,
    name: &str,
    dry_run: bool,
    rollback: Option<Option<u64>>,
    staged: bool,
) -> anyhow::Result<()> {
    let profile = fullsync_deploy::profiles::get(name)?;
    if profile.kind == fullsync_deploy::profiles::ServerKind::Convertigo {
        if rollback.is_some() {
            anyhow::bail!("rollback is for CouchDB servers; redeploy an earlier version of the project to a Convertigo server");
        }
        return deploy_car(p, &profile, name, dry_run);
    }
    let server = fullsync_deploy::deploy::connect(&profile)?;
    let plan = if let Some(to) = rollback {
        fullsync_deploy::deploy::rollback_plan(&p.root, &server, name, to)?
    } else {
        fullsync_deploy::deploy::plan(p, &server, name)?
    };
    print!("{}", plan.render());
    if dry_run || plan.is_noop() {
        return Ok(());
    }
    let opts = fullsync_deploy::deploy::ApplyOptions {
        staged,
        staging_timeout: None,
    };
    let report = fullsync_deploy::deploy::apply(&plan, &server, &p.root, &opts, &mut |pr| match (
        pr.index_done,
        pr.index_total,
    ) {
        (Some(d), Some(t)) if t > 0 => eprintln!(
            "[{}/{}] {} ({}%)",
            pr.current,
            pr.total,
            pr.message,
            d * 100 / t
        ),
        _ => eprintln!("[{}/{}] {}", pr.current, pr.total, pr.message),
    })?;
    eprintln!(
        "{name}: applied {} change(s), created {} database(s)",
        report.applied.len(),
        report.created_dbs.len()
    );
    Ok(())
}

/// Deploys the project's .car archive to a Convertigo server.
fn deploy_car(
    p: &fullsync_project::Project,
    profile: &fullsync_deploy::profiles::ServerProfile,
    name: &str,
    dry_run: bool,
) -> anyhow::Result<()> {
    let tmp = std::env::temp_dir().join(format!("fullsync-{}-{}.car", p.name, std::process::id()));
    fullsync_project::convertigo::export_car(&p.root, &tmp)?;
    let bytes = std::fs::read(&tmp)?;
    let _ = std::fs::remove_file(&tmp);
    println!(
        "~ Convertigo project {} ({} bytes .car)",
        p.name,
        bytes.len()
    );
    if dry_run {
        return Ok(());
    }
    let user = profile
        .user
        .clone()
        .context("a Convertigo server profile needs --user (the admin login)")?;
    let password = fullsync_deploy::profiles::password(profile)?.unwrap_or_default();
    let answer = fullsync_deploy::convertigo::deploy_car(
        &profile.url,
        &user,
        &password,
        &format!("{}.car", p.name),
        &bytes,
    )?;
    eprintln!("{name}: {answer}");
    Ok(())
}
