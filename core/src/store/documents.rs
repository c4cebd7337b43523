//! User data as Automerge documents: a small, generic document store.
//!
//! Each document (a user's training progress; later a report or a case) is stored as its last
//! **snapshot** (`AutoCommit::save`) plus the **changes** appended since, one Automerge change
//! per row in `document_changes`. Loading is snapshot + changes.
//!
//! Every edit goes through [`edit`], which in one `BEGIN IMMEDIATE` transaction loads the
//! document, runs the caller's edit, appends the new changes and marks the document dirty. With
//! the store's `synchronous = FULL` the edit is on disk when [`edit`] returns: an acknowledged
//! edit survives an app kill or power loss. Appending a change costs what the change costs, not
//! what the document costs. When more than [`COMPACT_AFTER_CHANGES`] changes have piled up the
//! same transaction writes a fresh snapshot and deletes the folded changes, so loading stays
//! fast and the table stays bounded. Compaction keeps Automerge's history (a snapshot is a full
//! save), so merging with another device works the same before and after.
//!
//! `dirty` says "holds changes the server has not acknowledged". Sync clears it with
//! [`mark_synced`], and only when the acknowledged heads are still the current heads, so an
//! edit made while a sync was in flight is never marked as sent.
//!
//! Edits use a fresh random Automerge actor each time a document is loaded, never a stored
//! per-device one: an Android backup restored onto a second phone would otherwise give two
//! devices the same actor, and Automerge cannot merge two different changes with the same
//! actor and sequence number.
//!
//! [`edit_then_cached`] keeps the document it committed loaded in the store's [`EditCache`], so
//! a draft's next autosave skips loading it (about 40 % of an autosave's CPU time,
//! `docs/benchmarks.md`). The cached document is used only while the stored heads equal its
//! heads, so any other write (sync, compaction, a second handle or process on the same file)
//! makes the next edit load from the store; a failed edit drops it. Its actor lives as long as
//! it stays cached and is never stored.

use automerge::{AutoCommit, Change, ChangeHash, ReadDoc, transaction::CommitOptions};
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::error::{Error, Result};

/// Changes kept beside the snapshot before [`edit`] folds them into a new one.
pub const COMPACT_AFTER_CHANGES: u64 = 64;

/// Which document an edit is for, and who it belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DocumentKey<'a> {
    /// Stable id, e.g. `progress:<user id>`.
    pub doc_id: &'a str,
    /// What kind of document it is, e.g. `training-progress`. Fixed at creation.
    pub kind: &'a str,
    /// The user it belongs to. Fixed at creation.
    pub owner: &'a str,
}

/// What the store knows about a document, without loading it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentInfo {
    /// Document id.
    pub doc_id: String,
    /// Kind, e.g. `training-progress`.
    pub kind: String,
    /// Owner's user id.
    pub owner: String,
    /// True when it holds changes the server has not acknowledged.
    pub dirty: bool,
    /// Changes stored beside the snapshot.
    pub pending_changes: u64,
    /// The document's current heads, sorted.
    pub heads: Vec<ChangeHash>,
    /// When this device last changed it (RFC 3339).
    pub updated_at: String,
}

/// Maps an Automerge failure on a document this device built to [`Error::Internal`].
pub(crate) fn automerge_error(e: automerge::AutomergeError) -> Error {
    Error::Internal(format!("automerge: {e}"))
}

fn corrupt(doc_id: &str, what: impl std::fmt::Display) -> Error {
    Error::Internal(format!(
        "stored document '{doc_id}' cannot be loaded: {what}"
    ))
}

pub(crate) fn encode_heads(heads: &[ChangeHash]) -> Vec<u8> {
    let mut sorted = heads.to_vec();
    sorted.sort();
    sorted.iter().flat_map(|h| h.0).collect()
}

