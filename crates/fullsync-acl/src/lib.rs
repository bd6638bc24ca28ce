//! The FullSync access rule: which documents a user's device receives, and which writes a
//! FullSync user may make. It sits below the HTTP API, replication and the runtime, which all
//! apply it; the keys it reads are the constants [`ACL_KEY`], [`GRP_KEY`] and [`HASH_KEY`].
//!
//! A document is visible to user `U` with groups `G` when:
//! - its `~c8oAcl` equals `U`; or
//! - its `c8oGrp` names a group of `G`: a string, or an object whose values are `true` or
//!   `"true"` (`{"g1": true, "g2": false, "g3": "true"}` means g1 and g3); or
//! - it carries neither key (shared with everyone, e.g. a catalog).
//!
//! Group names may contain dots: they are compared as whole strings, never split. Design
//! documents carry no keys, so every device receives them (apps query their views locally).
//! Anonymous users see only documents with neither key.

use fullsync_engine::{AllDocsOptions, Database};
use serde_json::{Map, Value};

/// The owner key: the FullSync user a document belongs to.
pub const ACL_KEY: &str = "~c8oAcl";
/// The group key: a group name, or an object of group names to `true`/`"true"`.
pub const GRP_KEY: &str = "c8oGrp";
/// The content hash a transaction's "update if changed" policy keeps on a document.
pub const HASH_KEY: &str = "~c8oHash";
/// The `type` of a group membership document (`{type, user, group}`) in the database
/// `c8ofullsyncgrp`.
pub const MEMBERSHIP_TYPE: &str = "c8oGrp";

/// Whether `doc` goes to `user` (None = anonymous) with `groups`.
pub fn visible(doc: &Value, user: Option<&str>, groups: &[String]) -> bool {
    let acl = doc.get(ACL_KEY);
    let grp = doc.get(GRP_KEY);
    if acl.is_none() && grp.is_none() {
        return true;
    }
    if let (Some(Value::String(a)), Some(u)) = (acl, user) {
        if a == u {
            return true;
        }
    }
    if user.is_none() {
        return false;
    }
    match grp {
        Some(Value::String(g)) => groups.iter().any(|x| x == g),
        Some(Value::Object(m)) => m.iter().any(|(g, v)| {
            let on = matches!(v, Value::Bool(true)) || v.as_str() == Some("true");
            on && groups.iter().any(|x| x == g)
        }),
        _ => false,
    }
}

/// The documents of `db` that `user` with `groups` would receive: ids (sorted) and count.
/// This is the studio's "see as user".
pub fn see_as_user(
    db: &Database,
    user: Option<&str>,
    groups: &[String],
) -> fullsync_engine::Result<Vec<String>> {
    let (_, _, rows) = db.all_docs(&AllDocsOptions {
        include_docs: true,
        inclusive_end: true,
        ..Default::default()
    })?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let id = r["id"].as_str()?.to_string();
            visible(&r["doc"], user, groups).then_some(id)
        })
        .collect())
}

/// How a FullSync user stands towards one revision of a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relation {
    /// Its `~c8oAcl` is the user.
    Own,
    /// Not the user's, but its `c8oGrp` names one of the user's groups.
    Group,
    /// It carries neither key: everyone reads it.
    Shared,
    /// The user may not see it.
    Hidden,
}

/// How `user` (None = anonymous) with `groups` stands towards `doc`.
pub fn relation(doc: &Value, user: Option<&str>, groups: &[String]) -> Relation {
    let acl = doc.get(ACL_KEY);
    let grp = doc.get(GRP_KEY);
    if acl.is_none() && grp.is_none() {
        return Relation::Shared;
    }
    if let (Some(Value::String(a)), Some(u)) = (acl, user) {
        if a == u {
            return Relation::Own;
        }
    }
    if user.is_some() && enabled_groups(grp).iter().any(|g| groups.contains(g)) {
        return Relation::Group;
    }
    Relation::Hidden
}

/// The groups a `c8oGrp` value gives the document to: a string names one group; an object
/// names those whose value is `true` or `"true"`; anything else names none.
pub fn enabled_groups(grp: Option<&Value>) -> Vec<String> {
    match grp {
        Some(Value::String(g)) => vec![g.clone()],
        Some(Value::Object(m)) => m
            .iter()
            .filter(|(_, v)| matches!(v, Value::Bool(true)) || v.as_str() == Some("true"))
            .map(|(g, _)| g.clone())
            .collect(),
        _ => vec![],
    }
}

