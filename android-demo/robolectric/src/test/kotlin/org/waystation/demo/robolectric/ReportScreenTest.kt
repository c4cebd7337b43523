package org.waystation.demo.robolectric

import android.app.Activity
import android.content.Intent
import android.location.LocationManager
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.robolectric.shadows.ShadowToast
import org.waystation.demo.android.CaseActivity
import org.waystation.demo.android.OutboxActivity
import org.waystation.demo.android.ReportActivity
import org.waystation.*
import org.waystation.core.*

/**
 * The report screen filled in through its views (category, description, a GPS fix from the
 * platform's LocationManager, a photo the camera app writes through the app's content URI),
 * the problems it lists before sending, submit; then the outbox and the case screen.
 */
@RunWith(RobolectricTestRunner::class)
@Config(qualifiers = "en-rUS")
class ReportScreenTest : ScreenTest() {
    private val other = reportCategories().first { it.code == "other" }

    /** Problems the screen lists before sending (its "✗" lines). */
    private fun Activity.problems(): List<String> = texts().filter { it.startsWith("✗ ") }

    private fun fillIn(screen: ReportActivity) {
        screen.field("Description").setText("Manhole cover missing at the corner, riders fall at night")
        gpsFixAtThePlace()
        screen.tap("Record my location")
        shadowOf(RuntimeEnvironment.getApplication().getSystemService(LocationManager::class.java)).simulateLocation(placeFix())
        screen.waitFor("the location to be stored") { !screen.showsText("No location yet") }
        takePhoto(screen)
        // No station pack is installed in this test (the home screen installs it), so no
        // station names the district: the screen says so, and the rider types it.
        screen.waitForText("✗ District")
        screen.field("District code (e.g. 610113, Yanta)").setText("610103")
        // A new fix stores what was typed and redraws the form with the problems left.
        screen.tap("Record my location")
        screen.waitFor("the district to be accepted") { !screen.showsText("✗ District") }
    }

    @Test
    fun `a report is filled in, its problems listed until fixed, and submitted with a photo`() {
        val screen = startReport()
        assertEquals(other.labelEn, screen.texts().first())
        val before = screen.problems()
        assertTrue("an empty report lists its problems: ${screen.screenText()}", before.isNotEmpty())
        assertFalse("Submit is disabled while problems remain", screen.control("Submit").isEnabled)

        fillIn(screen)
        screen.waitFor("the problems to clear") { screen.problems().isEmpty() }
        assertTrue(screen.control("Submit").isEnabled)
        assertTrue(screen.showsText("34.2230") || screen.showsText("34.223"))

        screen.tap("Submit")
        screen.waitFor("the report to be submitted") { screen.isFinishing }
        assertEquals("Submitted: it is sent as soon as there is a connection", ShadowToast.getTextOfLatestToast())

        val reports = graph.core.reports().summaries(graph.user, null)
        assertEquals(1, reports.size)
        assertEquals(ReportStatus.SUBMITTED, reports.single().status)
        assertEquals("other", reports.single().category)
        val report = graph.core.reports().get(reports.single().id)
        assertEquals(1, report.photos.size)
        assertEquals(34.2230, report.position!!.lat, 1e-9)
    }

    @Test
    fun `the outbox lists a draft left half-written and a submitted report, and opens its case`() {
        // A draft: the description typed, then the rider leaves (onPause saves it).
        val controller = Robolectric.buildActivity(ReportActivity::class.java).setup()
        val draft = controller.get()
        draft.waitForText("What is the problem?")
        draft.tap("Start the report")
        draft.waitForText("Description")
        draft.field("Description").setText("Broken charger at the station")
        controller.pause()
        draft.waitFor("the draft to be saved") {
            graph.core.reports().summaries(graph.user, null).any { graph.core.reports().get(it.id).description.orEmpty().contains("Broken charger") }
        }
        controller.stop().destroy()

        val report = startReport()
        fillIn(report)
        report.tap("Submit")
        report.waitFor("the report to be submitted") { report.isFinishing }

        val outbox = open(OutboxActivity::class.java)
        outbox.waitForText("Submitted (1 waiting)")
        assertTrue(outbox.showsText("Broken charger at the station"))
        assertTrue(outbox.showsText("Manhole cover missing"))
        assertFalse(outbox.showsText("No drafts"))
        val submitted = graph.core.reports().summaries(graph.user, null).single { it.status == ReportStatus.SUBMITTED }
        outbox.tapCard("Broken charger at the station")
        assertEquals(ReportActivity::class.java.name, shadowOf(outbox).nextStartedActivity?.component?.className)
        outbox.tapCard("Manhole cover missing")
        val opened = shadowOf(outbox).nextStartedActivity
        assertEquals(CaseActivity::class.java.name, opened?.component?.className)
        assertEquals(submitted.id, opened.getStringExtra(CaseActivity.EXTRA_REPORT_ID))

        val case = open(CaseActivity::class.java, Intent().putExtra(CaseActivity.EXTRA_REPORT_ID, submitted.id))
        case.waitForText("Nobody has followed it up yet")
    }
}
