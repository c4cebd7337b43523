-- Schema version 4: user data as Automerge documents (training progress; later reports, cases).
-- A document is its last snapshot plus the changes appended since; every edit appends its
-- changes durably before the call returns, and a compaction folds them into a new snapshot in
-- the same transaction that deletes them. `dirty` = holds changes the server has not
-- acknowledged; it is cleared only when the server acknowledged exactly the current heads.
CREATE TABLE documents (
    doc_id       TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    owner        TEXT NOT NULL,
    snapshot     BLOB NOT NULL,           -- Automerge save() of the document at compaction
    heads        BLOB NOT NULL,           -- current heads: sorted 32-byte change hashes
    change_count INTEGER NOT NULL DEFAULT 0 CHECK (change_count >= 0),
    dirty        INTEGER NOT NULL DEFAULT 1 CHECK (dirty IN (0, 1)),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
) STRICT;

CREATE INDEX documents_by_kind_owner ON documents(kind, owner);
CREATE INDEX documents_dirty ON documents(doc_id) WHERE dirty = 1;

-- Changes since the snapshot, one Automerge change per row, in the order they were stored.
-- No ON DELETE CASCADE: nothing deletes a document with its unsynced changes by accident.
CREATE TABLE document_changes (
    doc_id TEXT NOT NULL REFERENCES documents(doc_id),
    seq    INTEGER NOT NULL,
    change BLOB NOT NULL,
    PRIMARY KEY (doc_id, seq)
) STRICT, WITHOUT ROWID;

-- This installation's random id, created on first use. Recorded in user data as the device
-- (never used as an Automerge actor: a restored backup on a second phone would share it).
CREATE TABLE device (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    device_id TEXT NOT NULL
) STRICT;
