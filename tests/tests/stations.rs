//! End-to-end tests of the station finder: signed packs in, exact nearest answers out.

use chrono::{DateTime, Utc};
use serde_json::json;
use std::sync::Arc;

use waystation_core::geo::{Datum, Position};
use waystation_core::packs;
use waystation_core::stations::{NearestQuery, OpenStatus, Service, StationFilter, WithinQuery};
use waystation_core::{Error, FixedClock, Options, Waystation};
use waystation_tests::{SplitMix, sign, synthetic_payload, trusted};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Monday 2026-11-30, 12:00 in Xi'an.
fn noon() -> DateTime<Utc> {
    at("2026-11-30T04:00:00Z")
}

fn open(dir: &std::path::Path) -> Waystation {
    let options = Options {
        trusted_keys: trusted(),
        ..Options::default()
    };
    Waystation::open_with_clock(dir, options, Arc::new(FixedClock::new(noon()))).unwrap()
}

fn query(lat: f64, lon: f64, limit: i32, filter: StationFilter) -> NearestQuery {
    NearestQuery {
        position: Position::wgs84(lat, lon).unwrap(),
        limit,
        filter,
        at: Some(noon()),
    }
}

#[test]
fn index_answers_exactly_like_a_brute_force_scan() {
    let dir = tempfile::tempdir().unwrap();
    let ws = open(dir.path());
    ws.packs()
        .import_stations(&sign(&synthetic_payload("synthetic", 1, 5_000, 7)))
        .unwrap();
    let index = ws.stations().index();
    let mut rng = SplitMix(99);
    let service_choices = [
        vec![],
        vec![Service::EbikeCharging],
        vec![Service::DrinkingWater, Service::FirstAidKit],
    ];
    for round in 0..300 {
        let (lat, lon) = (rng.range(33.9, 34.6), rng.range(108.5, 109.4));
        let filter = StationFilter {
            services: service_choices[round % 3].clone(),
            open_only: round % 2 == 0,
            max_distance_m: if round % 5 == 0 {
                Some(rng.range(100.0, 5_000.0))
            } else {
                None
            },
        };
        let k = 1 + rng.below(20);
        let fast = index.nearest(lat, lon, k, &filter, noon());
        let slow = index.nearest_brute_force(lat, lon, k, &filter, noon());
        let ids = |h: &[waystation_core::stations::StationHit]| {
            h.iter()
                .map(|x| (x.station.id.clone(), x.distance_m))
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&fast), ids(&slow), "round {round} at {lat},{lon}");
        for w in fast.windows(2) {
            assert!(w[0].distance_m <= w[1].distance_m);
        }
        for h in &fast {
            let set = h.station.services;
            assert!(set.contains_all(waystation_core::stations::ServiceSet::of(&filter.services)));
            if filter.open_only {
                assert_eq!(h.status, OpenStatus::Open);
            }
            if let Some(m) = filter.max_distance_m {
                assert!(h.distance_m <= m);
            }
        }
    }
}

#[test]
fn radius_search_returns_everything_inside_and_nothing_outside() {
    let dir = tempfile::tempdir().unwrap();
    let ws = open(dir.path());
    ws.packs()
        .import_stations(&sign(&synthetic_payload("synthetic", 1, 2_000, 3)))
        .unwrap();
    let center = Position::wgs84(34.25, 108.95).unwrap();
    let hits = ws
        .stations()
        .within(&WithinQuery {
            center,
            radius_m: 3_000.0,
            filter: StationFilter::default(),
            at: None,
        })
        .unwrap();
    let all = ws.stations().index().nearest_brute_force(
        34.25,
        108.95,
        5_000,
        &StationFilter::default(),
        noon(),
    );
    let expected: Vec<_> = all
        .iter()
        .filter(|h| h.distance_m <= 3_000.0)
        .map(|h| &h.station.id)
        .collect();
    let got: Vec<_> = hits.iter().map(|h| &h.station.id).collect();
    assert!(!got.is_empty());
    assert_eq!(got, expected);
}

