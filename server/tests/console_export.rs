//! The console's downloads, map data, figures and assets against a real server on loopback,
//! seeded through the real sync path: reports in Yanta and Beilin synced by a rider's device,
//! a case acknowledged by station staff and one resolved by a supervisor, each from a phone.
//!
//! - CSV: the rows of the filtered list, in its order, formula injection neutralised, BOM;
//! - Open311 `requests.json`: with a session or a bearer token, each request equal to the
//!   device's own `export_open311` and passing the core's field check; GeoReport v2's params;
//! - map.json and the figures page: the same cases, the stations of the account's districts;
//! - assets: content types, ETag / 304, immutable caching of hashed URLs, the CSP on pages;
//! - and everywhere, nothing of the district the account does not cover.

mod common;
mod console_support;

use common::*;
use console_support::*;
use reqwest::StatusCode;
use serde_json::Value;
use waystation_core::packs;
use waystation_core::reports::{CaseEventKind, CaseRole, ReportPatch, open311_field_problems};
use waystation_server::{PackKind, Role};

const YANTA: &str = "610113";
const BEILIN: &str = "610103";
const INJECTION: &str = "=HYPERLINK(\"http://evil.example\",\"点我\")";

/// A submitted report in `district`, synced by the author's device.
fn seed(
    f: &Factory,
    device: &mut Device,
    author: &str,
    category: &str,
    district: &str,
    merchant: &str,
) -> String {
    let id = f.draft(author, category);
    f.ws.reports()
        .update_draft(
            &id,
            &ReportPatch {
                district: Some(district.into()),
                merchant_name: Some(merchant.into()),
                ..Default::default()
            },
        )
        .unwrap();
    f.submit(author, &id);
    device.put(&format!("report:{id}"), "report", f.report_doc(&id));
    let r = device.sync();
    assert!(
        r[0].docs.iter().all(|d| d.refused.is_none()),
        "{:?}",
        r[0].docs
    );
    id
}

/// A case event written on the factory device and synced by `who`'s phone.
fn act(f: &Factory, who: Api, actor: &str, role: CaseRole, report: &str, kind: CaseEventKind) {
    f.case_event(report, actor, role, kind);
    let mut phone = Device::new(who);
    let case_id = format!("case:{report}");
    phone.put(&case_id, "case", f.doc(&case_id));
    let r = phone.sync();
    assert!(r[0].docs[0].refused.is_none(), "{:?}", r[0].docs[0]);
}

struct World {
    server: TestServer,
    f: Factory,
    /// Yanta: acknowledged, with the injection merchant.
    a1: String,
    /// Yanta: resolved by a supervisor.
    a2: String,
    /// Beilin.
    b1: String,
}

fn world() -> World {
    let server = TestServer::start();
    let f = Factory::new();
    let mut rider = Device::new(server.user("rider-1", Role::Rider, &[]));
    let a1 = seed(&f, &mut rider, "rider-1", "food.seal", YANTA, INJECTION);
    let a2 = seed(
        &f,
        &mut rider,
        "rider-1",
        "road.hazard",
        YANTA,
        "+86 老王外卖",
    );
    let b1 = seed(
        &f,
        &mut rider,
        "rider-1",
        "food.hygiene",
        BEILIN,
        "碑林商户名甲",
    );
    let staff = server.user("staff-a", Role::Station, &[YANTA]);
    act(
        &f,
        staff,
        "staff-a",
        CaseRole::StationStaff,
        &a1,
        CaseEventKind::Acknowledge,
    );
    let sup = server.user("sup-x", Role::Supervisor, &[YANTA]);
    act(
        &f,
        sup,
        "sup-x",
        CaseRole::Supervisor,
        &a2,
        CaseEventKind::Resolve,
    );
    World {
        server,
        f,
        a1,
        a2,
        b1,
    }
}

/// The report ids of a console list page, in its order.
fn listed(body: &str) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for (i, m) in body.match_indices("href=\"/console/cases/") {
        let id = body[i + m.len()..i + m.len() + 36].to_string();
        if ids.last() != Some(&id) {
            ids.push(id);
        }
    }
    ids
}

