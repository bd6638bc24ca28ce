//! The Run panel: the project's transactions with their variables (the form), running one
//! with the values filled in and as a chosen user ([`fullsync_runtime::transactions::run`],
//! every type the runtime supports), the documents it wrote, and a history of runs.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};

use fullsync_engine::{ChangesOptions, Engine, ReadOptions};
use fullsync_runtime::transactions::{self, Caller, RunError};
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::{ApiError, ErrorCode};

/// How many runs the history keeps (older ones are dropped).
pub const HISTORY: usize = 50;

/// Documents of a run shown in full (the others by id only).
const SHOWN_DOCS: usize = 20;

/// The answer of `transaction_history`.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct RunHistory {
    /// The runs since the studio started.
    pub runs: Vec<Run>,
}

/// One run, as the panel shows it (the answer of `transaction_run`).
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct Run {
    /// 1, 2, ... since the studio started.
    #[ts(type = "number")]
    pub index: u64,
    /// When it ended (milliseconds since the Unix epoch).
    #[ts(type = "number")]
    pub time: u64,
    /// Connector.
    pub connector: String,
    /// Transaction.
    pub transaction: String,
    /// Its type (`PostDocument`, ...).
    pub kind: String,
    /// The values filled in.
    pub vars: Map<String, Value>,
    /// The user it ran as (none: anonymous).
    pub user: Option<String>,
    /// Whether it succeeded.
    pub ok: bool,
    /// What the client would receive.
    pub response: Value,
    /// Why it failed, and what to do.
    pub error: Option<String>,
    /// Documents of the connector's database the run wrote (`id`, `rev`, `deleted`, `doc`).
    #[ts(type = "Array<{ id: string; rev: string; deleted: boolean; doc: JsonValue }>")]
    pub written: Vec<Value>,
    /// Milliseconds.
    pub ms: f64,
}

/// The history of runs.
#[derive(Default)]
pub struct TxRuns {
    runs: Mutex<VecDeque<Run>>,
    next: Mutex<u64>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// `transactions_list`'s answer: the project's transactions.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct TransactionList {
    /// Every transaction of every connector, in project order.
    pub transactions: Vec<TransactionInfo>,
    /// The transaction kinds that run locally.
    pub supported: Vec<String>,
}

/// One transaction of [`TransactionList`].
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct TransactionInfo {
    /// Its connector (database).
    pub connector: String,
    /// Its name.
    pub name: String,
    /// Its kind (`GetView`, `PostDocument`, ...).
    pub kind: String,
    /// Its variables.
    pub variables: Vec<fullsync_project::Variable>,
    /// Its kind runs locally.
    pub supported: bool,
}

/// The transactions of the project at `root`, each with its variables and whether its kind
/// runs locally.
pub fn list(root: &Path) -> Result<TransactionList, ApiError> {
    let (p, diags) = fullsync_project::load(root);
    let p = p.ok_or_else(|| crate::invalid_project(&diags))?;
    let mut out = vec![];
    for c in &p.connectors {
        for t in &c.transactions {
            out.push(TransactionInfo {
                connector: c.name.clone(),
                name: t.name.clone(),
                kind: t.kind.clone(),
                variables: t.variables.clone(),
                supported: transactions::SUPPORTED.contains(&t.kind.as_str()),
            });
        }
    }
    Ok(TransactionList {
        transactions: out,
        supported: transactions::SUPPORTED
            .iter()
            .map(|s| s.to_string())
            .collect(),
    })
}

impl TxRuns {
    /// Runs `connector/name` of the project at `root` with `vars` as `user`; records and
    /// answers the run (a failed run is an answer too, with its error).
    #[allow(clippy::too_many_arguments)]
    pub fn run(
        &self,
        root: &Path,
        engine: &Arc<Engine>,
        views: &fullsync_views::Views,
        connector: &str,
        name: &str,
        vars: Map<String, Value>,
        user: Option<String>,
    ) -> Result<Run, ApiError> {
        let (p, diags) = fullsync_project::load(root);
        let p = p.ok_or_else(|| crate::invalid_project(&diags))?;
        let c = p.connector(connector).ok_or_else(|| {
            ApiError::new(ErrorCode::NotFound, format!("no connector `{connector}`"))
        })?;
        let t = c
            .transactions
            .iter()
            .find(|t| t.name == name)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::NotFound,
                    format!("connector `{connector}` has no transaction `{name}`"),
                )
            })?;
        let user = user.map(|u| u.trim().to_string()).filter(|u| !u.is_empty());
        let db = engine.db_or_create(connector)?;
        let before = db.update_seq();
        let started = std::time::Instant::now();
        let out = transactions::run(
            engine,
            views,
            connector,
            t,
            &vars,
            &Caller { user: user.clone() },
        );
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let written = db
            .changes(&ChangesOptions {
                since: before,
                ..Default::default()
            })
            .map(|c| c.results)
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(i, ch)| {
                let id = ch["id"].as_str().unwrap_or_default().to_string();
                let doc = (i < SHOWN_DOCS)
                    .then(|| db.get(&id, None, &ReadOptions::default()).ok())
                    .flatten();
                json!({"id": id, "rev": ch["changes"][0]["rev"], "deleted": ch.get("deleted").cloned().unwrap_or(json!(false)), "doc": doc})
            })
            .collect();
        let (ok, response, error) = match out {
            Ok(v) => (true, v, None),
            Err(RunError::MissingVariable(v)) => (
                false,
                Value::Null,
                Some(format!("variable `{v}` is required: fill it in")),
            ),
            Err(e) => (false, Value::Null, Some(e.to_string())),
        };
        let mut next = lock(&self.next);
        *next += 1;
        let run = Run {
            index: *next,
            time: crate::now_ms(),
            connector: connector.to_string(),
            transaction: name.to_string(),
            kind: t.kind.clone(),
            vars,
            user,
            ok,
            response,
            error,
            written,
            ms,
        };
        let mut runs = lock(&self.runs);
        runs.push_back(run.clone());
        while runs.len() > HISTORY {
            runs.pop_front();
        }
        Ok(run)
    }

    /// The runs kept, newest first.
    pub fn history(&self) -> Vec<Run> {
        lock(&self.runs).iter().rev().cloned().collect()
    }
}
