//! Safety training: signed course packs, reading, search, quizzes and progress.
//!
//! - **Content** arrives as a signed training pack ([`pack`], format in
//!   `docs/formats/training-pack.md`): a full pack with every course, or a delta against the
//!   installed version. Import is atomic and validated as a whole; a refused pack leaves the
//!   installed content exactly as it was.
//! - **Reading**: the course list with the user's progress, a course outline, a lesson, and
//!   full-text search that works for Chinese (FTS5 trigram, with a substring scan for one- and
//!   two-character queries). Opening a lesson records nothing; [`crate::Waystation::complete_lesson`]
//!   does.
//! - **Quizzes** are graded on the device; every graded attempt is recorded in the user's
//!   progress before the result is returned. Input that cannot be graded is refused as
//!   [`Error::InvalidInput`] and records nothing.
//! - **Progress** is one Automerge document per user ([`progress`]), stored in the document
//!   store, merged across devices without ever losing a completion or lowering a best score.
//!
//! Getters of things by id (a course, a lesson, a quiz) answer
//! [`Error::NotFound`]; actions on an id that is not installed
//! (completing a lesson, answering a quiz) answer `InvalidInput`.

pub mod images;
mod import;
pub mod pack;
pub mod progress;
pub mod progress_check;
pub mod quiz;
pub mod reading;
mod validate;

pub use images::{MAX_TRAINING_IMAGE_BYTES, TRAINING_IMAGE_DIR};
pub use import::TrainingImport;
pub use pack::{LocalizedText, TRAINING_PACK_TYPE, TrainingPack};
pub use progress::{BestScore, LessonCompletion, QuizAttempt, TrainingProgress, progress_doc_id};
pub use quiz::{GradedQuestion, QuestionKind, QuizAnswer, QuizQuestion, QuizResult, QuizView};
pub use reading::{CourseDetail, CourseSummary, LessonHit, LessonSummary, LessonView, SnippetPart};

use rusqlite::{Connection, OptionalExtension};

use crate::error::{Error, Result};
use crate::store::documents::{self, DocumentKey};

/// Longest user id accepted, in characters.
pub const MAX_USER_ID_CHARS: usize = 128;

fn check_user(user_id: &str) -> Result<()> {
    if user_id.trim().is_empty() {
        return Err(Error::invalid("user id is empty"));
    }
    if user_id.chars().count() > MAX_USER_ID_CHARS {
        return Err(Error::invalid(format!(
            "user id is longer than {MAX_USER_ID_CHARS} characters"
        )));
    }
    if user_id.chars().any(char::is_control) {
        return Err(Error::invalid("user id contains a control character"));
    }
    Ok(())
}

fn shown(id: &str) -> String {
    id.chars().take(80).collect()
}

fn progress_of(conn: &Connection, user_id: &str) -> Result<TrainingProgress> {
    Ok(documents::load(conn, &progress_doc_id(user_id))?
        .map(|d| progress::read(&d))
        .unwrap_or_default())
}

/// The quiz with its course id, or `None`.
fn find_quiz(conn: &Connection, quiz_id: &str) -> Result<Option<(String, pack::Quiz)>> {
    let course: Option<String> = conn
        .query_row(
            "SELECT course_id FROM training_quizzes WHERE id = ?1",
            [quiz_id],
            |r| r.get(0),
        )
        .optional()?;
    let Some(course) = course else {
        return Ok(None);
    };
    Ok(import::load_quiz(conn, &course)?.map(|q| (course, q)))
}

impl crate::Waystation {
    /// Verifies and installs a signed training pack (the bytes of a `.pack.json` file): a full
    /// pack, or a delta against exactly the installed version. Refused packs change nothing.
    /// Importing the installed pack again is a no-op (`unchanged`).
    pub fn import_training_pack(&self, envelope: &[u8]) -> Result<TrainingImport> {
        import::import_pack(
            &mut self.store().write(),
            envelope,
            &self.config().trusted_keys,
            self.config().max_pack_bytes,
            self.now(),
        )
    }

    /// Every installed course, in the publisher's order, with `user_id`'s progress.
    pub fn training_courses(&self, user_id: &str) -> Result<Vec<CourseSummary>> {
        check_user(user_id)?;
        let conn = self.store().read();
        let progress = progress_of(&conn, user_id)?;
        reading::courses(&conn, &progress)
    }

    /// One course with its lessons in reading order and `user_id`'s progress.
    pub fn training_course(&self, user_id: &str, course_id: &str) -> Result<CourseDetail> {
        check_user(user_id)?;
        let conn = self.store().read();
        let progress = progress_of(&conn, user_id)?;
        reading::course(&conn, course_id, &progress)
    }

    /// A lesson to read. Records nothing: call [`Self::complete_lesson`] when it is done.
    pub fn training_lesson(&self, lesson_id: &str) -> Result<LessonView> {
        reading::lesson(&self.store().read(), lesson_id)
    }

    /// Lessons whose title or body contains every whitespace-separated term of `text`
    /// (Chinese or English), best match first, at most `limit` (1..=100).
    pub fn search_lessons(&self, text: &str, limit: usize) -> Result<Vec<LessonHit>> {
        reading::search(&self.store().read(), text, limit)
    }

