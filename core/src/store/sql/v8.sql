-- Schema version 8: the server store's generation, as last seen. When a sync response carries
-- another one (the server's database was restored from a backup), the device offers
-- everything it holds again.
ALTER TABLE sync_meta ADD COLUMN server_generation TEXT;
