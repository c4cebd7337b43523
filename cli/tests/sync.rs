//! `waystation sync`, `sync status` and `demo` against a real server on loopback.

mod common;

use common::{fails_with, fresh, json, ok, waystation};
use std::process::Command;

use waystation_core::{Config, Waystation};
use waystation_server::Role;

fn submitted_report(data_dir: &std::path::Path) -> String {
    let ws = Waystation::open(data_dir, Config::default()).unwrap();
    waystation_tests::reports::submitted_road_report(&ws, "rider-1", 0)
}

#[test]
fn sync_sends_pending_reports_and_status_shows_it() {
    let server_dir = tempfile::tempdir().unwrap();
    let db = server_dir.path().join("server.db");
    let server = waystation_server::spawn_on_thread(&db, "127.0.0.1:0".parse().unwrap()).unwrap();
    let token =
        waystation_server::add_user(&db, "rider-1", Role::Rider, &[], chrono::Duration::days(1))
            .unwrap();
    let (_t, data) = fresh();
    ok(&waystation(&data, &["stations", "packs"]));
    let id = submitted_report(&data);

    let status = json(&waystation(&data, &["sync", "status", "--json"]));
    assert_eq!(status["pending_documents"], 1);
    assert!(status["last_success"].is_null());

    let url = server.url();
    let out = json(&waystation(
        &data,
        &["sync", "--server", &url, "--token", &token, "--json"],
    ));
    assert_eq!(out["documents_sent"], 1, "{out}");
    assert_eq!(out["status"]["pending_documents"], 0);
    let text = ok(&waystation(&data, &["sync", "status"]));
    assert!(text.contains("pending:      0 document(s)"), "{text}");
    assert!(!text.contains("never"), "{text}");
    let shown = json(&waystation(&data, &["report", "show", &id, "--json"]));
    assert_eq!(shown["report"]["outbox"]["state"], "sent", "{shown}");

    // The token from the environment; nothing to do is one request.
    let out = Command::new(env!("CARGO_BIN_EXE_waystation"))
        .args(["--data-dir"])
        .arg(&data)
        .args(["sync", "--json"])
        .env("WAYSTATION_SERVER", &url)
        .env("WAYSTATION_TOKEN", &token)
        .output()
        .unwrap();
    let out = json(&out);
    assert_eq!(out["requests"], 1);

    fails_with(
        &waystation(&data, &["sync", "--server", &url, "--token", "wst_nope"]),
        "unauthorized",
    );
    fails_with(&waystation(&data, &["sync", "--token", "x"]), "no server");
    fails_with(
        &waystation(&data, &["sync", "--server", "ftp://x", "--token", "x"]),
        "must start with http",
    );
    let status = json(&waystation(&data, &["sync", "status", "--json"]));
    assert!(
        status["last_error"]
            .as_str()
            .unwrap()
            .contains("unauthorized"),
        "{status}"
    );
    server.shutdown();
}

#[test]
fn demo_runs_the_whole_story_and_converges() {
    let (_t, data) = fresh();
    let text = ok(&waystation(&data, &["demo"]));
    for needle in [
        "nearest open red station",
        "stored without EXIF",
        "syncs: 1 sent",
        "All three devices converged",
        "acknowledge",
        "dispatch",
        "note",
    ] {
        assert!(text.contains(needle), "'{needle}' missing from:\n{text}");
    }
}
