//! `waystation report …`, run as a user would run it, each test on its own data directory.

use std::path::Path;

mod common;
use common::*;

fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, marker];
    s.extend_from_slice(&u16::try_from(body.len() + 2).unwrap().to_be_bytes());
    s.extend_from_slice(body);
    s
}

/// A valid 1×1 grey baseline JPEG with an EXIF segment and a comment, both of which must be
/// stripped before storing.
fn jpeg_with_exif() -> Vec<u8> {
    let mut j = vec![0xFF, 0xD8];
    j.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
    j.extend(segment(0xE1, b"Exif\0\0MM\0\x2a\0\0\0\x08\0\0\0\0\0\0"));
    j.extend(segment(0xFE, b"secret comment"));
    let mut dqt = vec![0u8];
    dqt.extend([1u8; 64]);
    j.extend(segment(0xDB, &dqt));
    j.extend(segment(0xC0, &[8, 0, 1, 0, 1, 1, 1, 0x11, 0]));
    let mut dht = vec![0x00, 1];
    dht.extend([0u8; 16]);
    j.extend(segment(0xC4, &dht));
    dht[0] = 0x10;
    j.extend(segment(0xC4, &dht));
    j.extend(segment(0xDA, &[1, 1, 0, 0, 0x3F, 0]));
    j.extend([0x3F, 0xFF, 0xD9]);
    j
}

fn new_report(d: &Path, category: &str) -> String {
    let id = ok(&waystation(d, &["report", "new", "--category", category]));
    id.trim().to_string()
}

/// A food-seal report with everything it needs, submitted; returns its id.
fn submitted(d: &Path, lat: &str, lon: &str) -> String {
    let id = new_report(d, "food.seal");
    ok(&waystation(
        d,
        &[
            "report",
            "set",
            &id,
            "--merchant-name",
            "Lao Wang",
            "--district",
            "610103",
            "--lat",
            lat,
            "--lon",
            lon,
            "--accuracy",
            "10",
        ],
    ));
    ok(&waystation(d, &["report", "submit", &id]));
    id
}

#[test]
fn a_draft_is_written_shown_listed_and_submitted() {
    let (_t, d) = fresh();
    let r = json(&waystation(
        &d,
        &[
            "report",
            "new",
            "--category",
            "food.seal",
            "--description",
            "seal torn",
            "--user",
            "rider-1",
            "--json",
        ],
    ));
    let id = r["id"].as_str().unwrap().to_string();
    assert_eq!(r["status"], "draft");
    assert_eq!(r["author"], "rider-1");
    assert_eq!(r["description"], "seal torn");

    // GCJ-02 in, WGS-84 stored beside the source.
    let r = json(&waystation(
        &d,
        &[
            "report",
            "set",
            &id,
            "--merchant-address",
            "Yanta Rd 1",
            "--lat",
            "34.2",
            "--lon",
            "108.9",
            "--datum",
            "gcj02",
            "--accuracy",
            "15",
            "--mock",
            "--json",
        ],
    ));
    let p = &r["position"];
    assert_eq!(p["datum"], "gcj02");
    assert_eq!(p["source_lat"], 34.2);
    assert!((p["lat"].as_f64().unwrap() - 34.2).abs() > 1e-5);
    assert_eq!(p["mock"], true);
    assert_eq!(r["merchant_address"], "Yanta Rd 1");

    let shown = json(&waystation(&d, &["report", "show", &id, "--json"]));
    assert_eq!(shown["report"]["id"], id.as_str());
    assert!(shown["case"].is_null());
    // Nothing to fix: the bundled sample pack's nearest station gives the district.
    assert_eq!(shown["check"]["problems"].as_array().unwrap().len(), 0);
    assert!(shown["report"]["district"].is_null());
    let text = ok(&waystation(&d, &["report", "show", &id]));
    assert!(text.contains("MOCK LOCATION"), "{text}");
    assert!(text.contains("district: not set"), "{text}");
    fails_with(
        &waystation(&d, &["report", "set", &id, "--district", "610199"]),
        "district '610199' is not a GB/T 2260 code of a district of Xi'an",
    );
    let r = json(&waystation(
        &d,
        &["report", "set", &id, "--district", "610113", "--json"],
    ));
    assert_eq!(r["district"], "610113");
    let text = ok(&waystation(&d, &["report", "show", &id]));
    assert!(text.contains("district: 610113 (雁塔区 / Yanta)"), "{text}");
    let r = json(&waystation(
        &d,
        &["report", "set", &id, "--district", "", "--json"],
    ));
    assert!(r["district"].is_null());

    let drafts = json(&waystation_env(
        &d,
        &["report", "list", "--drafts", "--json"],
        Some("rider-1"),
    ));
    assert_eq!(drafts.as_array().unwrap().len(), 1);
    let theirs = json(&waystation(&d, &["report", "list", "--json"]));
    assert_eq!(theirs.as_array().unwrap().len(), 0, "local has no reports");

    let s = json(&waystation(
        &d,
        &["report", "submit", &id, "--user", "rider-1", "--json"],
    ));
    assert_eq!(s["report"]["status"], "submitted");
    assert_eq!(s["report"]["outbox"]["state"], "pending");
    let district = s["report"]["district"].as_str().unwrap();
    assert!(
        district.len() == 6 && district.starts_with("6101"),
        "{district}"
    );
    let warnings = s["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w["message"].as_str().unwrap().contains("mock location")),
        "{warnings:?}"
    );
    let drafts = json(&waystation(
        &d,
        &["report", "list", "--drafts", "--user", "rider-1", "--json"],
    ));
    assert_eq!(drafts.as_array().unwrap().len(), 0);
    let shown = json(&waystation(&d, &["report", "show", &id, "--json"]));
    assert_eq!(shown["case"]["status"], "open");
}

