//! Users, passwords, and who may do what on a database.
//!
//! - Users live in the `_users` database as in CouchDB (`org.couchdb.user:NAME` with `name`,
//!   `roles`, and a `password` that the server replaces by a PBKDF2-SHA256 hash on write).
//!   FullSync groups are the user's roles plus the memberships `{type: "c8oGrp", user, group}`
//!   of the `c8ofullsyncgrp` database.
//! - A database whose `_security` has a `fullsync` member is a FullSync database: non-admin users
//!   read only the documents (and leaves) the access rules give them, write only as the rule
//!   table allows (`fullsync_acl::authorize_write`, docs/design.md "FullSync access
//!   rules"), keep their `_local` checkpoints in a namespace of their own, and anonymous clients
//!   are refused unless `"fullsync": {"anonymous": "allow"}`.
//! - `_users` and `c8ofullsyncgrp` are admin-only; a user reads his own `_users` document
//!   without its password hash.
//! - The loopback "admin party" (a client without credentials is admin) stops at those
//!   protected databases: there such a client is anonymous (`protected`, `is_party`).
//! - Otherwise CouchDB's rules: a database with `members` is readable by those names/roles;
//!   administration (create/delete, `_security`, design documents, purge, compaction) needs an
//!   admin.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use fullsync_acl as acl;
use fullsync_engine::{Database, Engine, OpenRev, OpenRevs, ReadOptions, Rev, UserCtx};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::util::ApiError;

const ITERATIONS: u32 = 10_000;

fn pbkdf2_hex(password: &str, salt: &str, iterations: u32) -> String {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), salt.as_bytes(), iterations, &mut out);
    fullsync_engine::rev::hex(&out)
}

/// Replaces a plain `password` in a `_users` document by its hash (as CouchDB does on write).
pub fn hash_user_doc(doc: &mut Value) {
    let Some(m) = doc.as_object_mut() else { return };
    let Some(Value::String(pw)) = m.shift_remove("password") else {
        return;
    };
    let salt = fullsync_engine::doc::new_uuid();
    m.insert("password_scheme".into(), json!("pbkdf2"));
    m.insert("pbkdf2_prf".into(), json!("sha256"));
    m.insert("iterations".into(), json!(ITERATIONS));
    m.insert(
        "derived_key".into(),
        json!(pbkdf2_hex(&pw, &salt, ITERATIONS)),
    );
    m.insert("salt".into(), json!(salt));
}

/// A verified login: fingerprint of the credentials, the user's context, when verified.
type CachedLogin = (Vec<u8>, UserCtx, Instant);

/// Known users, with a cache so that replication (many requests) does not pay PBKDF2 each time.
pub struct Users {
    engine: Arc<Engine>,
    cache: Mutex<HashMap<String, CachedLogin>>,
}

/// Whether `u` is a server admin.
pub fn is_admin(u: &UserCtx) -> bool {
    u.roles.iter().any(|r| r == "_admin")
}

