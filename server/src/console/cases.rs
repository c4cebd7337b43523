//! `/console/cases`: the case list (filters, sort, pages, search), and the routes of the case
//! page (`detail`) and its follow-up actions (`actions`).
//!
//! The list is a plain GET form, so it works without JavaScript; with htmx a change of any
//! filter fetches only the results (`HX-Request`) and swaps them in, and the address bar keeps
//! the filter (`hx-push-url`), so a list can be bookmarked or sent to a colleague.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, FixedOffset, Offset, Utc};
use maud::{Markup, html};
use waystation_core::geo::XIAN_DISTRICTS;
use waystation_core::reports::ALL_CATEGORIES;
use waystation_core::sync::policy::Role;

use super::i18n::{self, Key, Lang, t};
use super::layout::{Section, page};
use super::query::{self, CaseFilter, CaseRow, SortDir, SortKey};
use super::session::{ConsoleError, ConsoleUser};
use crate::http::AppState;

mod actions;
mod choices;
mod detail;
mod forms;
mod refusal;

/// The case routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/cases", get(list))
        .route("/cases/{id}", get(detail::case_page))
        .route("/cases/{id}/events", post(actions::record))
        .route("/photos/{sha}", get(detail::photo))
}

/// Runs blocking store work off the async threads.
pub(crate) use crate::http::blocking;

/// The filter in `uri`'s query and the cases `user` may read that it matches (an HTML page's
/// view of [`load_visible`]: a bad parameter is a 400 naming it).
pub(crate) async fn filtered(
    state: &AppState,
    user: &ConsoleUser,
    uri: &Uri,
) -> Result<(CaseFilter, Vec<CaseRow>), ConsoleError> {
    let filter = CaseFilter::parse(uri.query())
        .map_err(|e| ConsoleError::bad_request(user.lang, e.to_string()))?;
    let rows = load_visible(state, user, &filter).await?;
    Ok((filter, rows))
}

/// The cases `user` may read that `filter` matches, sorted: [`query::visible_cases`] on the
/// blocking pool.
pub(crate) async fn load_visible(
    state: &AppState,
    user: &ConsoleUser,
    filter: &CaseFilter,
) -> Result<Vec<CaseRow>, ConsoleError> {
    let db = state.db.clone();
    let now = state.clock.now();
    let account = user.account.clone();
    let filter = filter.clone();
    blocking(move || query::visible_cases(db.read()?.as_ref(), &account, &filter, now))
        .await
        .map_err(|e| ConsoleError::from_api(user.lang, e))
}

/// A time as Xi'an reads it (Asia/Shanghai, UTC+8), to the minute.
pub(crate) fn local_time(t: DateTime<Utc>) -> String {
    let offset = FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix());
    t.with_timezone(&offset)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The district codes `user` covers (every district for an admin), for the filter.
fn districts_of(user: &ConsoleUser) -> Vec<&'static str> {
    XIAN_DISTRICTS
        .iter()
        .map(|d| d.code)
        .filter(|c| user.account.role == Role::Admin || user.account.areas.iter().any(|a| a == c))
        .collect()
}

/// A short text for a table cell: at most `n` characters.
pub(crate) fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(n).collect();
        out.push('…');
        out
    }
}

async fn list(
    State(state): State<AppState>,
    user: ConsoleUser,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let lang = user.lang;
    let (filter, rows) = match filtered(&state, &user, &uri).await {
        Ok(found) => found,
        Err(e) => return e.into_response(),
    };
    let results = results(lang, &filter, &rows);
    if headers.contains_key("hx-request") && !headers.contains_key("hx-boosted") {
        return results.into_response();
    }
    let body = html! {
        (filter_form(&user, &filter, "/console/cases"))
        (results)
    };
    page(&user, Section::Cases, t(lang, Key::CasesTitle), body).into_response()
}

fn select_option(value: &str, label: &str, selected: bool) -> Markup {
    html! {
        @if selected { option value=(value) selected { (label) } }
        @else { option value=(value) { (label) } }
    }
}

