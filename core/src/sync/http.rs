//! HTTP with the protocol's conventions, for the device: bearer token, CBOR bodies, retries
//! with backoff, a size cap on every response, and clear errors. [`Client`] is what the
//! exchange ([`super::exchange`]), the pack fetch and the photo fetch talk to the server
//! through. A cancelled [`CancelToken`] ends a retry's wait and a request in flight at once.
//!
//! Whatever answers on the server's address is not trusted to be the server: on public Wi-Fi a
//! captive portal answers every request with `200` and a login page. So every response body is
//! read with a cap ([`HttpTransport::send_limited`]), a sync or `/v1/me` answer must be CBOR,
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
use super::transport::{HttpRequest, HttpResponse, HttpTransport, TransportError};
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
        request: HttpRequest,
        max_body: usize,
        report: &mut SyncReport,
    ) -> Result<HttpResponse> {
        let attempts = self.settings.retry.attempts.max(1);
        let mut last_error: Option<TransportError> = None;
        let mut asked_wait = Duration::ZERO;
        for attempt in 1..=attempts {
            if attempt > 1 {
                let backoff = self.settings.retry.delay(attempt - 1);
                self.cancel.sleep(backoff.max(asked_wait))?;
                asked_wait = Duration::ZERO;
            }
            self.cancel.check()?;
            report.bytes_sent += request.body.len() as i64;
            match self
                .transport
                .send_limited(request.clone(), max_body, self.cancel)
            {
                Ok(resp) => {
                    // A transport that ignores the limit is held to it here.
                    if resp.body.len() > max_body {
                        return Err(too_large(&request, max_body));
                    }
                    report.bytes_received += resp.body.len() as i64;
                    // 408: the server gave up on a body that stalled on a poor connection.
                    let retryable = resp.status >= 500 || resp.status == 429 || resp.status == 408;
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
                Err(TransportError::TooLarge { .. }) => {
                    return Err(too_large(&request, max_body));
                }
                Err(TransportError::Cancelled) => return Err(Error::Cancelled),
                Err(e) => {
                    log::debug!(
                        target: "waystation::sync",
                        "{} {}: attempt {attempt} of {attempts} got no answer: {e}",
                        request.method,
                        path_of(&request.url)
                    );
                    last_error = Some(e)
                }
            }
        }
        Err(Error::Network(format!(
            "{} (after {attempts} attempts)",
            last_error.map(|e| e.to_string()).unwrap_or_default()
        )))
    }

    fn request(&self, method: &str, path: &str, body: Vec<u8>) -> HttpRequest {
        let mut headers = vec![(
            "authorization".to_string(),
            format!("Bearer {}", self.settings.token),
        )];
        if !body.is_empty() {
            let ct = if method == "PUT" {
                "application/octet-stream"
            } else {
                CBOR_CONTENT_TYPE
            };
            headers.push(("content-type".to_string(), ct.to_string()));
        }
        HttpRequest {
            method: method.to_string(),
            url: self.url(path),
            headers,
            body,
            timeout: self.settings.timeout,
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
            status: resp.status,
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
                status: resp.status,
                message: format!(
                    "uploading photo {sha256}: the answer does not prove it was stored ({why});                      something other than the Waystation server answered (a captive portal or                      proxy?), so the photo stays pending"
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
            req.headers
                .push(("if-none-match".to_string(), etag.to_string()));
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

/// The path of `url`, without host, query or fragment: for errors and logs.
fn path_of(url: &str) -> &str {
    let path = url
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or("/");
    path.split(['?', '#']).next().unwrap_or(path)
}

fn too_large(request: &HttpRequest, limit: usize) -> Error {
    let path = path_of(&request.url);
    Error::Server {
        status: 200,
        message: format!(
            "the answer to {} {path} is over {limit} bytes; it was not read and nothing changed",
            request.method
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
            status: resp.status,
            message: format!(
                "{what} is not CBOR (content type '{shown}'): something other than the \
                 Waystation server answered (a captive portal or proxy?)"
            ),
        });
    }
    protocol::decode(&resp.body).map_err(|e| Error::Server {
        status: resp.status,
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
/// up in error messages, logs and a status screen.
fn shown(text: &str, max: usize) -> String {
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
            status: resp.status,
            message: format!("{doing}: {detail}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = DateTime::parse_from_rfc3339("2026-11-29T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let resp = |value: Option<&str>| HttpResponse {
            status: 429,
            headers: value
                .map(|v| vec![("Retry-After".to_string(), v.to_string())])
                .unwrap_or_default(),
            body: Vec::new(),
        };
        let secs = |v: &str| retry_after(&resp(Some(v)), now);
        assert_eq!(secs("7"), Some(Duration::from_secs(7)));
        assert_eq!(secs(" 0 "), Some(Duration::ZERO));
        assert_eq!(
            secs("Sun, 29 Nov 2026 08:00:30 GMT"),
            Some(Duration::from_secs(30))
        );
        // A date already past is no wait; what cannot be read is ignored.
        assert_eq!(secs("Sun, 29 Nov 2026 07:59:00 GMT"), Some(Duration::ZERO));
        for bad in ["soon", "-5", "1.5", ""] {
            assert_eq!(secs(bad), None, "{bad}");
        }
        assert_eq!(retry_after(&resp(None), now), None);
    }

    #[test]
    fn only_an_answer_naming_the_photo_proves_it_stored() {
        let sha = "ab".repeat(32);
        let resp = |headers: &[(&str, &str)]| HttpResponse {
            status: 200,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: b"<html>login</html>".to_vec(),
        };
        let etag = format!("\"{sha}\"");
        assert!(
            photo_proof(
                &resp(&[("X-Waystation-Protocol", "1"), ("ETag", &etag)]),
                &sha
            )
            .is_ok()
        );
        // A captive portal's 200, a proxy that passes an ETag but not the protocol, another
        // photo's ETag, a weak or unquoted one.
        assert!(photo_proof(&resp(&[]), &sha).is_err());
        assert!(photo_proof(&resp(&[("ETag", &etag)]), &sha).is_err());
        let other = format!("\"{}\"", "cd".repeat(32));
        assert!(
            photo_proof(
                &resp(&[("x-waystation-protocol", "1"), ("etag", &other)]),
                &sha
            )
            .is_err()
        );
        for bad in [format!("W/{etag}"), sha.clone()] {
            assert!(
                photo_proof(
                    &resp(&[("x-waystation-protocol", "1"), ("etag", &bad)]),
                    &sha
                )
                .is_err()
            );
        }
        assert!(
            photo_proof(
                &resp(&[("x-waystation-protocol", "2"), ("etag", &etag)]),
                &sha
            )
            .is_err()
        );
    }

    #[test]
    fn a_login_page_in_place_of_a_sync_answer_is_named() {
        let body = protocol::encode(&SyncResponse::default());
        let resp = |ct: &str| HttpResponse {
            status: 200,
            headers: vec![("Content-Type".to_string(), ct.to_string())],
            body: body.clone(),
        };
        decode_cbor::<SyncResponse>(&resp("application/cbor"), "x").unwrap();
        decode_cbor::<SyncResponse>(&resp("Application/CBOR; charset=binary"), "x").unwrap();
        for ct in ["text/html; charset=utf-8", "application/json", ""] {
            let Err(Error::Server { message, .. }) = decode_cbor::<SyncResponse>(&resp(ct), "x")
            else {
                panic!("{ct}")
            };
            assert!(message.contains("not CBOR"), "{message}");
        }
    }

    #[test]
    fn every_request_carries_the_settings_timeout() {
        struct Unreachable;
        impl HttpTransport for Unreachable {
            fn send(&self, _: HttpRequest) -> std::result::Result<HttpResponse, TransportError> {
                Err(TransportError::Connect("offline".into()))
            }
        }
        let mut settings = SyncSettings::new("https://sync.example.org", "wst_t").unwrap();
        assert_eq!(settings.timeout, Duration::from_secs(30));
        settings.timeout = Duration::from_millis(4321);
        let cancel = CancelToken::never();
        let client = Client::new(&settings, &Unreachable, &cancel);
        for (method, body) in [("GET", vec![]), ("POST", vec![1]), ("PUT", vec![2])] {
            let req = client.request(method, "/v1/x", body);
            assert_eq!(req.timeout, Duration::from_millis(4321), "{method}");
        }
    }

    #[test]
    fn error_text_from_the_network_is_bounded_and_printable() {
        let resp = HttpResponse {
            status: 502,
            headers: Vec::new(),
            body: [b"bad\x1b[31m gateway\n".as_slice(), &[b'x'; 5000]].concat(),
        };
        let Error::Server { message, .. } = status_error(&resp, "sync") else {
            panic!()
        };
        assert!(message.len() < 300, "{message}");
        assert!(!message.chars().any(char::is_control), "{message}");
    }
}
