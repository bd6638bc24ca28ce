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
//! | [`check`] | the Problems panel: `project check`'s diagnostics |
//! | [`browse`] | the documents table's pages, revision trees, document fields, the function tester |
//! | [`project_ops`], [`sheets`], [`workspace`] | project edits and git, property sheets, recent projects and import |
//! | [`live`], [`parts`], [`view_tests`], [`sample_data`], [`tx_runs`], [`mango_panel`] | the one sync path (watcher, engine, listeners, status), creating parts, running view tests, loading seed data, running transactions, Mango queries |
//! | [`jobs`], [`replication`], [`deploy`] | one job table (ids, states, dismiss) for replication and deploy jobs; servers and deploys |
//! | [`attachments`], [`listeners`] | attachments, the listener runner |
//! | [`remote`] | the screens on a real server: connections, documents, views, Mango, preview on a sample, compare, pull a sample |

pub mod attachments;
pub mod browse;
pub mod check;
pub mod deploy;
pub mod documents;
pub mod editor;
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

use serde::Serialize;
use serde_json::Value;

pub(crate) use error::{invalid_project, without_private_dirs};
pub use error::{ApiError, ErrorCode};
pub use request::Request;
pub(crate) use studio::rel;
pub use studio::{ProjectTree, Studio, StudioInfo, TreeNode};

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
}

/// The command table: each command's name (as on the wire), its answer type and the module
/// that answers it. It generates [`Studio`]'s dispatch, so a handler that answers anything but
/// its declared type does not compile, and [`Request::visit_answers`] /
/// [`Request::answer_types`], from which the `ts_types` test generates the UI's map from
/// command name to answer type (`ui/src/api-types.ts`, `Answers`).
macro_rules! commands {
    ($s:ident; $( $cmd:literal => $ty:ty : $pat:pat => $e:expr ),* $(,)?) => {
        impl Studio {
            /// [`Studio::handle`], before error messages are cleaned of private folders.
            fn dispatch(&$s, req: Request) -> Result<Value, ApiError> {
                use Request as R;
                match req {
                    $( $pat => answer::<$ty>($e), )*
                }
            }
        }

        impl Request {
            /// Every command's name with the TypeScript name of its answer type, in table order.
            pub fn answer_types() -> Vec<(&'static str, String)> {
                vec![$( ($cmd, <$ty as ts_rs::TS>::name()), )*]
            }

            /// Visits the answer type of every command (to declare them and their dependencies
            /// in TypeScript).
            pub fn visit_answers(v: &mut impl ts_rs::TypeVisitor) {
                $( v.visit::<$ty>(); )*
            }
        }
    };
}

/// One command's typed answer, as JSON.
fn answer<T: serde::Serialize>(r: Result<T, ApiError>) -> Result<Value, ApiError> {
    serde_json::to_value(r?).map_err(|e| {
        ApiError::new(
            ErrorCode::Internal,
            format!("the answer could not be encoded as JSON ({e}): please report this bug"),
        )
    })
}

