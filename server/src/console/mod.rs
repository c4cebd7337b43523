//! The follow-up console (issue 16, decision 0013): web pages for district offices, grid
//! workers, station staff and supervisors, served by the sync server under `/console/`.
//!
//! - Sign-in ([`auth`]) exchanges a bearer token for a session cookie ([`session`]); riders
//!   have no console. Every POST carries the session's CSRF token.
//! - Every page reads cases through [`query::visible_cases`], which returns what the account
//!   may read through `/v1` and nothing more: the sync feed's access rule, not a second one.
//! - Follow-up actions ([`cases`]) write the case document with the core's own event code and
//!   hand the change to the sync endpoint's acceptance path, so it is checked like a phone's
//!   and reaches the phones at their next sync.
//! - Pages are maud templates ([`layout`]), Chinese first ([`i18n`]), with htmx for partial
//!   updates; every asset is served by the server (no CDN).
//!
//! The console holds no state of its own in memory: sessions are rows in the store, so any
//! instance answers any browser.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::http::AppState;

pub mod assets;
pub mod auth;
pub mod cases;
pub mod export;
pub mod figures;
pub mod i18n;
pub mod layout;
pub mod map;
pub mod query;
pub mod session;

pub use session::{ConsoleError, ConsoleUser};

/// The largest form body a console POST may send.
pub const MAX_FORM_BYTES: usize = 16 * 1024;

/// The Content-Security-Policy of every console answer: only the server's own scripts,
/// styles, images and connections; no inline script or style, no framing, forms only to the
/// console itself.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; \
    frame-ancestors 'none'; base-uri 'none'";

/// The console's routes, nested at `/console` by the server's router.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console/cases") }))
        .merge(auth::routes())
        .merge(cases::routes())
        .merge(figures::routes())
        .merge(map::routes())
        .merge(export::routes())
        .merge(assets::routes())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
        .layer(axum::middleware::map_response(headers))
        .layer(axum::middleware::from_fn(remember_lang))
}

/// A `?lang=zh|en` choice is remembered in a cookie, so the next pages (links, forms,
/// redirects) keep the language the user picked over the browser's.
async fn remember_lang(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let chosen = request.uri().query().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "lang")
            .and_then(|(_, v)| i18n::Lang::parse(&v))
    });
    let mut r = next.run(request).await;
    if let Some(lang) = chosen {
        let c = format!(
            "{}={}; Max-Age=31536000; Path=/console; SameSite=Lax",
            i18n::LANG_COOKIE,
            lang.code()
        );
        if let Ok(v) = HeaderValue::from_str(&c) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    r
}

async fn not_found(headers: axum::http::HeaderMap, uri: axum::http::Uri) -> Response {
    let lang = i18n::Lang::of_request(uri.query(), &headers);
    ConsoleError::not_found(lang).into_response()
}

/// Security headers on every console answer (a handler's own, e.g. an asset's cache policy,
/// are kept): the CSP, no framing, no referrer beyond the origin, and `no-store` for pages,
/// which show personal data and must not stay in a shared computer's cache.
async fn headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    let defaults = [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in defaults {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    }
    r
}

/// The answer to a console request from an address that sent too many bad tokens: the
/// sign-in limit's `429` as a page (the API answers it in CBOR).
pub(crate) fn limited(
    headers: &axum::http::HeaderMap,
    uri: &axum::http::Uri,
    e: crate::error::ApiError,
) -> Response {
    let lang = i18n::Lang::of_request(uri.query(), headers);
    let mut err = ConsoleError::new(lang, StatusCode::TOO_MANY_REQUESTS, i18n::Key::LoginLimited);
    err.retry_after_secs = e.retry_after_secs;
    err.into_response()
}
