//! Opening projects: the recent-projects list (kept in the studio's config folder, never in a
//! project), a folder browser for the web mode's Open dialog (the desktop app uses the native
//! dialog), and importing a Convertigo project into a new folder.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::{ApiError, ErrorCode};

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
pub fn recent() -> Value {
    let items: Vec<Value> = read_recent()
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
            json!({ "path": p, "exists": ok, "name": name })
        })
        .collect();
    json!({ "projects": items })
}

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/"))
}

/// The sub-folders of `path` (the home folder by default), each marked when it is a FullSync
/// project or a Convertigo project.
pub fn dir_list(path: Option<&str>) -> Result<Value, ApiError> {
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
    let mut entries: Vec<Value> = rd
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| {
            let p = e.path();
            json!({
                "name": e.file_name().to_string_lossy(),
                "path": p.display().to_string(),
                "project": p.join(fullsync_project::load::MANIFEST).exists(),
                "c8o": p.join("c8oProject.yaml").exists(),
            })
        })
        .collect();
    entries.sort_by(|a, b| {
        a["name"]
            .as_str()
            .unwrap_or("")
            .to_lowercase()
            .cmp(&b["name"].as_str().unwrap_or("").to_lowercase())
    });
    Ok(json!({
        "path": dir.display().to_string(),
        "parent": dir.parent().map(|p| p.display().to_string()),
        "project": dir.join(fullsync_project::load::MANIFEST).exists(),
        "c8o": dir.join("c8oProject.yaml").exists(),
        "entries": entries,
    }))
}

/// Imports the Convertigo project in `source` into the new folder `dest`; answers the report.
pub fn import_c8o(source: &str, dest: &str) -> Result<Value, ApiError> {
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
    let r = fullsync_project::convertigo::import_c8o(&src, &out).map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidProject,
            format!("cannot import {source}: {e}"),
        )
    })?;
    Ok(serde_json::to_value(r).unwrap_or(Value::Null))
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
        let l = dir_list(Some(&dir.path().display().to_string())).unwrap();
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
