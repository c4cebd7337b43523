-- Schema version 2: full-text search over station names and addresses.
-- The trigram tokenizer finds any substring of three or more characters, which is what
-- Chinese text needs (there are no spaces between words). Shorter queries use LIKE.
CREATE VIRTUAL TABLE station_text USING fts5(
    name_zh, name_en, address_zh, address_en,
    content = 'stations', content_rowid = 'rowid', tokenize = 'trigram'
);

CREATE TRIGGER stations_text_ai AFTER INSERT ON stations BEGIN
    INSERT INTO station_text(rowid, name_zh, name_en, address_zh, address_en)
    VALUES (new.rowid, new.name_zh, new.name_en, new.address_zh, new.address_en);
END;

CREATE TRIGGER stations_text_ad AFTER DELETE ON stations BEGIN
    INSERT INTO station_text(station_text, rowid, name_zh, name_en, address_zh, address_en)
    VALUES ('delete', old.rowid, old.name_zh, old.name_en, old.address_zh, old.address_en);
END;

CREATE TRIGGER stations_text_au AFTER UPDATE ON stations BEGIN
    INSERT INTO station_text(station_text, rowid, name_zh, name_en, address_zh, address_en)
    VALUES ('delete', old.rowid, old.name_zh, old.name_en, old.address_zh, old.address_en);
    INSERT INTO station_text(rowid, name_zh, name_en, address_zh, address_en)
    VALUES (new.rowid, new.name_zh, new.name_en, new.address_zh, new.address_en);
END;

-- Index whatever a version-1 database already held.
INSERT INTO station_text(station_text) VALUES ('rebuild');
