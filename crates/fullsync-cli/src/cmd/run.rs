//! `fullsync run`: run a project's FullSync transaction against a local database.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;

use super::load_project;

/// The arguments of `fullsync run`.
#[derive(clap::Args)]
pub struct Args {
    /// Project folder.
    pub project: PathBuf,
    /// CONNECTOR/TRANSACTION.
    pub transaction: String,
    /// Variable values as name=value (JSON values are parsed: numbers, true, {...}, [...]).
    #[arg(long = "var")]
    pub vars: Vec<String>,
    /// Simulated authenticated user (for the access policies).
    #[arg(long)]
    pub user: Option<String>,
    /// Data directory.
    #[arg(long, default_value = "fullsync-data")]
    pub data: PathBuf,
}

/// Runs `fullsync run`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let Args {
        project,
        transaction,
        vars,
        user,
        data,
    } = args;
    let (p, _) = load_project(&project)?;
    let (conn, name) = transaction
        .split_once('/')
        .with_context(|| format!("`{transaction}` is not CONNECTOR/TRANSACTION"))?;
    let c = p
        .connector(conn)
        .with_context(|| format!("the project has no connector `{conn}`"))?;
    let t = c
        .transactions
        .iter()
        .find(|t| t.name == name)
        .with_context(|| {
            let names: Vec<&str> = c.transactions.iter().map(|t| t.name.as_str()).collect();
            format!(
                "connector `{conn}` has no transaction `{name}` (it has: {})",
                names.join(", ")
            )
        })?;
    let mut given = serde_json::Map::new();
    for v in vars {
        let (k, val) = v
            .split_once('=')
            .with_context(|| format!("--var `{v}` is not name=value"))?;
        let parsed = serde_json::from_str::<serde_json::Value>(val)
            .unwrap_or_else(|_| serde_json::Value::String(val.to_string()));
        given.insert(k.to_string(), parsed);
    }
    let engine = Arc::new(fullsync_engine::Engine::open(&data)?);
    let views = fullsync_views::Views::new(engine.clone());
    fullsync_project::sync::sync(&engine, &p);
    let out = fullsync_runtime::transactions::run(
        &engine,
        &views,
        conn,
        t,
        &given,
        &fullsync_runtime::transactions::Caller { user },
    )
    .map_err(|e| anyhow::anyhow!("{conn}/{name}: {e}"))?;
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
