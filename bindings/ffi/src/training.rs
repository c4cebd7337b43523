//! Safety training for the apps: signed course packs, reading, search, quizzes and the
//! user's progress, mirrored from `waystation_core::training`.
//!
//! Every method works offline. Content arrives as a signed training pack; progress is one
//! document per user that merges across devices without losing a completion or lowering a
//! best score. Getters of an id that is not installed throw `NotFound`; actions on one
//! (completing a lesson, answering a quiz) throw `InvalidInput` and record nothing.

use std::time::SystemTime;

use waystation_core::training as tr;

use crate::{Result, Waystation, WaystationError};

/// Text in Chinese, which every text has, and English, which most have.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct LocalizedText {
    /// Chinese (the authoritative text).
    pub zh: String,
    /// English, when the publisher provides it. Fall back to `zh` when it is `null`/`nil`.
    pub en: Option<String>,
}

impl From<tr::LocalizedText> for LocalizedText {
    fn from(t: tr::LocalizedText) -> Self {
        LocalizedText { zh: t.zh, en: t.en }
    }
}

/// What a training pack import did.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct TrainingImport {
    /// Pack id.
    pub pack_id: String,
    /// The version now installed.
    pub version: u64,
    /// The version it replaced, if any.
    pub previous_version: Option<u64>,
    /// The base version when the pack was a delta; `null`/`nil` for a full pack.
    pub base_version: Option<u64>,
    /// Courses installed from this pack after the import.
    pub courses: u64,
    /// Lessons installed from this pack after the import.
    pub lessons: u64,
    /// Quiz questions installed from this pack after the import.
    pub questions: u64,
    /// True when this exact pack was already installed and nothing changed.
    pub unchanged: bool,
}

impl From<tr::TrainingImport> for TrainingImport {
    fn from(i: tr::TrainingImport) -> Self {
        TrainingImport {
            pack_id: i.pack_id,
            version: i.version,
            previous_version: i.previous_version,
            base_version: i.base_version,
            courses: i.courses as u64,
            lessons: i.lessons as u64,
            questions: i.questions as u64,
            unchanged: i.unchanged,
        }
    }
}

/// A course in the course list, with the user's progress in it.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct CourseSummary {
    /// Course id, e.g. `food-safety-delivery`.
    pub id: String,
    /// The pack it was installed from.
    pub pack_id: String,
    /// Title.
    pub title: LocalizedText,
    /// Summary, when the publisher wrote one.
    pub summary: Option<LocalizedText>,
    /// Lessons in the course.
    pub lesson_count: u32,
    /// Estimated minutes to read every lesson.
    pub minutes: u32,
    /// Lessons of this course the user completed.
    pub completed_lessons: u32,
    /// The course's quiz, when it has one.
    pub quiz_id: Option<String>,
    /// Questions in the quiz (0 without a quiz).
    pub question_count: u32,
    /// Pass mark of the quiz, percent.
    pub pass_percent: Option<u8>,
    /// The user's best quiz score, percent, once they attempted it.
    pub best_score_percent: Option<u8>,
    /// Whether any attempt of the user passed the quiz.
    pub passed: bool,
}

impl From<tr::CourseSummary> for CourseSummary {
    fn from(c: tr::CourseSummary) -> Self {
        CourseSummary {
            id: c.id,
            pack_id: c.pack_id,
            title: c.title.into(),
            summary: c.summary.map(Into::into),
            lesson_count: c.lesson_count,
            minutes: c.minutes,
            completed_lessons: c.completed_lessons,
            quiz_id: c.quiz_id,
            question_count: c.question_count,
            pass_percent: c.pass_percent,
            best_score_percent: c.best_score_percent,
            passed: c.passed,
        }
    }
}

/// A lesson in a course outline.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct LessonSummary {
    /// Lesson id, e.g. `food-safety-delivery/seals`.
    pub id: String,
    /// Title.
    pub title: LocalizedText,
    /// Estimated minutes.
    pub minutes: u32,
    /// When the user first completed it (on any device this one merged), if they did.
    pub completed_at: Option<SystemTime>,
}

impl From<tr::LessonSummary> for LessonSummary {
    fn from(l: tr::LessonSummary) -> Self {
        LessonSummary {
            id: l.id,
            title: l.title.into(),
            minutes: l.minutes,
            completed_at: l.completed_at.map(Into::into),
        }
    }
}

