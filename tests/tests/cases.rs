//! End-to-end tests of case follow-up and nearby duplicates through the public API, on real
//! SQLite data directories with a fixed clock: every role rule, events on unknown and draft
//! reports, the status fold and its Open311 mapping, convergence of concurrent conflicting
//! events made offline on two devices (merged in both orders), and duplicate suggestions.

use chrono::Duration;
use std::path::Path;
use std::sync::Arc;

use waystation_core::reports::{
    CaseEventKind, CaseRole, CaseStatus, CaseView, DuplicateRules, Open311Status,
};
use waystation_core::{CancelToken, Clock, Error, FixedClock, Waystation};
use waystation_tests::reports::{self, draft_at, invalid, noon, not_found, open_at};

const BELL_TOWER: (f64, f64) = (34.25953, 108.94235);
/// About one metre of latitude, in degrees.
const M: f64 = 1.0 / 111_000.0;

/// A submitted report of `category` by rider-1 at (`lat`, `lon`).
fn submitted_at(ws: &Waystation, category: &str, lat: f64, lon: f64) -> String {
    reports::submitted_at(ws, "rider-1", category, lat, lon)
}

fn submitted(ws: &Waystation, category: &str) -> String {
    submitted_at(ws, category, BELL_TOWER.0, BELL_TOWER.1)
}

fn event(
    ws: &Waystation,
    id: &str,
    role: CaseRole,
    kind: CaseEventKind,
) -> Result<CaseView, Error> {
    ws.cases().record(id, "user-1", role, kind, "")
}

fn dispatch(g: &str) -> CaseEventKind {
    CaseEventKind::Dispatch { grid_id: g.into() }
}

fn reject(r: &str) -> CaseEventKind {
    CaseEventKind::Reject { reason: r.into() }
}

/// Every kind of event, with the report a duplicate would point at.
fn all_kinds(other: &str) -> Vec<CaseEventKind> {
    vec![
        CaseEventKind::Acknowledge,
        CaseEventKind::Note,
        CaseEventKind::RequestInfo,
        dispatch("grid-610103-01"),
        CaseEventKind::MarkDuplicate {
            of: waystation_core::reports::ReportId::parse(other)
                .unwrap()
                .to_string(),
        },
        CaseEventKind::Resolve,
        reject("not a food business"),
        CaseEventKind::Reopen,
    ]
}

/// The role table of docs/formats/case-status.md, written out independently of the code.
fn expected_allowed(role: CaseRole, kind: &str, station_category: bool) -> bool {
    match role {
        CaseRole::Rider => false,
        CaseRole::Supervisor => true,
        CaseRole::StationStaff => match kind {
            "acknowledge" | "note" | "request_info" | "dispatch" => true,
            "resolve" | "reopen" => station_category,
            _ => false,
        },
        CaseRole::GridWorker => kind != "dispatch",
    }
}

