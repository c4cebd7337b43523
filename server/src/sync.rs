//! `POST /v1/sync`: one transaction per request. Each document's message is received into the
//! server's copy with a fresh Automerge sync state; what it added is checked against the access
//! rules and either stored (with the next feed sequence number) or refused for that document
//! alone. A message that does not apply to the server's copy (say, a change under an (actor,
//! sequence number) the server already holds with other content) is refused for that document
//! alone too: one bad document never blocks the rest of a device's request. Then the reply
//! messages, and the feed of documents the account may read that changed after the client's
//! cursor.

use automerge::sync::{Message, State, SyncDoc};
use automerge::{AutoCommit, Change};
use std::collections::HashSet;
use waystation_core::sync::bounds;
use waystation_core::sync::policy::{
    self, Account, DocRef, MAX_DOCUMENT_BYTES, MAX_INFLATED_DOCUMENT_BYTES, MAX_MESSAGE_BYTES,
    MAX_OPS_PER_DOCUMENT, Role,
};
use waystation_core::sync::protocol::{ChangedDoc, DocReply, MAX_FEED_PER_RESPONSE, SyncResponse};

use crate::auth::Authenticated;
use crate::db::Db;
use crate::decode::{DecodedDoc, DecodedRequest};
use crate::documents::{self as store, DocFacts, StoredDoc};
use crate::error::ApiError;
use crate::store::{Reader, StoreTx};

/// Answers a decoded sync request for `account`, in one transaction: a write transaction only
/// when some message carries changes.
pub fn sync(
    db: &Db,
    who: &Authenticated,
    request: DecodedRequest,
    now: &str,
) -> Result<SyncResponse, ApiError> {
    let account = &who.account;
    // A read transaction is one snapshot, so the feed and the documents agree.
    let begin = std::time::Instant::now();
    let txn = if request.carries_changes() {
        db.write()?
    } else {
        db.read()?
    };
    crate::store::timing::begun(begin);
    let tx = txn.as_ref();
    let mut usage = crate::quota::Usage::new(db.quotas(), &account.user);
    let mut replies = Vec::with_capacity(request.docs.len());
    let mut own = HashSet::with_capacity(request.docs.len());
    for d in request.docs {
        own.insert(d.doc_id.clone());
        replies.push(sync_doc(tx, account, &mut usage, d, now)?);
    }
    let position = cursor_position(request.cursor, who.scope_epoch);
    let (current, generation) = tx.feed_head()?;
    // A cursor beyond the feed: this store is older than what the device saw acknowledged.
    let reset = position > current;
    let (mut changed, next, more) =
        feed(tx, account, if reset { 0 } else { position }, current, &own)?;
    // A copy of an erased history is dropped by the device, which takes the new one from
    // these entries (decision 0009).
    crate::erasure::list_replaced(tx, &replies, &mut changed)?;
    // The accepted reports of this request whose photos the server lacks (finding 14).
    let missing_photos = crate::photos::missing_for_reports(
        tx,
        account,
        replies
            .iter()
            .filter(|r| r.refused.is_none() && r.doc_id.starts_with("report:"))
            .map(|r| r.doc_id.as_str()),
    )?;
    // A full page keeps its position; a complete listing may move past this request's own
    // documents, which the store places at its commit (decision 0011).
    let next = if more {
        txn.commit()?;
        next
    } else {
        txn.commit_covering(next)?
    };
    let cursor = cursor_at(next, who.scope_epoch)?;
    Ok(SyncResponse {
        cursor,
        docs: replies,
        changed,
        more,
        generation,
        reset,
        missing_photos,
    })
}

/// Receives a client's message into `doc` with a fresh sync state, which the reply then
/// uses. automerge 0.12 panics on some malformed input that its decoder accepts (two found by
/// the fuzz target, `docs/sync-protocol.md`); a panic here refuses the request like a message
/// that does not apply, and the copy it left half-changed is dropped with the transaction.
pub fn receive(doc: &mut AutoCommit, doc_id: &str, message: Message) -> Result<State, ApiError> {
    let mut state = State::new();
    guarded(doc_id, || {
        doc.sync().receive_sync_message(&mut state, message)
    })?
    .map_err(|e| forged(doc_id, e))?;
    Ok(state)
}

