//! The `/v1` sync protocol's messages, shared by the client in this crate and the server
//! (`waystation-server`). The wire format is CBOR; `docs/sync-protocol.md` is the reference.
//!
//! Field names on the wire are one or two letters: a sync with nothing to do must fit in well
//! under 200 bytes each way, whatever the number of local documents.

use serde::{Deserialize, Serialize};

/// The protocol version in every path: `/v1/...`.
pub const PROTOCOL_VERSION: u32 = 1;
/// Content type of every request and response body except photos and packs.
pub const CBOR_CONTENT_TYPE: &str = "application/cbor";
/// Largest sync request or response body either side accepts, in bytes.
pub const MAX_SYNC_BODY_BYTES: usize = 16 * 1024 * 1024;
/// Most documents in one sync request.
pub const MAX_DOCS_PER_REQUEST: usize = 2000;
/// Most changed documents the server lists in one response (more are paged with `more`).
pub const MAX_FEED_PER_RESPONSE: usize = 500;
/// Largest photo either side accepts, in bytes (the device's own per-photo limit).
pub const MAX_PHOTO_BYTES: usize = crate::reports::DEFAULT_MAX_PHOTO_BYTES;
/// Longest document id, in bytes.
pub const MAX_DOC_ID_BYTES: usize = 200;

/// `POST /v1/sync`: Automerge sync messages for many documents, and the feed cursor.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRequest {
    /// The server's feed position the client has fully applied; 0 at first.
    #[serde(rename = "c")]
    pub cursor: u64,
    /// One Automerge sync message per document the client wants to exchange.
    #[serde(rename = "d", default)]
    pub docs: Vec<DocMessage>,
}

/// One document's Automerge sync message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocMessage {
    /// Document id: `report:<uuid>`, `case:<uuid>` or `progress:<user id>`.
    #[serde(rename = "i")]
    pub doc_id: String,
    /// Document kind: `report`, `case` or `training-progress`; must match the id.
    #[serde(rename = "k")]
    pub kind: String,
    /// `automerge::sync::Message::encode()`.
    #[serde(rename = "m", with = "serde_bytes")]
    pub message: Vec<u8>,
}

/// The server's answer to a [`SyncRequest`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncResponse {
    /// The feed position after this response's `changed` list; send it as the next cursor
    /// once those documents are synced.
    #[serde(rename = "c")]
    pub cursor: u64,
    /// One reply per document of the request, in the same order.
    #[serde(rename = "d", default)]
    pub docs: Vec<DocReply>,
    /// Documents the user may read that changed after the request's cursor, other than the
    /// request's own documents. The client syncs them in its next request.
    #[serde(rename = "f", default)]
    pub changed: Vec<ChangedDoc>,
    /// True when the feed has more changed documents than this response lists.
    #[serde(rename = "more", default, skip_serializing_if = "is_false")]
    pub more: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The server's reply for one document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocReply {
    /// Document id, as in the request.
    #[serde(rename = "i")]
    pub doc_id: String,
    /// The server's Automerge sync message back, when it has one.
    #[serde(
        rename = "m",
        default,
        with = "serde_bytes",
        skip_serializing_if = "Option::is_none"
    )]
    pub message: Option<Vec<u8>>,
    /// Why the server refused the document's incoming changes. Nothing of it was stored; the
    /// client keeps its copy and shows this.
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

/// A document the client may read that changed on the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangedDoc {
    /// Document id.
    #[serde(rename = "i")]
    pub doc_id: String,
    /// Document kind.
    #[serde(rename = "k")]
    pub kind: String,
    /// The document's owner (a report's author; for a case, the report's author).
    #[serde(rename = "o")]
    pub owner: String,
    /// The server's heads of the document: sorted 32-byte change hashes, concatenated. A
    /// device whose copy has exactly these heads skips the document (it sent it itself, in
    /// an earlier request of the same sync). Absent from older servers.
    #[serde(
        rename = "h",
        default,
        with = "serde_bytes",
        skip_serializing_if = "Option::is_none"
    )]
    pub heads: Option<Vec<u8>>,
}

