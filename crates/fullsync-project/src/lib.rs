//! FullSync projects as plain files.
//!
//! A project is a folder: `fullsync.toml`, `connectors/<db>/` (one per database) with design
//! documents in the couchapp layout (one `.js` file per function), Mango indexes, listeners and
//! transactions as TOML, and `tests/*.test.json` view tests. The format is documented in
//! `docs/project-format.md`. This crate loads it with precise diagnostics ([`load`]), checks
//! every function with QuickJS ([`load::compile_check`]), writes files atomically
//! ([`write_atomic`]), syncs the project into the engine ([`sync`]) and runs its view tests
//! ([`testing`]).

pub mod c8o_kept;
pub(crate) mod c8o_merge;
pub mod c8o_readonly;
pub mod c8o_refs;
pub mod c8o_style;
pub mod c8o_types;
pub mod confine;
pub mod convertigo;
pub mod git;
pub mod load;
pub mod model;
pub mod ops;
pub mod sync;
pub mod testing;
pub mod watch;

use std::io::Write;
use std::path::Path;

pub use load::{load, Diagnostic, Severity};
pub use model::*;

/// Writes a file atomically: a temporary file in the same folder, flushed to disk, then
/// renamed over the target. A crash leaves either the old or the new content, never half.
pub fn write_atomic(path: &Path, content: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id()
    ));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(content)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
