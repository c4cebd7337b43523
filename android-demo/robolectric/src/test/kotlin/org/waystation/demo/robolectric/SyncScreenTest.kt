package org.waystation.demo.robolectric

import android.widget.EditText
import java.net.ServerSocket
import java.nio.file.Files
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.annotation.Config
import org.robolectric.shadows.ShadowToast
import org.waystation.demo.Lang
import org.waystation.demo.PlatformFix
import org.waystation.demo.ReportField
import org.waystation.demo.ReportForm
import org.waystation.demo.SubmitResult
import org.waystation.demo.TestServer
import org.waystation.demo.android.SyncActivity
import org.waystation.*
import org.waystation.core.*

/**
 * The sync screen with a submitted report waiting: not set up, then a failure with the server
 * down (nothing listens on the port), then success against a real waystation-server on
 * loopback; the status lines and the core's outbox follow.
 */
@RunWith(RobolectricTestRunner::class)
@Config(qualifiers = "en-rUS")
class SyncScreenTest : ScreenTest() {
    private val dir = Files.createTempDirectory("waystation-sync-screen")
    private val server = TestServer(dir.resolve("server"))

    @After
    fun stopServer() {
        server.close()
        dir.toFile().deleteRecursively()
    }

    /** A report submitted on the phone (through the form the report screen uses). */
    private fun submitted(): String {
        graph.ensurePacks()
        val form = ReportForm(graph.core, graph.user, Lang.EN, clock = RobolectricApp.CLOCK)
        val id = form.start("other").id
        form.edit(ReportField.DESCRIPTION, "Manhole cover missing")
        form.setLocation(PlatformFix(34.2230, 108.9530, 8.0, RobolectricApp.NOW.toEpochMilli(), false, "gps"))
        form.attachPhoto(JPEG)
        assertTrue(form.submit() is SubmitResult.Submitted)
        return id
    }

    private fun SyncActivity.fields(): List<EditText> = content.tree().filterIsInstance<EditText>()

    /** A loopback port nothing listens on. */
    private fun deadPort(): Int = ServerSocket(0).use { it.localPort }

    @Test
    fun `sync is not set up, fails with the server down, then sends the report`() {
        val id = submitted()
        val screen = open(SyncActivity::class.java)
        screen.waitForText("2 waiting to be sent")
        assertTrue(screen.showsText("Records waiting: 1"))
        assertTrue(screen.showsText("Photos waiting: 1"))
        assertTrue(screen.showsText("Never synced"))
        assertTrue(screen.showsText("Sync unavailable: "))
        assertFalse("no server yet", screen.control("Sync now").isEnabled)

        val token = server.addUser(graph.user, "rider")
        val (url, secret) = screen.fields()
        url.setText("http://127.0.0.1:${deadPort()}")
        secret.setText(token)
        screen.tap("Save")
        screen.waitFor("Sync now to be enabled") { screen.control("Sync now").isEnabled }

        screen.tap("Sync now")
        screen.waitFor("the failure") { ShadowToast.getTextOfLatestToast()?.startsWith("Sync failed: ") == true }
        screen.waitForText("Last error: ")
        assertNotNull(graph.core.sync().status().lastError)
        assertFalse(graph.core.reports().get(id).outbox is OutboxState.Sent)

        server.start()
        url.setText(server.url)
        screen.tap("Save")
        screen.tap("Sync now")
        screen.waitFor("the sync") { ShadowToast.getTextOfLatestToast() == "Synced" }
        screen.waitForText("Nothing waiting to be sent")
        assertFalse(screen.showsText("Last error: "))
        assertTrue(graph.core.reports().get(id).outbox is OutboxState.Sent)
        assertNull(graph.core.sync().status().lastError)
        assertEquals(0L, graph.core.sync().status().pendingDocuments)
    }
}
