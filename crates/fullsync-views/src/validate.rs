//! Design-document behaviour on writes and feeds: `validate_doc_update` on every write, design
//! documents checked (reduce names, JS compiles) before they are stored, and `_changes`
//! filters (`ddoc/filter` and `_view`).

use std::sync::{Arc, Mutex, Weak};

use fullsync_engine::{Database, Error, UserCtx, WriteValidator};
use serde_json::{json, Value};

use crate::ddoc::DesignDoc;
use crate::error::ViewError;
use crate::js::{JsError, JsPool, MapOut};

fn custom(status: u16, error: &str, reason: impl Into<String>) -> Error {
    Error::Custom {
        status,
        error: error.into(),
        reason: reason.into(),
    }
}

/// Converts a views error to an engine error carrying the same CouchDB code.
pub fn to_engine(e: ViewError) -> Error {
    match e {
        ViewError::Engine(e) => e,
        e => custom(e.status(), e.couch_error(), e.reason()),
    }
}

/// The `userCtx` object CouchDB passes to JS functions.
pub fn user_ctx_json(db: &str, user: &UserCtx) -> Value {
    json!({"db": db, "name": user.name, "roles": user.roles})
}

/// Loads every design document of a database.
pub fn design_docs(db: &Database) -> Result<Vec<DesignDoc>, Error> {
    Ok(db
        .design_docs()?
        .iter()
        .filter_map(|d| DesignDoc::from_json(d).ok())
        .collect())
}

/// The write check attached to every database by [`crate::Views::new`].
pub struct DdocValidator {
    db: Weak<Database>,
    pool: Arc<JsPool>,
    cache: Mutex<Option<Arc<Vec<DesignDoc>>>>,
}

impl DdocValidator {
    /// A validator for `db`.
    pub fn new(db: &Arc<Database>, pool: Arc<JsPool>) -> DdocValidator {
        DdocValidator {
            db: Arc::downgrade(db),
            pool,
            cache: Mutex::new(None),
        }
    }

    fn ddocs(&self, db: &Database) -> Result<Arc<Vec<DesignDoc>>, Error> {
        let mut c = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(d) = c.as_ref() {
            return Ok(d.clone());
        }
        let d = Arc::new(
            design_docs(db)?
                .into_iter()
                .filter(|d| d.validate.is_some())
                .collect::<Vec<_>>(),
        );
        *c = Some(d.clone());
        Ok(d)
    }
}

impl WriteValidator for DdocValidator {
    fn validate(
        &self,
        new_doc: &Value,
        old_doc: Option<&Value>,
        user: &UserCtx,
    ) -> Result<(), Error> {
        let Some(db) = self.db.upgrade() else {
            return Ok(());
        };
        let id = new_doc
            .get("_id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if id.starts_with("_design/") {
            *self.cache.lock().unwrap_or_else(|e| e.into_inner()) = None;
            if new_doc.get("_deleted") == Some(&Value::Bool(true)) {
                return Ok(());
            }
            if new_doc.get("language").and_then(Value::as_str) == Some("query") {
                return Ok(());
            }
            let dd = DesignDoc::from_json(new_doc).map_err(to_engine)?;
            for set in [
                dd.map_set(db.name()),
                dd.reduce_set(db.name()),
                dd.other_set(db.name()),
            ] {
                if set.sources.is_empty() {
                    continue;
                }
                self.pool.check(&set).map_err(|e| match e {
                    JsError::Compile { what, message, .. } => {
                        custom(400, "compilation_error", format!("Compilation of {what} failed: {message}. Fix the function and save again."))
                    }
                    other => custom(500, "javascript_error", other.to_string()),
                })?;
            }
            return Ok(());
        }
        let ddocs = self.ddocs(&db)?;
        if ddocs.is_empty() {
            return Ok(());
        }
        let sec = db.security()?;
        let uctx = user_ctx_json(db.name(), user);
        for dd in ddocs.iter() {
            let set = dd.other_set(db.name());
            let idx = set.sources.len() - 1;
            let args = json!([new_doc, old_doc, uctx, sec]);
            match self.pool.call(&set, idx, args, true) {
                Ok(Value::Null) => {}
                Ok(v) => {
                    if let Some(m) = v.get("forbidden") {
                        return Err(Error::Forbidden(
                            m.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| m.to_string()),
                        ));
                    }
                    if let Some(m) = v.get("unauthorized") {
                        return Err(Error::Unauthorized(
                            m.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| m.to_string()),
                        ));
                    }
                }
                Err(e) => return Err(refused(&dd.id, e)),
            }
        }
        Ok(())
    }
}

