//! How the server is run: over TLS with a certificate, as two processes' worth of servers on
//! one database file, with reads that never wait for a writer, publishing packs with ETags,
//! per-account rate limits, and the `waystation-server` command itself.

mod common;

use common::*;
use std::io::{BufRead, BufReader};
use std::num::NonZeroU32;
use std::process::{Command, Stdio};
use std::time::Duration;
use waystation_core::packs::{self, PublisherKeyPair};
use waystation_core::sync::protocol::{self, SyncRequest};
use waystation_server::{PackKind, Role, ServerConfig, TlsFiles};

#[test]
fn tls_with_a_self_signed_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let cert =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let cert_pem = dir.path().join("cert.pem");
    let key_pem = dir.path().join("key.pem");
    std::fs::write(&cert_pem, cert.cert.pem()).unwrap();
    std::fs::write(&key_pem, cert.signing_key.serialize_pem()).unwrap();
    let db = dir.path().join("server.sqlite3");
    let token =
        waystation_server::add_user(&db, "rider-1", Role::Rider, &[], chrono::Duration::days(1))
            .unwrap();
    let server = waystation_server::spawn_config_on_thread(ServerConfig {
        tls: Some(TlsFiles {
            cert_pem: cert_pem.clone(),
            key_pem,
        }),
        ..ServerConfig::new(&db, "127.0.0.1:0".parse().unwrap())
    })
    .unwrap();
    assert!(server.url().starts_with("https://127.0.0.1:"));

    let _ = http_client(); // installs the ring provider
    let trusting = reqwest::blocking::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap()])
        .build()
        .unwrap();
    let me = trusting
        .get(format!("{}/v1/me", server.url()))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(me.status().as_u16(), 200);
    let me: protocol::Me = protocol::decode(&me.bytes().unwrap()).unwrap();
    assert_eq!(me.user, "rider-1");
    let sync = trusting
        .post(format!("{}/v1/sync", server.url()))
        .bearer_auth(&token)
        .body(protocol::encode(&SyncRequest::default()))
        .send()
        .unwrap();
    assert_eq!(sync.status().as_u16(), 200);

    // A client that does not trust the certificate does not get through; nor does plain HTTP.
    let untrusting = reqwest::blocking::Client::builder().build().unwrap();
    assert!(
        untrusting
            .get(format!("{}/healthz", server.url()))
            .send()
            .is_err()
    );
    let plain = server.url().replace("https://", "http://");
    let plain_ok = http_client()
        .get(format!("{plain}/healthz"))
        .send()
        .is_ok_and(|r| r.status().is_success());
    assert!(!plain_ok, "plain HTTP to the TLS port");
    server.shutdown();

    // A key that does not match the certificate is refused at start.
    let other = rcgen::generate_simple_self_signed(vec!["x".into()]).unwrap();
    let wrong_key = dir.path().join("wrong.pem");
    std::fs::write(&wrong_key, other.signing_key.serialize_pem()).unwrap();
    let e = waystation_server::spawn_config_on_thread(ServerConfig {
        tls: Some(TlsFiles {
            cert_pem,
            key_pem: wrong_key,
        }),
        ..ServerConfig::new(&db, "127.0.0.1:0".parse().unwrap())
    })
    .unwrap_err();
    assert!(e.to_string().contains("TLS"), "{e}");
}

#[test]
fn two_servers_on_one_database_both_serve() {
    let one = TestServer::start();
    let two = waystation_server::spawn_config_on_thread(ServerConfig {
        clock: one.clock.clone(),
        ..ServerConfig::new(&one.db, "127.0.0.1:0".parse().unwrap())
    })
    .unwrap();
    let f = Factory::new();
    let rider_token = one
        .admin()
        .add_user("rider-1", Role::Rider, &[], chrono::Duration::days(1))
        .unwrap();
    let mut via_one = Device::new(Api::new(&one.url(), &rider_token));
    let mut via_two = Device::new(Api::new(&two.url(), &rider_token));

    // Writes through both, in parallel threads; every report gets its own feed number.
    let mut reports = Vec::new();
    for _ in 0..6 {
        let r = f.report("rider-1", "food.seal");
        reports.push((format!("report:{r}"), f.report_doc(&r)));
    }
    let (a, b) = reports.split_at(3);
    let (a, b) = (a.to_vec(), b.to_vec());
    let (url1, url2) = (one.url(), two.url());
    let t1 = {
        let token = rider_token.clone();
        std::thread::spawn(move || {
            let mut d = Device::new(Api::new(&url1, &token));
            for (id, doc) in a {
                d.put(&id, "report", doc);
                d.sync();
            }
        })
    };
    let t2 = {
        let token = rider_token.clone();
        std::thread::spawn(move || {
            let mut d = Device::new(Api::new(&url2, &token));
            for (id, doc) in b {
                d.put(&id, "report", doc);
                d.sync();
            }
        })
    };
    t1.join().unwrap();
    t2.join().unwrap();
    assert_eq!(one.count("SELECT count(*) FROM docs"), 6);
    assert_eq!(one.count("SELECT count(DISTINCT seq) FROM docs"), 6);
    via_one.sync();
    via_two.sync();
    assert_eq!(via_one.docs.len(), 6);
    assert_eq!(via_two.docs.len(), 6);
    two.shutdown();
}

