//! The studio's one command surface.
//!
//! Every screen of the studio talks to the backend through [`Request`] -> [`Response`] (JSON):
//! the Tauri app forwards them through IPC, and the web mode (`fullsync serve --studio`)
//! serves the same commands at `POST /_studio/api`, protected by a random token, together with
//! the UI's files. Errors carry a stable [`ErrorCode`] the UI matches on and a message that says
//! what to do.

pub mod attachments;
pub mod deploy;
pub mod listeners;
pub mod live;
pub mod parts;
pub mod project_ops;
pub mod replication;
pub mod sheets;
pub mod view_tests;
pub mod web;
pub mod workspace;

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use fullsync_engine::{AllDocsOptions, Engine, ReadOptions, UserCtx};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A command from the UI.
#[derive(Debug, Deserialize, ts_rs::TS)]
#[serde(tag = "cmd", content = "args", rename_all = "snake_case")]
pub enum Request {
    /// Opens a project folder (and syncs it into the engine).
    ProjectOpen {
        /// Folder.
        path: String,
        /// Put it in the recent-projects list (the studio's Open dialog and start-up do; tests
        /// and scripts need not).
        #[serde(default)]
        #[ts(as = "Option<bool>", optional)]
        remember: bool,
    },
    /// The open project: model, diagnostics and file tree.
    ProjectTree,
    /// Reads a project file (path relative to the project root).
    FileRead {
        /// Relative path.
        path: String,
    },
    /// Writes a project file atomically, reloads and syncs the project.
    FileWrite {
        /// Relative path.
        path: String,
        /// Content.
        text: String,
        /// The text the editor loaded. When the file on disk no longer has it (another
        /// program changed it), nothing is written and the answer is a conflict, so an
        /// external change is never silently overwritten.
        #[serde(default)]
        #[ts(optional = nullable)]
        base: Option<String>,
    },
    /// Runs an unsaved map/reduce over a database (the editor's live preview).
    Preview {
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
        /// The design document the function belongs to (its `views.lib` is available to
        /// `require`).
        #[serde(default)]
        #[ts(optional = nullable)]
        ddoc: Option<String>,
    },
    /// Where the engine stands with respect to the project's files (the status bar: `synced`,
    /// `syncing`, `error`) and the generation of the last applied change (a new one: reload
    /// the tree).
    SyncStatus,
    /// Queries a saved view.
    ViewQuery {
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
    /// Databases of the engine.
    Databases,
    /// Documents of a database (ids starting with `prefix`).
    DocsList {
        /// Database.
        db: String,
        /// Id prefix.
        #[serde(default)]
        #[ts(as = "Option<String>", optional)]
        prefix: String,
        /// Maximum.
        #[serde(default = "fifty")]
        #[ts(as = "Option<f64>", optional)]
        limit: usize,
    },
    /// One document (with `_conflicts` and `_revs_info`, the revision history), the winner
    /// or the revision `rev` when its body is still stored (not compacted away).
    DocGet {
        /// Database.
        db: String,
        /// Id.
        id: String,
        /// An older revision to read.
        #[serde(default)]
        #[ts(optional = nullable)]
        rev: Option<String>,
    },
    /// Deletes a document revision.
    DocDelete {
        /// Database.
        db: String,
        /// Id.
        id: String,
        /// Revision to delete.
        rev: String,
    },
    /// Every live (non-deleted) leaf revision of a document, winner first: what a conflict
    /// resolution screen compares.
    DocRevisions {
        /// Database.
        db: String,
        /// Id.
        id: String,
    },
    /// Resolves a conflict: keeps `keep` (optionally replaced by `body`, a merge) and deletes
    /// exactly the revisions in `delete`, which must be all the other live leaves. If the
    /// document gained or lost a leaf since the caller looked, nothing is written and the
    /// answer is a conflict: reload and confirm again.
    DocResolve {
        /// Database.
        db: String,
        /// Id.
        id: String,
        /// The revision that stays.
        keep: String,
        /// The revisions the user confirmed will be deleted.
        delete: Vec<String>,
        /// A merged body written as a new revision on top of `keep`.
        #[serde(default)]
        #[ts(optional = nullable)]
        body: Option<Value>,
    },
    /// The `_changes` feed of a database: after `since`, or the latest `limit` changes
    /// newest first when `latest` is set (what the changes panel shows when it opens).
    Changes {
        /// Database.
        db: String,
        /// Only changes after this sequence.
        #[serde(default)]
        #[ts(as = "Option<f64>", optional)]
        since: u64,
        /// At most this many rows.
        #[serde(default = "fifty")]
        #[ts(as = "Option<f64>", optional)]
        limit: usize,
        /// The newest `limit` changes, newest first (ignores `since`).
        #[serde(default)]
        #[ts(as = "Option<bool>", optional)]
        latest: bool,
    },
    /// The open project's listeners and their activity log (each call of a target: listener,
    /// database, document ids, result, time), oldest first, after the entry `after`.
    ListenerActivity {
        /// Only entries with a greater index (0: every entry kept).
        #[serde(default)]
        #[ts(as = "Option<f64>", optional)]
        after: u64,
    },
    /// Starts a replication job between a local database and a remote one; answers its status
    /// (with its `id`).
    ReplicationStart(replication::StartArgs),
    /// Every replication job (running, done, error, cancelled) until dismissed.
    ReplicationStatus,
    /// Asks a running replication job to stop.
    ReplicationCancel {
        /// Job id.
        id: String,
    },
    /// Removes a finished replication job (and its errors) from the list.
    ReplicationDismiss {
        /// Job id.
        id: String,
    },
    /// The documents of a local database a FullSync user would receive (FullSync access
    /// rules: their `~c8oAcl`, their groups in `c8oGrp`, or neither key).
    SeeAs {
        /// Database.
        db: String,
        /// User (none: an anonymous device).
        #[serde(default)]
        #[ts(optional = nullable)]
        user: Option<String>,
        /// The user's groups.
        #[serde(default)]
        #[ts(as = "Option<Vec<String>>", optional)]
        groups: Vec<String>,
    },
    /// The saved server profiles (no secrets).
    ServersList,
    /// Adds or replaces a server profile; a password goes to the OS keyring, never to a file.
    ServerSave(deploy::SaveArgs),
    /// What deploying the open project to a server would change (nothing is written); with
    /// `rollback_to`, what restoring that earlier deploy would change.
    DeployPlan {
        /// Server profile name.
        server: String,
        /// A deploy id of `deploy_history` (`0`: before the first deploy).
        #[serde(default)]
        #[ts(as = "Option<f64>", optional = nullable)]
        rollback_to: Option<u64>,
    },
    /// Starts deploying the open project to a server in the background (or, with
    /// `rollback_to`, restoring an earlier deploy); answers the job.
    DeployApply {
        /// Server profile name.
        server: String,
        /// Build changed views in a staging design document first, and switch once built.
        #[serde(default)]
        #[ts(as = "Option<bool>", optional)]
        staged: bool,
        /// Restore the design documents of this deploy id (see `deploy_history`; `0`: before
        /// the first deploy) instead of deploying the project.
        #[serde(default)]
        #[ts(as = "Option<f64>", optional = nullable)]
        rollback_to: Option<u64>,
    },
    /// The deploys of the open project recorded for a server, newest first.
    DeployHistory {
        /// Server profile name.
        server: String,
    },
    /// Every deploy job with its progress and result, until dismissed.
    DeployStatus,
    /// Removes a finished deploy job from the list.
    DeployDismiss {
        /// Job id.
        id: String,
    },
    /// Writes a document.
    DocPut {
        /// Database.
        db: String,
        /// The document (with `_rev` to update).
        doc: Value,
    },
    /// Creates, renames or deletes a connector, design document, view, listener or
    /// transaction (the explorer's context menu); answers the new tree, like a file save.
    ProjectEdit(project_ops::Edit),
    /// Creates a part of a design document, connector or project that lives in a file of its
    /// own (reduce, filter, `validate_doc_update`, lib module, index, handler, view test), or
    /// deletes one; answers the file (`path`) and the new tree (`project`).
    PartEdit(parts::PartEdit),
    /// Runs the project's view tests: all, one connector's, or one test; answers each result
    /// (pass/fail, a readable diff, the view's map file) and the counts.
    TestsRun {
        /// Only the tests of this connector.
        #[serde(default)]
        #[ts(optional = nullable)]
        connector: Option<String>,
        /// Only this test.
        #[serde(default)]
        #[ts(optional = nullable)]
        name: Option<String>,
    },
    /// The Convertigo sequence steps that call a transaction, or any transaction of a connector
    /// (`{"used_by": [{"sequence", "step", "key", "value", "file"}]}`; empty for other kinds
    /// and for projects not imported from Convertigo): the explorer confirms a rename or a
    /// delete with this list.
    UsedBy(project_ops::Target),
    /// The Git screen: status, diff, commit, discard, init.
    Git(project_ops::GitOp),
    /// The recently opened projects, newest first.
    ProjectsRecent,
    /// Sub-folders of a folder (home by default), marking FullSync and Convertigo projects:
    /// the web mode's Open dialog.
    DirList {
        /// Folder.
        #[serde(default)]
        #[ts(optional = nullable)]
        path: Option<String>,
    },
    /// Imports a Convertigo project folder into a new folder, then opens it.
    ProjectImportC8o {
        /// The Convertigo project folder (with `c8oProject.yaml`).
        source: String,
        /// A new, empty folder for the FullSync project.
        dest: String,
    },
    /// Where the studio keeps things: the engine's data folder, the open project, the
    /// config folder (server profiles, recent projects); and the version and commit of the
    /// running binary (the About dialog).
    StudioInfo,
    /// The property sheet of a connector, listener or transaction: the item and the choices
    /// its form offers (views, filters, handlers, transaction types and their properties).
    SheetGet {
        /// Connector.
        connector: String,
        /// Which sheet.
        kind: sheets::SheetKind,
        /// Listener or transaction name (ignored for a connector).
        #[serde(default)]
        #[ts(as = "Option<String>", optional)]
        name: String,
    },
    /// Saves a property sheet to its file; answers the file's diagnostics and the new tree.
    SheetSave {
        /// Connector.
        connector: String,
        /// Which sheet.
        kind: sheets::SheetKind,
        /// Listener or transaction name (ignored for a connector).
        #[serde(default)]
        #[ts(as = "Option<String>", optional)]
        name: String,
        /// The item as the form edited it.
        item: Value,
    },
    /// Adds or replaces an attachment of a document on top of revision `rev` (the documents
    /// panel's "Attach file"); answers the new revision. Refused above 64 MiB.
    AttachmentPut {
        /// Database.
        db: String,
        /// Document id.
        id: String,
        /// The revision the user has open (a stale one is a conflict: reload).
        rev: String,
        /// Attachment name.
        name: String,
        /// MIME type (`application/octet-stream` when absent or empty).
        #[serde(default)]
        #[ts(optional = nullable)]
        content_type: Option<String>,
        /// The bytes, base64.
        data: String,
    },
    /// An attachment's bytes (base64) and metadata (content type, length, digest), of the
    /// current revision or of `rev`.
    AttachmentGet {
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
    /// Removes an attachment of a document on top of revision `rev`; answers the new revision.
    AttachmentDelete {
        /// Database.
        db: String,
        /// Document id.
        id: String,
        /// The revision the user has open (a stale one is a conflict: reload).
        rev: String,
        /// Attachment name.
        name: String,
    },
}

fn fifty() -> usize {
    50
}

/// Stable error codes the UI can match on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Something does not exist.
    NotFound,
    /// A write conflict.
    Conflict,
    /// Refused.
    Forbidden,
    /// Malformed input.
    BadRequest,
    /// No project is open, or it cannot be loaded.
    InvalidProject,
    /// JavaScript failed (compile error, throw, timeout).
    JsError,
    /// Anything else.
    Internal,
}

/// An API error: a code and a message that says what to do.
#[derive(Debug, Serialize, thiserror::Error, ts_rs::TS)]
#[error("{message}")]
pub struct ApiError {
    /// Code.
    pub code: ErrorCode,
    /// Message.
    pub message: String,
    /// For JavaScript that does not compile: the 1-based line in the function's source (the
    /// editor marks it).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub line: Option<u32>,
}

impl ApiError {
    /// An error with `code` and a message that says what to do.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            line: None,
            message: message.into(),
        }
    }
}

