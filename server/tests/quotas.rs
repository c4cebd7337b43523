//! What bounds one client's share of the server: per-account quotas (documents, stored bytes,
//! photos no report links, and the sweep that forgets those), the bounded write queue, the
//! failed-login limit per address, and idle HTTP/2 connections. Real server on loopback, real
//! SQLite file, the server's fixed clock moved by hand.

mod common;

use common::*;
use std::io::{Read, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use waystation_core::sync::protocol::{self, SyncRequest};
use waystation_server::{Quotas, Role, ServerConfig, WriteQueue};

/// A server whose quotas `quotas` changes from the defaults.
fn server_with_quotas(quotas: impl FnOnce(Quotas) -> Quotas) -> TestServer {
    TestServer::start_with(|c| ServerConfig {
        quotas: quotas(c.quotas),
        ..c
    })
}

/// A sync request carrying each report of `ids` whole.
fn reports_request(f: &Factory, ids: &[String]) -> SyncRequest {
    SyncRequest {
        cursor: 0,
        docs: ids
            .iter()
            .map(|id| {
                let mut doc = f.report_doc(id);
                doc_message(
                    &format!("report:{id}"),
                    "report",
                    encoded_since(&mut doc, &[]),
                )
            })
            .collect(),
    }
}

/// Another valid PNG: the 1×1 one with `n` trailing bytes, so its SHA-256 differs.
fn png_variant(n: u8) -> Vec<u8> {
    let mut png = png_1x1();
    png.extend(std::iter::repeat_n(n, usize::from(n) + 1));
    png
}

#[test]
fn a_document_over_the_account_s_quota_is_refused_alone_and_others_are_not_affected() {
    let server = server_with_quotas(|q| Quotas {
        documents: Some(2),
        ..q
    });
    let f = Factory::new();
    let mine: Vec<String> = (0..3).map(|_| f.report("rider-1", "food.seal")).collect();
    let rider = server.user("rider-1", Role::Rider, &[]);
    let r = rider.sync(&reports_request(&f, &mine)).unwrap();
    assert!(r.docs[0].refused.is_none() && r.docs[1].refused.is_none());
    let why = r.docs[2].refused.as_deref().unwrap();
    assert!(why.starts_with("quota_documents:"), "{why}");
    assert!(why.contains("2 documents"), "{why}");
    assert_eq!(server.count("SELECT count(*) FROM docs"), 2);
    // The documents already stored still sync (nothing new to store), and another account
    // has its own quota.
    let again = rider.sync(&reports_request(&f, &mine[..2])).unwrap();
    assert!(again.docs.iter().all(|d| d.refused.is_none()));
    let theirs = f.report("rider-2", "food.seal");
    let other = server.user("rider-2", Role::Rider, &[]);
    let r = other
        .sync(&reports_request(&f, std::slice::from_ref(&theirs)))
        .unwrap();
    assert!(r.docs[0].refused.is_none());
    assert_eq!(server.count("SELECT count(*) FROM docs"), 3);
}

#[test]
fn photos_past_the_byte_or_unlinked_photo_quota_are_403_with_their_own_codes() {
    // Unlinked photos: two may wait for their report, the third is refused.
    let server = server_with_quotas(|q| Quotas {
        unlinked_photos: Some(2),
        ..q
    });
    let rider = server.user("rider-1", Role::Rider, &[]);
    let put =
        |api: &Api, png: &[u8]| api.put(&format!("/v1/photos/{}", sha256_hex(png)), png.to_vec());
    assert_eq!(put(&rider, &png_variant(1)).status().as_u16(), 201);
    assert_eq!(put(&rider, &png_variant(2)).status().as_u16(), 201);
    let e = assert_error(put(&rider, &png_variant(3)), 403, "quota_photos");
    assert!(e.message.contains("2 photos"), "{}", e.message);
    // The same upload again stores nothing new, so it is not refused.
    assert_eq!(put(&rider, &png_variant(1)).status().as_u16(), 200);
    assert_eq!(server.count("SELECT count(*) FROM photos"), 2);
    // Another account is not affected.
    let other = server.user("rider-2", Role::Rider, &[]);
    assert_eq!(put(&other, &png_variant(3)).status().as_u16(), 201);

    // Stored bytes: the photos an account uploaded count, and so do its documents.
    let small = png_variant(1).len() as u64;
    let server = server_with_quotas(|q| Quotas {
        stored_bytes: Some(small + small / 2),
        ..q
    });
    let rider = server.user("rider-1", Role::Rider, &[]);
    assert_eq!(put(&rider, &png_variant(1)).status().as_u16(), 201);
    let e = assert_error(put(&rider, &png_variant(2)), 403, "quota_bytes");
    assert!(e.message.contains("quota"), "{}", e.message);
    let f = Factory::new();
    let report = f.report("rider-1", "food.seal");
    let r = rider
        .sync(&reports_request(&f, std::slice::from_ref(&report)))
        .unwrap();
    let why = r.docs[0].refused.as_deref().unwrap();
    assert!(why.starts_with("quota_bytes:"), "{why}");
    assert_eq!(server.count("SELECT count(*) FROM docs"), 0);
}

/// Waits until the server has finished `n` more photo sweeps.
fn sweeps(server: &TestServer, n: u64) {
    let handle = server.handle.as_ref().unwrap();
    let target = handle.photo_sweeps() + n;
    let started = Instant::now();
    while handle.photo_sweeps() < target {
        assert!(started.elapsed() < Duration::from_secs(60), "no sweep ran");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn the_server_forgets_photos_no_report_links_after_the_grace_period() {
    let server = TestServer::start_with(|c| ServerConfig {
        quotas: Quotas {
            unlinked_photos: Some(1),
            ..c.quotas
        },
        photo_sweep_every: Duration::from_millis(20),
        ..c
    });
    let rider = server.user("rider-1", Role::Rider, &[]);
    // A photo its report links, and one no report names (the report was never sent).
    let f = Factory::new();
    let (report, linked) = f.report_with_photo("rider-1");
    let lone = png_variant(9);
    let put = |photo: &Vec<u8>| {
        let path = format!("/v1/photos/{}", sha256_hex(photo));
        rider.put(&path, photo.clone()).status().as_u16()
    };
    assert_eq!(put(&linked), 201);
    let mut device = Device::new(rider.with_token(&rider.token));
    device.put(&format!("report:{report}"), "report", f.report_doc(&report));
    assert!(device.sync()[0].docs[0].refused.is_none());
    assert_eq!(put(&lone), 201);
    // The lone photo takes the account's one unlinked place.
    assert_error(
        rider.put(
            &format!("/v1/photos/{}", sha256_hex(&png_variant(8))),
            png_variant(8),
        ),
        403,
        "quota_photos",
    );

    // Within the grace period (7 days by default) sweeps keep both.
    server.clock.set(noon() + chrono::Duration::days(7));
    sweeps(&server, 2);
    assert_eq!(server.count("SELECT count(*) FROM photos"), 2);

    // Past it, the lone photo is forgotten and deleted; the linked one stays, readable.
    server
        .clock
        .set(noon() + chrono::Duration::days(7) + chrono::Duration::seconds(1));
    sweeps(&server, 2);
    assert_eq!(server.count("SELECT count(*) FROM photos"), 1);
    assert_eq!(server.count("SELECT count(*) FROM photo_uploaders"), 1);
    assert_error(
        rider.get(&format!("/v1/photos/{}", sha256_hex(&lone))),
        404,
        "not_found",
    );
    let staff = server.user(
        "staff-1",
        Role::Station,
        &[&district_of(&f.report_doc(&report))],
    );
    let got = staff.get(&format!("/v1/photos/{}", sha256_hex(&linked)));
    assert_eq!(got.bytes().unwrap().to_vec(), linked);
    // The account has its unlinked place back.
    let path = format!("/v1/photos/{}", sha256_hex(&png_variant(8)));
    assert_eq!(rider.put(&path, png_variant(8)).status().as_u16(), 201);
}

#[test]
fn a_write_that_cannot_get_its_turn_is_503_busy_with_retry_after() {
    if on_postgres() {
        // This process's write queue exists only in front of SQLite's single writer; on
        // PostgreSQL writers wait for a pooled connection and for row locks instead.
        eprintln!("the write queue is SQLite's: not run on PostgreSQL");
        return;
    }
    // No writer may wait: one that finds the gate taken is turned away at once.
    let server = TestServer::start_with(|c| ServerConfig {
        write_queue: WriteQueue {
            max_waiting: 0,
            max_wait: Duration::from_secs(2),
        },
        ..c
    });
    let f = Factory::new();
    let riders: Vec<(Api, SyncRequest)> = ["rider-1", "rider-2"]
        .into_iter()
        .map(|user| {
            let report = f.report(user, "food.seal");
            (
                server.user(user, Role::Rider, &[]),
                reports_request(&f, &[report]),
            )
        })
        .collect();
    // Another process holds SQLite's write lock: the first writer takes the gate and waits
    // for the lock (up to SQLite's 10 s busy timeout); the second finds the gate taken.
    let mut lock = rusqlite::Connection::open(&server.db).unwrap();
    let tx = lock
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .unwrap();
    let (answers, answered) = mpsc::channel();
    for (api, request) in riders {
        let answers = answers.clone();
        std::thread::spawn(move || {
            let r = api.post_sync_raw(protocol::encode(&request));
            let retry = r.headers().get("retry-after").cloned();
            let _ = answers.send((retry, decode_answer::<protocol::SyncResponse>(r)));
        });
    }
    // Well before SQLite's busy timeout would answer anyone.
    let (retry, first) = answered.recv_timeout(Duration::from_secs(8)).unwrap();
    let e = first.expect_err("the writer that found the gate taken is turned away");
    assert_eq!((e.status.as_u16(), e.body.code.as_str()), (503, "busy"));
    assert!(e.body.message.contains("queued"), "{}", e.body.message);
    assert_eq!(retry.unwrap(), "2");
    tx.commit().unwrap();
    // The one that had its turn completes once the lock is released; one report stored.
    let (_, second) = answered.recv_timeout(Duration::from_secs(30)).unwrap();
    assert!(second.unwrap().docs[0].refused.is_none());
    assert_eq!(server.count("SELECT count(*) FROM docs"), 1);
}

#[test]
fn bad_tokens_from_one_address_are_429_and_then_every_request_from_it_waits() {
    let server = TestServer::start_with(|c| ServerConfig {
        failed_logins_per_minute: std::num::NonZeroU32::new(3),
        ..c
    });
    let rider = server.user("rider-1", Role::Rider, &[]);
    let stranger = rider.with_token("wst_not-a-token");
    for _ in 0..3 {
        assert_error(stranger.get("/v1/me"), 401, "unauthorized");
    }
    let r = stranger.get("/v1/me");
    // 3 a minute: the next is allowed 20 s later, on the server's clock.
    assert_eq!(r.headers()["retry-after"], "20");
    assert_error(r, 429, "login_limited");
    // Refused before the token is looked up: even a good one waits, so tokens cannot be
    // tried at speed from one address. A probe needs no token.
    assert_error(rider.get("/v1/me"), 429, "login_limited");
    assert_eq!(
        http_client()
            .get(format!("{}/healthz", server.url()))
            .send()
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    server.clock.set(noon() + chrono::Duration::seconds(20));
    assert_eq!(rider.get("/v1/me").status().as_u16(), 200);
    assert_error(stranger.get("/v1/me"), 401, "unauthorized");
    assert_error(stranger.get("/v1/me"), 429, "login_limited");
}

#[test]
fn behind_a_trusted_proxy_failed_logins_count_per_forwarded_client() {
    let server = TestServer::start_with(|c| ServerConfig {
        failed_logins_per_minute: std::num::NonZeroU32::new(2),
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        ..c
    });
    let rider = server.user("rider-1", Role::Rider, &[]);
    let me = |token: &str, forwarded: &str| {
        rider
            .http
            .get(format!("{}/v1/me", server.url()))
            .bearer_auth(token)
            .header("x-forwarded-for", forwarded)
            .send()
            .unwrap()
    };
    // The proxy appends the address it saw; what the client put before it proves nothing.
    for _ in 0..2 {
        assert_error(me("wst_bad", "10.9.9.9, 198.51.100.1"), 401, "unauthorized");
    }
    assert_error(me(&rider.token, "198.51.100.1"), 429, "login_limited");
    // Another client behind the same proxy is not affected.
    assert_eq!(
        me(&rider.token, "198.51.100.1, 198.51.100.2")
            .status()
            .as_u16(),
        200
    );
}

/// An HTTP/2 frame header: length, type, flags, stream id.
fn h2_frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut f = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags];
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// Opens an HTTP/2 (prior knowledge) connection, writes `after_preface`, and returns how long
/// the server took to close it (`None`: still open after 20 s).
fn h2_closed_after(addr: std::net::SocketAddr, after_preface: &[u8]) -> Option<Duration> {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let started = Instant::now();
    s.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").unwrap();
    s.write_all(&h2_frame(0x4, 0, 0, &[])).unwrap(); // SETTINGS, none
    s.write_all(after_preface).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Some(started.elapsed()),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Some(started.elapsed());
            }
            Err(_) => return None,
        }
    }
}