/// A course with its lessons, for the course screen.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct CourseDetail {
    /// The course and the user's progress in it.
    pub course: CourseSummary,
    /// Lessons in reading order.
    pub lessons: Vec<LessonSummary>,
}

impl From<tr::CourseDetail> for CourseDetail {
    fn from(d: tr::CourseDetail) -> Self {
        CourseDetail {
            course: d.course.into(),
            lessons: d.lessons.into_iter().map(Into::into).collect(),
        }
    }
}

/// A law, regulation or standard a lesson rests on. Show it under the lesson.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct LessonSource {
    /// Title in Chinese, e.g. 中华人民共和国食品安全法.
    pub title: String,
    /// Title in English.
    pub title_en: Option<String>,
    /// The article cited, e.g. 第三十三条.
    pub article: Option<String>,
    /// What the source says, briefly, in Chinese.
    pub note: Option<String>,
    /// The note in English.
    pub note_en: Option<String>,
}

impl From<tr::pack::Source> for LessonSource {
    fn from(s: tr::pack::Source) -> Self {
        LessonSource {
            title: s.title,
            title_en: s.title_en,
            article: s.article,
            note: s.note,
            note_en: s.note_en,
        }
    }
}

/// An image a lesson shows. The bytes travel separately, addressed by their SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct LessonImage {
    /// Lowercase hex SHA-256 of the image bytes.
    pub sha256: String,
    /// Alternative text, for screen readers and while the image is missing.
    pub alt: LocalizedText,
    /// `image/jpeg`, `image/png` or `image/webp`, when given.
    pub media_type: Option<String>,
}

impl From<tr::pack::Image> for LessonImage {
    fn from(i: tr::pack::Image) -> Self {
        LessonImage {
            sha256: i.sha256,
            alt: i.alt.into(),
            media_type: i.media_type,
        }
    }
}

/// A lesson to read.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct LessonView {
    /// Lesson id.
    pub id: String,
    /// The course it belongs to.
    pub course_id: String,
    /// 0-based place in the course.
    pub position: u32,
    /// Title.
    pub title: LocalizedText,
    /// Estimated minutes.
    pub minutes: u32,
    /// The body, as Markdown.
    pub body: LocalizedText,
    /// The laws and standards it cites.
    pub sources: Vec<LessonSource>,
    /// Images, by SHA-256.
    pub images: Vec<LessonImage>,
    /// The previous lesson in the course, for a "back" button.
    pub previous_lesson_id: Option<String>,
    /// The next lesson in the course, for a "next" button.
    pub next_lesson_id: Option<String>,
}

impl From<tr::LessonView> for LessonView {
    fn from(l: tr::LessonView) -> Self {
        LessonView {
            id: l.id,
            course_id: l.course_id,
            position: l.position,
            title: l.title.into(),
            minutes: l.minutes,
            body: l.body.into(),
            sources: l.sources.into_iter().map(Into::into).collect(),
            images: l.images.into_iter().map(Into::into).collect(),
            previous_lesson_id: l.previous_lesson_id,
            next_lesson_id: l.next_lesson_id,
        }
    }
}

/// A piece of a search snippet. Concatenate the parts in order and style the `highlighted`
/// ones (bold, a background colour) to show where the query matched.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct SnippetPart {
    /// The text.
    pub text: String,
    /// Whether this text matched the query.
    pub highlighted: bool,
}

impl From<tr::SnippetPart> for SnippetPart {
    fn from(p: tr::SnippetPart) -> Self {
        SnippetPart {
            text: p.text,
            highlighted: p.highlighted,
        }
    }
}

/// One lesson search result.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct LessonHit {
    /// Lesson id; open it with `trainingLesson`.
    pub lesson_id: String,
    /// Its course.
    pub course_id: String,
    /// Lesson title.
    pub title: LocalizedText,
    /// A short excerpt of the body around the first match.
    pub snippet: Vec<SnippetPart>,
}

impl From<tr::LessonHit> for LessonHit {
    fn from(h: tr::LessonHit) -> Self {
        LessonHit {
            lesson_id: h.lesson_id,
            course_id: h.course_id,
            title: h.title.into(),
            snippet: h.snippet.into_iter().map(Into::into).collect(),
        }
    }
}

