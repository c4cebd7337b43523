//! Erasure and retention (PIPL art. 47; `docs/decisions/0009-erasure.md`).
//!
//! - [`erase_user`] (`waystation-server user erase`) deletes an account's personal data on
//!   request: the account, its areas and tokens (its devices get `401` from then on), its
//!   training progress, and its identity wherever its reports and case events name it. Those
//!   documents are *rewritten* as new documents without history (an edit would keep the id in
//!   the history every replica carries; `waystation_core::reports::erasure`), naming
//!   [`ERASED_USER`] instead; the hazard, its place, its photos and its case history stay,
//!   attributed to no one. Each rewrite takes the next feed position and is recorded in
//!   `replaced_docs` with its base change, so devices learn of it at their next sync: the feed
//!   entry carries the base (`x`), and a device whose copy lacks it drops the copy and fetches
//!   the new one. Changes of the old history are refused ([`refuse_old_history`]), so no
//!   device can bring the erased history back.
//! - [`purge_withdrawn`] (`waystation-server db purge-withdrawn`) deletes reports withdrawn
//!   more than a retention period ago, with their cases and their photos that no other report
//!   names. Other photos no report names go only by the quota sweep's rule
//!   (`crate::quota::sweep_unlinked_photos`, after its grace period): a photo is uploaded
//!   before its report, so one uploaded an hour ago for a report still on its way stays.
//!
//! Both run with `secure_delete` on, so the freed pages are overwritten with zeros, and end
//! with a WAL checkpoint, so the old pages leave the write-ahead log too.

use automerge::ChangeHash;
use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::path::Path;

use waystation_core::reports::erasure::{self, Rewritten};
use waystation_core::reports::{ReportId, read_report_document};
use waystation_core::sync::protocol::{ChangedDoc, DocReply};

pub use waystation_core::reports::erasure::ERASED_USER;

use crate::db;
use crate::error::{AdminError, ApiError};
use crate::store;

/// What [`erase_user`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Erasure {
    /// Reports rewritten without their author.
    pub reports: usize,
    /// Cases rewritten without the account (its reports' cases, and cases it wrote events in).
    pub cases: usize,
    /// Whether a training progress document was deleted.
    pub progress: bool,
    /// Tokens deleted.
    pub tokens: usize,
}

/// What [`purge_withdrawn`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Purge {
    /// Withdrawn reports deleted (each with its case).
    pub reports: usize,
    /// Photos deleted: the purged reports' photos that no remaining report names, and
    /// uploads no report names that are older than the grace period (the quota sweep's rule).
    pub photos: usize,
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn internal(e: impl std::fmt::Display) -> AdminError {
    AdminError::Other(e.to_string())
}

/// Opens `db_path` for an erasure or a purge: freed pages are zeroed.
fn open(db_path: &Path) -> Result<Connection, AdminError> {
    let mut conn = db::connect(db_path)?;
    db::migrate(&mut conn)?;
    conn.pragma_update(None, "secure_delete", true)?;
    Ok(conn)
}

