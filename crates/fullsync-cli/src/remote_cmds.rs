//! The command line on real servers: `fullsync view URL ...`, `fullsync find`, `fullsync
//! see-as URL`, `fullsync compare SOURCE TARGET DDOC/VIEW`.
//!
//! A database is a local name (of `--data`) or a URL `http(s)://host[:port]/db`. The password
//! for `--user` comes from the server profile with that URL and user (environment or keyring),
//! else `FULLSYNC_PASSWORD`, else a prompt on the terminal; never from the command line
//! (userinfo in a URL still works, and is never shown).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::Subcommand;
use fullsync_remote::{Server, Target};
use serde_json::{json, Value};

/// Commands that work on a local database or a server alike.
#[derive(Subcommand)]
pub enum RemoteCmd {
    /// Run a Mango query (`_find`) on a local database or a server and print the documents
    /// (one JSON document per line).
    ///
    /// `fullsync find orders '{"status": "paid"}'` (a selector), or a whole query:
    /// `fullsync find https://couch.example.com/orders '{"selector": {"total": {"$gt": 10}},
    /// "sort": [{"_id": "asc"}], "limit": 20}' --user bob`
    Find {
        /// Data directory of the local engine.
        #[arg(long, default_value = "fullsync-data")]
        data: PathBuf,
        /// Local database name or URL (http(s)://host:port/db).
        db: String,
        /// A Mango query (JSON with `selector`), or just a selector.
        query: String,
        /// Authenticate to the server as this user (password from the server profile with
        /// this URL, FULLSYNC_PASSWORD, or a prompt).
        #[arg(long)]
        user: Option<String>,
        /// Print the whole answer (docs, bookmark, warning) instead of one document per line.
        #[arg(long)]
        json: bool,
        /// Print how the query runs (`_explain`) instead of running it.
        #[arg(long)]
        explain: bool,
    },
    /// Run the same view (or Mango query) on SOURCE and TARGET, local names or URLs, and print
    /// the differences row by row (missing rows, other values, other order). Exit status: 0
    /// when equal, 1 when there are differences, 2 when a side could not be queried.
    ///
    /// `fullsync compare orders https://couch.example.com/orders app/by_status group=true --user bob`
    Compare {
        /// Data directory of the local engine.
        #[arg(long, default_value = "fullsync-data")]
        data: PathBuf,
        /// Left side: local database name or URL.
        source: String,
        /// Right side: local database name or URL.
        target: String,
        /// DDOC/VIEW, then view options as name=value (as `fullsync view`); leave out with
        /// --find.
        args: Vec<String>,
        /// Compare a Mango query (JSON) instead of a view (documents matched by `_id`;
        /// `_rev` is not compared).
        #[arg(long)]
        find: Option<String>,
        /// Authenticate to servers as this user (password from the server profile with this
        /// URL, FULLSYNC_PASSWORD, or a prompt).
        #[arg(long)]
        user: Option<String>,
        /// Print the comparison as JSON.
        #[arg(long)]
        json: bool,
        /// Most differences printed.
        #[arg(long, default_value_t = 200)]
        limit: usize,
    },
}

/// Whether `spec` is a URL (not a local database name).
pub fn is_url(spec: &str) -> bool {
    spec.starts_with("http://") || spec.starts_with("https://")
}

