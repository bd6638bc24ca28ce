//! `fullsync replicate`: replicate SOURCE to TARGET: local database names or URLs (http(s)://host:port/db).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;

/// The arguments of `fullsync replicate`.
#[derive(clap::Args)]
pub struct Args {
    /// Data directory of the local engine.
    #[arg(long, default_value = "fullsync-data")]
    pub data: PathBuf,
    /// Source: local database name or URL.
    pub source: String,
    /// Target: local database name or URL.
    pub target: String,
    /// Keep following changes until interrupted.
    #[arg(long)]
    pub live: bool,
    /// Retry with exponential backoff while a server is unreachable (the wait goes back to
    /// 0.5 s after every attempt that made progress).
    #[arg(long)]
    pub retry: bool,
    /// Longest wait between retries, in seconds.
    #[arg(long, default_value_t = 60.0)]
    pub max_backoff: f64,
    /// Changes per batch.
    #[arg(long, default_value_t = 100)]
    pub batch_size: usize,
    /// Only these document ids (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub doc_ids: Vec<String>,
    /// Only documents matching this Mango selector (JSON).
    #[arg(long)]
    pub selector: Option<String>,
    /// Only documents passing the source's filter function DDOC/NAME.
    #[arg(long)]
    pub filter: Option<String>,
    /// query_params for --filter, as name=value (repeatable).
    #[arg(long = "query-param")]
    pub query_params: Vec<String>,
    /// Only documents the source's view DDOC/VIEW emits for.
    #[arg(long)]
    pub view: Option<String>,
    /// Start from this source sequence instead of the checkpoint.
    #[arg(long)]
    pub since: Option<String>,
    /// Authenticate to remote servers as this user (password in FULLSYNC_PASSWORD).
    #[arg(long)]
    pub user: Option<String>,
    /// Print every event as a JSON line on stdout (for scripts), instead of a progress bar.
    #[arg(long)]
    pub json_events: bool,
}

/// Runs `fullsync replicate`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let Args {
        data,
        source,
        target,
        live,
        retry,
        max_backoff,
        batch_size,
        doc_ids,
        selector,
        filter,
        query_params,
        view,
        since,
        user,
        json_events,
    } = args;
    let filter = if !doc_ids.is_empty() {
        fullsync_replicate::Filter::DocIds(doc_ids)
    } else if let Some(s) = selector {
        fullsync_replicate::Filter::Selector(
            serde_json::from_str(&s).context("--selector is not valid JSON")?,
        )
    } else if let Some(f) = filter {
        let mut qp = serde_json::Map::new();
        for p in query_params {
            let (k, v) = p
                .split_once('=')
                .with_context(|| format!("--query-param `{p}` is not name=value"))?;
            qp.insert(k.to_string(), serde_json::Value::String(v.to_string()));
        }
        fullsync_replicate::Filter::Function {
            name: f,
            query_params: qp,
        }
    } else if let Some(v) = view {
        fullsync_replicate::Filter::View(v)
    } else {
        fullsync_replicate::Filter::None
    };
    if !(max_backoff.is_finite() && max_backoff > 0.0) {
        anyhow::bail!("--max-backoff must be a positive number of seconds");
    }
    let opts = fullsync_replicate::Options {
        live,
        retry,
        max_backoff: std::time::Duration::from_secs_f64(max_backoff),
        batch_size: batch_size.max(1),
        filter,
        since: since.map(|s| {
            s.parse::<u64>()
                .map(serde_json::Value::from)
                .unwrap_or(serde_json::Value::String(s))
        }),
        ..Default::default()
    };
    replicate_cmd(&data, &source, &target, opts, user, json_events)
}

fn replicate_cmd(
    data: &std::path::Path,
    source: &str,
    target: &str,
    opts: fullsync_replicate::Options,
    user: Option<String>,
    json_events: bool,
) -> anyhow::Result<()> {
    let auth = match user {
        Some(u) => Some(fullsync_replicate::Auth {
            user: u,
            password: std::env::var("FULLSYNC_PASSWORD").context(
                "--user needs the password in the FULLSYNC_PASSWORD environment variable",
            )?,
        }),
        None => None,
    };
    let engine = Arc::new(fullsync_engine::Engine::open(data)?);
    let views = Arc::new(fullsync_views::Views::new(engine.clone()));
    let src = fullsync_replicate::endpoint(
        source,
        &engine,
        Some(views.clone()),
        auth.clone(),
        opts.timeout,
    )?;
    let tgt = fullsync_replicate::endpoint(target, &engine, Some(views), auth, opts.timeout)?;
    // Pull: from a server into a local database; everything else writes to the target (push).
    let direction = if source.contains("://") && !target.contains("://") {
        fullsync_replicate::Direction::Pull
    } else {
        fullsync_replicate::Direction::Push
    };
    let listener: fullsync_replicate::Listener = Arc::new(move |e: fullsync_replicate::Event| {
        use fullsync_replicate::Event as E;
        if json_events {
            println!("{}", serde_json::to_string(&e).unwrap_or_default());
            return;
        }
        match e {
            E::Change {
                docs_read,
                docs_written,
                current,
                total,
                progress,
                ..
            } => {
                let filled = (progress as usize) / 5;
                eprint!(
                    "\r[{}{}] {progress:>3}%  seq {current}/{total}  {docs_read} read, {docs_written} written   ",
                    "#".repeat(filled),
                    "-".repeat(20 - filled)
                );
            }
            E::Paused {
                error: Some(err),
                retry_in_ms,
                ..
            } => eprintln!(
                "\npaused: {err}; retrying in {:.1} s",
                retry_in_ms.unwrap_or(0) as f64 / 1000.0
            ),
            E::Paused { error: None, .. } => {
                eprintln!("\nup to date; waiting for changes (Ctrl-C to stop)")
            }
            _ => {}
        }
    });
    let rep = fullsync_replicate::start(src, tgt, direction, opts, listener);
    let summary = rep.wait();
    if !json_events {
        eprintln!(
            "\n{}: {} read, {} written, {} refused, last_seq {}",
            if summary.ok { "done" } else { "FAILED" },
            summary.docs_read,
            summary.docs_written,
            summary.doc_write_failures,
            summary.last_seq
        );
        for e in summary.errors.iter().take(10) {
            eprintln!("  {e}");
        }
    }
    if !summary.ok {
        anyhow::bail!("the replication did not complete (see above)");
    }
    Ok(())
}
