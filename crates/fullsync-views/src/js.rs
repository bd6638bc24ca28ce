//! The JavaScript sandbox: QuickJS (via `rquickjs`) running design-document functions.
//!
//! - No I/O: QuickJS core has no file, network or timer API, and none is added.
//! - A memory limit per runtime and a **per-document** time limit: the batch loop calls a
//!   native `__tick()` before each document, which moves the deadline; QuickJS's interrupt
//!   handler aborts the script past it. A map function that loops forever fails that document
//!   with a clear error; the batch resumes after it.
//! - Runtimes and contexts are reused: each worker thread owns one runtime and keeps a context
//!   per design document (keyed by its signature), so functions compile once.
//!
//! Data crosses the boundary as JSON text (`JSON.parse`/`JSON.stringify` inside QuickJS), which
//! also gives map functions a private copy of the document.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use rquickjs::{Context, Function, Runtime};
use serde_json::Value;

/// Errors of the JavaScript layer.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum JsError {
    /// A function does not compile (syntax error, or not a function).
    #[error("{what} does not compile: {message}")]
    Compile {
        /// Which function (`views/by_type/map`, ...).
        what: String,
        /// QuickJS's message.
        message: String,
        /// Line in the function's source, when QuickJS reports one.
        line: Option<u32>,
    },
    /// A function threw.
    #[error("{0}")]
    Thrown(String),
    /// The per-document time limit was reached.
    #[error("timed out after {0} ms (infinite loop?); the document was skipped")]
    Timeout(u64),
    /// The JS runtime failed (out of memory, worker gone).
    #[error("JavaScript runtime error: {0}")]
    Runtime(String),
}

/// Limits of the sandbox.
#[derive(Clone, Debug)]
pub struct JsLimits {
    /// Time one document (or one reduce call) may take.
    pub timeout: Duration,
    /// Memory one runtime may use.
    pub memory: usize,
}

impl Default for JsLimits {
    fn default() -> Self {
        JsLimits {
            timeout: Duration::from_secs(5),
            memory: 256 << 20,
        }
    }
}

/// What every context runs first: `emit`, `log`, `sum`, `require`, and the batch entry points
/// (`__mapBatch`, `__call`, `__callValidate`) the workers call.
const PRELUDE: &str = include_str!("prelude.js");

fn now_nanos() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_nanos() as u64 + 1
}

/// One map function's output for one document: rows, or the error it threw.
#[derive(Debug, Clone, PartialEq)]
pub enum MapOut {
    /// `emit`ted `(key, value)` pairs.
    Rows(Vec<(Value, Value)>),
    /// The function threw (or timed out) on this document.
    Error(String),
}

/// A compiled set of functions in one context.
struct Loaded {
    ctx: Context,
}

/// State of one worker thread: its runtime and contexts.
pub struct Worker {
    rt: Runtime,
    deadline: Arc<AtomicU64>,
    limits: JsLimits,
    contexts: HashMap<String, Loaded>,
}

/// What a set of functions is: their sources and the design document (for `require`).
#[derive(Clone, Debug)]
pub struct FnSet {
    /// Cache key: must change whenever sources or the design doc change.
    pub key: String,
    /// `(name, source)` of each function, in order (index used by calls).
    pub sources: Vec<(String, String)>,
    /// The design document (JSON), for `require()`; `null` when not needed.
    pub ddoc: Value,
}

/// The message and line of a JS exception.
fn exception_details(ctx: &rquickjs::Ctx<'_>, e: rquickjs::Error) -> (String, Option<u32>) {
    if !matches!(e, rquickjs::Error::Exception) {
        return (e.to_string(), None);
    }
    let v = ctx.catch();
    if let Some(ex) = v.as_exception() {
        let name = ex.get::<_, String>("name").unwrap_or_default();
        let msg = ex.message().unwrap_or_default();
        // QuickJS reports the position in the stack: `at <input>:LINE:COL`.
        let stack = ex.stack().unwrap_or_default();
        let line = ex.get::<_, u32>("lineNumber").ok().or_else(|| {
            let rest = &stack[stack.find("<input>:")? + 8..];
            rest.split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        });
        let text = if name.is_empty() {
            msg
        } else {
            format!("{name}: {msg}")
        };
        (text, line)
    } else {
        (
            v.as_string()
                .and_then(|s| s.to_string().ok())
                .unwrap_or_else(|| "unknown error".into()),
            None,
        )
    }
}

