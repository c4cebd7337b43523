-- Server schema v6: documents an erasure rewrote (PIPL art. 47; decision 0009).
--
-- `waystation-server user erase` rewrites the reports and cases that name an erased account as
-- new documents without history. `base` is the hash of the change every copy of the new
-- history holds: feed entries carry it, so a device whose copy lacks it drops the copy and
-- fetches the new one, and the server refuses changes that do not descend from it.
CREATE TABLE replaced_docs (
    doc_id      TEXT PRIMARY KEY REFERENCES docs (doc_id) ON DELETE CASCADE,
    base        BLOB NOT NULL,
    replaced_at TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- Reports (and their cases) `waystation-server db purge-withdrawn` deleted after the retention
-- period. A device that offers one again (a rider's phone re-offering everything after a
-- restore) is refused, so the purge sticks.
CREATE TABLE purged_docs (
    doc_id    TEXT PRIMARY KEY,
    purged_at TEXT NOT NULL
) STRICT, WITHOUT ROWID;
