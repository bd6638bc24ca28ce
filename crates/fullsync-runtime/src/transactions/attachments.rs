//! Attachment transactions: put, delete, get.

use fullsync_engine::ReadOptions;
use serde_json::{json, Value};

use super::{Cx, RunError};

/// `PutDocumentAttachment` (`put`) or `DeleteDocumentAttachment`.
pub(super) fn put_or_delete_attachment(cx: &Cx<'_>, put: bool) -> Result<Value, RunError> {
    let id = cx
        .var_str("docid")
        .ok_or(RunError::MissingVariable("docid".into()))?;
    let name = cx
        .var_str("attname")
        .ok_or(RunError::MissingVariable("attname".into()))?;
    let db = cx.db()?;
    let mut doc = match db.get(&id, None, &ReadOptions::default()) {
        Ok(d) => d,
        Err(fullsync_engine::Error::NotFound(_)) if put => {
            json!({"_id": id})
        }
        Err(e) => return Err(e.into()),
    };
    let atts = doc
        .as_object_mut()
        .expect("documents are objects")
        .entry("_attachments")
        .or_insert_with(|| json!({}));
    let atts = atts
        .as_object_mut()
        .ok_or_else(|| RunError::Bad("bad _attachments".into()))?;
    if put {
        use base64::Engine as _;
        let content = cx.var_str("attdata").unwrap_or_default();
        let ctype = cx
            .var_str("attcontent_type")
            .unwrap_or_else(|| "application/octet-stream".into());
        atts.insert(name, json!({"content_type": ctype, "data": base64::engine::general_purpose::STANDARD.encode(content.as_bytes())}));
    } else if atts.shift_remove(&name).is_none() {
        return Err(RunError::Bad(format!(
            "document {id} has no attachment {name}"
        )));
    }
    let rev = db.put(
        fullsync_engine::parse_doc(doc, None, &mut |_| None)?,
        &cx.user,
    )?;
    Ok(json!({"ok": true, "id": id, "rev": rev}))
}

/// `GetDocumentAttachment`: its metadata and its content as text.
pub(super) fn get_attachment(cx: &Cx<'_>) -> Result<Value, RunError> {
    let id = cx
        .var_str("docid")
        .ok_or(RunError::MissingVariable("docid".into()))?;
    let name = cx
        .var_str("attname")
        .ok_or(RunError::MissingVariable("attname".into()))?;
    let (meta, data) = cx.db()?.attachment(&id, &name, None)?;
    Ok(
        json!({"content_type": meta.content_type, "length": meta.length, "digest": meta.digest, "text": String::from_utf8_lossy(&data)}),
    )
}
