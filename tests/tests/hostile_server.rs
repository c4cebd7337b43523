//! A device against whatever answers on its server's address: a captive portal that answers
//! `200` and junk to everything, a server that streams endless bodies, and a real server whose
//! replies a man in the middle (or the server's own compromised code) rewrites. Each gets a
//! clean `Server` error and changes nothing the device stores, or, for a forged change to one
//! report or to the rider's training progress, a refusal of that document alone while the rest
//! syncs; and the honest server on the
//! same address afterwards finishes the job (issue 11, findings 6 and 14, and the follow-ups:
//! per-document refusals, one `GET /v1/me` per sync, bounds on an erasure's `x`, and the photo
//! sweep after a dropped copy).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use automerge::sync::SyncDoc;
use automerge::transaction::Transactable;
use chrono::{DateTime, TimeDelta, Utc};
use waystation_core::reports::OutboxState;
use waystation_core::store::documents;
use waystation_core::sync::protocol::{self, ChangedDoc, SyncResponse};
use waystation_core::sync::{
    HttpRequest, HttpResponse, HttpTransport, ReqwestTransport, RetryPolicy, SyncSettings,
    TransportError,
};
use waystation_core::{Clock, Error, FixedClock, Options, Waystation};
use waystation_server::Role;
use waystation_tests::SplitMix;
use waystation_tests::net::Net;
use waystation_tests::reports::report_with_photo;

const YANTA: &str = "610113";

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn http() -> ReqwestTransport {
    ReqwestTransport::new(None).unwrap()
}

/// A device with a fixed clock.
struct Device {
    _dir: tempfile::TempDir,
    ws: Waystation,
    clock: Arc<FixedClock>,
    settings: SyncSettings,
}

impl Device {
    fn new(url: &str, token: &str) -> Device {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(FixedClock::new(at("2026-11-29T08:00:00Z")));
        let ws =
            Waystation::open_with_clock(dir.path(), Options::default(), clock.clone()).unwrap();
        let mut settings = SyncSettings::new(url, token).unwrap();
        settings.retry = RetryPolicy {
            attempts: 2,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(20),
        };
        Device {
            _dir: dir,
            ws,
            clock,
            settings,
        }
    }

    fn sync_with(
        &self,
        t: &dyn HttpTransport,
    ) -> waystation_core::Result<waystation_core::sync::SyncReport> {
        self.ws
            .sync()
            .run(&self.settings, t, &waystation_core::CancelToken::never())
    }

    fn sync(&self) -> waystation_core::sync::SyncReport {
        let r = self.sync_with(&http()).unwrap();
        assert!(r.complete, "{r:?}");
        r
    }

    /// Everything sync may change on the device, to show that a refused reply changed none.
    fn stored(&self) -> Vec<String> {
        let conn = self.ws.store().read();
        let mut out = Vec::new();
        for sql in [
            "SELECT doc_id || ' ' || hex(heads) || ' ' || dirty || ' ' || owner FROM documents",
            "SELECT doc_id || ' ' || hex(shared_heads) || ' ' || ifnull(hex(refused_heads), '') \
             FROM sync_docs",
            // The row itself is written by any attempt; what it knows of the server is not.
            "SELECT cursor || ' ' || ifnull(server_generation, '') || ' ' || \
             ifnull(reoffered_at, '') FROM sync_meta \
             WHERE cursor <> 0 OR server_generation IS NOT NULL OR reoffered_at IS NOT NULL",
            "SELECT sha256 FROM photo_uploads",
            "SELECT report_id || ' ' || state FROM report_outbox",
            "SELECT report_id || ' ' || status FROM report_index",
        ] {
            let mut stmt = conn.prepare(sql).unwrap();
            let mut rows: Vec<String> = stmt
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            rows.sort();
            out.extend(rows);
        }
        out
    }
}

/// One request as a raw loopback server sees it.
struct RawRequest {
    method: String,
    path: String,
}

/// A loopback HTTP/1.1 server that is not Waystation: each connection gets one request read
/// and `answer` writes whatever it likes back, then the connection closes.
struct RawServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RawServer {
    fn start(
        answer: impl Fn(&RawRequest, &mut TcpStream) -> std::io::Result<()> + Send + Sync + 'static,
    ) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let answer = Arc::new(answer);
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                let answer = answer.clone();
                std::thread::spawn(move || {
                    if let Some(req) = read_request(&mut conn) {
                        let _ = answer(&req, &mut conn);
                        let _ = conn.flush();
                    }
                });
            }
        });
        RawServer {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting and frees the port.
    fn stop(mut self) -> SocketAddr {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        self.addr
    }
}

/// Reads the request line, headers and `Content-Length` body.
fn read_request(conn: &mut TcpStream) -> Option<RawRequest> {
    conn.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut reader = BufReader::new(conn.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((name, value)) = h.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).ok()?;
    Some(RawRequest { method, path })
}