/// The CSV's rows (after the BOM and the headings), as string records.
fn csv_rows(body: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    assert!(body.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM first");
    let mut r = csv::Reader::from_reader(&body[3..]);
    let head = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(String::from).collect())
        .collect();
    (head, rows)
}

#[test]
fn the_csv_holds_the_filtered_list_in_its_order_with_formulas_neutralised() {
    let w = world();
    let sup = w.server.user("sup-a", Role::Supervisor, &[YANTA]);
    let b = Browser::signed_in(&w.server.url(), &sup.token);

    let (status, body) = b.get_bytes("/console/cases.csv");
    assert_eq!(status, StatusCode::OK);
    let (head, rows) = csv_rows(&body);
    assert_eq!(head[0], "报告编号");
    let ids: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    let list = listed(&b.get("/console/cases").body);
    assert_eq!(ids, list, "the CSV's rows are the list's, in its order");
    assert_eq!(ids.len(), 2);
    assert!(!ids.contains(&w.b1.as_str()), "nothing of Beilin");
    let merchant = head.iter().position(|h| h == "商户名称").unwrap();
    let row_a1 = rows.iter().find(|r| r[0] == w.a1).unwrap();
    assert_eq!(row_a1[merchant], format!("'{INJECTION}"));
    let row_a2 = rows.iter().find(|r| r[0] == w.a2).unwrap();
    assert_eq!(row_a2[merchant], "'+86 老王外卖");
    assert_eq!(row_a2[2], "resolved");

    // The list's filters apply; a filter nothing matches is the headings alone.
    let (_, rows) = csv_rows(&b.get_bytes("/console/cases.csv?status=resolved").1);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0], w.a2);
    let (_, rows) = csv_rows(
        &b.get_bytes(&format!("/console/cases.csv?district={BEILIN}"))
            .1,
    );
    assert!(rows.is_empty(), "{rows:?}");
    let bad = b.get("/console/cases.csv?status=nope");
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("status"), "{}", bad.body);

    // Headers: a download in UTF-8; English headings for an English browser.
    let page = b.get_with("/console/cases.csv", &[("accept-language", "en")]);
    assert_eq!(page.headers["content-type"], "text/csv; charset=utf-8");
    let cd = page.headers["content-disposition"].to_str().unwrap();
    assert!(
        cd.starts_with("attachment; filename=\"waystation-cases-"),
        "{cd}"
    );
    assert!(
        page.body
            .trim_start_matches('\u{feff}')
            .starts_with("report_id,")
    );

    // An admin gets all three; no session gets 401, not a sign-in page.
    let admin = w.server.user("admin", Role::Admin, &[]);
    let a = Browser::signed_in(&w.server.url(), &admin.token);
    assert_eq!(csv_rows(&a.get_bytes("/console/cases.csv").1).1.len(), 3);
    let anon = Browser::new(&w.server.url());
    assert_eq!(
        anon.get_bytes("/console/cases.csv").0,
        StatusCode::UNAUTHORIZED
    );
}

fn requests_json(api: &Api, query: &str) -> (StatusCode, Value) {
    let r = api
        .http
        .get(format!(
            "{}/console/open311/v2/requests.json{query}",
            api.base
        ))
        .header("authorization", format!("Bearer {}", api.token))
        .send()
        .unwrap();
    let status = r.status();
    assert_eq!(
        r.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    (status, serde_json::from_slice(&r.bytes().unwrap()).unwrap())
}

fn ids(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r["service_request_id"].as_str().unwrap())
        .collect()
}