fn exception_message(ctx: &rquickjs::Ctx<'_>, e: rquickjs::Error) -> String {
    if !matches!(e, rquickjs::Error::Exception) {
        return e.to_string();
    }
    let v = ctx.catch();
    if let Some(ex) = v.as_exception() {
        let name = ex.get::<_, String>("name").unwrap_or_default();
        let msg = ex.message().unwrap_or_default();
        if name.is_empty() {
            msg
        } else {
            format!("{name}: {msg}")
        }
    } else if let Some(s) = v.as_string() {
        s.to_string().unwrap_or_default()
    } else {
        ctx.json_stringify(v)
            .ok()
            .flatten()
            .and_then(|s| s.to_string().ok())
            .unwrap_or_else(|| "unknown error".into())
    }
}

impl Worker {
    fn new(limits: JsLimits) -> Result<Worker, JsError> {
        let rt = Runtime::new().map_err(|e| JsError::Runtime(e.to_string()))?;
        rt.set_memory_limit(limits.memory);
        rt.set_max_stack_size(1 << 20);
        let deadline = Arc::new(AtomicU64::new(0));
        let d = deadline.clone();
        rt.set_interrupt_handler(Some(Box::new(move || {
            let dl = d.load(Ordering::Relaxed);
            dl != 0 && now_nanos() > dl
        })));
        Ok(Worker {
            rt,
            deadline,
            limits,
            contexts: HashMap::new(),
        })
    }

    fn arm(&self) {
        self.deadline.store(
            now_nanos() + self.limits.timeout.as_nanos() as u64,
            Ordering::Relaxed,
        );
    }

    fn disarm(&self) {
        self.deadline.store(0, Ordering::Relaxed);
    }

    fn timed_out(&self) -> bool {
        let dl = self.deadline.load(Ordering::Relaxed);
        dl != 0 && now_nanos() > dl
    }

    /// Loads (or reuses) the context for `set`, compiling every function.
    fn load(&mut self, set: &FnSet) -> Result<&Loaded, JsError> {
        if !self.contexts.contains_key(&set.key) {
            if self.contexts.len() > 64 {
                self.contexts.clear();
            }
            let ctx = Context::full(&self.rt).map_err(|e| JsError::Runtime(e.to_string()))?;
            let deadline = self.deadline.clone();
            let timeout = self.limits.timeout.as_nanos() as u64;
            ctx.with(|c| -> Result<(), JsError> {
                let tick = Function::new(c.clone(), move || {
                    deadline.store(now_nanos() + timeout, Ordering::Relaxed);
                })
                .map_err(|e| JsError::Runtime(e.to_string()))?;
                c.globals()
                    .set("__tick", tick)
                    .map_err(|e| JsError::Runtime(e.to_string()))?;
                c.eval::<(), _>(PRELUDE)
                    .map_err(|e| JsError::Runtime(exception_message(&c, e)))?;
                let ddoc = serde_json::to_string(&set.ddoc).unwrap_or_else(|_| "null".into());
                let setter: Function = c
                    .eval("(function (j) { __ddoc = JSON.parse(j) || {}; })")
                    .map_err(|e| JsError::Runtime(exception_message(&c, e)))?;
                setter
                    .call::<_, ()>((ddoc,))
                    .map_err(|e| JsError::Runtime(exception_message(&c, e)))?;
                let compile: Function = c
                    .globals()
                    .get("__compile")
                    .map_err(|e| JsError::Runtime(e.to_string()))?;
                for (i, (name, src)) in set.sources.iter().enumerate() {
                    compile
                        .call::<_, ()>((
                            i as u32,
                            src.trim_end().trim_end_matches(';').to_string(),
                            name.clone(),
                        ))
                        .map_err(|e| {
                            let (message, line) = exception_details(&c, e);
                            JsError::Compile {
                                what: name.clone(),
                                message,
                                line,
                            }
                        })?;
                }
                Ok(())
            })?;
            self.contexts.insert(set.key.clone(), Loaded { ctx });
        }
        Ok(&self.contexts[&set.key])
    }

