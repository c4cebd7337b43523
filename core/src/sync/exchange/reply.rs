//! One document's reply from the server: applying it durably (after the bounds and the
//! device's own checks), how its exchange stands, and the state an exchange starts from.

use automerge::sync::{BloomFilter, Capability, Have, State, SyncDoc};
use automerge::{AutoCommit, ChangeHash};
use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::super::ledger::{self, LocalDoc};
use super::super::reply_check;
use crate::error::{Error, Result};
use crate::reports::document::REPORT_KIND;
use crate::store::documents::{self, DocumentKey};
use crate::training::progress::PROGRESS_KIND;

/// The sync state to start a document's exchange from: we assume the server holds exactly the
/// heads we last shared, so the first message already carries every change since. The
/// server's console builds its own edits' messages with it too, so they are a device's.
pub fn starting_state(shared: Vec<ChangeHash>) -> State {
    let mut state = State::new();
    state.shared_heads = shared.clone();
    state.their_heads = Some(shared.clone());
    state.their_need = Some(Vec::new());
    state.their_have = Some(vec![Have {
        last_sync: shared,
        bloom: BloomFilter::from_hashes(std::iter::empty::<ChangeHash>()),
    }]);
    state.their_capabilities = Some(vec![Capability::MessageV2, Capability::SyncReset]);
    state
}

/// The sync state to ask the server for a document this device holds nothing of (one the
/// feed listed): nothing assumed about the server's copy, so the first message carries no
/// changes. [`starting_state`] with no shared heads would send this device's copy whole,
/// which for a document it does not hold is an empty document chunk: no changes, but a
/// request with a chunk takes the server's write lock (SQLite's single writer) to receive
/// it. A supervisor's pull of its district's new reports did that for every report.
pub(super) fn fetching_state() -> State {
    let mut state = State::new();
    state.their_capabilities = Some(vec![Capability::MessageV2, Capability::SyncReset]);
    state
}

/// What applying the server's reply did to one document.
pub(super) enum Applied {
    /// Nothing new.
    Nothing,
    /// New changes, stored.
    New,
    /// New changes the device refuses (the reason): nothing of them was stored.
    Refused(String),
}

/// Applies the server's reply message for one document, durably, in the caller's transaction:
/// new changes are appended (a document the device did not have is created, clean), the report
/// index follows report documents, and the shared heads are recorded.
///
/// A report's new changes are checked first ([`reply_check::check_report_update`]): the server
/// may deliver a report, or its author's withdrawal (made on another phone of the same
/// account, or a follow-up role's copy), but never edit one. Changes that break this are
/// [`Applied::Refused`], for this document alone. So are a training progress's new changes
/// that delete or rewrite a recorded result, or break its layout
/// ([`reply_check::check_progress_update`], the server's own rule).
pub(super) fn apply_reply(
    tx: &Connection,
    doc: &LocalDoc,
    state: &mut State,
    message: automerge::sync::Message,
    now: DateTime<Utc>,
) -> Result<Applied> {
    // Measured before automerge reads it (sync::bounds): a hostile server's compressed change
    // or deflated column would otherwise inflate without limit and kill the app.
    crate::util::bounds::check_message(&message, &crate::util::bounds::MessageBounds::default())
        .map_err(|e| Error::Server {
            status: 200,
            message: format!("the server's changes to '{}' are refused: {e}", doc.doc_id),
        })?;
    let stored = documents::load(tx, &doc.doc_id)?;
    let existed = stored.is_some();
    let mut am = stored.unwrap_or_default();
    let before = am.get_heads();
    // automerge 0.12 panics on some malformed input that its decoder accepts (found by the
    // server's fuzz target, `docs/sync-protocol.md`). A server's reply is data from the
    // network, so a panic is an error like a reply that does not apply; the transaction rolls
    // back and the document stays as it was.
    let received = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        am.sync().receive_sync_message(state, message)
    }));
    let failed = |e: String| Error::Server {
        status: 200,
        message: format!("the server's changes to '{}' do not apply: {e}", doc.doc_id),
    };
    received
        .map_err(|_| failed("automerge could not process them".into()))?
        .map_err(|e| failed(e.to_string()))?;
    let new_changes = am.get_changes(&before);
    let got_new = !new_changes.is_empty();
    if got_new && (doc.kind == REPORT_KIND || doc.kind == PROGRESS_KIND) {
        // Loaded again only in this rare case: `am` has the server's changes in it now.
        let stored = if existed {
            documents::load(tx, &doc.doc_id)?
        } else {
            None
        };
        let checked = if doc.kind == REPORT_KIND {
            reply_check::check_report_update(&doc.doc_id, &doc.owner, stored.as_ref(), &am)
        } else {
            reply_check::check_progress_update(&doc.doc_id, stored.as_ref(), &am)
        };
        if let Err(why) = checked {
            return Ok(Applied::Refused(why));
        }
    }
    if got_new {
        if !existed {
            let key = DocumentKey {
                doc_id: &doc.doc_id,
                kind: &doc.kind,
                owner: &doc.owner,
            };
            documents::insert(tx, &key, &mut AutoCommit::new(), now, false)?;
        }
        documents::append_changes(tx, &doc.doc_id, &mut am, &new_changes, now, false)?;
        if doc.kind == REPORT_KIND {
            crate::reports::index::write_row_from_doc(tx, &am)?;
        }
    }
    if existed || got_new {
        ledger::record_shared_heads(tx, &doc.doc_id, &state.shared_heads)?;
    }
    Ok(if got_new {
        Applied::New
    } else {
        Applied::Nothing
    })
}

