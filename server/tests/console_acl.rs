//! The console shows each account exactly what `/v1` lets it read — the same accounts and
//! documents as the sync ACL tests (`sync.rs`, `leaks.rs`): reports in two districts by two
//! riders, with photos and a case, read by station staff, supervisors and grid workers of
//! each district, one of both, one of neither, and an admin. For each, the case list, every
//! case page and every photo are compared with what a `/v1` device of the account is listed
//! and may fetch. Also: the list's filters, Chinese search, sort, pages and htmx fragment.

mod common;
mod console_support;

use std::collections::BTreeSet;

use common::*;
use console_support::*;
use reqwest::StatusCode;
use waystation_core::reports::{CaseEventKind, CaseRole, ReportPatch, ReportRules};
use waystation_server::Role;

const YANTA: &str = "610113";
const BEILIN: &str = "610103";

/// One seeded report.
struct Seeded {
    id: String,
    photo: Option<String>,
}

/// A submitted report by `author` in `district`, with `merchant` and `description`, and a
/// photo of shade `photo` if given; synced to the server (photo first) by the author's device.
#[allow(clippy::too_many_arguments)]
fn seed_report(
    f: &Factory,
    author: &mut Device,
    author_id: &str,
    category: &str,
    district: &str,
    merchant: Option<&str>,
    description: &str,
    photo: Option<u8>,
) -> Seeded {
    let id = f.draft(author_id, category);
    f.ws.reports()
        .update_draft(
            &id,
            &ReportPatch {
                district: Some(district.into()),
                merchant_name: Some(merchant.unwrap_or("").into()),
                description: Some(description.into()),
                ..Default::default()
            },
        )
        .unwrap();
    let photo = photo.map(|g| {
        let p =
            f.ws.reports()
                .attach_photo(&id, &png_grey(g), &ReportRules::default())
                .unwrap();
        let bytes = std::fs::read(f.ws.reports().photo_path(&p.sha256).unwrap()).unwrap();
        let r = author.api.put(&format!("/v1/photos/{}", p.sha256), bytes);
        assert!(r.status().is_success(), "{}", r.status());
        p.sha256
    });
    f.submit(author_id, &id);
    author.put(&format!("report:{id}"), "report", f.report_doc(&id));
    let r = author.sync();
    assert!(
        r[0].docs.iter().all(|d| d.refused.is_none()),
        "{:?}",
        r[0].docs
    );
    Seeded { id, photo }
}

/// The world of the ACL tests: three reports (two in Yanta by rider-1, one in Beilin by
/// rider-2, two with photos), the first acknowledged by Yanta's station staff.
struct World {
    server: TestServer,
    reports: Vec<Seeded>,
}

fn world() -> World {
    let server = TestServer::start();
    let f = Factory::new();
    let r1 = server.user("rider-1", Role::Rider, &[]);
    let r2 = server.user("rider-2", Role::Rider, &[]);
    let mut rider1 = Device::new(r1);
    let mut rider2 = Device::new(r2);
    let a1 = seed_report(
        &f,
        &mut rider1,
        "rider-1",
        "food.seal",
        YANTA,
        Some("老王外卖店"),
        "外卖封签被撕开",
        Some(10),
    );
    let a2 = seed_report(
        &f,
        &mut rider1,
        "rider-1",
        "road.hazard",
        YANTA,
        None,
        "路面塌陷，电动车绕行",
        None,
    );
    let b1 = seed_report(
        &f,
        &mut rider2,
        "rider-2",
        "food.hygiene",
        BEILIN,
        Some("碑林商户名甲"),
        "后厨不卫生",
        Some(20),
    );
    // Yanta's station staff acknowledges the first one from a phone.
    let staff = server.user("staff-a", Role::Station, &[YANTA]);
    f.case_event(
        &a1.id,
        "staff-a",
        CaseRole::StationStaff,
        CaseEventKind::Acknowledge,
    );
    let mut staff = Device::new(staff);
    let case_id = format!("case:{}", a1.id);
    staff.put(&case_id, "case", f.doc(&case_id));
    let r = staff.sync();
    assert!(r[0].docs[0].refused.is_none(), "{:?}", r[0].docs[0]);
    World {
        server,
        reports: vec![a1, a2, b1],
    }
}

/// The report ids of a console list page.
fn listed(body: &str) -> BTreeSet<String> {
    body.match_indices("href=\"/console/cases/")
        .map(|(i, m)| body[i + m.len()..i + m.len() + 36].to_string())
        .collect()
}

