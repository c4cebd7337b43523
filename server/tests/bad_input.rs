//! Bad input gets a 4xx with a clear CBOR error, never a panic, and stores nothing:
//! malformed, truncated and oversized bodies, unknown kinds, ids that look like paths, forged
//! Automerge changes, unusable Bloom filters, wrong photo hashes, photo paths that try to escape, non-images, and
//! missing, unknown, revoked or expired tokens.

mod common;

use automerge::sync::{ChunkList, Message};
use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ROOT};
use common::*;
use std::io::{Read, Write};
use waystation_core::sync::protocol::{self, MAX_PHOTO_BYTES, MAX_SYNC_BODY_BYTES, SyncRequest};
use waystation_server::Role;

fn report_request(f: &Factory, author: &str) -> (String, SyncRequest) {
    let report = f.report(author, "food.seal");
    let id = format!("report:{report}");
    let mut doc = f.report_doc(&report);
    let request = SyncRequest {
        cursor: 0,
        docs: vec![doc_message(&id, "report", encoded_since(&mut doc, &[]))],
    };
    (id, request)
}

#[test]
fn malformed_truncated_and_trailing_bodies_are_400_malformed_body() {
    let server = TestServer::start();
    let rider = server.user("rider-1", Role::Rider, &[]);
    let (_, request) = report_request(&Factory::new(), "rider-1");
    let good = protocol::encode(&request);
    let mut trailing = good.clone();
    trailing.push(0);
    for (what, body) in [
        ("empty", vec![]),
        ("not CBOR", b"{\"c\":0}".to_vec()),
        ("truncated", good[..good.len() / 2].to_vec()),
        ("trailing bytes", trailing),
        ("wrong shape", protocol::encode(&vec![1, 2, 3])),
        (
            "a map without the cursor",
            protocol::encode(&protocol::ErrorBody {
                code: "x".into(),
                message: "y".into(),
            }),
        ),
    ] {
        let e = assert_error(rider.post_sync_raw(body), 400, "malformed_body");
        eprintln!("{what}: {}", e.message);
    }
    assert_eq!(server.count("SELECT count(*) FROM docs"), 0);
    // The same request whole is fine.
    assert!(rider.sync(&request).is_ok());
}

/// Sends a raw HTTP/1.1 request and returns whatever the server answered before closing.
fn raw(addr: std::net::SocketAddr, head: &str, body: &[u8], half_close: bool) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    let _ = s.write_all(head.as_bytes());
    let _ = s.write_all(body);
    if half_close {
        let _ = s.shutdown(std::net::Shutdown::Write);
    }
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

/// A rider "r" on `server`, and a sync request of one report with its raw HTTP/1.1 head.
struct RawSync {
    token: String,
    addr: std::net::SocketAddr,
    request: SyncRequest,
    body: Vec<u8>,
    head: String,
}

