//! HTTP with the protocol's conventions, for the device: bearer token, CBOR bodies, retries
//! with backoff, a size cap on every response, and clear errors. [`Client`] is what the
//! exchange ([`super::exchange`]), the pack fetch and the photo fetch talk to the server
//! through. A cancelled [`CancelToken`] ends a retry's wait and a request in flight at once.
//!
//! Whatever answers on the server's address is not trusted to be the server: on public Wi-Fi a
//! captive portal answers every request with `200` and a login page. So every response body is
//! read with a cap ([`HttpRequest::max_body_bytes`]), a sync or `/v1/me` answer must be CBOR,
//! and a photo counts as stored on the server only on an answer that proves it
//! ([`photo_proof`]): the Waystation protocol header and an `ETag` naming the photo's SHA-256.

use chrono::{DateTime, Utc};
use std::time::Duration;

use super::protocol::{
    self, CBOR_CONTENT_TYPE, ErrorBody, MAX_PHOTO_BYTES, MAX_SYNC_BODY_BYTES, PROTOCOL_HEADER,
    PROTOCOL_VERSION, SyncRequest, SyncResponse,
};
use super::settings::SyncSettings;
use super::status::SyncReport;
use super::transport::{HttpHeader, HttpRequest, HttpResponse, HttpTransport, TransportError};
use crate::cancel::CancelToken;
use crate::error::{Error, Result};
use crate::training::MAX_TRAINING_IMAGE_BYTES;

/// Largest body the device reads from an answer that carries no data of its own: `/v1/me`, a
/// photo `HEAD` or `PUT`, and any error body.
pub const MAX_SMALL_RESPONSE_BYTES: usize = 64 * 1024;

/// HTTP with the protocol's conventions: bearer token, CBOR, retries, capped bodies, clear
/// errors.
pub(crate) struct Client<'a> {
    pub(crate) settings: &'a SyncSettings,
    pub(crate) transport: &'a dyn HttpTransport,
    pub(crate) cancel: &'a CancelToken,
}

