//! Attachments of a document in the studio's documents panel: upload, download, delete.
//!
//! The bytes travel as base64 inside the command's JSON (the one transport of the studio), so
//! uploads and downloads are refused above [`MAX_BYTES`] with a message, instead of letting a
//! huge file exhaust memory. Writes go through the engine like `PUT /db/doc/att` does: the
//! revision's body and attachment stubs, plus the changed attachment, written on top of `rev`.

use base64::Engine as _;
use fullsync_engine::{Database, Engine, Error, ReadOptions, Rev, UserCtx};
use serde_json::{json, Value};

use crate::documents::Written;
use crate::{ApiError, ErrorCode};

/// The answer of `attachment_get`.
#[derive(Debug, serde::Serialize, ts_rs::TS)]
pub struct Attachment {
    /// Attachment name.
    pub name: String,
    /// MIME type.
    pub content_type: String,
    /// Bytes.
    #[ts(type = "number")]
    pub length: u64,
    /// `md5-...` digest.
    pub digest: String,
    /// The revision position it was added at.
    #[ts(type = "number")]
    pub revpos: u64,
    /// The bytes, base64.
    pub data: String,
}

/// The largest attachment the studio uploads or downloads (64 MiB).
pub const MAX_BYTES: usize = 64 * 1024 * 1024;

/// `12.3 MiB`, `4.0 KiB`, `17 bytes`.
fn size(n: u64) -> String {
    const K: f64 = 1024.0;
    let f = n as f64;
    if f >= K * K {
        format!("{:.1} MiB", f / K / K)
    } else if f >= K {
        format!("{:.1} KiB", f / K)
    } else {
        format!("{n} bytes")
    }
}

fn too_big(what: &str, n: u64) -> ApiError {
    ApiError::new(
        ErrorCode::BadRequest,
        format!(
            "{what} is {}; the studio handles attachments up to {}: use the CouchDB API (PUT/GET /db/doc/attachment) for bigger files",
            size(n),
            size(MAX_BYTES as u64)
        ),
    )
}

fn admin() -> UserCtx {
    UserCtx {
        name: None,
        roles: vec!["_admin".into()],
    }
}

fn check_target(id: &str, name: &str) -> Result<(), ApiError> {
    if id.starts_with("_local/") {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            format!("{id} is a local document: local documents have no attachments"),
        ));
    }
    if name.is_empty() || name.starts_with('_') {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            format!("`{name}` is not an attachment name: it must not be empty or start with `_`"),
        ));
    }
    Ok(())
}

/// The conflict answered when `rev` is no longer the revision to write on.
fn stale(dbh: &Database, id: &str, rev: &str) -> ApiError {
    let now = match dbh.get(id, None, &ReadOptions::default()) {
        Ok(d) => format!("it is now at {}", d["_rev"].as_str().unwrap_or("?")),
        Err(Error::NotFound(r)) if r == "deleted" => "it was deleted".to_string(),
        Err(_) => "it changed".to_string(),
    };
    ApiError::new(
        ErrorCode::Conflict,
        format!("{id} changed since revision {rev} was opened ({now}): nothing was written; reload the document and try again"),
    )
}

/// The body and attachment stubs of `id` at `rev`, ready to be written on top of it.
fn revision(
    dbh: &Database,
    id: &str,
    rev: &str,
) -> Result<serde_json::Map<String, Value>, ApiError> {
    let r = Rev::parse(rev)?;
    match dbh.get(id, Some(&r), &ReadOptions::default()) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::new(
            ErrorCode::Internal,
            format!("{id} is not a JSON object"),
        )),
        Err(Error::NotFound(_)) => match dbh.record(id)? {
            // The document exists but not (or no longer) with this revision's body.
            Some(_) => Err(stale(dbh, id, rev)),
            None => Err(ApiError::new(
                ErrorCode::NotFound,
                format!("{id} does not exist: save the document before attaching files to it"),
            )),
        },
        Err(e) => Err(e.into()),
    }
}

/// Writes `doc` (the revision's body with changed attachments); `data` supplies the bytes of
/// an attachment marked `follows`.
fn write(
    dbh: &Database,
    id: &str,
    rev: &str,
    doc: serde_json::Map<String, Value>,
    mut data: Option<Vec<u8>>,
) -> Result<Written, ApiError> {
    let parsed = fullsync_engine::parse_doc(Value::Object(doc), Some(id), &mut |_| data.take())?;
    match dbh.put(parsed, &admin()) {
        Ok(new) => Ok(Written::new(id, new)),
        Err(Error::Conflict) => Err(stale(dbh, id, rev)),
        Err(e) => Err(e.into()),
    }
}

