//! Installing a verified training pack into SQLite, in one `BEGIN IMMEDIATE` transaction.
//!
//! A full pack replaces the pack's content; a delta is applied to the installed content in
//! memory ([`TrainingPack::apply_to`]), the result is validated as a whole, and then written.
//! Either way the pack's rows are rewritten inside the one transaction, so a refusal or a crash
//! leaves the previous content exactly as it was.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;

use super::pack::{
    Course, Lesson, LessonImage, LessonSource, LocalizedText, Question, Quiz, TRAINING_PACK_TYPE,
    TrainingPack,
};
use super::validate::validate_content;
use crate::error::{Error, Result};
use crate::packs::{self, TrustedKey};

/// What a training pack import did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct TrainingImport {
    /// Pack id.
    pub pack_id: String,
    /// The version now installed.
    pub version: i64,
    /// The version it replaced, if any.
    pub previous_version: Option<i64>,
    /// The base version when the pack was a delta; `None` (`null`/`nil`) for a full pack.
    pub base_version: Option<i64>,
    /// Courses installed from this pack after the import.
    pub courses: i32,
    /// Lessons installed from this pack after the import.
    pub lessons: i32,
    /// Quiz questions installed from this pack after the import.
    pub questions: i32,
    /// True when this exact pack was already installed and nothing changed.
    pub unchanged: bool,
}

/// Courses, lessons and questions in `courses` (bounded far below `i32::MAX` by the pack
/// limits in [`super::pack`]).
fn counts(courses: &[Course]) -> (i32, i32, i32) {
    let lessons: usize = courses.iter().map(|c| c.lessons.len()).sum();
    let questions: usize = courses
        .iter()
        .filter_map(|c| c.quiz.as_ref())
        .map(|q| q.questions.len())
        .sum();
    let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    (count(courses.len()), count(lessons), count(questions))
}

fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::Internal(format!("serialising content: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| Error::Internal(format!("stored {what} is malformed: {e}")))
}

/// Verifies and installs a signed training pack (the bytes of a `.pack.json` file) on the
/// write connection: a full pack, or a delta against exactly the installed version. On any
/// refusal or failure the installed content is untouched; importing the installed pack again
/// is a no-op (`unchanged`). `ws.packs().import_training(..)` calls it with the device's
/// trusted keys and pack size limit.
pub(crate) fn import_pack(
    conn: &mut Connection,
    envelope: &[u8],
    trusted: &[TrustedKey],
    max_bytes: usize,
    now: DateTime<Utc>,
) -> Result<TrainingImport> {
    let verified = packs::open(envelope, TRAINING_PACK_TYPE, trusted, max_bytes)?;
    let pack = TrainingPack::from_json(&verified.bytes)?;
    pack.validate_header()?;
    if !pack.is_delta() {
        // Refuse a bad full pack before taking the write lock.
        validate_content(&pack.courses)?;
    }

    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let previous_version = match packs::check_installed(
        &tx,
        "training",
        &pack.pack_id,
        pack.version,
        &verified.payload_sha256,
    )? {
        packs::Installed::Same(version) => {
            let (courses, lessons, questions) = counts(&load_courses(&tx, &pack.pack_id)?);
            return Ok(TrainingImport {
                pack_id: pack.pack_id,
                version,
                previous_version: Some(version),
                base_version: pack.base_version.map(packs::version_number),
                courses,
                lessons,
                questions,
                unchanged: true,
            });
        }
        packs::Installed::Older(v) => Some(v),
        packs::Installed::Nothing => None,
    };
    let content = match (
        pack.base_version.map(packs::version_number),
        previous_version,
    ) {
        (None, _) => pack.courses.clone(),
        (Some(base), None) => {
            return Err(Error::pack(format!(
                "pack '{}' is a delta against version {base} but no version is installed; \
                 install the full pack first",
                pack.pack_id
            )));
        }
        (Some(base), Some(installed)) if base != installed => {
            return Err(Error::pack(format!(
                "pack '{}' is a delta against version {base} but version {installed} is \
                 installed",
                pack.pack_id
            )));
        }
        (Some(_), Some(_)) => {
            let content = pack.apply_to(load_courses(&tx, &pack.pack_id)?)?;
            validate_content(&content)
                .map_err(|e| Error::pack(format!("after applying the delta, {e}")))?;
            content
        }
    };

    for table in [
        "DELETE FROM training_questions WHERE quiz_id IN (SELECT q.id FROM training_quizzes q \
         JOIN training_courses c ON c.id = q.course_id WHERE c.pack_id = ?1)",
        "DELETE FROM training_quizzes WHERE course_id IN \
         (SELECT id FROM training_courses WHERE pack_id = ?1)",
        "DELETE FROM training_lessons WHERE course_id IN \
         (SELECT id FROM training_courses WHERE pack_id = ?1)",
        "DELETE FROM training_courses WHERE pack_id = ?1",
    ] {
        tx.execute(table, [&pack.pack_id])?;
    }
    let record = packs::PackRecord {
        kind: "training",
        pack_id: &pack.pack_id,
        version: pack.version,
        publisher: &pack.publisher,
        created: pack.created,
        synthetic: false,
        notice: pack.notice.as_deref(),
    };
    packs::record_installed(&tx, &record, &verified, now)?;
    write_courses(&tx, &pack.pack_id, &content)?;
    tx.commit()?;

    let (courses, lessons, questions) = counts(&content);
    Ok(TrainingImport {
        pack_id: pack.pack_id,
        version: packs::version_number(pack.version),
        previous_version,
        base_version: pack.base_version.map(packs::version_number),
        courses,
        lessons,
        questions,
        unchanged: false,
    })
}

/// An id already installed from another pack shows up as a primary-key violation.
fn taken(what: &str, id: &str) -> impl FnOnce(rusqlite::Error) -> Error {
    let msg = format!("{what} id '{id}' is already installed from another pack");
    move |e| match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Error::pack(msg)
        }
        other => other.into(),
    }
}

