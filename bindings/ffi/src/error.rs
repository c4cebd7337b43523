//! The public error enum, and the one place internal errors are mapped to it.
//!
//! Storage failures (SQLite, files) reach the apps as a fixed message: SQLite's own text can
//! quote what a statement touched, and a path names the user's directories. The detail goes
//! to the log at debug level instead ([`crate::logging`]), without a statement or its values.

use waystation_core::Error as CoreError;

/// What went wrong, as Kotlin, Swift and Python see it. Every `reason` names the problem
/// (which field, which limit) without personal data.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum WaystationError {
    /// An argument can never work: bad coordinates, unknown names, out-of-range numbers.
    #[error("invalid input: {reason}")]
    InvalidInput { reason: String },
    /// Nothing with that id.
    #[error("not found: {reason}")]
    NotFound { reason: String },
    /// A pack was refused (signature, trust, format, version). Installed data is unchanged.
    #[error("pack refused: {reason}")]
    PackRejected { reason: String },
    /// The data directory is missing and cannot be created, not a directory, or read-only.
    #[error("data directory unusable: {reason}")]
    DataDirectory { reason: String },
    /// The database was written by a newer app version; update the app.
    #[error("database too new: {reason}")]
    SchemaTooNew { reason: String },
    /// The local database or a file of the store failed. The reason is fixed (no data of the
    /// user); the app's logger has the detail at debug level.
    #[error("storage failure: {reason}")]
    Storage { reason: String },
    /// Sync could not reach the server (no network, timeout), after retries. Try later.
    #[error("network error: {reason}")]
    Network { reason: String },
    /// The server refused the sync token (unknown, revoked or expired). Sign in again.
    #[error("unauthorized: {reason}")]
    Unauthorized { reason: String },
    /// The sync server answered with an error, or with something this device cannot use.
    /// `status` is the HTTP status (200 when a successful answer was unusable: a captive
    /// portal's page, a forged or broken reply). `retryable` says whether trying again later
    /// can help: true for 408, 429 and 5xx (the server is busy or failing), false otherwise
    /// (a `400` will be refused the same way again until the app or the data changes).
    #[error("server error {status}: {reason}")]
    Server {
        status: u16,
        retryable: bool,
        reason: String,
    },
    /// The call was cancelled (its coroutine, task or future was cancelled). Nothing half-done
    /// was kept; run it again when wanted.
    #[error("cancelled")]
    Cancelled,
    /// A bug inside Waystation. Please report it.
    #[error("internal error: {reason}")]
    Internal { reason: String },
}

/// Whether a server's `status` is worth trying again later.
fn retryable(status: u16) -> bool {
    status == 408 || status == 429 || status >= 500
}

/// What the apps see of any storage failure.
const STORAGE_FAILED: &str = "the local database could not complete the operation";

impl From<CoreError> for WaystationError {
    fn from(e: CoreError) -> Self {
        // The variant already says the category; `reason` carries only the detail.
        match e {
            CoreError::InvalidInput(reason) => WaystationError::InvalidInput { reason },
            CoreError::NotFound(reason) => WaystationError::NotFound { reason },
            CoreError::PackRejected(reason) => WaystationError::PackRejected { reason },
            CoreError::DataDir { reason, .. } => WaystationError::DataDirectory { reason },
            e @ CoreError::SchemaTooNew { .. } => WaystationError::SchemaTooNew {
                reason: e.to_string(),
            },
            CoreError::Sqlite(e) => {
                log::debug!(target: "waystation::storage", "{}", CoreError::Sqlite(e).storage_detail());
                WaystationError::Storage {
                    reason: STORAGE_FAILED.into(),
                }
            }
            CoreError::Io(e) => {
                log::debug!(target: "waystation::storage", "{}", CoreError::Io(e).storage_detail());
                WaystationError::Storage {
                    reason: "a file of the local store could not be read or written".into(),
                }
            }
            CoreError::Network(reason) => WaystationError::Network { reason },
            CoreError::Unauthorized(reason) => WaystationError::Unauthorized { reason },
            CoreError::Server { status, message } => WaystationError::Server {
                status,
                retryable: retryable(status),
                reason: message,
            },
            CoreError::Cancelled => WaystationError::Cancelled,
            CoreError::Internal(reason) => WaystationError::Internal { reason },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_error_keeps_its_status_and_says_if_a_retry_helps() {
        let server = |status| {
            WaystationError::from(CoreError::Server {
                status,
                message: "x".into(),
            })
        };
        assert!(matches!(
            server(400),
            WaystationError::Server {
                status: 400,
                retryable: false,
                ..
            }
        ));
        for status in [408, 429, 500, 503] {
            assert!(
                matches!(
                    server(status),
                    WaystationError::Server {
                        retryable: true,
                        ..
                    }
                ),
                "{status}"
            );
        }
    }

    #[test]
    fn storage_errors_carry_no_text_of_the_database() {
        let secret = "Zhang San, 13800138000";
        let e = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(19),
            Some(format!("UNIQUE constraint failed: '{secret}'")),
        );
        let shown = WaystationError::from(CoreError::Sqlite(e)).to_string();
        assert!(!shown.contains("Zhang"), "{shown}");
        assert_eq!(shown, format!("storage failure: {STORAGE_FAILED}"));
        let e = std::io::Error::other(format!("/data/{secret}/photo.jpg"));
        let shown = WaystationError::from(CoreError::Io(e)).to_string();
        assert!(!shown.contains("Zhang"), "{shown}");
    }
}
