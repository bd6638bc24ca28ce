//! Update sequences as CouchDB-compatible servers write them: a number (`13`: ours, PouchDB,
//! CouchDB 1) or an opaque string that starts with one (`"13-g1AAAA..."`, CouchDB 2 and later).
//! Only the number is compared; the rest of a string sequence is the server's business.

use serde_json::Value;

/// The number at the front of a sequence's text (`"13"`, `"13-g1AA..."`), if there is one.
pub fn parse_seq(s: &str) -> Option<u64> {
    s.split('-').next()?.parse().ok()
}

/// The number of a sequence value: a JSON number, or a string that starts with one.
pub fn seq_number(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => parse_seq(s),
        _ => None,
    }
}

/// The number inside an opaque sequence (`13`, `"13-g1AA..."`); 0 when it has none (the start
/// of a feed).
pub fn seq_num(v: &Value) -> u64 {
    seq_number(v).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_and_couchdb_strings() {
        assert_eq!(parse_seq("13-g1AAAA"), Some(13));
        assert_eq!(parse_seq("13"), Some(13));
        assert_eq!(parse_seq("now"), None);
        assert_eq!(parse_seq(""), None);
        assert_eq!(seq_number(&json!(7)), Some(7));
        assert_eq!(seq_number(&json!("42-abc")), Some(42));
        assert_eq!(seq_number(&json!(null)), None);
        assert_eq!(seq_number(&json!(-1)), None);
        assert_eq!(seq_num(&json!("x")), 0);
        assert_eq!(seq_num(&json!("9-z")), 9);
    }
}
