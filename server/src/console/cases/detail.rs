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
use super::{blocking, local_time};
use crate::http::AppState;

/// The actions the console offers, in the order shown.
pub(crate) const ACTIONS: [&str; 5] = ["acknowledge", "dispatch", "note", "resolve", "reject"];

/// The event an action writes (its text fields filled in later).
pub(crate) fn action_kind(action: &str) -> Option<CaseEventKind> {
    Some(match action {
        "acknowledge" => CaseEventKind::Acknowledge,
        "dispatch" => CaseEventKind::Dispatch {
            grid_id: String::new(),
        },
        "note" => CaseEventKind::Note,
        "resolve" => CaseEventKind::Resolve,
        "reject" => CaseEventKind::Reject {
            reason: String::new(),
        },
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
    let found = blocking(move || query::visible_case(db.read()?.as_ref(), &account, &id)).await;
    let row = match found {
        Ok(Some(row)) => row,
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
        }
        (report_section(lang, &row))
        (timeline(lang, &row.case))
        (actions(&user, &row))
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
                                            CaseEventKind::MarkDuplicate { of } => { (lang.colon()) (of) }
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

fn actions(user: &ConsoleUser, row: &CaseRow) -> Markup {
    let lang = user.lang;
    let role = user.account.role.case_role();
    let allowed = allowed_actions(role, row);
    let action_url = format!("/console/cases/{}/events", row.report_id);
    let version = case_version(&row.case);
    let hidden = |action: &str| {
        html! {
            input type="hidden" name="csrf" value=(user.csrf);
            input type="hidden" name="version" value=(version);
            input type="hidden" name="action" value=(action);
        }
    };
    html! {
        section aria-labelledby="actions-h" {
            h2 #actions-h { (t(lang, Key::Actions)) }
            @if role.is_none() {
                p { (t(lang, Key::AdminReadOnly)) }
            } @else if allowed.is_empty() {
                p { (t(lang, Key::NoActions)) }
            }
            @for a in &allowed {
                @let id = |f: &str| format!("{a}-{f}");
                form.action method="post" action=(action_url) {
                    fieldset {
                        legend { (action_label(lang, a)) }
                        (hidden(a))
                        @match *a {
                            "dispatch" => {
                                label for=(id("grid")) { (t(lang, Key::GridId)) }
                                input id=(id("grid")) type="text" name="grid_id" required maxlength="64";
                            }
                            "reject" => {
                                label for=(id("reason")) { (t(lang, Key::Reason)) }
                                textarea id=(id("reason")) name="reason" required maxlength="1000" rows="2" {}
                            }
                            "note" => {
                                label for=(id("note")) { (t(lang, Key::NoteText)) }
                                textarea id=(id("note")) name="note" required maxlength="2000" rows="3" {}
                            }
                            _ => {
                                label for=(id("note")) { (t(lang, Key::NoteText)) }
                                textarea id=(id("note")) name="note" maxlength="2000" rows="2" {}
                            }
                        }
                        @if *a == "reject" {
                            button.danger type="submit" { (action_label(lang, a)) }
                        } @else {
                            button type="submit" { (action_label(lang, a)) }
                        }
                    }
                }
            }
        }
    }
}

/// The button text of an action.
pub(crate) fn action_label(lang: Lang, action: &str) -> &'static str {
    match action {
        "acknowledge" => t(lang, Key::Acknowledge),
        "dispatch" => t(lang, Key::Dispatch),
        "note" => t(lang, Key::Note),
        "resolve" => t(lang, Key::Resolve),
        _ => t(lang, Key::Reject),
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
