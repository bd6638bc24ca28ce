//! References from the verbatim Convertigo beans of an imported project (sequences above all)
//! to its connectors, transactions and sequences.
//!
//! Sequences stay read-only (they live in `.convertigo/project/`), but their references are
//! plain values: `sourceTransaction: Project.connector.transaction` (a `TransactionStep`; an
//! empty transaction means the connector's default one) and `sourceSequence:
//! Project.Sequence` (a `SequenceStep`). This module lists them ([`sequence_refs`]), answers
//! who uses a transaction or connector ([`used_by`]), rewrites them when one is renamed
//! ([`rename_transaction`], [`rename_connector`]: the renamed bean, its Test Cases and
//! variables keep their bytes) and reports the references that point at nothing
//! ([`check`]). Every rewrite is done on the text, line by line, so the rest of each file keeps
//! its bytes (line endings included).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::convertigo::{needs_quote, read_c8o, C8oError, C8oProject, Elem, ORIGINAL_DIR};
use crate::load::{Diagnostic, Severity};
use crate::model::Project;

/// Property keys whose value references a transaction or a sequence.
pub const REF_KEYS: &[&str] = &["sourceTransaction", "sourceSequence"];

const FULLSYNC: &str = "connectors.FullSyncConnector";

/// One reference held by a sequence step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct SeqRef {
    /// The sequence holding the step (`Project.Sequence`).
    pub sequence: String,
    /// The step, as a path of bean names inside the sequence (`Block/Call_Get`).
    pub step: String,
    /// `sourceTransaction` or `sourceSequence`.
    pub key: String,
    /// The reference (`Project.connector.transaction`, `Project.Sequence`).
    pub value: String,
    /// File holding it, relative to the Convertigo project folder.
    pub file: String,
}

/// What a reference designates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// `Project.connector.transaction` (`transaction` empty: the default transaction).
    Transaction {
        /// Project name.
        project: String,
        /// Connector name.
        connector: String,
        /// Transaction name, empty for the connector's default one.
        transaction: String,
    },
    /// `Project.Sequence`.
    Sequence {
        /// Project name.
        project: String,
        /// Sequence name.
        sequence: String,
    },
}

impl SeqRef {
    /// The designated object; tokens are split on `.` and empty ones skipped, as Convertigo
    /// does (`StringTokenizer`).
    pub fn target(&self) -> Option<Target> {
        let t: Vec<&str> = self.value.split('.').filter(|s| !s.is_empty()).collect();
        match (self.key.as_str(), t.as_slice()) {
            ("sourceTransaction", [p, c, rest @ ..]) if rest.len() <= 1 => {
                Some(Target::Transaction {
                    project: p.to_string(),
                    connector: c.to_string(),
                    transaction: rest.first().map(|s| s.to_string()).unwrap_or_default(),
                })
            }
            ("sourceSequence", [p, s]) => Some(Target::Sequence {
                project: p.to_string(),
                sequence: s.to_string(),
            }),
            _ => None,
        }
    }
}

fn walk(e: &Elem, seq: &str, path: &str, file: &str, out: &mut Vec<SeqRef>) {
    for b in e.beans() {
        let step = if path.is_empty() {
            b.name().to_string()
        } else {
            format!("{path}/{}", b.name())
        };
        let f = b
            .file
            .as_ref()
            .map(|f| format!("_c8oProject/{f}"))
            .unwrap_or_else(|| file.to_string());
        for k in REF_KEYS {
            if let Some(v) = b.prop(k) {
                out.push(SeqRef {
                    sequence: seq.into(),
                    step: step.clone(),
                    key: k.to_string(),
                    value: v,
                    file: f.clone(),
                });
            }
        }
        walk(b, seq, &step, &f, out);
    }
}

/// Every reference held by the steps of the project's sequences.
pub fn sequence_refs(c8o: &C8oProject) -> Vec<SeqRef> {
    let mut out = vec![];
    let Some(pb) = c8o.project() else {
        return out;
    };
    for s in pb.beans().filter(|b| b.class().starts_with("sequences.")) {
        let file = s
            .file
            .as_ref()
            .map(|f| format!("_c8oProject/{f}"))
            .unwrap_or_else(|| "c8oProject.yaml".into());
        walk(
            s,
            &format!("{}.{}", pb.name(), s.name()),
            "",
            &file,
            &mut out,
        );
    }
    out
}

