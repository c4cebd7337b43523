//! Follow-up actions taken in the console, against a real server on loopback: each writes the
//! case document the way a phone does and goes through the sync endpoint's checks, so the
//! rider's device gets it at its next sync; an action the role may not take, an admin's, one
//! on a case out of reach, a bad field, a missing CSRF token, a stale or doubled form are
//! refused and write nothing. Request info, mark duplicate (its nearby candidates, and every
//! bad target: none, malformed, itself, unknown, another district's, withdrawn, a cycle) and
//! reopen follow the same rules; dispatch offers the district's grids; refusals are worded in
//! the page's language.

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
    // Named in the page's language: the action and the category.
    assert!(
        r.body
            .contains("此账号无权执行该操作。 (不予处理 · 食安封签缺失或被破坏)"),
        "{}",
        r.body
    );
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
    // Bad fields: a dispatch without a grid, a reject without a reason, a request for
    // information that does not say what, a control character, an unknown action.
    let sup = Browser::signed_in(
        &server.url(),
        &server.user("sup-a", Role::Supervisor, &[YANTA]).token,
    );
    for (action, extra) in [
        ("dispatch", vec![("grid_id", "  ")]),
        ("reject", vec![("reason", "")]),
        ("request_info", vec![]),
        ("note", vec![("note", "\u{7}")]),
        ("escalate", vec![]),
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

/// A submitted report of `category` in `district` by `author` on `f`'s phone, `north_m`
/// metres north of the Bell Tower; returns its id (not synced yet).
fn report_at(f: &Factory, author: &str, category: &str, district: &str, north_m: f64) -> String {
    let id = f.draft(author, category);
    let reports = f.ws.reports();
    reports
        .update_draft(
            &id,
            &waystation_core::reports::ReportPatch {
                district: Some(district.into()),
                ..Default::default()
            },
        )
        .unwrap();
    reports
        .set_position(
            &id,
            &waystation_core::reports::PositionFix {
                lat: BELL_TOWER.0 + north_m / 111_195.0,
                lon: BELL_TOWER.1,
                datum: waystation_core::geo::Datum::Wgs84,
                accuracy_m: Some(8.0),
                fix_time: f.ws.now(),
                mock: false,
            },
        )
        .unwrap();
    f.submit(author, &id);
    id
}

/// Syncs `ids` (reports on `f`'s phone) from the device of `rider`.
fn sync_reports(rider: &mut Device, f: &Factory, ids: &[&str]) {
    for id in ids {
        rider.put(&format!("report:{id}"), "report", f.report_doc(id));
    }
    for r in rider.sync() {
        assert!(r.docs.iter().all(|d| d.refused.is_none()), "{:?}", r.docs);
    }
}

/// The case as the rider's device folds it after a sync.
fn on_the_phone(rider: &mut Device, id: &str) -> waystation_core::reports::CaseView {
    rider.sync();
    fold(
        &rider.docs[&format!("report:{id}")].doc,
        &rider.docs[&format!("case:{id}")].doc,
    )
}

#[test]
fn request_info_and_reopen_reach_the_riders_device_with_their_notes() {
    let server = TestServer::start();
    let f = Factory::new();
    let (id, mut rider) = rider_report(&server, &f, "food.seal");
    let sup = server.user("sup-a", Role::Supervisor, &[YANTA]);
    let b = Browser::signed_in(&server.url(), &sup.token);

    // Open: request info is offered, reopen is not (the case is not closed).
    let page = b.get(&format!("/console/cases/{id}"));
    assert!(page.body.contains("value=\"request_info\"") && page.body.contains("要求补充信息"));
    assert!(!page.body.contains("value=\"reopen\""));
    // Its note says what is needed: required.
    let r = act(&b, &id, "request_info", &[("note", "  ")]);
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.body.contains("需要补充什么"), "{}", r.body);
    let r = act(&b, &id, "request_info", &[("note", "请补拍封签照片")]);
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = b.get(&format!("/console/cases/{id}"));
    assert!(page.body.contains("处理中") && page.body.contains("补充信息"));
    // A reopen of a case that is not closed: not offered, and a forged form is refused.
    let r = act(&b, &id, "reopen", &[("note", "x")]);
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);

    assert_eq!(
        act(&b, &id, "resolve", &[("note", "已整改")]).status,
        StatusCode::SEE_OTHER
    );
    let page = b.get(&format!("/console/cases/{id}"));
    assert!(page.body.contains("value=\"reopen\"") && page.body.contains("重新打开的原因"));
    assert!(!page.body.contains("value=\"request_info\""), "closed");
    let r = act(&b, &id, "request_info", &[("note", "再拍一张")]);
    assert_eq!(r.status, StatusCode::CONFLICT, "a forged one: {}", r.body);
    // Administrators write none of them.
    let admin = Browser::signed_in(&server.url(), &server.user("admin", Role::Admin, &[]).token);
    for (action, field) in [("request_info", ("note", "x")), ("reopen", ("note", "x"))] {
        assert_eq!(
            act(&admin, &id, action, &[field]).status,
            StatusCode::FORBIDDEN
        );
    }
    assert_eq!(
        act(&b, &id, "reopen", &[]).status,
        StatusCode::BAD_REQUEST,
        "a reopen says why"
    );
    let r = act(&b, &id, "reopen", &[("note", "骑手反映仍未整改")]);
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    let view = on_the_phone(&mut rider, &id);
    assert_eq!(view.status, CaseStatus::Open);
    let events: Vec<(&str, Option<&str>)> = view
        .timeline
        .iter()
        .map(|t| (t.event.kind.name(), t.event.note.as_deref()))
        .collect();
    assert_eq!(
        events,
        [
            ("request_info", Some("请补拍封签照片")),
            ("resolve", Some("已整改")),
            ("reopen", Some("骑手反映仍未整改")),
        ]
    );
    assert!(view.timeline.iter().all(|t| t.applied));
    assert_eq!(view.status_notes, "reopened: 骑手反映仍未整改");
}

