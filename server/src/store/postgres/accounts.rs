//! Accounts and tokens on PostgreSQL.

use super::{Col, PgTx};
use crate::store::{Accounts, StoreError, TokenRow, UserRow, position};

impl Accounts for PgTx<'_> {
    fn token(&self, token_hash: &[u8]) -> Result<Option<TokenRow>, StoreError> {
        self.query_opt(
            "SELECT u.user_id, u.role, t.expires_at, t.revoked_at, u.scope_epoch \
                 FROM tokens t JOIN users u ON u.user_id = t.user_id WHERE t.token_hash = $1",
            &[&token_hash],
        )?
        .map(|r| {
            Ok::<_, StoreError>(TokenRow {
                user: r.col(0)?,
                role: r.col(1)?,
                expires_at: r.col(2)?,
                revoked_at: r.col(3)?,
                scope_epoch: position(r.col(4)?),
            })
        })
        .transpose()
    }

    fn user_areas(&self, user: &str) -> Result<Vec<String>, StoreError> {
        self.query(
            "SELECT district FROM user_areas WHERE user_id = $1 ORDER BY district",
            &[&user],
        )?
        .iter()
        .map(|r| r.col(0))
        .collect::<Result<_, StoreError>>()
    }

    fn user(&self, user: &str) -> Result<Option<UserRow>, StoreError> {
        self.query_opt(
            "SELECT role, created_at FROM users WHERE user_id = $1",
            &[&user],
        )?
        .map(|r| {
            Ok::<_, StoreError>(UserRow {
                role: r.col(0)?,
                created_at: r.col(1)?,
            })
        })
        .transpose()
    }

    fn user_ids(&self) -> Result<Vec<String>, StoreError> {
        self.query("SELECT user_id FROM users ORDER BY user_id", &[])?
            .iter()
            .map(|r| r.col(0))
            .collect::<Result<_, StoreError>>()
    }

    fn live_tokens(&self, user: &str, now: i64) -> Result<u64, StoreError> {
        let n: i64 = self
            .query_one(
                "SELECT count(*) FROM tokens WHERE user_id = $1 AND revoked_at IS NULL \
                 AND expires_at > $2",
                &[&user, &now],
            )?
            .col(0)?;
        Ok(position(n))
    }

    fn insert_user(
        &self,
        user: &str,
        role: &str,
        created_at: &str,
        areas: &[String],
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO users (user_id, role, created_at) VALUES ($1, $2, $3)",
            &[&user, &role, &created_at],
        )?;
        for a in areas {
            self.execute(
                "INSERT INTO user_areas (user_id, district) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING",
                &[&user, a],
            )?;
        }
        Ok(())
    }

    fn set_user_scope(&self, user: &str, role: &str, areas: &[String]) -> Result<(), StoreError> {
        self.execute(
            "UPDATE users SET role = $2, scope_epoch = scope_epoch + 1 WHERE user_id = $1",
            &[&user, &role],
        )?;
        self.execute("DELETE FROM user_areas WHERE user_id = $1", &[&user])?;
        for a in areas {
            self.execute(
                "INSERT INTO user_areas (user_id, district) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING",
                &[&user, a],
            )?;
        }
        Ok(())
    }

    fn scope_epoch(&self, user: &str) -> Result<Option<u64>, StoreError> {
        self.query_opt("SELECT scope_epoch FROM users WHERE user_id = $1", &[&user])?
            .map(|r| Ok::<_, StoreError>(position(r.col(0)?)))
            .transpose()
    }

    fn insert_token(
        &self,
        token_hash: &[u8],
        user: &str,
        created_at: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO tokens (token_hash, user_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
            &[&token_hash, &user, &created_at, &expires_at],
        )?;
        Ok(())
    }

    fn revoke_user_tokens(&self, user: &str, now: i64) -> Result<u64, StoreError> {
        self.execute(
            "UPDATE tokens SET revoked_at = $2 \
             WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2",
            &[&user, &now],
        )
    }

    fn revoke_token(&self, token_hash: &[u8], now: i64) -> Result<u64, StoreError> {
        self.execute(
            "UPDATE tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE token_hash = $1",
            &[&token_hash, &now],
        )
    }
}