#[test]
fn every_role_rule_is_enforced_for_every_event() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, _) = open_at(dir.path(), noon());
    let other = submitted(&ws, "road.hazard");
    let mut checked = 0;
    for category in ["road.hazard", "station.charger_broken"] {
        for role in CaseRole::ALL {
            for kind in all_kinds(&other) {
                let id = submitted(&ws, category);
                if kind == CaseEventKind::Reopen {
                    // Reopening needs a closed case.
                    event(&ws, &id, CaseRole::Supervisor, CaseEventKind::Resolve).unwrap();
                }
                let before = ws.cases().get(&id).unwrap();
                let name = kind.name();
                let result = event(&ws, &id, role, kind);
                let want = expected_allowed(role, name, category.starts_with("station."));
                match result {
                    Ok(view) => {
                        assert!(want, "{role} {name} on {category} was accepted");
                        assert_eq!(view.timeline.len(), before.timeline.len() + 1);
                        assert!(view.timeline.iter().all(|t| t.applied));
                        assert_eq!(view.timeline.last().unwrap().event.role, role);
                    }
                    Err(Error::InvalidInput(msg)) => {
                        assert!(!want, "{role} {name} on {category} was refused: {msg}");
                        if role == CaseRole::Rider {
                            assert!(msg.contains("riders cannot write case events"), "{msg}");
                        } else {
                            assert!(msg.contains("may not"), "{msg}");
                        }
                        assert_eq!(
                            ws.cases().get(&id).unwrap(),
                            before,
                            "a refusal stores nothing"
                        );
                    }
                    Err(e) => panic!("{role} {name}: unexpected {e}"),
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 2 * 4 * 8);
}

#[test]
fn events_on_unknown_draft_and_bad_input_are_refused_and_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, _) = open_at(dir.path(), noon());
    let unknown = "01900000-0000-7000-8000-00000000abcd";
    not_found(event(
        &ws,
        unknown,
        CaseRole::Supervisor,
        CaseEventKind::Note,
    ));
    not_found(ws.cases().get(unknown));
    not_found(ws.cases().document_bytes(unknown));
    invalid(
        event(&ws, "nope", CaseRole::Supervisor, CaseEventKind::Note),
        "not a report id",
    );

    let draft = draft_at(&ws, "rider-1", "road.hazard", BELL_TOWER.0, BELL_TOWER.1);
    invalid(
        event(
            &ws,
            &draft,
            CaseRole::Supervisor,
            CaseEventKind::Acknowledge,
        ),
        "draft",
    );
    invalid(ws.cases().get(&draft), "draft");

    let id = submitted(&ws, "road.hazard");
    let sup = CaseRole::Supervisor;
    not_found(event(
        &ws,
        &id,
        sup,
        CaseEventKind::MarkDuplicate {
            of: waystation_core::reports::ReportId::parse(unknown)
                .unwrap()
                .to_string(),
        },
    ));
    invalid(
        event(
            &ws,
            &id,
            sup,
            CaseEventKind::MarkDuplicate {
                of: waystation_core::reports::ReportId::parse(&id)
                    .unwrap()
                    .to_string(),
            },
        ),
        "itself",
    );
    invalid(event(&ws, &id, sup, reject("  ")), "needs a reason");
    invalid(event(&ws, &id, sup, dispatch("")), "grid id");
    invalid(
        ws.cases().record(&id, "", sup, CaseEventKind::Note, ""),
        "author is empty",
    );
    invalid(
        ws.cases()
            .record(&id, "u", sup, CaseEventKind::Note, &"长".repeat(2001)),
        "note is 2001 characters",
    );
    // A state the case is not in: nothing to reopen, nothing to resolve twice.
    invalid(event(&ws, &id, sup, CaseEventKind::Reopen), "not closed");
    let view = ws.cases().get(&id).unwrap();
    assert_eq!(view.status, CaseStatus::Open);
    assert!(view.timeline.is_empty());
    event(&ws, &id, sup, CaseEventKind::Resolve).unwrap();
    invalid(
        event(&ws, &id, sup, CaseEventKind::Resolve),
        "already resolved",
    );
    assert_eq!(ws.cases().get(&id).unwrap().timeline.len(), 1);
}

