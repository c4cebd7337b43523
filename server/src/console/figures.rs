//! `/console/figures`: the numbers the city reports, over the cases the account may read and
//! the list's own filters (the same query string: a figure of a district is that district's
//! list, counted). Reports by category group and by month, open versus closed and by status,
//! and the median time to acknowledge and to resolve per district and per station
//! ([`stats`] does the arithmetic).
//!
//! Each chart is drawn by `figures.js` from the table beside it: the table is the figure for a
//! screen reader and for anyone who wants the exact numbers; the chart (ECharts, served by the
//! server) repeats it and is hidden from assistive technology. Without JavaScript the tables
//! remain.

use axum::Router;
use axum::extract::State;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Duration;
use maud::{Markup, html};

use super::assets;
use super::cases::{filter_form, filtered};
use super::i18n::{self, Lang};
use super::layout::{Section, page};
use super::query::CaseRow;
use super::query::filter::group_code;
use super::session::ConsoleUser;
use crate::http::AppState;

pub mod stats;

use stats::Timing;

/// The figures route.
pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/figures", get(figures))
}

async fn figures(State(state): State<AppState>, user: ConsoleUser, uri: Uri) -> Response {
    let lang = user.lang;
    let (filter, rows) = match filtered(&state, &user, &uri).await {
        Ok(found) => found,
        Err(e) => return e.into_response(),
    };
    let title = lang.pick("统计", "Figures");
    let body = html! {
        (filter_form(&user, &filter, "/console/figures"))
        (content(lang, &rows))
        script src=(assets::url("echarts.min.js")) defer {}
        script src=(assets::url("figures.js")) defer {}
    };
    page(&user, Section::Figures, title, body).into_response()
}

/// Everything below the filter form: pure markup of `rows`.
pub(crate) fn content(lang: Lang, rows: &[CaseRow]) -> Markup {
    let oc = stats::open_closed(rows);
    html! {
        ul.summary aria-label=(lang.pick("概况", "Summary")) {
            li { strong #n-total { (rows.len()) } (lang.pick("件报告", "reports")) }
            li { strong #n-open { (oc.open) } (lang.pick("件未结案", "not closed")) }
            li { strong #n-closed { (oc.closed) } (lang.pick("件已结案", "closed")) }
        }
        @if rows.is_empty() {
            p.empty { (lang.pick("没有符合条件的报告。", "No report matches these filters.")) }
        } @else {
            (by_group(lang, rows))
            (by_month(lang, rows))
            (open_closed(lang, rows))
            (timings(lang, "district", &stats::timings_by_district(rows), &stats::timings_overall(rows)))
            (timings(lang, "station", &stats::timings_by_station(rows), &stats::timings_overall(rows)))
            p.help {
                (lang.pick(
                    "月份按北京时间（UTC+8）计算。已结案：已办结、不予处理、重复，或报告人已撤回。\
                     受理用时：从提交到首次受理；办结用时：从提交到办结，仅计已办结的案件。",
                    "Months are counted in Beijing time (UTC+8). Closed: resolved, rejected, \
                     duplicate, or withdrawn by the reporter. Time to acknowledge: from \
                     submission to the first acknowledgement; time to resolve: from submission \
                     to resolution, resolved cases only.",
                ))
            }
        }
    }
}

/// A figure: its heading, the chart (drawn from the table) and the table.
fn figure(id: &str, heading: &str, kind: &str, wide: bool, table: Markup) -> Markup {
    html! {
        section.figure.figure-wide[wide] aria-labelledby={ "h-" (id) } {
            h2 #{ "h-" (id) } { (heading) }
            div.chart data-table={ "t-" (id) } data-kind=(kind) data-integer="1"
                aria-hidden="true" {}
            // It may scroll: focusable, so a keyboard can scroll it too (WCAG 2.1.1).
            div.table-wrap tabindex="0" role="region" aria-label=(heading) { (table) }
        }
    }
}

fn by_group(lang: Lang, rows: &[CaseRow]) -> Markup {
    let heading = lang.pick("按类别统计的报告", "Reports by category group");
    let table = html! {
        table #t-group {
            caption { (heading) }
            thead { tr {
                th scope="col" { (lang.pick("类别", "Group")) }
                th.num scope="col" data-series { (lang.pick("报告数", "Reports")) }
            } }
            tbody {
                @for (g, n) in stats::by_group(rows) {
                    tr data-group=(group_code(g)) {
                        th scope="row" { (i18n::group_label(lang, g)) }
                        td.num data-value=(n) { (n) }
                    }
                }
            }
        }
    };
    figure("group", heading, "bar", false, table)
}

fn by_month(lang: Lang, rows: &[CaseRow]) -> Markup {
    let heading = lang.pick("按月份统计的报告", "Reports by month");
    let months = stats::by_month(rows);
    let table = html! {
        table #t-month {
            caption { (heading) " " (lang.pick("（按类别）", "(by category group)")) }
            thead { tr {
                th scope="col" { (lang.pick("月份", "Month")) }
                @for g in super::query::filter::GROUPS {
                    th.num scope="col" data-series { (i18n::group_label(lang, g)) }
                }
                th.num scope="col" { (lang.pick("合计", "Total")) }
            } }
            tbody {
                @for m in &months {
                    tr {
                        th scope="row" { time datetime=(m.label()) { (m.label()) } }
                        @for n in m.by_group {
                            td.num data-value=(n) { (n) }
                        }
                        td.num { (m.total()) }
                    }
                }
            }
        }
    };
    figure("month", heading, "stacked", true, table)
}

fn open_closed(lang: Lang, rows: &[CaseRow]) -> Markup {
    let heading = lang.pick("未结案与已结案", "Open and closed");
    let statuses = stats::by_status(rows);
    let oc = stats::open_closed(rows);
    let withdrawn = rows.iter().filter(|r| r.withdrawn).count();
    let table = html! {
        table #t-status {
            caption { (heading) " " (lang.pick("（按状态）", "(by status)")) }
            thead { tr {
                th scope="col" { (lang.pick("状态", "Status")) }
                th.num scope="col" data-series { (lang.pick("案件数", "Cases")) }
            } }
            tbody {
                @for (s, n) in &statuses {
                    tr data-status=(s.as_str()) {
                        th scope="row" { (i18n::status_label(lang, *s)) }
                        td.num data-value=(n) { (n) }
                    }
                }
            }
            tfoot {
                tr {
                    th scope="row" { (lang.pick("未结案（待受理、已受理、处理中）", "Not closed (open, acknowledged, in progress)")) }
                    td.num #oc-open { (oc.open) }
                }
                tr {
                    th scope="row" {
                        (lang.pick("已结案", "Closed"))
                        " " (lang.pick("（已办结、不予处理、重复）", "(resolved, rejected, duplicate)"))
                        @if withdrawn > 0 {
                            " " (lang.pick("（含已撤回 ", "(including ")) (withdrawn)
                            (lang.pick(" 件）", " withdrawn)"))
                        }
                    }
                    td.num #oc-closed { (oc.closed) }
                }
            }
        }
    };
    figure("status", heading, "bar", false, table)
}

