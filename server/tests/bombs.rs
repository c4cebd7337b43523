//! Decompression and expansion bombs sent to a real server on loopback: each is `400
//! bad_document` with an error naming the limit or the lie, stores nothing, leaves the server
//! serving, and never makes the process's memory grow by more than a bounded amount.
//!
//! The server runs on a thread of this test process, so the process's peak resident memory
//! (`VmHWM` in /proc/self/status) is the server's. Writing `5` to /proc/self/clear_refs
//! resets that peak to the current resident size before each bomb, so the growth measured is
//! the bomb's alone. The tests of this file run one at a time for the same reason.

mod common;

use common::*;
use std::sync::Mutex;
use waystation_core::sync::bounds::bombs;
use waystation_core::sync::policy::MAX_INFLATED_MESSAGE_BYTES;
use waystation_core::sync::protocol::{self, DocMessage, SyncRequest};
use waystation_server::Role;

/// Memory growth allowed while the server refuses a bomb.
const MAX_GROWTH_BYTES: u64 = 100 * 1024 * 1024;

/// One bomb at a time: the peak memory is the whole process's.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Resets the process's peak resident memory to its current size and returns it, in bytes.
fn reset_peak_memory() -> u64 {
    std::fs::write("/proc/self/clear_refs", "5").expect("peak memory resets (Linux)");
    peak_memory()
}

/// The process's peak resident memory since the last reset, in bytes.
fn peak_memory() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status");
    kb * 1024
}

/// A request for one new report whose sync message carries `chunks` as its changes.
fn request_with(chunks: &[Vec<u8>]) -> Vec<u8> {
    protocol::encode(&SyncRequest {
        cursor: 0,
        docs: vec![DocMessage {
            doc_id: "report:0190a8a4-7c1e-7000-8000-0000000000b0".into(),
            kind: "report".into(),
            message: bombs::sync_message(chunks),
        }],
    })
}

/// Sends `body` to a fresh server: `400 bad_document` whose message contains `says`, nothing
/// stored, at most [`MAX_GROWTH_BYTES`] of memory growth, and the server goes on with a
/// good request. Returns the growth.
fn refused_in_bounded_memory(body: Vec<u8>, says: &str) -> u64 {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let server = TestServer::start();
    let rider = server.user("rider-1", Role::Rider, &[]);
    let before = reset_peak_memory();
    let e = assert_error(rider.post_sync_raw(body), 400, "bad_document");
    let growth = peak_memory().saturating_sub(before);
    assert!(e.message.contains(says), "{}", e.message);
    assert!(
        growth < MAX_GROWTH_BYTES,
        "memory grew by {} MB refusing a bomb",
        growth >> 20
    );
    assert_eq!(server.count("SELECT count(*) FROM docs"), 0);
    let f = Factory::new();
    let report = f.report("rider-1", "food.seal");
    let mut doc = f.report_doc(&report);
    let good = SyncRequest {
        cursor: 0,
        docs: vec![doc_message(
            &format!("report:{report}"),
            "report",
            encoded_since(&mut doc, &[]),
        )],
    };
    rider.sync(&good).expect("a good request after the bomb");
    assert_eq!(server.count("SELECT count(*) FROM docs"), 1);
    growth
}

#[test]
fn a_compressed_change_inflating_to_4_gib_is_400_in_bounded_memory() {
    let bomb = bombs::compressed_change(4096);
    assert!(
        (3_000_000..6_000_000).contains(&bomb.len()),
        "{}",
        bomb.len()
    );
    let says = format!("inflates to more than {MAX_INFLATED_MESSAGE_BYTES} bytes");
    refused_in_bounded_memory(request_with(&[bomb]), &says);
}

#[test]
fn a_document_whose_deflated_column_inflates_to_4_gib_is_400_in_bounded_memory() {
    let bomb = bombs::document_with_deflated_column(4096);
    let says = format!("inflates to more than {MAX_INFLATED_MESSAGE_BYTES} bytes");
    refused_in_bounded_memory(request_with(&[bomb]), &says);
}

#[test]
fn many_small_compressed_changes_add_up_to_the_same_limit() {
    // Each is under the limit; together they pass it.
    let one = bombs::compressed_change(1);
    let chunks = vec![one; 9];
    let says = format!("inflates to more than {MAX_INFLATED_MESSAGE_BYTES} bytes");
    refused_in_bounded_memory(request_with(&chunks), &says);
}

#[test]
fn chunks_whose_headers_claim_huge_lengths_or_runs_are_400_in_bounded_memory() {
    refused_in_bounded_memory(
        request_with(&[bombs::chunk_claiming_huge_length()]),
        "truncated chunk",
    );
    refused_in_bounded_memory(
        request_with(&[bombs::change_claiming_huge_column()]),
        "an operation column claims 1099511627776 bytes",
    );
    refused_in_bounded_memory(
        request_with(&[bombs::change_claiming_huge_run()]),
        "carries more than 250000 operations",
    );
}
