//! Sync end to end: real devices (data directories) syncing with a real `waystation-server`
//! on loopback, over the built-in HTTP transport.
//!
//! Covers: three roles working offline and converging whatever the order of their syncs,
//! concurrent conflicting case events, photos uploaded before their report and downloaded on
//! demand, access control against a hand-crafted client, a server killed and restarted in the
//! middle of a sync, responses lost on the way (an app killed mid-sync), replayed requests,
//! bad tokens, the no-op sync's size, the observer, packs with ETags, a tampered reply
//! that makes automerge panic, and the server's rate limit with `Retry-After`.

use std::collections::BTreeSet;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use automerge::sync::SyncDoc;
use waystation_core::reports::{CaseEventKind, CaseRole, CaseStatus};
use waystation_core::store::documents;
use waystation_core::sync::protocol::{self, DocMessage, SyncRequest, SyncResponse};
use waystation_core::sync::{
    HttpHeader, HttpRequest, HttpResponse, HttpTransport, ReqwestTransport, SyncObserver,
    SyncSettings, SyncStatus, TransportError,
};
use waystation_core::{Error, Options, Waystation};
use waystation_server::{Role, ServerConfig, UserChange};
use waystation_tests::net::Net;
use waystation_tests::reports::report_with_photo;

/// Yanta district, where the test reports are.
const YANTA: &str = "610113";
/// Beilin district, elsewhere.
const BEILIN: &str = "610103";

fn http() -> ReqwestTransport {
    ReqwestTransport::new(None).unwrap()
}

struct Device {
    _dir: tempfile::TempDir,
    ws: Waystation,
    settings: SyncSettings,
}

impl Device {
    fn new(net: &Net, token: &str) -> Device {
        let dir = tempfile::tempdir().unwrap();
        let ws = Waystation::open(dir.path(), Options::default()).unwrap();
        Device {
            _dir: dir,
            ws,
            settings: net.settings(token),
        }
    }

    fn sync(&self) -> waystation_core::sync::SyncReport {
        let r = self
            .ws
            .sync()
            .run(
                &self.settings,
                &http(),
                &waystation_core::CancelToken::never(),
            )
            .unwrap();
        assert!(r.complete, "{r:?}");
        r
    }
}

fn case_doc_heads(ws: &Waystation, report: &str) -> Vec<automerge::ChangeHash> {
    let doc_id = format!("case:{report}");
    documents::info(&ws.store().read(), &doc_id)
        .unwrap()
        .map(|i| i.heads)
        .unwrap_or_default()
}

fn timeline(ws: &Waystation, report: &str) -> BTreeSet<(String, String)> {
    ws.cases()
        .get(report)
        .unwrap()
        .timeline
        .into_iter()
        .map(|t| (t.event.actor, t.event.kind.name().to_string()))
        .collect()
}

/// The whole story in one order of syncs; returns the final status everyone agrees on.
fn story(order: &[usize]) -> CaseStatus {
    let net = Net::start();
    let rider_t = net.user("rider-1", Role::Rider, &[]);
    let staff_t = net.user("staff-1", Role::Station, &[YANTA]);
    let sup_t = net.user("sup-1", Role::Supervisor, &[YANTA]);
    let rider = Device::new(&net, &rider_t);
    let staff = Device::new(&net, &staff_t);
    let sup = Device::new(&net, &sup_t);

    // Offline: the rider files a report with a photo.
    let id = report_with_photo(&rider.ws, "rider-1", 80);
    let status = rider.ws.sync().status().unwrap();
    assert_eq!((status.pending_documents, status.pending_photos), (1, 1));
    let r = rider.sync();
    assert_eq!((r.documents_sent, r.photos_uploaded), (1, 1), "{r:?}");
    assert_eq!(rider.ws.sync().status().unwrap().pending_documents, 0);

    // Both follow-up devices receive it; the staff acknowledges and dispatches offline.
    assert_eq!(staff.sync().documents_received, 1);
    assert_eq!(sup.sync().documents_received, 1);
    let ack = |d: &Device, actor: &str, role: CaseRole, kind: CaseEventKind, note: &str| {
        d.ws.cases().record(&id, actor, role, kind, note).unwrap();
    };
    ack(
        &staff,
        "staff-1",
        CaseRole::StationStaff,
        CaseEventKind::Acknowledge,
        "收到",
    );
    ack(
        &staff,
        "staff-1",
        CaseRole::StationStaff,
        CaseEventKind::Dispatch {
            grid_id: "yanta-07".into(),
        },
        "",
    );
    // The supervisor, offline, notes and rejects while the staff, offline, asks for more:
    // conflicting events made by two people who cannot see each other.
    ack(
        &sup,
        "sup-1",
        CaseRole::Supervisor,
        CaseEventKind::Note,
        "商家已整改",
    );
    ack(
        &sup,
        "sup-1",
        CaseRole::Supervisor,
        CaseEventKind::Reject {
            reason: "重复投诉".into(),
        },
        "",
    );
    ack(
        &staff,
        "staff-1",
        CaseRole::StationStaff,
        CaseEventKind::RequestInfo,
        "请补充照片",
    );

    let devices = [&rider, &staff, &sup];
    for &i in order {
        devices[i].sync();
    }
    // A second round, so everyone has seen everyone's last sync.
    for &i in order {
        devices[i].sync();
    }
    let heads = case_doc_heads(&staff.ws, &id);
    assert!(!heads.is_empty());
    let want = staff.ws.cases().get(&id).unwrap();
    for d in devices {
        assert_eq!(case_doc_heads(&d.ws, &id), heads, "case documents differ");
        let got = d.ws.cases().get(&id).unwrap();
        assert_eq!(got.status, want.status);
        assert_eq!(got.timeline.len(), 5, "no event is lost");
        assert_eq!(timeline(&d.ws, &id), timeline(&staff.ws, &id));
        assert_eq!(
            d.ws.reports().get(&id).unwrap().status,
            rider.ws.reports().get(&id).unwrap().status
        );
        let s = d.ws.sync().status().unwrap();
        assert_eq!(s.pending_documents, 0, "{s:?}");
        assert_eq!(s.last_error, None);
    }
    // The staff downloads the photo on demand; it is the rider's bytes.
    let sha = rider.ws.reports().get(&id).unwrap().photos[0]
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
    let rider_path = rider.ws.reports().photo_path(&sha).unwrap();
    assert_eq!(
        std::fs::read(path).unwrap(),
        std::fs::read(rider_path).unwrap()
    );
    assert_eq!(net.server_docs("report"), 1);
    assert_eq!(net.server_docs("case"), 1);
    want.status
}

#[test]
fn three_roles_work_offline_and_converge_in_any_order() {
    let statuses: Vec<CaseStatus> = [[0, 1, 2], [2, 1, 0], [1, 2, 0]]
        .iter()
        .map(|o| story(o))
        .collect();
    // The fold is deterministic: the same events give the same status whatever the order.
    assert!(statuses.windows(2).all(|w| w[0] == w[1]), "{statuses:?}");
}

#[test]
fn a_sync_with_nothing_to_do_is_one_small_round_trip() {
    let net = Net::start();
    let token = net.user("rider-1", Role::Rider, &[]);
    let rider = Device::new(&net, &token);
    for q in 0..20 {
        report_with_photo(&rider.ws, "rider-1", 40 + q);
    }
    let first = rider.sync();
    assert_eq!(first.documents_sent, 20);
    let noop = rider.sync();
    assert_eq!(noop.requests, 1, "{noop:?}");
    assert!(
        noop.bytes_sent < 200 && noop.bytes_received < 200,
        "{noop:?}"
    );
    assert_eq!(noop.documents_sent + noop.documents_received, 0);
}

