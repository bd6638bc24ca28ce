//! Incoming documents: id rules, special members, attachments, and the parsed form the writer
//! works on.

use base64::Engine as _;
use md5::{Digest, Md5};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::rev::Rev;

/// Kinds of document id.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum IdKind {
    /// An ordinary document.
    Normal,
    /// `_design/...`
    Design,
    /// `_local/...` (not replicated, no history)
    Local,
}

/// Checks a document id against CouchDB's rules: non-empty, and an id starting with `_` must
/// be `_design/...` or `_local/...`.
pub fn check_id(id: &str) -> Result<IdKind> {
    if id.is_empty() {
        return Err(Error::IllegalDocId("Document id must not be empty".into()));
    }
    if let Some(rest) = id.strip_prefix("_design/") {
        if rest.is_empty() {
            return Err(Error::IllegalDocId("Document id must not be empty".into()));
        }
        return Ok(IdKind::Design);
    }
    if let Some(rest) = id.strip_prefix("_local/") {
        if rest.is_empty() {
            return Err(Error::IllegalDocId("Document id must not be empty".into()));
        }
        return Ok(IdKind::Local);
    }
    if id.starts_with('_') {
        return Err(Error::IllegalDocId(
            "Only reserved document ids may start with underscore.".into(),
        ));
    }
    Ok(IdKind::Normal)
}

/// An attachment as written by a client.
#[derive(Debug, Clone)]
pub enum AttIn {
    /// `"stub": true`: keep the attachment of the parent revision.
    Stub {
        /// Name.
        name: String,
        /// Digest, when the writer sent one (replicators do).
        digest: Option<String>,
        /// revpos, when sent.
        revpos: Option<u64>,
        /// content_type, when sent.
        content_type: Option<String>,
        /// length, when sent.
        length: Option<u64>,
    },
    /// New content (inline base64 `data`, or a `multipart/related` part).
    Data {
        /// Name.
        name: String,
        /// MIME type (`application/octet-stream` when absent).
        content_type: String,
        /// The bytes.
        data: Vec<u8>,
        /// `md5-<base64>` of `data`.
        digest: String,
        /// revpos sent by a replicator (`new_edits=false`); otherwise the new generation.
        revpos: Option<u64>,
    },
}

impl AttIn {
    /// The attachment's name.
    pub fn name(&self) -> &str {
        match self {
            AttIn::Stub { name, .. } | AttIn::Data { name, .. } => name,
        }
    }
}

/// A document write, parsed and checked, ready for the writer.
#[derive(Debug, Clone)]
pub struct DocIn {
    /// Document id.
    pub id: String,
    /// `_rev` given by the writer.
    pub rev: Option<Rev>,
    /// `_rev` of a `_local/` document (`0-N`), kept as text.
    pub local_rev: Option<String>,
    /// `_revisions` as a path, oldest first (only used with `new_edits=false`).
    pub revisions: Option<Vec<Rev>>,
    /// `_deleted: true`.
    pub deleted: bool,
    /// The body without special members, serialized.
    pub json: String,
    /// Attachments sorted by name; `None` when `_attachments` was absent.
    pub atts: Vec<AttIn>,
}

/// `md5-<base64>` digest of bytes, as CouchDB computes attachment digests.
pub fn att_digest(data: &[u8]) -> String {
    let d = Md5::digest(data);
    format!(
        "md5-{}",
        base64::engine::general_purpose::STANDARD.encode(d)
    )
}

const ALLOWED_SPECIALS: &[&str] = &[
    "_id",
    "_rev",
    "_deleted",
    "_attachments",
    "_revisions",
    "_revs_info",
    "_conflicts",
    "_deleted_conflicts",
    "_local_seq",
];

