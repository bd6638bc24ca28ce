//! `fullsync view`: query a view of a local database or a server and print its rows (one JSON row per line).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;

/// The arguments of `fullsync view`.
#[derive(clap::Args)]
pub struct Args {
    /// Data directory.
    #[arg(long, default_value = "fullsync-data")]
    pub data: PathBuf,
    /// Database name, or URL (http(s)://host:port/db).
    pub db: String,
    /// DDOC/VIEW (the design document name without `_design/`).
    pub view: String,
    /// Query options as name=value.
    pub options: Vec<String>,
    /// Print the whole CouchDB response instead of one row per line.
    #[arg(long)]
    pub json: bool,
    /// Authenticate to the server as this user (password from the server profile with this
    /// URL, FULLSYNC_PASSWORD, or a prompt; never on the command line).
    #[arg(long)]
    pub user: Option<String>,
}

/// Runs `fullsync view`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let Args {
        data,
        db,
        view,
        options,
        json,
        user,
    } = args;
    if super::remote::is_url(&db) {
        return super::remote::view_remote(&db, &view, &options, json, user.as_deref());
    }
    view_cmd(&data, &db, &view, &options, json)
}

fn view_cmd(
    data: &std::path::Path,
    db: &str,
    view: &str,
    options: &[String],
    json: bool,
) -> anyhow::Result<()> {
    let (ddoc, name) = super::remote::split_view(view)?;
    let mut params = vec![];
    for o in options {
        let (k, v) = o.split_once('=').with_context(|| {
            format!("option `{o}` is not name=value (for example limit=10 or key='\"a\"')")
        })?;
        params.push((k.to_string(), v.to_string()));
    }
    if !data.exists() {
        anyhow::bail!(
            "data directory {} does not exist; pass --data DIR",
            data.display()
        );
    }
    // A query leaves no server.json behind: the data directory may belong to another tool.
    let engine = Arc::new(fullsync_engine::Engine::open_without_uuid_file(data)?);
    let views = fullsync_views::Views::new(engine);
    let q = fullsync_views::ViewQuery::from_params(&params)
        .map_err(|e| anyhow::anyhow!("{}: {e}", e.couch_error()))?;
    let t = std::time::Instant::now();
    let res = views
        .query(db, ddoc, name, &q)
        .map_err(|e| anyhow::anyhow!("{} ({}): {}", e.couch_error(), e.status(), e.reason()))?;
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    if json {
        println!("{}", serde_json::to_string_pretty(&res)?);
    } else {
        use std::io::Write;
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        for row in res["rows"].as_array().into_iter().flatten() {
            writeln!(out, "{row}")?;
        }
        out.flush()?;
    }
    let errors = views.errors(db, ddoc, 1000).unwrap_or_default();
    let total = res
        .get("total_rows")
        .map(|t| format!(" of {t}"))
        .unwrap_or_default();
    eprintln!(
        "{} rows{total} in {ms:.1} ms",
        res["rows"].as_array().map_or(0, |r| r.len())
    );
    for e in errors.iter().take(20) {
        eprintln!("map error in view {} on doc {}: {}", e.view, e.id, e.error);
    }
    if errors.len() > 20 {
        eprintln!("... and {} more map errors", errors.len() - 20);
    }
    Ok(())
}