/// `attachment_put`: adds or replaces attachment `name` of `id` on top of revision `rev`;
/// answers the new revision.
pub fn put(
    engine: &Engine,
    db: &str,
    id: &str,
    rev: &str,
    name: &str,
    content_type: Option<&str>,
    data: &str,
) -> Result<Written, ApiError> {
    check_target(id, name)?;
    // Refused before decoding: base64 is 4 characters for 3 bytes.
    let approx = data.len() / 4 * 3;
    if approx > MAX_BYTES + 2 {
        return Err(too_big(name, approx as u64));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.trim().as_bytes())
        .map_err(|e| {
            ApiError::new(
                ErrorCode::BadRequest,
                format!("the data of {name} is not valid base64 ({e})"),
            )
        })?;
    if bytes.len() > MAX_BYTES {
        return Err(too_big(name, bytes.len() as u64));
    }
    let dbh = engine.db(db)?;
    let mut doc = revision(&dbh, id, rev)?;
    let content_type = content_type
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .unwrap_or("application/octet-stream");
    let atts = doc
        .entry("_attachments")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| ApiError::new(ErrorCode::Internal, format!("{id} has bad _attachments")))?;
    atts.insert(
        name.to_string(),
        json!({"content_type": content_type, "follows": true}),
    );
    write(&dbh, id, rev, doc, Some(bytes))
}

/// `attachment_get`: the bytes (base64) and metadata of attachment `name` of the current
/// revision of `id`, or of `rev`.
pub fn get(
    engine: &Engine,
    db: &str,
    id: &str,
    name: &str,
    rev: Option<&str>,
) -> Result<Attachment, ApiError> {
    let rev = rev.map(Rev::parse).transpose()?;
    let (meta, data) = engine
        .db(db)?
        .attachment(id, name, rev.as_ref())
        .map_err(|e| match e {
            Error::NotFound(_) => ApiError::new(
                ErrorCode::NotFound,
                format!(
                    "{id}{} has no attachment {name}: reload the document",
                    rev.as_ref().map(|r| format!(" at {r}")).unwrap_or_default()
                ),
            ),
            e => e.into(),
        })?;
    if data.len() > MAX_BYTES {
        return Err(too_big(name, data.len() as u64));
    }
    Ok(Attachment {
        name: meta.name,
        content_type: meta.content_type,
        length: meta.length,
        digest: meta.digest,
        revpos: meta.revpos,
        data: base64::engine::general_purpose::STANDARD.encode(&data),
    })
}