impl Users {
    /// Users of `engine`.
    pub fn new(engine: Arc<Engine>) -> Users {
        Users {
            engine,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Forgets cached credentials (after `_users` or group changes).
    pub fn invalidate(&self) {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    fn user_doc(&self, name: &str) -> Option<Value> {
        let db = self.engine.db("_users").ok()?;
        db.get(
            &format!("org.couchdb.user:{name}"),
            None,
            &ReadOptions::default(),
        )
        .ok()
    }

    /// The user's context: roles plus FullSync groups.
    pub fn ctx_for(&self, name: &str) -> Option<UserCtx> {
        let doc = self.user_doc(name)?;
        let mut roles: Vec<String> = doc
            .get("roles")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| r.as_str().map(str::to_string))
            .collect();
        if let Ok(grp) = self.engine.db("c8ofullsyncgrp") {
            let (_, _, rows) = grp
                .all_docs(&fullsync_engine::AllDocsOptions {
                    include_docs: true,
                    inclusive_end: true,
                    ..Default::default()
                })
                .unwrap_or_default();
            for r in rows {
                let d = &r["doc"];
                if d.get("type").and_then(Value::as_str) == Some(acl::MEMBERSHIP_TYPE)
                    && d.get("user").and_then(Value::as_str) == Some(name)
                {
                    if let Some(g) = d.get("group").and_then(Value::as_str) {
                        if !roles.iter().any(|x| x == g) {
                            roles.push(g.to_string());
                        }
                    }
                }
            }
        }
        Some(UserCtx {
            name: Some(name.to_string()),
            roles,
        })
    }

    /// Checks a password; returns the user's context.
    pub fn verify(&self, name: &str, password: &str) -> Option<UserCtx> {
        let fp = Sha256::digest(format!("{name}\0{password}").as_bytes()).to_vec();
        if let Some((h, ctx, t)) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
        {
            if *h == fp && t.elapsed() < Duration::from_secs(300) {
                return Some(ctx.clone());
            }
        }
        let doc = self.user_doc(name)?;
        let salt = doc.get("salt").and_then(Value::as_str)?;
        let key = doc.get("derived_key").and_then(Value::as_str)?;
        let iterations = doc
            .get("iterations")
            .and_then(Value::as_u64)
            .unwrap_or(ITERATIONS as u64) as u32;
        let computed = pbkdf2_hex(password, salt, iterations);
        if !crate::constant_eq(computed.as_bytes(), key.as_bytes()) {
            return None;
        }
        let ctx = self.ctx_for(name)?;
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_string(), (fp, ctx.clone(), Instant::now()));
        Some(ctx)
    }
}

/// Decodes `Authorization: Basic`.
pub fn basic_credentials(h: &axum::http::HeaderMap) -> Option<(String, String)> {
    let v = h.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let b64 = v.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let s = String::from_utf8(decoded).ok()?;
    let (u, p) = s.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

/// How a user may use a database.
#[derive(Clone, Debug)]
pub enum Access {
    /// Server admin.
    Admin,
    /// Reads and writes everything (a member, or a public database).
    Member,
    /// FullSync rules: sees only the documents given to this user and groups.
    Acl {
        /// User name (None = anonymous, allowed by the database).
        user: Option<String>,
        /// Groups.
        groups: Vec<String>,
    },
}

impl Access {
    /// Whether `doc` is readable.
    pub fn can_see(&self, doc: &Value) -> bool {
        match self {
            Access::Acl { user, groups } => fullsync_acl::visible(doc, user.as_deref(), groups),
            _ => true,
        }
    }

    /// Whether reads are filtered.
    pub fn filtered(&self) -> bool {
        matches!(self, Access::Acl { .. })
    }
}

fn unauthorized(reason: &str) -> ApiError {
    ApiError::new(401, "unauthorized", reason)
}

/// Requires a server admin.
pub fn require_admin(user: &UserCtx) -> Result<(), ApiError> {
    if is_admin(user) {
        Ok(())
    } else if user.name.is_none() {
        Err(unauthorized(
            "You are not a server admin. Log in as an admin (Basic auth or POST /_session).",
        ))
    } else {
        Err(ApiError::new(
            403,
            "forbidden",
            "You are not a db or server admin.",
        ))
    }
}

/// What `user` may do on `db`.
pub fn db_access(db: &Database, user: &UserCtx) -> Result<Access, ApiError> {
    if is_admin(user) {
        return Ok(Access::Admin);
    }
    if is_system(db.name()) {
        require_admin(user)?;
    }
    let sec = db.security().map_err(ApiError::from)?;
    if let Some(fs) = sec.get("fullsync") {
        let anonymous_ok = fs.get("anonymous").and_then(Value::as_str) == Some("allow")
            || fs.get("anonymous").and_then(Value::as_bool) == Some(true);
        if user.name.is_none() && !anonymous_ok {
            return Err(unauthorized(
                "This FullSync database does not allow anonymous replication: log in as a user (Basic auth or POST /_session).",
            ));
        }
        return Ok(Access::Acl {
            user: user.name.clone(),
            groups: user.roles.clone(),
        });
    }
    let members = sec.get("members");
    let names: Vec<&str> = members
        .and_then(|m| m.get("names"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let roles: Vec<&str> = members
        .and_then(|m| m.get("roles"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if names.is_empty() && roles.is_empty() {
        return Ok(Access::Member);
    }
    let ok = user.name.as_deref().is_some_and(|n| names.contains(&n))
        || user.roles.iter().any(|r| roles.contains(&r.as_str()));
    if ok {
        Ok(Access::Member)
    } else if user.name.is_none() {
        Err(unauthorized("You are not authorized to access this db."))
    } else {
        Err(ApiError::new(
            403,
            "forbidden",
            "You are not allowed to access this db.",
        ))
    }
}

/// The live revision a write replaces or branches from, as the access rules judge it:
/// - with `new_edits=true`, the leaf named by `_rev` (or the winner when there is none);
/// - with `new_edits=false`, the newest ancestor of the sent revision that is stored, when it
///   is a leaf; else the winner (a new conflict branch of the document);
///
/// Answers `None` when the sent revision is already stored (a replication no-op, which no rule
/// refuses), `Some(None)` when the write creates the document (it does not exist, or that
/// revision is a deletion), and `Some(Some(body))` otherwise.
fn write_base(
    db: &Database,
    doc: &Value,
    new_edits: bool,
) -> Result<Option<Option<Value>>, ApiError> {
    let id = doc.get("_id").and_then(Value::as_str).unwrap_or_default();
    let Some(rec) = db.record(id).map_err(ApiError::from)? else {
        return Ok(Some(None));
    };
    let tree = &rec.tree;
    let mut ancestors: Vec<Rev> = vec![];
    if let Some(Value::Object(r)) = doc.get("_revisions") {
        let start = r.get("start").and_then(Value::as_u64).unwrap_or(0);
        let ids = r
            .get("ids")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (k, h) in ids.iter().enumerate() {
            let (Some(h), Some(pos)) = (h.as_str(), start.checked_sub(k as u64)) else {
                break;
            };
            if let Ok(rev) = Rev::parse(&format!("{pos}-{h}")) {
                ancestors.push(rev);
            }
        }
    } else if let Some(r) = doc.get("_rev").and_then(Value::as_str) {
        if let Ok(rev) = Rev::parse(r) {
            ancestors.push(rev);
        }
    }
    let mut node = None;
    for (k, rev) in ancestors.iter().enumerate() {
        if let Some(i) = tree.find_rev(rev) {
            if !new_edits && k == 0 {
                return Ok(None); // already stored: nothing is written
            }
            node = Some(i);
            break;
        }
    }
    let i = match node {
        Some(i) if tree.is_leaf(i) => i,
        _ => tree.winner(),
    };
    if tree.nodes[i].deleted {
        return Ok(Some(None));
    }
    let body = db
        .render_record(id, &rec, i, &ReadOptions::default())
        .map_err(ApiError::from)?;
    Ok(Some(Some(body)))
}

/// Applies the FullSync access rules to a document about to be written by `access`
/// (`fullsync_acl::authorize_write`: who may create, update, delete, tag and untag
/// what), setting its access keys. Admins and members of plain databases write freely, but an
/// admin's deletion on a FullSync database still carries the keys of what it deletes, so the
/// tombstone reaches every device that held the document.
pub fn apply_write_rules(
    db: &Database,
    access: &Access,
    doc: &mut Value,
    new_edits: bool,
) -> Result<(), ApiError> {
    let id = doc
        .get("_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if id.starts_with("_local/") || id.starts_with("_design/") {
        return Ok(());
    }
    let deleted = doc.get("_deleted") == Some(&Value::Bool(true));
    let fullsync = access.filtered() || (deleted && is_fullsync(db));
    if !fullsync || id.is_empty() {
        return Ok(());
    }
    let Some(base) = write_base(db, doc, new_edits)? else {
        return Ok(());
    };
    let Some(m) = doc.as_object_mut() else {
        return Ok(());
    };
    match access {
        Access::Acl { user, groups } => {
            fullsync_acl::authorize_write(base.as_ref(), m, user.as_deref(), groups)
                .map_err(|reason| ApiError::new(403, "forbidden", reason))
        }
        _ => {
            if let Some(b) = &base {
                for k in [acl::ACL_KEY, acl::GRP_KEY] {
                    if let Some(v) = b.get(k) {
                        m.entry(k.to_string()).or_insert_with(|| v.clone());
                    }
                }
            }
            Ok(())
        }
    }
}

/// The databases only an admin reads or writes: users (`_users`, whose documents hold password
/// hashes) and FullSync group memberships (`c8ofullsyncgrp`: whoever writes there joins any
/// group). A user reads his own `_users` document, without its hash (`own_user_doc`).
pub fn is_system(name: &str) -> bool {
    name == "_users" || name == "c8ofullsyncgrp"
}

/// Whether a client without credentials must be treated as anonymous on this database even
/// on a server that makes such clients admin on loopback ("admin party"): the system databases
/// and every FullSync database, whose access rules must hold for every client.
pub fn protected(db: &Database) -> bool {
    is_system(db.name()) || is_fullsync(db)
}

/// Whether `user` is the "admin party" caller: no credentials, on a server that lets such
/// clients administer unprotected databases.
pub fn is_party(user: &UserCtx) -> bool {
    user.name.is_none() && is_admin(user)
}

/// The fields of a `_users` document that only an admin reads.
const SECRET_USER_FIELDS: [&str; 6] = [
    "derived_key",
    "salt",
    "iterations",
    "password_scheme",
    "pbkdf2_prf",
    "password_sha",
];

/// `GET /_users/org.couchdb.user:NAME` by user NAME himself: his document without the password
/// hash fields. `None` when the request is something else (the caller then requires an admin).
pub fn own_user_doc(db: &Database, user: &UserCtx, id: &str) -> Option<Result<Value, ApiError>> {
    let name = user.name.as_deref()?;
    if db.name() != "_users" || id != format!("org.couchdb.user:{name}") {
        return None;
    }
    Some(
        db.get(id, None, &ReadOptions::default())
            .map(|mut d| {
                if let Some(m) = d.as_object_mut() {
                    for k in SECRET_USER_FIELDS {
                        m.shift_remove(k);
                    }
                }
                d
            })
            .map_err(ApiError::from),
    )
}

/// Whether the document `id` is visible to `access`: its winning revision is (a FullSync
/// user sees a document, and its leaves, only through its winner). A document that does not
/// exist counts as visible: the engine then answers its own `not_found`.
pub fn winner_visible(db: &Database, access: &Access, id: &str) -> Result<bool, ApiError> {
    if !access.filtered() {
        return Ok(true);
    }
    let Some(rec) = db.record(id).map_err(ApiError::from)? else {
        return Ok(true);
    };
    let w = rec.tree.winner();
    let doc = db
        .render_record(id, &rec, w, &ReadOptions::default())
        .map_err(ApiError::from)?;
    Ok(access.can_see(&doc))
}

/// Of the leaf revisions `revs` of document `id`, those `access` may see (each leaf is judged
/// by its own body). `_changes?style=all_docs`, `_conflicts` and `open_revs=all` list only
/// these, so what a user's replicator is told exists is exactly what `_bulk_get` gives him.
pub fn visible_revs(
    db: &Database,
    access: &Access,
    id: &str,
    revs: Vec<String>,
) -> Result<Vec<String>, ApiError> {
    if !access.filtered() || revs.is_empty() {
        return Ok(revs);
    }
    let parsed = revs
        .iter()
        .map(|r| Rev::parse(r))
        .collect::<Result<Vec<_>, _>>()
        .map_err(ApiError::from)?;
    let found = db
        .open_revs(id, &OpenRevs::List(parsed), &ReadOptions::default())
        .map_err(ApiError::from)?;
    Ok(found
        .into_iter()
        .filter_map(|f| match f {
            OpenRev::Ok(d) if access.can_see(&d) => {
                d.get("_rev").and_then(Value::as_str).map(str::to_string)
            }
            _ => None,
        })
        .collect())
}

/// Removes from a rendered document's `_conflicts` and `_deleted_conflicts` the leaves that
/// `access` may not see.
pub fn scrub_conflicts(db: &Database, access: &Access, doc: &mut Value) -> Result<(), ApiError> {
    if !access.filtered() {
        return Ok(());
    }
    let id = doc
        .get("_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let Some(m) = doc.as_object_mut() else {
        return Ok(());
    };
    for key in ["_conflicts", "_deleted_conflicts"] {
        let Some(Value::Array(a)) = m.get(key) else {
            continue;
        };
        let revs: Vec<String> = a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        let keep = visible_revs(db, access, &id, revs)?;
        if keep.is_empty() {
            m.shift_remove(key);
        } else {
            m.insert(key.into(), Value::from(keep));
        }
    }
    Ok(())
}

/// Whether a database is a FullSync database (its `_security` has `fullsync`).
pub fn is_fullsync(db: &Database) -> bool {
    db.security()
        .ok()
        .is_some_and(|s| s.get("fullsync").is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hashed_and_verified() {
        let engine = Arc::new(Engine::in_memory());
        let users = engine.create_db("_users").unwrap();
        let mut doc = json!({"_id": "org.couchdb.user:bob", "name": "bob", "roles": ["sales.eu"], "type": "user", "password": "s3cret"});
        hash_user_doc(&mut doc);
        assert!(doc.get("password").is_none());
        assert_eq!(doc["password_scheme"], "pbkdf2");
        users
            .bulk_docs_json(vec![doc], true, &UserCtx::default())
            .unwrap();
        let grp = engine.create_db("c8ofullsyncgrp").unwrap();
        grp.bulk_docs_json(
            vec![json!({"type": "c8oGrp", "user": "bob", "group": "team.a"})],
            true,
            &UserCtx::default(),
        )
        .unwrap();
        let u = Users::new(engine);
        let ctx = u.verify("bob", "s3cret").unwrap();
        assert_eq!(ctx.roles, vec!["sales.eu", "team.a"]);
        assert!(u.verify("bob", "wrong").is_none());
        assert!(u.verify("nobody", "x").is_none());
        assert!(u.verify("bob", "s3cret").is_some(), "cached path");
    }
}
