package org.waystation.demo.robolectric

import android.content.Intent
import android.widget.ImageView
import java.nio.file.Files
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.waystation.core.CaseStatus
import org.waystation.core.OutboxState
import org.waystation.core.ReportStatus
import org.waystation.demo.TestServer
import org.waystation.demo.android.CaseActivity
import org.waystation.demo.android.InboxActivity
import org.waystation.demo.android.MainActivity
import org.waystation.demo.android.OutboxActivity

/**
 * The whole chain through the app's screens, on three app instances (a rider's, a station's and
 * a supervisor's phone, each with its own data directory and preferences) and one real
 * `waystation-server` on loopback, with accounts made by its admin CLI:
 *
 * 1. the rider reports a problem with no server reachable, then syncs;
 * 2. the station's phone syncs, learns it is Beilin's station staff, finds the case in its
 *    inbox, fetches the photo, acknowledges and dispatches it to a grid, and syncs;
 * 3. the supervisor's phone syncs, then with the server down adds an inspection note with a
 *    photo taken through the camera's content URI and resolves, the screen saying both wait to
 *    be sent; the server comes back and it syncs;
 * 4. the rider syncs, the outbox shows the case resolved, and the inspection photo is fetched.
 */
@RunWith(RobolectricTestRunner::class)
@Config(qualifiers = "en-rUS")
class ChainTest : ScreenTest() {
    private val dir = Files.createTempDirectory("waystation-chain")
    private val server = TestServer(dir.resolve("server"))

    @After
    fun stopServer() {
        server.close()
        dir.toFile().deleteRecursively()
    }

    private fun caseScreen(reportId: String): CaseActivity =
        open(CaseActivity::class.java, Intent().putExtra(CaseActivity.EXTRA_REPORT_ID, reportId))