#[test]
fn status_follows_the_fold_and_maps_to_open311_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, clock) = open_at(dir.path(), noon());
    let id = submitted(&ws, "food.seal");
    let other = submitted(&ws, "food.seal");
    let step = |role, kind, note: &str| {
        clock.set(clock.now() + Duration::minutes(1));
        ws.cases().record(&id, "user-1", role, kind, note).unwrap()
    };
    let fresh = ws.cases().get(&id).unwrap();
    assert_eq!(
        (fresh.status, fresh.open311_status),
        (CaseStatus::Open, Open311Status::Open)
    );
    assert_eq!(fresh.updated_at, None);

    let v = step(CaseRole::StationStaff, CaseEventKind::Acknowledge, "");
    assert_eq!(
        (v.status, v.open311_status),
        (CaseStatus::Acknowledged, Open311Status::Open)
    );
    let v = step(CaseRole::StationStaff, dispatch("grid-610103-01"), "");
    assert_eq!(v.status, CaseStatus::InProgress);
    assert_eq!(v.grid_id.as_deref(), Some("grid-610103-01"));
    assert!(
        v.status_notes.contains("grid-610103-01"),
        "{}",
        v.status_notes
    );
    assert_eq!(v.open311_status, Open311Status::Open);
    let v = step(CaseRole::GridWorker, CaseEventKind::Note, "到店核查");
    assert_eq!(v.status, CaseStatus::InProgress, "a note changes nothing");
    let v = step(CaseRole::GridWorker, CaseEventKind::Resolve, "商家已整改");
    assert_eq!(
        (v.status, v.open311_status),
        (CaseStatus::Resolved, Open311Status::Closed)
    );
    assert!(v.status_notes.contains("resolved"), "{}", v.status_notes);
    assert!(v.status_notes.contains("商家已整改"), "{}", v.status_notes);

    let v = step(CaseRole::Supervisor, CaseEventKind::Reopen, "复查未整改");
    assert_eq!(
        (v.status, v.open311_status),
        (CaseStatus::Open, Open311Status::Open)
    );
    let v = step(CaseRole::GridWorker, reject("商家持有有效许可证"), "");
    assert_eq!(
        (v.status, v.open311_status),
        (CaseStatus::Rejected, Open311Status::Closed)
    );
    assert!(
        v.status_notes.contains("rejected") && v.status_notes.contains("商家持有有效许可证"),
        "closed must say why: {}",
        v.status_notes
    );
    step(CaseRole::Supervisor, CaseEventKind::Reopen, "");
    let of = waystation_core::reports::ReportId::parse(&other).unwrap();
    let v = step(
        CaseRole::Supervisor,
        CaseEventKind::MarkDuplicate { of: of.to_string() },
        "",
    );
    assert_eq!(
        (v.status, v.open311_status),
        (CaseStatus::Duplicate, Open311Status::Closed)
    );
    assert_eq!(v.duplicate_of, Some(of));
    assert!(v.status_notes.contains(&other), "{}", v.status_notes);

    // Every event is in the timeline, in order, with actor, role, time and note.
    assert_eq!(v.timeline.len(), 8);
    assert!(v.timeline.iter().all(|t| t.applied));
    assert!(v.timeline.windows(2).all(|w| w[0].event.at < w[1].event.at));
    assert_eq!(v.updated_at, Some(clock.now()));
    let note = &v.timeline[2].event;
    assert_eq!(
        (note.actor.as_str(), note.role, note.note.as_deref()),
        ("user-1", CaseRole::GridWorker, Some("到店核查"))
    );
    let ids: std::collections::HashSet<_> = v.timeline.iter().map(|t| &t.event.id).collect();
    assert_eq!(ids.len(), 8, "event ids are unique");

    // Durable: the same case after reopening the data directory.
    drop(ws);
    let (ws, _) = open_at(dir.path(), clock.now());
    assert_eq!(ws.cases().get(&id).unwrap(), v);
}

/// Device A holds a submitted report; device B is a copy of A's data directory (the report
/// reached both), then both work offline.
fn two_devices(
    root: &Path,
    category: &str,
) -> (
    String,
    Waystation,
    Waystation,
    Arc<FixedClock>,
    Arc<FixedClock>,
) {
    let (a_dir, b_dir) = (root.join("a"), root.join("b"));
    let id = {
        let (a, _) = open_at(&a_dir, noon());
        submitted(&a, category)
    };
    std::fs::create_dir_all(&b_dir).unwrap();
    for entry in std::fs::read_dir(&a_dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), b_dir.join(entry.file_name())).unwrap();
        }
    }
    let (a, ca) = open_at(&a_dir, noon());
    let (b, cb) = open_at(&b_dir, noon());
    (id, a, b, ca, cb)
}