#[test]
fn more_documents_than_one_request_carries_go_in_several_and_do_not_echo() {
    let net = Net::start();
    let token = net.user("rider-1", Role::Rider, &[]);
    // Another device of the same rider first, so the feed has something for the big one.
    let other = Device::new(&net, &token);
    for i in 0..4 {
        waystation_tests::reports::submitted_road_report(&other.ws, "rider-1", i);
    }
    other.sync();
    let mut big = Device::new(&net, &token);
    big.settings.max_docs_per_request = 5;
    for i in 0..23 {
        waystation_tests::reports::submitted_road_report(&big.ws, "rider-1", 100 + i);
    }
    let r = big.sync();
    assert_eq!((r.documents_sent, r.documents_received), (23, 4), "{r:?}");
    // 5 requests of this device's news, plus the feed's page of the other device's reports.
    assert!(r.requests <= 7, "{r:?}");
    assert_eq!(net.server_docs("report"), 27);
    let noop = big.sync();
    assert_eq!(noop.requests, 1, "{noop:?}");
    assert_eq!(other.sync().documents_received, 23);
}

#[test]
fn the_server_enforces_who_may_write_and_read() {
    let net = Net::start();
    let mallory_t = net.user("mallory", Role::Rider, &[]);
    let victim_t = net.user("victim", Role::Rider, &[]);
    let beilin_t = net.user("staff-beilin", Role::Station, &[BEILIN]);
    let yanta_t = net.user("staff-yanta", Role::Station, &[YANTA]);

    // Mallory's device writes a report in the victim's name and syncs with her own token.
    let mallory = Device::new(&net, &mallory_t);
    let forged = report_with_photo(&mallory.ws, "victim", 30);
    let r = mallory
        .ws
        .sync()
        .run(
            &mallory.settings,
            &http(),
            &waystation_core::CancelToken::never(),
        )
        .unwrap();
    assert_eq!(r.refused.len(), 1, "{r:?}");
    assert!(r.refused[0].reason.contains("only its author"), "{r:?}");
    // Kept locally, shown as refused, not dropped.
    let report = mallory.ws.reports().get(&forged).unwrap();
    assert!(
        matches!(
            report.outbox,
            Some(waystation_core::reports::OutboxState::Refused { .. })
        ),
        "{report:?}"
    );
    // Refused, not pending: no sync sends it until the user acts, so it must not keep the
    // status from saying "nothing pending" (issue 11, finding 15b).
    let status = mallory.ws.sync().status().unwrap();
    assert_eq!((status.pending_documents, status.refused_documents), (0, 1));
    assert_eq!(status.pending_photos, 0, "{status:?}");
    assert_eq!(mallory.ws.sync().refusals().unwrap().len(), 1);
    assert_eq!(net.server_docs("report"), 0);
    // A refused document is not resent until it changes: the next sync is a no-op, and the
    // refusal stays visible with its reason.
    let again = mallory.sync();
    assert_eq!((again.requests, again.refused.len()), (1, 0), "{again:?}");
    let status = mallory.ws.sync().status().unwrap();
    assert_eq!((status.pending_documents, status.refused_documents), (0, 1));
    let refusal = &mallory.ws.sync().refusals().unwrap()[0];
    assert!(refusal.reason.contains("only its author"), "{refusal:?}");
    // The user dismisses it: it leaves the status; the report keeps its refused state and
    // reason, and nothing is sent.
    mallory
        .ws
        .sync()
        .dismiss(&format!("report:{forged}"))
        .unwrap();
    let status = mallory.ws.sync().status().unwrap();
    assert_eq!((status.pending_documents, status.refused_documents), (0, 0));
    assert!(mallory.ws.sync().refusals().unwrap().is_empty());
    assert!(matches!(
        mallory.ws.reports().get(&forged).unwrap().outbox,
        Some(waystation_core::reports::OutboxState::Refused { .. })
    ));
    assert_eq!(mallory.sync().requests, 1);
    assert!(matches!(
        mallory.ws.sync().dismiss(&format!("report:{forged}")),
        Err(Error::NotFound(_))
    ));
    assert_eq!(net.server_docs("report"), 0);

    // The victim's real report reaches Yanta staff, not Beilin staff.
    let victim = Device::new(&net, &victim_t);
    let id = report_with_photo(&victim.ws, "victim", 31);
    victim.sync();
    let beilin = Device::new(&net, &beilin_t);
    assert_eq!(beilin.sync().documents_received, 0);
    assert!(beilin.ws.reports().get(&id).is_err());
    let yanta = Device::new(&net, &yanta_t);
    assert_eq!(yanta.sync().documents_received, 1);

    // Beilin staff writes a case event offline (its device has the report from Yanta's copy)
    // and syncs: refused, outside its areas.
    let doc = documents::document_bytes(&yanta.ws.store().read(), &format!("report:{id}"))
        .unwrap()
        .unwrap();
    let raw = craft_sync(&doc, &format!("report:{id}"), "report");
    // Mallory replays the victim's report document with her token: refused per document.
    let resp = post_sync(&net, &mallory_t, &raw);
    assert!(resp.docs[0].refused.is_some(), "{resp:?}");

    // A rider cannot write a case, even of their own report: build one on a staff device (in
    // its own account's name: the core refuses any other once it knows its account) and send
    // it with the victim's token.
    yanta
        .ws
        .cases()
        .record(
            &id,
            "staff-yanta",
            CaseRole::StationStaff,
            CaseEventKind::Acknowledge,
            "",
        )
        .unwrap();
    let case = documents::document_bytes(&yanta.ws.store().read(), &format!("case:{id}"))
        .unwrap()
        .unwrap();
    let resp = post_sync(
        &net,
        &victim_t,
        &craft_sync(&case, &format!("case:{id}"), "case"),
    );
    let reason = resp.docs[0].refused.clone().unwrap();
    assert!(
        reason.contains("rider cannot write case events"),
        "{reason}"
    );
    // Staff outside the area: refused.
    let resp = post_sync(
        &net,
        &beilin_t,
        &craft_sync(&case, &format!("case:{id}"), "case"),
    );
    assert!(
        resp.docs[0].refused.clone().unwrap().contains("outside"),
        "{resp:?}"
    );
    // An event claiming another actor: refused even inside the area.
    let yanta2_t = net.user("staff-yanta-2", Role::Station, &[YANTA]);
    let resp = post_sync(
        &net,
        &yanta2_t,
        &craft_sync(&case, &format!("case:{id}"), "case"),
    );
    assert!(
        resp.docs[0]
            .refused
            .clone()
            .unwrap()
            .contains("claims actor"),
        "{resp:?}"
    );
    assert_eq!(net.server_docs("case"), 0);

    // Training progress is private: mallory cannot write the victim's.
    let tdir = tempfile::tempdir().unwrap();
    let tws = Waystation::open(
        tdir.path(),
        Options {
            trusted_keys: vec![waystation_core::packs::demo_trusted_key()],
            ..Options::default()
        },
    )
    .unwrap();
    tws.packs()
        .import_training(&waystation_tests::real_training_pack())
        .unwrap();
    let course = tws.training().courses("victim").unwrap()[0].id.clone();
    let lesson = tws.training().course("victim", &course).unwrap().lessons[0]
        .id
        .clone();
    tws.training().complete_lesson("victim", &lesson).unwrap();
    let progress = documents::document_bytes(&tws.store().read(), "progress:victim")
        .unwrap()
        .unwrap();
    let raw = craft_sync(&progress, "progress:victim", "training-progress");
    let resp = post_sync(&net, &mallory_t, &raw);
    assert!(
        resp.docs[0].refused.clone().unwrap().contains("private"),
        "{resp:?}"
    );
    let resp = post_sync(&net, &victim_t, &raw);
    assert_eq!(resp.docs[0].refused, None, "{resp:?}");
    // And only the victim's feed lists it.
    let feed = post_sync(&net, &mallory_t, &protocol::encode(&SyncRequest::default()));
    assert!(
        feed.changed.iter().all(|c| c.doc_id != "progress:victim"),
        "{feed:?}"
    );
}

