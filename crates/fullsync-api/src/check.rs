//! `project_check`: every diagnostic `fullsync project check` reports for the open project (what
//! loading it finds, and the QuickJS compile check of every function), with file paths relative
//! to the project: the studio's Problems panel.

use fullsync_project::Diagnostic;
use serde::Serialize;

use crate::{rel, ApiError, Studio};

/// `project_check`'s answer: the Problems panel.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct ProjectCheck {
    /// The project loaded (false: an error stopped loading; the diagnostics say which).
    pub loaded: bool,
    /// How many diagnostics are errors.
    #[ts(type = "number")]
    pub errors: usize,
    /// How many are warnings.
    #[ts(type = "number")]
    pub warnings: usize,
    /// Every diagnostic, in the order found (files relative to the project).
    pub diagnostics: Vec<Diagnostic>,
}

impl Studio {
    /// `project_check`: the diagnostics of loading the open project and compiling its functions.
    pub(crate) fn project_check(&self) -> Result<ProjectCheck, ApiError> {
        let root = self.root()?;
        let (p, mut diags) = fullsync_project::load(&root);
        if let Some(p) = &p {
            diags.extend(fullsync_project::load::compile_check(p, self.views.pool()));
        }
        let diagnostics: Vec<Diagnostic> = diags
            .iter()
            .map(|d| Diagnostic {
                severity: d.severity,
                file: rel(&root, &d.file).into(),
                line: d.line,
                message: d.message.clone(),
                hint: d.hint.clone(),
            })
            .collect();
        let errors = diags
            .iter()
            .filter(|d| d.severity == fullsync_project::Severity::Error)
            .count();
        Ok(ProjectCheck {
            loaded: p.is_some(),
            errors,
            warnings: diags.len() - errors,
            diagnostics,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use fullsync_engine::Engine;
    use serde_json::json;

    use crate::Studio;

    #[test]
    fn compile_errors_with_their_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("p");
        let view = root.join("connectors/db/design/app/views/v");
        std::fs::create_dir_all(&view).unwrap();
        std::fs::write(
            root.join("fullsync.toml"),
            "[project]\nname = \"p\"\nversion = \"1.0.0\"\n",
        )
        .unwrap();
        std::fs::write(root.join("connectors/db/connector.toml"), "").unwrap();
        std::fs::write(
            view.join("map.js"),
            "function (doc) {\n  var a = 1;\n  emit(doc._id;\n}\n",
        )
        .unwrap();
        let engine = Arc::new(Engine::in_memory());
        let views = Arc::new(fullsync_views::Views::new(engine.clone()));
        let s = Studio::new(engine, views);
        // A project whose function does not compile still opens; the check names the file and
        // the line.
        s.handle_json(json!({"cmd": "project_open", "args": {"path": root}}))
            .unwrap();
        let c = s.handle_json(json!({"cmd": "project_check"})).unwrap();
        let d = c["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["file"] == "connectors/db/design/app/views/v/map.js")
            .unwrap_or_else(|| panic!("{c}"))
            .clone();
        assert_eq!(d["line"], 3, "{d}");
        assert_eq!(d["severity"], "error");
        assert!(c["errors"].as_u64().unwrap() >= 1);
    }
}