impl RawSync {
    fn new(server: &TestServer) -> RawSync {
        let token = server
            .admin()
            .add_user("r", Role::Rider, &[], chrono::Duration::days(1))
            .unwrap();
        let (_, request) = report_request(&Factory::new(), "r");
        let body = protocol::encode(&request);
        let head = format!(
            "POST /v1/sync HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        );
        RawSync {
            token,
            addr: server.handle.as_ref().unwrap().addr(),
            request,
            body,
            head,
        }
    }
}

#[test]
fn a_body_cut_short_on_the_wire_stores_nothing_and_the_server_goes_on() {
    let server = TestServer::start();
    let RawSync {
        addr, body, head, ..
    } = RawSync::new(&server);
    // The client goes away after half the body: the server cannot answer it (hyper closes a
    // connection whose peer stopped sending), and must store nothing.
    let answer = raw(addr, &head, &body[..body.len() / 2], true);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 400"),
        "{answer}"
    );
    assert_eq!(server.count("SELECT count(*) FROM docs"), 0);
    // The whole body on a fresh connection is fine.
    let answer = raw(
        addr,
        &head.replace("HTTP/1.1\r\n", "HTTP/1.1\r\nConnection: close\r\n"),
        &body,
        false,
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(server.count("SELECT count(*) FROM docs"), 1);
}

#[test]
fn a_stalled_body_is_408_and_a_slow_moving_one_completes() {
    // Generous against a loaded CI machine: the parts below come every quarter of it.
    let idle = std::time::Duration::from_secs(2);
    let server = TestServer::start_with(|c| waystation_server::ServerConfig {
        body_idle_timeout: idle,
        ..c
    });
    let RawSync {
        token,
        addr,
        request,
        body,
        head,
    } = RawSync::new(&server);
    // Half the body, then nothing (the connection stays open): answered 408 once the body has
    // been idle for the timeout, and nothing is stored.
    let started = std::time::Instant::now();
    let answer = raw(addr, &head, &body[..body.len() / 2], false);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(started.elapsed() >= idle);
    assert_eq!(server.count("SELECT count(*) FROM docs"), 0);

    // Headers that stop half way: the connection is closed.
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    s.write_all(b"GET /v1/me HTTP/1.1\r\nHost: x\r\n").unwrap();
    let mut rest = Vec::new();
    let started = std::time::Instant::now();
    let _ = s.read_to_end(&mut rest);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "closed by the header timeout"
    );

    // A photo sent in parts, each within the idle time but longer than it in all, arrives.
    let photo = png_1x1();
    let sha = sha256_hex(&photo);
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    write!(
        s,
        "PUT /v1/photos/{sha} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Connection: close\r\nContent-Length: {}\r\n\r\n",
        photo.len()
    )
    .unwrap();
    let started = std::time::Instant::now();
    for part in photo.chunks(photo.len().div_ceil(6)) {
        std::thread::sleep(idle / 4);
        s.write_all(part).unwrap();
    }
    assert!(started.elapsed() > idle);
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");

    // The server goes on: the whole request, sent at once, is stored.
    let rider = Api::new(&server.url(), &token);
    assert!(rider.sync(&request).is_ok());
    assert_eq!(server.count("SELECT count(*) FROM docs"), 1);
}

#[test]
fn oversized_bodies_are_413() {
    let server = TestServer::start();
    let rider = server.user("rider-1", Role::Rider, &[]);
    let addr = server.handle.as_ref().unwrap().addr();
    // Announced too large: refused before a byte of the body is read.
    for (path, len) in [
        ("/v1/sync".to_string(), MAX_SYNC_BODY_BYTES + 1),
        (
            format!("/v1/photos/{}", sha256_hex(b"x")),
            MAX_PHOTO_BYTES + 1,
        ),
    ] {
        let verb = if path.contains("photos") {
            "PUT"
        } else {
            "POST"
        };
        let head = format!(
            "{verb} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
             Content-Length: {len}\r\n\r\n",
            rider.token
        );
        let answer = raw(addr, &head, b"", false);
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(answer.contains("too_large"), "{answer}");
    }
    // Chunked, so the server only learns the size by reading: it stops at the limit. (A
    // client still writing may see the connection close instead of the answer.)
    let big = vec![0u8; MAX_SYNC_BODY_BYTES + 1];
    let r = rider
        .http
        .post(format!("{}/v1/sync", rider.base))
        .bearer_auth(&rider.token)
        .body(reqwest::blocking::Body::new(std::io::Cursor::new(big)))
        .send();
    if let Ok(r) = r {
        assert_error(r, 413, "too_large");
    }
    // A photo just over the limit, with its length.
    let photo = vec![0xFFu8; MAX_PHOTO_BYTES + 1];
    if let Ok(r) = rider
        .http
        .put(format!("{}/v1/photos/{}", rider.base, sha256_hex(&photo)))
        .bearer_auth(&rider.token)
        .body(photo)
        .send()
    {
        assert_error(r, 413, "too_large");
    }
    assert_eq!(server.count("SELECT count(*) FROM photos"), 0);
    assert_eq!(server.count("SELECT count(*) FROM docs"), 0);
    // Still serving.
    assert!(rider.sync(&SyncRequest::default()).is_ok());
}

