//! The studio backend ([`Studio`]): the open project, its listeners and jobs, and the project
//! commands (open, tree, import, info, listener activity).

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use fullsync_engine::Engine;
use serde::Serialize;

use crate::error::{invalid_project, refuse_escapes};
use crate::{deploy, live, parts, project_ops, replication, workspace, ApiError, ErrorCode};

/// The studio backend.
pub struct Studio {
    pub(crate) engine: Arc<Engine>,
    pub(crate) views: Arc<fullsync_views::Views>,
    /// The open project, its listeners and watcher, and the sync path they share.
    pub(crate) live: live::Live,
    pub(crate) replications: replication::Replications,
    pub(crate) deploys: deploy::Deploys,
    /// The Run panel's history of transaction runs.
    pub(crate) tx_runs: crate::tx_runs::TxRuns,
    /// Session passwords and write confirmations of servers.
    pub(crate) remote: crate::remote::Session,
    /// The commit the running binary was built from (`studio_info`, the About dialog).
    commit: String,
}

/// The answer of `studio_info` (the About dialog, Settings, the Open dialog's start folder).
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct StudioInfo {
    /// The engine's data folder (`None`: in memory).
    pub data_dir: Option<String>,
    /// The open project's folder.
    pub project: Option<String>,
    /// The configuration folder (server profiles, recent projects, the local admin).
    pub config_dir: String,
    /// This build's version.
    pub version: String,
    /// The commit this build was made from (`unknown` when not known).
    pub commit: String,
}

/// A node of the project explorer.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct TreeNode {
    /// Label.
    pub name: String,
    /// `project`, `connector`, `ddoc`, `view`, `file`, `folder`, `listener`, `transaction`,
    /// `filter`, `validate`, `lib`, `index` (project-level files: `manifest`, `handler`,
    /// `test`, `data`).
    pub kind: &'static str,
    /// Project-relative file path, for nodes that open a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub path: Option<String>,
    /// Children.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[ts(as = "Option<Vec<TreeNode>>", optional)]
    pub children: Vec<TreeNode>,
}

