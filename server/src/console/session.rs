//! Console sessions: the cookie, the signed-in account ([`ConsoleUser`]) and the CSRF and
//! Origin checks every POST passes.
//!
//! A session id is 32 random bytes (unpadded base64url in the `console_session` cookie); the
//! store keeps only its SHA-256, like bearer tokens, so a copy of the database signs nobody
//! in. It lasts [`SESSION_HOURS`] from sign-in, not sliding (a sliding expiry would write the
//! store on every page view, on every instance), and never longer than the bearer token it
//! was exchanged for: the lookup joins that token, so revoking it or erasing the account ends
//! the session at the next request. The role and the districts are read from the account on
//! every request, so an admin's change applies at once.
//!
//! The cookie is `HttpOnly; Secure; SameSite=Strict; Path=/console`. Each session has its own
//! CSRF token (32 random bytes), which every form carries in a hidden `csrf` field (htmx sends
//! it as `X-CSRF-Token`); a POST without it, with another, or with an `Origin` or
//! `Sec-Fetch-Site` naming another site is refused with `403` before anything is read.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use waystation_core::sync::policy::{Account, Role};

use super::i18n::{Key, Lang, t};
use crate::error::ApiError;
use crate::http::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "console_session";
/// How long a session lasts from sign-in, at most (never past its token's expiry).
pub const SESSION_HOURS: i64 = 12;

/// The signed-in account of a console request. Extracting it checks the session cookie (and
/// the per-account rate limit, like `/v1`); without a valid session an HTML request is sent
/// to `/console/login`, anything else gets `401`.
#[derive(Clone, Debug)]
pub struct ConsoleUser {
    /// The account (user id, role, districts), as `/v1` would see it.
    pub account: Account,
    /// The request's language.
    pub lang: Lang,
    /// This session's CSRF token, for the forms of the page.
    pub csrf: String,
    /// The account's scope epoch.
    pub scope_epoch: u64,
    /// The request's query string without `lang`, so the language switch keeps the page's
    /// filters.
    pub query: String,
}

impl ConsoleUser {
    /// The user id.
    pub fn user(&self) -> &str {
        &self.account.user
    }
}

