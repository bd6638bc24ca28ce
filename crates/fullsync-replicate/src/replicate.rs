//! The replication protocol (CouchDB "Replication Protocol"): peer info, replication id,
//! checkpoints in `_local/` on both sides, `_changes` with `style=all_docs`, `_revs_diff`,
//! fetching missing revisions with history and attachments, `_bulk_docs` with
//! `new_edits=false`, and resuming from the last checkpoint. One-shot or live, with retry and
//! exponential backoff, cancellable, reporting progress events.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use md5::{Digest, Md5};
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::error::ReplError;
use crate::peer::{Filter, Peer};

/// The number inside an opaque sequence (kept here for callers that name it so).
pub use fullsync_engine::seq::seq_num;

/// Direction of a replication, as seen from the local side (`sync` runs both).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Local to remote.
    Push,
    /// Remote to local.
    Pull,
}

/// Progress events (the client API's `change`, `complete`, `error`, `paused`, `active`).
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Replicating (again).
    Active {
        /// Direction.
        direction: Direction,
    },
    /// A batch was replicated.
    Change {
        /// Direction.
        direction: Direction,
        /// Revisions read from the source so far.
        docs_read: u64,
        /// Revisions written to the target so far.
        docs_written: u64,
        /// Revisions the target refused.
        doc_write_failures: u64,
        /// Source sequence reached.
        current: u64,
        /// Source sequence to reach.
        total: u64,
        /// 0 to 100.
        progress: u8,
    },
    /// Caught up (live) or waiting to retry after an error.
    Paused {
        /// Direction.
        direction: Direction,
        /// Why, when waiting to retry.
        error: Option<String>,
        /// When waiting to retry: how long it waits (milliseconds).
        retry_in_ms: Option<u64>,
        /// When waiting to retry: when it tries again (milliseconds since the Unix epoch).
        retry_at: Option<u64>,
    },
    /// Finished (one-shot done, cancelled, or failed).
    Complete {
        /// Direction.
        direction: Direction,
        /// Whether it completed without error.
        ok: bool,
        /// Revisions read.
        docs_read: u64,
        /// Revisions written.
        docs_written: u64,
        /// Revisions refused by the target.
        doc_write_failures: u64,
        /// Source sequence checkpointed.
        last_seq: Value,
        /// Errors (write failures, the fatal error).
        errors: Vec<String>,
        /// Whether it was cancelled.
        cancelled: bool,
    },
    /// A fatal error (also reported in `Complete`).
    Error {
        /// Direction.
        direction: Direction,
        /// What went wrong and what to do.
        message: String,
    },
}

/// Replication options (defaults as in PouchDB).
#[derive(Clone, Debug)]
pub struct Options {
    /// Keep following the source's changes.
    pub live: bool,
    /// Retry with exponential backoff while the other side is unreachable.
    pub retry: bool,
    /// Changes per batch (default 100).
    pub batch_size: usize,
    /// Batches fetched ahead of the writer (default 10; bounds memory).
    pub batches_limit: usize,
    /// Longpoll wait for live replication (default 10 s; also the heartbeat).
    pub heartbeat: Duration,
    /// Per-request read timeout (default 30 s).
    pub timeout: Duration,
    /// Which documents.
    pub filter: Filter,
    /// Start from this source sequence instead of the checkpoint.
    pub since: Option<Value>,
    /// Create the target database when missing (default true).
    pub create_target: bool,
    /// First wait before a retry, and the wait after any attempt that made progress
    /// (default 500 ms).
    pub min_backoff: Duration,
    /// Longest wait between retries (default 60 s): the wait doubles after each attempt that
    /// made no progress, up to this.
    pub max_backoff: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            live: false,
            retry: false,
            batch_size: 100,
            batches_limit: 10,
            heartbeat: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            filter: Filter::None,
            since: None,
            create_target: true,
            min_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(60),
        }
    }
}

/// What a replication did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    /// Completed without a fatal error.
    pub ok: bool,
    /// Revisions read.
    pub docs_read: u64,
    /// Revisions written.
    pub docs_written: u64,
    /// Revisions refused by the target.
    pub doc_write_failures: u64,
    /// Last checkpointed source sequence.
    pub last_seq: Value,
    /// Errors.
    pub errors: Vec<String>,
    /// Cancelled by the user.
    pub cancelled: bool,
}

