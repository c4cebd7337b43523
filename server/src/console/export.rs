//! Downloads of a filtered case list: `/console/cases.csv?<filters>` for a spreadsheet, and
//! Open311 GeoReport v2 `/console/open311/v2/requests.json?<filters + Open311's own>` for the
//! city's 12345 hotline system ([`open311`]). Both read `query::visible_cases` with the list's
//! filters, so a download holds exactly the rows the list shows, whatever the page.
//!
//! The CSV is written by the `csv` crate (RFC 4180 quoting), in UTF-8 with a byte-order mark
//! (Excel, the spreadsheet of most district offices in China, reads BOM-less UTF-8 as GBK and
//! garbles Chinese). A cell a person or phone wrote that starts with `=`, `+`, `-`, `@`, a tab
//! or a carriage return gets a leading `'`, so a spreadsheet shows it as text and never runs it
//! as a formula (CSV injection; OWASP's advice). The reporter's account is left out, as in the
//! GeoJSON export: a district office needs the case, not who sent it.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, FixedOffset, Offset, Utc};

use super::cases::load_visible;
use super::i18n::{self, Lang};
use super::query::{CaseFilter, CaseRow};
use super::session::{ConsoleError, ConsoleUser};
use crate::http::AppState;

pub mod open311;

/// The export routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/cases.csv", get(cases_csv))
        .route("/open311/v2/requests.json", get(open311::requests))
}

/// `text` made safe to open in a spreadsheet: a leading `'` when it starts with a character a
/// spreadsheet reads as the start of a formula.
pub fn neutralise(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

fn local(t: DateTime<Utc>) -> String {
    let offset = FixedOffset::east_opt(8 * 3600).unwrap_or(Utc.fix());
    t.with_timezone(&offset)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// The columns' headings, in `lang`.
fn headings(lang: Lang) -> [&'static str; 22] {
    let zh = [
        "报告编号",
        "提交时间（北京时间）",
        "状态代码",
        "状态",
        "已撤回",
        "类别代码",
        "类别",
        "类别组",
        "区县代码",
        "区县",
        "受理驿站账号",
        "网格",
        "商户名称",
        "商户地址",
        "地址",
        "描述",
        "纬度（WGS-84）",
        "经度（WGS-84）",
        "受理时间（北京时间）",
        "结案时间（北京时间）",
        "更新时间（北京时间）",
        "照片数",
    ];
    let en = [
        "report_id",
        "submitted (Beijing time)",
        "status_code",
        "status",
        "withdrawn",
        "category_code",
        "category",
        "category_group",
        "district_code",
        "district",
        "station account",
        "grid",
        "merchant",
        "merchant_address",
        "address",
        "description",
        "latitude (WGS-84)",
        "longitude (WGS-84)",
        "acknowledged (Beijing time)",
        "closed (Beijing time)",
        "updated (Beijing time)",
        "photos",
    ];
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

/// The CSV file of `rows`: BOM, headings, one line per case.
pub fn csv_bytes(lang: Lang, rows: &[CaseRow]) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(b"\xEF\xBB\xBF".to_vec());
    out.write_record(headings(lang))?;
    let text = |s: Option<&str>| neutralise(s.unwrap_or(""));
    let time = |t: Option<DateTime<Utc>>| t.map(local).unwrap_or_default();
    for r in rows {
        let (lat, lon) = match r.position {
            Some((lat, lon)) => (format!("{lat:.6}"), format!("{lon:.6}")),
            None => (String::new(), String::new()),
        };
        let district = r.district.as_deref();
        out.write_record([
            r.report_id.to_string(),
            local(r.created),
            r.status.as_str().to_string(),
            i18n::status_label(lang, r.status).to_string(),
            lang.pick(
                if r.withdrawn { "是" } else { "否" },
                if r.withdrawn { "yes" } else { "no" },
            )
            .to_string(),
            r.category.code().to_string(),
            lang.pick(r.category.label_zh(), r.category.label_en())
                .to_string(),
            i18n::group_label(lang, r.group).to_string(),
            text(district),
            district
                .map(|d| i18n::district_label(lang, d))
                .unwrap_or_default(),
            text(r.station.as_deref()),
            text(r.grid_id.as_deref()),
            text(r.merchant.as_deref()),
            text(r.merchant_address.as_deref()),
            text(r.address.as_deref()),
            text(r.description.as_deref()),
            lat,
            lon,
            time(r.acknowledged_at),
            time(r.closed_at),
            time(r.updated_at),
            r.photos.len().to_string(),
        ])?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

async fn cases_csv(State(state): State<AppState>, user: ConsoleUser, uri: Uri) -> Response {
    let lang = user.lang;
    let filter = match CaseFilter::parse(uri.query()) {
        Ok(f) => f,
        Err(e) => return plain(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let rows = match load_visible(&state, &user, &filter).await {
        Ok(rows) => rows,
        Err(e) => return plain(e.status, &e.message),
    };
    let bytes = match csv_bytes(lang, &rows) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("waystation-server: console: CSV not written: {e}");
            let e = ConsoleError::from_api(lang, crate::error::ApiError::internal("csv"));
            return plain(e.status, &e.message);
        }
    };
    let name = format!(
        "waystation-cases-{}.csv",
        local(state.clock.now()).replace([' ', ':'], "-")
    );
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// A refusal as plain text (a download has no page to show it in).
pub(crate) fn plain(status: StatusCode, message: &str) -> Response {
    let mut r = (status, message.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_are_neutralised_and_others_kept() {
        for (raw, safe) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+86 029 1234", "'+86 029 1234"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("老王外卖店", "老王外卖店"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(neutralise(raw), safe);
        }
    }

    #[test]
    fn an_empty_list_is_a_bom_and_the_headings() {
        let bytes = csv_bytes(Lang::Zh, &[]).unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
        let text = std::str::from_utf8(&bytes[3..]).unwrap();
        assert!(text.starts_with("报告编号,"), "{text}");
        assert!(text.ends_with("照片数\r\n"), "{text}");
        assert_eq!(text.lines().count(), 1);
        let en = csv_bytes(Lang::En, &[]).unwrap();
        assert!(
            std::str::from_utf8(&en[3..])
                .unwrap()
                .starts_with("report_id,")
        );
    }
}
