-- Schema version 10: the account this device syncs as, as the server last described it
-- (GET /v1/me): user id, role and districts. The core refuses locally the case events that
-- account's server would refuse (issue 11, finding 15a), instead of believing the role a
-- caller claims. Learned at the end of a sync when unknown for this server and token, or
-- older than a day; until then the core accepts what the caller claims and the server judges.
CREATE TABLE sync_account (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    server        TEXT NOT NULL,    -- base URL it was learned from
    token_sha256  TEXT NOT NULL,    -- hex SHA-256 of the bearer token it was learned with
    user_id       TEXT NOT NULL,
    role          TEXT NOT NULL,    -- rider, station, supervisor, grid or admin
    areas         TEXT NOT NULL,    -- district codes, comma-separated ('' for none)
    learned_at    TEXT NOT NULL     -- RFC 3339
) STRICT;
