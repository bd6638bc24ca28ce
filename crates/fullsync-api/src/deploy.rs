//! Deploy from the studio: server profiles (without secrets), the plan of a deploy of the open
//! project (what `fullsync deploy --dry-run` prints), and deploys run as background jobs with
//! progress. The work is [`fullsync_deploy`]'s; this module validates input, runs it on a
//! thread, and keeps each job's progress and result until it is dismissed.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use fullsync_deploy::deploy::{Action, ApplyOptions, DeployError, Plan};
use fullsync_deploy::profiles::{self, ProfileError, ServerKind, ServerProfile};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::jobs::{lock, Job, JobState, JobTable};
use crate::{now_ms, ApiError, ErrorCode};

/// A saved server profile, without secrets (`servers_list`).
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct ServerInfo {
    /// Profile name.
    pub name: String,
    /// `couchdb` or `convertigo`.
    #[ts(type = "'couchdb' | 'convertigo'")]
    pub kind: ServerKind,
    /// Server URL (no credentials).
    pub url: String,
    /// User name.
    pub user: Option<String>,
    /// CA certificate file trusted for this server.
    pub ca_file: Option<PathBuf>,
    /// Where the password comes from: `not needed`, `environment`, `keyring` or `missing`.
    pub password: &'static str,
    /// The environment variable that gives the password.
    pub password_var: String,
}

/// The answer of `servers_list`.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct ServerList {
    /// Where the profiles are kept.
    pub config_dir: String,
    /// Every profile, by name.
    pub servers: Vec<ServerInfo>,
}

/// The answer of `server_save`.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct ServerSaved {
    /// The profile name saved.
    pub saved: String,
    /// Whether a password went to the OS keyring.
    pub password_stored: bool,
    /// Why the password was not stored, and how to give it instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub warning: Option<String>,
}

/// A database a deploy creates.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct CreateDb {
    /// Database.
    pub db: String,
    /// Its `_revs_limit`.
    #[ts(type = "number")]
    pub revs_limit: u64,
}

/// What a deploy does to one design document.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct PlanItem {
    /// Database.
    pub db: String,
    /// Design document id.
    pub id: String,
    /// `create`, `update`, `delete` or `unchanged`.
    #[ts(type = "'create' | 'update' | 'delete' | 'unchanged'")]
    pub action: Action,
    /// Every view the server rebuilds.
    pub reindex: Vec<String>,
    /// The documents of the database.
    #[ts(type = "number | null")]
    pub doc_count: Option<u64>,
    /// Conflicting revisions the deploy deletes.
    pub conflicts: Vec<String>,
    /// Every JavaScript source (or builtin reduce) that differs, by member path, with its text
    /// before and after (see [`changed_sources`]).
    #[ts(type = "Array<{ path: string; before: string | null; after: string | null }>")]
    pub functions: Vec<Value>,
}

/// How many design documents each action touches.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct PlanCounts {
    /// Created.
    pub create: usize,
    /// Updated.
    pub update: usize,
    /// Deleted.
    pub delete: usize,
    /// Left as they are.
    pub unchanged: usize,
}

/// The answer of `deploy_plan`.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct PlanAnswer {
    /// Server profile.
    pub server: String,
    /// Server URL.
    pub url: String,
    /// Whether nothing would change.
    pub noop: bool,
    /// Databases created.
    pub create_dbs: Vec<CreateDb>,
    /// The deploy id restored, for a rollback.
    #[ts(type = "number | null")]
    pub rollback_to: Option<u64>,
    /// Each design document.
    pub items: Vec<PlanItem>,
    /// Design documents per action.
    pub counts: PlanCounts,
    /// The readable diff `fullsync deploy --dry-run` prints.
    pub rendered: String,
}

/// A recorded deploy (`deploy_history`).
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct HistoryEntry {
    /// Deploy id (for `rollback_to`).
    #[ts(type = "number")]
    pub id: u64,
    /// When it started (UTC).
    pub time: String,
    /// `deploy`, `staged deploy` or `rollback`.
    pub kind: &'static str,
    /// The deploy id a rollback restored.
    #[ts(type = "number | null")]
    pub rollback_to: Option<u64>,
    /// Whether it finished.
    pub complete: bool,
    /// What stopped it.
    pub error: Option<String>,
    /// The `fullsync deploy --history` line.
    pub summary: String,
    /// `update orders/_design/app`, ...
    pub applied: Vec<String>,
}

