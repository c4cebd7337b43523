//! `/console/login` and `/console/logout`.
//!
//! Sign-in takes the bearer token an administrator issued (`waystation-server token issue`,
//! the one the phone apps use), checks it exactly as `/v1` does (`auth::authenticate`:
//! unknown, revoked and expired tokens refused), and exchanges it for a session
//! ([`super::session`]). The token is not kept in the browser. A wrong token is answered
//! `401`, which the server's failed-login limit counts per address like the API's; past the
//! limit the address gets `429` until it cools down. A rider's token opens no console.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Duration;
use maud::{Markup, html};
use waystation_core::sync::policy::Role;

use super::i18n::{Key, Lang, t};
use super::layout::bare_page;
use super::session::{
    self, ConsoleError, ConsoleUser, SESSION_COOKIE, SESSION_HOURS, cookie, new_secret,
    session_hash,
};
use crate::auth;
use crate::error::ApiError;
use crate::http::{AppState, blocking};
use crate::store::console::NewSession;

/// The sign-in and sign-out routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
}

fn login_form(lang: Lang, error: Option<&str>) -> Markup {
    let title = t(lang, Key::LoginTitle);
    bare_page(
        lang,
        title,
        html! {
            p { (t(lang, Key::LoginIntro)) }
            @if let Some(e) = error {
                p.error #login-error role="alert" { (e) }
            }
            form.login method="post" action="/console/login" {
                label for="token" { (t(lang, Key::LoginToken)) }
                @if error.is_some() {
                    input #token type="password" name="token" required autocomplete="off"
                        spellcheck="false" aria-describedby="token-help login-error"
                        aria-invalid="true";
                } @else {
                    input #token type="password" name="token" required autocomplete="off"
                        spellcheck="false" aria-describedby="token-help";
                }
                p.help #token-help { (t(lang, Key::LoginTokenHelp)) }
                input type="hidden" name="lang" value=(lang.code());
                button type="submit" { (t(lang, Key::LoginSubmit)) }
            }
        },
    )
}

async fn login_page(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let lang = Lang::of_request(uri.query(), &headers);
    // Already signed in: straight to the cases.
    if let Some(id) = cookie(&headers, SESSION_COOKIE).filter(|v| !v.is_empty()) {
        let db = state.db.clone();
        let now = state.clock.now();
        let live = blocking(move || session::lookup(db.read()?.as_ref(), &id, now)).await;
        if matches!(live, Ok(Some((ref a, _, _))) if a.role != Role::Rider) {
            return Redirect::to("/console/cases").into_response();
        }
    }
    login_form(lang, None).into_response()
}

/// Why a token was refused, in the page's language (the checks are `auth::authenticate`'s).
fn refusal(lang: Lang, e: &ApiError) -> String {
    let reason = if e.message.contains("revoked") {
        lang.pick("此令牌已被吊销", "this token was revoked")
    } else if e.message.contains("expired") {
        lang.pick("此令牌已过期", "this token has expired")
    } else {
        lang.pick("没有这个令牌", "unknown token")
    };
    format!(
        "{}{}{reason}{}",
        t(lang, Key::LoginFailed),
        lang.colon(),
        lang.pick(
            "。请向管理员申请新的令牌。",
            ". Ask an administrator for a new one."
        )
    )
}

async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
    };
    let lang = field("lang")
        .and_then(|l| Lang::parse(&l))
        .unwrap_or_else(|| Lang::of_request(uri.query(), &headers));
    // No session yet, so no CSRF token: a sign-in posted from another site is refused by
    // its Origin (login CSRF would sign the victim in as the attacker).
    if session::cross_site(&headers) {
        return ConsoleError::forbidden(lang, Key::CsrfFailed).into_response();
    }
    let token = field("token").unwrap_or_default();
    if token.is_empty() {
        let msg = format!(
            "{}{}{}",
            t(lang, Key::LoginFailed),
            lang.colon(),
            t(lang, Key::LoginToken)
        );
        return (StatusCode::BAD_REQUEST, login_form(lang, Some(&msg))).into_response();
    }
    let db = state.db.clone();
    let now = state.clock.now();
    let created = blocking(move || {
        let who = match auth::authenticate(db.read()?.as_ref(), &token, now) {
            Ok(who) => who,
            Err(e) if e.status == StatusCode::UNAUTHORIZED => return Ok(Err(e)),
            Err(e) => return Err(e),
        };
        if who.account.role == Role::Rider {
            return Ok(Ok(None));
        }
        let id = new_secret()?;
        let csrf = new_secret()?;
        let expires = (now + Duration::hours(SESSION_HOURS)).min(who.expires_at);
        let tx = db.write()?;
        tx.delete_dead_sessions(now.timestamp())?;
        tx.insert_session(&NewSession {
            session_hash: &session_hash(&id),
            user: &who.account.user,
            token_hash: &auth::token_hash(&token),
            csrf: &csrf,
            created_at: now.timestamp(),
            expires_at: expires.timestamp(),
        })?;
        tx.commit()?;
        Ok(Ok(Some((id, (expires - now).num_seconds().max(1)))))
    })
    .await;
    match created {
        Err(e) => ConsoleError::from_api(lang, e).into_response(),
        Ok(Err(e)) => (
            StatusCode::UNAUTHORIZED,
            login_form(lang, Some(&refusal(lang, &e))),
        )
            .into_response(),
        Ok(Ok(None)) => ConsoleError::forbidden(lang, Key::RiderNoConsole).into_response(),
        Ok(Ok(Some((id, max_age)))) => {
            let mut r = Redirect::to("/console/cases").into_response();
            if let Ok(v) = HeaderValue::from_str(&session::session_cookie(&id, max_age)) {
                r.headers_mut().append(header::SET_COOKIE, v);
            }
            r
        }
    }
}

async fn logout(
    State(state): State<AppState>,
    user: ConsoleUser,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let csrf = form_urlencoded::parse(&body)
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.into_owned());
    if let Err(e) = session::check_post(&user, &headers, csrf.as_deref()) {
        return e.into_response();
    }
    let Some(id) = cookie(&headers, SESSION_COOKIE) else {
        return Redirect::to("/console/login").into_response();
    };
    let db = state.db.clone();
    let deleted = blocking(move || {
        let tx = db.write()?;
        tx.delete_session(&session_hash(&id))?;
        tx.commit()?;
        Ok(())
    })
    .await;
    if let Err(e) = deleted {
        return ConsoleError::from_api(user.lang, e).into_response();
    }
    let mut r = Redirect::to("/console/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&session::cleared_cookie()) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}
