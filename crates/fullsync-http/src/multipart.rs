//! The MIME multipart formats the CouchDB replicator uses: `open_revs` answered as
//! `multipart/mixed`, and documents with attachments sent as `multipart/related`.

use axum::body::Body;
use axum::http::{header, HeaderMap};
use axum::response::Response;
use serde_json::{json, Value};

use crate::util::{content_type, parse_json, ApiError};

/// `open_revs` answered as `multipart/mixed` (what the CouchDB replicator asks for): one
/// `application/json` part per revision, attachments inline.
pub fn multipart_open_revs(rows: Vec<Value>) -> Response {
    let boundary = fullsync_engine::doc::new_uuid();
    let mut body = Vec::new();
    for row in rows {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match row.get("ok") {
            Some(doc) => doc_part(&mut body, doc),
            None => {
                body.extend_from_slice(b"Content-Type: application/json; error=\"true\"\r\n\r\n");
                body.extend_from_slice(row.to_string().as_bytes());
            }
        }
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--").as_bytes());
    Response::builder()
        .status(200)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/mixed; boundary=\"{boundary}\""),
        )
        .body(Body::from(body))
        .expect("valid response")
}

/// One document of a `multipart/mixed` `open_revs` answer, as CouchDB writes it: plain JSON
/// when it carries no attachment body, else a `multipart/related` part whose first part is the
/// JSON (each attachment body marked `"follows": true`) and the next ones the bodies, in order.
fn doc_part(body: &mut Vec<u8>, doc: &Value) {
    use base64::Engine as _;
    let mut doc = doc.clone();
    let mut files: Vec<(String, String, Vec<u8>)> = vec![];
    if let Some(Value::Object(atts)) = doc.get_mut("_attachments") {
        for (name, a) in atts.iter_mut() {
            let Some(data) = a.get("data").and_then(Value::as_str) else {
                continue;
            };
            let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(data) else {
                continue;
            };
            let ctype = a["content_type"]
                .as_str()
                .unwrap_or("application/octet-stream")
                .to_string();
            if let Some(m) = a.as_object_mut() {
                m.shift_remove("data");
                m.insert("follows".into(), json!(true));
                m.insert("length".into(), json!(bytes.len()));
            }
            files.push((name.clone(), ctype, bytes));
        }
    }
    if files.is_empty() {
        body.extend_from_slice(b"Content-Type: application/json\r\n\r\n");
        body.extend_from_slice(doc.to_string().as_bytes());
        return;
    }
    let inner = fullsync_engine::doc::new_uuid();
    body.extend_from_slice(
        format!("Content-Type: multipart/related; boundary=\"{inner}\"\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(
        format!("--{inner}\r\nContent-Type: application/json\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(doc.to_string().as_bytes());
    for (name, ctype, bytes) in files {
        body.extend_from_slice(
            format!(
                "\r\n--{inner}\r\nContent-Disposition: attachment; filename=\"{}\"\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\r\n",
                name.replace('"', "\\\""),
                bytes.len()
            )
            .as_bytes(),
        );
        body.extend_from_slice(&bytes);
    }
    body.extend_from_slice(format!("\r\n--{inner}--").as_bytes());
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    (from..=hay.len() - needle.len()).find(|&i| &hay[i..i + needle.len()] == needle)
}

/// Parses a `multipart/related` document PUT: the first part is the JSON document, the next
/// parts are the bodies of attachments marked `"follows": true`, in order.
pub fn parse_multipart_related(
    h: &HeaderMap,
    body: &[u8],
) -> Result<(Value, Vec<Vec<u8>>), ApiError> {
    let _ = content_type(h);
    let raw = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let boundary = raw
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .next()
        .map(|b| b.trim_matches('"').to_string())
        .ok_or_else(|| ApiError::bad_request("multipart/related request without a boundary"))?;
    let delim = format!("--{boundary}");
    let mut parts = vec![];
    let mut pos = find(body, delim.as_bytes(), 0)
        .ok_or_else(|| ApiError::bad_request("multipart body has no parts"))?;
    loop {
        let after = pos + delim.len();
        if body.get(after..after + 2) == Some(b"--") {
            break;
        }
        let head_end = find(body, b"\r\n\r\n", after)
            .ok_or_else(|| ApiError::bad_request("multipart part without headers end"))?;
        let data_start = head_end + 4;
        let next = find(body, format!("\r\n{delim}").as_bytes(), data_start).ok_or_else(|| {
            ApiError::bad_request("multipart body is truncated (no closing boundary)")
        })?;
        parts.push(body[data_start..next].to_vec());
        pos = next + 2;
    }
    if parts.is_empty() {
        return Err(ApiError::bad_request("multipart body has no parts"));
    }
    let doc = parse_json(&parts.remove(0))?;
    Ok((doc, parts))
}
