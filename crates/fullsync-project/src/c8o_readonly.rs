//! `check` for the parts of an imported Convertigo project that import kept read-only because
//! they are broken (a design document whose docdata is not JSON, a listener on a view that
//! does not exist, a GetView transaction whose default view does not exist, a connector whose
//! name is not a database name). Import lists them once; `check` keeps reporting them, since
//! Convertigo would trip on them too.

use std::path::Path;

use crate::convertigo::{is_importable, read_only_parts, C8oProject, Elem, ORIGINAL_DIR};
use crate::load::{Diagnostic, Severity};
use crate::model::Project;

const FULLSYNC: &str = "connectors.FullSyncConnector";
const VERBATIM: &str = "not edited by FullSync Studio; kept verbatim";

fn bean_file(conn: &Elem) -> String {
    conn.file
        .as_ref()
        .map(|f| format!("_c8oProject/{f}"))
        .unwrap_or_else(|| "c8oProject.yaml".into())
}

fn line_of(c8o: &C8oProject, file: &str, name: &str) -> Option<u32> {
    let needle = format!("↓{name} [");
    c8o.files
        .get(file)?
        .lines()
        .position(|l| l.trim_start().starts_with(&needle))
        .map(|i| i as u32 + 1)
}

/// Diagnostics for the broken read-only parts of the FullSync connectors of `c8o` (the
/// project's Convertigo copy).
pub fn check(p: &Project, c8o: &C8oProject) -> Vec<Diagnostic> {
    let base = p.root.join(ORIGINAL_DIR);
    let Some(pb) = c8o.project() else {
        return vec![];
    };
    let mut out = vec![];
    for conn in pb.beans().filter(|b| b.class() == FULLSYNC) {
        if !is_importable(conn) {
            out.push(Diagnostic {
                severity: Severity::Warning,
                file: base.join("c8oProject.yaml"),
                line: line_of(c8o, "c8oProject.yaml", conn.name()),
                message: format!(
                    "FullSync connector `{}` is kept read-only: its name is not a valid database name",
                    conn.name()
                ),
                hint: "rename it in Convertigo Studio (a-z, 0-9, _$()+-/, starting with a letter)"
                    .into(),
            });
            continue;
        }
        let Some(model) = p.connector(conn.name()) else {
            continue;
        };
        let file = bean_file(conn);
        for ro in read_only_parts(conn, pb.name()) {
            if ro.reason == VERBATIM {
                continue;
            }
            let name = ro.path.rsplit('/').next().unwrap_or_default();
            let bean = conn
                .beans()
                .find(|b| b.name() == name && b.class() == ro.class);
            out.extend(diagnose(&base, &file, c8o, model, &ro, bean));
        }
    }
    out
}

fn diagnose(
    base: &Path,
    file: &str,
    c8o: &C8oProject,
    model: &crate::model::Connector,
    ro: &crate::convertigo::ReadOnlyBean,
    bean: Option<&Elem>,
) -> Option<Diagnostic> {
    let name = ro.path.rsplit('/').next().unwrap_or_default();
    let line = line_of(c8o, file, name);
    let viewname = bean
        .filter(|b| b.class() == "transactions.couchdb.GetViewTransaction")
        .and_then(|b| b.prop("viewname"));
    if let Some(vn) = viewname {
        if model.find_view(&vn).is_some() {
            return None; // the view was created since: Convertigo will find it
        }
        return Some(Diagnostic {
            severity: Severity::Error,
            file: base.join(file),
            line,
            message: format!(
                "GetView transaction `{name}` of connector `{}` has default view `{vn}`, which does not exist",
                model.name
            ),
            hint: format!(
                "create view `{vn}` in connector `{}`, or fix viewname in Convertigo Studio",
                model.name
            ),
        });
    }
    Some(Diagnostic {
        severity: Severity::Warning,
        file: base.join(file),
        line,
        message: format!(
            "`{}` ({}) is kept read-only because it is broken: {}",
            ro.path, ro.class, ro.reason
        ),
        hint: "fix it in Convertigo Studio; FullSync Studio exports it unchanged".into(),
    })
}
