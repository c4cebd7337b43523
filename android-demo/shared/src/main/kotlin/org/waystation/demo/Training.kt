package org.waystation.demo

import org.waystation.*
import org.waystation.core.*

/** A course in the course list. */
data class CourseRow(
    val id: String,
    val title: String,
    /** `3/5 lessons · 25 min`. */
    val progress: String,
    /** `Quiz: best 80%, passed`, `Quiz: not taken`, or null for a course without a quiz. */
    val quiz: String?,
    val quizId: String?,
    val complete: Boolean,
)

/** A lesson in a course's lesson list. */
data class LessonRow(val id: String, val title: String, val minutes: String, val completed: Boolean)

/** A picture of a lesson, in the pack's order. */
data class LessonPicture(
    /** Its SHA-256 (lowercase hex), which names it. */
    val sha256: String,
    /**
     * The alternative text in the interface language: the image's description for screen
     * readers, and what is shown while the image is not on the phone.
     */
    val alt: String,
    /** The local file once a pack fetch (`fetchPacks`) downloaded it; null until then: show [alt]. */
    val path: String?,
)

/** A lesson to read. */
data class LessonScreen(
    val id: String,
    val title: String,
    /** The Markdown body turned into plain paragraphs (the demo shows it in a text view). */
    val body: String,
    /** Its images (none for most lessons); each one downloaded or not. */
    val images: List<LessonPicture>,
    /** The laws and standards it cites, one per line. */
    val sources: List<String>,
    val previousId: String?,
    val nextId: String?,
)

/**
 * Training: courses with the user's progress, lessons, and quizzes through [QuizSession].
 * Every answer and completion is stored by the core before the call returns.
 */
class TrainingViewModel(
    private val core: WaystationInterface,
    private val user: String,
    private val lang: Lang,
) {
    private val zh = lang == Lang.ZH

    /** Installed courses, in the publisher's order. */
    fun courses(): List<CourseRow> = core.training().courses(user).map { c ->
        val quiz = c.quizId?.let {
            val best = c.bestScorePercent
            when {
                best == null -> if (zh) "测验：未参加" else "Quiz: not taken"
                c.passed -> if (zh) "测验：最高 $best%，已通过" else "Quiz: best $best%, passed"
                else -> if (zh) "测验：最高 $best%，未通过（需 ${c.passPercent}%）" else "Quiz: best $best%, not passed (needs ${c.passPercent}%)"
            }
        }
        CourseRow(
            id = c.id,
            title = c.title.pick(lang),
            progress = if (zh) {
                "${c.completedLessons}/${c.lessonCount} 课 · ${c.minutes} 分钟"
            } else {
                "${c.completedLessons}/${c.lessonCount} lessons · ${c.minutes} min"
            },
            quiz = quiz,
            quizId = c.quizId,
            complete = c.completedLessons == c.lessonCount && (c.quizId == null || c.passed),
        )
    }

    /** A course's lessons in reading order. */
    fun lessons(courseId: String): List<LessonRow> = core.training().course(user, courseId).lessons.map {
        LessonRow(it.id, it.title.pick(lang), if (zh) "${it.minutes} 分钟" else "${it.minutes} min", it.completedAt != null)
    }

    /**
     * A lesson to read, with the local files of the images the phone has. Opening it records
     * nothing.
     */
    fun lesson(lessonId: String): LessonScreen = screen(core.training().lesson(lessonId))

    /** Records that the user finished the lesson (durable before it returns). */
    fun complete(lessonId: String) {
        core.training().completeLesson(user, lessonId)
    }

    /** Starts answering a quiz. */
    fun quiz(quizId: String): QuizSession = QuizSession(core, user, core.training().quiz(quizId), lang)

    private fun screen(v: LessonView) = LessonScreen(
        id = v.id,
        title = v.title.pick(lang),
        body = markdownToPlainText(v.body.pick(lang)),
        // The pack's hashes are checked when it is installed, so the lookup does not refuse one.
        images = v.images.map { LessonPicture(it.sha256, it.alt.pick(lang), core.training().imagePath(it.sha256)) },
        sources = v.sources.map { s ->
            val title = if (zh) s.title else s.titleEn ?: s.title
            // In English, a note the publisher did not translate is left out rather than shown
            // in Chinese, and "第三十三条" reads "Article 33".
            val note = if (zh) s.note else s.noteEn
            val article = if (zh) s.article else s.article?.let(::articleInEnglish)
            listOfNotNull(title, article, note).joinToString(" · ")
        },
        previousId = v.previousLessonId,
        nextId = v.nextLessonId,
    )
}

/** A question as shown, with the learner's current choices. */
data class QuestionState(
    val id: String,
    val prompt: String,
    val multiple: Boolean,
    val choices: List<String>,
    val chosen: Set<Int>,
)

/** A graded question. */
data class GradedRow(val prompt: String, val correct: Boolean, val rightAnswer: String, val explanation: String)

