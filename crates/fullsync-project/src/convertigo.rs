//! Convertigo project import and export (see `shared/convertigo-format.md`).
//!
//! A Convertigo project folder (`c8oProject.yaml` + `_c8oProject/...`) is the engine's XML bean
//! tree written line by line. [`read_c8o`] parses it into a generic tree of [`Elem`]s (beans,
//! properties, attributes, CDATA and text nodes, `🗏` references resolved into their files) and
//! [`write_c8o`] writes such a tree back exactly as the engine's `YamlConverter` does, so that an
//! unedited tree writes back to the same bytes.
//!
//! [`import_c8o`] turns the FullSync parts (FullSync connectors: design documents, Mango
//! `JsonIndex` beans, the four listener kinds, `transactions.couchdb.*` transactions and their
//! variables) into our project format. Everything else (sequences, other connectors, mobile
//! apps, url mapper, references, and any connector child we cannot map) is kept verbatim: the
//! whole original folder is copied under `.convertigo/project/` of the imported project and the
//! beans are listed as read-only in the [`ImportReport`].
//!
//! [`export_c8o`] writes a Convertigo project back: the verbatim copy, and for each FullSync
//! connector either its original bytes (when its FullSync content did not change since the
//! import) or a regenerated bean. [`export_car`] zips that under `<ProjectName>/`.
//!
//! Readings chosen where the notes leave room (each picked so that import/export round-trips):
//! - `revs_limit` has no Convertigo property: import sets 10, export does not write it.
//! - Listener targets `http`, `handler` and `log` are local-only and not exported; Mango index
//!   `ddoc` and `partial_filter_selector` have no `JsonIndex` key and are not exported either.
//! - `JsonIndex.fields` is read as a JSON array of field names (or CouchDB sort objects);
//!   `ascending: false` turns every name into `{"name": "desc"}`.
//! - docdata JSON is written like `JSONObject.toString(2)` (a one-key object or one-element
//!   array stays on the opening line, `/` escaped as `\/`, each escaped `\n` followed by a real
//!   newline), but a tab is written as the JSON escape `\t` instead of 4 spaces so that the
//!   function text survives unchanged.
//! - Transaction property values are typed on import: `true`/`false` become booleans, canonical
//!   integers become integers, everything else stays a string. Variable values are strings.
//! - `targetView` / `targetFilter` are `Project.connector.ddoc.name`; a listener or transaction
//!   pointing outside its connector, or to a view that does not exist, is kept read-only.
//! - Listener target sequences of other projects are added to `[convertigo] sequences`.
//! - `.car` entries are stored (not deflated), which every zip reader accepts; `.git`, `.svn`,
//!   `.gradle`, `CVS` and `node_modules` are excluded at any depth, `_private`, `_data`, `build`,
//!   `oas2`, `oas3` and `<name>.car` at the project root.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::model::*;
use crate::write_atomic;

const INC: &str = "  ";
/// Version header written for projects that were never imported from Convertigo.
pub const DEFAULT_C8O_VERSION: &str = "8.0.0.m006";
/// Folder of an imported project that holds the verbatim Convertigo project.
pub const ORIGINAL_DIR: &str = ".convertigo/project";

/// Errors of Convertigo import/export.
#[derive(Debug, thiserror::Error)]
pub enum C8oError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// A Convertigo file does not follow the line grammar.
    #[error("{file}:{line}: {message}")]
    Parse {
        /// File (relative to the project folder).
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The project is not usable.
    #[error("{0}")]
    Invalid(String),
    /// A symbolic link leads outside the project folder (see [`crate::confine`]).
    #[error(transparent)]
    Outside(#[from] crate::confine::Escape),
    /// Our project does not load.
    #[error("the project has errors: {}", .0.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("; "))]
    Load(Vec<crate::Diagnostic>),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> C8oError + '_ {
    move |source| C8oError::Io {
        path: path.to_path_buf(),
        source,
    }
}

// ---------------------------------------------------------------------------------------------
// Generic tree
// ---------------------------------------------------------------------------------------------

/// A node of the bean tree: an element, a CDATA block (`→:`) or a text node (`→→:` / inline).
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// An element (bean or property).
    Elem(Elem),
    /// CDATA.
    Cdata(String),
    /// Text.
    Text(String),
}

/// An element: a bean (`↓Name [pkg.Class-priority]:`) or a plain element (`key: value`).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Elem {
    /// For beans `Name [pkg.Class-priority]`, otherwise the tag (property) name.
    pub key: String,
    /// Whether it is a bean.
    pub bean: bool,
    /// XML attributes (`↑key: value`).
    pub attrs: Vec<(String, String)>,
    /// Children in order.
    pub children: Vec<Node>,
    /// `🗏 path`: the bean's content lives in `_c8oProject/<path>`.
    pub file: Option<String>,
}

fn split_key(key: &str) -> (&str, &str, Option<&str>) {
    if let (Some(i), true) = (key.rfind(" ["), key.ends_with(']')) {
        let inner = &key[i + 2..key.len() - 1];
        if let Some(j) = inner.rfind('-') {
            let p = &inner[j + 1..];
            if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) {
                return (&key[..i], &inner[..j], Some(p));
            }
        }
        return (&key[..i], inner, None);
    }
    (key, "", None)
}

impl Elem {
    /// A new bean; `class` without `com.twinsoft.convertigo.beans.`.
    pub fn new_bean(name: &str, class: &str, priority: Option<&str>) -> Elem {
        let key = match priority {
            Some(p) => format!("{name} [{class}-{p}]"),
            None => format!("{name} [{class}]"),
        };
        Elem {
            key,
            bean: true,
            ..Default::default()
        }
    }

    /// Bean name.
    pub fn name(&self) -> &str {
        split_key(&self.key).0
    }

    /// Bean class without `com.twinsoft.convertigo.beans.` (`connectors.FullSyncConnector`).
    pub fn class(&self) -> &str {
        split_key(&self.key).1
    }

    /// Bean priority (the `-<number>` suffix).
    pub fn priority(&self) -> Option<&str> {
        split_key(&self.key).2
    }

    /// Child beans.
    pub fn beans(&self) -> impl Iterator<Item = &Elem> {
        self.children.iter().filter_map(|n| match n {
            Node::Elem(e) if e.bean => Some(e),
            _ => None,
        })
    }

