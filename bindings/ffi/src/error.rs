//! The public error enum, converted from the core's error here and nowhere else. Storage
//! failures reach the apps as a fixed message (SQLite's text and paths can carry user data);
//! the detail goes to the log at debug level ([`crate::logging`]).

use waystation_core::Error as CoreError;

/// What went wrong. Every `reason` names the problem without personal data.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum WaystationError {
    /// An argument can never work: bad coordinates, unknown names, out-of-range numbers.
    #[error("invalid input: {reason}")]
    InvalidInput { reason: String },
    /// Nothing with that id.
    #[error("not found: {reason}")]
    NotFound { reason: String },
    /// A pack was refused (signature, trust, format, version); installed data is unchanged.
    #[error("pack refused: {reason}")]
    PackRejected { reason: String },
    /// The data directory cannot be created, is not a directory, or is read-only.
    #[error("data directory unusable: {reason}")]
    DataDirectory { reason: String },
    /// A newer app version wrote the database; update the app.
    #[error("database too new: {reason}")]
    SchemaTooNew { reason: String },
    /// The local store failed; the app's logger has the detail at debug level.
    #[error("storage failure: {reason}")]
    Storage { reason: String },
    /// The server could not be reached (no network, timeout) after retries. Try later.
    #[error("network error: {reason}")]
    Network { reason: String },
    /// The server refused the token (unknown, revoked or expired). Sign in again.
    #[error("unauthorized: {reason}")]
    Unauthorized { reason: String },
    /// The server answered with an error or an unusable reply (`status` 200 then). `retryable`
    /// is true for 408, 429 and 5xx; a `400` will be refused again until something changes.
    #[error("server error {status}: {reason}")]
    Server {
        status: i32,
        retryable: bool,
        reason: String,
    },
    /// The caller was cancelled; nothing half-done was kept.
    #[error("cancelled")]
    Cancelled,
    /// A bug inside Waystation. Please report it.
    #[error("internal error: {reason}")]
    Internal { reason: String },
}

/// `InvalidInput` with `reason`.
pub(crate) fn invalid(reason: impl Into<String>) -> WaystationError {
    WaystationError::InvalidInput {
        reason: reason.into(),
    }
}

/// What the apps see of any storage failure.
const STORAGE_FAILED: &str = "the local database could not complete the operation";

impl From<CoreError> for WaystationError {
    fn from(e: CoreError) -> Self {
        use WaystationError as W;
        match e {
            CoreError::InvalidInput(reason) => W::InvalidInput { reason },
            CoreError::NotFound(reason) => W::NotFound { reason },
            CoreError::PackRejected(reason) => W::PackRejected { reason },
            CoreError::DataDir { reason, .. } => W::DataDirectory { reason },
            e @ CoreError::SchemaTooNew { .. } => W::SchemaTooNew {
                reason: e.to_string(),
            },
            e @ (CoreError::Sqlite(_) | CoreError::Io(_)) => {
                let reason = match e {
                    CoreError::Io(_) => "a file of the local store could not be read or written",
                    _ => STORAGE_FAILED,
                };
                log::debug!(target: "waystation::storage", "{}", e.storage_detail());
                W::Storage {
                    reason: reason.into(),
                }
            }
            CoreError::Network(reason) => W::Network { reason },
            CoreError::Unauthorized(reason) => W::Unauthorized { reason },
            CoreError::Server { status, message } => W::Server {
                status: i32::from(status),
                retryable: status == 408 || status == 429 || status >= 500,
                reason: message,
            },
            CoreError::Cancelled => W::Cancelled,
            CoreError::Internal(reason) => W::Internal { reason },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_error_keeps_its_status_and_says_if_a_retry_helps() {
        let retry = [400, 408, 429, 500, 503].map(|status| {
            let message = "x".into();
            match WaystationError::from(CoreError::Server { status, message }) {
                WaystationError::Server {
                    status, retryable, ..
                } => (status, retryable),
                e => panic!("{e:?}"),
            }
        });
        let expected = [
            (400, false),
            (408, true),
            (429, true),
            (500, true),
            (503, true),
        ];
        assert_eq!(retry, expected);
    }

    #[test]
    fn storage_errors_carry_no_text_of_the_database() {
        let secret = "Zhang San, 13800138000";
        let e = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(19),
            Some(format!("UNIQUE constraint failed: '{secret}'")),
        );
        let shown = WaystationError::from(CoreError::Sqlite(e)).to_string();
        assert_eq!(shown, format!("storage failure: {STORAGE_FAILED}"));
        let e = std::io::Error::other(format!("/data/{secret}/photo.jpg"));
        let shown = WaystationError::from(CoreError::Io(e)).to_string();
        assert!(!shown.contains("Zhang"), "{shown}");
    }
}