impl From<fullsync_engine::Error> for ApiError {
    fn from(e: fullsync_engine::Error) -> Self {
        let code = match e.status() {
            404 => ErrorCode::NotFound,
            409 => ErrorCode::Conflict,
            401 | 403 => ErrorCode::Forbidden,
            400 | 412 | 413 | 415 => ErrorCode::BadRequest,
            _ => ErrorCode::Internal,
        };
        ApiError::new(code, format!("{}: {}", e.error_name(), e.reason()))
    }
}

impl From<fullsync_views::ViewError> for ApiError {
    fn from(e: fullsync_views::ViewError) -> Self {
        let code = match &e {
            fullsync_views::ViewError::Js(_) => ErrorCode::JsError,
            fullsync_views::ViewError::NotFound(_) => ErrorCode::NotFound,
            _ if e.status() == 400 => ErrorCode::BadRequest,
            _ => ErrorCode::Internal,
        };
        let line = match &e {
            fullsync_views::ViewError::Js(fullsync_views::js::JsError::Compile {
                line, ..
            }) => *line,
            _ => None,
        };
        ApiError {
            line,
            ..ApiError::new(code, format!("{}: {}", e.couch_error(), e.reason()))
        }
    }
}

/// Milliseconds since the Unix epoch (times shown by the studio's screens).
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The studio backend.
pub struct Studio {
    engine: Arc<Engine>,
    views: Arc<fullsync_views::Views>,
    /// The open project, its listeners and watcher, and the sync path they share.
    live: live::Live,
    replications: replication::Replications,
    deploys: deploy::Deploys,
    /// The commit the running binary was built from (`studio_info`, the About dialog).
    commit: String,
}

