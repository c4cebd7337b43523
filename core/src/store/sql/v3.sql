-- Schema version 3: safety-training content, installed from signed training packs.
-- A training pack's row in `packs` has kind 'training'; its courses hang off it and go with it.
-- Lists that are only ever read whole (sources, images, choices, correct answers) are JSON text.
CREATE TABLE training_courses (
    id         TEXT PRIMARY KEY,
    pack_id    TEXT NOT NULL REFERENCES packs(pack_id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,   -- order within the pack
    title_zh   TEXT NOT NULL,
    title_en   TEXT,
    summary_zh TEXT,
    summary_en TEXT
) STRICT;

CREATE INDEX training_courses_by_pack ON training_courses(pack_id, position);

CREATE TABLE training_lessons (
    id        TEXT PRIMARY KEY,
    course_id TEXT NOT NULL REFERENCES training_courses(id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,    -- order within the course
    title_zh  TEXT NOT NULL,
    title_en  TEXT,
    minutes   INTEGER NOT NULL CHECK (minutes > 0),
    body_zh   TEXT NOT NULL,       -- Markdown
    body_en   TEXT,                -- Markdown
    sources   TEXT NOT NULL,       -- JSON array of sources (law, article, note)
    images    TEXT NOT NULL        -- JSON array of images referenced by SHA-256
) STRICT;

CREATE INDEX training_lessons_by_course ON training_lessons(course_id, position);

CREATE TABLE training_quizzes (
    id           TEXT PRIMARY KEY,
    course_id    TEXT NOT NULL UNIQUE REFERENCES training_courses(id) ON DELETE CASCADE,
    pass_percent INTEGER NOT NULL CHECK (pass_percent BETWEEN 1 AND 100)
) STRICT;

CREATE TABLE training_questions (
    id             TEXT PRIMARY KEY,
    quiz_id        TEXT NOT NULL REFERENCES training_quizzes(id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,   -- order within the quiz
    lesson_id      TEXT,               -- the lesson it tests (same course), checked on import
    kind           TEXT NOT NULL CHECK (kind IN ('single', 'multiple')),
    prompt_zh      TEXT NOT NULL,
    prompt_en      TEXT,
    choices        TEXT NOT NULL,      -- JSON array of {zh, en}
    correct        TEXT NOT NULL,      -- JSON array of choice indices, ascending
    explanation_zh TEXT NOT NULL,
    explanation_en TEXT
) STRICT;

CREATE INDEX training_questions_by_quiz ON training_questions(quiz_id, position);

-- Full-text search over lesson titles and bodies. Trigram finds any substring of three or more
-- characters, which Chinese needs (no spaces between words); shorter queries use LIKE.
CREATE VIRTUAL TABLE training_lesson_text USING fts5(
    title_zh, title_en, body_zh, body_en,
    content = 'training_lessons', content_rowid = 'rowid', tokenize = 'trigram'
);

CREATE TRIGGER training_lessons_text_ai AFTER INSERT ON training_lessons BEGIN
    INSERT INTO training_lesson_text(rowid, title_zh, title_en, body_zh, body_en)
    VALUES (new.rowid, new.title_zh, new.title_en, new.body_zh, new.body_en);
END;

CREATE TRIGGER training_lessons_text_ad AFTER DELETE ON training_lessons BEGIN
    INSERT INTO training_lesson_text(training_lesson_text, rowid, title_zh, title_en, body_zh, body_en)
    VALUES ('delete', old.rowid, old.title_zh, old.title_en, old.body_zh, old.body_en);
END;

CREATE TRIGGER training_lessons_text_au AFTER UPDATE ON training_lessons BEGIN
    INSERT INTO training_lesson_text(training_lesson_text, rowid, title_zh, title_en, body_zh, body_en)
    VALUES ('delete', old.rowid, old.title_zh, old.title_en, old.body_zh, old.body_en);
    INSERT INTO training_lesson_text(rowid, title_zh, title_en, body_zh, body_en)
    VALUES (new.rowid, new.title_zh, new.title_en, new.body_zh, new.body_en);
END;