#[test]
fn an_http2_connection_that_starts_no_request_is_closed_after_the_idle_timeout() {
    let idle = Duration::from_secs(1);
    let server = TestServer::start_with(|c| ServerConfig {
        body_idle_timeout: idle,
        ..c
    });
    let addr = server.handle.as_ref().unwrap().addr();
    // A HEADERS frame whose header block never ends (END_STREAM, no END_HEADERS): `:method
    // GET` (HPACK index 2) and nothing more.
    let stalled_headers = h2_frame(0x1, 0x1, 1, &[0x82]);
    for (what, bytes) in [
        ("a header block that never ends", stalled_headers),
        ("nothing", vec![]),
    ] {
        let closed = h2_closed_after(addr, &bytes)
            .unwrap_or_else(|| panic!("{what}: the connection stayed open"));
        assert!(closed >= idle, "{what}: closed after {closed:?}");
    }
    // Requests still work, and a slow moving upload is not cut (bad_input's stalled-body
    // test sends one over HTTP/1.1 in parts for longer than the idle time).
    assert_eq!(
        http_client()
            .get(format!("{}/healthz", server.url()))
            .send()
            .unwrap()
            .status()
            .as_u16(),
        200
    );
}

/// Reads HTTP/2 frames from `s` until `until` says stop or the connection ends: returns
/// whether it ended (EOF or reset) and the DATA bytes received on stream 1.
fn h2_read(s: &mut std::net::TcpStream, mut until: impl FnMut(usize) -> bool) -> (bool, usize) {
    let mut data = 0usize;
    loop {
        let mut head = [0u8; 9];
        match s.read_exact(&mut head) {
            Ok(()) => {}
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                return (false, data);
            }
            Err(_) => return (true, data),
        }
        let len = (usize::from(head[0]) << 16) | (usize::from(head[1]) << 8) | usize::from(head[2]);
        let mut payload = vec![0u8; len];
        if s.read_exact(&mut payload).is_err() {
            return (true, data);
        }
        let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
        if head[3] == 0x0 && stream == 1 {
            data += len;
        }
        if until(data) {
            return (false, data);
        }
    }
}

