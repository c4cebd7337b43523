//! Load test (issue 14): 1,000 simulated devices and 50 supervisors sync concurrently with
//! `waystation-server` on loopback, side by side on each store setup.
//!
//! Each rider device is a real device (its own data directory and SQLite store) of its own
//! account, holding 20 submitted reports in one of Xi'an's districts, one of them with a photo.
//! All start together (a barrier). Each makes a first sync (the 20 reports and the photo), then
//! five incremental syncs that each change one report (it withdraws one). Beside them, 50
//! supervisor devices (one district each) pull their districts' feeds every 2 s until the
//! riders are done. Nothing is retried, so every failure counts; the run is bounded by
//! `LOAD_SECONDS` (default 600) and fails past it.
//!
//! Printed per store setup: errors (must be 0), throughput, and p50, p99 and p99.9 of one
//! `ws.sync().run` (end to end: local store, HTTP, server) for the first syncs, the
//! incremental ones and the supervisors' pulls.
//!
//! The setups `LOAD_STORES` names (comma-separated; default `sqlite,postgres,postgres2`):
//! SQLite with one server, PostgreSQL with one instance, PostgreSQL with two instances, the
//! devices spread across them. PostgreSQL runs use a scratch database on the server
//! `WAYSTATION_TEST_PG` names.
//!
//! `cargo bench -p waystation-tests --bench sync_load` (`LOAD_DEVICES`, `LOAD_REPORTS`,
//! `LOAD_SYNCS`, `LOAD_SUPERVISORS` change the counts).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use waystation_core::geo::Datum;
use waystation_core::reports::{PositionFix, ReportPatch, ReportRules};
use waystation_core::sync::{ReqwestTransport, SyncSettings};
use waystation_core::{Options, Waystation};
use waystation_server::Role;
use waystation_server::store::postgres::scratch::ScratchDb;

/// Xi'an's districts the reports are spread over (GB/T 2260), one per supervisor in turn.
const DISTRICTS: [&str; 9] = [
    "610102", "610103", "610104", "610111", "610112", "610113", "610114", "610115", "610116",
];

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
    let mut failed = 0;
    for store in stores.split(',') {
        let (label, instances) = match store.trim() {
            "sqlite" => ("SQLite, 1 instance", 0),
            "postgres" => ("PostgreSQL, 1 instance", 1),
            "postgres2" => ("PostgreSQL, 2 instances", 2),
            other => panic!("LOAD_STORES: unknown store setup '{other}'"),
        };
        println!("\n== {label}");
        failed += run(instances);
    }
    // Every setup runs before any failure is raised: the comparison is the point.
    assert_eq!(failed, 0, "errors or lost reports (above)");
}

/// A rider's report `k` in `district`, submitted; the first one carries a photo.
fn report(
    ws: &Waystation,
    author: &str,
    district: &str,
    k: usize,
    photo: Option<&[u8]>,
) -> Result<String, waystation_core::Error> {
    let id = ws
        .reports()
        .create_draft(author, "road.hazard")?
        .as_str()
        .to_string();
    ws.reports().update_draft(
        &id,
        &ReportPatch {
            description: Some(format!("井盖缺失 {k}")),
            district: Some(district.into()),
            ..Default::default()
        },
    )?;
    ws.reports().set_position(
        &id,
        &PositionFix {
            lat: 34.22,
            lon: 108.94,
            datum: Datum::Wgs84,
            accuracy_m: Some(8.0),
            fix_time: ws.now(),
            mock: false,
        },
    )?;
    if let Some(bytes) = photo {
        ws.reports()
            .attach_photo(&id, bytes, &ReportRules::default())?;
    }
    ws.reports().submit(author, &id, &ReportRules::default())?;
    Ok(id)
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    First,
    Incremental,
    Supervisor,
}