fn waystation_tests_config() -> Options {
    Options {
        trusted_keys: waystation_tests::trusted(),
        ..Options::default()
    }
}

/// A sync request carrying the whole of `doc` as a first message from a fresh peer.
fn craft_sync(doc: &[u8], doc_id: &str, kind: &str) -> Vec<u8> {
    let mut am = automerge::AutoCommit::load(doc).unwrap();
    let mut state = automerge::sync::State::new();
    state.their_heads = Some(Vec::new());
    state.their_need = Some(Vec::new());
    state.their_have = Some(vec![automerge::sync::Have::default()]);
    let message = am.sync().generate_sync_message(&mut state).unwrap();
    protocol::encode(&SyncRequest {
        cursor: 0,
        docs: vec![DocMessage {
            doc_id: doc_id.into(),
            kind: kind.into(),
            message: message.encode(),
        }],
    })
}

fn raw_post(net: &Net, token: &str, body: &[u8]) -> HttpResponse {
    http()
        .send(
            HttpRequest {
                method: "POST".into(),
                url: format!("{}/v1/sync", net.url()),
                headers: vec![
                    HttpHeader::new("authorization", format!("Bearer {token}")),
                    HttpHeader::new("content-type", "application/cbor"),
                ],
                body: body.to_vec(),
                timeout_ms: 20_000,
                max_body_bytes: i64::MAX,
            },
            &waystation_core::CancelToken::never(),
        )
        .unwrap()
}

fn post_sync(net: &Net, token: &str, body: &[u8]) -> SyncResponse {
    let resp = raw_post(net, token, body);
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    protocol::decode(&resp.body).unwrap()
}

/// Forwards to the real transport and injects failures.
struct Faulty {
    inner: ReqwestTransport,
    calls: AtomicUsize,
    /// On this call (1-based), run `hook` after forwarding and lose the response.
    fail_at: usize,
    hook: Mutex<Option<Box<dyn FnOnce() + Send>>>,
    bodies: Mutex<Vec<(String, Vec<u8>)>>,
}

impl Faulty {
    fn new(fail_at: usize, hook: Option<Box<dyn FnOnce() + Send>>) -> Faulty {
        Faulty {
            inner: http(),
            calls: AtomicUsize::new(0),
            fail_at,
            hook: Mutex::new(hook),
            bodies: Mutex::new(Vec::new()),
        }
    }
}

impl HttpTransport for Faulty {
    fn send(
        &self,
        request: HttpRequest,
        cancel: &waystation_core::CancelToken,
    ) -> Result<HttpResponse, TransportError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        self.bodies
            .lock()
            .unwrap()
            .push((request.url.clone(), request.body.clone()));
        let resp = self.inner.send(request, cancel);
        if n == self.fail_at {
            if let Some(h) = self.hook.lock().unwrap().take() {
                h();
            }
            return Err(TransportError::Connect("injected: response lost".into()));
        }
        resp
    }
}

/// A man in the middle (or a compromised server) that swaps every reply message for one whose
/// whole-document chunk makes automerge 0.12 panic while applying it: the input the server's
/// fuzz target found (`server/tests/data`).
struct Tampering {
    inner: ReqwestTransport,
    message: Vec<u8>,
}

impl HttpTransport for Tampering {
    fn send(
        &self,
        request: HttpRequest,
        cancel: &waystation_core::CancelToken,
    ) -> Result<HttpResponse, TransportError> {
        let is_sync = request.url.ends_with("/v1/sync");
        let mut resp = self.inner.send(request, cancel)?;
        if is_sync && resp.status == 200 {
            let mut answer: SyncResponse = protocol::decode(&resp.body).unwrap();
            for d in &mut answer.docs {
                d.message = Some(self.message.clone());
            }
            resp.body = protocol::encode(&answer);
        }
        Ok(resp)
    }
}

#[test]
fn a_reply_that_makes_automerge_panic_is_an_error_and_the_device_keeps_its_report() {
    let net = Net::start();
    let token = net.user("rider-1", Role::Rider, &[]);
    let rider = Device::new(&net, &token);
    let id = waystation_tests::reports::submitted_road_report(&rider.ws, "rider-1", 1);
    let request: SyncRequest = protocol::decode(include_bytes!(
        "../../server/tests/data/fuzz-truncated-change-column.cbor"
    ))
    .unwrap();
    let message = request.docs[0].message.clone();
    // It passes the device's own decoding checks; only applying it goes wrong.
    protocol::decode_sync_message(&message).unwrap();
    let tampering = Tampering {
        inner: http(),
        message,
    };
    let before = rider.ws.reports().get(&id).unwrap();
    let err = rider
        .ws
        .sync()
        .run(
            &rider.settings,
            &tampering,
            &waystation_core::CancelToken::never(),
        )
        .unwrap_err();
    let Error::Server { message, .. } = &err else {
        panic!("{err:?}")
    };
    // Refused by the bounds check before automerge reads it, or by automerge itself.
    assert!(
        message.contains("do not apply") || message.contains("are refused"),
        "{message}"
    );
    assert_eq!(rider.ws.reports().get(&id).unwrap(), before);
    assert!(rider.ws.sync().status().unwrap().pending_documents >= 1);
    // An honest exchange afterwards completes.
    rider.sync();
    assert_eq!(rider.ws.sync().status().unwrap().pending_documents, 0);
}