#[test]
fn a_photo_is_attached_without_its_metadata() {
    let (t, d) = fresh();
    let id = new_report(&d, "road.hazard");
    let photo = t.path().join("p.jpg");
    std::fs::write(&photo, jpeg_with_exif()).unwrap();
    let info = json(&waystation(
        &d,
        &["report", "attach", &id, photo.to_str().unwrap(), "--json"],
    ));
    assert_eq!(info["media_type"], "image/jpeg");
    assert_eq!(info["width"], 1);
    let sha = info["sha256"].as_str().unwrap();
    let stored = std::fs::read(d.join("photos").join(sha)).unwrap();
    assert!(stored.starts_with(&[0xFF, 0xD8]));
    assert!(!stored.windows(4).any(|w| w == b"Exif"));
    assert!(!stored.windows(6).any(|w| w == b"secret"));
    assert!(
        ok(&waystation(
            &d,
            &["report", "attach", &id, photo.to_str().unwrap()]
        ))
        .contains(sha)
    );
    let r = json(&waystation(&d, &["report", "show", &id, "--json"]));
    assert_eq!(r["report"]["photos"].as_array().unwrap().len(), 1);

    let junk = t.path().join("junk.jpg");
    std::fs::write(&junk, b"this is not a picture at all").unwrap();
    fails_with(
        &waystation(&d, &["report", "attach", &id, junk.to_str().unwrap()]),
        "not a JPEG, PNG or WebP",
    );
    let mut truncated = jpeg_with_exif();
    truncated.truncate(truncated.len() - 2);
    std::fs::write(&junk, &truncated).unwrap();
    fails_with(
        &waystation(&d, &["report", "attach", &id, junk.to_str().unwrap()]),
        "truncated",
    );
    fails_with(
        &waystation(&d, &["report", "attach", &id, "/nonexistent/photo.jpg"]),
        "cannot read photo",
    );
    let r = json(&waystation(&d, &["report", "show", &id, "--json"]));
    assert_eq!(r["report"]["photos"].as_array().unwrap().len(), 1);
}

