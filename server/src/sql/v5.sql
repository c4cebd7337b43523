-- Server schema v5: who uploaded each photo.
--
-- A photo's SHA-256 is no secret (it travels in reports, feeds and Open311 `media_url`s), so
-- naming it in a report must not be enough to read it. A report links a photo only when its
-- author uploaded those bytes: whoever uploads the same bytes again becomes an uploader too
-- (they hold the bytes already). `photos.uploader` keeps the first uploader, as before.
CREATE TABLE photo_uploaders (
    sha256      TEXT NOT NULL REFERENCES photos (sha256) ON DELETE CASCADE,
    user_id     TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    PRIMARY KEY (sha256, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX photo_uploaders_user ON photo_uploaders (user_id, uploaded_at);
INSERT INTO photo_uploaders (sha256, user_id, uploaded_at)
    SELECT sha256, uploader, created_at FROM photos;
