//! Load test: 200 device clients sync concurrently with one `waystation-server` on loopback.
//!
//! Each client is a real device (its own data directory) of its own rider account with 3
//! submitted reports. All start together (a barrier); each makes 5 syncs: the first sends its
//! reports, the next ones find nothing or little to do (a new report before the 3rd). Bounded:
//! 200 × 5 syncs, and the run fails after 180 s. Prints p50, p99 and max latency of one
//! `ws.sync().run` (end to end: local store, HTTP, server), the throughput, and the errors, which
//! must be 0.
//!
//! The same workload runs side by side against each store setup `LOAD_STORES` names
//! (comma-separated; default `sqlite,postgres,postgres2`): SQLite with one server, PostgreSQL with
//! one, and PostgreSQL with two instances, the clients spread across them (issue 14). The
//! PostgreSQL runs use a scratch database on the server `WAYSTATION_TEST_PG` names.
//!
//! `cargo bench -p waystation-tests --bench sync_load` (`LOAD_CLIENTS`, `LOAD_SYNCS` change the
//! counts).

use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use waystation_core::sync::{ReqwestTransport, SyncSettings};
use waystation_core::{Options, Waystation};
use waystation_server::Role;
use waystation_server::store::postgres::scratch::ScratchDb;
use waystation_tests::reports::submitted_road_report;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    // `cargo bench` passes --bench; any other argument (e.g. a filter) is ignored.
    let stores = std::env::var("LOAD_STORES").unwrap_or("sqlite,postgres,postgres2".into());
    for store in stores.split(',') {
        let (label, instances) = match store.trim() {
            "sqlite" => ("SQLite, 1 instance", 0),
            "postgres" => ("PostgreSQL, 1 instance", 1),
            "postgres2" => ("PostgreSQL, 2 instances", 2),
            other => panic!("LOAD_STORES: unknown store setup '{other}'"),
        };
        println!("\n== {label}");
        run(instances);
    }
}

/// One run of the workload: on a SQLite file when `pg_instances` is 0, otherwise on a scratch
/// PostgreSQL database served by that many instances.
fn run(pg_instances: usize) {
    let clients = env("LOAD_CLIENTS", 200);
    let syncs = env("LOAD_SYNCS", 5);
    let dir = tempfile::tempdir().unwrap();
    let pg =
        (pg_instances > 0).then(|| ScratchDb::create("load").unwrap_or_else(|e| panic!("{e}")));
    let db = match &pg {
        Some(pg) => std::path::PathBuf::from(pg.url()),
        None => dir.path().join("server.db"),
    };
    let servers: Vec<waystation_server::ServerHandle> = (0..pg_instances.max(1))
        .map(|_| waystation_server::spawn_on_thread(&db, "127.0.0.1:0".parse().unwrap()).unwrap())
        .collect();
    let urls: Vec<String> = servers.iter().map(|s| s.url()).collect();
    let url = urls.join(" and ");
    let tokens: Vec<String> = (0..clients)
        .map(|i| {
            waystation_server::add_user(
                &db,
                &format!("rider-{i}"),
                Role::Rider,
                &[],
                chrono::Duration::days(1),
            )
            .unwrap()
        })
        .collect();
    let devices: Vec<(tempfile::TempDir, Waystation)> = (0..clients)
        .map(|i| {
            let d = tempfile::tempdir().unwrap();
            let ws = Waystation::open(d.path(), Options::default()).unwrap();
            for k in 0..3 {
                submitted_road_report(&ws, &format!("rider-{i}"), k);
            }
            (d, ws)
        })
        .collect();
    println!("{clients} clients × {syncs} syncs against {url}");

    let latencies = Arc::new(Mutex::new(Vec::with_capacity(clients * syncs)));
    let errors = Arc::new(Mutex::new(Vec::<String>::new()));
    let barrier = Arc::new(Barrier::new(clients));
    let deadline = Instant::now() + Duration::from_secs(180);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for (i, (token, (_dir, ws))) in tokens.iter().zip(devices.iter()).enumerate() {
            let latencies = latencies.clone();
            let errors = errors.clone();
            let barrier = barrier.clone();
            let url = urls[i % urls.len()].clone();
            scope.spawn(move || {
                let http = ReqwestTransport::new(Duration::from_secs(60), None).unwrap();
                let mut settings = SyncSettings::new(&url, token).unwrap();
                settings.retry.attempts = 1; // count every failure; no retry hides one
                barrier.wait();
                for s in 0..syncs {
                    if Instant::now() > deadline {
                        errors
                            .lock()
                            .unwrap()
                            .push(format!("client {i}: out of time"));
                        return;
                    }
                    if s == 2 {
                        submitted_road_report(ws, &format!("rider-{i}"), 10 + s);
                    }
                    let t = Instant::now();
                    match ws
                        .sync()
                        .run(&settings, &http, &waystation_core::CancelToken::never())
                    {
                        Ok(r) if r.complete => latencies.lock().unwrap().push((s, t.elapsed())),
                        Ok(r) => errors
                            .lock()
                            .unwrap()
                            .push(format!("client {i}: incomplete {r:?}")),
                        Err(e) => errors.lock().unwrap().push(format!("client {i}: {e}")),
                    }
                }
                let left = ws.sync().status().unwrap().pending_documents;
                if left != 0 {
                    errors
                        .lock()
                        .unwrap()
                        .push(format!("client {i}: {left} documents still pending"));
                }
            });
        }
    });
    let wall = started.elapsed();
    let all = latencies.lock().unwrap().clone();
    let mut l: Vec<Duration> = all.iter().map(|(_, d)| *d).collect();
    l.sort();
    let errors = errors.lock().unwrap().clone();
    let count = "SELECT COUNT(*) FROM docs WHERE kind = 'report'";
    let rows: i64 = match &pg {
        Some(pg) => pg.query_i64(count).unwrap(),
        None => rusqlite::Connection::open(&db)
            .unwrap()
            .query_row(count, [], |r| r.get(0))
            .unwrap(),
    };
    println!(
        "syncs: {} ok, {} errors in {:.1} s ({:.0} syncs/s)",
        l.len(),
        errors.len(),
        wall.as_secs_f64(),
        l.len() as f64 / wall.as_secs_f64()
    );
    if !l.is_empty() {
        println!(
            "latency of one sync: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            percentile(&l, 0.50).as_secs_f64() * 1e3,
            percentile(&l, 0.99).as_secs_f64() * 1e3,
            l.last().unwrap().as_secs_f64() * 1e3
        );
    }
    for (what, first) in [("first syncs", true), ("later syncs", false)] {
        let mut part: Vec<Duration> = all
            .iter()
            .filter(|(s, _)| (*s == 0) == first)
            .map(|(_, d)| *d)
            .collect();
        part.sort();
        if !part.is_empty() {
            println!(
                "{what}: {} ok, p50 {:.1} ms, p99 {:.1} ms, p99.9 {:.1} ms",
                part.len(),
                percentile(&part, 0.50).as_secs_f64() * 1e3,
                percentile(&part, 0.99).as_secs_f64() * 1e3,
                percentile(&part, 0.999).as_secs_f64() * 1e3
            );
        }
    }
    println!("server holds {rows} reports (expected {})", clients * 4);
    for e in errors.iter().take(10) {
        eprintln!("error: {e}");
    }
    for server in servers {
        server.shutdown();
    }
    assert!(errors.is_empty(), "{} errors", errors.len());
    assert_eq!(
        rows as usize,
        clients * 4,
        "every report arrived exactly once"
    );
}
