//! Arbitrary bytes as a `POST /v1/sync` body: the server's whole decoding path (CBOR request,
//! document ids and kinds, Automerge sync messages, every change chunk in them) must answer
//! `Ok` or a 400 error, and never panic, hang or allocate without bound. Each decoded message
//! is then received and answered through the server's own `sync::receive` and `sync::reply`,
//! as for a document the server does not have yet.

#![no_main]

use automerge::AutoCommit;
use libfuzzer_sys::fuzz_target;
use waystation_server::sync;

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
);