/// Parses a document as sent to PUT/POST/`_bulk_docs`.
///
/// `id_hint` is the id from the URL (PUT) and wins over a missing `_id`; `follows` supplies
/// the bytes of attachments marked `"follows": true` (multipart requests), by name.
pub fn parse_doc(
    value: Value,
    id_hint: Option<&str>,
    follows: &mut dyn FnMut(&str) -> Option<Vec<u8>>,
) -> Result<DocIn> {
    let Value::Object(mut map) = value else {
        return Err(Error::BadRequest("Document must be a JSON object".into()));
    };
    let id = match (map.shift_remove("_id"), id_hint) {
        (Some(Value::String(s)), _) => s,
        (Some(_), _) => return Err(Error::IllegalDocId("Document id must be a string".into())),
        (None, Some(h)) => h.to_string(),
        (None, None) => new_uuid(),
    };
    let kind = check_id(&id)?;
    let (rev, local_rev) = match (map.shift_remove("_rev"), kind) {
        (Some(Value::String(s)), IdKind::Local) => (None, Some(s)),
        (Some(Value::String(s)), _) => (Some(Rev::parse(&s)?), None),
        (Some(Value::Null) | None, _) => (None, None),
        (Some(_), _) => return Err(Error::BadRequest("Invalid rev format".into())),
    };
    let deleted = matches!(map.shift_remove("_deleted"), Some(Value::Bool(true)));
    let revisions = match map.shift_remove("_revisions") {
        Some(v) => Some(parse_revisions(&v)?),
        None => None,
    };
    // As CouchDB: `_revisions` is authoritative; the revision is its newest entry, whatever
    // `_rev` says.
    let rev = match (&revisions, kind) {
        (Some(path), IdKind::Normal | IdKind::Design) => path.last().cloned(),
        _ => rev,
    };
    let atts = match map.shift_remove("_attachments") {
        Some(Value::Object(a)) if kind == IdKind::Local && !a.is_empty() => {
            return Err(Error::BadRequest(
                "_local documents do not accept attachments; store the data in a regular document."
                    .into(),
            ))
        }
        Some(Value::Object(a)) => parse_atts(a, follows)?,
        Some(Value::Null) | None => vec![],
        Some(_) => {
            return Err(Error::DocValidation(
                "_attachments must be an object".into(),
            ))
        }
    };
    check_specials(map.keys())?;
    map.retain(|k, _| !k.starts_with('_') || is_replication_field(k));
    let json = serde_json::to_string(&Value::Object(map)).expect("a JSON value always serializes");
    Ok(DocIn {
        id,
        rev,
        local_rev,
        revisions,
        deleted,
        json,
        atts,
    })
}

/// The `_replication_*` members the CouchDB replicator manager writes into `_replicator`
/// documents (`_replication_state`, `_replication_id`, ...): kept in the body, as CouchDB does.
fn is_replication_field(k: &str) -> bool {
    k.starts_with("_replication_")
}

/// Refuses a member starting with `_` that CouchDB does not know (`doc_validation`).
fn check_specials<'a>(keys: impl Iterator<Item = &'a String>) -> Result<()> {
    for k in keys {
        let known = ALLOWED_SPECIALS.contains(&k.as_str()) || is_replication_field(k);
        if k.starts_with('_') && !known {
            return Err(Error::DocValidation(format!(
                "Bad special document member: {k}"
            )));
        }
    }
    Ok(())
}

/// Checks what CouchDB refuses for a whole `_bulk_docs` request (400) rather than per
/// document: an invalid id, a bad special member (`_foo`), an invalid `_rev` or `_revisions`,
/// an attachment name starting with `_`, and with `new_edits=false` a document without `_rev`.
pub fn check_bulk_doc(v: &Value, new_edits: bool) -> Result<()> {
    let Value::Object(map) = v else {
        return Err(Error::BadRequest("Document must be a JSON object".into()));
    };
    let kind = match map.get("_id") {
        Some(Value::String(id)) => check_id(id)?,
        Some(_) => return Err(Error::IllegalDocId("Document id must be a string".into())),
        None => IdKind::Normal,
    };
    check_specials(map.keys())?;
    if let (Some(Value::String(r)), false) = (map.get("_rev"), kind == IdKind::Local) {
        Rev::parse(r)?;
    }
    if let Some(r) = map.get("_revisions") {
        parse_revisions(r)?;
    }
    if let Some(Value::Object(a)) = map.get("_attachments") {
        for name in a.keys() {
            check_att_name(name)?;
        }
    }
    if !new_edits
        && kind != IdKind::Local
        && map.get("_rev").is_none()
        && map.get("_revisions").is_none()
    {
        return Err(Error::BadRequest(
            "Document rev must be specified when using new_edits=false (send `_rev` or `_revisions`)".into(),
        ));
    }
    Ok(())
}

/// An attachment name CouchDB accepts: not starting with `_`.
pub fn check_att_name(name: &str) -> Result<()> {
    if name.starts_with('_') {
        return Err(Error::BadRequest(format!(
            "Attachment name '{name}' starts with prohibited character '_'"
        )));
    }
    Ok(())
}

/// Parses `_revisions` (`{"start": N, "ids": [newest, ...]}`) into a path, oldest first.
pub fn parse_revisions(v: &Value) -> Result<Vec<Rev>> {
    let bad = |m: &str| Error::BadRequest(format!("Invalid _revisions: {m}"));
    let start = v
        .get("start")
        .and_then(Value::as_u64)
        .ok_or_else(|| bad("start must be a positive integer"))?;
    let ids = v
        .get("ids")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("ids must be an array"))?;
    if ids.is_empty() || start == 0 || start > crate::rev::MAX_GENERATION {
        return Err(bad("ids must be non-empty and start a positive generation"));
    }
    // More ids than `start` (CouchDB accepts them): the ones below generation 1 are dropped.
    let ids = &ids[..ids.len().min(start as usize)];
    let mut path = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let h = id
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad("ids must be strings"))?;
        path.push(Rev::new(start - i as u64, h));
    }
    path.reverse();
    Ok(path)
}