/// A duration as hours with one decimal, or a dash.
fn hours_cell(lang: Lang, d: Option<Duration>) -> Markup {
    match d {
        Some(d) => {
            let h = stats::hours(d);
            html! { td.num data-value=(h) { (format!("{h:.1}")) " " (lang.pick("小时", "h")) } }
        }
        None => html! { td.num data-value="" { "—" } },
    }
}

fn timings(lang: Lang, by: &str, rows: &[Timing], all: &Timing) -> Markup {
    let (heading, key_label) = if by == "district" {
        (
            lang.pick(
                "各区县受理与办结用时（中位数）",
                "Median time to acknowledge and to resolve, per district",
            ),
            lang.pick("区县", "District"),
        )
    } else {
        (
            lang.pick(
                "各驿站受理与办结用时（中位数）",
                "Median time to acknowledge and to resolve, per station",
            ),
            lang.pick(
                "驿站（受理账号）",
                "Station (account that took the case on)",
            ),
        )
    };
    let name = |t: &Timing| match (&t.key, by) {
        (Some(code), "district") => i18n::district_label(lang, code),
        (Some(k), _) => k.clone(),
        (None, _) => lang.pick("全部", "All").to_string(),
    };
    let row = |t: &Timing, total: bool| {
        html! {
            tr.total[total] {
                th scope="row" { (name(t)) }
                td.num { (t.cases) }
                td.num { (t.acknowledged) }
                (hours_cell(lang, t.median_acknowledge))
                td.num { (t.resolved) }
                (hours_cell(lang, t.median_resolve))
            }
        }
    };
    let table = html! {
        table #{ "t-" (by) } {
            caption { (heading) }
            thead { tr {
                th scope="col" { (key_label) }
                th.num scope="col" { (lang.pick("案件数", "Cases")) }
                th.num scope="col" { (lang.pick("已受理", "Acknowledged")) }
                th.num scope="col" data-series { (lang.pick("受理用时", "Time to acknowledge")) }
                th.num scope="col" { (lang.pick("已办结", "Resolved")) }
                th.num scope="col" data-series { (lang.pick("办结用时", "Time to resolve")) }
            } }
            tbody {
                @for t in rows { (row(t, false)) }
            }
            tfoot { (row(all, true)) }
        }
    };
    if rows.is_empty() {
        return html! {
            section.figure.figure-wide aria-labelledby={ "h-" (by) } {
                h2 #{ "h-" (by) } { (heading) }
                p.empty { (lang.pick("还没有驿站受理过这些案件。", "No station has taken any of these cases on yet.")) }
            }
        };
    }
    html! {
        // Wide: the table has six columns.
        section.figure.figure-wide aria-labelledby={ "h-" (by) } {
            h2 #{ "h-" (by) } { (heading) }
            div.chart data-table={ "t-" (by) } data-kind="bar" aria-hidden="true" {}
            div.table-wrap tabindex="0" role="region" aria-label=(heading) { (table) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_rows_is_a_page_that_says_so_in_both_languages() {
        let zh = content(Lang::Zh, &[]).into_string();
        assert!(zh.contains("没有符合条件的报告"), "{zh}");
        assert!(zh.contains("id=\"n-total\">0<"), "{zh}");
        let en = content(Lang::En, &[]).into_string();
        assert!(en.contains("No report matches"), "{en}");
        assert!(!en.contains("style="));
    }
}
