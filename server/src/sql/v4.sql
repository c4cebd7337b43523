-- Server schema v4: the store's generation.
--
-- A random id sync responses carry (`g`). `waystation-server db mark-restored` draws a new one
-- after a backup is restored: devices that see it change offer everything they hold again, so
-- what the backup lacks comes back from the phones.
ALTER TABLE meta ADD COLUMN generation TEXT NOT NULL DEFAULT '';
UPDATE meta SET generation = lower(hex(randomblob(8)));