pub(crate) fn decode_heads(doc_id: &str, bytes: &[u8]) -> Result<Vec<ChangeHash>> {
    if !bytes.len().is_multiple_of(32) {
        return Err(corrupt(
            doc_id,
            "heads column is not a list of 32-byte hashes",
        ));
    }
    bytes
        .chunks(32)
        .map(|c| ChangeHash::try_from(c).map_err(|e| corrupt(doc_id, e)))
        .collect()
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Loads a document (snapshot plus every stored change), or `None` when there is none.
pub fn load(conn: &Connection, doc_id: &str) -> Result<Option<AutoCommit>> {
    // A freshly loaded document holds spare capacity: each column of its op set reserves room
    // for 8 B-tree nodes, and loading leaves its buffers oversized. A clone is allocated to fit,
    // about two thirds less heap for a small document (a report: 12.7 KB to 4.3 KB) for a few
    // per cent of the load's time (`docs/benchmarks.md`, "Hazard reports").
    let Some(loaded) = load_unfitted(conn, doc_id)? else {
        return Ok(None);
    };
    Ok(Some(loaded.clone()))
}

/// [`load`] without the clone that fits it in memory: for an edit, which drops the document
/// (or caches it) right after.
fn load_unfitted(conn: &Connection, doc_id: &str) -> Result<Option<AutoCommit>> {
    let snapshot: Option<Vec<u8>> = conn
        .query_row(
            "SELECT snapshot FROM documents WHERE doc_id = ?1",
            [doc_id],
            |r| r.get(0),
        )
        .optional()?;
    let Some(snapshot) = snapshot else {
        return Ok(None);
    };
    let mut doc = AutoCommit::load(&snapshot).map_err(|e| corrupt(doc_id, e))?;
    let mut stmt =
        conn.prepare_cached("SELECT change FROM document_changes WHERE doc_id = ?1 ORDER BY seq")?;
    let changes = stmt
        .query_map([doc_id], |r| r.get::<_, Vec<u8>>(0))?
        .map(|bytes| {
            Change::from_bytes(bytes?).map_err(|e| corrupt(doc_id, format!("stored change: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    if !changes.is_empty() {
        doc.apply_changes(changes).map_err(|e| corrupt(doc_id, e))?;
    }
    Ok(Some(doc))
}

/// The full document as one Automerge save (what another device merges), or `None`.
pub fn document_bytes(conn: &Connection, doc_id: &str) -> Result<Option<Vec<u8>>> {
    Ok(load(conn, doc_id)?.map(|mut d| d.save()))
}

/// What the store knows about a document, or `None`.
pub fn info(conn: &Connection, doc_id: &str) -> Result<Option<DocumentInfo>> {
    let row = conn
        .query_row(
            "SELECT doc_id, kind, owner, dirty, change_count, heads, updated_at \
             FROM documents WHERE doc_id = ?1",
            [doc_id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, bool>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, Vec<u8>>(5)?,
                    r.get::<_, String>(6)?,
                ))
            },
        )
        .optional()?;
    row.map(|(doc_id, kind, owner, dirty, count, heads, updated_at)| {
        let heads = decode_heads(&doc_id, &heads)?;
        Ok(DocumentInfo {
            doc_id,
            kind,
            owner,
            dirty,
            pending_changes: count.max(0) as u64,
            heads,
            updated_at,
        })
    })
    .transpose()
}

/// Ids of the documents holding changes the server has not acknowledged, sorted.
pub fn dirty_documents(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT doc_id FROM documents WHERE dirty = 1 ORDER BY doc_id")?;
    let ids = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(ids)
}

/// Records that the server holds the document up to `heads`. Clears `dirty` only when `heads`
/// are still the document's current heads (an edit made meanwhile keeps it dirty). Returns
/// whether the document is now clean.
pub fn mark_synced(conn: &Connection, doc_id: &str, heads: &[ChangeHash]) -> Result<bool> {
    let n = conn.execute(
        "UPDATE documents SET dirty = 0 WHERE doc_id = ?1 AND heads = ?2",
        params![doc_id, encode_heads(heads)],
    )?;
    Ok(n == 1)
}

/// Creates the document with `genesis` when it does not exist, runs `edit` on it and durably
/// appends the changes the edit made, all in one `BEGIN IMMEDIATE` transaction. If `edit`
/// fails nothing is stored. An edit that changes nothing stores nothing and leaves `dirty` as
/// it was.
///
/// `genesis` must be deterministic for a given `doc_id` when several devices may create the
/// same document offline (see the training progress document), so that the objects it creates
/// are the same objects everywhere.
pub fn edit<T>(
    conn: &mut Connection,
    key: &DocumentKey<'_>,
    now: DateTime<Utc>,
    genesis: impl FnOnce() -> Result<AutoCommit>,
    edit: impl FnOnce(&mut AutoCommit) -> Result<T>,
) -> Result<T> {
    edit_then(conn, key, now, genesis, edit, |_, _| Ok(()))
}

/// [`edit`], then `after` with the same open transaction and the edited document, just before
/// the commit. A module that keeps a derived table (such as the report index) writes it here,
/// so the table and the document are committed together or not at all. If `after` fails
/// nothing is stored.
pub fn edit_then<T>(
    conn: &mut Connection,
    key: &DocumentKey<'_>,
    now: DateTime<Utc>,
    genesis: impl FnOnce() -> Result<AutoCommit>,
    edit: impl FnOnce(&mut AutoCommit) -> Result<T>,
    after: impl FnOnce(&Connection, &mut AutoCommit) -> Result<()>,
) -> Result<T> {
    edit_then_cached(conn, None, key, now, genesis, edit, after)
}

/// [`edit_then`], keeping the committed document loaded in `cache` (when given) so that the
/// next edit of the same document does not load it again (a draft's autosaves, one after
/// another).
pub fn edit_then_cached<T>(
    conn: &mut Connection,
    cache: Option<&EditCache>,
    key: &DocumentKey<'_>,
    now: DateTime<Utc>,
    genesis: impl FnOnce() -> Result<AutoCommit>,
    edit: impl FnOnce(&mut AutoCommit) -> Result<T>,
    after: impl FnOnce(&Connection, &mut AutoCommit) -> Result<()>,
) -> Result<T> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let existing: Option<(String, String, Vec<u8>)> = tx
        .query_row(
            "SELECT kind, owner, heads FROM documents WHERE doc_id = ?1",
            [key.doc_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let mut doc = match existing {
        Some((kind, owner, heads)) => {
            if kind != key.kind || owner != key.owner {
                return Err(Error::invalid(format!(
                    "document '{}' is a {kind} document of another owner or kind",
                    key.doc_id
                )));
            }
            match cache.and_then(|c| c.take(key.doc_id, &heads)) {
                Some(doc) => doc,
                None => load_unfitted(&tx, key.doc_id)?
                    .ok_or_else(|| corrupt(key.doc_id, "row vanished"))?,
            }
        }
        None => {
            let mut doc = genesis()?;
            insert(&tx, key, &mut doc, now, true)?;
            doc
        }
    };

    let before = doc.get_heads();
    let out = edit(&mut doc)?;
    doc.commit_with(CommitOptions::default().with_time(now.timestamp()));
    let new_changes = doc.get_changes(&before);
    if !new_changes.is_empty() {
        append_changes(&tx, key.doc_id, &mut doc, &new_changes, now, true)?;
    }
    after(&tx, &mut doc)?;
    tx.commit()?;
    // Only a committed document goes back (one whose edit or commit failed is dropped, and the
    // next edit loads what is stored), as a clone, which is allocated to fit (see [`load`]):
    // about half the heap of the document as edited, for some 10 µs.
    if let Some(cache) = cache {
        cache.put(key.doc_id, doc.clone());
    }
    Ok(out)
}

/// The document the last cached edit committed, still loaded. An edit takes it only when the
/// stored heads equal its heads, so anything else that wrote the document since (a sync, a
/// compaction, another process, a deleted and recreated draft) makes it load from the store
/// instead: the cache can be missed, never stale. It holds one document (a few KB).
#[derive(Default)]
pub struct EditCache(std::sync::Mutex<Option<(String, AutoCommit)>>);

impl std::fmt::Debug for EditCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        f.debug_tuple("EditCache")
            .field(&slot.as_ref().map(|(id, _)| id))
            .finish()
    }
}

impl EditCache {
    fn take(&self, doc_id: &str, stored_heads: &[u8]) -> Option<AutoCommit> {
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let (id, mut doc) = slot.take()?;
        (id == doc_id && encode_heads(&doc.get_heads()) == stored_heads).then_some(doc)
    }

    fn put(&self, doc_id: &str, doc: AutoCommit) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some((doc_id.to_string(), doc));
    }

    /// Drops the cached document.
    pub fn clear(&self) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take();
    }

    /// Which document is cached, if any.
    pub fn cached(&self) -> Option<String> {
        let slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        slot.as_ref().map(|(id, _)| id.clone())
    }
}