/// The answer of `deploy_history`.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct History {
    /// Server profile.
    pub server: String,
    /// Newest first.
    pub deploys: Vec<HistoryEntry>,
}

/// A server profile to save (the `server_save` command's arguments).
#[derive(Clone, Debug, Deserialize, ts_rs::TS)]
pub struct SaveArgs {
    /// Profile name (letters, digits, `-`, `_`).
    pub name: String,
    /// Base URL of the server (`https://couch.example.com:6984`), without credentials.
    pub url: String,
    /// `couchdb` (default) or `convertigo`.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub kind: Option<String>,
    /// User name, if the server needs one.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub user: Option<String>,
    /// The user's password: stored in the OS keyring, never in a file.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub password: Option<String>,
    /// A PEM file of extra trusted CA certificates.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub ca_file: Option<String>,
}

fn profile_error(e: ProfileError) -> ApiError {
    match e {
        ProfileError::Unknown(name) => ApiError::new(
            ErrorCode::NotFound,
            format!("no server profile named `{name}`: save one in the Deploy screen (or `fullsync server add {name} --url URL`)"),
        ),
        ProfileError::NoPassword { .. } => ApiError::new(ErrorCode::Forbidden, e.to_string()),
        ProfileError::Config(m) => ApiError::new(
            ErrorCode::Internal,
            format!("server profiles ({}): {m}", profiles::config_dir().display()),
        ),
    }
}

fn deploy_error(server: &str, e: DeployError) -> ApiError {
    let code = match &e {
        DeployError::Server(r) if !r.retryable() => ErrorCode::BadRequest,
        _ => ErrorCode::Internal,
    };
    ApiError::new(code, format!("server `{server}`: {e}"))
}

/// Where a profile's password comes from: `not needed`, `environment`, `keyring`, `missing`.
fn password_source(p: &ServerProfile) -> &'static str {
    if p.user.is_none() {
        "not needed"
    } else if std::env::var_os(profiles::password_var(&p.name)).is_some() {
        "environment"
    } else if profiles::password(p).is_ok() {
        "keyring"
    } else {
        "missing"
    }
}

/// The saved server profiles, without secrets: each with `name`, `kind`, `url`, `user`,
/// `password` (where it comes from) and `password_var` (the environment variable to set).
pub fn servers_list() -> Result<ServerList, ApiError> {
    let all = profiles::load().map_err(profile_error)?;
    Ok(ServerList {
        config_dir: profiles::config_dir().display().to_string(),
        servers: all
            .values()
            .map(|p| ServerInfo {
                name: p.name.clone(),
                kind: p.kind,
                url: p.url.clone(),
                user: p.user.clone(),
                ca_file: p.ca_file.clone(),
                password: password_source(p),
                password_var: profiles::password_var(&p.name),
            })
            .collect(),
    })
}

/// Saves (adds or replaces) a profile; a given password goes to the OS keyring only. When the
/// keyring cannot take it, the profile is still saved and `warning` says how to give the
/// password instead.
pub fn server_save(a: SaveArgs) -> Result<ServerSaved, ApiError> {
    let bad = |m: String| ApiError::new(ErrorCode::BadRequest, m);
    let name = a.name.trim().to_string();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(bad(format!(
            "`{name}` is not a profile name: use letters, digits, - and _ (for example staging)"
        )));
    }
    let url = a.url.trim().trim_end_matches('/').to_string();
    if !url.starts_with("http://") && !url.starts_with("https://") {
        return Err(bad(format!(
            "the server URL must start with http:// or https:// (got `{}`)",
            crate::replication::mask_url(&url)
        )));
    }
    if url.contains('@') {
        return Err(bad(
            "put no credentials in the URL: fill in the user and password fields (the password goes to the OS keyring)".into(),
        ));
    }
    let kind = match a.kind.as_deref().unwrap_or("couchdb") {
        "couchdb" | "" => ServerKind::Couchdb,
        "convertigo" => ServerKind::Convertigo,
        other => return Err(bad(format!("kind `{other}` is not couchdb or convertigo"))),
    };
    let user = a.user.filter(|u| !u.trim().is_empty());
    let password = a.password.filter(|p| !p.is_empty());
    if password.is_some() && user.is_none() {
        return Err(bad(
            "a password needs a user name: fill in the user field too".into(),
        ));
    }
    let p = ServerProfile {
        name: name.clone(),
        kind,
        url,
        user,
        ca_file: a
            .ca_file
            .filter(|f| !f.trim().is_empty())
            .map(PathBuf::from),
    };
    profiles::save(&p).map_err(profile_error)?;
    let mut out = ServerSaved {
        saved: name.clone(),
        password_stored: false,
        warning: None,
    };
    if let Some(pw) = password {
        match profiles::store_password(&p, &pw) {
            Ok(()) => out.password_stored = true,
            Err(e) => {
                out.warning = Some(format!(
                    "the profile was saved, but its password was not: {e}. The OS keyring is not available here; set {} in the environment of the studio instead",
                    profiles::password_var(&name)
                ))
            }
        }
    }
    Ok(out)
}

