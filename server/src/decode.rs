//! Decoding and checking a `POST /v1/sync` body, short of the database: the CBOR request,
//! every document id and kind, and every Automerge sync message down to each change it
//! carries.
//!
//! Automerge's own `receive_sync_message` is lenient with damaged data: a change chunk whose
//! checksum does not match, or that does not parse, is skipped with a log line, and the rest
//! is applied. A server that relied on it would accept a forged or truncated message as "no
//! new changes" and answer 200. So every chunk is parsed and verified here first (checksum,
//! columns, and for a whole-document chunk its heads), and any failure refuses the whole
//! request with `400 bad_document` before anything is stored.
//!
//! This is the part of the server the `sync_request` fuzz target drives: it takes arbitrary
//! bytes and must answer `Ok` or `Err(ApiError)`, never panic.

use automerge::sync::Message;
use automerge::{Automerge, LoadOptions, OnPartialLoad, VerificationMode};
use std::collections::HashSet;
use waystation_core::sync::bounds::{self, MessageBounds};
use waystation_core::sync::policy::DocRef;
use waystation_core::sync::protocol::{self, MAX_DOCS_PER_REQUEST, SyncRequest};

use crate::error::ApiError;

/// A sync request whose every part decoded and checked.
#[derive(Clone, Debug)]
pub struct DecodedRequest {
    /// The client's feed cursor.
    pub cursor: u64,
    /// The documents, in request order.
    pub docs: Vec<DecodedDoc>,
}

impl DecodedRequest {
    /// Whether any message carries changes (so the request may write and takes the write
    /// lock). A request that only reads never does.
    pub fn carries_changes(&self) -> bool {
        self.docs.iter().any(|d| !d.message.changes.is_empty())
    }
}

/// One document of a sync request.
#[derive(Clone, Debug)]
pub struct DecodedDoc {
    /// The document id, canonical.
    pub doc_id: String,
    /// What the id names.
    pub doc: DocRef,
    /// The decoded Automerge sync message.
    pub message: Message,
    /// Size of the encoded message in bytes.
    pub message_bytes: usize,
}

/// Decodes and checks a sync request body. Errors are `400 malformed_body` (not a
/// `SyncRequest` in CBOR) or `400 bad_document` (a bad id or kind, a repeated document, too
/// many documents, a sync message or change that does not decode).
pub fn decode_sync_request(body: &[u8]) -> Result<DecodedRequest, ApiError> {
    let request: SyncRequest = protocol::decode(body).map_err(ApiError::malformed)?;
    if request.docs.len() > MAX_DOCS_PER_REQUEST {
        return Err(ApiError::bad_document(format!(
            "{} documents in one request; at most {MAX_DOCS_PER_REQUEST} are allowed",
            request.docs.len()
        )));
    }
    let mut seen = HashSet::with_capacity(request.docs.len());
    let mut docs = Vec::with_capacity(request.docs.len());
    for d in request.docs {
        let doc = DocRef::parse(&d.doc_id, &d.kind).map_err(ApiError::bad_document)?;
        let shown = shown(&d.doc_id);
        // One spelling per document, so no two ids name the same document.
        if doc.doc_id() != d.doc_id {
            return Err(ApiError::bad_document(format!(
                "document id '{shown}' is not in canonical form (expected '{}')",
                doc.doc_id()
            )));
        }
        if !seen.insert(d.doc_id.clone()) {
            return Err(ApiError::bad_document(format!(
                "document '{shown}' appears twice in the request"
            )));
        }
        let message = decode_message(&d.message).map_err(|e| {
            ApiError::bad_document(format!("document '{shown}': {e}; nothing was stored"))
        })?;
        docs.push(DecodedDoc {
            doc_id: d.doc_id,
            doc,
            message,
            message_bytes: d.message.len(),
        });
    }
    Ok(DecodedRequest {
        cursor: request.cursor,
        docs,
    })
}

fn shown(id: &str) -> String {
    id.chars().take(80).collect()
}

/// Decodes one Automerge sync message and verifies every change chunk in it.
///
/// Before automerge parses any chunk, the whole message is measured
/// ([`waystation_core::sync::bounds`]): compressed changes and deflated columns are inflated
/// with a hard cap, and operations are counted from the columns' run lengths. A message past
/// the limits, or whose framing claims more than it holds, is refused here, so automerge never
/// inflates or expands more than the limits allow (its own inflation has no cap, and an
/// out-of-memory abort would take the whole server down).
pub fn decode_message(bytes: &[u8]) -> Result<Message, String> {
    // Also splits each change entry into chunks of the types sync carries (no bundles).
    let message = protocol::decode_sync_message(bytes)?;
    bounds::check_message(&message, &MessageBounds::default())
        .map_err(|e| format!("the sync message is refused before it is read: {e}"))?;
    for (i, entry) in message.changes.iter().enumerate() {
        protocol::sync_chunks(entry)?
            .into_iter()
            .try_for_each(check_chunk)
            .map_err(|e| format!("change {i} of the sync message is corrupt or forged: {e}"))?;
    }
    Ok(message)
}