#[test]
fn unknown_kinds_and_ids_that_look_like_paths_are_400_bad_document() {
    let server = TestServer::start();
    let rider = server.user("rider-1", Role::Rider, &[]);
    let f = Factory::new();
    let (id, good) = report_request(&f, "rider-1");
    let message = good.docs[0].message.clone();
    let uuid = id.strip_prefix("report:").unwrap();
    for (doc_id, kind) in [
        (id.as_str(), "shadow"),
        ("shadow:1", "shadow"),
        ("report:../../x", "report"),
        ("report:..%2F..%2Fx", "report"),
        ("progress:../../etc/passwd", "training-progress"),
        ("progress:/abs", "training-progress"),
        ("report:", "report"),
        ("noprefix", "report"),
        (id.as_str(), "case"),
        (&format!("report:{}", uuid.to_uppercase()), "report"),
    ] {
        // Each bad document next to a good one: the whole request is refused.
        let request = SyncRequest {
            cursor: 0,
            docs: vec![
                good.docs[0].clone(),
                doc_message(doc_id, kind, message.clone()),
            ],
        };
        let e = assert_error(
            rider.post_sync_raw(protocol::encode(&request)),
            400,
            "bad_document",
        );
        eprintln!("{doc_id} / {kind}: {}", e.message);
    }
    let twice = SyncRequest {
        cursor: 0,
        docs: vec![good.docs[0].clone(), good.docs[0].clone()],
    };
    let e = assert_error(
        rider.post_sync_raw(protocol::encode(&twice)),
        400,
        "bad_document",
    );
    assert!(e.message.contains("twice"), "{}", e.message);
    assert_eq!(
        server.count("SELECT count(*) FROM docs"),
        0,
        "a 400 stores nothing"
    );
}

#[test]
fn forged_automerge_changes_are_400_and_nothing_is_stored() {
    let server = TestServer::start();
    let rider = server.user("rider-1", Role::Rider, &[]);
    let f = Factory::new();
    let (_, good) = report_request(&f, "rider-1");
    let (forged_id, forged) = report_request(&f, "rider-1");
    let m = Message::decode(&forged.docs[0].message).unwrap();
    let chunks: Vec<Vec<u8>> = m.changes.iter().map(<[u8]>::to_vec).collect();
    assert!(!chunks.is_empty());
    // Corrupt bytes at several places inside the change data; the message itself stays
    // well-formed.
    for at in [
        12,
        chunks[0].len() / 3,
        chunks[0].len() / 2,
        chunks[0].len() - 3,
    ] {
        let mut bad = chunks.clone();
        bad[0][at] ^= 0x5a;
        let message = Message {
            changes: ChunkList::from(bad),
            ..m.clone()
        }
        .encode();
        let request = SyncRequest {
            cursor: 0,
            docs: vec![
                good.docs[0].clone(),
                doc_message(&forged_id, "report", message),
            ],
        };
        let e = assert_error(
            rider.post_sync_raw(protocol::encode(&request)),
            400,
            "bad_document",
        );
        assert!(e.message.contains(&forged_id), "{}", e.message);
    }
    // A change truncated, and random bytes posing as a change.
    for bad in [
        chunks[0][..chunks[0].len() - 1].to_vec(),
        vec![0x85, 0x6f, 0x4a, 0x83, 1, 2],
    ] {
        let message = Message {
            changes: ChunkList::from(vec![bad]),
            ..m.clone()
        }
        .encode();
        let request = SyncRequest {
            cursor: 0,
            docs: vec![doc_message(&forged_id, "report", message)],
        };
        assert_error(
            rider.post_sync_raw(protocol::encode(&request)),
            400,
            "bad_document",
        );
    }
    assert_eq!(server.count("SELECT count(*) FROM docs"), 0);
    assert_eq!(server.count("SELECT next_seq FROM meta"), 1);
}

