package org.waystation.demo.android

import android.content.Intent
import android.os.Bundle
import android.widget.LinearLayout
import org.waystation.demo.TrainingViewModel

/** The installed safety courses with the rider's progress. */
class TrainingActivity : Screen() {
    private lateinit var list: LinearLayout
    private lateinit var vm: TrainingViewModel

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        title = t("安全培训", "Safety training")
        vm = TrainingViewModel(graph.core, graph.user, lang)
        list = scrollingScreen()
    }

    override fun onResume() {
        super.onResume()
        work({
            graph.ensurePacks()
            vm.courses()
        }) { courses ->
            list.removeAllViews()
            courses.forEach { course ->
                list.card({
                    startActivity(Intent(this, CourseActivity::class.java).putExtra(CourseActivity.EXTRA_COURSE_ID, course.id))
                }) {
                    text((if (course.complete) "✓ " else "") + course.title, bold = true)
                    text(course.progress, sizeSp = 14f)
                    course.quiz?.let { text(it, sizeSp = 14f, color = Palette.MUTED) }
                }
            }
        }
    }
}

/** One course: its lessons in reading order, and its quiz. */
class CourseActivity : Screen() {
    private lateinit var list: LinearLayout
    private lateinit var vm: TrainingViewModel

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        vm = TrainingViewModel(graph.core, graph.user, lang)
        list = scrollingScreen()
    }

    override fun onResume() {
        super.onResume()
        val courseId = intent.getStringExtra(EXTRA_COURSE_ID) ?: return finish()
        work({ vm.courses().first { it.id == courseId } to vm.lessons(courseId) }) { (course, lessons) ->
            title = course.title
            list.removeAllViews()
            list.text(course.progress, sizeSp = 14f, color = Palette.MUTED)
            lessons.forEach { lesson ->
                list.card({
                    startActivity(Intent(this, LessonActivity::class.java).putExtra(LessonActivity.EXTRA_LESSON_ID, lesson.id))
                }) {
                    text((if (lesson.completed) "✓ " else "") + lesson.title, bold = true)
                    text(lesson.minutes, sizeSp = 13f, color = Palette.MUTED)
                }
            }
            course.quizId?.let { quizId ->
                list.button(course.quiz ?: t("测验", "Quiz")) {
                    startActivity(Intent(this, QuizActivity::class.java).putExtra(QuizActivity.EXTRA_QUIZ_ID, quizId))
                }
            }
        }
    }

    companion object {
        const val EXTRA_COURSE_ID = "course_id"
    }
}

/**
 * A lesson to read, with its images and the laws it cites; "done" records the completion. An
 * image the phone does not have yet (or cannot decode) is shown as its alt text.
 */
class LessonActivity : Screen() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val column = scrollingScreen()
        val vm = TrainingViewModel(graph.core, graph.user, lang)
        val lessonId = intent.getStringExtra(EXTRA_LESSON_ID) ?: return finish()
        val width = resources.displayMetrics.widthPixels
        work({
            val lesson = vm.lesson(lessonId)
            // Decoded here, off the main thread; null where the alt text stands in.
            lesson to lesson.images.map { image -> image.path?.let { decodeImageFile(it, width) } }
        }) { (lesson, bitmaps) ->
            title = lesson.title
            column.heading(lesson.title)
            column.text(lesson.body)
            lesson.images.zip(bitmaps).forEach { (image, bitmap) ->
                if (bitmap != null) {
                    column.image(bitmap, image.alt)
                } else {
                    column.text(image.alt, sizeSp = 14f, color = Palette.MUTED)
                }
            }
            if (lesson.sources.isNotEmpty()) column.heading(t("依据", "Sources"))
            lesson.sources.forEach { column.text(it, sizeSp = 13f, color = Palette.MUTED) }
            column.button(t("学完了", "Done")) {
                work({ vm.complete(lesson.id) }) {
                    graph.coordinator.onLocalChange()
                    lesson.nextId?.let { next ->
                        startActivity(Intent(this, LessonActivity::class.java).putExtra(EXTRA_LESSON_ID, next))
                    }
                    finish()
                }
            }
            lesson.previousId?.let { previous ->
                column.button(t("上一课", "Previous lesson")) {
                    startActivity(Intent(this, LessonActivity::class.java).putExtra(EXTRA_LESSON_ID, previous))
                    finish()
                }
            }
        }
    }

    companion object {
        const val EXTRA_LESSON_ID = "lesson_id"
    }
}