/// Receives events.
pub type Listener = Arc<dyn Fn(Event) + Send + Sync>;

/// A running replication.
pub struct Replication {
    cancel: Arc<AtomicBool>,
    thread: Option<JoinHandle<Summary>>,
}

impl Replication {
    /// Asks the replication to stop (it checkpoints what it finished).
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::SeqCst);
    }

    /// Waits for the end and returns the summary.
    pub fn wait(mut self) -> Summary {
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }

    /// Whether it has ended.
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }
}

/// Starts a replication on its own thread.
pub fn start(
    source: Arc<dyn Peer>,
    target: Arc<dyn Peer>,
    direction: Direction,
    opts: Options,
    listener: Listener,
) -> Replication {
    let cancel = Arc::new(AtomicBool::new(false));
    let c = cancel.clone();
    let thread = std::thread::Builder::new()
        .name(format!("fullsync-replicate-{direction:?}"))
        .spawn(move || run(&*source, &*target, direction, &opts, &listener, &c))
        .expect("spawn a replication thread");
    Replication {
        cancel,
        thread: Some(thread),
    }
}

/// Runs a replication to the end on the calling thread (one-shot), or until cancelled (live).
pub fn run(
    source: &dyn Peer,
    target: &dyn Peer,
    direction: Direction,
    opts: &Options,
    listener: &Listener,
    cancel: &AtomicBool,
) -> Summary {
    let mut backoff = Backoff::new(opts);
    let mut stats = Summary::default();
    loop {
        let before = (stats.docs_written, stats.last_seq.clone());
        match session(
            source, target, direction, opts, listener, cancel, &mut stats,
        ) {
            Ok(()) => {
                stats.ok = true;
                stats.cancelled = cancel.load(Ordering::SeqCst);
                break;
            }
            Err(ReplError::Cancelled) => {
                stats.ok = true;
                stats.cancelled = true;
                break;
            }
            Err(e) if opts.retry && e.retryable() && !cancel.load(Ordering::SeqCst) => {
                let progressed = before != (stats.docs_written, stats.last_seq.clone());
                let wait = backoff.next(progressed);
                listener(Event::Paused {
                    direction,
                    error: Some(e.to_string()),
                    retry_in_ms: Some(wait.as_millis() as u64),
                    retry_at: Some(unix_ms(std::time::SystemTime::now() + wait)),
                });
                let until = Instant::now() + wait;
                while Instant::now() < until && !cancel.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(50));
                }
                if cancel.load(Ordering::SeqCst) {
                    stats.cancelled = true;
                    stats.ok = true;
                    break;
                }
            }
            Err(e) => {
                let message = e.to_string();
                listener(Event::Error {
                    direction,
                    message: message.clone(),
                });
                stats.errors.push(message);
                stats.ok = false;
                break;
            }
        }
    }
    listener(Event::Complete {
        direction,
        ok: stats.ok,
        docs_read: stats.docs_read,
        docs_written: stats.docs_written,
        doc_write_failures: stats.doc_write_failures,
        last_seq: stats.last_seq.clone(),
        errors: stats.errors.clone(),
        cancelled: stats.cancelled,
    });
    stats
}

/// The waits between retries: [`Options::min_backoff`] after an attempt that made progress
/// (replicated a batch or moved the checkpoint; as PouchDB does), doubled after each attempt
/// that made none, up to [`Options::max_backoff`]. So a link that is cut every few hundred KB
/// costs a short pause per cut, while a server that stays down is not hammered.
#[derive(Clone, Debug)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    current: Option<Duration>,
}

impl Backoff {
    /// The waits for `opts`.
    pub fn new(opts: &Options) -> Backoff {
        let max = opts.max_backoff.max(Duration::from_millis(1));
        Backoff {
            min: opts.min_backoff.min(max),
            max,
            current: None,
        }
    }

    /// The wait before the next attempt, given whether the failed attempt made progress.
    pub fn next(&mut self, progressed: bool) -> Duration {
        let wait = match self.current {
            Some(prev) if !progressed => (prev * 2).min(self.max),
            _ => self.min,
        };
        self.current = Some(wait);
        wait
    }
}

