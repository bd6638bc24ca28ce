//! The studio on real servers: connections (the embedded engine and every server profile),
//! and the documents, conflicts, changes, view runner, Mango, database info, preview-on-sample,
//! compare and pull-a-sample screens on a server ([`RemoteOp`], the `remote` command).
//!
//! Passwords come from the environment, the OS keyring, or are typed once for the session
//! ([`RemoteOp::Login`], kept in memory only); they never appear in an answer or a message.
//! Every write to a server needs a confirmation naming the server once per session: a write
//! without `confirm: true` is refused with [`ErrorCode::ConfirmRequired`] until one was
//! confirmed.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fullsync_deploy::profiles::{self, ServerProfile};
use fullsync_engine::Engine;
use fullsync_remote::{RemoteError, Server, Target};
use fullsync_replicate::Auth;
use serde::Deserialize;
use serde_json::Value;

use crate::replication::Replications;
use crate::{ApiError, ErrorCode};

pub mod answers;
mod arms;
use arms::PreviewArgs;

/// The answer of the `remote` command: the answer type of its op (the table below;
/// `RemoteAnswers` in TypeScript, by op name).
#[derive(Debug, serde::Serialize, ts_rs::TS)]
#[serde(transparent)]
pub struct AnyRemoteAnswer(#[ts(type = "RemoteAnswers[keyof RemoteAnswers]")] pub Value);

/// The connection name of the embedded engine.
pub const ENGINE: &str = "engine";

/// One side of a compare: a connection (`engine` or a profile) and a database.
#[derive(Clone, Debug, Deserialize, ts_rs::TS)]
pub struct Endpoint {
    /// `engine` or a server profile name.
    pub conn: String,
    /// Database.
    pub db: String,
}

/// A command of the remote screens (`{"cmd": "remote", "args": {"op": ..., ...}}`).
#[derive(Debug, Deserialize, ts_rs::TS)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum RemoteOp {
    /// The connections: the embedded engine, then every server profile with where its
    /// password comes from (`none`, `env`, `keyring`, `session`, `missing`) and whether writes
    /// were confirmed this session.
    Connections,
    /// Checks a password for a profile and keeps it for this session (memory only).
    Login {
        /// Profile.
        conn: String,
        /// Password.
        password: String,
    },
    /// Forgets the session password and the write confirmation of a profile.
    Logout {
        /// Profile.
        conn: String,
    },
    /// The server's welcome (version, vendor) and its databases.
    Databases {
        /// Profile.
        conn: String,
    },
    /// Database info.
    DbInfo {
        /// Profile.
        conn: String,
        /// Database.
        db: String,
    },
    /// A page of documents whose id starts with `prefix`.
    DocsList {
        /// Profile.
        conn: String,
        /// Database.
        db: String,
        /// Id prefix.
        #[serde(default)]
        #[ts(as = "Option<String>", optional)]
        prefix: String,
        /// Page size.
        #[serde(default = "fifty")]
        #[ts(as = "Option<f64>", optional)]
        limit: usize,
        /// Rows to skip (paging).
        #[serde(default)]
        #[ts(as = "Option<f64>", optional)]
        skip: usize,
    },
    /// One document with `_conflicts` and `_revs_info` (or the revision `rev`).
    DocGet {
        /// Profile.
        conn: String,
        /// Database.
        db: String,
        /// Id.
        id: String,
        /// An older revision.
        #[serde(default)]
        #[ts(optional = nullable)]
        rev: Option<String>,
    },
    /// Writes a document (`_rev` to update; a stale one is a conflict).
    DocPut {
        /// Profile.
        conn: String,
        /// Database.
        db: String,
        /// The document.
        doc: Value,
        /// The user confirmed writing to this server.
        #[serde(default)]
        #[ts(as = "Option<bool>", optional)]
        confirm: bool,
    },
    /// Deletes a revision.
    DocDelete {
        /// Profile.
        conn: String,
        /// Database.
        db: String,
        /// Id.
        id: String,
        /// Revision.
        rev: String,
        /// The user confirmed writing to this server.
        #[serde(default)]
        #[ts(as = "Option<bool>", optional)]
        confirm: bool,
    },
    /// Every live leaf revision, the winner first.
    DocRevisions {
        /// Profile.
        conn: String,
        /// Database.
        db: String,
        /// Id.
        id: String,
    },
    /// Resolves a conflict (see the local `doc_resolve`).
    DocResolve {
        /// Profile.
        conn: String,
        /// Database.
        db: String,
        /// Id.
        id: String,
        /// The revision that stays.
        keep: String,
        /// The revisions deleted (all the other live leaves).
        delete: Vec<String>,
        /// A merged body written on top of `keep`.
        #[serde(default)]
        #[ts(optional = nullable)]
        body: Option<Value>,
        /// The user confirmed writing to this server.
        #[serde(default)]
        #[ts(as = "Option<bool>", optional)]
        confirm: bool,
    },
    /// An attachment (base64) with its content type.
    AttachmentGet {
        /// Profile.
        conn: String,
        /// Database.
        db: String,
        /// Document id.
        id: String,
        /// Attachment name.
        name: String,
        /// An older revision.
        #[serde(default)]
        #[ts(optional = nullable)]
        rev: Option<String>,
    },
    /// Adds or replaces an attachment on top of `rev`.
    AttachmentPut {
        /// Profile.
        conn: String,
        /// Database.
        db: String,
        /// Document id.
        id: String,
        /// Revision.
        rev: String,
        /// Attachment name.
        name: String,
        /// MIME type.
        #[serde(default)]
        #[ts(optional = nullable)]
        content_type: Option<String>,
        /// The bytes, base64.
        data: String,
        /// The user confirmed writing to this server.
        #[serde(default)]
        #[ts(as = "Option<bool>", optional)]
        confirm: bool,
    },
    /// Removes an attachment on top of `rev`.
    AttachmentDelete {
        /// Profile.
        conn: String,
        /// Database.
        db: String,
        /// Document id.
        id: String,
        /// Revision.
        rev: String,
        /// Attachment name.
        name: String,
        /// The user confirmed writing to this server.
        #[serde(default)]
        #[ts(as = "Option<bool>", optional)]
        confirm: bool,
    },
    /// The changes feed: after `since` (opaque), the newest first with `latest`, or a longpoll
    /// of up to `wait_ms` that answers at the first change.
    Changes {
        /// Profile.
        conn: String,
        /// Database.
        db: String,
        /// Sequence to start after (CouchDB sequences are strings).
        #[serde(default)]
        #[ts(as = "Option<serde_json::Value>", optional)]
        since: Value,
        /// Most rows.
        #[serde(default = "fifty")]
        #[ts(as = "Option<f64>", optional)]
        limit: usize,
        /// The newest changes, newest first.
        #[serde(default)]
        #[ts(as = "Option<bool>", optional)]
        latest: bool,
        /// Longpoll: wait up to this many milliseconds for a change.
        #[serde(default)]
        #[ts(optional = nullable)]
        wait_ms: Option<u32>,
    },
    /// The design documents of a database and their views (the view runner's choices).
    DesignDocs {
        /// `engine` or a profile.
        conn: String,
        /// Database.
        db: String,
    },
    /// Queries a saved view with any CouchDB option.
    ViewQuery {
        /// `engine` or a profile.
        conn: String,
        /// Database.
        db: String,
        /// Design document (without `_design/`).
        ddoc: String,
        /// View.
        view: String,
        /// Query options.
        #[serde(default)]
        #[ts(as = "Option<serde_json::Value>", optional)]
        query: Value,
    },
    /// A Mango query (`_find`).
    Find {
        /// `engine` or a profile.
        conn: String,
        /// Database.
        db: String,
        /// The Mango query (`selector`, `fields`, `sort`, `limit`...).
        query: Value,
    },
    /// How a Mango query runs (`_explain`).
    Explain {
        /// `engine` or a profile.
        conn: String,
        /// Database.
        db: String,
        /// The Mango query.
        query: Value,
    },
    /// An unsaved map/reduce over a sample of the server's documents (read-only).
    PreviewSample {
        /// Profile.
        conn: String,
        /// Database.
        db: String,
        /// Map source.
        map: String,
        /// Reduce source.
        #[serde(default)]
        #[ts(optional = nullable)]
        reduce: Option<String>,
        /// Query options.
        #[serde(default)]
        #[ts(as = "Option<serde_json::Value>", optional)]
        query: Value,
        /// Sample size (default 100).
        #[serde(default = "hundred")]
        #[ts(as = "Option<f64>", optional)]
        size: usize,
        /// A random sample instead of the first documents by id.
        #[serde(default)]
        #[ts(as = "Option<bool>", optional)]
        random: bool,
        /// The server design document whose `views.lib` the map may `require`.
        #[serde(default)]
        #[ts(optional = nullable)]
        ddoc: Option<String>,
    },
    /// The same view or Mango request on two sides (usually the engine and a server), and
    /// the differences row by row.
    Compare {
        /// Left side (usually `engine`).
        left: Endpoint,
        /// Right side (usually a server).
        right: Endpoint,
        /// Design document of the view (with `view`).
        #[serde(default)]
        #[ts(optional = nullable)]
        ddoc: Option<String>,
        /// View.
        #[serde(default)]
        #[ts(optional = nullable)]
        view: Option<String>,
        /// View query options.
        #[serde(default)]
        #[ts(as = "Option<serde_json::Value>", optional)]
        query: Value,
        /// A Mango query instead of a view.
        #[serde(default)]
        #[ts(optional = nullable)]
        mango: Option<Value>,
        /// Most differences listed (default 500).
        #[serde(default)]
        #[ts(optional = nullable)]
        limit: Option<u32>,
    },
    /// Copies a server database, or part of it, into a local database of the engine (created
    /// when missing) with the replicator; answers the replication job (progress in
    /// `replication_status`).
    PullSample {
        /// Profile.
        conn: String,
        /// Server database.
        db: String,
        /// Local database.
        target: String,
        /// Only these document ids.
        #[serde(default)]
        #[ts(as = "Option<Vec<String>>", optional)]
        doc_ids: Vec<String>,
        /// Only documents matching this Mango selector (now: the ids `_find` answers).
        #[serde(default)]
        #[ts(optional = nullable)]
        selector: Option<Value>,
        /// Only the first N documents by id (design documents included when they are
        /// among them).
        #[serde(default)]
        #[ts(optional = nullable)]
        first_n: Option<u32>,
    },
}

