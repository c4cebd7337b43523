-- Server schema v7: the web console's sign-in sessions (issue 16, decision 0013).
--
-- A bearer token (tokens) is exchanged at /console/login for a session: a random 32-byte id
-- sent to the browser in a cookie, stored here only as its SHA-256 (like tokens), with the
-- CSRF token its forms carry. A session lives no longer than `expires_at` (Unix seconds, a
-- fixed 12 hours from sign-in, not sliding) and no longer than the token it came from: the
-- lookup joins that token and refuses the session once the token is revoked or expired, and
-- the row goes with the token or the account (erasure deletes both).
CREATE TABLE console_sessions (
    session_hash BLOB PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    token_hash   BLOB NOT NULL REFERENCES tokens (token_hash) ON DELETE CASCADE,
    csrf         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX console_sessions_user ON console_sessions (user_id);
CREATE INDEX console_sessions_token ON console_sessions (token_hash);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
