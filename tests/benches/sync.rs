//! Sync benchmarks against a real `waystation-server` on loopback (SQLite file, HTTP/1.1).
//!
//! Printed figures (one run each; bytes are request and response bodies as the client counts
//! them, the HTTP headers are extra and printed once):
//! - the first sync of 1,000 submitted reports: time, requests, bytes against the reports'
//!   JSON;
//! - a sync with nothing to do, with 10,000 local documents: requests and bytes;
//! - one changed (withdrawn) report among 10,000: bytes.
//!
//! Criterion timings:
//! - `sync/noop_10k_docs`: the no-op sync above, end to end;
//! - `sync/one_changed_of_10k`: withdraw-free variant — one report's case gets one event on
//!   another device, then this device syncs and receives it.
//!
//! Bench-only shortcut: the setup's report edits run with `PRAGMA synchronous = OFF` (the same
//! bytes are stored, without an fsync per edit), set back to `FULL` before anything is timed.
//! `SYNC_BENCH_DOCS` changes the 10,000.

use criterion::{Criterion, criterion_group, criterion_main};
use std::time::{Duration, Instant};

use waystation_core::reports::{CaseEventKind, CaseRole, ReportPatch, ReportRules};
use waystation_core::sync::{ReqwestTransport, RetryPolicy, SyncSettings};
use waystation_core::{Options, Waystation};
use waystation_server::Role;

const YANTA: &str = "610113";

fn http() -> ReqwestTransport {
    ReqwestTransport::new(None).unwrap()
}

fn device(dir: &std::path::Path) -> Waystation {
    Waystation::open(dir, Options::default()).unwrap()
}

fn settings(url: &str, token: &str) -> SyncSettings {
    let mut s = SyncSettings::new(url, token).unwrap();
    s.retry = RetryPolicy {
        attempts: 1,
        ..RetryPolicy::default()
    };
    s
}

/// `n` submitted reports by `author`, each with a description and a merchant; returns the
/// ids and the total size of their JSON.
fn reports(ws: &Waystation, author: &str, n: usize) -> (Vec<String>, usize) {
    ws.store()
        .write()
        .pragma_update(None, "synchronous", "OFF")
        .unwrap();
    let mut ids = Vec::with_capacity(n);
    let mut json = 0;
    for i in 0..n {
        let id = ws.reports().create_draft(author, "food.seal").unwrap();
        let id = id.as_str().to_string();
        ws.reports()
            .update_draft(
                &id,
                &ReportPatch {
                    description: Some(format!(
                        "第{i}单：外卖封签被撕开，餐盒有渗漏，商家拒绝更换。"
                    )),
                    merchant_name: Some(format!("小寨某米线店{i}号")),
                    district: Some(YANTA.into()),
                    ..Default::default()
                },
            )
            .unwrap();
        ws.reports()
            .set_position(
                &id,
                &waystation_core::reports::PositionFix {
                    lat: 34.2 + (i % 100) as f64 * 1e-4,
                    lon: 108.9 + (i / 100) as f64 * 1e-4,
                    datum: waystation_core::geo::Datum::Wgs84,
                    accuracy_m: Some(10.0),
                    fix_time: ws.now(),
                    mock: false,
                },
            )
            .unwrap();
        let r = ws
            .reports()
            .submit(author, &id, &ReportRules::default())
            .unwrap();
        json += serde_json::to_vec(&r).unwrap().len();
        ids.push(id);
    }
    ws.store()
        .write()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA synchronous = FULL;")
        .unwrap();
    (ids, json)
}

