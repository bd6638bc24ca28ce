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

mod car;
mod docdata;
mod export;
mod import;
mod mapping;
mod quote;
mod read;
mod tree;
mod write;

pub use car::*;
pub use docdata::*;
pub use export::*;
pub use import::*;
pub use mapping::*;
pub use quote::*;
pub use read::*;
pub use tree::*;
pub use write::*;

use std::path::{Path, PathBuf};

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