#[test]
fn concurrent_resolve_and_reject_converge_in_both_merge_orders_and_the_first_close_wins() {
    let root = tempfile::tempdir().unwrap();
    let (id, a, b, ca, cb) = two_devices(root.path(), "road.hazard");
    // Offline: a supervisor resolves at 12:10 on A, a grid worker rejects at 12:20 on B.
    ca.set(noon() + Duration::minutes(10));
    a.cases()
        .record(
            &id,
            "sup-1",
            CaseRole::Supervisor,
            CaseEventKind::Resolve,
            "已修复",
        )
        .unwrap();
    cb.set(noon() + Duration::minutes(20));
    b.cases()
        .record(&id, "grid-7", CaseRole::GridWorker, reject("不属实"), "")
        .unwrap();

    let a_bytes = a.cases().document_bytes(&id).unwrap();
    let b_bytes = b.cases().document_bytes(&id).unwrap();
    let on_a = a.cases().merge_from(&id, &b_bytes).unwrap();
    let on_b = b.cases().merge_from(&id, &a_bytes).unwrap();
    assert_eq!(on_a, on_b, "both orders give the same status and timeline");
    assert_eq!(on_a, a.cases().get(&id).unwrap());
    assert_eq!(on_a.status, CaseStatus::Resolved, "the earlier close wins");
    assert_eq!(on_a.open311_status, Open311Status::Closed);
    // No event is lost: the later reject is shown, not applied, with why.
    assert_eq!(on_a.timeline.len(), 2);
    let (first, second) = (&on_a.timeline[0], &on_a.timeline[1]);
    assert_eq!(first.event.kind, CaseEventKind::Resolve);
    assert!(first.applied);
    assert_eq!(second.event.kind, reject("不属实"));
    assert_eq!(second.event.actor, "grid-7");
    assert!(!second.applied);
    assert!(
        second
            .not_applied_because
            .as_deref()
            .unwrap()
            .contains("already resolved")
    );

    // Merging again is idempotent, and survives reopening the data directory.
    assert_eq!(a.cases().merge_from(&id, &b_bytes).unwrap(), on_a);
    drop(a);
    let (a, _) = open_at(&root.path().join("a"), noon() + Duration::hours(1));
    assert_eq!(a.cases().get(&id).unwrap(), on_a);
}

#[test]
fn when_the_reject_comes_first_it_wins_on_both_devices() {
    let root = tempfile::tempdir().unwrap();
    let (id, a, b, ca, cb) = two_devices(root.path(), "road.hazard");
    ca.set(noon() + Duration::minutes(30));
    a.cases()
        .record(
            &id,
            "sup-1",
            CaseRole::Supervisor,
            CaseEventKind::Resolve,
            "",
        )
        .unwrap();
    cb.set(noon() + Duration::minutes(5));
    b.cases()
        .record(
            &id,
            "grid-7",
            CaseRole::GridWorker,
            CaseEventKind::Acknowledge,
            "",
        )
        .unwrap();
    cb.set(noon() + Duration::minutes(6));
    b.cases()
        .record(&id, "grid-7", CaseRole::GridWorker, reject("重复上报"), "")
        .unwrap();
    let a_bytes = a.cases().document_bytes(&id).unwrap();
    let b_bytes = b.cases().document_bytes(&id).unwrap();
    let on_b = b.cases().merge_from(&id, &a_bytes).unwrap();
    let on_a = a.cases().merge_from(&id, &b_bytes).unwrap();
    assert_eq!(on_a, on_b);
    assert_eq!(on_a.status, CaseStatus::Rejected);
    assert!(
        on_a.status_notes.contains("重复上报"),
        "{}",
        on_a.status_notes
    );
    let applied: Vec<bool> = on_a.timeline.iter().map(|t| t.applied).collect();
    assert_eq!(applied, [true, true, false]);
}

#[test]
fn an_event_made_after_seeing_another_sorts_after_it_even_with_a_clock_behind() {
    let root = tempfile::tempdir().unwrap();
    let (id, a, b, ca, cb) = two_devices(root.path(), "station.charger_broken");
    ca.set(noon() + Duration::minutes(20));
    a.cases()
        .record(
            &id,
            "sup-1",
            CaseRole::Supervisor,
            CaseEventKind::Resolve,
            "",
        )
        .unwrap();
    b.cases()
        .merge_from(&id, &a.cases().document_bytes(&id).unwrap())
        .unwrap();
    // B's clock is 15 minutes behind A's, but B reopens what it has seen resolved.
    cb.set(noon() + Duration::minutes(5));
    let v = b
        .cases()
        .record(
            &id,
            "staff-2",
            CaseRole::StationStaff,
            CaseEventKind::Reopen,
            "",
        )
        .unwrap();
    assert_eq!(v.status, CaseStatus::Open);
    assert!(v.timeline.iter().all(|t| t.applied));
    assert!(v.timeline[1].event.at > v.timeline[0].event.at);
    let on_a = a
        .cases()
        .merge_from(&id, &b.cases().document_bytes(&id).unwrap())
        .unwrap();
    assert_eq!(on_a, v);
}