#[test]
fn query_in_gcj02_equals_query_in_wgs84() {
    let dir = tempfile::tempdir().unwrap();
    let ws = open(dir.path());
    ws.packs()
        .import_stations(&sign(&synthetic_payload("synthetic", 1, 500, 5)))
        .unwrap();
    let wgs = Position::wgs84(34.2595, 108.9424).unwrap();
    let gcj = wgs.to_datum(Datum::Gcj02).unwrap();
    let a = ws
        .stations()
        .nearest(&NearestQuery {
            position: wgs,
            ..query(0.0, 0.0, 5, StationFilter::default())
        })
        .unwrap();
    let b = ws
        .stations()
        .nearest(&NearestQuery {
            position: gcj,
            ..query(0.0, 0.0, 5, StationFilter::default())
        })
        .unwrap();
    assert_eq!(a.len(), 5);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.station.id, y.station.id);
        assert!((x.distance_m - y.distance_m).abs() < 0.01);
    }
}

#[test]
fn unknown_hours_are_never_open_and_hits_carry_next_change() {
    let dir = tempfile::tempdir().unwrap();
    let ws = open(dir.path());
    ws.packs()
        .import_stations(&sign(&synthetic_payload("synthetic", 1, 1_000, 11)))
        .unwrap();
    let hits = ws
        .stations()
        .nearest(&query(34.25, 108.95, 1_000, StationFilter::default()))
        .unwrap();
    assert_eq!(hits.len(), 1_000);
    let mut seen = std::collections::HashSet::new();
    for h in &hits {
        let hours = h.station.opening_hours.as_deref();
        match hours {
            None | Some("白天营业") | Some("Mo-Su unknown") => {
                assert_eq!(h.status, OpenStatus::Unknown)
            }
            Some("24/7") => assert_eq!((h.status, h.next_change), (OpenStatus::Open, None)),
            Some("Mo-Su 08:00-20:00") => {
                assert_eq!(h.status, OpenStatus::Open);
                assert_eq!(h.next_change, Some(at("2026-11-30T12:00:00Z")));
            }
            _ => {}
        }
        seen.insert(h.status);
    }
    assert_eq!(seen.len(), 3, "open, closed and unknown all occur");
    let open_only = ws
        .stations()
        .nearest(&query(
            34.25,
            108.95,
            1_000,
            StationFilter {
                open_only: true,
                ..Default::default()
            },
        ))
        .unwrap();
    assert!(open_only.iter().all(|h| h.status == OpenStatus::Open));
    assert_eq!(
        open_only.len(),
        hits.iter().filter(|h| h.status == OpenStatus::Open).count()
    );
}

#[test]
fn index_is_rebuilt_from_sqlite_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let first = {
        let ws = open(dir.path());
        ws.packs()
            .import_stations(&sign(&synthetic_payload("synthetic", 1, 300, 1)))
            .unwrap();
        ws.stations()
            .nearest(&query(34.2, 108.9, 3, StationFilter::default()))
            .unwrap()
    };
    let ws = open(dir.path());
    assert_eq!(ws.stations().count(), 300);
    let again = ws
        .stations()
        .nearest(&query(34.2, 108.9, 3, StationFilter::default()))
        .unwrap();
    assert_eq!(first, again);
}

#[test]
fn version_rules_on_import() {
    let dir = tempfile::tempdir().unwrap();
    let ws = open(dir.path());
    let v2 = sign(&synthetic_payload("city", 2, 100, 1));
    let o = ws.packs().import_stations(&v2).unwrap();
    assert_eq!(
        (o.version, o.previous_version, o.unchanged),
        (2, None, false)
    );

    // the same pack again: nothing changes
    let o = ws.packs().import_stations(&v2).unwrap();
    assert!(o.unchanged);

    // older: refused
    let err = ws
        .packs()
        .import_stations(&sign(&synthetic_payload("city", 1, 100, 1)))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("older than the installed version 2"),
        "{err}"
    );

    // same version, different content: refused
    let err = ws
        .packs()
        .import_stations(&sign(&synthetic_payload("city", 2, 101, 1)))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("already installed with different content"),
        "{err}"
    );
    assert_eq!(ws.stations().count(), 100);

    // newer replaces, dropping stations the new version no longer lists
    let o = ws
        .packs()
        .import_stations(&sign(&synthetic_payload("city", 3, 40, 2)))
        .unwrap();
    assert_eq!((o.version, o.previous_version), (3, Some(2)));
    assert_eq!(ws.stations().count(), 40);
    assert!(ws.stations().get("city-000050").is_err());
    let packs = ws.packs().installed().unwrap();
    assert_eq!(packs.len(), 1);
    assert_eq!(packs[0].version, 3);
}