/// A captive portal: `200` with a few KB of random bytes to every request (and a `200` with
/// no body to a `HEAD`), as the login pages of public Wi-Fi do.
fn captive_portal(requests: Arc<Mutex<Vec<String>>>) -> RawServer {
    let seed = AtomicUsize::new(1);
    RawServer::start(move |req, conn| {
        requests
            .lock()
            .unwrap()
            .push(format!("{} {}", req.method, req.path));
        let mut rng = SplitMix(seed.fetch_add(1, Ordering::SeqCst) as u64);
        let body: Vec<u8> = (0..4096).map(|_| rng.next_u64() as u8).collect();
        write!(
            conn,
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n",
            body.len()
        )?;
        if req.method != "HEAD" {
            conn.write_all(&body)?;
        }
        Ok(())
    })
}

#[test]
fn a_captive_portal_on_the_servers_address_loses_no_photo() {
    // The rider files a report with a photo, then syncs on public Wi-Fi: a captive portal
    // answers on the server's address.
    let requests = Arc::new(Mutex::new(Vec::new()));
    let portal = captive_portal(requests.clone());
    let url = portal.url();
    let rider = Device::new(&url, "wst_rider_token");
    let id = report_with_photo(&rider.ws, "rider-1", 1);
    let before = rider.stored();
    let err = rider.sync_with(&http()).unwrap_err();
    let Error::Server { message, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(
        message.contains("does not prove it was stored"),
        "{message}"
    );
    let seen = requests.lock().unwrap().clone();
    assert!(
        seen.iter().any(|r| r.starts_with("HEAD /v1/photos/")),
        "{seen:?}"
    );
    assert!(
        seen.iter().any(|r| r.starts_with("PUT /v1/photos/")),
        "{seen:?}"
    );
    // The portal's 200s changed nothing: the photo and the report are still pending, and the
    // status never says "nothing pending".
    assert_eq!(rider.stored(), before);
    let s = rider.ws.sync().status().unwrap();
    assert_eq!((s.pending_documents, s.pending_photos), (1, 1), "{s:?}");

    // The portal goes; the real server answers on the same address.
    let addr = portal.stop();
    let net = Net::start_on(addr);
    assert_eq!(net.url(), url);
    let token = net.user("rider-1", Role::Rider, &[]);
    let rider = Device {
        settings: SyncSettings {
            token,
            ..rider.settings.clone()
        },
        ..rider
    };
    let r = rider.sync();
    assert_eq!((r.photos_uploaded, r.documents_sent), (1, 1), "{r:?}");
    assert_eq!(net.server_photos(), 1, "the photo arrived");
    let s = rider.ws.sync().status().unwrap();
    assert_eq!((s.pending_documents, s.pending_photos), (0, 0), "{s:?}");
    assert!(
        matches!(
            rider.ws.reports().get(&id).unwrap().outbox,
            Some(OutboxState::Sent { .. })
        ),
        "delivered"
    );
}

/// Forwards to the real server, running `before_sync` just before each `POST /v1/sync`.
struct Hooked<F: Fn() + Send + Sync> {
    inner: ReqwestTransport,
    before_sync: F,
}

impl<F: Fn() + Send + Sync> HttpTransport for Hooked<F> {
    fn send(
        &self,
        request: HttpRequest,
        cancel: &waystation_core::CancelToken,
    ) -> Result<HttpResponse, TransportError> {
        if request.url.ends_with("/v1/sync") {
            (self.before_sync)();
        }
        self.inner.send(request, cancel)
    }
}

#[test]
fn a_photo_the_server_lacks_when_its_report_arrives_is_sent_again() {
    let net = Net::start();
    let token = net.user("rider-1", Role::Rider, &[]);
    let rider = Device::new(&net.url(), &token);
    report_with_photo(&rider.ws, "rider-1", 2);
    // The photo upload succeeds, then the server loses the photo before the report arrives
    // (a broken proxy that acknowledged it, a disk restored under it): the server accepts the
    // report without its photo and says so in the reply.
    let db = net.server_db();
    let lost = AtomicUsize::new(0);
    let t = Hooked {
        inner: http(),
        before_sync: move || {
            if lost.fetch_add(1, Ordering::SeqCst) == 0 {
                db.lose_photos();
            }
        },
    };
    let r = rider.sync_with(&t).unwrap();
    assert!(r.complete, "{r:?}");
    assert_eq!(
        r.photos_uploaded, 2,
        "uploaded, then again when listed missing: {r:?}"
    );
    assert_eq!(net.server_photos(), 1, "the photo is on the server");
    let s = rider.ws.sync().status().unwrap();
    assert_eq!((s.pending_documents, s.pending_photos), (0, 0), "{s:?}");
    // Nothing more to send.
    assert_eq!(rider.sync().photos_uploaded, 0);
}

/// Forwards to the real server and rewrites every `200` sync response with `edit`.
struct Rewriting<F: Fn(&mut SyncResponse) + Send + Sync> {
    inner: ReqwestTransport,
    edit: F,
}

impl<F: Fn(&mut SyncResponse) + Send + Sync> HttpTransport for Rewriting<F> {
    fn send(
        &self,
        request: HttpRequest,
        cancel: &waystation_core::CancelToken,
    ) -> Result<HttpResponse, TransportError> {
        let is_sync = request.url.ends_with("/v1/sync");
        let mut resp = self.inner.send(request, cancel)?;
        if is_sync && resp.status == 200 {
            let mut answer: SyncResponse = protocol::decode(&resp.body).unwrap();
            (self.edit)(&mut answer);
            resp.body = protocol::encode(&answer);
        }
        Ok(resp)
    }
}

/// A rider with one report the server has, and one (without a photo, so that no upload
/// changes what the device stores before the reply) it has not yet.
fn rider_with_a_pending_report(net: &Net) -> (Device, String, String) {
    let token = net.user("rider-1", Role::Rider, &[]);
    let rider = Device::new(&net.url(), &token);
    let synced = report_with_photo(&rider.ws, "rider-1", 3);
    rider.sync();
    let pending = waystation_tests::reports::submitted_road_report(&rider.ws, "rider-1", 4);
    (rider, synced, pending)
}

#[test]
fn every_kind_of_bad_sync_reply_is_a_server_error_that_changes_nothing() {
    let net = Net::start();
    let (rider, synced, _pending) = rider_with_a_pending_report(&net);
    let synced_doc = format!("report:{synced}");
    type Edit = Box<dyn Fn(&mut SyncResponse) + Send + Sync>;
    let feed = |doc_id: &str, kind: &str, owner: &str| ChangedDoc {
        doc_id: doc_id.into(),
        kind: kind.into(),
        owner: owner.into(),
        heads: None,
        replaced: None,
    };
    let cases: Vec<(&str, Edit)> = vec![
        ("0 documents for 1", Box::new(|r| r.docs.clear())),
        (
            "in place of",
            Box::new(|r| r.docs[0].doc_id = "report:00000000-0000-4000-8000-000000000000".into()),
        ),
        ("cursor", Box::new(|r| r.cursor = u64::MAX)),
        (
            "generation",
            Box::new(|r| r.generation = "<script>\n".into()),
        ),
        (
            "feed lists",
            Box::new(move |r| r.changed = vec![feed("progress:x", "training-progress", "x"); 501]),
        ),
        (
            "feed entry",
            Box::new(move |r| r.changed = vec![feed("../../etc/passwd", "report", "x")]),
        ),
        (
            "feed entry",
            Box::new(move |r| {
                r.changed = vec![feed("progress:rider-2", "training-progress", "rider-1")]
            }),
        ),
        (
            "another kind or owner",
            Box::new(move |r| r.changed = vec![feed(&synced_doc, "report", "mallory")]),
        ),
        (
            "missing photo",
            Box::new(|r| r.missing_photos = vec!["../../photo".into()]),
        ),
        (
            "Bloom filter",
            Box::new(|r| {
                // A reply message whose Bloom filter has entries but no bits.
                let mut doc = automerge::AutoCommit::new();
                doc.put(automerge::ROOT, "k", "v").unwrap();
                let mut state = automerge::sync::State::new();
                let mut m = doc.sync().generate_sync_message(&mut state).unwrap();
                m.have[0].bloom = automerge::sync::BloomFilter::try_from(&[1u8, 0, 7][..]).unwrap();
                r.docs[0].message = Some(m.encode());
            }),
        ),
    ];
    let before = rider.stored();
    for (expected, edit) in cases {
        let t = Rewriting {
            inner: http(),
            edit,
        };
        let err = rider.sync_with(&t).unwrap_err();
        let Error::Server { message, .. } = &err else {
            panic!("{expected}: {err:?}")
        };
        assert!(message.contains(expected), "{expected}: {message}");
        assert_eq!(rider.stored(), before, "{expected}: something changed");
    }
    // An honest reply afterwards syncs.
    rider.sync();
    assert_eq!(rider.ws.sync().status().unwrap().pending_documents, 0);
}

/// A change by the server to `doc_id` on top of what the device holds, as a reply message.
fn forged_reply(
    ws: &Waystation,
    doc_id: &str,
    edit: impl FnOnce(&mut automerge::AutoCommit),
) -> Vec<u8> {
    let mut doc = documents::load(&ws.store().read(), doc_id)
        .unwrap()
        .unwrap();
    let heads = doc.get_heads();
    edit(&mut doc);
    doc.commit();
    // A message from a peer that knows the device holds `heads`.
    let mut state = automerge::sync::State::new();
    state.shared_heads = heads.clone();
    state.their_heads = Some(heads.clone());
    state.their_need = Some(Vec::new());
    state.their_have = Some(vec![automerge::sync::Have {
        last_sync: heads,
        bloom: automerge::sync::BloomFilter::default(),
    }]);
    doc.sync()
        .generate_sync_message(&mut state)
        .unwrap()
        .encode()
}

/// Puts `message` in place of the server's reply for `doc_id`, and lists `doc_id` in the feed
/// of every response that does not carry it (so a document the device holds clean is
/// exchanged in the next request).
fn forging(
    doc_id: &str,
    owner: &str,
    message: Vec<u8>,
) -> Rewriting<impl Fn(&mut SyncResponse) + Send + Sync> {
    forging_kind(doc_id, "report", owner, message)
}

/// [`forging`] for a document of any `kind`.
fn forging_kind(
    doc_id: &str,
    kind: &str,
    owner: &str,
    message: Vec<u8>,
) -> Rewriting<impl Fn(&mut SyncResponse) + Send + Sync> {
    let (target, kind, owner) = (doc_id.to_string(), kind.to_string(), owner.to_string());
    Rewriting {
        inner: http(),
        edit: move |r: &mut SyncResponse| {
            let mut carried = false;
            for d in &mut r.docs {
                if d.doc_id == target {
                    d.message = Some(message.clone());
                    carried = true;
                }
            }
            if !carried {
                r.changed.push(ChangedDoc {
                    doc_id: target.clone(),
                    kind: kind.clone(),
                    owner: owner.clone(),
                    heads: None,
                    replaced: None,
                });
            }
        },
    }
}

/// Issue 11 follow-up (finding 1): a server's edit of the rider's own report is refused for
/// that report alone, recorded and shown; the rest of the same request syncs, and the next
/// sync is not blocked by it.
#[test]
fn a_forged_edit_of_a_riders_own_report_is_refused_for_that_report_alone() {
    let net = Net::start();
    let (rider, synced, pending) = rider_with_a_pending_report(&net);
    let other = waystation_tests::reports::submitted_road_report(&rider.ws, "rider-1", 5);
    // 1. A pending report, in the same request as another one.
    let doc_id = format!("report:{pending}");
    let shown = rider.ws.reports().get(&pending).unwrap();
    let message = forged_reply(&rider.ws, &doc_id, |d| {
        d.put(automerge::ROOT, "category", "road.junction").unwrap();
    });
    let r = rider
        .sync_with(&forging(&doc_id, "rider-1", message))
        .unwrap();
    assert!(r.complete, "{r:?}");
    assert_eq!(r.refused.len(), 1, "{r:?}");
    assert_eq!(r.refused[0].doc_id, doc_id);
    assert!(
        r.refused[0].reason.contains("only withdrawal"),
        "{}",
        r.refused[0].reason
    );
    assert_eq!(
        rider.ws.reports().get(&pending).unwrap(),
        shown,
        "nothing applied"
    );
    // The other report of the request reached the server.
    assert_eq!(
        rider.ws.reports().get(&other).unwrap().outbox,
        Some(OutboxState::Sent {
            at: rider.clock.now()
        })
    );
    // The refused one is still this device's news: the honest server gets it next time.
    assert_eq!(rider.ws.sync().status().unwrap().pending_documents, 1);
    rider.sync();
    let s = rider.ws.sync().status().unwrap();
    assert_eq!((s.pending_documents, s.refused_documents), (0, 0), "{s:?}");
    assert_eq!(
        rider.ws.reports().get(&pending).unwrap().category,
        shown.category
    );

    // 2. A report the device holds synced: refused, and shown until dismissed.
    let doc_id = format!("report:{synced}");
    let shown = rider.ws.reports().get(&synced).unwrap();
    let message = forged_reply(&rider.ws, &doc_id, |d| {
        d.put(automerge::ROOT, "category", "road.junction").unwrap();
    });
    let r = rider
        .sync_with(&forging(&doc_id, "rider-1", message))
        .unwrap();
    assert_eq!(
        r.refused
            .iter()
            .map(|f| f.doc_id.as_str())
            .collect::<Vec<_>>(),
        [doc_id.as_str()]
    );
    assert_eq!(rider.ws.reports().get(&synced).unwrap(), shown);
    let refusals = rider.ws.sync().refusals().unwrap();
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert!(refusals[0].reason.contains("only withdrawal"));
    rider.ws.sync().dismiss(&doc_id).unwrap();
    assert!(rider.ws.sync().refusals().unwrap().is_empty());
    // The next honest sync has nothing to do, and the report never changed.
    let r = rider.sync();
    assert!(r.refused.is_empty(), "{r:?}");
    assert_eq!(rider.ws.reports().get(&synced).unwrap(), shown);
}

/// Issue 11 follow-up: a server's change to the rider's training progress passes the server's
/// own progress rule (`training::progress_check`) on the device, or it is refused for that
/// document alone: a reply deleting a quiz result, or rewriting one alongside the rider's new
/// attempt, stores nothing of it, and the rest of the sync goes on.
#[test]
fn a_server_cannot_delete_or_rewrite_a_riders_quiz_results() {
    const PROGRESS: &str = "progress:rider-1";
    let net = Net::start();
    let token = net.user("rider-1", Role::Rider, &[]);
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(at("2026-11-29T08:00:00Z")));
    let config = Options {
        trusted_keys: waystation_tests::trusted(),
        ..Options::default()
    };
    let ws = Waystation::open_with_clock(dir.path(), config, clock.clone()).unwrap();
    let payload = waystation_tests::real_training_payload();
    ws.packs()
        .import_training(&waystation_tests::sign_training(&payload))
        .unwrap();
    let quiz = ws.training().courses("rider-1").unwrap()[0]
        .quiz_id
        .clone()
        .unwrap();
    ws.training()
        .answer_quiz(
            "rider-1",
            &quiz,
            &waystation_tests::quiz_answers(&payload, 0, false),
        )
        .unwrap();
    let mut settings = SyncSettings::new(&net.url(), &token).unwrap();
    settings.retry.attempts = 1;
    let rider = Device {
        _dir: dir,
        ws,
        clock,
        settings,
    };
    rider.sync();
    let attempts_map = |doc: &automerge::AutoCommit| match automerge::ReadDoc::get(
        doc,
        automerge::ROOT,
        "attempts",
    ) {
        Ok(Some((automerge::Value::Object(automerge::ObjType::Map), id))) => id,
        other => panic!("no attempts map: {other:?}"),
    };
    let bytes = || {
        documents::document_bytes(&rider.ws.store().read(), PROGRESS)
            .unwrap()
            .unwrap()
    };

    // 1. The progress is synced; the server lists it in the feed with a change deleting the
    //    failed attempt, while a new report of the rider's goes up in the same sync.
    let progress = rider.ws.training().progress("rider-1").unwrap();
    assert_eq!(progress.attempts.len(), 1);
    let stored = bytes();
    let report = waystation_tests::reports::submitted_road_report(&rider.ws, "rider-1", 30);
    let message = forged_reply(&rider.ws, PROGRESS, |d| {
        let map = attempts_map(d);
        let id = automerge::ReadDoc::keys(d, &map).next().unwrap();
        d.delete(&map, id.as_str()).unwrap();
    });
    let r = rider
        .sync_with(&forging_kind(
            PROGRESS,
            "training-progress",
            "rider-1",
            message,
        ))
        .unwrap();
    assert!(r.complete, "{r:?}");
    assert_eq!(r.refused.len(), 1, "{r:?}");
    assert_eq!(r.refused[0].doc_id, PROGRESS);
    assert!(
        r.refused[0]
            .reason
            .contains("removes a recorded quiz attempt"),
        "{}",
        r.refused[0].reason
    );
    assert_eq!(rider.ws.training().progress("rider-1").unwrap(), progress);
    assert_eq!(bytes(), stored, "nothing of the change was stored");
    assert_eq!(
        rider.ws.sync().refusals().unwrap()[0].doc_id,
        PROGRESS,
        "shown"
    );
    // The rest of the sync went on: the report reached the server.
    assert_eq!(
        rider.ws.reports().get(&report).unwrap().outbox,
        Some(OutboxState::Sent {
            at: rider.clock.now()
        })
    );
    rider.ws.sync().dismiss(PROGRESS).unwrap();

    // 2. A new attempt on the phone; the server's reply turns the failed one into a pass.
    rider
        .ws
        .training()
        .answer_quiz(
            "rider-1",
            &quiz,
            &waystation_tests::quiz_answers(&payload, 0, true),
        )
        .unwrap();
    let progress = rider.ws.training().progress("rider-1").unwrap();
    let stored = bytes();
    let message = forged_reply(&rider.ws, PROGRESS, |d| {
        let map = attempts_map(d);
        for id in automerge::ReadDoc::keys(d, &map).collect::<Vec<_>>() {
            let Some((_, a)) = automerge::ReadDoc::get(d, &map, id.as_str()).unwrap() else {
                panic!("no attempt")
            };
            d.put(&a, "score", automerge::ScalarValue::Uint(100))
                .unwrap();
            d.put(&a, "passed", true).unwrap();
        }
    });
    let r = rider
        .sync_with(&forging_kind(
            PROGRESS,
            "training-progress",
            "rider-1",
            message,
        ))
        .unwrap();
    assert!(r.complete, "{r:?}");
    assert!(
        r.refused
            .iter()
            .any(|f| f.doc_id == PROGRESS && f.reason.contains("rewrites a recorded quiz attempt")),
        "{r:?}"
    );
    assert_eq!(rider.ws.training().progress("rider-1").unwrap(), progress);
    assert_eq!(bytes(), stored, "nothing of the change was stored");

    // The honest server afterwards gets the new attempt, and the results stand.
    rider.sync();
    let s = rider.ws.sync().status().unwrap();
    assert_eq!((s.pending_documents, s.refused_documents), (0, 0), "{s:?}");
    assert_eq!(rider.ws.training().progress("rider-1").unwrap(), progress);
}

