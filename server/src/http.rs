//! The HTTP surface: routes, authentication, body limits, and errors as CBOR. Every handler
//! does its database work on tokio's blocking pool.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State, rejection::PathRejection};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use std::sync::Arc;
use std::time::Instant;
use waystation_core::Clock;
use waystation_core::sync::protocol::{
    self, CBOR_CONTENT_TYPE, MAX_PHOTO_BYTES, MAX_SYNC_BODY_BYTES, Me,
};

use crate::admin::PackKind;
use crate::auth::{self, Authenticated, rfc3339};
use crate::db::Db;
use crate::error::ApiError;
use crate::limit::{FailedLogins, RateLimit};
use crate::store::timing;
use crate::{decode, photos, sync, training_images};

/// What every handler shares: the database, the clock, the per-account rate limit and the
/// per-address failed-login limit (the only per-client state, and only counts).
#[derive(Clone)]
pub(crate) struct AppState {
    pub db: Arc<Db>,
    pub clock: Arc<dyn Clock>,
    pub limit: Option<Arc<RateLimit>>,
    pub failed_logins: Option<Arc<FailedLogins>>,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`serve --trusted-proxy`).
    pub trusted_proxies: Arc<[std::net::IpAddr]>,
    pub body_idle_timeout: std::time::Duration,
}

/// The server's routes.
pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/v1/sync", post(sync_handler))
        .route("/v1/me", get(me))
        .route("/v1/photos/{*sha}", get(get_photo).put(put_photo))
        .route("/v1/packs/{*kind}", get(get_pack))
        .route("/v1/training/images/{*sha}", get(get_training_image))
        // The web console (issue 16): its pages, sessions and actions.
        .nest("/console", crate::console::router())
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limit_failed_logins,
        ))
        .layer(axum::middleware::map_response(protocol_header))
        .layer(axum::middleware::map_response(nosniff))
        .with_state(state)
}

/// Refuses every request from an address that sent too many bad tokens (`429
/// login_limited`, before the token is looked up), and counts each `401` against its address
/// (`limit::FailedLogins`). `/healthz` takes no token and is never refused.
async fn limit_failed_logins(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let (Some(limit), Some(peer)) = (state.failed_logins.clone(), peer) else {
        return next.run(request).await;
    };
    let peer = if state.trusted_proxies.contains(&peer) {
        forwarded_for(request.headers()).unwrap_or(peer)
    } else {
        peer
    };
    if request.uri().path() == "/healthz" {
        return next.run(request).await;
    }
    if let Err(e) = limit.check(peer, state.clock.now()) {
        // A browser at the console's sign-in gets the refusal as a page.
        if request.uri().path().starts_with("/console") {
            return crate::console::limited(request.headers(), request.uri(), e);
        }
        return e.into_response();
    }
    let response = next.run(request).await;
    if response.status() == StatusCode::UNAUTHORIZED {
        limit.record_failure(peer, state.clock.now());
    }
    response
}

/// The client address a trusted proxy appended to `X-Forwarded-For` (the last one: those
/// before it come from the client and prove nothing).
fn forwarded_for(headers: &HeaderMap) -> Option<std::net::IpAddr> {
    let last = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .rfind(|s| !s.is_empty())?;
    last.parse().ok()
}

/// Every answer carries `X-Content-Type-Options: nosniff`: a browser shown a photo's or an
/// error's bytes (a grid worker's desk, an Open311 `media_url`) keeps the declared type and
/// never sniffs an uploaded file into HTML or script.
async fn nosniff(mut r: Response) -> Response {
    r.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

/// Every answer says it comes from a Waystation server (`X-Waystation-Protocol: 1`): devices
/// count a photo as stored only on an answer that carries it, which a captive portal's `200`
/// does not (`docs/sync-protocol.md`).
async fn protocol_header(mut r: Response) -> Response {
    r.headers_mut().insert(
        protocol::PROTOCOL_HEADER,
        HeaderValue::from(protocol::PROTOCOL_VERSION),
    );
    r
}

/// `ETag: "<sha256>"` for a content-addressed blob: with the protocol header, the proof a
/// device needs that the server holds the photo.
fn sha_etag(sha: &str) -> Result<HeaderValue, ApiError> {
    HeaderValue::from_str(&format!("\"{sha}\""))
        .map_err(|_| ApiError::internal("ETag is not a header value"))
}

async fn healthz() -> &'static str {
    "ok"
}

