//! Reading: the course list with progress, a course's outline, a lesson, and full-text search.
//!
//! Search runs on the FTS5 trigram index over lesson titles and bodies (Chinese and English).
//! Every whitespace-separated term of three or more characters must occur (as a substring);
//! results are ranked by bm25 with titles weighted ten times over bodies. A query with a term
//! shorter than three characters (two Chinese characters such as 头盔 are a common query) falls
//! back to a substring scan, titles first. Snippets come from the body, with the matches marked.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params_from_iter};
use serde::Serialize;
use std::collections::HashMap;

use super::import::{LESSON_COLUMNS, lesson_from_row};
use super::pack::{LessonImage, LessonSource, LocalizedText};
use super::progress::TrainingProgress;
use crate::error::{Error, Result};

/// Most results one search returns.
pub const MAX_SEARCH_RESULTS: usize = 100;
/// Longest search text, in characters.
pub const MAX_SEARCH_CHARS: usize = 100;

/// A course in the course list, with the user's progress in it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
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
    pub lesson_count: i32,
    /// Estimated minutes to read every lesson.
    pub minutes: i32,
    /// Lessons of this course the user completed.
    pub completed_lessons: i32,
    /// The course's quiz, when it has one.
    pub quiz_id: Option<String>,
    /// Questions in the quiz (0 without a quiz).
    pub question_count: i32,
    /// Pass mark of the quiz, percent.
    pub pass_percent: Option<i32>,
    /// The user's best quiz score, percent, once they attempted it.
    pub best_score_percent: Option<i32>,
    /// Whether any attempt of the user passed the quiz.
    pub passed: bool,
}

/// A lesson in a course outline.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct LessonSummary {
    /// Lesson id, e.g. `food-safety-delivery/seals`.
    pub id: String,
    /// Title.
    pub title: LocalizedText,
    /// Estimated minutes.
    pub minutes: i32,
    /// When the user first completed it (on any device this one merged), if they did.
    pub completed_at: Option<DateTime<Utc>>,
}

/// A course with its lessons, for the course screen.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CourseDetail {
    /// The course and the user's progress in it.
    pub course: CourseSummary,
    /// Lessons in reading order.
    pub lessons: Vec<LessonSummary>,
}

/// A lesson to read.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct LessonView {
    /// Lesson id.
    pub id: String,
    /// The course it belongs to.
    pub course_id: String,
    /// 0-based place in the course.
    pub position: i32,
    /// Title.
    pub title: LocalizedText,
    /// Estimated minutes.
    pub minutes: i32,
    /// The body, as Markdown.
    pub body: LocalizedText,
    /// The laws and standards it cites.
    pub sources: Vec<LessonSource>,
    /// Images, by SHA-256 ([`crate::training::Training::image_path`] finds their files).
    pub images: Vec<LessonImage>,
    /// The previous lesson in the course, for a "back" button.
    pub previous_lesson_id: Option<String>,
    /// The next lesson in the course, for a "next" button.
    pub next_lesson_id: Option<String>,
}

/// A piece of a search snippet. Concatenate the parts in order and style the `highlighted`
/// ones (bold, a background colour) to show where the query matched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SnippetPart {
    /// The text.
    pub text: String,
    /// Whether this text matched the query.
    pub highlighted: bool,
}

/// One lesson search result.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct LessonHit {
    /// Lesson id; open it with [`crate::training::Training::lesson`].
    pub lesson_id: String,
    /// Its course.
    pub course_id: String,
    /// Lesson title.
    pub title: LocalizedText,
    /// A short excerpt of the body around the first match, matches highlighted.
    pub snippet: Vec<SnippetPart>,
}

