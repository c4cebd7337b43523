//! The device reads a sync response as the server reads a request: as data an attacker may have
//! written. A compromised server, or anything that answers in its place, gets a `Server` error
//! and changes nothing stored when a field is out of bounds ([`check_response`]) or when a feed
//! entry names a document unlike the one the device holds.
//!
//! A change to one report or training progress that breaks the rules the server itself
//! enforces ([`check_report_update`], [`check_progress_update`]) is refused for that document alone: it is not applied, the
//! refusal is recorded and shown, and the rest of the response is applied. Failing the whole
//! sync instead would let one bad document stop every sync of the device, forever (the
//! poisoned document of issue 11, finding 4, seen from the device).
//!
//! A report has one writer, its author, and after submission only withdrawal may change it
//! (`policy::check_report`). The author may sync from several phones, so a withdrawal made on
//! one reaches the others through the server: the device applies a server change to a report,
//! its own included, exactly when the server's policy would accept it from the author. Report
//! changes carry no account-bound actor (unlike case events, `reports::case::integrity`), and an
//! actor tag is derived from a public user id anyway, so nothing in the protocol lets a device
//! tell the author's withdrawal from one a compromised server forged; what it can refuse (an
//! edit, a withdrawal changing anything else, another author) it refuses.

use automerge::AutoCommit;

use super::http::shown;
use super::policy::{self, Account, DocRef, Role};
use super::protocol::{MAX_DOCS_PER_REQUEST, MAX_FEED_PER_RESPONSE, SyncResponse, is_sha256_hex};
use crate::error::{Error, Result};
use crate::reports::DEFAULT_MAX_PHOTOS;
use crate::reports::document::read_report_document;

/// Cursors stay below 2⁶⁰ (`docs/sync-protocol.md`); the device stores them as SQLite integers.
pub const MAX_CURSOR: u64 = 1 << 60;
/// Longest store generation the device records.
pub const MAX_GENERATION_BYTES: usize = 64;
/// Longest refusal reason the device keeps, in characters.
pub const MAX_REFUSAL_CHARS: usize = 1000;
/// Most heads a feed entry may list (a document's heads are its concurrent branches).
pub const MAX_FEED_HEADS: usize = 256;

fn bad(what: impl std::fmt::Display) -> Error {
    Error::Server {
        status: 200,
        message: format!("the sync response is refused, nothing of it was stored: {what}"),
    }
}

/// Checks a sync response to a request that carried the documents `sent`, in order: one reply
/// per document, with its id; a cursor, generation, feed and missing-photo list within the
/// protocol's bounds. Refusal reasons are cut to [`MAX_REFUSAL_CHARS`] and their control
/// characters replaced, since they are stored and shown.
pub(crate) fn check_response(response: &mut SyncResponse, sent: &[&str]) -> Result<()> {
    if response.docs.len() != sent.len() {
        return Err(bad(format_args!(
            "it answers {} documents for {} sent",
            response.docs.len(),
            sent.len()
        )));
    }
    for (reply, id) in response.docs.iter_mut().zip(sent) {
        if reply.doc_id != *id {
            return Err(bad(format_args!(
                "it answers '{}' in place of '{id}'",
                shown(&reply.doc_id, 80)
            )));
        }
        if let Some(reason) = &mut reply.refused {
            *reason = shown(reason, MAX_REFUSAL_CHARS);
        }
        check_replaced(&reply.doc_id, reply.replaced.as_deref())?;
    }
    if response.cursor >= MAX_CURSOR {
        return Err(bad(format_args!(
            "its cursor {} is not below 2^60",
            response.cursor
        )));
    }
    let g = &response.generation;
    if g.len() > MAX_GENERATION_BYTES || !g.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad(format_args!(
            "its store generation is not at most {MAX_GENERATION_BYTES} printable ASCII characters"
        )));
    }
    if response.changed.len() > MAX_FEED_PER_RESPONSE {
        return Err(bad(format_args!(
            "its feed lists {} documents; at most {MAX_FEED_PER_RESPONSE} come in one response",
            response.changed.len()
        )));
    }
    for entry in &response.changed {
        let doc = DocRef::parse(&entry.doc_id, &entry.kind)
            .map_err(|e| bad(format_args!("a feed entry: {e}")))?;
        policy::check_user_id(&entry.owner).map_err(|_| {
            bad(format_args!(
                "the feed entry '{}' names no valid owner",
                entry.doc_id
            ))
        })?;
        if let DocRef::Progress(user) = &doc
            && *user != entry.owner
        {
            return Err(bad(format_args!(
                "the feed entry '{}' gives a training progress another owner than its id",
                entry.doc_id
            )));
        }
        if let Some(heads) = &entry.heads
            && (!heads.len().is_multiple_of(32) || heads.len() > 32 * MAX_FEED_HEADS)
        {
            return Err(bad(format_args!(
                "the feed entry '{}' has heads of {} bytes, not up to {MAX_FEED_HEADS} hashes of 32",
                entry.doc_id,
                heads.len()
            )));
        }
        check_replaced(&entry.doc_id, entry.replaced.as_deref())?;
        // An erasure rewrites reports and cases (decision 0009); a training progress is deleted
        // with its account, never rewritten. A new history for one would only make the device
        // drop it (`sync::erasure` bounds what else `x` may drop).
        if entry.replaced.is_some() && matches!(doc, DocRef::Progress(_)) {
            return Err(bad(format_args!(
                "the feed entry '{}' claims a new history for a training progress",
                entry.doc_id
            )));
        }
    }
    let most_photos = MAX_DOCS_PER_REQUEST * DEFAULT_MAX_PHOTOS;
    if response.missing_photos.len() > most_photos {
        return Err(bad(format_args!(
            "it lists {} missing photos; a request's reports name at most {most_photos}",
            response.missing_photos.len()
        )));
    }
    if let Some(sha) = response.missing_photos.iter().find(|s| !is_sha256_hex(s)) {
        return Err(bad(format_args!(
            "a missing photo '{}' is not a SHA-256 in lowercase hex",
            shown(sha, 80)
        )));
    }
    Ok(())
}