/// Parses and verifies one chunk: checksum, columns and operations; a document chunk is
/// inflated and its heads checked. A change whose dependencies are not here is fine (it is
/// checked against the document when it is received).
fn check_chunk(chunk: &[u8]) -> Result<(), String> {
    // automerge 0.12 trusts some columns once their framing parses, and unwraps while decoding
    // them: a change-metadata column cut short inside a whole-document chunk panics in hexane's
    // decoder (found by the fuzz target). A panic while loading a client's bytes is a refusal
    // like any other load error, never a failed request.
    std::panic::catch_unwind(|| {
        Automerge::load_with_options(
            chunk,
            LoadOptions::new()
                .on_partial_load(OnPartialLoad::Ignore)
                .verification_mode(VerificationMode::Check),
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
    })
    .unwrap_or_else(|_| Err("it is malformed (automerge could not load it)".to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::sync::{State, SyncDoc};
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ROOT};
    use waystation_core::sync::protocol::{DocMessage, encode};

    const REPORT: &str = "report:0190a8a4-7c1e-7000-8000-000000000001";

    fn message_with_changes() -> Vec<u8> {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "schema", "x").unwrap();
        doc.put(ROOT, "more", "some longer text to corrupt")
            .unwrap();
        let mut state = State::new();
        // The first message carries no changes until the peer says what it has; a peer
        // that says it has nothing gets everything.
        let mut peer = AutoCommit::new();
        let mut peer_state = State::new();
        let hello = peer.sync().generate_sync_message(&mut peer_state).unwrap();
        doc.sync().receive_sync_message(&mut state, hello).unwrap();
        let m = doc.sync().generate_sync_message(&mut state).unwrap();
        assert!(!m.changes.is_empty());
        m.encode()
    }

    fn request(doc_id: &str, kind: &str, message: Vec<u8>) -> Vec<u8> {
        encode(&SyncRequest {
            cursor: 3,
            docs: vec![DocMessage {
                doc_id: doc_id.into(),
                kind: kind.into(),
                message,
            }],
        })
    }

    #[test]
    fn a_good_request_decodes() {
        let r = decode_sync_request(&request(REPORT, "report", message_with_changes())).unwrap();
        assert_eq!(r.cursor, 3);
        assert_eq!(r.docs[0].doc_id, REPORT);
        assert!(r.carries_changes());
    }

    #[test]
    fn corrupt_changes_are_refused() {
        let good = message_with_changes();
        let mut refused = 0;
        // Flip each byte past the message header in turn: every flip either still decodes
        // to the very same message (a byte Automerge does not read) or is refused.
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x55;
            match decode_sync_request(&request(REPORT, "report", bad.clone())) {
                Err(e) => {
                    assert_eq!(e.code, "bad_document", "{e}");
                    refused += 1;
                }
                Ok(r) => {
                    // Heads, need or bloom bytes changed: still well-formed, no change data.
                    let orig = Message::decode(&good).unwrap();
                    assert_eq!(r.docs[0].message.changes, orig.changes, "byte {i}");
                }
            }
        }
        assert!(refused > good.len() / 2, "{refused} of {}", good.len());
    }

    #[test]
    fn bad_ids_kinds_and_repeats_are_refused() {
        let m = message_with_changes();
        for (id, kind) in [
            ("report:../../x", "report"),
            ("shadow:1", "shadow"),
            (REPORT, "case"),
            ("progress:../x", "training-progress"),
            ("report:0190A8A4-7C1E-7000-8000-000000000001", "report"),
        ] {
            let e = decode_sync_request(&request(id, kind, m.clone())).unwrap_err();
            assert_eq!(e.code, "bad_document", "{id}: {e}");
        }
        let twice = encode(&SyncRequest {
            cursor: 0,
            docs: vec![
                DocMessage {
                    doc_id: REPORT.into(),
                    kind: "report".into(),
                    message: m.clone(),
                };
                2
            ],
        });
        assert!(
            decode_sync_request(&twice)
                .unwrap_err()
                .message
                .contains("twice")
        );
        assert_eq!(
            decode_sync_request(&[0xa1]).unwrap_err().code,
            "malformed_body"
        );
        assert_eq!(
            decode_sync_request(&request(REPORT, "report", vec![0x42]))
                .unwrap_err()
                .code,
            "bad_document"
        );
    }

    #[test]
    fn hash_lists_are_put_in_order() {
        // A v1 message by hand: two heads in descending order, no need, no have, no changes.
        let mut bytes = vec![0x42, 2];
        bytes.extend([0xbb; 32]);
        bytes.extend([0xaa; 32]);
        bytes.extend([0, 0, 0]);
        let m = decode_message(&bytes).unwrap();
        assert!(m.heads[0] < m.heads[1]);
        // Automerge asserts sorted lists when encoding (in debug builds, as here).
        let _ = m.encode();
    }
}