#[test]
fn merge_refuses_foreign_bytes_and_changes_nothing() {
    let root = tempfile::tempdir().unwrap();
    let (id, a, _b, _, _) = two_devices(root.path(), "road.hazard");
    let other = submitted(&a, "road.hazard");
    a.cases()
        .record(&id, "sup-1", CaseRole::Supervisor, CaseEventKind::Note, "x")
        .unwrap();
    let before = a.cases().get(&id).unwrap();
    invalid(
        a.cases().merge_from(&id, b"not automerge"),
        "not an Automerge",
    );
    let other_case = a.cases().document_bytes(&other).unwrap();
    invalid(a.cases().merge_from(&id, &other_case), "another report");
    assert_eq!(a.cases().get(&id).unwrap(), before);
}

#[test]
fn duplicates_are_same_category_within_radius_and_window_nearest_first() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, clock) = open_at(dir.path(), noon() - Duration::days(10));
    let (lat, lon) = BELL_TOWER;
    // Ten days ago, 10 m away: outside the default window.
    let old = submitted_at(&ws, "road.hazard", lat + 10.0 * M, lon);
    clock.set(noon() - Duration::days(2));
    let near_30 = submitted_at(&ws, "road.hazard", lat + 30.0 * M, lon);
    let near_10 = submitted_at(&ws, "road.hazard", lat - 10.0 * M, lon);
    let far_80 = submitted_at(&ws, "road.hazard", lat + 80.0 * M, lon);
    let other_category = submitted_at(&ws, "road.junction", lat + 5.0 * M, lon);
    let withdrawn = submitted_at(&ws, "road.hazard", lat + 5.0 * M, lon);
    ws.reports()
        .withdraw("rider-1", &withdrawn, "误报")
        .unwrap();
    let other_draft = draft_at(&ws, "rider-2", "road.hazard", lat + 5.0 * M, lon);
    // Someone else's report, on this device after sync, counts like one's own.
    clock.set(noon());
    let mine = draft_at(&ws, "rider-2", "road.hazard", lat, lon);

    let ids = |rules: &DuplicateRules| -> Vec<(String, f64)> {
        ws.reports()
            .nearby_duplicates(&mine, rules)
            .unwrap()
            .into_iter()
            .map(|c| (c.report.id.to_string(), c.distance_m))
            .collect()
    };
    let hits = ids(&DuplicateRules::default());
    let got: Vec<&str> = hits.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(got, [near_10.as_str(), near_30.as_str()]);
    assert!((hits[0].1 - 10.0).abs() < 0.5, "{}", hits[0].1);
    assert!((hits[1].1 - 30.0).abs() < 0.5, "{}", hits[1].1);
    for excluded in [&old, &far_80, &other_category, &withdrawn, &other_draft] {
        assert!(!got.contains(&excluded.as_str()));
    }

    // Both limits are configurable.
    let wide = ids(&DuplicateRules {
        radius_m: 100.0,
        max_age_days: 30,
    });
    let got: Vec<&str> = wide.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        got,
        [
            near_10.as_str(),
            old.as_str(),
            near_30.as_str(),
            far_80.as_str()
        ]
    );
    assert!(
        ids(&DuplicateRules {
            radius_m: 5.0,
            max_age_days: 7
        })
        .is_empty()
    );
    assert!(
        ids(&DuplicateRules {
            radius_m: 50.0,
            max_age_days: 1
        })
        .is_empty()
    );

    // Works for a submitted report too, never listing itself, and shows the case status.
    event(&ws, &near_30, CaseRole::Supervisor, CaseEventKind::Resolve).unwrap();
    let from_submitted = ws
        .reports()
        .nearby_duplicates(&near_10, &DuplicateRules::default())
        .unwrap();
    assert_eq!(from_submitted.len(), 1);
    assert_eq!(from_submitted[0].report.id.as_str(), near_30);
    assert_eq!(from_submitted[0].case_status, CaseStatus::Resolved);
    assert!((from_submitted[0].distance_m - 40.0).abs() < 0.5);
}