    /// An attribute.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn prop_elem(&self, name: &str) -> Option<&Elem> {
        self.children.iter().find_map(|n| match n {
            Node::Elem(e) if !e.bean && e.key == name => Some(e),
            _ => None,
        })
    }

    /// A property with a simple value (text or CDATA).
    pub fn prop(&self, name: &str) -> Option<String> {
        self.prop_elem(name).and_then(simple_value)
    }

    /// Sets a simple property (keeping its CDATA/text form), inserts it in name order before the
    /// child beans, or removes it (`None`). A complex property is never removed.
    pub fn set_prop(&mut self, name: &str, value: Option<&str>) {
        self.set_prop_as(name, value, false)
    }

    fn set_prop_as(&mut self, name: &str, value: Option<&str>, cdata: bool) {
        let pos = self
            .children
            .iter()
            .position(|n| matches!(n, Node::Elem(e) if !e.bean && e.key == name));
        match (pos, value) {
            (Some(i), Some(v)) => {
                if let Node::Elem(e) = &mut self.children[i] {
                    if simple_value(e).as_deref() == Some(v) {
                        return; // unchanged: keep its form (`value: ` stays empty, not `''`)
                    }
                    let was_cdata = matches!(e.children.as_slice(), [Node::Cdata(_)]);
                    if simple_value(e).is_some() || cdata {
                        e.children = vec![if was_cdata || cdata {
                            Node::Cdata(v.into())
                        } else {
                            Node::Text(v.into())
                        }];
                    } else {
                        e.children = vec![Node::Text(v.into())];
                        e.attrs.clear();
                    }
                }
            }
            (Some(i), None) => {
                if let Node::Elem(e) = &self.children[i] {
                    if simple_value(e).is_some() {
                        self.children.remove(i);
                    }
                }
            }
            (None, Some(v)) => {
                let node = Node::Elem(Elem {
                    key: name.into(),
                    children: vec![if cdata {
                        Node::Cdata(v.into())
                    } else {
                        Node::Text(v.into())
                    }],
                    ..Default::default()
                });
                let at = self
                    .children
                    .iter()
                    .position(|n| match n {
                        Node::Elem(e) => e.bean || e.key.as_str() > name,
                        _ => false,
                    })
                    .unwrap_or(self.children.len());
                self.children.insert(at, node);
            }
            (None, None) => {}
        }
    }
}

