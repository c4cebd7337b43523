//! Training search benchmarks on 1,000 lessons made from the real course content.
//!
//! `cargo bench -p waystation-tests --bench training`
//!
//! - `search/fts_*`: queries of three or more characters through the FTS5 trigram index,
//!   ranked by bm25, with snippets (target: under 5 ms each);
//! - `search/like_*`: one- and two-character queries through the substring scan fallback;
//! - `search/no_hit`: a query that matches nothing.
//!
//! Every query asks for 20 results, as a search screen would.

use chrono::{DateTime, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use waystation_core::{FixedClock, Options, Waystation};
use waystation_tests::{sign_training, synthetic_training_payload, trusted};

const LESSONS: usize = 1_000;

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let config = Options {
        trusted_keys: trusted(),
        ..Options::default()
    };
    let now: DateTime<Utc> = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    let ws =
        Waystation::open_with_clock(dir.path(), config, Arc::new(FixedClock::new(now))).unwrap();
    let out = ws
        .packs()
        .import_training(&sign_training(&synthetic_training_payload(
            "bench-training",
            1,
            LESSONS,
            11,
        )))
        .unwrap();
    assert_eq!(out.lessons as usize, LESSONS);

    let queries: &[(&str, &str)] = &[
        ("fts_zh_phrase", "食安封签"),
        ("fts_zh_common", "电动自行车"),
        ("fts_en_word", "helmet"),
        ("fts_two_terms", "helmet strap"),
        ("like_zh_two_chars", "头盔"),
        ("like_zh_one_char", "盔"),
        ("no_hit", "量子计算机"),
    ];
    let mut group = c.benchmark_group("search");
    group
        .sample_size(50)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for (name, q) in queries {
        let n = ws.training().search(q, 20).unwrap().len();
        eprintln!("search '{q}': {n} hits (of at most 20)");
        group.bench_function(*name, |b| {
            b.iter(|| black_box(ws.training().search(black_box(q), 20).unwrap()))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