#[test]
fn duplicate_rules_and_reports_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, _) = open_at(dir.path(), noon());
    let id = submitted(&ws, "road.hazard");
    for radius_m in [f64::NAN, -1.0, f64::INFINITY] {
        invalid(
            ws.reports().nearby_duplicates(
                &id,
                &DuplicateRules {
                    radius_m,
                    max_age_days: 7,
                },
            ),
            "radius",
        );
    }
    invalid(
        ws.reports().nearby_duplicates(
            &id,
            &DuplicateRules {
                radius_m: 50.0,
                max_age_days: 100_000,
            },
        ),
        "window",
    );
    not_found(ws.reports().nearby_duplicates(
        "01900000-0000-7000-8000-00000000abcd",
        &DuplicateRules::default(),
    ));
    let no_position = ws.reports().create_draft("rider-1", "road.hazard").unwrap();
    invalid(
        ws.reports()
            .nearby_duplicates(no_position.as_str(), &DuplicateRules::default()),
        "no position",
    );
    assert!(
        ws.reports()
            .nearby_duplicates(&id, &DuplicateRules::default())
            .unwrap()
            .is_empty()
    );
}

/// Issue 11, finding 15a: the core checks the writer of a case event against the account the
/// device learned from its server (`GET /v1/me`, at the end of a sync), not the role its
/// caller claims. Before the device has learned it, the claim stands and the server judges.
#[test]
fn a_device_refuses_locally_the_case_events_its_account_may_not_write() {
    use waystation_core::sync::{ReqwestTransport, SyncSettings};
    use waystation_server::{Role, ServerConfig};

    let root = tempfile::tempdir().unwrap();
    let server_clock = Arc::new(FixedClock::new(noon()));
    let db = root.path().join("server.sqlite3");
    let server = waystation_server::spawn_config_on_thread(ServerConfig {
        clock: server_clock,
        ..ServerConfig::new(&db, "127.0.0.1:0".parse().unwrap())
    })
    .unwrap();
    let admin = waystation_server::Admin::open(&db)
        .unwrap()
        .with_clock(Arc::new(FixedClock::new(noon())));
    let token = |user: &str, role: Role, areas: &[&str]| {
        let areas: Vec<String> = areas.iter().map(|s| s.to_string()).collect();
        admin
            .add_user(user, role, &areas, Duration::days(30))
            .unwrap()
    };
    let district = waystation_tests::reports::DISTRICT;
    let rider_t = token("rider-1", Role::Rider, &[]);
    let staff_t = token("staff-1", Role::Station, &[district]);
    let elsewhere_t = token("staff-2", Role::Station, &["610113"]);
    let http = ReqwestTransport::new(None).unwrap();
    let device = |name: &str, token: &str| {
        let (ws, _) = open_at(&root.path().join(name), noon());
        let settings = SyncSettings::new(&server.url(), token).unwrap();
        (ws, settings)
    };
    let sync = |ws: &Waystation, settings: &SyncSettings| {
        let r = ws
            .sync()
            .run(settings, &http, &CancelToken::never())
            .unwrap();
        assert!(r.complete && r.refused.is_empty(), "{r:?}");
    };

    // The rider files a report and syncs: the device now knows it is a rider's.
    let (rider, rider_s) = device("rider", &rider_t);
    assert_eq!(rider.sync().account().unwrap(), None);
    let id = submitted(&rider, "road.hazard");
    sync(&rider, &rider_s);
    let known = rider
        .sync()
        .account()
        .unwrap()
        .expect("learned at the sync");
    assert_eq!((known.user.as_str(), known.role), ("rider-1", Role::Rider));
    // Claiming to be station staff is refused locally, with nothing stored.
    invalid(
        rider.cases().record(
            &id,
            "rider-1",
            CaseRole::StationStaff,
            CaseEventKind::Acknowledge,
            "",
        ),
        "is a rider on the server",
    );
    assert!(rider.cases().get(&id).unwrap().timeline.is_empty());
    assert_eq!(rider.sync().status().unwrap().pending_documents, 0);

    // Station staff of the report's district: its own role in its own name only.
    let (staff, staff_s) = device("staff", &staff_t);
    sync(&staff, &staff_s);
    invalid(
        staff
            .cases()
            .record(&id, "staff-1", CaseRole::Supervisor, reject("x"), ""),
        "is a station_staff on the server, not a supervisor",
    );
    invalid(
        staff.cases().record(
            &id,
            "sup-1",
            CaseRole::StationStaff,
            CaseEventKind::Acknowledge,
            "",
        ),
        "not the account this device syncs as",
    );
    let v = staff
        .cases()
        .record(
            &id,
            "staff-1",
            CaseRole::StationStaff,
            CaseEventKind::Acknowledge,
            "",
        )
        .unwrap();
    assert_eq!(v.status, CaseStatus::Acknowledged);
    sync(&staff, &staff_s);

    // Staff of another district, with a report of this district on its device (filed there):
    // refused locally, as the server would.
    let (other, other_s) = device("other", &elsewhere_t);
    sync(&other, &other_s);
    let here = submitted(&other, "road.hazard");
    invalid(
        other.cases().record(
            &here,
            "staff-2",
            CaseRole::StationStaff,
            CaseEventKind::Acknowledge,
            "",
        ),
        "outside the districts",
    );

    // A device that never synced believes its caller; the server judges at the first sync.
    let (fresh, fresh_s) = device("fresh", &rider_t);
    let own = submitted(&fresh, "road.hazard");
    fresh
        .cases()
        .record(
            &own,
            "rider-1",
            CaseRole::Supervisor,
            CaseEventKind::Note,
            "",
        )
        .unwrap();
    let r = fresh
        .sync()
        .run(&fresh_s, &http, &CancelToken::never())
        .unwrap();
    assert_eq!(r.refused.len(), 1, "{r:?}");
    assert!(
        r.refused[0].reason.contains("cannot write case events"),
        "{r:?}"
    );
    invalid(
        fresh.cases().record(
            &own,
            "rider-1",
            CaseRole::Supervisor,
            CaseEventKind::Note,
            "",
        ),
        "is a rider on the server",
    );
}

