//! The engine: a set of databases in a data directory (one redb file per database), and the
//! server's stable uuid.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use crate::db::{check_db_name, Database};
use crate::error::{Error, Result};
use crate::store::Store;

/// All databases of one data directory.
pub struct Engine {
    dir: Option<PathBuf>,
    uuid: String,
    dbs: RwLock<HashMap<String, Arc<Database>>>,
    hooks: RwLock<Vec<OpenHook>>,
}

/// Called with every database when it is opened or created (to attach validators).
pub type OpenHook = Arc<dyn Fn(&Arc<Database>) + Send + Sync>;

/// Longest file stem used as is; longer ones are shortened and hashed (file systems allow 255
/// bytes per name, and a legal name of 238 characters with many `/` escapes to 714).
const MAX_STEM: usize = 120;

/// The file-system-safe stem of a database's files (its `.redb` file, its view index folder):
/// its name with `/` escaped (`%2F`; `%` is not allowed in names), or, when that is longer than
/// 120 bytes, its first 80 bytes, `~` (never in a name) and the MD5 of the name, so every name
/// maps to a distinct stem that fits any file system. The full name of a shortened stem is kept
/// beside it in `<stem>.name`.
pub fn file_stem(db: &str) -> String {
    let escaped = db.replace('/', "%2F");
    if escaped.len() <= MAX_STEM {
        return escaped;
    }
    use md5::Digest;
    let digest = crate::rev::hex(&md5::Md5::digest(db.as_bytes()));
    format!("{}~{digest}", &escaped[..80])
}

fn file_name(db: &str) -> String {
    format!("{}.redb", file_stem(db))
}

/// The database name of a file in the data directory (reading `<stem>.name` for shortened
/// stems).
fn db_name(dir: &Path, file: &str) -> Option<String> {
    let stem = file.strip_suffix(".redb")?;
    if stem.contains('~') {
        let name = std::fs::read_to_string(dir.join(format!("{stem}.name"))).ok()?;
        return (file_stem(&name) == stem).then_some(name);
    }
    Some(stem.replace("%2F", "/"))
}