/// A node of the project explorer.
#[derive(Debug, Serialize)]
pub struct TreeNode {
    /// Label.
    pub name: String,
    /// `project`, `connector`, `ddoc`, `view`, `file`, `folder`, `listener`, `transaction`, `filter`.
    pub kind: &'static str,
    /// Project-relative file path, for nodes that open a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Children.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<TreeNode>,
}

pub(crate) fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root)
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

impl Studio {
    /// A backend over `engine`.
    pub fn new(engine: Arc<Engine>, views: Arc<fullsync_views::Views>) -> Studio {
        Studio {
            live: live::Live::new(engine.clone(), views.clone()),
            engine,
            views,
            replications: replication::Replications::default(),
            deploys: deploy::Deploys::default(),
            commit: "unknown".to_string(),
        }
    }

    /// Names the commit the running binary was built from, shown by `studio_info` (the
    /// studio's About); `unknown` until set.
    pub fn with_commit(mut self, commit: impl Into<String>) -> Studio {
        self.commit = commit.into();
        self
    }

    /// Stops running the open project's listeners and watching its folder (they start again
    /// when a project is opened).
    pub fn stop_listeners(&self) {
        self.live.stop();
    }

    fn root(&self) -> Result<PathBuf, ApiError> {
        self.live
            .project
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidProject,
                    "no project is open: open a project folder first",
                )
            })
    }

    /// A project-relative path, refusing anything that leaves the project: absolute paths,
    /// `..`, and symbolic links that resolve outside the project root.
    fn file(&self, path: &str) -> Result<PathBuf, ApiError> {
        let p = Path::new(path);
        if p.is_absolute() || p.components().any(|c| matches!(c, Component::ParentDir)) {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                format!("`{path}` is outside the project"),
            ));
        }
        let root = self.root()?;
        fullsync_project::confine::check(&root, p)
            .map_err(|e| ApiError::new(ErrorCode::Forbidden, e.to_string()))?;
        Ok(root.join(p))
    }

    fn tree(&self, root: &Path) -> Result<Value, ApiError> {
        let (p, diags) = fullsync_project::load(root);
        let p = p.ok_or_else(|| invalid_project(&diags))?;
        Ok(tree_of(root, &p, &diags))
    }

    /// Loads the project at `root` once and applies it through the one sync path
    /// ([`live::Live::apply`]: engine, listeners, status), answering its tree (with the sync
    /// report) and its diagnostics.
    fn reload(&self, root: &Path) -> Result<(Value, Vec<fullsync_project::Diagnostic>), ApiError> {
        self.live.reload(root, true, "studio", vec![])
    }
}