#[test]
fn lost_responses_and_replayed_requests_create_no_duplicates() {
    let net = Net::start();
    let token = net.user("rider-1", Role::Rider, &[]);
    let staff_t = net.user("staff-1", Role::Station, &[YANTA]);
    let rider = Device::new(&net, &token);
    let ids: Vec<String> = (0..12)
        .map(|q| report_with_photo(&rider.ws, "rider-1", 50 + q))
        .collect();
    // The server gets every request, but the device never hears back (the app is killed, the
    // network drops): every call's response is lost, up to the retries.
    for fail_at in [1usize, 13, 14] {
        let t = Faulty::new(fail_at, None);
        let mut settings = rider.settings.clone();
        settings.retry.attempts = 1;
        let _ = rider
            .ws
            .sync()
            .run(&settings, &t, &waystation_core::CancelToken::never());
    }
    let s = rider.ws.sync().status().unwrap();
    assert!(s.last_error.is_some() || s.pending_documents == 0, "{s:?}");
    // Syncing again converges.
    let t = Faulty::new(usize::MAX, None);
    let r = rider
        .ws
        .sync()
        .run(&rider.settings, &t, &waystation_core::CancelToken::never())
        .unwrap();
    assert!(r.complete);
    assert_eq!(rider.ws.sync().status().unwrap().pending_documents, 0);
    assert_eq!(net.server_docs("report"), 12);
    // Replay every request this device ever sent: nothing new on the server.
    let bodies = t.bodies.lock().unwrap().clone();
    for (url, body) in bodies.iter().filter(|(u, _)| u.ends_with("/v1/sync")) {
        let _ = url;
        post_sync(&net, &token, body);
        post_sync(&net, &token, body);
    }
    assert_eq!(net.server_docs("report"), 12);
    let staff = Device::new(&net, &staff_t);
    assert_eq!(staff.sync().documents_received, 12);
    for id in &ids {
        assert_eq!(staff.ws.reports().get(id).unwrap(), {
            let mut r = rider.ws.reports().get(id).unwrap();
            r.outbox = staff.ws.reports().get(id).unwrap().outbox;
            r
        });
    }
}

#[test]
fn a_server_restart_in_the_middle_of_a_sync_loses_nothing() {
    let mut net = Net::start();
    let token = net.user("rider-1", Role::Rider, &[]);
    let rider = Device::new(&net, &token);
    for q in 0..8 {
        report_with_photo(&rider.ws, "rider-1", 60 + q);
    }
    // Kill the server right after it handled the 5th request (some photo uploads); the
    // device's retries find nobody there.
    let addr = net.addr;
    let handle = Arc::new(Mutex::new(net.server.take()));
    let h2 = handle.clone();
    let t = Faulty::new(
        5,
        Some(Box::new(move || {
            if let Some(s) = h2.lock().unwrap().take() {
                s.kill();
            }
        })),
    );
    let err = rider
        .ws
        .sync()
        .run(&rider.settings, &t, &waystation_core::CancelToken::never())
        .unwrap_err();
    assert!(matches!(err, Error::Network(_)), "{err:?}");
    let s = rider.ws.sync().status().unwrap();
    assert!(s.last_error.unwrap().contains("network"), "error recorded");
    assert_eq!(s.pending_documents, 8);
    // The server comes back on the same address and database.
    net.addr = addr;
    net.restart();
    let r = rider.sync();
    assert_eq!(r.documents_sent, 8, "{r:?}");
    assert_eq!(net.server_docs("report"), 8);
    assert!(rider.ws.sync().status().unwrap().last_error.is_none());
}

#[test]
fn bad_tokens_are_unauthorized_and_nothing_changes() {
    let net = Net::start();
    let token = net.user("rider-1", Role::Rider, &[]);
    let rider = Device::new(&net, &token);
    report_with_photo(&rider.ws, "rider-1", 20);
    let mut wrong = rider.settings.clone();
    wrong.token = "wst_not-a-real-token".into();
    let err = rider
        .ws
        .sync()
        .run(&wrong, &http(), &waystation_core::CancelToken::never())
        .unwrap_err();
    assert!(matches!(err, Error::Unauthorized(_)), "{err:?}");
    waystation_server::revoke_token(&net.db, &token).unwrap();
    let err = rider
        .ws
        .sync()
        .run(
            &rider.settings,
            &http(),
            &waystation_core::CancelToken::never(),
        )
        .unwrap_err();
    assert!(
        matches!(err, Error::Unauthorized(ref m) if m.contains("revoked")),
        "{err:?}"
    );
    let expired =
        waystation_server::issue_token(&net.db, "rider-1", chrono::Duration::zero()).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    let mut e = rider.settings.clone();
    e.token = expired;
    let err = rider
        .ws
        .sync()
        .run(&e, &http(), &waystation_core::CancelToken::never())
        .unwrap_err();
    assert!(
        matches!(err, Error::Unauthorized(ref m) if m.contains("expired")),
        "{err:?}"
    );
    assert_eq!(net.server_docs("report"), 0);
    assert_eq!(rider.ws.sync().status().unwrap().pending_documents, 1);
}

#[derive(Default)]
struct Recorder(Mutex<Vec<SyncStatus>>);

impl SyncObserver for Recorder {
    fn sync_status_changed(&self, status: SyncStatus) {
        self.0.lock().unwrap().push(status);
    }
}

#[test]
fn the_observer_sees_a_sync_start_and_end() {
    let net = Net::start();
    let token = net.user("rider-1", Role::Rider, &[]);
    let rider = Device::new(&net, &token);
    report_with_photo(&rider.ws, "rider-1", 21);
    let rec = Arc::new(Recorder::default());
    let _subscription = rider.ws.sync().subscribe(rec.clone());
    rider.sync();
    let seen = rec.0.lock().unwrap().clone();
    assert!(seen.len() >= 2, "{seen:?}");
    assert!(seen.first().unwrap().in_progress);
    let last = seen.last().unwrap();
    assert!(!last.in_progress && last.pending_documents == 0 && last.last_success.is_some());
}

/// A sync cancelled while the server holds its answer back stops at once (the request in
/// flight is dropped, not waited for until its timeout), keeps what it had stored, records no
/// failure, and releases the sync lock: the next sync starts straight away and succeeds.
#[test]
fn a_cancelled_sync_stops_at_once_and_releases_the_lock() {
    let net = Net::start();
    let token = net.user("rider-1", Role::Rider, &[]);
    let proxy = waystation_tests::net::HoldingProxy::start(net.addr);
    let dir = tempfile::tempdir().unwrap();
    let ws = Arc::new(Waystation::open(dir.path(), Options::default()).unwrap());
    report_with_photo(&ws, "rider-1", 23);
    let mut settings = net.settings(&token);
    settings.server = proxy.url();
    // Without cancellation this sync would wait the request's whole timeout, per attempt.
    settings.timeout = Duration::from_secs(60);
    let slow = ReqwestTransport::new(None).unwrap();
    proxy.hold();
    let cancel = waystation_core::CancelToken::new();
    let syncing = {
        let (ws, settings, cancel) = (ws.clone(), settings.clone(), cancel.clone());
        std::thread::spawn(move || {
            let started = Instant::now();
            let r = ws.sync().run(&settings, &slow, &cancel);
            (r, started.elapsed())
        })
    };
    assert!(proxy.wait_for_held_request(Duration::from_secs(30)));
    assert!(ws.sync().status().unwrap().in_progress);
    let cancelled_at = Instant::now();
    cancel.cancel();
    let (result, _) = syncing.join().unwrap();
    let stopped_after = cancelled_at.elapsed();
    assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");
    assert!(stopped_after < Duration::from_secs(5), "{stopped_after:?}");
    let status = ws.sync().status().unwrap();
    assert!(!status.in_progress, "{status:?}");
    assert_eq!(status.last_error, None, "a cancel is not a failure");
    assert_eq!(status.pending_documents, 1);
    // The lock is free: the next sync (the server answering again) runs at once.
    proxy.release();
    let started = Instant::now();
    let r = ws
        .sync()
        .run(&settings, &http(), &waystation_core::CancelToken::never())
        .unwrap();
    assert!(r.complete && r.documents_sent == 1, "{r:?}");
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(ws.sync().status().unwrap().pending_documents, 0);
    assert_eq!(net.server_docs("report"), 1);
}