/// Loads the open project for a deploy, refusing one with errors.
fn load_project(root: &Path) -> Result<fullsync_project::Project, ApiError> {
    let (p, diags) = fullsync_project::load(root);
    let errors: Vec<String> = diags
        .iter()
        .filter(|d| d.severity == fullsync_project::Severity::Error)
        .map(|d| d.to_string())
        .collect();
    match p {
        Some(p) if errors.is_empty() => Ok(p),
        _ => Err(ApiError::new(
            ErrorCode::InvalidProject,
            format!(
                "the project has errors; fix them before deploying:\n{}",
                errors.join("\n")
            ),
        )),
    }
}

fn couch_profile(server: &str) -> Result<ServerProfile, ApiError> {
    let profile = profiles::get(server).map_err(profile_error)?;
    if profile.kind == ServerKind::Convertigo {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            format!("`{server}` is a Convertigo server: the studio deploys to CouchDB-compatible servers; deploy the project's .car with `fullsync deploy PROJECT --server {server}`"),
        ));
    }
    Ok(profile)
}

fn plan_for(
    root: &Path,
    server: &str,
    rollback_to: Option<u64>,
    password: Option<&str>,
) -> Result<(Plan, fullsync_replicate::HttpPeer), ApiError> {
    let p = load_project(root)?;
    let profile = couch_profile(server)?;
    let peer = fullsync_deploy::deploy::connect_with(&profile, password)
        .map_err(|e| deploy_error(server, e))?;
    let plan = match rollback_to {
        Some(to) => fullsync_deploy::deploy::rollback_plan(&p.root, &peer, server, Some(to)),
        None => fullsync_deploy::deploy::plan(&p, &peer, server),
    }
    .map_err(|e| deploy_error(server, e))?;
    Ok((plan, peer))
}

/// The deploys of the project at `root` recorded for `server`, newest first: each with `id`
/// (for `rollback_to`), `time` (UTC), `kind` (`deploy`, `staged deploy`, `rollback`),
/// `rollback_to`, `complete`, `error`, `summary` (the `fullsync deploy --history` line) and
/// `applied` (`update orders/_design/app`, ...).
pub fn history(root: &Path, server: &str) -> Result<History, ApiError> {
    let reports =
        fullsync_deploy::deploy::history(root, server).map_err(|e| deploy_error(server, e))?;
    Ok(History {
        server: server.to_string(),
        deploys: reports
            .iter()
            .rev()
            .filter(|r| !r.applied.is_empty() || r.error.is_some())
            .map(|r| HistoryEntry {
                id: r.id(),
                time: fullsync_deploy::deploy::format_time(r.started),
                kind: match (r.rollback_to, r.staged) {
                    (Some(_), _) => "rollback",
                    (None, true) => "staged deploy",
                    (None, false) => "deploy",
                },
                rollback_to: r.rollback_to,
                complete: r.complete,
                error: r.error.clone(),
                summary: r.summary(),
                applied: r
                    .applied
                    .iter()
                    .map(|i| format!("{:?} {}/{}", i.action, i.db, i.id).to_lowercase())
                    .collect(),
            })
            .collect(),
    })
}

