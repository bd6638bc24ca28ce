//! The explorer's context-menu edits (create, rename, delete) and the Git screen, over
//! `fullsync_project::ops` and `fullsync_project::git`. Every edit reloads the project and syncs
//! it into the engine, like a file save.

use std::path::Path;

use fullsync_project::{git, ops};
use serde::{Deserialize, Serialize};

use crate::{ApiError, ErrorCode};

/// The answer of `used_by`.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct UsedBy {
    /// The sequence steps calling the item.
    pub used_by: Vec<fullsync_project::c8o_refs::SeqRef>,
}

/// The answer of `git` `status`, `init` and `discard`.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct GitStatus {
    /// Whether the project is a Git repository (when not, the rest is empty).
    pub repo: bool,
    /// Changed files.
    pub files: Vec<git::FileStatus>,
    /// The latest commits, newest first.
    pub log: Vec<git::CommitInfo>,
    /// The current branch.
    pub branch: Option<String>,
}

/// The answer of `git` `diff`.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct GitDiff {
    /// The file.
    pub path: String,
    /// Its unified diff against the last commit.
    pub diff: String,
}

/// The answer of `git` `commit`.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct GitCommit {
    /// The new commit's id.
    pub id: String,
    /// Files committed.
    pub files: usize,
}

/// The answer of `git`: its shape depends on the operation.
#[derive(Debug, Serialize, ts_rs::TS)]
#[serde(untagged)]
pub enum GitAnswer {
    /// `status`, `init`, `discard`.
    Status(GitStatus),
    /// `diff`.
    Diff(GitDiff),
    /// `commit`.
    Commit(GitCommit),
}

/// What an explorer edit applies to.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// A connector (a database).
    Connector,
    /// A design document of a connector.
    Ddoc,
    /// A view of a design document.
    View,
    /// A listener of a connector.
    Listener,
    /// A transaction of a connector.
    Transaction,
}

/// The item an explorer edit applies to.
#[derive(Debug, Deserialize, ts_rs::TS)]
pub struct Target {
    /// Kind.
    pub kind: ItemKind,
    /// Connector (for everything but a connector).
    #[serde(default)]
    #[ts(as = "Option<String>", optional)]
    pub connector: String,
    /// Design document (for a view).
    #[serde(default)]
    #[ts(as = "Option<String>", optional)]
    pub ddoc: String,
    /// Name (of the new item, for a create).
    pub name: String,
}

impl Target {
    /// Refuses a target without the connector (every kind but a connector needs it) or the
    /// design document (a view needs it).
    fn check(&self) -> Result<(), ApiError> {
        if self.kind != ItemKind::Connector {
            need("connector", &self.connector, self.kind)?;
        }
        if self.kind == ItemKind::View {
            need("design document", &self.ddoc, self.kind)?;
        }
        Ok(())
    }
}

/// An explorer edit.
#[derive(Debug, Deserialize, ts_rs::TS)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Edit {
    /// Creates a connector, design document or view (with a starter map function), or a
    /// listener or transaction (disabled / `GetDatabaseInfo`, to finish in its sheet).
    Create(Target),
    /// Renames an item; references to it in the project are rewritten.
    Rename {
        /// The item.
        #[serde(flatten)]
        #[ts(flatten)]
        target: Target,
        /// New name.
        new_name: String,
    },
    /// Deletes an item and its files (the UI confirms first).
    Delete(Target),
}

/// A Git screen command.
#[derive(Debug, Deserialize, ts_rs::TS)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum GitOp {
    /// Creates a repository (with a `.gitignore` that keeps data and secrets out).
    Init,
    /// Changed files, the current branch and the latest commits.
    Status,
    /// The diff of one file against HEAD.
    Diff {
        /// Project-relative path.
        path: String,
    },
    /// Stages `paths` (every changed file when empty) and commits them.
    Commit {
        /// Commit message.
        message: String,
        /// Files to commit; all changes when empty.
        #[serde(default)]
        #[ts(as = "Option<Vec<String>>", optional)]
        paths: Vec<String>,
        /// Author name; defaults to the repository's `user.name`.
        #[serde(default)]
        #[ts(optional = nullable)]
        author: Option<String>,
        /// Author e-mail; defaults to the repository's `user.email`.
        #[serde(default)]
        #[ts(optional = nullable)]
        email: Option<String>,
    },
    /// Throws away the uncommitted changes of one file (the UI confirms first).
    Discard {
        /// Project-relative path.
        path: String,
    },
}