/// A sync waiting for another one to finish gives up when its own token is cancelled.
#[test]
fn a_sync_waiting_for_the_lock_can_be_cancelled() {
    let net = Net::start();
    let token = net.user("rider-1", Role::Rider, &[]);
    let proxy = waystation_tests::net::HoldingProxy::start(net.addr);
    let dir = tempfile::tempdir().unwrap();
    let ws = Arc::new(Waystation::open(dir.path(), Options::default()).unwrap());
    let mut settings = net.settings(&token);
    settings.server = proxy.url();
    proxy.hold();
    let first_cancel = waystation_core::CancelToken::new();
    let first = {
        let (ws, settings, cancel) = (ws.clone(), settings.clone(), first_cancel.clone());
        std::thread::spawn(move || ws.sync().run(&settings, &http(), &cancel))
    };
    assert!(proxy.wait_for_held_request(Duration::from_secs(30)));
    let second_cancel = waystation_core::CancelToken::new();
    let second = {
        let (ws, settings, cancel) = (ws.clone(), settings.clone(), second_cancel.clone());
        std::thread::spawn(move || ws.sync().run(&settings, &http(), &cancel))
    };
    second_cancel.cancel();
    assert!(matches!(second.join().unwrap(), Err(Error::Cancelled)));
    assert!(
        ws.sync().status().unwrap().in_progress,
        "the first still runs"
    );
    proxy.release();
    let r = first.join().unwrap().unwrap();
    assert!(r.complete, "{r:?}");
    drop(first_cancel);
}

#[test]
fn several_observers_listen_until_their_subscription_is_closed_or_dropped() {
    let net = Net::start();
    let token = net.user("rider-1", Role::Rider, &[]);
    let rider = Device::new(&net, &token);
    let (a, b, c) = (
        Arc::new(Recorder::default()),
        Arc::new(Recorder::default()),
        Arc::new(Recorder::default()),
    );
    let sub_a = rider.ws.sync().subscribe(a.clone());
    let sub_b = rider.ws.sync().subscribe(b.clone());
    let sub_c = rider.ws.sync().subscribe(c.clone());
    rider.sync();
    let count = |r: &Recorder| r.0.lock().unwrap().len();
    let after_first = (count(&a), count(&b), count(&c));
    assert!(after_first.0 >= 2 && after_first == (after_first.0, after_first.0, after_first.0));
    sub_b.close();
    drop(sub_c);
    report_with_photo(&rider.ws, "rider-1", 22);
    rider.sync();
    assert!(
        count(&a) > after_first.0,
        "the open subscription still listens"
    );
    assert_eq!(count(&b), after_first.1, "closed");
    assert_eq!(count(&c), after_first.2, "dropped");
    assert!(!a.0.lock().unwrap().last().unwrap().in_progress);
    drop(sub_a);
}

/// A pack fetch waiting on a server that holds its answer stops at once when its token is
/// cancelled: `Cancelled`, nothing installed, and the next fetch installs the pack.
#[test]
fn a_cancelled_pack_fetch_stops_at_once_and_installs_nothing() {
    let net = Net::start();
    let token = net.user("rider-1", Role::Rider, &[]);
    let pack = waystation_tests::sign(&waystation_tests::synthetic_payload("xian", 3, 50, 1));
    waystation_server::publish_pack(
        &net.db,
        waystation_server::admin::PackKind::Stations,
        &pack,
        &waystation_tests::trusted(),
    )
    .unwrap();
    let proxy = waystation_tests::net::HoldingProxy::start(net.addr);
    let dir = tempfile::tempdir().unwrap();
    let ws = Arc::new(Waystation::open(dir.path(), waystation_tests_config()).unwrap());
    let mut settings = net.settings(&token);
    settings.server = proxy.url();
    // Without cancellation this fetch would wait the request's whole timeout, per attempt.
    settings.timeout = Duration::from_secs(60);
    let slow = ReqwestTransport::new(None).unwrap();
    proxy.hold();
    let cancel = waystation_core::CancelToken::new();
    let fetching = {
        let (ws, settings, cancel) = (ws.clone(), settings.clone(), cancel.clone());
        std::thread::spawn(move || ws.packs().fetch(&settings, &slow, &cancel))
    };
    assert!(proxy.wait_for_held_request(Duration::from_secs(30)));
    let cancelled_at = Instant::now();
    cancel.cancel();
    let result = fetching.join().unwrap();
    let stopped_after = cancelled_at.elapsed();
    assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");
    assert!(stopped_after < Duration::from_secs(5), "{stopped_after:?}");
    assert_eq!(ws.stations().count(), 0);
    assert!(ws.packs().installed().unwrap().is_empty());
    proxy.release();
    let got = ws
        .packs()
        .fetch(&settings, &http(), &waystation_core::CancelToken::never())
        .unwrap();
    assert_eq!(got.stations, Some(3));
    assert_eq!(ws.stations().count(), 50);
}

