//! CouchDB view collation.
//!
//! CouchDB orders view keys with ICU's root collator (tertiary strength, non-ignorable
//! punctuation). The rules:
//!
//! 1. Type order: `null < false < true < numbers < strings < arrays < objects`.
//! 2. Numbers compare by value (`1 == 1.0`).
//! 3. Strings compare with the Unicode Collation Algorithm and CLDR's root order, through
//!    ICU4X's collator (`icu_collator`), the same data ICU uses: base letters first (`ß` next
//!    to `ss`, `æ` next to `ae`, `ł` next to `l`), then accents (`a á à â å ä ã ą ā`), then case
//!    (`a < A`); canonically equivalent strings (`é` and `e` + U+0301) are equal.
//! 4. Arrays compare element by element, a shorter prefix first. Objects compare key by key
//!    (keys by rule 3), then value by value, a shorter prefix first.
//!
//! Keys are turned into byte strings ([`sort_key`]) whose byte order is this order, so the
//! persistent index can keep rows sorted in a plain B-tree. A string's part is ICU4X's sort
//! key, escaped so that it holds no 0x00 byte, then a 0x00 terminator: a string that is a
//! prefix of another sorts first, inside arrays and objects too. Stored sort keys depend on the
//! collator's data: `INDEX_FORMAT` (lib.rs) names the index files, so a change of collation
//! rebuilds indexes. `_all_docs` does not use this: it is raw byte order, as in CouchDB.

use std::cmp::Ordering;
use std::sync::OnceLock;

use icu_collator::options::CollatorOptions;
use icu_collator::{Collator, CollatorBorrowed};
use serde_json::Value;

const T_NULL: u8 = 0x10;
const T_FALSE: u8 = 0x11;
const T_TRUE: u8 = 0x12;
const T_NUM: u8 = 0x13;
const T_STR: u8 = 0x14;
const T_ARR: u8 = 0x15;
const T_OBJ: u8 = 0x16;
const END: u8 = 0x00;

/// ICU's root collator (CLDR root order, tertiary strength), built once from compiled data.
fn collator() -> &'static CollatorBorrowed<'static> {
    static C: OnceLock<CollatorBorrowed<'static>> = OnceLock::new();
    C.get_or_init(|| {
        Collator::try_new(Default::default(), CollatorOptions::default())
            .expect("the root collation data is compiled in")
    })
}

fn string_key(out: &mut Vec<u8>, s: &str) {
    let mut raw: Vec<u8> = Vec::with_capacity(s.len() * 2 + 8);
    let Ok(()) = collator().write_sort_key_to(s, &mut raw);
    // Escape 0x00 and 0x01 (0x01 0x01 and 0x01 0x02) so the 0x00 terminator sorts below every
    // byte of any key: byte order is kept, and a prefix still sorts first.
    for b in raw {
        if b <= 1 {
            out.push(1);
            out.push(b + 1);
        } else {
            out.push(b);
        }
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

    /// The order Apache CouchDB 3.4.3 gave, measured on this machine kind (one key per
    /// document, view `emit(doc.k)`; ../shared/peers.md): the whole list must come out in
    /// exactly this order, with `é` and `e` + U+0301 equal.
    #[test]
    fn couchdb_3_4_measured_order() {
        let measured = [
            "a", "á", "à", "â", "å", "ä", "ã", "ą", "ā", "ae", "æ", "af", "c", "ç", "cote", "Cote",
            "coté", "côte", "côté", "d", "é", "e\u{301}", "è", "fi", "ﬁ", "fj", "i", "ı", "j", "l",
            "Ł", "m", "n", "ñ", "o", "ö", "ø", "oe", "œ", "of", "ss", "ß", "st", "ŉ",
        ];
        let mut shuffled: Vec<Value> = measured.iter().rev().map(|s| json!(s)).collect();
        shuffled.rotate_left(17);
        shuffled.sort_by(collate);
        let got: Vec<&str> = shuffled.iter().map(|v| v.as_str().unwrap()).collect();
        let mut want = measured.to_vec();
        // Equal keys keep no particular order between themselves: compare them as a set.
        let (i, j) = (20, 21);
        assert_eq!(collate(&json!(want[i]), &json!(want[j])), Ordering::Equal);
        if got[i] != want[i] {
            want.swap(i, j);
        }
        assert_eq!(got, want);
        for w in [
            ["a", "A"],
            ["A", "å"],
            ["å", "Å"],
            ["Å", "ä"],
            ["ss", "ß"],
            ["ß", "z"],
            ["z", "Z"],
            ["Z", "中"],
        ] {
            assert_eq!(collate(&json!(w[0]), &json!(w[1])), Ordering::Less, "{w:?}");
        }
    }

    /// Punctuation before symbols, digits and letters; digits by code, not by value.
    #[test]
    fn punctuation_digits_letters() {
        let chars = [
            " ", "_", "-", ",", ";", ":", "!", "?", ".", "'", "\"", "(", ")", "[", "]", "{", "}",
            "@", "*", "/", "\\", "&", "#", "%", "+", "<", "=", ">", "|", "~", "$", "0", "1", "9",
            "a", "A", "b", "B", "e", "E", "é", "É", "f", "z", "Z",
        ];
        let mut sorted: Vec<Value> = chars.iter().rev().map(|c| json!(c)).collect();
        sorted.sort_by(collate);
        let got: Vec<&str> = sorted.iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(got, chars.to_vec());
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