fn fifty() -> usize {
    50
}

fn hundred() -> usize {
    100
}

/// The studio's remote session: passwords typed for this session and the servers whose
/// writes were confirmed. Memory only.
#[derive(Default)]
pub struct Session {
    passwords: Mutex<HashMap<String, String>>,
    confirmed: Mutex<HashSet<String>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The read time limit for servers (`FULLSYNC_REMOTE_TIMEOUT_SECS`, default 30 s).
pub fn timeout() -> Duration {
    std::env::var("FULLSYNC_REMOTE_TIMEOUT_SECS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(Duration::from_secs_f64)
        .unwrap_or(Duration::from_secs(30))
}

impl From<RemoteError> for ApiError {
    fn from(e: RemoteError) -> Self {
        let code = match &e {
            RemoteError::Unreachable { .. }
            | RemoteError::Timeout { .. }
            | RemoteError::Garbage { .. } => ErrorCode::Unavailable,
            RemoteError::Unauthorized { .. } => ErrorCode::Unauthorized,
            RemoteError::Forbidden { .. } => ErrorCode::Forbidden,
            RemoteError::NotFound { .. } => ErrorCode::NotFound,
            RemoteError::Conflict { .. } => ErrorCode::Conflict,
            RemoteError::Http { status: 400, .. } | RemoteError::Config(_) => ErrorCode::BadRequest,
            _ => ErrorCode::Internal,
        };
        ApiError::new(code, e.to_string())
    }
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::BadRequest, msg)
}

impl Session {
    fn profile(&self, conn: &str) -> Result<ServerProfile, ApiError> {
        if conn == ENGINE {
            return Err(bad(
                "this screen works on a server: pick a server connection, not the embedded engine",
            ));
        }
        let p =
            profiles::get(conn).map_err(|e| ApiError::new(ErrorCode::NotFound, e.to_string()))?;
        if p.kind == profiles::ServerKind::Convertigo {
            return Err(bad(format!(
                "`{conn}` is a Convertigo profile (its admin API, for .car deploys): to browse the data, add a CouchDB profile with the URL of the CouchDB behind that Convertigo server (Deploy screen, or `fullsync server add NAME --url http://host:5984 --user NAME`)"
            )));
        }
        Ok(p)
    }

