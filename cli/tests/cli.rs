//! The `waystation` command, run as a user would run it.

use serde_json::Value;
use std::process::Command;

mod common;
use common::*;

#[test]
fn a_fresh_data_dir_gets_the_sample_pack_and_answers_nearest() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("fresh");
    let out = waystation(
        &d,
        &[
            "stations",
            "nearest",
            "--lat",
            "34.25953",
            "--lon",
            "108.94235",
            "--service",
            "ebike_charging",
            "--open-at",
            "2026-11-30T12:00:00+08:00",
            "--limit",
            "3",
            "--json",
        ],
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("installed the bundled Xi'an sample pack")
    );
    let hits: Vec<Value> = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(hits.len(), 3);
    let mut last = 0.0;
    for h in &hits {
        assert_eq!(h["status"], "open");
        let d = h["distance_m"].as_f64().unwrap();
        assert!(d >= last);
        last = d;
        let services: Vec<&str> = h["station"]["services"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        assert!(services.contains(&"ebike_charging"));
    }
    // Second run: no reinstall message.
    let out = waystation(&d, &["stations", "packs", "--json"]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("installed the bundled"));
    let packs: Vec<Value> = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(packs[0]["pack_id"], "xian-red-stations");

    // show, search, within
    let s: Value = serde_json::from_str(&ok(&waystation(
        &d,
        &["stations", "show", "XA-0001", "--json"],
    )))
    .unwrap();
    assert_eq!(s["id"], "XA-0001");
    assert_eq!(s["position"]["datum"], "wgs84");
    let found: Vec<Value> = serde_json::from_str(&ok(&waystation(
        &d,
        &["stations", "search", "雁塔", "--json"],
    )))
    .unwrap();
    assert!(!found.is_empty());
    let within: Vec<Value> = serde_json::from_str(&ok(&waystation(
        &d,
        &[
            "stations",
            "within",
            "--lat",
            "34.25953",
            "--lon",
            "108.94235",
            "--radius",
            "800",
            "--json",
        ],
    )))
    .unwrap();
    assert!(
        within
            .iter()
            .all(|h| h["distance_m"].as_f64().unwrap() <= 800.0)
    );
    // human output
    let text = ok(&waystation(
        &d,
        &[
            "stations",
            "nearest",
            "--lat",
            "34.25953",
            "--lon",
            "108.94235",
        ],
    ));
    assert!(text.contains("Xi'an time"), "{text}");
}

#[test]
fn coord_convert_prints_lat_lon_json_and_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(&waystation(
        dir.path(),
        &[
            "coord",
            "convert",
            "--from",
            "wgs84",
            "--to",
            "gcj02",
            "34.25953",
            "108.94235",
        ],
    ));
    let v: Value = serde_json::from_str(&out).unwrap();
    let (lat, lon) = (v["lat"].as_f64().unwrap(), v["lon"].as_f64().unwrap());
    assert!((lat - 34.25953).abs() > 1e-4, "GCJ-02 shifts Xi'an");
    let back = ok(&waystation(
        dir.path(),
        &[
            "coord",
            "convert",
            "--from",
            "gcj02",
            "--to",
            "wgs84",
            &lat.to_string(),
            &lon.to_string(),
        ],
    ));
    let b: Value = serde_json::from_str(&back).unwrap();
    assert!((b["lat"].as_f64().unwrap() - 34.25953).abs() < 1e-8);
    assert!((b["lon"].as_f64().unwrap() - 108.94235).abs() < 1e-8);
    // outside mainland China: unchanged (London, negative longitude)
    let v: Value = serde_json::from_str(&ok(&waystation(
        dir.path(),
        &[
            "coord", "convert", "--from", "wgs84", "--to", "bd09", "51.5074", "-0.1278",
        ],
    )))
    .unwrap();
    assert_eq!(
        (v["lat"].as_f64().unwrap(), v["lon"].as_f64().unwrap()),
        (51.5074, -0.1278)
    );
}

#[test]
fn hours_check_prints_status_and_next_change() {
    let dir = tempfile::tempdir().unwrap();
    let v: Value = serde_json::from_str(&ok(&waystation(
        dir.path(),
        &[
            "hours",
            "check",
            "Mo-Fr 08:00-18:00",
            "--at",
            "2026-11-30T09:00:00+08:00",
        ],
    )))
    .unwrap();
    assert_eq!(v["status"], "open");
    assert_eq!(v["next_change"], "2026-11-30T18:00:00+08:00");
    let v: Value = serde_json::from_str(&ok(&waystation(
        dir.path(),
        &[
            "hours",
            "check",
            "call ahead",
            "--at",
            "2026-11-30T09:00:00+08:00",
        ],
    )))
    .unwrap();
    assert_eq!(v["status"], "unknown");
    assert_eq!(v["next_change"], Value::Null);
}