/// Counts `GET /v1/me` requests on their way to `inner`.
struct CountingMe<T: HttpTransport> {
    inner: T,
    me: AtomicUsize,
    all: AtomicUsize,
}

impl<T: HttpTransport> HttpTransport for CountingMe<T> {
    fn send(
        &self,
        request: HttpRequest,
        cancel: &waystation_core::CancelToken,
    ) -> Result<HttpResponse, TransportError> {
        self.all.fetch_add(1, Ordering::SeqCst);
        if request.url.ends_with("/v1/me") {
            self.me.fetch_add(1, Ordering::SeqCst);
        }
        self.inner.send(request, cancel)
    }
}

/// Issue 11 follow-up (finding 2): every step of a sync that needs the account asks one
/// `GET /v1/me` between them, and a sync with nothing to do asks none.
#[test]
fn the_account_is_asked_at_most_once_per_sync_and_not_on_a_no_op_sync() {
    let net = Net::start();
    let token = net.user("rider-1", Role::Rider, &[]);
    let rider = Device::new(&net.url(), &token);
    report_with_photo(&rider.ws, "rider-1", 20);
    let t = CountingMe {
        inner: rotating_generation(),
        me: AtomicUsize::new(0),
        all: AtomicUsize::new(0),
    };
    rider.sync_with(&t).unwrap();
    assert_eq!(t.me.load(Ordering::SeqCst), 1, "learned once");
    // A day and more later the account is stale, and the server (falsely) claims a restore:
    // offering everything again and learning the account share one answer.
    rider
        .clock
        .set(at("2026-11-29T08:00:00Z") + TimeDelta::hours(30));
    let r = rider.sync_with(&t).unwrap();
    assert_eq!(r.documents_sent, 1, "{r:?}");
    assert_eq!(t.me.load(Ordering::SeqCst), 2, "one question in that sync");
    assert_eq!(
        rider.ws.sync().account().unwrap().unwrap().learned_at,
        rider.clock.now()
    );
    // With nothing to do: one request, no question.
    let honest = CountingMe {
        inner: http(),
        me: AtomicUsize::new(0),
        all: AtomicUsize::new(0),
    };
    rider.sync_with(&honest).unwrap();
    // (The honest generation differs from the fake one; within a day it is not acted on.)
    let before = honest.all.load(Ordering::SeqCst);
    rider.sync_with(&honest).unwrap();
    assert_eq!(honest.all.load(Ordering::SeqCst) - before, 1);
    assert_eq!(honest.me.load(Ordering::SeqCst), 0);
}

