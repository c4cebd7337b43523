//! Arbitrary bytes as a `POST /v1/sync` body: the server's whole decoding path (CBOR request,
//! document ids and kinds, Automerge sync messages, every change chunk in them) must answer
//! `Ok` or a 400 error, and never panic, hang or allocate without bound. Each decoded message
//! is then received the way the server receives one for a document it does not have yet,
//! and answered.

#![no_main]

use automerge::AutoCommit;
use automerge::sync::{State, SyncDoc};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match waystation_server::decode_sync_request(data) {
        Ok(request) => {
            for doc in request.docs {
                assert_eq!(doc.doc.doc_id(), doc.doc_id);
                let _ = doc.message.clone().encode();
                let mut server_copy = AutoCommit::new();
                let mut state = State::new();
                if server_copy
                    .sync()
                    .receive_sync_message(&mut state, doc.message)
                    .is_ok()
                {
                    let _ = server_copy.get_changes(&[]);
                    if let Some(reply) = server_copy.sync().generate_sync_message(&mut state) {
                        let _ = reply.encode();
                    }
                }
            }
        }
        Err(e) => assert_eq!(e.status.as_u16(), 400, "{e}"),
    }
});
