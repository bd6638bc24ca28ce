//! Replication for FullSync: the CouchDB replication protocol between the local engine
//! (in-process) and CouchDB-compatible servers over HTTP/HTTPS, in any direction, one-shot or
//! live, retrying with backoff, with progress events; and the FullSync access rules that decide
//! which documents a user's device receives.

pub mod error;
pub mod peer;
pub mod replicate;

use std::sync::Arc;
use std::time::Duration;

use fullsync_engine::Engine;

pub use error::ReplError;
/// The FullSync access rule, from its own crate (kept here for callers that name it so).
pub use fullsync_acl as acl;
/// URL pieces (percent-encoding, credentials in URLs), from their own crate.
pub use fullsync_url as url;
pub use peer::{Auth, Filter, HttpPeer, LocalPeer, Peer};
pub use replicate::{
    run, start, Backoff, Direction, Event, Listener, Options, Replication, Summary,
};

/// Opens an endpoint from what a user types: a URL (`http(s)://[user:pass@]host/db`) or a local
/// database name.
pub fn endpoint(
    spec: &str,
    engine: &Arc<Engine>,
    views: Option<Arc<fullsync_views::Views>>,
    auth: Option<Auth>,
    timeout: Duration,
) -> Result<Arc<dyn Peer>, ReplError> {
    if spec.starts_with("http://") || spec.starts_with("https://") {
        Ok(Arc::new(HttpPeer::new(spec, auth, timeout)?))
    } else {
        fullsync_engine::db::check_db_name(spec).map_err(|_| {
            ReplError::Config(format!(
                "`{spec}` is neither a URL (http://host:port/db) nor a valid local database name"
            ))
        })?;
        Ok(Arc::new(LocalPeer::new(engine.clone(), spec, views)))
    }
}

/// Starts `sync`: a push (`local` -> `remote`) and a pull (`remote` -> `local`) side by side.
pub fn sync(
    local: Arc<dyn Peer>,
    remote: Arc<dyn Peer>,
    opts: Options,
    listener: Listener,
) -> (Replication, Replication) {
    let push = start(
        local.clone(),
        remote.clone(),
        Direction::Push,
        opts.clone(),
        listener.clone(),
    );
    let pull = start(remote, local, Direction::Pull, opts, listener);
    (push, pull)
}