impl<'a> Client<'a> {
    /// A client for `settings` over `transport`, stopped by `cancel`.
    pub(crate) fn new(
        settings: &'a SyncSettings,
        transport: &'a dyn HttpTransport,
        cancel: &'a CancelToken,
    ) -> Client<'a> {
        Client {
            settings,
            transport,
            cancel,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.settings.server)
    }

    /// Sends with retries on no answer, 5xx, 429 and 408. Returns the last response otherwise.
    /// A `Retry-After` on a 5xx or 429 is honoured: the next try waits at least that long, and
    /// one that asks for more than the policy's `max_delay` ends the retries at once (the
    /// caller reports the server's answer; the next sync tries again).
    ///
    /// A body over `max_body` is a `Server` error at once, not retried: whatever answered
    /// would most likely answer the same way again.
    fn send(
        &self,
        mut request: HttpRequest,
        max_body: usize,
        report: &mut SyncReport,
    ) -> Result<HttpResponse> {
        request.max_body_bytes = i64::try_from(max_body).unwrap_or(i64::MAX);
        let what = request.describe();
        let attempts = self.settings.retry.attempts.max(1);
        let mut last_error = String::new();
        let mut asked_wait = Duration::ZERO;
        for attempt in 1..=attempts {
            if attempt > 1 {
                let backoff = self.settings.retry.delay(attempt - 1);
                self.cancel.sleep(backoff.max(asked_wait))?;
                asked_wait = Duration::ZERO;
            }
            self.cancel.check()?;
            report.bytes_sent += request.body.len() as i64;
            let answer = self.transport.send(request.clone(), self.cancel);
            // A transport that cannot be interrupted is held to the token here.
            self.cancel.check()?;
            match answer.and_then(|resp| checked(resp, max_body)) {
                Ok(resp) => {
                    report.bytes_received += resp.body.len() as i64;
                    let status = resp.status;
                    // 408: the server gave up on a body that stalled on a poor connection.
                    let retryable = status >= 500 || status == 429 || status == 408;
                    if retryable && attempt < attempts {
                        match retry_after(&resp, Utc::now()) {
                            Some(wait) if wait > self.settings.retry.max_delay => return Ok(resp),
                            Some(wait) => asked_wait = wait,
                            None => {}
                        }
                        continue;
                    }
                    return Ok(resp);
                }
                Err(TransportError::TooLarge { .. }) => return Err(too_large(&what, max_body)),
                Err(TransportError::Cancelled) => return Err(Error::Cancelled),
                Err(e) => {
                    // The transport's text may be an app's exception message: bounded and
                    // printable before it reaches a log, an error or a status screen.
                    last_error = shown(&e.to_string(), 300);
                    log::debug!(
                        target: "waystation::sync",
                        "{what}: attempt {attempt} of {attempts} got no answer: {last_error}"
                    );
                }
            }
        }
        Err(Error::Network(format!(
            "{last_error} (after {attempts} attempts)"
        )))
    }

    fn request(&self, method: &str, path: &str, body: Vec<u8>) -> HttpRequest {
        let bearer = format!("Bearer {}", self.settings.token);
        let mut headers = vec![HttpHeader::new("authorization", bearer)];
        if !body.is_empty() {
            let ct = if method == "PUT" {
                "application/octet-stream"
            } else {
                CBOR_CONTENT_TYPE
            };
            headers.push(HttpHeader::new("content-type", ct));
        }
        HttpRequest {
            method: method.to_string(),
            url: self.url(path),
            headers,
            body,
            timeout_ms: i64::try_from(self.settings.timeout.as_millis()).unwrap_or(i64::MAX),
            max_body_bytes: i64::MAX,
        }
    }

    pub(crate) fn sync(
        &self,
        request: &SyncRequest,
        report: &mut SyncReport,
    ) -> Result<SyncResponse> {
        let req = self.request("POST", "/v1/sync", protocol::encode(request));
        let resp = self.send(req, MAX_SYNC_BODY_BYTES, report)?;
        if resp.status != 200 {
            return Err(status_error(&resp, "sync"));
        }
        decode_cbor(&resp, "the sync response")
    }

    /// Whether the server proves it holds the photo: a `HEAD` answered `200` with
    /// [`photo_proof`]. Anything else counts as "not known to be there", and the idempotent
    /// upload follows.
    pub(crate) fn photo_on_server(&self, sha256: &str, report: &mut SyncReport) -> Result<bool> {
        let req = self.request("HEAD", &format!("/v1/photos/{sha256}"), Vec::new());
        let resp = self.send(req, MAX_SMALL_RESPONSE_BYTES, report)?;
        Ok(resp.status == 200 && photo_proof(&resp, sha256).is_ok())
    }

    /// `GET /v1/me`: the account the token belongs to.
    pub(crate) fn me(&self, report: &mut SyncReport) -> Result<protocol::Me> {
        let req = self.request("GET", "/v1/me", Vec::new());
        let resp = self.send(req, MAX_SMALL_RESPONSE_BYTES, report)?;
        if resp.status != 200 {
            return Err(status_error(&resp, "asking the server who this account is"));
        }
        let me: protocol::Me = decode_cbor(&resp, "the /v1/me response")?;
        super::policy::check_user_id(&me.user).map_err(|e| Error::Server {
            status: code(&resp),
            message: format!("the /v1/me response names no valid account: {e}"),
        })?;
        Ok(me)
    }

    /// Uploads a photo. Succeeds only on an answer that proves the server stored it
    /// ([`photo_proof`]); a `200` from anything else (a captive portal) is a `Server` error,
    /// and the photo stays pending.
    pub(crate) fn put_photo(
        &self,
        sha256: &str,
        bytes: Vec<u8>,
        report: &mut SyncReport,
    ) -> Result<()> {
        let req = self.request("PUT", &format!("/v1/photos/{sha256}"), bytes);
        let resp = self.send(req, MAX_SMALL_RESPONSE_BYTES, report)?;
        match resp.status {
            200 | 201 | 204 => photo_proof(&resp, sha256).map_err(|why| Error::Server {
                status: code(&resp),
                message: format!(
                    "uploading photo {sha256}: the answer does not prove it was stored ({why}); \
                     something other than the Waystation server answered (a captive portal or \
                     proxy?), so the photo stays pending"
                ),
            }),
            _ => Err(status_error(&resp, &format!("uploading photo {sha256}"))),
        }
    }

    pub(crate) fn get_photo(&self, sha256: &str) -> Result<Vec<u8>> {
        self.get_blob("/v1/photos", "photo", sha256, MAX_PHOTO_BYTES)
    }

    pub(crate) fn get_training_image(&self, sha256: &str) -> Result<Vec<u8>> {
        self.get_blob(
            "/v1/training/images",
            "training image",
            sha256,
            MAX_TRAINING_IMAGE_BYTES,
        )
    }

    /// GET `{base}/{sha256}`: the bytes (at most `max` of them), or `NotFound` naming the
    /// `what`.
    fn get_blob(&self, base: &str, what: &str, sha256: &str, max: usize) -> Result<Vec<u8>> {
        let mut scratch = SyncReport::default();
        let req = self.request("GET", &format!("{base}/{sha256}"), Vec::new());
        let resp = self.send(req, max, &mut scratch)?;
        match resp.status {
            200 => Ok(resp.body),
            404 => Err(Error::NotFound(format!(
                "the server has no {what} {sha256}"
            ))),
            _ => Err(status_error(&resp, &format!("downloading {what} {sha256}"))),
        }
    }

    /// The pack bytes (at most `max_bytes`) and ETag when the server's pack differs from
    /// `etag`; `None` when not modified or none is published.
    pub(crate) fn get_pack(
        &self,
        kind: &str,
        etag: Option<&str>,
        max_bytes: usize,
    ) -> Result<Option<(Vec<u8>, Option<String>)>> {
        let mut scratch = SyncReport::default();
        let mut req = self.request("GET", &format!("/v1/packs/{kind}"), Vec::new());
        if let Some(etag) = etag {
            req.headers.push(HttpHeader::new("if-none-match", etag));
        }
        let resp = self.send(req, max_bytes, &mut scratch)?;
        match resp.status {
            200 => {
                // Stored and sent back as a header: a printable, bounded value only.
                let etag = resp
                    .header("etag")
                    .filter(|e| e.len() <= 200 && e.bytes().all(|b| b.is_ascii_graphic()))
                    .map(str::to_string);
                Ok(Some((resp.body, etag)))
            }
            304 | 404 => Ok(None),
            _ => Err(status_error(&resp, &format!("fetching the {kind} pack"))),
        }
    }
}

