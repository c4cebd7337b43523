package org.waystation.demo.robolectric

import android.app.Activity
import android.content.Intent
import android.os.Looper
import java.nio.file.Files
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.waystation.core.CaseEventKind
import org.waystation.core.CaseStatus
import org.waystation.demo.Lang
import org.waystation.demo.PlatformFix
import org.waystation.demo.ReportField
import org.waystation.demo.ReportForm
import org.waystation.demo.SubmitResult
import org.waystation.demo.SyncAccount
import org.waystation.demo.SyncOutcome
import org.waystation.demo.TestServer
import org.waystation.demo.android.CaseActivity
import org.waystation.demo.android.InboxActivity

/**
 * The follow-up screens by role, through their views, with the role each phone learned from a
 * real `waystation-server` on loopback: the inbox before the phone knows its account and on a
 * rider's phone, a supervisor's buttons (reject waits for its reason, and closes the case), an
 * inspection photo from the camera (a cancelled capture attaches nothing), and a grid worker's
 * (no dispatch: the grid is theirs).
 */
@RunWith(RobolectricTestRunner::class)
@Config(qualifiers = "en-rUS")
class FollowUpScreenTest : ScreenTest() {
    private val dir = Files.createTempDirectory("waystation-follow-up")
    private val server = TestServer(dir.resolve("server"))

    @After
    fun stopServer() {
        server.close()
        dir.toFile().deleteRecursively()
    }

    /** Syncs this app instance's phone as [token], through the app's coordinator. */
    private fun syncAs(token: String) {
        graph.syncAccount = SyncAccount(server.url, token)
        val outcome = runBlocking { graph.coordinator.syncNow() }
        assertTrue("$outcome", outcome is SyncOutcome.Synced)
    }

    /**
     * A rider's report in Beilin, submitted and synced from the rider's phone; returns its id.
     * Starts the server, after the rider's account is added (accounts are added before it runs).
     */
    private fun ridersReport(description: String): String {
        switchTo("rider")
        val token = server.addUser(graph.user, "rider")
        server.start()
        val form = ReportForm(graph.core, graph.user, Lang.EN, clock = RobolectricApp.CLOCK)
        val id = form.start("other").id
        form.edit(ReportField.DESCRIPTION, description)
        form.edit(ReportField.DISTRICT, "610103")
        form.setLocation(PlatformFix(34.2230, 108.9530, 8.0, RobolectricApp.NOW.toEpochMilli(), false, "gps"))
        assertTrue(form.submit() is SubmitResult.Submitted)
        syncAs(token)
        return id
    }

    private fun caseScreen(id: String): CaseActivity =
        open(CaseActivity::class.java, Intent().putExtra(CaseActivity.EXTRA_REPORT_ID, id))

    /**
     * The case of a rider's report of [description], on the phone of Beilin's supervisor
     * vol-zhang, synced, with its actions shown; returns the report's id and the screen.
     */
    private fun supervisorsCase(description: String): Pair<String, CaseActivity> {
        val supervisorToken = server.addUser("vol-zhang", "supervisor", "610103")
        val id = ridersReport(description)
        switchTo("supervisor")
        syncAs(supervisorToken)
        val screen = caseScreen(id)
        screen.waitForText("Follow up")
        return id to screen
    }

    @Test
    fun `the inbox asks to sync first, and a rider's phone has no cases to follow up`() {
        switchTo("new-phone")
        val inbox = open(InboxActivity::class.java)
        inbox.waitForText("This phone does not know your account yet")
        assertFalse("no server set up yet", inbox.control("Sync now").isEnabled)
        assertFalse(inbox.showsText("New ("))

        val id = ridersReport("Manhole cover missing")
        val riders = open(InboxActivity::class.java)
        riders.waitForText("This account (Rider) follows up no case")
        val case = caseScreen(id)
        case.waitForText("Nobody has followed it up yet")
        assertTrue(case.showsText("Manhole cover missing"))
        assertFalse("a rider sees no action", case.showsText("Follow up"))
        assertFalse(case.showsText("waiting to be sent"))
    }