#[test]
fn packs_come_with_etags_and_go_through_the_verified_import() {
    let net = Net::start();
    let token = net.user("rider-1", Role::Rider, &[]);
    let pack = waystation_tests::sign(&waystation_tests::synthetic_payload("xian", 3, 50, 1));
    waystation_server::publish_pack(
        &net.db,
        waystation_server::admin::PackKind::Stations,
        &pack,
        &waystation_tests::trusted(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ws = Waystation::open(dir.path(), waystation_tests_config()).unwrap();
    let settings = net.settings(&token);
    let got = ws
        .packs()
        .fetch(&settings, &http(), &waystation_core::CancelToken::never())
        .unwrap();
    assert_eq!(got.stations, Some(3));
    assert_eq!(ws.stations().count(), 50);
    // A device that already holds that pack (imported from a file, no ETag stored yet)
    // downloads it once and reports nothing new.
    let dir_had = tempfile::tempdir().unwrap();
    let had = Waystation::open(dir_had.path(), waystation_tests_config()).unwrap();
    had.packs().import_stations(&pack).unwrap();
    let got = had
        .packs()
        .fetch(&settings, &http(), &waystation_core::CancelToken::never())
        .unwrap();
    assert_eq!((got.stations, got.training), (None, None), "{got:?}");
    // Unchanged: a 304, nothing installed.
    let again = ws
        .packs()
        .fetch(&settings, &http(), &waystation_core::CancelToken::never())
        .unwrap();
    assert_eq!((again.stations, again.training), (None, None));
    // A device that does not trust the publisher refuses the pack, keeping what it has.
    let dir2 = tempfile::tempdir().unwrap();
    let untrusting = Waystation::open(dir2.path(), Options::default()).unwrap();
    let err = untrusting
        .packs()
        .fetch(&settings, &http(), &waystation_core::CancelToken::never())
        .unwrap_err();
    assert!(matches!(err, Error::PackRejected(_)), "{err:?}");
    assert_eq!(untrusting.stations().count(), 0);
}

#[test]
fn training_progress_syncs_between_a_users_devices_and_stays_private() {
    use waystation_tests::{quiz_answers, real_training_payload, sign_training};
    let net = Net::start();
    let token = net.user("rider-1", Role::Rider, &[]);
    let other = net.user("rider-2", Role::Rider, &[]);
    let payload = real_training_payload();
    let pack = sign_training(&payload);
    let phone = |t: &str| {
        let d = Device::new(&net, t);
        let ws = Waystation::open(d._dir.path(), waystation_tests_config()).unwrap();
        ws.packs().import_training(&pack).unwrap();
        Device { ws, ..d }
    };
    let a = phone(&token);
    let b = phone(&token);
    let courses = a.ws.training().courses("rider-1").unwrap();
    let quiz = courses[0].quiz_id.clone().unwrap();
    let lessons =
        a.ws.training()
            .course("rider-1", &courses[0].id)
            .unwrap()
            .lessons;
    // Offline on two phones: different lessons, a failed and a perfect attempt.
    a.ws.training()
        .complete_lesson("rider-1", &lessons[0].id)
        .unwrap();
    b.ws.training()
        .complete_lesson("rider-1", &lessons[1].id)
        .unwrap();
    b.ws.training()
        .answer_quiz("rider-1", &quiz, &quiz_answers(&payload, 0, true))
        .unwrap();
    a.ws.training()
        .answer_quiz("rider-1", &quiz, &quiz_answers(&payload, 0, false))
        .unwrap();
    a.sync();
    b.sync();
    a.sync();
    let pa = a.ws.training().progress("rider-1").unwrap();
    let pb = b.ws.training().progress("rider-1").unwrap();
    assert_eq!(pa, pb);
    assert_eq!(pa.completed_lessons.len(), 2, "no completion lost");
    assert_eq!(pa.attempts.len(), 2, "every attempt kept");
    let best = pa.best(&quiz).unwrap();
    assert_eq!(best.score_percent, 100, "the best score never drops");
    // Another rider's device never receives it.
    let c = phone(&other);
    c.sync();
    assert!(
        documents::info(&c.ws.store().read(), "progress:rider-1")
            .unwrap()
            .is_none()
    );
    assert_eq!(net.server_docs("training-progress"), 1);
}

/// Forwards to the real server, counting 429 answers, and answers the first `busy_first`
/// requests itself with `status` and `Retry-After: retry_after` (an overloaded proxy).
struct Watching {
    inner: ReqwestTransport,
    busy_first: usize,
    status: i32,
    retry_after: &'static str,
    sent_at: Mutex<Vec<Instant>>,
    too_many: AtomicUsize,
}

impl Watching {
    fn new(busy_first: usize, status: i32, retry_after: &'static str) -> Watching {
        Watching {
            inner: http(),
            busy_first,
            status,
            retry_after,
            sent_at: Mutex::new(Vec::new()),
            too_many: AtomicUsize::new(0),
        }
    }
}

impl HttpTransport for Watching {
    fn send(
        &self,
        request: HttpRequest,
        cancel: &waystation_core::CancelToken,
    ) -> Result<HttpResponse, TransportError> {
        let n = {
            let mut sent = self.sent_at.lock().unwrap();
            sent.push(Instant::now());
            sent.len()
        };
        let resp = if n <= self.busy_first {
            HttpResponse {
                status: self.status,
                headers: vec![HttpHeader::new("Retry-After", self.retry_after)],
                body: Vec::new(),
            }
        } else {
            self.inner.send(request, cancel)?
        };
        if resp.status == 429 {
            self.too_many.fetch_add(1, Ordering::SeqCst);
        }
        Ok(resp)
    }
}

#[test]
fn a_rate_limited_device_keeps_its_reports_and_is_told_when_to_retry() {
    // Two requests a minute per account: the next one is allowed 30 s later, longer than the
    // device's retry policy waits (50 ms here, 8 s by default), so it stops at once.
    let net = Net::start_with_limit(NonZeroU32::new(2));
    let token = net.user("rider-1", Role::Rider, &[]);
    let rider = Device::new(&net, &token);
    let first = waystation_tests::reports::submitted_road_report(&rider.ws, "rider-1", 1);
    let mut outcome = None;
    for i in 0..3 {
        if i > 0 {
            waystation_tests::reports::submitted_road_report(&rider.ws, "rider-1", 10 + i);
        }
        let watching = Watching::new(0, 0, "");
        match rider.ws.sync().run(
            &rider.settings,
            &watching,
            &waystation_core::CancelToken::never(),
        ) {
            Ok(r) => assert!(r.complete, "{r:?}"),
            Err(e) => {
                outcome = Some((e, watching));
                break;
            }
        }
    }
    let (err, watching) = outcome.expect("the limit of 2 requests is reached within 3 syncs");
    let Error::Server { status, message } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*status, 429);
    assert!(message.contains("2 requests per minute"), "{message}");
    assert!(message.contains("retry in"), "{message}");
    // Asked to wait 30 s, the device did not spend its retries on a refusal it was told about.
    assert_eq!(watching.too_many.load(Ordering::SeqCst), 1);
    // Nothing is lost: the reports are on the device, the unsent ones pending, and the status
    // says why.
    assert_eq!(
        rider.ws.reports().get(&first).unwrap().status,
        waystation_core::reports::ReportStatus::Submitted
    );
    let status = rider.ws.sync().status().unwrap();
    assert!(status.pending_documents >= 1, "{status:?}");
    assert!(
        status
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("requests per minute")),
        "{status:?}"
    );
    assert!(net.server_docs("report") < 3);
}

#[test]
fn a_short_retry_after_is_waited_out_and_the_sync_completes() {
    let net = Net::start_with_limit(None);
    let token = net.user("rider-1", Role::Rider, &[]);
    let mut rider = Device::new(&net, &token);
    rider.settings.retry.max_delay = Duration::from_secs(2);
    waystation_tests::reports::submitted_road_report(&rider.ws, "rider-1", 1);
    // An overloaded server (or proxy) answers the first try 503 with Retry-After: 1.
    let watching = Watching::new(1, 503, "1");
    let r = rider
        .ws
        .sync()
        .run(
            &rider.settings,
            &watching,
            &waystation_core::CancelToken::never(),
        )
        .unwrap();
    assert!(r.complete, "{r:?}");
    let sent = watching.sent_at.lock().unwrap().clone();
    assert!(sent.len() >= 2, "{}", sent.len());
    // The retry came no sooner than asked (the policy alone would have waited under 20 ms).
    assert!(
        sent[1] - sent[0] >= Duration::from_secs(1),
        "{:?}",
        sent[1] - sent[0]
    );
    assert_eq!(net.server_docs("report"), 1);
    assert_eq!(rider.ws.sync().status().unwrap().pending_documents, 0);
}

#[test]
fn a_body_timeout_on_a_poor_connection_is_retried() {
    let net = Net::start_with_limit(None);
    let token = net.user("rider-1", Role::Rider, &[]);
    let rider = Device::new(&net, &token);
    report_with_photo(&rider.ws, "rider-1", 63);
    // The server gave up on the first upload, which stalled: 408, without Retry-After.
    let watching = Watching::new(1, 408, "");
    let r = rider
        .ws
        .sync()
        .run(
            &rider.settings,
            &watching,
            &waystation_core::CancelToken::never(),
        )
        .unwrap();
    assert!(r.complete, "{r:?}");
    assert_eq!(r.photos_uploaded, 1, "{r:?}");
    assert_eq!(net.server_docs("report"), 1);
}

