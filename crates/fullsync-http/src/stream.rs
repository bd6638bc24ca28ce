//! Large answers with bounded memory.
//!
//! An `_all_docs`, view, `_changes`, `_find` or `_bulk_get` answer can be large (one document
//! with a 7 MB id makes every `_all_docs` answer at least 14 MB). Two things keep memory
//! bounded whatever the number of concurrent requests:
//!
//! - **Bounded in-flight work**: a handler of such an answer first takes a [`Permit`] (at most
//!   [`Heavy::new`]'s count at a time, twice the CPU count by default); other requests wait for
//!   one (their connections stay open and accepted, they only queue). The permit lives until
//!   the whole answer has been sent.
//! - **Streamed bodies**: the answer is serialized on a blocking thread into 64 KB chunks
//!   passed through a channel of 4 chunks to the connection ([`json`]), never as one buffer. A
//!   client that does not read a chunk within [`SEND_TIMEOUT`] is dropped, so a slow reader
//!   cannot hold a permit forever.

use std::io::Write;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use http_body::Frame;
use serde_json::Value;
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

use crate::util::ApiResult;

/// Size of the chunks of a streamed answer.
pub const CHUNK: usize = 64 * 1024;
/// Chunks queued between the serializing thread and the connection.
const QUEUE: usize = 4;
/// How long a client may take to accept one chunk before its answer is abandoned.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// The limit of concurrent large answers.
#[derive(Clone, Debug)]
pub struct Heavy(Arc<Semaphore>);

impl Heavy {
    /// At most `n` large answers built or sent at a time (at least 1).
    pub fn new(n: usize) -> Heavy {
        Heavy(Arc::new(Semaphore::new(n.max(1))))
    }

    /// Twice the number of CPUs (the work is CPU- and memory-bound).
    pub fn default_for_machine() -> Heavy {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        Heavy::new(cpus * 2)
    }

    /// Waits for a turn to build and send one large answer.
    pub async fn permit(&self) -> Permit {
        Permit(self.0.clone().acquire_owned().await.ok())
    }
}

/// A turn to build and send one large answer (see the module documentation); released when
/// dropped.
#[derive(Debug)]
pub struct Permit(#[allow(dead_code)] Option<OwnedSemaphorePermit>);

/// Waits for a turn to build and send one large answer on this server.
pub async fn permit(state: &crate::AppState) -> Permit {
    state.heavy.permit().await
}

/// Answers `v` as JSON (`200`, with a final newline as CouchDB sends), serialized in chunks on
/// a blocking thread; `permit` is released once the last chunk is sent or the client is gone.
pub fn json(permit: Permit, v: Value) -> ApiResult {
    let (tx, rx) = mpsc::channel::<Bytes>(QUEUE);
    let rt = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let mut w = ChunkWriter {
            tx,
            rt,
            buf: Vec::with_capacity(CHUNK),
        };
        // An error here means the client left (or stopped reading): nothing to answer to.
        let _ = serde_json::to_writer(&mut w, &v)
            .map_err(std::io::Error::from)
            .and_then(|_| w.write_all(b"\n"))
            .and_then(|_| w.flush());
        drop(v);
    });
    let mut r = Response::new(Body::new(ChannelBody { rx }));
    *r.status_mut() = StatusCode::OK;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("must-revalidate"),
    );
    Ok(r)
}

/// Collects bytes into chunks and hands each full chunk to the connection, waiting (at most
/// [`SEND_TIMEOUT`]) while the queue is full.
struct ChunkWriter {
    tx: mpsc::Sender<Bytes>,
    rt: tokio::runtime::Handle,
    buf: Vec<u8>,
}

impl ChunkWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.rt
            .block_on(self.tx.send_timeout(chunk, SEND_TIMEOUT))
            .map_err(|_| std::io::Error::other("the client stopped reading the answer"))
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// The body of a streamed answer: the chunks, in order, until the writer is done.
struct ChannelBody {
    rx: mpsc::Receiver<Bytes>,
}

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.rx
            .poll_recv(cx)
            .map(|c| c.map(|bytes| Ok(Frame::data(bytes))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_streamed_answer_is_the_json_in_chunks_and_releases_its_permit() {
        let heavy = Heavy::new(1);
        let big = "x".repeat(3 * CHUNK + 17);
        let v = json!({"rows": [{"id": big, "key": big}]});
        let r = json(heavy.permit().await, v.clone()).unwrap();
        // The permit is held while the answer is being sent.
        assert!(heavy.0.try_acquire().is_err());
        let bytes = axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(bytes.last(), Some(&b'\n'));
        assert_eq!(serde_json::from_slice::<Value>(&bytes).unwrap(), v);
        // Released once sent (the writer thread ends right after its last chunk).
        let p = tokio::time::timeout(Duration::from_secs(10), heavy.permit())
            .await
            .unwrap();
        assert!(p.0.is_some());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_client_that_leaves_releases_the_permit() {
        let heavy = Heavy::new(1);
        let v = json!({"rows": vec!["y".repeat(1000); 2000]});
        let r = json(heavy.permit().await, v).unwrap();
        drop(r);
        let p = tokio::time::timeout(Duration::from_secs(10), heavy.permit())
            .await
            .unwrap();
        assert!(p.0.is_some());
    }
}
