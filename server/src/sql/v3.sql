-- Server schema v3: lesson images, the bytes a training pack's lessons reference by SHA-256
-- (`pack publish --image`). Devices download them after the pack, from
-- GET /v1/training/images/{sha256}.
CREATE TABLE training_images (
    sha256     TEXT PRIMARY KEY,
    bytes      BLOB NOT NULL,
    mime       TEXT NOT NULL,
    size       INTEGER NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