#[test]
fn a_supervisor_given_a_district_receives_its_earlier_reports_and_loses_it_again() {
    let net = Net::start();
    let rider = Device::new(&net, &net.user("rider-1", Role::Rider, &[]));
    let earlier = report_with_photo(&rider.ws, "rider-1", 61);
    rider.sync();
    let supervisor = Device::new(&net, &net.user("sup-1", Role::Supervisor, &[BEILIN]));
    assert_eq!(
        supervisor.sync().documents_received,
        0,
        "Yanta is not theirs"
    );

    // Yanta is given to the supervisor. Its cursor already lies past the report, so only the
    // change of scope brings the report.
    let admin = waystation_server::Admin::open(&net.db).unwrap();
    let areas = |codes: &[&str]| UserChange {
        areas: Some(codes.iter().map(|c| c.to_string()).collect()),
        ..Default::default()
    };
    admin
        .update_user("sup-1", &areas(&[BEILIN, YANTA]))
        .unwrap();
    let r = supervisor.sync();
    assert_eq!(r.documents_received, 1, "{r:?}");
    assert_eq!(
        supervisor.ws.reports().get(&earlier).unwrap().author,
        "rider-1"
    );
    let noop = supervisor.sync();
    assert_eq!((noop.requests, noop.documents_received), (1, 0), "{noop:?}");

    // Yanta is taken away: a later report there does not reach the supervisor, and what it
    // already holds stays on the device.
    admin.update_user("sup-1", &areas(&[BEILIN])).unwrap();
    let later = report_with_photo(&rider.ws, "rider-1", 62);
    rider.sync();
    assert_eq!(supervisor.sync().documents_received, 0);
    assert!(matches!(
        supervisor.ws.reports().get(&later),
        Err(Error::NotFound(_))
    ));
    assert!(supervisor.ws.reports().get(&earlier).is_ok());
}

#[test]
fn lesson_images_follow_their_pack_and_a_bad_one_is_refused_and_fetched_again() {
    use waystation_core::training::LessonImage;
    let net = Net::start();
    let token = net.user("rider-1", Role::Rider, &[]);
    let png = waystation_tests::png_with_metadata();
    let jpeg = waystation_tests::jpeg_with_metadata(70);
    let sha = waystation_core::packs::sha256_hex;
    // Two lessons show images: one each, and the second also the first's (stored once).
    let mut payload = waystation_tests::synthetic_training_payload("imgs", 1, 3, 5);
    let lessons = payload["courses"][0]["lessons"].as_array_mut().unwrap();
    let shown = |bytes: &[u8], media: &str| {
        serde_json::json!({"sha256": sha(bytes), "alt": {"zh": "封签", "en": "A seal"},
                           "media_type": media})
    };
    lessons[0]["images"] = serde_json::json!([shown(&png, "image/png")]);
    lessons[1]["images"] =
        serde_json::json!([shown(&jpeg, "image/jpeg"), shown(&png, "image/png")]);
    let first_lesson = lessons[0]["id"].as_str().unwrap().to_string();
    let pack = waystation_tests::sign_training(&payload);
    let admin = waystation_server::Admin::open(&net.db).unwrap();
    let publish = || {
        admin.publish_pack(
            waystation_server::PackKind::Training,
            &pack,
            &waystation_tests::trusted(),
        )
    };
    // The server refuses a pack whose images it does not have: devices could not get them.
    let err = publish().unwrap_err().to_string();
    assert!(
        err.contains("2 lesson image problem(s)") && err.contains(&sha(&png)),
        "{err}"
    );
    assert_eq!(admin.add_training_image(&png).unwrap(), (sha(&png), true));
    assert_eq!(admin.add_training_image(&png).unwrap(), (sha(&png), false));
    admin.add_training_image(&jpeg).unwrap();
    // A lesson that declares the wrong media type is refused too.
    let mut wrong = payload.clone();
    wrong["courses"][0]["lessons"][0]["images"] = serde_json::json!([shown(&png, "image/webp")]);
    let err = admin
        .publish_pack(
            waystation_server::PackKind::Training,
            &waystation_tests::sign_training(&wrong),
            &waystation_tests::trusted(),
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("as image/webp, but it is image/png"), "{err}");
    publish().unwrap();

    let dir = tempfile::tempdir().unwrap();
    let ws = Waystation::open(dir.path(), waystation_tests_config()).unwrap();
    let settings = net.settings(&token);
    let got = ws
        .packs()
        .fetch(&settings, &http(), &waystation_core::CancelToken::never())
        .unwrap();
    assert_eq!(got.training, Some(1));
    assert_eq!(
        (
            got.training_images_fetched,
            got.training_image_problems.len()
        ),
        (2, 0),
        "{got:?}"
    );
    let lesson = ws.training().lesson(&first_lesson).unwrap();
    let path = ws
        .training()
        .image_path(&lesson.images[0].sha256)
        .unwrap()
        .expect("stored");
    assert_eq!(std::fs::read(path).unwrap(), png, "stored as served");
    let again = ws
        .packs()
        .fetch(&settings, &http(), &waystation_core::CancelToken::never())
        .unwrap();
    assert_eq!(again.training_images_fetched, 0, "{again:?}");

    // A server that sends other bytes than the hash names: the image is refused, named, and
    // the lessons still open; the next fetch, with the right bytes, stores it.
    let server_db = net.server_db();
    let corrupt = |bytes: &[u8]| assert!(server_db.corrupt_training_image(&sha(&jpeg), bytes));
    corrupt(&waystation_tests::jpeg_with_metadata(71));
    let dir2 = tempfile::tempdir().unwrap();
    let second = Waystation::open(dir2.path(), waystation_tests_config()).unwrap();
    let got = second
        .packs()
        .fetch(&settings, &http(), &waystation_core::CancelToken::never())
        .unwrap();
    assert_eq!(
        (
            got.training,
            got.training_images_fetched,
            got.training_image_problems.len()
        ),
        (Some(1), 1, 1),
        "{got:?}"
    );
    assert!(
        got.training_image_problems[0].contains("arrived with SHA-256"),
        "{got:?}"
    );
    assert_eq!(
        second.training().missing_images().unwrap(),
        vec![LessonImage {
            sha256: sha(&jpeg),
            alt: waystation_core::training::LocalizedText {
                zh: "封签".into(),
                en: Some("A seal".into()),
            },
            media_type: Some("image/jpeg".into()),
        }]
    );
    assert!(second.training().image_path(&sha(&jpeg)).unwrap().is_none());
    assert!(second.training().lesson(&first_lesson).is_ok());
    corrupt(&jpeg);
    let got = second
        .packs()
        .fetch(&settings, &http(), &waystation_core::CancelToken::never())
        .unwrap();
    assert_eq!(
        (
            got.training,
            got.training_images_fetched,
            got.training_image_problems.len()
        ),
        (None, 1, 0),
        "the pack is unchanged (304), the image is fetched: {got:?}"
    );
    assert!(second.training().missing_images().unwrap().is_empty());
}

