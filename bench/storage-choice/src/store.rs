//! The minimal storage interface the document engine needs, implemented on
//! redb (one file, three tables) and fjall (one database dir, three keyspaces).
//!
//! Both backends use raw byte keys/values so that the data written is
//! byte-for-byte identical: `docs` key = doc id string, `by_seq` key =
//! u64 big-endian, `meta` key = ASCII name.

use std::path::Path;

pub const BACKENDS: &[&str] = &["redb", "fjall"];

/// Checker self-test only: `STORAGE_CHOICE_UNSAFE_NO_SYNC=1` makes commits
/// NON-durable (redb Durability::None, fjall durability None) so one can see
/// that the kill -9 verifier does catch lost acknowledged batches.
/// Optional cache-size override in MiB (sensitivity runs only; default = each
/// crate's own default: redb 1 GiB, fjall 32 MiB).
pub fn cache_override(var: &str) -> Option<u64> {
    std::env::var(var).ok().and_then(|v| v.parse::<u64>().ok()).map(|m| m * 1024 * 1024)
}

pub fn unsafe_no_sync() -> bool {
    std::env::var("STORAGE_CHOICE_UNSAFE_NO_SYNC").map(|v| v == "1").unwrap_or(false)
}

/// Operations available inside one write transaction.
pub trait TxOps {
    fn get_doc(&mut self, id: &[u8]) -> Option<Vec<u8>>;
    fn put_doc(&mut self, id: &[u8], val: &[u8]);
    fn put_seq(&mut self, seq: u64, id: &[u8]);
    fn del_seq(&mut self, seq: u64);
    fn put_meta(&mut self, key: &[u8], val: &[u8]);
}

pub trait Store {
    /// Run `f` inside ONE write transaction and commit it durably (fsync)
    /// before returning.
    fn write_txn(&self, f: &mut dyn FnMut(&mut dyn TxOps));
    /// Point-read every id (inside one read snapshot); returns (found, total value bytes).
    fn read_docs(&self, ids: &[&[u8]]) -> (usize, u64);
    fn get_doc(&self, id: &[u8]) -> Option<Vec<u8>>;
    fn get_meta(&self, key: &[u8]) -> Option<Vec<u8>>;
    /// Full ordered scan of by_seq.
    fn scan_by_seq(&self, f: &mut dyn FnMut(&[u8], &[u8]));
    /// Full ordered scan of docs.
    fn scan_docs(&self, f: &mut dyn FnMut(&[u8], &[u8]));
    /// fjall: flush memtables into on-disk SST tables (what happens anyway
    /// once a real database outgrows the 64 MiB memtable). redb: no-op.
    fn checkpoint(&self);
}

/// Open (or create) a store. `create` = start from an empty directory.
pub fn open_store(backend: &str, dir: &Path) -> Result<Box<dyn Store>, String> {
    match backend {
        #[cfg(feature = "redb")]
        "redb" => redb_impl::RedbStore::open(dir).map(|s| Box::new(s) as Box<dyn Store>),
        #[cfg(feature = "fjall")]
        "fjall" => fjall_impl::FjallStore::open(dir).map(|s| Box::new(s) as Box<dyn Store>),
        other => Err(format!("backend '{other}' not compiled in / unknown")),
    }
}

pub fn compiled_backends() -> Vec<&'static str> {
    BACKENDS
        .iter()
        .copied()
        .filter(|b| match *b {
            "redb" => cfg!(feature = "redb"),
            "fjall" => cfg!(feature = "fjall"),
            _ => false,
        })
        .collect()
}

#[cfg(feature = "redb")]
mod redb_impl {
    use super::*;
    use redb::{
        Database, Durability, ReadableDatabase, ReadableTable, Table, TableDefinition, TableError,
    };

    const DOCS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("docs");
    const BY_SEQ: TableDefinition<&[u8], &[u8]> = TableDefinition::new("by_seq");
    const META: TableDefinition<&[u8], &[u8]> = TableDefinition::new("meta");

    pub struct RedbStore {
        db: Database,
    }

