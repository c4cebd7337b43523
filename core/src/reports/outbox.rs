//! The outbox: where each submitted report stands on its way to the server.
//!
//! The submission itself is the report's document (dirty until the server holds it); the
//! `report_outbox` table only records what the server said: `sent` or `refused` with its
//! reason. A submitted report without a row is pending, so a crash right after submitting
//! still leaves it pending, never lost.
//!
//! This module owns the table. Sync never writes it: it calls the functions below inside its
//! own transaction when the server accepts or refuses a document (`record_accepted`,
//! `record_refused`), when a restore sends everything again (`resend_all_of`), and when an
//! erasure drops this device's copy of a report (`forget`). `is_sendable` tells it which
//! report documents may leave the device at all (never a draft).

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::document::{self, REPORT_KIND};
use super::model::{MAX_REASON_CHARS, rfc3339};
use super::{OutboxState, Report, ReportId, ReportStatus, index};
use crate::error::{Error, Result};
use crate::store::documents;

/// A report's delivery state as stored: [`OutboxState::Pending`] when no row says otherwise.
pub(crate) fn state(conn: &Connection, id: &ReportId) -> Result<OutboxState> {
    let row: Option<(String, Option<String>, String)> = conn
        .query_row(
            "SELECT state, reason, updated_at FROM report_outbox WHERE report_id = ?1",
            [id.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((state, reason, at)) = row else {
        // No row yet: the submission is the document itself, so a crash right after
        // submitting still leaves the report pending, never lost.
        return Ok(OutboxState::Pending);
    };
    let at = DateTime::parse_from_rfc3339(&at)
        .map_err(|e| Error::Internal(format!("stored outbox time: {e}")))?
        .with_timezone(&Utc);
    match state.as_str() {
        "sent" => Ok(OutboxState::Sent { at }),
        "refused" => Ok(OutboxState::Refused {
            reason: reason.unwrap_or_default(),
            at,
        }),
        _ => Ok(OutboxState::Pending),
    }
}

/// Loads a report with its outbox state, or `None`.
pub(crate) fn load(conn: &Connection, id: &ReportId) -> Result<Option<Report>> {
    let Some(doc) = documents::load(conn, &id.doc_id())? else {
        return Ok(None);
    };
    let mut report = document::read(&doc)?;
    if report.status != ReportStatus::Draft {
        report.outbox = Some(state(conn, id)?);
    }
    Ok(Some(report))
}

/// Records a report's delivery state, inside the caller's connection or transaction.
pub(crate) fn write(conn: &Connection, id: &ReportId, state: &OutboxState) -> Result<()> {
    match state {
        OutboxState::Pending => {
            conn.execute(
                "DELETE FROM report_outbox WHERE report_id = ?1",
                [id.as_str()],
            )?;
        }
        OutboxState::Sent { at } => {
            conn.execute(
                "INSERT OR REPLACE INTO report_outbox (report_id, state, reason, updated_at) \
                 VALUES (?1, 'sent', NULL, ?2)",
                params![id.as_str(), rfc3339(*at)],
            )?;
        }
        OutboxState::Refused { reason, at } => {
            let reason: String = reason.chars().take(MAX_REASON_CHARS).collect();
            conn.execute(
                "INSERT OR REPLACE INTO report_outbox (report_id, state, reason, updated_at) \
                 VALUES (?1, 'refused', ?2, ?3)",
                params![id.as_str(), reason, rfc3339(*at)],
            )?;
        }
    }
    Ok(())
}

/// The report a document id names (`report:<uuid>`), or `None` for any other document.
fn report_of(doc_id: &str) -> Result<Option<ReportId>> {
    match doc_id.strip_prefix("report:") {
        Some(id) => ReportId::parse(id).map(Some),
        None => Ok(None),
    }
}

/// Whether sync may send the document `doc_id`: any document but a report that is still a
/// draft (a draft is private to its phone). A report unknown to the index is not sent either.
pub(crate) fn is_sendable(conn: &Connection, doc_id: &str) -> Result<bool> {
    let Some(id) = report_of(doc_id)? else {
        return Ok(true);
    };
    Ok(matches!(
        index::status_of(conn, &id)?,
        Some(ReportStatus::Submitted | ReportStatus::Withdrawn)
    ))
}

/// The server refused the document `doc_id` with `reason`: a report's outbox says so (with
/// the reason, so the reporter sees it). Nothing for any other document. Inside the caller's
/// transaction.
pub(crate) fn record_refused(
    conn: &Connection,
    doc_id: &str,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    if let Some(id) = report_of(doc_id)? {
        let reason = reason.to_string();
        write(conn, &id, &OutboxState::Refused { reason, at })?;
    }
    Ok(())
}

/// The server holds the document `doc_id`: a submitted (or withdrawn) report becomes `sent`
/// when the accepted copy held this device's news (`was_dirty`) or when it was not recorded
/// as sent yet; a sent report's time is otherwise kept. Nothing for a draft or any other
/// document. Inside the caller's transaction.
pub(crate) fn record_accepted(
    conn: &Connection,
    doc_id: &str,
    was_dirty: bool,
    at: DateTime<Utc>,
) -> Result<()> {
    let Some(id) = report_of(doc_id)? else {
        return Ok(());
    };
    let submitted = matches!(
        index::status_of(conn, &id)?,
        Some(ReportStatus::Submitted | ReportStatus::Withdrawn)
    );
    if !submitted {
        return Ok(());
    }
    let sent = matches!(state(conn, &id)?, OutboxState::Sent { .. });
    if was_dirty || !sent {
        write(conn, &id, &OutboxState::Sent { at })?;
    }
    Ok(())
}

/// Puts every report owned by `owner` back in the queue (pending): a restore onto a server
/// that lost them sends them all again. Inside the caller's transaction.
pub(crate) fn resend_all_of(conn: &Connection, owner: &str) -> Result<()> {
    conn.execute(
        "DELETE FROM report_outbox WHERE report_id IN \
         (SELECT substr(doc_id, 8) FROM documents WHERE kind = ?1 AND owner = ?2)",
        params![REPORT_KIND, owner],
    )?;
    Ok(())
}

/// Forgets what this module holds about the report document `doc_id` (its index row and
/// outbox state), when sync drops this device's copy of it (an erasure rewrote it; the new
/// copy arrives as a new document). Nothing for any other document. Inside the caller's
/// transaction, which deletes the document itself.
pub(crate) fn forget(conn: &Connection, doc_id: &str) -> Result<()> {
    if let Some(id) = report_of(doc_id)? {
        index::delete_row(conn, &id)?;
        write(conn, &id, &OutboxState::Pending)?;
    }
    Ok(())
}