/// Decides a FullSync user's write and sets the access keys of the revision written.
///
/// `base` is the live revision the write replaces or branches from (`None`: the write creates
/// the document, or re-creates a deleted one); `new` is the revision as sent (`_deleted` for a
/// deletion). The rules (docs/design.md, "FullSync access rules"):
/// - nobody but an admin changes a document that is shared (neither key) or hidden;
/// - the owner (`~c8oAcl`) of a document never changes through a user: on a create it is the
///   writer (anonymous writers create only documents with neither key), on an update it stays;
/// - a user adds only groups he belongs to, and only the owner removes a group;
/// - a deletion carries the keys of the revision it deletes, so it reaches everyone who saw it.
///
/// `Err` holds the reason of the refusal (HTTP 403 `forbidden`).
pub fn authorize_write(
    base: Option<&Value>,
    new: &mut Map<String, Value>,
    user: Option<&str>,
    groups: &[String],
) -> Result<(), String> {
    if let Some(b) = base {
        match relation(b, user, groups) {
            Relation::Hidden => {
                return Err("You may not write this document: it is not shared with you.".into())
            }
            Relation::Shared => {
                return Err("This document is shared with everyone (it has neither `~c8oAcl` nor `c8oGrp`): only an admin or a server-side transaction may change or delete it.".into())
            }
            Relation::Own | Relation::Group => {}
        }
    }
    let deleted = new.get("_deleted") == Some(&Value::Bool(true));
    if let (true, Some(b)) = (deleted, base) {
        for k in [ACL_KEY, GRP_KEY] {
            new.shift_remove(k);
            if let Some(v) = b.get(k) {
                new.insert(k.into(), v.clone());
            }
        }
        return Ok(());
    }
    check_owner(base, new, user)?;
    check_groups(base, new, user, groups)
}

fn check_owner(
    base: Option<&Value>,
    new: &mut Map<String, Value>,
    user: Option<&str>,
) -> Result<(), String> {
    match base {
        Some(b) => {
            let was = b.get(ACL_KEY);
            match (new.get(ACL_KEY), was) {
                (None, Some(v)) => {
                    new.insert(ACL_KEY.into(), v.clone());
                }
                (None, None) => {}
                (Some(now), was) if Some(now) == was => {}
                (Some(now), _) => {
                    return Err(format!(
                        "You may not change the owner (`~c8oAcl`) of this document to {now}: only an admin may. Send the document with its `~c8oAcl` unchanged, or without it."
                    ))
                }
            }
        }
        None => match (new.get(ACL_KEY), user) {
            (None, Some(u)) => {
                new.insert(ACL_KEY.into(), Value::String(u.into()));
            }
            (None, None) => {}
            (Some(Value::String(a)), Some(u)) if a == u => {}
            (Some(v), Some(u)) => {
                return Err(format!(
                    "A document you create is yours: its `~c8oAcl` must be \"{u}\" (or left out), not {v}."
                ))
            }
            (Some(_), None) => {
                return Err("Anonymous clients may not set `~c8oAcl`: log in as the user, or leave the key out.".into())
            }
        },
    }
    Ok(())
}

fn check_groups(
    base: Option<&Value>,
    new: &mut Map<String, Value>,
    user: Option<&str>,
    groups: &[String],
) -> Result<(), String> {
    let before = base
        .map(|b| enabled_groups(b.get(GRP_KEY)))
        .unwrap_or_default();
    if !new.contains_key(GRP_KEY) {
        if let Some(v) = base.and_then(|b| b.get(GRP_KEY)) {
            new.insert(GRP_KEY.into(), v.clone());
        }
        return Ok(());
    }
    let after = enabled_groups(new.get(GRP_KEY));
    for g in &after {
        if !before.contains(g) && !groups.contains(g) {
            return Err(match user {
                Some(u) => format!("You may not give this document to group \"{g}\": user \"{u}\" is not a member. An admin manages memberships (database c8ofullsyncgrp)."),
                None => "Anonymous clients may not set `c8oGrp`: log in as a user of the group, or leave the key out.".into(),
            });
        }
    }
    let owner = matches!((base.and_then(|b| b.get(ACL_KEY)), user), (Some(Value::String(a)), Some(u)) if a == u);
    if !owner {
        if let Some(g) = before.iter().find(|g| !after.contains(g)) {
            return Err(format!(
                "Only the owner of this document may take it away from group \"{g}\"; keep the group in `c8oGrp`."
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rules() {
        let g = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(visible(&json!({"a": 1}), None, &[]));
        assert!(visible(&json!({"~c8oAcl": "bob"}), Some("bob"), &[]));
        assert!(!visible(&json!({"~c8oAcl": "bob"}), Some("ann"), &[]));
        assert!(!visible(&json!({"~c8oAcl": "bob"}), None, &[]));
        assert!(visible(
            &json!({"c8oGrp": "sales.eu"}),
            Some("ann"),
            &g(&["sales.eu"])
        ));
        assert!(!visible(
            &json!({"c8oGrp": "sales.eu"}),
            Some("ann"),
            &g(&["sales"])
        ));
        let d = json!({"c8oGrp": {"g1": true, "g2": false, "g.3": "true"}});
        assert!(visible(&d, Some("x"), &g(&["g1"])));
        assert!(!visible(&d, Some("x"), &g(&["g2"])));
        assert!(visible(&d, Some("x"), &g(&["g.3"])));
        assert!(!visible(&d, Some("x"), &g(&["g"])));
        assert!(visible(
            &json!({"~c8oAcl": "bob", "c8oGrp": "team"}),
            Some("ann"),
            &g(&["team"])
        ));
    }
}
