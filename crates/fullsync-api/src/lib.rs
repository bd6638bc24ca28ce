//! The studio's one command surface.
//!
//! Every screen of the studio talks to the backend through [`Request`] -> answer (JSON). This
//! crate has no transport: the Tauri app forwards the commands through IPC, and the web mode
//! (`fullsync_http::studio_web`, wired by `fullsync-host`) serves them at `POST /_studio/api`,
//! protected by a random token, together with the UI's files. Errors carry a stable [`ErrorCode`] the UI matches on and a message that says what
//! to do.
//!
//! | module | commands |
//! |---|---|
//! | [`request`] | the commands ([`Request`]) |
//! | [`error`] | [`ApiError`], [`ErrorCode`] |
//! | `studio` | [`Studio`]: the open project, open/tree/import/info, listener activity |
//! | `editor` | files, live preview, view queries, property-sheet saves |
//! | `documents` | documents, conflicts, `_changes`, what a user sees |
//! | `check` | the Problems panel: `project check`'s diagnostics |
//! | [`browse`] | the documents table's pages, revision trees, document fields, the function tester |
//! | [`project_ops`], [`sheets`], [`workspace`] | project edits and git, property sheets, recent projects and import |
//! | [`live`], [`parts`], [`view_tests`], [`sample_data`], [`tx_runs`], [`mango_panel`] | the one sync path (watcher, engine, listeners, status), creating parts, running view tests, loading seed data, running transactions, Mango queries |
//! | [`jobs`], [`replication`], [`deploy`] | one job table (ids, states, dismiss) for replication and deploy jobs; servers and deploys |
//! | [`attachments`], [`listeners`] | attachments, the listener runner |
//! | [`remote`] | the screens on a real server: connections, documents, views, Mango, preview on a sample, compare, pull a sample |

pub mod attachments;
pub mod browse;
mod check;
pub mod deploy;
mod documents;
mod editor;
pub mod error;
pub mod jobs;
pub mod listeners;
pub mod live;
pub mod mango_panel;
pub mod parts;
pub mod project_ops;
pub mod remote;
pub mod replication;
pub mod request;
pub mod sample_data;
pub mod sheets;
mod studio;
pub mod tx_runs;
pub mod view_tests;
pub mod workspace;

use serde_json::{json, Value};

pub(crate) use error::{invalid_project, refuse_escapes, without_private_dirs};
pub use error::{ApiError, ErrorCode};
pub use request::Request;
pub(crate) use studio::rel;
pub use studio::{Studio, StudioInfo, TreeNode};