/// `http(s)://[user:pw@]host[:port][/prefix]/db` -> (server root, database name, decoded).
fn split_db_url(url: &str) -> anyhow::Result<(String, String)> {
    let trimmed = url.trim_end_matches('/');
    let scheme_end = trimmed.find("://").map_or(0, |i| i + 3);
    match trimmed.rfind('/') {
        Some(i) if i >= scheme_end => {
            let db = percent_decode(&trimmed[i + 1..]);
            Ok((trimmed[..i].to_string(), db))
        }
        _ => anyhow::bail!(
            "`{}` has no database name (expected http://host:port/dbname)",
            fullsync_api::replication::mask_url(url)
        ),
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 3 <= b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads a password from the terminal without echo.
fn prompt_password(prompt: &str) -> anyhow::Result<String> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("{prompt}: set FULLSYNC_PASSWORD (no terminal to ask on)");
    }
    eprint!("{prompt}: ");
    std::io::stderr().flush()?;
    let stty = |arg: &str| {
        std::process::Command::new("stty")
            .arg(arg)
            .stdin(std::process::Stdio::inherit())
            .status()
    };
    let _ = stty("-echo");
    let mut line = String::new();
    let r = std::io::stdin().read_line(&mut line);
    let _ = stty("echo");
    eprintln!();
    r?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// A server for the database URL `url`: credentials from the URL, else `--user` with the
/// password of the matching server profile, FULLSYNC_PASSWORD, or a prompt.
pub fn server_for(url: &str, user: Option<&str>) -> anyhow::Result<(Server, String)> {
    let (root, db) = split_db_url(url)?;
    let (clean_root, url_auth) = fullsync_replicate::peer::split_credentials(&root);
    let auth = match (url_auth, user) {
        (Some(a), _) => Some(a),
        (None, None) => None,
        (None, Some(u)) => {
            let from_profile = fullsync_deploy::profiles::load()
                .unwrap_or_default()
                .into_values()
                .find(|p| p.url.trim_end_matches('/') == clean_root && p.user.as_deref() == Some(u))
                .and_then(|p| fullsync_deploy::profiles::password(&p).ok().flatten());
            let password = match from_profile.or_else(|| {
                std::env::var("FULLSYNC_PASSWORD")
                    .ok()
                    .filter(|p| !p.is_empty())
            }) {
                Some(p) => p,
                None => prompt_password(&format!("password of {u} on {clean_root}"))?,
            };
            Some(fullsync_replicate::Auth {
                user: u.to_string(),
                password,
            })
        }
    };
    let server = Server::new(
        &clean_root,
        None,
        auth,
        fullsync_api::remote::timeout(),
        None,
    )?;
    Ok((server, db))
}

/// A local database or a server database.
fn target(spec: &str, data: &Path, user: Option<&str>) -> anyhow::Result<Target> {
    if is_url(spec) {
        let (server, db) = server_for(spec, user)?;
        return Ok(Target::Remote {
            server: Arc::new(server),
            db,
        });
    }
    if !data.exists() {
        anyhow::bail!(
            "data directory {} does not exist; pass --data DIR (or give a URL)",
            data.display()
        );
    }
    let engine = Arc::new(fullsync_engine::Engine::open_without_uuid_file(data)?);
    engine
        .db(spec)
        .with_context(|| format!("there is no local database `{spec}` in {}", data.display()))?;
    Ok(Target::Local {
        views: Arc::new(fullsync_views::Views::new(engine)),
        db: spec.to_string(),
    })
}

/// View options `name=value` as the JSON object the view APIs take (JSON values parsed,
/// anything else a string: `stale=ok`).
pub fn options_json(options: &[String]) -> anyhow::Result<Value> {
    let mut q = serde_json::Map::new();
    for o in options {
        let (k, v) = o.split_once('=').with_context(|| {
            format!("option `{o}` is not name=value (for example limit=10 or key='\"a\"')")
        })?;
        let val = serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_string()));
        q.insert(k.to_string(), val);
    }
    Ok(Value::Object(q))
}

fn split_view(view: &str) -> anyhow::Result<(&str, &str)> {
    view.strip_prefix("_design/")
        .unwrap_or(view)
        .split_once('/')
        .with_context(|| format!("`{view}` is not DDOC/VIEW (for example app/by_type)"))
}

/// `fullsync view URL DDOC/VIEW [options]`: a view of a server database.
pub fn view_remote(
    url: &str,
    view: &str,
    options: &[String],
    json_out: bool,
    user: Option<&str>,
) -> anyhow::Result<()> {
    let (ddoc, name) = split_view(view)?;
    let (server, db) = server_for(url, user)?;
    let q = options_json(options)?;
    let t = std::time::Instant::now();
    let res = server.view(&db, ddoc, name, &q)?;
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    print_rows(&res, "rows", json_out)?;
    let total = res
        .get("total_rows")
        .map(|t| format!(" of {t}"))
        .unwrap_or_default();
    eprintln!(
        "{} rows{total} from {}/{db} in {ms:.1} ms",
        res["rows"].as_array().map_or(0, Vec::len),
        server.name()
    );
    Ok(())
}

fn print_rows(res: &Value, key: &str, json_out: bool) -> anyhow::Result<()> {
    if json_out {
        println!("{}", serde_json::to_string_pretty(res)?);
    } else {
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        for row in res[key].as_array().into_iter().flatten() {
            writeln!(out, "{row}")?;
        }
        out.flush()?;
    }
    Ok(())
}

/// The documents of a server database a FullSync user would receive (`fullsync see-as URL`).
pub fn see_as_remote(
    url: &str,
    login: Option<&str>,
    user: Option<&str>,
    groups: &[String],
) -> anyhow::Result<()> {
    let (server, db) = server_for(url, login)?;
    let all = server.all_docs(&db, &json!({"include_docs": true}))?;
    let mut n = 0;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for r in all["rows"].as_array().into_iter().flatten() {
        if fullsync_replicate::acl::visible(&r["doc"], user, groups) {
            writeln!(out, "{}", r["id"].as_str().unwrap_or_default())?;
            n += 1;
        }
    }
    out.flush()?;
    eprintln!(
        "{n} documents of {}/{db} for {} with groups [{}]",
        server.name(),
        user.unwrap_or("an anonymous device"),
        groups.join(", ")
    );
    Ok(())
}

/// Runs a remote-capable command.
pub fn run(cmd: RemoteCmd) -> anyhow::Result<()> {
    match cmd {
        RemoteCmd::Find {
            data,
            db,
            query,
            user,
            json: json_out,
            explain,
        } => {
            let mut q: Value =
                serde_json::from_str(&query).context("the query is not valid JSON")?;
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
        RemoteCmd::Compare {
            data,
            source,
            target: right,
            args,
            find,
            user,
            json: json_out,
            limit,
        } => match compare(&data, &source, &right, &args, find, user, json_out, limit) {
            Ok(true) => Ok(()),
            Ok(false) => std::process::exit(1),
            Err(e) => {
                eprintln!("error: {e:#}");
                std::process::exit(2)
            }
        },
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