#[test]
fn an_inspection_note_names_stripped_photos_that_travel_with_the_case() {
    let root = tempfile::tempdir().unwrap();
    let (id, ws, other, _, _) = two_devices(root.path(), "food.unlicensed");
    let photo = ws
        .cases()
        .store_photo(&waystation_tests::jpeg_with_metadata(1))
        .unwrap();
    // Stored like a report photo: the metadata (EXIF GPS and all) is gone.
    let stored = std::fs::read(ws.reports().photo_path(&photo.sha256).unwrap()).unwrap();
    assert!(
        !stored
            .windows(waystation_tests::SECRET.len())
            .any(|w| w == waystation_tests::SECRET)
    );
    let shas = vec![photo.sha256.clone()];
    let case = ws
        .cases()
        .record_with_photos(
            &id,
            "sup-1",
            CaseRole::Supervisor,
            CaseEventKind::Note,
            "后厨无证，见照片",
            &shas,
        )
        .unwrap();
    assert_eq!(case.timeline[0].event.photos, shas);

    // Refused, with nothing stored: photos on an acknowledge, too many, not a SHA-256, one
    // this device does not hold.
    let cases = ws.cases();
    let with = |kind, photos: &[String]| {
        cases.record_with_photos(&id, "sup-1", CaseRole::Supervisor, kind, "", photos)
    };
    invalid(
        with(CaseEventKind::Acknowledge, &shas),
        "cannot carry photos",
    );
    let five = vec![shas[0].clone(); 5];
    invalid(with(CaseEventKind::Note, &five), "at most 4");
    invalid(with(CaseEventKind::Note, &["abc".to_string()]), "SHA-256");
    let unheld = with(CaseEventKind::Note, &["ab".repeat(32)]);
    assert!(matches!(unheld, Err(Error::NotFound(m)) if m.contains("no stored photo")));
    assert_eq!(ws.cases().get(&id).unwrap().timeline.len(), 1);

    // Another device that merges the case sees the photo named (it fetches it on demand).
    let bytes = ws.cases().document_bytes(&id).unwrap();
    let merged = other.cases().merge_from(&id, &bytes).unwrap();
    assert_eq!(merged.timeline[0].event.photos, shas);
    let unfetched = other.reports().photo_path(&shas[0]);
    assert!(matches!(unfetched, Err(Error::NotFound(m)) if m.contains("no stored photo")));
}

