//! Loading a project folder into the model, with precise diagnostics. A broken file is
//! reported (file, line, what, how to fix) and skipped; the rest of the project still loads.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::confine::Confine;
use crate::model::*;

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The project cannot be deployed as is.
    Error,
    /// Probably a mistake.
    Warning,
}

/// A problem found in a project file.
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// File concerned.
    pub file: PathBuf,
    /// 1-based line, when it applies.
    pub line: Option<u32>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        match self.line {
            Some(l) => write!(f, "{}:{l}: {sev}: {}", self.file.display(), self.message)?,
            None => write!(f, "{}: {sev}: {}", self.file.display(), self.message)?,
        }
        if !self.hint.is_empty() {
            write!(f, "\n  hint: {}", self.hint)?;
        }
        Ok(())
    }
}

/// Collects diagnostics while loading; when loading a project, also the project root every
/// file must stay in (symbolic links leading outside it are refused, see [`crate::confine`]).
#[derive(Default)]
pub struct Diags(pub Vec<Diagnostic>, Option<Confine>);

impl Diags {
    /// Whether `path` stays inside the project; reports the link that leaves it (once).
    fn inside(&mut self, path: &Path) -> bool {
        let Some(c) = &self.1 else { return true };
        let Err(e) = c.check(path) else { return true };
        let file = c.root().join(&e.link);
        if !self
            .0
            .iter()
            .any(|d| d.file == file && d.severity == Severity::Error)
        {
            self.error(
                &file,
                None,
                e.to_string(),
                "FullSync loads only files inside the project folder",
            );
        }
        false
    }

    fn error(
        &mut self,
        file: &Path,
        line: Option<u32>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.0.push(Diagnostic {
            severity: Severity::Error,
            file: file.to_path_buf(),
            line,
            message: message.into(),
            hint: hint.into(),
        });
    }

    fn warn(&mut self, file: &Path, message: impl Into<String>, hint: impl Into<String>) {
        self.0.push(Diagnostic {
            severity: Severity::Warning,
            file: file.to_path_buf(),
            line: None,
            message: message.into(),
            hint: hint.into(),
        });
    }
}

/// Name of the manifest file at the project root.
pub const MANIFEST: &str = "fullsync.toml";

fn read(path: &Path, d: &mut Diags) -> Option<String> {
    if !d.inside(path) {
        return None;
    }
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(s) => Some(s),
            Err(_) => {
                d.error(
                    path,
                    None,
                    "the file is not valid UTF-8",
                    "save it as UTF-8",
                );
                None
            }
        },
        Err(e) => {
            d.error(
                path,
                None,
                format!("cannot read the file: {e}"),
                "check its permissions",
            );
            None
        }
    }
}

fn line_of(text: &str, offset: usize) -> u32 {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|&b| b == b'\n')
        .count() as u32
        + 1
}

fn parse_toml<T: serde::de::DeserializeOwned>(path: &Path, d: &mut Diags) -> Option<T> {
    let text = read(path, d)?;
    match toml::from_str::<T>(&text) {
        Ok(v) => Some(v),
        Err(e) => {
            let line = e.span().map(|s| line_of(&text, s.start));
            d.error(
                path,
                line,
                format!("invalid TOML: {}", e.message()),
                "fix the syntax (see docs/project-format.md)",
            );
            None
        }
    }
}

fn parse_json(path: &Path, d: &mut Diags) -> Option<Value> {
    let text = read(path, d)?;
    match serde_json::from_str::<Value>(&text) {
        Ok(v) => Some(v),
        Err(e) => {
            d.error(
                path,
                Some(e.line() as u32),
                format!("invalid JSON: {e}"),
                "fix the syntax; an editor with JSON support shows where",
            );
            None
        }
    }
}

/// The entries of `dir`, sorted, without those that lead outside the project (reported).
fn sorted_entries(dir: &Path, d: &mut Diags) -> Vec<PathBuf> {
    if !d.inside(dir) {
        return vec![];
    }
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.sort();
    v.retain(|p| d.inside(p));
    v
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default()
}

fn fname(p: &Path) -> String {
    p.file_name()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default()
}

fn is_hidden(p: &Path) -> bool {
    let n = fname(p);
    n.starts_with('.') || n.ends_with('~') || n.ends_with(".tmp")
}

