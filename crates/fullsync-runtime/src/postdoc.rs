//! FullSync's PostDocument rules, as pure functions: building a document from variables,
//! the merge policy, `_use_merge_<path>`, the subkey separator, `p_json_base`, the access
//! policies and "update if changed" (`~c8oHash`). See `../shared/convertigo-format.md`.

use fullsync_acl::{ACL_KEY, GRP_KEY, HASH_KEY};
use md5::{Digest, Md5};
use serde_json::{json, Map, Value};

/// How a posted document relates to the stored one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Plain post: the caller supplies `_rev`; a wrong rev is a conflict.
    None,
    /// Always a new document (`_id`/`_rev` dropped).
    Create,
    /// Replace the whole body of the current revision (create when missing).
    Override,
    /// Deep-merge into the current revision (create when missing).
    Merge,
}

impl Policy {
    /// Parses `none|create|override|merge`.
    pub fn parse(s: &str) -> Option<Policy> {
        Some(match s {
            "none" => Policy::None,
            "create" => Policy::Create,
            "override" => Policy::Override,
            "merge" => Policy::Merge,
            _ => return None,
        })
    }
}

/// Who a written document belongs to (`fullSyncAclPolicy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AclPolicy {
    /// `~c8oAcl` = the authenticated user (default).
    FromAuthenticatedUser,
    /// No owner: every device receives it.
    Anonymous,
    /// Leave `~c8oAcl` as the document has it.
    NoOp,
    /// `~c8oAcl` from the `_c8oAcl` variable.
    FromKeyC8oAcl,
}

impl AclPolicy {
    /// Parses the Convertigo names.
    pub fn parse(s: &str) -> Option<AclPolicy> {
        Some(match s {
            "fromAuthenticatedUser" => AclPolicy::FromAuthenticatedUser,
            "anonymous" => AclPolicy::Anonymous,
            "noOp" => AclPolicy::NoOp,
            "fromKeyC8oAcl" => AclPolicy::FromKeyC8oAcl,
            _ => return None,
        })
    }
}

/// Recursive merge of `new` into `old`: objects merge key by key (keys only in `old` stay, new
/// scalars win, a new `null` keeps the old value); arrays merge by index, recursing, and a
/// shorter new array keeps the old tail.
pub fn merge(old: &Value, new: &Value) -> Value {
    match (old, new) {
        (_, Value::Null) => old.clone(),
        (Value::Object(o), Value::Object(n)) => {
            let mut out = o.clone();
            for (k, v) in n {
                let merged = match o.get(k) {
                    Some(ov) => merge(ov, v),
                    None => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(o), Value::Array(n)) => {
            let mut out: Vec<Value> = n
                .iter()
                .enumerate()
                .map(|(i, v)| match o.get(i) {
                    Some(ov) => merge(ov, v),
                    None => v.clone(),
                })
                .collect();
            if o.len() > n.len() {
                out.extend(o[n.len()..].iter().cloned());
            }
            Value::Array(out)
        }
        _ => new.clone(),
    }
}

/// Sets `path` (split with `sep`) in `root` to `value`, creating objects on the way.
fn set_path(root: &mut Map<String, Value>, path: &str, sep: &str, value: Value) {
    let parts: Vec<&str> = if sep.is_empty() {
        vec![path]
    } else {
        path.split(sep).collect()
    };
    let mut cur = root;
    for (i, p) in parts.iter().enumerate() {
        if i == parts.len() - 1 {
            let merged = match cur.get(*p) {
                Some(old) => merge(old, &value),
                None => value.clone(),
            };
            cur.insert(p.to_string(), merged);
            return;
        }
        let e = cur.entry(p.to_string()).or_insert_with(|| json!({}));
        if !e.is_object() {
            *e = json!({});
        }
        cur = e.as_object_mut().expect("just made an object");
    }
}

fn remove_path(root: &mut Value, path: &str, sep: &str) {
    let parts: Vec<&str> = path.split(sep).collect();
    let mut cur = root;
    for (i, p) in parts.iter().enumerate() {
        let Some(m) = cur.as_object_mut() else { return };
        if i == parts.len() - 1 {
            m.shift_remove(*p);
            return;
        }
        match m.get_mut(*p) {
            Some(next) => cur = next,
            None => return,
        }
    }
}

fn get_path<'a>(root: &'a Value, path: &str, sep: &str) -> Option<&'a Value> {
    let mut cur = root;
    for p in path.split(sep) {
        cur = cur.as_object()?.get(p)?;
    }
    Some(cur)
}

