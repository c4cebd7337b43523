//! Safety training: signed course packs, reading, search, quizzes and progress.
//!
//! - **Content** arrives as a signed training pack ([`pack`], format in
//!   `docs/formats/training-pack.md`): a full pack with every course, or a delta against the
//!   installed version. Import is atomic and validated as a whole; a refused pack leaves the
//!   installed content exactly as it was.
//! - **Reading**: the course list with the user's progress, a course outline, a lesson, and
//!   full-text search that works for Chinese (FTS5 trigram, with a substring scan for one- and
//!   two-character queries). Opening a lesson records nothing; [`Training::complete_lesson`]
//!   does.
//! - **Quizzes** are graded on the device; every graded attempt is recorded in the user's
//!   progress before the result is returned. Input that cannot be graded is refused as
//!   [`Error::InvalidInput`] and records nothing.
//! - **Progress** is one Automerge document per user ([`progress`]), stored in the document
//!   store, merged across devices without ever losing a completion or lowering a best score.
//!
//! The API is one handle, [`Training`] (`ws.training()`, in `handle.rs`). A pack is installed
//! through `ws.packs().import_training(..)`, which calls `import_pack` (in `import.rs`); the
//! pack fetch uses [`images`]' functions for the lesson images. Sync reads progress documents with
//! [`progress`] and checks a server's changes to them with [`progress_check`]; it writes none
//! of this module's tables.
//!
//! Getters of things by id (a course, a lesson, a quiz) answer
//! [`Error::NotFound`]; actions on an id that is not installed
//! (completing a lesson, answering a quiz) answer `InvalidInput`.

mod handle;
pub mod images;
mod import;
pub(crate) mod pack;
pub(crate) mod progress;
pub(crate) mod progress_check;
pub(crate) mod quiz;
pub(crate) mod reading;
mod validate;

pub use handle::Training;
pub use images::{MAX_TRAINING_IMAGE_BYTES, TRAINING_IMAGE_DIR};
pub use import::TrainingImport;
pub(crate) use import::import_pack;
pub use pack::{LessonImage, LessonSource, LocalizedText, TRAINING_PACK_TYPE, TrainingPack};
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

fn progress_key<'a>(doc_id: &'a str, user_id: &'a str) -> DocumentKey<'a> {
    DocumentKey {
        doc_id,
        kind: progress::PROGRESS_KIND,
        owner: user_id,
    }
}