/// Issue 11 follow-up (finding 3): an erasure's new-history mark (`x`) cannot make a device
/// drop the rider's own reports, synced or not, nor a training progress; nor can a malformed
/// one pass. Each is a `Server` error that changes nothing stored.
#[test]
fn a_server_cannot_make_a_device_drop_its_own_reports_with_a_new_history_mark() {
    let net = Net::start();
    let (rider, synced, pending) = rider_with_a_pending_report(&net);
    let synced_doc = format!("report:{synced}");
    let pending_doc = format!("report:{pending}");
    type Edit = Box<dyn Fn(&mut SyncResponse) + Send + Sync>;
    let entry = |doc_id: &str, kind: &str, x: Vec<u8>| ChangedDoc {
        doc_id: doc_id.into(),
        kind: kind.into(),
        owner: "rider-1".into(),
        heads: None,
        replaced: Some(x),
    };
    let (s, p) = (synced_doc.clone(), pending_doc.clone());
    let cases: Vec<(&str, Edit)> = vec![
        (
            "wrote that report",
            Box::new(move |r| r.changed = vec![entry(&s, "report", vec![7; 32])]),
        ),
        (
            "the server does not have",
            Box::new(move |r| {
                for d in &mut r.docs {
                    if d.doc_id == p {
                        d.replaced = Some(vec![7; 32]);
                    }
                }
            }),
        ),
        (
            "training progress",
            Box::new(move |r| {
                r.changed = vec![entry("progress:rider-1", "training-progress", vec![7; 32])]
            }),
        ),
        (
            "32-byte",
            Box::new(move |r| r.changed = vec![entry(&synced_doc.clone(), "report", vec![7; 8])]),
        ),
    ];
    let before = rider.stored();
    for (expected, edit) in cases {
        let t = Rewriting {
            inner: http(),
            edit,
        };
        let err = rider.sync_with(&t).unwrap_err();
        let Error::Server { message, .. } = &err else {
            panic!("{expected}: {err:?}")
        };
        assert!(message.contains(expected), "{expected}: {message}");
        assert_eq!(rider.stored(), before, "{expected}: something changed");
    }
    assert!(rider.ws.reports().get(&pending).is_ok() && rider.ws.reports().get(&synced).is_ok());
    rider.sync();
    assert_eq!(rider.ws.sync().status().unwrap().pending_documents, 0);
}