/// The open project as the explorer shows it: the answer of `project_tree`, `project_open`,
/// `project_edit`, `file_write` and `project_import_c8o`.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct ProjectTree {
    /// Project name.
    pub name: String,
    /// Project version.
    pub version: String,
    /// The project folder.
    pub root: String,
    /// One node per connector.
    pub tree: Vec<TreeNode>,
    /// The project-level files: `fullsync.toml`, then the `handlers/`, `tests/` and `data/`
    /// folders with their files.
    #[ts(type = "Array<TreeNode>")]
    pub files: serde_json::Value,
    /// The project's description.
    pub description: String,
    /// Problems found while loading the project.
    pub diagnostics: Vec<fullsync_project::Diagnostic>,
    /// The project's view tests.
    pub tests: Vec<String>,
    /// What syncing the project into the engine changed (commands that reload the project).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub sync: Option<fullsync_project::sync::SyncReport>,
    /// What the import did (`project_import_c8o`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub import: Option<fullsync_project::convertigo::ImportReport>,
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
            tx_runs: Default::default(),
            remote: crate::remote::Session::default(),
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

    pub(crate) fn root(&self) -> Result<PathBuf, ApiError> {
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
    pub(crate) fn file(&self, path: &str) -> Result<PathBuf, ApiError> {
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

    pub(crate) fn tree(&self, root: &Path) -> Result<ProjectTree, ApiError> {
        let (p, diags) = fullsync_project::load(root);
        let p = p.ok_or_else(|| invalid_project(&diags))?;
        Ok(tree_of(root, &p, &diags))
    }

    /// Loads the project at `root` once and applies it through the one sync path
    /// ([`live::Live::apply`]: engine, listeners restarted where they stopped, sync status),
    /// answering its tree (with the sync report) and its diagnostics.
    pub(crate) fn reload(
        &self,
        root: &Path,
    ) -> Result<(ProjectTree, Vec<fullsync_project::Diagnostic>), ApiError> {
        self.live.reload(root, true, "studio", vec![])
    }

    /// `project_open`: opens the folder `path` (and syncs it into the engine); `remember` puts
    /// it in the recent-projects list.
    pub(crate) fn project_open(&self, path: &str, remember: bool) -> Result<ProjectTree, ApiError> {
        let root = PathBuf::from(path);
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

    /// `project_import_c8o`: imports a Convertigo project into `dest` and opens it; the answer
    /// is the project's tree with the import report under `import`.
    pub(crate) fn import_c8o(&self, source: &str, dest: String) -> Result<ProjectTree, ApiError> {
        let report = workspace::import_c8o(source, &dest)?;
        let mut t = self.project_open(&dest, true)?;
        t.import = Some(report);
        Ok(t)
    }

    /// `project_edit`: an explorer edit (create, rename, delete...), then the reloaded tree.
    pub(crate) fn project_edit(&self, e: project_ops::Edit) -> Result<ProjectTree, ApiError> {
        let root = self.root()?;
        refuse_escapes(&root)?;
        project_ops::edit(&root, e)?;
        Ok(self.reload(&root)?.0)
    }

    /// `part_edit`: creates or changes a part (a handler, a test, sample data...), then the
    /// reloaded tree.
    pub(crate) fn part_edit(&self, e: parts::PartEdit) -> Result<parts::PartEdited, ApiError> {
        let root = self.root()?;
        refuse_escapes(&root)?;
        let path = parts::edit(&root, &self.engine, &self.views, e)?;
        Ok(parts::PartEdited {
            path,
            project: self.reload(&root)?.0,
        })
    }

    /// `studio_info`: the data and configuration folders, the open project, the version and
    /// the commit of this build.
    pub fn info(&self) -> StudioInfo {
        StudioInfo {
            data_dir: self.engine.dir().map(|d| d.display().to_string()),
            project: self.root().ok().map(|r| r.display().to_string()),
            config_dir: fullsync_deploy::profiles::config_dir()
                .display()
                .to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            commit: self.commit.clone(),
        }
    }

    /// `listener_activity`: log entries after `after`, and the state of the listener runner.
    pub(crate) fn listener_activity(&self, after: u64) -> crate::listeners::Activity {
        let slot = self
            .live
            .listeners
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let log = self.live.activity.lock().unwrap_or_else(|e| e.into_inner());
        crate::listeners::Activity {
            entries: log.after(after),
            last: log.last(),
            running: slot.as_ref().is_some_and(|l| l.running()),
            runner_threads: self
                .live
                .listener_threads
                .load(std::sync::atomic::Ordering::SeqCst),
            listeners: slot
                .as_ref()
                .map(|l| l.listeners().to_vec())
                .unwrap_or_default(),
        }
    }
}

/// A design document's node: its views (map, reduce), filters, `validate_doc_update`, lib modules.
fn ddoc_node(root: &Path, d: &fullsync_project::DesignDoc) -> TreeNode {
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
    TreeNode {
        name: d.name.clone(),
        kind: "ddoc",
        path: None,
        children: dk,
    }
}

/// The explorer's view of a loaded project.
pub(crate) fn tree_of(
    root: &Path,
    p: &fullsync_project::Project,
    diags: &[fullsync_project::Diagnostic],
) -> ProjectTree {
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
                kids.push(ddoc_node(root, d));
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
        ProjectTree {
            name: p.name.clone(),
            version: p.version.clone(),
            root: root.display().to_string(),
            tree: connectors,
            files: parts::project_files(root),
            description: p.description.clone(),
            diagnostics: diags.to_vec(),
            tests: p.tests.iter().map(|t| t.name.clone()).collect(),
            sync: None,
            import: None,
        }
    }
}
