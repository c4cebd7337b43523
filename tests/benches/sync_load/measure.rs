//! What `sync_load` measures besides the end-to-end time of a sync: the HTTP exchange as the
//! device's transport sees it, the server's own account of it (its `Server-Timing` header),
//! and who spent the machine's CPU during a phase (the server, PostgreSQL's backends, the
//! simulated devices, other processes), so that the server's cost is not read off latencies
//! that are mostly a wait for one of two shared cores.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use waystation_core::CancelToken;
use waystation_core::sync::protocol::{self, SyncRequest};
use waystation_core::sync::{
    HttpRequest, HttpResponse, HttpTransport, ReqwestTransport, TransportError,
};

/// The server's account of one `POST /v1/sync` (its `Server-Timing` header, `http.rs`).
#[derive(Clone, Copy, Debug, Default)]
pub struct ServerTiming {
    /// From the handler's start to the encoded answer.
    pub total: Duration,
    /// The protocol's work on its blocking thread.
    pub sync: Duration,
    /// That thread's CPU time.
    pub cpu: Option<Duration>,
    /// Waits for the database engine (PostgreSQL round trips and pool waits) and their count.
    pub db: Duration,
    pub calls: u32,
    /// Getting the transaction (SQLite's write gate, a PostgreSQL connection).
    pub begin: Duration,
    /// Waiting for a blocking-pool thread.
    pub wait: Duration,
}

/// Parses `name;dur=ms;desc="n", …`; `None` when `total` or `sync` is missing.
pub fn parse_server_timing(v: &str) -> Option<ServerTiming> {
    let mut t = ServerTiming::default();
    let (mut total, mut sync) = (false, false);
    for metric in v.split(',') {
        let mut parts = metric.trim().split(';');
        let name = parts.next()?.trim();
        let mut dur = None;
        let mut desc = None;
        for p in parts {
            if let Some(d) = p.trim().strip_prefix("dur=") {
                dur = d
                    .parse::<f64>()
                    .ok()
                    .map(|ms| Duration::from_secs_f64(ms / 1e3));
            } else if let Some(d) = p.trim().strip_prefix("desc=") {
                desc = d.trim_matches('"').parse::<u32>().ok();
            }
        }
        let dur = dur.unwrap_or_default();
        match name {
            "total" => (t.total, total) = (dur, true),
            "sync" => (t.sync, sync) = (dur, true),
            "cpu" => t.cpu = Some(dur),
            "db" => (t.db, t.calls) = (dur, desc.unwrap_or(0)),
            "begin" => t.begin = dur,
            "wait" => t.wait = dur,
            _ => {}
        }
    }
    (total && sync).then_some(t)
}

/// One `POST /v1/sync` as the device's transport saw it.
#[derive(Clone, Copy, Debug)]
pub struct Exchange {
    /// From handing the request to the HTTP client to having the whole answer.
    pub client: Duration,
    /// The server's account, when the answer carried one.
    pub server: Option<ServerTiming>,
    /// Whether the request carried changes, which makes the server take its write lock
    /// (SQLite's single writer); known for a [`Timed::inspecting`] transport only.
    pub carried_changes: Option<bool>,
}

/// The built-in transport, recording each sync exchange; the caller takes them after a run.
pub struct Timed {
    inner: ReqwestTransport,
    seen: Mutex<Vec<Exchange>>,
    /// Decode each sync request to tell whether it carried changes.
    inspect: bool,
}

impl Timed {
    pub fn new(inner: ReqwestTransport) -> Timed {
        Timed {
            inner,
            seen: Mutex::new(Vec::new()),
            inspect: false,
        }
    }

    /// A [`Timed`] that also decodes each sync request (the supervisors': they write nothing,
    /// so a request of theirs that carries changes is worth counting). The riders' are not
    /// decoded, which would add to the devices' CPU.
    pub fn inspecting(inner: ReqwestTransport) -> Timed {
        Timed {
            inspect: true,
            ..Timed::new(inner)
        }
    }

