//! Follow-up actions taken in the console, against a real server on loopback: each writes the
//! case document the way a phone does and goes through the sync endpoint's checks, so the
//! rider's device gets it at its next sync; an action the role may not take, an admin's, one
//! on a case out of reach, a bad field, a missing CSRF token, a stale or doubled form are
//! refused and write nothing.

mod common;
mod console_support;

use automerge::AutoCommit;
use common::*;
use console_support::*;
use reqwest::StatusCode;
use waystation_core::reports::case::view_document;
use waystation_core::reports::{CaseEventKind, CaseRole, CaseStatus, read_report_document};
use waystation_server::Role;

const YANTA: &str = "610113";

/// A Yanta report of `category` by rider-1, synced by the rider's device; returns the id and
/// the device.
fn rider_report(server: &TestServer, f: &Factory, category: &str) -> (String, Device) {
    let id = f.draft("rider-1", category);
    f.ws.reports()
        .update_draft(
            &id,
            &waystation_core::reports::ReportPatch {
                district: Some(YANTA.into()),
                ..Default::default()
            },
        )
        .unwrap();
    f.submit("rider-1", &id);
    let mut rider = Device::new(server.user("rider-1", Role::Rider, &[]));
    rider.put(&format!("report:{id}"), "report", f.report_doc(&id));
    let r = rider.sync();
    assert!(r[0].docs[0].refused.is_none(), "{:?}", r[0].docs[0]);
    (id, rider)
}

/// The case as a device holding `case` and `report` folds it.
fn fold(report: &AutoCommit, case: &AutoCommit) -> waystation_core::reports::CaseView {
    let report = read_report_document(report).unwrap();
    view_document(Some(case), &report)
}

/// Posts `action` from the case page's form, with its CSRF token and version.
fn act(b: &Browser, id: &str, action: &str, extra: &[(&str, &str)]) -> Page {
    let page = b.get(&format!("/console/cases/{id}"));
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let mut fields = vec![
        ("csrf", page.csrf()),
        ("version", page.field("version").unwrap_or_default()),
        ("action", action.to_string()),
    ];
    fields.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    b.post_form(&format!("/console/cases/{id}/events"), &fields)
}

fn cases_on_server(server: &TestServer) -> i64 {
    server.count("SELECT count(*) FROM docs WHERE kind = 'case'")
}

#[test]
fn a_supervisors_actions_reach_the_riders_device_like_a_phones() {
    let server = TestServer::start();
    let f = Factory::new();
    let (id, mut rider) = rider_report(&server, &f, "food.seal");
    let sup = server.user("sup-a", Role::Supervisor, &[YANTA]);
    let b = Browser::signed_in(&server.url(), &sup.token);

    // The page offers what a supervisor may do to an open case.
    let page = b.get(&format!("/console/cases/{id}"));
    for a in ["acknowledge", "dispatch", "note", "resolve", "reject"] {
        assert!(
            page.body
                .contains(&format!("name=\"action\" value=\"{a}\"")),
            "{a} offered"
        );
    }
    let done = act(&b, &id, "acknowledge", &[("note", "已联系商户")]);
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(
        done.location(),
        Some(format!("/console/cases/{id}?done=1").as_str())
    );
    let page = b.get(done.location().unwrap());
    assert!(page.body.contains("role=\"status\""), "the saved notice");
    assert!(page.body.contains("已受理"));
    assert!(page.body.contains("<td>sup-a</td>") && page.body.contains("已联系商户"));
    // Acknowledged now: acknowledge is no longer offered.
    assert!(!page.body.contains("value=\"acknowledge\""));

    // The rider's device gets the case at its next sync, and folds it to the same status.
    rider.sync();
    let case_id = format!("case:{id}");
    let report_doc = rider.docs[&format!("report:{id}")].doc.clone();
    let view = fold(&report_doc, &rider.docs[&case_id].doc);
    assert_eq!(view.status, CaseStatus::Acknowledged);
    let e = &view.timeline[0].event;
    assert_eq!((e.actor.as_str(), e.role), ("sup-a", CaseRole::Supervisor));
    assert_eq!(e.note.as_deref(), Some("已联系商户"));
    assert_eq!(e.at, noon(), "the server's clock");
    assert_eq!(rider.heads(&case_id), server_heads(&server.db, &case_id));

    // Dispatch, a note, then resolve: each is on the rider's phone after a sync.
    assert_eq!(
        act(&b, &id, "dispatch", &[("grid_id", "grid-610113-07")]).status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        act(&b, &id, "note", &[("note", "网格员已到场")]).status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        act(&b, &id, "resolve", &[("note", "商户已整改")]).status,
        StatusCode::SEE_OTHER
    );
    rider.sync();
    let view = fold(&report_doc, &rider.docs[&case_id].doc);
    assert_eq!(view.status, CaseStatus::Resolved);
    assert_eq!(view.grid_id.as_deref(), Some("grid-610113-07"));
    let kinds: Vec<&str> = view.timeline.iter().map(|t| t.event.kind.name()).collect();
    assert_eq!(kinds, ["acknowledge", "dispatch", "note", "resolve"]);
    assert!(view.timeline.iter().all(|t| t.applied));
    assert_eq!(cases_on_server(&server), 1);

    // The district's station staff see it through /v1 too.
    let mut staff = Device::new(server.user("staff-a", Role::Station, &[YANTA]));
    staff.sync();
    assert_eq!(staff.heads(&case_id), rider.heads(&case_id));
    // Closed: a supervisor may still note, nothing else applies.
    let page = b.get(&format!("/console/cases/{id}"));
    assert!(page.body.contains("value=\"note\"") && !page.body.contains("value=\"resolve\""));
}

