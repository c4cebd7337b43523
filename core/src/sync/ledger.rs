//! The sync ledger: what this device records about its exchanges with one server, in the sync
//! tables it owns (`sync_meta`, `sync_docs`, `photo_uploads`, `pack_etags`).
//!
//! Per server: the feed cursor, the server's store generation, the last attempt, success and
//! error, and when everything was last offered again. Per document: the heads last shared with
//! the server and a refusal at the current heads. Per photo: that the server holds it.
//!
//! Everything here is SQL on those tables and nothing else. What a sync outcome means for a
//! report (its outbox state) is the reports module's (`reports::outbox`), called from here so
//! that both are written in the same transaction.

use automerge::ChangeHash;
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::error::Result;
use crate::reports::case::CASE_KIND;
use crate::reports::document::REPORT_KIND;
use crate::store::documents::{self, decode_heads, encode_heads};
use crate::training::progress::PROGRESS_KIND;

pub(super) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(super) fn parse_time(s: Option<String>) -> Option<DateTime<Utc>> {
    s.and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// A locally stored document to sync, with what sync knows about it.
#[derive(Clone, Debug)]
pub(super) struct LocalDoc {
    pub(super) doc_id: String,
    pub(super) kind: String,
    pub(super) owner: String,
}

/// A document with changes the server does not have yet.
pub(super) struct PendingDoc {
    pub(super) doc: LocalDoc,
    /// The server refused it at its current heads: it waits for a new local edit.
    pub(super) refused: bool,
}

/// Dirty documents the reports module lets go (never drafts), reports first, with whether each
/// was refused at its current heads. Sync sends the ones not refused; the status counts them
/// all.
pub(super) fn pending_docs(conn: &Connection) -> Result<Vec<PendingDoc>> {
    let mut stmt = conn.prepare(
        "SELECT d.doc_id, d.kind, d.owner, \
                s.refused_heads IS NOT NULL AND s.refused_heads = d.heads \
         FROM documents d LEFT JOIN sync_docs s ON s.doc_id = d.doc_id \
         WHERE d.dirty = 1 \
         ORDER BY CASE d.kind WHEN 'report' THEN 0 ELSE 1 END, d.doc_id",
    )?;
    let rows: Vec<PendingDoc> = stmt
        .query_map([], |r| {
            Ok(PendingDoc {
                doc: LocalDoc {
                    doc_id: r.get(0)?,
                    kind: r.get(1)?,
                    owner: r.get(2)?,
                },
                refused: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::with_capacity(rows.len());
    for p in rows {
        if crate::reports::outbox::is_sendable(conn, &p.doc.doc_id)? {
            out.push(p);
        }
    }
    Ok(out)
}

/// The heads this device last shared with the server for `doc_id` (none: nothing shared).
pub(super) fn shared_heads(conn: &Connection, doc_id: &str) -> Result<Vec<ChangeHash>> {
    let bytes: Option<Vec<u8>> = conn
        .query_row(
            "SELECT shared_heads FROM sync_docs WHERE doc_id = ?1",
            [doc_id],
            |r| r.get(0),
        )
        .optional()?;
    match bytes {
        Some(b) => decode_heads(doc_id, &b),
        None => Ok(Vec::new()),
    }
}

/// Records the heads this device now shares with the server for `doc_id`.
pub(super) fn record_shared_heads(
    conn: &Connection,
    doc_id: &str,
    heads: &[ChangeHash],
) -> Result<()> {
    conn.execute(
        "INSERT INTO sync_docs (doc_id, shared_heads) VALUES (?1, ?2) \
         ON CONFLICT(doc_id) DO UPDATE SET shared_heads = excluded.shared_heads",
        params![doc_id, encode_heads(heads)],
    )?;
    Ok(())
}

/// Forgets what the ledger holds about `doc_id` (a copy an erasure replaced).
pub(super) fn forget_doc(conn: &Connection, doc_id: &str) -> Result<()> {
    conn.execute("DELETE FROM sync_docs WHERE doc_id = ?1", [doc_id])?;
    Ok(())
}

/// Reads the meta row for `server`, starting over (cursor 0, nothing shared) when the device
/// last synced with another server. Returns the feed cursor.
pub(crate) fn meta_for(conn: &mut Connection, server: &str) -> Result<u64> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let row: Option<(String, i64)> = tx
        .query_row(
            "SELECT server, cursor FROM sync_meta WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let cursor = match row {
        Some((s, c)) if s == server => c.max(0) as u64,
        Some(_) => {
            // Another server: what it holds says nothing about this one.
            tx.execute("DELETE FROM sync_docs", [])?;
            tx.execute("DELETE FROM photo_uploads", [])?;
            tx.execute("DELETE FROM pack_etags", [])?;
            tx.execute(
                "UPDATE sync_meta SET server = ?1, cursor = 0, last_success = NULL, \
                 last_error = NULL, server_generation = NULL WHERE id = 1",
                [server],
            )?;
            0
        }
        None => {
            tx.execute(
                "INSERT INTO sync_meta (id, server, cursor) VALUES (1, ?1, 0)",
                [server],
            )?;
            0
        }
    };
    tx.commit()?;
    Ok(cursor)
}

/// Stores the feed cursor once the documents it covers are stored.
pub(super) fn store_cursor(conn: &Connection, cursor: u64) -> Result<()> {
    conn.execute(
        "UPDATE sync_meta SET cursor = ?1 WHERE id = 1",
        [cursor as i64],
    )?;
    Ok(())
}

/// A sync with `server` starts now.
pub(super) fn record_attempt(conn: &Connection, server: &str, at: DateTime<Utc>) -> Result<()> {
    conn.execute(
        "INSERT INTO sync_meta (id, server, cursor, last_attempt) VALUES (1, ?1, 0, ?2) \
         ON CONFLICT(id) DO UPDATE SET last_attempt = excluded.last_attempt",
        params![server, rfc3339(at)],
    )?;
    Ok(())
}

/// A sync ended: at `at` without error, or with `error` (shown on the status screen).
pub(super) fn record_outcome(
    conn: &Connection,
    error: Option<&str>,
    at: DateTime<Utc>,
) -> Result<()> {
    match error {
        None => conn.execute(
            "UPDATE sync_meta SET last_success = ?1, last_error = NULL WHERE id = 1",
            [rfc3339(at)],
        )?,
        Some(e) => conn.execute("UPDATE sync_meta SET last_error = ?1 WHERE id = 1", [e])?,
    };
    Ok(())
}

/// When everything was last offered again, and `at` is recorded as a request held back when
/// it comes too soon after that (`interval`). Returns whether offering again is allowed now.
pub(super) fn may_offer_again(
    conn: &Connection,
    at: DateTime<Utc>,
    interval: chrono::TimeDelta,
) -> Result<bool> {
    let last: Option<String> =
        conn.query_row("SELECT reoffered_at FROM sync_meta WHERE id = 1", [], |r| {
            r.get(0)
        })?;
    let allowed = match parse_time(last) {
        None => true,
        // A clock set back by more than the interval does not block re-offers forever.
        Some(last) => (at - last).abs() >= interval,
    };
    if !allowed {
        conn.execute(
            "UPDATE sync_meta SET reoffer_held_back_at = ?1 WHERE id = 1",
            [rfc3339(at)],
        )?;
    }
    Ok(allowed)
}

/// Whether `generation` (the server's store generation) differs from the one recorded: the
/// server was restored from a backup. The first generation seen is recorded; a server that no
/// longer asks clears a re-offer held back.
pub(super) fn generation_changed(conn: &Connection, generation: &str) -> Result<bool> {
    if generation.is_empty() {
        return Ok(false);
    }
    let known: Option<String> = conn.query_row(
        "SELECT server_generation FROM sync_meta WHERE id = 1",
        [],
        |r| r.get(0),
    )?;
    match known {
        Some(g) if g != generation => Ok(true),
        Some(_) => {
            conn.execute(
                "UPDATE sync_meta SET reoffer_held_back_at = NULL \
                 WHERE id = 1 AND reoffer_held_back_at IS NOT NULL",
                [],
            )?;
            Ok(false)
        }
        None => {
            conn.execute(
                "UPDATE sync_meta SET server_generation = ?1 WHERE id = 1",
                [generation],
            )?;
            Ok(false)
        }
    }
}

/// Forgets everything this device believed the server held (shared heads, refusals, uploaded
/// photos, the feed cursor), records the new generation and the re-offer's time. Inside the
/// caller's transaction.
pub(super) fn forget_server_state(
    conn: &Connection,
    generation: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    conn.execute("DELETE FROM sync_docs", [])?;
    conn.execute("DELETE FROM photo_uploads", [])?;
    conn.execute(
        "UPDATE sync_meta SET cursor = 0, server_generation = NULLIF(?1, ''), \
         reoffered_at = ?2, reoffer_held_back_at = NULL WHERE id = 1",
        params![generation, rfc3339(at)],
    )?;
    Ok(())
}

/// Marks for sending every document `owner` writes: reports and training progress, and every
/// case when the account is a follow-up role (`follow_up`). Inside the caller's transaction.
pub(super) fn mark_to_offer_again(conn: &Connection, owner: &str, follow_up: bool) -> Result<()> {
    conn.execute(
        "UPDATE documents SET dirty = 1 WHERE (kind IN (?1, ?2) AND owner = ?3) \
         OR (?4 AND kind = ?5)",
        params![REPORT_KIND, PROGRESS_KIND, owner, follow_up, CASE_KIND],
    )?;
    Ok(())
}

fn record_refusal_row(
    conn: &Connection,
    doc_id: &str,
    heads: &[u8],
    reason: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    conn.execute(
        "INSERT INTO sync_docs (doc_id, shared_heads, refused_heads, refused_reason, \
         refused_at) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT(doc_id) DO UPDATE SET refused_heads = excluded.refused_heads, \
         refused_reason = excluded.refused_reason, refused_at = excluded.refused_at",
        params![doc_id, encode_heads(&[]), heads, reason, rfc3339(at)],
    )?;
    Ok(())
}

/// Records that the device refused the server's changes to `d` (`reason`), inside the
/// caller's transaction. A document with nothing of this device's to send is shown among the
/// refusals until it changes or the user dismisses it; its report keeps its outbox state (the
/// server did not refuse the report, the device refused the server). A document with this
/// device's news is left pending: holding it back would keep the news from the server, and it
/// goes again at the next sync.
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
    record_refusal_row(tx, &d.doc_id, &encode_heads(&info.heads), &reason, now)
}

/// Records the server's refusal of `d` at its current heads, inside the caller's transaction;
/// a refused report's outbox says so with the reason (`reports::outbox`).
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
    record_refusal_row(tx, &d.doc_id, &heads, &reason, now)?;
    crate::reports::outbox::record_refused(tx, &d.doc_id, &reason, now)
}

/// Records that the server holds `d` at `heads`, inside the caller's transaction: clears the
/// refusal, marks the document clean (if no edit came in meanwhile) and tells the reports
/// module (a submitted report becomes `sent`). Returns whether the document had been dirty
/// (this device's news).
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
    crate::reports::outbox::record_accepted(tx, &d.doc_id, was_dirty, now)?;
    Ok(was_dirty)
}

/// Records that the server holds the photo `sha256` (uploaded, or downloaded from it).
pub(crate) fn record_photo_on_server(
    conn: &Connection,
    sha256: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO photo_uploads (sha256, uploaded_at) VALUES (?1, ?2)",
        params![sha256, rfc3339(now)],
    )?;
    Ok(())
}

