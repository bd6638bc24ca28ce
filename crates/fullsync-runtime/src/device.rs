//! The client simulator: what a mobile app does through the FullSync client API (`view`,
//! `get`, `post` with a policy, `delete`, `all`, `sync`, `replicate_push`, `replicate_pull`,
//! `reset`), run as a chosen user against a local "device" database that replicates with a
//! server database over HTTP, so a developer can walk through the whole loop: server writes
//! tagged for a user, the device pulls, edits, pushes, a listener fires.

use std::sync::Arc;
use std::time::Duration;

use fullsync_engine::{AllDocsOptions, Engine, ReadOptions, UserCtx};
use fullsync_replicate::{Auth, Direction, HttpPeer, LocalPeer, Options, Peer, Summary};
use serde_json::{json, Map, Value};

use crate::postdoc::{self, Policy};
use crate::transactions::RunError;

/// A simulated device of one user.
pub struct Device {
    engine: Arc<Engine>,
    views: fullsync_views::Views,
    db: String,
    remote: Arc<dyn Peer>,
    user: Option<String>,
}

impl Device {
    /// A device for `user` (None = anonymous) whose local database `db` syncs with
    /// `server_db_url` (e.g. `http://127.0.0.1:5984/orders`).
    pub fn new(
        db: &str,
        server_db_url: &str,
        user: Option<(&str, &str)>,
    ) -> Result<Device, RunError> {
        let engine = Arc::new(Engine::in_memory());
        engine.create_db(db)?;
        let views = fullsync_views::Views::new(engine.clone());
        let auth = user.map(|(u, p)| Auth {
            user: u.into(),
            password: p.into(),
        });
        let remote: Arc<dyn Peer> = Arc::new(
            HttpPeer::new(server_db_url, auth, Duration::from_secs(30))
                .map_err(|e| RunError::Bad(e.to_string()))?,
        );
        Ok(Device {
            engine,
            views,
            db: db.into(),
            remote,
            user: user.map(|(u, _)| u.to_string()),
        })
    }

    fn local(&self) -> Arc<dyn Peer> {
        Arc::new(LocalPeer::new(self.engine.clone(), &self.db, None))
    }

    fn run(
        &self,
        source: Arc<dyn Peer>,
        target: Arc<dyn Peer>,
        dir: Direction,
    ) -> Result<Summary, RunError> {
        let s = fullsync_replicate::start(
            source,
            target,
            dir,
            Options {
                create_target: false,
                ..Default::default()
            },
            Arc::new(|_| {}),
        )
        .wait();
        if s.ok {
            Ok(s)
        } else {
            Err(RunError::Bad(format!(
                "{dir:?} failed: {}",
                s.errors.join("; ")
            )))
        }
    }

    /// `fs://db.replicate_pull`.
    pub fn replicate_pull(&self) -> Result<Summary, RunError> {
        self.run(self.remote.clone(), self.local(), Direction::Pull)
    }

    /// `fs://db.replicate_push`.
    pub fn replicate_push(&self) -> Result<Summary, RunError> {
        self.run(self.local(), self.remote.clone(), Direction::Push)
    }

    /// `fs://db.sync`: push then pull.
    pub fn sync(&self) -> Result<(Summary, Summary), RunError> {
        Ok((self.replicate_push()?, self.replicate_pull()?))
    }

    /// `fs://db.get`.
    pub fn get(&self, id: &str) -> Result<Value, RunError> {
        Ok(self
            .engine
            .db(&self.db)?
            .get(id, None, &ReadOptions::default())?)
    }

    /// `fs://db.post` with a policy (`none`, `create`, `override`, `merge`).
    pub fn post(&self, vars: &Map<String, Value>, policy: &str) -> Result<Value, RunError> {
        let policy = Policy::parse(policy)
            .ok_or_else(|| RunError::Bad(format!("unknown policy `{policy}`")))?;
        let db = self.engine.db(&self.db)?;
        crate::transactions::post_one(
            &db,
            vars,
            None,
            policy,
            postdoc::AclPolicy::NoOp,
            false,
            &crate::transactions::Caller {
                user: self.user.clone(),
            },
            &UserCtx::default(),
        )
    }

    /// `fs://db.delete`.
    pub fn delete(&self, id: &str) -> Result<Value, RunError> {
        let db = self.engine.db(&self.db)?;
        let cur = db.get(id, None, &ReadOptions::default())?;
        let doc = fullsync_engine::parse_doc(
            json!({"_id": id, "_rev": cur["_rev"], "_deleted": true}),
            None,
            &mut |_| None,
        )?;
        let rev = db.put(doc, &UserCtx::default())?;
        Ok(json!({"ok": true, "id": id, "rev": rev}))
    }

    /// `fs://db.all`: ids of the documents on the device.
    pub fn all(&self) -> Result<Vec<String>, RunError> {
        let (_, _, rows) = self.engine.db(&self.db)?.all_docs(&AllDocsOptions {
            inclusive_end: true,
            ..Default::default()
        })?;
        Ok(rows
            .iter()
            .filter_map(|r| r["id"].as_str().map(str::to_string))
            .filter(|id| !id.starts_with("_design/"))
            .collect())
    }

    /// `fs://db.view` on the device's copy of the design documents.
    pub fn view(&self, ddoc: &str, view: &str, query: &Value) -> Result<Value, RunError> {
        let q = fullsync_views::ViewQuery::from_json(query)?;
        Ok(self.views.query(&self.db, ddoc, view, &q)?)
    }

    /// `fs://db.reset`: empties the device database.
    pub fn reset(&self) -> Result<(), RunError> {
        self.views.forget_db(&self.db);
        self.engine.reset_db(&self.db)?;
        Ok(())
    }
}