/// Folds the stored changes of `doc_id` into a new snapshot. Called by [`edit`] past
/// [`COMPACT_AFTER_CHANGES`]; public for maintenance and tests. Returns false when there is no
/// such document.
pub fn compact(conn: &mut Connection, doc_id: &str) -> Result<bool> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let Some(mut doc) = load(&tx, doc_id)? else {
        return Ok(false);
    };
    write_snapshot(&tx, doc_id, &mut doc)?;
    tx.commit()?;
    Ok(true)
}

/// Replaces the stored snapshot of `doc_id` by a save of `doc` and deletes the folded changes,
/// inside the caller's transaction. For kinds that compact sooner than
/// [`COMPACT_AFTER_CHANGES`]. `doc` is the stored document (as in an [`edit_then`] hook), or a
/// replacement the caller vouches for: a report draft rebuilt without history, which no other
/// replica holds (`docs/decisions/0006-draft-compaction.md`). The heads column follows `doc`.
pub(crate) fn write_snapshot(conn: &Connection, doc_id: &str, doc: &mut AutoCommit) -> Result<()> {
    let snapshot = doc.save();
    // Never delete a change the snapshot does not hold: check the round trip first.
    let check = AutoCommit::load(&snapshot)
        .map_err(|e| Error::Internal(format!("compacted snapshot does not load: {e}")))?;
    let mut want = doc.get_heads();
    let mut got = check.clone().get_heads();
    want.sort();
    got.sort();
    if want != got {
        return Err(Error::Internal(
            "compacted snapshot lost changes; keeping the old one".into(),
        ));
    }
    conn.execute(
        "UPDATE documents SET snapshot = ?2, heads = ?3, change_count = 0 WHERE doc_id = ?1",
        params![doc_id, snapshot, encode_heads(&want)],
    )?;
    conn.execute("DELETE FROM document_changes WHERE doc_id = ?1", [doc_id])?;
    Ok(())
}

