-- Schema version 5: delivery state of submitted hazard reports.
-- A report itself is an Automerge document (`documents`, kind 'report'); whether it was
-- submitted is recorded in the document. This table only holds what the server said: a
-- submitted report without a row is pending, so a crash between submitting and recording
-- anything here still leaves it in the outbox, never lost.
CREATE TABLE report_outbox (
    report_id  TEXT PRIMARY KEY,           -- the report's UUID (document id 'report:<uuid>')
    state      TEXT NOT NULL CHECK (state IN ('sent', 'refused')),
    reason     TEXT,                       -- the server's reason when refused
    updated_at TEXT NOT NULL               -- RFC 3339, when the state was recorded
) STRICT;
