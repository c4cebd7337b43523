//! Bearer tokens: how they are made, stored and checked.
//!
//! A token is `wst_` followed by 32 random bytes in unpadded base64url (47 characters). The
//! server stores only its SHA-256, so a copy of the database does not let anyone sign in; a
//! token is shown once, when it is issued. Tokens expire, and can be revoked one by one.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};
use waystation_core::sync::policy::{Account, Role};

use crate::error::ApiError;
use crate::store::StoreTx;

/// Prefix of every token, so a leaked one is easy to recognise (and to scan for).
pub const TOKEN_PREFIX: &str = "wst_";

/// A new random token.
pub fn new_token() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no random numbers for a token: {e}"))?;
    Ok(format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// What the `tokens` table stores for a token: its SHA-256.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// RFC 3339 with seconds, UTC.
pub(crate) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// An authenticated request's account and its token's expiry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authenticated {
    /// The account.
    pub account: Account,
    /// When the token expires.
    pub expires_at: DateTime<Utc>,
    /// How many times the account's role or areas changed (`users.scope_epoch`); feed
    /// cursors carry it (`sync::cursor_at`).
    pub scope_epoch: u64,
}

/// The token in an `Authorization` header value, or why there is none.
pub fn bearer(header: Option<&[u8]>) -> Result<&str, ApiError> {
    let Some(value) = header else {
        return Err(ApiError::unauthorized(
            "no bearer token: send 'Authorization: Bearer <token>'",
        ));
    };
    let value = std::str::from_utf8(value)
        .map_err(|_| ApiError::unauthorized("the Authorization header is not text"))?;
    let (scheme, token) = value.trim().split_once(' ').ok_or_else(|| {
        ApiError::unauthorized("the Authorization header is not 'Bearer <token>'")
    })?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::unauthorized(
            "the Authorization header is not 'Bearer <token>'",
        ));
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(ApiError::unauthorized("the bearer token is empty"));
    }
    Ok(token)
}

/// Looks the token up: unknown, revoked and expired tokens are refused, each with its reason.
pub fn authenticate(
    tx: &dyn StoreTx,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Authenticated, ApiError> {
    // The epoch is read before the areas: an admin's change landing between the two reads
    // pairs the old epoch with the new areas, and the next request (new epoch) reads the feed
    // again from the start, so nothing is missed.
    let row = tx.token(&token_hash(token))?;
    let Some(row) = row else {
        return Err(ApiError::unauthorized(
            "unknown token: ask an administrator for a new one",
        ));
    };
    if row.revoked_at.is_some() {
        return Err(ApiError::unauthorized(
            "this token was revoked: ask an administrator for a new one",
        ));
    }
    let expires_at = DateTime::from_timestamp(row.expires_at, 0)
        .ok_or_else(|| ApiError::internal("token expiry out of range"))?;
    if expires_at <= now {
        return Err(ApiError::unauthorized(format!(
            "this token expired at {}: ask an administrator for a new one",
            rfc3339(expires_at)
        )));
    }
    let role: Role = row
        .role
        .parse()
        .map_err(|e| ApiError::internal(format!("stored role: {e}")))?;
    let areas = tx.user_areas(&row.user)?;
    Ok(Authenticated {
        account: Account {
            user: row.user,
            role,
            areas,
        },
        expires_at,
        scope_epoch: row.scope_epoch,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_prefixed_and_hashed() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), 4 + 43);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), token_hash(&b));
    }

    #[test]
    fn bearer_headers() {
        assert_eq!(bearer(Some(b"Bearer abc")).unwrap(), "abc");
        assert_eq!(bearer(Some(b"bearer  abc ")).unwrap(), "abc");
        for bad in [&b"Basic abc"[..], b"Bearer", b"Bearer ", b"\xff\xfe"] {
            assert_eq!(bearer(Some(bad)).unwrap_err().code, "unauthorized");
        }
        assert!(
            bearer(None)
                .unwrap_err()
                .message
                .contains("no bearer token")
        );
    }
}
