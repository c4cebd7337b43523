package org.waystation.demo.robolectric

import android.app.Activity
import android.content.Intent
import android.widget.ImageView
import java.nio.file.Files
import kotlinx.coroutines.runBlocking
import org.robolectric.RuntimeEnvironment
import org.waystation.demo.Lang
import org.waystation.demo.PlatformFix
import org.waystation.demo.ReportField
import org.waystation.demo.ReportForm
import org.waystation.demo.SubmitResult
import org.waystation.demo.SyncAccount
import org.waystation.demo.SyncOutcome
import org.waystation.demo.TestServer
import org.waystation.demo.android.InboxActivity
import org.waystation.demo.android.CaseActivity
import org.waystation.demo.android.CourseActivity
import org.waystation.demo.android.LessonActivity
import org.waystation.demo.android.MainActivity
import org.waystation.demo.android.OutboxActivity
import org.waystation.demo.android.QuizActivity
import org.waystation.demo.android.ReportActivity
import org.waystation.demo.android.StationsActivity
import org.waystation.demo.android.SyncActivity
import org.waystation.demo.android.TrainingActivity
import org.waystation.demo.android.langOf

/**
 * Every rider screen, opened in the phone's language with something to show: the home
 * screen after the packs are installed, stations from the Bell Tower, a report draft with its
 * problems, the outbox with a draft and a submitted report, that report's case, the training
 * list, a course, a lesson, a quiz, and the sync screen; then, on a supervisor's phone, the
 * case inbox and the case with the follow-up actions, before and after two actions saved offline.
 * The language and screenshot tests walk it.
 */
class Tour(private val test: ScreenTest) {
    /** The phone's language, as the screens read it. */
    val lang: Lang = langOf(RuntimeEnvironment.getApplication().resources.configuration.locales[0])

    private fun t(zh: String, en: String) = if (lang == Lang.ZH) zh else en

    /** Calls [visit] with each screen's name and activity, once its content is shown. */
    fun walk(visit: (String, Activity) -> Unit) {
        val graph = test.graph
        val home = test.open(MainActivity::class.java)
        home.waitFor("the packs") { !home.showsText(t("正在准备离线数据…", "Preparing offline data…")) }
        visit("home", home)

        val stations = test.open(StationsActivity::class.java)
        stations.tap(t("以钟楼为中心（演示）", "Search from the Bell Tower (demo)"))
        stations.waitForText(t("在地图应用中打开", "Open in a map app"))
        visit("stations", stations)

        // A food-safety report (merchant fields) with its problems, and a submitted one.
        val form = ReportForm(graph.core, graph.user, lang, clock = RobolectricApp.CLOCK)
        val draft = form.start(org.waystation.reportCategories().first { it.group == org.waystation.core.CategoryGroup.FOOD }.code).id
        form.edit(ReportField.DESCRIPTION, t("外卖没有食品安全封签", "No food-safety seal on the bag"))
        form.save()
        val sent = ReportForm(graph.core, graph.user, lang, clock = RobolectricApp.CLOCK)
        val submittedId = sent.start("other").id
        sent.edit(ReportField.DESCRIPTION, t("井盖缺失", "Manhole cover missing"))
        sent.edit(ReportField.DISTRICT, BEILIN)
        sent.setLocation(PlatformFix(34.2230, 108.9530, 8.0, RobolectricApp.NOW.toEpochMilli(), false, "gps"))
        sent.attachPhoto(ScreenTest.JPEG)
        check(sent.submit() is SubmitResult.Submitted)

        val report = test.open(ReportActivity::class.java, Intent().putExtra(ReportActivity.EXTRA_REPORT_ID, draft))
        report.waitFor("the form") { report.showsText("✗ ") }
        visit("report", report)

        val outbox = test.open(OutboxActivity::class.java)
        outbox.waitForText(t("已提交", "Submitted"))
        visit("outbox", outbox)

        val case = test.open(CaseActivity::class.java, Intent().putExtra(CaseActivity.EXTRA_REPORT_ID, submittedId))
        case.waitForText(t("还没有人跟进", "Nobody has followed it up yet"))
        visit("case", case)

        val course = graph.core.training().courses(graph.user).first { it.quizId != null }
        val training = test.open(TrainingActivity::class.java)
        training.waitForText(course.title.zh.takeIf { lang == Lang.ZH } ?: (course.title.en ?: course.title.zh))
        visit("training", training)

        val courseScreen = test.open(CourseActivity::class.java, Intent().putExtra(CourseActivity.EXTRA_COURSE_ID, course.id))
        val lesson = graph.core.training().course(graph.user, course.id).lessons.first()
        courseScreen.waitForText(if (lang == Lang.ZH) lesson.title.zh else lesson.title.en ?: lesson.title.zh)
        visit("course", courseScreen)

        val lessonScreen = test.open(LessonActivity::class.java, Intent().putExtra(LessonActivity.EXTRA_LESSON_ID, lesson.id))
        lessonScreen.waitForText(t("学完了", "Done"))
        visit("lesson", lessonScreen)

        val quiz = test.open(QuizActivity::class.java, Intent().putExtra(QuizActivity.EXTRA_QUIZ_ID, course.quizId))
        quiz.waitForText(t("提交答案", "Submit answers"))
        visit("quiz", quiz)

        val sync = test.open(SyncActivity::class.java)
        sync.waitForText(t("尚未同步过", "Never synced"))
        visit("sync", sync)

        followUp(submittedId, visit)
    }