/// Issue 11 follow-up (finding 5): a copy that an erasure's mark drops hands its photos to the
/// photo sweep, which removes them once nothing names them (here the server never sends the
/// new copy). Another reporter's report is what the mark may drop on a follow-up device.
#[test]
fn photos_of_a_copy_dropped_for_a_new_history_are_swept_when_nothing_names_them() {
    let net = Net::start();
    let rider_t = net.user("rider-1", Role::Rider, &[]);
    let staff_t = net.user("staff-1", Role::Station, &[YANTA]);
    let rider = Device::new(&net.url(), &rider_t);
    let id = report_with_photo(&rider.ws, "rider-1", 21);
    rider.sync();
    let staff = Device::new(&net.url(), &staff_t);
    staff.sync();
    let sha = staff.ws.reports().get(&id).unwrap().photos[0]
        .sha256
        .clone();
    let path = staff
        .ws
        .reports()
        .fetch_photo(
            &staff.settings,
            &http(),
            &sha,
            &waystation_core::CancelToken::never(),
        )
        .unwrap();
    // The folder's one full check, done once the photo is past the grace period: from now on
    // only photos marked as maybe unnamed are candidates.
    let grace = waystation_core::reports::photo::sweep::GRACE;
    staff.clock.set(staff.clock.now() + grace * 2);
    assert_eq!(staff.ws.reports().sweep_photos().unwrap().photos_removed, 0);
    staff.clock.set(staff.clock.now() + grace * 2);
    assert_eq!(staff.ws.reports().sweep_photos().unwrap().documents_read, 0);
    let doc_id = format!("report:{id}");
    let target = doc_id.clone();
    let once = AtomicBool::new(true);
    let t = Rewriting {
        inner: http(),
        edit: move |r: &mut SyncResponse| {
            if once.swap(false, Ordering::SeqCst) {
                r.changed = vec![ChangedDoc {
                    doc_id: target.clone(),
                    kind: "report".into(),
                    owner: "rider-1".into(),
                    heads: None,
                    replaced: Some(vec![7; 32]),
                }];
            }
            r.docs.iter_mut().for_each(|d| d.message = None);
        },
    };
    staff.sync_with(&t).unwrap();
    assert!(staff.ws.reports().get(&id).is_err(), "the copy was dropped");
    // Within the sweep's grace period the photo stays; after it, nothing names it.
    assert_eq!(staff.ws.reports().sweep_photos().unwrap().photos_removed, 0);
    assert!(path.is_file());
    staff.clock.set(staff.clock.now() + grace * 2);
    assert_eq!(staff.ws.reports().sweep_photos().unwrap().photos_removed, 1);
    assert!(!path.is_file());
}

