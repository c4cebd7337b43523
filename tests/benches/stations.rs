//! Station finder benchmarks on 100,000 synthetic stations around Xi'an.
//!
//! `cargo bench -p waystation-tests --bench stations`
//!
//! - `nearest/index`: k = 5 nearest with one service filter and open-now (target: median
//!   under 20 µs);
//! - `nearest/brute_force` and `nearest/sqlite_rtree`: the same queries by scanning every
//!   station and through SQLite's R*Tree module, for ratios from one run;
//! - `index/build_from_sqlite`: loading 100,000 stations from SQLite and building the index
//!   (target: under 150 ms), what a device does at open and after a station pack import;
//!   `index/load_rows_only` is its first half (rows to the shared `Arc<Station>` values the
//!   index keeps) and `index/sqlite_scan_no_alloc` the SQLite step alone.

use chrono::{DateTime, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use rusqlite::{Connection, params};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use waystation_core::geo::distance_m;
use waystation_core::stations::{
    self, OpenStatus, Service, ServiceSet, StationFilter, StationIndex,
};
use waystation_core::{FixedClock, Options, Waystation};
use waystation_tests::{SplitMix, sign, synthetic_payload, trusted};

const N: usize = 100_000;

fn noon() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-30T04:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn queries() -> Vec<(f64, f64)> {
    let mut rng = SplitMix(2024);
    (0..256)
        .map(|_| (rng.range(34.05, 34.45), rng.range(108.7, 109.2)))
        .collect()
}

/// k-nearest through SQLite's R*Tree: grow a box until it holds k passing stations whose
/// k-th distance fits inside the box, then sort by geodesic distance.
fn rtree_nearest(
    conn: &Connection,
    index: &StationIndex,
    lat: f64,
    lon: f64,
    k: usize,
    required: ServiceSet,
    at: DateTime<Utc>,
) -> Vec<(f64, String)> {
    let mut half_deg = 0.005;
    loop {
        let mut stmt = conn
            .prepare_cached(
                "SELECT s.id, s.lat, s.lon, s.services FROM station_rtree r \
                 JOIN stations s ON s.rowid = r.id \
                 WHERE r.min_lat >= ?1 AND r.max_lat <= ?2 AND r.min_lon >= ?3 AND r.max_lon <= ?4",
            )
            .unwrap();
        let mut found: Vec<(f64, String)> = stmt
            .query_map(
                params![
                    lat - half_deg,
                    lat + half_deg,
                    lon - half_deg * 1.25,
                    lon + half_deg * 1.25
                ],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, f64>(1)?,
                        r.get::<_, f64>(2)?,
                        r.get::<_, i64>(3)?,
                    ))
                },
            )
            .unwrap()
            .filter_map(|r| r.ok())
            .filter(|(_, _, _, sv)| ServiceSet(*sv as u32).contains_all(required))
            .filter(|(id, ..)| {
                let s = index.get(id).unwrap();
                stations::Hours::parse(s.opening_hours.as_deref()).status_at(at) == OpenStatus::Open
            })
            .map(|(id, la, lo, _)| (distance_m(lat, lon, la, lo), id))
            .collect();
        found.sort_by(|a, b| a.0.total_cmp(&b.0));
        // The box's inscribed radius: anything farther might be outside it.
        let inscribed = half_deg * 110_000.0 * 0.99;
        if found.len() >= k && found[k - 1].0 <= inscribed {
            found.truncate(k);
            return found;
        }
        half_deg *= 2.0;
    }
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let config = Options {
        trusted_keys: trusted(),
        max_pack_bytes: 256 << 20,
    };
    let ws =
        Waystation::open_with_clock(dir.path(), config, Arc::new(FixedClock::new(noon()))).unwrap();
    ws.packs()
        .import_stations(&sign(&synthetic_payload("bench", 1, N, 1)))
        .unwrap();
    let index = ws.stations().index();
    assert_eq!(index.len(), N);
    let filter = StationFilter {
        services: vec![Service::EbikeCharging],
        open_only: true,
        max_distance_m: None,
    };
    let qs = queries();

    // The R*Tree side table, built once.
    let conn = Connection::open(dir.path().join(waystation_core::store::DB_FILE)).unwrap();
    conn.execute_batch(
        "CREATE VIRTUAL TABLE station_rtree USING rtree(id, min_lat, max_lat, min_lon, max_lon);
         INSERT INTO station_rtree SELECT rowid, lat, lat, lon, lon FROM stations;",
    )
    .unwrap();
    // Check all three agree before timing them.
    for &(lat, lon) in qs.iter().take(20) {
        let a: Vec<_> = index
            .nearest(lat, lon, 5, &filter, noon())
            .iter()
            .map(|h| h.station.id.clone())
            .collect();
        let b: Vec<_> = index
            .nearest_brute_force(lat, lon, 5, &filter, noon())
            .iter()
            .map(|h| h.station.id.clone())
            .collect();
        let r: Vec<_> = rtree_nearest(
            &conn,
            &index,
            lat,
            lon,
            5,
            ServiceSet::of(&filter.services),
            noon(),
        )
        .into_iter()
        .map(|x| x.1)
        .collect();
        assert_eq!(a, b);
        assert_eq!(a, r);
    }

    let mut g = c.benchmark_group("nearest");
    g.measurement_time(Duration::from_secs(5));
    let mut i = 0;
    g.bench_function("index", |bch| {
        bch.iter(|| {
            let (lat, lon) = qs[i % qs.len()];
            i += 1;
            black_box(index.nearest(lat, lon, 5, &filter, noon()))
        })
    });
    g.bench_function("brute_force", |bch| {
        bch.iter(|| {
            let (lat, lon) = qs[i % qs.len()];
            i += 1;
            black_box(index.nearest_brute_force(lat, lon, 5, &filter, noon()))
        })
    });
    let required = ServiceSet::of(&filter.services);
    g.bench_function("sqlite_rtree", |bch| {
        bch.iter(|| {
            let (lat, lon) = qs[i % qs.len()];
            i += 1;
            black_box(rtree_nearest(&conn, &index, lat, lon, 5, required, noon()))
        })
    });
    g.finish();

    let mut g = c.benchmark_group("index");
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(10));
    // iter_with_large_drop: freeing the previous index is not part of building one.
    g.bench_function("build_from_sqlite", |bch| {
        bch.iter_with_large_drop(|| {
            let read = ws.store().read();
            black_box(StationIndex::build(stations::load_all(&read).unwrap()))
        })
    });
    g.bench_function("sqlite_scan_no_alloc", |bch| {
        bch.iter(|| {
            let read = ws.store().read();
            let mut stmt = read.prepare_cached("SELECT id, pack_id, name_zh, name_en, lat, lon, source_datum, source_lat, source_lon, address_zh, address_en, district, services, opening_hours, phone, operator, last_verified FROM stations").unwrap();
            let mut rows = stmt.query([]).unwrap();
            let mut n = 0usize;
            while let Some(r) = rows.next().unwrap() {
                for c in 0..17 {
                    n += r.get_ref(c).unwrap().as_bytes().map(|b| b.len()).unwrap_or(1);
                }
            }
            black_box(n)
        })
    });
    g.bench_function("load_rows_only", |bch| {
        bch.iter_with_large_drop(|| {
            let read = ws.store().read();
            black_box(stations::load_all(&read).unwrap())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