/// `resp` if it is an HTTP answer within `max_body` bytes. Every transport is held to both
/// here: an app's may return any number, and one that cannot stop reading at the limit still
/// must not make the device keep the body.
fn checked(
    resp: HttpResponse,
    max_body: usize,
) -> std::result::Result<HttpResponse, TransportError> {
    if !(100..=599).contains(&resp.status) {
        return Err(TransportError::Other(format!(
            "the transport returned status {}, which is not an HTTP status",
            resp.status
        )));
    }
    if resp.body.len() > max_body {
        return Err(TransportError::TooLarge { limit: max_body });
    }
    Ok(resp)
}

/// The status of a response [`checked`] let through, as the errors carry it.
fn code(resp: &HttpResponse) -> u16 {
    u16::try_from(resp.status).unwrap_or(0)
}

fn too_large(what: &str, limit: usize) -> Error {
    Error::Server {
        status: 200,
        message: format!(
            "the answer to {what} is over {limit} bytes; it was not read and nothing changed"
        ),
    }
}

/// Decodes a `200` CBOR answer; an answer of another content type (a captive portal's HTML
/// page) or one that does not decode is a `Server` error naming it.
fn decode_cbor<T: serde::de::DeserializeOwned>(resp: &HttpResponse, what: &str) -> Result<T> {
    let content_type = resp.header("content-type").unwrap_or("");
    let media = content_type.split(';').next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case(CBOR_CONTENT_TYPE) {
        let shown: String = media.chars().take(60).collect();
        return Err(Error::Server {
            status: code(resp),
            message: format!(
                "{what} is not CBOR (content type '{shown}'): something other than the \
                 Waystation server answered (a captive portal or proxy?)"
            ),
        });
    }
    protocol::decode(&resp.body).map_err(|e| Error::Server {
        status: code(resp),
        message: format!("{what} does not decode: {e}"),
    })
}

/// Checks that `resp` proves the server holds the photo `sha256`: it carries the protocol
/// header ([`PROTOCOL_HEADER`]) with this protocol's version, and `ETag: "<sha256>"`. A
/// captive portal or a proxy that answers `200` to everything sends neither; the reason why
/// not is returned.
pub fn photo_proof(resp: &HttpResponse, sha256: &str) -> std::result::Result<(), String> {
    let version = resp.header(PROTOCOL_HEADER).map(str::trim);
    if version != Some(PROTOCOL_VERSION.to_string().as_str()) {
        return Err(format!("no '{PROTOCOL_HEADER}: {PROTOCOL_VERSION}' header"));
    }
    let etag = resp.header("etag").map(str::trim);
    let expected = format!("\"{sha256}\"");
    if etag != Some(expected.as_str()) {
        return Err("no ETag naming the photo's SHA-256".to_string());
    }
    Ok(())
}

/// How long a response's `Retry-After` asks to wait: delay-seconds, or an HTTP date (RFC 9110
/// §10.2.3) compared with `now`. `None` when there is none or it cannot be read; a date in the
/// past is no wait.
fn retry_after(resp: &HttpResponse, now: DateTime<Utc>) -> Option<Duration> {
    let value = resp.header("retry-after")?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// At most `max` characters of text from the network, control characters replaced: it ends
/// up in error messages, logs and a status screen (the reply checks use it too).
pub(super) fn shown(text: &str, max: usize) -> String {
    text.chars()
        .take(max)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The error for an unexpected status, with the server's `ErrorBody` message when it sent one.
/// Whether `e` is the server's `403 quota_photos` to a photo upload (as [`status_error`]
/// words it): the account holds as many photos no report links as the server allows.
pub(crate) fn is_photo_quota(e: &Error) -> bool {
    matches!(e, Error::Server { status: 403, message } if message.ends_with("(quota_photos)"))
}

fn status_error(resp: &HttpResponse, doing: &str) -> Error {
    let detail = protocol::decode::<ErrorBody>(&resp.body)
        .map(|b| format!("{} ({})", shown(&b.message, 300), shown(&b.code, 40)))
        .unwrap_or_else(|_| shown(&String::from_utf8_lossy(&resp.body), 200));
    if resp.status == 401 {
        Error::Unauthorized(format!("{doing}: {detail}"))
    } else {
        Error::Server {
            status: code(resp),
            message: format!("{doing}: {detail}"),
        }
    }
}

#[cfg(test)]
mod tests;