#[test]
fn an_action_the_account_may_not_take_is_refused_and_writes_nothing() {
    let server = TestServer::start();
    let f = Factory::new();
    let (id, _rider) = rider_report(&server, &f, "food.seal");
    let staff = server.user("staff-a", Role::Station, &[YANTA]);
    let grid = server.user("grid-a", Role::Grid, &[YANTA]);
    let admin = server.user("admin", Role::Admin, &[]);
    let outsider = server.user("staff-x", Role::Station, &[OTHER_DISTRICT]);
    let feed_before = server.count("SELECT next_seq FROM meta");

    // Station staff may not reject (nor resolve a food-safety case): not offered, and a
    // forged form is refused.
    let s = Browser::signed_in(&server.url(), &staff.token);
    let page = s.get(&format!("/console/cases/{id}"));
    assert!(page.body.contains("value=\"acknowledge\""));
    assert!(!page.body.contains("value=\"reject\"") && !page.body.contains("value=\"resolve\""));
    let r = act(&s, &id, "reject", &[("reason", "不是食品问题")]);
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(act(&s, &id, "resolve", &[]).status, StatusCode::FORBIDDEN);
    // Grid workers do not dispatch.
    let g = Browser::signed_in(&server.url(), &grid.token);
    let r = act(&g, &id, "dispatch", &[("grid_id", "grid-1")]);
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Admins read; they write no case.
    let a = Browser::signed_in(&server.url(), &admin.token);
    let page = a.get(&format!("/console/cases/{id}"));
    assert!(page.body.contains("管理员只读"));
    assert!(!page.body.contains("name=\"action\""));
    let r = act(&a, &id, "note", &[("note", "x")]);
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Another district's staff: the case does not exist for them.
    let o = Browser::signed_in(&server.url(), &outsider.token);
    let csrf = o.get("/console/cases").csrf();
    let r = o.post_form(
        &format!("/console/cases/{id}/events"),
        &[("csrf", &csrf), ("action", "acknowledge"), ("version", "x")],
    );
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // No CSRF token: refused before anything is read.
    let r = s.post_form(
        &format!("/console/cases/{id}/events"),
        &[("action", "acknowledge")],
    );
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Bad fields: a dispatch without a grid, a reject without a reason, an unknown action.
    let sup = Browser::signed_in(
        &server.url(),
        &server.user("sup-a", Role::Supervisor, &[YANTA]).token,
    );
    for (action, extra) in [
        ("dispatch", vec![("grid_id", "  ")]),
        ("reject", vec![("reason", "")]),
        ("request_info", vec![]),
        ("note", vec![("note", "\u{7}")]),
    ] {
        let r = act(&sup, &id, action, &extra);
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{action}: {}", r.body);
    }
    assert_eq!(cases_on_server(&server), 0, "nothing was written");
    assert_eq!(server.count("SELECT next_seq FROM meta"), feed_before);
}

#[test]
fn the_same_form_sent_twice_or_a_stale_one_is_refused() {
    let server = TestServer::start();
    let f = Factory::new();
    let (id, mut rider) = rider_report(&server, &f, "road.hazard");
    let staff = server.user("staff-a", Role::Station, &[YANTA]);
    let b = Browser::signed_in(&server.url(), &staff.token);
    let page = b.get(&format!("/console/cases/{id}"));
    let fields = |action: &'static str| {
        vec![
            ("csrf", page.csrf()),
            ("version", page.field("version").unwrap()),
            ("action", action.to_string()),
            ("note", "同一张表单".to_string()),
        ]
    };
    let post = |fields: Vec<(&str, String)>| {
        let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        b.post_form(&format!("/console/cases/{id}/events"), &f)
    };
    assert_eq!(post(fields("note")).status, StatusCode::SEE_OTHER);
    // The double click: the case changed since the page was loaded.
    let again = post(fields("note"));
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(again.body.contains("请刷新"), "{}", again.body);
    // The other form of the same page is stale too.
    assert_eq!(post(fields("acknowledge")).status, StatusCode::CONFLICT);
    rider.sync();
    let case_id = format!("case:{id}");
    let view = fold(
        &rider.docs[&format!("report:{id}")].doc,
        &rider.docs[&case_id].doc,
    );
    assert_eq!(view.timeline.len(), 1, "one note, once");
    // Reloaded, the acknowledge goes through; a second acknowledge is not offered.
    assert_eq!(
        act(&b, &id, "acknowledge", &[]).status,
        StatusCode::SEE_OTHER
    );
    let r = act(&b, &id, "acknowledge", &[]);
    assert_eq!(r.status, StatusCode::CONFLICT, "already acknowledged");
    rider.sync();
    let view = fold(
        &rider.docs[&format!("report:{id}")].doc,
        &rider.docs[&case_id].doc,
    );
    assert_eq!(view.timeline.len(), 2);
    assert_eq!(view.status, CaseStatus::Acknowledged);
    assert!(matches!(
        view.timeline[1].event.kind,
        CaseEventKind::Acknowledge
    ));
}