impl From<ops::OpError> for ApiError {
    fn from(e: ops::OpError) -> Self {
        let code = match &e {
            ops::OpError::NotFound(_) => ErrorCode::NotFound,
            ops::OpError::Exists(_) => ErrorCode::Conflict,
            ops::OpError::InvalidName(..) | ops::OpError::Parse(_) => ErrorCode::BadRequest,
            ops::OpError::Io { .. } | ops::OpError::Convertigo(_) => ErrorCode::Internal,
        };
        ApiError::new(code, e.to_string())
    }
}

impl From<git::GitError> for ApiError {
    fn from(e: git::GitError) -> Self {
        let code = match &e {
            git::GitError::NotARepo(_) => ErrorCode::NotFound,
            _ => ErrorCode::Internal,
        };
        ApiError::new(code, e.to_string())
    }
}

fn need(what: &str, v: &str, kind: ItemKind) -> Result<(), ApiError> {
    if v.is_empty() {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            format!("a {kind:?} edit needs its {what}").to_lowercase(),
        ));
    }
    Ok(())
}

const STARTER_MAP: &str = "function (doc) {\n  emit(doc._id, null);\n}\n";

/// Applies an explorer edit to the project at `root`.
pub fn edit(root: &Path, e: Edit) -> Result<(), ApiError> {
    let t = match &e {
        Edit::Create(t) | Edit::Delete(t) | Edit::Rename { target: t, .. } => t,
    };
    t.check()?;
    let (kind, connector, ddoc, name) = (
        t.kind,
        t.connector.as_str(),
        t.ddoc.as_str(),
        t.name.as_str(),
    );
    match &e {
        Edit::Create(_) => match kind {
            ItemKind::Connector => ops::create_connector(root, name).map(|_| ())?,
            ItemKind::Ddoc => ops::create_design_doc(root, connector, name).map(|_| ())?,
            ItemKind::View => {
                ops::create_view(root, connector, ddoc, name, STARTER_MAP, None).map(|_| ())?
            }
            ItemKind::Listener | ItemKind::Transaction => {
                let folder = if kind == ItemKind::Listener {
                    "listeners"
                } else {
                    "transactions"
                };
                let file = root
                    .join("connectors")
                    .join(connector)
                    .join(folder)
                    .join(format!("{name}.toml"));
                if file.exists() {
                    return Err(ops::OpError::Exists(format!("{folder}/{name}")).into());
                }
                if kind == ItemKind::Listener {
                    // Disabled, on the connector's first view (or the `_doc_ids` filter), until
                    // its sheet says what selects the documents and what to call.
                    let first_view = fullsync_project::load(root).0.and_then(|p| {
                        p.connectors
                            .iter()
                            .find(|c| c.name == connector)
                            .and_then(|c| {
                                c.design_docs.iter().find_map(|d| {
                                    d.views.first().map(|v| format!("{}/{}", d.name, v.name))
                                })
                            })
                    });
                    let filter = first_view.is_none().then(|| "_doc_ids".to_string());
                    let l = fullsync_project::Listener {
                        name: name.to_string(),
                        file: file.clone(),
                        kind: fullsync_project::ListenerKind::Update,
                        view: first_view,
                        filter,
                        chunk: 10,
                        enabled: false,
                        target: fullsync_project::ListenerTarget {
                            log: true,
                            ..Default::default()
                        },
                    };
                    ops::save_listener(root, connector, name, &l).map(|_| ())?
                } else {
                    let t = fullsync_project::Transaction {
                        name: name.to_string(),
                        file: file.clone(),
                        kind: "GetDatabaseInfo".into(),
                        properties: Default::default(),
                        variables: vec![],
                    };
                    ops::save_transaction(root, connector, name, &t).map(|_| ())?
                }
            }
        },
        Edit::Rename { new_name, .. } => match kind {
            ItemKind::Connector => ops::rename_connector(root, name, new_name).map(|_| ())?,
            ItemKind::Ddoc => {
                ops::rename_design_doc(root, connector, name, new_name).map(|_| ())?
            }
            ItemKind::View => {
                ops::rename_view(root, connector, ddoc, name, new_name).map(|_| ())?
            }
            ItemKind::Listener => ops::rename_item(root, connector, "listeners", name, new_name)?,
            ItemKind::Transaction => {
                ops::rename_item(root, connector, "transactions", name, new_name)?
            }
        },
        Edit::Delete(_) => match kind {
            ItemKind::Connector => ops::delete_connector(root, name)?,
            ItemKind::Ddoc => ops::delete_design_doc(root, connector, name)?,
            ItemKind::View => ops::delete_view(root, connector, ddoc, name)?,
            ItemKind::Listener => ops::delete_item(root, connector, "listeners", name)?,
            ItemKind::Transaction => ops::delete_item(root, connector, "transactions", name)?,
        },
    }
    Ok(())
}