async fn no_route() -> ApiError {
    ApiError::not_found("no such endpoint; every path starts with /v1")
}

async fn wrong_method() -> ApiError {
    ApiError::method_not_allowed()
}

/// Runs blocking (database, Automerge) work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("request task failed: {e}")))?
}

fn cbor(status: StatusCode, bytes: Vec<u8>) -> Response {
    let mut r = (status, bytes).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(CBOR_CONTENT_TYPE),
    );
    r
}

/// Checks the bearer token, then counts the request against the account's rate limit, before
/// any body is read.
pub(crate) async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Authenticated, ApiError> {
    let token = auth::bearer(headers.get(header::AUTHORIZATION).map(|v| v.as_bytes()))?.to_string();
    let db = state.db.clone();
    let now = state.clock.now();
    let who = blocking(move || auth::authenticate(db.read()?.as_ref(), &token, now)).await?;
    if let Some(limit) = &state.limit {
        limit.check(&who.account.user)?;
    }
    Ok(who)
}

/// Reads a request body of at most `limit` bytes: `413` past it (an announced length over it
/// before reading), `400` when the body ends early or cannot be read, `408` when it stalls for
/// the state's idle timeout.
async fn read_body(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Bytes, ApiError> {
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > limit as u64
    {
        return Err(ApiError::too_large(limit));
    }
    let idle = state.body_idle_timeout;
    let mut body = Limited::new(body, limit);
    let mut collected = Vec::new();
    loop {
        let frame = match tokio::time::timeout(idle, body.frame()).await {
            Err(_) => return Err(ApiError::body_timeout(idle)),
            Ok(None) => return Ok(Bytes::from(collected)),
            Ok(Some(frame)) => frame,
        };
        match frame {
            Ok(frame) => {
                if let Some(data) = frame.data_ref() {
                    collected.extend_from_slice(data);
                }
            }
            Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
                return Err(ApiError::too_large(limit));
            }
            Err(_) => {
                return Err(ApiError::malformed(
                    "the body could not be read to its end (truncated or interrupted)",
                ));
            }
        }
    }
}

async fn sync_handler(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let start = Instant::now();
    let who = authenticate(&state, &headers).await?;
    let auth = start.elapsed();
    let body = read_body(&state, &headers, body, MAX_SYNC_BODY_BYTES).await?;
    let now = rfc3339(state.clock.now());
    let db = state.db.clone();
    let queued = Instant::now();
    let (response, work) = blocking(move || {
        let wait = queued.elapsed();
        timing::take();
        let (cpu, wall) = (timing::thread_cpu(), Instant::now());
        let request = decode::decode_sync_request(&body)?;
        let response = sync::sync(&db, &who, request, &now)?;
        let cpu = cpu
            .zip(timing::thread_cpu())
            .map(|(a, b)| b.saturating_sub(a));
        let work = SyncWork {
            wait,
            wall: wall.elapsed(),
            cpu,
            waits: timing::take(),
        };
        Ok((response, work))
    })
    .await?;
    let mut r = cbor(StatusCode::OK, protocol::encode(&response));
    if let Ok(v) = HeaderValue::from_str(&work.server_timing(auth, start.elapsed())) {
        r.headers_mut().insert("server-timing", v);
    }
    Ok(r)
}

