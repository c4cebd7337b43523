//! Load test (issue 14): 1,000 simulated devices and 50 supervisors sync with
//! `waystation-server` on loopback, side by side on each store setup.
//!
//! Each rider device is a real device (its own data directory and SQLite store) of its own
//! account, holding 20 submitted reports in one of Xi'an's districts, the first with a photo
//! (100 distinct photos across the devices). The reports are made before anything is timed.
//! Beside the riders, 50 supervisor devices (one district each) pull their district's feed
//! every 2 s from the first phase to the end. Nothing is retried, so every failure counts;
//! every phase is bounded by `LOAD_SECONDS` (default 600) and fails past it.
//!
//! Two phases per store setup:
//! - **closed loop** ("everyone at once"): every device makes its first sync (20 reports and
//!   the photo), then `LOAD_SYNCS` (5) incremental syncs that each withdraw one report. The
//!   devices are driven by a pool of `LOAD_WORKERS` (100) threads, each taking the next device
//!   step from one queue (all first syncs, then the incremental rounds): at most that many
//!   syncs are in flight, and 1,000 devices cost 100 threads, not 1,000.
//! - **open loop**: incremental syncs arrive at `LOAD_RATE` per second (comma-separated for
//!   several steps, default `20`) for `LOAD_OPEN_SECONDS` (30) each, on the devices in turn,
//!   whatever the earlier ones are doing; each device's change (a withdrawal) is made before
//!   its arrival, off the clock. Latency counts from the arrival's scheduled time, so a
//!   generator that falls behind shows as latency, not as a lower rate.
//!
//! At the end each supervisor pulls once more with nothing new, which must be one request
//! that carries no changes and receives no document; the supervisor line counts the pulls
//! that received documents and the requests that carried changes (a supervisor writes
//! nothing, so none should).
//!
//! Printed per phase: errors (must be 0), throughput, and p50/p99/p99.9 of one sync as the
//! device sees it (`ws.sync().run`: its own store, HTTP, the server), of the HTTP exchange
//! alone, and of the server's own account of it (its `Server-Timing` header: handling time,
//! its thread's CPU, its waits for the database); and where the machine's CPU went (the
//! server, PostgreSQL's backends, the devices, other processes).
//!
//! The setups `LOAD_STORES` names (comma-separated; default `sqlite,postgres,postgres2`):
//! SQLite with one server, PostgreSQL with one instance, PostgreSQL with two instances, the
//! devices spread across them. PostgreSQL runs use a scratch database on the server
//! `WAYSTATION_TEST_PG` names.
//!
//! `cargo bench -p waystation-tests --bench sync_load` (`LOAD_DEVICES`, `LOAD_REPORTS`,
//! `LOAD_SYNCS`, `LOAD_SUPERVISORS`, `LOAD_WORKERS`, `LOAD_RATE`, `LOAD_OPEN_SECONDS` change
//! the counts).

#[path = "sync_load/measure.rs"]
mod measure;
#[path = "sync_load/phase.rs"]
mod phase;

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use measure::{Exchange, Timed, spread};
use phase::{Phase, server_totals};
use waystation_core::geo::Datum;
use waystation_core::reports::{PositionFix, ReportPatch, ReportRules};
use waystation_core::sync::{ReqwestTransport, SyncSettings};
use waystation_core::{CancelToken, Options, Waystation};
use waystation_server::Role;
use waystation_server::store::postgres::scratch::ScratchDb;
use waystation_server::store::timing::thread_cpu;

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

struct Config {
    devices: usize,
    reports: usize,
    syncs: usize,
    supervisors: usize,
    workers: usize,
    rates: Vec<usize>,
    open_seconds: usize,
    limit: Duration,
}

