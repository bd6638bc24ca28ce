//! `fullsync find`: a Mango query (`_find`) on a local database or a server, one JSON document
//! per line.

use std::path::PathBuf;

use anyhow::Context;
use serde_json::{json, Value};

use super::remote::{print_rows, target};

/// The arguments of `fullsync find`.
#[derive(clap::Args)]
pub struct Args {
    /// Data directory of the local engine.
    #[arg(long, default_value = "fullsync-data")]
    pub data: PathBuf,
    /// Local database name or URL (http(s)://host:port/db).
    pub db: String,
    /// A Mango query (JSON with `selector`), or just a selector.
    pub query: String,
    /// Authenticate to the server as this user (password from the server profile with
    /// this URL, FULLSYNC_PASSWORD, or a prompt).
    #[arg(long)]
    pub user: Option<String>,
    /// Print the whole answer (docs, bookmark, warning) instead of one document per line.
    #[arg(long)]
    pub json: bool,
    /// Print how the query runs (`_explain`) instead of running it.
    #[arg(long)]
    pub explain: bool,
}

/// Runs `fullsync find`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let Args {
        data,
        db,
        query,
        user,
        json: json_out,
        explain,
    } = args;
    let mut q: Value = serde_json::from_str(&query).context("the query is not valid JSON")?;
    if q.get("selector").is_none() {
        q = json!({ "selector": q });
    }
    let t = target(&db, &data, user.as_deref())?;
    if explain {
        println!("{}", serde_json::to_string_pretty(&t.explain(&q)?)?);
        return Ok(());
    }
    let started = std::time::Instant::now();
    let res = t.find(&q)?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    print_rows(&res, "docs", json_out)?;
    if let Some(w) = res.get("warning").and_then(Value::as_str) {
        eprintln!("warning: {w}");
    }
    eprintln!(
        "{} documents from {} in {ms:.1} ms",
        res["docs"].as_array().map_or(0, Vec::len),
        t.describe()
    );
    Ok(())
}