/// Milliseconds since the Unix epoch (times shown by the studio's screens).
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Studio {
    /// Handles one command.
    pub fn handle(&self, req: Request) -> Result<Value, ApiError> {
        self.dispatch(req).map_err(|mut e| {
            e.message = without_private_dirs(&e.message, self.engine.dir());
            e
        })
    }

    /// Handles a command given as JSON (`{"cmd": ..., "args": {...}}`).
    pub fn handle_json(&self, v: Value) -> Result<Value, ApiError> {
        let req: Request = serde_json::from_value(v).map_err(|e| {
            ApiError::new(ErrorCode::BadRequest, format!("not a studio command: {e}"))
        })?;
        self.handle(req)
    }

    /// [`Studio::handle`], before error messages are cleaned of private folders: each command
    /// to the module that answers it (a table, one line per command: not reformatted).
    #[rustfmt::skip]
    fn dispatch(&self, req: Request) -> Result<Value, ApiError> {
        use Request as R;
        let ok = |()| json!({"ok": true});
        match req {
            R::ProjectOpen { path, remember } => self.project_open(&path, remember),
            R::ProjectTree => self.tree(&self.root()?),
            R::ProjectEdit(e) => self.project_edit(e),
            R::SampleData => sample_data::list(&self.root()?, &self.engine),
            R::SampleDataLoad { db } => sample_data::load(&self.root()?, &self.engine, &db),
            R::TransactionsList => tx_runs::list(&self.root()?),
            R::TransactionRun {
                connector,
                name,
                vars,
                user,
            } => Ok(json!(self.tx_runs.run(
                &self.root()?,
                &self.engine,
                &self.views,
                &connector,
                &name,
                vars,
                user
            )?)),
            R::TransactionHistory => Ok(json!({"runs": self.tx_runs.history()})),
            R::MangoQuery { db, query } => mango_panel::query(&self.engine, &db, &query),
            R::SyncStatus => Ok(json!(self.live.status())),
            R::PartEdit(e) => {
                let root = self.root()?;
                refuse_escapes(&root)?;
                let path = parts::edit(&root, &self.engine, &self.views, e)?;
                Ok(json!({"path": path, "project": self.reload(&root)?.0}))
            }
            R::TestsRun { connector, name } => view_tests::run(
                &self.root()?,
                &self.views,
                connector.as_deref().filter(|c| !c.is_empty()),
                name.as_deref().filter(|n| !n.is_empty()),
            ),
            R::UsedBy(t) => project_ops::used_by(&self.root()?, &t),
            R::Git(op) => project_ops::git_op(&self.root()?, op),
            R::ProjectsRecent => Ok(workspace::recent()),
            R::DirList { path } => workspace::dir_list(path.as_deref()),
            R::ProjectImportC8o { source, dest } => self.import_c8o(&source, dest),
            R::StudioInfo => Ok(json!(self.info())),
            R::SheetGet { connector, kind, name } => sheets::get(&self.root()?, &connector, kind, &name),
            R::SheetSave { connector, kind, name, item } => self.sheet_save(&connector, kind, &name, item),
            R::FileRead { path } => self.file_read(&path),
            R::FileWrite { path, text, base } => self.file_write(&path, &text, base.as_deref()),
            R::Preview { db, map, reduce, query, ddoc } => self.preview(&db, &map, reduce.as_deref(), query, ddoc.as_deref()),
            R::ViewQuery { db, ddoc, view, query } => self.view_query(&db, &ddoc, &view, query),
            R::Databases => self.databases(),
            R::DocsList { db, prefix, limit } => self.docs_list(&db, &prefix, limit),
            R::DocGet { db, id, rev } => self.doc_get(&db, &id, rev.as_deref()),
            R::DocPut { db, doc } => self.doc_put(&db, doc),
            R::DocDelete { db, id, rev } => self.doc_delete(&db, &id, &rev),
            R::Changes { db, since, limit, latest } => self.changes(&db, since, limit, latest),
            R::DocRevisions { db, id } => self.doc_revisions(&db, &id),
            R::DocResolve { db, id, keep, delete, body } => self.doc_resolve(&db, &id, keep, delete, body),
            R::ListenerActivity { after } => Ok(self.listener_activity(after)),
            R::ReplicationStart(args) => Ok(json!(self.replications.start(&self.engine, &self.views, args)?)),
            R::ReplicationStatus => Ok(json!(self.replications.status())),
            R::ReplicationCancel { id } => Ok(json!(self.replications.cancel(&id)?)),
            R::ReplicationDismiss { id } => self.replications.dismiss(&id).map(ok),
            R::SeeAs { db, user, groups } => self.see_as(&db, user, groups),
            R::ServersList => deploy::servers_list(),
            R::ServerSave(args) => deploy::server_save(args),
            R::DeployPlan {
                server,
                rollback_to,
                password,
            } => deploy::plan(&self.root()?, &server, rollback_to, password.as_deref()),
            R::DeployApply {
                server,
                staged,
                rollback_to,
                password,
            } => Ok(json!(self.deploys.start(
                self.root()?,
                server,
                staged,
                rollback_to,
                password
            )?)),
            R::DeployHistory { server } => deploy::history(&self.root()?, &server),
            R::DeployStatus => Ok(json!(self.deploys.status())),
            R::DeployDismiss { id } => self.deploys.dismiss(&id).map(ok),
            R::ProjectCheck => self.project_check(),
            R::DocsPage(a) => self.docs_page(a),
            R::DocTree { db, id } => self.doc_tree(&db, &id),
            R::DocFields { db, sample } => self.doc_fields(&db, sample),
            R::FnTest(a) => self.fn_test(a),
            R::AttachmentPut { db, id, rev, name, content_type, data } => attachments::put(&self.engine, &db, &id, &rev, &name, content_type.as_deref(), &data),
            R::AttachmentGet { db, id, name, rev } => attachments::get(&self.engine, &db, &id, &name, rev.as_deref()),
            R::AttachmentDelete { db, id, rev, name } => attachments::delete(&self.engine, &db, &id, &rev, &name),
            R::Remote(op) => self.remote.handle(&self.engine, &self.views, &self.replications, op),
        }
    }
}

#[cfg(test)]
mod tests;
