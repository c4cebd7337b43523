//! The console's sessions on PostgreSQL (`sql/postgres/v2.sql`).

use super::{Col, PgTx};
use crate::store::console::{ConsoleSessions, NewSession, SessionRow};
use crate::store::{StoreError, position};

impl ConsoleSessions for PgTx<'_> {
    fn insert_session(&self, s: &NewSession<'_>) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO console_sessions \
             (session_hash, user_id, token_hash, csrf, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &s.session_hash,
                &s.user,
                &s.token_hash,
                &s.csrf,
                &s.created_at,
                &s.expires_at,
            ],
        )?;
        Ok(())
    }

    fn session(&self, session_hash: &[u8]) -> Result<Option<SessionRow>, StoreError> {
        self.query_opt(
            "SELECT u.user_id, u.role, s.csrf, s.expires_at, t.expires_at, t.revoked_at, \
             u.scope_epoch FROM console_sessions s \
             JOIN users u ON u.user_id = s.user_id \
             JOIN tokens t ON t.token_hash = s.token_hash \
             WHERE s.session_hash = $1",
            &[&session_hash],
        )?
        .map(|r| {
            Ok::<_, StoreError>(SessionRow {
                user: r.col(0)?,
                role: r.col(1)?,
                csrf: r.col(2)?,
                expires_at: r.col(3)?,
                token_expires_at: r.col(4)?,
                token_revoked_at: r.col(5)?,
                scope_epoch: position(r.col(6)?),
            })
        })
        .transpose()
    }

    fn delete_session(&self, session_hash: &[u8]) -> Result<bool, StoreError> {
        Ok(self.execute(
            "DELETE FROM console_sessions WHERE session_hash = $1",
            &[&session_hash],
        )? > 0)
    }

    fn delete_user_sessions(&self, user: &str) -> Result<u64, StoreError> {
        self.execute("DELETE FROM console_sessions WHERE user_id = $1", &[&user])
    }

    fn delete_dead_sessions(&self, now: i64) -> Result<u64, StoreError> {
        self.execute(
            "DELETE FROM console_sessions WHERE expires_at <= $1 OR token_hash IN \
             (SELECT token_hash FROM tokens WHERE revoked_at IS NOT NULL OR expires_at <= $1)",
            &[&now],
        )
    }
}