/// Where a sync request's time on the server went, sent back as `Server-Timing` (W3C) so a
/// load test can tell what the server spends from what the load generator spends
/// (docs/benchmarks.md, issue 14): times only, nothing about the request's content.
struct SyncWork {
    /// Waiting for a blocking-pool thread.
    wait: std::time::Duration,
    /// The protocol's work on that thread (decoding, transaction, Automerge, store).
    wall: std::time::Duration,
    /// That thread's CPU time for it, where the platform tells.
    cpu: Option<std::time::Duration>,
    /// Its waits for the database (`store::timing`).
    waits: timing::Waits,
}

impl SyncWork {
    /// `auth` (token check), `wait`, `begin` (getting the transaction), `db` (waits for the
    /// engine, with their count), `cpu`, `sync` (the protocol's wall time) and `total` (from
    /// the handler's start to the answer, the body's arrival included), in milliseconds.
    fn server_timing(&self, auth: std::time::Duration, total: std::time::Duration) -> String {
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
        let mut v = format!(
            "auth;dur={:.2}, wait;dur={:.2}, begin;dur={:.2}, db;dur={:.2};desc=\"{}\", ",
            ms(auth),
            ms(self.wait),
            ms(self.waits.begin),
            ms(self.waits.in_calls),
            self.waits.calls
        );
        if let Some(cpu) = self.cpu {
            v.push_str(&format!("cpu;dur={:.2}, ", ms(cpu)));
        }
        v.push_str(&format!(
            "sync;dur={:.2}, total;dur={:.2}",
            ms(self.wall),
            ms(total)
        ));
        v
    }
}

async fn me(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let who = authenticate(&state, &headers).await?;
    let me = Me {
        user: who.account.user,
        role: who.account.role.as_str().to_string(),
        areas: who.account.areas,
        token_expires_at: rfc3339(who.expires_at),
    };
    Ok(cbor(StatusCode::OK, protocol::encode(&me)))
}

fn path_param(p: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    p.map(|Path(s)| s)
        .map_err(|_| ApiError::bad_path("the path does not decode"))
}

async fn put_photo(
    State(state): State<AppState>,
    sha: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let sha = path_param(sha)?;
    photos::check_path(&sha)?;
    let who = authenticate(&state, &headers).await?;
    let bytes = read_body(&state, &headers, body, MAX_PHOTO_BYTES).await?;
    let now = rfc3339(state.clock.now());
    let db = state.db.clone();
    let etag = sha_etag(&sha)?;
    let created = blocking(move || {
        let mime = photos::check_upload(&sha, &bytes)?;
        photos::put(&db, &who.account, &sha, mime, &bytes, &now)
    })
    .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut r = status.into_response();
    r.headers_mut().insert(header::ETAG, etag);
    Ok(r)
}

async fn get_photo(
    State(state): State<AppState>,
    method: Method,
    sha: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let sha = path_param(sha)?;
    photos::check_path(&sha)?;
    let who = authenticate(&state, &headers).await?;
    let db = state.db.clone();
    let etag = sha_etag(&sha)?;
    if method == Method::HEAD {
        // Devices ask before uploading: answer from the row, without reading the bytes.
        let (mime, size) = blocking(move || photos::head(&db, &who.account, &sha)).await?;
        let mut r = image_response(Vec::new(), &mime);
        r.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(size));
        r.headers_mut().insert(header::ETAG, etag);
        return Ok(r);
    }
    let (bytes, mime) = blocking(move || photos::get(&db, &who.account, &sha)).await?;
    let mut r = image_response(bytes, &mime);
    r.headers_mut().insert(header::ETAG, etag);
    Ok(r)
}

/// A content-addressed image: the bytes under its path never change, so caches may keep them
/// for a year; `private`, since reading them takes a token.
fn image_response(bytes: Vec<u8>, mime: &str) -> Response {
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(mime).unwrap_or(HeaderValue::from_static("image/jpeg")),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    r
}