/// Single or multiple choice: show radio buttons or check boxes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum QuestionKind {
    /// Exactly one choice is right.
    Single,
    /// One or more choices are right; the learner must pick all of them.
    Multiple,
}

impl From<tr::QuestionKind> for QuestionKind {
    fn from(k: tr::QuestionKind) -> Self {
        match k {
            tr::QuestionKind::Single => QuestionKind::Single,
            tr::QuestionKind::Multiple => QuestionKind::Multiple,
        }
    }
}

/// A question as shown before answering: no answers, no explanation.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct QuizQuestion {
    /// Question id; answer with it in `QuizAnswer.questionId`.
    pub id: String,
    /// The lesson it tests, for a "read again" link.
    pub lesson_id: Option<String>,
    /// Single or multiple choice.
    pub kind: QuestionKind,
    /// The question.
    pub prompt: LocalizedText,
    /// The choices in display order; answers refer to them by 0-based index.
    pub choices: Vec<LocalizedText>,
}

impl From<tr::QuizQuestion> for QuizQuestion {
    fn from(q: tr::QuizQuestion) -> Self {
        QuizQuestion {
            id: q.id,
            lesson_id: q.lesson_id,
            kind: q.kind.into(),
            prompt: q.prompt.into(),
            choices: q.choices.into_iter().map(Into::into).collect(),
        }
    }
}

/// A quiz as shown before answering.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct QuizView {
    /// Quiz id.
    pub id: String,
    /// The course it belongs to.
    pub course_id: String,
    /// Score needed to pass, percent.
    pub pass_percent: u8,
    /// The questions, in order.
    pub questions: Vec<QuizQuestion>,
}

impl From<tr::QuizView> for QuizView {
    fn from(q: tr::QuizView) -> Self {
        QuizView {
            id: q.id,
            course_id: q.course_id,
            pass_percent: q.pass_percent,
            questions: q.questions.into_iter().map(Into::into).collect(),
        }
    }
}

/// The learner's answer to one question.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct QuizAnswer {
    /// The question's id.
    pub question_id: String,
    /// The chosen choices, 0-based. Empty means unanswered (graded as wrong).
    pub choices: Vec<u32>,
}

impl From<QuizAnswer> for tr::QuizAnswer {
    fn from(a: QuizAnswer) -> Self {
        tr::QuizAnswer {
            question_id: a.question_id,
            choices: a.choices,
        }
    }
}

/// One graded question, to show after an attempt.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct GradedQuestion {
    /// Question id.
    pub question_id: String,
    /// What the learner chose, ascending.
    pub chosen: Vec<u32>,
    /// The right choices, ascending.
    pub correct_choices: Vec<u32>,
    /// Whether exactly the right choices were chosen.
    pub correct: bool,
    /// Why the right answer is right.
    pub explanation: LocalizedText,
}

impl From<tr::GradedQuestion> for GradedQuestion {
    fn from(g: tr::GradedQuestion) -> Self {
        GradedQuestion {
            question_id: g.question_id,
            chosen: g.chosen,
            correct_choices: g.correct_choices,
            correct: g.correct,
            explanation: g.explanation.into(),
        }
    }
}

/// The graded result of one attempt, already recorded in the user's progress.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct QuizResult {
    /// Id of the recorded attempt.
    pub attempt_id: String,
    /// Quiz id.
    pub quiz_id: String,
    /// Percent of questions right, rounded down.
    pub score_percent: u8,
    /// Whether the score reached the pass mark.
    pub passed: bool,
    /// The pass mark, percent.
    pub pass_percent: u8,
    /// Questions answered right.
    pub correct_count: u32,
    /// Questions in the quiz.
    pub question_count: u32,
    /// Every question of the quiz, in order, graded and explained.
    pub questions: Vec<GradedQuestion>,
    /// Best score for this quiz over every attempt this device knows of, this one included.
    /// A worse attempt never lowers it.
    pub best_score_percent: u8,
    /// When it was answered.
    pub at: SystemTime,
}

impl From<tr::QuizResult> for QuizResult {
    fn from(r: tr::QuizResult) -> Self {
        QuizResult {
            attempt_id: r.attempt_id,
            quiz_id: r.quiz_id,
            score_percent: r.score_percent,
            passed: r.passed,
            pass_percent: r.pass_percent,
            correct_count: r.correct_count,
            question_count: r.question_count,
            questions: r.questions.into_iter().map(Into::into).collect(),
            best_score_percent: r.best_score_percent,
            at: r.at.into(),
        }
    }
}