fn unix_ms(t: std::time::SystemTime) -> u64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The replication id: stable for the same source, target and filter.
pub fn replication_id(
    src_uuid: &str,
    source: &dyn Peer,
    tgt_uuid: &str,
    target: &dyn Peer,
    filter: &Filter,
) -> String {
    let mut h = Md5::new();
    h.update(src_uuid.as_bytes());
    h.update(b"\n");
    h.update(source.describe().as_bytes());
    h.update(b"\n");
    h.update(tgt_uuid.as_bytes());
    h.update(b"\n");
    h.update(target.describe().as_bytes());
    h.update(b"\n");
    h.update(format!("{filter:?}").as_bytes());
    fullsync_engine::rev::hex(&h.finalize())
}

/// Finds where to resume: the source sequence of the latest session both checkpoints share.
fn resume_from(src: Option<&Value>, tgt: Option<&Value>) -> Value {
    let (Some(s), Some(t)) = (src, tgt) else {
        return json!(0);
    };
    if s.get("session_id").is_some() && s.get("session_id") == t.get("session_id") {
        return s.get("source_last_seq").cloned().unwrap_or(json!(0));
    }
    let empty = vec![];
    let th = t.get("history").and_then(Value::as_array).unwrap_or(&empty);
    for h in s.get("history").and_then(Value::as_array).unwrap_or(&empty) {
        if th
            .iter()
            .any(|x| x.get("session_id") == h.get("session_id"))
        {
            return h.get("recorded_seq").cloned().unwrap_or(json!(0));
        }
    }
    json!(0)
}

#[allow(clippy::too_many_arguments)]
fn checkpoint(
    source: &dyn Peer,
    target: &dyn Peer,
    id: &str,
    session_id: &str,
    seq: &Value,
    history: &mut Vec<Value>,
    stats: &Summary,
) -> Result<(), ReplError> {
    let entry = json!({
        "session_id": session_id,
        "recorded_seq": seq,
        "end_last_seq": seq,
        "docs_read": stats.docs_read,
        "docs_written": stats.docs_written,
        "doc_write_failures": stats.doc_write_failures,
    });
    if history.first().and_then(|h| h.get("session_id")) == Some(&json!(session_id)) {
        history[0] = entry;
    } else {
        history.insert(0, entry);
        history.truncate(5);
    }
    let doc = json!({
        "session_id": session_id,
        "source_last_seq": seq,
        "replication_id_version": 4,
        "replicator": "fullsync",
        "history": history,
    });
    target.put_local(id, doc.clone())?;
    // The source may be read-only for this user: its checkpoint only speeds up resuming.
    let _ = source.put_local(id, doc);
    Ok(())
}

/// What the reader stage hands the writer stage.
enum Item {
    /// Revisions the target misses, and the sequence they take the replication to.
    Batch { docs: Vec<Value>, last: Value },
    /// The source has nothing more after this sequence (for now).
    CaughtUp(Value),
}