/// `attachment_delete`: removes attachment `name` of `id` on top of revision `rev`; answers
/// the new revision.
pub fn delete(
    engine: &Engine,
    db: &str,
    id: &str,
    rev: &str,
    name: &str,
) -> Result<Written, ApiError> {
    check_target(id, name)?;
    let dbh = engine.db(db)?;
    let mut doc = revision(&dbh, id, rev)?;
    let removed = doc
        .get_mut("_attachments")
        .and_then(Value::as_object_mut)
        .and_then(|a| a.shift_remove(name));
    if removed.is_none() {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            format!("{id} at {rev} has no attachment {name}: reload the document"),
        ));
    }
    if doc
        .get("_attachments")
        .and_then(Value::as_object)
        .is_some_and(|a| a.is_empty())
    {
        doc.shift_remove("_attachments");
    }
    write(&dbh, id, rev, doc, None)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::Studio;

    fn studio() -> (Studio, Arc<Engine>, Arc<Database>) {
        let engine = Arc::new(Engine::in_memory());
        let views = Arc::new(fullsync_views::Views::new(engine.clone()));
        let db = engine.create_db("db").unwrap();
        (Studio::new(engine.clone(), views), engine, db)
    }

    fn b64(b: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(b)
    }

    #[test]
    fn put_get_delete_with_stale_revisions() {
        let (s, _, db) = studio();
        let rev1 = s
            .handle_json(
                json!({"cmd": "doc_put", "args": {"db": "db", "doc": {"_id": "x", "n": 1}}}),
            )
            .unwrap()["rev"]
            .as_str()
            .unwrap()
            .to_string();
        let bytes: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 256) as u8).collect();
        let put = s
            .handle_json(json!({"cmd": "attachment_put", "args": {"db": "db", "id": "x", "rev": rev1, "name": "a.bin", "content_type": "application/x-test", "data": b64(&bytes)}}))
            .unwrap();
        let rev2 = put["rev"].as_str().unwrap().to_string();
        assert!(rev2.starts_with("2-"), "{put}");

        // The same bytes and CouchDB's digest come back; the body is unchanged.
        let got = s
            .handle_json(
                json!({"cmd": "attachment_get", "args": {"db": "db", "id": "x", "name": "a.bin"}}),
            )
            .unwrap();
        assert_eq!(got["data"], b64(&bytes));
        assert_eq!(got["length"], 5000);
        assert_eq!(got["content_type"], "application/x-test");
        assert_eq!(got["digest"], fullsync_engine::att_digest(&bytes));
        let doc = db.get("x", None, &ReadOptions::default()).unwrap();
        assert_eq!(doc["n"], 1);
        assert_eq!(doc["_attachments"]["a.bin"]["stub"], true, "{doc}");

        // A second attachment keeps the first (written as a stub); no content type: octet-stream.
        let rev3 = s
            .handle_json(json!({"cmd": "attachment_put", "args": {"db": "db", "id": "x", "rev": rev2, "name": "b.txt", "data": b64(b"hello")}}))
            .unwrap()["rev"]
            .as_str()
            .unwrap()
            .to_string();
        let doc = db.get("x", None, &ReadOptions::default()).unwrap();
        assert_eq!(doc["_attachments"]["a.bin"]["digest"], got["digest"]);
        assert_eq!(
            doc["_attachments"]["b.txt"]["content_type"],
            "application/octet-stream"
        );

        // A stale revision conflicts with a message saying to reload; nothing is written.
        for cmd in [
            json!({"cmd": "attachment_put", "args": {"db": "db", "id": "x", "rev": rev2, "name": "c", "data": b64(b"c")}}),
            json!({"cmd": "attachment_delete", "args": {"db": "db", "id": "x", "rev": rev2, "name": "a.bin"}}),
            json!({"cmd": "attachment_put", "args": {"db": "db", "id": "x", "rev": "1-00000000000000000000000000000000", "name": "c", "data": b64(b"c")}}),
        ] {
            let e = s.handle_json(cmd).unwrap_err();
            assert_eq!(e.code, ErrorCode::Conflict, "{}", e.message);
            assert!(
                e.message.contains("reload") && e.message.contains(&rev3),
                "{}",
                e.message
            );
        }
        assert_eq!(
            db.get("x", None, &ReadOptions::default()).unwrap()["_rev"],
            rev3.as_str()
        );

        // The older revision still has its attachments; a missing name is not found.
        let old = s
            .handle_json(json!({"cmd": "attachment_get", "args": {"db": "db", "id": "x", "name": "a.bin", "rev": rev2}}))
            .unwrap();
        assert_eq!(old["data"], b64(&bytes));
        let e = s
            .handle_json(
                json!({"cmd": "attachment_get", "args": {"db": "db", "id": "x", "name": "nope"}}),
            )
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::NotFound);

        // Delete one, then the other: the document has no `_attachments` left.
        let rev4 = s
            .handle_json(json!({"cmd": "attachment_delete", "args": {"db": "db", "id": "x", "rev": rev3, "name": "a.bin"}}))
            .unwrap()["rev"]
            .as_str()
            .unwrap()
            .to_string();
        let e = s
            .handle_json(
                json!({"cmd": "attachment_get", "args": {"db": "db", "id": "x", "name": "a.bin"}}),
            )
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::NotFound);
        let e = s
            .handle_json(json!({"cmd": "attachment_delete", "args": {"db": "db", "id": "x", "rev": rev4, "name": "a.bin"}}))
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::NotFound);
        s.handle_json(json!({"cmd": "attachment_delete", "args": {"db": "db", "id": "x", "rev": rev4, "name": "b.txt"}}))
            .unwrap();
        let doc = db.get("x", None, &ReadOptions::default()).unwrap();
        assert!(doc.get("_attachments").is_none(), "{doc}");
        assert_eq!(doc["n"], 1);
    }

    #[test]
    fn refused_inputs() {
        let (s, engine, db) = studio();
        let e = s
            .handle_json(json!({"cmd": "attachment_put", "args": {"db": "db", "id": "ghost", "rev": "1-abc", "name": "a", "data": "AA=="}}))
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::NotFound, "{}", e.message);
        let rev = s
            .handle_json(json!({"cmd": "doc_put", "args": {"db": "db", "doc": {"_id": "x"}}}))
            .unwrap()["rev"]
            .as_str()
            .unwrap()
            .to_string();
        for (name, data) in [("a", "not base64!"), ("_a", "AA=="), ("", "AA==")] {
            let e = s
                .handle_json(json!({"cmd": "attachment_put", "args": {"db": "db", "id": "x", "rev": rev, "name": name, "data": data}}))
                .unwrap_err();
            assert_eq!(e.code, ErrorCode::BadRequest, "{}", e.message);
        }
        // Above the limit: refused before decoding, with the sizes in the message.
        let big = "A".repeat((MAX_BYTES + 3) / 3 * 4 + 4);
        let e = put(&engine, "db", "x", &rev, "big.bin", None, &big).unwrap_err();
        assert_eq!(e.code, ErrorCode::BadRequest);
        assert!(
            e.message.contains("64.0 MiB") && e.message.contains("big.bin"),
            "{}",
            e.message
        );
        // Exactly at the limit is accepted.
        let max = vec![0u8; MAX_BYTES];
        let r = put(&engine, "db", "x", &rev, "max.bin", None, &b64(&max)).unwrap();
        assert!(r.rev.starts_with("2-"));
        assert_eq!(
            db.get("x", None, &ReadOptions::default()).unwrap()["_attachments"]["max.bin"]
                ["length"],
            MAX_BYTES
        );
    }
}