fn simple_value(e: &Elem) -> Option<String> {
    if e.bean || !e.attrs.is_empty() {
        return None;
    }
    match e.children.as_slice() {
        [] => Some(String::new()),
        [Node::Text(t)] | [Node::Cdata(t)] => Some(t.clone()),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Text quoting
// ---------------------------------------------------------------------------------------------

const QUOTED_AT_LINE_START: &str = "-?:,[]{}#&*!|>'\"%@`";

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

fn write_text(buf: &mut String, indent: &str, txt: &str) {
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

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

struct Line<'a> {
    indent: usize,
    array: bool,
    attr: bool,
    txt: bool,
    child: bool,
    key: &'a str,
    file: bool,
    value: &'a str,
}

fn parse_line(l: &str) -> Option<Line<'_>> {
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

struct Src {
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

struct Reader<'a> {
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

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

fn write_elem(
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

// ---------------------------------------------------------------------------------------------
// docdata JSON (JSONObject.toString(2) style)
// ---------------------------------------------------------------------------------------------

/// docdata JSON of a design document (no `_rev`), keys in the order import writes them.
pub fn docdata_value(dd: &DesignDoc) -> Value {
    let mut keys: BTreeMap<String, Value> = BTreeMap::new();
    let mut views = Map::new();
    for v in &dd.views {
        let mut def = Map::new();
        def.insert("map".into(), json!(v.map.text));
        if let Some(r) = &v.reduce {
            def.insert("reduce".into(), json!(r.text.trim()));
        }
        views.insert(v.name.clone(), Value::Object(def));
    }
    if !dd.lib.is_empty() {
        let lib: Map<String, Value> = dd
            .lib
            .iter()
            .map(|(k, f)| (k.clone(), json!(f.text)))
            .collect();
        views.insert("lib".into(), Value::Object(lib));
    }
    if !views.is_empty() {
        keys.insert("views".into(), Value::Object(views));
    }
    if !dd.filters.is_empty() {
        let f: Map<String, Value> = dd
            .filters
            .iter()
            .map(|(n, s)| (n.clone(), json!(s.text)))
            .collect();
        keys.insert("filters".into(), Value::Object(f));
    }
    if let Some(v) = &dd.validate {
        keys.insert("validate_doc_update".into(), json!(v.text));
    }
    for (k, v) in &dd.other {
        keys.entry(k.clone()).or_insert_with(|| v.clone());
    }
    let mut doc = Map::new();
    doc.insert("_id".into(), json!(format!("_design/{}", dd.name)));
    doc.extend(keys);
    Value::Object(doc)
}

/// docdata text of a design document, as Convertigo writes it (before YAML quoting).
pub fn docdata_text(dd: &DesignDoc) -> String {
    crate::c8o_style::print(&docdata_value(dd), crate::c8o_style::JsonStyle::default())
}

/// Parses a docdata text (YAML quoting already removed): real newlines are deleted.
pub fn parse_docdata(text: &str) -> Result<Value, serde_json::Error> {
    let t: String = text.chars().filter(|c| *c != '\n' && *c != '\r').collect();
    serde_json::from_str(&t)
}

// ---------------------------------------------------------------------------------------------
// FullSync mapping
// ---------------------------------------------------------------------------------------------

const FULLSYNC_CONNECTOR: &str = "connectors.FullSyncConnector";
const VAR: &str = "variables.RequestableVariable";
const MULTI_VAR: &str = "variables.RequestableMultiValuedVariable";

/// A bean kept verbatim (not edited by FullSync Studio).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReadOnlyBean {
    /// `Project/child` or `Project/connector/child`.
    pub path: String,
    /// Bean class (without `com.twinsoft.convertigo.beans.`).
    pub class: String,
    /// Why it is read-only.
    pub reason: String,
}

/// What [`import_c8o`] did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ImportReport {
    /// Project name.
    pub project: String,
    /// Convertigo version header.
    pub c8o_version: String,
    /// Imported FullSync connectors.
    pub connectors: Vec<String>,
    /// Sequences (`Project.Sequence`).
    pub sequences: Vec<String>,
    /// Beans kept verbatim.
    pub read_only: Vec<ReadOnlyBean>,
    /// Diagnostics of loading the imported project (warnings only when all went well).
    pub diagnostics: Vec<String>,
}

pub(crate) fn kind_of(class: &str) -> Option<&'static str> {
    match class {
        "couchdb.DesignDocument" => Some("ddoc"),
        "couchdb.JsonIndex" => Some("index"),
        "couchdb.FullSyncListener"
        | "couchdb.FullSyncFilterListener"
        | "couchdb.FullSyncDeleteViewListener"
        | "couchdb.FullSyncDeleteFilterListener" => Some("listener"),
        c if c.starts_with("transactions.couchdb.") && c.ends_with("Transaction") => {
            Some("transaction")
        }
        _ => None,
    }
}

fn safe_name(n: &str) -> bool {
    !n.is_empty()
        && !n.starts_with('.')
        && !n.contains(['/', '\\', ':', '*', '?', '"', '<', '>', '|', '\n', '\r'])
        && n.trim() == n
}

/// FullSync content of one connector bean.
struct Extracted {
    connector: Connector,
    managed: BTreeSet<(&'static str, String)>,
    read_only: Vec<ReadOnlyBean>,
    sequences: Vec<String>,
}

fn typed(v: &str) -> toml::Value {
    match v {
        "true" => toml::Value::Boolean(true),
        "false" => toml::Value::Boolean(false),
        _ => match v.parse::<i64>() {
            Ok(i) if i.to_string() == v => toml::Value::Integer(i),
            _ => toml::Value::String(v.into()),
        },
    }
}

fn untyped(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `Project.connector.a.b` -> `a/b`, choosing the split where `a` is a known ddoc.
fn target_ref(
    t: &str,
    project: &str,
    conn: &str,
    ddocs: &[DesignDoc],
    check: impl Fn(&DesignDoc, &str) -> bool,
) -> Option<String> {
    let rest = t.strip_prefix(&format!("{project}.{conn}."))?;
    for dd in ddocs {
        if let Some(n) = rest.strip_prefix(&format!("{}.", dd.name)) {
            if check(dd, n) {
                return Some(format!("{}/{n}", dd.name));
            }
        }
    }
    None
}

fn source(path: PathBuf, text: &str) -> SourceFile {
    SourceFile {
        path,
        text: text.into(),
    }
}

fn extract_ddoc(b: &Elem, dir: &Path) -> Result<DesignDoc, String> {
    let name = b.name().to_string();
    if !safe_name(&name) {
        return Err("its name cannot be a folder name".into());
    }
    let data = b.prop("docdata").ok_or("it has no docdata")?;
    let doc = parse_docdata(&data).map_err(|e| format!("its docdata is not JSON: {e}"))?;
    let Value::Object(doc) = doc else {
        return Err("its docdata is not a JSON object".into());
    };
    if doc.get("language").and_then(|l| l.as_str()) == Some("query") {
        return Err("Mango design document".into());
    }
    let ddir = dir.join("design").join(&name);
    let mut dd = DesignDoc {
        name,
        dir: ddir.clone(),
        views: vec![],
        lib: BTreeMap::new(),
        filters: vec![],
        validate: None,
        other: Map::new(),
    };
    let all_str = |m: &Map<String, Value>| m.values().all(|v| v.is_string());
    for (k, v) in doc {
        match (k.as_str(), &v) {
            ("_id" | "_rev", _) => {}
            ("views", Value::Object(m))
                if !m.is_empty()
                    && m.iter().all(|(n, d)| match d {
                        Value::Object(o) if n == "lib" => all_str(o) && !o.is_empty(),
                        Value::Object(o) => {
                            safe_name(n)
                                && o.get("map").is_some_and(|m| m.is_string())
                                && o.get("reduce").is_none_or(|r| r.is_string())
                                && o.keys().all(|k| k == "map" || k == "reduce")
                        }
                        _ => false,
                    })
                    && m.get("lib")
                        .and_then(|l| l.as_object())
                        .is_none_or(|l| l.keys().all(|k| safe_name(k))) =>
            {
                for (n, d) in m {
                    let vdir = ddir.join("views").join(n);
                    if n == "lib" {
                        for (mn, t) in d.as_object().into_iter().flatten() {
                            let p = ddir.join("views/lib").join(format!("{mn}.js"));
                            dd.lib
                                .insert(mn.clone(), source(p, t.as_str().unwrap_or("")));
                        }
                        continue;
                    }
                    dd.views.push(View {
                        name: n.clone(),
                        map: source(vdir.join("map.js"), d["map"].as_str().unwrap_or("")),
                        reduce: d
                            .get("reduce")
                            .and_then(|r| r.as_str())
                            .map(|r| source(vdir.join("reduce.js"), r)),
                    });
                }
            }
            ("filters", Value::Object(m))
                if !m.is_empty() && all_str(m) && m.keys().all(|k| safe_name(k)) =>
            {
                for (n, t) in m {
                    let p = ddir.join("filters").join(format!("{n}.js"));
                    dd.filters
                        .push((n.clone(), source(p, t.as_str().unwrap_or(""))));
                }
            }
            ("validate_doc_update", Value::String(s)) => {
                dd.validate = Some(source(ddir.join("validate_doc_update.js"), s));
            }
            _ if safe_name(&k) => {
                dd.other.insert(k, v);
            }
            _ => return Err(format!("key `{k}` cannot be a file name")),
        }
    }
    dd.views.sort_by(|a, b| a.name.cmp(&b.name));
    dd.filters.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(dd)
}

fn extract_index(b: &Elem) -> Result<MangoIndex, String> {
    if !safe_name(b.name()) {
        return Err("its name cannot be a file name".into());
    }
    let f = b.prop("fields").ok_or("it has no fields")?;
    let Ok(Value::Array(fields)) = serde_json::from_str::<Value>(&f) else {
        return Err("fields is not a JSON array".into());
    };
    let desc = b.prop("ascending").as_deref() == Some("false");
    let fields = fields
        .into_iter()
        .map(|v| match v {
            Value::String(s) if desc => json!({ s: "desc" }),
            other => other,
        })
        .collect();
    Ok(MangoIndex {
        name: b.name().into(),
        fields,
        ddoc: None,
        partial_filter_selector: None,
    })
}

fn extract_listener(
    b: &Elem,
    project: &str,
    conn: &str,
    ddocs: &[DesignDoc],
    dir: &Path,
) -> Result<Listener, String> {
    let name = b.name().to_string();
    if !safe_name(&name) {
        return Err("its name cannot be a file name".into());
    }
    let (kind, by_view) = match b.class() {
        "couchdb.FullSyncListener" => (ListenerKind::Update, true),
        "couchdb.FullSyncFilterListener" => (ListenerKind::Update, false),
        "couchdb.FullSyncDeleteViewListener" => (ListenerKind::Delete, true),
        _ => (ListenerKind::Delete, false),
    };
    let chunk = match b.prop("chunk") {
        Some(c) => c
            .parse::<i64>()
            .map_err(|_| format!("chunk `{c}` is not a number"))?,
        None => 10,
    };
    let enabled = b.prop("isEnabled").as_deref() != Some("false");
    let (mut view, mut filter) = (None, None);
    if by_view {
        let t = b.prop("targetView").unwrap_or_default();
        view = Some(
            target_ref(&t, project, conn, ddocs, |d, v| {
                d.views.iter().any(|x| x.name == v)
            })
            .ok_or_else(|| format!("targetView `{t}` is not a view of this connector"))?,
        );
    } else {
        let t = b.prop("targetFilter").unwrap_or_else(|| "_doc_ids".into());
        filter = Some(if t == "_doc_ids" {
            t
        } else {
            target_ref(&t, project, conn, ddocs, |d, f| {
                d.filters.iter().any(|x| x.0 == f)
            })
            .ok_or_else(|| format!("targetFilter `{t}` is not a filter of this connector"))?
        });
    }
    Ok(Listener {
        file: dir.join("listeners").join(format!("{name}.toml")),
        name,
        kind,
        view,
        filter,
        chunk,
        enabled,
        target: ListenerTarget {
            sequence: b.prop("targetSequence").filter(|s| !s.is_empty()),
            ..Default::default()
        },
    })
}

fn extract_transaction(b: &Elem, ddocs: &[DesignDoc], dir: &Path) -> Result<Transaction, String> {
    let name = b.name().to_string();
    if !safe_name(&name) {
        return Err("its name cannot be a file name".into());
    }
    let kind = b
        .class()
        .trim_start_matches("transactions.couchdb.")
        .trim_end_matches("Transaction")
        .to_string();
    let mut properties = BTreeMap::new();
    let mut variables: Vec<Variable> = vec![];
    for n in &b.children {
        let Node::Elem(e) = n else { continue };
        if !e.bean {
            if let Some(v) = simple_value(e) {
                properties.insert(e.key.clone(), typed(&v));
            }
        } else if e.class() == VAR || e.class() == MULTI_VAR {
            if variables.iter().any(|v| v.name == e.name()) {
                return Err(format!("variable `{}` is declared twice", e.name()));
            }
            variables.push(Variable {
                name: e.name().into(),
                description: e.prop("description").unwrap_or_default(),
                default: e.prop("value").map(Value::String).unwrap_or(Value::Null),
                required: e.prop("required").as_deref() == Some("true"),
                multi_valued: e.class() == MULTI_VAR,
                schema_type: e
                    .prop("schemaType")
                    .or_else(|| crate::c8o_types::qname_type(e))
                    .unwrap_or_else(|| "xsd:string".into()),
            });
        }
    }
    if let Some(toml::Value::String(vn)) = properties.get("viewname") {
        let ok = vn.split_once('/').is_some_and(|(d, v)| {
            ddocs
                .iter()
                .any(|x| x.name == d && x.views.iter().any(|y| y.name == v))
        });
        if !ok {
            return Err(format!("viewname `{vn}` is not a view of this connector"));
        }
    }
    Ok(Transaction {
        file: dir.join("transactions").join(format!("{name}.toml")),
        name,
        kind,
        properties,
        variables,
    })
}

fn extract_connector(b: &Elem, project: &str, dir: &Path) -> Extracted {
    let name = b.name().to_string();
    let mut ex = Extracted {
        connector: Connector {
            name: name.clone(),
            dir: dir.to_path_buf(),
            anonymous_replication: b.prop("anonymousReplication").as_deref() == Some("allow"),
            revs_limit: 10,
            design_docs: vec![],
            indexes: vec![],
            listeners: vec![],
            transactions: vec![],
        },
        managed: BTreeSet::new(),
        read_only: vec![],
        sequences: vec![],
    };
    let ro = |c: &Elem, reason: String, ex: &mut Extracted| {
        ex.read_only.push(ReadOnlyBean {
            path: format!("{project}/{name}/{}", c.name()),
            class: c.class().into(),
            reason,
        })
    };
    // Design documents first: listeners and transactions are checked against them.
    for c in b.beans() {
        if kind_of(c.class()) == Some("ddoc") {
            match extract_ddoc(c, dir) {
                Ok(dd) if !ex.managed.contains(&("ddoc", dd.name.clone())) => {
                    ex.managed.insert(("ddoc", dd.name.clone()));
                    ex.connector.design_docs.push(dd);
                }
                Ok(_) => ro(c, "duplicate name".into(), &mut ex),
                Err(r) => ro(c, r, &mut ex),
            }
        }
    }
    ex.connector.design_docs.sort_by(|a, b| a.name.cmp(&b.name));
    let ddocs = ex.connector.design_docs.clone();
    for c in b.beans() {
        let k = kind_of(c.class());
        let res: Result<(), String> = match k {
            Some("ddoc") => continue,
            Some("index") => extract_index(c).map(|ix| ex.connector.indexes.push(ix)),
            Some("listener") => extract_listener(c, project, &name, &ddocs, dir).map(|l| {
                if let Some(s) = &l.target.sequence {
                    ex.sequences.push(s.clone());
                }
                ex.connector.listeners.push(l)
            }),
            Some("transaction") => {
                extract_transaction(c, &ddocs, dir).map(|t| ex.connector.transactions.push(t))
            }
            _ => Err("not edited by FullSync Studio; kept verbatim".into()),
        };
        match res {
            Ok(()) => {
                if let Some(k) = k {
                    if !ex.managed.insert((k, c.name().to_string())) {
                        // Same name twice: keep the second one verbatim.
                        match k {
                            "index" => drop(ex.connector.indexes.pop()),
                            "listener" => drop(ex.connector.listeners.pop()),
                            _ => drop(ex.connector.transactions.pop()),
                        }
                        ro(c, "duplicate name".into(), &mut ex);
                    }
                }
            }
            Err(r) => ro(c, r, &mut ex),
        }
    }
    ex.connector.indexes.sort_by(|a, b| a.name.cmp(&b.name));
    ex.connector.listeners.sort_by(|a, b| a.name.cmp(&b.name));
    ex.connector
        .transactions
        .sort_by(|a, b| a.name.cmp(&b.name));
    ex
}

/// Whether a FullSync connector bean can be imported (its name is a database and folder name).
pub(crate) fn is_importable(b: &Elem) -> bool {
    fullsync_engine::db::check_db_name(b.name()).is_ok() && safe_name(b.name())
}

/// Names of the transactions of a FullSync connector bean that import turns into files.
pub(crate) fn managed_transactions(b: &Elem, project: &str) -> BTreeSet<String> {
    extract_connector(b, project, Path::new(""))
        .managed
        .into_iter()
        .filter(|(k, _)| *k == "transaction")
        .map(|(_, n)| n)
        .collect()
}

/// The children of a FullSync connector bean that import keeps read-only, with why.
pub(crate) fn read_only_parts(b: &Elem, project: &str) -> Vec<ReadOnlyBean> {
    extract_connector(b, project, Path::new("")).read_only
}

/// The Convertigo-relevant content of a connector, without file paths, in name order: what
/// export compares to decide whether a connector changed since the import.
pub fn canonical_connector(c: &Connector) -> Value {
    let mut dd: Vec<_> = c
        .design_docs
        .iter()
        .map(|d| (d.name.clone(), docdata_text(d)))
        .collect();
    dd.sort();
    let mut ix: Vec<_> = c
        .indexes
        .iter()
        .map(|i| json!([i.name, i.fields]))
        .collect();
    ix.sort_by_key(|v| v.to_string());
    let mut ls: Vec<_> = c
        .listeners
        .iter()
        .map(|l| {
            json!([
                l.name,
                l.kind,
                l.view,
                if l.view.is_some() {
                    None
                } else {
                    l.filter.clone()
                },
                l.chunk,
                l.enabled,
                l.target.sequence
            ])
        })
        .collect();
    ls.sort_by_key(|v| v.to_string());
    let mut tx: Vec<_> = c
        .transactions
        .iter()
        .map(|t| {
            let props: BTreeMap<_, _> = t
                .properties
                .iter()
                .map(|(k, v)| (k.clone(), untyped(v)))
                .collect();
            json!([t.name, t.kind, props, t.variables])
        })
        .collect();
    tx.sort_by_key(|v| v.to_string());
    json!({"name": c.name, "anonymous": c.anonymous_replication, "ddocs": dd, "indexes": ix,
           "listeners": ls, "transactions": tx})
}

// ---------------------------------------------------------------------------------------------
// Import
// ---------------------------------------------------------------------------------------------

fn is_excluded(rel: &Path, project: &str) -> bool {
    let comps: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().to_string())
        .collect();
    if comps.iter().any(|c| {
        matches!(
            c.as_str(),
            ".git" | ".svn" | ".gradle" | "CVS" | "node_modules"
        )
    }) {
        return true;
    }
    match comps.first().map(String::as_str) {
        Some("_private" | "_data" | "build" | "oas2" | "oas3") => true,
        Some(f) => comps.len() == 1 && f == format!("{project}.car"),
        None => false,
    }
}

/// The files under `dir` (relative), without the excluded folders; refuses symbolic links that
/// lead outside `dir`, and lists links inside it as what they point to.
fn list_files(dir: &Path, project: &str) -> Result<Vec<PathBuf>, C8oError> {
    let confine = crate::confine::Confine::new(dir);
    let mut seen = std::collections::HashSet::new();
    let mut out = vec![];
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let abs = dir.join(&rel);
        for e in std::fs::read_dir(&abs).map_err(io(&abs))? {
            let e = e.map_err(io(&abs))?;
            let r = rel.join(e.file_name());
            if is_excluded(&r, project) {
                continue;
            }
            let mut ft = e.file_type().map_err(io(&abs))?;
            if ft.is_symlink() {
                confine.check(&r)?;
                ft = std::fs::metadata(e.path()).map_err(io(&abs))?.file_type();
            }
            if ft.is_dir() {
                if !seen.insert(e.path().canonicalize().map_err(io(&abs))?) {
                    continue;
                }
                stack.push(r);
            } else {
                out.push(r);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn copy_tree(from: &Path, to: &Path, project: &str) -> Result<(), C8oError> {
    for rel in list_files(from, project)? {
        let src = from.join(&rel);
        let bytes = std::fs::read(&src).map_err(io(&src))?;
        let dst = to.join(&rel);
        write_atomic(&dst, &bytes).map_err(io(&dst))?;
    }
    Ok(())
}

fn put(path: &Path, text: &str) -> Result<(), C8oError> {
    write_atomic(path, text.as_bytes()).map_err(io(path))
}

fn toml_text<T: Serialize>(v: &T) -> Result<String, C8oError> {
    toml::to_string(v).map_err(|e| C8oError::Invalid(format!("cannot write TOML: {e}")))
}

fn write_connector(c: &Connector, dir: &Path) -> Result<(), C8oError> {
    put(
        &dir.join("connector.toml"),
        &format!(
            "anonymous_replication = \"{}\"\nrevs_limit = {}\n",
            if c.anonymous_replication {
                "allow"
            } else {
                "deny"
            },
            c.revs_limit
        ),
    )?;
    for dd in &c.design_docs {
        let d = dir.join("design").join(&dd.name);
        std::fs::create_dir_all(&d).map_err(io(&d))?;
        for v in &dd.views {
            put(&d.join("views").join(&v.name).join("map.js"), &v.map.text)?;
            if let Some(r) = &v.reduce {
                put(&d.join("views").join(&v.name).join("reduce.js"), &r.text)?;
            }
        }
        for (n, f) in &dd.lib {
            put(&d.join("views/lib").join(format!("{n}.js")), &f.text)?;
        }
        for (n, f) in &dd.filters {
            put(&d.join("filters").join(format!("{n}.js")), &f.text)?;
        }
        if let Some(v) = &dd.validate {
            put(&d.join("validate_doc_update.js"), &v.text)?;
        }
        for (k, v) in &dd.other {
            let t = serde_json::to_string_pretty(v).unwrap_or_default();
            put(&d.join(format!("{k}.json")), &(t + "\n"))?;
        }
    }
    for ix in &c.indexes {
        let t = serde_json::to_string_pretty(&json!({ "fields": ix.fields })).unwrap_or_default();
        put(
            &dir.join("indexes").join(format!("{}.json", ix.name)),
            &(t + "\n"),
        )?;
    }
    for l in &c.listeners {
        put(
            &dir.join("listeners").join(format!("{}.toml", l.name)),
            &toml_text(l)?,
        )?;
    }
    for t in &c.transactions {
        put(
            &dir.join("transactions").join(format!("{}.toml", t.name)),
            &toml_text(t)?,
        )?;
    }
    Ok(())
}

/// Refuses a folder without `c8oProject.yaml`, saying what to do: a pre-YAML (`<name>.xml`)
/// project is converted by opening it in Convertigo Studio 7.x or later.
fn not_yaml_hint(dir: &Path) -> Result<(), C8oError> {
    if dir.join("c8oProject.yaml").exists() {
        return Ok(());
    }
    let xml = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .find(|n| n.ends_with(".xml"));
    Err(C8oError::Invalid(match xml {
        Some(x) => format!(
            "{} holds {x} but no c8oProject.yaml: it is a Convertigo project in the pre-YAML (XML) format; open it once in Convertigo Studio 7.x or later (which converts it to c8oProject.yaml), then import that folder",
            dir.display()
        ),
        None => format!(
            "{} has no c8oProject.yaml: choose the folder of a Convertigo project (the one holding c8oProject.yaml)",
            dir.display()
        ),
    }))
}

/// Imports the Convertigo project at `c8o_dir` into our format at `out_dir` (see the module
/// documentation). The result loads with [`crate::load`] without errors.
pub fn import_c8o(c8o_dir: &Path, out_dir: &Path) -> Result<ImportReport, C8oError> {
    not_yaml_hint(c8o_dir)?;
    let proj = read_c8o(c8o_dir)?;
    let pb = proj
        .project()
        .ok_or_else(|| C8oError::Invalid("c8oProject.yaml has no core.Project bean".into()))?;
    let pname = pb.name().to_string();
    let mut rep = ImportReport {
        project: pname.clone(),
        c8o_version: proj.version().into(),
        ..Default::default()
    };
    let mut connectors = vec![];
    for b in pb.beans() {
        if b.class().starts_with("sequences.") {
            rep.sequences.push(format!("{pname}.{}", b.name()));
        }
        let reason = if b.class() != FULLSYNC_CONNECTOR {
            "not edited by FullSync Studio; kept verbatim".to_string()
        } else if fullsync_engine::db::check_db_name(b.name()).is_err() || !safe_name(b.name()) {
            "its name is not a valid database name; kept verbatim".to_string()
        } else if connectors
            .iter()
            .any(|e: &Extracted| e.connector.name == b.name())
        {
            "duplicate connector name; kept verbatim".to_string()
        } else {
            let ex = extract_connector(b, &pname, &out_dir.join("connectors").join(b.name()));
            connectors.push(ex);
            continue;
        };
        rep.read_only.push(ReadOnlyBean {
            path: format!("{pname}/{}", b.name()),
            class: b.class().into(),
            reason,
        });
    }
    for ex in &connectors {
        for s in &ex.sequences {
            if !rep.sequences.contains(s) {
                rep.sequences.push(s.clone());
            }
        }
        rep.read_only.extend(ex.read_only.iter().cloned());
        rep.connectors.push(ex.connector.name.clone());
    }
    // Manifest.
    let mut project = toml::Table::new();
    project.insert("name".into(), pname.clone().into());
    project.insert(
        "version".into(),
        pb.prop("version").unwrap_or_else(|| "0.1.0".into()).into(),
    );
    if let Some(c) = pb.prop("comment").filter(|c| !c.is_empty()) {
        project.insert("description".into(), c.into());
    }
    let mut conv = toml::Table::new();
    conv.insert(
        "sequences".into(),
        toml::Value::Array(rep.sequences.iter().map(|s| s.clone().into()).collect()),
    );
    let mut manifest = toml::Table::new();
    manifest.insert("project".into(), toml::Value::Table(project));
    manifest.insert("convertigo".into(), toml::Value::Table(conv));
    put(&out_dir.join(crate::load::MANIFEST), &toml_text(&manifest)?)?;
    for ex in &connectors {
        write_connector(&ex.connector, &ex.connector.dir)?;
    }
    copy_tree(c8o_dir, &out_dir.join(ORIGINAL_DIR), &pname)?;
    let gi = out_dir.join(".gitignore");
    if !gi.exists() {
        put(&gi, crate::git::GITIGNORE)?;
    }
    let (_, diags) = crate::load(out_dir);
    rep.diagnostics = diags.iter().map(|d| d.to_string()).collect();
    Ok(rep)
}

// ---------------------------------------------------------------------------------------------
// Export
// ---------------------------------------------------------------------------------------------

/// Replaces the managed beans of `children` by `items` (in order, taking their slots); extra
/// items go after the last slot (or at the end).
fn rebuild(children: &mut Vec<Node>, is_managed: impl Fn(&Elem) -> bool, items: Vec<Elem>) {
    let mut items = VecDeque::from(items);
    let mut out = vec![];
    let mut last = None;
    for n in std::mem::take(children) {
        if let Node::Elem(b) = &n {
            if b.bean && is_managed(b) {
                if let Some(it) = items.pop_front() {
                    out.push(Node::Elem(it));
                    last = Some(out.len());
                }
                continue;
            }
        }
        out.push(n);
    }
    let at = last.unwrap_or(out.len());
    for (i, it) in items.into_iter().enumerate() {
        out.insert(at + i, Node::Elem(it));
    }
    *children = out;
}

fn find_bean<'a>(e: &'a Elem, kind: &str, name: &str) -> Option<&'a Elem> {
    e.beans()
        .find(|b| kind_of(b.class()) == Some(kind) && b.name() == name)
}

fn rekey(orig: Option<&Elem>, name: &str, class: &str, prio: Option<String>) -> Elem {
    let p = orig.and_then(|o| o.priority().map(String::from)).or(prio);
    let mut e = orig.cloned().unwrap_or_default();
    let fresh = Elem::new_bean(name, class, p.as_deref());
    e.key = fresh.key;
    e.bean = true;
    e
}

fn ddoc_bean(orig: Option<&Elem>, dd: &DesignDoc) -> Elem {
    let mut e = rekey(orig, &dd.name, "couchdb.DesignDocument", None);
    let old = orig.and_then(|o| o.prop("docdata"));
    if let Some(text) = crate::c8o_style::docdata(old.as_deref(), docdata_value(dd)) {
        e.set_prop_as("docdata", Some(&text), true);
    }
    e
}

fn index_bean(orig: Option<&Elem>, ix: &MangoIndex) -> Elem {
    let mut e = rekey(orig, &ix.name, "couchdb.JsonIndex", None);
    let desc: Option<Vec<String>> = ix
        .fields
        .iter()
        .map(|f| match f.as_object() {
            Some(m) if m.len() == 1 && m.values().next() == Some(&json!("desc")) => {
                m.keys().next().cloned()
            }
            _ => None,
        })
        .collect();
    let (fields, asc) = match desc {
        Some(names) if !names.is_empty() => (json!(names), Some("false")),
        _ => (Value::Array(ix.fields.clone()), None),
    };
    e.set_prop("fields", Some(&fields.to_string()));
    e.set_prop("ascending", asc);
    e
}

fn listener_bean(orig: Option<&Elem>, l: &Listener, project: &str, conn: &str) -> Elem {
    let by_view = l.view.is_some();
    let class = match (l.kind, by_view) {
        (ListenerKind::Update, true) => "couchdb.FullSyncListener",
        (ListenerKind::Update, false) => "couchdb.FullSyncFilterListener",
        (ListenerKind::Delete, true) => "couchdb.FullSyncDeleteViewListener",
        (ListenerKind::Delete, false) => "couchdb.FullSyncDeleteFilterListener",
    };
    let mut e = rekey(orig, &l.name, class, None);
    let dotted = |s: &str| match s.split_once('/') {
        Some((d, n)) => format!("{project}.{conn}.{d}.{n}"),
        None => s.to_string(),
    };
    if let Some(v) = &l.view {
        e.set_prop("targetView", Some(&dotted(v)));
        e.set_prop("targetFilter", None);
    } else {
        let f = l.filter.clone().unwrap_or_else(|| "_doc_ids".into());
        e.set_prop("targetView", None);
        let f = (f != "_doc_ids").then(|| dotted(&f));
        e.set_prop("targetFilter", f.as_deref());
    }
    e.set_prop("targetSequence", l.target.sequence.as_deref());
    crate::c8o_merge::set_default(&mut e, "chunk", &l.chunk.to_string(), "10");
    crate::c8o_merge::set_default(&mut e, "isEnabled", &l.enabled.to_string(), "true");
    e
}

fn variable_bean(orig: Option<&Elem>, v: &Variable, prio: &mut u64) -> Elem {
    let class = if v.multi_valued { MULTI_VAR } else { VAR };
    *prio += 1;
    let mut e = rekey(orig, &v.name, class, Some(prio.to_string()));
    crate::c8o_merge::set_default(&mut e, "description", &v.description, "");
    let value = match &v.default {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    };
    e.set_prop("value", value.as_deref());
    crate::c8o_merge::set_default(&mut e, "required", &v.required.to_string(), "false");
    let qname = crate::c8o_types::qname_type(&e).is_some();
    let xsd = v.schema_type.strip_prefix("xsd:");
    match xsd {
        // 7.x: the type is the `xmlTypeAffectation` QName; no second type property.
        Some(local) if qname && e.prop("schemaType").is_none() => {
            crate::c8o_types::set_qname_type(&mut e, local)
        }
        _ => {
            crate::c8o_merge::set_default(&mut e, "schemaType", &v.schema_type, "xsd:string");
            if let (true, Some(local)) = (qname, xsd) {
                crate::c8o_types::set_qname_type(&mut e, local);
            }
        }
    }
    e
}

fn transaction_bean(orig: Option<&Elem>, t: &Transaction, prio: &mut u64) -> Elem {
    let class = format!("transactions.couchdb.{}Transaction", t.kind);
    let mut e = rekey(orig, &t.name, &class, None);
    let old: Vec<String> = e
        .children
        .iter()
        .filter_map(|n| match n {
            Node::Elem(p) if simple_value(p).is_some() => Some(p.key.clone()),
            _ => None,
        })
        .collect();
    for k in old {
        if !t.properties.contains_key(&k) {
            e.set_prop(&k, None);
        }
    }
    for (k, v) in &t.properties {
        e.set_prop(k, Some(&untyped(v)));
    }
    let items: Vec<Elem> = t
        .variables
        .iter()
        .map(|v| {
            let o = e
                .beans()
                .find(|b| (b.class() == VAR || b.class() == MULTI_VAR) && b.name() == v.name);
            variable_bean(o, v, prio)
        })
        .collect();
    rebuild(
        &mut e.children,
        |b| b.class() == VAR || b.class() == MULTI_VAR,
        items,
    );
    e
}

fn connector_bean(
    orig: Option<&Elem>,
    c: &Connector,
    managed: &BTreeSet<(&'static str, String)>,
    project: &str,
    prio: &mut u64,
) -> Elem {
    let mut e = rekey(orig, &c.name, FULLSYNC_CONNECTOR, None);
    if c.anonymous_replication {
        e.set_prop("anonymousReplication", Some("allow"));
    } else if e.prop("anonymousReplication").as_deref() == Some("allow") {
        e.set_prop("anonymousReplication", None);
    }
    let mut managed = managed.clone();
    crate::c8o_merge::follow_renamed_transaction(&mut e, c, &mut managed);
    let managed = &managed;
    let is = |k: &'static str| {
        move |b: &Elem| kind_of(b.class()) == Some(k) && managed.contains(&(k, b.name().into()))
    };
    let src = e.clone();
    let o = |k: &str, n: &str| {
        find_bean(&src, k, n)
            .filter(|b| managed.contains(&(kind_of(b.class()).unwrap_or(""), n.to_string())))
    };
    let items = c
        .design_docs
        .iter()
        .map(|d| ddoc_bean(o("ddoc", &d.name), d))
        .collect();
    crate::c8o_merge::rebuild_by_name(&mut e.children, is("ddoc"), items);
    let items = c
        .indexes
        .iter()
        .map(|i| index_bean(o("index", &i.name), i))
        .collect();
    crate::c8o_merge::rebuild_by_name(&mut e.children, is("index"), items);
    let items = c
        .listeners
        .iter()
        .map(|l| listener_bean(o("listener", &l.name), l, project, &c.name))
        .collect();
    crate::c8o_merge::rebuild_by_name(&mut e.children, is("listener"), items);
    let items = c
        .transactions
        .iter()
        .map(|t| transaction_bean(o("transaction", &t.name), t, prio))
        .collect();
    crate::c8o_merge::rebuild_by_name(&mut e.children, is("transaction"), items);
    e
}

fn max_priority(e: &Elem) -> u64 {
    let own = e.priority().and_then(|p| p.parse().ok()).unwrap_or(0);
    e.children
        .iter()
        .filter_map(|n| match n {
            Node::Elem(c) => Some(max_priority(c)),
            _ => None,
        })
        .fold(own, u64::max)
}

/// What [`export_c8o`] did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ExportReport {
    /// Project name.
    pub project: String,
    /// Connectors written with their original bytes.
    pub unchanged: Vec<String>,
    /// Connectors regenerated (changed or new).
    pub regenerated: Vec<String>,
    /// Connectors of the original project removed.
    pub removed: Vec<String>,
    /// Files written from the tree (relative to the output folder).
    pub written: Vec<String>,
    /// Errors of the verbatim Convertigo beans (sequences calling a transaction or connector
    /// that no longer exists, ...): exported anyway, to be fixed in Convertigo Studio.
    pub warnings: Vec<String>,
}

/// Exports our project at `project_dir` as a Convertigo project folder `out_dir` (see the
/// module documentation).
pub fn export_c8o(project_dir: &Path, out_dir: &Path) -> Result<ExportReport, C8oError> {
    let (p, diags) = crate::load(project_dir);
    let orig_dir = project_dir.join(ORIGINAL_DIR);
    // Problems of the verbatim Convertigo beans (sequence references, broken read-only parts)
    // are fixed in Convertigo Studio: they are reported, not blocking.
    let (in_copy, errors): (Vec<_>, Vec<_>) = diags
        .into_iter()
        .filter(|d| d.severity == crate::Severity::Error)
        .partition(|d| d.file.starts_with(&orig_dir));
    let Some(p) = p.filter(|_| errors.is_empty()) else {
        return Err(C8oError::Load(errors));
    };
    crate::confine::check(project_dir, Path::new(ORIGINAL_DIR))?;
    let mut rep = ExportReport {
        project: p.name.clone(),
        warnings: in_copy.iter().map(|d| d.to_string()).collect(),
        ..Default::default()
    };
    let mut root_dirty = false;
    let mut orig_files = BTreeMap::new();
    let mut root = if orig_dir.join("c8oProject.yaml").exists() {
        let orig = read_c8o(&orig_dir)?;
        let oname = orig
            .project()
            .map(|b| b.name().to_string())
            .unwrap_or_default();
        copy_tree(&orig_dir, out_dir, &oname)?;
        orig_files = orig.files;
        orig.root
    } else {
        root_dirty = true;
        Elem {
            key: "convertigo".into(),
            attrs: vec![("convertigo".into(), DEFAULT_C8O_VERSION.into())],
            children: vec![Node::Elem(Elem::new_bean(&p.name, "core.Project", None))],
            ..Default::default()
        }
    };
    let mut prio = max_priority(&root).max(1_700_000_000_000);
    let Some(Node::Elem(pb)) = root
        .children
        .iter_mut()
        .find(|n| matches!(n, Node::Elem(e) if e.bean && e.class() == "core.Project"))
    else {
        return Err(C8oError::Invalid("no core.Project bean".into()));
    };
    let oname = pb.name().to_string();
    let split = pb.beans().any(|b| b.file.is_some()) || pb.beans().next().is_none();
    // Original FullSync connectors, as import saw them.
    let mut orig: BTreeMap<String, Extracted> = BTreeMap::new();
    for b in pb.beans() {
        if b.class() == FULLSYNC_CONNECTOR
            && fullsync_engine::db::check_db_name(b.name()).is_ok()
            && safe_name(b.name())
            && !orig.contains_key(b.name())
        {
            orig.insert(b.name().into(), extract_connector(b, &oname, Path::new("")));
        }
    }
    let mut dirty_files: BTreeSet<String> = BTreeSet::new();
    let renamed = oname != p.name;
    for c in &p.connectors {
        let pos = pb.children.iter().position(|n| {
            matches!(n, Node::Elem(e) if e.bean && e.class() == FULLSYNC_CONNECTOR && e.name() == c.name)
        });
        match (pos, orig.get(&c.name)) {
            (Some(i), Some(ex)) => {
                if !renamed && canonical_connector(&ex.connector) == canonical_connector(c) {
                    rep.unchanged.push(c.name.clone());
                    continue;
                }
                let Node::Elem(old) = &pb.children[i] else {
                    continue;
                };
                let new = connector_bean(Some(old), c, &ex.managed, &p.name, &mut prio);
                match &new.file {
                    Some(f) => drop(dirty_files.insert(format!("_c8oProject/{f}"))),
                    None => root_dirty = true,
                }
                pb.children[i] = Node::Elem(new);
                rep.regenerated.push(c.name.clone());
            }
            _ => {
                let mut new = connector_bean(None, c, &BTreeSet::new(), &p.name, &mut prio);
                if split {
                    new.file = Some(format!("connectors/{}.yaml", c.name));
                    dirty_files.insert(format!("_c8oProject/connectors/{}.yaml", c.name));
                }
                let at = pb
                    .children
                    .iter()
                    .rposition(|n| matches!(n, Node::Elem(e) if e.bean && e.class().starts_with("connectors.")))
                    .map(|i| i + 1)
                    .or_else(|| pb.children.iter().position(|n| matches!(n, Node::Elem(e) if e.bean)))
                    .unwrap_or(pb.children.len());
                pb.children.insert(at, Node::Elem(new));
                root_dirty = true;
                rep.regenerated.push(c.name.clone());
            }
        }
    }
    for name in orig.keys() {
        if p.connector(name).is_none() {
            if let Some(i) = pb.children.iter().position(|n| {
                matches!(n, Node::Elem(e) if e.bean && e.class() == FULLSYNC_CONNECTOR && e.name() == name)
            }) {
                if let Node::Elem(e) = pb.children.remove(i) {
                    if let Some(f) = e.file {
                        let path = out_dir.join("_c8oProject").join(f);
                        let _ = std::fs::remove_file(path);
                    }
                }
                root_dirty = true;
                rep.removed.push(name.clone());
            }
        }
    }
    if renamed {
        pb.key = Elem::new_bean(&p.name, "core.Project", pb.priority()).key;
        root_dirty = true;
    }
    let version = pb.prop("version").unwrap_or_else(|| "0.1.0".into());
    if version != p.version {
        pb.set_prop("version", Some(&p.version));
        root_dirty = true;
    }
    if pb.prop("comment").unwrap_or_default() != p.description {
        pb.set_prop(
            "comment",
            Some(p.description.as_str()).filter(|d| !d.is_empty()),
        );
        root_dirty = true;
    }
    if root_dirty {
        dirty_files.insert("c8oProject.yaml".into());
    }
    let files = write_c8o(&root);
    for f in &dirty_files {
        if let Some(text) = files.get(f) {
            // Line endings as read (a 7.x project on Windows keeps its CRLF).
            let like = orig_files
                .get(f)
                .or_else(|| orig_files.get("c8oProject.yaml"))
                .map(String::as_str)
                .unwrap_or("");
            put(
                &out_dir.join(f),
                &crate::c8o_style::same_line_endings(like, text),
            )?;
            rep.written.push(f.clone());
        }
    }
    Ok(rep)
}

// ---------------------------------------------------------------------------------------------
// .car
// ---------------------------------------------------------------------------------------------

fn crc32(data: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (i, t) in table.iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        *t = c;
    }
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc = table[((crc ^ b as u32) & 0xFF) as usize] ^ (crc >> 8);
    }
    !crc
}

