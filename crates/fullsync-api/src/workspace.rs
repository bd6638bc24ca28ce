//! Opening projects: the recent-projects list (kept in the studio's config folder, never in a
//! project), a folder browser for the web mode's Open dialog (the desktop app uses the native
//! dialog), and importing a Convertigo project into a new folder.

use std::path::{Path, PathBuf};

use crate::{ApiError, ErrorCode};
use serde::{Deserialize, Serialize};

/// One recently opened project.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct RecentProject {
    /// Its folder.
    pub path: String,
    /// Whether it still holds a FullSync project.
    pub exists: bool,
    /// `name version`, when it loads.
    pub name: Option<String>,
}

/// The answer of `projects_recent`.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct RecentProjects {
    /// Newest first.
    pub projects: Vec<RecentProject>,
}

/// A sub-folder in a [`DirListing`].
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct DirEntry {
    /// Folder name.
    pub name: String,
    /// Full path.
    pub path: String,
    /// Whether it is a FullSync project (has `fullsync.toml`).
    pub project: bool,
    /// Whether it is a Convertigo project (has `c8oProject.yaml`).
    pub c8o: bool,
}

/// The answer of `dir_list`.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct DirListing {
    /// The folder listed.
    pub path: String,
    /// Its parent, if any.
    pub parent: Option<String>,
    /// Whether it is a FullSync project.
    pub project: bool,
    /// Whether it is a Convertigo project.
    pub c8o: bool,
    /// Its sub-folders (hidden ones left out), by name.
    pub entries: Vec<DirEntry>,
}

/// How many recent projects are remembered.
pub const RECENT_MAX: usize = 10;

fn recent_file() -> PathBuf {
    fullsync_deploy::profiles::config_dir().join("recent-projects.json")
}

#[derive(Default, Serialize, Deserialize)]
struct RecentFile {
    projects: Vec<String>,
}

fn read_recent() -> RecentFile {
    std::fs::read(recent_file())
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Puts `root` first in the recent-projects list (best effort: a read-only config folder only
/// means no list).
pub fn remember(root: &Path) {
    let path = root.display().to_string();
    let mut r = read_recent();
    r.projects.retain(|p| p != &path);
    r.projects.insert(0, path);
    r.projects.truncate(RECENT_MAX);
    let f = recent_file();
    if let Some(dir) = f.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Ok(text) = serde_json::to_vec_pretty(&r) {
        let _ = fullsync_project::write_atomic(&f, &text);
    }
}

/// The recent projects, newest first, with their names and whether they still exist.
pub fn recent() -> RecentProjects {
    let projects = read_recent()
        .projects
        .into_iter()
        .map(|p| {
            let root = PathBuf::from(&p);
            let ok = root.join(fullsync_project::load::MANIFEST).exists();
            let name = if ok {
                fullsync_project::load(&root)
                    .0
                    .map(|p| format!("{} {}", p.name, p.version))
            } else {
                None
            };
            RecentProject {
                path: p,
                exists: ok,
                name,
            }
        })
        .collect();
    RecentProjects { projects }
}

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/"))
}

/// The sub-folders of `path` (the home folder by default), each marked when it is a FullSync
/// project or a Convertigo project.
pub fn dir_list(path: Option<&str>) -> Result<DirListing, ApiError> {
    let dir = match path {
        Some(p) if !p.trim().is_empty() => PathBuf::from(p.trim()),
        _ => home(),
    };
    let rd = std::fs::read_dir(&dir).map_err(|e| {
        ApiError::new(
            ErrorCode::NotFound,
            format!(
                "cannot list {}: {e}; type an existing folder",
                dir.display()
            ),
        )
    })?;
    let mut entries: Vec<DirEntry> = rd
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| {
            let p = e.path();
            DirEntry {
                name: e.file_name().to_string_lossy().to_string(),
                path: p.display().to_string(),
                project: p.join(fullsync_project::load::MANIFEST).exists(),
                c8o: p.join("c8oProject.yaml").exists(),
            }
        })
        .collect();
    entries.sort_by_key(|e| e.name.to_lowercase());
    Ok(DirListing {
        path: dir.display().to_string(),
        parent: dir.parent().map(|p| p.display().to_string()),
        project: dir.join(fullsync_project::load::MANIFEST).exists(),
        c8o: dir.join("c8oProject.yaml").exists(),
        entries,
    })
}

/// Imports the Convertigo project in `source` into the new folder `dest`; answers the report.
pub fn import_c8o(
    source: &str,
    dest: &str,
) -> Result<fullsync_project::convertigo::ImportReport, ApiError> {
    let (src, out) = (PathBuf::from(source), PathBuf::from(dest));
    if !src.join("c8oProject.yaml").exists() {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            format!("{source} has no c8oProject.yaml: choose a Convertigo project folder"),
        ));
    }
    if out.exists()
        && std::fs::read_dir(&out)
            .map(|mut d| d.next().is_some())
            .unwrap_or(false)
    {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!("{dest} is not empty: import into a new folder"),
        ));
    }
    fullsync_project::convertigo::import_c8o(&src, &out).map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidProject,
            format!("cannot import {source}: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_listed_with_projects_marked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("b-proj")).unwrap();
        std::fs::write(dir.path().join("b-proj/fullsync.toml"), "[project]\n").unwrap();
        std::fs::create_dir_all(dir.path().join("A-c8o")).unwrap();
        std::fs::write(dir.path().join("A-c8o/c8oProject.yaml"), "").unwrap();
        std::fs::create_dir_all(dir.path().join(".hidden")).unwrap();
        std::fs::write(dir.path().join("file.txt"), "").unwrap();
        // As on the wire.
        let l = serde_json::to_value(dir_list(Some(&dir.path().display().to_string())).unwrap())
            .unwrap();
        let names: Vec<&str> = l["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["A-c8o", "b-proj"]);
        assert_eq!(l["entries"][0]["c8o"], true);
        assert_eq!(l["entries"][1]["project"], true);
        let e = dir_list(Some("/no/such/folder")).unwrap_err();
        assert_eq!(e.code, ErrorCode::NotFound);
        let e = import_c8o(&dir.path().display().to_string(), "/tmp/x").unwrap_err();
        assert!(e.message.contains("c8oProject.yaml"), "{}", e.message);
    }
}
