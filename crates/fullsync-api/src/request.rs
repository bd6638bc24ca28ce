//! The studio's commands: what the UI asks ([`Request`], JSON `{"cmd": ..., "args": {...}}`).

use serde::Deserialize;
use serde_json::Value;

use crate::{browse, deploy, project_ops, replication, sheets};

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
    /// The project's seed files (`data/<db>.jsonl`) and whether each may be loaded (its
    /// database has no documents yet).
    SampleData,
    /// Loads `data/<db>.jsonl` into the empty database `db` ("Load sample data"); answers what
    /// was written and what the database refused (file:line: why).
    SampleDataLoad {
        /// Database (connector).
        db: String,
    },
    /// The project's transactions with their variables (the Run panel's form) and the types
    /// that run locally.
    TransactionsList,
    /// Runs a transaction on the local database with the values filled in, as `user`
    /// (anonymous when none); answers the run: response, error, documents written, time. Kept
    /// in the history.
    TransactionRun {
        /// Connector.
        connector: String,
        /// Transaction.
        name: String,
        /// Variable values (missing ones take their defaults).
        #[serde(default)]
        #[ts(as = "Option<serde_json::Map<String, serde_json::Value>>", optional)]
        vars: serde_json::Map<String, Value>,
        /// The FullSync user it runs as.
        #[serde(default)]
        #[ts(optional = nullable)]
        user: Option<String>,
    },
    /// The latest transaction runs, newest first.
    TransactionHistory,
    /// A Mango query on a local database: its `_find` answer and its `_explain` (the Mango
    /// panel).
    MangoQuery {
        /// Database.
        db: String,
        /// The `_find` body (`selector`, `fields`, `sort`, `limit`, ...).
        #[ts(as = "serde_json::Value")]
        query: Value,
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
        /// The server's password for this request only (the Deploy screen's session field;
        /// never stored), instead of the keyring's or the environment's.
        #[serde(default)]
        #[ts(optional = nullable)]
        password: Option<String>,
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
        /// The server's password for this deploy only (never stored).
        #[serde(default)]
        #[ts(optional = nullable)]
        password: Option<String>,
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
    PartEdit(crate::parts::PartEdit),
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
    /// One page of a database's documents in id order (bodies and conflicts), after the id
    /// `after` (the previous page's `next`); optionally by id prefix, a Mango selector, or only
    /// the conflicted ones (filtered pages scan at most a few thousand documents per call).
    DocsPage(browse::DocsPageArgs),
    /// The revision tree of a document: every known revision, its parent, leaves, deleted
    /// leaves, the winner, and which bodies are still stored.
    DocTree {
        /// Database.
        db: String,
        /// Id.
        id: String,
    },
    /// The fields of a sample of a database's documents, with their JSON types (the editor's
    /// `doc.` completions).
    DocFields {
        /// Database.
        db: String,
        /// How many documents to look at.
        #[serde(default = "two_hundred")]
        #[ts(as = "Option<f64>", optional)]
        sample: usize,
    },
    /// Runs a filter or `validate_doc_update` function over documents: pass or fail for each,
    /// with what it threw.
    FnTest(browse::FnTestArgs),
    /// Every diagnostic of `fullsync project check` for the open project (loading it, and
    /// compiling each function), with paths relative to the project: the Problems panel.
    ProjectCheck,
    /// The screens on a real server (connections, documents, conflicts, changes, views,
    /// Mango, preview on a sample, compare, pull a sample): see [`crate::remote::RemoteOp`].
    Remote(crate::remote::RemoteOp),
}

fn fifty() -> usize {
    50
}

fn two_hundred() -> usize {
    200
}
