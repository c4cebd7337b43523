//! `POST /console/cases/{id}/events`: a follow-up action taken in the console (acknowledge,
//! request info, dispatch, note, resolve, mark duplicate, reject, reopen: every kind of case
//! event).
//!
//! The event is written as a phone writes it: the core's case code
//! (`case::record_on_document`: field checks, the role table, the fold, the writer actor)
//! on the server's copy of the case document. The new change then goes in as a device's
//! would: encoded as the Automerge sync message a device with that copy sends, decoded and
//! checked by `decode::decode_message`, and handed to `sync::sync`, the sync endpoint's own
//! acceptance path (access, `policy::check_case` with the integrity checks, size bounds, the
//! feed). A refusal there is a refusal here, with nothing written; an accepted change is in
//! the feed, so riders' and follow-up phones get it at their next sync.
//!
//! Refused before anything is written: a missing or wrong CSRF token or a foreign origin
//! (`403`), an administrator (`403`: admins read, they write no case), an action the role may
//! not take for the category (`403`), a case this account may not read (`404`), a bad field
//! (`400`), an action the case's status does not allow or a case that changed since the page
//! was loaded — the same form sent twice included (`409`).
//!
//! The console asks a little more than the core, because a desk has the time to say it: a
//! request for information and a reopen say what is needed and why (their note is required),
//! and a duplicate names a report this account may read — not itself, not unknown, not
//! another district's (the same words for both, so the form is no oracle), not withdrawn, and
//! not one already marked as a duplicate of this case (the two would close each other).
//! Refusals are worded in the page's language (`refusal`).

use automerge::sync::SyncDoc;
use automerge::{AutoCommit, ChangeHash};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use waystation_core::reports::case::{applies_in, record_on_document, role_may};
use waystation_core::reports::{CaseEventKind, ReportId};
use waystation_core::sync::policy::DocRef;
use waystation_core::sync::starting_state;

use super::super::i18n::{Key, Lang, t};
use super::super::query;
use super::super::session::{self, ConsoleError, ConsoleUser};
use super::blocking;
use super::detail::{action_kind, case_version};
use super::refusal;
use crate::auth::{Authenticated, rfc3339};
use crate::decode::{DecodedDoc, DecodedRequest, decode_message};
use crate::error::ApiError;
use crate::http::AppState;

/// What the action's form sent.
struct ActionForm {
    csrf: Option<String>,
    version: String,
    action: String,
    note: String,
    grid_id: String,
    reason: String,
    /// The duplicate candidate picked (a radio button).
    of: String,
    /// A report id typed by hand.
    of_id: String,
}

impl ActionForm {
    fn parse(body: &[u8]) -> ActionForm {
        let mut f = ActionForm {
            csrf: None,
            version: String::new(),
            action: String::new(),
            note: String::new(),
            grid_id: String::new(),
            reason: String::new(),
            of: String::new(),
            of_id: String::new(),
        };
        for (k, v) in form_urlencoded::parse(body) {
            let v = v.into_owned();
            match k.as_ref() {
                "csrf" => f.csrf = Some(v),
                "version" => f.version = v,
                "action" => f.action = v,
                "note" => f.note = v,
                "grid_id" => f.grid_id = v,
                "reason" => f.reason = v,
                "of" => f.of = v,
                "of_id" => f.of_id = v,
                _ => {}
            }
        }
        f
    }
}

/// Why an action was not taken, before or inside the blocking work.
enum Refusal {
    Status(StatusCode, String),
    Api(ApiError),
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Refusal {
        Refusal::Api(e)
    }
}

impl From<crate::store::StoreError> for Refusal {
    fn from(e: crate::store::StoreError) -> Refusal {
        Refusal::Api(e.into())
    }
}

fn refusal_page(lang: Lang, r: Refusal) -> Response {
    match r {
        Refusal::Api(e) => ConsoleError::from_api(lang, e).into_response(),
        Refusal::Status(status, message) => ConsoleError {
            status,
            message,
            lang,
            retry_after_secs: None,
        }
        .into_response(),
    }
}