    /// Maps a batch of documents (JSON texts) with every function of `set`.
    /// Returns, per document, one [`MapOut`] per function, and the `log()` lines.
    pub fn map_batch(
        &mut self,
        set: &FnSet,
        docs: &[String],
    ) -> Result<(Vec<Vec<MapOut>>, Vec<String>), JsError> {
        let nfns = set.sources.len();
        self.load(set)?;
        let mut results: Vec<Vec<MapOut>> = Vec::with_capacity(docs.len());
        let mut logs = vec![];
        let mut start = 0;
        while start < docs.len() {
            let mut input =
                String::with_capacity(docs[start..].iter().map(|d| d.len() + 1).sum::<usize>() + 2);
            input.push('[');
            for (i, d) in docs[start..].iter().enumerate() {
                if i > 0 {
                    input.push(',');
                }
                input.push_str(d);
            }
            input.push(']');
            self.arm();
            let loaded = &self.contexts[&set.key];
            let outcome = loaded.ctx.with(|c| {
                let f: Function = c.globals().get("__mapBatch").map_err(|e| e.to_string())?;
                let r = f.call::<_, String>((input, nfns as u32));
                let logs: Vec<String> = c
                    .eval::<String, _>(
                        "(function(){ var l = JSON.stringify(__logs); __logs = []; return l; })()",
                    )
                    .ok()
                    .and_then(|s| serde_json::from_str(&s).ok())
                    .unwrap_or_default();
                match r {
                    Ok(s) => Ok((Ok(s), logs)),
                    Err(e) => {
                        let msg = exception_message(&c, e);
                        let progress: u32 = c.globals().get("__progress").unwrap_or(0);
                        self.disarm();
                        let partial: String = c
                            .globals()
                            .get::<_, Function>("__partial")
                            .and_then(|p| p.call(()))
                            .unwrap_or_else(|_| "[]".into());
                        Ok((Err((msg, progress as usize, partial)), logs))
                    }
                }
            });
            let timed_out = self.timed_out();
            self.disarm();
            let (res, l): (BatchOutcome, Vec<String>) = outcome.map_err(JsError::Runtime)?;
            logs.extend(l);
            match res {
                Ok(s) => {
                    results.extend(parse_map_output(&s, nfns)?);
                    break;
                }
                Err((msg, progress, partial)) => {
                    // The document at `progress` aborted the whole batch (timeout or out of
                    // memory): keep what was done before it, fail it, continue after it.
                    results.extend(parse_map_output(&partial, nfns)?);
                    let err = if timed_out || msg.contains("interrupted") {
                        JsError::Timeout(self.limits.timeout.as_millis() as u64).to_string()
                    } else {
                        msg
                    };
                    results.push(vec![MapOut::Error(err); nfns]);
                    start += progress + 1;
                    // Contexts may be in a bad state after an uncatchable error: rebuild.
                    self.contexts.remove(&set.key);
                    self.load(set)?;
                }
            }
        }
        Ok((results, logs))
    }

    /// Calls function `index` of `set` with JSON `args`; returns its JSON result.
    pub fn call(
        &mut self,
        set: &FnSet,
        index: usize,
        args: &Value,
        validate: bool,
    ) -> Result<Value, JsError> {
        self.call_with_host(set, index, args, validate, None)
    }

    /// Like [`Worker::call`], with a host function reachable from JavaScript as
    /// `__host(op, jsonArg)` (returning JSON text) for the duration of the call: how listener
    /// handlers read and post documents.
    pub fn call_with_host(
        &mut self,
        set: &FnSet,
        index: usize,
        args: &Value,
        validate: bool,
        host: Option<HostFn>,
    ) -> Result<Value, JsError> {
        self.load(set)?;
        self.arm();
        let loaded = &self.contexts[&set.key];
        let r = loaded.ctx.with(|c| {
            if let Some(h) = host {
                let f = Function::new(c.clone(), move |op: String, arg: String| -> String {
                    let v: Value = serde_json::from_str(&arg).unwrap_or(Value::Null);
                    h(&op, &v).to_string()
                })
                .map_err(|e| JsError::Runtime(e.to_string()))?;
                c.globals()
                    .set("__host", f)
                    .map_err(|e| JsError::Runtime(e.to_string()))?;
            }
            let f: Function = c
                .globals()
                .get(if validate { "__callValidate" } else { "__call" })
                .map_err(|e| JsError::Runtime(e.to_string()))?;
            f.call::<_, String>((index as u32, args.to_string()))
                .map_err(|e| JsError::Thrown(exception_message(&c, e)))
        });
        let timed_out = self.timed_out();
        self.disarm();
        match r {
            Ok(s) => serde_json::from_str(&s).map_err(|e| JsError::Runtime(e.to_string())),
            Err(_) if timed_out => {
                self.contexts.remove(&set.key);
                Err(JsError::Timeout(self.limits.timeout.as_millis() as u64))
            }
            Err(e) => Err(e),
        }
    }
}