    /// The exchanges since the last call.
    pub fn take(&self) -> Vec<Exchange> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

impl HttpTransport for Timed {
    fn send(
        &self,
        request: HttpRequest,
        cancel: &CancelToken,
    ) -> Result<HttpResponse, TransportError> {
        let is_sync = request.method == "POST" && request.url.ends_with("/v1/sync");
        let carried_changes = (is_sync && self.inspect).then(|| carries_changes(&request.body));
        let t = Instant::now();
        let response = self.inner.send(request, cancel);
        if is_sync && let Ok(r) = &response {
            let server = r.header("server-timing").and_then(parse_server_timing);
            self.seen.lock().unwrap().push(Exchange {
                client: t.elapsed(),
                server,
                carried_changes,
            });
        }
        response
    }
}

/// Whether a sync request body carries changes in any document's message, as the server
/// decides it (`DecodedRequest::carries_changes`).
fn carries_changes(body: &[u8]) -> bool {
    let Ok(request) = protocol::decode::<SyncRequest>(body) else {
        return false;
    };
    request
        .docs
        .iter()
        .any(|d| protocol::decode_sync_message(&d.message).is_ok_and(|m| !m.changes.is_empty()))
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// `p50 / p99 / p99.9` of `values`, in ms.
pub fn spread(mut values: Vec<Duration>) -> String {
    values.sort();
    format!(
        "{:.0} / {:.0} / {:.0} ms",
        ms(percentile(&values, 0.5)),
        ms(percentile(&values, 0.99)),
        ms(percentile(&values, 0.999))
    )
}

/// Clock ticks per second of `/proc`'s CPU times.
fn ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// `(comm, utime + stime in ticks)` from a `/proc/…/stat` file.
fn stat(path: &str) -> Option<(String, u64)> {
    let s = std::fs::read_to_string(path).ok()?;
    let open = s.find('(')?;
    let close = s.rfind(')')?;
    let comm = s[open + 1..close].to_string();
    let fields: Vec<&str> = s[close + 1..].split_whitespace().collect();
    // Fields after the name start at `state` (field 3); utime and stime are fields 14 and 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((comm, utime + stime))
}

/// CPU time counters at one moment.
#[derive(Clone, Debug, Default)]
pub struct CpuSnapshot {
    /// This process, every thread that ever ran in it.
    process: u64,
    /// This process's living threads by name.
    threads: HashMap<String, u64>,
    /// PostgreSQL backends serving `db`, by pid.
    backends: HashMap<u32, u64>,
    /// The whole machine: busy and all ticks (`/proc/stat`).
    machine_busy: u64,
    machine_all: u64,
}

impl CpuSnapshot {
    /// Now; `pg_db` names the database whose backends to count.
    pub fn take(pg_db: Option<&str>) -> CpuSnapshot {
        let mut snap = CpuSnapshot {
            process: stat("/proc/self/stat").map_or(0, |s| s.1),
            ..CpuSnapshot::default()
        };
        if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
            for t in tasks.flatten() {
                let path = format!("{}/stat", t.path().display());
                if let Some((comm, ticks)) = stat(&path) {
                    *snap.threads.entry(comm).or_default() += ticks;
                }
            }
        }
        if let (Some(db), Ok(procs)) = (pg_db, std::fs::read_dir("/proc")) {
            let needle = format!(" {db} ");
            for p in procs.flatten() {
                let Some(pid) = p.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                    continue;
                };
                let cmdline = std::fs::read(p.path().join("cmdline")).unwrap_or_default();
                let cmdline = String::from_utf8_lossy(&cmdline);
                if cmdline.starts_with("postgres: ")
                    && cmdline.contains(&needle)
                    && let Some((_, ticks)) = stat(&format!("/proc/{pid}/stat"))
                {
                    snap.backends.insert(pid, ticks);
                }
            }
        }
        if let Ok(s) = std::fs::read_to_string("/proc/stat")
            && let Some(line) = s.lines().next()
        {
            let v: Vec<u64> = line
                .split_whitespace()
                .skip(1)
                .filter_map(|x| x.parse().ok())
                .collect();
            snap.machine_all = v.iter().sum();
            // idle and iowait are fields 4 and 5.
            snap.machine_busy = snap.machine_all - v.get(3).unwrap_or(&0) - v.get(4).unwrap_or(&0);
        }
        snap
    }
}

/// Where the CPU went between two snapshots, in seconds.
#[derive(Clone, Debug, Default)]
pub struct CpuUse {
    /// The server instances: HTTP, protocol, Automerge, SQLite (what is left of this process
    /// once the load generator's threads are taken out).
    pub server: f64,
    /// The server's PostgreSQL driver threads.
    pub pg_driver: f64,
    /// PostgreSQL's backends for this database.
    pub postgres: f64,
    /// The simulated devices (their own Automerge and SQLite work, the supervisors' too) and
    /// their HTTP thread.
    pub devices: f64,
    /// Everything else on the machine (other engineers' builds and tests).
    pub others: f64,
    /// Cores × seconds available.
    pub capacity: f64,
}

impl CpuUse {
    /// `generator` is the CPU the load generator's own threads reported (threads that ended
    /// within the phase are gone from `/proc`).
    pub fn between(a: &CpuSnapshot, b: &CpuSnapshot, generator: Duration) -> CpuUse {
        let hz = ticks_per_second();
        let s = |t: u64| t as f64 / hz;
        let thread = |name: &str| {
            s(b.threads
                .get(name)
                .copied()
                .unwrap_or(0)
                .saturating_sub(a.threads.get(name).copied().unwrap_or(0)))
        };
        let process = s(b.process.saturating_sub(a.process));
        let http = thread("waystation-http");
        let pg_driver = thread("waystation-pg");
        let devices = generator.as_secs_f64() + http + thread("load-sup");
        let postgres: f64 = b
            .backends
            .iter()
            .map(|(pid, t)| s(t.saturating_sub(a.backends.get(pid).copied().unwrap_or(0))))
            .sum();
        let machine = s(b.machine_busy.saturating_sub(a.machine_busy));
        CpuUse {
            server: (process - devices - pg_driver).max(0.0),
            pg_driver,
            postgres,
            devices,
            others: (machine - process - postgres).max(0.0),
            capacity: s(b.machine_all.saturating_sub(a.machine_all)),
        }
    }
}
