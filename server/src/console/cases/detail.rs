//! `/console/cases/{id}`: one case — the report, its photos, the timeline of case events and
//! the actions the account's role may take now — and `/console/photos/{sha}`, the photos,
//! read with the same check as `/v1/photos`.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use waystation_core::reports::case::{applies_in, role_may};
use waystation_core::reports::{CaseEventKind, CaseRole, CaseView, ReportId};

use super::super::i18n::{self, Key, Lang, t};
use super::super::layout::{Section, page};
use super::super::query::{self, CaseRow};
use super::super::session::{ConsoleError, ConsoleUser};
use super::{blocking, choices, forms, local_time};
use crate::http::AppState;

/// The actions the console offers, in the order shown: every event kind of the core's case
/// document (`CaseEventKind`), those that move a case on first.
pub(crate) const ACTIONS: [&str; 8] = [
    "acknowledge",
    "request_info",
    "dispatch",
    "note",
    "resolve",
    "mark_duplicate",
    "reject",
    "reopen",
];

/// The event an action writes (its text fields filled in later).
pub(crate) fn action_kind(action: &str) -> Option<CaseEventKind> {
    Some(match action {
        "acknowledge" => CaseEventKind::Acknowledge,
        "dispatch" => CaseEventKind::Dispatch {
            grid_id: String::new(),
        },
        "note" => CaseEventKind::Note,
        "request_info" => CaseEventKind::RequestInfo,
        "mark_duplicate" => CaseEventKind::MarkDuplicate { of: String::new() },
        "resolve" => CaseEventKind::Resolve,
        "reject" => CaseEventKind::Reject {
            reason: String::new(),
        },
        "reopen" => CaseEventKind::Reopen,
        _ => return None,
    })
}

/// The actions `role` may take on `row` now: those the role table allows for its category
/// and the case's status lets apply (the same rules the apps and the server's checks use).
pub(crate) fn allowed_actions(role: Option<CaseRole>, row: &CaseRow) -> Vec<&'static str> {
    let Some(role) = role else {
        return Vec::new();
    };
    ACTIONS
        .into_iter()
        .filter(|a| {
            action_kind(a).is_some_and(|k| {
                role_may(role, &k, row.category) && applies_in(row.case.status, &k)
            })
        })
        .collect()
}

/// A token for the case as this page shows it: a form carries it, and an action on a case
/// that changed since (another event, or the same form sent twice) is refused with `409`.
pub(crate) fn case_version(view: &CaseView) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for e in &view.timeline {
        h.update(e.event.id.as_bytes());
        h.update(b"\n");
    }
    for id in view.unreadable_events.iter().chain(&view.disputed_events) {
        h.update(id.as_bytes());
        h.update(b"\n");
    }
    h.finalize()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(crate) async fn case_page(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    uri: Uri,
) -> Response {
    let lang = user.lang;
    // A malformed id is a page that does not exist, like a case this account may not read.
    let Ok(id) = ReportId::parse(&id) else {
        return ConsoleError::not_found(lang).into_response();
    };
    let db = state.db.clone();
    let account = user.account.clone();
    let now = state.clock.now();
    let found = blocking(move || {
        let tx = db.read()?;
        let Some(row) = query::visible_case(tx.as_ref(), &account, &id)? else {
            return Ok(None);
        };
        let allowed = allowed_actions(account.role.case_role(), &row);
        let choices = choices::for_case(tx.as_ref(), &account, &row, &allowed, now)?;
        Ok(Some((row, choices)))
    })
    .await;
    let (row, choices) = match found {
        Ok(Some(found)) => found,
        Ok(None) => return ConsoleError::not_found(lang).into_response(),
        Err(e) => return ConsoleError::from_api(lang, e).into_response(),
    };
    let done = uri
        .query()
        .is_some_and(|q| form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "done"));
    let title = format!(
        "{} · {}",
        t(lang, Key::CaseTitle),
        lang.pick(row.category.label_zh(), row.category.label_en())
    );
    let body = html! {
        @if done {
            p.notice role="status" { (t(lang, Key::ActionDone)) }
        }
        p.case-status {
            (t(lang, Key::Status)) (lang.colon())
            span class={ "status status-" (row.status.as_str()) } {
                (i18n::status_label(lang, row.status))
            }
            @if let Some(g) = &row.grid_id { " · " (t(lang, Key::Grid)) " " (g) }
            @if let Some(of) = &row.case.duplicate_of {
                " · " (t(lang, Key::DuplicateOf)) " "
                a href={ "/console/cases/" (of) } { (of) }
            }
        }
        (report_section(lang, &row))
        (timeline(lang, &row.case))
        (forms::actions(&user, &row, &choices))
        p { a href="/console/cases" { (t(lang, Key::BackToCases)) } }
    };
    page(&user, Section::Cases, &title, body).into_response()
}