#[test]
fn a_slow_download_keeps_its_http2_connection_open() {
    let idle = Duration::from_secs(1);
    let server = TestServer::start_with(|c| ServerConfig {
        body_idle_timeout: idle,
        ..c
    });
    let rider = server.user("rider-1", Role::Rider, &[]);
    // A photo larger than HTTP/2's initial flow-control window (65,535 bytes).
    let mut photo = png_1x1();
    photo.resize(200_000, 7);
    let sha = sha256_hex(&photo);
    let path = format!("/v1/photos/{sha}");
    assert_eq!(rider.put(&path, photo.clone()).status().as_u16(), 201);

    let mut s = std::net::TcpStream::connect(server.handle.as_ref().unwrap().addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").unwrap();
    s.write_all(&h2_frame(0x4, 0, 0, &[])).unwrap();
    // GET path with the token: HPACK :method GET, :scheme http, then literal :path and
    // authorization (indexed names 4 and 23, values not indexed).
    let auth = format!("Bearer {}", rider.token);
    let mut block = vec![0x82, 0x86, 0x04, path.len() as u8];
    block.extend_from_slice(path.as_bytes());
    block.extend_from_slice(&[0x0f, 0x08, auth.len() as u8]);
    block.extend_from_slice(auth.as_bytes());
    s.write_all(&h2_frame(0x1, 0x5, 1, &block)).unwrap();
    // The first window, then 16 KB more every 0.3 s, a phone on a poor connection: the
    // whole download takes longer than twice the idle timeout, and the server, its body long
    // handed to HTTP/2's send buffer, keeps sending.
    let started = Instant::now();
    let (ended, mut got) = h2_read(&mut s, |n| n >= 65_535);
    assert!(!ended, "closed after {got} bytes");
    while got < photo.len() {
        std::thread::sleep(Duration::from_millis(300));
        let grant = 16_384u32.to_be_bytes();
        s.write_all(&h2_frame(0x8, 0, 0, &grant)).unwrap();
        s.write_all(&h2_frame(0x8, 0, 1, &grant)).unwrap();
        let target = (got + 16_384).min(photo.len());
        let (ended, n) = h2_read(&mut s, |n| got + n >= target);
        got += n;
        assert!(!ended, "closed after {got} bytes, {:?}", started.elapsed());
    }
    assert_eq!(got, photo.len());
    assert!(started.elapsed() > idle * 2);
}