#[test]
fn open311_requests_are_the_cores_export_for_a_bearer_token_or_a_session() {
    let w = world();
    let sup = w.server.user("sup-a", Role::Supervisor, &[YANTA]);
    let (status, all) = requests_json(&sup, "");
    assert_eq!(status, StatusCode::OK, "{all}");
    let mut got = ids(&all);
    got.sort();
    let mut want = vec![w.a1.as_str(), w.a2.as_str()];
    want.sort();
    assert_eq!(got, want, "Yanta's two, nothing of Beilin");
    for request in all.as_array().unwrap() {
        assert_eq!(open311_field_problems(request), Vec::<String>::new());
        // The same request the reporter's device exports, field for field.
        let id = request["service_request_id"].as_str().unwrap();
        let device = serde_json::to_value(w.f.ws.reports().export_open311(id).unwrap()).unwrap();
        assert_eq!(request, &device);
    }
    let a2 = all
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["service_request_id"] == w.a2.as_str());
    assert_eq!(a2.unwrap()["status"], "closed");

    // GeoReport v2's own parameters, beside the list's filters.
    assert_eq!(
        ids(&requests_json(&sup, "?status=closed").1),
        [w.a2.as_str()]
    );
    assert_eq!(ids(&requests_json(&sup, "?status=open").1), [w.a1.as_str()]);
    assert_eq!(
        ids(&requests_json(&sup, "?service_code=road.hazard").1),
        [w.a2.as_str()]
    );
    assert_eq!(ids(&requests_json(&sup, "?group=food").1), [w.a1.as_str()]);
    let q = format!("?service_request_id={},{}", w.a1, w.b1);
    assert_eq!(
        ids(&requests_json(&sup, &q).1),
        [w.a1.as_str()],
        "not Beilin's"
    );
    assert!(
        ids(&requests_json(
            &sup,
            "?start_date=2020-01-01T00:00:00Z&end_date=2020-02-01T00:00:00Z"
        )
        .1)
        .is_empty()
    );

    // Bad parameters: GeoReport v2's error shape, naming the parameter.
    let (status, err) = requests_json(&sup, "?status=acknowledged");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err[0]["code"], 400);
    assert!(
        err[0]["description"].as_str().unwrap().contains("status"),
        "{err}"
    );
    let (status, err) = requests_json(
        &sup,
        "?start_date=2026-01-01T00:00:00Z&end_date=2026-11-30T00:00:00Z",
    );
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");

    // The same answer through a console session.
    let b = Browser::signed_in(&w.server.url(), &sup.token);
    let page = b.get_with(
        "/console/open311/v2/requests.json",
        &[("accept", "application/json")],
    );
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(serde_json::from_str::<Value>(&page.body).unwrap(), all);

    // A Beilin grid worker sees only Beilin; a rider's token, a bad token or none are refused.
    let grid_b = w.server.user("grid-b", Role::Grid, &[BEILIN]);
    assert_eq!(ids(&requests_json(&grid_b, "").1), [w.b1.as_str()]);
    let rider = w.server.user("rider-9", Role::Rider, &[]);
    let (status, err) = requests_json(&rider, "");
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    assert_eq!(err[0]["code"], 403);
    assert_eq!(
        requests_json(&sup.with_token("not-a-token"), "").0,
        StatusCode::UNAUTHORIZED
    );
    let anon = Browser::new(&w.server.url());
    let page = anon.get_with(
        "/console/open311/v2/requests.json",
        &[("accept", "application/json")],
    );
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
}