/// The reply to a received message: what the client lacks, from `doc`.
pub fn reply(
    doc_id: String,
    doc: &mut AutoCommit,
    state: &mut State,
) -> Result<DocReply, ApiError> {
    let message = guarded(&doc_id, || doc.sync().generate_sync_message(state))?;
    Ok(DocReply {
        doc_id,
        message: message.map(Message::encode),
        refused: None,
        replaced: None,
    })
}

/// Runs `f` on automerge with a client's data, turning a panic into a `400 bad_document`.
fn guarded<T>(doc_id: &str, f: impl FnOnce() -> T) -> Result<T, ApiError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .map_err(|_| forged(doc_id, "automerge could not process it"))
}

/// The reply to a refused document: generated from the stored copy (or an empty document),
/// with the client's heads and wishes but none of its changes. When even that does not
/// process, the refusal goes back without a message.
fn refused(d: DecodedDoc, stored: Option<StoredDoc>, reason: String) -> Result<DocReply, ApiError> {
    let mut doc = stored.map(|s| s.doc).unwrap_or_default();
    let message = Message {
        changes: automerge::sync::ChunkList::empty(),
        ..d.message
    };
    let mut r = match receive(&mut doc, &d.doc_id, message) {
        Ok(mut state) => reply(d.doc_id.clone(), &mut doc, &mut state).unwrap_or(DocReply {
            doc_id: d.doc_id,
            message: None,
            refused: None,
            replaced: None,
        }),
        Err(_) => DocReply {
            doc_id: d.doc_id,
            message: None,
            refused: None,
            replaced: None,
        },
    };
    r.refused = Some(reason);
    Ok(r)
}

fn forged(doc_id: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::bad_document(format!(
        "document '{doc_id}': the sync message does not apply ({e}); nothing was stored"
    ))
}

fn sync_doc(
    tx: &dyn StoreTx,
    account: &Account,
    usage: &mut crate::quota::Usage<'_>,
    d: DecodedDoc,
    now: &str,
) -> Result<DocReply, ApiError> {
    // Out of reach (another's progress, the case of an unreadable report): one answer whether
    // the document exists or not, before it is loaded (`reach`).
    if let Some(reason) = crate::reach::out_of_reach(tx, account, &d.doc)? {
        return Ok(DocReply {
            doc_id: d.doc_id,
            message: None,
            refused: Some(reason.to_string()),
            replaced: None,
        });
    }
    let stored = store::load(tx, &d.doc_id)?;
    if let Some(s) = &stored
        && !policy::may_read(account, &s.kind, &s.owner, s.district.as_deref())
    {
        // Nothing of the document goes back: not its content, not its heads.
        let reason = format!("{} '{}' is not readable by this account", s.kind, d.doc_id);
        return Ok(DocReply {
            doc_id: d.doc_id,
            message: None,
            refused: Some(reason),
            replaced: None,
        });
    }
    if d.message_bytes > MAX_MESSAGE_BYTES {
        let reason = format!(
            "the sync message is {} bytes; at most {MAX_MESSAGE_BYTES} are accepted per document",
            d.message_bytes
        );
        return refused(d, stored, reason);
    }

    let mut doc = stored.as_ref().map(|s| s.doc.clone()).unwrap_or_default();
    let before = doc.get_heads();
    let mut state = match receive(&mut doc, &d.doc_id, d.message.clone()) {
        Ok(state) => state,
        // This document alone: the rest of the request is still applied.
        Err(e) => return refused(d, stored, e.message),
    };
    let new_changes: Vec<Change> = doc.get_changes(&before);
    // A copy from before an erasure rewrote the document (decision 0009): refused, with no
    // message (which would merge the histories on the device), telling it to fetch anew.
    if let Some(replaced) =
        crate::erasure::refuse_old_history(tx, &d.doc_id, &mut doc, &d.message.heads, &new_changes)?
    {
        return Ok(replaced);
    }
    if new_changes.is_empty() {
        return reply(d.doc_id, &mut doc, &mut state);
    }

    let change = Update {
        after: &doc,
        new_changes: &new_changes,
        now,
    };
    let facts = match check(tx, account, &d.doc, stored.as_ref(), change) {
        Ok(facts) => facts,
        Err(reason) => return refused(d, stored, reason),
    };
    let new_bytes: usize = new_changes.iter().map(|c| c.raw_bytes().len()).sum();
    // The saved (compressed) size is what is kept; the inflated size and the operation count
    // of the whole document are what every device pays when it loads it, and many messages,
    // each within its own bounds, could add up past them.
    let saved = doc.save();
    if saved.len() > MAX_DOCUMENT_BYTES {
        let reason = format!(
            "the document would be {} bytes; at most {MAX_DOCUMENT_BYTES} are kept",
            saved.len()
        );
        return refused(d, stored, reason);
    }
    let whole = bounds::MessageBounds {
        max_inflated_bytes: MAX_INFLATED_DOCUMENT_BYTES,
        max_ops: MAX_OPS_PER_DOCUMENT,
    };
    if let Err(e) = bounds::check_chunks(&saved, &whole) {
        return refused(
            d,
            stored,
            format!("the whole document would be too large: {e}"),
        );
    }
    // Per-account quotas, on the documents the account owns (a case is its report author's).
    if facts.owner == account.user
        && !matches!(d.doc, DocRef::Case(_))
        && let Some(reason) = usage.admit(tx, stored.is_none(), new_bytes as u64)?
    {
        return refused(d, stored, reason);
    }
    store::store(
        tx,
        &d.doc_id,
        stored.is_some(),
        &mut doc,
        &saved,
        &new_changes,
        &facts,
        now,
    )?;
    reply(d.doc_id, &mut doc, &mut state)
}

