-- Schema version 7: the device's side of sync with a server.
-- Per synced document: the heads this device last knew the server to hold (the start of the
-- next Automerge sync exchange), and the server's refusal, if it refused the document at its
-- current heads (a new local edit makes it eligible again).
CREATE TABLE sync_docs (
    doc_id         TEXT PRIMARY KEY REFERENCES documents(doc_id),
    shared_heads   BLOB NOT NULL,       -- sorted 32-byte change hashes
    refused_heads  BLOB,                -- the document's heads when the server refused it
    refused_reason TEXT,
    refused_at     TEXT
) STRICT, WITHOUT ROWID;

-- One row: which server, how far through its change feed, and how the last sync went.
CREATE TABLE sync_meta (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    server        TEXT NOT NULL,        -- base URL; another server starts over from cursor 0
    cursor        INTEGER NOT NULL DEFAULT 0 CHECK (cursor >= 0),
    last_attempt  TEXT,                 -- RFC 3339
    last_success  TEXT,
    last_error    TEXT
) STRICT;

-- Photos the server holds (uploaded or seen there), by SHA-256.
CREATE TABLE photo_uploads (
    sha256      TEXT PRIMARY KEY,
    uploaded_at TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- The ETag of the last pack fetched from the server, per kind.
CREATE TABLE pack_etags (
    kind TEXT PRIMARY KEY CHECK (kind IN ('stations', 'training')),
    etag TEXT NOT NULL
) STRICT, WITHOUT ROWID;