/// The filter form: a plain GET form to `action`. On the list htmx refreshes the results on
/// every change; the map and the figures (`action` another page) reload on submit, so their
/// charts are drawn afresh from the same filter.
pub(crate) fn filter_form(user: &ConsoleUser, f: &CaseFilter, action: &str) -> Markup {
    let lang = user.lang;
    let statuses = query::filter::STATUSES;
    let list = action == "/console/cases";
    html! {
        form.filters #filters method="get" action=(action) role="search"
            hx-get=[list.then_some(action)] hx-target=[list.then_some("#results")]
            hx-swap=[list.then_some("outerHTML")] hx-push-url=[list.then_some("true")]
            hx-trigger=[list.then_some("submit, change, input changed delay:500ms from:#q")] {
            fieldset {
                legend { (t(lang, Key::Filters)) }
                div.field {
                    label for="q" { (t(lang, Key::Search)) }
                    input #q type="search" name="q" value=(f.q.as_deref().unwrap_or(""))
                        aria-describedby="q-help" maxlength="100";
                    span.help #q-help { (t(lang, Key::SearchHelp)) }
                }
                div.field {
                    label for="district" { (t(lang, Key::District)) }
                    select #district name="district" {
                        (select_option("", t(lang, Key::AllDistricts), f.district.is_none()))
                        @for code in districts_of(user) {
                            (select_option(code, &i18n::district_label(lang, code),
                                f.district.as_deref() == Some(code)))
                        }
                    }
                }
                div.field {
                    label for="group" { (t(lang, Key::Group)) }
                    select #group name="group" {
                        (select_option("", t(lang, Key::AllGroups), f.group.is_none()))
                        @for g in query::filter::GROUPS {
                            (select_option(query::filter::group_code(g),
                                i18n::group_label(lang, g), f.group == Some(g)))
                        }
                    }
                }
                div.field {
                    label for="category" { (t(lang, Key::Category)) }
                    select #category name="category" {
                        (select_option("", t(lang, Key::AllCategories), f.category.is_none()))
                        @for c in ALL_CATEGORIES {
                            (select_option(c.code(), lang.pick(c.label_zh(), c.label_en()),
                                f.category == Some(c)))
                        }
                    }
                }
                div.field {
                    label for="status" { (t(lang, Key::Status)) }
                    select #status name="status" {
                        (select_option("", t(lang, Key::AllStatuses), f.status.is_none()))
                        (select_option("active", lang.pick("未结案", "Not closed"),
                            f.status == Some(query::StatusFilter::Active)))
                        (select_option("closed", lang.pick("已结案", "Closed"),
                            f.status == Some(query::StatusFilter::Closed)))
                        @for s in statuses {
                            (select_option(s.as_str(), i18n::status_label(lang, s),
                                f.status == Some(query::StatusFilter::Is(s))))
                        }
                    }
                }
                div.field {
                    label for="after" { (t(lang, Key::OpenedAfter)) }
                    input #after type="date" name="after"
                        value=(f.after.map(|d| d.to_string()).unwrap_or_default());
                }
                div.field {
                    label for="before" { (t(lang, Key::OpenedBefore)) }
                    input #before type="date" name="before"
                        value=(f.before.map(|d| d.to_string()).unwrap_or_default());
                }
                div.field {
                    label for="min_age" { (t(lang, Key::AgeDays)) }
                    input #min_age type="number" name="min_age" min="0" max="36500"
                        inputmode="numeric"
                        value=(f.min_age.map(|d| d.to_string()).unwrap_or_default());
                }
                input type="hidden" name="sort" value=(f.sort.code());
                input type="hidden" name="dir" value=(f.dir.code());
                div.buttons {
                    button type="submit" { (t(lang, Key::Apply)) }
                    a href=(action) { (t(lang, Key::Reset)) }
                }
            }
        }
    }
}

/// A sortable column header: a link that sorts by `key` (the other direction when already
/// sorted by it), with `aria-sort` on the sorted column.
fn sort_header(lang: Lang, f: &CaseFilter, key: SortKey, label: &str) -> Markup {
    let current = f.sort == key;
    let next_dir = match (current, f.dir) {
        (true, SortDir::Desc) => SortDir::Asc,
        (true, SortDir::Asc) => SortDir::Desc,
        (false, _) if key == SortKey::Created || key == SortKey::Updated => SortDir::Desc,
        (false, _) => SortDir::Asc,
    };
    let href = format!(
        "/console/cases?{}",
        f.to_query(Some(1), Some((key, next_dir)))
    );
    let aria = match (current, f.dir) {
        (false, _) => "none",
        (true, SortDir::Asc) => "ascending",
        (true, SortDir::Desc) => "descending",
    };
    let hint = match next_dir {
        SortDir::Asc => t(lang, Key::SortAscending),
        SortDir::Desc => t(lang, Key::SortDescending),
    };
    html! {
        th scope="col" aria-sort=(aria) {
            a href=(href) hx-get=(href) hx-target="#results" hx-swap="outerHTML"
                hx-push-url="true" {
                (label)
                span.visually-hidden { " (" (hint) ")" }
                @if current {
                    span.sort-mark aria-hidden="true" {
                        @if f.dir == SortDir::Asc { " ▲" } @else { " ▼" }
                    }
                }
            }
        }
    }
}

