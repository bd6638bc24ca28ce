//! Text quoting: when a value is written quoted, and how.

pub(super) const QUOTED_AT_LINE_START: &str = "-?:,[]{}#&*!|>'\"%@`";

/// Whether a scalar must be single-quoted: an indicator (or `\s`) at the start of a line, or
/// `": "` anywhere.
pub fn needs_quote(txt: &str) -> bool {
    let chars: Vec<char> = txt.chars().collect();
    let mut line_start = true;
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        if line_start && (QUOTED_AT_LINE_START.contains(c) || (c == '\\' && next == Some('s'))) {
            return true;
        }
        if c == ':' && next == Some(' ') {
            return true;
        }
        line_start = matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}');
    }
    false
}

pub(super) fn write_text(buf: &mut String, indent: &str, txt: &str) {
    let t = txt.replace('\r', "");
    let t = if t.is_empty() {
        "''".to_string()
    } else if needs_quote(&t) {
        format!("'{}'", t.replace('\'', "''"))
    } else {
        t
    };
    if t.contains('\n') {
        buf.push('|');
        for line in t.split('\n') {
            buf.push('\n');
            buf.push_str(indent);
            buf.push_str(line);
        }
    } else {
        buf.push_str(&t);
    }
}