/// When a lesson was first completed.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct LessonCompletion {
    /// The lesson.
    pub lesson_id: String,
    /// The earliest completion on any device this one merged.
    pub completed_at: SystemTime,
}

impl From<tr::LessonCompletion> for LessonCompletion {
    fn from(c: tr::LessonCompletion) -> Self {
        LessonCompletion {
            lesson_id: c.lesson_id,
            completed_at: c.completed_at.into(),
        }
    }
}

/// One recorded quiz attempt.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct QuizAttempt {
    /// Unique id, `<device id>.<n>`.
    pub id: String,
    /// The quiz.
    pub quiz_id: String,
    /// Percent of questions answered right, 0..=100.
    pub score_percent: u8,
    /// Whether the score reached the quiz's pass mark at the time.
    pub passed: bool,
    /// When it was answered.
    pub at: SystemTime,
    /// The device it was answered on.
    pub device: String,
    /// The answers given, `question=choice,choice;…` (choices 0-based).
    pub answers: String,
}

impl From<tr::QuizAttempt> for QuizAttempt {
    fn from(a: tr::QuizAttempt) -> Self {
        QuizAttempt {
            id: a.id,
            quiz_id: a.quiz_id,
            score_percent: a.score_percent,
            passed: a.passed,
            at: a.at.into(),
            device: a.device,
            answers: a.answers,
        }
    }
}

/// The best result for one quiz, derived from every attempt.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct BestScore {
    /// The quiz.
    pub quiz_id: String,
    /// Highest score over all attempts, percent.
    pub score_percent: u8,
    /// Whether any attempt passed.
    pub passed: bool,
    /// How many attempts there were.
    pub attempts: u32,
}

impl From<tr::BestScore> for BestScore {
    fn from(b: tr::BestScore) -> Self {
        BestScore {
            quiz_id: b.quiz_id,
            score_percent: b.score_percent,
            passed: b.passed,
            attempts: b.attempts,
        }
    }
}

/// A user's training progress, as merged from every device this one has heard from.
#[derive(Clone, Debug, Default, PartialEq, Eq, uniffi::Record)]
pub struct TrainingProgress {
    /// Completed lessons, by lesson id.
    pub completed_lessons: Vec<LessonCompletion>,
    /// Every quiz attempt, oldest first.
    pub attempts: Vec<QuizAttempt>,
    /// Best score per quiz, by quiz id.
    pub best_scores: Vec<BestScore>,
}

impl From<tr::TrainingProgress> for TrainingProgress {
    fn from(p: tr::TrainingProgress) -> Self {
        TrainingProgress {
            completed_lessons: p.completed_lessons.into_iter().map(Into::into).collect(),
            attempts: p.attempts.into_iter().map(Into::into).collect(),
            best_scores: p.best_scores.into_iter().map(Into::into).collect(),
        }
    }
}

fn map<A, B: From<A>>(items: Vec<A>) -> Vec<B> {
    items.into_iter().map(Into::into).collect()
}

#[uniffi::export]
impl Waystation {
    /// Verifies and installs a signed training pack (the bytes of a `.pack.json` file): a full
    /// pack, or a delta against exactly the installed version. Throws `PackRejected` for a
    /// tampered, unsigned, untrusted or malformed pack and for a delta against another
    /// version; a refused pack changes nothing. Importing the installed pack again returns
    /// `unchanged = true`.
    pub fn import_training_pack(&self, pack: Vec<u8>) -> Result<TrainingImport> {
        Ok(self.inner.import_training_pack(&pack)?.into())
    }

    /// Reads a signed training pack file and installs it, like `importTrainingPack`. Throws
    /// `InvalidInput` when the file cannot be read.
    pub fn import_training_pack_file(&self, path: String) -> Result<TrainingImport> {
        let bytes = std::fs::read(&path).map_err(|e| WaystationError::InvalidInput {
            reason: format!("cannot read training pack file: {e}"),
        })?;
        self.import_training_pack(bytes)
    }

    /// Every installed course, in the publisher's order, with `user_id`'s progress: lessons
    /// completed, best quiz score, passed. Throws `InvalidInput` for an empty user id.
    pub fn training_courses(&self, user_id: String) -> Result<Vec<CourseSummary>> {
        Ok(map(self.inner.training_courses(&user_id)?))
    }