fn parse_map_output(s: &str, nfns: usize) -> Result<Vec<Vec<MapOut>>, JsError> {
    let v: Vec<Vec<Value>> =
        serde_json::from_str(s).map_err(|e| JsError::Runtime(format!("bad map output: {e}")))?;
    Ok(v.into_iter()
        .map(|per| {
            let mut out: Vec<MapOut> = per
                .into_iter()
                .map(|r| match r {
                    Value::Array(rows) => MapOut::Rows(
                        rows.into_iter()
                            .map(|kv| match kv {
                                Value::Array(mut p) if p.len() == 2 => {
                                    let v = p.pop().unwrap_or(Value::Null);
                                    (p.pop().unwrap_or(Value::Null), v)
                                }
                                _ => (Value::Null, Value::Null),
                            })
                            .collect(),
                    ),
                    Value::Object(m) => MapOut::Error(
                        m.get("error")
                            .and_then(Value::as_str)
                            .unwrap_or("map function failed")
                            .to_string(),
                    ),
                    _ => MapOut::Rows(vec![]),
                })
                .collect();
            out.resize(nfns, MapOut::Rows(vec![]));
            out
        })
        .collect())
}

type Task = Box<dyn FnOnce(&mut Worker) + Send>;

/// A batch's JSON output, or (message, index of the failing document, partial output).
type BatchOutcome = Result<String, (String, usize, String)>;

/// A pool of JS worker threads. Work for one function set always goes to the same worker,
/// so its compiled context is reused.
pub struct JsPool {
    senders: Vec<mpsc::Sender<Task>>,
}

impl JsPool {
    /// Starts `threads` workers with `limits`.
    pub fn new(threads: usize, limits: JsLimits) -> JsPool {
        let mut senders = vec![];
        for i in 0..threads.max(1) {
            let (tx, rx) = mpsc::channel::<Task>();
            let limits = limits.clone();
            std::thread::Builder::new()
                .name(format!("fullsync-js-{i}"))
                .stack_size(16 << 20)
                .spawn(move || {
                    let mut worker = match Worker::new(limits) {
                        Ok(w) => w,
                        Err(_) => return,
                    };
                    while let Ok(task) = rx.recv() {
                        task(&mut worker);
                    }
                })
                .expect("spawn a JS worker thread");
            senders.push(tx);
        }
        JsPool { senders }
    }