    /// Where a profile's password comes from.
    fn password_source(&self, p: &ServerProfile) -> &'static str {
        if p.user.is_none() {
            "none"
        } else if lock(&self.passwords).contains_key(&p.name) {
            "session"
        } else if std::env::var(profiles::password_var(&p.name)).is_ok() {
            "env"
        } else if profiles::password(p).is_ok() {
            "keyring"
        } else {
            "missing"
        }
    }

    fn server_for(&self, p: &ServerProfile, password: Option<String>) -> Result<Server, ApiError> {
        let password = match (password, &p.user) {
            (_, None) => None,
            (Some(pw), Some(_)) => Some(pw),
            (None, Some(u)) => match lock(&self.passwords).get(&p.name).cloned() {
                Some(pw) => Some(pw),
                None => Some(profiles::password(p).map_err(|_| {
                    ApiError::new(
                        ErrorCode::Unauthorized,
                        format!(
                            "server `{}` needs the password of `{u}`: type it (kept for this session only), store it in the keyring, or set {}",
                            p.name,
                            profiles::password_var(&p.name)
                        ),
                    )
                })?.unwrap_or_default()),
            },
        };
        let auth = p
            .user
            .clone()
            .zip(password)
            .map(|(user, password)| Auth { user, password });
        let ca = match &p.ca_file {
            Some(f) => Some(std::fs::read(f).map_err(|e| {
                bad(format!(
                    "cannot read the CA file {} of server `{}`: {e}",
                    f.display(),
                    p.name
                ))
            })?),
            None => None,
        };
        Ok(Server::new(
            &p.url,
            Some(&p.name),
            auth,
            timeout(),
            ca.as_deref(),
        )?)
    }

