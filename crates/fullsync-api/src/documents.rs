//! Documents of the engine's databases, as the studio's Documents panel uses them: list,
//! read (with history and conflicts), write, delete, resolve conflicts, the `_changes` feed,
//! and what a FullSync user sees.

use std::collections::BTreeSet;

use fullsync_engine::{AllDocsOptions, ReadOptions, UserCtx};
use serde::Serialize;
use serde_json::{json, Value};

use crate::{ApiError, ErrorCode, Studio};

/// One database of `databases`.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct DatabaseInfo {
    /// Name.
    pub name: String,
    /// Live documents.
    #[ts(type = "number")]
    pub doc_count: u64,
    /// Update sequence.
    #[ts(type = "number")]
    pub update_seq: u64,
}

/// The answer of `docs_list`.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct DocsList {
    /// Documents in the database.
    #[ts(type = "number")]
    pub total: u64,
    /// `_all_docs` rows.
    #[ts(type = "Array<{ id: string; key: string; value: { rev: string; deleted?: boolean } }>")]
    pub rows: Vec<Value>,
}

/// A document as stored (any JSON object, with `_id`, `_rev` and, for `doc_get`,
/// `_conflicts` and `_revs_info`).
#[derive(Debug, Serialize, ts_rs::TS)]
#[serde(transparent)]
pub struct Document(#[ts(type = "Record<string, JsonValue>")] pub Value);

/// The answer of a write (`doc_put`, `doc_delete`, `attachment_put`, `attachment_delete`).
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct Written {
    /// Always `true`.
    pub ok: bool,
    /// Document id.
    pub id: String,
    /// The new revision.
    pub rev: String,
}

impl Written {
    /// `{"ok": true, "id": ..., "rev": ...}`.
    pub fn new(id: impl Into<String>, rev: impl Into<String>) -> Written {
        Written {
            ok: true,
            id: id.into(),
            rev: rev.into(),
        }
    }
}

/// The answer of `changes`.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct ChangesPage {
    /// `_changes` rows.
    #[ts(
        type = "Array<{ seq: number; id: string; changes: Array<{ rev: string }>; deleted?: boolean }>"
    )]
    pub results: Vec<Value>,
    /// Where the next poll resumes.
    #[ts(type = "number")]
    pub last_seq: u64,
}

/// The answer of `doc_resolve`.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct Resolved {
    /// Always `true`.
    pub ok: bool,
    /// Document id.
    pub id: String,
    /// The revision kept (or the merge written on top of it).
    pub rev: String,
    /// The revisions deleted.
    pub deleted: Vec<String>,
}

/// The answer of `see_as`.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct SeeAs {
    /// Database.
    pub db: String,
    /// The user (none: an anonymous device).
    pub user: Option<String>,
    /// The user's groups.
    pub groups: Vec<String>,
    /// Documents the user receives.
    pub count: usize,
    /// Documents in the database.
    #[ts(type = "number")]
    pub doc_count: u64,
    /// Ids of the documents the user receives.
    pub ids: Vec<String>,
}

impl Studio {
    /// `databases`: each database with its document count and update sequence.
    pub(crate) fn databases(&self) -> Result<Vec<DatabaseInfo>, ApiError> {
        let mut out = vec![];
        for name in self.engine.all_dbs()? {
            if let Ok(db) = self.engine.db(&name) {
                let i = db.info()?;
                out.push(DatabaseInfo {
                    name,
                    doc_count: i.doc_count,
                    update_seq: i.update_seq,
                });
            }
        }
        Ok(out)
    }

    /// `docs_list`: up to `limit` documents whose id starts with `prefix`, and the total.
    pub(crate) fn docs_list(
        &self,
        db: &str,
        prefix: &str,
        limit: usize,
    ) -> Result<DocsList, ApiError> {
        let dbh = self.engine.db(db)?;
        let (total, _, rows) = dbh.all_docs(&AllDocsOptions {
            start: (!prefix.is_empty()).then(|| prefix.to_string()),
            end: (!prefix.is_empty()).then(|| format!("{prefix}\u{10ffff}")),
            inclusive_end: true,
            limit: Some(limit),
            ..Default::default()
        })?;
        Ok(DocsList { total, rows })
    }

    /// `doc_get`: the winner (or revision `rev`) with `_conflicts` and `_revs_info`.
    pub(crate) fn doc_get(
        &self,
        db: &str,
        id: &str,
        rev: Option<&str>,
    ) -> Result<Document, ApiError> {
        let rev = rev.map(fullsync_engine::Rev::parse).transpose()?;
        Ok(Document(self.engine.db(db)?.get(
            id,
            rev.as_ref(),
            &ReadOptions {
                conflicts: true,
                revs_info: true,
                ..Default::default()
            },
        )?))
    }

    /// `doc_put`: writes a document given as JSON.
    pub(crate) fn doc_put(&self, db: &str, doc: Value) -> Result<Written, ApiError> {
        let (id, rev) = put_json(&*self.engine.db(db)?, doc)?;
        Ok(Written::new(id, rev))
    }

