//! The properties a transaction kind takes, for the studio property sheet.

use super::design::VIEW_OPTIONS;

/// A property a transaction type reads: what its property sheet shows. At run time a variable
/// overrides it: the plain option name for view, `_all_docs` and Mango options (`key`,
/// `limit`...), `_use_<name>` for the others (`_use_policy`...).
#[derive(Clone, Debug, serde::Serialize)]
pub struct PropertySpec {
    /// Property name in the transaction file (`q_limit`, `policy`...).
    pub name: &'static str,
    /// `string`, `bool`, `number`, `json` (any JSON, typed as text), `view` (`ddoc/view`) or
    /// `choice` (one of `choices`).
    pub kind: &'static str,
    /// The allowed values of a `choice`.
    pub choices: &'static [&'static str],
    /// The variable that overrides it at run time.
    pub variable: String,
    /// The schema type of that variable (`xsd:string`, `xsd:boolean`, `xsd:integer`).
    pub schema_type: &'static str,
}

pub(super) fn option_kind(o: &str) -> &'static str {
    match o {
        "limit" | "skip" | "group_level" => "number",
        "inclusive_end" | "descending" | "group" | "reduce" | "include_docs" | "conflicts"
        | "update_seq" => "bool",
        "startkey_docid" | "endkey_docid" | "stale" | "bookmark" | "use_index" => "string",
        _ => "json",
    }
}

pub(super) fn schema_of(kind: &str) -> &'static str {
    match kind {
        "bool" => "xsd:boolean",
        "number" => "xsd:integer",
        _ => "xsd:string",
    }
}

pub(super) fn spec(
    name: &'static str,
    kind: &'static str,
    choices: &'static [&'static str],
) -> PropertySpec {
    let short = name.trim_start_matches("q_").trim_start_matches("p_");
    let variable = if name.starts_with("q_") {
        short.to_string()
    } else {
        format!("_use_{short}")
    };
    PropertySpec {
        name,
        kind,
        choices,
        variable,
        schema_type: schema_of(kind),
    }
}

/// The properties transaction type `kind` reads (empty for types without properties or
/// unknown types).
pub fn properties_of(kind: &str) -> Vec<PropertySpec> {
    const AND_Q: &[(&str, &str)] = &[
        ("key", "q_key"),
        ("keys", "q_keys"),
        ("startkey", "q_startkey"),
        ("start_key", "q_start_key"),
        ("endkey", "q_endkey"),
        ("end_key", "q_end_key"),
        ("startkey_docid", "q_startkey_docid"),
        ("endkey_docid", "q_endkey_docid"),
        ("inclusive_end", "q_inclusive_end"),
        ("limit", "q_limit"),
        ("skip", "q_skip"),
        ("descending", "q_descending"),
        ("group", "q_group"),
        ("group_level", "q_group_level"),
        ("reduce", "q_reduce"),
        ("include_docs", "q_include_docs"),
        ("conflicts", "q_conflicts"),
        ("update_seq", "q_update_seq"),
        ("stale", "q_stale"),
        ("selector", "q_selector"),
        ("fields", "q_fields"),
        ("sort", "q_sort"),
        ("use_index", "q_use_index"),
        ("bookmark", "q_bookmark"),
    ];
    let q = |o: &str| {
        let name = AND_Q
            .iter()
            .find(|(s, _)| *s == o)
            .map(|(_, n)| *n)
            .expect("known option");
        spec(name, option_kind(o), &[])
    };
    match kind {
        "GetView" => std::iter::once(spec("viewname", "view", &[]))
            .chain(VIEW_OPTIONS.iter().map(|o| q(o)))
            .collect(),
        "PostDocument" | "PostBulkDocuments" => vec![
            spec("policy", "choice", &["none", "create", "override", "merge"]),
            spec(
                "fullSyncAclPolicy",
                "choice",
                &[
                    "fromAuthenticatedUser",
                    "anonymous",
                    "noOp",
                    "fromKeyC8oAcl",
                ],
            ),
            spec("useHash", "bool", &[]),
            spec("p_json_base", "json", &[]),
        ],
        "AllDocs" => ["include_docs", "limit", "skip", "descending"]
            .iter()
            .map(|o| q(o))
            .collect(),
        "PostFind" => [
            "selector",
            "fields",
            "sort",
            "limit",
            "skip",
            "use_index",
            "bookmark",
        ]
        .iter()
        .map(|o| q(o))
        .collect(),
        "PostReplicate" => vec![
            spec("p_source", "string", &[]),
            spec("p_target", "string", &[]),
        ],
        _ => vec![],
    }
}

#[cfg(test)]
mod property_tests {
    use super::*;

    #[test]
    fn every_view_option_is_a_getview_property_with_its_variable() {
        let p = properties_of("GetView");
        assert_eq!(p[0].name, "viewname");
        assert_eq!(p.len(), VIEW_OPTIONS.len() + 1);
        let limit = p.iter().find(|s| s.name == "q_limit").unwrap();
        assert_eq!((limit.kind, limit.variable.as_str()), ("number", "limit"));
        let policy = &properties_of("PostDocument")[0];
        assert_eq!(policy.variable, "_use_policy");
        assert!(policy.choices.contains(&"merge"));
        // Every advertised choice parses.
        for c in policy.choices {
            assert!(crate::postdoc::Policy::parse(c).is_some(), "{c}");
        }
        for c in properties_of("PostDocument")[1].choices {
            assert!(crate::postdoc::AclPolicy::parse(c).is_some(), "{c}");
        }
        assert!(properties_of("GetServerInfo").is_empty());
    }
}