/// `message` without the absolute paths of the data folder (`the data folder`) and of the
/// user's home (`~`): error messages never show them.
pub(crate) fn without_private_dirs(message: &str, data: Option<&Path>) -> String {
    fullsync_engine::privacy::scrub(message, &fullsync_engine::privacy::private_dirs(data))
}

/// Refuses to edit a project that has a symbolic link leading outside it: an edit could write
/// through the link into another folder of this machine.
pub(crate) fn refuse_escapes(root: &Path) -> Result<(), ApiError> {
    match fullsync_project::confine::Confine::new(root)
        .escapes()
        .first()
    {
        Some(e) => Err(ApiError::new(
            ErrorCode::Forbidden,
            format!("{e}; the project cannot be edited until then"),
        )),
        None => Ok(()),
    }
}

/// The error of a project that does not load: its diagnostics, one per line.
pub(crate) fn invalid_project(diags: &[fullsync_project::Diagnostic]) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidProject,
        diags
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// The explorer's view of a loaded project.
fn tree_of(
    root: &Path,
    p: &fullsync_project::Project,
    diags: &[fullsync_project::Diagnostic],
) -> Value {
    {
        let mut connectors = vec![];
        for c in &p.connectors {
            let mut kids = vec![TreeNode {
                name: "connector.toml".into(),
                kind: "file",
                path: Some(rel(root, &c.dir.join("connector.toml"))),
                children: vec![],
            }];
            for d in &c.design_docs {
                let mut dk = vec![];
                for v in &d.views {
                    let mut vk = vec![TreeNode {
                        name: "map".into(),
                        kind: "file",
                        path: Some(rel(root, &v.map.path)),
                        children: vec![],
                    }];
                    if let Some(r) = &v.reduce {
                        vk.push(TreeNode {
                            name: "reduce".into(),
                            kind: "file",
                            path: Some(rel(root, &r.path)),
                            children: vec![],
                        });
                    }
                    dk.push(TreeNode {
                        name: v.name.clone(),
                        kind: "view",
                        path: None,
                        children: vk,
                    });
                }
                for (n, f) in &d.filters {
                    dk.push(TreeNode {
                        name: n.clone(),
                        kind: "filter",
                        path: Some(rel(root, &f.path)),
                        children: vec![],
                    });
                }
                if let Some(v) = &d.validate {
                    dk.push(TreeNode {
                        name: "validate_doc_update".into(),
                        kind: "validate",
                        path: Some(rel(root, &v.path)),
                        children: vec![],
                    });
                }
                for (n, f) in &d.lib {
                    dk.push(TreeNode {
                        name: format!("lib/{n}"),
                        kind: "lib",
                        path: Some(rel(root, &f.path)),
                        children: vec![],
                    });
                }
                kids.push(TreeNode {
                    name: d.name.clone(),
                    kind: "ddoc",
                    path: None,
                    children: dk,
                });
            }
            for ix in &c.indexes {
                kids.push(TreeNode {
                    name: ix.name.clone(),
                    kind: "index",
                    path: Some(rel(
                        root,
                        &c.dir.join("indexes").join(format!("{}.json", ix.name)),
                    )),
                    children: vec![],
                });
            }
            for l in &c.listeners {
                kids.push(TreeNode {
                    name: l.name.clone(),
                    kind: "listener",
                    path: Some(rel(root, &l.file)),
                    children: vec![],
                });
            }
            for t in &c.transactions {
                kids.push(TreeNode {
                    name: t.name.clone(),
                    kind: "transaction",
                    path: Some(rel(root, &t.file)),
                    children: vec![],
                });
            }
            connectors.push(TreeNode {
                name: c.name.clone(),
                kind: "connector",
                path: None,
                children: kids,
            });
        }
        json!({
            "name": p.name,
            "version": p.version,
            "root": root.display().to_string(),
            "tree": connectors,
            "files": parts::project_files(root),
            "description": p.description,
            "diagnostics": diags,
            "tests": p.tests.iter().map(|t| t.name.clone()).collect::<Vec<_>>(),
        })
    }
}

impl Studio {
    /// Handles one command.
    pub fn handle(&self, req: Request) -> Result<Value, ApiError> {
        self.dispatch(req).map_err(|mut e| {
            e.message = without_private_dirs(&e.message, self.engine.dir());
            e
        })
    }