#[test]
fn every_console_page_shows_exactly_what_v1_lets_the_account_read() {
    let w = world();
    let server = &w.server;
    let admin_api = server.user("admin", Role::Admin, &[]);
    let accounts = vec![
        ("staff-a2", server.user("staff-a2", Role::Station, &[YANTA])),
        ("sup-a", server.user("sup-a", Role::Supervisor, &[YANTA])),
        ("grid-a", server.user("grid-a", Role::Grid, &[YANTA])),
        ("staff-b", server.user("staff-b", Role::Station, &[BEILIN])),
        (
            "sup-ab",
            server.user("sup-ab", Role::Supervisor, &[YANTA, BEILIN]),
        ),
        (
            "grid-none",
            server.user("grid-none", Role::Grid, &[OTHER_DISTRICT]),
        ),
        ("admin", admin_api),
    ];
    let photos: Vec<String> = w.reports.iter().filter_map(|r| r.photo.clone()).collect();
    assert_eq!(photos.len(), 2);
    let mut seen_any = 0;
    for (name, api) in accounts {
        // What /v1 lists and serves this account.
        let mut device = Device::new(api.with_token(&api.token));
        device.sync();
        let v1: BTreeSet<String> = device
            .docs
            .keys()
            .filter_map(|k| k.strip_prefix("report:").map(String::from))
            .collect();
        let v1_cases: BTreeSet<String> = device
            .docs
            .keys()
            .filter_map(|k| k.strip_prefix("case:").map(String::from))
            .collect();

        // The console's list.
        let b = Browser::signed_in(&server.url(), &api.token);
        let list = b.get("/console/cases?size=200");
        assert_eq!(list.status, StatusCode::OK, "{name}");
        assert_eq!(listed(&list.body), v1, "{name}: the list is /v1's reports");
        seen_any += v1.len();

        for r in &w.reports {
            let page = b.get(&format!("/console/cases/{}", r.id));
            if v1.contains(&r.id) {
                assert_eq!(page.status, StatusCode::OK, "{name} {}", r.id);
                // Every other case the page links to (a duplicate candidate, the report a
                // duplicate follows) is one /v1 lists too.
                assert!(
                    listed(&page.body).is_subset(&v1),
                    "{name}: case {} links outside /v1",
                    r.id
                );
                // The timeline shows the case exactly when /v1 lists it.
                assert_eq!(
                    page.body.contains("<td>staff-a</td>"),
                    v1_cases.contains(&r.id),
                    "{name}: the case's events"
                );
            } else {
                assert_eq!(page.status, StatusCode::NOT_FOUND, "{name} {}", r.id);
                // The same words whether it exists or not: nothing of the report.
                assert!(!page.body.contains("外卖") && !page.body.contains("商户名甲"));
                let missing = b.get("/console/cases/0190a8a4-7c1e-7000-8000-0000000000ff");
                assert_eq!(missing.status, StatusCode::NOT_FOUND);
                assert_eq!(missing.body, page.body, "{name}: an oracle");
            }
        }
        for sha in &photos {
            let v1_status = api.get(&format!("/v1/photos/{sha}")).status();
            let (status, bytes) = b.get_bytes(&format!("/console/photos/{sha}"));
            if v1_status == StatusCode::OK {
                assert_eq!(status, StatusCode::OK, "{name} photo");
                assert!(bytes.starts_with(b"\x89PNG"), "{name}");
            } else {
                assert_eq!(status, StatusCode::NOT_FOUND, "{name} photo ({v1_status})");
            }
        }
        // Every other page and endpoint (map, figures, CSV, Open311 by session and by
        // bearer token) names exactly the same reports.
        let endpoints = [
            ("/console/map", b.get("/console/map").body),
            (
                "/console/map.json",
                b.get_with("/console/map.json", &[]).body,
            ),
            ("/console/figures", b.get("/console/figures").body),
            (
                "/console/cases.csv",
                b.get_with("/console/cases.csv", &[]).body,
            ),
            (
                "/console/open311/v2/requests.json",
                b.get_with("/console/open311/v2/requests.json", &[]).body,
            ),
            (
                "/console/open311/v2/requests.json (bearer)",
                api.get("/console/open311/v2/requests.json").text().unwrap(),
            ),
        ];
        for (path, body) in &endpoints {
            for r in &w.reports {
                // The figures page names no report: it is checked by its total below.
                if *path == "/console/figures" {
                    continue;
                }
                assert_eq!(
                    body.contains(r.id.as_str()),
                    v1.contains(&r.id),
                    "{name} {path} {}: {body}",
                    r.id
                );
            }
            assert!(
                !body.contains("商户名甲") || v1.contains(&w.reports[2].id),
                "{name} {path}"
            );
            assert!(
                !body.contains("老王外卖店") || v1.contains(&w.reports[0].id),
                "{name} {path}"
            );
        }
        let figures = &endpoints[2].1;
        assert!(
            figures.contains(&format!("id=\"n-total\">{}<", v1.len())),
            "{name}: the figures count /v1's reports"
        );
        // No filter opens more: a district the account does not cover lists nothing of it.
        for d in [YANTA, BEILIN] {
            let filtered = b.get(&format!("/console/cases?size=200&district={d}"));
            assert!(listed(&filtered.body).is_subset(&v1), "{name} {d}");
        }
    }
    // The comparison was not vacuous: accounts saw 0, 1, 2 or 3 reports (station, supervisor
    // and grid of Yanta 2 each, Beilin's station 1, both districts 3, neither 0, admin 3).
    assert_eq!(seen_any, 13);
}