/// Every course, in pack order, with `progress` folded in.
pub(crate) fn courses(
    conn: &Connection,
    progress: &TrainingProgress,
) -> Result<Vec<CourseSummary>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.id, c.pack_id, c.title_zh, c.title_en, c.summary_zh, c.summary_en, \
         (SELECT count(*) FROM training_lessons l WHERE l.course_id = c.id), \
         (SELECT COALESCE(sum(minutes), 0) FROM training_lessons l WHERE l.course_id = c.id), \
         q.id, q.pass_percent, \
         (SELECT count(*) FROM training_questions x WHERE x.quiz_id = q.id) \
         FROM training_courses c LEFT JOIN training_quizzes q ON q.course_id = c.id \
         ORDER BY c.pack_id, c.position",
    )?;
    let mut out: Vec<CourseSummary> = stmt
        .query_map([], |r| {
            let summary_zh: Option<String> = r.get(4)?;
            let summary_en: Option<String> = r.get(5)?;
            let pass: Option<i64> = r.get(9)?;
            Ok(CourseSummary {
                id: r.get(0)?,
                pack_id: r.get(1)?,
                title: LocalizedText {
                    zh: r.get(2)?,
                    en: r.get(3)?,
                },
                summary: summary_zh.map(|zh| LocalizedText { zh, en: summary_en }),
                lesson_count: small(r.get(6)?),
                minutes: small(r.get(7)?),
                completed_lessons: 0,
                quiz_id: r.get(8)?,
                question_count: small(r.get(10)?),
                pass_percent: pass.map(|p| small(p.min(100))),
                best_score_percent: None,
                passed: false,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;

    if !progress.completed_lessons.is_empty() {
        let mut stmt = conn.prepare_cached("SELECT id, course_id FROM training_lessons")?;
        let course_of: HashMap<String, String> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut done: HashMap<&str, i32> = HashMap::new();
        for c in &progress.completed_lessons {
            if let Some(course) = course_of.get(&c.lesson_id) {
                *done.entry(course.as_str()).or_default() += 1;
            }
        }
        for c in &mut out {
            c.completed_lessons = done.get(c.id.as_str()).copied().unwrap_or(0);
        }
    }
    for c in &mut out {
        if let Some(b) = c.quiz_id.as_deref().and_then(|q| progress.best(q)) {
            c.best_score_percent = Some(b.score_percent);
            c.passed = b.passed;
        }
    }
    Ok(out)
}

/// One course with its lessons and `progress` folded in.
pub(crate) fn course(
    conn: &Connection,
    course_id: &str,
    progress: &TrainingProgress,
) -> Result<CourseDetail> {
    // The list is small (a few hundred courses at most); reuse its query.
    let course = courses(conn, progress)?
        .into_iter()
        .find(|c| c.id == course_id)
        .ok_or_else(|| Error::NotFound(format!("no course with id '{}'", shown(course_id))))?;
    let mut stmt = conn.prepare_cached(
        "SELECT id, title_zh, title_en, minutes FROM training_lessons WHERE course_id = ?1 \
         ORDER BY position",
    )?;
    let lessons = stmt
        .query_map([course_id], |r| {
            let id: String = r.get(0)?;
            Ok(LessonSummary {
                completed_at: progress.completed_at(&id),
                id,
                title: LocalizedText {
                    zh: r.get(1)?,
                    en: r.get(2)?,
                },
                minutes: small(r.get(3)?),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(CourseDetail { course, lessons })
}

/// A count or size read from SQLite as the API carries it: never negative, at most
/// `i32::MAX` (the pack limits keep every real one far below).
fn small(n: i64) -> i32 {
    i32::try_from(n.max(0)).unwrap_or(i32::MAX)
}

fn shown(id: &str) -> String {
    id.chars().take(80).collect()
}

/// A lesson by id.
pub(crate) fn lesson(conn: &Connection, lesson_id: &str) -> Result<LessonView> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {LESSON_COLUMNS} FROM training_lessons WHERE id = ?1"
    ))?;
    let found = stmt
        .query_row([lesson_id], |r| {
            Ok(lesson_from_row(r).map(|l| (l, r.get::<_, String>(8), r.get::<_, i64>(9))))
        })
        .optional()?;
    let Some(found) = found else {
        return Err(Error::NotFound(format!(
            "no lesson with id '{}'",
            shown(lesson_id)
        )));
    };
    let (lesson, course_id, position) = found?;
    let (course_id, position) = (course_id?, position?);
    let neighbour = |pos: i64| -> Result<Option<String>> {
        Ok(conn
            .prepare_cached(
                "SELECT id FROM training_lessons WHERE course_id = ?1 AND position = ?2",
            )?
            .query_row(rusqlite::params![course_id, pos], |r| r.get(0))
            .optional()?)
    };
    Ok(LessonView {
        previous_lesson_id: if position > 0 {
            neighbour(position - 1)?
        } else {
            None
        },
        next_lesson_id: neighbour(position + 1)?,
        id: lesson.id,
        course_id: course_id.clone(),
        position: small(position),
        title: lesson.title,
        minutes: i32::try_from(lesson.minutes).unwrap_or(i32::MAX),
        body: lesson.body,
        sources: lesson.sources,
        images: lesson.images,
    })
}

/// Whether a lesson is installed.
pub(crate) fn lesson_exists(conn: &Connection, lesson_id: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM training_lessons WHERE id = ?1")?
        .exists([lesson_id])?)
}

const MARK_OPEN: char = '\u{1}';
const MARK_CLOSE: char = '\u{2}';
/// Snippet length around the first match, in characters on each side.
const SNIPPET_RADIUS: usize = 24;

/// Full-text search over lessons (see the module docs).
pub(crate) fn search(conn: &Connection, text: &str, limit: i32) -> Result<Vec<LessonHit>> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::invalid("search text is empty"));
    }
    if text.chars().count() > MAX_SEARCH_CHARS {
        return Err(Error::invalid(format!(
            "search text is longer than {MAX_SEARCH_CHARS} characters"
        )));
    }
    if text.chars().any(char::is_control) {
        return Err(Error::invalid("search text contains a control character"));
    }
    let Some(limit) = usize::try_from(limit)
        .ok()
        .filter(|n| (1..=MAX_SEARCH_RESULTS).contains(n))
    else {
        return Err(Error::invalid(format!(
            "search limit must be between 1 and {MAX_SEARCH_RESULTS}, got {limit}"
        )));
    };
    let terms: Vec<&str> = text.split_whitespace().take(8).collect();
    if terms.iter().all(|t| t.chars().count() >= 3) {
        search_fts(conn, &terms, limit)
    } else {
        search_like(conn, &terms, limit)
    }
}

