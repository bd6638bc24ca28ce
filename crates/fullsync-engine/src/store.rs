//! The narrow storage interface the engine is written against, implemented with `redb`.
//!
//! Everything the engine stores is a byte key and a byte value in one of a few named tables
//! ([`T`]). Keys sort by raw bytes, which is the order `_all_docs` needs and, for big-endian
//! sequence numbers, the order `_changes` needs. Swapping the backend means reimplementing this
//! file only (see `docs/design.md` and `docs/storage-choice.md` for why redb).
//!
//! Durability: one engine write (a `_bulk_docs` request, a PUT) is one transaction committed
//! with [`redb::Durability::Immediate`]: when `commit` returns, the data is on disk (fsync), and
//! a crash at any moment leaves either the whole transaction or none of it. redb checksums its
//! pages and recovers to the last committed transaction on open.

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};

use crate::error::{Error, Result};

/// The engine's tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum T {
    /// doc id -> encoded [`DocRecord`](crate::codec::DocRecord).
    Docs,
    /// big-endian u64 sequence -> doc id (one entry per document: its latest change).
    Seqs,
    /// `_local/` doc id -> JSON with `_rev` `0-N`.
    Local,
    /// `id \0 rev` -> encoded body of an interior revision (kept until compaction).
    Revs,
    /// attachment digest -> bytes (content-addressed, shared by revisions and documents).
    Atts,
    /// name -> value: counters (`update_seq`, `doc_count`, ...) and settings.
    Meta,
}

const ALL: [T; 6] = [T::Docs, T::Seqs, T::Local, T::Revs, T::Atts, T::Meta];

fn def(t: T) -> TableDefinition<'static, &'static [u8], &'static [u8]> {
    TableDefinition::new(match t {
        T::Docs => "docs",
        T::Seqs => "seqs",
        T::Local => "local",
        T::Revs => "revs",
        T::Atts => "atts",
        T::Meta => "meta",
    })
}

/// One database's store.
pub struct Store {
    db: RwLock<redb::Database>,
    path: Option<PathBuf>,
}

type Tables<'t> = [redb::Table<'t, &'static [u8], &'static [u8]>; 6];
type RTables = [redb::ReadOnlyTable<&'static [u8], &'static [u8]>; 6];

/// Tables of an open write transaction.
pub struct Writer<'t> {
    tables: Tables<'t>,
}

/// Tables of an open read transaction (a consistent snapshot).
pub struct Reader {
    tables: RTables,
}

fn idx(t: T) -> usize {
    ALL.iter().position(|&x| x == t).unwrap()
}

fn bounds<'a>(
    start: Option<&'a [u8]>,
    end: Option<&'a [u8]>,
    end_inclusive: bool,
) -> (Bound<&'a [u8]>, Bound<&'a [u8]>) {
    let s = start.map_or(Bound::Unbounded, Bound::Included);
    let e = match end {
        None => Bound::Unbounded,
        Some(e) if end_inclusive => Bound::Included(e),
        Some(e) => Bound::Excluded(e),
    };
    (s, e)
}

macro_rules! scan_impl {
    () => {
        /// Visits entries of `t` with `start <= key (<|<=) end` in key order (or reverse),
        /// until `f` returns `false`.
        pub fn scan(
            &self,
            t: T,
            start: Option<&[u8]>,
            end: Option<&[u8]>,
            end_inclusive: bool,
            reverse: bool,
            mut f: impl FnMut(&[u8], &[u8]) -> Result<bool>,
        ) -> Result<()> {
            let table = &self.tables[idx(t)];
            let (s, e) = bounds(start, end, end_inclusive);
            if let (
                Bound::Included(a) | Bound::Excluded(a),
                Bound::Included(b) | Bound::Excluded(b),
            ) = (s, e)
            {
                if a > b {
                    return Ok(());
                }
            }
            let range = table.range::<&[u8]>((s, e))?;
            if reverse {
                for item in range.rev() {
                    let (k, v) = item?;
                    if !f(k.value(), v.value())? {
                        break;
                    }
                }
            } else {
                for item in range {
                    let (k, v) = item?;
                    if !f(k.value(), v.value())? {
                        break;
                    }
                }
            }
            Ok(())
        }

        /// The value under `key`.
        pub fn get(&self, t: T, key: &[u8]) -> Result<Option<Vec<u8>>> {
            Ok(self.tables[idx(t)].get(key)?.map(|v| v.value().to_vec()))
        }

        /// Whether `key` exists.
        pub fn contains(&self, t: T, key: &[u8]) -> Result<bool> {
            Ok(self.tables[idx(t)].get(key)?.is_some())
        }

        /// Number of entries in `t`.
        pub fn len(&self, t: T) -> Result<u64> {
            Ok(self.tables[idx(t)].len()?)
        }

        /// A `u64` counter in [`T::Meta`] (0 when absent).
        pub fn meta_u64(&self, key: &str) -> Result<u64> {
            Ok(match self.tables[idx(T::Meta)].get(key.as_bytes())? {
                Some(v) => {
                    let b = v.value();
                    let arr: [u8; 8] = b
                        .try_into()
                        .map_err(|_| Error::Corrupt(format!("meta {key}")))?;
                    u64::from_be_bytes(arr)
                }
                None => 0,
            })
        }
    };
}