/// The plan of a deploy of the project at `root` to profile `server` (nothing is changed), or
/// of restoring deploy `rollback_to`: `create_dbs`, `items` (each `db`, `id`, `action`
/// create/update/delete/unchanged, `reindex`: every view the server rebuilds, `doc_count`: the
/// documents of the database, `conflicts`: conflicting revisions the deploy deletes), `counts`,
/// `noop`, `rollback_to`, and `rendered`, the readable diff `fullsync deploy --dry-run` prints.
/// Each changed item also lists its `functions`: every JavaScript source (or builtin reduce)
/// that differs, by member path (`views.by_status.map`), with its text `before` and `after`,
/// for code diffs. `password` is used for this plan only (a session password, never stored).
pub fn plan(
    root: &Path,
    server: &str,
    rollback_to: Option<u64>,
    password: Option<&str>,
) -> Result<PlanAnswer, ApiError> {
    let (plan, peer) = plan_for(root, server, rollback_to, password)?;
    let count = |a: Action| plan.items.iter().filter(|i| i.action == a).count();
    let url = peer.url().trim_end_matches("/_fullsync_deploy").to_string();
    Ok(PlanAnswer {
        server: server.to_string(),
        url,
        noop: plan.is_noop(),
        create_dbs: plan
            .create_dbs
            .iter()
            .map(|(db, l)| CreateDb {
                db: db.clone(),
                revs_limit: *l,
            })
            .collect(),
        rollback_to: plan.rollback_to,
        items: plan
            .items
            .iter()
            .map(|i| PlanItem {
                db: i.db.clone(),
                id: i.id.clone(),
                action: i.action,
                reindex: i.reindex.clone(),
                doc_count: i.doc_count,
                conflicts: i.conflicts.clone(),
                functions: changed_sources(i.before.as_ref(), i.after.as_ref()),
            })
            .collect(),
        counts: PlanCounts {
            create: count(Action::Create),
            update: count(Action::Update),
            delete: count(Action::Delete),
            unchanged: count(Action::Unchanged),
        },
        rendered: plan.render(),
    })
}

/// A deploy job, as `deploy_status` reports it.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct DeployStatus {
    /// Job id (`d1`, `d2`, ...).
    pub id: String,
    /// Server profile.
    pub server: String,
    /// `running`, `done` or `error`.
    pub state: JobState,
    /// Steps done.
    pub current: usize,
    /// Steps in total (known once the plan is computed).
    pub total: usize,
    /// What is happening, or what happened.
    pub message: String,
    /// Started (milliseconds since the Unix epoch).
    #[ts(type = "number")]
    pub started: u64,
    /// Ended, once it has.
    #[ts(type = "number | null")]
    pub ended: Option<u64>,
    /// Design documents written or deleted (`create db/_design/x`, ...).
    pub applied: Vec<String>,
    /// Databases created.
    pub created_dbs: Vec<String>,
    /// What stopped it, and what to do.
    pub error: Option<String>,
    /// Whether views are built in staging design documents first.
    pub staged: bool,
    /// For a rollback: the deploy id it restores.
    #[ts(type = "number | null")]
    pub rollback_to: Option<u64>,
    /// Staged deploys: changes indexed so far by the latest index build (kept once it ends).
    #[ts(type = "number | null")]
    pub index_done: Option<u64>,
    /// Staged deploys: changes the latest index build had to index.
    #[ts(type = "number | null")]
    pub index_total: Option<u64>,
}

impl Job for DeployStatus {
    fn id(&self) -> &str {
        &self.id
    }
    fn state(&self) -> JobState {
        self.state
    }
}

/// The studio's deploy jobs.
pub struct Deploys {
    jobs: JobTable<DeployStatus>,
}

impl Default for Deploys {
    fn default() -> Self {
        Deploys {
            jobs: JobTable::new("d", "deploy", "wait for it to end"),
        }
    }
}

impl Deploys {
    /// Starts deploying the project at `root` to `server` on a thread: a fresh plan, then
    /// apply (recorded in the project's deploy history, as the CLI does).
    pub fn start(
        &self,
        root: PathBuf,
        server: String,
        staged: bool,
        rollback_to: Option<u64>,
        password: Option<String>,
    ) -> Result<DeployStatus, ApiError> {
        // Fail fast on what the user can fix in the form.
        load_project(&root)?;
        couch_profile(&server)?;
        let id = self.jobs.next_id();
        let status = Arc::new(Mutex::new(DeployStatus {
            id,
            server: server.clone(),
            state: JobState::Running,
            current: 0,
            total: 0,
            message: "computing the plan".into(),
            started: now_ms(),
            ended: None,
            applied: vec![],
            created_dbs: vec![],
            error: None,
            staged,
            rollback_to,
            index_done: None,
            index_total: None,
        }));
        let st = status.clone();
        std::thread::Builder::new()
            .name(format!("fullsync-studio-deploy-{server}"))
            .spawn(move || {
                let result = run_deploy(
                    &st,
                    &root,
                    &server,
                    staged,
                    rollback_to,
                    password.as_deref(),
                );
                finish(&mut lock(&st), result, rollback_to);
            })
            .map_err(|e| {
                ApiError::new(
                    ErrorCode::Internal,
                    format!("cannot start a deploy thread: {e}"),
                )
            })?;
        Ok(self.jobs.insert(status, ()))
    }