fn write_courses(tx: &Connection, pack_id: &str, courses: &[Course]) -> Result<()> {
    let mut course_stmt = tx.prepare_cached(
        "INSERT INTO training_courses (id, pack_id, position, title_zh, title_en, summary_zh, \
         summary_en) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let mut lesson_stmt = tx.prepare_cached(
        "INSERT INTO training_lessons (id, course_id, position, title_zh, title_en, minutes, \
         body_zh, body_en, sources, images) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    let mut quiz_stmt = tx.prepare_cached(
        "INSERT INTO training_quizzes (id, course_id, pass_percent) VALUES (?1, ?2, ?3)",
    )?;
    let mut question_stmt = tx.prepare_cached(
        "INSERT INTO training_questions (id, quiz_id, position, lesson_id, kind, prompt_zh, \
         prompt_en, choices, correct, explanation_zh, explanation_en) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    for (ci, c) in courses.iter().enumerate() {
        course_stmt
            .execute(params![
                c.id,
                pack_id,
                ci as i64,
                c.title.zh,
                c.title.en,
                c.summary.as_ref().map(|s| &s.zh),
                c.summary.as_ref().and_then(|s| s.en.as_ref()),
            ])
            .map_err(taken("course", &c.id))?;
        for (li, l) in c.lessons.iter().enumerate() {
            lesson_stmt
                .execute(params![
                    l.id,
                    c.id,
                    li as i64,
                    l.title.zh,
                    l.title.en,
                    l.minutes as i64,
                    l.body.zh,
                    l.body.en,
                    json(&l.sources)?,
                    json(&l.images)?,
                ])
                .map_err(taken("lesson", &l.id))?;
        }
        if let Some(quiz) = &c.quiz {
            quiz_stmt
                .execute(params![quiz.id, c.id, quiz.pass_percent as i64])
                .map_err(taken("quiz", &quiz.id))?;
            for (qi, q) in quiz.questions.iter().enumerate() {
                let mut correct = q.correct.clone();
                correct.sort_unstable();
                question_stmt
                    .execute(params![
                        q.id,
                        quiz.id,
                        qi as i64,
                        q.lesson,
                        q.kind,
                        q.prompt.zh,
                        q.prompt.en,
                        json(&q.choices)?,
                        json(&correct)?,
                        q.explanation.zh,
                        q.explanation.en,
                    ])
                    .map_err(taken("question", &q.id))?;
            }
        }
    }
    Ok(())
}

