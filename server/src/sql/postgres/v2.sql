-- PostgreSQL schema v2: the web console's sign-in sessions (issue 16, decision 0013); the
-- SQLite schema's v7 (server/src/sql/v7.sql says what each column is for).
CREATE TABLE console_sessions (
    session_hash BYTEA PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    token_hash   BYTEA NOT NULL REFERENCES tokens (token_hash) ON DELETE CASCADE,
    csrf         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions (user_id);
CREATE INDEX console_sessions_token ON console_sessions (token_hash);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
