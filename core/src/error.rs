//! The core's error type.
//!
//! One rich enum inside the core. The FFI layer maps it to its small public enum in one place.
//! Messages name the problem (which field, which limit) but never carry personal data such as
//! report text, names or precise positions.

use std::path::PathBuf;

/// Everything that can go wrong inside the Waystation core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The caller passed something that can never work: a NaN coordinate, an unknown service
    /// name, a malformed time. The message says which input and why.
    #[error("invalid input: {0}")]
    InvalidInput(String),

    /// A pack (station or training content) was refused: bad signature, untrusted key,
    /// malformed, too large, or not newer than what is installed. Installed data is untouched.
    #[error("pack refused: {0}")]
    PackRejected(String),

    /// Something looked up by id does not exist.
    #[error("not found: {0}")]
    NotFound(String),

    /// The data directory cannot be used: missing and not creatable, or not writable.
    #[error("data directory {path}: {reason}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// Why it cannot be used.
        reason: String,
    },

    /// The database was written by a newer Waystation than this one. We never downgrade.
    #[error(
        "database schema version {found} is newer than this build supports ({supported}); \
         update the app instead of opening this database with an older one"
    )]
    SchemaTooNew {
        /// The `user_version` found in the file.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },

    /// SQLite failed.
    #[error("storage error: {0}")]
    Sqlite(#[from] rusqlite::Error),

    /// File system failure outside SQLite.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),

    /// Sync could not reach the server (no network, timeout, refused connection), after its
    /// retries. Nothing local changed; sync again later.
    #[error("network error: {0}")]
    Network(String),

    /// The server did not accept the sync token: unknown, revoked or expired. Sign in again.
    #[error("unauthorized: {0}")]
    Unauthorized(String),

    /// The server answered with an error or something this device cannot use.
    #[error("server error {status}: {message}")]
    Server {
        /// HTTP status (200 when the body was unusable).
        status: u16,
        /// What went wrong.
        message: String,
    },

    /// The caller cancelled the operation ([`crate::CancelToken`]). It stopped at a safe point:
    /// what was stored before stays, nothing half-done was kept, and it can simply run again.
    #[error("cancelled")]
    Cancelled,

    /// A bug or broken invariant inside the core.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Shorthand for [`Error::InvalidInput`].
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidInput(msg.into())
    }

    /// Shorthand for [`Error::PackRejected`].
    pub fn pack(msg: impl Into<String>) -> Self {
        Error::PackRejected(msg.into())
    }
}

/// The core's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