/// The installed content of one pack, in the pack's order, as pack structures.
pub(crate) fn load_courses(conn: &Connection, pack_id: &str) -> Result<Vec<Course>> {
    let mut courses_stmt = conn.prepare_cached(
        "SELECT id, title_zh, title_en, summary_zh, summary_en FROM training_courses \
         WHERE pack_id = ?1 ORDER BY position",
    )?;
    let heads = courses_stmt
        .query_map([pack_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                LocalizedText {
                    zh: r.get(1)?,
                    en: r.get(2)?,
                },
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut out = Vec::with_capacity(heads.len());
    for (id, title, summary_zh, summary_en) in heads {
        let lessons = load_lessons(conn, &id)?;
        let quiz = load_quiz(conn, &id)?;
        out.push(Course {
            summary: summary_zh.map(|zh| LocalizedText { zh, en: summary_en }),
            id,
            title,
            lessons,
            quiz,
        });
    }
    Ok(out)
}

/// Columns of `training_lessons` read by [`lesson_from_row`], in order.
pub(crate) const LESSON_COLUMNS: &str =
    "id, title_zh, title_en, minutes, body_zh, body_en, sources, images, course_id, position";

/// Reads a lesson selected with [`LESSON_COLUMNS`].
pub(crate) fn lesson_from_row(r: &rusqlite::Row<'_>) -> Result<Lesson> {
    let sources: String = r.get(6)?;
    let images: String = r.get(7)?;
    Ok(Lesson {
        id: r.get(0)?,
        title: LocalizedText {
            zh: r.get(1)?,
            en: r.get(2)?,
        },
        minutes: r.get::<_, i64>(3)?.clamp(0, u32::MAX as i64) as u32,
        body: LocalizedText {
            zh: r.get(4)?,
            en: r.get(5)?,
        },
        sources: from_json::<Vec<LessonSource>>("lesson sources", &sources)?,
        images: from_json::<Vec<LessonImage>>("lesson images", &images)?,
    })
}

fn load_lessons(conn: &Connection, course_id: &str) -> Result<Vec<Lesson>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {LESSON_COLUMNS} FROM training_lessons WHERE course_id = ?1 ORDER BY position"
    ))?;
    let mut rows = stmt.query([course_id])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(lesson_from_row(r)?);
    }
    Ok(out)
}

/// The quiz of a course, with its questions in order, as published.
pub(crate) fn load_quiz(conn: &Connection, course_id: &str) -> Result<Option<Quiz>> {
    let quiz: Option<(String, i64)> = conn
        .query_row(
            "SELECT id, pass_percent FROM training_quizzes WHERE course_id = ?1",
            [course_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((id, pass_percent)) = quiz else {
        return Ok(None);
    };
    let questions = load_questions(conn, &id)?;
    Ok(Some(Quiz {
        id,
        pass_percent: pass_percent.clamp(0, 100) as u32,
        questions,
    }))
}

/// The questions of a quiz, in order.
pub(crate) fn load_questions(conn: &Connection, quiz_id: &str) -> Result<Vec<Question>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, lesson_id, kind, prompt_zh, prompt_en, choices, correct, explanation_zh, \
         explanation_en FROM training_questions WHERE quiz_id = ?1 ORDER BY position",
    )?;
    let mut rows = stmt.query([quiz_id])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let choices: String = r.get(5)?;
        let correct: String = r.get(6)?;
        out.push(Question {
            id: r.get(0)?,
            lesson: r.get(1)?,
            kind: r.get(2)?,
            prompt: LocalizedText {
                zh: r.get(3)?,
                en: r.get(4)?,
            },
            choices: from_json("question choices", &choices)?,
            correct: from_json("question answers", &correct)?,
            explanation: LocalizedText {
                zh: r.get(7)?,
                en: r.get(8)?,
            },
        });
    }
    Ok(out)
}
