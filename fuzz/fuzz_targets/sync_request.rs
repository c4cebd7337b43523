//! Arbitrary bytes as a `POST /v1/sync` body: the server's whole decoding path (CBOR request,
//! document ids and kinds, Automerge sync messages, every change chunk in them) must answer
//! `Ok` or a 400 error, and never panic, hang or allocate without bound. Each decoded message
//! is then received and answered through the server's own `sync::receive` and `sync::reply`,
//! as for a document the server does not have yet.
//!
//! Structure-aware path: random bytes almost never form a valid DEFLATE stream, so a small
//! input is also deflated and sent as the body of a compressed change (chunk type 2) and as a
//! deflated column of a whole document, in a well-formed request. That drives the inflated
//! parsing (`waystation_core::sync::bounds`, then automerge) with arbitrary inflated content.
//! The bomb seeds (`seeds/sync_request/bomb-*.cbor`, `make-bomb-seeds.py`) give the mutator
//! well-formed streams that inflate past every limit; `scripts/fuzz.sh` runs with a malloc
//! and RSS limit, so an inflation that escapes the bounds is a crash.

#![no_main]

use automerge::AutoCommit;
use flate2::Compression;
use flate2::write::DeflateEncoder;
use libfuzzer_sys::fuzz_target;
use std::io::Write;
use waystation_core::sync::bounds::bombs;
use waystation_core::sync::protocol::{self, DocMessage, SyncRequest};
use waystation_server::sync;

/// Inputs up to this size also take the structure-aware path (deflating costs time).
const STRUCTURED_MAX: usize = 64 * 1024;

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut e = DeflateEncoder::new(Vec::new(), Compression::fast());
    // Writing into a Vec cannot fail.
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

/// Well-formed request bodies built around `data`, deflated: as a compressed change, and as
/// the one deflated operation column of a whole document.
fn structured(data: &[u8]) -> [Vec<u8>; 2] {
    let deflated = deflate(data);
    let change = bombs::chunk(2, &deflated);
    let mut body = vec![0, 0, 0, 1];
    // Column 0, integer, deflated; then its length.
    body.push(2 | 0b1000);
    let mut len = Vec::new();
    let _ = leb128::write::unsigned(&mut len, deflated.len() as u64);
    body.extend(len);
    body.extend(&deflated);
    let document = bombs::chunk(0, &body);
    [change, document].map(|chunk| {
        protocol::encode(&SyncRequest {
            cursor: 0,
            docs: vec![DocMessage {
                doc_id: "report:0190a8a4-7c1e-7000-8000-0000000000f0".into(),
                kind: "report".into(),
                message: bombs::sync_message(&[chunk]),
            }],
        })
    })
}

/// The server's decoding and first answer for one request body.
fn serve(data: &[u8]) {
    match waystation_server::decode_sync_request(data) {
        Ok(request) => {
            for doc in request.docs {
                assert_eq!(doc.doc.doc_id(), doc.doc_id);
                let _ = doc.message.clone().encode();
                // As the server answers a document it does not have yet, through the same
                // functions: receive into an empty copy, then reply.
                let mut server_copy = AutoCommit::new();
                match sync::receive(&mut server_copy, &doc.doc_id, doc.message) {
                    Ok(mut state) => {
                        let _ = server_copy.get_changes(&[]);
                        match sync::reply(doc.doc_id, &mut server_copy, &mut state) {
                            Ok(reply) => drop(reply),
                            Err(e) => assert_eq!(e.status.as_u16(), 400, "{e}"),
                        }
                    }
                    Err(e) => assert_eq!(e.status.as_u16(), 400, "{e}"),
                }
            }
        }
        Err(e) => assert_eq!(e.status.as_u16(), 400, "{e}"),
    }
}

fuzz_target!(
    init: {
        // libFuzzer's hook aborts on every panic, before any `catch_unwind` can see it. The
        // server runs automerge on client data inside `catch_unwind`, because automerge 0.12
        // panics on some malformed input (found by this target), so panics inside automerge and
        // hexane are left to unwind, with one line to say so. A panic that nothing catches still
        // aborts (libfuzzer-sys's own `catch_unwind` around each input), and any other panic
        // aborts at once, as before.
        let abort_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let file = info.location().map(|l| l.file()).unwrap_or("");
            if file.contains("/automerge-") || file.contains("/hexane-") {
                eprintln!("panic inside automerge: {info}");
            } else {
                abort_hook(info);
            }
        }));
    },
    |data: &[u8]| {
        serve(data);
        if data.len() <= STRUCTURED_MAX {
            for body in structured(data) {
                serve(&body);
            }
        }
    }
);