/// The results: count, table and pager (what htmx swaps).
fn results(lang: Lang, f: &CaseFilter, rows: &[CaseRow]) -> Markup {
    let p = query::page(rows, f);
    let pager_link = |n: usize| format!("/console/cases?{}", f.to_query(Some(n), None));
    html! {
        section #results aria-live="polite" {
            p.count {
                (p.total) " " (t(lang, Key::Results))
                // The same rows as a file (export.rs): every page, in this order.
                " · " a.download href={ "/console/cases.csv?" (f.to_query(Some(1), None)) } download {
                    (lang.pick("下载 CSV", "Download CSV"))
                }
            }
            @if p.total == 0 {
                p.empty { (t(lang, Key::NoCases)) }
            } @else {
                // Focusable, so a keyboard can scroll a table wider than the screen.
                div.table-wrap role="region" tabindex="0" aria-labelledby="cases-caption" {
                    table.cases {
                        caption #cases-caption { (t(lang, Key::CasesCaption)) }
                        thead {
                            tr {
                                (sort_header(lang, f, SortKey::Created, t(lang, Key::Created)))
                                (sort_header(lang, f, SortKey::Status, t(lang, Key::Status)))
                                (sort_header(lang, f, SortKey::Category, t(lang, Key::Category)))
                                (sort_header(lang, f, SortKey::District, t(lang, Key::District)))
                                (sort_header(lang, f, SortKey::Merchant, t(lang, Key::Merchant)))
                                th scope="col" { (t(lang, Key::Description)) }
                            }
                        }
                        tbody {
                            @for r in p.rows {
                                tr {
                                    td {
                                        a href={ "/console/cases/" (r.report_id) } {
                                            time datetime=(r.created.to_rfc3339()) {
                                                (local_time(r.created))
                                            }
                                        }
                                        // On a phone the last four columns are hidden and
                                        // shown here instead (console.css): one copy per screen.
                                        span.phone-only {
                                            (lang.pick(r.category.label_zh(), r.category.label_en()))
                                            @if let Some(d) = &r.district { " · " (i18n::district_label(lang, d)) }
                                            @if let Some(m) = &r.merchant { " · " (short(m, 30)) }
                                            @if let Some(d) = r.description.as_deref().or(r.address.as_deref()) {
                                                br; (short(d, 40))
                                            }
                                        }
                                    }
                                    td {
                                        span class={ "status status-" (r.status.as_str()) } {
                                            (i18n::status_label(lang, r.status))
                                        }
                                        @if r.withdrawn {
                                            " " span.withdrawn { (lang.pick("（已撤回）", "(withdrawn)")) }
                                        }
                                    }
                                    td { (lang.pick(r.category.label_zh(), r.category.label_en())) }
                                    td {
                                        (r.district.as_deref().map(|d| i18n::district_label(lang, d))
                                            .unwrap_or_default())
                                    }
                                    td { (r.merchant.as_deref().map(|m| short(m, 40)).unwrap_or_default()) }
                                    td {
                                        (r.description.as_deref().or(r.address.as_deref())
                                            .map(|d| short(d, 60)).unwrap_or_default())
                                    }
                                }
                            }
                        }
                    }
                }
                @if p.pages > 1 {
                    nav.pager aria-label=(t(lang, Key::PageOf)) {
                        @if p.page > 1 {
                            a href=(pager_link(p.page - 1)) hx-get=(pager_link(p.page - 1))
                                hx-target="#results" hx-swap="outerHTML" hx-push-url="true"
                                rel="prev" { (t(lang, Key::Previous)) }
                        }
                        span.current aria-current="page" {
                            (t(lang, Key::PageOf)) " " (p.page) " / " (p.pages)
                        }
                        @if p.page < p.pages {
                            a href=(pager_link(p.page + 1)) hx-get=(pager_link(p.page + 1))
                                hx-target="#results" hx-swap="outerHTML" hx-push-url="true"
                                rel="next" { (t(lang, Key::Next)) }
                        }
                    }
                }
            }
        }
    }
}