#[test]
fn a_server_cannot_edit_a_report_it_delivers_to_a_follow_up_role() {
    let net = Net::start();
    let rider_t = net.user("rider-1", Role::Rider, &[]);
    let staff_t = net.user("staff-1", Role::Station, &[YANTA]);
    let rider = Device::new(&net.url(), &rider_t);
    let id = report_with_photo(&rider.ws, "rider-1", 5);
    rider.sync();
    let staff = Device::new(&net.url(), &staff_t);
    staff.sync();
    let doc_id = format!("report:{id}");
    let shown = staff.ws.reports().get(&id).unwrap();
    // The next time the station's device exchanges the report, the server slips in an edit
    // of the rider's description. Only the author's withdrawal may change a submitted report.
    let message = forged_reply(&staff.ws, &doc_id, |d| {
        d.put(automerge::ROOT, "category", "road.hazard").unwrap();
    });
    let t = forging(&doc_id, "rider-1", message);
    // Refused for this document alone (issue 11 follow-up, finding 1): recorded and shown,
    // not applied, and the sync goes on.
    let r = staff.sync_with(&t).unwrap();
    assert_eq!(r.refused.len(), 1, "{r:?}");
    assert!(r.refused[0].reason.contains("only withdrawal"), "{r:?}");
    assert_eq!(staff.ws.reports().get(&id).unwrap(), shown);
    assert_eq!(staff.ws.sync().refusals().unwrap()[0].doc_id, doc_id);
    // The next sync is not blocked by it.
    assert!(staff.sync().refused.is_empty());
    assert_eq!(staff.ws.reports().get(&id).unwrap(), shown);
}