/// A random 32-byte secret, unpadded base64url.
pub(crate) fn new_secret() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| ApiError::internal(format!("no random numbers for a session: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// What the store keeps of a session id.
pub(crate) fn session_hash(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

/// The value of cookie `name`, if the request sent it.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
}

/// The `Set-Cookie` value of a new session.
pub(crate) fn session_cookie(id: &str, max_age_secs: i64) -> String {
    format!(
        "{SESSION_COOKIE}={id}; Max-Age={max_age_secs}; Path=/console; HttpOnly; Secure; \
         SameSite=Strict"
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub(crate) fn cleared_cookie() -> String {
    format!("{SESSION_COOKIE}=; Max-Age=0; Path=/console; HttpOnly; Secure; SameSite=Strict")
}

/// Equal strings, compared in time independent of where they differ.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Why a console request is refused: a status and a message for a person, shown as a page.
#[derive(Debug)]
pub struct ConsoleError {
    /// HTTP status.
    pub status: StatusCode,
    /// What to say, already in the request's language.
    pub message: String,
    /// The language of the page.
    pub lang: Lang,
    /// Seconds to wait before trying again (`429`, `503`).
    pub retry_after_secs: Option<u64>,
}

impl ConsoleError {
    /// An error with `status` and the text of `key`.
    pub fn new(lang: Lang, status: StatusCode, key: Key) -> ConsoleError {
        ConsoleError {
            status,
            message: t(lang, key).to_string(),
            lang,
            retry_after_secs: None,
        }
    }

    /// `404`: no such page, or not one this account may see (the same words either way).
    pub fn not_found(lang: Lang) -> ConsoleError {
        ConsoleError::new(lang, StatusCode::NOT_FOUND, Key::NotFound)
    }

    /// `403` with the text of `key`.
    pub fn forbidden(lang: Lang, key: Key) -> ConsoleError {
        ConsoleError::new(lang, StatusCode::FORBIDDEN, key)
    }

    /// `400` naming what was wrong (`detail` names the field, never stored data).
    pub fn bad_request(lang: Lang, detail: impl Into<String>) -> ConsoleError {
        ConsoleError {
            status: StatusCode::BAD_REQUEST,
            message: format!(
                "{}{}{}",
                t(lang, Key::BadRequest),
                lang.colon(),
                detail.into()
            ),
            lang,
            retry_after_secs: None,
        }
    }

    /// An API error as a page: `500` says nothing more (the cause is logged); the others
    /// keep their message in English, and in Chinese say what their code means
    /// ([`api_error_zh`]).
    pub fn from_api(lang: Lang, e: ApiError) -> ConsoleError {
        let message = if e.status == StatusCode::INTERNAL_SERVER_ERROR {
            t(lang, Key::ServerError).to_string()
        } else if lang == Lang::Zh {
            api_error_zh(e.code).map_or(e.message, String::from)
        } else {
            e.message
        };
        ConsoleError {
            status: e.status,
            message,
            lang,
            retry_after_secs: e.retry_after_secs,
        }
    }
}

/// The Chinese sentence for an API error code a console page can meet (the sync path's and
/// the store's), `None` for one it cannot (its English message is shown then).
pub(crate) fn api_error_zh(code: &str) -> Option<&'static str> {
    Some(match code {
        "busy" => "服务器繁忙，未保存任何内容，请稍后再试。",
        "rate_limited" => "此账号的请求过于频繁，请稍后再试。",
        "too_large" => "提交的内容超过了服务器的大小限制。",
        "timeout" => "请求超时，未保存任何内容。",
        "malformed_body" | "bad_document" => {
            "提交的案件数据未通过服务器的检查，未保存任何内容。请刷新后重试。"
        }
        "quota_photos" | "quota_bytes" | "quota_documents" => {
            "此账号存储的内容已达服务器允许的上限，未保存任何内容。"
        }
        "forbidden" => "此账号无权执行该操作。",
        "not_found" => "没有这个页面，或您的账号无权查看。",
        "unauthorized" => "登录已失效，请重新登录。",
        _ => return None,
    })
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let mut r = (
            self.status,
            super::layout::error_page(self.lang, self.status, &self.message),
        )
            .into_response();
        if let Some(secs) = self.retry_after_secs {
            r.headers_mut()
                .insert(header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
        }
        r
    }
}

/// Whether a request wants a page (so is sent to sign in) rather than data (so gets `401`).
fn wants_html(parts: &Parts) -> bool {
    let path = parts.uri.path();
    if path.ends_with(".json") || path.ends_with(".csv") {
        return false;
    }
    parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|a| a.contains("text/html") || a.contains("*/*"))
}

/// The answer to a request without a valid session.
fn signed_out(parts: &Parts, lang: Lang) -> Response {
    if parts.headers.contains_key("hx-request") {
        // htmx swaps fragments; it follows this header with a full page load instead.
        let mut r = StatusCode::UNAUTHORIZED.into_response();
        r.headers_mut().insert(
            "hx-redirect",
            axum::http::HeaderValue::from_static("/console/login"),
        );
        return r;
    }
    if wants_html(parts) {
        return Redirect::to("/console/login").into_response();
    }
    let mut r = (
        StatusCode::UNAUTHORIZED,
        t(lang, Key::SessionEnded).to_string(),
    )
        .into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// The account of a live session, `None` when the session is unknown, expired, or its token
/// was revoked or expired. A rider's session is refused with the page that says why.
pub(crate) fn lookup(
    tx: &dyn crate::store::StoreTx,
    session_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<(Account, String, u64)>, ApiError> {
    let Some(row) = tx.session(&session_hash(session_id))? else {
        return Ok(None);
    };
    let now = now.timestamp();
    if row.expires_at <= now || row.token_expires_at <= now || row.token_revoked_at.is_some() {
        return Ok(None);
    }
    let role: Role = row
        .role
        .parse()
        .map_err(|e| ApiError::internal(format!("stored role: {e}")))?;
    let areas = tx.user_areas(&row.user)?;
    Ok(Some((
        Account {
            user: row.user,
            role,
            areas,
        },
        row.csrf,
        row.scope_epoch,
    )))
}

impl FromRequestParts<AppState> for ConsoleUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<ConsoleUser, Response> {
        let lang = Lang::of_request(parts.uri.query(), &parts.headers);
        let Some(id) = cookie(&parts.headers, SESSION_COOKIE).filter(|v| !v.is_empty()) else {
            return Err(signed_out(parts, lang));
        };
        let db = state.db.clone();
        let now = state.clock.now();
        let found = tokio::task::spawn_blocking(move || lookup(db.read()?.as_ref(), &id, now))
            .await
            .map_err(|e| ApiError::internal(format!("request task failed: {e}")))
            .and_then(|r| r)
            .map_err(|e| ConsoleError::from_api(lang, e).into_response())?;
        let Some((account, csrf, scope_epoch)) = found else {
            return Err(signed_out(parts, lang));
        };
        if account.role == Role::Rider {
            return Err(ConsoleError::forbidden(lang, Key::RiderNoConsole).into_response());
        }
        if let Some(limit) = &state.limit {
            limit
                .check(&account.user)
                .map_err(|e| ConsoleError::from_api(lang, e).into_response())?;
        }
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(
                form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
                    .filter(|(k, _)| k != "lang"),
            )
            .finish();
        Ok(ConsoleUser {
            account,
            lang,
            csrf,
            scope_epoch,
            query,
        })
    }
}

/// Whether the browser says a request comes from another site: `Sec-Fetch-Site:
/// cross-site`, or an `Origin` that is not this host (`null` included). A request without
/// either (a non-browser client) is judged by its CSRF token alone.
pub(crate) fn cross_site(headers: &HeaderMap) -> bool {
    if headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"))
    {
        return true;
    }
    match headers.get(header::ORIGIN) {
        None => false,
        Some(origin) => {
            let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
            let origin_host = origin
                .to_str()
                .ok()
                .and_then(|o| o.split_once("://"))
                .map(|(_, rest)| rest.trim_end_matches('/'));
            host.is_none() || origin_host != host
        }
    }
}

/// Checks a POST: the CSRF token (the form's `csrf` field, or the `X-CSRF-Token` header), and
/// that the browser does not say it comes from another site (`Origin` must name this host;
/// `Sec-Fetch-Site` must not be `cross-site`).
pub fn check_post(
    user: &ConsoleUser,
    headers: &HeaderMap,
    form_csrf: Option<&str>,
) -> Result<(), ConsoleError> {
    let refused = || ConsoleError::forbidden(user.lang, Key::CsrfFailed);
    if cross_site(headers) {
        return Err(refused());
    }
    let sent = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .or(form_csrf);
    match sent {
        Some(token) if same_secret(token, &user.csrf) => Ok(()),
        _ => Err(refused()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn api_errors_are_worded_in_chinese_by_code_and_kept_in_english() {
        let busy = ApiError::write_queue_full(64, 2);
        let zh = ConsoleError::from_api(Lang::Zh, busy.clone());
        assert_eq!(zh.message, "服务器繁忙，未保存任何内容，请稍后再试。");
        assert_eq!(
            (zh.status, zh.retry_after_secs),
            (StatusCode::SERVICE_UNAVAILABLE, Some(2))
        );
        assert_eq!(
            ConsoleError::from_api(Lang::En, busy.clone()).message,
            busy.message
        );
        let quota = ApiError::quota("quota_bytes", "over 100 MB");
        assert!(
            ConsoleError::from_api(Lang::Zh, quota)
                .message
                .contains("上限")
        );
        // A code no console page meets keeps its (English) message; a 500 says nothing more.
        let odd = ApiError::bad_path("x");
        assert_eq!(ConsoleError::from_api(Lang::Zh, odd).message, "x");
        let internal = ConsoleError::from_api(Lang::Zh, ApiError::internal("test: no store"));
        assert_eq!(internal.message, t(Lang::Zh, Key::ServerError));
    }

    fn user() -> ConsoleUser {
        ConsoleUser {
            account: Account {
                user: "s1".into(),
                role: Role::Supervisor,
                areas: vec!["610113".into()],
            },
            lang: Lang::En,
            csrf: "abc123".into(),
            scope_epoch: 0,
            query: String::new(),
        }
    }

    #[test]
    fn cookies_are_found_by_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; console_session=xyz ; b=2"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("xyz"));
        assert_eq!(cookie(&h, "c"), None);
        assert!(session_cookie("id", 60).contains("HttpOnly; Secure; SameSite=Strict"));
    }

    #[test]
    fn posts_need_the_token_and_this_origin() {
        let u = user();
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8443"));
        assert!(check_post(&u, &h, Some("abc123")).is_ok());
        assert_eq!(
            check_post(&u, &h, None).unwrap_err().status,
            StatusCode::FORBIDDEN
        );
        assert!(check_post(&u, &h, Some("abc124")).is_err());
        assert!(check_post(&u, &h, Some("abc12")).is_err());
        h.insert("x-csrf-token", HeaderValue::from_static("abc123"));
        assert!(check_post(&u, &h, None).is_ok());
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://127.0.0.1:8443"),
        );
        assert!(check_post(&u, &h, None).is_ok());
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(check_post(&u, &h, None).is_err());
        h.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(check_post(&u, &h, None).is_err());
        h.remove(header::ORIGIN);
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(check_post(&u, &h, None).is_err());
    }
}