    /// The server of a profile, with its password.
    pub fn server(&self, conn: &str) -> Result<Server, ApiError> {
        let p = self.profile(conn)?;
        self.server_for(&p, None)
    }

    /// Runs `f` on the server of `conn`; a refused password typed for this session is
    /// forgotten, so the studio asks again.
    fn with<T>(
        &self,
        conn: &str,
        f: impl FnOnce(&Server) -> Result<T, RemoteError>,
    ) -> Result<T, ApiError> {
        let s = self.server(conn)?;
        f(&s).map_err(|e| {
            if matches!(e, RemoteError::Unauthorized { .. }) {
                lock(&self.passwords).remove(conn);
            }
            e.into()
        })
    }

    fn confirm_write(&self, conn: &str, confirm: bool) -> Result<(), ApiError> {
        let mut c = lock(&self.confirmed);
        if c.contains(conn) {
            return Ok(());
        }
        if confirm {
            c.insert(conn.to_string());
            return Ok(());
        }
        let url = profiles::get(conn).map(|p| p.url).unwrap_or_default();
        Err(ApiError::new(
            ErrorCode::ConfirmRequired,
            format!("this writes to server `{conn}` ({url}), not to your local engine: confirm once for this session"),
        ))
    }

    fn target(&self, views: &Arc<fullsync_views::Views>, e: &Endpoint) -> Result<Target, ApiError> {
        Ok(if e.conn == ENGINE {
            Target::Local {
                views: views.clone(),
                db: e.db.clone(),
            }
        } else {
            Target::Remote {
                server: Arc::new(self.server(&e.conn)?),
                db: e.db.clone(),
            }
        })
    }