/// The answer when a `validate_doc_update` function does not approve a write by returning:
/// it timed out (an infinite loop) or threw something else than `{forbidden}` /
/// `{unauthorized}`. The function did not approve the write, so, as when it refuses one, the
/// document is not written and the answer is `403 forbidden` (in `_bulk_docs`, for that
/// document only), naming the function and what happened. Never a 500: the input may be
/// hostile, the server is fine.
fn refused(ddoc_id: &str, e: JsError) -> Error {
    match e {
        JsError::Timeout(ms) => Error::Forbidden(format!(
            "validate_doc_update in {ddoc_id} timed out after {ms} ms (an infinite loop?), so the \
             document was not written; fix the function"
        )),
        JsError::Thrown(m) => Error::Forbidden(format!(
            "validate_doc_update in {ddoc_id} threw an error, so the document was not written: \
             {m}. Throw {{forbidden: \"...\"}} to refuse a document on purpose"
        )),
        other => custom(
            500,
            "internal_server_error",
            format!("validate_doc_update in {ddoc_id} could not run: {other}"),
        ),
    }
}

/// A predicate on documents, usable as a `_changes` filter.
pub type DocPredicate = Arc<dyn Fn(&Value) -> bool + Send + Sync>;

/// The first error a filter function threw (name such as `TypeError`, and message), shared
/// between the predicate and the request that runs it.
pub type FilterError = Arc<std::sync::Mutex<Option<(String, String)>>>;

/// A `_changes` filter function (`filter=ddoc/name`): `doc -> bool`. A document the function
/// throws on does not pass; [`js_filter_checked`] also tells the caller what was thrown.
pub fn js_filter(
    pool: Arc<JsPool>,
    db: &Database,
    spec: &str,
    req: Value,
) -> Result<DocPredicate, ViewError> {
    Ok(js_filter_checked(pool, db, spec, req)?.0)
}

/// [`js_filter`], and the slot where the first exception it throws is recorded (with the id of
/// the document), so that `_changes` can fail as CouchDB does (500, `{"error": "TypeError",
/// "reason": ...}`) instead of silently matching nothing.
pub fn js_filter_checked(
    pool: Arc<JsPool>,
    db: &Database,
    spec: &str,
    req: Value,
) -> Result<(DocPredicate, FilterError), ViewError> {
    let (ddoc, name) = spec
        .split_once('/')
        .ok_or_else(|| ViewError::QueryParse(format!("filter `{spec}` must be DDOC/NAME")))?;
    let v = db
        .get(&format!("_design/{ddoc}"), None, &Default::default())
        .map_err(|e| match e {
            Error::NotFound(_) => {
                ViewError::NotFound(format!("design document _design/{ddoc} not found"))
            }
            e => e.into(),
        })?;
    let dd = DesignDoc::from_json(&v)?;
    let set = dd.other_set(db.name());
    let idx = dd
        .filters
        .iter()
        .position(|(n, _)| n == name)
        .ok_or_else(|| ViewError::NotFound(format!("missing json key: {name}")))?;
    pool.check(&set)?;
    let error: FilterError = Arc::default();
    let slot = error.clone();
    let spec = spec.to_string();
    let pred = Arc::new(
        move |doc: &Value| match pool.call(&set, idx, json!([doc, req]), false) {
            Ok(v) => {
                !matches!(v, Value::Null | Value::Bool(false)) && v != json!(0) && v != json!("")
            }
            Err(e) => {
                let mut first = slot.lock().unwrap_or_else(|p| p.into_inner());
                if first.is_none() {
                    let text = e.to_string();
                    let id = doc.get("_id").and_then(Value::as_str).unwrap_or("?");
                    let (name, msg) = match text.split_once(": ") {
                        Some((n, m)) if n.ends_with("Error") && !n.contains(' ') => {
                            (n.to_string(), m.to_string())
                        }
                        _ => ("filter_error".to_string(), text.clone()),
                    };
                    *first = Some((name, format!("filter {spec} threw on document {id}: {msg}")));
                }
                false
            }
        },
    );
    Ok((pred, error))
}

/// The `_view` filter: documents for which the view's map function emits at least one row.
pub fn view_filter(
    pool: Arc<JsPool>,
    db: &Database,
    spec: &str,
) -> Result<DocPredicate, ViewError> {
    let (ddoc, view) = spec.split_once('/').ok_or_else(|| {
        ViewError::QueryParse("`view` filter parameter is not provided or not DDOC/VIEW".into())
    })?;
    let v = db
        .get(&format!("_design/{ddoc}"), None, &Default::default())
        .map_err(|e| match e {
            Error::NotFound(_) => {
                ViewError::NotFound(format!("design document _design/{ddoc} not found"))
            }
            e => e.into(),
        })?;
    let dd = DesignDoc::from_json(&v)?;
    let vi = dd
        .view_index(view)
        .ok_or_else(|| ViewError::NotFound("missing_named_view".into()))?;
    let mut set = dd.map_set(db.name());
    set.sources = vec![set.sources[vi].clone()];
    set.key = format!("{}#{vi}", set.key);
    pool.check(&set)?;
    Ok(Arc::new(move |doc: &Value| {
        match pool.map(&set, vec![doc.to_string()]) {
            Ok((out, _)) => {
                matches!(out.first().and_then(|o| o.first()), Some(MapOut::Rows(r)) if !r.is_empty())
            }
            Err(_) => false,
        }
    }))
}