// One line per command: not reformatted.
#[rustfmt::skip]
commands! { self;
    "project_open" => ProjectTree: R::ProjectOpen { path, remember } => self.project_open(&path, remember),
    "project_tree" => ProjectTree: R::ProjectTree => self.tree(&self.root()?),
    "project_edit" => ProjectTree: R::ProjectEdit(e) => self.project_edit(e),
    "part_edit" => parts::PartEdited: R::PartEdit(e) => self.part_edit(e),
    "sync_status" => live::SyncStatus: R::SyncStatus => Ok(self.live.status()),
    "transaction_run" => tx_runs::Run: R::TransactionRun { connector, name, vars, user } => self.tx_runs.run(&self.root()?, &self.engine, &self.views, &connector, &name, vars, user),
    "transaction_history" => tx_runs::RunHistory: R::TransactionHistory => Ok(tx_runs::RunHistory { runs: self.tx_runs.history() }),
    "sample_data" => sample_data::SeedFiles: R::SampleData => sample_data::list(&self.root()?, &self.engine),
    "sample_data_load" => fullsync_project::sync::LoadedData: R::SampleDataLoad { db } => sample_data::load(&self.root()?, &self.engine, &db),
    "transactions_list" => tx_runs::TransactionList: R::TransactionsList => tx_runs::list(&self.root()?),
    "mango_query" => mango_panel::MangoAnswer: R::MangoQuery { db, query } => mango_panel::query(&self.engine, &db, &query),
    "project_check" => check::ProjectCheck: R::ProjectCheck => self.project_check(),
    "docs_page" => browse::DocsPage: R::DocsPage(a) => self.docs_page(a),
    "doc_tree" => browse::DocTree: R::DocTree { db, id } => self.doc_tree(&db, &id),
    "doc_fields" => browse::DocFields: R::DocFields { db, sample } => self.doc_fields(&db, sample),
    "fn_test" => browse::FnTestAnswer: R::FnTest(a) => self.fn_test(a),
    "tests_run" => view_tests::TestRun: R::TestsRun { connector, name } => view_tests::run(&self.root()?, &self.views, connector.as_deref().filter(|c| !c.is_empty()), name.as_deref().filter(|n| !n.is_empty())),
    "used_by" => project_ops::UsedBy: R::UsedBy(t) => project_ops::used_by(&self.root()?, &t),
    "git" => project_ops::GitAnswer: R::Git(op) => project_ops::git_op(&self.root()?, op),
    "projects_recent" => workspace::RecentProjects: R::ProjectsRecent => Ok(workspace::recent()),
    "dir_list" => workspace::DirListing: R::DirList { path } => workspace::dir_list(path.as_deref()),
    "project_import_c8o" => ProjectTree: R::ProjectImportC8o { source, dest } => self.import_c8o(&source, dest),
    "studio_info" => StudioInfo: R::StudioInfo => Ok(self.info()),
    "sheet_get" => sheets::Sheet: R::SheetGet { connector, kind, name } => sheets::get(&self.root()?, &connector, kind, &name),
    "sheet_save" => editor::SheetSaved: R::SheetSave { connector, kind, name, item } => self.sheet_save(&connector, kind, &name, item),
    "file_read" => editor::FileText: R::FileRead { path } => self.file_read(&path),
    "file_write" => ProjectTree: R::FileWrite { path, text, base } => self.file_write(&path, &text, base.as_deref()),
    "preview" => editor::PreviewAnswer: R::Preview { db, map, reduce, query, ddoc } => self.preview(&db, &map, reduce.as_deref(), query, ddoc.as_deref()),
    "view_query" => editor::ViewQueryAnswer: R::ViewQuery { db, ddoc, view, query } => self.view_query(&db, &ddoc, &view, query),
    "databases" => Vec<documents::DatabaseInfo>: R::Databases => self.databases(),
    "docs_list" => documents::DocsList: R::DocsList { db, prefix, limit } => self.docs_list(&db, &prefix, limit),
    "doc_get" => documents::Document: R::DocGet { db, id, rev } => self.doc_get(&db, &id, rev.as_deref()),
    "doc_put" => documents::Written: R::DocPut { db, doc } => self.doc_put(&db, doc),
    "doc_delete" => documents::Written: R::DocDelete { db, id, rev } => self.doc_delete(&db, &id, &rev),
    "changes" => documents::ChangesPage: R::Changes { db, since, limit, latest } => self.changes(&db, since, limit, latest),
    "doc_revisions" => Vec<documents::Document>: R::DocRevisions { db, id } => self.doc_revisions(&db, &id),
    "doc_resolve" => documents::Resolved: R::DocResolve { db, id, keep, delete, body } => self.doc_resolve(&db, &id, keep, delete, body),
    "listener_activity" => listeners::Activity: R::ListenerActivity { after } => Ok(self.listener_activity(after)),
    "replication_start" => replication::JobStatus: R::ReplicationStart(args) => self.replications.start(&self.engine, &self.views, args),
    "replication_status" => Vec<replication::JobStatus>: R::ReplicationStatus => Ok(self.replications.status()),
    "replication_cancel" => replication::JobStatus: R::ReplicationCancel { id } => self.replications.cancel(&id),
    "replication_dismiss" => Done: R::ReplicationDismiss { id } => self.replications.dismiss(&id).map(|()| Done::ok()),
    "see_as" => documents::SeeAs: R::SeeAs { db, user, groups } => self.see_as(&db, user, groups),
    "servers_list" => deploy::ServerList: R::ServersList => deploy::servers_list(),
    "server_save" => deploy::ServerSaved: R::ServerSave(args) => deploy::server_save(args),
    "deploy_plan" => deploy::PlanAnswer: R::DeployPlan { server, rollback_to, password } => deploy::plan(&self.root()?, &server, rollback_to, password.as_deref()),
    "deploy_apply" => deploy::DeployStatus: R::DeployApply { server, staged, rollback_to, password } => self.deploys.start(self.root()?, server, staged, rollback_to, password),
    "deploy_history" => deploy::History: R::DeployHistory { server } => deploy::history(&self.root()?, &server),
    "deploy_status" => Vec<deploy::DeployStatus>: R::DeployStatus => Ok(self.deploys.status()),
    "deploy_dismiss" => Done: R::DeployDismiss { id } => self.deploys.dismiss(&id).map(|()| Done::ok()),
    "attachment_put" => documents::Written: R::AttachmentPut { db, id, rev, name, content_type, data } => attachments::put(&self.engine, &db, &id, &rev, &name, content_type.as_deref(), &data),
    "attachment_get" => attachments::Attachment: R::AttachmentGet { db, id, name, rev } => attachments::get(&self.engine, &db, &id, &name, rev.as_deref()),
    "attachment_delete" => documents::Written: R::AttachmentDelete { db, id, rev, name } => attachments::delete(&self.engine, &db, &id, &rev, &name),
    // Each op answers its own type (`remote::RemoteOp::answer_types`, `RemoteAnswers` in TypeScript).
    "remote" => remote::AnyRemoteAnswer: R::Remote(op) => self.remote.handle(&self.engine, &self.views, &self.replications, op).map(remote::AnyRemoteAnswer),
}

/// The answer of commands that only succeed or fail (`replication_dismiss`, `deploy_dismiss`).
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct Done {
    /// Always `true`.
    pub ok: bool,
}

impl Done {
    /// `{"ok": true}`.
    pub fn ok() -> Done {
        Done { ok: true }
    }
}

#[cfg(test)]
mod tests;