    /// [`Studio::handle`], before error messages are cleaned of private folders.
    fn dispatch(&self, req: Request) -> Result<Value, ApiError> {
        match req {
            Request::ProjectOpen { path, remember } => {
                let root = PathBuf::from(&path);
                if !root.join(fullsync_project::load::MANIFEST).exists() {
                    return Err(ApiError::new(
                        ErrorCode::InvalidProject,
                        format!("{path} has no fullsync.toml: choose a FullSync project folder"),
                    ));
                }
                let root = root.canonicalize().unwrap_or(root);
                let (t, _) = self.live.open(&root)?;
                if remember {
                    workspace::remember(&root);
                }
                Ok(t)
            }
            Request::ProjectTree => self.tree(&self.root()?),
            Request::SyncStatus => Ok(json!(self.live.status())),
            Request::ProjectEdit(e) => {
                let root = self.root()?;
                refuse_escapes(&root)?;
                project_ops::edit(&root, e)?;
                Ok(self.reload(&root)?.0)
            }
            Request::PartEdit(e) => {
                let root = self.root()?;
                refuse_escapes(&root)?;
                let path = parts::edit(&root, &self.engine, &self.views, e)?;
                Ok(json!({"path": path, "project": self.reload(&root)?.0}))
            }
            Request::TestsRun { connector, name } => view_tests::run(
                &self.root()?,
                &self.views,
                connector.as_deref().filter(|c| !c.is_empty()),
                name.as_deref().filter(|n| !n.is_empty()),
            ),
            Request::UsedBy(t) => project_ops::used_by(&self.root()?, &t),
            Request::Git(op) => project_ops::git_op(&self.root()?, op),
            Request::ProjectsRecent => Ok(workspace::recent()),
            Request::DirList { path } => workspace::dir_list(path.as_deref()),
            Request::ProjectImportC8o { source, dest } => {
                let report = workspace::import_c8o(&source, &dest)?;
                let mut t = self.handle(Request::ProjectOpen {
                    path: dest,
                    remember: true,
                })?;
                t["import"] = report;
                Ok(t)
            }
            Request::StudioInfo => Ok(json!({
                "data_dir": self.engine.dir().map(|d| d.display().to_string()),
                "project": self.root().ok().map(|r| r.display().to_string()),
                "config_dir": fullsync_deploy::profiles::config_dir().display().to_string(),
                "version": env!("CARGO_PKG_VERSION"),
                "commit": self.commit,
            })),
            Request::SheetGet {
                connector,
                kind,
                name,
            } => sheets::get(&self.root()?, &connector, kind, &name),
            Request::SheetSave {
                connector,
                kind,
                name,
                item,
            } => {
                let root = self.root()?;
                refuse_escapes(&root)?;
                let file = sheets::save(&root, &connector, kind, &name, item)?;
                let (mut project, diags) = self.reload(&root)?;
                let sync = project["sync"].take();
                Ok(json!({
                    "file": file,
                    "diagnostics": sheets::diagnostics_of(&diags, &file),
                    "sync": sync,
                    "project": project,
                }))
            }
            Request::FileRead { path } => {
                let f = self.file(&path)?;
                let text = std::fs::read_to_string(&f).map_err(|e| {
                    ApiError::new(ErrorCode::NotFound, format!("cannot read {path}: {e}"))
                })?;
                Ok(json!({ "path": path, "text": text }))
            }
            Request::FileWrite { path, text, base } => {
                let f = self.file(&path)?;
                if let Some(base) = base {
                    match std::fs::read_to_string(&f) {
                        Ok(disk) if disk != base && disk != text => {
                            return Err(ApiError::new(
                                ErrorCode::Conflict,
                                format!("{path} changed on disk since you opened it: compare, then keep yours or take the disk version"),
                            ))
                        }
                        _ => {}
                    }
                }
                fullsync_project::write_atomic(&f, text.as_bytes()).map_err(|e| {
                    ApiError::new(ErrorCode::Internal, format!("cannot write {path}: {e}"))
                })?;
                Ok(self.reload(&self.root()?)?.0)
            }
            Request::Preview {
                db,
                map,
                reduce,
                query,
                ddoc,
            } => {
                let q = if query.is_null() { json!({}) } else { query };
                let q = fullsync_views::ViewQuery::from_json(&q)?;
                let lib = match (&ddoc, self.root().ok()) {
                    (Some(d), Some(root)) => fullsync_project::load(&root).0.and_then(|p| {
                        let c = p.connector(&db)?;
                        let dd = c.design_docs.iter().find(|x| &x.name == d)?;
                        dd.to_json()
                            .get("views")
                            .and_then(|v| v.get("lib"))
                            .cloned()
                    }),
                    _ => None,
                };
                let p =
                    self.views
                        .preview_with_lib(&db, &map, reduce.as_deref(), &q, lib.as_ref())?;
                Ok(serde_json::to_value(p).unwrap_or(Value::Null))
            }
            Request::ViewQuery {
                db,
                ddoc,
                view,
                query,
            } => {
                let q = if query.is_null() { json!({}) } else { query };
                let t = std::time::Instant::now();
                let r = self.views.query(
                    &db,
                    &ddoc,
                    &view,
                    &fullsync_views::ViewQuery::from_json(&q)?,
                )?;
                Ok(json!({"result": r, "ms": t.elapsed().as_secs_f64() * 1000.0}))
            }
            Request::Databases => {
                let mut out = vec![];
                for name in self.engine.all_dbs()? {
                    if let Ok(db) = self.engine.db(&name) {
                        let i = db.info()?;
                        out.push(json!({"name": name, "doc_count": i.doc_count, "update_seq": i.update_seq}));
                    }
                }
                Ok(Value::Array(out))
            }
            Request::DocsList { db, prefix, limit } => {
                let dbh = self.engine.db(&db)?;
                let (total, _, rows) = dbh.all_docs(&AllDocsOptions {
                    start: (!prefix.is_empty()).then(|| prefix.clone()),
                    end: (!prefix.is_empty()).then(|| format!("{prefix}\u{10ffff}")),
                    inclusive_end: true,
                    limit: Some(limit),
                    ..Default::default()
                })?;
                Ok(json!({"total": total, "rows": rows}))
            }
            Request::DocGet { db, id, rev } => {
                let rev = rev
                    .as_deref()
                    .map(fullsync_engine::Rev::parse)
                    .transpose()?;
                Ok(self.engine.db(&db)?.get(
                    &id,
                    rev.as_ref(),
                    &ReadOptions {
                        conflicts: true,
                        revs_info: true,
                        ..Default::default()
                    },
                )?)
            }
            Request::DocDelete { db, id, rev } => {
                let dbh = self.engine.db(&db)?;
                let (id, rev) = put_json(&dbh, json!({"_id": id, "_rev": rev, "_deleted": true}))?;
                Ok(json!({"ok": true, "id": id, "rev": rev}))
            }
            Request::Changes {
                db,
                since,
                limit,
                latest,
            } => {
                let dbh = self.engine.db(&db)?;
                let c = dbh.changes(&fullsync_engine::ChangesOptions {
                    since: if latest { 0 } else { since },
                    limit: Some(limit),
                    descending: latest,
                    ..Default::default()
                })?;
                // Newest first: resume after the newest row shown, so nothing written
                // meanwhile is skipped by the next poll.
                let last_seq = if latest {
                    c.results
                        .iter()
                        .filter_map(|r| r["seq"].as_u64())
                        .max()
                        .unwrap_or(0)
                } else {
                    c.last_seq
                };
                Ok(json!({"results": c.results, "last_seq": last_seq}))
            }
            Request::DocRevisions { db, id } => {
                let dbh = self.engine.db(&db)?;
                Ok(Value::Array(live_leaves(&dbh, &id)?))
            }
            Request::DocResolve {
                db,
                id,
                keep,
                delete,
                body,
            } => {
                let dbh = self.engine.db(&db)?;
                let leaves: std::collections::BTreeSet<String> = live_leaves(&dbh, &id)?
                    .iter()
                    .filter_map(|d| d["_rev"].as_str().map(str::to_string))
                    .collect();
                let mut expected: std::collections::BTreeSet<String> =
                    delete.iter().cloned().collect();
                expected.insert(keep.clone());
                if leaves != expected {
                    return Err(ApiError::new(
                        ErrorCode::Conflict,
                        format!(
                            "{id} changed since you looked (its live revisions are now {}): nothing was deleted; reload the document and confirm again",
                            leaves.into_iter().collect::<Vec<_>>().join(", ")
                        ),
                    ));
                }
                let mut kept = keep.clone();
                if let Some(mut b) = body {
                    let o = b.as_object_mut().ok_or_else(|| {
                        ApiError::new(
                            ErrorCode::BadRequest,
                            "the merged body must be a JSON object",
                        )
                    })?;
                    o.insert("_id".into(), json!(id));
                    o.insert("_rev".into(), json!(keep));
                    kept = put_json(&dbh, b)?.1;
                }
                for rev in &delete {
                    put_json(&dbh, json!({"_id": id, "_rev": rev, "_deleted": true}))?;
                }
                Ok(json!({"ok": true, "id": id, "rev": kept, "deleted": delete}))
            }
            Request::DocPut { db, doc } => {
                let dbh = self.engine.db(&db)?;
                let (id, rev) = put_json(&dbh, doc)?;
                Ok(json!({"ok": true, "id": id, "rev": rev}))
            }
            Request::ListenerActivity { after } => {
                let slot = self
                    .live
                    .listeners
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                let log = self.live.activity.lock().unwrap_or_else(|e| e.into_inner());
                Ok(json!({
                    "entries": log.after(after),
                    "last": log.last(),
                    "running": slot.as_ref().is_some_and(|l| l.running()),
                    "runner_threads": self.live.listener_threads.load(std::sync::atomic::Ordering::SeqCst),
                    "listeners": slot.as_ref().map(|l| l.listeners().to_vec()).unwrap_or_default(),
                }))
            }
            Request::ReplicationStart(args) => Ok(json!(self.replications.start(
                &self.engine,
                &self.views,
                args
            )?)),
            Request::ReplicationStatus => Ok(json!(self.replications.status())),
            Request::ReplicationCancel { id } => Ok(json!(self.replications.cancel(&id)?)),
            Request::ReplicationDismiss { id } => {
                self.replications.dismiss(&id)?;
                Ok(json!({"ok": true}))
            }
            Request::SeeAs { db, user, groups } => {
                let dbh = self.engine.db(&db)?;
                let user = user.filter(|u| !u.trim().is_empty());
                let groups: Vec<String> = groups
                    .into_iter()
                    .map(|g| g.trim().to_string())
                    .filter(|g| !g.is_empty())
                    .collect();
                let ids = fullsync_replicate::acl::see_as_user(&dbh, user.as_deref(), &groups)?;
                let total = dbh.info()?.doc_count;
                Ok(
                    json!({"db": db, "user": user, "groups": groups, "count": ids.len(), "doc_count": total, "ids": ids}),
                )
            }
            Request::ServersList => deploy::servers_list(),
            Request::ServerSave(args) => deploy::server_save(args),
            Request::DeployPlan {
                server,
                rollback_to,
            } => deploy::plan(&self.root()?, &server, rollback_to),
            Request::DeployApply {
                server,
                staged,
                rollback_to,
            } => Ok(json!(self.deploys.start(
                self.root()?,
                server,
                staged,
                rollback_to
            )?)),
            Request::DeployHistory { server } => deploy::history(&self.root()?, &server),
            Request::DeployStatus => Ok(json!(self.deploys.status())),
            Request::DeployDismiss { id } => {
                self.deploys.dismiss(&id)?;
                Ok(json!({"ok": true}))
            }
            Request::AttachmentPut {
                db,
                id,
                rev,
                name,
                content_type,
                data,
            } => attachments::put(
                &self.engine,
                &db,
                &id,
                &rev,
                &name,
                content_type.as_deref(),
                &data,
            ),
            Request::AttachmentGet { db, id, name, rev } => {
                attachments::get(&self.engine, &db, &id, &name, rev.as_deref())
            }
            Request::AttachmentDelete { db, id, rev, name } => {
                attachments::delete(&self.engine, &db, &id, &rev, &name)
            }
        }
    }

