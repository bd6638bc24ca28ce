//! Reading a Convertigo project folder into a tree ([`read_c8o`]).

use std::collections::BTreeMap;
use std::path::Path;

use super::*;

pub(super) struct Line<'a> {
    indent: usize,
    array: bool,
    attr: bool,
    txt: bool,
    child: bool,
    key: &'a str,
    file: bool,
    value: &'a str,
}

pub(super) fn parse_line(l: &str) -> Option<Line<'_>> {
    let indent = l.len() - l.trim_start_matches(' ').len();
    let mut r = &l[indent..];
    let array = r.starts_with("- ");
    if array {
        r = &r[2..];
    }
    let mut flag = |c: char| match r.strip_prefix(c) {
        Some(rest) => {
            r = rest;
            true
        }
        None => false,
    };
    let attr = flag('↑');
    let txt = flag('→');
    let child = flag('↓');
    let (key, rest) = match r.find(": ") {
        Some(i) => (&r[..i], &r[i + 2..]),
        None => (r.strip_suffix(':')?, ""),
    };
    let (file, value) = match rest.strip_prefix("🗏 ") {
        Some(v) => (true, v),
        None => (false, rest),
    };
    Some(Line {
        indent,
        array,
        attr,
        txt,
        child,
        key,
        file,
        value,
    })
}

pub(super) struct Src {
    file: String,
    lines: Vec<String>,
    pos: usize,
}

impl Src {
    fn new(file: &str, text: &str) -> Src {
        Src {
            file: file.into(),
            lines: text.lines().map(String::from).collect(),
            pos: 0,
        }
    }

    fn err(&self, message: impl Into<String>) -> C8oError {
        C8oError::Parse {
            file: self.file.clone(),
            line: self.pos + 1,
            message: message.into(),
        }
    }

    fn read_text(&mut self, value: &str, indent: usize) -> String {
        let mut v = value.to_string();
        if value == "|" {
            let ind = " ".repeat(indent + INC.len());
            let mut parts = vec![];
            while let Some(l) = self.lines.get(self.pos) {
                match l.strip_prefix(ind.as_str()) {
                    Some(rest) => {
                        parts.push(rest.to_string());
                        self.pos += 1;
                    }
                    None => break,
                }
            }
            v = parts.join("\n");
        }
        if let Some(inner) = v.strip_prefix('\'') {
            let inner = inner.strip_suffix('\'').unwrap_or(inner);
            v = inner.replace("''", "'");
        }
        v
    }
}

/// A Convertigo project as read from its folder.
#[derive(Clone, Debug)]
pub struct C8oProject {
    /// The document element: its attributes hold `convertigo` (the version), its children the
    /// project bean.
    pub root: Elem,
    /// Every file read, by path relative to the project folder, with its exact text.
    pub files: BTreeMap<String, String>,
}

impl C8oProject {
    /// The version header (`↑convertigo:`).
    pub fn version(&self) -> &str {
        self.root.attr("convertigo").unwrap_or("")
    }

    /// The `core.Project` bean.
    pub fn project(&self) -> Option<&Elem> {
        self.root.beans().find(|b| b.class() == "core.Project")
    }
}

pub(super) struct Reader<'a> {
    dir: &'a Path,
    files: BTreeMap<String, String>,
}

impl Reader<'_> {
    fn read_file(&mut self, rel: &str) -> Result<String, C8oError> {
        let path = self.dir.join(rel);
        crate::confine::check(self.dir, Path::new(rel))?;
        let bytes = std::fs::read(&path).map_err(io(&path))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| C8oError::Invalid(format!("{rel} is not valid UTF-8")))?;
        self.files.insert(rel.into(), text.clone());
        Ok(text)
    }

    fn read_elem(
        &mut self,
        src: &mut Src,
        elt: &mut Elem,
        indent: usize,
        _is_bean: bool,
    ) -> Result<(), C8oError> {
        while src.pos < src.lines.len() {
            let raw = src.lines[src.pos].clone();
            if raw.trim().is_empty() {
                src.pos += 1;
                continue;
            }
            let Some(p) = parse_line(&raw) else {
                return Err(src.err(format!("not a Convertigo line: {raw}")));
            };
            if p.indent != indent {
                return Ok(());
            }
            src.pos += 1;
            if p.attr {
                let v = src.read_text(p.value, indent);
                elt.attrs.push((p.key.into(), v));
            } else if p.txt {
                let v = src.read_text(p.value, indent);
                elt.children.push(if p.key == "→" {
                    Node::Text(v)
                } else {
                    Node::Cdata(v)
                });
            } else if p.child {
                let mut c = Elem {
                    key: p.key.into(),
                    bean: true,
                    ..Default::default()
                };
                if p.file {
                    let rel = p.value.to_string();
                    let text = self.read_file(&format!("_c8oProject/{rel}"))?;
                    let mut sub = Src::new(&format!("_c8oProject/{rel}"), &text);
                    self.read_elem(&mut sub, &mut c, 0, true)?;
                    if sub.lines[sub.pos.min(sub.lines.len())..]
                        .iter()
                        .any(|l| !l.trim().is_empty())
                    {
                        return Err(sub.err("unexpected indentation"));
                    }
                    c.file = Some(rel);
                } else {
                    self.read_elem(src, &mut c, indent + INC.len(), true)?;
                }
                elt.children.push(Node::Elem(c));
            } else {
                let ti = if p.array { indent + INC.len() } else { indent };
                let v = src.read_text(p.value, ti);
                let mut n = Elem {
                    key: p.key.into(),
                    ..Default::default()
                };
                if !p.value.is_empty() {
                    n.children.push(Node::Text(v));
                }
                self.read_elem(src, &mut n, indent + INC.len(), false)?;
                elt.children.push(Node::Elem(n));
            }
        }
        Ok(())
    }
}

/// Reads a Convertigo project folder (`c8oProject.yaml` and the `_c8oProject/` files it
/// references).
pub fn read_c8o(dir: &Path) -> Result<C8oProject, C8oError> {
    let mut r = Reader {
        dir,
        files: BTreeMap::new(),
    };
    let text = r.read_file("c8oProject.yaml")?;
    let mut src = Src::new("c8oProject.yaml", &text);
    let mut root = Elem {
        key: "convertigo".into(),
        ..Default::default()
    };
    r.read_elem(&mut src, &mut root, 0, true)?;
    if src.pos < src.lines.len() {
        return Err(src.err("unexpected indentation"));
    }
    Ok(C8oProject {
        root,
        files: r.files,
    })
}