    /// A quiz as shown before answering: the questions and choices, without the answers.
    pub fn training_quiz(&self, quiz_id: &str) -> Result<QuizView> {
        let (course, quiz) = find_quiz(&self.store().read(), quiz_id)?
            .ok_or_else(|| Error::NotFound(format!("no quiz with id '{}'", shown(quiz_id))))?;
        Ok(QuizView::new(course, &quiz))
    }

    /// Records that `user_id` completed a lesson, durably, before returning. Completing it
    /// again keeps the first completion time.
    pub fn complete_lesson(&self, user_id: &str, lesson_id: &str) -> Result<LessonCompletion> {
        check_user(user_id)?;
        // The document stores milliseconds; return what a later read will return.
        let now = self.now();
        let now = chrono::DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now);
        let mut conn = self.store().write();
        if !reading::lesson_exists(&conn, lesson_id)? {
            return Err(Error::invalid(format!(
                "no lesson with id '{}' is installed",
                shown(lesson_id)
            )));
        }
        let doc_id = progress_doc_id(user_id);
        let (completed_at, _) = documents::edit(
            &mut conn,
            &progress_key(&doc_id, user_id),
            now,
            || progress::genesis(user_id),
            |doc| progress::complete(doc, lesson_id, now),
        )?;
        Ok(LessonCompletion {
            lesson_id: lesson_id.to_string(),
            completed_at,
        })
    }

    /// Grades `answers` to a quiz, records the attempt in `user_id`'s progress (durably,
    /// before returning) and returns the result with the right answers and explanations.
    /// Unanswered questions count as wrong. Answers that cannot be graded are refused with
    /// [`Error::InvalidInput`] and nothing is recorded.
    pub fn answer_quiz(
        &self,
        user_id: &str,
        quiz_id: &str,
        answers: &[QuizAnswer],
    ) -> Result<QuizResult> {
        check_user(user_id)?;
        let now = self.now();
        let mut conn = self.store().write();
        let Some((_, quiz)) = find_quiz(&conn, quiz_id)? else {
            return Err(Error::invalid(format!(
                "no quiz with id '{}' is installed",
                shown(quiz_id)
            )));
        };
        let graded = quiz::grade(&quiz, answers)?;
        let device = documents::device_id(&conn)?;
        let doc_id = progress_doc_id(user_id);
        let (attempt_id, best) = documents::edit(
            &mut conn,
            &progress_key(&doc_id, user_id),
            now,
            || progress::genesis(user_id),
            |doc| {
                let attempt = QuizAttempt {
                    id: progress::next_attempt_id(doc, &device),
                    quiz_id: quiz.id.clone(),
                    score_percent: graded.score_percent,
                    passed: graded.passed,
                    at: now,
                    device: device.clone(),
                    answers: graded.answers.clone(),
                };
                progress::record_attempt(doc, &attempt)?;
                let best = progress::read(doc)
                    .best(&quiz.id)
                    .map_or(graded.score_percent, |b| b.score_percent);
                Ok((attempt.id, best))
            },
        )?;
        Ok(QuizResult {
            attempt_id,
            quiz_id: quiz.id,
            score_percent: graded.score_percent,
            passed: graded.passed,
            pass_percent: graded.pass_percent,
            correct_count: graded.correct_count,
            question_count: graded.questions.len() as u32,
            questions: graded.questions,
            best_score_percent: best,
            at: now,
        })
    }

    /// `user_id`'s progress on this device: completions, every attempt, best scores.
    pub fn training_progress(&self, user_id: &str) -> Result<TrainingProgress> {
        check_user(user_id)?;
        progress_of(&self.store().read(), user_id)
    }

    /// `user_id`'s whole progress document (an Automerge save), for another device to merge.
    /// A user with no progress yet gets the empty starting document.
    pub fn progress_document_bytes(&self, user_id: &str) -> Result<Vec<u8>> {
        check_user(user_id)?;
        match documents::document_bytes(&self.store().read(), &progress_doc_id(user_id))? {
            Some(bytes) => Ok(bytes),
            None => Ok(progress::genesis(user_id)?.save()),
        }
    }

    /// Merges another device's copy of `user_id`'s progress document into this one, durably,
    /// and returns the merged progress. Refuses bytes that are not that user's progress
    /// document, that would inflate past the sync limits, or whose merge would delete or
    /// rewrite a recorded result (nothing is stored then). Merging is idempotent and
    /// order-independent.
    pub fn merge_progress_from(&self, user_id: &str, bytes: &[u8]) -> Result<TrainingProgress> {
        check_user(user_id)?;
        let mut incoming = progress::load_foreign(bytes, user_id)?;
        let now = self.now();
        let doc_id = progress_doc_id(user_id);
        documents::edit(
            &mut self.store().write(),
            &progress_key(&doc_id, user_id),
            now,
            || progress::genesis(user_id),
            |doc| {
                // The server's rules for a change to progress (`progress_check`): another
                // device's copy may add completions and attempts, never delete or rewrite one.
                let before = doc.clone();
                doc.merge(&mut incoming).map_err(|e| {
                    Error::invalid(format!("progress document does not merge: {e}"))
                })?;
                progress_check::check_progress_update(Some(&before), doc).map_err(|why| {
                    Error::invalid(format!("progress document is refused: {why}"))
                })?;
                Ok(progress::read(doc))
            },
        )
    }
}

fn progress_key<'a>(doc_id: &'a str, user_id: &'a str) -> DocumentKey<'a> {
    DocumentKey {
        doc_id,
        kind: progress::PROGRESS_KIND,
        owner: user_id,
    }
}
