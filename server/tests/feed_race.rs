//! The change feed under concurrent writers on two server instances sharing one PostgreSQL
//! database (issue 14, decision 0011).
//!
//! A feed position that is not a commit order (a sequence number taken early in a transaction)
//! lets a reader see position 42 before the transaction holding 41 commits; the reader's cursor
//! passes 41 and that document is never listed to it again. Here many writers store reports
//! through both instances at once while supervisors page the feed continuously through both,
//! only ever from the cursor the server gave them. When the writers are done and each reader
//! has paged to the end, every reader must have been listed every report, at its final heads.
//!
//! Needs PostgreSQL: `WAYSTATION_TEST_PG` names the server (see `ScratchDb`); without it the
//! test fails, saying so. Bounded: a fixed number of reports, and a deadline on the whole run.

mod common;

use common::*;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};
use waystation_core::sync::protocol::SyncRequest;
use waystation_server::store::postgres::scratch::ScratchDb;
use waystation_server::{Admin, Role, ServerConfig};

const WRITERS: usize = 8;
const REPORTS_PER_WRITER: usize = 12;
const READERS: usize = 3;
const DEADLINE: Duration = Duration::from_secs(120);

/// A server instance over `url`, with no rate limit (the readers page as fast as they can).
fn instance(url: &str) -> waystation_server::ServerHandle {
    waystation_server::spawn_config_on_thread(ServerConfig {
        clock: Arc::new(waystation_core::FixedClock::new(noon())),
        requests_per_minute: None,
        ..ServerConfig::new(std::path::Path::new(url), "127.0.0.1:0".parse().unwrap())
    })
    .expect("instance starts")
}

#[test]
fn readers_paging_the_feed_through_two_instances_miss_no_report_written_concurrently() {
    let db = ScratchDb::create("feedrace").unwrap_or_else(|e| panic!("{e}"));
    let a = instance(db.url());
    let b = instance(db.url());
    let urls = [a.url(), b.url()];
    let admin = Admin::open(std::path::Path::new(db.url()))
        .unwrap()
        .with_clock(Arc::new(waystation_core::FixedClock::new(noon())));

    // Every report made up front on devices, so that the race is only the syncs.
    let mut writers = Vec::new();
    let mut district = String::new();
    for w in 0..WRITERS {
        let user = format!("rider-{w}");
        let token = admin
            .add_user(&user, Role::Rider, &[], chrono::Duration::days(1))
            .unwrap();
        let f = Factory::new();
        let mut requests = Vec::new();
        for _ in 0..REPORTS_PER_WRITER {
            let report = f.report(&user, "food.seal");
            let id = format!("report:{report}");
            let mut doc = f.report_doc(&report);
            district = district_of(&doc);
            let heads = {
                let mut h = doc.get_heads();
                h.sort();
                h
            };
            requests.push((
                id.clone(),
                heads,
                SyncRequest {
                    cursor: 0,
                    docs: vec![doc_message(&id, "report", encoded_since(&mut doc, &[]))],
                },
            ));
        }
        writers.push((Api::new(&urls[w % 2], &token), requests));
    }
    let readers: Vec<Api> = (0..READERS)
        .map(|r| {
            let token = admin
                .add_user(
                    &format!("sup-{r}"),
                    Role::Supervisor,
                    std::slice::from_ref(&district),
                    chrono::Duration::days(1),
                )
                .unwrap();
            Api::new(&urls[0], &token)
        })
        .collect();

    let started = Instant::now();
    let writing = Arc::new(AtomicBool::new(true));
    let go = Arc::new(Barrier::new(WRITERS + READERS));
    let mut reader_threads = Vec::new();
    for (r, api) in readers.into_iter().enumerate() {
        let (writing, go, urls) = (writing.clone(), go.clone(), urls.clone());
        reader_threads.push(std::thread::spawn(move || {
            go.wait();
            let mut cursor = 0u64;
            let mut seen: BTreeMap<String, Vec<u8>> = BTreeMap::new();
            let mut pages = 0u64;
            // After the writers stop: page until the feed says nothing more is waiting.
            let mut settled = false;
            loop {
                let on = api.on_server(&urls[(pages as usize + r) % 2]);
                let page = on
                    .sync(&SyncRequest {
                        cursor,
                        docs: vec![],
                    })
                    .unwrap_or_else(|e| panic!("reader {r}: {} {}", e.status, e.body.message));
                pages += 1;
                assert!(!page.reset, "reader {r}: the feed was reset");
                for c in page.changed {
                    seen.insert(c.doc_id, c.heads.unwrap_or_default());
                }
                cursor = page.cursor;
                if settled && !page.more {
                    break;
                }
                if !writing.load(Ordering::SeqCst) && !page.more {
                    // One more full pass from the same cursor, now that every write committed.
                    settled = true;
                }
                assert!(started.elapsed() < DEADLINE, "reader {r}: out of time");
            }
            (seen, pages)
        }));
    }
    let mut writer_threads = Vec::new();
    for (w, (api, requests)) in writers.into_iter().enumerate() {
        let go = go.clone();
        writer_threads.push(std::thread::spawn(move || {
            go.wait();
            let mut written = Vec::new();
            for (id, heads, request) in requests {
                // A conflict between instances is answered 503 busy: a device retries it.
                loop {
                    match api.sync(&request) {
                        Ok(r) => {
                            assert!(r.docs[0].refused.is_none(), "writer {w}: {:?}", r.docs[0]);
                            break;
                        }
                        Err(e) if e.status.as_u16() == 503 => {
                            std::thread::sleep(Duration::from_millis(5))
                        }
                        Err(e) => panic!("writer {w}: {} {}", e.status, e.body.message),
                    }
                    assert!(started.elapsed() < DEADLINE, "writer {w}: out of time");
                }
                written.push((id, heads));
            }
            written
        }));
    }
    let mut written: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for t in writer_threads {
        for (id, heads) in t.join().expect("writer finished") {
            written.insert(id, heads.iter().flat_map(|h| h.0).collect());
        }
    }
    writing.store(false, Ordering::SeqCst);
    assert_eq!(written.len(), WRITERS * REPORTS_PER_WRITER);
    for (r, t) in reader_threads.into_iter().enumerate() {
        let (seen, pages) = t.join().expect("reader finished");
        let missed: BTreeSet<&String> = written
            .keys()
            .filter(|id| !seen.contains_key(*id))
            .collect();
        assert!(
            missed.is_empty(),
            "reader {r} paged {pages} times and was never listed {} of {} reports: {missed:?}",
            missed.len(),
            written.len()
        );
        for (id, heads) in &written {
            assert_eq!(&seen[id], heads, "reader {r}: stale heads for {id}");
        }
        eprintln!("reader {r}: {pages} pages, all {} reports", written.len());
    }
    a.shutdown();
    b.shutdown();
}