async fn get_training_image(
    State(state): State<AppState>,
    sha: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let sha = path_param(sha)?;
    training_images::check_path(&sha)?;
    authenticate(&state, &headers).await?;
    let db = state.db.clone();
    let etag = HeaderValue::from_str(&format!("\"{sha}\""))
        .map_err(|_| ApiError::internal("image ETag is not a header value"))?;
    let (bytes, mime) = blocking(move || training_images::get(&db, &sha)).await?;
    let mut r = image_response(bytes, &mime);
    r.headers_mut().insert(header::ETAG, etag);
    Ok(r)
}

/// Whether an `If-None-Match` header names `etag` (quoted), or is `*`.
fn etag_matches(if_none_match: Option<&HeaderValue>, etag: &str) -> bool {
    let Some(v) = if_none_match.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    v.split(',').map(str::trim).any(|tag| {
        let tag = tag.strip_prefix("W/").unwrap_or(tag);
        tag == "*" || tag.strip_prefix('"').and_then(|t| t.strip_suffix('"')) == Some(etag)
    })
}

async fn get_pack(
    State(state): State<AppState>,
    kind: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let kind: PackKind = path_param(kind)?.parse().map_err(ApiError::bad_path)?;
    authenticate(&state, &headers).await?;
    let db = state.db.clone();
    let inm = headers.get(header::IF_NONE_MATCH).cloned();
    let found = blocking(move || {
        let tx = db.read()?;
        let Some(pack) = tx.pack(kind.as_str())? else {
            return Ok(None);
        };
        let etag = pack.etag;
        if etag_matches(inm.as_ref(), &etag) {
            return Ok(Some((etag, None)));
        }
        let bytes = tx
            .pack_bytes(kind.as_str())?
            .ok_or_else(|| ApiError::internal("a published pack lost its bytes"))?;
        Ok(Some((etag, Some(bytes))))
    })
    .await?;
    let Some((etag, bytes)) = found else {
        return Err(ApiError::not_found(format!(
            "no {} pack is published",
            kind.as_str()
        )));
    };
    let quoted = HeaderValue::from_str(&format!("\"{etag}\""))
        .map_err(|_| ApiError::internal("stored pack ETag is not a header value"))?;
    let mut r = match bytes {
        None => StatusCode::NOT_MODIFIED.into_response(),
        Some(bytes) => {
            let mut r = (StatusCode::OK, bytes).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r
        }
    };
    r.headers_mut().insert(header::ETAG, quoted);
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_timing_names_each_part_in_milliseconds() {
        let ms = std::time::Duration::from_millis;
        let work = SyncWork {
            wait: ms(1),
            wall: ms(12),
            cpu: Some(ms(7)),
            waits: timing::Waits {
                calls: 18,
                in_calls: ms(4),
                begin: ms(2),
            },
        };
        assert_eq!(
            work.server_timing(ms(3), ms(20)),
            "auth;dur=3.00, wait;dur=1.00, begin;dur=2.00, db;dur=4.00;desc=\"18\", \
             cpu;dur=7.00, sync;dur=12.00, total;dur=20.00"
        );
        let no_cpu = SyncWork { cpu: None, ..work };
        assert!(!no_cpu.server_timing(ms(3), ms(20)).contains("cpu"));
    }

    #[test]
    fn if_none_match_forms() {
        let h = |s: &'static str| Some(HeaderValue::from_static(s));
        assert!(etag_matches(h("\"abc\"").as_ref(), "abc"));
        assert!(etag_matches(h("W/\"abc\"").as_ref(), "abc"));
        assert!(etag_matches(h("\"x\", \"abc\"").as_ref(), "abc"));
        assert!(etag_matches(h("*").as_ref(), "abc"));
        assert!(!etag_matches(h("abc").as_ref(), "abc"));
        assert!(!etag_matches(h("\"abd\"").as_ref(), "abc"));
        assert!(!etag_matches(None, "abc"));
    }
}
