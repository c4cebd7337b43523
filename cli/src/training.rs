//! `waystation training …`: courses, lessons, search, quizzes and progress from a terminal.
//!
//! The first training command on a data directory with no training pack installs the bundled
//! courses (signed with the demo key) when the demo key is trusted. It happens here rather than
//! when a fresh directory is created so that directories made before training existed get the
//! courses too, and so that `stations …` commands never pay for it.
//!
//! Progress belongs to a user: `--user`, else `$WAYSTATION_USER`, else `local`. Reading a
//! lesson records nothing unless `--complete` is given; answering a quiz always records the
//! attempt, as the apps do.

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use clap::{Subcommand, ValueEnum};
use serde_json::json;

use waystation_core::Waystation;
use waystation_core::stations::hours::china_offset;
use waystation_core::training::{
    CourseSummary, LessonHit, LocalizedText, QuestionKind, QuizAnswer, QuizResult, QuizView,
    TrainingProgress,
};

/// The training courses, signed with the demo key.
const BUNDLED_PACK: &[u8] = include_bytes!("../../data/training/xian-training.pack.json");

use crate::user::UserArg;

/// Language to print a lesson in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    /// Chinese.
    Zh,
    /// English (falls back to Chinese where there is no English).
    En,
}

#[derive(Subcommand, Debug)]
pub enum TrainingCmd {
    /// Installed courses with your progress.
    List {
        #[command(flatten)]
        user: UserArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Read a lesson (and, with --complete, record that you finished it).
    Read {
        /// Lesson id, e.g. food-safety-delivery/seals.
        lesson_id: String,
        /// Language of the text.
        #[arg(long, value_enum, default_value = "zh")]
        lang: Lang,
        /// Record the lesson as completed.
        #[arg(long)]
        complete: bool,
        #[command(flatten)]
        user: UserArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Search lessons (Chinese or English), best match first.
    Search {
        /// Text to find, e.g. 头盔 or helmet.
        text: String,
        /// Most results (at most 100).
        #[arg(long, default_value_t = 10)]
        limit: i32,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show a quiz's questions, or with --answer grade your answers and record the attempt.
    Quiz {
        /// Quiz id, e.g. food-safety-delivery/quiz.
        quiz_id: String,
        /// An answer: QUESTION_ID=CHOICE[,CHOICE…], choices 0-based (e.g. q02=1,2 or
        /// food-safety-delivery/q02=1,2). Repeat for each question; unanswered ones are wrong.
        #[arg(long = "answer", value_name = "QID=CHOICES")]
        answers: Vec<String>,
        #[command(flatten)]
        user: UserArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Your completed lessons, best quiz scores and attempts.
    Progress {
        #[command(flatten)]
        user: UserArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Installs the bundled courses when no training pack is installed and the demo key is
/// trusted.
fn install_bundled(ws: &Waystation, trust_demo_key: bool) -> Result<()> {
    if !trust_demo_key || ws.packs().installed()?.iter().any(|p| p.kind == "training") {
        return Ok(());
    }
    let outcome = ws
        .packs()
        .import_training(BUNDLED_PACK)
        .context("installing the bundled training pack")?;
    eprintln!(
        "Installed the bundled training courses ({} courses, {} lessons).",
        outcome.courses, outcome.lessons
    );
    Ok(())
}

pub fn run(ws: &Waystation, trust_demo_key: bool, cmd: &TrainingCmd) -> Result<()> {
    install_bundled(ws, trust_demo_key)?;
    match cmd {
        TrainingCmd::List { user, json } => {
            let courses = ws.training().courses(&user.resolve())?;
            if *json {
                return print_json(&courses);
            }
            print_courses(&courses);
        }
        TrainingCmd::Read {
            lesson_id,
            lang,
            complete,
            user,
            json,
        } => {
            let user = user.resolve();
            let lesson = ws.training().lesson(lesson_id)?;
            let completion = if *complete {
                Some(ws.training().complete_lesson(&user, lesson_id)?)
            } else {
                ws.training()
                    .progress(&user)?
                    .completed_lessons
                    .into_iter()
                    .find(|c| c.lesson_id == lesson.id)
            };
            // Each image's local file, or null until `sync --packs` has fetched it.
            let images = lesson
                .images
                .iter()
                .map(|i| Ok((i, ws.training().image_path(&i.sha256)?)))
                .collect::<Result<Vec<_>>>()?;
            if *json {
                let files: Vec<_> = images
                    .iter()
                    .map(|(i, path)| json!({ "sha256": i.sha256, "path": path }))
                    .collect();
                return print_json(
                    &json!({ "lesson": lesson, "completion": completion, "image_files": files }),
                );
            }
            println!("{}", text(&lesson.title, *lang));
            println!(
                "{} · {} min · {}",
                lesson.id,
                lesson.minutes,
                match &completion {
                    Some(c) => format!("completed {}", local(c.completed_at)),
                    None => "not completed".into(),
                }
            );
            println!();
            println!("{}", text(&lesson.body, *lang).trim_end());
            for (image, path) in &images {
                let file = match path {
                    Some(p) => p.display().to_string(),
                    None => "not fetched yet: sync --packs".to_string(),
                };
                println!("[{}] {file}", text(&image.alt, *lang));
            }
            if !lesson.sources.is_empty() {
                println!();
                println!(
                    "{}",
                    if *lang == Lang::En {
                        "Sources:"
                    } else {
                        "依据："
                    }
                );
                for s in &lesson.sources {
                    let title = match (*lang, &s.title_en) {
                        (Lang::En, Some(en)) => format!("{} ({en})", s.title),
                        _ => s.title.clone(),
                    };
                    match &s.article {
                        Some(a) => println!("  - {title} {a}"),
                        None => println!("  - {title}"),
                    }
                }
            }
            println!();
            if let Some(p) = &lesson.previous_lesson_id {
                println!("previous: {p}");
            }
            if let Some(n) = &lesson.next_lesson_id {
                println!("next: {n}");
            }
            if *complete {
                println!("Recorded as completed for {user}.");
            }
        }
        TrainingCmd::Search { text, limit, json } => {
            let hits = ws.training().search(text, *limit)?;
            if *json {
                return print_json(&hits);
            }
            print_hits(&hits);
        }
        TrainingCmd::Quiz {
            quiz_id,
            answers,
            user,
            json,
        } => {
            let quiz = ws.training().quiz(quiz_id)?;
            if answers.is_empty() {
                if *json {
                    return print_json(&quiz);
                }
                print_quiz(&quiz);
                return Ok(());
            }
            let parsed = answers
                .iter()
                .map(|a| parse_answer(a, &quiz))
                .collect::<Result<Vec<_>>>()?;
            let result = ws
                .training()
                .answer_quiz(&user.resolve(), quiz_id, &parsed)?;
            if *json {
                return print_json(&result);
            }
            print_result(&result);
        }
        TrainingCmd::Progress { user, json } => {
            let user = user.resolve();
            let progress = ws.training().progress(&user)?;
            if *json {
                return print_json(&progress);
            }
            print_progress(&user, &progress);
        }
    }
    Ok(())
}

fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&china_offset())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn text(t: &LocalizedText, lang: Lang) -> &str {
    match (lang, &t.en) {
        (Lang::En, Some(en)) => en,
        _ => &t.zh,
    }
}

fn both(t: &LocalizedText) -> String {
    match &t.en {
        Some(en) => format!("{} / {en}", t.zh),
        None => t.zh.clone(),
    }
}

/// `QUESTION_ID=CHOICE[,CHOICE…]`. A question id without `/` may be the last part of the
/// quiz's question id (`q02` for `food-safety-delivery/q02`). Whether the question and the
/// choices exist is the core's to check, so that the CLI refuses what the apps refuse.
fn parse_answer(arg: &str, quiz: &QuizView) -> Result<QuizAnswer> {
    let Some((qid, choices)) = arg.split_once('=') else {
        bail!("--answer '{arg}' is not QUESTION_ID=CHOICE[,CHOICE…] (e.g. q01=0 or q02=1,2)");
    };
    let qid = qid.trim();
    if qid.is_empty() {
        bail!("--answer '{arg}' has no question id before '='");
    }
    let full = if quiz.questions.iter().any(|q| q.id == qid) || qid.contains('/') {
        qid.to_string()
    } else {
        let suffix = format!("/{qid}");
        let mut matching = quiz.questions.iter().filter(|q| q.id.ends_with(&suffix));
        match (matching.next(), matching.next()) {
            (Some(q), None) => q.id.clone(),
            _ => qid.to_string(),
        }
    };
    let choices = choices
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| {
            c.parse::<i32>().with_context(|| {
                format!("--answer '{arg}': choice '{c}' is not a 0-based choice number")
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(QuizAnswer::new(full, choices))
}

fn print_courses(courses: &[CourseSummary]) {
    if courses.is_empty() {
        println!("No training pack is installed.");
        return;
    }
    for c in courses {
        println!("{}  {}", c.id, both(&c.title));
        let quiz = match &c.quiz_id {
            Some(q) => {
                let best = match c.best_score_percent {
                    Some(b) => format!(
                        "best {b}%{}",
                        if c.passed { ", passed" } else { ", not passed" }
                    ),
                    None => "not attempted".into(),
                };
                format!(
                    "; quiz {q} ({} questions, pass {}%): {best}",
                    c.question_count,
                    c.pass_percent.unwrap_or(100)
                )
            }
            None => String::new(),
        };
        println!(
            "    {}/{} lessons done, {} min{quiz}",
            c.completed_lessons, c.lesson_count, c.minutes
        );
    }
}

fn print_hits(hits: &[LessonHit]) {
    if hits.is_empty() {
        println!("No lessons match.");
        return;
    }
    for h in hits {
        println!("{}  {}", h.lesson_id, both(&h.title));
        let snippet: String = h
            .snippet
            .iter()
            .map(|p| {
                if p.highlighted {
                    format!("[{}]", p.text)
                } else {
                    p.text.clone()
                }
            })
            .collect();
        println!("    {}", snippet.replace('\n', " "));
    }
}

fn print_quiz(quiz: &QuizView) {
    println!(
        "{} ({} questions, pass {}%)",
        quiz.id,
        quiz.questions.len(),
        quiz.pass_percent
    );
    for q in &quiz.questions {
        println!();
        let kind = match q.kind {
            QuestionKind::Single => "choose one / 单选",
            QuestionKind::Multiple => "choose all that apply / 多选",
        };
        println!("{} ({kind})", q.id);
        println!("  {}", q.prompt.zh);
        if let Some(en) = &q.prompt.en {
            println!("  {en}");
        }
        for (i, c) in q.choices.iter().enumerate() {
            println!("    {i}. {}", both(c));
        }
    }
    println!();
    println!(
        "Answer with: waystation training quiz {} --answer QUESTION_ID=CHOICE[,CHOICE…] …",
        quiz.id
    );
}

fn choices(c: &[i32]) -> String {
    if c.is_empty() {
        return "none".into();
    }
    c.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
}

fn print_result(r: &QuizResult) {
    for q in &r.questions {
        if q.correct {
            println!("✓ {}  {}", q.question_id, choices(&q.chosen));
        } else {
            println!(
                "✗ {}  chose {}, right: {}",
                q.question_id,
                choices(&q.chosen),
                choices(&q.correct_choices)
            );
        }
        println!("    {}", q.explanation.zh);
        if let Some(en) = &q.explanation.en {
            println!("    {en}");
        }
    }
    println!();
    println!(
        "{}: {}/{} right, {}% ({}, pass mark {}%). Best score: {}%. Recorded as attempt {}.",
        r.quiz_id,
        r.correct_count,
        r.question_count,
        r.score_percent,
        if r.passed { "passed" } else { "not passed" },
        r.pass_percent,
        r.best_score_percent,
        r.attempt_id
    );
}

fn print_progress(user: &str, p: &TrainingProgress) {
    println!("Training progress of {user}");
    println!();
    println!("Completed lessons: {}", p.completed_lessons.len());
    for c in &p.completed_lessons {
        println!("  {}  {}", local(c.completed_at), c.lesson_id);
    }
    println!();
    println!("Quizzes: {}", p.best_scores.len());
    for b in &p.best_scores {
        println!(
            "  {}  best {}%{}, {} attempt{}",
            b.quiz_id,
            b.score_percent,
            if b.passed { " (passed)" } else { "" },
            b.attempts,
            if b.attempts == 1 { "" } else { "s" }
        );
    }
}
