-- Server schema v2: an account's scope can change.
--
-- `scope_epoch` counts changes to an account's role or areas. Feed cursors carry it
-- (`sync::cursor_at`): a device whose cursor was issued under another scope reads the feed
-- again from the start, so reports of a district it was just given are listed even though
-- they changed before its cursor.
ALTER TABLE users ADD COLUMN scope_epoch INTEGER NOT NULL DEFAULT 0;