#[test]
fn a_change_reusing_an_actor_and_sequence_number_is_refused() {
    let server = TestServer::start();
    let mut alice = Device::new(server.user("alice", Role::Rider, &[]));
    let actor = ActorId::from(&[7u8; 16][..]);
    let mut doc = progress_doc("alice", 0).with_actor(actor.clone());
    // Lesson completions: the progress check allows no other root field.
    let completed = match automerge::ReadDoc::get(&doc, ROOT, "completed").unwrap() {
        Some((_, id)) => id,
        None => panic!("progress_doc has a completed map"),
    };
    let done = |ms: i64| automerge::ScalarValue::Timestamp(1_800_000_000_000 + ms);
    doc.put(&completed, "a", done(1)).unwrap();
    doc.commit();
    alice.put("progress:alice", "training-progress", doc.clone());
    alice.sync();
    let shared = alice.heads("progress:alice");
    // Same actor, same next sequence number, twice with different content.
    let mut one = doc.fork().with_actor(actor.clone());
    one.put(&completed, "b", done(1)).unwrap();
    one.commit();
    let mut two = doc.fork().with_actor(actor);
    two.put(&completed, "b", done(2)).unwrap();
    two.commit();
    let send = |d: &mut AutoCommit| {
        alice.api.sync(&SyncRequest {
            cursor: 0,
            docs: vec![doc_message(
                "progress:alice",
                "training-progress",
                encoded_since(d, &shared),
            )],
        })
    };
    assert!(send(&mut one).is_ok());
    let before = server_heads(&server.db, "progress:alice");
    // Refused for that document alone (the rest of a request would be applied).
    let r = send(&mut two).unwrap();
    let why = r.docs[0].refused.as_deref().unwrap();
    assert!(why.contains("does not apply"), "{why}");
    assert_eq!(server_heads(&server.db, "progress:alice"), before);
}

/// Found by the fuzz target: a Bloom filter with entries but no bits made the server divide
/// by zero while answering, and a huge probe count allocates without bound.
#[test]
fn unusable_bloom_filters_are_400_and_the_server_goes_on() {
    let server = TestServer::start();
    let mut alice = Device::new(server.user("alice", Role::Rider, &[]));
    let mut doc = progress_doc("alice", 0);
    alice.put("progress:alice", "training-progress", doc.clone());
    alice.sync();
    let before = server_heads(&server.db, "progress:alice");
    let mut m = Message::decode(&encoded_since(&mut doc, &[])).unwrap();
    for bloom in [
        &[1u8, 0, 7][..],
        &[1, 8, 0xff, 0xff, 0xff, 0xff, 0x0f, 0xff],
    ] {
        m.have = vec![automerge::sync::Have {
            last_sync: vec![],
            bloom: automerge::sync::BloomFilter::try_from(bloom).unwrap(),
        }];
        let request = SyncRequest {
            cursor: 0,
            docs: vec![doc_message(
                "progress:alice",
                "training-progress",
                m.clone().encode(),
            )],
        };
        let e = alice.api.sync(&request).unwrap_err();
        assert_eq!(e.status.as_u16(), 400, "{:?}", e.body);
        assert_eq!(e.body.code, "bad_document");
        assert!(
            e.body.message.contains("Bloom filter"),
            "{}",
            e.body.message
        );
    }
    assert_eq!(server_heads(&server.db, "progress:alice"), before);
    // The same device syncs normally afterwards.
    alice.sync();
}

/// Found by a long fuzz run: a whole-document chunk whose framing and checksum parse but whose
/// change-metadata column is cut short. automerge 0.12 panics loading it (an unwrap in
/// hexane's decoder); the server refuses it like any other corrupt change, now already when
/// it measures the message's columns, before automerge reads them.
#[test]
fn a_chunk_that_makes_automerge_panic_is_400_and_the_server_goes_on() {
    let body = include_bytes!("data/fuzz-truncated-change-column.cbor");
    refused_and_the_server_goes_on(body, "refused before it is read");
}