/// One run of the workload: on a SQLite file when `pg_instances` is 0, otherwise on a scratch
/// PostgreSQL database served by that many instances. Returns the errors, plus one when a
/// report is missing or doubled.
fn run(pg_instances: usize) -> usize {
    let devices = env("LOAD_DEVICES", 1000);
    let reports = env("LOAD_REPORTS", 20).max(1);
    let syncs = env("LOAD_SYNCS", 5).min(reports);
    let supervisors = env("LOAD_SUPERVISORS", 50);
    let limit = Duration::from_secs(env("LOAD_SECONDS", 600) as u64);
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
    let account = |name: &str, role: Role, areas: &[String]| {
        waystation_server::add_user(&db, name, role, areas, chrono::Duration::days(1)).unwrap()
    };
    let riders: Vec<String> = (0..devices)
        .map(|i| account(&format!("rider-{i}"), Role::Rider, &[]))
        .collect();
    let sups: Vec<String> = (0..supervisors)
        .map(|j| {
            let area = vec![DISTRICTS[j % DISTRICTS.len()].to_string()];
            account(&format!("sup-{j}"), Role::Supervisor, &area)
        })
        .collect();
    println!(
        "{devices} devices × ({reports} reports + 1 photo, then {syncs} incremental syncs), \
         {supervisors} supervisors, against {}",
        urls.join(" and ")
    );

    let latencies = Arc::new(Mutex::new(Vec::<(Kind, Duration)>::new()));
    let errors = Arc::new(Mutex::new(Vec::<String>::new()));
    let barrier = Arc::new(Barrier::new(devices + supervisors + 1));
    let riders_left = Arc::new(AtomicUsize::new(devices));
    let mut started = Instant::now();
    std::thread::scope(|scope| {
        for (i, token) in riders.iter().enumerate() {
            let (latencies, errors, barrier) = (latencies.clone(), errors.clone(), barrier.clone());
            let riders_left = riders_left.clone();
            let url = urls[i % urls.len()].clone();
            scope.spawn(move || {
                let author = format!("rider-{i}");
                let d = tempfile::tempdir().unwrap();
                let ws = Waystation::open(d.path(), Options::default()).unwrap();
                let district = DISTRICTS[i % DISTRICTS.len()];
                // Photos differ by their quantisation table: 100 distinct ones.
                let photo = waystation_tests::jpeg_with_metadata(1 + (i % 100) as u8);
                // A setup failure is an error, and the thread still meets the others at the
                // barrier (or they would wait for it forever).
                let ids: Result<Vec<String>, _> = (0..reports)
                    .map(|k| report(&ws, &author, district, k, (k == 0).then_some(&photo[..])))
                    .collect();
                let ids = match ids {
                    Ok(ids) => ids,
                    Err(e) => {
                        errors.lock().unwrap().push(format!("{author}: setup: {e}"));
                        barrier.wait();
                        riders_left.fetch_sub(1, Ordering::SeqCst);
                        return;
                    }
                };
                let http = ReqwestTransport::new(None).unwrap();
                let mut settings = SyncSettings::new(&url, token).unwrap();
                settings.retry.attempts = 1; // count every failure; no retry hides one
                barrier.wait();
                let deadline = Instant::now() + limit;
                for s in 0..=syncs {
                    if Instant::now() > deadline {
                        errors
                            .lock()
                            .unwrap()
                            .push(format!("{author}: out of time"));
                        break;
                    }
                    if s > 0
                        && let Err(e) = ws.reports().withdraw(&author, &ids[s - 1], "已修复")
                    {
                        errors
                            .lock()
                            .unwrap()
                            .push(format!("{author}: withdraw: {e}"));
                    }
                    let kind = if s == 0 {
                        Kind::First
                    } else {
                        Kind::Incremental
                    };
                    let t = Instant::now();
                    match ws
                        .sync()
                        .run(&settings, &http, &waystation_core::CancelToken::never())
                    {
                        Ok(r) if r.complete => latencies.lock().unwrap().push((kind, t.elapsed())),
                        Ok(r) => errors
                            .lock()
                            .unwrap()
                            .push(format!("{author}: incomplete {r:?}")),
                        Err(e) => errors.lock().unwrap().push(format!("{author}: {e}")),
                    }
                }
                let s = ws.sync().status().unwrap();
                if (s.pending_documents, s.pending_photos) != (0, 0) {
                    errors
                        .lock()
                        .unwrap()
                        .push(format!("{author}: still pending {s:?}"));
                }
                riders_left.fetch_sub(1, Ordering::SeqCst);
            });
        }
        for (j, token) in sups.iter().enumerate() {
            let (latencies, errors, barrier) = (latencies.clone(), errors.clone(), barrier.clone());
            let riders_left = riders_left.clone();
            let url = urls[j % urls.len()].clone();
            scope.spawn(move || {
                let d = tempfile::tempdir().unwrap();
                let ws = Waystation::open(d.path(), Options::default()).unwrap();
                let http = ReqwestTransport::new(None).unwrap();
                let mut settings = SyncSettings::new(&url, token).unwrap();
                settings.retry.attempts = 1;
                barrier.wait();
                let deadline = Instant::now() + limit;
                // Pulls until every rider is done, then once more for the last changes.
                loop {
                    let last = riders_left.load(Ordering::SeqCst) == 0;
                    if Instant::now() > deadline {
                        errors.lock().unwrap().push(format!("sup-{j}: out of time"));
                        return;
                    }
                    let t = Instant::now();
                    match ws
                        .sync()
                        .run(&settings, &http, &waystation_core::CancelToken::never())
                    {
                        Ok(r) if r.complete => latencies
                            .lock()
                            .unwrap()
                            .push((Kind::Supervisor, t.elapsed())),
                        Ok(r) => errors
                            .lock()
                            .unwrap()
                            .push(format!("sup-{j}: incomplete {r:?}")),
                        Err(e) => errors.lock().unwrap().push(format!("sup-{j}: {e}")),
                    }
                    if last {
                        return;
                    }
                    // Every 2 s: within the default 240 requests a minute per account.
                    std::thread::sleep(Duration::from_secs(2));
                }
            });
        }
        barrier.wait();
        started = Instant::now();
    });
    let wall = started.elapsed();
    let all = latencies.lock().unwrap().clone();
    let errors = errors.lock().unwrap().clone();
    let count = "SELECT COUNT(*) FROM docs WHERE kind = 'report'";
    let rows: i64 = match &pg {
        Some(pg) => pg.query_i64(count).unwrap(),
        None => rusqlite::Connection::open(&db)
            .unwrap()
            .query_row(count, [], |r| r.get(0))
            .unwrap(),
    };
    let rider_syncs = all.iter().filter(|(k, _)| *k != Kind::Supervisor).count();
    println!(
        "rider syncs: {} ok, supervisor pulls: {} ok, {} errors in {:.1} s ({:.0} rider syncs/s)",
        rider_syncs,
        all.len() - rider_syncs,
        errors.len(),
        wall.as_secs_f64(),
        rider_syncs as f64 / wall.as_secs_f64()
    );
    for (what, kind) in [
        ("first syncs", Kind::First),
        ("incremental syncs", Kind::Incremental),
        ("supervisor pulls", Kind::Supervisor),
    ] {
        let mut part: Vec<Duration> = all
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, d)| *d)
            .collect();
        part.sort();
        if !part.is_empty() {
            println!(
                "{what}: {} ok, p50 {:.1} ms, p99 {:.1} ms, p99.9 {:.1} ms, max {:.1} ms",
                part.len(),
                percentile(&part, 0.50).as_secs_f64() * 1e3,
                percentile(&part, 0.99).as_secs_f64() * 1e3,
                percentile(&part, 0.999).as_secs_f64() * 1e3,
                part.last().unwrap().as_secs_f64() * 1e3
            );
        }
    }
    println!(
        "server holds {rows} reports (expected {})",
        devices * reports
    );
    for e in errors.iter().take(10) {
        eprintln!("error: {e}");
    }
    for server in servers {
        server.shutdown();
    }
    errors.len() + usize::from(rows as usize != devices * reports)
}