fn main() {
    // `cargo bench` passes --bench; any other argument (e.g. a filter) is ignored.
    let stores = std::env::var("LOAD_STORES").unwrap_or("sqlite,postgres,postgres2".into());
    let reports = env("LOAD_REPORTS", 20).max(1);
    let config = Config {
        devices: env("LOAD_DEVICES", 1000).max(1),
        reports,
        syncs: env("LOAD_SYNCS", 5).min(reports),
        supervisors: env("LOAD_SUPERVISORS", 50),
        workers: env("LOAD_WORKERS", 100).max(1),
        rates: std::env::var("LOAD_RATE")
            .unwrap_or("20".into())
            .split(',')
            .filter_map(|r| r.trim().parse().ok())
            .filter(|r| *r > 0)
            .collect(),
        open_seconds: env("LOAD_OPEN_SECONDS", 30),
        limit: Duration::from_secs(env("LOAD_SECONDS", 600) as u64),
    };
    let arrivals: usize = config.rates.iter().map(|r| r * config.open_seconds).sum();
    assert!(
        arrivals <= config.devices * (config.reports - config.syncs),
        "LOAD_RATE × LOAD_OPEN_SECONDS asks for {arrivals} open-loop syncs; the devices have \
         {} reports left to withdraw",
        config.devices * (config.reports - config.syncs)
    );
    let mut failed = 0;
    for store in stores.split(',') {
        let (label, instances) = match store.trim() {
            "sqlite" => ("SQLite, 1 instance", 0),
            "postgres" => ("PostgreSQL, 1 instance", 1),
            "postgres2" => ("PostgreSQL, 2 instances", 2),
            other => panic!("LOAD_STORES: unknown store setup '{other}'"),
        };
        println!("\n== {label}");
        failed += run(&config, label, instances);
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
    /// An incremental sync of open-loop step `n`.
    Open(usize),
    Supervisor,
    /// A supervisor's pull once everything is pulled: nothing new, so it must send and
    /// receive no document (`tests/tests/supervisor_pull.rs` has the same check).
    Quiet,
}

/// One sync: its whole run on the device, how late it started after its scheduled arrival
/// (open loop), and its HTTP exchanges.
struct Sample {
    kind: Kind,
    run: Duration,
    late: Duration,
    exchanges: Vec<Exchange>,
    /// Documents that got new changes from the server.
    received: i32,
}

/// What every thread reports into.
#[derive(Default)]
struct Shared {
    samples: Mutex<Vec<Sample>>,
    errors: Mutex<Vec<String>>,
    /// CPU time of the rider pool's threads, which end with their phase.
    generator_cpu: Mutex<Duration>,
}

impl Shared {
    fn error(&self, e: String) {
        self.errors.lock().unwrap().push(e);
    }
}

/// A simulated device with its account.
struct Device {
    ws: Waystation,
    author: String,
    ids: Vec<String>,
    withdrawn: usize,
    settings: SyncSettings,
    http: Timed,
    _dir: tempfile::TempDir,
}

impl Device {
    /// A device of account `name`; a supervisor's (`inspect`) has its sync requests decoded,
    /// to count those that carry changes.
    fn open(name: String, url: &str, token: &str, inspect: bool) -> Result<Device, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let ws = Waystation::open(dir.path(), Options::default()).map_err(|e| e.to_string())?;
        let http = ReqwestTransport::new(None).map_err(|e| e.to_string())?;
        let mut settings = SyncSettings::new(url, token).map_err(|e| e.to_string())?;
        settings.timeout = Duration::from_secs(120);
        settings.retry.attempts = 1; // count every failure; no retry hides one
        Ok(Device {
            ws,
            author: name,
            ids: Vec::new(),
            withdrawn: 0,
            settings,
            http: if inspect {
                Timed::inspecting(http)
            } else {
                Timed::new(http)
            },
            _dir: dir,
        })
    }

    /// Changes one more report: withdraws it.
    fn change_one(&mut self) -> Result<(), String> {
        let id = self
            .ids
            .get(self.withdrawn)
            .ok_or("no report left to withdraw")?;
        self.ws
            .reports()
            .withdraw(&self.author, id, "已修复")
            .map_err(|e| format!("{}: withdraw: {e}", self.author))?;
        self.withdrawn += 1;
        Ok(())
    }

    /// One sync, recorded as `kind`.
    fn sync(&self, kind: Kind, late: Duration, shared: &Shared) {
        let t = Instant::now();
        let result = self
            .ws
            .sync()
            .run(&self.settings, &self.http, &CancelToken::never());
        let run = t.elapsed() + late;
        let exchanges = self.http.take();
        match result {
            Ok(r) if r.complete => {
                if exchanges.iter().any(|x| x.server.is_none()) {
                    shared.error(format!("{}: an answer without Server-Timing", self.author));
                }
                shared.samples.lock().unwrap().push(Sample {
                    kind,
                    run,
                    late,
                    exchanges,
                    received: r.documents_received,
                })
            }
            Ok(r) => shared.error(format!("{}: incomplete {r:?}", self.author)),
            Err(e) => shared.error(format!("{}: {e}", self.author)),
        }
    }
}