pub(crate) async fn record(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = user.lang;
    let form = ActionForm::parse(&body);
    if let Err(e) = session::check_post(&user, &headers, form.csrf.as_deref()) {
        return e.into_response();
    }
    let Ok(report_id) = ReportId::parse(&id) else {
        return ConsoleError::not_found(lang).into_response();
    };
    let Some(role) = user.account.role.case_role() else {
        return ConsoleError::forbidden(lang, Key::AdminReadOnly).into_response();
    };
    let Some(kind) = action_kind(&form.action) else {
        return ConsoleError::bad_request(lang, "action").into_response();
    };
    let kind = match kind {
        CaseEventKind::Dispatch { .. } => CaseEventKind::Dispatch {
            grid_id: form.grid_id.clone(),
        },
        CaseEventKind::Reject { .. } => CaseEventKind::Reject {
            reason: form.reason.clone(),
        },
        // The report it duplicates is read and checked with the case (`take_action`).
        k => k,
    };
    let db = state.db.clone();
    let now = state.clock.now();
    let who = Authenticated {
        account: user.account.clone(),
        // Not read by the sync path; the session already stands for the token.
        expires_at: now,
        scope_epoch: user.scope_epoch,
    };
    let done = blocking(move || {
        Ok(take_action(
            &db, &who, &report_id, role, kind, &form, now, lang,
        ))
    })
    .await;
    match done {
        Ok(Ok(report_id)) => {
            Redirect::to(&format!("/console/cases/{report_id}?done=1")).into_response()
        }
        Ok(Err(r)) => refusal_page(lang, r),
        Err(e) => ConsoleError::from_api(lang, e).into_response(),
    }
}

/// Checks, writes and submits the event; returns the report id to go back to.
#[allow(clippy::too_many_arguments)]
fn take_action(
    db: &crate::db::Db,
    who: &Authenticated,
    report_id: &ReportId,
    role: waystation_core::reports::CaseRole,
    kind: CaseEventKind,
    form: &ActionForm,
    now: chrono::DateTime<chrono::Utc>,
    lang: Lang,
) -> Result<ReportId, Refusal> {
    let account = &who.account;
    let case_id = waystation_core::reports::case::case_doc_id(report_id);
    let (doc, message, cursor) = {
        let tx = db.read()?;
        let tx = tx.as_ref();
        let Some(row) = query::visible_case(tx, account, report_id)? else {
            return Err(Refusal::Status(
                StatusCode::NOT_FOUND,
                t(lang, Key::NotFound).into(),
            ));
        };
        if !role_may(role, &kind, row.category) {
            return Err(Refusal::Status(
                StatusCode::FORBIDDEN,
                format!(
                    "{} ({} · {})",
                    t(lang, Key::Forbidden),
                    super::forms::action_label(lang, kind.name()),
                    lang.pick(row.category.label_zh(), row.category.label_en())
                ),
            ));
        }
        if form.version != case_version(&row.case) || !applies_in(row.case.status, &kind) {
            return Err(Refusal::Status(
                StatusCode::CONFLICT,
                lang.pick(
                    "案件在您打开此页后已有变化（或此表单已提交过），请刷新后再试。",
                    "The case changed since this page was loaded (or this form was already \
                     sent); reload it and try again.",
                )
                .into(),
            ));
        }
        // The console's own asks (see the module docs), after the role and the status.
        let bad_request = |message: &str| {
            Refusal::Status(
                StatusCode::BAD_REQUEST,
                format!("{}{}{message}", t(lang, Key::BadRequest), lang.colon()),
            )
        };
        let kind = match kind {
            CaseEventKind::MarkDuplicate { .. } => {
                let of = duplicate_choice(lang, form).map_err(bad_request)?;
                check_duplicate_target(tx, account, report_id, &of, lang)?;
                CaseEventKind::MarkDuplicate { of }
            }
            k => k,
        };
        if matches!(kind, CaseEventKind::RequestInfo | CaseEventKind::Reopen)
            && form.note.trim().is_empty()
        {
            return Err(bad_request(lang.pick(
                "请在备注中写明需要补充什么，或重新打开的原因。",
                "the note is required: say what is needed, or why the case is reopened",
            )));
        }
        let stored = crate::documents::load(tx, &case_id)?.map(|s| s.doc);
        let (mut doc, _) = record_on_document(
            stored.as_ref(),
            &row.report,
            &account.user,
            role,
            kind,
            &form.note,
            now,
        )
        .map_err(|e| {
            Refusal::Status(
                StatusCode::BAD_REQUEST,
                refusal::localized(lang, Key::BadRequest, &e.to_string()),
            )
        })?;
        let shared = stored.map(|mut s| s.get_heads()).unwrap_or_default();
        let message = device_message(&mut doc, shared)?;
        let cursor = crate::sync::cursor_at(tx.feed_position()?, who.scope_epoch)?;
        (doc, message, cursor)
    };
    drop(doc);
    let decoded = decode_message(&message).map_err(ApiError::bad_document)?;
    let request = DecodedRequest {
        cursor,
        docs: vec![DecodedDoc {
            doc_id: case_id,
            doc: DocRef::Case(report_id.clone()),
            message: decoded,
            message_bytes: message.len(),
        }],
    };
    let response = crate::sync::sync(db, who, request, &rfc3339(now))?;
    if let Some(reason) = response.docs.first().and_then(|d| d.refused.clone()) {
        // The policy's reason names rules and ids, never report content.
        return Err(Refusal::Status(
            StatusCode::FORBIDDEN,
            refusal::localized(lang, Key::Forbidden, &reason),
        ));
    }
    Ok(report_id.clone())
}