#[test]
fn station_staff_reopen_only_station_cases_and_never_mark_duplicates() {
    let server = TestServer::start();
    let f = Factory::new();
    let food = report_at(&f, "rider-1", "food.seal", YANTA, 0.0);
    let charger = report_at(&f, "rider-1", "station.charger_broken", YANTA, 0.0);
    let mut rider = Device::new(server.user("rider-1", Role::Rider, &[]));
    sync_reports(&mut rider, &f, &[&food, &charger]);
    let sup = Browser::signed_in(
        &server.url(),
        &server.user("sup-a", Role::Supervisor, &[YANTA]).token,
    );
    for id in [&food, &charger] {
        assert_eq!(act(&sup, id, "resolve", &[]).status, StatusCode::SEE_OTHER);
    }
    let staff = server.user("staff-a", Role::Station, &[YANTA]);
    let s = Browser::signed_in(&server.url(), &staff.token);
    let feed_before = server.count("SELECT next_seq FROM meta");
    // A food case: no reopen for station staff, and a forged one is refused.
    let page = s.get(&format!("/console/cases/{food}"));
    assert!(!page.body.contains("value=\"reopen\""));
    let r = act(&s, &food, "reopen", &[("note", "仍有问题")]);
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // Nor a duplicate, on any case.
    let page = s.get(&format!("/console/cases/{charger}"));
    assert!(!page.body.contains("value=\"mark_duplicate\""));
    let r = act(&s, &charger, "mark_duplicate", &[("of_id", food.as_str())]);
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // The role is refused before the form's fields are looked at.
    let r = act(&s, &charger, "mark_duplicate", &[]);
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(server.count("SELECT next_seq FROM meta"), feed_before);
    // A station case is theirs to reopen.
    assert!(page.body.contains("value=\"reopen\""));
    let r = act(&s, &charger, "reopen", &[("note", "充电桩又坏了")]);
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let view = on_the_phone(&mut rider, &charger);
    assert_eq!(view.status, CaseStatus::Open);
    let last = &view.timeline.last().unwrap().event;
    assert_eq!(
        (last.actor.as_str(), last.role),
        ("staff-a", CaseRole::StationStaff)
    );
}

