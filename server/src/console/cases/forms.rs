//! The case page's follow-up forms: one per action the account's role may take now
//! (`detail::allowed_actions`), each a plain POST to `/console/cases/{id}/events` carrying the
//! CSRF token, the case's version and the action (see `actions`).
//!
//! Dispatch offers the grids of the case's district as a list to pick from (a `datalist`, so
//! a new grid can still be typed); mark duplicate offers the nearby reports of the same
//! category as radio buttons, and a text field for any other report id (`choices`).

use maud::{Markup, html};

use super::super::i18n::{self, Key, Lang, t};
use super::super::query::CaseRow;
use super::super::session::ConsoleUser;
use super::choices::{CANDIDATE_RADIUS_M, CANDIDATE_WINDOW_DAYS, Candidate, Choices};
use super::detail::{allowed_actions, case_version};
use super::{local_time, short};

/// The "Actions" section of the case page.
pub(crate) fn actions(user: &ConsoleUser, row: &CaseRow, choices: &Choices) -> Markup {
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
            div.action-forms {
                @for a in &allowed {
                    @let id = |f: &str| format!("{a}-{f}");
                    form.action method="post" action=(action_url) {
                        fieldset {
                            legend { (action_label(lang, a)) }
                            (hidden(a))
                            @match *a {
                                "dispatch" => {
                                    label for=(id("grid")) { (t(lang, Key::GridId)) }
                                    @if choices.grids.is_empty() {
                                        input id=(id("grid")) type="text" name="grid_id" required
                                            maxlength="64" autocomplete="off";
                                    } @else {
                                        input id=(id("grid")) type="text" name="grid_id" required
                                            maxlength="64" autocomplete="off" list=(id("grids"))
                                            aria-describedby=(id("grid-help"));
                                        datalist id=(id("grids")) {
                                            @for g in &choices.grids { option value=(g) {} }
                                        }
                                        span.help id=(id("grid-help")) {
                                            (t(lang, Key::GridsOfDistrict)) (lang.colon())
                                            (choices.grids.join(lang.pick("、", ", ")))
                                        }
                                    }
                                }
                                "reject" => {
                                    label for=(id("reason")) { (t(lang, Key::Reason)) }
                                    textarea id=(id("reason")) name="reason" required maxlength="1000" rows="2" {}
                                }
                                "mark_duplicate" => {
                                    (duplicate_fields(lang, &choices.duplicates))
                                    label for=(id("note")) { (t(lang, Key::NoteText)) }
                                    textarea id=(id("note")) name="note" maxlength="2000" rows="2" {}
                                }
                                "note" | "request_info" | "reopen" => {
                                    label for=(id("note")) { (note_label(lang, a)) }
                                    textarea id=(id("note")) name="note" required maxlength="2000" rows="3" {}
                                }
                                _ => {
                                    label for=(id("note")) { (t(lang, Key::NoteText)) }
                                    textarea id=(id("note")) name="note" maxlength="2000" rows="2" {}
                                }
                            }
                            @if matches!(*a, "reject" | "mark_duplicate") {
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
}

/// The report a duplicate follows: the nearby candidates as radio buttons (`of`), and a text
/// field for any other report id (`of_id`).
fn duplicate_fields(lang: Lang, candidates: &[Candidate]) -> Markup {
    let scope = match lang {
        Lang::Zh => format!(
            "同一类别、{CANDIDATE_RADIUS_M:.0} 米以内、前后 {CANDIDATE_WINDOW_DAYS} 天内提交的报告"
        ),
        Lang::En => format!(
            "Reports of the same category within {CANDIDATE_RADIUS_M:.0} m, submitted within \
             {CANDIDATE_WINDOW_DAYS} days of this one"
        ),
    };
    html! {
        @if candidates.is_empty() {
            p.help #mark_duplicate-none { (t(lang, Key::NoDuplicateCandidates)) " (" (scope) ")" }
        } @else {
            fieldset.candidates {
                legend { (t(lang, Key::DuplicateCandidates)) }
                span.help { (scope) }
                ul.candidates {
                    @for (i, c) in candidates.iter().enumerate() {
                        @let r = &c.row;
                        @let input_id = format!("mark_duplicate-of-{i}");
                        li {
                            input type="radio" name="of" id=(input_id) value=(r.report_id);
                            label for=(input_id) {
                                (format!("{:.0}", c.distance_m)) " " (lang.pick("米", "m"))
                                " · " (local_time(r.created))
                                " · " (i18n::status_label(lang, r.status))
                                @if let Some(text) = r.merchant.as_deref()
                                    .or(r.description.as_deref()).or(r.address.as_deref()) {
                                    " · " (short(text, 30))
                                }
                            }
                            a href={ "/console/cases/" (r.report_id) } {
                                (t(lang, Key::OpenCase))
                                span.visually-hidden { " " (local_time(r.created)) }
                            }
                        }
                    }
                }
            }
        }
        label for="mark_duplicate-of-id" {
            @if candidates.is_empty() { (t(lang, Key::DuplicateOfId)) }
            @else { (t(lang, Key::DuplicateOfOtherId)) }
        }
        input #mark_duplicate-of-id type="text" name="of_id" maxlength="36" autocomplete="off"
            spellcheck="false" aria-describedby="mark_duplicate-of-id-help";
        span.help #mark_duplicate-of-id-help { (t(lang, Key::DuplicateOfIdHelp)) }
    }
}

/// The label of the note of an action whose note is its content.
fn note_label(lang: Lang, action: &str) -> &'static str {
    match action {
        "request_info" => t(lang, Key::RequestInfoText),
        "reopen" => t(lang, Key::ReopenText),
        _ => t(lang, Key::NoteText),
    }
}

/// The button text of an action.
pub(crate) fn action_label(lang: Lang, action: &str) -> &'static str {
    match action {
        "acknowledge" => t(lang, Key::Acknowledge),
        "request_info" => t(lang, Key::RequestInfo),
        "dispatch" => t(lang, Key::Dispatch),
        "note" => t(lang, Key::Note),
        "resolve" => t(lang, Key::Resolve),
        "mark_duplicate" => t(lang, Key::MarkDuplicate),
        "reopen" => t(lang, Key::Reopen),
        _ => t(lang, Key::Reject),
    }
}
