//! `fullsync compare`: the same view (or Mango query) on two databases, local names or URLs,
//! and the differences row by row. Exit status: 0 equal, 1 different, 2 trouble (like diff).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use fullsync_remote::Target;
use serde_json::{json, Value};

use super::remote::{options_json, split_view, target};

/// The arguments of `fullsync compare`.
#[derive(clap::Args)]
pub struct Args {
    /// Data directory of the local engine.
    #[arg(long, default_value = "fullsync-data")]
    pub data: PathBuf,
    /// Left side: local database name or URL.
    pub source: String,
    /// Right side: local database name or URL.
    pub target: String,
    /// DDOC/VIEW, then view options as name=value (as `fullsync view`); leave out with
    /// --find.
    pub args: Vec<String>,
    /// Compare a Mango query (JSON) instead of a view (documents matched by `_id`;
    /// `_rev` is not compared).
    #[arg(long)]
    pub find: Option<String>,
    /// Authenticate to servers as this user (password from the server profile with this
    /// URL, FULLSYNC_PASSWORD, or a prompt).
    #[arg(long)]
    pub user: Option<String>,
    /// Print the comparison as JSON.
    #[arg(long)]
    pub json: bool,
    /// Most differences printed.
    #[arg(long, default_value_t = 200)]
    pub limit: usize,
}

/// Runs `fullsync compare`: exits 1 when there are differences, 2 when a side fails.
pub fn run(a: Args) -> anyhow::Result<()> {
    match compare(
        &a.data, &a.source, &a.target, &a.args, a.find, a.user, a.json, a.limit,
    ) {
        Ok(true) => Ok(()),
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(2)
        }
    }
}

/// Prints the comparison; answers whether both sides are equal.
#[allow(clippy::too_many_arguments)]
fn compare(
    data: &Path,
    source: &str,
    right: &str,
    args: &[String],
    find: Option<String>,
    user: Option<String>,
    json_out: bool,
    limit: usize,
) -> anyhow::Result<bool> {
    let l = target(source, data, user.as_deref())?;
    let r = target(right, data, user.as_deref())?;
    let mango = match &find {
        Some(f) => {
            if !args.is_empty() {
                anyhow::bail!("give either DDOC/VIEW with options, or --find, not both");
            }
            let mut q: Value = serde_json::from_str(f).context("--find is not valid JSON")?;
            if q.get("selector").is_none() {
                q = json!({ "selector": q });
            }
            // Both sides answer with CouchDB's default limit (25) when none is given: some
            // servers (pouchdb-server) have none, which would be a difference of defaults,
            // not of data.
            if q.get("limit").is_none() {
                q["limit"] = json!(25);
            }
            Some(q)
        }
        None => None,
    };
    let run = |t: &Target| -> anyhow::Result<Value> {
        Ok(match &mango {
            Some(q) => t.find(q)?,
            None => {
                let view = args
                    .first()
                    .context("give DDOC/VIEW (for example app/by_status), or --find QUERY")?;
                let (ddoc, name) = split_view(view)?;
                t.view(ddoc, name, &options_json(&args[1..])?)?
            }
        })
    };
    let a = run(&l).with_context(|| format!("on {}", l.describe()))?;
    let b = run(&r).with_context(|| format!("on {}", r.describe()))?;
    let c = fullsync_remote::compare_rows(
        &fullsync_remote::compare::rows_of(&a),
        &fullsync_remote::compare::rows_of(&b),
        mango.is_some(),
        limit,
    );
    let (ln, rn) = (l.describe(), r.describe());
    if json_out {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({"left": ln, "right": rn, "comparison": c}))?
        );
    } else {
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        for d in &c.differences {
            writeln!(out, "{}", d.describe(&ln, &rn))?;
        }
        out.flush()?;
    }
    if c.equal {
        eprintln!("equal: {} rows in {ln} and {rn}", c.left_rows);
    } else {
        eprintln!(
            "{} difference(s) between {ln} ({} rows) and {rn} ({} rows){}",
            c.total_differences,
            c.left_rows,
            c.right_rows,
            if c.total_differences > c.differences.len() {
                format!("; the first {} shown", c.differences.len())
            } else {
                String::new()
            }
        );
    }
    Ok(c.equal)
}