#[test]
fn mark_duplicate_offers_the_nearby_reports_and_reaches_the_riders_device() {
    let server = TestServer::start();
    let f = Factory::new();
    let first = report_at(&f, "rider-1", "food.seal", YANTA, 0.0);
    let again = report_at(&f, "rider-1", "food.seal", YANTA, 80.0);
    let far = report_at(&f, "rider-1", "food.seal", YANTA, 1_000.0);
    let other_kind = report_at(&f, "rider-1", "road.hazard", YANTA, 10.0);
    let mut rider = Device::new(server.user("rider-1", Role::Rider, &[]));
    sync_reports(&mut rider, &f, &[&first, &again, &far, &other_kind]);
    // The same spot in a district the supervisor does not follow.
    let g = Factory::new();
    let elsewhere = report_at(&g, "rider-2", "food.seal", OTHER_DISTRICT, 40.0);
    let mut rider2 = Device::new(server.user("rider-2", Role::Rider, &[]));
    sync_reports(&mut rider2, &g, &[&elsewhere]);

    let sup = server.user("sup-a", Role::Supervisor, &[YANTA]);
    let b = Browser::signed_in(&server.url(), &sup.token);
    let page = b.get(&format!("/console/cases/{again}"));
    assert!(page.body.contains("value=\"mark_duplicate\"") && page.body.contains("附近的同类报告"));
    let offered = |body: &str, id: &str| {
        body.contains(&format!(
            "name=\"of\" id=\"mark_duplicate-of-0\" value=\"{id}\""
        ))
    };
    assert!(offered(&page.body, &first), "80 m away, same category");
    assert!(page.body.contains("80 米"), "the distance is shown");
    for (id, why) in [
        (&far, "1 km away"),
        (&other_kind, "another category"),
        (&elsewhere, "another district"),
    ] {
        assert!(!page.body.contains(id.as_str()), "{why} is not offered");
    }

    let r = act(
        &b,
        &again,
        "mark_duplicate",
        &[("of", first.as_str()), ("note", "同一家店")],
    );
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = b.get(&format!("/console/cases/{again}"));
    assert!(
        page.body.contains("重复于")
            && page
                .body
                .contains(&format!("href=\"/console/cases/{first}\""))
    );
    // Closed as a duplicate: reopen is offered, a second duplicate is not.
    assert!(
        page.body.contains("value=\"reopen\"") && !page.body.contains("value=\"mark_duplicate\"")
    );
    let r = act(&b, &again, "mark_duplicate", &[("of", first.as_str())]);
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "a forged second one: {}",
        r.body
    );
    // The first report's page does not offer its own duplicate back (they would close each
    // other), and refuses it typed by hand.
    let page = b.get(&format!("/console/cases/{first}"));
    assert!(page.body.contains("附近没有同类报告"), "{}", page.body);
    let r = act(&b, &first, "mark_duplicate", &[("of_id", again.as_str())]);
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.body.contains("互相结案"), "{}", r.body);

    let view = on_the_phone(&mut rider, &again);
    assert_eq!(view.status, CaseStatus::Duplicate);
    assert_eq!(
        view.duplicate_of.as_ref().map(|r| r.as_str()),
        Some(first.as_str())
    );
    assert_eq!(view.timeline[0].event.note.as_deref(), Some("同一家店"));
}

#[test]
fn a_bad_duplicate_target_is_refused_in_the_pages_language_and_writes_nothing() {
    let server = TestServer::start();
    let f = Factory::new();
    let id = report_at(&f, "rider-1", "food.seal", YANTA, 0.0);
    let gone = report_at(&f, "rider-1", "food.seal", YANTA, 20.0);
    let mut rider = Device::new(server.user("rider-1", Role::Rider, &[]));
    sync_reports(&mut rider, &f, &[&id, &gone]);
    f.ws.reports().withdraw("rider-1", &gone, "弄错了").unwrap();
    sync_reports(&mut rider, &f, &[&gone]);
    let g = Factory::new();
    let elsewhere = report_at(&g, "rider-2", "food.seal", OTHER_DISTRICT, 0.0);
    let mut rider2 = Device::new(server.user("rider-2", Role::Rider, &[]));
    sync_reports(&mut rider2, &g, &[&elsewhere]);
    let unknown = "01900000-0000-7000-8000-00000000abcd";

    let mut b = Browser::signed_in(
        &server.url(),
        &server.user("grid-a", Role::Grid, &[YANTA]).token,
    );
    let feed_before = server.count("SELECT next_seq FROM meta");
    let cases = [
        (
            vec![],
            "请选择或输入所重复的报告",
            "needs the report it duplicates",
        ),
        (vec![("of_id", "x")], "格式不对", "not a report id"),
        (
            vec![("of_id", id.as_str())],
            "它自己的重复",
            "duplicate of itself",
        ),
        (
            vec![("of_id", unknown)],
            "没有这个报告，或此账号无权查看",
            "no such report, or this account may not see it",
        ),
        // Another district's report: the same words as an unknown one (no oracle).
        (
            vec![("of_id", elsewhere.as_str())],
            "没有这个报告，或此账号无权查看",
            "no such report, or this account may not see it",
        ),
        (vec![("of_id", gone.as_str())], "撤回", "withdrawn"),
        (
            vec![("of", gone.as_str()), ("of_id", unknown)],
            "不一致",
            "differ",
        ),
    ];
    for (lang, accept) in [("zh", "zh-CN,zh;q=0.9"), ("en", "en-GB,en;q=0.9")] {
        b.accept_language = accept.into();
        for (fields, zh, en) in &cases {
            let r = act(&b, &id, "mark_duplicate", fields);
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{fields:?}: {}", r.body);
            let want = if lang == "zh" { zh } else { en };
            assert!(r.body.contains(want), "{lang} {fields:?}: {}", r.body);
        }
    }
    // The other district's report and the unknown one get the very same page.
    let a = act(&b, &id, "mark_duplicate", &[("of_id", unknown)]).body;
    let o = act(&b, &id, "mark_duplicate", &[("of_id", elsewhere.as_str())]).body;
    assert_eq!(a, o);
    assert_eq!(server.count("SELECT next_seq FROM meta"), feed_before);
    assert_eq!(cases_on_server(&server), 0, "nothing was written");
}