/// Moves the write-ahead log into the database and empties it, so the pages an erasure freed
/// (zeroed in the database by `secure_delete`) leave the log too.
fn checkpoint(conn: &Connection) -> Result<(), AdminError> {
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

/// Replaces a stored document by `rewritten` (a new history): its changes deleted, its
/// snapshot, heads and owner replaced, the next feed position given, the base recorded.
fn replace(
    conn: &Connection,
    doc_id: &str,
    owner: &str,
    mut rewritten: Rewritten,
    now: &str,
) -> Result<(), AdminError> {
    let mut heads = rewritten.doc.get_heads();
    heads.sort();
    let heads: Vec<u8> = heads.iter().flat_map(|h| h.0).collect();
    conn.execute("DELETE FROM doc_changes WHERE doc_id = ?1", [doc_id])?;
    let seq: i64 = conn.query_row(
        "UPDATE meta SET next_seq = next_seq + 1 WHERE id = 1 RETURNING next_seq - 1",
        [],
        |r| r.get(0),
    )?;
    conn.execute(
        "UPDATE docs SET snapshot = ?2, heads = ?3, change_count = 0, seq = ?4, updated_at = ?5, \
         owner = ?6 WHERE doc_id = ?1",
        params![doc_id, rewritten.doc.save(), heads, seq, now, owner],
    )?;
    conn.execute(
        "INSERT INTO replaced_docs (doc_id, base, replaced_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (doc_id) DO UPDATE SET base = excluded.base, replaced_at = excluded.replaced_at",
        params![doc_id, rewritten.base.0.to_vec(), now],
    )?;
    Ok(())
}

/// Erases `user`'s personal data (see the module docs), in one transaction. An unknown user
/// is [`AdminError::NotFound`]; nothing is changed then.
pub fn erase_user(db_path: &Path, user: &str, now: DateTime<Utc>) -> Result<Erasure, AdminError> {
    if user == ERASED_USER {
        return Err(AdminError::Invalid(format!(
            "'{ERASED_USER}' stands for erased accounts; it is no account"
        )));
    }
    let mut conn = open(db_path)?;
    let at = rfc3339(now);
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let exists: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM users WHERE user_id = ?1)",
        [user],
        |r| r.get(0),
    )?;
    if !exists {
        return Err(AdminError::NotFound(format!("no account '{user}'")));
    }
    let mut done = Erasure {
        tokens: tx.execute("DELETE FROM tokens WHERE user_id = ?1", [user])?,
        ..Erasure::default()
    };
    let progress = format!("progress:{user}");
    tx.execute("DELETE FROM doc_changes WHERE doc_id = ?1", [&progress])?;
    done.progress = tx.execute("DELETE FROM docs WHERE doc_id = ?1", [&progress])? > 0;

    // Every report and case, read once: a case names the account when it follows one of its
    // reports (the case's owner) or holds an event it wrote (an event's actor).
    let docs: Vec<(String, String, String)> = {
        let mut stmt = tx.prepare(
            "SELECT doc_id, kind, owner FROM docs WHERE kind IN ('report', 'case') ORDER BY seq",
        )?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?
    };
    for (doc_id, kind, owner) in docs {
        let Some(stored) = store::load(&tx, &doc_id).map_err(|e| internal(e.message))? else {
            continue;
        };
        let named = erasure::names_user(&stored.doc, user).map_err(internal)?;
        if owner != user && !named {
            continue;
        }
        let new_owner = if owner == user { ERASED_USER } else { &owner };
        let rewritten = if kind == "report" {
            done.reports += 1;
            erasure::rewrite_report(&stored.doc, user, now).map_err(internal)?
        } else {
            let key = doc_id.strip_prefix("case:").unwrap_or(&doc_id);
            let report = ReportId::parse(key).map_err(internal)?;
            done.cases += 1;
            erasure::rewrite_case(&stored.doc, &report, user, now).map_err(internal)?
        };
        replace(&tx, &doc_id, new_owner, rewritten, &at)?;
    }

    // Photos stay with their reports (the hazard's evidence, stripped of all metadata on the
    // phone), but no longer say who uploaded them.
    tx.execute(
        "UPDATE photos SET uploader = ?2 WHERE uploader = ?1",
        params![user, ERASED_USER],
    )?;
    tx.execute(
        "UPDATE OR IGNORE photo_uploaders SET user_id = ?2 WHERE user_id = ?1",
        params![user, ERASED_USER],
    )?;
    tx.execute("DELETE FROM photo_uploaders WHERE user_id = ?1", [user])?;
    tx.execute("DELETE FROM user_areas WHERE user_id = ?1", [user])?;
    tx.execute("DELETE FROM users WHERE user_id = ?1", [user])?;
    tx.commit()?;
    checkpoint(&conn)?;
    Ok(done)
}

/// Deletes every report withdrawn more than `older_than` before `now`, with its case and its
/// author's uploads of its photos, then applies the quota sweep's rule with
/// `unlinked_photo_grace` (the server's `--unlinked-photo-grace-days`): uploads no report of
/// their uploader names are forgotten once older than the grace, and bytes no upload and no
/// report name are deleted. One transaction.
///
/// Why not "every photo no report names": a device uploads a photo before the report that
/// names it, so such a photo is often one whose report is still on its way, and deleting it
/// would cost the rider the photo (or a second upload on a metered plan).
pub fn purge_withdrawn(
    db_path: &Path,
    older_than: Duration,
    unlinked_photo_grace: Duration,
    now: DateTime<Utc>,
) -> Result<Purge, AdminError> {
    if older_than < Duration::zero() {
        return Err(AdminError::Invalid(
            "the retention period cannot be negative".into(),
        ));
    }
    if unlinked_photo_grace < Duration::zero() {
        return Err(AdminError::Invalid(
            "the grace period for photos no report names cannot be negative".into(),
        ));
    }
    let cutoff = now - older_than;
    let mut conn = open(db_path)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let reports: Vec<String> = {
        let mut stmt = tx.prepare("SELECT doc_id FROM docs WHERE kind = 'report'")?;
        stmt.query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?
    };
    let mut done = Purge::default();
    // (author, photo) of every purged report: the uploads that went with it.
    let mut uploads: Vec<(String, String)> = Vec::new();
    for doc_id in reports {
        let Some(stored) = store::load(&tx, &doc_id).map_err(|e| internal(e.message))? else {
            continue;
        };
        let Ok(report) = read_report_document(&stored.doc) else {
            continue;
        };
        if report.withdrawn_at.is_none_or(|w| w > cutoff) {
            continue;
        }
        let case = format!("case:{}", report.id);
        let mut stmt = tx.prepare(
            "SELECT d.owner, rp.sha256 FROM report_photos rp \
             JOIN docs d ON d.doc_id = rp.report_id WHERE rp.report_id = ?1",
        )?;
        for row in stmt.query_map([&doc_id], |r| Ok((r.get(0)?, r.get(1)?)))? {
            uploads.push(row?);
        }
        drop(stmt);
        for id in [&doc_id, &case] {
            tx.execute("DELETE FROM doc_changes WHERE doc_id = ?1", [id])?;
            tx.execute("DELETE FROM report_photos WHERE report_id = ?1", [id])?;
            tx.execute("DELETE FROM docs WHERE doc_id = ?1", [id])?;
            tx.execute(
                "INSERT OR IGNORE INTO purged_docs (doc_id, purged_at) VALUES (?1, ?2)",
                params![id, rfc3339(now)],
            )?;
        }
        done.reports += 1;
    }
    // The purged reports' uploads go with them, unless another report of the same author
    // names the photo. Someone else's upload of the same bytes is theirs: it stays, and the
    // sweep's rule below decides about it.
    for (author, sha) in &uploads {
        tx.execute(
            "DELETE FROM photo_uploaders AS pu WHERE pu.user_id = ?1 AND pu.sha256 = ?2 \
             AND NOT EXISTS (SELECT 1 FROM report_photos rp JOIN docs d \
             ON d.doc_id = rp.report_id WHERE rp.sha256 = pu.sha256 AND d.owner = pu.user_id)",
            params![author, sha],
        )?;
    }
    let swept = crate::quota::sweep_in(&tx, unlinked_photo_grace, now)?;
    done.photos = swept.photos as usize;
    tx.commit()?;
    checkpoint(&conn)?;
    Ok(done)
}

