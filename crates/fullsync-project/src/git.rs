//! git for projects (through libgit2): init, status, per-file diff, stage and commit, log,
//! discard a file's changes, branches and checkout. Local operations only: pushing and pulling
//! stay with the user's own git tools and credentials.

use std::path::{Path, PathBuf};

use git2::{
    BranchType, DiffFormat, DiffOptions, IndexAddOption, Repository, Signature, Status,
    StatusOptions,
};
use serde::Serialize;

/// A git error, with what to do.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// No repository at the project root.
    #[error("{0} is not a git repository; initialize one (fullsync studio: Git > Init)")]
    NotARepo(PathBuf),
    /// libgit2 refused.
    #[error("git: {0}")]
    Git(#[from] git2::Error),
    /// A file could not be written.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// What `.gitignore` keeps out of a new project repository: local databases, build output,
/// editor backups, and anything that may hold secrets. The project's seed files
/// (`data/<db>.jsonl`, loaded by `fullsync project sync --data` and the studio's "Load sample
/// data") are part of the project and stay in git.
pub const GITIGNORE: &str = "# FullSync Studio: local databases and secrets never go into git (data/*.jsonl seed files do)\n*.redb\n/data/*\n!/data/*.jsonl\n.fullsync/\n.env\n*.secret\n*.car\ntarget/\nnode_modules/\n*~\n*.tmp\n";

/// One changed file.
#[derive(Debug, Serialize, PartialEq, ts_rs::TS)]
pub struct FileStatus {
    /// Path relative to the project root.
    pub path: String,
    /// `new`, `modified`, `deleted`, `renamed` or `conflicted`.
    pub status: &'static str,
    /// Whether the change is staged.
    pub staged: bool,
}

/// One commit.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct CommitInfo {
    /// Full id.
    pub id: String,
    /// First line of the message.
    pub summary: String,
    /// Author name.
    pub author: String,
    /// Seconds since the epoch.
    #[ts(type = "number")]
    pub time: i64,
}

/// A branch.
#[derive(Debug, Serialize)]
pub struct BranchInfo {
    /// Name.
    pub name: String,
    /// Whether it is checked out.
    pub current: bool,
}

fn open(root: &Path) -> Result<Repository, GitError> {
    Repository::open(root).map_err(|_| GitError::NotARepo(root.to_path_buf()))
}

/// Initializes a repository (idempotent) with FullSync's `.gitignore`.
pub fn init(root: &Path) -> Result<(), GitError> {
    if Repository::open(root).is_err() {
        Repository::init(root)?;
    }
    let gi = root.join(".gitignore");
    if !gi.exists() {
        crate::write_atomic(&gi, GITIGNORE.as_bytes())?;
    }
    Ok(())
}

/// Changed files, staged and not.
pub fn status(root: &Path) -> Result<Vec<FileStatus>, GitError> {
    let repo = open(root)?;
    let mut opts = StatusOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .renames_head_to_index(true);
    let mut out = vec![];
    for e in repo.statuses(Some(&mut opts))?.iter() {
        let s = e.status();
        let path = e.path().unwrap_or_default().to_string();
        let kind = |new, modified, deleted, renamed| {
            if s.intersects(new) {
                "new"
            } else if s.intersects(deleted) {
                "deleted"
            } else if s.intersects(renamed) {
                "renamed"
            } else if s.intersects(modified) {
                "modified"
            } else {
                ""
            }
        };
        if s.contains(Status::CONFLICTED) {
            out.push(FileStatus {
                path,
                status: "conflicted",
                staged: false,
            });
            continue;
        }
        let staged = kind(
            Status::INDEX_NEW,
            Status::INDEX_MODIFIED | Status::INDEX_TYPECHANGE,
            Status::INDEX_DELETED,
            Status::INDEX_RENAMED,
        );
        if !staged.is_empty() {
            out.push(FileStatus {
                path: path.clone(),
                status: staged,
                staged: true,
            });
        }
        let work = kind(
            Status::WT_NEW,
            Status::WT_MODIFIED | Status::WT_TYPECHANGE,
            Status::WT_DELETED,
            Status::WT_RENAMED,
        );
        if !work.is_empty() {
            out.push(FileStatus {
                path,
                status: work,
                staged: false,
            });
        }
    }
    Ok(out)
}