#[allow(clippy::too_many_arguments)]
fn session(
    source: &dyn Peer,
    target: &dyn Peer,
    direction: Direction,
    opts: &Options,
    listener: &Listener,
    cancel: &AtomicBool,
    stats: &mut Summary,
) -> Result<(), ReplError> {
    let (src_uuid, src_seq) = source.info(false)?;
    let (tgt_uuid, _) = target.info(opts.create_target)?;
    let id = format!(
        "_local/{}",
        replication_id(&src_uuid, source, &tgt_uuid, target, &opts.filter)
    );
    let src_cp = source.get_local(&id)?;
    let tgt_cp = target.get_local(&id)?;
    let since = match &opts.since {
        Some(s) if stats.last_seq.is_null() => s.clone(),
        _ if !stats.last_seq.is_null() => stats.last_seq.clone(),
        _ => resume_from(src_cp.as_ref(), tgt_cp.as_ref()),
    };
    let history: Vec<Value> = tgt_cp
        .as_ref()
        .and_then(|c| c.get("history"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut writer = Writer {
        source,
        target,
        direction,
        opts,
        listener,
        id,
        session_id: fullsync_engine::doc::new_uuid(),
        history,
        total: seq_num(&src_seq),
        since,
    };
    listener(Event::Active { direction });
    // Two stages run side by side: a reader thread reads the source's changes, asks the
    // target what it is missing and fetches those revisions (up to `batches_limit` batches
    // ahead), while this thread writes them to the target and checkpoints.
    let ahead = opts.batches_limit.max(1);
    let stop = AtomicBool::new(false);
    let start_since = writer.since.clone();
    std::thread::scope(|scope| -> Result<(), ReplError> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Item, ReplError>>(ahead);
        let stop_ref = &stop;
        scope.spawn(move || read_stage(source, target, opts, start_since, stop_ref, cancel, tx));
        let result = writer.run(&rx, cancel, tgt_cp.is_none(), stats);
        stop.store(true, Ordering::SeqCst);
        drop(rx);
        result
    })
}

/// The reader stage: reads the source's changes from `since` and sends what the target misses
/// until it is stopped, cancelled, fails, or (one-shot) catches up.
fn read_stage(
    source: &dyn Peer,
    target: &dyn Peer,
    opts: &Options,
    mut since: Value,
    stop: &AtomicBool,
    cancel: &AtomicBool,
    tx: std::sync::mpsc::SyncSender<Result<Item, ReplError>>,
) {
    let mut caught_up = false;
    while !stop.load(Ordering::SeqCst) && !cancel.load(Ordering::SeqCst) {
        let wait = if caught_up && opts.live {
            Some(opts.heartbeat)
        } else {
            None
        };
        let item = read_batch(source, target, opts, &since, wait);
        match &item {
            Ok(Item::Batch { last, .. }) => {
                since = last.clone();
                caught_up = false;
            }
            Ok(Item::CaughtUp(last)) => {
                if seq_num(last) >= seq_num(&since) {
                    since = last.clone();
                }
                caught_up = true;
            }
            Err(_) => {}
        }
        let done = item.is_err() || (matches!(item, Ok(Item::CaughtUp(_))) && !opts.live);
        if tx.send(item).is_err() || done {
            return;
        }
    }
}

/// One batch of the source's changes after `since`, and the revisions of it the target misses.
fn read_batch(
    source: &dyn Peer,
    target: &dyn Peer,
    opts: &Options,
    since: &Value,
    wait: Option<Duration>,
) -> Result<Item, ReplError> {
    let batch = source.changes(since, opts.batch_size, &opts.filter, wait)?;
    if batch.rows.is_empty() {
        return Ok(Item::CaughtUp(batch.last_seq));
    }
    let mut req: Map<String, Value> = Map::new();
    for ch in &batch.rows {
        let e = req.entry(ch.id.clone()).or_insert_with(|| json!([]));
        if let Some(a) = e.as_array_mut() {
            for r in &ch.revs {
                if !a.contains(&json!(r)) {
                    a.push(json!(r));
                }
            }
        }
    }
    let wanted = wanted_revs(&target.revs_diff(&req)?);
    let docs = if wanted.is_empty() {
        vec![]
    } else {
        source.get_revs(&wanted)?
    };
    let mut last = batch
        .rows
        .last()
        .map(|r| r.seq.clone())
        .unwrap_or(batch.last_seq.clone());
    if batch.rows.len() < opts.batch_size && seq_num(&batch.last_seq) >= seq_num(&last) {
        // Filtered feeds may have skipped ahead.
        last = batch.last_seq.clone();
    }
    Ok(Item::Batch { docs, last })
}

/// The `(id, rev, possible ancestors)` to fetch, from a `_revs_diff` answer.
fn wanted_revs(missing: &Map<String, Value>) -> Vec<(String, String, Vec<String>)> {
    let mut wanted = vec![];
    for (id, m) in missing {
        let anc: Vec<String> = m
            .get("possible_ancestors")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        for r in m
            .get("missing")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(r) = r.as_str() {
                wanted.push((id.clone(), r.to_string(), anc.clone()));
            }
        }
    }
    wanted
}