    /// The shared default pool (one worker per core, at most 4).
    pub fn global() -> &'static JsPool {
        static POOL: OnceLock<JsPool> = OnceLock::new();
        POOL.get_or_init(|| {
            let n = std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
                .min(4);
            JsPool::new(n, JsLimits::default())
        })
    }

    /// Runs `f` on the worker that owns `key`.
    pub fn run<R: Send + 'static>(
        &self,
        key: &str,
        f: impl FnOnce(&mut Worker) -> R + Send + 'static,
    ) -> Result<R, JsError> {
        let (tx, rx) = mpsc::channel();
        self.senders[self.worker_of(key)]
            .send(Box::new(move |w: &mut Worker| {
                let _ = tx.send(f(w));
            }))
            .map_err(|_| JsError::Runtime("JS worker stopped".into()))?;
        rx.recv()
            .map_err(|_| JsError::Runtime("JS worker stopped (crashed?)".into()))
    }

    /// Maps documents with a function set (see [`Worker::map_batch`]).
    pub fn map(
        &self,
        set: &FnSet,
        docs: Vec<String>,
    ) -> Result<(Vec<Vec<MapOut>>, Vec<String>), JsError> {
        let set2 = set.clone();
        self.run(&set.key, move |w| w.map_batch(&set2, &docs))?
    }

    /// Maps documents on every worker at once (each with its own context for `set`): the
    /// documents are cut into one run per worker, and the outputs come back in document order.
    pub fn map_parallel(
        &self,
        set: &FnSet,
        docs: Vec<String>,
    ) -> Result<(Vec<Vec<MapOut>>, Vec<String>), JsError> {
        self.map_shared(set, Arc::new(docs))
    }

    /// [`JsPool::map_parallel`] of documents shared with the caller (the preview's cached
    /// documents): each worker maps its run in place, nothing is copied.
    pub fn map_shared(
        &self,
        set: &FnSet,
        docs: Arc<Vec<String>>,
    ) -> Result<(Vec<Vec<MapOut>>, Vec<String>), JsError> {
        let workers = self.senders.len().min(docs.len() / 64).max(1);
        let first = self.worker_of(&set.key);
        let per = docs.len().div_ceil(workers);
        let mut pending = Vec::with_capacity(workers);
        for i in 0..workers {
            let (set2, docs) = (set.clone(), docs.clone());
            let run = (i * per).min(docs.len())..((i + 1) * per).min(docs.len());
            let (tx, rx) = mpsc::channel();
            self.senders[(first + i) % self.senders.len()]
                .send(Box::new(move |w: &mut Worker| {
                    let _ = tx.send(w.map_batch(&set2, &docs[run]));
                }))
                .map_err(|_| JsError::Runtime("JS worker stopped".into()))?;
            pending.push(rx);
        }
        collect(pending)
    }

    /// [`JsPool::map_parallel`] of documents of any form: each worker turns its run into JSON
    /// texts with `to_json` (so encoding runs in parallel too, off the caller's thread).
    pub fn map_parallel_with<T: Send + 'static>(
        &self,
        set: &FnSet,
        docs: Vec<T>,
        to_json: fn(Vec<T>) -> Vec<String>,
    ) -> Result<(Vec<Vec<MapOut>>, Vec<String>), JsError> {
        let workers = self.senders.len().min(docs.len() / 64).max(1);
        let first = self.worker_of(&set.key);
        let per = docs.len().div_ceil(workers);
        let mut docs = docs.into_iter();
        let mut pending = Vec::with_capacity(workers);
        for i in 0..workers {
            let part: Vec<T> = docs.by_ref().take(per).collect();
            let set2 = set.clone();
            let (tx, rx) = mpsc::channel();
            self.senders[(first + i) % self.senders.len()]
                .send(Box::new(move |w: &mut Worker| {
                    let _ = tx.send(w.map_batch(&set2, &to_json(part)));
                }))
                .map_err(|_| JsError::Runtime("JS worker stopped".into()))?;
            pending.push(rx);
        }
        collect(pending)
    }

    fn worker_of(&self, key: &str) -> usize {
        let h = key
            .bytes()
            .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize));
        h % self.senders.len()
    }

    /// Compiles a function set (reporting the first compile error) without running it.
    pub fn check(&self, set: &FnSet) -> Result<(), JsError> {
        let set2 = set.clone();
        self.run(&set.key, move |w| w.load(&set2).map(|_| ()))?
    }

    /// Calls one function (reduce, filter, validate_doc_update).
    pub fn call(
        &self,
        set: &FnSet,
        index: usize,
        args: Value,
        validate: bool,
    ) -> Result<Value, JsError> {
        let set2 = set.clone();
        self.run(&set.key, move |w| w.call(&set2, index, &args, validate))?
    }

    /// Calls one function with a host function available as `__host(op, jsonArg)`.
    pub fn call_with_host(
        &self,
        set: &FnSet,
        index: usize,
        args: Value,
        host: HostFn,
    ) -> Result<Value, JsError> {
        let set2 = set.clone();
        self.run(&set.key, move |w| {
            w.call_with_host(&set2, index, &args, false, Some(host))
        })?
    }
}

/// A worker's map output per run.
type MapReply = mpsc::Receiver<Result<(Vec<Vec<MapOut>>, Vec<String>), JsError>>;

/// The outputs and logs of the runs of a parallel map, in run order.
fn collect(pending: Vec<MapReply>) -> Result<(Vec<Vec<MapOut>>, Vec<String>), JsError> {
    let (mut outs, mut logs) = (vec![], vec![]);
    for rx in pending {
        let (o, l) = rx
            .recv()
            .map_err(|_| JsError::Runtime("JS worker stopped (crashed?)".into()))??;
        outs.extend(o);
        logs.extend(l);
    }
    Ok((outs, logs))
}