fn read_base(root: &Path) -> Result<Option<C8oProject>, C8oError> {
    let base = root.join(ORIGINAL_DIR);
    if !base.join("c8oProject.yaml").exists() {
        return Ok(None);
    }
    read_c8o(&base).map(Some)
}

fn is_transaction(b: &Elem) -> bool {
    b.class().starts_with("transactions.")
}

fn connector_bean<'a>(c8o: &'a C8oProject, name: &str) -> Option<&'a Elem> {
    c8o.project()?
        .beans()
        .find(|b| b.class().starts_with("connectors.") && b.name() == name)
}

fn default_transaction(conn: &Elem) -> Option<String> {
    conn.beans()
        .find(|b| is_transaction(b) && b.attr("default") == Some("true"))
        .map(|b| b.name().to_string())
}

/// The sequence steps that call `connector`'s transaction `transaction` (or any transaction of
/// the connector when `None`), as found in the project's Convertigo copy. Empty for a project
/// that was not imported from Convertigo.
pub fn used_by(
    root: &Path,
    connector: &str,
    transaction: Option<&str>,
) -> Result<Vec<SeqRef>, C8oError> {
    let Some(c8o) = read_base(root)? else {
        return Ok(vec![]);
    };
    let pname = c8o
        .project()
        .map(|p| p.name().to_string())
        .unwrap_or_default();
    let default = connector_bean(&c8o, connector).and_then(default_transaction);
    Ok(sequence_refs(&c8o)
        .into_iter()
        .filter(|r| match r.target() {
            Some(Target::Transaction {
                project,
                connector: c,
                transaction: t,
            }) => {
                let t = if t.is_empty() {
                    default.clone().unwrap_or_default()
                } else {
                    t
                };
                project == pname && c == connector && transaction.is_none_or(|x| x == t)
            }
            _ => false,
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// check
// ---------------------------------------------------------------------------------------------

/// Transactions a sequence can reach, per connector: `(names, default transaction)`.
fn reachable(
    c8o: &C8oProject,
    p: &Project,
) -> BTreeMap<String, (BTreeSet<String>, Option<String>)> {
    let mut out = BTreeMap::new();
    let pname = c8o
        .project()
        .map(|b| b.name().to_string())
        .unwrap_or_default();
    for b in c8o.project().into_iter().flat_map(|pb| pb.beans()) {
        if !b.class().starts_with("connectors.") {
            continue;
        }
        let base: BTreeSet<String> = b
            .beans()
            .filter(|t| is_transaction(t))
            .map(|t| t.name().to_string())
            .collect();
        let names = if b.class() == FULLSYNC && crate::convertigo::is_importable(b) {
            let Some(c) = p.connector(b.name()) else {
                continue; // deleted: nothing is reachable
            };
            let managed = crate::convertigo::managed_transactions(b, &pname);
            let mut names: BTreeSet<String> = base.difference(&managed).cloned().collect();
            names.extend(c.transactions.iter().map(|t| t.name.clone()));
            names
        } else {
            base
        };
        let default = default_transaction(b).filter(|d| names.contains(d));
        out.insert(b.name().to_string(), (names, default));
    }
    for c in &p.connectors {
        out.entry(c.name.clone()).or_insert_with(|| {
            (
                c.transactions.iter().map(|t| t.name.clone()).collect(),
                None,
            )
        });
    }
    out
}

fn line_of(c8o: &C8oProject, file: &str, needle: &str) -> Option<u32> {
    c8o.files
        .get(file)?
        .lines()
        .position(|l| l.contains(needle))
        .map(|i| i as u32 + 1)
}

fn steps_list(refs: &[&SeqRef]) -> String {
    refs.iter()
        .map(|r| format!("{} ({})", r.sequence, r.step))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why a reference points at nothing, or `None` when it reaches its target.
fn broken(
    r: &SeqRef,
    pname: &str,
    reach: &BTreeMap<String, (BTreeSet<String>, Option<String>)>,
    seqs: &BTreeSet<String>,
) -> Option<(String, String)> {
    match r.target()? {
        Target::Transaction {
            project,
            connector,
            transaction,
        } if project == pname => match reach.get(&connector) {
            None => Some((
                format!("connector `{connector}` does not exist"),
                format!("restore connector `{connector}` (or rename it back)"),
            )),
            Some((_, None)) if transaction.is_empty() => Some((
                format!("connector `{connector}` has no default transaction"),
                "set a default transaction in Convertigo Studio".into(),
            )),
            Some((names, _)) if !transaction.is_empty() && !names.contains(&transaction) => {
                Some((
                    format!("transaction `{connector}.{transaction}` does not exist"),
                    format!(
                        "restore transaction `{transaction}` in connector `{connector}` (or rename it back)"
                    ),
                ))
            }
            _ => None,
        },
        Target::Sequence { project, sequence } if project == pname && !seqs.contains(&sequence) => {
            Some((
                format!("sequence `{project}.{sequence}` does not exist"),
                format!("restore sequence `{sequence}` in Convertigo Studio"),
            ))
        }
        _ => None,
    }
}

/// Errors for the sequence steps whose reference points at nothing (one per missing target,
/// naming every step that uses it), and the problems of the parts import kept read-only
/// because they are broken. Diagnostics point into `.convertigo/project/`; they never block an
/// export (Convertigo Studio is where sequences are fixed).
pub fn check(p: &Project) -> Vec<Diagnostic> {
    let base = p.root.join(ORIGINAL_DIR);
    let c8o = match read_base(&p.root) {
        Ok(Some(c)) => c,
        Ok(None) => return vec![],
        Err(e) => {
            return vec![Diagnostic {
                severity: Severity::Warning,
                file: base.join("c8oProject.yaml"),
                line: None,
                message: format!("the Convertigo copy of the project cannot be read: {e}"),
                hint: "restore .convertigo/project from the original Convertigo project".into(),
            }]
        }
    };
    let pname = c8o
        .project()
        .map(|b| b.name().to_string())
        .unwrap_or_default();
    let reach = reachable(&c8o, p);
    let seqs: BTreeSet<String> = c8o
        .project()
        .into_iter()
        .flat_map(|pb| pb.beans())
        .filter(|b| b.class().starts_with("sequences."))
        .map(|b| b.name().to_string())
        .collect();
    let refs = sequence_refs(&c8o);
    let mut by_problem: BTreeMap<(String, String), Vec<&SeqRef>> = BTreeMap::new();
    for r in &refs {
        if let Some(why) = broken(r, &pname, &reach, &seqs) {
            by_problem.entry(why).or_default().push(r);
        }
    }
    let mut out: Vec<Diagnostic> = by_problem
        .into_iter()
        .map(|((what, fix), rs)| {
            let first = rs[0];
            let n = rs.len();
            Diagnostic {
                severity: Severity::Error,
                file: base.join(&first.file),
                line: line_of(&c8o, &first.file, &format!("{}: ", first.key)),
                message: format!(
                    "{what}, but {n} sequence step{} still call{} it: {}",
                    if n == 1 { "" } else { "s" },
                    if n == 1 { "s" } else { "" },
                    steps_list(&rs)
                ),
                hint: format!(
                    "Convertigo would fail these steps: {fix}, or change the sequences in Convertigo Studio"
                ),
            }
        })
        .collect();
    out.extend(crate::c8o_readonly::check(p, &c8o));
    out
}

// ---------------------------------------------------------------------------------------------
// rename
// ---------------------------------------------------------------------------------------------

fn split_eol(raw: &str) -> (&str, &str) {
    if let Some(b) = raw.strip_suffix("\r\n") {
        (b, "\r\n")
    } else if let Some(b) = raw.strip_suffix('\n') {
        (b, "\n")
    } else {
        (raw, "")
    }
}

/// Applies `f(line index, line without its end)` to every line; `None` when nothing changed.
pub(crate) fn edit_lines(
    text: &str,
    mut f: impl FnMut(usize, &str) -> Option<String>,
) -> Option<String> {
    let mut out = String::with_capacity(text.len() + 16);
    let mut changed = false;
    for (i, raw) in text.split_inclusive('\n').enumerate() {
        let (body, end) = split_eol(raw);
        match f(i, body) {
            Some(n) if n != body => {
                out.push_str(&n);
                changed = true;
            }
            _ => out.push_str(body),
        }
        out.push_str(end);
    }
    changed.then_some(out)
}

/// `(prefix up to the key, key, value)` of a `key: value` line (value unquoted).
fn key_value(body: &str) -> Option<(&str, &str, String)> {
    let ind = body.len() - body.trim_start_matches(' ').len();
    let rest = &body[ind..];
    let (pre, rest) = match rest.strip_prefix("- ") {
        Some(r) => (&body[..ind + 2], r),
        None => (&body[..ind], rest),
    };
    let (k, v) = rest.split_once(": ")?;
    if k.starts_with(['↑', '→', '↓']) || v == "|" {
        return None;
    }
    let v = match v.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')) {
        Some(inner) => inner.replace("''", "'"),
        None => v.to_string(),
    };
    Some((pre, k, v))
}

fn scalar(v: &str) -> String {
    if v.is_empty() {
        "''".into()
    } else if needs_quote(v) {
        format!("'{}'", v.replace('\'', "''"))
    } else {
        v.to_string()
    }
}

/// Rewrites the value of every `key: value` line whose key is in `keys` when `f` gives a new
/// value.
fn rewrite_values(text: &str, keys: &[&str], f: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    edit_lines(text, |_, body| {
        let (pre, k, v) = key_value(body)?;
        if !keys.contains(&k) {
            return None;
        }
        f(&v).map(|n| format!("{pre}{k}: {}", scalar(&n)))
    })
}

/// The lines of `text` holding the children of the bean whose line starts (after its indent)
/// with `parent` (`None`: the whole file, children at indent 0), and the children's indent.
fn region(text: &str, parent: Option<&str>) -> Option<(std::ops::Range<usize>, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let Some(parent) = parent else {
        return Some((0..lines.len(), 0));
    };
    let (start, ind) = lines.iter().enumerate().find_map(|(i, l)| {
        let t = l.trim_start_matches(' ');
        t.starts_with(parent).then(|| (i, l.len() - t.len()))
    })?;
    let end = (start + 1..lines.len())
        .find(|&i| {
            let l = lines[i];
            !l.trim().is_empty() && l.len() - l.trim_start_matches(' ').len() <= ind
        })
        .unwrap_or(lines.len());
    Some((start + 1..end, ind + 2))
}

/// Where a connector's beans are written: `(file, parent line prefix)`.
fn connector_place(cb: &Elem) -> (String, Option<String>) {
    match &cb.file {
        Some(f) => (format!("_c8oProject/{f}"), None),
        None => (
            "c8oProject.yaml".into(),
            Some(format!("↓{} [{}", cb.name(), cb.class())),
        ),
    }
}

struct Edits {
    dir: PathBuf,
    texts: BTreeMap<String, String>,
    changed: BTreeSet<String>,
}

impl Edits {
    fn new(dir: &Path, c8o: &C8oProject) -> Edits {
        Edits {
            dir: dir.to_path_buf(),
            texts: c8o.files.clone(),
            changed: BTreeSet::new(),
        }
    }

    fn apply(&mut self, file: &str, f: impl FnOnce(&str) -> Option<String>) {
        if let Some(t) = self.texts.get(file) {
            if let Some(n) = f(t) {
                self.texts.insert(file.into(), n);
                self.changed.insert(file.into());
            }
        }
    }

    fn all(&mut self, f: impl Fn(&str) -> Option<String>) {
        let files: Vec<String> = self.texts.keys().cloned().collect();
        for file in files {
            self.apply(&file, &f);
        }
    }

    fn write(self) -> Result<Vec<PathBuf>, C8oError> {
        let mut out = vec![];
        for f in &self.changed {
            let path = self.dir.join(f);
            crate::write_atomic(&path, self.texts[f].as_bytes()).map_err(|source| {
                C8oError::Io {
                    path: path.clone(),
                    source,
                }
            })?;
            out.push(path);
        }
        Ok(out)
    }
}

/// Renames a bean line (`↓old [class...]:`) among the children of a region.
fn rename_child(
    text: &str,
    parent: Option<&str>,
    old: &str,
    class_prefix: &str,
    new: &str,
) -> Option<String> {
    let (range, ind) = region(text, parent)?;
    let from = format!("{}↓{old} [{class_prefix}", " ".repeat(ind));
    let to = format!("{}↓{new} [{class_prefix}", " ".repeat(ind));
    edit_lines(text, |i, body| {
        (range.contains(&i) && body.starts_with(&from)).then(|| body.replacen(&from, &to, 1))
    })
}

/// Renames transaction `old` of FullSync connector `connector` to `new` in the project's
/// Convertigo copy: the bean's name (its Test Cases and variables stay as they are) and every
/// `sourceTransaction` naming it. Returns the files changed (none for a project that was not
/// imported from Convertigo).
pub fn rename_transaction(
    root: &Path,
    connector: &str,
    old: &str,
    new: &str,
) -> Result<Vec<PathBuf>, C8oError> {
    let Some(c8o) = read_base(root)? else {
        return Ok(vec![]);
    };
    let pname = c8o
        .project()
        .map(|b| b.name().to_string())
        .unwrap_or_default();
    let mut ed = Edits::new(&root.join(ORIGINAL_DIR), &c8o);
    if let Some(cb) = connector_bean(&c8o, connector).filter(|b| b.class() == FULLSYNC) {
        let (file, parent) = connector_place(cb);
        ed.apply(&file, |t| {
            rename_child(t, parent.as_deref(), old, "transactions.couchdb.", new)
        });
    }
    let (from, to) = (
        format!("{pname}.{connector}.{old}"),
        format!("{pname}.{connector}.{new}"),
    );
    ed.all(|t| {
        rewrite_values(t, &["sourceTransaction"], &|v| {
            (v == from).then(|| to.clone())
        })
    });
    ed.write()
}

/// Renames FullSync connector `old` to `new` in the project's Convertigo copy: the bean and its
/// file, its `databaseName` when it was the connector's name, its listeners' `targetView` /
/// `targetFilter`, and every `sourceTransaction` through it. Returns the files changed.
pub fn rename_connector(root: &Path, old: &str, new: &str) -> Result<Vec<PathBuf>, C8oError> {
    let Some(c8o) = read_base(root)? else {
        return Ok(vec![]);
    };
    let dir = root.join(ORIGINAL_DIR);
    let pname = c8o
        .project()
        .map(|b| b.name().to_string())
        .unwrap_or_default();
    let mut ed = Edits::new(&dir, &c8o);
    let mut moved = None;
    if let Some(cb) = connector_bean(&c8o, old).filter(|b| b.class() == FULLSYNC) {
        let (file, parent) = connector_place(cb);
        let (pfrom, pto) = (format!("{pname}.{old}."), format!("{pname}.{new}."));
        let range = ed
            .texts
            .get(&file)
            .and_then(|t| region(t, parent.as_deref()));
        ed.apply(&file, |t| {
            let (range, ind) = range?;
            edit_lines(t, |i, body| {
                let (pre, k, v) = key_value(body).filter(|_| range.contains(&i))?;
                let nv = match k {
                    "databaseName" if pre.len() == ind && v == old => new.to_string(),
                    "targetView" | "targetFilter" => format!("{pto}{}", v.strip_prefix(&pfrom)?),
                    _ => return None,
                };
                Some(format!("{pre}{k}: {}", scalar(&nv)))
            })
        });
        let from_file = format!("connectors/{old}.yaml");
        let renamed_file = cb.file.as_deref() == Some(from_file.as_str());
        ed.apply("c8oProject.yaml", |t| {
            let key = format!("↓{old} [{FULLSYNC}");
            edit_lines(t, |_, body| {
                let rest = body.trim_start_matches(' ');
                let ind = &body[..body.len() - rest.len()];
                let tail = rest.strip_prefix(&key)?;
                let tail = if renamed_file {
                    tail.replacen(
                        &format!("🗏 {from_file}"),
                        &format!("🗏 connectors/{new}.yaml"),
                        1,
                    )
                } else {
                    tail.to_string()
                };
                Some(format!("{ind}↓{new} [{FULLSYNC}{tail}"))
            })
        });
        if renamed_file {
            moved = Some((
                format!("_c8oProject/{from_file}"),
                format!("_c8oProject/connectors/{new}.yaml"),
            ));
        }
    }
    let (from, to) = (format!("{pname}.{old}"), format!("{pname}.{new}"));
    ed.all(|t| {
        rewrite_values(t, &["sourceTransaction"], &|v| {
            let rest = v.strip_prefix(&from)?;
            (rest.is_empty() || rest.starts_with('.')).then(|| format!("{to}{rest}"))
        })
    });
    if let Some((a, b)) = &moved {
        if let Some(t) = ed.texts.remove(a) {
            ed.texts.insert(b.clone(), t);
            ed.changed.remove(a);
            ed.changed.insert(b.clone());
        }
    }
    let written = ed.write()?;
    if let Some((a, _)) = moved {
        let p = dir.join(a);
        std::fs::remove_file(&p).map_err(|source| C8oError::Io { path: p, source })?;
    }
    Ok(written)
}