#[test]
fn publishers_keygen_sign_verify_and_import() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = d.join("key.json");
    let public = ok(&waystation(
        d,
        &[
            "pack",
            "keygen",
            "--key-id",
            "city-2027",
            "--out",
            key.to_str().unwrap(),
        ],
    ));
    let public: Value = serde_json::from_str(&public).unwrap();
    assert_eq!(public["key_id"], "city-2027");
    // never overwrite a key
    fails_with(
        &waystation(
            d,
            &[
                "pack",
                "keygen",
                "--key-id",
                "x",
                "--out",
                key.to_str().unwrap(),
            ],
        ),
        "must not exist",
    );
    let trust = d.join("trust.json");
    std::fs::write(&trust, serde_json::to_vec(&public).unwrap()).unwrap();

    let payload = d.join("payload.json");
    std::fs::write(&payload, serde_json::to_vec(&waystation_payload()).unwrap()).unwrap();
    let pack = d.join("pack.json");
    ok(&waystation(
        d,
        &[
            "pack",
            "sign",
            "--key",
            key.to_str().unwrap(),
            "--in",
            payload.to_str().unwrap(),
            "--out",
            pack.to_str().unwrap(),
        ],
    ));

    let data = d.join("data");
    let p = pack.to_str().unwrap();
    let t = trust.to_str().unwrap();
    // not trusted without --trust-key
    fails_with(
        &waystation(&data, &["--no-demo-key", "pack", "verify", p]),
        "not a trusted publisher key",
    );
    let v: Value = serde_json::from_str(&ok(&waystation(
        &data,
        &["--no-demo-key", "--trust-key", t, "pack", "verify", p],
    )))
    .unwrap();
    assert_eq!(v["valid"], true);
    let out = ok(&waystation(
        &data,
        &["--no-demo-key", "--trust-key", t, "stations", "import", p],
    ));
    assert!(
        out.contains("Installed cli-test version 1 (1 stations"),
        "{out}"
    );
    let out = ok(&waystation(
        &data,
        &["--no-demo-key", "--trust-key", t, "stations", "import", p],
    ));
    assert!(out.contains("already installed"), "{out}");
}

fn waystation_payload() -> Value {
    serde_json::json!({
        "format": "waystation/station-pack", "format_version": 1, "pack_id": "cli-test",
        "version": 1, "publisher": "CLI test", "created": "2026-11-01T00:00:00Z",
        "stations": [{
            "id": "C-1", "name": {"zh": "测试站"}, "address": {"zh": "测试路1号"},
            "position": {"lat": 34.25, "lon": 108.95, "datum": "gcj02"},
            "district": "610103", "services": ["toilet"], "opening_hours": "24/7"
        }]
    })
}

#[test]
fn bad_input_exits_non_zero_with_a_named_reason() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    fails_with(
        &waystation(&d, &["stations", "nearest", "--lat", "91", "--lon", "108"]),
        "latitude 91 is outside",
    );
    fails_with(
        &waystation(&d, &["stations", "nearest", "--lat", "NaN", "--lon", "108"]),
        "latitude is not a finite number",
    );
    fails_with(
        &waystation(
            &d,
            &[
                "stations", "nearest", "--lat", "34", "--lon", "108", "--datum", "mars",
            ],
        ),
        "unknown datum 'mars'",
    );
    fails_with(
        &waystation(
            &d,
            &[
                "stations",
                "nearest",
                "--lat",
                "34",
                "--lon",
                "108",
                "--service",
                "spa",
            ],
        ),
        "unknown service 'spa'",
    );
    fails_with(
        &waystation(
            &d,
            &[
                "stations",
                "nearest",
                "--lat",
                "34",
                "--lon",
                "108",
                "--open-at",
                "yesterday",
            ],
        ),
        "not an RFC 3339 time",
    );
    fails_with(
        &waystation(&d, &["stations", "show", "NOPE"]),
        "no station with id 'NOPE'",
    );
    fails_with(
        &waystation(
            &d,
            &[
                "coord", "convert", "--from", "wgs84", "--to", "gcj02", "100", "1",
            ],
        ),
        "latitude 100 is outside",
    );
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, b"{\"payloadType\": \"x\", \"payl").unwrap();
    fails_with(
        &waystation(&d, &["stations", "import", junk.to_str().unwrap()]),
        "truncated",
    );
    fails_with(
        &waystation(&d, &["stations", "import", "/no/such/file"]),
        "cannot read pack /no/such/file",
    );
    // a data directory that is a file
    fails_with(
        &waystation(&junk, &["stations", "packs"]),
        "not a directory",
    );
    // stored data is intact after all of that
    let packs: Vec<Value> =
        serde_json::from_str(&ok(&waystation(&d, &["stations", "packs", "--json"]))).unwrap();
    assert_eq!(packs.len(), 1);
}