/// During a sync: when `doc_id` was purged after its retention period ([`purge_withdrawn`]),
/// its refusal: it is not stored again. When it was rewritten by an erasure and the device's copy is of the
/// old history (its heads, `their_heads`, are unknown here even after its message was
/// received, because they build on changes the new history lacks, or the changes it sent do
/// not descend from the new history's base), the refusal to send back: with no message, so
/// that the device's copy does not merge the new history into the old, and naming the base.
pub fn refuse_old_history(
    conn: &Connection,
    doc_id: &str,
    doc: &mut automerge::AutoCommit,
    their_heads: &[ChangeHash],
    new_changes: &[automerge::Change],
) -> Result<Option<DocReply>, ApiError> {
    let purged: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM purged_docs WHERE doc_id = ?1)")?
        .query_row([doc_id], |r| r.get(0))?;
    if purged && !new_changes.is_empty() {
        return Ok(Some(DocReply {
            doc_id: doc_id.to_string(),
            message: None,
            refused: Some(format!(
                "document '{doc_id}' was withdrawn and deleted by the server after its retention \
                 period; it is not stored again"
            )),
            replaced: None,
        }));
    }
    let base: Option<Vec<u8>> = conn
        .prepare_cached("SELECT base FROM replaced_docs WHERE doc_id = ?1")?
        .query_row([doc_id], |r| r.get(0))
        .optional()?;
    let Some(base) = base else {
        return Ok(None);
    };
    let hash = ChangeHash::try_from(base.as_slice())
        .map_err(|_| ApiError::internal(format!("replaced_docs base of '{doc_id}'")))?;
    let heads_known = their_heads
        .iter()
        .all(|h| doc.get_change_by_hash(h).is_some());
    if heads_known && erasure::descends_from(doc, &hash, new_changes) {
        return Ok(None);
    }
    Ok(Some(DocReply {
        doc_id: doc_id.to_string(),
        message: None,
        refused: Some(format!(
            "document '{doc_id}' was rewritten by the server (an erasure); this copy is of its \
             earlier history, which is dropped: fetch the document anew"
        )),
        replaced: Some(base),
    }))
}

/// Lists in `changed` (the response's feed) every document of `replies` refused as a copy of
/// an erased history that the feed does not list already, whatever the request's cursor: the
/// device drops its copy and fetches the document anew from this entry, with its new owner.
pub fn list_replaced(
    conn: &Connection,
    replies: &[DocReply],
    changed: &mut Vec<ChangedDoc>,
) -> Result<(), ApiError> {
    for r in replies {
        let Some(base) = &r.replaced else { continue };
        if changed.iter().any(|c| c.doc_id == r.doc_id) {
            continue;
        }
        let row: Option<(String, String, Vec<u8>)> = conn
            .prepare_cached("SELECT kind, owner, heads FROM docs WHERE doc_id = ?1")?
            .query_row([&r.doc_id], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .optional()?;
        if let Some((kind, owner, heads)) = row {
            changed.push(ChangedDoc {
                doc_id: r.doc_id.clone(),
                kind,
                owner,
                heads: Some(heads),
                replaced: Some(base.clone()),
            });
        }
    }
    Ok(())
}
