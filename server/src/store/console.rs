//! What the web console (issue 16, decision 0013) keeps in the store: its sign-in sessions.
//!
//! Sessions are rows, not memory, like everything else the server knows, so any instance
//! answers any request of a signed-in browser. A session is stored by the SHA-256 of its id;
//! its lookup joins the bearer token it was exchanged for, so revoking or erasing that token
//! (or the account) ends the session at once, on every instance.

use super::StoreError;

/// The console's sessions.
pub trait ConsoleSessions {
    /// Stores a new session.
    fn insert_session(&self, session: &NewSession<'_>) -> Result<(), StoreError>;
    /// The session with this id hash, with its account and its token's state.
    fn session(&self, session_hash: &[u8]) -> Result<Option<SessionRow>, StoreError>;
    /// Deletes one session (logout); returns whether it existed.
    fn delete_session(&self, session_hash: &[u8]) -> Result<bool, StoreError>;
    /// Deletes every session of `user`; returns how many.
    fn delete_user_sessions(&self, user: &str) -> Result<u64, StoreError>;
    /// Deletes the sessions that expired before `now` (Unix seconds), or whose token is
    /// revoked or expired; returns how many.
    fn delete_dead_sessions(&self, now: i64) -> Result<u64, StoreError>;
}

/// A session to store.
#[derive(Debug)]
pub struct NewSession<'a> {
    /// SHA-256 of the session id (the cookie's value).
    pub session_hash: &'a [u8],
    /// The account.
    pub user: &'a str,
    /// SHA-256 of the bearer token it was exchanged for.
    pub token_hash: &'a [u8],
    /// The CSRF token its forms carry.
    pub csrf: &'a str,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
}

/// A stored session, with what deciding on it needs.
#[derive(Clone, Debug)]
pub struct SessionRow {
    /// The account.
    pub user: String,
    /// Its role's name.
    pub role: String,
    /// The CSRF token.
    pub csrf: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// The token's expiry, Unix seconds.
    pub token_expires_at: i64,
    /// When the token was revoked, Unix seconds.
    pub token_revoked_at: Option<i64>,
    /// The account's scope epoch.
    pub scope_epoch: u64,
}