    /// `doc_delete`: deletes revision `rev` of `id`.
    pub(crate) fn doc_delete(&self, db: &str, id: &str, rev: &str) -> Result<Written, ApiError> {
        let dbh = self.engine.db(db)?;
        let (id, rev) = put_json(&dbh, json!({"_id": id, "_rev": rev, "_deleted": true}))?;
        Ok(Written::new(id, rev))
    }

    /// `changes`: the feed after `since`, or (`latest`) the newest `limit` rows, newest first.
    pub(crate) fn changes(
        &self,
        db: &str,
        since: u64,
        limit: usize,
        latest: bool,
    ) -> Result<ChangesPage, ApiError> {
        let dbh = self.engine.db(db)?;
        let c = dbh.changes(&fullsync_engine::ChangesOptions {
            since: if latest { 0 } else { since },
            limit: Some(limit),
            descending: latest,
            ..Default::default()
        })?;
        // Newest first: resume after the newest row shown, so nothing written
        // meanwhile is skipped by the next poll.
        let last_seq = if latest {
            c.results
                .iter()
                .filter_map(|r| r["seq"].as_u64())
                .max()
                .unwrap_or(0)
        } else {
            c.last_seq
        };
        Ok(ChangesPage {
            results: c.results,
            last_seq,
        })
    }

    /// `doc_revisions`: the live leaf revisions of `id`, the winner first.
    pub(crate) fn doc_revisions(&self, db: &str, id: &str) -> Result<Vec<Document>, ApiError> {
        let leaves = live_leaves(&*self.engine.db(db)?, id)?;
        Ok(leaves.into_iter().map(Document).collect())
    }

    /// `doc_resolve`: keeps `keep` (or `body` written on top of it) and deletes the other live
    /// revisions, refused when the live revisions are not exactly `keep` + `delete`.
    pub(crate) fn doc_resolve(
        &self,
        db: &str,
        id: &str,
        keep: String,
        delete: Vec<String>,
        body: Option<Value>,
    ) -> Result<Resolved, ApiError> {
        let dbh = self.engine.db(db)?;
        let leaves: BTreeSet<String> = live_leaves(&dbh, id)?
            .iter()
            .filter_map(|d| d["_rev"].as_str().map(str::to_string))
            .collect();
        let mut expected: BTreeSet<String> = delete.iter().cloned().collect();
        expected.insert(keep.clone());
        if leaves != expected {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                format!(
                    "{id} changed since you looked (its live revisions are now {}): nothing was deleted; reload the document and confirm again",
                    leaves.into_iter().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        let mut kept = keep.clone();
        if let Some(mut b) = body {
            let o = b.as_object_mut().ok_or_else(|| {
                ApiError::new(
                    ErrorCode::BadRequest,
                    "the merged body must be a JSON object",
                )
            })?;
            o.insert("_id".into(), json!(id));
            o.insert("_rev".into(), json!(keep));
            kept = put_json(&dbh, b)?.1;
        }
        for rev in &delete {
            put_json(&dbh, json!({"_id": id, "_rev": rev, "_deleted": true}))?;
        }
        Ok(Resolved {
            ok: true,
            id: id.to_string(),
            rev: kept,
            deleted: delete,
        })
    }

    /// `see_as`: the ids of the documents a FullSync user (with `groups`) receives.
    pub(crate) fn see_as(
        &self,
        db: &str,
        user: Option<String>,
        groups: Vec<String>,
    ) -> Result<SeeAs, ApiError> {
        let dbh = self.engine.db(db)?;
        let user = user.filter(|u| !u.trim().is_empty());
        let groups: Vec<String> = groups
            .into_iter()
            .map(|g| g.trim().to_string())
            .filter(|g| !g.is_empty())
            .collect();
        let ids = fullsync_replicate::acl::see_as_user(&dbh, user.as_deref(), &groups)?;
        let total = dbh.info()?.doc_count;
        Ok(SeeAs {
            db: db.to_string(),
            user,
            groups,
            count: ids.len(),
            doc_count: total,
            ids,
        })
    }
}

/// Writes one document given as JSON, as the studio's user (an admin, like the local
/// developer on their own engine), and answers its id and new revision.
fn put_json(dbh: &fullsync_engine::Database, doc: Value) -> Result<(String, String), ApiError> {
    let parsed = fullsync_engine::parse_doc(doc, None, &mut |_| None)?;
    let id = parsed.id.clone();
    let rev = dbh.put(
        parsed,
        &UserCtx {
            name: None,
            roles: vec!["_admin".into()],
        },
    )?;
    Ok((id, rev))
}

/// Live leaf revisions of `id`, the winner first.
fn live_leaves(dbh: &fullsync_engine::Database, id: &str) -> Result<Vec<Value>, ApiError> {
    let winner = dbh.get(id, None, &ReadOptions::default())?;
    let mut out = vec![winner.clone()];
    for r in dbh.open_revs(id, &fullsync_engine::OpenRevs::All, &ReadOptions::default())? {
        if let fullsync_engine::OpenRev::Ok(d) = r {
            if d.get("_deleted") != Some(&Value::Bool(true)) && d["_rev"] != winner["_rev"] {
                out.push(d);
            }
        }
    }
    Ok(out)
}