#[test]
fn a_refused_or_failing_import_leaves_the_previous_pack_usable() {
    let dir = tempfile::tempdir().unwrap();
    let ws = open(dir.path());
    ws.packs()
        .import_stations(&sign(&synthetic_payload("a", 1, 100, 1)))
        .unwrap();
    ws.packs()
        .import_stations(&sign(&synthetic_payload("b", 1, 100, 2)))
        .unwrap();
    let before = ws
        .stations()
        .nearest(&query(34.2, 108.9, 10, StationFilter::default()))
        .unwrap();

    // Pack "b" v2 reuses a station id that pack "a" owns: the insert fails halfway through the
    // transaction (after "b"'s old rows were deleted) and must roll back entirely.
    let mut p = synthetic_payload("b", 2, 100, 3);
    p["stations"][99]["id"] = json!("a-000005");
    let err = ws.packs().import_stations(&sign(&p)).unwrap_err();
    assert!(
        err.to_string()
            .contains("already installed from another pack"),
        "{err}"
    );

    // A station with an invalid field at the very end.
    let mut p = synthetic_payload("b", 2, 100, 3);
    p["stations"][99]["position"]["lat"] = json!(123.0);
    let err = ws.packs().import_stations(&sign(&p)).unwrap_err();
    assert!(err.to_string().contains("latitude 123 is outside"), "{err}");

    assert_eq!(ws.stations().count(), 200);
    assert_eq!(
        ws.packs()
            .installed()
            .unwrap()
            .iter()
            .find(|p| p.pack_id == "b")
            .unwrap()
            .version,
        1
    );
    let after = ws
        .stations()
        .nearest(&query(34.2, 108.9, 10, StationFilter::default()))
        .unwrap();
    assert_eq!(before, after);
    drop(ws);
    let ws = open(dir.path());
    assert_eq!(
        ws.stations()
            .nearest(&query(34.2, 108.9, 10, StationFilter::default()))
            .unwrap(),
        after
    );
}

fn import_err(ws: &Waystation, bytes: &[u8]) -> String {
    let err = ws.packs().import_stations(bytes).unwrap_err();
    assert!(matches!(err, Error::PackRejected(_)), "{err:?}");
    err.to_string()
}

