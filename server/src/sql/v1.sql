-- Server schema v1. Released migrations are never edited; add v2.sql instead.

-- Accounts. `role` is one of policy::Role's names.
CREATE TABLE users (
    user_id    TEXT PRIMARY KEY,
    name       TEXT,
    role       TEXT NOT NULL CHECK (role IN ('rider', 'station', 'supervisor', 'grid', 'admin')),
    created_at TEXT NOT NULL
) STRICT;

-- District codes (GB/T 2260) a follow-up account covers.
CREATE TABLE user_areas (
    user_id  TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    district TEXT NOT NULL,
    PRIMARY KEY (user_id, district)
) STRICT, WITHOUT ROWID;

-- Bearer tokens, stored only as the SHA-256 of the token string. Times are Unix seconds.
CREATE TABLE tokens (
    token_hash BLOB PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;
CREATE INDEX tokens_user ON tokens (user_id);

-- One row per synced Automerge document: the last snapshot plus the changes in doc_changes.
-- owner, district and report_category are copied out of the document (for a case, out of its
-- report) so access can be decided in SQL without loading documents. `seq` is the document's
-- place in the change feed: every accepted change moves it to the end.
CREATE TABLE docs (
    doc_id          TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    owner           TEXT NOT NULL,
    district        TEXT,
    report_category TEXT,
    snapshot        BLOB NOT NULL,
    heads           BLOB NOT NULL,
    change_count    INTEGER NOT NULL DEFAULT 0,
    seq             INTEGER NOT NULL UNIQUE,
    updated_at      TEXT NOT NULL
) STRICT;
CREATE INDEX docs_owner_seq ON docs (owner, seq);
CREATE INDEX docs_district_seq ON docs (district, seq);

-- Changes accepted since the document's snapshot, in order.
CREATE TABLE doc_changes (
    doc_id TEXT NOT NULL REFERENCES docs (doc_id) ON DELETE CASCADE,
    n      INTEGER NOT NULL,
    change BLOB NOT NULL,
    PRIMARY KEY (doc_id, n)
) STRICT;

-- Which photos each stored report names (by report document id).
CREATE TABLE report_photos (
    report_id TEXT NOT NULL REFERENCES docs (doc_id) ON DELETE CASCADE,
    sha256    TEXT NOT NULL,
    PRIMARY KEY (sha256, report_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX report_photos_report ON report_photos (report_id);

-- Content-addressed photo bytes.
CREATE TABLE photos (
    sha256     TEXT PRIMARY KEY,
    bytes      BLOB NOT NULL,
    mime       TEXT NOT NULL,
    size       INTEGER NOT NULL,
    uploader   TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

-- The latest published pack of each kind. `etag` is the payload's SHA-256 (hex).
CREATE TABLE packs (
    kind         TEXT PRIMARY KEY CHECK (kind IN ('stations', 'training')),
    bytes        BLOB NOT NULL,
    etag         TEXT NOT NULL,
    pack_id      TEXT NOT NULL,
    version      INTEGER NOT NULL,
    published_at TEXT NOT NULL
) STRICT;

-- The next feed sequence number.
CREATE TABLE meta (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    next_seq INTEGER NOT NULL
) STRICT;
INSERT INTO meta (id, next_seq) VALUES (1, 1);