#[test]
fn the_map_data_and_the_figures_count_the_visible_cases() {
    let w = world();
    let sup = w.server.user("sup-a", Role::Supervisor, &[YANTA]);
    let b = Browser::signed_in(&w.server.url(), &sup.token);

    // No station pack published yet: cases, no stations.
    let page = b.get_with("/console/map.json", &[("accept", "application/json")]);
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let data: Value = serde_json::from_str(&page.body).unwrap();
    assert_eq!(data["cases"].as_array().unwrap().len(), 2);
    assert_eq!(data["stations"].as_array().unwrap().len(), 0);
    for c in data["cases"].as_array().unwrap() {
        assert_ne!(c["id"], w.b1.as_str());
        // The Factory's reports are at the Bell Tower, WGS-84.
        assert!(
            (c["lat"].as_f64().unwrap() - BELL_TOWER.0).abs() < 1e-6,
            "{c}"
        );
        assert!(c.get("description").is_none() && c.get("merchant").is_none());
    }
    assert_eq!(data["statuses"].as_array().unwrap().len(), 6);

    // With the sample pack published: Yanta's 190 stations, in WGS-84.
    w.server
        .admin()
        .publish_pack(
            PackKind::Stations,
            &sample_station_pack(),
            &[packs::demo_trusted_key()],
        )
        .unwrap();
    let data: Value = serde_json::from_str(
        &b.get_with(
            "/console/map.json?lang=en",
            &[("accept", "application/json")],
        )
        .body,
    )
    .unwrap();
    let stations = data["stations"].as_array().unwrap();
    assert_eq!(stations.len(), 190);
    assert!(stations.iter().all(|s| s["lat"].as_f64().unwrap() > 33.5));
    assert_eq!(data["labels"]["stations"], "Red stations");
    let none: Value = serde_json::from_str(
        &b.get_with(
            &format!("/console/map.json?district={BEILIN}"),
            &[("accept", "application/json")],
        )
        .body,
    )
    .unwrap();
    assert!(none["cases"].as_array().unwrap().is_empty());
    assert!(
        none["stations"].as_array().unwrap().is_empty(),
        "not Beilin's stations"
    );

    // The map page: the frame map.js draws into, the legend, the same cases in a table.
    let page = b.get("/console/map");
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("data-source=\"/console/map.json?"),
        "{}",
        page.body
    );
    assert!(page.body.contains("/console/assets/map.js?v="));
    assert_eq!(page.body.matches("<tr data-report=").count(), 2);
    assert!(!page.body.contains(&w.b1));

    // The figures: two reports, one open, one closed, one each of food and road.
    let page = b.get("/console/figures");
    assert_eq!(page.status, StatusCode::OK);
    for needle in [
        "id=\"n-total\">2<",
        "id=\"n-open\">1<",
        "id=\"n-closed\">1<",
        "<tr data-group=\"food\"><th scope=\"row\">食品安全</th><td class=\"num\" data-value=\"1\">",
        "<tr data-group=\"road\"><th scope=\"row\">道路交通</th><td class=\"num\" data-value=\"1\">",
        "<tr data-group=\"access\"><th scope=\"row\">通行</th><td class=\"num\" data-value=\"0\">",
        "staff-a",
    ] {
        assert!(page.body.contains(needle), "{needle} in {}", page.body);
    }
    let admin = w.server.user("admin", Role::Admin, &[]);
    let a = Browser::signed_in(&w.server.url(), &admin.token);
    assert!(a.get("/console/figures").body.contains("id=\"n-total\">3<"));
    assert!(
        a.get("/console/figures?district=610103")
            .body
            .contains("id=\"n-total\">1<")
    );
}

#[test]
fn assets_are_served_with_types_etags_and_long_caching_and_pages_carry_the_csp() {
    let server = TestServer::start();
    let b = Browser::new(&server.url());
    let page = b.get("/console/login");
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    // The page links its assets by hash.
    let start = page
        .body
        .find("/console/assets/htmx.min.js?v=")
        .expect("htmx linked");
    let url = &page.body[start..page.body[start..].find('"').unwrap() + start];
    let r = b.get_with(url, &[]);
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(
        r.headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let etag = r.headers["etag"].to_str().unwrap().to_string();
    let again = b.get_with(url, &[("if-none-match", &etag)]);
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    // Without the hash: revalidate every time.
    let plain = b.get_with("/console/assets/htmx.min.js", &[]);
    assert_eq!(plain.headers["cache-control"], "no-cache");
    let geo = b.get_with("/console/assets/xian-districts.geojson", &[]);
    assert_eq!(geo.headers["content-type"], "application/geo+json");
    let doc: Value = serde_json::from_str(&geo.body).unwrap();
    assert_eq!(doc["features"].as_array().unwrap().len(), 13);
    let lic = b.get_with("/console/assets/licenses/echarts-LICENSE.txt", &[]);
    assert!(lic.body.contains("Apache License"));
    assert_eq!(
        b.get_with("/console/assets/../Cargo.toml", &[]).status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        b.get_with("/console/assets/nope.js", &[]).status,
        StatusCode::NOT_FOUND
    );
}
