//! Writes the seed inputs of the `sync_request` fuzz target (`fuzz/seeds/sync_request/`):
//! well-formed sync requests the fuzzer mutates from, so it reaches the Automerge decoding in
//! seconds instead of first having to discover CBOR.
//!
//! `cargo run -p waystation-server --example fuzz_seeds -- fuzz/seeds/sync_request`

use automerge::sync::{State, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{AutoCommit, ROOT};
use waystation_core::sync::protocol::{DocMessage, SyncRequest, encode};

/// A message carrying all of `doc` to a peer that has `peer`.
fn message(doc: &mut AutoCommit, peer: &mut AutoCommit) -> Vec<u8> {
    let mut peer_state = State::new();
    let mut state = State::new();
    let hello = peer
        .sync()
        .generate_sync_message(&mut peer_state)
        .expect("a first message");
    doc.sync()
        .receive_sync_message(&mut state, hello)
        .expect("hello applies");
    doc.sync()
        .generate_sync_message(&mut state)
        .expect("a reply")
        .encode()
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "fuzz/seeds/sync_request".into());
    std::fs::create_dir_all(&dir).expect("seed directory");

    let mut progress = AutoCommit::new();
    progress
        .put(ROOT, "schema", "waystation/training-progress")
        .unwrap();
    progress.put(ROOT, "user", "rider-1").unwrap();
    progress.commit();
    let base = progress.fork();
    for i in 0..3 {
        progress.put(ROOT, format!("lesson{i}"), i as i64).unwrap();
        progress.commit();
    }
    let mut text_doc = AutoCommit::new();
    let t = text_doc
        .put_object(ROOT, "description", automerge::ObjType::Text)
        .unwrap();
    text_doc.splice_text(&t, 0, 0, "外卖封签被撕开").unwrap();
    text_doc.commit();

    let report = "report:0190a8a4-7c1e-7000-8000-000000000001";
    let case = "case:0190a8a4-7c1e-7000-8000-000000000001";
    let whole = message(&mut progress.clone(), &mut AutoCommit::new());
    let incremental = message(&mut progress.clone(), &mut base.clone());
    let fetch = AutoCommit::new()
        .sync()
        .generate_sync_message(&mut State::new())
        .expect("a first message")
        .encode();
    let text = message(&mut text_doc, &mut AutoCommit::new());
    // The input CI's fuzz run crashed on: changes plus a Bloom filter with one entry and no
    // bits, which automerge divided by zero answering. Kept as a regression seed.
    let mut no_bits = automerge::sync::Message::decode(&whole).expect("decodes");
    no_bits.have = vec![automerge::sync::Have {
        last_sync: vec![],
        bloom: automerge::sync::BloomFilter::try_from(&[1u8, 0, 7][..]).expect("parses"),
    }];
    let no_bits = no_bits.encode();
    let doc = |i: &str, k: &str, m: &[u8]| DocMessage {
        doc_id: i.into(),
        kind: k.into(),
        message: m.to_vec(),
    };
    let seeds = [
        ("noop", SyncRequest::default()),
        (
            "progress-whole",
            SyncRequest {
                cursor: 7,
                docs: vec![doc("progress:rider-1", "training-progress", &whole)],
            },
        ),
        (
            "progress-incremental",
            SyncRequest {
                cursor: 7,
                docs: vec![doc("progress:rider-1", "training-progress", &incremental)],
            },
        ),
        (
            "report-and-case",
            SyncRequest {
                cursor: 1,
                docs: vec![doc(report, "report", &text), doc(case, "case", &fetch)],
            },
        ),
        (
            "bloom-no-bits",
            SyncRequest {
                cursor: 0,
                docs: vec![doc("progress:rider-1", "training-progress", &no_bits)],
            },
        ),
    ];
    for (name, request) in seeds {
        let path = format!("{dir}/{name}.cbor");
        std::fs::write(&path, encode(&request)).expect("seed written");
        println!("{path}");
    }
}
