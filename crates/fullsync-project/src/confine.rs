//! Keeping a project inside its folder. Projects come from `git clone`, so a project may carry
//! symbolic links to files elsewhere on this machine (`views/x/map.js -> ~/.ssh/id_rsa`). The
//! loader, the watcher, the studio's file commands and the Convertigo export resolve every path
//! they use and refuse any that leads outside the project root, or to nothing (a dangling link
//! could make a later write land outside). Links inside the project are followed as usual.

use std::path::{Component, Path, PathBuf};

/// A path that leaves the project, named relative to the project root.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{link}` is a symbolic link that leads outside the project (or to nothing): FullSync does not \
     follow it, so that a project cannot pull files from elsewhere on this machine into what it \
     serves or deploys; replace the link with a copy of the file or folder it points to"
)]
pub struct Escape {
    /// The link (or the path, when it is not below the root), relative to the project root,
    /// with `/` separators.
    pub link: String,
}

/// The root of a project, resolved once, to check many paths against it.
#[derive(Clone, Debug)]
pub struct Confine {
    root: PathBuf,
    canonical: Option<PathBuf>,
}

impl Confine {
    /// Confinement to `root` (resolved now; a root that does not resolve confines nothing,
    /// since nothing under it can be read either).
    pub fn new(root: &Path) -> Confine {
        Confine {
            root: root.to_path_buf(),
            canonical: root.canonicalize().ok(),
        }
    }

    /// The project root as given.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Checks `path` (absolute under the root, or relative to it): every component that is a
    /// symbolic link must resolve inside the root. Components that do not exist yet (a file
    /// about to be created) are fine. Refuses `..` components.
    pub fn check(&self, path: &Path) -> Result<(), Escape> {
        let Some(canonical) = &self.canonical else {
            return Ok(());
        };
        let rel = if path.is_absolute() {
            path.strip_prefix(&self.root).map_err(|_| Escape {
                link: file_name(path),
            })?
        } else {
            path
        };
        let mut cur = self.root.clone();
        let mut shown = PathBuf::new();
        for c in rel.components() {
            match c {
                Component::Normal(n) => {
                    cur.push(n);
                    shown.push(n);
                }
                Component::CurDir => continue,
                _ => return Err(Escape { link: slashes(rel) }),
            }
            let Ok(meta) = std::fs::symlink_metadata(&cur) else {
                return Ok(());
            };
            if meta.file_type().is_symlink() {
                match cur.canonicalize() {
                    Ok(target) if target.starts_with(canonical) => {}
                    _ => {
                        return Err(Escape {
                            link: slashes(&shown),
                        })
                    }
                }
            }
        }
        Ok(())
    }

    /// Every symbolic link under the root that leads outside it, in path order. Skips `.git`,
    /// `node_modules` and `target`, and does not descend into links.
    pub fn escapes(&self) -> Vec<Escape> {
        let mut out = vec![];
        let mut stack = vec![self.root.clone()];
        while let Some(dir) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in rd.flatten() {
                let name = e.file_name();
                if matches!(name.to_str(), Some(".git" | "node_modules" | "target")) {
                    continue;
                }
                let Ok(ft) = e.file_type() else { continue };
                if ft.is_symlink() {
                    if let Err(x) = self.check(&e.path()) {
                        out.push(x);
                    }
                } else if ft.is_dir() {
                    stack.push(e.path());
                }
            }
        }
        out.sort_by(|a, b| a.link.cmp(&b.link));
        out
    }
}

/// Checks one path against `root` (see [`Confine::check`]).
pub fn check(root: &Path, path: &Path) -> Result<(), Escape> {
    Confine::new(root).check(path)
}

fn slashes(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn links_inside_are_followed_and_links_outside_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("p");
        let outside = dir.path().join("secret");
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("key"), "secret").unwrap();
        std::fs::write(root.join("a/b/f.js"), "x").unwrap();
        symlink(root.join("a/b"), root.join("a/inside")).unwrap();
        symlink(&outside, root.join("a/out")).unwrap();
        symlink(outside.join("key"), root.join("a/b/key.js")).unwrap();
        symlink(root.join("nothing"), root.join("dangling")).unwrap();
        let c = Confine::new(&root);
        assert_eq!(c.check(&root.join("a/inside/f.js")), Ok(()));
        assert_eq!(c.check(Path::new("a/b/new.js")), Ok(()));
        assert_eq!(c.check(&root.join("a/out/key")).unwrap_err().link, "a/out");
        assert_eq!(
            c.check(Path::new("a/b/key.js")).unwrap_err().link,
            "a/b/key.js"
        );
        assert_eq!(c.check(Path::new("dangling")).unwrap_err().link, "dangling");
        assert!(c.check(Path::new("a/../../secret")).is_err());
        let links: Vec<String> = c.escapes().into_iter().map(|e| e.link).collect();
        assert_eq!(links, vec!["a/b/key.js", "a/out", "dangling"]);
        let msg = c.check(Path::new("a/out/key")).unwrap_err().to_string();
        assert!(msg.contains("`a/out`") && !msg.contains(&*dir.path().to_string_lossy()));
    }
}