fn report_section(lang: Lang, r: &CaseRow) -> Markup {
    let field = |key: Key, value: Option<String>| {
        html! {
            @if let Some(v) = value.filter(|v| !v.is_empty()) {
                dt { (t(lang, key)) }
                dd { (v) }
            }
        }
    };
    let position = r.report.position.as_ref().map(|p| {
        let mut s = format!("{:.6}, {:.6}", p.lat, p.lon);
        if let Some(a) = p.accuracy_m {
            s.push_str(&format!(" (± {a:.0} m)"));
        }
        s
    });
    html! {
        section aria-labelledby="report-h" {
            h2 #report-h { (t(lang, Key::Report)) }
            @if r.withdrawn { p.notice { (t(lang, Key::Withdrawn)) } }
            dl.report {
                (field(Key::Category, Some(format!("{} ({})",
                    lang.pick(r.category.label_zh(), r.category.label_en()), r.category.code()))))
                (field(Key::District, r.district.as_deref().map(|d| i18n::district_label(lang, d))))
                (field(Key::Created, Some(local_time(r.created))))
                (field(Key::Description, r.description.clone()))
                (field(Key::Merchant, r.merchant.clone()))
                (field(Key::Address, r.merchant_address.clone().or_else(|| r.address.clone())))
                (field(Key::Position, position))
                (field(Key::Author, Some(r.author.clone())))
                (field(Key::Acknowledged, r.acknowledged_at.map(local_time)))
                (field(Key::Closed, r.closed_at.map(local_time)))
            }
            h3 { (t(lang, Key::Photos)) }
            @if r.photos.is_empty() {
                p { (t(lang, Key::NoPhotos)) }
            } @else {
                ul.photos {
                    @for (i, sha) in r.photos.iter().enumerate() {
                        li {
                            a href={ "/console/photos/" (sha) } {
                                img src={ "/console/photos/" (sha) } loading="lazy"
                                    alt={ (t(lang, Key::Photos)) " " (i + 1) };
                            }
                        }
                    }
                }
            }
        }
    }
}

fn timeline(lang: Lang, case: &CaseView) -> Markup {
    html! {
        section aria-labelledby="timeline-h" {
            h2 #timeline-h { (t(lang, Key::Timeline)) }
            @if case.timeline.is_empty() {
                p { (t(lang, Key::NoEvents)) }
            } @else {
                div.table-wrap role="region" tabindex="0" aria-labelledby="timeline-h" {
                    table.timeline {
                        caption.visually-hidden { (t(lang, Key::Timeline)) }
                        thead {
                            tr {
                                th scope="col" { (t(lang, Key::When)) }
                                th scope="col" { (t(lang, Key::Who)) }
                                th scope="col" { (t(lang, Key::Role)) }
                                th scope="col" { (t(lang, Key::What)) }
                            }
                        }
                        tbody {
                            @for e in &case.timeline {
                                tr {
                                    td { time datetime=(e.event.at.to_rfc3339()) { (local_time(e.event.at)) } }
                                    td { (e.event.actor) }
                                    td { (i18n::role_label(lang, e.event.role)) }
                                    td {
                                        (i18n::event_label(lang, &e.event.kind))
                                        @match &e.event.kind {
                                            CaseEventKind::Dispatch { grid_id } => { (lang.colon()) (grid_id) }
                                            CaseEventKind::Reject { reason } => { (lang.colon()) (reason) }
                                            CaseEventKind::MarkDuplicate { of } => {
                                                (lang.colon()) a href={ "/console/cases/" (of) } { (of) }
                                            }
                                            _ => {}
                                        }
                                        @if let Some(n) = &e.event.note { p.note { (n) } }
                                        @if !e.applied {
                                            p.not-applied {
                                                "(" (t(lang, Key::NotApplied))
                                                @if let Some(why) = &e.not_applied_because { (lang.colon()) (why) }
                                                ")"
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A photo, for a signed-in account that may read it: the same check as `/v1/photos/{sha}`
/// (`photos::get`), and the same `404` for a photo it may not read as for a missing one.
pub(crate) async fn photo(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(sha): Path<String>,
) -> Response {
    let lang = user.lang;
    if crate::photos::check_path(&sha).is_err() {
        return ConsoleError::not_found(lang).into_response();
    }
    let db = state.db.clone();
    let account = user.account.clone();
    let etag = format!("\"{sha}\"");
    let got = blocking(move || crate::photos::get(&db, &account, &sha)).await;
    match got {
        Ok((bytes, mime)) => {
            let mut r = (StatusCode::OK, bytes).into_response();
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_str(&mime).unwrap_or(HeaderValue::from_static("image/jpeg")),
            );
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=86400"),
            );
            if let Ok(v) = HeaderValue::from_str(&etag) {
                h.insert(header::ETAG, v);
            }
            r
        }
        Err(e) if e.status == StatusCode::NOT_FOUND => {
            ConsoleError::not_found(lang).into_response()
        }
        Err(e) => ConsoleError::from_api(lang, e).into_response(),
    }
}
