//! Validation of complete training content: a full pack as published, or the installed
//! content with a delta applied. Every rule of `docs/formats/training-pack.md` section 5 that is
//! not about the header lives here; failures name the course, lesson, quiz or question and the
//! field.

use std::collections::{HashMap, HashSet};

use super::pack::{
    CHOICES, Course, Lesson, MAX_BODY, MAX_CHOICE, MAX_COURSES, MAX_EXPLANATION, MAX_IMAGES,
    MAX_LESSONS, MAX_LESSONS_PER_COURSE, MAX_MINUTES, MAX_NOTE, MAX_PROMPT, MAX_QUESTIONS,
    MAX_SOURCE, MAX_SOURCES, MAX_SUMMARY, MAX_TITLE, Question, check_id, check_localized,
    check_optional, check_text, shown_id,
};
use crate::error::{Error, Result};

/// Checks complete content (a full pack, or installed content with a delta applied). The first
/// problem found is reported with the course, lesson or question id and the field.
pub(crate) fn validate_content(courses: &[Course]) -> Result<()> {
    if courses.len() > MAX_COURSES {
        return Err(Error::pack(format!(
            "pack has {} courses, more than the limit of {MAX_COURSES}",
            courses.len()
        )));
    }
    let total: usize = courses.iter().map(|c| c.lessons.len()).sum();
    if total > MAX_LESSONS {
        return Err(Error::pack(format!(
            "pack has {total} lessons, more than the limit of {MAX_LESSONS}"
        )));
    }
    // One namespace for every id, so that an id names exactly one thing.
    let mut ids: HashMap<&str, &'static str> = HashMap::new();
    for course in courses {
        claim(&mut ids, &course.id, "course")?;
        for lesson in &course.lessons {
            claim(&mut ids, &lesson.id, "lesson")?;
        }
        if let Some(quiz) = &course.quiz {
            claim(&mut ids, &quiz.id, "quiz")?;
            for q in &quiz.questions {
                claim(&mut ids, &q.id, "question")?;
            }
        }
    }
    for course in courses {
        validate_course(course)?;
    }
    Ok(())
}

fn claim<'a>(
    ids: &mut HashMap<&'a str, &'static str>,
    id: &'a str,
    what: &'static str,
) -> Result<()> {
    check_id(what, id)?;
    if let Some(prev) = ids.insert(id, what) {
        return Err(Error::pack(format!(
            "duplicate id '{}' (a {what}, and already a {prev})",
            shown_id(id)
        )));
    }
    Ok(())
}

fn validate_course(course: &Course) -> Result<()> {
    let at = format!("course '{}'", course.id);
    check_localized(&at, "title", &course.title, MAX_TITLE, false)?;
    if let Some(s) = &course.summary {
        check_localized(&at, "summary", s, MAX_SUMMARY, true)?;
    }
    if course.lessons.is_empty() {
        return Err(Error::pack(format!("{at}: has no lessons")));
    }
    if course.lessons.len() > MAX_LESSONS_PER_COURSE {
        return Err(Error::pack(format!(
            "{at}: has {} lessons, more than {MAX_LESSONS_PER_COURSE}",
            course.lessons.len()
        )));
    }
    for lesson in &course.lessons {
        validate_lesson(lesson)?;
    }
    if let Some(quiz) = &course.quiz {
        let at = format!("quiz '{}'", quiz.id);
        if !(1..=100).contains(&quiz.pass_percent) {
            return Err(Error::pack(format!(
                "{at}: pass_percent {} is not between 1 and 100",
                quiz.pass_percent
            )));
        }
        if quiz.questions.is_empty() {
            return Err(Error::pack(format!("{at}: has no questions")));
        }
        if quiz.questions.len() > MAX_QUESTIONS {
            return Err(Error::pack(format!(
                "{at}: has {} questions, more than {MAX_QUESTIONS}",
                quiz.questions.len()
            )));
        }
        for q in &quiz.questions {
            validate_question(course, q)?;
        }
    }
    Ok(())
}

fn validate_lesson(lesson: &Lesson) -> Result<()> {
    let at = format!("lesson '{}'", lesson.id);
    check_localized(&at, "title", &lesson.title, MAX_TITLE, false)?;
    check_localized(&at, "body", &lesson.body, MAX_BODY, true)?;
    if lesson.minutes == 0 || lesson.minutes > MAX_MINUTES {
        return Err(Error::pack(format!(
            "{at}: minutes {} is not between 1 and {MAX_MINUTES}",
            lesson.minutes
        )));
    }
    if lesson.sources.len() > MAX_SOURCES {
        return Err(Error::pack(format!(
            "{at}: has {} sources, more than {MAX_SOURCES}",
            lesson.sources.len()
        )));
    }
    for (i, s) in lesson.sources.iter().enumerate() {
        let at = format!("{at} source #{i}");
        check_text(&at, "title", &s.title, MAX_SOURCE, false)?;
        check_optional(&at, "title_en", &s.title_en, MAX_SOURCE)?;
        check_optional(&at, "article", &s.article, MAX_SOURCE)?;
        check_optional(&at, "note", &s.note, MAX_NOTE)?;
        check_optional(&at, "note_en", &s.note_en, MAX_NOTE)?;
    }
    if lesson.images.len() > MAX_IMAGES {
        return Err(Error::pack(format!(
            "{at}: has {} images, more than {MAX_IMAGES}",
            lesson.images.len()
        )));
    }
    for (i, img) in lesson.images.iter().enumerate() {
        let at = format!("{at} image #{i}");
        if img.sha256.len() != 64
            || !img
                .sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(Error::pack(format!(
                "{at}: sha256 must be 64 lowercase hex digits"
            )));
        }
        check_localized(&at, "alt", &img.alt, MAX_TITLE, false)?;
        if let Some(t) = &img.media_type
            && !matches!(t.as_str(), "image/jpeg" | "image/png" | "image/webp")
        {
            return Err(Error::pack(format!(
                "{at}: media_type '{}' is not image/jpeg, image/png or image/webp",
                shown_id(t)
            )));
        }
    }
    Ok(())
}

