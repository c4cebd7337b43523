//! The server's errors: [`ApiError`] is what a client sees (a status and a CBOR
//! [`ErrorBody`]); [`AdminError`] is what the admin commands report; [`ServerError`] is what
//! starting a server reports.
//!
//! Internal failures (SQLite, a stored document that no longer loads) are logged on the
//! server's standard error and reach the client only as a generic `internal` error, so no
//! stored data leaks through an error message.

use http::StatusCode;
use waystation_core::sync::protocol::ErrorBody;

use crate::store::StoreError;

/// An error answered to a client: HTTP status, a stable code and a message for a human.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code from `docs/sync-protocol.md`, e.g. `malformed_body`.
    pub code: &'static str,
    /// What was wrong.
    pub message: String,
    /// Seconds the client should wait before trying again (`Retry-After`), for `429` and `503`.
    pub retry_after_secs: Option<u64>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after_secs: None,
        }
    }

    /// 400 `malformed_body`: not CBOR, truncated, trailing bytes, missing fields.
    pub fn malformed(message: impl Into<String>) -> ApiError {
        Self::new(StatusCode::BAD_REQUEST, "malformed_body", message)
    }

    /// 400 `bad_document`: a bad id or kind, undecodable Automerge data, too many or repeated
    /// documents.
    pub fn bad_document(message: impl Into<String>) -> ApiError {
        Self::new(StatusCode::BAD_REQUEST, "bad_document", message)
    }

    /// 400 `bad_photo`: wrong hash or not an image.
    pub fn bad_photo(message: impl Into<String>) -> ApiError {
        Self::new(StatusCode::BAD_REQUEST, "bad_photo", message)
    }

    /// 400 `bad_path`: a malformed photo hash or an unknown pack kind in the path.
    pub fn bad_path(message: impl Into<String>) -> ApiError {
        Self::new(StatusCode::BAD_REQUEST, "bad_path", message)
    }

    /// 401 `unauthorized`.
    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403 `forbidden`.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 405 `method_not_allowed`.
    pub fn method_not_allowed() -> ApiError {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this path does not take that method",
        )
    }

    /// 408 `timeout`: no part of the body arrived for `idle`; the request was abandoned.
    pub fn body_timeout(idle: std::time::Duration) -> ApiError {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "timeout",
            format!(
                "no part of the body arrived for {:.1} s; the request was abandoned and \
                 nothing of it was stored",
                idle.as_secs_f64()
            ),
        )
    }

    /// 413 `too_large`.
    pub fn too_large(limit: usize) -> ApiError {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the body is over the limit of {limit} bytes"),
        )
    }

    /// 429 `rate_limited`: the account sent more than `per_minute` requests in a minute; it
    /// may send again after `retry_after_secs`.
    pub fn rate_limited(per_minute: u32, retry_after_secs: u64) -> ApiError {
        ApiError {
            retry_after_secs: Some(retry_after_secs),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "this account sent more than {per_minute} requests per minute; \
                     retry in {retry_after_secs} s"
                ),
            )
        }
    }

    /// 503 `busy`: the database stayed locked by other writers; retry in a second.
    pub fn busy() -> ApiError {
        ApiError {
            retry_after_secs: Some(1),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "the server is busy; retry later",
            )
        }
    }

    /// 503 `busy`: `waiting` writes are queued already, the most the server lets wait.
    pub fn write_queue_full(waiting: usize, retry_after_secs: u64) -> ApiError {
        ApiError {
            retry_after_secs: Some(retry_after_secs),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                format!(
                    "the server is busy: {waiting} writes are queued ahead, the most it lets \
                     wait; nothing was stored; retry in {retry_after_secs} s"
                ),
            )
        }
    }

    /// 503 `busy`: the write waited `waited` for its turn and gave up.
    pub fn write_wait_too_long(waited: std::time::Duration, retry_after_secs: u64) -> ApiError {
        ApiError {
            retry_after_secs: Some(retry_after_secs),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                format!(
                    "the server is busy: this write waited {:.1} s for its turn; nothing was \
                     stored; retry in {retry_after_secs} s",
                    waited.as_secs_f64()
                ),
            )
        }
    }

    /// 429 `login_limited`: too many requests with bad tokens came from this address; every
    /// request from it is refused, before its token is checked, for `retry_after_secs`.
    pub fn login_limited(per_minute: u32, retry_after_secs: u64) -> ApiError {
        ApiError {
            retry_after_secs: Some(retry_after_secs),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "login_limited",
                format!(
                    "more than {per_minute} requests with a missing, unknown, revoked or \
                     expired token came from this address in a minute; retry in \
                     {retry_after_secs} s"
                ),
            )
        }
    }

    /// 403 with a quota's code (`quota_photos`, `quota_bytes`, `quota_documents`): the
    /// account holds as much as the server lets one account hold; nothing was stored.
    pub fn quota(code: &'static str, message: impl Into<String>) -> ApiError {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    /// 500 `internal`: logs `what` on the server and tells the client nothing more.
    pub fn internal(what: impl std::fmt::Display) -> ApiError {
        eprintln!("waystation-server: internal error: {what}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal server error",
        )
    }

    /// The CBOR body this error is answered with.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code.to_string(),
            message: self.message.clone(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Busy(_) => ApiError::busy(),
            StoreError::Queue(e) => e,
            other => ApiError::internal(format!("database: {other}")),
        }
    }
}

#[cfg(feature = "serve")]
impl axum::response::IntoResponse for ApiError {
    fn into_response(self) -> axum::response::Response {
        use axum::http::{HeaderValue, header};
        use waystation_core::sync::protocol::{self, CBOR_CONTENT_TYPE};
        let mut response = (self.status, protocol::encode(&self.body())).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(CBOR_CONTENT_TYPE),
        );
        if let Some(secs) = self.retry_after_secs {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"waystation\""),
            );
        }
        response
    }
}

/// An admin command (`user add`, `token issue`, `pack publish`, ...) that could not be done.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The input was wrong: an invalid user id, role, district, token or pack.
    #[error("{0}")]
    Invalid(String),
    /// No such user or token.
    #[error("{0}")]
    NotFound(String),
    /// The database could not be opened or written.
    #[error("database: {0}")]
    Database(StoreError),
    /// The database was written by a newer server.
    #[error("the database has schema version {found}; this server reads up to {supported}")]
    SchemaTooNew {
        /// Version found in the file.
        found: i64,
        /// Newest version this build knows.
        supported: i64,
    },
    /// Anything else (I/O, the pack check's scratch directory).
    #[error("{0}")]
    Other(String),
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> AdminError {
        match e {
            StoreError::SchemaTooNew { found, supported } => {
                AdminError::SchemaTooNew { found, supported }
            }
            other => AdminError::Database(other),
        }
    }
}

/// A server that could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Database(#[from] AdminError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The TLS certificate or key could not be read or used.
    #[error("TLS: {0}")]
    Tls(String),
    /// The runtime or the server thread failed.
    #[error("{0}")]
    Runtime(String),
}
