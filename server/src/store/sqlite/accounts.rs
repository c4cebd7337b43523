//! Accounts and tokens on SQLite.

use rusqlite::{OptionalExtension, params};

use super::SqliteTx;
use crate::store::{Accounts, StoreError, TokenRow, UserRow, position};

impl Accounts for SqliteTx<'_> {
    fn token(&self, token_hash: &[u8]) -> Result<Option<TokenRow>, StoreError> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT u.user_id, u.role, t.expires_at, t.revoked_at, u.scope_epoch \
                 FROM tokens t JOIN users u ON u.user_id = t.user_id WHERE t.token_hash = ?1",
            )?
            .query_row([token_hash], |r| {
                Ok(TokenRow {
                    user: r.get(0)?,
                    role: r.get(1)?,
                    expires_at: r.get(2)?,
                    revoked_at: r.get(3)?,
                    scope_epoch: position(r.get(4)?),
                })
            })
            .optional()?)
    }

    fn user_areas(&self, user: &str) -> Result<Vec<String>, StoreError> {
        Ok(self
            .conn()
            .prepare_cached("SELECT district FROM user_areas WHERE user_id = ?1 ORDER BY district")?
            .query_map([user], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn user(&self, user: &str) -> Result<Option<UserRow>, StoreError> {
        Ok(self
            .conn()
            .prepare_cached("SELECT role, created_at FROM users WHERE user_id = ?1")?
            .query_row([user], |r| {
                Ok(UserRow {
                    role: r.get(0)?,
                    created_at: r.get(1)?,
                })
            })
            .optional()?)
    }

    fn user_ids(&self) -> Result<Vec<String>, StoreError> {
        Ok(self
            .conn()
            .prepare_cached("SELECT user_id FROM users ORDER BY user_id")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn live_tokens(&self, user: &str, now: i64) -> Result<u64, StoreError> {
        let n: i64 = self.conn().query_row(
            "SELECT count(*) FROM tokens WHERE user_id = ?1 AND revoked_at IS NULL \
             AND expires_at > ?2",
            params![user, now],
            |r| r.get(0),
        )?;
        Ok(position(n))
    }

    fn insert_user(
        &self,
        user: &str,
        role: &str,
        created_at: &str,
        areas: &[String],
    ) -> Result<(), StoreError> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO users (user_id, role, created_at) VALUES (?1, ?2, ?3)",
            params![user, role, created_at],
        )?;
        for a in areas {
            conn.execute(
                "INSERT OR IGNORE INTO user_areas (user_id, district) VALUES (?1, ?2)",
                params![user, a],
            )?;
        }
        Ok(())
    }

    fn set_user_scope(&self, user: &str, role: &str, areas: &[String]) -> Result<(), StoreError> {
        let conn = self.conn();
        conn.execute(
            "UPDATE users SET role = ?2, scope_epoch = scope_epoch + 1 WHERE user_id = ?1",
            params![user, role],
        )?;
        conn.execute("DELETE FROM user_areas WHERE user_id = ?1", [user])?;
        for a in areas {
            conn.execute(
                "INSERT OR IGNORE INTO user_areas (user_id, district) VALUES (?1, ?2)",
                params![user, a],
            )?;
        }
        Ok(())
    }

    fn scope_epoch(&self, user: &str) -> Result<Option<u64>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT scope_epoch FROM users WHERE user_id = ?1",
                [user],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .map(position))
    }

    fn insert_token(
        &self,
        token_hash: &[u8],
        user: &str,
        created_at: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO tokens (token_hash, user_id, created_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4)",
            params![token_hash, user, created_at, expires_at],
        )?;
        Ok(())
    }

    fn revoke_user_tokens(&self, user: &str, now: i64) -> Result<u64, StoreError> {
        Ok(self.conn().execute(
            "UPDATE tokens SET revoked_at = ?2 \
             WHERE user_id = ?1 AND revoked_at IS NULL AND expires_at > ?2",
            params![user, now],
        )? as u64)
    }

    fn revoke_token(&self, token_hash: &[u8], now: i64) -> Result<u64, StoreError> {
        Ok(self.conn().execute(
            "UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?2) WHERE token_hash = ?1",
            params![token_hash, now],
        )? as u64)
    }
}