/// The variables of a PostDocument call turned into a document: `p_json_base`, then `data`
/// (an object spread into the root), then every other variable not starting with `_use_` or
/// `__` (a name `a.b.c` nests with the subkey separator; an object value is spread into the
/// root), then the special `_id`, `_rev`, `_deleted`, `c8oGrp`.
pub fn build_doc(vars: &Map<String, Value>, json_base: Option<&Value>) -> Value {
    let sep = vars
        .get("_use_subkey_separator")
        .and_then(Value::as_str)
        .unwrap_or(".")
        .to_string();
    let mut doc: Map<String, Value> = json_base
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(Value::Object(data)) = vars.get("data") {
        for (k, v) in data {
            set_path(&mut doc, k, "", v.clone());
        }
    }
    for (k, v) in vars {
        if k.starts_with("_use_")
            || k.starts_with("__")
            || matches!(
                k.as_str(),
                "data" | "_id" | "_rev" | "_deleted" | "_c8oAcl" | GRP_KEY
            )
        {
            continue;
        }
        if k.starts_with('_') {
            continue;
        }
        match v {
            // An object value is spread into the document root.
            Value::Object(m) => {
                for (k2, v2) in m {
                    set_path(&mut doc, k2, "", v2.clone());
                }
            }
            _ => set_path(&mut doc, k, &sep, v.clone()),
        }
    }
    for k in ["_id", "_rev", GRP_KEY] {
        if let Some(v) = vars.get(k).filter(|v| !v.is_null()) {
            doc.insert(k.into(), v.clone());
        }
    }
    if vars
        .get("_deleted")
        .is_some_and(|v| v == &json!(true) || v == &json!("true"))
    {
        doc.insert("_deleted".into(), json!(true));
    }
    Value::Object(doc)
}

/// Applies the `_use_merge_<path>` directives (override|delete) after a merge: `override` puts
/// the new value instead of the merged one, `delete` removes the key.
pub fn apply_merge_directives(merged: &mut Value, posted: &Value, vars: &Map<String, Value>) {
    let sep = vars
        .get("_use_subkey_separator")
        .and_then(Value::as_str)
        .unwrap_or(".")
        .to_string();
    for (k, v) in vars {
        let Some(path) = k.strip_prefix("_use_merge_") else {
            continue;
        };
        match v.as_str() {
            Some("delete") => remove_path(merged, path, &sep),
            Some("override") => {
                if let (Some(nv), Some(m)) = (
                    get_path(posted, path, &sep).cloned(),
                    merged.as_object_mut(),
                ) {
                    set_override(m, path, &sep, nv);
                }
            }
            _ => {}
        }
    }
}

fn set_override(root: &mut Map<String, Value>, path: &str, sep: &str, value: Value) {
    let parts: Vec<&str> = path.split(sep).collect();
    let mut cur = root;
    for (i, p) in parts.iter().enumerate() {
        if i == parts.len() - 1 {
            cur.insert(p.to_string(), value);
            return;
        }
        let e = cur.entry(p.to_string()).or_insert_with(|| json!({}));
        if !e.is_object() {
            *e = json!({});
        }
        cur = e.as_object_mut().expect("object");
    }
}

/// Sets `~c8oAcl` by the access policy.
pub fn apply_acl(
    doc: &mut Value,
    policy: AclPolicy,
    user: Option<&str>,
    vars: &Map<String, Value>,
) {
    let Some(m) = doc.as_object_mut() else { return };
    match policy {
        AclPolicy::FromAuthenticatedUser => match user {
            Some(u) => {
                m.insert(ACL_KEY.into(), json!(u));
            }
            None => {
                m.shift_remove(ACL_KEY);
            }
        },
        AclPolicy::Anonymous => {
            m.shift_remove(ACL_KEY);
        }
        AclPolicy::NoOp => {}
        AclPolicy::FromKeyC8oAcl => match vars.get("_c8oAcl").and_then(Value::as_str) {
            Some(a) => {
                m.insert(ACL_KEY.into(), json!(a));
            }
            None => {
                m.shift_remove(ACL_KEY);
            }
        },
    }
}

