//! `waystation sync` and `sync status` against a real server on loopback (`demo`: demo.rs).

mod common;

use common::{fails_with, fresh, json, ok, waystation};
use std::process::Command;

use waystation_core::{Options, Waystation};
use waystation_server::Role;

fn submitted_report(data_dir: &std::path::Path) -> String {
    let ws = Waystation::open(data_dir, Options::default()).unwrap();
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
        "must start with https://",
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
fn sync_packs_fetches_lesson_images_and_read_shows_their_files() {
    use waystation_core::packs::{self, PublisherKeyPair};
    let seals = "food-safety-delivery/seals";
    let png = waystation_tests::png_with_metadata();
    let sha = packs::sha256_hex(&png);
    // The real courses, one version on, with an image on the seals lesson; signed with the
    // demo key the CLI trusts.
    let mut payload = waystation_tests::real_training_payload();
    payload["version"] = (payload["version"].as_u64().unwrap() + 1).into();
    for course in payload["courses"].as_array_mut().unwrap() {
        for lesson in course["lessons"].as_array_mut().unwrap() {
            if lesson["id"] == seals {
                lesson["images"] = serde_json::json!([{
                    "sha256": sha, "alt": {"zh": "完好的封签", "en": "An intact seal"}
                }]);
            }
        }
    }
    let key = PublisherKeyPair::from_json(
        &std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../data/keys/demo-publisher.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let pack = packs::seal(
        &serde_json::to_vec(&payload).unwrap(),
        waystation_core::training::TRAINING_PACK_TYPE,
        &key,
    )
    .unwrap();
    let server_dir = tempfile::tempdir().unwrap();
    let db = server_dir.path().join("server.db");
    let admin = waystation_server::Admin::open(&db).unwrap();
    admin.add_training_image(&png).unwrap();
    admin
        .publish_pack(
            waystation_server::PackKind::Training,
            &pack,
            &[packs::demo_trusted_key()],
        )
        .unwrap();
    let token = admin
        .add_user("rider-1", Role::Rider, &[], chrono::Duration::days(1))
        .unwrap();
    let server = waystation_server::spawn_on_thread(&db, "127.0.0.1:0".parse().unwrap()).unwrap();

    let (_t, data) = fresh();
    let before = ok(&waystation(&data, &["training", "read", seals]));
    assert!(
        !before.contains("完好的封签"),
        "the bundled pack has no image"
    );
    let url = server.url();
    let out = json(&waystation(
        &data,
        &[
            "sync", "--packs", "--server", &url, "--token", &token, "--json",
        ],
    ));
    assert_eq!(out["packs"]["training_images_fetched"], 1, "{out}");
    assert_eq!(out["packs"]["training_images_missing"], 0, "{out}");
    let read = json(&waystation(&data, &["training", "read", seals, "--json"]));
    let file = read["image_files"][0]["path"].as_str().unwrap();
    assert_eq!(std::fs::read(file).unwrap(), png);
    let text = ok(&waystation(&data, &["training", "read", seals]));
    assert!(text.contains(&format!("[完好的封签] {file}")), "{text}");
    server.shutdown();
}

#[test]
fn a_refused_report_leaves_pending_and_stays_until_dismissed() {
    let server_dir = tempfile::tempdir().unwrap();
    let db = server_dir.path().join("server.db");
    let server = waystation_server::spawn_on_thread(&db, "127.0.0.1:0".parse().unwrap()).unwrap();
    let token =
        waystation_server::add_user(&db, "mallory", Role::Rider, &[], chrono::Duration::days(1))
            .unwrap();
    let (_t, data) = fresh();
    ok(&waystation(&data, &["stations", "packs"]));
    // A report in someone else's name: the server refuses it (only its author writes it).
    let id = submitted_report(&data);
    let url = server.url();
    let out = json(&waystation(
        &data,
        &["sync", "--server", &url, "--token", &token, "--json"],
    ));
    assert_eq!(out["refused"].as_array().unwrap().len(), 1, "{out}");
    // Refused, not pending: "nothing pending", and the refusal with its reason.
    for _ in 0..2 {
        let status = json(&waystation(&data, &["sync", "status", "--json"]));
        assert_eq!(status["pending_documents"], 0, "{status}");
        assert_eq!(status["refused_documents"], 1, "{status}");
        let text = ok(&waystation(&data, &["sync", "status"]));
        assert!(text.contains("nothing pending"), "{text}");
        assert!(
            text.contains(&format!("refused: report:{id}")) && text.contains("only its author"),
            "{text}"
        );
        // Syncing again sends nothing and refuses nothing new.
        let again = json(&waystation(
            &data,
            &["sync", "--server", &url, "--token", &token, "--json"],
        ));
        assert_eq!(again["requests"], 1, "{again}");
        assert_eq!(again["refused"].as_array().unwrap().len(), 0, "{again}");
    }
    let doc = format!("report:{id}");
    let text = ok(&waystation(&data, &["sync", "dismiss", &doc]));
    assert!(text.contains("dismissed"), "{text}");
    let status = json(&waystation(&data, &["sync", "status", "--json"]));
    assert_eq!(status["refused_documents"], 0, "{status}");
    assert_eq!(status["refusals"].as_array().unwrap().len(), 0, "{status}");
    // The report keeps its refused state and reason.
    let shown = json(&waystation(&data, &["report", "show", &id, "--json"]));
    assert_eq!(shown["report"]["outbox"]["state"], "refused", "{shown}");
    fails_with(&waystation(&data, &["sync", "dismiss", &doc]), "no refusal");
    server.shutdown();
}

#[test]
fn plain_http_to_another_machine_needs_the_loud_flag() {
    let (_t, data) = fresh();
    fails_with(
        &waystation(
            &data,
            &[
                "sync",
                "--server",
                "http://sync.example.org",
                "--token",
                "x",
            ],
        ),
        "unencrypted",
    );
    // With the flag the URL is accepted and the sync fails on the network instead (a name
    // under .invalid never resolves).
    let out = waystation(
        &data,
        &[
            "sync",
            "--server",
            "http://sync.example.invalid",
            "--token",
            "x",
            "--timeout",
            "2",
            "--insecure-http-i-know",
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("unencrypted"), "{err}");
    assert!(err.contains("reach") || err.contains("network"), "{err}");
}

/// The connection flags are checked by the core's `SyncOptions` (the apps' rules) before any
/// request: the timeout's range, and a CA file that must be PEM text.
#[test]
fn bad_connection_flags_are_named_before_any_request() {
    let (t, data) = fresh();
    let base = [
        "sync",
        "--server",
        "https://sync.example.org",
        "--token",
        "x",
    ];
    for secs in ["0", "601"] {
        let args = [&base[..], &["--timeout", secs]].concat();
        fails_with(
            &waystation(&data, &args),
            "--timeout must be 1..=600 seconds",
        );
    }
    let not_pem = t.path().join("ca.der");
    std::fs::write(&not_pem, [0x30, 0x82, 0xff, 0xfe]).unwrap();
    let ca = not_pem.to_str().unwrap();
    let args = [&base[..], &["--ca-cert", ca]].concat();
    fails_with(&waystation(&data, &args), "not PEM text");
}
