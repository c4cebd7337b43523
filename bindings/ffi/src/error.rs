//! The public error enum, and the one place internal errors are mapped to it.

use waystation_core::Error as CoreError;

/// What went wrong, as Kotlin, Swift and Python see it. Every variant carries a `reason` that
/// names the problem (which field, which limit) without personal data.
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
    /// The local database failed.
    #[error("storage failure: {reason}")]
    Storage { reason: String },
    /// Sync could not reach the server (no network, timeout), after retries. Try later.
    #[error("network error: {reason}")]
    Network { reason: String },
    /// The server refused the sync token (unknown, revoked or expired). Sign in again.
    #[error("unauthorized: {reason}")]
    Unauthorized { reason: String },
    /// The sync server answered with an error.
    #[error("server error: {reason}")]
    Server { reason: String },
    /// The call was cancelled (its coroutine, task or future was cancelled). Nothing half-done
    /// was kept; run it again when wanted.
    #[error("cancelled")]
    Cancelled,
    /// A bug inside Waystation. Please report it.
    #[error("internal error: {reason}")]
    Internal { reason: String },
}

impl From<CoreError> for WaystationError {
    fn from(e: CoreError) -> Self {
        // The variant already says the category; `reason` carries only the detail.
        match e {
            CoreError::InvalidInput(reason) => WaystationError::InvalidInput { reason },
            CoreError::NotFound(reason) => WaystationError::NotFound { reason },
            CoreError::PackRejected(reason) => WaystationError::PackRejected { reason },
            CoreError::DataDir { path, reason } => WaystationError::DataDirectory {
                reason: format!("{}: {reason}", path.display()),
            },
            e @ CoreError::SchemaTooNew { .. } => WaystationError::SchemaTooNew {
                reason: e.to_string(),
            },
            CoreError::Sqlite(e) => WaystationError::Storage {
                reason: e.to_string(),
            },
            CoreError::Io(e) => WaystationError::Storage {
                reason: e.to_string(),
            },
            CoreError::Network(reason) => WaystationError::Network { reason },
            CoreError::Unauthorized(reason) => WaystationError::Unauthorized { reason },
            e @ CoreError::Server { .. } => WaystationError::Server {
                reason: e.to_string(),
            },
            CoreError::Cancelled => WaystationError::Cancelled,
            CoreError::Internal(reason) => WaystationError::Internal { reason },
        }
    }
}
