//! The studio's editor: project files (read, write refused over an unseen change on disk), the
//! live preview of an unsaved map/reduce, saved view queries, and property-sheet saves.

use serde::Serialize;
use serde_json::{json, Value};

use crate::error::refuse_escapes;
use crate::{sheets, ApiError, ErrorCode, ProjectTree, Studio};

/// The answer of `file_read`.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct FileText {
    /// The path asked (relative to the project root).
    pub path: String,
    /// The file's text.
    pub text: String,
}

/// A view's answer as CouchDB gives it (`rows`, and `total_rows`/`offset` for a map): the
/// JSON of `fullsync-views`, whose shape is declared here for the UI.
#[derive(Debug, Serialize, ts_rs::TS)]
#[serde(transparent)]
pub struct ViewRows(
    #[ts(
        type = "{ rows: Array<{ id?: string; key: JsonValue; value: JsonValue; doc?: JsonValue }>; total_rows?: number; offset?: number; update_seq?: JsonValue }"
    )]
    pub Value,
);

/// One document the previewed map function threw on (`fullsync_views::MapError`).
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct MapError {
    /// Document id.
    pub id: String,
    /// View name.
    pub view: String,
    /// What the function threw.
    pub error: String,
}

/// The answer of `preview` (`fullsync_views::Preview`).
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct PreviewAnswer {
    /// The rows of the unsaved map/reduce.
    pub result: ViewRows,
    /// Documents the map function threw on.
    pub errors: Vec<MapError>,
    /// Documents mapped (at most `fullsync_views::MAX_PREVIEW_DOCS`, the first by id).
    #[ts(type = "number")]
    pub docs: u64,
    /// Documents in the database (design documents included).
    #[ts(type = "number")]
    pub total: u64,
    /// The database holds more documents than the preview maps (the rows are those of the
    /// first `docs` by id; the runner queries the saved view over all of them).
    pub limited: bool,
    /// Milliseconds taken.
    pub ms: f64,
}

/// The answer of `view_query`.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct ViewQueryAnswer {
    /// The view's rows.
    pub result: ViewRows,
    /// Milliseconds the query took.
    pub ms: f64,
}

/// The answer of `sheet_save`.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct SheetSaved {
    /// The item's file (project-relative).
    pub file: String,
    /// The project's diagnostics about that file.
    pub diagnostics: Vec<fullsync_project::Diagnostic>,
    /// What syncing the project into the engine changed.
    pub sync: fullsync_project::sync::SyncReport,
    /// The reloaded project (without `sync`).
    pub project: ProjectTree,
}

impl Studio {
    /// `file_read`: the text of a project file.
    pub(crate) fn file_read(&self, path: &str) -> Result<FileText, ApiError> {
        let f = self.file(path)?;
        let text = std::fs::read_to_string(&f)
            .map_err(|e| ApiError::new(ErrorCode::NotFound, format!("cannot read {path}: {e}")))?;
        Ok(FileText {
            path: path.to_string(),
            text,
        })
    }

    /// `file_write`: writes a project file atomically (a conflict when the disk no longer
    /// holds `base`), reloads and syncs the project, and answers its tree.
    pub(crate) fn file_write(
        &self,
        path: &str,
        text: &str,
        base: Option<&str>,
    ) -> Result<ProjectTree, ApiError> {
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
    ) -> Result<PreviewAnswer, ApiError> {
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
        Ok(PreviewAnswer {
            result: ViewRows(p.result),
            errors: p
                .errors
                .into_iter()
                .map(|e| MapError {
                    id: e.id,
                    view: e.view,
                    error: e.error,
                })
                .collect(),
            docs: p.docs,
            total: p.total,
            limited: p.limited,
            ms: p.ms,
        })
    }

    /// `view_query`: queries a saved view, with the time it took.
    pub(crate) fn view_query(
        &self,
        db: &str,
        ddoc: &str,
        view: &str,
        query: Value,
    ) -> Result<ViewQueryAnswer, ApiError> {
        let q = if query.is_null() { json!({}) } else { query };
        let t = std::time::Instant::now();
        let r = self
            .views
            .query(db, ddoc, view, &fullsync_views::ViewQuery::from_json(&q)?)?;
        Ok(ViewQueryAnswer {
            result: ViewRows(r),
            ms: t.elapsed().as_secs_f64() * 1000.0,
        })
    }

    /// `sheet_save`: writes a property sheet's item, reloads and syncs the project.
    pub(crate) fn sheet_save(
        &self,
        connector: &str,
        kind: sheets::SheetKind,
        name: &str,
        item: Value,
    ) -> Result<SheetSaved, ApiError> {
        let root = self.root()?;
        refuse_escapes(&root)?;
        let file = sheets::save(&root, connector, kind, name, item)?;
        let (mut project, diags) = self.reload(&root)?;
        let sync = project.sync.take().unwrap_or_default();
        Ok(SheetSaved {
            diagnostics: sheets::diagnostics_of(&diags, &file)
                .into_iter()
                .cloned()
                .collect(),
            file,
            sync,
            project,
        })
    }
}