#[test]
fn bad_input_is_refused_with_the_reason_and_the_draft_kept() {
    let (_t, d) = fresh();
    fails_with(
        &waystation(&d, &["report", "new", "--category", "food.nonsense"]),
        "unknown report category 'food.nonsense'",
    );
    let id = new_report(&d, "food.hygiene");
    ok(&waystation(
        &d,
        &["report", "set", &id, "--description", "dirty"],
    ));
    fails_with(
        &waystation(&d, &["report", "set", &id, "--lat", "91", "--lon", "108.9"]),
        "latitude",
    );
    fails_with(
        &waystation(&d, &["report", "set", &id, "--lat", "0", "--lon", "0"]),
        "(0, 0)",
    );
    fails_with(
        &waystation(&d, &["report", "set", &id, "--category", "bogus"]),
        "unknown report category",
    );
    let long = "x".repeat(4001);
    fails_with(
        &waystation(&d, &["report", "set", &id, "--description", &long]),
        "description is 4001 characters; at most 4000",
    );
    fails_with(&waystation(&d, &["report", "set", &id]), "nothing to set");
    fails_with(
        &waystation(&d, &["report", "show", "not-a-uuid"]),
        "is not a report id",
    );
    let r = json(&waystation(&d, &["report", "show", &id, "--json"]));
    assert_eq!(r["report"]["description"], "dirty");
    assert!(r["report"]["position"].is_null());

    // Every problem at once.
    let out = waystation(&d, &["report", "submit", &id]);
    fails_with(&out, "cannot be submitted (3 problems)");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("position: missing"), "{err}");
    assert!(err.contains("merchant_name:"), "{err}");
    assert!(err.contains("district: unknown"), "{err}");
}

#[test]
fn submitting_twice_and_withdrawing() {
    let (_t, d) = fresh();
    let id = submitted(&d, "34.25", "108.95");
    fails_with(
        &waystation(&d, &["report", "submit", &id]),
        "was already submitted",
    );
    fails_with(
        &waystation(&d, &["report", "set", &id, "--description", "late"]),
        "cannot be edited",
    );
    fails_with(
        &waystation(
            &d,
            &[
                "report", "withdraw", &id, "--reason", "x", "--user", "other",
            ],
        ),
        "belongs to another author",
    );
    let r = json(&waystation(
        &d,
        &[
            "report",
            "withdraw",
            &id,
            "--reason",
            "fixed already",
            "--json",
        ],
    ));
    assert_eq!(r["status"], "withdrawn");
    assert_eq!(r["withdraw_reason"], "fixed already");
    fails_with(
        &waystation(&d, &["report", "withdraw", &id, "--reason", "again"]),
        "already withdrawn",
    );
    let listed = json(&waystation(&d, &["report", "list", "--json"]));
    assert_eq!(listed[0]["status"], "withdrawn");
    assert!(ok(&waystation(&d, &["report", "list"])).contains("withdrawn"));
}