/// Whether the server is known to hold the photo `sha256`.
pub(super) fn photo_on_server(conn: &Connection, sha256: &str) -> Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM photo_uploads WHERE sha256 = ?1",
            [sha256],
            |_| Ok(true),
        )
        .optional()?
        .unwrap_or(false))
}

/// The server said it lacks the photo `sha256` after all: it goes again.
pub(super) fn forget_photo_on_server(conn: &Connection, sha256: &str) -> Result<()> {
    conn.execute("DELETE FROM photo_uploads WHERE sha256 = ?1", [sha256])?;
    Ok(())
}

/// `sync_meta`'s server, last attempt, last success, last error, last re-offer and re-offer
/// held back; `None` before the first sync.
pub(super) type Meta = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

pub(super) fn meta(conn: &Connection) -> Result<Option<Meta>> {
    Ok(conn
        .query_row(
            "SELECT server, last_attempt, last_success, last_error, reoffered_at, \
             reoffer_held_back_at FROM sync_meta WHERE id = 1",
            [],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            },
        )
        .optional()?)
}

/// A refusal as stored: document id, reason, when.
pub(super) type RefusalRow = (String, Option<String>, Option<String>);

/// Documents refused at their current heads.
pub(super) fn refusals(conn: &Connection) -> Result<Vec<RefusalRow>> {
    let mut stmt = conn.prepare(
        "SELECT s.doc_id, s.refused_reason, s.refused_at FROM sync_docs s \
         JOIN documents d ON d.doc_id = s.doc_id \
         WHERE s.refused_heads = d.heads ORDER BY s.refused_at, s.doc_id",
    )?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Dismisses the refusal of `doc_id` at its current heads: the refusal is cleared and the
/// document stops waiting to be sent. Returns false when there was none.
pub(super) fn dismiss_refusal(conn: &mut Connection, doc_id: &str) -> Result<bool> {
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
        return Ok(false);
    }
    tx.execute(
        "UPDATE sync_docs SET refused_heads = NULL, refused_reason = NULL, \
         refused_at = NULL WHERE doc_id = ?1",
        [doc_id],
    )?;
    tx.execute("UPDATE documents SET dirty = 0 WHERE doc_id = ?1", [doc_id])?;
    tx.commit()?;
    Ok(true)
}
