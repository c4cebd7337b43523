//! The `/v1` sync protocol's messages, shared by the client in this crate and the server
//! (`waystation-server`). The wire format is CBOR; `docs/sync-protocol.md` is the reference.
//!
//! Field names on the wire are one or two letters: a sync with nothing to do must fit in well
//! under 200 bytes each way, whatever the number of local documents.

use serde::{Deserialize, Serialize};

/// The protocol version in every path: `/v1/...`.
pub const PROTOCOL_VERSION: u32 = 1;
/// The header every answer of a Waystation server carries, with [`PROTOCOL_VERSION`]: the
/// device counts a photo as stored only on an answer that has it (a captive portal's `200`
/// does not), along with an `ETag` naming the photo's SHA-256.
pub const PROTOCOL_HEADER: &str = "x-waystation-protocol";
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
    /// The server store's generation: a random id that changes when the server's database
    /// is restored from a backup. A device that sees it change offers everything it holds
    /// again. Empty from a server that does not send it.
    #[serde(rename = "g", default, skip_serializing_if = "String::is_empty")]
    pub generation: String,
    /// True when the request's cursor lies beyond the server's feed: the server lost what it
    /// had acknowledged (a database restored from a backup, or replaced). The device offers
    /// everything it holds again.
    #[serde(rename = "reset", default, skip_serializing_if = "is_false")]
    pub reset: bool,
    /// Photos (SHA-256, lowercase hex) that reports of this request name and the server does
    /// not hold, listed only for reports the account wrote. The server accepts a report
    /// before its photos (they may follow); a device that believed a photo uploaded (a
    /// captive portal answered in the server's place) uploads it again and keeps the report
    /// pending until the server stops listing it. Empty from a server that does not send it.
    #[serde(rename = "p", default, skip_serializing_if = "Vec::is_empty")]
    pub missing_photos: Vec<String>,
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
    /// Set when the server rewrote the document with a new history (an erasure, decision
    /// 0009) and the device's changes are from the old one: the hash of the change every copy
    /// on the new history holds. The device drops its copy; the feed of the same response
    /// lists the document, and the device fetches it anew.
    #[serde(
        rename = "x",
        default,
        with = "serde_bytes",
        skip_serializing_if = "Option::is_none"
    )]
    pub replaced: Option<Vec<u8>>,
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
    /// Set when the server rewrote the document with a new history (an erasure, decision
    /// 0009): the hash of the change every copy on the new history holds. A device whose copy
    /// lacks it drops the copy (it is of the old history, which names the erased person) and
    /// fetches the document anew.
    #[serde(
        rename = "x",
        default,
        with = "serde_bytes",
        skip_serializing_if = "Option::is_none"
    )]
    pub replaced: Option<Vec<u8>>,
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

/// Most Bloom-filter probes a peer's message may ask for. Automerge uses 7; anything near
/// `u32::MAX` would make the receiver allocate and loop billions of times.
pub const MAX_BLOOM_PROBES: u64 = 64;

/// Decodes an Automerge sync message from a peer and makes it safe to answer.
///
/// `automerge::sync::Message::decode` accepts Bloom filters that automerge itself cannot
/// use: a filter with entries but no bits divides by zero when the message is answered
/// (found by the `sync_request` fuzz target), and a huge probe count allocates without bound.
/// Such filters are refused here, naming the problem. Hash lists are put in order, as
/// automerge keeps them and asserts in debug builds (also found by the fuzz target).
///
/// Every change entry must be whole Automerge chunks of the types sync carries
/// ([`sync_chunks`]): a bundle chunk, which automerge 0.12 never puts in a sync message,
/// makes it allocate gigabytes while parsing a few hundred bytes (found by the fuzz target),
/// so it is refused before automerge reads it. The chunks' contents are not verified here;
/// the server does that separately (`waystation_server::decode_sync_request`).
pub fn decode_sync_message(bytes: &[u8]) -> Result<automerge::sync::Message, String> {
    let mut message = automerge::sync::Message::decode(bytes)
        .map_err(|e| format!("the sync message does not decode: {e}"))?;
    for (i, entry) in message.changes.iter().enumerate() {
        sync_chunks(entry).map_err(|e| format!("change {i} of the sync message: {e}"))?;
    }
    for hashes in [&mut message.heads, &mut message.need] {
        hashes.sort();
        hashes.dedup();
    }
    for (i, have) in message.have.iter_mut().enumerate() {
        have.last_sync.sort();
        have.last_sync.dedup();
        check_bloom(&have.bloom.to_bytes())
            .map_err(|e| format!("the sync message's Bloom filter {i} is unusable: {e}"))?;
    }
    Ok(message)
}

