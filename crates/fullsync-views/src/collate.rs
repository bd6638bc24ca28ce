//! CouchDB view collation.
//!
//! CouchDB orders view keys with ICU (root locale, tertiary strength). The rules implemented
//! here, and checked against CouchDB's published collation table in the tests:
//!
//! 1. Type order: `null < false < true < numbers < strings < arrays < objects`.
//! 2. Numbers compare by value (`1 == 1.0`).
//! 3. Strings compare in three levels, like ICU:
//!    - primary: characters by class, then base letter ignoring case and accents. Classes, in
//!      order: whitespace and controls; the punctuation of CouchDB's table in its order
//!      (`` ` ^ _ - , ; : ! ? . ' " ( ) [ ] { } @ * / \ & # % + < = > | ~ $ ``); other symbols by
//!      code point; digits by value; letters (Latin first, then other scripts by code point).
//!      A string that is a primary prefix of another sorts first (`a < aa`).
//!    - secondary: accents (`e < é`), compared only when primaries are equal;
//!    - tertiary: case, lowercase first (`a < A < aa < b < B`).
//! 4. Arrays compare element by element, a shorter prefix first. Objects compare key by key
//!    (keys by rule 3), then value by value, a shorter prefix first.
//!
//! Keys are turned into byte strings ([`sort_key`]) whose byte order is this order, so the
//! persistent index can keep rows sorted in a plain B-tree. `_all_docs` does not use this: it is
//! raw byte order, as in CouchDB.

use std::cmp::Ordering;

use serde_json::Value;
use unicode_normalization::char::{canonical_combining_class, decompose_canonical};

const PUNCT: &str = "`^_-,;:!?.'\"()[]{}@*/\\&#%+<=>|~$";

const T_NULL: u8 = 0x10;
const T_FALSE: u8 = 0x11;
const T_TRUE: u8 = 0x12;
const T_NUM: u8 = 0x13;
const T_STR: u8 = 0x14;
const T_ARR: u8 = 0x15;
const T_OBJ: u8 = 0x16;
const END: u8 = 0x00;
const LEVEL_SEP: u8 = 0x01;

/// Appends a weight as 3 bytes, each >= 2 (so separators 0 and 1 sort below every weight).
fn push_weight(out: &mut Vec<u8>, w: u32) {
    let w = w.min(254 * 254 * 254 - 1);
    out.push((w / (254 * 254)) as u8 + 2);
    out.push(((w / 254) % 254) as u8 + 2);
    out.push((w % 254) as u8 + 2);
}

/// Primary weight of a base character (after decomposition, lowercased).
fn primary(c: char) -> u32 {
    const G: u32 = 0x20_0000;
    if c.is_whitespace() || c.is_control() {
        return G + c as u32;
    }
    if let Some(i) = PUNCT.find(c) {
        return 2 * G + i as u32;
    }
    if let Some(d) = c.to_digit(10) {
        return 4 * G + d;
    }
    if c.is_alphabetic() {
        let lower = c.to_lowercase().next().unwrap_or(c);
        return 5 * G + lower as u32;
    }
    3 * G + c as u32
}

fn string_key(out: &mut Vec<u8>, s: &str) {
    let mut prim = Vec::with_capacity(s.len() * 3);
    let mut sec = Vec::new();
    let mut ter = Vec::new();
    let mut any_sec = false;
    let mut any_ter = false;
    for c in s.chars() {
        // Canonical decomposition: base character + combining marks.
        let mut base = None;
        let mut accent = 0u32;
        decompose_canonical(c, |d| {
            if base.is_none() {
                base = Some(d);
            } else if canonical_combining_class(d) != 0 {
                accent = accent.wrapping_mul(31).wrapping_add(d as u32) % 0xFFFF + 1;
            }
        });
        let base = base.unwrap_or(c);
        push_weight(&mut prim, primary(base));
        push_weight(&mut sec, accent);
        any_sec |= accent != 0;
        let upper = base.is_uppercase();
        push_weight(&mut ter, upper as u32);
        any_ter |= upper;
    }
    out.extend_from_slice(&prim);
    out.push(LEVEL_SEP);
    // Trailing all-zero levels are omitted: equal strings still encode identically.
    if any_sec {
        out.extend_from_slice(&sec);
    }
    out.push(LEVEL_SEP);
    if any_ter {
        out.extend_from_slice(&ter);
    }
    out.push(END);
}

