//! What a sync's outcome leaves for the user: the sync status, refused documents (the
//! server's refusals and the device's own of the server's changes) and their dismissal, and
//! the bookkeeping of an accepted document.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::sync::atomic::Ordering;

use super::photos::photos_to_upload;
use super::{LocalDoc, MetaRow, SyncRefusal, SyncStatus, parse_time, pending_docs, rfc3339};
use crate::error::{Error, Result};
use crate::reports::document::REPORT_KIND;
use crate::reports::{OutboxState, ReportId, write_outbox};
use crate::store::documents::{self, encode_heads};
use automerge::ChangeHash;

impl crate::Waystation {
    /// The sync status: what is pending, refused, and how the last sync went.
    ///
    /// A document the server refused counts as refused, not pending: no sync will send it
    /// until the user acts on it (a new edit, or [`Self::dismiss_sync_refusal`]), so it must
    /// not keep the status from saying "nothing pending".
    pub fn sync_status(&self) -> Result<SyncStatus> {
        let conn = self.store().read();
        let docs = pending_docs(&conn)?;
        let (refused, pending): (Vec<_>, Vec<_>) = docs.into_iter().partition(|d| d.refused);
        let mut pending_photos = 0u64;
        for d in &pending {
            if d.doc.kind == REPORT_KIND
                && let Some(doc) = documents::load(&conn, &d.doc.doc_id)?
            {
                pending_photos += photos_to_upload(&conn, &doc)?.len() as u64;
            }
        }
        let meta: Option<(MetaRow, Option<String>, Option<String>)> = conn
            .query_row(
                "SELECT server, last_attempt, last_success, last_error, reoffered_at, \
                 reoffer_held_back_at FROM sync_meta WHERE id = 1",
                [],
                |r| {
                    Ok((
                        (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?),
                        r.get(4)?,
                        r.get(5)?,
                    ))
                },
            )
            .optional()?;
        let ((server, attempt, success, error), reoffered, held_back) = match meta {
            Some(((s, a, ok, e), r, h)) => ((Some(s), a, ok, e), r, h),
            None => ((None, None, None, None), None, None),
        };
        Ok(SyncStatus {
            server,
            in_progress: self.sync_runtime().in_progress.load(Ordering::SeqCst),
            pending_documents: pending.len() as u64,
            pending_photos,
            refused_documents: refused.len() as u64,
            last_attempt: parse_time(attempt),
            last_success: parse_time(success),
            last_error: error,
            last_reoffer: parse_time(reoffered),
            reoffer_held_back: parse_time(held_back),
        })
    }

    /// The user's answer to a refusal they cannot fix by editing (a case event the server
    /// will not take, a report it will not accept): the refusal leaves the status and
    /// [`Self::sync_refusals`], and the document stops waiting to be sent. Nothing is deleted:
    /// the document keeps every change, a refused report keeps its `refused` outbox state and
    /// reason, and the next local edit of the document sends it all again.
    /// [`Error::NotFound`] when `doc_id` has no refusal at its current state.
    pub fn dismiss_sync_refusal(&self, doc_id: &str) -> Result<()> {
        {
            let mut conn = self.store().write();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let refused: bool = tx
                .query_row(
                    "SELECT 1 FROM sync_docs s JOIN documents d ON d.doc_id = s.doc_id \
                     WHERE s.doc_id = ?1 AND s.refused_heads = d.heads",
                    [doc_id],
                    |_| Ok(true),
                )
                .optional()?
                .unwrap_or(false);
            if !refused {
                let shown: String = doc_id.chars().take(80).collect();
                return Err(Error::NotFound(format!(
                    "'{shown}' has no refusal to dismiss (none, or edited since)"
                )));
            }
            tx.execute(
                "UPDATE sync_docs SET refused_heads = NULL, refused_reason = NULL, \
                 refused_at = NULL WHERE doc_id = ?1",
                [doc_id],
            )?;
            tx.execute("UPDATE documents SET dirty = 0 WHERE doc_id = ?1", [doc_id])?;
            tx.commit()?;
        }
        self.notify_sync_observer();
        Ok(())
    }