#[test]
fn phones_give_back_what_a_server_restored_from_a_backup_lost() {
    let mut net = Net::start();
    let rider = Device::new(&net, &net.user("rider-1", Role::Rider, &[]));
    let staff = Device::new(&net, &net.user("staff-1", Role::Station, &[YANTA]));
    let first = report_with_photo(&rider.ws, "rider-1", 64);
    rider.sync();
    let nightly = net.backup("nightly.db");

    // After the backup: a second report with its photo, and the station's acknowledgement.
    let second = report_with_photo(&rider.ws, "rider-1", 65);
    rider.sync();
    staff.sync();
    staff
        .ws
        .cases()
        .record(
            &first,
            "staff-1",
            CaseRole::StationStaff,
            CaseEventKind::Acknowledge,
            "收到",
        )
        .unwrap();
    staff.sync();
    let case_heads = case_doc_heads(&staff.ws, &first);

    // The disk is lost and last night's backup restored: the second report, its photo and
    // the case are gone from the server, while both phones believe them delivered.
    net.restore(&nightly);
    assert_eq!((net.server_docs("report"), net.server_photos()), (1, 1));
    assert_eq!(net.server_docs("case"), 0);

    // Each phone's cursor lies beyond the restored feed: the server says so, and the phones
    // offer again what they wrote. Only the lost photo is sent again (a HEAD finds the other).
    let r = rider.sync();
    assert_eq!(r.photos_uploaded, 1, "{r:?}");
    assert_eq!((net.server_docs("report"), net.server_photos()), (2, 2));
    let s = staff.sync();
    assert!(
        s.refused.is_empty(),
        "no one else's reports are offered: {s:?}"
    );
    assert_eq!(net.server_docs("case"), 1);
    let fresh = Device::new(&net, &net.user("staff-2", Role::Station, &[YANTA]));
    fresh.sync();
    assert_eq!(case_doc_heads(&fresh.ws, &first), case_heads);
    assert!(fresh.ws.reports().get(&second).is_ok());
    for ws in [&rider.ws, &staff.ws] {
        assert_eq!(ws.sync().status().unwrap().pending_documents, 0);
    }
}

#[test]
fn a_restore_marked_by_the_admin_is_noticed_even_after_the_feed_moved_on() {
    let mut net = Net::start();
    let rider = Device::new(&net, &net.user("rider-1", Role::Rider, &[]));
    let other = Device::new(&net, &net.user("rider-2", Role::Rider, &[]));
    report_with_photo(&rider.ws, "rider-1", 66);
    rider.sync();
    let nightly = net.backup("nightly.db");
    let lost = report_with_photo(&rider.ws, "rider-1", 67);
    rider.sync();
    net.restore(&nightly);
    // Another rider's reports move the restored feed past the first rider's cursor, so the
    // cursor alone no longer shows the loss.
    for q in 0..3 {
        report_with_photo(&other.ws, "rider-2", 70 + q);
    }
    other.sync();
    rider.sync();
    assert_eq!(net.server_docs("report"), 4, "not noticed without the mark");

    waystation_server::Admin::open(&net.db)
        .unwrap()
        .mark_restored()
        .unwrap();
    let r = rider.sync();
    assert_eq!(r.photos_uploaded, 1, "{r:?}");
    assert_eq!(net.server_docs("report"), 5);
    let shown = rider.ws.reports().get(&lost).unwrap();
    assert!(
        matches!(
            shown.outbox,
            Some(waystation_core::reports::OutboxState::Sent { .. })
        ),
        "{:?}",
        shown.outbox
    );
    // The other rider offers its own reports again too; nothing is duplicated.
    other.sync();
    assert_eq!(net.server_docs("report"), 5);
}

/// A device of `token` on a fixed clock (these tests never read the real one).
fn fixed_device(net: &Net, token: &str) -> Device {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(waystation_core::FixedClock::new(
        chrono::DateTime::parse_from_rfc3339("2026-11-29T08:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc),
    ));
    let ws = Waystation::open_with_clock(dir.path(), Options::default(), clock).unwrap();
    Device {
        _dir: dir,
        ws,
        settings: net.settings(token),
    }
}

/// Issue 11 follow-up (finding 1): a rider with two phones withdraws a report on one; the
/// other applies the withdrawal (the author's, as the server's own rule allows) instead of
/// refusing every server change to its account's reports and failing every sync.
#[test]
fn a_withdrawal_on_one_phone_of_a_rider_reaches_the_other() {
    use waystation_core::reports::ReportStatus;
    let net = Net::start();
    let token = net.user("rider-1", Role::Rider, &[]);
    let a = fixed_device(&net, &token);
    let b = fixed_device(&net, &token);
    let id = report_with_photo(&a.ws, "rider-1", 30);
    let kept = report_with_photo(&a.ws, "rider-1", 31);
    a.sync();
    b.sync();
    assert_eq!(
        b.ws.reports().get(&id).unwrap().status,
        ReportStatus::Submitted
    );
    b.ws.reports()
        .withdraw("rider-1", &id, "duplicate")
        .unwrap();
    b.sync();
    let r =
        a.ws.sync()
            .run(&a.settings, &http(), &waystation_core::CancelToken::never())
            .unwrap();
    assert!(r.complete && r.refused.is_empty(), "{r:?}");
    assert_eq!(r.documents_received, 1, "{r:?}");
    let shown = a.ws.reports().get(&id).unwrap();
    assert_eq!(shown.status, ReportStatus::Withdrawn);
    assert_eq!(shown.withdraw_reason.as_deref(), Some("duplicate"));
    assert_eq!(
        a.ws.reports().get(&kept).unwrap().status,
        ReportStatus::Submitted
    );
    let s = a.ws.sync().status().unwrap();
    assert_eq!(
        (
            s.pending_documents,
            s.refused_documents,
            s.last_error.clone()
        ),
        (0, 0, None),
        "{s:?}"
    );
    assert!(a.ws.sync().refusals().unwrap().is_empty());
    // Both phones agree, and the next sync has nothing to do.
    assert_eq!(
        a.ws.reports().get(&id).unwrap(),
        b.ws.reports().get(&id).unwrap()
    );
    assert_eq!(a.sync().documents_received, 0);
}

/// Issue 11 follow-up (finding 4): a device with more unsent photos than the server's quota of
/// photos no report links yet uploads them in batches with their reports, so the backlog
/// drains instead of answering `quota_photos` at every sync.
#[test]
fn a_backlog_of_more_photos_than_the_quota_arrives_over_a_few_syncs() {
    let net = Net::start_with(|c| ServerConfig {
        quotas: waystation_server::Quotas {
            unlinked_photos: Some(3),
            ..waystation_server::DEFAULT_QUOTAS
        },
        ..c
    });
    let token = net.user("rider-1", Role::Rider, &[]);
    let rider = fixed_device(&net, &token);
    let ids: Vec<String> = (0..8)
        .map(|q| report_with_photo(&rider.ws, "rider-1", 40 + q))
        .collect();
    assert_eq!(rider.ws.sync().status().unwrap().pending_photos, 8);
    let mut syncs = 0;
    while rider.ws.sync().status().unwrap().pending_documents > 0 {
        syncs += 1;
        assert!(syncs <= 3, "still pending after 3 syncs");
        if let Err(e) = rider.ws.sync().run(
            &rider.settings,
            &http(),
            &waystation_core::CancelToken::never(),
        ) {
            panic!("sync {syncs}: {e}");
        }
    }
    let s = rider.ws.sync().status().unwrap();
    assert_eq!((s.pending_documents, s.pending_photos), (0, 0), "{s:?}");
    assert_eq!(net.server_docs("report"), 8);
    assert_eq!(net.server_photos(), 8);
    // A follow-up role can read each report's photo: every one is linked.
    let staff_t = net.user("staff-1", Role::Station, &[YANTA]);
    let staff = fixed_device(&net, &staff_t);
    staff.sync();
    for id in &ids {
        let sha = staff.ws.reports().get(id).unwrap().photos[0].sha256.clone();
        staff
            .ws
            .reports()
            .fetch_photo(
                &staff.settings,
                &http(),
                &sha,
                &waystation_core::CancelToken::never(),
            )
            .unwrap();
    }
}