    impl RedbStore {
        pub fn open(dir: &Path) -> Result<Self, String> {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
            // Builder::create opens an existing file (running crash repair if
            // needed) or creates a new one. Default builder settings.
            let mut b = Database::builder();
            if let Some(bytes) = cache_override("REDB_CACHE_MIB") {
                b.set_cache_size(bytes as usize);
            }
            let db = b.create(dir.join("db.redb")).map_err(|e| e.to_string())?;
            Ok(RedbStore { db })
        }
    }

    struct Ops<'t> {
        docs: Table<'t, &'static [u8], &'static [u8]>,
        by_seq: Table<'t, &'static [u8], &'static [u8]>,
        meta: Table<'t, &'static [u8], &'static [u8]>,
    }

    impl TxOps for Ops<'_> {
        fn get_doc(&mut self, id: &[u8]) -> Option<Vec<u8>> {
            self.docs.get(id).unwrap().map(|g| g.value().to_vec())
        }
        fn put_doc(&mut self, id: &[u8], val: &[u8]) {
            self.docs.insert(id, val).unwrap();
        }
        fn put_seq(&mut self, seq: u64, id: &[u8]) {
            self.by_seq.insert(&seq.to_be_bytes()[..], id).unwrap();
        }
        fn del_seq(&mut self, seq: u64) {
            self.by_seq.remove(&seq.to_be_bytes()[..]).unwrap();
        }
        fn put_meta(&mut self, key: &[u8], val: &[u8]) {
            self.meta.insert(key, val).unwrap();
        }
    }

    impl RedbStore {
        fn scan(&self, def: TableDefinition<&[u8], &[u8]>, f: &mut dyn FnMut(&[u8], &[u8])) {
            let rtx = self.db.begin_read().unwrap();
            let t = match rtx.open_table(def) {
                Ok(t) => t,
                Err(TableError::TableDoesNotExist(_)) => return,
                Err(e) => panic!("{e}"),
            };
            for kv in t.iter().unwrap() {
                let (k, v) = kv.unwrap();
                f(k.value(), v.value());
            }
        }
        fn get(&self, def: TableDefinition<&[u8], &[u8]>, key: &[u8]) -> Option<Vec<u8>> {
            let rtx = self.db.begin_read().unwrap();
            let t = match rtx.open_table(def) {
                Ok(t) => t,
                Err(TableError::TableDoesNotExist(_)) => return None,
                Err(e) => panic!("{e}"),
            };
            let r = t.get(key).unwrap().map(|g| g.value().to_vec());
            r
        }
    }

    impl Store for RedbStore {
        fn write_txn(&self, f: &mut dyn FnMut(&mut dyn TxOps)) {
            let mut txn = self.db.begin_write().unwrap();
            // Immediate is redb's default; set explicitly: fsync before commit returns.
            txn.set_durability(if unsafe_no_sync() {
                Durability::None
            } else {
                Durability::Immediate
            })
            .unwrap();
            {
                let mut ops = Ops {
                    docs: txn.open_table(DOCS).unwrap(),
                    by_seq: txn.open_table(BY_SEQ).unwrap(),
                    meta: txn.open_table(META).unwrap(),
                };
                f(&mut ops);
            }
            txn.commit().unwrap();
        }

        fn read_docs(&self, ids: &[&[u8]]) -> (usize, u64) {
            let rtx = self.db.begin_read().unwrap();
            let t = rtx.open_table(DOCS).unwrap();
            let (mut found, mut bytes) = (0usize, 0u64);
            for id in ids {
                if let Some(g) = t.get(*id).unwrap() {
                    let v = g.value();
                    found += 1;
                    bytes += v.len() as u64 + v[v.len() - 1] as u64;
                }
            }
            (found, bytes)
        }

        fn get_doc(&self, id: &[u8]) -> Option<Vec<u8>> {
            self.get(DOCS, id)
        }
        fn get_meta(&self, key: &[u8]) -> Option<Vec<u8>> {
            self.get(META, key)
        }
        fn scan_by_seq(&self, f: &mut dyn FnMut(&[u8], &[u8])) {
            self.scan(BY_SEQ, f)
        }
        fn scan_docs(&self, f: &mut dyn FnMut(&[u8], &[u8])) {
            self.scan(DOCS, f)
        }
        fn checkpoint(&self) {}
    }
}

#[cfg(feature = "fjall")]
mod fjall_impl {
    use super::*;
    use fjall::{
        KeyspaceCreateOptions, PersistMode, Readable, SingleWriterTxDatabase,
        SingleWriterTxKeyspace, SingleWriterWriteTx,
    };