#[test]
fn case_events_follow_the_role_rules() {
    let (_t, d) = fresh();
    let id = submitted(&d, "34.25", "108.95");
    let c = json(&waystation(
        &d,
        &[
            "case",
            "record",
            &id,
            "--role",
            "station",
            "--kind",
            "acknowledge",
            "--note",
            "on it",
            "--user",
            "staff-1",
            "--json",
        ],
    ));
    assert_eq!(c["status"], "acknowledged");
    assert_eq!(c["timeline"][0]["event"]["actor"], "staff-1");
    assert_eq!(c["timeline"][0]["event"]["role"], "station_staff");
    // Station staff may not resolve a food-safety case; riders write no case events.
    fails_with(
        &waystation(
            &d,
            &[
                "case", "record", &id, "--role", "station", "--kind", "resolve",
            ],
        ),
        "station_staff may not resolve",
    );
    fails_with(
        &waystation(
            &d,
            &["case", "record", &id, "--role", "rider", "--kind", "note"],
        ),
        "riders cannot write case events",
    );
    fails_with(
        &waystation(
            &d,
            &[
                "case",
                "record",
                &id,
                "--role",
                "supervisor",
                "--kind",
                "reject",
            ],
        ),
        "reject needs --reason",
    );
    fails_with(
        &waystation(
            &d,
            &[
                "case",
                "record",
                &id,
                "--role",
                "supervisor",
                "--kind",
                "dispatch",
            ],
        ),
        "dispatch needs --grid",
    );
    let c = json(&waystation(
        &d,
        &[
            "case",
            "record",
            &id,
            "--role",
            "supervisor",
            "--kind",
            "dispatch",
            "--grid",
            "yanta-07",
            "--json",
        ],
    ));
    assert_eq!(c["status"], "in_progress");
    assert_eq!(c["grid_id"], "yanta-07");
    let c = json(&waystation(
        &d,
        &[
            "case", "record", &id, "--role", "grid", "--kind", "resolve", "--json",
        ],
    ));
    assert_eq!(c["status"], "resolved");
    assert_eq!(c["open311_status"], "closed");
    assert!(ok(&waystation(&d, &["report", "show", &id])).contains("resolved"));
    // `case show` is the case alone (`ws.cases().get`): the same status and timeline.
    let shown = json(&waystation(&d, &["case", "show", &id, "--json"]));
    assert_eq!(shown["status"], "resolved");
    assert_eq!(shown["timeline"].as_array().map(Vec::len), Some(3));
    assert_eq!(shown["disputed_events"], serde_json::json!([]));
    assert!(ok(&waystation(&d, &["case", "show", &id])).contains("resolved"));

    fails_with(
        &waystation(
            &d,
            &[
                "case",
                "record",
                "0190b0a0-0000-7000-8000-000000000000",
                "--role",
                "supervisor",
                "--kind",
                "note",
            ],
        ),
        "no report with id",
    );
    let draft = new_report(&d, "road.hazard");
    fails_with(
        &waystation(
            &d,
            &[
                "case",
                "record",
                &draft,
                "--role",
                "supervisor",
                "--kind",
                "note",
            ],
        ),
        "only a submitted report has a case",
    );
    // An unknown role is a usage error (clap's exit status 2), before the core is asked.
    let out = waystation(
        &d,
        &["case", "record", &id, "--role", "boss", "--kind", "note"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid value 'boss'"));
}

#[test]
fn duplicates_are_nearest_first_and_marked() {
    let (_t, d) = fresh();
    let first = submitted(&d, "34.25", "108.95");
    let far = submitted(&d, "34.26", "108.95");
    let near = submitted(&d, "34.2501", "108.95");
    let found = json(&waystation(&d, &["report", "duplicates", &first, "--json"]));
    let ids: Vec<&str> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["report"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![near.as_str()]);
    assert!(found[0]["distance_m"].as_f64().unwrap() < 20.0);
    let wide = json(&waystation(
        &d,
        &[
            "report",
            "duplicates",
            &first,
            "--radius",
            "5000",
            "--days",
            "1",
            "--json",
        ],
    ));
    assert_eq!(wide.as_array().unwrap().len(), 2);
    assert_eq!(wide[1]["report"]["id"], far.as_str());
    assert!(ok(&waystation(&d, &["report", "duplicates", &first])).contains(&near));
    fails_with(
        &waystation(&d, &["report", "duplicates", &first, "--radius", "-1"]),
        "radius",
    );
    let c = json(&waystation(
        &d,
        &[
            "case",
            "record",
            &near,
            "--role",
            "supervisor",
            "--kind",
            "mark_duplicate",
            "--of",
            &first,
            "--json",
        ],
    ));
    assert_eq!(c["status"], "duplicate");
    assert_eq!(c["duplicate_of"], first.as_str());
}

#[test]
fn export_gives_open311_and_geojson() {
    let (t, d) = fresh();
    let id = submitted(&d, "34.25", "108.95");
    let o = json(&waystation(&d, &["report", "export", &id, "--json"]));
    assert_eq!(o["service_request_id"], id.as_str());
    assert_eq!(o["service_code"], "food.seal");
    assert_eq!(o["status"], "open");
    assert_eq!(o["lat"], 34.25);
    assert_eq!(o["long"], 108.95);
    let other = submitted(&d, "34.3", "108.9");
    let both = json(&waystation(&d, &["report", "export", &id, &other]));
    assert_eq!(both.as_array().unwrap().len(), 2);
    let g = json(&waystation(
        &d,
        &["report", "export", &id, "--format", "geojson", "--json"],
    ));
    assert_eq!(g["type"], "FeatureCollection");
    assert_eq!(g["features"][0]["geometry"]["coordinates"][0], 108.95);
    let draft = new_report(&d, "road.hazard");
    fails_with(
        &waystation(&d, &["report", "export", &draft]),
        "only submitted reports can be exported",
    );
    drop(t);
}

/// `waystation` for `user`, with the clock stopped at `now` (debug builds honour it).
fn at(d: &Path, now: &str, user: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_waystation"))
        .arg("--data-dir")
        .arg(d)
        .args(args)
        .env_remove("WAYSTATION_DATA_DIR")
        .env("WAYSTATION_USER", user)
        .env("WAYSTATION_TEST_NOW", now)
        .output()
        .expect("waystation runs")
}

/// A road-hazard report by `user` in `district`, submitted at `now`.
fn hazard_at(d: &Path, now: &str, user: &str, district: &str) -> String {
    let id = ok(&at(
        d,
        now,
        user,
        &["report", "new", "--category", "road.hazard"],
    ))
    .trim()
    .to_string();
    ok(&at(
        d,
        now,
        user,
        &[
            "report",
            "set",
            &id,
            "--description",
            "井盖缺失",
            "--district",
            district,
            "--lat",
            "34.25953",
            "--lon",
            "108.94235",
            "--accuracy",
            "10",
        ],
    ));
    ok(&at(d, now, user, &["report", "submit", &id]));
    id
}

#[test]
fn case_list_shows_a_district_s_reports_by_everyone_newest_first_with_age() {
    let (_t, d) = fresh();
    let older = hazard_at(&d, "2026-11-30T04:00:00Z", "rider-1", "610103");
    let elsewhere = hazard_at(&d, "2026-11-30T05:00:00Z", "rider-2", "610113");
    let newer = hazard_at(&d, "2026-11-30T06:00:00Z", "rider-2", "610103");
    let now = "2026-12-02T06:00:00Z";

    // `report list` shows only the caller's own reports; `case list` shows the district's.
    let cases = json(&at(
        &d,
        now,
        "sup-1",
        &["case", "list", "--district", "610103", "--json"],
    ));
    let cases = cases.as_array().unwrap();
    let ids: Vec<&str> = cases
        .iter()
        .map(|c| c["report"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [newer.as_str(), older.as_str()]);
    assert!(!ids.contains(&elsewhere.as_str()));
    assert_eq!(cases[0]["status"], "open");
    assert_eq!(cases[0]["open311_status"], "open");
    assert_eq!(cases[0]["report"]["author"], "rider-2");
    assert_eq!(cases[0]["age_seconds"], 2 * 86_400);
    assert_eq!(cases[1]["age_seconds"], 2 * 86_400 + 2 * 3600);

    // Both districts, open cases only; the text form shows the age.
    let text = ok(&at(
        &d,
        now,
        "sup-1",
        &[
            "case",
            "list",
            "--district",
            "610103",
            "--district",
            "610113",
            "--status",
            "open",
            "--status",
            "in_progress",
        ],
    ));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].starts_with(&newer) && lines[0].contains("2d"),
        "{text}"
    );
    assert!(lines[1].starts_with(&elsewhere), "{text}");
    assert!(
        lines[2].starts_with(&older) && lines[2].contains("2d 2h"),
        "{text}"
    );

    let none = ok(&at(
        &d,
        now,
        "sup-1",
        &["case", "list", "--status", "resolved"],
    ));
    assert!(none.contains("No case matches"), "{none}");
    fails_with(
        &at(&d, now, "sup-1", &["case", "list", "--district", "999999"]),
        "district '999999'",
    );
    // Not a case status (Open311's `closed` is several of them): clap names the choices.
    let bad = at(&d, now, "sup-1", &["case", "list", "--status", "closed"]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("'closed'") && err.contains("in_progress"),
        "{err}"
    );
}
