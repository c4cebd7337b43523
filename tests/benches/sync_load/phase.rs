//! A timed phase of `sync_load`: its figures per kind of sync, where the CPU went, and a
//! Markdown row for docs/benchmarks.md.

use std::time::{Duration, Instant};

use super::measure::{self, CpuSnapshot, CpuUse, Exchange, ms, spread};
use super::{Kind, Sample, Shared};

/// The server's `total` of each exchange of `samples`.
pub fn server_totals(samples: &mut [Sample]) -> Vec<Duration> {
    samples
        .iter()
        .flat_map(|s| s.exchanges.iter().filter_map(|x| x.server.map(|t| t.total)))
        .collect()
}

/// A timed phase: its start, and the CPU counters then.
pub struct Phase {
    start: Instant,
    cpu: CpuSnapshot,
    errors: usize,
    pg: Option<String>,
}

impl Phase {
    pub fn start(shared: &Shared, pg: Option<&str>) -> Phase {
        Phase {
            start: Instant::now(),
            cpu: CpuSnapshot::take(pg),
            errors: shared.errors.lock().unwrap().len(),
            pg: pg.map(String::from),
        }
    }

    /// Prints the phase's figures for `kinds`, and a Markdown table row.
    pub fn report(self, shared: &Shared, label: &str, what: &str, kinds: &[Kind]) {
        let wall = self.start.elapsed();
        let cpu = CpuUse::between(
            &self.cpu,
            &CpuSnapshot::take(self.pg.as_deref()),
            *shared.generator_cpu.lock().unwrap(),
        );
        let errors = shared.errors.lock().unwrap().len() - self.errors;
        let samples = shared.samples.lock().unwrap();
        let syncs = samples.iter().filter(|s| kinds.contains(&s.kind)).count();
        println!(
            "-- {what}: {syncs} syncs ok, {errors} errors in {:.1} s ({:.1}/s)",
            wall.as_secs_f64(),
            syncs as f64 / wall.as_secs_f64()
        );
        for kind in kinds {
            let part: Vec<&Sample> = samples.iter().filter(|s| s.kind == *kind).collect();
            let xs: Vec<&Exchange> = part.iter().flat_map(|s| s.exchanges.iter()).collect();
            let server: Vec<_> = xs.iter().filter_map(|x| x.server).collect();
            let name = match kind {
                Kind::First => "first syncs",
                Kind::Incremental | Kind::Open(_) => "incremental syncs",
                Kind::Supervisor | Kind::Quiet => "supervisor pulls",
            };
            let mean = |f: &dyn Fn(&measure::ServerTiming) -> f64| {
                server.iter().map(f).sum::<f64>() / server.len().max(1) as f64
            };
            println!("   {name} ({}, {} HTTP exchanges):", part.len(), xs.len());
            println!(
                "     device, end to end {}; late start p99 {:.0} ms",
                spread(part.iter().map(|s| s.run).collect()),
                ms(measure::percentile(
                    &{
                        let mut l: Vec<_> = part.iter().map(|s| s.late).collect();
                        l.sort();
                        l
                    },
                    0.99
                ))
            );
            println!(
                "     HTTP as the device sees it {}",
                spread(xs.iter().map(|x| x.client).collect())
            );
            println!(
                "     server: total {}; its thread's CPU {}; database waits {} in {:.1} calls",
                spread(server.iter().map(|t| t.total).collect()),
                spread(server.iter().filter_map(|t| t.cpu).collect()),
                spread(server.iter().map(|t| t.db).collect()),
                mean(&|t| t.calls as f64),
            );
            println!(
                "     server means: total {:.1} ms = wait for a thread {:.1} + begin {:.1} + rest \
                 of sync {:.1} + auth/body/encode; database waits {:.1} (begin's included), CPU {:.1}",
                mean(&|t| ms(t.total)),
                mean(&|t| ms(t.wait)),
                mean(&|t| ms(t.begin)),
                mean(&|t| ms(t.sync) - ms(t.begin)),
                mean(&|t| ms(t.db)),
                mean(&|t| t.cpu.map_or(0.0, ms)),
            );
            println!(
                "| {label} | {what}: {name} | {} ok, {errors} errors, {:.1}/s | {} | {} | {} | {:.1} ms, {:.1} calls |",
                part.len(),
                part.len() as f64 / wall.as_secs_f64(),
                spread(part.iter().map(|s| s.run).collect()),
                spread(xs.iter().map(|x| x.client).collect()),
                spread(server.iter().map(|t| t.total).collect()),
                mean(&|t| t.cpu.map_or(0.0, ms)),
                mean(&|t| t.calls as f64),
            );
        }
        let per = |s: f64| s * 1e3 / syncs.max(1) as f64;
        let postgres = if self.pg.is_some() {
            format!(
                ", its PostgreSQL driver {:.1} s, PostgreSQL backends {:.1} s ({:.1} ms per rider \
                 sync)",
                cpu.pg_driver,
                cpu.postgres,
                per(cpu.postgres)
            )
        } else {
            String::new()
        };
        println!(
            "   CPU of {:.0} core-s: server {:.1} s ({:.1} ms per rider sync, supervisors' pulls \
             included){postgres}, devices {:.1} s, other processes {:.1} s",
            cpu.capacity,
            cpu.server,
            per(cpu.server),
            cpu.devices,
            cpu.others
        );
    }
}