/// The whole chain over a real server: a supervisor, offline, stores a photo with metadata
/// and names it in an inspection note; the status says it waits; one sync uploads it before
/// the case; the station account's device receives the case and fetches the photo on demand,
/// stripped, byte for byte what the supervisor's device holds.
#[test]
fn a_supervisors_inspection_photo_reaches_a_station_accounts_device() {
    use waystation_core::Options;
    use waystation_core::sync::{ReqwestTransport, SyncSettings};
    use waystation_server::Role;
    use waystation_tests::net::Net;

    struct Device {
        _dir: tempfile::TempDir,
        ws: Waystation,
        settings: SyncSettings,
    }
    let device = |net: &Net, token: &str| {
        let dir = tempfile::tempdir().unwrap();
        let ws = Waystation::open(dir.path(), Options::default()).unwrap();
        Device {
            _dir: dir,
            ws,
            settings: net.settings(token),
        }
    };
    let http = || ReqwestTransport::new(None).unwrap();
    let sync = |d: &Device| {
        let r =
            d.ws.sync()
                .run(&d.settings, &http(), &CancelToken::never())
                .unwrap();
        assert!(r.complete, "{r:?}");
        r
    };
    let net = Net::start();
    let district = reports::DISTRICT;
    let rider = device(&net, &net.user("rider-1", Role::Rider, &[]));
    let sup = device(&net, &net.user("sup-1", Role::Supervisor, &[district]));
    let staff = device(&net, &net.user("staff-1", Role::Station, &[district]));

    let id = submitted(&rider.ws, "food.unlicensed");
    sync(&rider);
    assert_eq!(sync(&sup).documents_received, 1);

    // Offline: the supervisor inspects, with a photo.
    let photo = sup
        .ws
        .cases()
        .store_photo(&waystation_tests::jpeg_with_metadata(7))
        .unwrap();
    let shas = vec![photo.sha256.clone()];
    sup.ws
        .cases()
        .record_with_photos(
            &id,
            "sup-1",
            CaseRole::Supervisor,
            CaseEventKind::Note,
            "现场检查：后厨无证经营",
            &shas,
        )
        .unwrap();
    let waiting = sup.ws.sync().status().unwrap();
    assert_eq!((waiting.pending_documents, waiting.pending_photos), (1, 1));
    let sent = sync(&sup);
    assert_eq!(
        (sent.documents_sent, sent.photos_uploaded),
        (1, 1),
        "{sent:?}"
    );
    assert_eq!(sup.ws.sync().status().unwrap().pending_photos, 0);

    // The station account's device gets the report and its case, then the photo on demand.
    sync(&staff);
    let case = staff.ws.cases().get(&id).unwrap();
    assert_eq!(case.timeline[0].event.photos, shas);
    let path = staff
        .ws
        .reports()
        .fetch_photo(&staff.settings, &http(), &shas[0], &CancelToken::never())
        .unwrap();
    let held = sup.ws.reports().photo_path(&shas[0]).unwrap();
    assert_eq!(std::fs::read(path).unwrap(), std::fs::read(held).unwrap());
    // The rider whose report it is sees the inspection and may fetch its photo too.
    sync(&rider);
    assert_eq!(rider.ws.cases().get(&id).unwrap().timeline.len(), 1);
    rider
        .ws
        .reports()
        .fetch_photo(&rider.settings, &http(), &shas[0], &CancelToken::never())
        .unwrap();
}