fn source(path: &Path, d: &mut Diags) -> Option<SourceFile> {
    read(path, d).map(|text| SourceFile {
        path: path.to_path_buf(),
        text,
    })
}

#[derive(serde::Deserialize)]
struct ManifestFile {
    project: ManifestProject,
    #[serde(default)]
    convertigo: Option<ManifestConvertigo>,
}

#[derive(serde::Deserialize)]
struct ManifestProject {
    name: String,
    #[serde(default = "default_version")]
    version: String,
    #[serde(default)]
    description: String,
}

#[derive(serde::Deserialize)]
struct ManifestConvertigo {
    #[serde(default)]
    sequences: Vec<String>,
}

fn default_version() -> String {
    "0.1.0".into()
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ConnectorFile {
    #[serde(default = "deny")]
    anonymous_replication: String,
    #[serde(default = "ten")]
    revs_limit: u64,
}

fn deny() -> String {
    "deny".into()
}

fn ten() -> u64 {
    10
}

fn load_ddoc(dir: &Path, d: &mut Diags) -> DesignDoc {
    let name = fname(dir);
    let mut dd = DesignDoc {
        name: name.clone(),
        dir: dir.to_path_buf(),
        views: vec![],
        lib: BTreeMap::new(),
        filters: vec![],
        validate: None,
        other: Map::new(),
    };
    for entry in sorted_entries(dir, d) {
        if is_hidden(&entry) {
            continue;
        }
        let n = fname(&entry);
        if entry.is_dir() && n == "views" {
            for v in sorted_entries(&entry, d) {
                if is_hidden(&v) {
                    continue;
                }
                if v.is_dir() && fname(&v) == "lib" {
                    for m in sorted_entries(&v, d) {
                        if m.extension().is_some_and(|e| e == "js") {
                            if let Some(s) = source(&m, d) {
                                dd.lib.insert(stem(&m), s);
                            }
                        }
                    }
                } else if v.is_dir() {
                    let map = v.join("map.js");
                    if !map.exists() {
                        d.error(
                            &v,
                            None,
                            format!("view `{}` has no map.js", fname(&v)),
                            "add map.js with `function (doc) { emit(...); }`",
                        );
                        continue;
                    }
                    let Some(map) = source(&map, d) else { continue };
                    let reduce = v.join("reduce.js");
                    let reduce = if reduce.exists() {
                        source(&reduce, d)
                    } else {
                        None
                    };
                    dd.views.push(View {
                        name: fname(&v),
                        map,
                        reduce,
                    });
                } else {
                    d.warn(
                        &v,
                        "unexpected file in views/",
                        "each view is a folder with map.js and optional reduce.js",
                    );
                }
            }
        } else if entry.is_dir() && n == "filters" {
            for f in sorted_entries(&entry, d) {
                if f.extension().is_some_and(|e| e == "js") {
                    if let Some(s) = source(&f, d) {
                        dd.filters.push((stem(&f), s));
                    }
                }
            }
        } else if n == "validate_doc_update.js" {
            dd.validate = source(&entry, d);
        } else if entry.extension().is_some_and(|e| e == "json") {
            if let Some(v) = parse_json(&entry, d) {
                dd.other.insert(stem(&entry), v);
            }
        } else {
            d.warn(
                &entry,
                format!("`{n}` is not part of the design document layout"),
                "see docs/project-format.md",
            );
        }
    }
    dd
}

fn load_connector(dir: &Path, d: &mut Diags) -> Connector {
    let name = fname(dir);
    if fullsync_engine::db::check_db_name(&name).is_err() {
        d.error(
            dir,
            None,
            format!("`{name}` is not a valid database name"),
            "use lowercase letters, digits and _ $ ( ) + - /, starting with a letter; rename the folder",
        );
    }
    let cfile = dir.join("connector.toml");
    let cf: ConnectorFile = if cfile.exists() {
        parse_toml(&cfile, d).unwrap_or(ConnectorFile {
            anonymous_replication: deny(),
            revs_limit: ten(),
        })
    } else {
        ConnectorFile {
            anonymous_replication: deny(),
            revs_limit: ten(),
        }
    };
    let anonymous = match cf.anonymous_replication.as_str() {
        "allow" => true,
        "deny" => false,
        other => {
            d.error(
                &cfile,
                None,
                format!("anonymous_replication = \"{other}\" is not allow or deny"),
                "write \"allow\" or \"deny\"",
            );
            false
        }
    };
    if cf.revs_limit == 0 {
        d.error(
            &cfile,
            None,
            "revs_limit must be at least 1",
            "FullSync projects usually use about 10",
        );
    }
    let mut c = Connector {
        name,
        dir: dir.to_path_buf(),
        anonymous_replication: anonymous,
        revs_limit: cf.revs_limit.max(1),
        design_docs: vec![],
        indexes: vec![],
        listeners: vec![],
        transactions: vec![],
    };
    for dd in sorted_entries(&dir.join("design"), d) {
        if dd.is_dir() && !is_hidden(&dd) {
            c.design_docs.push(load_ddoc(&dd, d));
        }
    }
    for f in sorted_entries(&dir.join("indexes"), d) {
        if f.extension().is_some_and(|e| e == "json") {
            if let Some(v) = parse_json(&f, d) {
                match serde_json::from_value::<MangoIndex>(v) {
                    Ok(mut ix) => {
                        ix.name = stem(&f);
                        c.indexes.push(ix);
                    }
                    Err(e) => d.error(
                        &f,
                        None,
                        format!("not a Mango index: {e}"),
                        "write {\"fields\": [\"field\", ...]}",
                    ),
                }
            }
        }
    }
    for f in sorted_entries(&dir.join("listeners"), d) {
        if f.extension().is_some_and(|e| e == "toml") {
            if let Some(mut l) = parse_toml::<Listener>(&f, d) {
                l.name = stem(&f);
                l.file = f.clone();
                c.listeners.push(l);
            }
        }
    }
    for f in sorted_entries(&dir.join("transactions"), d) {
        if f.extension().is_some_and(|e| e == "toml") {
            if let Some(mut t) = parse_toml::<Transaction>(&f, d) {
                t.name = stem(&f);
                t.file = f.clone();
                c.transactions.push(t);
            }
        }
    }
    c
}

/// Loads the project at `root`. Returns `None` only when there is no readable manifest; every
/// other problem becomes a diagnostic and the rest of the project loads.
pub fn load(root: &Path) -> (Option<Project>, Vec<Diagnostic>) {
    let mut d = Diags(vec![], Some(Confine::new(root)));
    let manifest = root.join(MANIFEST);
    if !manifest.exists() {
        d.error(
            &manifest,
            None,
            "no fullsync.toml here: this folder is not a FullSync project",
            "create one with `fullsync project init` or open the project's root folder",
        );
        return (None, d.0);
    }
    let Some(m) = parse_toml::<ManifestFile>(&manifest, &mut d) else {
        return (None, d.0);
    };
    let mut p = Project {
        root: root.to_path_buf(),
        name: m.project.name,
        version: m.project.version,
        description: m.project.description,
        connectors: vec![],
        tests: vec![],
        sequences: m.convertigo.map(|c| c.sequences).unwrap_or_default(),
    };
    for c in sorted_entries(&root.join("connectors"), &mut d) {
        if c.is_dir() && !is_hidden(&c) {
            p.connectors.push(load_connector(&c, &mut d));
        }
    }
    for f in sorted_entries(&root.join("tests"), &mut d) {
        if fname(&f).ends_with(".test.json") {
            if let Some(v) = parse_json(&f, &mut d) {
                match serde_json::from_value::<ViewTest>(v) {
                    Ok(mut t) => {
                        t.name = fname(&f).trim_end_matches(".test.json").to_string();
                        t.file = f.clone();
                        p.tests.push(t);
                    }
                    Err(e) => d.error(
                        &f,
                        None,
                        format!("not a view test: {e}"),
                        "a test has connector, view, docs, query and expect",
                    ),
                }
            }
        }
    }
    validate(&p, &mut d);
    d.0.extend(crate::c8o_refs::check(&p));
    (Some(p), d.0)
}

/// Cross-file rules: references between listeners, transactions and views; builtin reduce
/// names; duplicates.
fn validate(p: &Project, d: &mut Diags) {
    for c in &p.connectors {
        validate_reduces(c, d);
        for l in &c.listeners {
            validate_listener(p, c, l, d);
        }
        validate_transactions(c, d);
        validate_indexes(c, d);
    }
    for t in &p.tests {
        match p.connector(&t.connector) {
            None => d.error(
                &t.file,
                None,
                format!(
                    "test `{}` uses connector `{}`, which does not exist",
                    t.name, t.connector
                ),
                "fix `connector`",
            ),
            Some(c) if c.find_view(&t.view).is_none() => d.error(
                &t.file,
                None,
                format!(
                    "test `{}` queries `{}`, which does not exist",
                    t.name, t.view
                ),
                "fix `view` (ddoc/view)",
            ),
            _ => {}
        }
    }
}

/// Reduces that name a builtin (`_...`) must name one that exists.
fn validate_reduces(c: &Connector, d: &mut Diags) {
    const BUILTINS: &[&str] = &["_sum", "_count", "_stats", "_approx_count_distinct"];
    for dd in &c.design_docs {
        for v in &dd.views {
            if let Some(r) = &v.reduce {
                let t = r.text.trim();
                if t.starts_with('_') && !BUILTINS.contains(&t) {
                    let close = BUILTINS
                        .iter()
                        .min_by_key(|b| distance(b, t))
                        .copied()
                        .unwrap_or("_count");
                    d.error(
                        &r.path,
                        Some(1),
                        format!("`{t}` is not a builtin reduce"),
                        format!("did you mean `{close}`? Builtins: {}", BUILTINS.join(", ")),
                    );
                }
            }
        }
    }
}

/// A listener's view or filter, its target sequence and its handler file must exist.
fn validate_listener(p: &Project, c: &Connector, l: &Listener, d: &mut Diags) {
    match (&l.view, &l.filter) {
        (Some(v), _) if c.find_view(v).is_none() => d.error(
            &l.file,
            line_in_file(&l.file, "view"),
            format!(
                "listener `{}` uses view `{v}`, which does not exist in connector `{}`",
                l.name, c.name
            ),
            "create the view, or fix the name as ddoc/view",
        ),
        (None, Some(f)) if !c.find_filter(f) => d.error(
            &l.file,
            line_in_file(&l.file, "filter"),
            format!(
                "listener `{}` uses filter `{f}`, which does not exist in connector `{}`",
                l.name, c.name
            ),
            "create filters/<name>.js in the design document, or use _doc_ids",
        ),
        (None, None) => d.error(
            &l.file,
            None,
            format!("listener `{}` has neither view nor filter", l.name),
            "add view = \"ddoc/view\" or filter = \"ddoc/filter\"",
        ),
        (Some(v), _) => {
            if let Some((_, view)) = c.find_view(v).filter(|(_, x)| !emits_doc_id(&x.map.text)) {
                d.warn(
                    &l.file,
                    format!("listener `{}` uses view `{v}`, whose map does not emit(doc._id, ...): the listener never fires", l.name),
                    format!("Convertigo queries the view with keys=<changed doc ids>: emit the document id as key in {}", view.map.path.display()),
                );
            }
        }
        _ => {}
    }
    if let Some(s) = &l.target.sequence {
        if !p.sequences.is_empty() && !p.sequences.contains(s) {
            d.error(
                &l.file,
                line_in_file(&l.file, "sequence"),
                format!(
                    "listener `{}` calls sequence `{s}`, which the project does not have",
                    l.name
                ),
                closest_sequence(&p.sequences, s),
            );
        }
    }
    if let Some(h) = &l.target.handler {
        if let Err(e) = crate::confine::check(&p.root, Path::new(h)) {
            d.error(&l.file, line_in_file(&l.file, "handler"), e.to_string(), "");
        } else if !p.root.join(h).exists() {
            d.error(
                &l.file,
                line_in_file(&l.file, "handler"),
                format!("handler file `{h}` does not exist"),
                "the path is relative to the project root",
            );
        }
    }
}

/// A transaction's view must exist, and its variables be declared once.
fn validate_transactions(c: &Connector, d: &mut Diags) {
    for t in &c.transactions {
        if let Some(vn) = t.properties.get("viewname").and_then(|v| v.as_str()) {
            if c.find_view(vn).is_none() {
                d.error(
                    &t.file,
                    line_in_file(&t.file, "viewname"),
                    format!(
                        "transaction `{}` uses view `{vn}`, which does not exist in connector `{}`",
                        t.name, c.name
                    ),
                    "create the view or fix viewname (ddoc/view)",
                );
            }
        }
        let mut seen = HashSet::new();
        for v in &t.variables {
            if !seen.insert(v.name.clone()) {
                d.error(
                    &t.file,
                    None,
                    format!(
                        "variable `{}` is declared twice in transaction `{}`",
                        v.name, t.name
                    ),
                    "remove or rename one",
                );
            }
        }
    }
}

/// Mango indexes need fields and distinct names.
fn validate_indexes(c: &Connector, d: &mut Diags) {
    let mut seen = HashSet::new();
    for ix in &c.indexes {
        if ix.fields.is_empty() {
            d.error(
                &c.dir.join("indexes").join(format!("{}.json", ix.name)),
                None,
                "a Mango index needs at least one field",
                "write {\"fields\": [\"type\"]}",
            );
        }
        if !seen.insert(ix.name.clone()) {
            d.error(
                &c.dir,
                None,
                format!("index `{}` is defined twice", ix.name),
                "rename one",
            );
        }
    }
}

/// The hint for an unknown sequence: the closest known one, not the whole list.
fn closest_sequence(known: &[String], s: &str) -> String {
    match known.iter().min_by_key(|k| distance(k, s)) {
        Some(k) => format!(
            "did you mean `{k}`? ({} sequences are listed in fullsync.toml under [convertigo] sequences)",
            known.len()
        ),
        None => "add it to [convertigo] sequences in fullsync.toml".into(),
    }
}

/// Whether a map function emits the document id as key (`emit(doc._id, ...)`), which a
/// Convertigo listener needs: it queries its view with `keys=<changed doc ids>`.
pub fn emits_doc_id(map: &str) -> bool {
    let compact: String = map.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(param) = compact
        .strip_prefix("function(")
        .and_then(|r| r.split([',', ')']).next())
        .filter(|p| !p.is_empty())
    else {
        return compact.contains("emit(doc._id");
    };
    [
        format!("emit({param}._id"),
        format!("emit({param}[\"_id\"]"),
        format!("emit({param}['_id']"),
    ]
    .iter()
    .any(|n| compact.contains(n.as_str()))
}

fn line_in_file(path: &Path, key: &str) -> Option<u32> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .position(|l| l.trim_start().starts_with(key))
        .map(|i| i as u32 + 1)
}

fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            cur[j] = (prev[j] + 1)
                .min(cur[j - 1] + 1)
                .min(prev[j - 1] + (a[i - 1] != b[j - 1]) as usize);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Compiles every JavaScript function with QuickJS and reports syntax errors with their file
/// and line.
pub fn compile_check(p: &Project, pool: &fullsync_views::JsPool) -> Vec<Diagnostic> {
    let mut d = Diags::default();
    for c in &p.connectors {
        for dd in &c.design_docs {
            let doc = dd.to_json();
            let mut files: Vec<&SourceFile> = vec![];
            for v in &dd.views {
                files.push(&v.map);
                if let Some(r) = &v.reduce {
                    if !r.text.trim().starts_with('_') {
                        files.push(r);
                    }
                }
            }
            for (_, f) in &dd.filters {
                files.push(f);
            }
            if let Some(v) = &dd.validate {
                files.push(v);
            }
            for f in files {
                let set = fullsync_views::js::FnSet {
                    key: format!("check:{}:{}", f.path.display(), f.text.len()),
                    sources: vec![(f.path.display().to_string(), f.text.clone())],
                    ddoc: doc.clone(),
                };
                if let Err(e) = pool.check(&set) {
                    match e {
                        fullsync_views::js::JsError::Compile { message, line, .. } => d.error(
                            &f.path,
                            line,
                            message,
                            "fix the JavaScript; the studio editor shows the error inline",
                        ),
                        other => d.error(&f.path, None, other.to_string(), ""),
                    }
                }
            }
        }
    }
    d.0
}