    fn with_target<T>(
        &self,
        conn: &str,
        f: impl FnOnce() -> Result<T, RemoteError>,
    ) -> Result<T, ApiError> {
        f().map_err(|e| {
            if matches!(e, RemoteError::Unauthorized { .. }) {
                lock(&self.passwords).remove(conn);
            }
            e.into()
        })
    }
}

/// The `remote` ops table: each op's name (its `op` tag), its answer type and how it is
/// answered. It generates [`Session::handle`], so an op that answers anything but its declared
/// type does not compile, and [`RemoteOp::answer_types`] / [`RemoteOp::visit_answers`], from
/// which the `ts_types` test generates the UI's `RemoteAnswers` (op name -> answer type).
macro_rules! remote_ops {
    ($s:ident, $engine:ident, $views:ident, $jobs:ident; $( $op:literal => $ty:ty : $pat:pat => $e:expr ),* $(,)?) => {
        impl Session {
            /// Handles one remote command.
            pub fn handle(
                &$s,
                $engine: &Arc<Engine>,
                $views: &Arc<fullsync_views::Views>,
                $jobs: &Replications,
                op: RemoteOp,
            ) -> Result<Value, ApiError> {
                match op {
                    $( $pat => crate::answer::<$ty>($e), )*
                }
            }
        }

        impl RemoteOp {
            /// Every op's name with the TypeScript name of its answer type, in table order.
            pub fn answer_types() -> Vec<(&'static str, String)> {
                vec![$( ($op, <$ty as ts_rs::TS>::name()), )*]
            }

            /// Visits the answer type of every op (to declare them in TypeScript).
            pub fn visit_answers(v: &mut impl ts_rs::TypeVisitor) {
                $( v.visit::<$ty>(); )*
            }
        }
    };
}

use answers::*;
use RemoteOp as O;