/// Unified diff of one file: working tree against HEAD (new files show entirely).
pub fn diff_file(root: &Path, path: &str) -> Result<String, GitError> {
    let repo = open(root)?;
    let head = repo.head().ok().and_then(|h| h.peel_to_tree().ok());
    let mut opts = DiffOptions::new();
    opts.pathspec(path)
        .include_untracked(true)
        .show_untracked_content(true)
        .recurse_untracked_dirs(true);
    let diff = repo.diff_tree_to_workdir_with_index(head.as_ref(), Some(&mut opts))?;
    let mut out = String::new();
    diff.print(DiffFormat::Patch, |_, _, line| {
        let prefix = match line.origin() {
            '+' | '-' | ' ' => line.origin().to_string(),
            _ => String::new(),
        };
        out.push_str(&prefix);
        out.push_str(&String::from_utf8_lossy(line.content()));
        true
    })?;
    Ok(out)
}

/// Stages files (all changes when `paths` is empty).
pub fn stage(root: &Path, paths: &[&str]) -> Result<(), GitError> {
    let repo = open(root)?;
    let mut index = repo.index()?;
    if paths.is_empty() {
        index.add_all(["*"], IndexAddOption::DEFAULT, None)?;
        index.update_all(["*"], None)?;
    } else {
        for p in paths {
            if root.join(p).exists() {
                index.add_path(Path::new(p))?;
            } else {
                index.remove_path(Path::new(p))?;
            }
        }
    }
    index.write()?;
    Ok(())
}

/// Commits the staged changes; returns the new commit id.
pub fn commit(root: &Path, message: &str, author: &str, email: &str) -> Result<String, GitError> {
    let repo = open(root)?;
    let mut index = repo.index()?;
    let tree = repo.find_tree(index.write_tree()?)?;
    let sig = Signature::now(author, email)?;
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    let id = repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)?;
    Ok(id.to_string())
}

/// The committer identity git would use here (`user.name`, `user.email` from the repository,
/// global or system configuration), when set.
pub fn identity(root: &Path) -> (Option<String>, Option<String>) {
    let Ok(cfg) = open(root).and_then(|r| r.config().map_err(GitError::from)) else {
        return (None, None);
    };
    (
        cfg.get_string("user.name").ok(),
        cfg.get_string("user.email").ok(),
    )
}

/// The latest commits of HEAD.
pub fn log(root: &Path, limit: usize) -> Result<Vec<CommitInfo>, GitError> {
    let repo = open(root)?;
    let mut walk = repo.revwalk()?;
    if walk.push_head().is_err() {
        return Ok(vec![]);
    }
    let mut out = vec![];
    for oid in walk.take(limit) {
        let c = repo.find_commit(oid?)?;
        out.push(CommitInfo {
            id: c.id().to_string(),
            summary: c.summary().unwrap_or_default().to_string(),
            author: c.author().name().unwrap_or_default().to_string(),
            time: c.time().seconds(),
        });
    }
    Ok(out)
}

/// Discards the working-tree changes of one file (restores HEAD's version; a new file is
/// deleted).
pub fn discard(root: &Path, path: &str) -> Result<(), GitError> {
    let repo = open(root)?;
    let in_head = repo
        .head()
        .ok()
        .and_then(|h| h.peel_to_tree().ok())
        .and_then(|t| t.get_path(Path::new(path)).ok())
        .is_some();
    if !in_head {
        let p = root.join(path);
        if p.exists() {
            std::fs::remove_file(p)?;
        }
        return Ok(());
    }
    let mut cb = git2::build::CheckoutBuilder::new();
    cb.force().path(path);
    repo.checkout_head(Some(&mut cb))?;
    Ok(())
}

/// Local branches.
pub fn branches(root: &Path) -> Result<Vec<BranchInfo>, GitError> {
    let repo = open(root)?;
    let mut out = vec![];
    for b in repo.branches(Some(BranchType::Local))? {
        let (b, _) = b?;
        out.push(BranchInfo {
            name: b.name()?.unwrap_or_default().to_string(),
            current: b.is_head(),
        });
    }
    Ok(out)
}

/// Checks out a local branch (creating it from HEAD when `create`). Refuses when files have
/// uncommitted changes that the checkout would overwrite.
pub fn checkout(root: &Path, branch: &str, create: bool) -> Result<(), GitError> {
    let repo = open(root)?;
    if create {
        let head = repo.head()?.peel_to_commit()?;
        repo.branch(branch, &head, false)?;
    }
    let refname = format!("refs/heads/{branch}");
    let obj = repo.revparse_single(&refname)?;
    repo.checkout_tree(&obj, Some(git2::build::CheckoutBuilder::new().safe()))?;
    repo.set_head(&refname)?;
    Ok(())
}
