//! Bearer tokens: issuing and revoking them. Only a token's hash is stored.

use chrono::{DateTime, Duration, Utc};

use super::Admin;
use super::users::user_info;
use crate::auth;
use crate::error::AdminError;
use crate::store::StoreTx;

impl Admin {
    /// Issues another bearer token for an existing account.
    pub fn issue_token(&self, user: &str, expires_in: Duration) -> Result<String, AdminError> {
        let token = auth::new_token().map_err(AdminError::Other)?;
        let now = self.now();
        let tx = self.db.write()?;
        if tx.user(user)?.is_none() {
            let shown: String = user.chars().take(64).collect();
            return Err(AdminError::NotFound(format!("no user '{shown}'")));
        }
        insert_token(tx.as_ref(), user, &token, now, expires_in)?;
        tx.commit()?;
        Ok(token)
    }

    /// Revokes every live token of an account (a lost or stolen phone, someone who left),
    /// returning how many were revoked. The account stays; `issue_token` gives it a new one.
    pub fn revoke_user_tokens(&self, user: &str) -> Result<u64, AdminError> {
        let now = self.now().timestamp();
        let tx = self.db.write()?;
        user_info(tx.as_ref(), user, self.now())?;
        let n = tx.revoke_user_tokens(user, now)?;
        // The console sessions those tokens opened end with them (their lookup already
        // refuses a revoked token's session; this removes the rows).
        tx.delete_dead_sessions(now)?;
        tx.commit()?;
        Ok(n)
    }

    /// Revokes a token: every later request with it gets `401`. Revoking twice is fine.
    pub fn revoke_token(&self, token: &str) -> Result<(), AdminError> {
        let tx = self.db.write()?;
        let n = tx.revoke_token(&auth::token_hash(token), self.now().timestamp())?;
        tx.delete_dead_sessions(self.now().timestamp())?;
        tx.commit()?;
        if n == 0 {
            return Err(AdminError::NotFound("no such token".into()));
        }
        Ok(())
    }
}

pub(super) fn insert_token(
    tx: &dyn StoreTx,
    user: &str,
    token: &str,
    now: DateTime<Utc>,
    expires_in: Duration,
) -> Result<(), AdminError> {
    let expires = now
        .checked_add_signed(expires_in)
        .ok_or_else(|| AdminError::Invalid("token lifetime out of range".into()))?;
    tx.insert_token(
        &auth::token_hash(token),
        user,
        now.timestamp(),
        expires.timestamp(),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use waystation_core::sync::policy::Role;

    #[test]
    fn users_and_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let admin = Admin::open(&dir.path().join("s.sqlite3")).unwrap();
        let t = admin
            .add_user(
                "staff-1",
                Role::Station,
                &["610113".into()],
                Duration::days(1),
            )
            .unwrap();
        assert!(t.starts_with("wst_"));
        let err = admin
            .add_user("staff-1", Role::Station, &[], Duration::days(1))
            .unwrap_err();
        assert!(err.to_string().contains("exists already"), "{err}");
        let err = admin
            .add_user("r1", Role::Rider, &["610113".into()], Duration::days(1))
            .unwrap_err();
        assert!(err.to_string().contains("has no areas"), "{err}");
        assert!(
            admin
                .add_user("../x", Role::Rider, &[], Duration::days(1))
                .is_err()
        );
        assert!(
            admin
                .add_user("s2", Role::Grid, &["61".into()], Duration::days(1))
                .is_err()
        );
        assert!(matches!(
            admin.issue_token("nobody", Duration::days(1)),
            Err(AdminError::NotFound(_))
        ));
        let t2 = admin.issue_token("staff-1", Duration::days(1)).unwrap();
        assert_ne!(t, t2);
        admin.revoke_token(&t2).unwrap();
        admin.revoke_token(&t2).unwrap();
        assert!(matches!(
            admin.revoke_token("wst_nope"),
            Err(AdminError::NotFound(_))
        ));
    }

    #[test]
    fn all_of_an_accounts_tokens_can_be_revoked_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let admin = Admin::open(&dir.path().join("s.sqlite3")).unwrap();
        let first = admin
            .add_user("rider-1", Role::Rider, &[], Duration::days(1))
            .unwrap();
        admin.issue_token("rider-1", Duration::days(1)).unwrap();
        admin
            .add_user("rider-2", Role::Rider, &[], Duration::days(1))
            .unwrap();
        admin.revoke_token(&first).unwrap();
        assert_eq!(admin.user("rider-1").unwrap().live_tokens, 1);
        assert_eq!(admin.revoke_user_tokens("rider-1").unwrap(), 1);
        assert_eq!(admin.revoke_user_tokens("rider-1").unwrap(), 0, "twice");
        assert_eq!(admin.user("rider-1").unwrap().live_tokens, 0);
        assert_eq!(
            admin.user("rider-2").unwrap().live_tokens,
            1,
            "others keep theirs"
        );
        assert!(matches!(
            admin.revoke_user_tokens("nobody"),
            Err(AdminError::NotFound(_))
        ));
    }
}
