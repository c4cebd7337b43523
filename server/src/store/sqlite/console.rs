//! The console's sessions on SQLite (`sql/v7.sql`).

use rusqlite::{OptionalExtension, params};

use super::SqliteTx;
use crate::store::console::{ConsoleSessions, NewSession, SessionRow};
use crate::store::{StoreError, position};

impl ConsoleSessions for SqliteTx<'_> {
    fn insert_session(&self, s: &NewSession<'_>) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO console_sessions \
             (session_hash, user_id, token_hash, csrf, created_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                s.session_hash,
                s.user,
                s.token_hash,
                s.csrf,
                s.created_at,
                s.expires_at
            ],
        )?;
        Ok(())
    }

    fn session(&self, session_hash: &[u8]) -> Result<Option<SessionRow>, StoreError> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT u.user_id, u.role, s.csrf, s.expires_at, t.expires_at, t.revoked_at, \
                 u.scope_epoch FROM console_sessions s \
                 JOIN users u ON u.user_id = s.user_id \
                 JOIN tokens t ON t.token_hash = s.token_hash \
                 WHERE s.session_hash = ?1",
            )?
            .query_row([session_hash], |r| {
                Ok(SessionRow {
                    user: r.get(0)?,
                    role: r.get(1)?,
                    csrf: r.get(2)?,
                    expires_at: r.get(3)?,
                    token_expires_at: r.get(4)?,
                    token_revoked_at: r.get(5)?,
                    scope_epoch: position(r.get(6)?),
                })
            })
            .optional()?)
    }

    fn delete_session(&self, session_hash: &[u8]) -> Result<bool, StoreError> {
        Ok(self.conn().execute(
            "DELETE FROM console_sessions WHERE session_hash = ?1",
            [session_hash],
        )? > 0)
    }

    fn delete_user_sessions(&self, user: &str) -> Result<u64, StoreError> {
        Ok(self
            .conn()
            .execute("DELETE FROM console_sessions WHERE user_id = ?1", [user])? as u64)
    }

    fn delete_dead_sessions(&self, now: i64) -> Result<u64, StoreError> {
        Ok(self.conn().execute(
            "DELETE FROM console_sessions WHERE expires_at <= ?1 OR token_hash IN \
             (SELECT token_hash FROM tokens WHERE revoked_at IS NOT NULL OR expires_at <= ?1)",
            [now],
        )? as u64)
    }
}
