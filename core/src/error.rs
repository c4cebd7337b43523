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

    /// What a storage failure ([`Error::Sqlite`], [`Error::Io`]) was, for a debug log line:
    /// SQLite's error code and message, or the file system's error kind. Never a statement's
    /// text nor a value read or bound, which can be the user's data; the apps see only a fixed
    /// message. Any other error is described by its `Display`.
    pub fn storage_detail(&self) -> String {
        use rusqlite::Error as E;
        match self {
            Error::Sqlite(E::SqliteFailure(code, message)) => format!(
                "SQLite {:?} (extended code {}){}",
                code.code,
                code.extended_code,
                message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            ),
            Error::Sqlite(E::SqlInputError { msg, offset, .. }) => {
                format!("SQLite refused a statement at offset {offset}: {msg}")
            }
            Error::Sqlite(E::FromSqlConversionFailure(column, ty, _)) => {
                format!("SQLite column {column} could not be read as {ty}")
            }
            Error::Sqlite(E::InvalidColumnType(column, name, ty)) => {
                format!("SQLite column {column} ({name}) has type {ty}")
            }
            Error::Sqlite(E::QueryReturnedNoRows) => "SQLite: a query returned no rows".into(),
            Error::Sqlite(E::ToSqlConversionFailure(_)) => {
                "SQLite: a value could not be bound".into()
            }
            Error::Sqlite(_) => "SQLite failed (another kind of rusqlite error)".into(),
            Error::Io(e) => format!("file system: {:?}", e.kind()),
            other => other.to_string(),
        }
    }
}

/// The core's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_storage_detail_never_quotes_a_statement_or_a_value() {
        let e = Error::Sqlite(rusqlite::Error::SqlInputError {
            error: rusqlite::ffi::Error::new(1),
            msg: "near \"x\": syntax error".into(),
            sql: "INSERT INTO t VALUES ('Zhang San')".into(),
            offset: 3,
        });
        let detail = e.storage_detail();
        assert!(
            !detail.contains("Zhang") && !detail.contains("INSERT"),
            "{detail}"
        );
        assert!(detail.contains("offset 3"), "{detail}");
        let e = Error::Sqlite(rusqlite::Error::FromSqlConversionFailure(
            2,
            rusqlite::types::Type::Text,
            "Zhang San".into(),
        ));
        assert!(!e.storage_detail().contains("Zhang"));
    }
}