    /**
     * The follow-up screens, on a supervisor's phone: the rider's submitted report reaches it
     * through a real `waystation-server` on loopback, which tells the phone its role and
     * district. The inbox, then the case with the supervisor's actions and the photo fetched.
     */
    private fun followUp(reportId: String, visit: (String, Activity) -> Unit) {
        val dir = Files.createTempDirectory("waystation-tour")
        TestServer(dir).use { server ->
            val riderToken = server.addUser(test.graph.user, "rider")
            val supervisorToken = server.addUser(SUPERVISOR, "supervisor", BEILIN)
            server.start()
            sync(SyncAccount(server.url, riderToken))
            test.switchTo("supervisor")
            sync(SyncAccount(server.url, supervisorToken))

            val inbox = test.open(InboxActivity::class.java)
            inbox.waitForText(t("新报告（1）", "New (1)"))
            visit("inbox", inbox)

            val case = test.open(CaseActivity::class.java, Intent().putExtra(CaseActivity.EXTRA_REPORT_ID, reportId))
            case.waitForText(t("受理", "Acknowledge"))
            case.tap(case.texts().single { it.startsWith(t("下载照片 1", "Fetch photo 1")) })
            case.waitFor("the photo") { case.content.tree().any { it is ImageView && it.shown() } }
            visit("follow-up", case)

            // Acknowledged and dispatched offline: the screen says what waits to be sent.
            case.tap(t("受理", "Acknowledge"))
            case.waitForText(t("1 项操作已保存在手机上，等待发送", "1 action saved on this phone, waiting to be sent"))
            case.field(t("网格编号（如 610103-07）", "Grid id (e.g. 610103-07)")).setText("610103-07")
            case.tap(t("派往网格", "Dispatch to the grid"))
            case.waitForText(t("2 项操作已保存在手机上，等待发送", "2 actions saved on this phone, waiting to be sent"))
            visit("follow-up-saved", case)
        }
        dir.toFile().deleteRecursively()
    }

    /** Syncs this phone as [account] through the app's coordinator. */
    private fun sync(account: SyncAccount) {
        test.graph.syncAccount = account
        val outcome = runBlocking { test.graph.coordinator.syncNow() }
        check(outcome is SyncOutcome.Synced) { "the tour's sync failed: $outcome" }
    }

    companion object {
        /** Beilin district, where the tour's report is and the supervisor follows up. */
        const val BEILIN = "610103"

        /** The supervisor's account on the tour's server. */
        const val SUPERVISOR = "vol-zhang"
    }
}