#[test]
fn a_follow_up_device_neither_uploads_nor_asks_for_others_photos() {
    let net = Net::start();
    let rider = Device::new(&net.url(), &net.user("rider-1", Role::Rider, &[]));
    let staff = Device::new(&net.url(), &net.user("staff-1", Role::Station, &[YANTA]));
    let id = report_with_photo(&rider.ws, "rider-1", 6);
    rider.sync();
    staff.sync();
    // The rider withdraws the report, so the feed lists it to the station again; then the
    // server loses the photo.
    rider
        .ws
        .reports()
        .withdraw("rider-1", &id, "duplicate")
        .unwrap();
    rider.sync();
    net.server_db().lose_photos();
    // The station's device takes the withdrawal. It has no photo of the rider's to send, so it
    // asks nothing about it and does not fail for want of the file.
    let r = staff.sync();
    assert_eq!((r.documents_received, r.photos_uploaded), (1, 0), "{r:?}");
    assert_eq!(
        staff.ws.reports().get(&id).unwrap().status,
        waystation_core::reports::ReportStatus::Withdrawn
    );
}

/// Gives every sync response a new store generation, as a server that claims at every sync to
/// have been restored from a backup.
fn rotating_generation() -> Rewriting<impl Fn(&mut SyncResponse) + Send + Sync> {
    let n = AtomicUsize::new(0);
    Rewriting {
        inner: http(),
        edit: move |r: &mut SyncResponse| {
            r.generation = format!("gen{:013}", n.fetch_add(1, Ordering::SeqCst));
        },
    }
}