/// Found by the fuzz target: a sync message whose change entry is a 300-byte bundle chunk
/// makes automerge 0.12 allocate 8 GB and more while parsing it (an abort, not a panic).
/// Sync never carries bundles, so they are refused by their chunk header.
#[test]
fn a_bundle_chunk_is_400_before_automerge_reads_it() {
    let body = include_bytes!("data/fuzz-bundle-allocation.cbor");
    refused_and_the_server_goes_on(body, "bundle chunk");
}

/// A request body found by fuzzing: decoding it is an error saying `why`; sent to a real
/// server it is `400 bad_document`, nothing is stored, and the same client goes on with a
/// good request.
fn refused_and_the_server_goes_on(body: &[u8], why: &str) {
    let e = waystation_server::decode_sync_request(body).unwrap_err();
    assert_eq!(e.status.as_u16(), 400, "{e}");
    assert!(e.message.contains(why), "{e}");
    let server = TestServer::start();
    let rider = server.user("rider-1", Role::Rider, &[]);
    let e = assert_error(rider.post_sync_raw(body.to_vec()), 400, "bad_document");
    assert!(e.message.contains(why), "{}", e.message);
    assert_eq!(server.count("SELECT count(*) FROM docs"), 0);
    let f = Factory::new();
    let (_, good) = report_request(&f, "rider-1");
    rider.sync(&good).expect("a good request after the bad one");
}

#[test]
fn photos_are_checked_stored_once_and_read_only_by_who_may() {
    let server = TestServer::start();
    let f = Factory::new();
    let (report, photo) = f.report_with_photo("rider-1");
    let report_doc = f.report_doc(&report);
    let district = district_of(&report_doc);
    let sha = sha256_hex(&photo);
    let rider = server.user("rider-1", Role::Rider, &[]);
    let path = format!("/v1/photos/{sha}");

    // Wrong hash, not an image, bad paths: refused, nothing stored.
    let other_sha = sha256_hex(b"something else");
    assert_error(
        rider.put(&format!("/v1/photos/{other_sha}"), photo.clone()),
        400,
        "bad_photo",
    );
    let text = b"GIF89a not really".to_vec();
    assert_error(
        rider.put(&format!("/v1/photos/{}", sha256_hex(&text)), text),
        400,
        "bad_photo",
    );
    for bad in [
        "/v1/photos/..%2F..%2Fetc%2Fpasswd".to_string(),
        "/v1/photos/abc".to_string(),
        format!("/v1/photos/{}", sha.to_uppercase()),
        format!("/v1/photos/{sha}/x"),
        format!("/v1/photos/{sha}%00"),
    ] {
        assert_error(rider.put(&bad, photo.clone()), 400, "bad_path");
        assert_error(rider.get(&bad), 400, "bad_path");
    }
    assert_eq!(server.count("SELECT count(*) FROM photos"), 0);
    // Devices ask with HEAD before uploading.
    assert_eq!(rider.head(&path).status().as_u16(), 404);

    // Upload twice: 201 then 200, one row.
    assert_eq!(rider.put(&path, photo.clone()).status().as_u16(), 201);
    assert_eq!(rider.put(&path, photo.clone()).status().as_u16(), 200);
    assert_eq!(server.count("SELECT count(*) FROM photos"), 1);

    // The uploader reads it; nobody else until a readable report names it.
    let got = rider.get(&path);
    assert_eq!(got.status().as_u16(), 200);
    assert_eq!(got.headers()["content-type"], "image/png");
    // Browsers never sniff a photo into HTML or script, nor an error body.
    assert_eq!(got.headers()["x-content-type-options"], "nosniff");
    assert_eq!(got.bytes().unwrap().to_vec(), photo);
    let asked = rider.head(&path);
    assert_eq!(asked.status().as_u16(), 200);
    assert_eq!(asked.headers()["x-content-type-options"], "nosniff");
    assert_eq!(
        rider.get("/v1/photos/abc").headers()["x-content-type-options"],
        "nosniff"
    );
    assert_eq!(asked.headers()["content-type"], "image/png");
    assert_eq!(
        asked.headers()["content-length"],
        photo.len().to_string().as_str()
    );
    assert!(asked.bytes().unwrap().is_empty());
    let staff = server.user("staff-1", Role::Station, &[&district]);
    let outsider = server.user("staff-2", Role::Station, &[OTHER_DISTRICT]);
    let other_rider = server.user("rider-2", Role::Rider, &[]);
    // A photo one may not read is answered as a missing one (see a_photo_hash_is_not_a_capability).
    assert_error(staff.get(&path), 404, "not_found");
    assert_eq!(staff.head(&path).status().as_u16(), 404);
    let missing = format!("/v1/photos/{}", sha256_hex(b"never uploaded"));
    assert_error(staff.get(&missing), 404, "not_found");

    let mut device = Device::new(rider);
    device.put(&format!("report:{report}"), "report", report_doc);
    device.sync();
    assert_eq!(staff.get(&path).bytes().unwrap().to_vec(), photo);
    assert_error(outsider.get(&path), 404, "not_found");
    assert_error(other_rider.get(&path), 404, "not_found");
}

