-- Schema version 6: an index of hazard reports, derived from the report documents.
-- The documents (`documents`, kind 'report') stay the truth; this table is rewritten in the
-- same transaction as every edit of a report document, so it never disagrees with them after
-- a crash. Times are Unix milliseconds (UTC) so that ranges compare as integers.
CREATE TABLE report_index (
    report_id    TEXT PRIMARY KEY,         -- the report's UUID (document 'report:<uuid>')
    author       TEXT NOT NULL,
    category     TEXT NOT NULL,            -- category code, e.g. 'food.seal'
    status       TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'withdrawn')),
    lat          REAL,                     -- WGS-84; NULL while the report has no position
    lon          REAL,
    created_at   INTEGER NOT NULL,
    submitted_at INTEGER,
    updated_at   INTEGER NOT NULL,         -- when this device last changed the document
    district     TEXT                      -- reserved: the district, once one is known
) STRICT;

CREATE INDEX report_index_author ON report_index (author, created_at);
-- Nearby duplicates: category and submission time narrow the rows, lat/lon are in the index
-- so the bounding box is checked without touching the table.
CREATE INDEX report_index_nearby ON report_index (category, submitted_at, lat, lon, status);

-- Set when report documents existed before this table did: the core rebuilds the index from
-- the documents (which needs Automerge, not SQL) the first time it is used, then clears it.
CREATE TABLE report_index_rebuild (
    id INTEGER PRIMARY KEY CHECK (id = 1)
) STRICT;
INSERT INTO report_index_rebuild (id)
    SELECT 1 WHERE EXISTS (SELECT 1 FROM documents WHERE kind = 'report');