/** The result of a quiz. */
data class QuizOutcome(
    /** `80% (4/5) · passed`. */
    val score: String,
    val passed: Boolean,
    val best: String,
    val questions: List<GradedRow>,
)

/**
 * One attempt at a quiz: choices are kept here until [submit], which grades and records the
 * attempt. A single-choice question keeps one choice (choosing another replaces it); a
 * multiple-choice question toggles.
 */
class QuizSession internal constructor(
    private val core: WaystationInterface,
    private val user: String,
    private val quiz: QuizView,
    private val lang: Lang,
) {
    private val chosen: MutableMap<String, Set<Int>> = LinkedHashMap()

    val quizId: String get() = quiz.id

    /** The questions in order, with what is chosen so far. */
    fun questions(): List<QuestionState> = quiz.questions.map { q ->
        QuestionState(
            id = q.id,
            prompt = q.prompt.pick(lang),
            multiple = q.kind == QuestionKind.MULTIPLE,
            choices = q.choices.map { it.pick(lang) },
            chosen = chosen[q.id].orEmpty(),
        )
    }

    /** Chooses (or, for a multiple-choice question, toggles) [choice] of question [questionId]. */
    fun choose(questionId: String, choice: Int) {
        val q = quiz.questions.firstOrNull { it.id == questionId }
            ?: throw IllegalArgumentException("no question $questionId in ${quiz.id}")
        require(choice in q.choices.indices) { "choice $choice out of range for $questionId" }
        val current = chosen[questionId].orEmpty()
        chosen[questionId] = when (q.kind) {
            QuestionKind.SINGLE -> setOf(choice)
            QuestionKind.MULTIPLE -> if (choice in current) current - choice else current + choice
        }
    }

    /** Questions not answered yet (they count as wrong). */
    fun unanswered(): Int = quiz.questions.count { chosen[it.id].isNullOrEmpty() }

    /** Grades the answers and records the attempt in the user's progress. */
    fun submit(): QuizOutcome {
        val answers = quiz.questions.map { q -> QuizAnswer(q.id, chosen[q.id].orEmpty().sorted()) }
        val result = core.training().answerQuiz(user, quiz.id, answers)
        val zh = lang == Lang.ZH
        val byId = quiz.questions.associateBy { it.id }
        return QuizOutcome(
            score = "${result.scorePercent}% (${result.correctCount}/${result.questionCount}) · " +
                if (result.passed) (if (zh) "通过" else "passed") else (if (zh) "未通过，需 ${result.passPercent}%" else "not passed, needs ${result.passPercent}%"),
            passed = result.passed,
            best = if (zh) "最高分 ${result.bestScorePercent}%" else "Best ${result.bestScorePercent}%",
            questions = result.questions.map { g ->
                val q = byId[g.questionId]
                GradedRow(
                    prompt = q?.prompt?.pick(lang) ?: g.questionId,
                    correct = g.correct,
                    rightAnswer = g.correctChoices.joinToString("; ") { i -> q?.choices?.getOrNull(i.toInt())?.pick(lang) ?: "#$i" },
                    explanation = g.explanation.pick(lang),
                )
            },
        )
    }
}

/**
 * Markdown as plain text for a simple text view: headings, emphasis, inline code and link
 * targets are dropped, list items become bullets, and paragraphs stay apart. Enough for the
 * lesson bodies of the training pack; a production app would render Markdown properly.
 */
fun markdownToPlainText(markdown: String): String {
    val lines = markdown.replace("\r\n", "\n").lines().map { raw ->
        var line = raw.trimEnd()
        line = line.replace(Regex("^#{1,6}\\s+"), "")
        line = line.replace(Regex("^\\s*[-*+]\\s+"), "• ")
        line = line.replace(Regex("^>\\s?"), "")
        line = line.replace(Regex("!\\[([^]]*)]\\([^)]*\\)"), "$1")
        line = line.replace(Regex("\\[([^]]+)]\\([^)]*\\)"), "$1")
        line = line.replace(Regex("(\\*\\*|__)(.+?)\\1"), "$2")
        line = line.replace(Regex("(?<![*\\w])[*_](?!\\s)(.+?)(?<!\\s)[*_](?![*\\w])"), "$1")
        line.replace("`", "")
    }
    return lines.joinToString("\n").replace(Regex("\n{3,}"), "\n\n").trim()
}

/** "第三十三条" as "Article 33"; anything else unchanged. */
fun articleInEnglish(article: String): String {
    val match = Regex("^第([零一二三四五六七八九十百]+)条$").find(article) ?: return article
    val digits = mapOf('零' to 0, '一' to 1, '二' to 2, '三' to 3, '四' to 4, '五' to 5, '六' to 6, '七' to 7, '八' to 8, '九' to 9)
    var total = 0
    var current = 0
    for (c in match.groupValues[1]) {
        when (c) {
            '百' -> { total += (if (current == 0) 1 else current) * 100; current = 0 }
            '十' -> { total += (if (current == 0) 1 else current) * 10; current = 0 }
            else -> current = digits.getValue(c)
        }
    }
    return "Article ${total + current}"
}