/// The writer stage of one session: writes what the reader sends, checkpoints, reports.
struct Writer<'a> {
    source: &'a dyn Peer,
    target: &'a dyn Peer,
    direction: Direction,
    opts: &'a Options,
    listener: &'a Listener,
    /// The checkpoint document id (`_local/<replication id>`).
    id: String,
    session_id: String,
    history: Vec<Value>,
    /// The source's sequence when the session began, or the furthest reached since.
    total: u64,
    /// How far the target has everything.
    since: Value,
}

impl Writer<'_> {
    /// Writes until the reader catches up (one-shot), fails, or the session is cancelled.
    /// `no_checkpoint`: the target has none yet, so one is written even without progress.
    fn run(
        &mut self,
        rx: &std::sync::mpsc::Receiver<Result<Item, ReplError>>,
        cancel: &AtomicBool,
        no_checkpoint: bool,
        stats: &mut Summary,
    ) -> Result<(), ReplError> {
        let mut paused = false;
        let mut wrote_checkpoint = false;
        loop {
            if cancel.load(Ordering::SeqCst) {
                return Err(ReplError::Cancelled);
            }
            let item = match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(item) => item?,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(ReplError::Cancelled)
                }
            };
            match item {
                Item::CaughtUp(last) => {
                    let moved = last != self.since && seq_num(&last) >= seq_num(&self.since);
                    if moved {
                        self.since = last;
                    }
                    stats.last_seq = self.since.clone();
                    if moved || (!wrote_checkpoint && no_checkpoint) {
                        self.checkpoint(stats)?;
                        wrote_checkpoint = true;
                    }
                    if !self.opts.live {
                        return Ok(());
                    }
                    if !paused {
                        paused = true;
                        (self.listener)(Event::Paused {
                            direction: self.direction,
                            error: None,
                            retry_in_ms: None,
                            retry_at: None,
                        });
                    }
                }
                Item::Batch { docs, last } => {
                    if paused {
                        paused = false;
                        (self.listener)(Event::Active {
                            direction: self.direction,
                        });
                    }
                    self.write(docs, last, stats)?;
                    wrote_checkpoint = true;
                }
            }
        }
    }

    fn checkpoint(&mut self, stats: &Summary) -> Result<(), ReplError> {
        checkpoint(
            self.source,
            self.target,
            &self.id,
            &self.session_id,
            &self.since,
            &mut self.history,
            stats,
        )
    }

    /// Writes one batch, checkpoints at `last` and reports the progress.
    fn write(
        &mut self,
        docs: Vec<Value>,
        last: Value,
        stats: &mut Summary,
    ) -> Result<(), ReplError> {
        if !docs.is_empty() {
            stats.docs_read += docs.len() as u64;
            let n = docs.len() as u64;
            let failures = self.target.write_revs(docs)?;
            stats.doc_write_failures += failures.len() as u64;
            stats.docs_written += n - failures.len() as u64;
            for f in failures.iter().take(20) {
                stats.errors.push(format!(
                    "{} was refused by {}: {} {}",
                    f.get("id").and_then(Value::as_str).unwrap_or("?"),
                    self.target.describe(),
                    f.get("error").and_then(Value::as_str).unwrap_or(""),
                    f.get("reason").and_then(Value::as_str).unwrap_or("")
                ));
            }
        }
        self.since = last;
        stats.last_seq = self.since.clone();
        self.checkpoint(stats)?;
        let current = seq_num(&self.since);
        self.total = self.total.max(current);
        let total = self.total;
        (self.listener)(Event::Change {
            direction: self.direction,
            docs_read: stats.docs_read,
            docs_written: stats.docs_written,
            doc_write_failures: stats.doc_write_failures,
            current,
            total,
            progress: if total == 0 {
                100
            } else {
                ((current as f64 / total as f64) * 100.0).min(100.0) as u8
            },
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_without_progress_resets_after_progress_and_is_capped() {
        let opts = Options {
            min_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(3),
            ..Default::default()
        };
        let mut b = Backoff::new(&opts);
        let waits: Vec<u64> = [false, false, false, false, false, true, false]
            .iter()
            .map(|&p| b.next(p).as_millis() as u64)
            .collect();
        assert_eq!(waits, vec![500, 1000, 2000, 3000, 3000, 500, 1000]);
    }
}
