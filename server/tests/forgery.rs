//! Hostile follow-up accounts against a real server on loopback, end to end (issue 11,
//! findings 2 and 4): a forged second value under an existing case event's id, a case
//! poisoned by a non-canonical genesis, and a document whose changes do not apply, sent
//! beside good ones. Real devices (waystation-core over a real SQLite file, syncing over
//! HTTP) play the honest accounts; the attackers build their documents with automerge, as a
//! modified app would.

mod common;

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{AutoCommit, ChangeHash, ObjType, ROOT, ReadDoc, ScalarValue};
use common::*;
use std::time::Duration;
use waystation_core::reports::case::integrity;
use waystation_core::reports::{CaseEventKind, CaseRole, CaseStatus};
use waystation_core::sync::protocol::SyncRequest;
use waystation_core::sync::{
    HttpHeader, HttpRequest, HttpResponse, HttpTransport, RetryPolicy, SyncReport, SyncSettings,
    TransportError,
};

/// Yanta, the district every test report is filed in.
const YANTA: &str = "610113";

/// The devices' HTTP transport: blocking reqwest over loopback (the server's tests build
/// waystation-core without its built-in transport).
struct Loopback(reqwest::blocking::Client);

impl HttpTransport for Loopback {
    fn send(
        &self,
        r: HttpRequest,
        _: &waystation_core::CancelToken,
    ) -> Result<HttpResponse, TransportError> {
        let method = reqwest::Method::from_bytes(r.method.as_bytes())
            .map_err(|e| TransportError::Other(e.to_string()))?;
        let mut req = self.0.request(method, &r.url);
        for h in &r.headers {
            req = req.header(&h.name, &h.value);
        }
        let resp = req
            .body(r.body)
            .send()
            .map_err(|e| TransportError::Connect(e.to_string()))?;
        let status = i32::from(resp.status().as_u16());
        let headers = (resp.headers().iter())
            .map(|(k, v)| HttpHeader::new(k.as_str(), v.to_str().unwrap_or("")))
            .collect();
        let body = resp
            .bytes()
            .map_err(|e| TransportError::Other(e.to_string()))?
            .to_vec();
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

/// A real device signed in to `server` as a new account.
struct Phone {
    f: Factory,
    api: Api,
    settings: SyncSettings,
}

impl Phone {
    fn new(server: &TestServer, user: &str, role: waystation_server::Role) -> Phone {
        let areas: &[&str] = if role == waystation_server::Role::Rider {
            &[]
        } else {
            &[YANTA]
        };
        let api = server.user(user, role, areas);
        let mut settings = SyncSettings::new(&server.url(), &api.token).expect("settings");
        settings.retry = RetryPolicy {
            attempts: 1,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(10),
        };
        Phone {
            f: Factory::new(),
            api,
            settings,
        }
    }

    fn try_sync(&self) -> waystation_core::Result<SyncReport> {
        self.f.ws.sync().run(
            &self.settings,
            &Loopback(http_client()),
            &waystation_core::CancelToken::never(),
        )
    }

    fn sync(&self) -> SyncReport {
        let r = self.try_sync().expect("sync succeeds");
        assert!(r.complete, "{r:?}");
        r
    }

    /// A submitted report in Yanta by this phone's user.
    fn report(&self, user: &str) -> String {
        let id = self.f.draft(user, "road.hazard");
        self.f
            .ws
            .reports()
            .update_draft(
                &id,
                &waystation_core::reports::ReportPatch {
                    district: Some(YANTA.into()),
                    ..Default::default()
                },
            )
            .expect("district set");
        self.f.submit(user, &id);
        id
    }

    fn case_doc(&self, report: &str) -> AutoCommit {
        self.f.doc(&format!("case:{report}"))
    }
}

/// The first change of a case document: its genesis.
fn genesis_of(doc: &mut AutoCommit) -> ChangeHash {
    doc.get_changes(&[])
        .into_iter()
        .find(|c| c.deps().is_empty())
        .expect("a first change")
        .hash()
}

/// Writes one event map under `id` in the document's events map, field by field, and commits.
fn put_event(doc: &mut AutoCommit, id: &str, fields: &[(&str, ScalarValue)]) {
    let (_, events) = doc.get(ROOT, "events").unwrap().expect("an events map");
    let obj = doc.put_object(&events, id, ObjType::Map).unwrap();
    for (k, v) in fields {
        doc.put(&obj, *k, v.clone()).unwrap();
    }
    doc.commit();
}

/// A supervisor's reject, as bytes an attacker would write.
fn forged_reject(at_ms: i64) -> Vec<(&'static str, ScalarValue)> {
    vec![
        ("kind", "reject".into()),
        ("actor", "sup-1".into()),
        ("role", "supervisor".into()),
        ("at", ScalarValue::Timestamp(at_ms)),
        ("reason", "不属实".into()),
    ]
}

#[test]
fn a_forged_value_under_an_existing_event_id_is_refused_and_every_device_keeps_the_true_status() {
    let server = TestServer::start();
    let rider = Phone::new(&server, "rider-1", waystation_server::Role::Rider);
    let staff = Phone::new(&server, "staff-1", waystation_server::Role::Station);
    let grid = Phone::new(&server, "grid-1", waystation_server::Role::Grid);
    let id = rider.report("rider-1");
    rider.sync();
    staff.sync();
    staff.f.case_event(
        &id,
        "staff-1",
        CaseRole::StationStaff,
        CaseEventKind::Acknowledge,
    );
    staff.sync();
    grid.sync();
    let truth = staff.f.ws.cases().get(&id).unwrap();
    assert_eq!(truth.status, CaseStatus::Acknowledged);
    assert_eq!(grid.f.ws.cases().get(&id).unwrap(), truth);
    let ack = truth.timeline[0].event.clone();
    let stored_heads = server_heads(&server.db, &format!("case:{id}"));

    // grid-1 branches the case from its genesis, before the acknowledgement, and writes
    // under the acknowledgement's id a reject "by" a supervisor, dated before it; its own
    // (tagged) actor, so only the conflict itself gives it away.
    let mut doc = grid.case_doc(&id);
    let genesis = genesis_of(&mut doc);
    let mut branch = doc.fork_at(&[genesis]).unwrap();
    branch.set_actor(integrity::writer_actor("grid-1"));
    put_event(
        &mut branch,
        &ack.id,
        &forged_reject(ack.at.timestamp_millis() - 60_000),
    );
    doc.merge(&mut branch).unwrap();

    // Through the attacker's own device: merged, then synced.
    let seen_by_attacker = grid.f.ws.cases().merge_from(&id, &doc.save()).unwrap();
    // The device is not fooled either: the disputed event is shown as neither value.
    assert_eq!(seen_by_attacker.status, CaseStatus::Open);
    assert_eq!(
        seen_by_attacker.disputed_events,
        std::slice::from_ref(&ack.id)
    );
    let r = grid.try_sync().expect("the sync itself succeeds");
    let refusal = r
        .refused
        .iter()
        .find(|x| x.doc_id == format!("case:{id}"))
        .unwrap_or_else(|| panic!("the forged case is refused: {r:?}"));
    assert!(
        refusal.reason.contains("conflicting values"),
        "{}",
        refusal.reason
    );
    assert_eq!(
        server_heads(&server.db, &format!("case:{id}")),
        stored_heads
    );

    // Straight to the server with a hand-written client too: refused, nothing stored.
    let mut shared = stored_heads.clone();
    shared.sort();
    let forged = grid
        .api
        .sync(&SyncRequest {
            cursor: 0,
            docs: vec![doc_message(
                &format!("case:{id}"),
                "case",
                encoded_since(&mut doc, &shared),
            )],
        })
        .unwrap();
    let why = forged.docs[0].refused.as_deref().expect("refused");
    assert!(why.contains("conflicting values"), "{why}");
    assert_eq!(
        server_heads(&server.db, &format!("case:{id}")),
        stored_heads
    );

    // Every honest device still shows the true status.
    for phone in [&rider, &staff] {
        phone.sync();
        let v = phone.f.ws.cases().get(&id).unwrap();
        assert_eq!(v.status, CaseStatus::Acknowledged);
        assert_eq!(v.timeline.len(), 1);
        assert_eq!(v.timeline[0].event, ack);
        assert!(v.disputed_events.is_empty());
    }
}

/// The poisoning of finding 4: an account creates a case first under the public genesis
/// actor with other content. It is refused; the honest device that wrote that case offline
/// syncs it and everything else.
#[test]
fn a_case_poisoned_by_another_genesis_is_refused_and_the_honest_device_syncs_everything() {
    let server = TestServer::start();
    let rider = Phone::new(&server, "rider-1", waystation_server::Role::Rider);
    let staff = Phone::new(&server, "staff-1", waystation_server::Role::Station);
    let grid = Phone::new(&server, "grid-1", waystation_server::Role::Grid);
    let first = rider.report("rider-1");
    let second = rider.report("rider-1");
    rider.sync();
    staff.sync();
    // Offline, staff-1 acknowledges both.
    for id in [&first, &second] {
        staff.f.case_event(
            id,
            "staff-1",
            CaseRole::StationStaff,
            CaseEventKind::Acknowledge,
        );
    }

    // grid-1 creates the first case under the genesis actor, with its own content.
    let report = waystation_core::reports::ReportId::parse(&first).unwrap();
    let mut poison = AutoCommit::new().with_actor(integrity::genesis_actor(&report));
    poison.put(ROOT, "schema", "waystation/case").unwrap();
    poison.put(ROOT, "report", first.as_str()).unwrap();
    poison.put_object(ROOT, "events", ObjType::Map).unwrap();
    poison.commit_with(CommitOptions::default().with_time(0).with_message("x"));
    let mut attacker = Device::new(grid.api.with_token(&grid.api.token));
    attacker.put(&format!("case:{first}"), "case", poison);
    let r = attacker.exchange(&[format!("case:{first}")]).unwrap();
    let why = r.docs[0]
        .refused
        .as_deref()
        .expect("the poisoned case is refused");
    assert!(why.contains("canonical genesis"), "{why}");
    assert_eq!(
        server.count("SELECT count(*) FROM docs WHERE kind = 'case'"),
        0
    );

    // The honest device syncs both cases, in one request, with no refusal.
    let r = staff.sync();
    assert!(r.refused.is_empty(), "{r:?}");
    assert_eq!(
        server.count("SELECT count(*) FROM docs WHERE kind = 'case'"),
        2
    );
    rider.sync();
    for id in [&first, &second] {
        assert_eq!(
            rider.f.ws.cases().get(id).unwrap().status,
            CaseStatus::Acknowledged
        );
    }
}

/// A document whose changes do not apply to the server's copy (here: a second change under an
/// (actor, sequence number) the server already holds) is refused alone; the other documents
/// of the same request are stored.
#[test]
fn a_document_that_does_not_apply_is_refused_alone_and_the_rest_of_the_request_is_stored() {
    let server = TestServer::start();
    let rider = Phone::new(&server, "rider-1", waystation_server::Role::Rider);
    let grid = Phone::new(&server, "grid-1", waystation_server::Role::Grid);
    let first = rider.report("rider-1");
    let second = rider.report("rider-1");
    rider.sync();
    grid.sync();
    grid.f
        .case_event(&first, "grid-1", CaseRole::GridWorker, CaseEventKind::Note);
    grid.sync();
    let first_id = format!("case:{first}");
    let stored = server_heads(&server.db, &first_id);

    // The same (actor, seq) as the stored note, with other content.
    let mut doc = grid.case_doc(&first);
    let note = doc
        .get_changes(&[])
        .into_iter()
        .find(|c| !c.deps().is_empty())
        .expect("the note's change");
    let genesis = genesis_of(&mut doc);
    let mut other = doc.fork_at(&[genesis]).unwrap();
    other.set_actor(note.actor_id().clone());
    put_event(
        &mut other,
        "01900000-0000-7000-8000-0000000000ff",
        &[
            ("kind", "note".into()),
            ("actor", "grid-1".into()),
            ("role", "grid_worker".into()),
            ("at", ScalarValue::Timestamp(noon().timestamp_millis())),
        ],
    );
    // And an honest second case in the same request.
    grid.f
        .case_event(&second, "grid-1", CaseRole::GridWorker, CaseEventKind::Note);
    let mut honest = grid.case_doc(&second);
    let second_id = format!("case:{second}");
    let response = grid
        .api
        .sync(&SyncRequest {
            cursor: 0,
            docs: vec![
                doc_message(&first_id, "case", encoded_since(&mut other, &[genesis])),
                doc_message(&second_id, "case", encoded_since(&mut honest, &[])),
            ],
        })
        .expect("a 200 answer, not a 400 for the whole request");
    let why = response.docs[0].refused.as_deref().expect("refused");
    assert!(why.contains("does not apply"), "{why}");
    assert_eq!(response.docs[1].refused, None);
    assert_eq!(server_heads(&server.db, &first_id), stored);
    let mut want = honest.get_heads();
    want.sort();
    assert_eq!(server_heads(&server.db, &second_id), want);
}

/// Issue 11, finding 5 (in part): a report or a case event carrying a top-level field the
/// format does not have is refused, the field named; the server stores nothing of it.
#[test]
fn unknown_fields_in_reports_and_case_events_are_refused_and_named() {
    let server = TestServer::start();
    let rider = Phone::new(&server, "rider-1", waystation_server::Role::Rider);
    let staff = Phone::new(&server, "staff-1", waystation_server::Role::Station);
    let id = rider.report("rider-1");
    let report_id = format!("report:{id}");
    let mut doc = rider.f.doc(&report_id);
    doc.put(ROOT, "rider_phone", "13800000000").unwrap();
    doc.commit();
    let mut hand = Device::new(rider.api.with_token(&rider.api.token));
    hand.put(&report_id, "report", doc);
    let r = hand.exchange(std::slice::from_ref(&report_id)).unwrap();
    let why = r.docs[0].refused.as_deref().expect("refused");
    assert!(why.contains("unknown field 'rider_phone'"), "{why}");
    assert!(
        !why.contains("13800000000"),
        "the value is not echoed: {why}"
    );
    assert_eq!(
        server.count("SELECT count(*) FROM docs WHERE kind = 'report'"),
        0
    );

    // The real report syncs; staff-1 acknowledges, with an extra field in the event.
    rider.sync();
    staff.sync();
    staff.f.case_event(
        &id,
        "staff-1",
        CaseRole::StationStaff,
        CaseEventKind::Acknowledge,
    );
    let case_id = format!("case:{id}");
    let mut case = staff.case_doc(&id);
    let (_, events) = case.get(ROOT, "events").unwrap().unwrap();
    let event_id = case.keys(&events).next().unwrap();
    let (_, event) = case.get(&events, event_id.as_str()).unwrap().unwrap();
    case.set_actor(integrity::writer_actor("staff-1"));
    case.put(&event, "priority", "urgent").unwrap();
    case.commit();
    let mut hand = Device::new(staff.api.with_token(&staff.api.token));
    hand.put(&case_id, "case", case);
    let r = hand.exchange(std::slice::from_ref(&case_id)).unwrap();
    let why = r.docs[0].refused.as_deref().expect("refused");
    assert!(why.contains("'priority'"), "{why}");
    assert_eq!(
        server.count("SELECT count(*) FROM docs WHERE kind = 'case'"),
        0
    );
}

/// Many messages, each within the per-message bounds, must not add up to a document that
/// every device inflates past the whole-document bound. A station account (a modified app,
/// under its own tagged actors) adds 500 well-formed notes of 2,000 characters a sync: 1 MB
/// inflated each time (within the 2 MiB message bound), a few KB deflated. Once the case would pass
/// `MAX_INFLATED_DOCUMENT_BYTES` (16 MiB) it is refused, for that case alone, and the stored
/// case stays within the bound (issue 11, finding 5: sizes measured after decompression).
#[test]
fn a_case_grown_past_the_inflated_document_bound_over_many_syncs_is_refused() {
    use waystation_core::sync::bounds::{MessageBounds, check_chunks};
    use waystation_core::sync::policy::{MAX_INFLATED_DOCUMENT_BYTES, MAX_OPS_PER_DOCUMENT};

    let server = TestServer::start();
    let rider = Phone::new(&server, "rider-1", waystation_server::Role::Rider);
    let report = rider.report("rider-1");
    rider.sync();
    let staff = Phone::new(&server, "staff-1", waystation_server::Role::Station);
    staff.sync();
    let note = "x".repeat(waystation_core::reports::case::MAX_NOTE_CHARS);
    staff
        .f
        .ws
        .cases()
        .record(
            &report,
            "staff-1",
            CaseRole::StationStaff,
            CaseEventKind::Note,
            &note,
        )
        .expect("note recorded");
    staff.sync();
    // The one honest note's fields, as the device wrote them.
    let doc = staff.case_doc(&report);
    let (_, events) = doc.get(ROOT, "events").unwrap().expect("an events map");
    let first = doc.keys(&events).next().expect("one event");
    let (_, event) = doc.get(&events, &first).unwrap().expect("the event");
    let fields: Vec<(String, ScalarValue)> = doc
        .keys(&event)
        .map(|k| {
            let (value, _) = doc.get(&event, &k).unwrap().expect("a field");
            (k, value.into_scalar().expect("a scalar field"))
        })
        .collect();
    let case_id = format!("case:{report}");
    let mut refused_at = None;
    for round in 0..24u32 {
        let mut doc = staff.case_doc(&report);
        doc.set_actor(integrity::writer_actor("staff-1"));
        for i in 0..500u32 {
            let id = format!("{round:08x}-0000-4000-8000-{i:012x}");
            let borrowed: Vec<(&str, ScalarValue)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.clone()))
                .collect();
            let (_, events) = doc.get(ROOT, "events").unwrap().expect("an events map");
            let obj = doc.put_object(&events, id.as_str(), ObjType::Map).unwrap();
            for (k, v) in borrowed {
                doc.put(&obj, k, v).unwrap();
            }
        }
        doc.commit();
        staff
            .f
            .ws
            .cases()
            .merge_from(&report, &doc.save())
            .expect("merged on the device");
        let r = staff.try_sync().expect("the sync itself succeeds");
        if let Some(refusal) = r.refused.iter().find(|x| x.doc_id == case_id) {
            assert!(refusal.reason.contains("too large"), "{}", refusal.reason);
            refused_at = Some(round);
            break;
        }
    }
    let round = refused_at.expect("the case was refused before 24 rounds (24 MB)");
    assert!(round >= 12, "refused at round {round}: the bound is 16 MiB");
    let stored = server_bytes(
        &server.db,
        "SELECT snapshot FROM docs WHERE doc_id = ?1",
        &case_id,
    )
    .expect("the case is stored");
    let whole = MessageBounds {
        max_inflated_bytes: MAX_INFLATED_DOCUMENT_BYTES,
        max_ops: MAX_OPS_PER_DOCUMENT,
    };
    check_chunks(&stored, &whole).expect("the stored snapshot is within the whole-document bound");
}