/// Checks an erasure's new-history base (`x`, decision 0009): a change hash is 32 bytes.
fn check_replaced(doc_id: &str, replaced: Option<&[u8]>) -> Result<()> {
    match replaced {
        Some(x) if x.len() != 32 => Err(bad(format_args!(
            "'{}' is said to have a new history whose base is {} bytes, not a 32-byte change hash",
            shown(doc_id, 80),
            x.len()
        ))),
        _ => Ok(()),
    }
}

/// Checks what the server's reply did to a report before it is stored: the result must be a
/// submitted report with this id, written by `owner` (what the device holds, or what the feed
/// said), within the content limits. A report the device held already may change only by its
/// author's withdrawal, whoever wrote it (see the module docs). The error is the reason the
/// document is refused, for the caller to record; it refuses this document alone.
pub(crate) fn check_report_update(
    doc_id: &str,
    owner: &str,
    before: Option<&AutoCommit>,
    after: &AutoCommit,
) -> std::result::Result<(), String> {
    let refused = |why: String| {
        format!("the server's changes to '{doc_id}' are refused, nothing of them was stored: {why}")
    };
    let id = match DocRef::parse(doc_id, crate::reports::document::REPORT_KIND) {
        Ok(DocRef::Report(id)) => id,
        _ => return Err(refused("not a report id".into())),
    };
    let author = read_report_document(after)
        .map_err(|e| refused(format!("the result is not a report ({e})")))?
        .author;
    if author != owner {
        return Err(refused(
            "the result names another author than the report's owner".into(),
        ));
    }
    // The server's own rule for a write by the author (`policy::check_report`): submitted,
    // content within limits, and after submission nothing but a withdrawal.
    let writer = Account {
        user: author,
        role: Role::Rider,
        areas: Vec::new(),
    };
    policy::check_report(&writer, &id, before, after).map_err(refused)?;
    Ok(())
}