    /// Documents the server refused at their current state, with the reasons.
    pub fn sync_refusals(&self) -> Result<Vec<SyncRefusal>> {
        let conn = self.store().read();
        let mut stmt = conn.prepare(
            "SELECT s.doc_id, s.refused_reason, s.refused_at FROM sync_docs s \
             JOIN documents d ON d.doc_id = s.doc_id \
             WHERE s.refused_heads = d.heads ORDER BY s.refused_at, s.doc_id",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows
            .into_iter()
            .map(|(doc_id, reason, at)| SyncRefusal {
                doc_id,
                reason: reason.unwrap_or_default(),
                at: parse_time(at).unwrap_or_default(),
            })
            .collect())
    }
}

/// Records that the device refused the server's changes to `d` (`reason`), inside the
/// caller's transaction. A document with nothing of this device's to send is shown among the
/// refusals ([`crate::Waystation::sync_refusals`]) until it changes or the user dismisses it;
/// its report keeps its outbox state (the server did not refuse the report, the device
/// refused the server). A document with this device's news is left pending: holding it back
/// would keep the news from the server, and it goes again at the next sync.
pub(super) fn record_change_refused(
    tx: &Connection,
    d: &LocalDoc,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let Some(info) = documents::info(tx, &d.doc_id)? else {
        return Ok(());
    };
    if info.dirty {
        return Ok(());
    }
    let reason: String = reason.chars().take(1000).collect();
    tx.execute(
        "INSERT INTO sync_docs (doc_id, shared_heads, refused_heads, refused_reason, \
         refused_at) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT(doc_id) DO UPDATE SET refused_heads = excluded.refused_heads, \
         refused_reason = excluded.refused_reason, refused_at = excluded.refused_at",
        params![
            d.doc_id,
            encode_heads(&[]),
            encode_heads(&info.heads),
            reason,
            rfc3339(now)
        ],
    )?;
    Ok(())
}

/// Records a refusal of `d` at its current heads, inside the caller's transaction; a refused
/// report's outbox state becomes `refused` with the reason.
pub(super) fn record_refusal(
    tx: &Connection,
    d: &LocalDoc,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let reason: String = reason.chars().take(1000).collect();
    let heads: Vec<u8> = tx.query_row(
        "SELECT heads FROM documents WHERE doc_id = ?1",
        [&d.doc_id],
        |r| r.get(0),
    )?;
    tx.execute(
        "INSERT INTO sync_docs (doc_id, shared_heads, refused_heads, refused_reason, \
         refused_at) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT(doc_id) DO UPDATE SET refused_heads = excluded.refused_heads, \
         refused_reason = excluded.refused_reason, refused_at = excluded.refused_at",
        params![d.doc_id, encode_heads(&[]), heads, reason, rfc3339(now)],
    )?;
    if d.kind == REPORT_KIND
        && let Some(id) = d.doc_id.strip_prefix("report:")
    {
        let id = ReportId::parse(id)?;
        write_outbox(tx, &id, &OutboxState::Refused { reason, at: now })?;
    }
    Ok(())
}

/// Records that the server holds `d` at `heads`, inside the caller's transaction: clears the
/// refusal, marks the document clean (if no edit came in meanwhile) and a submitted report's
/// outbox state `sent`. Returns whether the document had been dirty (this device's news).
pub(super) fn record_accepted(
    tx: &Connection,
    d: &LocalDoc,
    heads: &[ChangeHash],
    now: DateTime<Utc>,
) -> Result<bool> {
    let was_dirty = documents::info(tx, &d.doc_id)?.is_some_and(|i| i.dirty);
    tx.execute(
        "UPDATE sync_docs SET refused_heads = NULL, refused_reason = NULL, refused_at = NULL \
         WHERE doc_id = ?1",
        [&d.doc_id],
    )?;
    documents::mark_synced(tx, &d.doc_id, heads)?;
    if d.kind == REPORT_KIND
        && let Some(id) = d.doc_id.strip_prefix("report:")
    {
        let status: Option<String> = tx
            .query_row(
                "SELECT status FROM report_index WHERE report_id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?;
        let delivered: Option<String> = tx
            .query_row(
                "SELECT state FROM report_outbox WHERE report_id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?;
        let submitted = matches!(status.as_deref(), Some("submitted" | "withdrawn"));
        if submitted && (was_dirty || delivered.as_deref() != Some("sent")) {
            write_outbox(tx, &ReportId::parse(id)?, &OutboxState::Sent { at: now })?;
        }
    }
    Ok(was_dirty)
}
