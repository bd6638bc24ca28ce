//! FullSync access rules: which documents a user's device receives.
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
use serde_json::Value;

/// Whether `doc` goes to `user` (None = anonymous) with `groups`.
pub fn visible(doc: &Value, user: Option<&str>, groups: &[String]) -> bool {
    let acl = doc.get("~c8oAcl");
    let grp = doc.get("c8oGrp");
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