/// Kills `waystation stations import` at several points during a large import. Whenever the
/// kill lands, the data directory holds exactly one complete version of the pack, never a mix,
/// and the database passes `PRAGMA integrity_check`.
#[test]
fn an_import_killed_midway_leaves_one_complete_version() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = d.join("key.json");
    let public = ok(&waystation(
        d,
        &[
            "pack",
            "keygen",
            "--key-id",
            "kill-test",
            "--out",
            key.to_str().unwrap(),
        ],
    ));
    let trust = d.join("trust.json");
    std::fs::write(&trust, public).unwrap();
    let make = |version: u64, n: usize, prefix: &str| -> std::path::PathBuf {
        let stations: Vec<Value> = (0..n)
            .map(|i| {
                serde_json::json!({
                    "id": format!("{prefix}-{i}"), "name": {"zh": format!("站{i}")},
                    "address": {"zh": "路"}, "district": "610103", "services": ["toilet"],
                    "position": {"lat": 34.0 + (i % 500) as f64 * 0.001, "lon": 108.5 + (i / 500) as f64 * 0.001, "datum": "wgs84"},
                })
            })
            .collect();
        let payload = serde_json::json!({
            "format": "waystation/station-pack", "format_version": 1, "pack_id": "big",
            "version": version, "publisher": "kill test", "created": "2026-11-01T00:00:00Z",
            "stations": stations,
        });
        let p = d.join(format!("payload-{version}.json"));
        std::fs::write(&p, serde_json::to_vec(&payload).unwrap()).unwrap();
        let out = d.join(format!("pack-{version}.json"));
        ok(&waystation(
            d,
            &[
                "pack",
                "sign",
                "--key",
                key.to_str().unwrap(),
                "--in",
                p.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
        ));
        out
    };
    let v1 = make(1, 10, "old");
    let v2 = make(2, 60_000, "new");
    let t = trust.to_str().unwrap();
    for (round, delay_ms) in [20u64, 400, 900, 1300, 1700].into_iter().enumerate() {
        let data = d.join(format!("data-{round}"));
        ok(&waystation(
            &data,
            &[
                "--no-demo-key",
                "--trust-key",
                t,
                "stations",
                "import",
                v1.to_str().unwrap(),
            ],
        ));
        let mut child = Command::new(env!("CARGO_BIN_EXE_waystation"))
            .arg("--data-dir")
            .arg(&data)
            .args([
                "--no-demo-key",
                "--trust-key",
                t,
                "stations",
                "import",
                v2.to_str().unwrap(),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();

        let packs: Vec<Value> = serde_json::from_str(&ok(&waystation(
            &data,
            &[
                "--no-demo-key",
                "--trust-key",
                t,
                "stations",
                "packs",
                "--json",
            ],
        )))
        .unwrap();
        assert_eq!(packs.len(), 1);
        let version = packs[0]["version"].as_u64().unwrap();
        let has = |id: &str| {
            waystation(&data, &["--no-demo-key", "stations", "show", id])
                .status
                .success()
        };
        match version {
            1 => assert!(
                has("old-9") && !has("new-0") && !has("new-59999"),
                "round {round}"
            ),
            2 => assert!(
                !has("old-9") && has("new-0") && has("new-59999"),
                "round {round}"
            ),
            v => panic!("unexpected version {v}"),
        }
        let conn = rusqlite::Connection::open(data.join("waystation.sqlite3")).unwrap();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
    }
}

/// Runs `cmd` with its stdout on a pipe, reads one line (as `head -1` does) and closes the
/// pipe while the command still has far more to write; returns how it ended and its stderr.
#[cfg(unix)]
fn read_one_line_then_close(mut cmd: Command) -> (std::process::ExitStatus, String) {
    use std::io::{BufRead, BufReader, Read};
    use std::process::Stdio;
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(!first.is_empty(), "the command printed something first");
    drop(stdout);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (child.wait().unwrap(), stderr)
}

/// `waystation … | head -1`: the reader stops after one line of a listing far longer than a
/// pipe's buffer. The command ends as `cat` would, killed by SIGPIPE (a shell's exit status
/// 141), without a panic or a word on stderr.
#[cfg(unix)]
#[test]
fn a_reader_that_stops_early_ends_the_command_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let (_dir, d) = fresh();
    // Install the sample pack first, so that the run below prints nothing but the listing.
    ok(&waystation(&d, &["stations", "packs", "--json"]));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_waystation"));
    cmd.arg("--data-dir")
        .arg(&d)
        .args([
            "stations",
            "within",
            "--lat",
            "34.25953",
            "--lon",
            "108.94235",
            "--radius",
            "100000",
            "--json",
        ])
        .env("WAYSTATION_TEST_NOW", "2026-11-30T04:00:00Z");
    let (status, stderr) = read_one_line_then_close(cmd);
    assert_eq!(status.signal(), Some(13), "SIGPIPE; {status:?}: {stderr}");
    assert_eq!(stderr, "", "nothing on stderr");
}

/// Runs `waystation` with its address space capped at 1 GiB, so a command that reads an
/// endless file whole dies of a failed allocation (and this test fails) instead of eating the
/// machine's memory.
#[cfg(unix)]
fn waystation_in_1_gib(data_dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_waystation"));
    cmd.arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("WAYSTATION_DATA_DIR")
        .env_remove("WAYSTATION_USER")
        .env("WAYSTATION_TEST_NOW", "2026-11-30T04:00:00Z");
    // SAFETY: setrlimit is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 1 << 30,
                rlim_max: 1 << 30,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.output().expect("waystation runs")
}

/// Every file the command reads whole (packs, key files, payloads, photos) is refused once it
/// passes the limit for its kind, so `/dev/zero` or a 10 GB file handed over by mistake is a
/// named error (exit 1), not an out-of-memory crash; nothing stored changes.
#[cfg(unix)]
#[test]
fn endless_and_oversized_files_are_refused_before_they_are_read_whole() {
    let (dir, d) = fresh();
    ok(&waystation(&d, &["stations", "packs"]));
    let zero = "/dev/zero";
    fails_with(
        &waystation_in_1_gib(&d, &["stations", "import", zero]),
        "pack /dev/zero is larger than the limit of 33554432 bytes",
    );
    fails_with(
        &waystation_in_1_gib(&d, &["pack", "verify", zero]),
        "pack /dev/zero is larger than the limit",
    );
    fails_with(
        &waystation_in_1_gib(&d, &["--trust-key", zero, "stations", "packs"]),
        "key file /dev/zero is larger than the limit of 65536 bytes",
    );
    let payload = dir.path().join("payload.json");
    std::fs::write(&payload, b"{}").unwrap();
    let out = dir.path().join("out.pack.json");
    fails_with(
        &waystation_in_1_gib(
            &d,
            &[
                "pack",
                "sign",
                "--key",
                zero,
                "--in",
                payload.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
        ),
        "key file /dev/zero is larger than the limit",
    );
    // A regular file past the limit is refused by its size, before a byte is read: a sparse
    // 40 MB file costs nothing on disk.
    let big = dir.path().join("big.pack.json");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(40 << 20)
        .unwrap();
    fails_with(
        &waystation_in_1_gib(&d, &["stations", "import", big.to_str().unwrap()]),
        "is larger than the limit of 33554432 bytes",
    );
    let id = ok(&waystation(
        &d,
        &["report", "new", "--category", "food.seal"],
    ));
    fails_with(
        &waystation_in_1_gib(&d, &["report", "attach", id.trim(), zero]),
        "photo /dev/zero is larger than the limit of 10485760 bytes",
    );
    fails_with(
        &waystation_in_1_gib(
            &d,
            &[
                "sync",
                "--server",
                "http://127.0.0.1:9",
                "--token",
                "wst_t",
                "--ca-cert",
                zero,
            ],
        ),
        "CA certificate /dev/zero is larger than the limit of 1048576 bytes",
    );
    // Nothing stored changed.
    let packs: Vec<Value> =
        serde_json::from_str(&ok(&waystation(&d, &["stations", "packs", "--json"]))).unwrap();
    assert_eq!(packs.len(), 1);
    assert!(!out.exists());
}

/// A file argument that is not UTF-8 (any byte string is a valid Unix path) is read like any
/// other, and a missing one is named (lossily) in a clear error, never a panic.
#[cfg(unix)]
#[test]
fn a_path_that_is_not_utf8_is_named_in_the_error_not_a_panic() {
    use std::os::unix::ffi::OsStrExt;
    let (dir, d) = fresh();
    let name = std::ffi::OsStr::from_bytes(b"pack-\xff\xfe.json");
    let missing = dir.path().join(name);
    let run = |path: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_waystation"))
            .arg("--data-dir")
            .arg(&d)
            .args(["stations", "import"])
            .arg(path)
            .env_remove("WAYSTATION_DATA_DIR")
            .env_remove("WAYSTATION_USER")
            .env("WAYSTATION_TEST_NOW", "2026-11-30T04:00:00Z")
            .output()
            .unwrap()
    };
    fails_with(&run(&missing), "cannot read pack");
    std::fs::write(&missing, b"{\"payloadType\": \"x\", \"payl").unwrap();
    fails_with(&run(&missing), "truncated");
}