    /// One course with its lessons in reading order and `user_id`'s progress in each.
    /// Throws `NotFound` when no such course is installed.
    pub fn training_course(&self, user_id: String, course_id: String) -> Result<CourseDetail> {
        Ok(self.inner.training_course(&user_id, &course_id)?.into())
    }

    /// A lesson to read, with the laws it cites. Opening a lesson records nothing; call
    /// `completeLesson` when the learner finishes it. Throws `NotFound` for an unknown id.
    pub fn training_lesson(&self, lesson_id: String) -> Result<LessonView> {
        Ok(self.inner.training_lesson(&lesson_id)?.into())
    }

    /// The local file of a lesson image, or null until `fetchPacks` has downloaded it (show
    /// the image's alt text meanwhile). Throws `InvalidInput` unless `sha256` is 64 lowercase
    /// hex digits.
    pub fn training_image_path(&self, sha256: String) -> Result<Option<String>> {
        Ok(self
            .inner
            .training_image_path(&sha256)?
            .map(|p| p.display().to_string()))
    }

    /// Images that installed lessons show and this device does not have yet.
    pub fn missing_training_images(&self) -> Result<Vec<LessonImage>> {
        Ok(map(self.inner.missing_training_images()?))
    }

    /// Lessons whose title or body contains every space-separated term of `text` (Chinese
    /// such as 头盔, or English), best match first, at most `limit` (1..=100; anything else is InvalidInput), each with a
    /// highlighted snippet. Works offline in a few milliseconds.
    pub fn search_lessons(&self, text: String, limit: u32) -> Result<Vec<LessonHit>> {
        Ok(map(self.inner.search_lessons(&text, limit as usize)?))
    }

    /// A quiz as the learner sees it before answering: questions and choices, without the
    /// answers. Throws `NotFound` for an unknown id.
    pub fn training_quiz(&self, quiz_id: String) -> Result<QuizView> {
        Ok(self.inner.training_quiz(&quiz_id)?.into())
    }

    /// Grades `answers` to a quiz, records the attempt in `user_id`'s progress (durably,
    /// before returning) and returns the score with the right answers and explanations.
    /// Unanswered questions count as wrong. Throws `InvalidInput`, recording nothing, for an
    /// unknown quiz, an unknown question, a choice out of range, several choices on a
    /// single-choice question or a question answered twice.
    pub fn answer_quiz(
        &self,
        user_id: String,
        quiz_id: String,
        answers: Vec<QuizAnswer>,
    ) -> Result<QuizResult> {
        let answers: Vec<tr::QuizAnswer> = map(answers);
        Ok(self.inner.answer_quiz(&user_id, &quiz_id, &answers)?.into())
    }

    /// Records that `user_id` completed a lesson, durably, before returning. Completing it
    /// again keeps the first completion time. Throws `InvalidInput` for a lesson that is not
    /// installed.
    pub fn complete_lesson(&self, user_id: String, lesson_id: String) -> Result<LessonCompletion> {
        Ok(self.inner.complete_lesson(&user_id, &lesson_id)?.into())
    }

    /// `user_id`'s progress on this device: completed lessons, every attempt, best scores.
    pub fn training_progress(&self, user_id: String) -> Result<TrainingProgress> {
        Ok(self.inner.training_progress(&user_id)?.into())
    }

    /// `user_id`'s whole progress document, as bytes, for another device of the same user to
    /// pass to `mergeProgressFrom`. A user with no progress gets the empty starting document.
    pub fn progress_document_bytes(&self, user_id: String) -> Result<Vec<u8>> {
        Ok(self.inner.progress_document_bytes(&user_id)?)
    }

    /// Merges another device's copy of `user_id`'s progress document (from
    /// `progressDocumentBytes`) into this one, durably, and returns the merged progress.
    /// Merging never loses a completion or an attempt and never lowers a best score; it is
    /// idempotent and order-independent. Throws `InvalidInput` for bytes that are not that
    /// user's progress document.
    pub fn merge_progress_from(&self, user_id: String, bytes: Vec<u8>) -> Result<TrainingProgress> {
        Ok(self.inner.merge_progress_from(&user_id, &bytes)?.into())
    }
}