#[test]
fn bad_packs_are_refused_with_a_named_reason() {
    let dir = tempfile::tempdir().unwrap();
    let config = Options {
        trusted_keys: trusted(),
        max_pack_bytes: 2_000_000,
    };
    let ws =
        Waystation::open_with_clock(dir.path(), config, Arc::new(FixedClock::new(noon()))).unwrap();
    ws.packs()
        .import_stations(&sign(&synthetic_payload("keep", 1, 50, 1)))
        .unwrap();
    let good = sign(&synthetic_payload("new", 1, 10, 1));

    assert!(import_err(&ws, b"").contains("empty"));
    assert!(import_err(&ws, b"not json at all").contains("not a signed pack envelope"));
    assert!(import_err(&ws, &good[..good.len() - 40]).contains("truncated"));
    let huge = sign(&synthetic_payload("huge", 1, 10_000, 1));
    assert!(import_err(&ws, &huge).contains("more than the limit"));

    // tampered: change one character of the base64 payload
    let mut env: serde_json::Value = serde_json::from_slice(&good).unwrap();
    let payload = env["payload"].as_str().unwrap().to_string();
    let i = payload.len() / 2;
    let flipped = if &payload[i..i + 1] == "A" { "B" } else { "A" };
    env["payload"] = json!(format!("{}{}{}", &payload[..i], flipped, &payload[i + 1..]));
    assert!(import_err(&ws, &serde_json::to_vec(&env).unwrap()).contains("forged or tampered"));

    // unsigned
    let mut env: serde_json::Value = serde_json::from_slice(&good).unwrap();
    env["signatures"] = json!([]);
    assert!(import_err(&ws, &serde_json::to_vec(&env).unwrap()).contains("unsigned"));

    // signed by a key the device does not trust
    let stranger = packs::PublisherKeyPair::from_seed("stranger", [5u8; 32]);
    let bytes = serde_json::to_vec(&synthetic_payload("new", 1, 10, 1)).unwrap();
    let sealed = packs::seal(
        &bytes,
        waystation_core::stations::STATION_PACK_TYPE,
        &stranger,
    )
    .unwrap();
    assert!(import_err(&ws, &sealed).contains("not a trusted publisher key"));

    // signed correctly but of another type
    let sealed = packs::seal(
        &bytes,
        "application/vnd.waystation.training-pack+json",
        &waystation_tests::test_key(),
    )
    .unwrap();
    assert!(
        import_err(&ws, &sealed)
            .contains("expected 'application/vnd.waystation.station-pack+json'")
    );

    // wrong format version, unknown service, unknown datum, bad district, duplicate id,
    // NaN position (as a string, since JSON has no NaN), malformed payload
    type Mutation = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(Mutation, &str)> = vec![
        (
            Box::new(|p| p["format_version"] = json!(9)),
            "format version 9 is not supported",
        ),
        (
            Box::new(|p| p["stations"][3]["services"] = json!(["toilet", "spa"])),
            "unknown service 'spa'",
        ),
        (
            Box::new(|p| p["stations"][3]["position"]["datum"] = json!("mars")),
            "unknown datum 'mars'",
        ),
        (
            Box::new(|p| p["stations"][3]["district"] = json!("61011")),
            "six-digit GB/T 2260",
        ),
        (
            Box::new(|p| p["stations"][4]["id"] = p["stations"][3]["id"].clone()),
            "appears twice",
        ),
        (
            Box::new(|p| p["stations"][3]["position"]["lon"] = json!("NaN")),
            "malformed",
        ),
        (
            Box::new(|p| p["stations"][3]["position"]["lon"] = json!(-200.0)),
            "longitude -200 is outside",
        ),
        (
            Box::new(|p| p["stations"][3]["name"]["zh"] = json!("")),
            "name.zh is empty",
        ),
        (Box::new(|p| p["pack_id"] = json!("../etc")), "pack_id"),
        (
            Box::new(|p| p["version"] = json!(0)),
            "version 0 is out of range",
        ),
    ];
    for (mutate, needle) in cases {
        let mut p = synthetic_payload("new", 1, 10, 1);
        mutate(&mut p);
        let msg = import_err(&ws, &sign(&p));
        assert!(msg.contains(needle), "expected '{needle}' in '{msg}'");
    }

    // Nothing of the above touched what was installed.
    assert_eq!(ws.stations().count(), 50);
    assert_eq!(ws.packs().installed().unwrap().len(), 1);
}

#[test]
fn bad_queries_are_refused_with_a_named_reason() {
    let dir = tempfile::tempdir().unwrap();
    let ws = open(dir.path());
    ws.packs()
        .import_stations(&sign(&synthetic_payload("q", 1, 10, 1)))
        .unwrap();
    let base = query(34.2, 108.9, 5, StationFilter::default());
    let nan = NearestQuery {
        position: waystation_core::geo::Position {
            lat: f64::NAN,
            lon: 108.9,
            datum: Datum::Wgs84,
        },
        ..base.clone()
    };
    assert!(
        ws.stations()
            .nearest(&nan)
            .unwrap_err()
            .to_string()
            .contains("latitude is not a finite number")
    );
    let far = NearestQuery {
        position: waystation_core::geo::Position {
            lat: 34.0,
            lon: 250.0,
            datum: Datum::Gcj02,
        },
        ..base.clone()
    };
    assert!(
        ws.stations()
            .nearest(&far)
            .unwrap_err()
            .to_string()
            .contains("longitude 250 is outside")
    );
    for limit in [0, -1, 1001, i32::MIN] {
        let bad = NearestQuery {
            limit,
            ..base.clone()
        };
        let err = ws.stations().nearest(&bad).unwrap_err().to_string();
        assert!(
            err.contains(&format!("limit must be between 1 and 1000, got {limit}")),
            "{err}"
        );
    }
    let neg = NearestQuery {
        filter: StationFilter {
            max_distance_m: Some(-1.0),
            ..Default::default()
        },
        ..base.clone()
    };
    assert!(
        ws.stations()
            .nearest(&neg)
            .unwrap_err()
            .to_string()
            .contains("maximum distance")
    );
    for radius_m in [f64::NAN, -1.0, f64::INFINITY] {
        let err = ws
            .stations()
            .within(&WithinQuery {
                center: base.position,
                radius_m,
                filter: StationFilter::default(),
                at: None,
            })
            .unwrap_err();
        assert!(err.to_string().contains("radius must be"), "{err}");
    }
    assert!(matches!(ws.stations().get("nope"), Err(Error::NotFound(_))));
    assert!(
        ws.stations()
            .search("   ", 5)
            .unwrap_err()
            .to_string()
            .contains("empty")
    );
}