/// Largest document accepted from elsewhere (a merge of another device's copy), in bytes.
/// The sync protocol's limit on a document (`sync::policy::MAX_DOCUMENT_BYTES`) is this
/// constant: it is defined here, below the domain and sync, so that the domain modules that
/// check foreign bytes (cases, training progress) and sync share one number without the store
/// or the domain depending on sync.
pub const MAX_FOREIGN_DOCUMENT_BYTES: usize = 4 * 1024 * 1024;

/// Refuses bytes from elsewhere over [`MAX_FOREIGN_DOCUMENT_BYTES`] before they are parsed.
pub(crate) fn check_foreign_size(what: &str, bytes: &[u8]) -> Result<()> {
    if bytes.len() > MAX_FOREIGN_DOCUMENT_BYTES {
        return Err(Error::invalid(format!(
            "{what} document is {} bytes; at most {MAX_FOREIGN_DOCUMENT_BYTES} are accepted",
            bytes.len()
        )));
    }
    Ok(())
}

/// Inserts a new document row with `doc` as its snapshot, inside the caller's transaction.
/// `dirty` is true for a document this device creates ([`edit`]), false for one that arrives
/// from the sync server.
pub(crate) fn insert(
    conn: &Connection,
    key: &DocumentKey<'_>,
    doc: &mut AutoCommit,
    now: DateTime<Utc>,
    dirty: bool,
) -> Result<()> {
    conn.execute(
        "INSERT INTO documents (doc_id, kind, owner, snapshot, heads, change_count, dirty, \
         created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7, ?7)",
        params![
            key.doc_id,
            key.kind,
            key.owner,
            doc.save(),
            encode_heads(&doc.get_heads()),
            dirty,
            rfc3339(now),
        ],
    )?;
    Ok(())
}