/// The sequence steps calling the transaction or connector `t` (see `Request::UsedBy`).
pub fn used_by(root: &Path, t: &Target) -> Result<UsedBy, ApiError> {
    t.check()?;
    let refs = match t.kind {
        ItemKind::Connector => fullsync_project::c8o_refs::used_by(root, &t.name, None),
        ItemKind::Transaction => {
            fullsync_project::c8o_refs::used_by(root, &t.connector, Some(&t.name))
        }
        _ => Ok(vec![]),
    }
    .map_err(|e| {
        ApiError::new(
            ErrorCode::Internal,
            format!("the project's Convertigo copy (.convertigo/project) cannot be read: {e}; restore it from the original Convertigo project"),
        )
    })?;
    Ok(UsedBy { used_by: refs })
}

/// Runs a Git screen command on the project at `root`.
pub fn git_op(root: &Path, op: GitOp) -> Result<GitAnswer, ApiError> {
    match op {
        GitOp::Init => {
            git::init(root)?;
            git_op(root, GitOp::Status)
        }
        GitOp::Status => {
            let files = match git::status(root) {
                Ok(f) => f,
                Err(git::GitError::NotARepo(_)) => {
                    return Ok(GitAnswer::Status(GitStatus {
                        repo: false,
                        files: vec![],
                        log: vec![],
                        branch: None,
                    }))
                }
                Err(e) => return Err(e.into()),
            };
            let log = git::log(root, 30).unwrap_or_default();
            let branch = git::branches(root)
                .ok()
                .and_then(|b| b.into_iter().find(|b| b.current).map(|b| b.name));
            Ok(GitAnswer::Status(GitStatus {
                repo: true,
                files,
                log,
                branch,
            }))
        }
        GitOp::Diff { path } => Ok(GitAnswer::Diff(GitDiff {
            diff: git::diff_file(root, &path)?,
            path,
        })),
        GitOp::Commit {
            message,
            paths,
            author,
            email,
        } => {
            if message.trim().is_empty() {
                return Err(ApiError::new(
                    ErrorCode::BadRequest,
                    "write a commit message first",
                ));
            }
            let paths: Vec<String> = if paths.is_empty() {
                git::status(root)?.into_iter().map(|f| f.path).collect()
            } else {
                paths
            };
            if paths.is_empty() {
                return Err(ApiError::new(
                    ErrorCode::BadRequest,
                    "nothing to commit: no file changed since the last commit",
                ));
            }
            let (cfg_name, cfg_email) = git::identity(root);
            let author = author.filter(|a| !a.trim().is_empty()).or(cfg_name);
            let email = email.filter(|a| !a.trim().is_empty()).or(cfg_email);
            let (Some(author), Some(email)) = (author, email) else {
                return Err(ApiError::new(
                    ErrorCode::BadRequest,
                    "who is committing? fill in the author name and e-mail (or set git's user.name and user.email)",
                ));
            };
            let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
            git::stage(root, &refs)?;
            let id = git::commit(root, &message, &author, &email)?;
            Ok(GitAnswer::Commit(GitCommit {
                id,
                files: paths.len(),
            }))
        }
        GitOp::Discard { path } => {
            git::discard(root, &path)?;
            git_op(root, GitOp::Status)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use fullsync_engine::Engine;
    use serde_json::json;

    use crate::{ErrorCode, Studio};

    fn studio_on(root: &std::path::Path) -> (Studio, Arc<Engine>) {
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
        s.handle_json(json!({"cmd": "project_open", "args": {"path": root.display().to_string()}}))
            .unwrap();
        (s, engine)
    }

    fn names(tree: &serde_json::Value, kind: &str) -> Vec<String> {
        let mut out = vec![];
        fn walk(n: &serde_json::Value, kind: &str, out: &mut Vec<String>) {
            if n["kind"] == kind {
                out.push(n["name"].as_str().unwrap().to_string());
            }
            for c in n["children"].as_array().into_iter().flatten() {
                walk(c, kind, out);
            }
        }
        for n in tree["tree"].as_array().unwrap() {
            walk(n, kind, &mut out);
        }
        out
    }

    #[test]
    fn explorer_create_rename_delete_sync_into_the_engine() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("p");
        let (s, engine) = studio_on(&root);
        let t = s
            .handle_json(json!({"cmd": "project_edit", "args": {"op": "create", "kind": "view", "connector": "db", "ddoc": "app", "name": "by_id"}}))
            .unwrap();
        assert_eq!(names(&t, "view"), ["by_id", "v"]);
        // Synced: the design document in the engine has the new view.
        let ddoc = engine
            .db("db")
            .unwrap()
            .get("_design/app", None, &Default::default())
            .unwrap();
        assert!(ddoc["views"]["by_id"]["map"]
            .as_str()
            .unwrap()
            .contains("emit(doc._id"));
        let t = s
            .handle_json(json!({"cmd": "project_edit", "args": {"op": "rename", "kind": "view", "connector": "db", "ddoc": "app", "name": "by_id", "new_name": "all"}}))
            .unwrap();
        assert_eq!(names(&t, "view"), ["all", "v"]);
        // Renaming onto an existing name is refused and changes nothing.
        let e = s
            .handle_json(json!({"cmd": "project_edit", "args": {"op": "rename", "kind": "view", "connector": "db", "ddoc": "app", "name": "all", "new_name": "v"}}))
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Conflict);
        assert!(e.message.contains("already exists"), "{}", e.message);
        let e = s
            .handle_json(json!({"cmd": "project_edit", "args": {"op": "create", "kind": "ddoc", "connector": "db", "name": "../x"}}))
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::BadRequest);
        let t = s
            .handle_json(json!({"cmd": "project_edit", "args": {"op": "delete", "kind": "view", "connector": "db", "ddoc": "app", "name": "all"}}))
            .unwrap();
        assert_eq!(names(&t, "view"), ["v"]);
        assert!(!root.join("connectors/db/design/app/views/all").exists());
        let t = s
            .handle_json(json!({"cmd": "project_edit", "args": {"op": "create", "kind": "connector", "name": "second"}}))
            .unwrap();
        assert_eq!(names(&t, "connector"), ["db", "second"]);
        let t = s
            .handle_json(json!({"cmd": "project_edit", "args": {"op": "create", "kind": "listener", "connector": "db", "name": "on_new"}}))
            .unwrap();
        assert_eq!(names(&t, "listener"), ["on_new"]);
        // No error; the view it starts on does not emit doc._id, which is said.
        let d = t["diagnostics"].as_array().unwrap();
        assert_eq!(d.len(), 1, "{t}");
        assert_eq!(d[0]["severity"], "warning");
        assert!(d[0]["message"]
            .as_str()
            .unwrap()
            .contains("does not emit(doc._id"));
        let e = s
            .handle_json(json!({"cmd": "project_edit", "args": {"op": "create", "kind": "listener", "connector": "db", "name": "on_new"}}))
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Conflict);
        let t = s
            .handle_json(json!({"cmd": "project_edit", "args": {"op": "create", "kind": "transaction", "connector": "db", "name": "Info"}}))
            .unwrap();
        assert_eq!(names(&t, "transaction"), ["Info"]);
    }

    #[test]
    fn a_save_never_overwrites_an_external_change() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("p");
        let (s, _) = studio_on(&root);
        let path = "connectors/db/design/app/views/v/map.js";
        let loaded = std::fs::read_to_string(root.join(path)).unwrap();
        // Another program edits the file while it is open.
        std::fs::write(root.join(path), "function (doc) { emit(doc.other); }\n").unwrap();
        let e = s
            .handle_json(json!({"cmd": "file_write", "args": {"path": path, "text": "function (doc) { emit(doc.mine); }\n", "base": loaded}}))
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Conflict);
        assert!(e.message.contains("changed on disk"), "{}", e.message);
        assert!(std::fs::read_to_string(root.join(path))
            .unwrap()
            .contains("doc.other"));
        // Keeping mine: the base is now the disk's text, and the save goes through.
        s.handle_json(json!({"cmd": "file_write", "args": {"path": path, "text": "function (doc) { emit(doc.mine); }\n", "base": "function (doc) { emit(doc.other); }\n"}}))
            .unwrap();
        assert!(std::fs::read_to_string(root.join(path))
            .unwrap()
            .contains("doc.mine"));
    }

    #[test]
    fn git_init_status_diff_commit() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("p");
        let (s, _) = studio_on(&root);
        let st = s
            .handle_json(json!({"cmd": "git", "args": {"op": "status"}}))
            .unwrap();
        assert_eq!(st["repo"], false);
        let st = s
            .handle_json(json!({"cmd": "git", "args": {"op": "init"}}))
            .unwrap();
        assert_eq!(st["repo"], true);
        assert!(st["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "fullsync.toml" && f["status"] == "new"));
        let e = s
            .handle_json(json!({"cmd": "git", "args": {"op": "commit", "message": "  "}}))
            .unwrap_err();
        assert!(e.message.contains("commit message"), "{}", e.message);
        let c = s
            .handle_json(json!({"cmd": "git", "args": {"op": "commit", "message": "first", "author": "Ada", "email": "ada@example.com"}}))
            .unwrap();
        assert_eq!(c["id"].as_str().unwrap().len(), 40);
        let st = s
            .handle_json(json!({"cmd": "git", "args": {"op": "status"}}))
            .unwrap();
        assert_eq!(st["files"].as_array().unwrap().len(), 0);
        assert_eq!(st["log"][0]["summary"], "first");
        // An edit shows up as modified with its diff.
        s.handle_json(json!({"cmd": "file_write", "args": {"path": "connectors/db/design/app/views/v/map.js", "text": "function (doc) { emit(doc.m); }\n"}}))
            .unwrap();
        let st = s
            .handle_json(json!({"cmd": "git", "args": {"op": "status"}}))
            .unwrap();
        assert_eq!(st["files"][0]["status"], "modified");
        let d = s
            .handle_json(json!({"cmd": "git", "args": {"op": "diff", "path": "connectors/db/design/app/views/v/map.js"}}))
            .unwrap();
        let diff = d["diff"].as_str().unwrap();
        assert!(diff.contains("-function (doc) { emit(doc.n); }"), "{diff}");
        assert!(diff.contains("+function (doc) { emit(doc.m); }"), "{diff}");
        let st = s
            .handle_json(json!({"cmd": "git", "args": {"op": "discard", "path": "connectors/db/design/app/views/v/map.js"}}))
            .unwrap();
        assert_eq!(st["files"].as_array().unwrap().len(), 0);
        assert!(
            std::fs::read_to_string(root.join("connectors/db/design/app/views/v/map.js"))
                .unwrap()
                .contains("doc.n")
        );
    }
}