fn validate_question(course: &Course, q: &Question) -> Result<()> {
    let at = format!("question '{}'", q.id);
    if let Some(lesson) = &q.lesson
        && !course.lessons.iter().any(|l| &l.id == lesson)
    {
        return Err(Error::pack(format!(
            "{at}: lesson '{}' is not a lesson of course '{}'",
            shown_id(lesson),
            course.id
        )));
    }
    check_localized(&at, "prompt", &q.prompt, MAX_PROMPT, true)?;
    check_localized(&at, "explanation", &q.explanation, MAX_EXPLANATION, true)?;
    if !CHOICES.contains(&q.choices.len()) {
        return Err(Error::pack(format!(
            "{at}: has {} choices, expected {} to {}",
            q.choices.len(),
            CHOICES.start(),
            CHOICES.end()
        )));
    }
    for (i, c) in q.choices.iter().enumerate() {
        check_localized(&at, &format!("choices[{i}]"), c, MAX_CHOICE, false)?;
    }
    let mut seen = HashSet::new();
    for &i in &q.correct {
        if i < 0 || i as usize >= q.choices.len() {
            return Err(Error::pack(format!(
                "{at}: correct index {i} is out of range (it has {} choices, 0 to {})",
                q.choices.len(),
                q.choices.len() - 1
            )));
        }
        if !seen.insert(i) {
            return Err(Error::pack(format!(
                "{at}: correct index {i} appears twice"
            )));
        }
    }
    match q.kind.as_str() {
        "single" if q.correct.len() != 1 => Err(Error::pack(format!(
            "{at}: a single-choice question needs exactly 1 correct choice, it has {}",
            q.correct.len()
        ))),
        "multiple" if q.correct.is_empty() => Err(Error::pack(format!(
            "{at}: a multiple-choice question needs at least 1 correct choice"
        ))),
        "single" | "multiple" => Ok(()),
        other => Err(Error::pack(format!(
            "{at}: unknown question kind '{}' (expected 'single' or 'multiple')",
            shown_id(other)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::training::pack::LessonImage;
    use crate::training::pack::fixtures::*;

    fn refused(c: Course, want: &str) {
        let err = validate_content(&[c]).unwrap_err().to_string();
        assert!(err.contains(want), "{err} (wanted '{want}')");
    }

    #[test]
    fn valid_course_passes() {
        validate_content(&[course()]).unwrap();
    }

    #[test]
    fn validation_names_the_field() {
        let mut c = course();
        c.quiz.as_mut().unwrap().questions[0].kind = "essay".into();
        refused(c, "unknown question kind 'essay'");

        let mut c = course();
        c.quiz.as_mut().unwrap().questions[0].correct = vec![3];
        refused(c, "question 'c/q1': correct index 3 is out of range");

        let mut c = course();
        c.quiz.as_mut().unwrap().questions[0].correct = vec![0, 1];
        refused(c, "exactly 1 correct choice, it has 2");

        let mut c = course();
        c.quiz.as_mut().unwrap().questions[0] = question("c/q1", "multiple", vec![]);
        refused(c, "at least 1 correct choice");

        let mut c = course();
        c.lessons[0].body.zh = " ".into();
        refused(c, "lesson 'c/l1': body.zh (Chinese text) is missing");

        let mut c = course();
        c.lessons.push(c.lessons[0].clone());
        refused(c, "duplicate id 'c/l1'");

        let mut c = course();
        c.quiz.as_mut().unwrap().questions[0].lesson = Some("c/l9".into());
        refused(c, "lesson 'c/l9' is not a lesson of course 'c'");

        let mut c = course();
        c.lessons[0].title.zh = "长".repeat(MAX_TITLE + 1);
        refused(c, "title.zh is 201 characters, more than 200");

        let mut c = course();
        c.lessons[0].title.zh = "a\u{1}b".into();
        refused(c, "control character");

        let mut c = course();
        c.lessons[0].images.push(LessonImage {
            sha256: "ABC".into(),
            alt: text("图"),
            media_type: None,
        });
        refused(c, "image #0: sha256 must be 64 lowercase hex digits");

        let mut c = course();
        c.lessons[0].minutes = 0;
        refused(c, "minutes 0");

        let mut c = course();
        c.id = "bad id".into();
        refused(c, "course id 'bad id'");
    }
}