/// What a message did to the server's copy of a document.
struct Update<'a> {
    after: &'a AutoCommit,
    new_changes: &'a [Change],
    /// The server's clock, RFC 3339.
    now: &'a str,
}

/// Checks a document that the message changed, returning what to store beside it, or the
/// reason it is refused.
fn check(
    tx: &dyn StoreTx,
    account: &Account,
    doc_ref: &DocRef,
    stored: Option<&StoredDoc>,
    update: Update<'_>,
) -> Result<DocFacts, String> {
    let before = stored.map(|s| &s.doc);
    let after = update.after;
    match doc_ref {
        DocRef::Report(id) => {
            let facts = policy::check_report(account, id, before, after)?;
            Ok(DocFacts {
                kind: doc_ref.kind(),
                owner: facts.author,
                district: facts.district,
                category: Some(facts.category.code().to_string()),
                photos: Some(facts.photos),
            })
        }
        DocRef::Case(id) => {
            let report = store::load(tx, &id.doc_id()).map_err(|e| e.message)?;
            let Some(report) = report else {
                return Err(format!(
                    "report '{id}' is not on the server yet; sync the report first"
                ));
            };
            let facts = policy::report_facts(&report.doc)?;
            let now = chrono::DateTime::parse_from_rfc3339(update.now)
                .map_err(|e| format!("the server's clock reads '{}': {e}", update.now))?
                .with_timezone(&chrono::Utc);
            let case = policy::CaseUpdate {
                before,
                after,
                new_changes: update.new_changes,
                now,
            };
            policy::check_case(account, id, &facts, case)?;
            Ok(DocFacts {
                kind: doc_ref.kind(),
                owner: facts.author,
                district: facts.district,
                category: Some(facts.category.code().to_string()),
                photos: Some(case_photos(tx, after)?),
            })
        }
        DocRef::Progress(user) => {
            policy::check_progress(account, user, before, after)?;
            Ok(DocFacts {
                kind: doc_ref.kind(),
                owner: user.clone(),
                district: None,
                category: None,
                photos: None,
            })
        }
    }
}

/// The photos a case links, so that its readers may fetch them: those its events name that
/// the event's writer uploaded (the client uploads them before the case). A hash an event
/// names without its writer having uploaded the bytes links nothing (`photos.rs`).
fn case_photos(tx: &dyn StoreTx, doc: &AutoCommit) -> Result<Vec<String>, String> {
    let mut linked = Vec::new();
    for (writer, sha) in waystation_core::reports::case::integrity::event_photos(doc) {
        if !linked.contains(&sha)
            && tx
                .is_uploader(&writer, &sha)
                .map_err(|e| ApiError::from(e).message)?
        {
            linked.push(sha);
        }
    }
    Ok(linked)
}

/// `account` as a reader of the feed and of photos (mirrors `policy::may_read`).
pub(crate) fn reader(account: &Account) -> Reader<'_> {
    Reader {
        user: &account.user,
        admin: account.role == Role::Admin,
        follow_up: account.role.case_role().is_some(),
    }
}