#[test]
fn reads_do_not_wait_for_a_writer_and_writes_wait_their_turn() {
    let server = TestServer::start();
    let rider = server.user("rider-1", Role::Rider, &[]);
    let f = Factory::new();
    let report = f.report("rider-1", "food.seal");
    let id = format!("report:{report}");
    let mut doc = f.report_doc(&report);
    let write = SyncRequest {
        cursor: 0,
        docs: vec![doc_message(&id, "report", encoded_since(&mut doc, &[]))],
    };
    rider.sync(&write).unwrap();

    // Another process holds the write lock (on PostgreSQL, the feed position's row lock).
    let lock = hold_write_lock(&server.db);
    let started = std::time::Instant::now();
    decode_answer::<protocol::Me>(rider.get("/v1/me")).unwrap();
    rider.sync(&SyncRequest::default()).unwrap();
    // A message without changes only reads.
    let mut empty = automerge::AutoCommit::new();
    let fetch = SyncRequest {
        cursor: 0,
        docs: vec![doc_message(&id, "report", encoded_since(&mut empty, &[]))],
    };
    let r = rider.sync(&fetch).unwrap();
    assert!(r.docs[0].message.is_some());
    assert!(started.elapsed() < Duration::from_secs(2), "reads waited");

    // A write waits for the lock and then goes through.
    let f2 = Factory::new();
    let other = f2.report("rider-1", "food.seal");
    let mut other_doc = f2.report_doc(&other);
    let other_id = format!("report:{other}");
    let body = protocol::encode(&SyncRequest {
        cursor: 0,
        docs: vec![doc_message(
            &other_id,
            "report",
            encoded_since(&mut other_doc, &[]),
        )],
    });
    let api = Api::new(&rider.base, &rider.token);
    let writer = std::thread::spawn(move || {
        decode_answer::<protocol::SyncResponse>(api.post_sync_raw(body))
    });
    std::thread::sleep(Duration::from_millis(300));
    lock.release();
    let r = writer.join().unwrap().unwrap();
    assert!(r.docs[0].refused.is_none());
    assert_eq!(server.count("SELECT count(*) FROM docs"), 2);
}

#[test]
fn packs_are_verified_on_publish_and_served_with_etags() {
    let server = TestServer::start();
    let rider = server.user("rider-1", Role::Rider, &[]);
    let admin = server.admin();
    let trusted = vec![packs::demo_trusted_key()];

    // An untrusted signer, or the wrong kind, is refused.
    let stranger = PublisherKeyPair::from_seed("stranger", [9u8; 32]);
    let forged = packs::seal(b"{}", PackKind::Stations.payload_type(), &stranger).unwrap();
    assert!(
        admin
            .publish_pack(PackKind::Stations, &forged, &trusted)
            .is_err()
    );
    assert!(
        admin
            .publish_pack(PackKind::Training, &sample_station_pack(), &trusted)
            .is_err()
    );

    let p = admin
        .publish_pack(PackKind::Stations, &sample_station_pack(), &trusted)
        .unwrap();
    assert!(p.changed);
    let again = admin
        .publish_pack(PackKind::Stations, &sample_station_pack(), &trusted)
        .unwrap();
    assert!(!again.changed);

    let r = rider.get("/v1/packs/stations");
    assert_eq!(r.status().as_u16(), 200);
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(etag, format!("\"{}\"", p.etag));
    assert_eq!(r.bytes().unwrap().to_vec(), sample_station_pack());

    let conditional = |tag: &str| {
        rider
            .http
            .get(format!("{}/v1/packs/stations", rider.base))
            .bearer_auth(&rider.token)
            .header("if-none-match", tag)
            .send()
            .unwrap()
    };
    let r = conditional(&etag);
    assert_eq!(r.status().as_u16(), 304);
    assert_eq!(r.headers()["etag"].to_str().unwrap(), etag);
    assert!(r.bytes().unwrap().is_empty());
    assert_eq!(conditional("\"0000\"").status().as_u16(), 200);

    // Training: none yet, then the real pack.
    assert_error(rider.get("/v1/packs/training"), 404, "not_found");
    admin
        .publish_pack(PackKind::Training, &training_pack(), &trusted)
        .unwrap();
    assert_eq!(rider.get("/v1/packs/training").status().as_u16(), 200);
    // Packs need a token like everything else.
    let r = http_client()
        .get(format!("{}/v1/packs/training", server.url()))
        .send()
        .unwrap();
    assert_error(r, 401, "unauthorized");
}