fn number_key(out: &mut Vec<u8>, n: f64) {
    let n = if n == 0.0 { 0.0 } else { n }; // -0 == 0
    let bits = n.to_bits();
    let k = if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    };
    out.extend_from_slice(&k.to_be_bytes());
}

/// Appends the sort key of `v` to `out`.
pub fn encode(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.push(T_NULL),
        Value::Bool(false) => out.push(T_FALSE),
        Value::Bool(true) => out.push(T_TRUE),
        Value::Number(n) => {
            out.push(T_NUM);
            number_key(out, n.as_f64().unwrap_or(0.0));
        }
        Value::String(s) => {
            out.push(T_STR);
            string_key(out, s);
        }
        Value::Array(a) => {
            out.push(T_ARR);
            for e in a {
                encode(out, e);
            }
            out.push(END);
        }
        Value::Object(m) => {
            out.push(T_OBJ);
            for (k, e) in m {
                out.push(T_STR);
                string_key(out, k);
                encode(out, e);
            }
            out.push(END);
        }
    }
}

/// The sort key of `v`: byte order of keys = CouchDB collation of values.
pub fn sort_key(v: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(32);
    encode(&mut out, v);
    out
}

/// Compares two JSON values with CouchDB's view collation.
pub fn collate(a: &Value, b: &Value) -> Ordering {
    sort_key(a).cmp(&sort_key(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// CouchDB's documented collation order ("Views Collation", the sample list).
    #[test]
    fn couchdb_table() {
        let ordered = json!([
            null, false, true, 1, 2, 3.0, 4,
            "a", "A", "aa", "b", "B", "ba", "bb",
            ["a"], ["b"], ["b", "c"], ["b", "c", "a"], ["b", "d"], ["b", "d", "e"],
            {"a": 1}, {"a": 2}, {"b": 1}, {"b": 2}, {"b": 2, "a": 1}, {"b": 2, "c": 2}
        ]);
        let v = ordered.as_array().unwrap();
        for w in v.windows(2) {
            assert_eq!(collate(&w[0], &w[1]), Ordering::Less, "{} < {}", w[0], w[1]);
        }
    }

    /// The special characters table of the CouchDB docs, then digits and letters.
    #[test]
    fn punctuation_digits_letters() {
        let chars = [
            "`", "^", "_", "-", ",", ";", ":", "!", "?", ".", "'", "\"", "(", ")", "[", "]", "{",
            "}", "@", "*", "/", "\\", "&", "#", "%", "+", "<", "=", ">", "|", "~", "$", "0", "1",
            "9", "a", "A", "b", "B", "e", "E", "é", "É", "f", "z", "Z",
        ];
        for w in chars.windows(2) {
            assert_eq!(
                collate(&json!(w[0]), &json!(w[1])),
                Ordering::Less,
                "{:?} < {:?}",
                w[0],
                w[1]
            );
        }
        assert_eq!(collate(&json!("1"), &json!("10")), Ordering::Less);
        assert_eq!(collate(&json!("10"), &json!("2")), Ordering::Less);
        assert_eq!(
            collate(&json!("éa"), &json!("eb")),
            Ordering::Less,
            "accents are secondary"
        );
        assert_eq!(collate(&json!("Ab"), &json!("ab")), Ordering::Greater);
        assert_eq!(
            collate(&json!("Ab"), &json!("ac")),
            Ordering::Less,
            "case is tertiary"
        );
        assert_eq!(collate(&json!(1), &json!(1.0)), Ordering::Equal);
        assert_eq!(collate(&json!(-1.5), &json!(-1)), Ordering::Less);
        assert_eq!(collate(&json!(-0.0), &json!(0)), Ordering::Equal);
        assert_eq!(collate(&json!(1e300), &json!("")), Ordering::Less);
        assert_eq!(collate(&json!([]), &json!({})), Ordering::Less);
        assert_eq!(
            collate(&json!(["a", 1]), &json!(["a", "1"])),
            Ordering::Less
        );
        assert_eq!(
            collate(&json!("a b"), &json!("ab")),
            Ordering::Less,
            "whitespace first"
        );
    }
}