/// Appends changes to a stored document, inside the caller's transaction, and records the new
/// heads; compacts past [`COMPACT_AFTER_CHANGES`]. `mark_dirty` is true for this device's own
/// changes ([`edit`]); changes from the sync server are not news and leave `dirty` as it was.
pub(crate) fn append_changes(
    conn: &Connection,
    doc_id: &str,
    doc: &mut AutoCommit,
    changes: &[Change],
    now: DateTime<Utc>,
    mark_dirty: bool,
) -> Result<()> {
    let next: i64 = conn.query_row(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM document_changes WHERE doc_id = ?1",
        [doc_id],
        |r| r.get(0),
    )?;
    {
        let mut insert = conn.prepare_cached(
            "INSERT INTO document_changes (doc_id, seq, change) VALUES (?1, ?2, ?3)",
        )?;
        for (i, change) in changes.iter().enumerate() {
            insert.execute(params![doc_id, next + i as i64, change.raw_bytes()])?;
        }
    }
    let count: i64 = conn.query_row(
        "UPDATE documents SET heads = ?2, change_count = change_count + ?3, updated_at = ?4, \
         dirty = CASE WHEN ?5 THEN 1 ELSE dirty END WHERE doc_id = ?1 RETURNING change_count",
        params![
            doc_id,
            encode_heads(&doc.get_heads()),
            changes.len() as i64,
            rfc3339(now),
            mark_dirty,
        ],
        |r| r.get(0),
    )?;
    if count as u64 > COMPACT_AFTER_CHANGES {
        write_snapshot(conn, doc_id, doc)?;
    }
    Ok(())
}

/// This installation's random id (32 hex digits), created on first use. It names the device in
/// user data (for example which phone made a quiz attempt); it is not an Automerge actor.
pub fn device_id(conn: &Connection) -> Result<String> {
    if let Some(id) = conn
        .query_row("SELECT device_id FROM device WHERE id = 1", [], |r| {
            r.get::<_, String>(0)
        })
        .optional()?
    {
        return Ok(id);
    }
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Internal(format!("no random numbers for the device id: {e}")))?;
    let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    conn.execute(
        "INSERT INTO device (id, device_id) VALUES (1, ?1) ON CONFLICT(id) DO NOTHING",
        [&id],
    )?;
    Ok(
        conn.query_row("SELECT device_id FROM device WHERE id = 1", [], |r| {
            r.get(0)
        })?,
    )
}

/// Reads a string value at `key` of the root map (helper for document readers).
pub fn root_str(doc: &AutoCommit, key: &str) -> Option<String> {
    match doc.get(automerge::ROOT, key).ok().flatten() {
        Some((automerge::Value::Scalar(s), _)) => match s.as_ref() {
            automerge::ScalarValue::Str(s) => Some(s.to_string()),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests;
