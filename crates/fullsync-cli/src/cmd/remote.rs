//! What the commands that reach servers share: a database is a local name (of `--data`) or a
//! URL `http(s)://host[:port]/db`. The password for `--user` comes from the server profile
//! with that URL and user (environment or keyring), else `FULLSYNC_PASSWORD`, else a prompt on
//! the terminal; never from the command line (userinfo in a URL still works, and is never
//! shown). Used by `view`, `find`, `see-as` and `compare`.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use fullsync_remote::{Server, Target};
use serde_json::{json, Value};

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
pub fn target(spec: &str, data: &Path, user: Option<&str>) -> anyhow::Result<Target> {
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

pub fn split_view(view: &str) -> anyhow::Result<(&str, &str)> {
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

pub fn print_rows(res: &Value, key: &str, json_out: bool) -> anyhow::Result<()> {
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