    pub struct FjallStore {
        db: SingleWriterTxDatabase,
        docs: SingleWriterTxKeyspace,
        by_seq: SingleWriterTxKeyspace,
        meta: SingleWriterTxKeyspace,
    }

    impl FjallStore {
        pub fn open(dir: &Path) -> Result<Self, String> {
            // Default config (32 MiB block cache, 64 MiB memtables, lz4).
            let mut b = SingleWriterTxDatabase::builder(dir);
            if let Some(bytes) = cache_override("FJALL_CACHE_MIB") {
                b = b.cache_size(bytes);
            }
            let db = b
                .open()
                .map_err(|e| format!("{e:?}"))?;
            let ks = |n: &str| {
                db.keyspace(n, KeyspaceCreateOptions::default)
                    .map_err(|e| format!("{e:?}"))
            };
            let docs = ks("docs")?;
            let by_seq = ks("by_seq")?;
            let meta = ks("meta")?;
            Ok(FjallStore {
                db,
                docs,
                by_seq,
                meta,
            })
        }
    }

    struct Ops<'a, 'tx> {
        tx: &'a mut SingleWriterWriteTx<'tx>,
        s: &'a FjallStore,
    }

    impl TxOps for Ops<'_, '_> {
        fn get_doc(&mut self, id: &[u8]) -> Option<Vec<u8>> {
            // Read-your-own-writes read through the transaction.
            self.tx
                .get(self.s.docs.inner(), id)
                .unwrap()
                .map(|v| v.to_vec())
        }
        fn put_doc(&mut self, id: &[u8], val: &[u8]) {
            self.tx.insert(&self.s.docs, id, val);
        }
        fn put_seq(&mut self, seq: u64, id: &[u8]) {
            self.tx.insert(&self.s.by_seq, seq.to_be_bytes(), id);
        }
        fn del_seq(&mut self, seq: u64) {
            self.tx.remove(&self.s.by_seq, seq.to_be_bytes());
        }
        fn put_meta(&mut self, key: &[u8], val: &[u8]) {
            self.tx.insert(&self.s.meta, key, val);
        }
    }

    impl Store for FjallStore {
        fn write_txn(&self, f: &mut dyn FnMut(&mut dyn TxOps)) {
            // SyncAll = fsync of the journal before commit() returns.
            let mode = if unsafe_no_sync() {
                None
            } else {
                Some(PersistMode::SyncAll)
            };
            let mut tx = self.db.write_tx().durability(mode);
            {
                let mut ops = Ops {
                    tx: &mut tx,
                    s: self,
                };
                f(&mut ops);
            }
            tx.commit().unwrap();
        }

        fn read_docs(&self, ids: &[&[u8]]) -> (usize, u64) {
            let snap = self.db.read_tx();
            let ks = self.docs.inner();
            let (mut found, mut bytes) = (0usize, 0u64);
            for id in ids {
                if let Some(v) = snap.get(ks, id).unwrap() {
                    found += 1;
                    bytes += v.len() as u64 + v[v.len() - 1] as u64;
                }
            }
            (found, bytes)
        }

        fn get_doc(&self, id: &[u8]) -> Option<Vec<u8>> {
            self.docs.get(id).unwrap().map(|v| v.to_vec())
        }
        fn get_meta(&self, key: &[u8]) -> Option<Vec<u8>> {
            self.meta.get(key).unwrap().map(|v| v.to_vec())
        }
        fn scan_by_seq(&self, f: &mut dyn FnMut(&[u8], &[u8])) {
            let snap = self.db.read_tx();
            for g in snap.iter(self.by_seq.inner()) {
                let (k, v) = g.into_inner().unwrap();
                f(&k, &v);
            }
        }
        fn scan_docs(&self, f: &mut dyn FnMut(&[u8], &[u8])) {
            let snap = self.db.read_tx();
            for g in snap.iter(self.docs.inner()) {
                let (k, v) = g.into_inner().unwrap();
                f(&k, &v);
            }
        }
        fn checkpoint(&self) {
            for ks in [&self.docs, &self.by_seq, &self.meta] {
                ks.inner().rotate_memtable_and_wait().unwrap();
            }
        }
    }
}