/// A zip archive of stored (uncompressed) entries with UTF-8 names.
pub fn zip_stored(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = vec![];
    let mut central = vec![];
    let le16 = |v: &mut Vec<u8>, x: u16| v.extend_from_slice(&x.to_le_bytes());
    let le32 = |v: &mut Vec<u8>, x: u32| v.extend_from_slice(&x.to_le_bytes());
    for (name, data) in entries {
        let offset = out.len() as u32;
        let crc = crc32(data);
        let (n, sz) = (name.len() as u16, data.len() as u32);
        le32(&mut out, 0x0403_4b50);
        for x in [20u16, 0x0800, 0, 0, 0x21] {
            le16(&mut out, x);
        }
        le32(&mut out, crc);
        le32(&mut out, sz);
        le32(&mut out, sz);
        le16(&mut out, n);
        le16(&mut out, 0);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        le32(&mut central, 0x0201_4b50);
        for x in [20u16, 20, 0x0800, 0, 0, 0x21] {
            le16(&mut central, x);
        }
        le32(&mut central, crc);
        le32(&mut central, sz);
        le32(&mut central, sz);
        for x in [n, 0, 0, 0, 0] {
            le16(&mut central, x);
        }
        le32(&mut central, 0);
        le32(&mut central, offset);
        central.extend_from_slice(name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    let cd_size = central.len() as u32;
    out.extend_from_slice(&central);
    le32(&mut out, 0x0605_4b50);
    for x in [0u16, 0, entries.len() as u16, entries.len() as u16] {
        le16(&mut out, x);
    }
    le32(&mut out, cd_size);
    le32(&mut out, cd_offset);
    le16(&mut out, 0);
    out
}

/// Reads the entries of a zip of stored entries (as written by [`export_car`]).
pub fn unzip_stored(bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>, C8oError> {
    let bad = || C8oError::Invalid("not a zip of stored entries".into());
    let u16at = |i: usize| -> Result<usize, C8oError> {
        Ok(u16::from_le_bytes(
            bytes
                .get(i..i + 2)
                .ok_or_else(bad)?
                .try_into()
                .map_err(|_| bad())?,
        ) as usize)
    };
    let u32at = |i: usize| -> Result<usize, C8oError> {
        Ok(u32::from_le_bytes(
            bytes
                .get(i..i + 4)
                .ok_or_else(bad)?
                .try_into()
                .map_err(|_| bad())?,
        ) as usize)
    };
    let mut out = vec![];
    let mut i = 0;
    while u32at(i)? == 0x0403_4b50 {
        if u16at(i + 8)? != 0 {
            return Err(bad());
        }
        let size = u32at(i + 18)?;
        let (n, x) = (u16at(i + 26)?, u16at(i + 28)?);
        let name = String::from_utf8(bytes.get(i + 30..i + 30 + n).ok_or_else(bad)?.to_vec())
            .map_err(|_| bad())?;
        let start = i + 30 + n + x;
        out.push((
            name,
            bytes.get(start..start + size).ok_or_else(bad)?.to_vec(),
        ));
        i = start + size;
    }
    Ok(out)
}

/// Exports the project as a `.car` (see [`export_c8o`]): every entry under `<ProjectName>/`,
/// without the excluded folders.
pub fn export_car(project_dir: &Path, car_path: &Path) -> Result<ExportReport, C8oError> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let tmp = std::env::temp_dir().join(format!("fullsync-car-{}-{nanos}", std::process::id()));
    let res = (|| {
        let rep = export_c8o(project_dir, &tmp)?;
        let name = rep.project.clone();
        let mut entries = vec![];
        for rel in list_files(&tmp, &name)? {
            let abs = tmp.join(&rel);
            let data = std::fs::read(&abs).map_err(io(&abs))?;
            let rel = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().to_string())
                .collect::<Vec<_>>()
                .join("/");
            entries.push((format!("{name}/{rel}"), data));
        }
        write_atomic(car_path, &zip_stored(&entries)).map_err(io(car_path))?;
        Ok(rep)
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    res
}