#[test]
fn the_command_adds_users_and_serves() {
    let bin = env!("CARGO_BIN_EXE_waystation-server");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.sqlite3");
    let db_arg = db.to_str().unwrap();
    let out = Command::new(bin)
        .args([
            "user", "add", "--db", db_arg, "--name", "staff-1", "--role", "station",
        ])
        .args(["--area", "610103", "--area", "610113"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(token.starts_with("wst_"), "{token}");

    let out = Command::new(bin)
        .args([
            "user", "add", "--db", db_arg, "--name", "x", "--role", "boss",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown role"));

    let pack = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data/stations/xian-sample.pack.json"
    );
    // No key is trusted by default, not even the demo key (its secret is public).
    let publish = |extra: &[&str]| {
        Command::new(bin)
            .args([
                "pack", "publish", "--db", db_arg, "--kind", "stations", pack,
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = publish(&[]);
    assert!(!out.status.success(), "published with no trusted key");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--trust-key"));
    // Trusting the city's key only: a pack signed with the demo key is refused.
    let city = dir.path().join("city.json");
    let city_key = PublisherKeyPair::from_seed("xian-city-2026", [7u8; 32]).trusted_key();
    std::fs::write(&city, serde_json::to_vec(&city_key).unwrap()).unwrap();
    let out = publish(&["--trust-key", city.to_str().unwrap()]);
    assert!(!out.status.success(), "a demo-signed pack was published");
    assert_eq!(server_count(&db, "SELECT count(*) FROM packs"), 0);
    // Naming the demo key's file trusts it, with a warning.
    let demo = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data/keys/demo-publisher.json"
    );
    let out = publish(&["--trust-key", demo]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("secret is public"));

    let mut child = Command::new(bin)
        .args(["serve", "--db", db_arg, "--listen", "127.0.0.1:0"])
        .args(["--requests-per-minute", "3", "--idle-timeout-secs", "5"])
        // The resource limits parse (quotas.rs tests what they do).
        .args(["--write-queue", "8", "--write-wait-ms", "2000"])
        .args(["--quota-documents", "100", "--quota-mib", "0"])
        .args([
            "--quota-unlinked-photos",
            "10",
            "--unlinked-photo-grace-days",
            "3",
        ])
        .args([
            "--failed-logins-per-minute",
            "5",
            "--trusted-proxy",
            "127.0.0.1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    let api = Api::new(&url, &token);
    let me: protocol::Me = decode_answer(api.get("/v1/me")).unwrap();
    assert_eq!(me.areas, vec!["610103", "610113"]);
    assert_eq!(api.get("/v1/packs/stations").status().as_u16(), 200);
    assert_eq!(api.get("/v1/me").status().as_u16(), 200);
    // --requests-per-minute 3: the fourth request in the minute is refused.
    let limited = api.get("/v1/me");
    assert!(limited.headers().contains_key("retry-after"));
    assert_error(limited, 429, "rate_limited");

    let out = Command::new(bin)
        .args(["token", "revoke", "--db", db_arg, "--token", &token])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_error(api.get("/v1/me"), 401, "unauthorized");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn lesson_images_are_checked_when_added_and_served_by_hash_to_signed_in_accounts() {
    let server = TestServer::start();
    let admin = server.admin();
    let png = png_1x1();
    let (sha, new) = admin.add_training_image(&png).unwrap();
    assert!(new);
    assert_eq!(sha, sha256_hex(&png));
    // Bad images are refused, each naming the problem.
    let too_big = [
        png.clone(),
        vec![0; waystation_core::training::MAX_TRAINING_IMAGE_BYTES],
    ]
    .concat();
    for (bytes, why) in [
        (b"GIF89a not ours".to_vec(), "not a JPEG, PNG or WebP"),
        (Vec::new(), "not a JPEG, PNG or WebP"),
        (too_big, "at most"),
    ] {
        let err = admin.add_training_image(&bytes).unwrap_err().to_string();
        assert!(err.contains(why), "{err}");
    }

    let rider = server.user("rider-1", Role::Rider, &[]);
    let r = rider.get(&format!("/v1/training/images/{sha}"));
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.headers()["etag"], format!("\"{sha}\"").as_str());
    // Browsers never sniff an image into something else.
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert_eq!(r.bytes().unwrap().to_vec(), png);
    assert_error(
        rider.get(&format!("/v1/training/images/{}", sha256_hex(b"other"))),
        404,
        "not_found",
    );
    let dotted = format!("..%2F{sha}");
    let deeper = format!("{sha}/x");
    for bad in ["ABC", &sha.to_uppercase(), &dotted, &deeper] {
        assert_error(
            rider.get(&format!("/v1/training/images/{bad}")),
            400,
            "bad_path",
        );
    }
    assert_error(
        http_client()
            .get(format!("{}/v1/training/images/{sha}", server.url()))
            .send()
            .unwrap(),
        401,
        "unauthorized",
    );
}

/// Runs `waystation-server` with `args`: (success, stdout, stderr). The subprocess shares the
/// test server's fixed clock ([`waystation_core::clock::TEST_NOW_ENV`]): with the real clock,
/// tokens the test server issued for a day would count as expired a day after `noon()`.
fn admin_command(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_waystation-server"))
        .args(args)
        .env(waystation_core::clock::TEST_NOW_ENV, noon().to_rfc3339())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn the_command_lists_and_changes_accounts_and_revokes_all_of_ones_tokens() {
    let server = TestServer::start();
    let db = server.db.to_str().unwrap().to_string();
    let staff = server.user("staff-1", Role::Station, &["610113"]);
    let rider = server.user("rider-1", Role::Rider, &[]);
    let second_phone = rider.with_token(
        &server
            .admin()
            .issue_token("rider-1", chrono::Duration::days(1))
            .unwrap(),
    );

    let (ok, out, _) = admin_command(&["user", "list", "--db", &db]);
    assert!(ok);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "rider-1\trider\tareas -\t2 live token(s)",
            "staff-1\tstation\tareas 610113\t1 live token(s)"
        ]
    );
    let (ok, out, _) = admin_command(&["user", "list", "--db", &db, "--json"]);
    assert!(ok);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json[1]["areas"], serde_json::json!(["610113"]));

    // Moved to supervising two districts: the next request sees it.
    let (ok, out, err) = admin_command(&[
        "user",
        "set",
        "--db",
        &db,
        "--name",
        "staff-1",
        "--role",
        "supervisor",
        "--area",
        "610113",
        "--area",
        "610103",
    ]);
    assert!(ok, "{err}");
    assert_eq!(
        out.trim(),
        "staff-1\tsupervisor\tareas 610103,610113\t1 live token(s)"
    );
    let me: protocol::Me = decode_answer(staff.get("/v1/me")).unwrap();
    assert_eq!((me.role.as_str(), me.areas.len()), ("supervisor", 2));

    // Bad input: each named, exit code 1, nothing changed.
    for (args, why) in [
        (vec!["--name", "staff-1"], "nothing to change"),
        (vec!["--name", "staff-1", "--role", "boss"], "unknown role"),
        (
            vec!["--name", "staff-1", "--role", "rider"],
            "--clear-areas",
        ),
        (vec!["--name", "staff-1", "--area", "61"], "GB/T 2260"),
        (
            vec!["--name", "rider-1", "--area", "610113"],
            "has no areas",
        ),
        (
            vec!["--name", "nobody", "--role", "grid"],
            "no user 'nobody'",
        ),
    ] {
        let mut full = vec!["user", "set", "--db", &db];
        full.extend(&args);
        let (ok, _, err) = admin_command(&full);
        assert!(!ok && err.contains(why), "{args:?}: {err}");
    }
    let (ok, _, err) = admin_command(&[
        "user",
        "set",
        "--db",
        &db,
        "--name",
        "x",
        "--area",
        "610113",
        "--clear-areas",
    ]);
    assert!(!ok && err.contains("cannot be used with"), "{err}");
    let me: protocol::Me = decode_answer(staff.get("/v1/me")).unwrap();
    assert_eq!(me.areas, ["610103", "610113"]);

    // A lost phone: every token of the rider is revoked at once, and no one else's.
    let (ok, _, err) = admin_command(&["token", "revoke", "--db", &db, "--user", "rider-1"]);
    assert!(ok && err.contains("Revoked 2"), "{err}");
    assert_error(rider.get("/v1/me"), 401, "unauthorized");
    assert_error(second_phone.get("/v1/me"), 401, "unauthorized");
    assert_eq!(staff.get("/v1/me").status().as_u16(), 200);
    let (ok, _, err) = admin_command(&["token", "revoke", "--db", &db]);
    assert!(!ok && err.contains("--token"), "{err}");

    // After a restore from a backup.
    let before = decode_answer::<protocol::SyncResponse>(
        staff.post_sync_raw(protocol::encode(&SyncRequest::default())),
    )
    .unwrap()
    .generation;
    let (ok, _, err) = admin_command(&["db", "mark-restored", "--db", &db]);
    assert!(ok && err.contains("Marked as restored"), "{err}");
    let after = decode_answer::<protocol::SyncResponse>(
        staff.post_sync_raw(protocol::encode(&SyncRequest::default())),
    )
    .unwrap()
    .generation;
    assert_ne!(before, after);
}

#[test]
fn a_killed_server_restarts_on_the_same_address_with_everything_kept() {
    let mut server = TestServer::start();
    let f = Factory::new();
    let token = server
        .admin()
        .add_user("rider-1", Role::Rider, &[], chrono::Duration::days(1))
        .unwrap();
    let report = f.report("rider-1", "food.seal");
    let id = format!("report:{report}");
    let mut device = Device::new(Api::new(&server.url(), &token));
    device.put(&id, "report", f.report_doc(&report));
    device.sync();
    let addr = server.handle.as_ref().unwrap().addr();
    server.handle.take().unwrap().kill();
    assert!(
        http_client()
            .get(format!("http://{addr}/healthz"))
            .send()
            .is_err(),
        "stopped"
    );

    let again = waystation_server::spawn_config_on_thread(ServerConfig {
        clock: server.clock.clone(),
        ..ServerConfig::new(&server.db, addr)
    })
    .unwrap();
    assert_eq!(again.addr(), addr);
    let mut second = Device::new(Api::new(&again.url(), &token));
    second.sync();
    assert_eq!(second.heads(&id), device.heads(&id));
    again.shutdown();
}

#[test]
fn each_account_has_a_rate_limit_and_is_told_when_to_come_back() {
    let server = TestServer::start();
    let limited = waystation_server::spawn_config_on_thread(ServerConfig {
        clock: server.clock.clone(),
        requests_per_minute: NonZeroU32::new(3),
        ..ServerConfig::new(&server.db, "127.0.0.1:0".parse().unwrap())
    })
    .unwrap();
    let rider = server
        .user("rider-1", Role::Rider, &[])
        .on_server(&limited.url());
    let staff = server
        .user("staff-1", Role::Station, &["610113"])
        .on_server(&limited.url());
    for _ in 0..3 {
        assert_eq!(rider.get("/v1/me").status().as_u16(), 200);
    }
    // The fourth request in the minute: 429, with the seconds until one more is allowed
    // (3 per minute: one every 20 s).
    let r = rider.get("/v1/me");
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&wait), "{wait}");
    let body = assert_error(r, 429, "rate_limited");
    assert!(
        body.message.contains("3 requests per minute"),
        "{}",
        body.message
    );
    // A refused sync does no work: nothing is stored.
    let f = Factory::new();
    let report = f.report("rider-1", "road.hazard");
    let mut doc = f.report_doc(&report);
    let err = rider
        .sync(&SyncRequest {
            cursor: 0,
            docs: vec![doc_message(
                &format!("report:{report}"),
                "report",
                encoded_since(&mut doc, &[]),
            )],
        })
        .unwrap_err();
    assert_eq!(err.body.code, "rate_limited");
    assert_eq!(server.count("SELECT count(*) FROM docs"), 0);
    // Each account has its own allowance; requests without a valid token are refused as
    // unauthorized, not counted against anyone.
    assert_eq!(staff.get("/v1/me").status().as_u16(), 200);
    for _ in 0..5 {
        assert_error(
            rider.with_token("wst_not-a-token").get("/v1/me"),
            401,
            "unauthorized",
        );
    }
    assert_eq!(staff.get("/v1/me").status().as_u16(), 200);
    // The default server (no limit of 3) serves the same account.
    let unlimited = server.user("rider-2", Role::Rider, &[]);
    for _ in 0..10 {
        assert_eq!(unlimited.get("/v1/me").status().as_u16(), 200);
    }
    limited.shutdown();
}