    @Test
    fun `a rider reports offline, the station acknowledges and dispatches, the supervisor inspects offline and resolves, the rider sees it resolved`() {
        // 1. The rider, with no server reachable yet.
        switchTo("rider")
        val rider = graph.user
        val riderToken = server.addUser(rider, "rider")
        val stationToken = server.addUser("beilin-station-3", "station", "610103")
        val supervisorToken = server.addUser("vol-zhang", "supervisor", "610103")
        reportThroughTheScreen("Manhole cover missing at the corner, riders fall at night")
        val id = graph.core.reports().summaries(rider, null).single().id
        assertEquals(ReportStatus.SUBMITTED, graph.core.reports().get(id).status)
        open(OutboxActivity::class.java).waitForText("Submitted (1 waiting)")

        server.start()
        assertEquals("Synced", syncThroughTheScreen(server.url, riderToken))
        assertTrue(graph.core.reports().get(id).outbox is OutboxState.Sent)
        val riderHome = open(MainActivity::class.java)
        riderHome.waitFor("the home screen") { !riderHome.showsText("Preparing offline data…") }
        assertFalse("a rider has no inbox", "Case inbox" in riderHome.texts())

        // 2. The station: its first sync tells the phone who it is and brings Beilin's reports.
        switchTo("station")
        val before = open(MainActivity::class.java)
        before.waitFor("the home screen") { !before.showsText("Preparing offline data…") }
        assertFalse("no account known before the first sync", "Case inbox" in before.texts())
        assertEquals("Synced", syncThroughTheScreen(server.url, stationToken))
        val home = open(MainActivity::class.java)
        home.waitForText("Case inbox")
        home.tap("Case inbox")
        assertEquals(InboxActivity::class.java.name, shadowOf(home).nextStartedActivity?.component?.className)

        val inbox = open(InboxActivity::class.java)
        inbox.waitForText("New (1)")
        assertTrue(inbox.showsText("Station staff beilin-station-3 · Beilin"))
        inbox.tapCard("Manhole cover missing")
        val opened = shadowOf(inbox).nextStartedActivity
        assertEquals(id, opened.getStringExtra(CaseActivity.EXTRA_REPORT_ID))

        val station = open(CaseActivity::class.java, opened)
        station.waitForText("Acknowledge")
        assertTrue(station.showsText("Manhole cover missing at the corner"))
        assertFalse("station staff cannot reject", "Reject" in station.texts())
        assertFalse("station staff do not inspect", "Record the inspection" in station.texts())
        // The photo came as a reference; it is fetched when asked for.
        val fetch = station.texts().single { it.startsWith("Fetch photo 1") }
        station.tap(fetch)
        station.waitFor("the photo") { station.content.tree().any { it is ImageView && it.shown() && it.contentDescription?.startsWith("Photo 1") == true } }

        station.tap("Acknowledge")
        station.waitForText("1 action saved on this phone, waiting to be sent")
        assertFalse("the dispatch needs a grid", station.control("Dispatch to the grid").isEnabled)
        station.field("Grid id (e.g. 610103-07)").setText("610103-07")
        station.tap("Dispatch to the grid")
        station.waitForText("2 actions saved on this phone, waiting to be sent")
        assertEquals(CaseStatus.IN_PROGRESS, graph.core.cases().get(id).status)
        assertEquals("610103-07", graph.core.cases().get(id).gridId)

        val stationInbox = open(InboxActivity::class.java)
        stationInbox.waitForText("Dispatched (1)")
        stationInbox.tap("Sync now")
        stationInbox.waitFor("the sync") { org.robolectric.shadows.ShadowToast.getTextOfLatestToast() == "Synced" }
        stationInbox.waitFor("nothing waiting") { !stationInbox.showsText("waiting to be sent") }
        assertEquals(0L, graph.core.sync().status().pendingDocuments)

        // 3. The supervisor syncs once, then works with no connection.
        switchTo("supervisor")
        assertEquals("Synced", syncThroughTheScreen(server.url, supervisorToken))
        server.close()
        val supervisorInbox = open(InboxActivity::class.java)
        supervisorInbox.waitForText("Dispatched (1)")
        assertTrue(supervisorInbox.showsText("Food-safety supervisor vol-zhang · Beilin"))
        val supervisor = caseScreen(id)
        supervisor.waitForText("Record the inspection")
        assertTrue(supervisor.showsText("Grid 610103-07"))
        // Another picture than the rider's, so the rider's phone does not hold it already.
        takePhoto(supervisor, "Take a photo (optional)", "Photo attached", GREY_JPEG)
        supervisor.field("What you saw on site").setText("Cover replaced; checked on site")
        supervisor.tap("Record the inspection")
        supervisor.waitForText("1 action saved on this phone, waiting to be sent")
        val inspection = graph.core.cases().get(id).timeline.last().event
        assertEquals("Cover replaced; checked on site", inspection.note)
        assertEquals("the inspection names its photo", 1, inspection.photos.size)
        supervisor.waitFor("the inspection photo in the timeline") {
            supervisor.content.tree().any { it is ImageView && it.shown() && it.contentDescription == "Inspection photo 1" }
        }
        supervisor.tap("Mark resolved")
        supervisor.waitForText("2 actions saved on this phone, waiting to be sent")
        assertEquals("Resolved", supervisor.texts().first())
        assertEquals(CaseStatus.RESOLVED, graph.core.cases().get(id).status)
        assertEquals(1L, graph.core.sync().status().pendingDocuments)
        assertTrue("the sync fails with the server down", syncThroughTheScreen().startsWith("Sync failed: "))
        caseScreen(id).waitForText("2 actions saved on this phone, waiting to be sent")

        // The server is back (on a new port): the supervisor's phone sends the case.
        server.start()
        assertEquals("Synced", syncThroughTheScreen(server.url, supervisorToken))
        caseScreen(id).waitForText("Nothing waiting to be sent")

        // 4. The rider syncs and sees the case resolved, with no action to take.
        switchTo("rider")
        assertEquals("Synced", syncThroughTheScreen(server.url, riderToken))
        val outbox = open(OutboxActivity::class.java)
        outbox.waitForText("Case: Resolved")
        val ridersCase = caseScreen(id)
        ridersCase.waitForText("Cover replaced; checked on site")
        // The inspection photo reached the server with the case; the rider fetches it to see it.
        ridersCase.tap("Fetch inspection photo 1")
        ridersCase.waitFor("the inspection photo") {
            ridersCase.content.tree().any { it is ImageView && it.shown() && it.contentDescription == "Inspection photo 1" }
        }
        assertEquals("Resolved", ridersCase.texts().first())
        listOf("Acknowledge", "Dispatch to the grid", "Add a note", "Record the inspection", "Mark resolved", "Reject").forEach {
            assertFalse("a rider never sees \"$it\"", it in ridersCase.texts())
        }
        assertEquals(CaseStatus.RESOLVED, graph.core.cases().get(id).status)
    }
}