/// Checks what the server's reply did to a training progress before it is stored, with the
/// server's own rule for a write by the owner (`policy::check_progress`, so
/// `training::progress_check`): the result is this user's progress, well-formed, and holds
/// every completion and quiz result the device held (`before`), unchanged. A server that
/// deletes or rewrites a rider's results gets this document refused alone, as a report edit
/// is ([`check_report_update`]); the error is the reason, for the caller to record.
pub(crate) fn check_progress_update(
    doc_id: &str,
    before: Option<&AutoCommit>,
    after: &AutoCommit,
) -> std::result::Result<(), String> {
    let refused = |why: String| {
        format!("the server's changes to '{doc_id}' are refused, nothing of them was stored: {why}")
    };
    let user = match DocRef::parse(doc_id, crate::training::progress::PROGRESS_KIND) {
        Ok(DocRef::Progress(user)) => user,
        _ => return Err(refused("not a training progress id".into())),
    };
    let owner = Account {
        user: user.clone(),
        role: Role::Rider,
        areas: Vec::new(),
    };
    policy::check_progress(&owner, &user, before, after).map_err(refused)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::protocol::{ChangedDoc, DocReply};

    const REPORT: &str = "report:0f8e7c1a-3b2d-4c5e-9f60-718293a4b5c6";

    fn response() -> SyncResponse {
        SyncResponse {
            cursor: 7,
            docs: vec![DocReply {
                doc_id: REPORT.into(),
                message: None,
                refused: None,
                replaced: None,
            }],
            changed: vec![ChangedDoc {
                doc_id: "progress:rider-1".into(),
                kind: "training-progress".into(),
                owner: "rider-1".into(),
                heads: Some(vec![1; 64]),
                replaced: None,
            }],
            generation: "0123456789abcdef".into(),
            missing_photos: vec!["ab".repeat(32)],
            ..Default::default()
        }
    }

    fn refused(edit: impl FnOnce(&mut SyncResponse)) -> String {
        let mut r = response();
        edit(&mut r);
        check_response(&mut r, &[REPORT]).unwrap_err().to_string()
    }

    #[test]
    fn a_well_formed_response_passes_and_reasons_are_made_safe() {
        let mut r = response();
        r.docs[0].refused = Some(format!("bad\u{1b}[2J{}", "x".repeat(5000)));
        check_response(&mut r, &[REPORT]).unwrap();
        let reason = r.docs[0].refused.as_deref().unwrap();
        assert_eq!(reason.chars().count(), MAX_REFUSAL_CHARS);
        assert!(!reason.chars().any(char::is_control));
    }

    #[test]
    fn every_kind_of_bad_field_is_named() {
        assert!(refused(|r| r.docs.clear()).contains("0 documents for 1"));
        assert!(refused(|r| r.docs[0].doc_id = "report:other".into()).contains("in place of"));
        assert!(refused(|r| r.cursor = u64::MAX).contains("cursor"));
        assert!(refused(|r| r.generation = "a\nb".into()).contains("generation"));
        assert!(refused(|r| r.generation = "g".repeat(65)).contains("generation"));
        let many = r_changed(MAX_FEED_PER_RESPONSE + 1);
        assert!(refused(|r| r.changed = many).contains("feed lists"));
        for (id, kind, owner) in [
            ("../../etc/passwd", "report", "rider-1"),
            ("report:not-a-uuid", "report", "rider-1"),
            (REPORT, "case", "rider-1"),
            ("progress:rider-1", "training-progress", "../x"),
            ("progress:rider-1", "training-progress", "rider-2"),
        ] {
            let err = refused(|r| {
                r.changed[0].doc_id = id.into();
                r.changed[0].kind = kind.into();
                r.changed[0].owner = owner.into();
            });
            assert!(err.contains("feed entry"), "{id} {kind} {owner}: {err}");
        }
        assert!(refused(|r| r.changed[0].heads = Some(vec![0; 33])).contains("heads"));
        assert!(refused(|r| r.changed[0].replaced = Some(vec![1; 31])).contains("32-byte"));
        assert!(refused(|r| r.docs[0].replaced = Some(Vec::new())).contains("32-byte"));
        assert!(
            refused(|r| r.changed[0].replaced = Some(vec![1; 32])).contains("training progress")
        );
        assert!(refused(|r| r.missing_photos = vec!["../x".into()]).contains("missing photo"));
        let many = vec!["ab".repeat(32); MAX_DOCS_PER_REQUEST * DEFAULT_MAX_PHOTOS + 1];
        assert!(refused(|r| r.missing_photos = many).contains("missing photos"));
    }

    #[test]
    fn a_progress_change_must_pass_the_servers_progress_rule() {
        use crate::training::progress::{complete, genesis};
        let at = |s: i64| chrono::DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap();
        let mut before = genesis("rider-1").unwrap();
        complete(&mut before, "food-safety/l1", at(10)).unwrap();
        let mut grown = before.fork();
        complete(&mut grown, "food-safety/l2", at(20)).unwrap();
        assert_eq!(
            check_progress_update("progress:rider-1", Some(&before), &grown),
            Ok(())
        );
        assert_eq!(
            check_progress_update("progress:rider-1", None, &grown),
            Ok(())
        );
        let mut moved = before.fork();
        let map = match automerge::ReadDoc::get(&moved, automerge::ROOT, "completed") {
            Ok(Some((_, id))) => id,
            other => panic!("{other:?}"),
        };
        automerge::transaction::Transactable::delete(&mut moved, &map, "food-safety/l1").unwrap();
        let err = check_progress_update("progress:rider-1", Some(&before), &moved).unwrap_err();
        assert!(err.contains("removes a completed lesson"), "{err}");
        assert!(err.contains("nothing of them was stored"), "{err}");
        // Another user's progress under this id, and an id that is no progress.
        let other = genesis("rider-2").unwrap();
        let err = check_progress_update("progress:rider-1", None, &other).unwrap_err();
        assert!(err.contains("not the training progress of"), "{err}");
        let err = check_progress_update(REPORT, None, &grown).unwrap_err();
        assert!(err.contains("not a training progress id"), "{err}");
    }

    fn r_changed(n: usize) -> Vec<ChangedDoc> {
        vec![response().changed[0].clone(); n]
    }
}