/// The report a duplicate names: the radio button picked or the id typed (trimmed); one of
/// them, or both the same. Parsed and checked against the store by
/// [`check_duplicate_target`]; the core checks the id's form again.
fn duplicate_choice(lang: Lang, form: &ActionForm) -> Result<String, &'static str> {
    let picked = form.of.trim();
    let typed = form.of_id.trim();
    match (picked.is_empty(), typed.is_empty()) {
        (true, true) => Err(lang.pick(
            "请选择或输入所重复的报告。",
            "mark duplicate needs the report it duplicates: pick one or enter its id",
        )),
        (false, false) if !picked.eq_ignore_ascii_case(typed) => Err(lang.pick(
            "选择的报告与输入的编号不一致，请只选一个。",
            "the report picked and the id entered differ; give one of them",
        )),
        (false, _) => Ok(picked.to_string()),
        (true, false) => Ok(typed.to_string()),
    }
}

/// Checks the report `of` that `report` would duplicate (see the module docs); a refusal is
/// `400` naming the field.
fn check_duplicate_target(
    tx: &dyn crate::store::StoreTx,
    account: &waystation_core::sync::policy::Account,
    report: &ReportId,
    of: &str,
    lang: Lang,
) -> Result<(), Refusal> {
    let bad = |zh: &str, en: &str| {
        Refusal::Status(
            StatusCode::BAD_REQUEST,
            format!(
                "{}{}{}",
                t(lang, Key::BadRequest),
                lang.colon(),
                lang.pick(zh, en)
            ),
        )
    };
    let Ok(of) = ReportId::parse(of) else {
        return Err(bad(
            "所重复的报告编号格式不对：应为报告的 UUID。",
            "the report it duplicates: not a report id (a UUID)",
        ));
    };
    if &of == report {
        return Err(bad(
            "不能把报告标记为它自己的重复。",
            "a report cannot be a duplicate of itself",
        ));
    }
    // A report of another district is answered like one that does not exist.
    let Some(target) = query::visible_case(tx, account, &of)? else {
        return Err(bad(
            "没有这个报告，或此账号无权查看。",
            "the report it duplicates: no such report, or this account may not see it",
        ));
    };
    if target.withdrawn {
        return Err(bad(
            "所重复的报告已被报告人撤回，无人跟进；请改选其他报告。",
            "the report it duplicates was withdrawn by its reporter, so nobody follows it; \
             pick another",
        ));
    }
    if target.case.duplicate_of.as_ref() == Some(report) {
        return Err(bad(
            "那份报告已被标记为本报告的重复；两者互相结案将无人跟进。",
            "that report is marked as a duplicate of this one; the two would close each other",
        ));
    }
    Ok(())
}

/// The sync message a device holding `doc` sends to a server that holds `shared` (the heads
/// of its copy): every change since, as the core's sync client builds it (a state that
/// starts from the shared heads).
fn device_message(doc: &mut AutoCommit, shared: Vec<ChangeHash>) -> Result<Vec<u8>, ApiError> {
    let mut state = starting_state(shared);
    let message = doc
        .sync()
        .generate_sync_message(&mut state)
        .ok_or_else(|| ApiError::internal("a recorded case event made no sync message"))?;
    Ok(message.encode())
}