/// `GET /v1/me`: who the bearer token belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    /// User id.
    pub user: String,
    /// Role: `rider`, `station`, `supervisor`, `grid` or `admin`.
    pub role: String,
    /// District codes (GB/T 2260) the user follows up; empty for riders.
    pub areas: Vec<String>,
    /// When the token expires (RFC 3339).
    pub token_expires_at: String,
}

/// The body of every 4xx and 5xx response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `malformed_body`, `unauthorized`, `too_large`.
    pub code: String,
    /// What was wrong, for a human.
    pub message: String,
}

/// Encodes a protocol value as CBOR.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail, and our types always serialise.
    ciborium::into_writer(value, &mut out).expect("CBOR encoding into memory");
    out
}

/// Decodes a protocol value from CBOR, naming what is wrong. Trailing bytes are an error.
pub fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let mut reader = bytes;
    let value: T = ciborium::from_reader(&mut reader).map_err(|e| match e {
        ciborium::de::Error::Io(_) => "truncated CBOR body".to_string(),
        ciborium::de::Error::Syntax(at) => format!("malformed CBOR at byte {at}"),
        ciborium::de::Error::Semantic(at, msg) => match at {
            Some(at) => format!("unexpected CBOR content at byte {at}: {msg}"),
            None => format!("unexpected CBOR content: {msg}"),
        },
        ciborium::de::Error::RecursionLimitExceeded => "CBOR nested too deeply".to_string(),
    })?;
    if !reader.is_empty() {
        return Err(format!(
            "{} trailing bytes after the CBOR body",
            reader.len()
        ));
    }
    Ok(value)
}

/// Whether `s` is a lowercase hex SHA-256 (64 characters), as photo paths need.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_no_op_exchange_is_tiny() {
        let req = encode(&SyncRequest {
            cursor: 1_000_000,
            docs: vec![],
        });
        let resp = encode(&SyncResponse {
            cursor: 1_000_000,
            ..Default::default()
        });
        assert!(req.len() < 20, "{} bytes", req.len());
        assert!(resp.len() < 20, "{} bytes", resp.len());
        assert_eq!(decode::<SyncRequest>(&req).unwrap().cursor, 1_000_000);
    }

    #[test]
    fn messages_round_trip_with_byte_strings() {
        let resp = SyncResponse {
            cursor: 7,
            docs: vec![DocReply {
                doc_id: "report:x".into(),
                message: Some(vec![0x42, 1, 2]),
                refused: Some("no".into()),
            }],
            changed: vec![ChangedDoc {
                doc_id: "case:x".into(),
                kind: "case".into(),
                owner: "u".into(),
                heads: Some(vec![7; 32]),
            }],
            more: true,
        };
        let bytes = encode(&resp);
        assert_eq!(decode::<SyncResponse>(&bytes).unwrap(), resp);
    }

    #[test]
    fn bad_bodies_are_named() {
        let good = encode(&SyncRequest::default());
        assert!(
            decode::<SyncRequest>(&good[..good.len() - 1])
                .unwrap_err()
                .contains("truncated")
        );
        assert!(decode::<SyncRequest>(&[0xff, 0x00]).is_err());
        let mut extra = good.clone();
        extra.push(0);
        assert!(
            decode::<SyncRequest>(&extra)
                .unwrap_err()
                .contains("trailing")
        );
        // A map without the cursor.
        assert!(
            decode::<SyncRequest>(&encode(&ErrorBody {
                code: "x".into(),
                message: "y".into()
            }))
            .is_err()
        );
    }

    #[test]
    fn sha256_paths() {
        assert!(is_sha256_hex(&"a".repeat(64)));
        assert!(!is_sha256_hex(&"A".repeat(64)));
        assert!(!is_sha256_hex("../../etc/passwd"));
        assert!(!is_sha256_hex(&"a".repeat(63)));
    }
}
