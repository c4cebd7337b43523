package org.waystation

import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import java.util.Base64
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assertions.fail
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.CsvSource
import kotlinx.coroutines.runBlocking
import org.waystation.core.*

/**
 * Safety training through the Kotlin bindings, on the signed training pack in `data/training`.
 * Every test opens its own data directories (phones) with only the training pack installed.
 */
class TrainingTest {
    companion object {
        const val PACK_ID = "xian-training"
        const val QUIZ = "food-safety-delivery/quiz"
        const val SEALS = "food-safety-delivery/seals"
        const val HELMET = "ebike-traffic-safety/helmet"
        const val USER = "rider-7"
        val COURSES = listOf("food-safety-delivery", "ebike-traffic-safety", "workers-rights", "first-aid-basics")

        private val trainingPack: Path by lazy {
            System.getenv("WAYSTATION_TRAINING_PACK")?.let { Paths.get(it) }
                ?: Paths.get(
                    System.getProperty("waystation.repo.root")
                        ?: fail("system property waystation.repo.root is not set"),
                    "data", "training", "xian-training.pack.json",
                )
        }

        /** The signed training pack's bytes. */
        val trainingBytes: ByteArray by lazy { Files.readAllBytes(trainingPack) }

        fun demoOptions() = Options(trustedKeys = listOf(demoPublisherKey()))

        /** The pack with one byte of its payload flipped; still valid JSON and valid base64. */
        fun tampered(pack: ByteArray): ByteArray {
            val text = String(pack, Charsets.UTF_8)
            val match = Regex("\"payload\"\\s*:\\s*\"([A-Za-z0-9+/=]+)\"").find(text)
                ?: fail("no payload in the training pack")
            val group = match.groups[1]!!
            val payload = Base64.getDecoder().decode(group.value)
            payload[payload.size / 2] = (payload[payload.size / 2].toInt() xor 1).toByte()
            val encoded = Base64.getEncoder().encodeToString(payload)
            return text.replaceRange(group.range, encoded).toByteArray(Charsets.UTF_8)
        }

        fun rightAnswers(result: QuizResult) =
            result.questions.map { QuizAnswer(questionId = it.questionId, choices = it.correctChoices) }
    }

    @TempDir
    lateinit var tmp: Path

    private val opened = mutableListOf<Waystation>()

    @AfterEach
    fun closeAll() {
        opened.forEach { it.close() }
    }

    private fun open(name: String = "phone", options: Options = demoOptions()): Waystation =
        Waystation(tmp.resolve(name).toString(), options).also { opened += it }

    /** A fresh data directory with the training pack installed. */
    private fun device(name: String = "phone"): Waystation = open(name).also {
        assertFalse(runBlocking { it.packs().importTraining(trainingBytes) }.unchanged)
    }

    private fun Waystation.firstChoiceAnswers() =
        training().quiz(QUIZ).questions.map { QuizAnswer(questionId = it.id, choices = listOf(0)) }

    // --- import ------------------------------------------------------------------------

    @Test
    fun `import installs 4 courses and 20 lessons`() {
        val ws = open()
        val result = runBlocking { ws.packs().importTraining(trainingBytes) }
        assertEquals(PACK_ID, result.packId)
        assertEquals(4, result.courses)
        assertEquals(20, result.lessons)
        assertTrue(result.questions >= 40)
        assertNull(result.previousVersion)
        assertNull(result.baseVersion)
        assertTrue(runBlocking { ws.packs().importTraining(trainingBytes) }.unchanged)
        assertEquals(listOf("training"), ws.packs().installed().map { it.kind })
    }

    @Test
    fun `a tampered or unsigned pack is refused and installed content stays`() {
        val ws = device()
        val before = ws.training().courses(USER)
        assertThrows<WaystationException.PackRejected> { runBlocking { ws.packs().importTraining(tampered(trainingBytes)) } }
        val unsigned = String(trainingBytes, Charsets.UTF_8)
            .replace(Regex("\"signatures\"\\s*:\\s*\\[.*?\\]", RegexOption.DOT_MATCHES_ALL), "\"signatures\": []")
        assertThrows<WaystationException.PackRejected> { runBlocking { ws.packs().importTraining(unsigned.toByteArray()) } }
        assertEquals(before, ws.training().courses(USER))
        assertEquals(SEALS, ws.training().lesson(SEALS).id)
        assertThrows<WaystationException.PackRejected> {
            runBlocking { open("untrusted", Options(trustedKeys = listOf())).packs().importTraining(trainingBytes) }
        }
    }