/// Bits of the feed position in a cursor; the account's scope epoch is above them.
///
/// A feed cursor as a device holds it (an opaque `uint` in the protocol) is the feed position
/// in its low 40 bits, and above them the account's scope epoch, which counts changes to its
/// role and areas (modulo 2^20). A cursor issued under another epoch reads the feed from the
/// start: the account may now read documents (a district it was just given) that changed
/// before its position. Devices skip the listed documents whose heads they already hold, so
/// that costs a list, not the documents. Cursors issued before schema v2 carry epoch 0, as
/// does every account until its scope first changes.
pub const CURSOR_POSITION_BITS: u32 = 40;
const POSITION_MASK: u64 = (1 << CURSOR_POSITION_BITS) - 1;
const EPOCH_MASK: u64 = (1 << 20) - 1;

/// The feed position to read after, for an account at scope `epoch`: the cursor's position
/// when it was issued under that epoch, 0 otherwise.
pub fn cursor_position(cursor: u64, epoch: u64) -> u64 {
    if cursor >> CURSOR_POSITION_BITS == epoch & EPOCH_MASK {
        cursor & POSITION_MASK
    } else {
        0
    }
}

/// The cursor for feed `position` at scope `epoch`.
pub fn cursor_at(position: u64, epoch: u64) -> Result<u64, ApiError> {
    if position > POSITION_MASK {
        return Err(ApiError::internal(format!(
            "feed position {position} does not fit in a cursor's {CURSOR_POSITION_BITS} bits"
        )));
    }
    Ok((epoch & EPOCH_MASK) << CURSOR_POSITION_BITS | position)
}

/// The documents `account` may read changed after feed position `cursor` (at most `current`,
/// the store's feed position), other than `own`: at most [`MAX_FEED_PER_RESPONSE`], with the
/// position to send next and whether more are waiting.
///
/// The next position: when nothing more is waiting, the current feed position (every readable
/// document up to it is listed here or is in the request); otherwise the last position up
/// to which every readable document was listed. The caller starts a cursor beyond the
/// current position (a client of a database that was since restored or replaced) from 0.
fn feed(
    tx: &dyn StoreTx,
    account: &Account,
    cursor: u64,
    current: u64,
    own: &HashSet<String>,
) -> Result<(Vec<ChangedDoc>, u64, bool), ApiError> {
    let limit = MAX_FEED_PER_RESPONSE + 1 + own.len();
    let rows = tx.feed(&reader(account), cursor, limit)?;
    let fetched = rows.len();
    let mut changed = Vec::new();
    let mut next = cursor;
    let mut more = false;
    for row in rows {
        let a = &row.access;
        let listed = !own.contains(&row.doc_id)
            && policy::may_read(account, &a.kind, &a.owner, a.district.as_deref());
        if listed {
            if changed.len() == MAX_FEED_PER_RESPONSE {
                more = true;
                break;
            }
            changed.push(ChangedDoc {
                doc_id: row.doc_id,
                kind: row.access.kind,
                owner: row.access.owner,
                heads: Some(row.heads),
                replaced: row.replaced,
            });
        }
        next = row.position;
    }
    if !more && fetched == limit {
        // Every row read was listed or skipped, but the query stopped at its limit.
        more = true;
    }
    if !more {
        next = current;
    }
    Ok((changed, next, more))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_carry_the_scope_epoch() {
        // Epoch 0 (every account before its scope changes, and every cursor from schema v1)
        // is the plain feed position.
        assert_eq!(cursor_at(1234, 0).unwrap(), 1234);
        assert_eq!(cursor_position(1234, 0), 1234);
        let c = cursor_at(99, 3).unwrap();
        assert_eq!(cursor_position(c, 3), 99);
        // Issued under another scope: the feed starts again.
        assert_eq!(cursor_position(c, 4), 0);
        assert_eq!(cursor_position(1234, 1), 0);
        // Epochs wrap at 2^20, and a cursor stays below 2^60 (a device stores it as i64).
        let wrapped = cursor_at(5, (1 << 20) + 2).unwrap();
        assert_eq!(cursor_position(wrapped, 2), 5);
        let top = cursor_at(POSITION_MASK, EPOCH_MASK).unwrap();
        assert!(top < 1 << 60);
        assert_eq!(cursor_position(top, EPOCH_MASK), POSITION_MASK);
        assert!(cursor_at(POSITION_MASK + 1, 0).is_err());
    }
}
