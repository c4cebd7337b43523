-- PostgreSQL schema v1: the SQLite schema as of its v6, in one step. Released migrations are
-- never edited; add v2.sql instead. The tables and columns mean what they mean on SQLite
-- (server/src/sql/v1.sql .. v6.sql say why each exists); what differs is said here.

CREATE TABLE users (
    user_id     TEXT PRIMARY KEY,
    name        TEXT,
    role        TEXT NOT NULL CHECK (role IN ('rider', 'station', 'supervisor', 'grid', 'admin')),
    created_at  TEXT NOT NULL,
    scope_epoch BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE user_areas (
    user_id  TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    district TEXT NOT NULL,
    PRIMARY KEY (user_id, district)
);

CREATE TABLE tokens (
    token_hash BYTEA PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX tokens_user ON tokens (user_id);

-- `seq` is the document's feed position. A write transaction leaves it NULL for the documents
-- it stores and gives them their positions as its last step, under the lock of the
-- feed_position row (decision 0011), so positions are given in commit order. No committed row
-- has a NULL position.
CREATE TABLE docs (
    doc_id          TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    owner           TEXT NOT NULL,
    district        TEXT,
    report_category TEXT,
    snapshot        BYTEA NOT NULL,
    heads           BYTEA NOT NULL,
    change_count    BIGINT NOT NULL DEFAULT 0,
    seq             BIGINT UNIQUE,
    updated_at      TEXT NOT NULL
);
CREATE INDEX docs_owner_seq ON docs (owner, seq);
CREATE INDEX docs_district_seq ON docs (district, seq);

CREATE TABLE doc_changes (
    doc_id TEXT NOT NULL REFERENCES docs (doc_id) ON DELETE CASCADE,
    n      BIGINT NOT NULL,
    change BYTEA NOT NULL,
    PRIMARY KEY (doc_id, n)
);

CREATE TABLE report_photos (
    report_id TEXT NOT NULL REFERENCES docs (doc_id) ON DELETE CASCADE,
    sha256    TEXT NOT NULL,
    PRIMARY KEY (sha256, report_id)
);
CREATE INDEX report_photos_report ON report_photos (report_id);

-- Photo and lesson image bytes live in the database, so instances share no disk.
CREATE TABLE photos (
    sha256     TEXT PRIMARY KEY,
    bytes      BYTEA NOT NULL,
    mime       TEXT NOT NULL,
    size       BIGINT NOT NULL,
    uploader   TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE photo_uploaders (
    sha256      TEXT NOT NULL REFERENCES photos (sha256) ON DELETE CASCADE,
    user_id     TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    PRIMARY KEY (sha256, user_id)
);
CREATE INDEX photo_uploaders_user ON photo_uploaders (user_id, uploaded_at);

CREATE TABLE packs (
    kind         TEXT PRIMARY KEY CHECK (kind IN ('stations', 'training')),
    bytes        BYTEA NOT NULL,
    etag         TEXT NOT NULL,
    pack_id      TEXT NOT NULL,
    version      BIGINT NOT NULL,
    published_at TEXT NOT NULL
);

CREATE TABLE training_images (
    sha256     TEXT PRIMARY KEY,
    bytes      BYTEA NOT NULL,
    mime       TEXT NOT NULL,
    size       BIGINT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE replaced_docs (
    doc_id      TEXT PRIMARY KEY REFERENCES docs (doc_id) ON DELETE CASCADE,
    base        BYTEA NOT NULL,
    replaced_at TEXT NOT NULL
);

CREATE TABLE purged_docs (
    doc_id    TEXT PRIMARY KEY,
    purged_at TEXT NOT NULL
);

-- The store's generation (decision 0008).
CREATE TABLE meta (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    generation TEXT NOT NULL
);
INSERT INTO meta (id, generation)
    VALUES (1, substr(md5(random()::text || clock_timestamp()::text), 1, 16));

-- The last feed position given. Its row lock orders the writers' commits (decision 0011).
CREATE TABLE feed_position (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    last BIGINT NOT NULL
);
INSERT INTO feed_position (id, last) VALUES (1, 0);