/// The magic bytes that start every Automerge chunk.
const CHUNK_MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

/// Splits one change entry of a sync message into its Automerge chunks, by their headers
/// (magic, checksum, type, LEB128 body length), refusing an empty entry, a truncated chunk,
/// and any chunk type but a whole document (0), a change (1) and a compressed change (2):
/// what automerge's sync sends. Nothing inside a chunk is read.
pub fn sync_chunks(bytes: &[u8]) -> Result<Vec<&[u8]>, String> {
    if bytes.is_empty() {
        return Err("empty change".into());
    }
    let mut chunks = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        if rest.len() < 10 || rest[..4] != CHUNK_MAGIC {
            return Err("not an Automerge chunk".into());
        }
        match rest[8] {
            0..=2 => {}
            3 => {
                return Err("a bundle chunk; sync carries only documents and changes".into());
            }
            other => return Err(format!("unknown chunk type {other}")),
        }
        let mut header = &rest[9..];
        let body_len = leb128::read::unsigned(&mut header)
            .map_err(|e| format!("chunk length does not decode: {e}"))?;
        let header_len = rest.len() - header.len();
        let total = (header_len as u64)
            .checked_add(body_len)
            .filter(|&t| t <= rest.len() as u64)
            .ok_or("truncated chunk")?;
        let (chunk, tail) = rest.split_at(total as usize);
        chunks.push(chunk);
        rest = tail;
    }
    Ok(chunks)
}

/// Checks an encoded Bloom filter (entries, bits per entry, probes, then the bits; empty
/// when there are no entries) for what automerge needs to probe it safely.
fn check_bloom(encoded: &[u8]) -> Result<(), String> {
    if encoded.is_empty() {
        return Ok(());
    }
    let mut rest = encoded;
    let mut field = |name: &str| {
        leb128::read::unsigned(&mut rest).map_err(|e| format!("its {name} does not decode: {e}"))
    };
    let entries = field("entry count")?;
    let _bits_per_entry = field("bits per entry")?;
    let probes = field("probe count")?;
    if probes == 0 || probes > MAX_BLOOM_PROBES {
        return Err(format!(
            "{probes} probes; between 1 and {MAX_BLOOM_PROBES} are allowed"
        ));
    }
    if rest.is_empty() {
        return Err(format!("{entries} entries but no bits"));
    }
    // automerge computes the bit count as a u32.
    if rest.len() > (u32::MAX / 8) as usize {
        return Err(format!("{} bytes of bits is too many", rest.len()));
    }
    Ok(())
}

/// Whether `s` is a lowercase hex SHA-256 (64 characters), as photo paths need.
pub use crate::util::hash::is_sha256_hex;

#[cfg(test)]
mod tests {
    use super::*;

    /// A real first sync message from a document with one change: its one Bloom filter
    /// summarises that change.
    fn first_message() -> automerge::sync::Message {
        use automerge::sync::SyncDoc;
        let (mut doc, _) = one_change();
        let mut state = automerge::sync::State::new();
        doc.sync().generate_sync_message(&mut state).unwrap()
    }

    fn with_bloom(encoded: &[u8]) -> Vec<u8> {
        let mut message = first_message();
        message.have[0].bloom = automerge::sync::BloomFilter::try_from(encoded).unwrap();
        message.encode()
    }

    #[test]
    fn usable_bloom_filters_pass() {
        let message = first_message();
        assert!(!message.have[0].bloom.to_bytes().is_empty());
        let decoded = decode_sync_message(&message.clone().encode()).unwrap();
        assert_eq!(decoded.have, message.have);
        // No entries encodes as nothing at all.
        decode_sync_message(&with_bloom(&[])).unwrap();
    }