    // --- reading -----------------------------------------------------------------------

    @Test
    fun `course list, course detail and a lesson`() {
        val ws = device()
        val courses = ws.training().courses(USER)
        assertEquals(COURSES, courses.map { it.id })
        assertEquals(20, courses.sumOf { it.lessonCount })
        courses.forEach {
            assertEquals(0, it.completedLessons)
            assertNull(it.bestScorePercent)
            assertTrue(it.title.en != null)
        }
        val detail = ws.training().course(USER, "food-safety-delivery")
        assertEquals(courses[0], detail.course)
        assertEquals(5, detail.lessons.size)
        assertEquals(SEALS, detail.lessons[0].id)

        val lesson = ws.training().lesson(SEALS)
        assertEquals("food-safety-delivery", lesson.courseId)
        assertEquals(0, lesson.position)
        assertNull(lesson.previousLessonId)
        assertEquals("food-safety-delivery/delivery-box", lesson.nextLessonId)
        assertTrue(lesson.body.zh.contains("封签"))
        assertTrue(lesson.sources.isNotEmpty())
        assertTrue(ws.training().progress(USER).completedLessons.isEmpty(), "reading records nothing")

        assertThrows<WaystationException.NotFound> { ws.training().lesson("no-such/lesson") }
        assertThrows<WaystationException.NotFound> { ws.training().course(USER, "no-such-course") }
        assertThrows<WaystationException.NotFound> { ws.training().quiz("no-such/quiz") }
    }

    @ParameterizedTest
    @CsvSource("头盔,$HELMET", "食安封签,$SEALS", "helmet,$HELMET")
    fun `search finds Chinese and English`(query: String, lessonId: String) {
        val ws = device()
        val hits = ws.training().search(query, 10)
        assertTrue(hits.size in 1..10)
        assertTrue(hits.any { it.lessonId == lessonId }, "$query: ${hits.map { it.lessonId }}")
        assertTrue(hits[0].snippet.any { it.highlighted })
    }

    // --- quizzes -----------------------------------------------------------------------

    @Test
    fun `a failing and a passing attempt, and the best score is never lowered`() {
        val ws = device()
        val quiz = ws.training().quiz(QUIZ)
        assertEquals(setOf(QuestionKind.SINGLE, QuestionKind.MULTIPLE), quiz.questions.map { it.kind }.toSet())

        val failing = ws.training().answerQuiz(USER, QUIZ, ws.firstChoiceAnswers())
        assertFalse(failing.passed)
        assertTrue(failing.questions.all { it.explanation.zh.isNotEmpty() })

        val passing = ws.training().answerQuiz(USER, QUIZ, rightAnswers(failing))
        assertTrue(passing.passed)
        assertEquals(100, passing.scorePercent)
        assertNotEquals(failing.attemptId, passing.attemptId)

        val worse = ws.training().answerQuiz(USER, QUIZ, listOf())
        assertFalse(worse.passed)
        assertEquals(100, worse.bestScorePercent)

        val progress = ws.training().progress(USER)
        assertEquals(listOf(failing.attemptId, passing.attemptId, worse.attemptId), progress.attempts.map { it.id })
        val best = progress.bestScores.single()
        assertEquals(100, best.scorePercent)
        assertTrue(best.passed)
        assertEquals(3, best.attempts)
        assertTrue(ws.training().courses(USER)[0].passed)
    }

    @Test
    fun `ungradable answers are refused and record nothing`() {
        val ws = device()
        val q01 = "food-safety-delivery/q01"
        assertThrows<WaystationException.InvalidInput> {
            ws.training().answerQuiz(USER, QUIZ, listOf(QuizAnswer("food-safety-delivery/q99", listOf(0))))
        }
        assertThrows<WaystationException.InvalidInput> {
            ws.training().answerQuiz(USER, QUIZ, listOf(QuizAnswer(q01, listOf(9))))
        }
        assertThrows<WaystationException.InvalidInput> { ws.training().completeLesson(USER, "no-such/lesson") }
        assertTrue(ws.training().progress(USER).attempts.isEmpty())
        assertTrue(ws.training().progress(USER).completedLessons.isEmpty())
    }