    /// Handles a command given as JSON (`{"cmd": ..., "args": {...}}`).
    pub fn handle_json(&self, v: Value) -> Result<Value, ApiError> {
        let req: Request = serde_json::from_value(v).map_err(|e| {
            ApiError::new(ErrorCode::BadRequest, format!("not a studio command: {e}"))
        })?;
        self.handle(req)
    }
}

/// Writes one document given as JSON, as the studio's user (an admin, like the local
/// developer on their own engine), and answers its id and new revision.
fn put_json(dbh: &fullsync_engine::Database, doc: Value) -> Result<(String, String), ApiError> {
    let parsed = fullsync_engine::parse_doc(doc, None, &mut |_| None)?;
    let id = parsed.id.clone();
    let rev = dbh.put(
        parsed,
        &UserCtx {
            name: None,
            roles: vec!["_admin".into()],
        },
    )?;
    Ok((id, rev))
}

/// Live leaf revisions of `id`, the winner first.
fn live_leaves(dbh: &fullsync_engine::Database, id: &str) -> Result<Vec<Value>, ApiError> {
    let winner = dbh.get(id, None, &ReadOptions::default())?;
    let mut out = vec![winner.clone()];
    for r in dbh.open_revs(id, &fullsync_engine::OpenRevs::All, &ReadOptions::default())? {
        if let fullsync_engine::OpenRev::Ok(d) = r {
            if d.get("_deleted") != Some(&Value::Bool(true)) && d["_rev"] != winner["_rev"] {
                out.push(d);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_never_show_the_data_folder_or_the_home() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let m = format!("cannot open {}/db.redb", data.display());
        assert_eq!(
            without_private_dirs(&m, Some(&data)),
            "cannot open the data folder/db.redb"
        );
        if let Some(home) = std::env::var_os("HOME").filter(|h| h.len() > 1) {
            let home = home.to_string_lossy().to_string();
            let m = format!("{home}/.config/fullsync/servers.toml is invalid");
            assert_eq!(
                without_private_dirs(&m, None),
                "~/.config/fullsync/servers.toml is invalid"
            );
        }
    }

    #[test]
    fn documents_put_get_delete_with_conflicts() {
        let engine = Arc::new(Engine::in_memory());
        let views = Arc::new(fullsync_views::Views::new(engine.clone()));
        let s = Studio::new(engine.clone(), views);
        engine.create_db("db").unwrap();
        let put = s
            .handle_json(
                json!({"cmd": "doc_put", "args": {"db": "db", "doc": {"_id": "x", "n": 1}}}),
            )
            .unwrap();
        let rev1 = put["rev"].as_str().unwrap().to_string();
        assert!(rev1.starts_with("1-"));
        let stale = s
            .handle_json(
                json!({"cmd": "doc_put", "args": {"db": "db", "doc": {"_id": "x", "n": 2}}}),
            )
            .unwrap_err();
        assert_eq!(
            stale.code,
            ErrorCode::Conflict,
            "a write without _rev conflicts"
        );
        let got = s
            .handle_json(json!({"cmd": "doc_get", "args": {"db": "db", "id": "x"}}))
            .unwrap();
        assert_eq!(got["n"], 1);
        assert_eq!(got["_revs_info"][0]["rev"], rev1.as_str());
        let rev2 = s
            .handle_json(json!({"cmd": "doc_put", "args": {"db": "db", "doc": {"_id": "x", "_rev": rev1, "n": 2}}}))
            .unwrap()["rev"]
            .as_str()
            .unwrap()
            .to_string();
        let old = s
            .handle_json(json!({"cmd": "doc_get", "args": {"db": "db", "id": "x", "rev": rev1}}))
            .unwrap();
        assert_eq!(old["n"], 1, "the older revision's body");
        let rev1 = rev2;
        let bad = s
            .handle_json(
                json!({"cmd": "doc_delete", "args": {"db": "db", "id": "x", "rev": "1-00"}}),
            )
            .unwrap_err();
        assert_eq!(
            bad.code,
            ErrorCode::Conflict,
            "deleting a stale rev conflicts"
        );
        let del = s
            .handle_json(json!({"cmd": "doc_delete", "args": {"db": "db", "id": "x", "rev": rev1}}))
            .unwrap();
        assert!(del["rev"].as_str().unwrap().starts_with("3-"));
        let gone = s
            .handle_json(json!({"cmd": "doc_get", "args": {"db": "db", "id": "x"}}))
            .unwrap_err();
        assert_eq!(gone.code, ErrorCode::NotFound);
    }

    #[test]
    fn conflicts_are_listed_and_resolved_only_as_confirmed() {
        let engine = Arc::new(Engine::in_memory());
        let views = Arc::new(fullsync_views::Views::new(engine.clone()));
        let s = Studio::new(engine.clone(), views);
        let db = engine.create_db("db").unwrap();
        let revs = |n: &str, h: &str| json!({"start": 2, "ids": [h, n]});
        db.bulk_docs_json(
            vec![
                json!({"_id": "c", "_rev": "2-aa", "v": "a", "_revisions": revs("r1", "aa")}),
                json!({"_id": "c", "_rev": "2-bb", "v": "b", "_revisions": revs("r1", "bb")}),
                json!({"_id": "c", "_rev": "2-cc", "v": "c", "_revisions": revs("r1", "cc")}),
            ],
            false,
            &UserCtx::default(),
        )
        .unwrap();
        let leaves = s
            .handle_json(json!({"cmd": "doc_revisions", "args": {"db": "db", "id": "c"}}))
            .unwrap();
        let leaves = leaves.as_array().unwrap();
        assert_eq!(leaves.len(), 3);
        assert_eq!(leaves[0]["_rev"], "2-cc", "the winner comes first");
        // Confirming only some of the other leaves deletes nothing.
        let e = s
            .handle_json(json!({"cmd": "doc_resolve", "args": {"db": "db", "id": "c", "keep": "2-aa", "delete": ["2-bb"]}}))
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Conflict);
        assert_eq!(
            s.handle_json(json!({"cmd": "doc_revisions", "args": {"db": "db", "id": "c"}}))
                .unwrap()
                .as_array()
                .unwrap()
                .len(),
            3
        );
        // Keep a losing revision, merged with the others' values.
        let r = s
            .handle_json(json!({"cmd": "doc_resolve", "args": {"db": "db", "id": "c", "keep": "2-aa", "delete": ["2-bb", "2-cc"], "body": {"v": "abc"}}}))
            .unwrap();
        assert!(r["rev"].as_str().unwrap().starts_with("3-"));
        let d = db
            .get(
                "c",
                None,
                &ReadOptions {
                    conflicts: true,
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(d["v"], "abc");
        let listed = s
            .handle_json(json!({"cmd": "docs_list", "args": {"db": "db", "prefix": "c"}}))
            .unwrap();
        assert_eq!(listed["rows"][0]["id"], "c", "{listed}");
        let latest = s
            .handle_json(
                json!({"cmd": "changes", "args": {"db": "db", "latest": true, "limit": 1}}),
            )
            .unwrap();
        assert_eq!(latest["results"].as_array().unwrap().len(), 1);
        assert_eq!(latest["results"][0]["id"], "c");
        let since = latest["last_seq"].as_u64().unwrap();
        db.bulk_docs_json(vec![json!({"_id": "d"})], true, &UserCtx::default())
            .unwrap();
        let next = s
            .handle_json(json!({"cmd": "changes", "args": {"db": "db", "since": since}}))
            .unwrap();
        assert_eq!(next["results"][0]["id"], "d", "{next}");
        assert_eq!(next["results"].as_array().unwrap().len(), 1, "{next}");
        assert!(d.get("_conflicts").is_none(), "{d}");
    }

    #[test]
    fn open_read_write_preview() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("p");
        std::fs::create_dir_all(root.join("connectors/db/design/app/views/v")).unwrap();
        std::fs::write(root.join("fullsync.toml"), "[project]\nname = \"p\"\n").unwrap();
        std::fs::write(
            root.join("connectors/db/design/app/views/v/map.js"),
            "function (doc) { emit(doc.n); }\n",
        )
        .unwrap();
        let engine = Arc::new(Engine::in_memory());
        let views = Arc::new(fullsync_views::Views::new(engine.clone()));
        let s = Studio::new(engine.clone(), views);
        assert_eq!(
            s.handle_json(json!({"cmd": "project_tree"}))
                .unwrap_err()
                .code,
            ErrorCode::InvalidProject
        );
        let t = s
            .handle_json(
                json!({"cmd": "project_open", "args": {"path": root.display().to_string()}}),
            )
            .unwrap();
        assert_eq!(t["tree"][0]["name"], "db");
        assert_eq!(
            t["tree"][0]["children"][1]["children"][0]["children"][0]["path"],
            "connectors/db/design/app/views/v/map.js"
        );
        engine
            .db("db")
            .unwrap()
            .bulk_docs_json(vec![json!({"_id": "a", "n": 1})], true, &UserCtx::default())
            .unwrap();
        let p = s.handle_json(json!({"cmd": "preview", "args": {"db": "db", "map": "function (doc) { emit(doc.n * 10); }"}})).unwrap();
        assert_eq!(p["result"]["rows"][0]["key"], 10);
        let e = s
            .handle_json(
                json!({"cmd": "preview", "args": {"db": "db", "map": "function (doc) { emit(; }"}}),
            )
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::JsError);
        // The line of a syntax error, for the editor's marker.
        let e = s
            .handle_json(json!({"cmd": "preview", "args": {"db": "db", "map": "function (doc) {\n  var x = 1;\n  emit(;\n}"}}))
            .unwrap_err();
        assert_eq!(e.line, Some(3), "{}", e.message);
        assert_eq!(serde_json::to_value(&e).unwrap()["line"], 3);
        assert_eq!(
            s.handle_json(json!({"cmd": "file_read", "args": {"path": "../etc/passwd"}}))
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
        s.handle_json(json!({"cmd": "file_write", "args": {"path": "connectors/db/design/app/views/v/map.js", "text": "function (doc) { emit(doc.n + 1); }\n"}})).unwrap();
        let r = s
            .handle_json(
                json!({"cmd": "view_query", "args": {"db": "db", "ddoc": "app", "view": "v"}}),
            )
            .unwrap();
        assert_eq!(
            r["result"]["rows"][0]["key"], 2,
            "the saved file was synced into the engine"
        );
        assert_eq!(
            s.handle_json(json!({"cmd": "bogus"})).unwrap_err().code,
            ErrorCode::BadRequest
        );
    }
}