    #[test]
    fn a_bloom_filter_with_entries_and_no_bits_is_refused() {
        // 1 entry, 0 bits per entry, 7 probes: automerge would divide by zero answering it.
        let err = decode_sync_message(&with_bloom(&[1, 0, 7])).unwrap_err();
        assert!(
            err.contains("Bloom filter 0") && err.contains("no bits"),
            "{err}"
        );
    }

    #[test]
    fn a_bloom_filter_with_absurd_probe_counts_is_refused() {
        // 1 entry, 8 bits, u32::MAX probes (LEB128 ff ff ff ff 0f), one byte of bits.
        let err = decode_sync_message(&with_bloom(&[1, 8, 0xff, 0xff, 0xff, 0xff, 0x0f, 0xff]))
            .unwrap_err();
        assert!(err.contains("4294967295 probes"), "{err}");
        let err = decode_sync_message(&with_bloom(&[1, 8, 0, 0xff])).unwrap_err();
        assert!(err.contains("0 probes"), "{err}");
    }

    /// A document with one change, and that change's bytes.
    fn one_change() -> (automerge::AutoCommit, Vec<u8>) {
        use automerge::transaction::Transactable;
        let mut doc = automerge::AutoCommit::new();
        doc.put(automerge::ROOT, "k", "v").unwrap();
        let change = doc.get_last_local_change().unwrap().raw_bytes().to_vec();
        (doc, change)
    }

    #[test]
    fn sync_chunks_split_documents_and_changes_and_refuse_the_rest() {
        let (mut doc, change) = one_change();
        let whole = doc.save();
        let both = [whole.clone(), change.clone()].concat();
        assert_eq!(sync_chunks(&both).unwrap(), vec![&whole[..], &change[..]]);
        let with_type = |t: u8| {
            let mut c = change.clone();
            c[8] = t;
            c
        };
        let bundle = sync_chunks(&with_type(3)).unwrap_err();
        assert!(bundle.contains("bundle"), "{bundle}");
        assert!(sync_chunks(&with_type(9)).unwrap_err().contains("type 9"));
        assert!(sync_chunks(&[]).unwrap_err().contains("empty"));
        assert!(sync_chunks(&change[..change.len() - 1]).is_err());
        assert!(sync_chunks(&[&change[..], b"junk"].concat()).is_err());
        // A length field that never ends, or one past 64 bits.
        let mut huge = change[..9].to_vec();
        huge.extend([0xff; 12]);
        assert!(sync_chunks(&huge).unwrap_err().contains("length"));
        assert!(sync_chunks(&[0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 1, 0xff]).is_err());
    }

    #[test]
    fn a_message_with_a_bundle_chunk_is_refused() {
        let (_, mut entry) = one_change();
        let mut message = first_message();
        message.changes = vec![entry.clone()].into();
        decode_sync_message(&message.clone().encode()).unwrap();
        entry[8] = 3;
        message.changes = vec![entry].into();
        let e = decode_sync_message(&message.encode()).unwrap_err();
        assert!(e.contains("change 0") && e.contains("bundle"), "{e}");
    }

    #[test]
    fn a_message_that_is_not_one_is_refused() {
        let err = decode_sync_message(b"hello").unwrap_err();
        assert!(err.contains("does not decode"), "{err}");
    }

    #[test]
    fn a_no_op_exchange_is_tiny() {
        let req = encode(&SyncRequest {
            cursor: 1_000_000,
            docs: vec![],
        });
        let resp = encode(&SyncResponse {
            cursor: 1_000_000,
            generation: "0123456789abcdef".into(),
            ..Default::default()
        });
        assert!(req.len() < 20, "{} bytes", req.len());
        // The store generation is most of it.
        assert!(resp.len() < 40, "{} bytes", resp.len());
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
                replaced: None,
            }],
            changed: vec![ChangedDoc {
                doc_id: "case:x".into(),
                kind: "case".into(),
                owner: "u".into(),
                heads: Some(vec![7; 32]),
                replaced: Some(vec![9; 32]),
            }],
            more: true,
            generation: "0123456789abcdef".into(),
            reset: true,
            missing_photos: vec!["ab".repeat(32)],
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