impl Writer<'_> {
    scan_impl!();

    /// Stores `value` under `key`.
    pub fn put(&mut self, t: T, key: &[u8], value: &[u8]) -> Result<()> {
        self.tables[idx(t)].insert(key, value)?;
        Ok(())
    }

    /// Removes `key`; returns whether it existed.
    pub fn del(&mut self, t: T, key: &[u8]) -> Result<bool> {
        Ok(self.tables[idx(t)].remove(key)?.is_some())
    }

    /// Removes every entry of `t`.
    pub fn clear(&mut self, t: T) -> Result<()> {
        self.tables[idx(t)].retain(|_, _| false)?;
        Ok(())
    }

    /// Sets a counter in [`T::Meta`].
    pub fn set_meta_u64(&mut self, key: &str, v: u64) -> Result<()> {
        self.put(T::Meta, key.as_bytes(), &v.to_be_bytes())
    }
}

impl Reader {
    scan_impl!();
}

impl Store {
    /// Opens (or creates) the store file at `path`.
    pub fn open(path: &Path) -> Result<Store> {
        let db = redb::Database::builder()
            .set_cache_size(64 << 20)
            .create(path)
            .map_err(|e| {
                let file = path.file_name().unwrap_or_default().to_string_lossy();
                Error::Storage(format!("cannot open {file} in the data directory: {e}"))
            })?;
        Self::init(db, Some(path.to_path_buf()))
    }

    /// A store kept in memory only (tests, previews, `fullsync test`).
    pub fn in_memory() -> Result<Store> {
        let db =
            redb::Database::builder().create_with_backend(redb::backends::InMemoryBackend::new())?;
        Self::init(db, None)
    }

    fn init(db: redb::Database, path: Option<PathBuf>) -> Result<Store> {
        let txn = db.begin_write()?;
        for t in ALL {
            txn.open_table(def(t))?;
        }
        txn.commit()?;
        Ok(Store {
            db: RwLock::new(db),
            path,
        })
    }

    /// The file backing this store, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Runs `f` in one write transaction and commits it durably when `f` returns `Ok`.
    /// An error from `f` aborts the transaction: nothing it wrote is kept.
    pub fn write<R>(&self, f: impl FnOnce(&mut Writer<'_>) -> Result<R>) -> Result<R> {
        let db = self.db.read().unwrap_or_else(|e| e.into_inner());
        let txn = db.begin_write()?;
        let r = {
            let tables = [
                txn.open_table(def(ALL[0]))?,
                txn.open_table(def(ALL[1]))?,
                txn.open_table(def(ALL[2]))?,
                txn.open_table(def(ALL[3]))?,
                txn.open_table(def(ALL[4]))?,
                txn.open_table(def(ALL[5]))?,
            ];
            let mut w = Writer { tables };
            f(&mut w)?
        };
        txn.commit()?;
        Ok(r)
    }

    /// Runs `f` on a consistent snapshot.
    pub fn read<R>(&self, f: impl FnOnce(&Reader) -> Result<R>) -> Result<R> {
        let db = self.db.read().unwrap_or_else(|e| e.into_inner());
        let txn = db.begin_read()?;
        let tables = [
            txn.open_table(def(ALL[0]))?,
            txn.open_table(def(ALL[1]))?,
            txn.open_table(def(ALL[2]))?,
            txn.open_table(def(ALL[3]))?,
            txn.open_table(def(ALL[4]))?,
            txn.open_table(def(ALL[5]))?,
        ];
        let r = f(&Reader { tables });
        drop(db);
        r
    }

    /// Rewrites the file to reclaim free space. Waits for running transactions.
    pub fn compact_file(&self) -> Result<()> {
        let mut db = self.db.write().unwrap_or_else(|e| e.into_inner());
        db.compact()?;
        Ok(())
    }

    /// Size of the backing file in bytes (0 in memory).
    pub fn file_size(&self) -> u64 {
        self.path
            .as_ref()
            .and_then(|p| std::fs::metadata(p).ok())
            .map_or(0, |m| m.len())
    }
}