impl Engine {
    /// Opens the data directory `dir` (created if needed). The server uuid is read from
    /// `dir/server.json`, or created there once, so it is stable across restarts (PouchDB's
    /// checkpoints depend on it).
    pub fn open(dir: &Path) -> Result<Engine> {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::Storage(format!("cannot create the data directory: {e}")))?;
        let meta = dir.join("server.json");
        let uuid = match std::fs::read_to_string(&meta) {
            Ok(s) => serde_json::from_str::<serde_json::Value>(&s)
                .ok()
                .and_then(|v| v.get("uuid").and_then(|u| u.as_str()).map(str::to_string))
                .ok_or_else(|| {
                    Error::Corrupt(
                        "server.json in the data directory is not valid; delete it to get a new \
                         server uuid"
                            .into(),
                    )
                })?,
            Err(_) => {
                let uuid = crate::doc::new_uuid();
                let tmp = dir.join("server.json.tmp");
                std::fs::write(&tmp, serde_json::json!({ "uuid": uuid }).to_string())?;
                std::fs::rename(&tmp, &meta)?;
                uuid
            }
        };
        Ok(Engine {
            dir: Some(dir.to_path_buf()),
            uuid,
            dbs: RwLock::new(HashMap::new()),
            hooks: RwLock::new(vec![]),
        })
    }

    /// An engine whose databases live in memory only.
    pub fn in_memory() -> Engine {
        Engine {
            dir: None,
            uuid: crate::doc::new_uuid(),
            dbs: RwLock::new(HashMap::new()),
            hooks: RwLock::new(vec![]),
        }
    }

    /// Registers a hook run on every database opened from now on, and on those already open.
    pub fn add_open_hook(&self, hook: OpenHook) {
        let open: Vec<Arc<Database>> = self
            .dbs
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        for db in &open {
            hook(db);
        }
        self.hooks
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(hook);
    }

    fn run_hooks(&self, db: &Arc<Database>) {
        let hooks = self.hooks.read().unwrap_or_else(|e| e.into_inner()).clone();
        for h in hooks {
            h(db);
        }
    }

    /// The data directory, if on disk.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The server's stable uuid.
    pub fn uuid(&self) -> &str {
        &self.uuid
    }

    /// Creates a database; `412 file_exists` if it exists.
    pub fn create_db(&self, name: &str) -> Result<Arc<Database>> {
        check_db_name(name)?;
        let mut dbs = self.dbs.write().unwrap_or_else(|e| e.into_inner());
        if dbs.contains_key(name) || self.file(name).is_some_and(|p| p.exists()) {
            return Err(Error::DbExists);
        }
        let store = match self.file(name) {
            Some(p) => {
                self.write_long_name(name)?;
                Store::open(&p)?
            }
            None => Store::in_memory()?,
        };
        let db = Arc::new(Database::open(name, store)?);
        dbs.insert(name.to_string(), db.clone());
        drop(dbs);
        self.run_hooks(&db);
        Ok(db)
    }

    /// Opens an existing database; `404 not_found` if it does not exist.
    pub fn db(&self, name: &str) -> Result<Arc<Database>> {
        if let Some(db) = self.dbs.read().unwrap_or_else(|e| e.into_inner()).get(name) {
            return Ok(db.clone());
        }
        check_db_name(name).map_err(|_| Error::DbNotFound)?;
        let path = self.file(name).ok_or(Error::DbNotFound)?;
        let mut dbs = self.dbs.write().unwrap_or_else(|e| e.into_inner());
        if let Some(db) = dbs.get(name) {
            return Ok(db.clone());
        }
        if !path.exists() {
            return Err(Error::DbNotFound);
        }
        let db = Arc::new(Database::open(name, Store::open(&path)?)?);
        dbs.insert(name.to_string(), db.clone());
        drop(dbs);
        self.run_hooks(&db);
        Ok(db)
    }

    /// Opens a database, creating it when missing.
    pub fn db_or_create(&self, name: &str) -> Result<Arc<Database>> {
        match self.db(name) {
            Err(Error::DbNotFound) => match self.create_db(name) {
                Err(Error::DbExists) => self.db(name),
                r => r,
            },
            r => r,
        }
    }

    /// Deletes a database and its file.
    pub fn delete_db(&self, name: &str) -> Result<()> {
        let mut dbs = self.dbs.write().unwrap_or_else(|e| e.into_inner());
        let was_open = dbs.remove(name).is_some();
        match self.file(name) {
            Some(p) if p.exists() => {
                std::fs::remove_file(&p).map_err(|e| {
                    Error::Storage(format!("cannot delete the file of database {name}: {e}"))
                })?;
                if let Some(dir) = &self.dir {
                    let _ = std::fs::remove_file(dir.join(format!("{}.name", file_stem(name))));
                }
                Ok(())
            }
            Some(_) => Err(Error::DbNotFound),
            None if was_open => Ok(()),
            None => Err(Error::DbNotFound),
        }
    }

    /// Empties a database (FullSync's `fs://db.reset`): deletes it and creates it again, keeping
    /// its `revs_limit` and `_security`. Returns the new database.
    pub fn reset_db(&self, name: &str) -> Result<Arc<Database>> {
        let old = self.db(name)?;
        let (limit, sec) = (old.revs_limit(), old.security()?);
        drop(old);
        self.delete_db(name)?;
        let db = self.create_db(name)?;
        db.set_revs_limit(limit)?;
        if sec.as_object().is_some_and(|m| !m.is_empty()) {
            db.set_security(&sec)?;
        }
        Ok(db)
    }

    /// Names of all databases, sorted.
    pub fn all_dbs(&self) -> Result<Vec<String>> {
        let mut names: Vec<String> = match &self.dir {
            Some(dir) => std::fs::read_dir(dir)?
                .filter_map(|e| e.ok())
                .filter_map(|e| db_name(dir, &e.file_name().to_string_lossy()))
                .collect(),
            None => self
                .dbs
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .keys()
                .cloned()
                .collect(),
        };
        names.sort();
        Ok(names)
    }

    fn file(&self, name: &str) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join(file_name(name)))
    }

    /// For a name whose file stem is shortened: writes the full name beside it (atomically).
    fn write_long_name(&self, name: &str) -> Result<()> {
        let (Some(dir), stem) = (&self.dir, file_stem(name)) else {
            return Ok(());
        };
        if !stem.contains('~') {
            return Ok(());
        }
        let tmp = dir.join(format!("{stem}.name.tmp"));
        std::fs::write(&tmp, name)
            .and_then(|_| std::fs::rename(&tmp, dir.join(format!("{stem}.name"))))
            .map_err(|e| Error::Storage(format!("cannot record the name of database {name}: {e}")))
    }
}