    // --- progress ----------------------------------------------------------------------

    @Test
    fun `completed lessons show in progress and the course list`() {
        val ws = device()
        ws.training().completeLesson(USER, SEALS)
        ws.training().completeLesson(USER, HELMET)
        val progress = ws.training().progress(USER)
        assertEquals(setOf(SEALS, HELMET), progress.completedLessons.map { it.lessonId }.toSet())
        val first = progress.completedLessons.single { it.lessonId == SEALS }.completedAt
        assertEquals(first, ws.training().completeLesson(USER, SEALS).completedAt, "completing again keeps the first time")
        val courses = ws.training().courses(USER).associateBy { it.id }
        assertEquals(1, courses.getValue("food-safety-delivery").completedLessons)
        assertEquals(1, courses.getValue("ebike-traffic-safety").completedLessons)
        assertEquals(0, courses.getValue("workers-rights").completedLessons)
    }

    @Test
    fun `two devices exchange progress and converge in both orders`() {
        val phone = device("phone")
        val tablet = device("tablet")
        phone.training().completeLesson(USER, SEALS)
        val failing = phone.training().answerQuiz(USER, QUIZ, phone.firstChoiceAnswers())
        tablet.training().completeLesson(USER, HELMET)
        assertTrue(tablet.training().answerQuiz(USER, QUIZ, rightAnswers(failing)).passed)

        val phoneBytes = phone.training().progressDocumentBytes(USER)
        val tabletBytes = tablet.training().progressDocumentBytes(USER)
        val onPhone = phone.training().mergeProgressFrom(USER, tabletBytes)
        val onTablet = tablet.training().mergeProgressFrom(USER, phoneBytes)
        assertEquals(onPhone, onTablet)
        assertEquals(setOf(SEALS, HELMET), onPhone.completedLessons.map { it.lessonId }.toSet())
        assertEquals(2, onPhone.attempts.size)
        assertEquals(100, onPhone.bestScores.single().scorePercent)
        assertEquals(onPhone, phone.training().mergeProgressFrom(USER, tablet.training().progressDocumentBytes(USER)), "idempotent")

        // A third and fourth device merge the two copies in opposite orders.
        val laptop = open("laptop")
        laptop.training().mergeProgressFrom(USER, phoneBytes)
        val a = laptop.training().mergeProgressFrom(USER, tabletBytes)
        val desk = open("desk")
        desk.training().mergeProgressFrom(USER, tabletBytes)
        val b = desk.training().mergeProgressFrom(USER, phoneBytes)
        assertEquals(a, b)
        assertEquals(onPhone, a)

        assertThrows<WaystationException.InvalidInput> { phone.training().mergeProgressFrom("someone-else", phoneBytes) }
    }

    @Test
    fun `a training pack imports from a file, and its lessons name no image to fetch`(): Unit = runBlocking {
        val file = tmp.resolve("training.pack.json")
        Files.write(file, trainingBytes)
        val ws = open()
        val result = ws.packs().importTrainingFile(file.toString())
        assertEquals(PACK_ID, result.packId)
        assertFalse(result.unchanged)
        assertEquals(20, ws.training().courses(USER).sumOf { it.lessonCount })
        assertTrue(ws.packs().importTrainingFile(file.toString()).unchanged)
        assertThrows<WaystationException.InvalidInput> {
            ws.packs().importTrainingFile(tmp.resolve("missing.pack.json").toString())
        }
        // The sample courses carry no pictures: nothing is missing, and no path is known.
        assertEquals(listOf<LessonImage>(), ws.training().missingImages())
        assertNull(ws.training().imagePath("0".repeat(64)))
    }

    @ParameterizedTest
    @CsvSource("0", "-1", "1001")
    fun `a lesson search limit out of range is InvalidInput`(limit: Int) {
        val ws = device()
        val e = assertThrows<WaystationException.InvalidInput> { ws.training().search("头盔", limit) }
        assertTrue("limit" in e.reason, e.reason)
    }
}