#[test]
fn text_search_finds_chinese_substrings() {
    let dir = tempfile::tempdir().unwrap();
    let ws = open(dir.path());
    ws.packs()
        .import_stations(&sign(&synthetic_payload("t", 1, 200, 1)))
        .unwrap();
    // three or more characters: FTS5 trigram
    let hits = ws.stations().search("驿站12", 50).unwrap();
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|s| s.name_zh.contains("驿站12")));
    // two characters: substring fallback
    let hits = ws.stations().search("测试", 200).unwrap();
    assert_eq!(hits.len(), 200);
    let err = ws.stations().search("测试", 0).unwrap_err().to_string();
    assert!(
        err.contains("search limit must be between 1 and 200"),
        "{err}"
    );
    assert!(ws.stations().search("测试", 201).is_err());
    assert!(ws.stations().search("测试", -5).is_err());
    // English, case-insensitive
    let hits = ws.stations().search("test station 199", 5).unwrap();
    assert_eq!(hits[0].id, "t-000199");
    // quotes and LIKE wildcards are taken literally
    assert!(ws.stations().search("\"%_", 5).unwrap().is_empty());
}

#[test]
fn the_bundled_sample_pack_verifies_and_covers_xian() {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data/stations/xian-sample.pack.json"
    ))
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = Options {
        trusted_keys: vec![packs::demo_trusted_key()],
        ..Options::default()
    };
    let ws =
        Waystation::open_with_clock(dir.path(), config, Arc::new(FixedClock::new(noon()))).unwrap();
    let o = ws.packs().import_stations(&bytes).unwrap();
    assert!((1_000..=1_200).contains(&o.stations), "{}", o.stations);
    let pack = &ws.packs().installed().unwrap()[0];
    assert!(pack.synthetic);
    let districts: std::collections::BTreeSet<_> = ws
        .stations()
        .index()
        .stations()
        .iter()
        .map(|s| s.district.clone())
        .collect();
    for code in [
        "610102", "610103", "610104", "610111", "610112", "610113", "610114", "610115", "610116",
        "610117", "610118", "610122", "610124",
    ] {
        assert!(districts.contains(code), "district {code} missing");
    }
    let bell_tower = Position::wgs84(34.25953, 108.94235).unwrap();
    let hits = ws
        .stations()
        .nearest(&NearestQuery {
            position: bell_tower,
            limit: 5,
            filter: StationFilter {
                services: vec![Service::EbikeCharging],
                open_only: true,
                max_distance_m: None,
            },
            at: Some(noon()),
        })
        .unwrap();
    assert_eq!(hits.len(), 5);
    assert!(
        hits[4].distance_m < 3_000.0,
        "central Xi'an is dense: {}",
        hits[4].distance_m
    );
    // An untrusted device refuses it.
    let dir2 = tempfile::tempdir().unwrap();
    let ws2 = Waystation::open(dir2.path(), Options::default()).unwrap();
    assert!(ws2.packs().import_stations(&bytes).is_err());
}

#[test]
fn the_same_payload_resigned_by_another_trusted_key_is_the_same_pack() {
    let dir = tempfile::tempdir().unwrap();
    let rotated = packs::PublisherKeyPair::from_seed("test-publisher-2027", [43u8; 32]);
    let mut keys = trusted();
    keys.push(rotated.trusted_key());
    let config = Options {
        trusted_keys: keys,
        ..Options::default()
    };
    let ws =
        Waystation::open_with_clock(dir.path(), config, Arc::new(FixedClock::new(noon()))).unwrap();
    let payload = serde_json::to_vec(&synthetic_payload("city", 1, 20, 1)).unwrap();
    let first = packs::seal(
        &payload,
        waystation_core::stations::STATION_PACK_TYPE,
        &waystation_tests::test_key(),
    )
    .unwrap();
    let second = packs::seal(
        &payload,
        waystation_core::stations::STATION_PACK_TYPE,
        &rotated,
    )
    .unwrap();
    assert_ne!(first, second);
    assert!(!ws.packs().import_stations(&first).unwrap().unchanged);
    let o = ws.packs().import_stations(&second).unwrap();
    assert!(o.unchanged, "a key rotation does not change the content");
    assert_eq!(ws.packs().installed().unwrap()[0].key_id, "test-publisher");
}