/// Runs `work` on each item of `queue` with `workers` threads named `load-rider`; `work`
/// may put items back. Each thread adds its CPU time to `shared.generator_cpu`.
fn pool<T: Send>(
    workers: usize,
    queue: VecDeque<T>,
    shared: &Shared,
    work: impl Fn(T, &Mutex<VecDeque<T>>) + Sync,
) {
    let queue = Mutex::new(queue);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let (queue, work) = (&queue, &work);
            std::thread::Builder::new()
                .name("load-rider".into())
                .spawn_scoped(scope, move || {
                    let start = thread_cpu().unwrap_or_default();
                    loop {
                        let next = queue.lock().unwrap().pop_front();
                        let Some(item) = next else { break };
                        work(item, queue);
                    }
                    let used = thread_cpu().unwrap_or_default().saturating_sub(start);
                    *shared.generator_cpu.lock().unwrap() += used;
                })
                .expect("a worker thread");
        }
    });
}

/// One run of the workload: on a SQLite file when `pg_instances` is 0, otherwise on a scratch
/// PostgreSQL database served by that many instances. Returns the errors, plus one when a
/// report is missing or doubled.
fn run(c: &Config, label: &str, pg_instances: usize) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let pg =
        (pg_instances > 0).then(|| ScratchDb::create("load").unwrap_or_else(|e| panic!("{e}")));
    let db = match &pg {
        Some(pg) => std::path::PathBuf::from(pg.url()),
        None => dir.path().join("server.db"),
    };
    let pg_name = pg
        .as_ref()
        .and_then(|p| p.url().rsplit('/').next().map(String::from));
    let servers: Vec<waystation_server::ServerHandle> = (0..pg_instances.max(1))
        .map(|_| waystation_server::spawn_on_thread(&db, "127.0.0.1:0".parse().unwrap()).unwrap())
        .collect();
    let urls: Vec<String> = servers.iter().map(|s| s.url()).collect();
    let admin = waystation_server::admin::Admin::open(&db).unwrap();
    let day = chrono::Duration::days(1);
    let shared = Shared::default();

    // Setup, off the clock: accounts, devices and their reports.
    let setup = Instant::now();
    let devices: Vec<Mutex<Option<Device>>> = (0..c.devices).map(|_| Mutex::new(None)).collect();
    let tokens: Vec<String> = (0..c.devices)
        .map(|i| {
            admin
                .add_user(&format!("rider-{i}"), Role::Rider, &[], day)
                .unwrap()
        })
        .collect();
    pool(c.workers, (0..c.devices).collect(), &shared, |i, _| {
        let name = format!("rider-{i}");
        let made = Device::open(name.clone(), &urls[i % urls.len()], &tokens[i], false).and_then(
            |mut d| {
                let district = DISTRICTS[i % DISTRICTS.len()];
                // Photos differ by their quantisation table: 100 distinct ones.
                let photo = waystation_tests::jpeg_with_metadata(1 + (i % 100) as u8);
                for k in 0..c.reports {
                    let p = (k == 0).then_some(&photo[..]);
                    let id = report(&d.ws, &name, district, k, p)
                        .map_err(|e| format!("{name}: setup: {e}"))?;
                    d.ids.push(id);
                }
                Ok(d)
            },
        );
        match made {
            Ok(d) => *devices[i].lock().unwrap() = Some(d),
            Err(e) => shared.error(e),
        }
    });
    let sups: Vec<Device> = (0..c.supervisors)
        .map(|j| {
            let area = vec![DISTRICTS[j % DISTRICTS.len()].to_string()];
            let token = admin
                .add_user(&format!("sup-{j}"), Role::Supervisor, &area, day)
                .unwrap();
            Device::open(format!("sup-{j}"), &urls[j % urls.len()], &token, true).unwrap()
        })
        .collect();
    *shared.generator_cpu.lock().unwrap() = Duration::ZERO;
    println!(
        "{} devices × ({} reports + 1 photo), {} supervisors, against {}; set up in {:.0} s",
        c.devices,
        c.reports,
        c.supervisors,
        urls.join(" and "),
        setup.elapsed().as_secs_f64()
    );

    let riders_done = AtomicBool::new(false);
    let deadline = Instant::now() + c.limit * (1 + c.rates.len() as u32);
    std::thread::scope(|scope| {
        // Supervisors: a pull every 2 s (within the default 240 requests a minute per
        // account) until the riders are done, then one more for the last changes.
        for s in &sups {
            let (shared, riders_done) = (&shared, &riders_done);
            std::thread::Builder::new()
                .name("load-sup".into())
                .spawn_scoped(scope, move || {
                    loop {
                        let last = riders_done.load(Ordering::SeqCst);
                        if Instant::now() > deadline {
                            shared.error(format!("{}: out of time", s.author));
                            return;
                        }
                        s.sync(Kind::Supervisor, Duration::ZERO, shared);
                        if last {
                            return;
                        }
                        std::thread::sleep(Duration::from_secs(2));
                    }
                })
                .expect("a supervisor thread");
        }

        // Closed loop: every first sync, then each round of incremental syncs.
        let phase = Phase::start(&shared, pg_name.as_deref());
        let rounds: Vec<Mutex<usize>> = (0..c.devices).map(|_| Mutex::new(0)).collect();
        let until = Instant::now() + c.limit;
        let live: VecDeque<usize> = (0..c.devices)
            .filter(|i| devices[*i].lock().unwrap().is_some())
            .collect();
        pool(c.workers, live, &shared, |i, queue| {
            let mut guard = devices[i].lock().unwrap();
            let Some(d) = guard.as_mut() else { return };
            if Instant::now() > until {
                shared.error(format!("{}: out of time", d.author));
                return;
            }
            let mut round = rounds[i].lock().unwrap();
            if *round == 0 {
                d.sync(Kind::First, Duration::ZERO, &shared);
            } else {
                match d.change_one() {
                    Ok(()) => d.sync(Kind::Incremental, Duration::ZERO, &shared),
                    Err(e) => shared.error(e),
                }
            }
            *round += 1;
            if *round <= c.syncs {
                queue.lock().unwrap().push_back(i);
            }
        });
        phase.report(
            &shared,
            label,
            &format!("closed loop, {} at a time", c.workers),
            &[Kind::First, Kind::Incremental],
        );

        // Open loop: arrivals at a fixed rate, on the devices in turn.
        let mut next_device = 0;
        for (step, &rate) in c.rates.iter().enumerate() {
            let n = rate * c.open_seconds;
            let mine: Vec<usize> = (0..n).map(|k| (next_device + k) % c.devices).collect();
            next_device += n;
            // Each arriving device's change is made first, off the clock.
            let mut due = vec![0usize; c.devices];
            for &i in &mine {
                due[i] += 1;
            }
            let due: Vec<Mutex<usize>> = due.into_iter().map(Mutex::new).collect();
            let prepare: VecDeque<usize> = (0..c.devices)
                .filter(|i| *due[*i].lock().unwrap() > 0)
                .collect();
            pool(c.workers, prepare, &shared, |i, _| {
                if let Some(d) = devices[i].lock().unwrap().as_mut()
                    && let Err(e) = d.change_one()
                {
                    shared.error(e);
                }
            });
            *shared.generator_cpu.lock().unwrap() = Duration::ZERO;
            let phase = Phase::start(&shared, pg_name.as_deref());
            let start = Instant::now();
            let until = start + c.limit;
            // The dispatcher sends each arrival at its time; a worker takes the next one from
            // the channel (blocking, no polling) and the channel's end ends the workers.
            let (send, receive) = std::sync::mpsc::channel::<(usize, Instant)>();
            let receive = Mutex::new(receive);
            std::thread::scope(|inner| {
                inner.spawn(move || {
                    for (k, &i) in mine.iter().enumerate() {
                        let at = start + Duration::from_secs_f64(k as f64 / rate as f64);
                        std::thread::sleep(at.saturating_duration_since(Instant::now()));
                        if send.send((i, at)).is_err() {
                            return;
                        }
                    }
                });
                let workers = (0..c.workers).map(|_| ()).collect();
                pool(c.workers, workers, &shared, |(), _| {
                    loop {
                        let job = receive.lock().unwrap().recv();
                        let Ok((i, at)) = job else { return };
                        let mut guard = devices[i].lock().unwrap();
                        let Some(d) = guard.as_mut() else { continue };
                        if Instant::now() > until {
                            shared.error(format!("{}: out of time", d.author));
                            continue;
                        }
                        let late = Instant::now().saturating_duration_since(at);
                        d.sync(Kind::Open(step), late, &shared);
                        let mut left = due[i].lock().unwrap();
                        *left -= 1;
                        if *left > 0
                            && let Err(e) = d.change_one()
                        {
                            shared.error(e);
                        }
                    }
                });
            });
            phase.report(
                &shared,
                label,
                &format!("open loop, {rate}/s offered for {} s", c.open_seconds),
                &[Kind::Open(step)],
            );
        }
        riders_done.store(true, Ordering::SeqCst);
    });

    // Every device is done: nothing pending, every report on the server once.
    for d in devices.iter().filter_map(|d| d.lock().unwrap().take()) {
        match d.ws.sync().status() {
            Ok(s) if (s.pending_documents, s.pending_photos) == (0, 0) => {}
            Ok(s) => shared.error(format!("{}: still pending {s:?}", d.author)),
            Err(e) => shared.error(format!("{}: status: {e}", d.author)),
        }
    }
    // Every supervisor has its district (a pull stopped at its request limit goes on), then
    // pulls once more with nothing new: that pull must be one request that carries no
    // changes and receives no document.
    for s in &sups {
        for _ in 0..20 {
            let done = s.ws.sync().run(&s.settings, &s.http, &CancelToken::never());
            if done.is_ok_and(|r| r.complete) {
                break;
            }
        }
        s.http.take();
        s.sync(Kind::Quiet, Duration::ZERO, &shared);
    }
    let all = std::mem::take(&mut *shared.samples.lock().unwrap());
    let (mut pulls, quiet): (Vec<Sample>, Vec<Sample>) = all
        .into_iter()
        .filter(|s| matches!(s.kind, Kind::Supervisor | Kind::Quiet))
        .partition(|s| s.kind == Kind::Supervisor);
    let writes = |samples: &[Sample]| {
        samples
            .iter()
            .flat_map(|s| &s.exchanges)
            .filter(|x| x.carried_changes == Some(true))
            .count()
    };
    let sup_busy = shared
        .errors
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.starts_with("sup-") && e.contains("503"))
        .count();
    println!(
        "supervisor pulls: {} ok, end to end {}, server {}; {} received documents ({} in all); \
         {} of their {} requests carried changes; {sup_busy} answered 503",
        pulls.len(),
        spread(pulls.iter().map(|s| s.run).collect()),
        spread(server_totals(&mut pulls)),
        pulls.iter().filter(|s| s.received > 0).count(),
        pulls.iter().map(|s| s.received as i64).sum::<i64>(),
        writes(&pulls),
        pulls.iter().map(|s| s.exchanges.len()).sum::<usize>(),
    );
    for q in &quiet {
        if q.received != 0 || q.exchanges.len() != 1 || writes(std::slice::from_ref(q)) != 0 {
            shared.error(format!(
                "a supervisor's pull with nothing new made {} requests ({} carrying changes) \
                 and received {} documents",
                q.exchanges.len(),
                writes(std::slice::from_ref(q)),
                q.received
            ));
        }
    }
    println!(
        "supervisor pulls with nothing new: {} of {} ok with one request, nothing sent or \
         received",
        quiet
            .iter()
            .filter(|q| q.received == 0
                && q.exchanges.len() == 1
                && writes(std::slice::from_ref(q)) == 0)
            .count(),
        c.supervisors
    );
    let count = "SELECT COUNT(*) FROM docs WHERE kind = 'report'";
    let rows: i64 = match &pg {
        Some(pg) => pg.query_i64(count).unwrap(),
        None => rusqlite::Connection::open(&db)
            .unwrap()
            .query_row(count, [], |r| r.get(0))
            .unwrap(),
    };
    let errors = shared.errors.lock().unwrap().clone();
    // What the errors were: the server turning a request away (503 busy: SQLite's write
    // queue or a PostgreSQL connection not free within 5 s), a run that stopped at its
    // request limit before the device had everything (a supervisor catching up with
    // thousands of reports; its next pull goes on), or anything else.
    let busy = errors.iter().filter(|e| e.contains("503")).count();
    let incomplete = errors.iter().filter(|e| e.contains("incomplete")).count();
    println!(
        "server holds {rows} reports (expected {}); {} errors in all: {busy} busy (503), \
         {incomplete} runs incomplete at their request limit, {} other",
        c.devices * c.reports,
        errors.len(),
        errors.len() - busy - incomplete
    );
    for e in errors.iter().take(10) {
        eprintln!("error: {e}");
    }
    drop(admin);
    for server in servers {
        server.shutdown();
    }
    errors.len() + usize::from(rows as usize != c.devices * c.reports)
}
