//! The studio's editor: project files (read, write refused over an unseen change on disk), the
//! live preview of an unsaved map/reduce, saved view queries, and property-sheet saves.

use serde_json::{json, Value};

use crate::error::refuse_escapes;
use crate::{sheets, ApiError, ErrorCode, Studio};

impl Studio {
    /// `file_read`: the text of a project file.
    pub(crate) fn file_read(&self, path: &str) -> Result<Value, ApiError> {
        let f = self.file(path)?;
        let text = std::fs::read_to_string(&f)
            .map_err(|e| ApiError::new(ErrorCode::NotFound, format!("cannot read {path}: {e}")))?;
        Ok(json!({ "path": path, "text": text }))
    }

    /// `file_write`: writes a project file atomically (a conflict when the disk no longer
    /// holds `base`), reloads and syncs the project, and answers its tree.
    pub(crate) fn file_write(
        &self,
        path: &str,
        text: &str,
        base: Option<&str>,
    ) -> Result<Value, ApiError> {
        let f = self.file(path)?;
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
        fullsync_project::write_atomic(&f, text.as_bytes())
            .map_err(|e| ApiError::new(ErrorCode::Internal, format!("cannot write {path}: {e}")))?;
        Ok(self.reload(&self.root()?)?.0)
    }

    /// `preview`: runs an unsaved map (and reduce) over `db`, with the `views.lib` of the
    /// design document `ddoc` of the open project available to `require`.
    pub(crate) fn preview(
        &self,
        db: &str,
        map: &str,
        reduce: Option<&str>,
        query: Value,
        ddoc: Option<&str>,
    ) -> Result<Value, ApiError> {
        let q = if query.is_null() { json!({}) } else { query };
        let q = fullsync_views::ViewQuery::from_json(&q)?;
        let lib = match (ddoc, self.root().ok()) {
            (Some(d), Some(root)) => fullsync_project::load(&root).0.and_then(|p| {
                let c = p.connector(db)?;
                let dd = c.design_docs.iter().find(|x| x.name == d)?;
                dd.to_json()
                    .get("views")
                    .and_then(|v| v.get("lib"))
                    .cloned()
            }),
            _ => None,
        };
        let p = self
            .views
            .preview_with_lib(db, map, reduce, &q, lib.as_ref())?;
        Ok(serde_json::to_value(p).unwrap_or(Value::Null))
    }

    /// `view_query`: queries a saved view, with the time it took.
    pub(crate) fn view_query(
        &self,
        db: &str,
        ddoc: &str,
        view: &str,
        query: Value,
    ) -> Result<Value, ApiError> {
        let q = if query.is_null() { json!({}) } else { query };
        let t = std::time::Instant::now();
        let r = self
            .views
            .query(db, ddoc, view, &fullsync_views::ViewQuery::from_json(&q)?)?;
        Ok(json!({"result": r, "ms": t.elapsed().as_secs_f64() * 1000.0}))
    }

    /// `sheet_save`: writes a property sheet's item, reloads and syncs the project.
    pub(crate) fn sheet_save(
        &self,
        connector: &str,
        kind: sheets::SheetKind,
        name: &str,
        item: Value,
    ) -> Result<Value, ApiError> {
        let root = self.root()?;
        refuse_escapes(&root)?;
        let file = sheets::save(&root, connector, kind, name, item)?;
        let (mut project, diags) = self.reload(&root)?;
        let sync = project["sync"].take();
        Ok(json!({
            "file": file,
            "diagnostics": sheets::diagnostics_of(&diags, &file),
            "sync": sync,
            "project": project,
        }))
    }
}
