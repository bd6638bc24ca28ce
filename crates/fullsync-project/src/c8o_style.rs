//! Writing Convertigo text the way the original was written, so that an edit changes only its
//! own lines: the docdata JSON style (Convertigo before 7.9 writes a one-key object on its
//! opening line, later versions on several lines), the key order of the original docdata
//! (views are not re-sorted), and the line endings of the original file.

use serde_json::{Map, Value};

/// How a docdata JSON text is laid out (`JSONObject.toString(2)` variants).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JsonStyle {
    /// A one-key object stays on its opening line: `{"map": "..."}`.
    pub one_key_inline: bool,
    /// A one-element array stays on its opening line: `["a"]`.
    pub one_item_inline: bool,
    /// `/` is escaped as `\/`.
    pub escape_slash: bool,
}

impl Default for JsonStyle {
    fn default() -> Self {
        JsonStyle {
            one_key_inline: true,
            one_item_inline: true,
            escape_slash: true,
        }
    }
}

fn quote(s: &str, st: JsonStyle, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' if st.escape_slash => out.push_str("\\/"),
            '\n' => out.push_str("\\n\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write(v: &Value, indent: usize, st: JsonStyle, out: &mut String) {
    let ni = indent + 2;
    let items: Vec<(Option<&String>, &Value)> = match v {
        Value::Object(m) => m.iter().map(|(k, v)| (Some(k), v)).collect(),
        Value::Array(a) => a.iter().map(|v| (None, v)).collect(),
        Value::String(s) => return quote(s, st, out),
        other => return out.push_str(&other.to_string()),
    };
    let (open, close) = if v.is_object() {
        ('{', '}')
    } else {
        ('[', ']')
    };
    out.push(open);
    let inline = match v {
        Value::Object(_) => st.one_key_inline,
        _ => st.one_item_inline,
    };
    if items.is_empty() || (items.len() == 1 && inline) {
        if let Some((k, x)) = items.first() {
            if let Some(k) = k {
                quote(k, st, out);
                out.push_str(": ");
            }
            write(x, ni, st, out);
        }
        out.push(close);
        return;
    }
    for (i, (k, x)) in items.iter().enumerate() {
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        out.push_str(&" ".repeat(ni));
        if let Some(k) = k {
            quote(k, st, out);
            out.push_str(": ");
        }
        write(x, ni, st, out);
    }
    out.push('\n');
    out.push_str(&" ".repeat(indent));
    out.push(close);
}

/// `v` written like `JSONObject.toString(2)` in style `st`, each escaped `\n` followed by a real
/// newline (before YAML quoting).
pub fn print(v: &Value, st: JsonStyle) -> String {
    let mut out = String::new();
    write(v, 0, st, &mut out);
    out
}

/// The style in which `text` (whose parsed value is `parsed`) was written: the one that gives
/// the same text, else the one that gives the most identical lines.
pub fn detect(text: &str, parsed: &Value) -> JsonStyle {
    let mut best = (0, JsonStyle::default());
    for bits in 0..8u8 {
        let st = JsonStyle {
            one_key_inline: bits & 1 == 0,
            one_item_inline: bits & 2 == 0,
            escape_slash: bits & 4 == 0,
        };
        let t = print(parsed, st);
        if t == text {
            return st;
        }
        let lines: std::collections::HashSet<&str> = text.lines().collect();
        let same = t.lines().filter(|l| lines.contains(l)).count();
        if same > best.0 {
            best = (same, st);
        }
    }
    best.1
}

/// `new` with the keys of every object in the order of the same object in `like` (keys that are
/// new go after them, in their own order).
pub fn reorder(new: Value, like: &Value) -> Value {
    match (new, like) {
        (Value::Object(mut n), Value::Object(l)) => {
            let mut out = Map::new();
            for (k, lv) in l {
                if let Some(v) = n.remove(k) {
                    out.insert(k.clone(), reorder(v, lv));
                }
            }
            out.extend(n);
            Value::Object(out)
        }
        (Value::Array(n), Value::Array(l)) => Value::Array(
            n.into_iter()
                .enumerate()
                .map(|(i, v)| match l.get(i) {
                    Some(lv) => reorder(v, lv),
                    None => v,
                })
                .collect(),
        ),
        (n, _) => n,
    }
}

/// The docdata text for `new`, given the original docdata text: `None` when the original
/// holds the same JSON (keep it as it is), else `new` in the original's key order and style.
pub fn docdata(orig: Option<&str>, new: Value) -> Option<String> {
    let Some(text) = orig else {
        return Some(print(&new, JsonStyle::default()));
    };
    match crate::convertigo::parse_docdata(text) {
        Ok(old) if old == new => None,
        Ok(old) => Some(print(&reorder(new, &old), detect(text, &old))),
        Err(_) => Some(print(&new, JsonStyle::default())),
    }
}

/// `generated` (written with `\n` and no final newline) with the line endings of `like`:
/// `\r\n` when `like` uses them, and a final line end when `like` has one.
pub fn same_line_endings(like: &str, generated: &str) -> String {
    let crlf = like.contains("\r\n");
    let mut out = if crlf {
        generated.replace("\r\n", "\n").replace('\n', "\r\n")
    } else {
        generated.to_string()
    };
    if like.ends_with('\n') && !out.ends_with('\n') {
        out.push_str(if crlf { "\r\n" } else { "\n" });
    }
    out
}