#[test]
fn refusals_of_the_core_are_worded_in_the_pages_language() {
    let server = TestServer::start();
    let f = Factory::new();
    let (id, _rider) = rider_report(&server, &f, "food.seal");
    let mut b = Browser::signed_in(
        &server.url(),
        &server.user("sup-a", Role::Supervisor, &[YANTA]).token,
    );
    // (action, one field, the words in Chinese, the words in English)
    type Case<'a> = (&'a str, (&'a str, &'a str), &'a str, &'a str);
    let cases: [Case; 4] = [
        (
            "dispatch",
            ("grid_id", "小寨 路"),
            "网格编号只能包含",
            "grid_id must be letters",
        ),
        (
            "dispatch",
            ("grid_id", " "),
            "派发到网格需要填写网格编号",
            "dispatch needs a grid id",
        ),
        (
            "note",
            ("note", "a\u{7}"),
            "备注含有不允许的控制字符",
            "note contains a control character",
        ),
        (
            "reject",
            ("reason", ""),
            "不予处理必须写明原因",
            "reject needs a reason",
        ),
    ];
    for (accept, zh) in [("zh-CN,zh;q=0.9", true), ("en-US,en;q=0.9", false)] {
        b.accept_language = accept.into();
        for (action, field, in_zh, in_en) in &cases {
            let r = act(&b, &id, action, &[*field]);
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{action}: {}", r.body);
            let (want, not) = if zh { (in_zh, in_en) } else { (in_en, in_zh) };
            assert!(
                r.body.contains(want) && !r.body.contains(not),
                "{action}: {}",
                r.body
            );
        }
    }
    assert_eq!(cases_on_server(&server), 0);
}

#[test]
fn dispatch_offers_the_grids_used_in_the_cases_district_only() {
    let server = TestServer::start();
    let f = Factory::new();
    let a = report_at(&f, "rider-1", "road.hazard", YANTA, 0.0);
    let b_id = report_at(&f, "rider-1", "road.hazard", YANTA, 500.0);
    let mut rider = Device::new(server.user("rider-1", Role::Rider, &[]));
    sync_reports(&mut rider, &f, &[&a, &b_id]);
    let g = Factory::new();
    let elsewhere = report_at(&g, "rider-2", "road.hazard", OTHER_DISTRICT, 0.0);
    let mut rider2 = Device::new(server.user("rider-2", Role::Rider, &[]));
    sync_reports(&mut rider2, &g, &[&elsewhere]);
    // A supervisor of both districts dispatches one case in each.
    let sup = Browser::signed_in(
        &server.url(),
        &server
            .user("sup-ab", Role::Supervisor, &[YANTA, OTHER_DISTRICT])
            .token,
    );
    let page = sup.get(&format!("/console/cases/{a}"));
    assert!(!page.body.contains("<datalist"), "no grid used yet");
    for (id, grid) in [(&a, "小寨路网格-03"), (&elsewhere, "长安-韦曲-01")] {
        let r = act(&sup, id, "dispatch", &[("grid_id", grid)]);
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    let page = sup.get(&format!("/console/cases/{b_id}"));
    assert!(
        page.body.contains("<option value=\"小寨路网格-03\">"),
        "{}",
        page.body
    );
    assert!(page.body.contains("本辖区用过的网格"));
    assert!(
        !page.body.contains("长安-韦曲-01"),
        "another district's grid"
    );
    // Picked from the list, it is an ordinary dispatch.
    let r = act(&sup, &b_id, "dispatch", &[("grid_id", "小寨路网格-03")]);
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let view = on_the_phone(&mut rider, &b_id);
    assert_eq!(view.grid_id.as_deref(), Some("小寨路网格-03"));
}