    /// Every job, oldest first.
    pub fn status(&self) -> Vec<DeployStatus> {
        self.jobs.status()
    }

    /// Removes a finished job from the list.
    pub fn dismiss(&self, id: &str) -> Result<(), ApiError> {
        self.jobs.dismiss(id)
    }
}

/// The work of a deploy job: a fresh plan, then apply it, with progress in `st`.
fn run_deploy(
    st: &Arc<Mutex<DeployStatus>>,
    root: &Path,
    server: &str,
    staged: bool,
    rollback_to: Option<u64>,
    password: Option<&str>,
) -> Result<fullsync_deploy::deploy::Report, ApiError> {
    let (plan, peer) = plan_for(root, server, rollback_to, password)?;
    {
        let mut s = lock(st);
        s.total = plan.create_dbs.len() + plan.steps().len();
        s.message = if plan.is_noop() {
            "nothing to deploy: the server is up to date".into()
        } else {
            format!("applying {} step(s)", s.total)
        };
    }
    fullsync_deploy::deploy::apply(
        &plan,
        &peer,
        root,
        &ApplyOptions {
            staged,
            staging_timeout: None,
        },
        &mut |pr| {
            let mut s = lock(st);
            s.current = pr.current;
            s.total = pr.total;
            s.message = pr.message;
            // The last index figures stay shown once the build is over.
            if pr.index_total.is_some() {
                s.index_done = pr.index_done;
                s.index_total = pr.index_total;
            }
        },
    )
    .map_err(|e| deploy_error(server, e))
}

/// Records how a deploy job ended in its status.
fn finish(
    s: &mut DeployStatus,
    result: Result<fullsync_deploy::deploy::Report, ApiError>,
    rollback_to: Option<u64>,
) {
    s.ended = Some(now_ms());
    match result {
        Ok(r) => {
            s.state = JobState::Done;
            s.created_dbs = r.created_dbs;
            s.applied = r
                .applied
                .iter()
                .map(|i| format!("{:?} {}/{}", i.action, i.db, i.id).to_lowercase())
                .collect();
            s.message = match rollback_to {
                Some(to) => format!(
                    "rolled back to {}: {} design document change(s)",
                    if to == 0 {
                        "before the first deploy".to_string()
                    } else {
                        format!("deploy {to}")
                    },
                    s.applied.len()
                ),
                None => format!(
                    "deployed: {} design document change(s), {} database(s) created",
                    s.applied.len(),
                    s.created_dbs.len()
                ),
            };
        }
        Err(e) => {
            s.state = JobState::Error;
            s.message = "failed".into();
            s.error = Some(format!("{}. The project's deploy history (.fullsync/deploy-history) says what was applied; deploy again to complete it", e.message));
        }
    }
}

/// The string members (function sources, builtin reduce names, `views.lib` modules) that differ
/// between two versions of a design document, by dotted member path, each with its text before
/// and after (`null` where absent): what the Deploy screen shows as code diffs.
pub fn changed_sources(before: Option<&Value>, after: Option<&Value>) -> Vec<Value> {
    fn walk(path: &str, b: Option<&Value>, a: Option<&Value>, out: &mut Vec<Value>) {
        match (b, a) {
            (Some(Value::Object(bm)), Some(Value::Object(am))) => {
                let mut keys: Vec<&String> = bm.keys().chain(am.keys()).collect();
                keys.sort();
                keys.dedup();
                for k in keys {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    walk(&p, bm.get(k), am.get(k), out);
                }
            }
            (Some(Value::Object(m)), None) => {
                for (k, v) in m {
                    walk(&format!("{path}.{k}"), Some(v), None, out);
                }
            }
            (None, Some(Value::Object(m))) => {
                for (k, v) in m {
                    walk(&format!("{path}.{k}"), None, Some(v), out);
                }
            }
            (b, a) if b == a => {}
            (b, a) => {
                let text = |v: Option<&Value>| match v {
                    None => Value::Null,
                    Some(Value::String(s)) => json!(s),
                    Some(other) => json!(serde_json::to_string_pretty(other).unwrap_or_default()),
                };
                if path == "fullsync_project" {
                    return;
                }
                out.push(json!({"path": path.trim_start_matches('.'), "before": text(b), "after": text(a)}));
            }
        }
    }
    let mut out = vec![];
    walk("", before, after, &mut out);
    out
}