/// The content hash of a document for "update if changed": md5 of its JSON without `_id`,
/// `_rev` and `~c8oHash`.
pub fn content_hash(doc: &Value) -> String {
    let mut d = doc.clone();
    if let Some(m) = d.as_object_mut() {
        m.shift_remove("_rev");
        m.shift_remove(HASH_KEY);
        m.shift_remove("_id");
    }
    fullsync_engine::rev::hex(&Md5::digest(d.to_string().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    /// One row per merge rule of the format notes.
    #[test]
    fn merge_rules() {
        let cases = [
            (
                "objects merge recursively",
                json!({"a": {"x": 1, "y": 2}}),
                json!({"a": {"y": 3}}),
                json!({"a": {"x": 1, "y": 3}}),
            ),
            (
                "new scalars win",
                json!({"a": 1}),
                json!({"a": 2}),
                json!({"a": 2}),
            ),
            (
                "keys only in the old doc stay",
                json!({"a": 1, "b": 2}),
                json!({"a": 3}),
                json!({"a": 3, "b": 2}),
            ),
            (
                "a new null keeps the old value",
                json!({"a": 1}),
                json!({"a": null}),
                json!({"a": 1}),
            ),
            (
                "arrays merge by index",
                json!({"l": [{"x": 1}, 2]}),
                json!({"l": [{"y": 1}, 3]}),
                json!({"l": [{"x": 1, "y": 1}, 3]}),
            ),
            (
                "a shorter new array keeps the old tail",
                json!({"l": [1, 2, 3]}),
                json!({"l": [9]}),
                json!({"l": [9, 2, 3]}),
            ),
            (
                "a longer new array adds items",
                json!({"l": [1]}),
                json!({"l": [1, 2]}),
                json!({"l": [1, 2]}),
            ),
            (
                "type changes take the new value",
                json!({"a": {"x": 1}}),
                json!({"a": 5}),
                json!({"a": 5}),
            ),
        ];
        for (name, old, new, want) in cases {
            assert_eq!(merge(&old, &new), want, "{name}");
        }
    }

    #[test]
    fn building_a_doc_from_variables() {
        let cases = [
            (
                "plain variables become fields",
                json!({"a": 1, "b": "x"}),
                None,
                json!({"a": 1, "b": "x"}),
            ),
            (
                "_use_ and __ variables are not fields",
                json!({"a": 1, "_use_policy": "merge", "__x": 1}),
                None,
                json!({"a": 1}),
            ),
            (
                "subkeys nest with the separator",
                json!({"a.b.c": 1, "a.d": 2}),
                None,
                json!({"a": {"b": {"c": 1}, "d": 2}}),
            ),
            (
                "a custom separator",
                json!({"a/b": 1, "_use_subkey_separator": "/"}),
                None,
                json!({"a": {"b": 1}}),
            ),
            (
                "data is spread into the root",
                json!({"data": {"x": 1, "y": {"z": 2}}}),
                None,
                json!({"x": 1, "y": {"z": 2}}),
            ),
            (
                "an object value is spread into the root",
                json!({"extra": {"x": 1}, "a": 2}),
                None,
                json!({"x": 1, "a": 2}),
            ),
            (
                "p_json_base is the starting point",
                json!({"b": 2}),
                Some(json!({"type": "order", "b": 1})),
                json!({"type": "order", "b": 2}),
            ),
            (
                "special variables",
                json!({"_id": "d1", "_rev": "1-a", "c8oGrp": "g.1", "_deleted": "true"}),
                None,
                json!({"_id": "d1", "_rev": "1-a", "c8oGrp": "g.1", "_deleted": true}),
            ),
        ];
        for (name, v, base, want) in cases {
            assert_eq!(build_doc(&vars(v), base.as_ref()), want, "{name}");
        }
    }

    #[test]
    fn merge_directives() {
        let old = json!({"a": {"x": 1, "y": 2}, "b": [1, 2, 3], "c": 1});
        let posted = json!({"a": {"y": 5}, "b": [9]});
        let mut m = merge(&old, &posted);
        apply_merge_directives(
            &mut m,
            &posted,
            &vars(json!({"_use_merge_a": "override", "_use_merge_c": "delete"})),
        );
        assert_eq!(m, json!({"a": {"y": 5}, "b": [9, 2, 3]}));
        let mut m = merge(&old, &posted);
        apply_merge_directives(
            &mut m,
            &posted,
            &vars(json!({"_use_merge_b": "override", "_use_merge_a.x": "delete"})),
        );
        assert_eq!(m, json!({"a": {"y": 5}, "b": [9], "c": 1}));
    }

    /// One row per access policy.
    #[test]
    fn acl_policies() {
        let cases = [
            (
                AclPolicy::FromAuthenticatedUser,
                Some("bob"),
                json!({}),
                json!({"~c8oAcl": "bob"}),
            ),
            (AclPolicy::FromAuthenticatedUser, None, json!({}), json!({})),
            (AclPolicy::Anonymous, Some("bob"), json!({}), json!({})),
            (
                AclPolicy::NoOp,
                Some("bob"),
                json!({}),
                json!({"~c8oAcl": "old"}),
            ),
            (
                AclPolicy::FromKeyC8oAcl,
                Some("bob"),
                json!({"_c8oAcl": "ann"}),
                json!({"~c8oAcl": "ann"}),
            ),
            (AclPolicy::FromKeyC8oAcl, Some("bob"), json!({}), json!({})),
        ];
        for (policy, user, v, want) in cases {
            let mut doc = json!({"~c8oAcl": "old"});
            apply_acl(&mut doc, policy, user, &vars(v));
            assert_eq!(doc, want, "{policy:?} {user:?}");
        }
        assert_eq!(
            AclPolicy::parse("fromKeyC8oAcl"),
            Some(AclPolicy::FromKeyC8oAcl)
        );
        assert_eq!(Policy::parse("merge"), Some(Policy::Merge));
        assert_eq!(Policy::parse("bogus"), None);
    }

    #[test]
    fn hash_ignores_rev_and_hash() {
        let a = json!({"_id": "x", "_rev": "1-a", "v": 1, "~c8oHash": "h"});
        let b = json!({"_id": "x", "_rev": "2-b", "v": 1});
        assert_eq!(content_hash(&a), content_hash(&b));
        assert_ne!(content_hash(&a), content_hash(&json!({"v": 2})));
    }
}