fn search_fts(conn: &Connection, terms: &[&str], limit: usize) -> Result<Vec<LessonHit>> {
    let query = terms
        .iter()
        .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" ");
    // `ORDER BY rank` (with the weights given through `rank MATCH`) lets FTS5 sort inside the
    // virtual table, so snippets are made only for the rows returned; `ORDER BY bm25(…)` would
    // make a snippet for every match before sorting.
    let mut stmt = conn.prepare_cached(
        "SELECT l.id, l.course_id, l.title_zh, l.title_en, \
         snippet(training_lesson_text, 2, char(1), char(2), '…', 20), \
         snippet(training_lesson_text, 3, char(1), char(2), '…', 20) \
         FROM training_lesson_text JOIN training_lessons l ON l.rowid = training_lesson_text.rowid \
         WHERE training_lesson_text MATCH ?1 AND rank MATCH 'bm25(10.0, 10.0, 1.0, 1.0)' \
         ORDER BY rank LIMIT ?2",
    )?;
    let rows = stmt.query_map(rusqlite::params![query, limit as i64], |r| {
        let zh: Option<String> = r.get(4)?;
        let en: Option<String> = r.get(5)?;
        // Prefer the body that actually matched, Chinese first.
        let body = [zh, en]
            .into_iter()
            .flatten()
            .find(|s| s.contains(MARK_OPEN))
            .unwrap_or_default();
        Ok(LessonHit {
            lesson_id: r.get(0)?,
            course_id: r.get(1)?,
            title: LocalizedText {
                zh: r.get(2)?,
                en: r.get(3)?,
            },
            snippet: split_marked(&body),
        })
    })?;
    let mut hits: Vec<LessonHit> = rows.collect::<rusqlite::Result<_>>()?;
    for h in &mut hits {
        if h.snippet.is_empty() {
            // Only the title matched: show the start of the title as the snippet.
            h.snippet = vec![SnippetPart {
                text: h.title.zh.clone(),
                highlighted: false,
            }];
        }
    }
    Ok(hits)
}

fn like_pattern(term: &str) -> String {
    format!(
        "%{}%",
        term.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    )
}