// One line per op: not reformatted.
#[rustfmt::skip]
remote_ops! { self, engine, views, replications;
    "connections" => Vec<Connection>: O::Connections => self.connections(),
    "login" => LoginAnswer: O::Login { conn, password } => self.login(conn, password),
    "logout" => crate::Done: O::Logout { conn } => Ok(self.logout(&conn)),
    "databases" => ServerDatabases: O::Databases { conn } => self.databases(&conn),
    "db_info" => CouchJson: O::DbInfo { conn, db } => self.with(&conn, |s| s.db_info(&db)).map(CouchJson),
    "docs_list" => ServerDocsPage: O::DocsList { conn, db, prefix, limit, skip } => self.with(&conn, |s| s.docs_page(&db, &prefix, limit, skip)).map(ServerDocsPage),
    "doc_get" => CouchJson: O::DocGet { conn, db, id, rev } => self.with(&conn, |s| s.get_doc(&db, &id, rev.as_deref())).map(CouchJson),
    "doc_put" => ServerWritten: O::DocPut { conn, db, doc, confirm } => self.write(&conn, confirm, |s| s.put_doc(&db, &doc)).map(ServerWritten),
    "doc_delete" => ServerWritten: O::DocDelete { conn, db, id, rev, confirm } => self.write(&conn, confirm, |s| s.delete_doc(&db, &id, &rev)).map(ServerWritten),
    "doc_revisions" => Vec<CouchJson>: O::DocRevisions { conn, db, id } => self.with(&conn, |s| s.live_leaves(&db, &id)).map(|l| l.into_iter().map(CouchJson).collect()),
    "doc_resolve" => ServerResolved: O::DocResolve { conn, db, id, keep, delete, body, confirm } => self.write(&conn, confirm, |s| s.resolve(&db, &id, &keep, &delete, body)).map(ServerResolved),
    "attachment_get" => RemoteAttachment: O::AttachmentGet { conn, db, id, name, rev } => self.attachment_get(&conn, &db, &id, name, rev.as_deref()),
    "attachment_put" => ServerWritten: O::AttachmentPut { conn, db, id, rev, name, content_type, data, confirm } => self.attachment_put(&conn, (&db, &id, &rev), &name, content_type, &data, confirm),
    "attachment_delete" => ServerWritten: O::AttachmentDelete { conn, db, id, rev, name, confirm } => self.write(&conn, confirm, |s| s.delete_attachment(&db, &id, &rev, &name)).map(ServerWritten),
    "changes" => ServerChanges: O::Changes { conn, db, since, limit, latest, wait_ms } => self.changes(&conn, &db, (since, limit, latest), wait_ms),
    "design_docs" => Vec<DesignDocViews>: O::DesignDocs { conn, db } => self.design_docs(engine, &conn, &db),
    "view_query" => crate::editor::ViewQueryAnswer: O::ViewQuery { conn, db, ddoc, view, query } => self.on_target(views, &Endpoint { conn, db }, |t| t.view(&ddoc, &view, &query)).map(|(r, ms)| crate::editor::ViewQueryAnswer { result: crate::editor::ViewRows(r), ms }),
    "find" => TimedFind: O::Find { conn, db, query } => self.on_target(views, &Endpoint { conn, db }, |t| t.find(&query)).map(|(r, ms)| TimedFind { result: crate::mango_panel::FindResult(r), ms }),
    "explain" => crate::mango_panel::ExplainResult: O::Explain { conn, db, query } => self.on_target(views, &Endpoint { conn, db }, |t| t.explain(&query)).map(|(r, _)| crate::mango_panel::ExplainResult(r)),
    "preview_sample" => SamplePreview: O::PreviewSample { conn, db, map, reduce, query, size, random, ddoc } => self.preview_sample(views, &conn, &db, PreviewArgs { map, reduce, query, size, random, ddoc }),
    "compare" => CompareAnswer: O::Compare { left, right, ddoc, view, query, mango, limit } => self.compare(views, &left, &right, (ddoc, view, query), mango, limit),
    "pull_sample" => crate::replication::JobStatus: O::PullSample { conn, db, target, doc_ids, selector, first_n } => self.pull_filter(&conn, &db, doc_ids, selector, first_n).and_then(|filter| self.pull_sample(engine, views, replications, &conn, &db, target, filter)),
}

impl Session {
    /// Forgets the session password and the write confirmation of `conn`.
    fn logout(&self, conn: &str) -> crate::Done {
        lock(&self.passwords).remove(conn);
        lock(&self.confirmed).remove(conn);
        crate::Done::ok()
    }

    /// The server's welcome and its databases (none, with a note, when listing is forbidden).
    fn databases(&self, conn: &str) -> Result<ServerDatabases, ApiError> {
        self.with(conn, |s| {
            let welcome = s.welcome()?;
            let (databases, note) = match s.all_dbs() {
                Ok(d) => (d, None),
                Err(e @ RemoteError::Forbidden { .. }) => (vec![], Some(e.to_string())),
                Err(e) => return Err(e),
            };
            Ok(ServerDatabases {
                server: Welcome(welcome),
                databases,
                note,
                url: s.url().to_string(),
            })
        })
    }
}