#[test]
fn tokens_missing_unknown_revoked_or_expired_are_401() {
    let server = TestServer::start();
    let admin = server.admin();
    let token = admin
        .add_user("rider-1", Role::Rider, &[], chrono::Duration::days(1))
        .unwrap();
    let api = Api::new(&server.url(), &token);
    let me: protocol::Me = decode_answer(api.get("/v1/me")).unwrap();
    assert_eq!(me.user, "rider-1");
    assert_eq!(me.role, "rider");
    assert_eq!(me.token_expires_at, "2026-12-01T04:00:00Z");

    let http = http_client();
    let r = http.get(format!("{}/v1/me", server.url())).send().unwrap();
    assert!(r.headers().contains_key("www-authenticate"));
    let e = assert_error(r, 401, "unauthorized");
    assert!(e.message.contains("no bearer token"), "{}", e.message);
    let r = http
        .post(format!("{}/v1/sync", server.url()))
        .header("authorization", "Basic cmlkZXI6cGFzcw==")
        .body(protocol::encode(&SyncRequest::default()))
        .send()
        .unwrap();
    assert_error(r, 401, "unauthorized");
    let e = assert_error(
        api.with_token("wst_not-a-token").get("/v1/me"),
        401,
        "unauthorized",
    );
    assert!(e.message.contains("unknown"), "{}", e.message);

    let second = admin
        .issue_token("rider-1", chrono::Duration::days(1))
        .unwrap();
    admin.revoke_token(&second).unwrap();
    let e = assert_error(api.with_token(&second).get("/v1/me"), 401, "unauthorized");
    assert!(e.message.contains("revoked"), "{}", e.message);
    let r = api
        .with_token(&second)
        .post_sync_raw(protocol::encode(&SyncRequest::default()));
    assert_error(r, 401, "unauthorized");

    server.clock.set(noon() + chrono::Duration::days(2));
    let e = assert_error(api.get("/v1/me"), 401, "unauthorized");
    assert!(e.message.contains("expired"), "{}", e.message);
    assert_error(
        api.put(&format!("/v1/photos/{}", sha256_hex(b"x")), b"x".to_vec()),
        401,
        "unauthorized",
    );
}

#[test]
fn unknown_paths_and_methods_are_cbor_errors() {
    let server = TestServer::start();
    let rider = server.user("rider-1", Role::Rider, &[]);
    assert_error(rider.get("/v2/sync"), 404, "not_found");
    assert_error(rider.get("/v1/sync"), 405, "method_not_allowed");
    assert_error(rider.get("/v1/packs/..%2Fsecret"), 400, "bad_path");
    assert_error(rider.get("/v1/packs/stations"), 404, "not_found");
    let health = http_client()
        .get(format!("{}/healthz", server.url()))
        .send()
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    assert_eq!(health.text().unwrap(), "ok");
}