    @Test
    fun `a supervisor's reject waits for its reason and closes the case, leaving notes`() {
        val (id, screen) = supervisorsCase("Stall sells food without a licence")
        val buttons = listOf("Acknowledge", "Dispatch to the grid", "Add a note", "Record the inspection", "Mark resolved", "Reject")
        buttons.forEach { assertTrue("\"$it\" is offered", it in screen.texts()) }
        assertTrue(screen.control("Acknowledge").isEnabled)
        assertFalse("reject waits for a reason", screen.control("Reject").isEnabled)
        screen.field("Why it is rejected").setText("   ")
        assertFalse("a blank reason is no reason", screen.control("Reject").isEnabled)
        screen.field("Why it is rejected").setText("The stall has a licence; shown to the supervisor")
        screen.tap("Reject")
        screen.waitForText("1 action saved on this phone, waiting to be sent")
        assertEquals("Rejected", screen.texts().first())
        val view = graph.core.cases().get(id)
        assertEquals(CaseStatus.REJECTED, view.status)
        assertEquals(CaseEventKind.Reject("The stall has a licence; shown to the supervisor"), view.timeline.single().event.kind)
        // Closed: only notes are left.
        assertEquals(listOf("Add a note", "Record the inspection"), buttons.filter { it in screen.texts() })

        val inbox = open(InboxActivity::class.java)
        inbox.waitForText("Rejected (1)")
        assertTrue(inbox.showsText("1 action waiting to be sent"))
        assertTrue(inbox.showsText("New\u00A00 · In progress\u00A00 · Dispatched\u00A00 · Resolved\u00A00 · Rejected\u00A01"))
    }

    @Test
    fun `a cancelled inspection photo attaches nothing, and one taken is attached until removed`() {
        val (id, screen) = supervisorsCase("Stall sells food without a licence")
        val cancelled = openCamera(screen, "Take a photo (optional)")
        screen.writeAsTheCamera(cancelled, JPEG.copyOf(100))
        shadowOf(screen).receiveResult(cancelled.intent, Activity.RESULT_CANCELED, null)
        shadowOf(Looper.getMainLooper()).idle()
        assertFalse(screen.showsText("Photo attached"))
        assertTrue(screen.showsText("Take a photo (optional)"))
        assertEquals(emptyList<String>(), cameraFiles())

        takePhoto(screen, "Take a photo (optional)", "Photo attached")
        assertEquals("the inspection photo waits in the camera's file", 1, cameraFiles().size)
        screen.tap("Remove the photo")
        screen.waitForText("Take a photo (optional)")
        assertFalse(screen.showsText("Photo attached"))
        assertEquals(emptyList<String>(), cameraFiles())
        assertTrue("nothing was recorded", graph.core.cases().get(id).timeline.isEmpty())
    }

    @Test
    fun `a grid worker cannot dispatch, and resolves with a note first`() {
        val gridToken = server.addUser("grid-610103-07", "grid", "610103")
        val id = ridersReport("Street light out at the crossing")
        switchTo("grid")
        syncAs(gridToken)

        val screen = caseScreen(id)
        screen.waitForText("Follow up")
        assertFalse("Dispatch to the grid" in screen.texts())
        assertFalse("the note waits for its text", screen.control("Add a note").isEnabled)
        screen.field("Note").setText("Called the lighting office")
        screen.tap("Add a note")
        screen.waitForText("1 action saved on this phone, waiting to be sent")
        screen.tap("Mark resolved")
        screen.waitForText("2 actions saved on this phone, waiting to be sent")
        assertEquals(CaseStatus.RESOLVED, graph.core.cases().get(id).status)
        assertEquals(2, screen.texts().count { it == "Saved on this phone, waiting to be sent" })

        syncAs(gridToken)
        val after = caseScreen(id)
        after.waitForText("Nothing waiting to be sent")
        assertEquals(0, after.texts().count { it == "Saved on this phone, waiting to be sent" })
    }
}