/// How the exchange of one document stands after a reply: the heads both sides hold once
/// they agree, `None` while they do not.
pub(super) fn converged(
    conn: &Connection,
    doc_id: &str,
    state: &State,
) -> Result<Option<Vec<ChangeHash>>> {
    let Some(info) = documents::info(conn, doc_id)? else {
        // The server has nothing either (an empty document): nothing to do.
        return Ok(state
            .their_heads
            .as_ref()
            .filter(|h| h.is_empty())
            .map(|_| Vec::new()));
    };
    let mut theirs = state.their_heads.clone().unwrap_or_default();
    theirs.sort();
    Ok((theirs == info.heads).then_some(info.heads))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_starting_state_sends_everything_since_the_shared_heads() {
        use automerge::transaction::Transactable;
        let mut doc = AutoCommit::new();
        doc.put(automerge::ROOT, "a", 1).unwrap();
        doc.commit();
        let shared = doc.get_heads();
        doc.put(automerge::ROOT, "b", 2).unwrap();
        doc.commit();
        let mut server = doc.fork_at(&shared).unwrap();
        let mut state = starting_state(shared);
        let msg = doc.sync().generate_sync_message(&mut state).unwrap();
        assert_eq!(
            msg.changes.len(),
            1,
            "the change since the shared heads goes at once"
        );
        let mut server_state = State::new();
        server
            .sync()
            .receive_sync_message(&mut server_state, msg)
            .unwrap();
        assert_eq!(server.get_heads(), doc.get_heads());
    }

    #[test]
    fn asking_for_a_document_not_held_sends_no_changes_and_gets_it_whole() {
        use automerge::transaction::Transactable;
        let mut server = AutoCommit::new();
        server.put(automerge::ROOT, "a", 1).unwrap();
        server.commit();
        // What a starting state with nothing shared sends from an empty copy: one (empty)
        // document chunk, which makes the request one that carries changes.
        let mut empty = AutoCommit::new();
        let msg = empty
            .sync()
            .generate_sync_message(&mut starting_state(Vec::new()))
            .unwrap();
        assert_eq!(msg.changes.len(), 1);
        // The fetching state sends none, and the server's answer brings the document.
        let mut state = fetching_state();
        let msg = empty.sync().generate_sync_message(&mut state).unwrap();
        assert!(msg.changes.is_empty());
        let mut server_state = State::new();
        server
            .sync()
            .receive_sync_message(&mut server_state, msg)
            .unwrap();
        let answer = server
            .sync()
            .generate_sync_message(&mut server_state)
            .unwrap();
        empty
            .sync()
            .receive_sync_message(&mut state, answer)
            .unwrap();
        assert_eq!(empty.get_heads(), server.get_heads());
        assert_eq!(state.their_heads, Some(server.get_heads()));
    }
}
