//! Writing a tree back as the engine's `YamlConverter` does ([`write_c8o`]).

use std::collections::BTreeMap;

use super::*;

pub(super) fn write_elem(
    out: &mut String,
    indent: &str,
    e: &Elem,
    in_array: bool,
    files: &mut BTreeMap<String, String>,
) {
    let mut in_array = in_array;
    out.push_str(indent);
    if in_array {
        out.push_str("- ");
    }
    if e.bean {
        out.push('↓');
    }
    out.push_str(&e.key);
    out.push_str(": ");
    let sub = if e.bean { e.file.as_deref() } else { None };
    let next_indent = if sub.is_some() {
        String::new()
    } else {
        format!("{indent}{INC}")
    };
    let mut txt_indent = next_indent.clone();
    if in_array {
        txt_indent.push_str(INC);
    }
    let mut buf = String::new();
    for (k, v) in &e.attrs {
        buf.push('\n');
        buf.push_str(&next_indent);
        if !e.bean {
            buf.push_str("- ");
            in_array = true;
        }
        buf.push('↑');
        buf.push_str(k);
        buf.push_str(": ");
        write_text(&mut buf, &txt_indent, v);
    }
    let mut as_child = false;
    let last = e.children.len().saturating_sub(1);
    for (i, c) in e.children.iter().enumerate() {
        match c {
            Node::Elem(ch) => {
                buf.push('\n');
                as_child = true;
                write_elem(&mut buf, &next_indent, ch, !e.bean, files);
            }
            Node::Cdata(t) => {
                buf.push('\n');
                buf.push_str(&next_indent);
                buf.push_str("→: ");
                as_child = true;
                write_text(&mut buf, &format!("{next_indent}{INC}"), t);
            }
            Node::Text(t) if i == last => {
                if !buf.is_empty() && in_array {
                    buf.push('\n');
                    buf.push_str(&next_indent);
                    buf.push_str("- →→: ");
                    as_child = true;
                }
                write_text(&mut buf, &txt_indent, t);
            }
            Node::Text(_) => {}
        }
    }
    match sub {
        Some(f) => {
            let content = if as_child {
                buf.strip_prefix('\n').unwrap_or(&buf).to_string()
            } else {
                buf
            };
            files.insert(format!("_c8oProject/{f}"), content);
            out.push_str("🗏 ");
            out.push_str(f);
        }
        None => out.push_str(&buf),
    }
}

/// Writes a tree as the engine does: `c8oProject.yaml` and one `_c8oProject/<path>` per bean
/// with a `file`. Keys are paths relative to the project folder.
pub fn write_c8o(root: &Elem) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    let mut out = String::new();
    for (k, v) in &root.attrs {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push('↑');
        out.push_str(k);
        out.push_str(": ");
        write_text(&mut out, INC, v);
    }
    for c in &root.children {
        if let Node::Elem(e) = c {
            if !out.is_empty() {
                out.push('\n');
            }
            write_elem(&mut out, "", e, false, &mut files);
        }
    }
    files.insert("c8oProject.yaml".into(), out);
    files
}
