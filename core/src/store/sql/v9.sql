-- Schema version 9: how often a server made this device offer everything again.
-- A server that says it lost data (a new store generation, or a cursor beyond its feed) gets
-- everything this device writes offered again, at most once per 24 hours: a broken or hostile
-- server that changes its generation at every sync cannot make a phone on a metered plan
-- upload everything each time. The sync status says when a request was held back.
ALTER TABLE sync_meta ADD COLUMN reoffered_at TEXT;         -- RFC 3339, the last re-offer
ALTER TABLE sync_meta ADD COLUMN reoffer_held_back_at TEXT; -- RFC 3339, the last one declined