#[test]
fn a_server_cannot_force_a_full_upload_at_every_sync() {
    let net = Net::start();
    let token = net.user("rider-1", Role::Rider, &[]);
    let rider = Device::new(&net.url(), &token);
    for q in 0..3 {
        report_with_photo(&rider.ws, "rider-1", 10 + q);
    }
    let t = rotating_generation();
    // The first generation is recorded; the second one makes the device offer everything.
    assert_eq!(rider.sync_with(&t).unwrap().documents_sent, 3);
    let r = rider.sync_with(&t).unwrap();
    assert_eq!(r.documents_sent, 3, "one full re-offer: {r:?}");
    let s = rider.ws.sync().status().unwrap();
    assert_eq!(s.last_reoffer, Some(rider.clock.now()));
    assert_eq!(s.reoffer_held_back, None);
    // Within 24 hours the server's claim is not acted on, and the status says so.
    for hour in [1, 12, 23] {
        rider
            .clock
            .set(at("2026-11-29T08:00:00Z") + TimeDelta::hours(hour));
        let r = rider.sync_with(&t).unwrap();
        assert_eq!(
            (r.documents_sent, r.photos_uploaded),
            (0, 0),
            "hour {hour}: {r:?}"
        );
        let s = rider.ws.sync().status().unwrap();
        assert_eq!(s.reoffer_held_back, Some(rider.clock.now()), "{s:?}");
        assert_eq!((s.pending_documents, s.pending_photos), (0, 0));
    }
    // A day later the device does it once more.
    let day = |h: i64| at("2026-11-29T08:00:00Z") + TimeDelta::hours(h);
    rider.clock.set(day(25));
    assert_eq!(rider.sync_with(&t).unwrap().documents_sent, 3);
    // The honest server's generation differs from the last fake one: adopted at the next
    // allowed re-offer, after which the held-back mark clears.
    assert_eq!(rider.sync().documents_sent, 0);
    assert!(
        rider
            .ws
            .sync()
            .status()
            .unwrap()
            .reoffer_held_back
            .is_some()
    );
    rider.clock.set(day(50));
    assert_eq!(rider.sync().documents_sent, 3);
    rider.sync();
    assert_eq!(rider.ws.sync().status().unwrap().reoffer_held_back, None);
}

/// A loopback server that answers sync with `200`, CBOR, and a body larger than any the device
/// accepts: announced in `Content-Length`, or streamed without one.
fn endless(announce: bool) -> RawServer {
    RawServer::start(move |req, conn| {
        let size: u64 = 17 * 1024 * 1024;
        if announce {
            write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: application/cbor\r\nContent-Length: {size}\r\n\r\n"
            )?;
            // Only the start: the device must give up on the announced length alone.
            conn.write_all(&[0u8; 1024])?;
            std::thread::sleep(Duration::from_millis(200));
            return Ok(());
        }
        let _ = &req.path;
        write!(
            conn,
            "HTTP/1.1 200 OK\r\nContent-Type: application/cbor\r\nTransfer-Encoding: chunked\r\n\r\n"
        )?;
        let chunk = vec![0u8; 64 * 1024];
        let mut sent = 0u64;
        while sent <= size {
            write!(conn, "{:x}\r\n", chunk.len())?;
            conn.write_all(&chunk)?;
            conn.write_all(b"\r\n")?;
            sent += chunk.len() as u64;
        }
        conn.write_all(b"0\r\n\r\n")
    })
}

#[test]
fn an_endless_reply_is_cut_at_the_limit_and_changes_nothing() {
    for announce in [true, false] {
        let server = endless(announce);
        let rider = Device::new(&server.url(), "wst_t");
        let _ = waystation_tests::reports::submitted_road_report(&rider.ws, "rider-1", 1);
        let before = rider.stored();
        let err = rider.sync_with(&http()).unwrap_err();
        let Error::Server { message, .. } = &err else {
            panic!("announce {announce}: {err:?}")
        };
        assert!(message.contains("is over 16777216 bytes"), "{message}");
        assert_eq!(rider.stored(), before);
        server.stop();
    }
}

#[test]
fn plain_http_to_another_machine_is_refused_before_anything_is_sent() {
    let rider = Device::new("http://127.0.0.1:9", "wst_t");
    let mut settings = rider.settings.clone();
    settings.server = "http://sync.example.org".into();
    let err = rider
        .ws
        .sync()
        .run(&settings, &http(), &waystation_core::CancelToken::never())
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
    assert!(err.to_string().contains("unencrypted"), "{err}");
    assert!(
        rider.ws.sync().status().unwrap().last_attempt.is_none(),
        "nothing was tried"
    );
    let err = rider
        .ws
        .packs()
        .fetch(&settings, &http(), &waystation_core::CancelToken::never())
        .unwrap_err()
        .to_string();
    assert!(err.contains("https://"), "{err}");
    let err = rider
        .ws
        .reports()
        .fetch_photo(
            &settings,
            &http(),
            &"ab".repeat(32),
            &waystation_core::CancelToken::never(),
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("https://"), "{err}");
}
