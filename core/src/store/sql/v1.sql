-- Schema version 1: installed packs and the station directory.
CREATE TABLE packs (
    pack_id      TEXT PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('stations', 'training')),
    version      INTEGER NOT NULL CHECK (version > 0),
    publisher    TEXT NOT NULL,
    key_id       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    installed_at TEXT NOT NULL,
    synthetic    INTEGER NOT NULL DEFAULT 0,
    notice       TEXT
) STRICT;

CREATE TABLE stations (
    id            TEXT PRIMARY KEY,
    pack_id       TEXT NOT NULL REFERENCES packs(pack_id) ON DELETE CASCADE,
    name_zh       TEXT NOT NULL,
    name_en       TEXT,
    lat           REAL NOT NULL,      -- WGS-84
    lon           REAL NOT NULL,      -- WGS-84
    source_datum  TEXT NOT NULL CHECK (source_datum IN ('wgs84', 'gcj02', 'bd09')),
    source_lat    REAL NOT NULL,
    source_lon    REAL NOT NULL,
    address_zh    TEXT NOT NULL,
    address_en    TEXT,
    district      TEXT NOT NULL,      -- GB/T 2260 code
    services      INTEGER NOT NULL,   -- bit set, see stations::Service
    opening_hours TEXT,               -- OSM opening_hours, NULL when unknown
    phone         TEXT,
    operator      TEXT,
    last_verified TEXT
) STRICT;

CREATE INDEX stations_by_pack ON stations(pack_id);