/// A host function for JavaScript: `(operation, argument) -> result`.
pub type HostFn = Arc<dyn Fn(&str, &Value) -> Value + Send + Sync>;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set(key: &str, srcs: &[&str]) -> FnSet {
        FnSet {
            key: key.into(),
            sources: srcs
                .iter()
                .enumerate()
                .map(|(i, s)| (format!("f{i}"), s.to_string()))
                .collect(),
            ddoc: json!({"views": {"lib": {"util": "exports.twice = function (x) { return 2 * x; };"}}}),
        }
    }

    #[test]
    fn map_forms_errors_and_copies() {
        let pool = JsPool::new(
            1,
            JsLimits {
                timeout: Duration::from_millis(200),
                memory: 64 << 20,
            },
        );
        let s = set(
            "a",
            &[
                "function (doc) { emit(doc.k, doc.v); doc.k = 'changed'; }",
                "function named(doc) { if (doc.k === 'bad') throw new Error('boom'); emit([doc.k], null); }",
                "(doc) => { emit(require('views/lib/util').twice(doc.v)); log('seen ' + doc._id); }",
            ],
        );
        let docs = vec![
            r#"{"_id":"1","k":"a","v":1}"#.to_string(),
            r#"{"_id":"2","k":"bad","v":2}"#.to_string(),
        ];
        let (out, logs) = pool.map(&s, docs).unwrap();
        assert_eq!(out[0][0], MapOut::Rows(vec![(json!("a"), json!(1))]));
        assert_eq!(
            out[0][1],
            MapOut::Rows(vec![(json!(["a"]), json!(null))]),
            "map sees an unmodified copy"
        );
        assert_eq!(out[0][2], MapOut::Rows(vec![(json!(2), json!(null))]));
        assert_eq!(out[1][1], MapOut::Error("Error: boom".into()));
        assert_eq!(logs, vec!["seen 1", "seen 2"]);
    }

    #[test]
    fn compile_errors_are_reported() {
        let pool = JsPool::new(1, JsLimits::default());
        let e = pool
            .map(
                &set("b", &["function (doc) { emit(doc.x; }"]),
                vec!["{}".into()],
            )
            .unwrap_err();
        assert!(matches!(e, JsError::Compile { .. }), "{e:?}");
        let e = pool.map(&set("c", &["42"]), vec!["{}".into()]).unwrap_err();
        assert!(e.to_string().contains("not a function"), "{e}");
    }

    #[test]
    fn infinite_loop_fails_one_document_only() {
        let pool = JsPool::new(
            1,
            JsLimits {
                timeout: Duration::from_millis(100),
                memory: 64 << 20,
            },
        );
        let s = set(
            "loop",
            &["function (doc) { if (doc.loop) { while (true) {} } emit(doc._id); }"],
        );
        let docs: Vec<String> = (0..5)
            .map(|i| json!({"_id": i.to_string(), "loop": i == 2}).to_string())
            .collect();
        let t = Instant::now();
        let (out, _) = pool.map(&s, docs).unwrap();
        assert!(t.elapsed() < Duration::from_secs(5));
        assert_eq!(out.len(), 5);
        assert!(
            matches!(&out[2][0], MapOut::Error(m) if m.contains("timed out")),
            "{:?}",
            out[2]
        );
        assert_eq!(out[4][0], MapOut::Rows(vec![(json!("4"), json!(null))]));
        assert_eq!(out[1][0], MapOut::Rows(vec![(json!("1"), json!(null))]));
    }

    #[test]
    fn call_and_validate() {
        let pool = JsPool::new(1, JsLimits::default());
        let s = set(
            "v",
            &[
                "function (keys, values, rereduce) { return sum(values); }",
                "function (newDoc, oldDoc, userCtx) { if (!newDoc.ok) throw({forbidden: 'needs ok'}); }",
            ],
        );
        assert_eq!(
            pool.call(&s, 0, json!([null, [1, 2, 3], false]), false)
                .unwrap(),
            json!(6)
        );
        assert_eq!(
            pool.call(&s, 1, json!([{"ok": false}, null, {}]), true)
                .unwrap(),
            json!({"forbidden": "needs ok"})
        );
        assert_eq!(
            pool.call(&s, 1, json!([{"ok": true}, null, {}]), true)
                .unwrap(),
            json!(null)
        );
    }
}