fn search_like(conn: &Connection, terms: &[&str], limit: usize) -> Result<Vec<LessonHit>> {
    // Terms without ASCII letters (Chinese, digits) need no case folding: `instr` finds them
    // several times faster than `LIKE`. Terms with ASCII letters use `LIKE`, which folds them.
    let params: Vec<String> = terms
        .iter()
        .map(|t| {
            if t.chars().any(|c| c.is_ascii_alphabetic()) {
                like_pattern(t)
            } else {
                t.to_string()
            }
        })
        .collect();
    let matches = |i: usize, columns: &[&str]| {
        let exact = !terms[i - 1].chars().any(|c| c.is_ascii_alphabetic());
        let one = |col: &&str| {
            if exact {
                format!("instr(l.{col}, ?{i}) > 0")
            } else {
                format!("l.{col} LIKE ?{i} ESCAPE '\\'")
            }
        };
        format!(
            "({})",
            columns.iter().map(one).collect::<Vec<_>>().join(" OR ")
        )
    };
    let all = ["title_zh", "title_en", "body_zh", "body_en"];
    let where_all = (1..=terms.len())
        .map(|i| matches(i, &all))
        .collect::<Vec<_>>()
        .join(" AND ");
    let in_title = matches(1, &["title_zh", "title_en"]);
    let sql = format!(
        "SELECT l.id, l.course_id, l.title_zh, l.title_en, l.body_zh, l.body_en \
         FROM training_lessons l JOIN training_courses c ON c.id = l.course_id \
         WHERE {where_all} \
         ORDER BY {in_title} DESC, c.pack_id, c.position, l.position LIMIT {limit}"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(params.iter()), |r| {
        let title = LocalizedText {
            zh: r.get(2)?,
            en: r.get(3)?,
        };
        let body_zh: String = r.get(4)?;
        let body_en: Option<String> = r.get(5)?;
        let snippet = [Some(body_zh.as_str()), body_en.as_deref()]
            .into_iter()
            .flatten()
            .find_map(|b| snippet_around(b, terms))
            .unwrap_or_else(|| {
                vec![SnippetPart {
                    text: title.zh.clone(),
                    highlighted: false,
                }]
            });
        Ok(LessonHit {
            lesson_id: r.get(0)?,
            course_id: r.get(1)?,
            title,
            snippet,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Finds the first term in `text` (ASCII case-insensitively, like SQLite's LIKE) and cuts a
/// snippet around it with every term occurrence inside marked.
fn snippet_around(text: &str, terms: &[&str]) -> Option<Vec<SnippetPart>> {
    let chars: Vec<char> = text.chars().collect();
    let lower: Vec<char> = chars.iter().map(|c| c.to_ascii_lowercase()).collect();
    let needles: Vec<Vec<char>> = terms
        .iter()
        .map(|t| t.chars().map(|c| c.to_ascii_lowercase()).collect())
        .filter(|n: &Vec<char>| !n.is_empty())
        .collect();
    let match_at = |i: usize| {
        needles
            .iter()
            .filter(|n| lower[i..].starts_with(n))
            .map(Vec::len)
            .max()
    };
    let first = (0..lower.len()).find(|&i| match_at(i).is_some())?;
    let start = first.saturating_sub(SNIPPET_RADIUS);
    let end = (first + SNIPPET_RADIUS * 2).min(chars.len());
    let mut marked = String::new();
    if start > 0 {
        marked.push('…');
    }
    let mut i = start;
    while i < end {
        match match_at(i) {
            Some(n) => {
                marked.push(MARK_OPEN);
                marked.extend(&chars[i..(i + n).min(chars.len())]);
                marked.push(MARK_CLOSE);
                i += n;
            }
            None => {
                marked.push(chars[i]);
                i += 1;
            }
        }
    }
    if end < chars.len() {
        marked.push('…');
    }
    Some(split_marked(&marked))
}

/// Splits snippet text with match markers into parts, after tidying Markdown syntax and line
/// breaks out of it.
fn split_marked(s: &str) -> Vec<SnippetPart> {
    let mut parts = Vec::new();
    let mut highlighted = false;
    for (i, piece) in tidy(s).split([MARK_OPEN, MARK_CLOSE]).enumerate() {
        if i > 0 {
            highlighted = !highlighted;
        }
        if !piece.is_empty() {
            parts.push(SnippetPart {
                text: piece.to_string(),
                highlighted,
            });
        }
    }
    parts
}

fn tidy(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for line in s.split('\n') {
        let line = line.trim_start_matches(['#', ' ']).replace("**", "");
        let line = line.strip_prefix("- ").unwrap_or(&line);
        if !out.is_empty() && !out.ends_with(' ') && !line.is_empty() {
            out.push(' ');
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_mark_matches_and_tidy_markdown() {
        let parts =
            snippet_around("## 怎么戴\n- **扣紧下巴带**，戴好头盔再出发。", &["头盔"]).unwrap();
        let text: String = parts.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(text, "怎么戴 扣紧下巴带，戴好头盔再出发。");
        assert_eq!(
            parts
                .iter()
                .filter(|p| p.highlighted)
                .map(|p| p.text.as_str())
                .collect::<Vec<_>>(),
            vec!["头盔"]
        );
        let parts = snippet_around("Wear a HELMET", &["helmet"]).unwrap();
        assert_eq!(
            parts[1],
            SnippetPart {
                text: "HELMET".into(),
                highlighted: true
            }
        );
        assert!(snippet_around("nothing here", &["xyz"]).is_none());
    }
}
