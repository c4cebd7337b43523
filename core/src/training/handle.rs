//! [`Training`], the handle a [`Waystation`] hands out for safety training
//! (`ws.training()`): reading, search, quizzes and the user's progress.
//!
//! The handle only borrows the [`Waystation`]: it is free to make, holds no state of its own,
//! and every call that records something is durable before it returns. Installing content is
//! not here: a training pack arrives through `ws.packs().import_training(..)` (which calls
//! [`super::import_pack`]), like every signed pack.

use std::path::PathBuf;

use super::progress::{self, progress_doc_id};
use super::{
    CourseDetail, CourseSummary, LessonCompletion, LessonHit, LessonImage, LessonView, QuizAnswer,
    QuizAttempt, QuizResult, QuizView, TrainingProgress, check_user, find_quiz, images,
    progress_check, progress_key, progress_of, quiz, reading, shown,
};
use crate::Waystation;
use crate::error::{Error, Result};
use crate::store::documents;

/// Safety training on this device: the installed courses with a user's progress, lessons,
/// full-text search, quizzes graded on the device, and the progress document that merges
/// across the user's devices. Every call works offline. Get one with [`Waystation::training`].
///
/// Getters of an id that is not installed (a course, a lesson, a quiz) fail with
/// [`Error::NotFound`]; actions on one (completing a lesson, answering a quiz) fail with
/// [`Error::InvalidInput`] and record nothing.
#[derive(Clone, Copy, Debug)]
pub struct Training<'a> {
    ws: &'a Waystation,
}

impl<'a> Training<'a> {
    /// The training of `ws`.
    pub(crate) fn new(ws: &'a Waystation) -> Training<'a> {
        Training { ws }
    }

    /// Every installed course, in the publisher's order, with `user_id`'s progress: lessons
    /// completed, best quiz score, passed. An empty user id is [`Error::InvalidInput`].
    pub fn courses(&self, user_id: &str) -> Result<Vec<CourseSummary>> {
        check_user(user_id)?;
        let conn = self.ws.store().read();
        let progress = progress_of(&conn, user_id)?;
        reading::courses(&conn, &progress)
    }

    /// One course with its lessons in reading order and `user_id`'s progress in each.
    pub fn course(&self, user_id: &str, course_id: &str) -> Result<CourseDetail> {
        check_user(user_id)?;
        let conn = self.ws.store().read();
        let progress = progress_of(&conn, user_id)?;
        reading::course(&conn, course_id, &progress)
    }

    /// A lesson to read, with the laws it cites. Opening a lesson records nothing: call
    /// [`Self::complete_lesson`] when the learner finishes it.
    pub fn lesson(&self, lesson_id: &str) -> Result<LessonView> {
        reading::lesson(&self.ws.store().read(), lesson_id)
    }

    /// The local file of a lesson image, or `None` until the pack fetch has downloaded it
    /// (show the image's alt text meanwhile). A `sha256` that is not 64 lowercase hex digits
    /// is [`Error::InvalidInput`].
    pub fn image_path(&self, sha256: &str) -> Result<Option<PathBuf>> {
        images::image_path(self.ws.data_dir(), sha256)
    }

    /// Images that installed lessons show and this device does not have yet, each once.
    pub fn missing_images(&self) -> Result<Vec<LessonImage>> {
        images::missing_images(&self.ws.store().read(), self.ws.data_dir())
    }

    /// Lessons whose title or body contains every whitespace-separated term of `text` (Chinese
    /// such as 头盔, or English), best match first, at most `limit` (1..=100; anything else is
    /// [`Error::InvalidInput`]), each with a highlighted snippet.
    pub fn search(&self, text: &str, limit: i32) -> Result<Vec<LessonHit>> {
        reading::search(&self.ws.store().read(), text, limit)
    }

    /// A quiz as the learner sees it before answering: the questions and choices, without the
    /// answers.
    pub fn quiz(&self, quiz_id: &str) -> Result<QuizView> {
        let (course, quiz) = find_quiz(&self.ws.store().read(), quiz_id)?
            .ok_or_else(|| Error::NotFound(format!("no quiz with id '{}'", shown(quiz_id))))?;
        Ok(QuizView::new(course, &quiz))
    }

    /// Records that `user_id` completed a lesson, durably, before returning. Completing it
    /// again keeps the first completion time. A lesson that is not installed is
    /// [`Error::InvalidInput`].
    pub fn complete_lesson(&self, user_id: &str, lesson_id: &str) -> Result<LessonCompletion> {
        check_user(user_id)?;
        // The document stores milliseconds; return what a later read will return.
        let now = self.ws.now();
        let now = chrono::DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now);
        let mut conn = self.ws.store().write();
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
    /// before returning) and returns the score with the right answers and explanations.
    /// Unanswered questions count as wrong. Answers that cannot be graded (an unknown quiz or
    /// question, a choice out of range, several choices on a single-choice question, a
    /// question answered twice) are refused with [`Error::InvalidInput`] and nothing is
    /// recorded.
    pub fn answer_quiz(
        &self,
        user_id: &str,
        quiz_id: &str,
        answers: &[QuizAnswer],
    ) -> Result<QuizResult> {
        check_user(user_id)?;
        let now = self.ws.now();
        let mut conn = self.ws.store().write();
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
            question_count: i32::try_from(graded.questions.len()).unwrap_or(i32::MAX),
            questions: graded.questions,
            best_score_percent: best,
            at: now,
        })
    }

    /// `user_id`'s progress on this device: completed lessons, every attempt, best scores.
    pub fn progress(&self, user_id: &str) -> Result<TrainingProgress> {
        check_user(user_id)?;
        progress_of(&self.ws.store().read(), user_id)
    }

    /// `user_id`'s whole progress document (an Automerge save), for another device of the
    /// same user to pass to [`Self::merge_progress_from`]. A user with no progress yet gets
    /// the empty starting document.
    pub fn progress_document_bytes(&self, user_id: &str) -> Result<Vec<u8>> {
        check_user(user_id)?;
        match documents::document_bytes(&self.ws.store().read(), &progress_doc_id(user_id))? {
            Some(bytes) => Ok(bytes),
            None => Ok(progress::genesis(user_id)?.save()),
        }
    }

    /// Merges another device's copy of `user_id`'s progress document into this one, durably,
    /// and returns the merged progress. Merging never loses a completion or an attempt and
    /// never lowers a best score; it is idempotent and order-independent. Refuses, storing
    /// nothing, bytes that are not that user's progress document, that would inflate past
    /// the sync limits, or whose merge would delete or rewrite a recorded result.
    pub fn merge_progress_from(&self, user_id: &str, bytes: &[u8]) -> Result<TrainingProgress> {
        check_user(user_id)?;
        let mut incoming = progress::load_foreign(bytes, user_id)?;
        let now = self.ws.now();
        let doc_id = progress_doc_id(user_id);
        documents::edit(
            &mut self.ws.store().write(),
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