fn parse_atts(
    a: Map<String, Value>,
    follows: &mut dyn FnMut(&str) -> Option<Vec<u8>>,
) -> Result<Vec<AttIn>> {
    let mut out = Vec::with_capacity(a.len());
    for (name, spec) in a {
        check_att_name(&name)?;
        let Value::Object(spec) = spec else {
            return Err(Error::BadRequest(format!(
                "Attachment {name} must be an object"
            )));
        };
        let revpos = spec.get("revpos").and_then(Value::as_u64);
        let ctype = spec
            .get("content_type")
            .and_then(Value::as_str)
            .unwrap_or("application/octet-stream")
            .to_string();
        if spec.get("stub").and_then(Value::as_bool) == Some(true) {
            let digest = spec
                .get("digest")
                .and_then(Value::as_str)
                .map(str::to_string);
            let content_type = spec
                .get("content_type")
                .and_then(Value::as_str)
                .map(str::to_string);
            let length = spec.get("length").and_then(Value::as_u64);
            out.push(AttIn::Stub {
                name,
                digest,
                revpos,
                content_type,
                length,
            });
        } else if let Some(data) = spec.get("data") {
            let s = data
                .as_str()
                .ok_or_else(|| Error::BadRequest(format!("Invalid attachment data for {name}")))?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(s.as_bytes())
                .map_err(|_| Error::BadRequest(format!("Invalid attachment data for {name}")))?;
            let digest = att_digest(&bytes);
            out.push(AttIn::Data {
                name,
                content_type: ctype,
                data: bytes,
                digest,
                revpos,
            });
        } else if spec.get("follows").and_then(Value::as_bool) == Some(true) {
            let bytes = follows(&name).ok_or_else(|| {
                Error::BadRequest(format!(
                    "Attachment {name} is marked follows but no MIME part carries it"
                ))
            })?;
            let digest = att_digest(&bytes);
            out.push(AttIn::Data {
                name,
                content_type: ctype,
                data: bytes,
                digest,
                revpos,
            });
        } else {
            return Err(Error::BadRequest(format!(
                "Attachment {name} needs `data` (base64), `stub: true` or `follows: true`"
            )));
        }
    }
    out.sort_by(|a, b| a.name().cmp(b.name()));
    Ok(out)
}

/// A new random document id / server uuid: 32 lowercase hex digits.
pub fn new_uuid() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the OS random source is available");
    crate::rev::hex(&b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn no_follows(_: &str) -> Option<Vec<u8>> {
        None
    }

    #[test]
    fn id_rules() {
        assert_eq!(check_id("a").unwrap(), IdKind::Normal);
        assert_eq!(check_id("_design/x").unwrap(), IdKind::Design);
        assert_eq!(check_id("_local/x").unwrap(), IdKind::Local);
        for bad in ["", "_foo", "_design/", "_local/", "_users"] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parse_specials() {
        let d = parse_doc(
            json!({"_id":"a","_rev":"1-x","b":1,"_deleted":true}),
            None,
            &mut no_follows,
        )
        .unwrap();
        assert_eq!(d.id, "a");
        assert_eq!(d.rev.unwrap().to_string(), "1-x");
        assert!(d.deleted);
        assert_eq!(d.json, r#"{"b":1}"#);
        let e = parse_doc(json!({"_id":"a","_foo":1}), None, &mut no_follows).unwrap_err();
        assert_eq!(e.couch_error(), "doc_validation");
        assert!(parse_doc(json!({"_id":"a","_rev":"bad"}), None, &mut no_follows).is_err());
        assert!(parse_doc(json!([1]), None, &mut no_follows).is_err());
        let d = parse_doc(
            json!({"_revisions":{"start":3,"ids":["c","b","a"]},"_rev":"3-c"}),
            Some("x"),
            &mut no_follows,
        )
        .unwrap();
        let p: Vec<String> = d.revisions.unwrap().iter().map(|r| r.to_string()).collect();
        assert_eq!(p, vec!["1-a", "2-b", "3-c"]);
    }

    #[test]
    fn attachments() {
        let d = parse_doc(
            json!({"_id":"a","_attachments":{"b.txt":{"content_type":"text/plain","data":"aGVsbG8="},"a":{"stub":true}}}),
            None,
            &mut no_follows,
        )
        .unwrap();
        assert_eq!(d.atts[0].name(), "a");
        match &d.atts[1] {
            AttIn::Data { data, digest, .. } => {
                assert_eq!(data, b"hello");
                assert_eq!(digest, "md5-XUFAKrxLKna5cZ2REBfFkg==");
            }
            other => panic!("{other:?}"),
        }
        assert!(parse_doc(
            json!({"_attachments":{"x":{"data":"***"}}}),
            None,
            &mut no_follows
        )
        .is_err());
    }
}