#[test]
fn the_list_filters_searches_in_chinese_sorts_pages_and_answers_htmx_with_the_results() {
    let w = world();
    let server = &w.server;
    let (a1, a2, b1) = (&w.reports[0].id, &w.reports[1].id, &w.reports[2].id);
    let admin = server.user("admin", Role::Admin, &[]);
    let b = Browser::signed_in(&server.url(), &admin.token);
    let ids = |q: &str| listed(&b.get(&format!("/console/cases?size=200&{q}")).body);
    let set = |v: &[&String]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();

    assert_eq!(ids(""), set(&[a1, a2, b1]));
    assert_eq!(
        ids("q=外卖"),
        set(&[a1]),
        "Chinese substring of the merchant"
    );
    assert_eq!(ids("q=商户名"), set(&[b1]));
    assert_eq!(ids("q=电动车"), set(&[a2]), "in the description");
    assert_eq!(ids(&format!("district={BEILIN}")), set(&[b1]));
    assert_eq!(ids("group=food"), set(&[a1, b1]));
    assert_eq!(ids("category=road.hazard"), set(&[a2]));
    assert_eq!(ids("status=acknowledged"), set(&[a1]));
    assert_eq!(ids("status=open"), set(&[a2, b1]));
    assert_eq!(ids("status=closed"), set(&[]));
    assert_eq!(ids("min_age=1"), set(&[]), "all were made today");

    // Sorted by category, ascending: food.hygiene, food.seal, road.hazard.
    let page = b.get("/console/cases?sort=category&dir=asc");
    let order: Vec<usize> = [b1, a1, a2]
        .iter()
        .map(|id| page.body.find(id.as_str()).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    assert!(page.body.contains("aria-sort=\"ascending\""));
    // The table is labelled for screen readers.
    assert!(page.body.contains("<caption id=\"cases-caption\">"));
    assert!(page.body.contains("scope=\"col\""));
    // The scrolling box can take focus (keyboard scrolling), named by the caption.
    assert!(page.body.contains(
        "class=\"table-wrap\" role=\"region\" tabindex=\"0\" aria-labelledby=\"cases-caption\""
    ));

    // Pages of one: three pages, each with one case, and links between them.
    let p1 = b.get("/console/cases?size=1");
    assert_eq!(listed(&p1.body).len(), 1);
    assert!(p1.body.contains("1 / 3") && p1.body.contains("rel=\"next\""));
    let p3 = b.get("/console/cases?size=1&page=3");
    assert!(p3.body.contains("3 / 3") && p3.body.contains("rel=\"prev\""));
    let all: BTreeSet<String> = (1..=3)
        .flat_map(|n| listed(&b.get(&format!("/console/cases?size=1&page={n}")).body))
        .collect();
    assert_eq!(all, set(&[a1, a2, b1]));

    // htmx asks for the results only.
    let fragment = b.get_with("/console/cases?q=外卖", &[("hx-request", "true")]);
    assert_eq!(fragment.status, StatusCode::OK);
    assert!(
        fragment.body.starts_with("<section id=\"results\""),
        "{}",
        fragment.body
    );
    assert!(!fragment.body.contains("<html"));
    assert_eq!(listed(&fragment.body), set(&[a1]));

    // A bad filter is a 400 naming the parameter.
    let bad = b.get("/console/cases?status=lost");
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("status"), "{}", bad.body);
}