fn bench(c: &mut Criterion) {
    let n: usize = std::env::var("SYNC_BENCH_DOCS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    // Criterion syncs one account thousands of times a second: the per-account rate limit
    // would answer most of them 429, so it is off here (sync_load keeps the default).
    let server = waystation_server::spawn_config_on_thread(waystation_server::ServerConfig {
        requests_per_minute: None,
        ..waystation_server::ServerConfig::new(&db, "127.0.0.1:0".parse().unwrap())
    })
    .unwrap();
    let url = server.url();
    let days = chrono::Duration::days(30);
    let areas = [YANTA.to_string()];
    let rider_t = waystation_server::add_user(&db, "rider-1", Role::Rider, &[], days).unwrap();
    let staff_t = waystation_server::add_user(&db, "staff-1", Role::Station, &areas, days).unwrap();
    let http = http();

    // First sync of 1,000 reports.
    let first_dir = tempfile::tempdir().unwrap();
    let first = device(first_dir.path());
    let (_, json) = reports(&first, "rider-1", 1000);
    let t = Instant::now();
    let r = first
        .sync()
        .run(
            &settings(&url, &rider_t),
            &http,
            &waystation_core::CancelToken::never(),
        )
        .unwrap();
    let took = t.elapsed();
    println!(
        "first sync of 1,000 reports: {:.0} ms, {} request(s), {} B sent for {} B of report \
         JSON ({:.2}x), {} B received",
        took.as_secs_f64() * 1e3,
        r.requests,
        r.bytes_sent,
        json,
        r.bytes_sent as f64 / json as f64,
        r.bytes_received
    );
    assert_eq!(r.documents_sent, 1000);

    // A device with n local documents, all synced.
    let big_dir = tempfile::tempdir().unwrap();
    let big = device(big_dir.path());
    let setup = Instant::now();
    let (ids, _) = reports(&big, "rider-1", n);
    let r = big
        .sync()
        .run(
            &settings(&url, &rider_t),
            &http,
            &waystation_core::CancelToken::never(),
        )
        .unwrap();
    assert!(r.complete, "{r:?}");
    assert_eq!(r.documents_sent as usize, n);
    println!(
        "setup: {n} reports created and first-synced in {:.1} s",
        setup.elapsed().as_secs_f64()
    );
    let noop = big
        .sync()
        .run(
            &settings(&url, &rider_t),
            &http,
            &waystation_core::CancelToken::never(),
        )
        .unwrap();
    assert_eq!(
        noop.requests, 1,
        "a sync right after the first is a no-op: {noop:?}"
    );
    println!(
        "no-op sync with {n} local documents: {} request(s), {} B sent, {} B received (bodies; \
         HTTP/1.1 request headers add about 150 B, response headers about 100 B)",
        noop.requests, noop.bytes_sent, noop.bytes_received
    );

    // One changed report among n: withdraw one.
    big.reports()
        .withdraw("rider-1", &ids[n / 2], "拍错了商家")
        .unwrap();
    let one = big
        .sync()
        .run(
            &settings(&url, &rider_t),
            &http,
            &waystation_core::CancelToken::never(),
        )
        .unwrap();
    println!(
        "one changed report among {n}: {} request(s), {} B sent, {} B received",
        one.requests, one.bytes_sent, one.bytes_received
    );

    let mut g = c.benchmark_group("sync");
    g.sample_size(30);
    g.measurement_time(Duration::from_secs(10));
    let s = settings(&url, &rider_t);
    g.bench_function("noop_10k_docs", |b| {
        b.iter(|| {
            let r = big
                .sync()
                .run(&s, &http, &waystation_core::CancelToken::never())
                .unwrap();
            assert_eq!(r.requests, 1);
        })
    });

    // One event on another device, then this device receives it.
    let staff_dir = tempfile::tempdir().unwrap();
    let staff = device(staff_dir.path());
    let staff_s = settings(&url, &staff_t);
    staff
        .sync()
        .run(&staff_s, &http, &waystation_core::CancelToken::never())
        .unwrap();
    let target = ids[1].clone();
    g.bench_function("one_changed_of_10k", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                staff
                    .cases()
                    .record(
                        &target,
                        "staff-1",
                        CaseRole::StationStaff,
                        CaseEventKind::Note,
                        "跟进",
                    )
                    .unwrap();
                staff
                    .sync()
                    .run(&staff_s, &http, &waystation_core::CancelToken::never())
                    .unwrap();
                let t = Instant::now();
                let r = big
                    .sync()
                    .run(&s, &http, &waystation_core::CancelToken::never())
                    .unwrap();
                total += t.elapsed();
                assert_eq!(r.documents_received, 1);
            }
            total
        })
    });
    g.finish();
    server.shutdown();
}

criterion_group!(benches, bench);
criterion_main!(benches);
