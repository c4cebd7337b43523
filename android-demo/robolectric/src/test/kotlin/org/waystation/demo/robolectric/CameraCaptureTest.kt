package org.waystation.demo.robolectric

import android.app.Activity
import android.os.Looper
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.robolectric.shadows.ShadowToast
import org.waystation.demo.android.CameraCapture
import org.waystation.demo.android.ReportActivity

/**
 * [CameraCapture], the camera hand-off the report and case screens share, through the report
 * screen: a photo taken reaches the draft in the core, a cancelled or empty capture changes
 * nothing, a capture survives the screen being recreated, and a phone without a camera app is
 * told so. No camera file is left in the app's cache in any of them. (The case screen's
 * inspection photo: FollowUpScreenTest and ChainTest.)
 */
@RunWith(RobolectricTestRunner::class)
@Config(qualifiers = "en-rUS")
class CameraCaptureTest : ScreenTest() {
    /** The number of photos of the one draft, as the core has it. */
    private fun draftPhotos(): Int {
        val draft = graph.core.reports().summaries(graph.user, null).single()
        return graph.core.reports().get(draft.id).photos.size
    }

    @Test
    fun `a photo taken reaches the report's draft, and the camera's file is removed`() {
        val screen = startReport()
        assertEquals(0, draftPhotos())
        takePhoto(screen)
        assertEquals(1, draftPhotos())
        screen.waitFor("the camera's file to be removed") { cameraFiles().isEmpty() }
        // The next capture starts afresh (another picture: the core keeps one copy of a photo).
        takePhoto(screen, jpeg = GREY_JPEG)
        screen.waitFor("two photos") { screen.texts().count { it == "Remove" } == 2 }
        assertEquals(2, draftPhotos())
        assertEquals(emptyList<String>(), cameraFiles())
    }

    @Test
    fun `a cancelled capture, or one that wrote nothing, changes nothing`() {
        val screen = startReport()
        val before = screen.texts()

        // The camera app wrote part of a photo, then the rider backed out.
        val cancelled = openCamera(screen, "Take a photo")
        screen.writeAsTheCamera(cancelled, ScreenTest.JPEG.copyOf(100))
        assertEquals(1, cameraFiles().size)
        shadowOf(screen).receiveResult(cancelled.intent, Activity.RESULT_CANCELED, null)
        shadowOf(Looper.getMainLooper()).idle()
        assertEquals(emptyList<String>(), cameraFiles())
        assertEquals(0, draftPhotos())
        assertEquals(before, screen.texts())

        // "OK" from a camera app that wrote nothing.
        val empty = openCamera(screen, "Take a photo")
        shadowOf(screen).receiveResult(empty.intent, Activity.RESULT_OK, null)
        shadowOf(Looper.getMainLooper()).idle()
        assertEquals(emptyList<String>(), cameraFiles())
        assertEquals(0, draftPhotos())
        assertFalse(screen.showsText("Remove"))

        // A photo taken after them is attached as usual.
        takePhoto(screen)
        assertEquals(1, draftPhotos())
    }

    @Test
    fun `a photo taken while the screen was recreated still reaches the draft`() {
        val controller = Robolectric.buildActivity(ReportActivity::class.java).setup()
        val screen = controller.get()
        screen.waitForText("What is the problem?")
        screen.tap("Start the report")
        screen.waitForText("Description")
        val request = openCamera(screen, "Take a photo")
        screen.writeAsTheCamera(request, ScreenTest.JPEG)

        // Android destroys the screen while the camera app is in front (a rotation, or the
        // process stopped for memory); the new screen gets the saved state, then the result.
        controller.recreate()
        val again = controller.get()
        assertFalse(again === screen)
        shadowOf(again).receiveResult(request.intent, Activity.RESULT_OK, null)
        again.waitForText("Remove")
        assertEquals(1, draftPhotos())
        again.waitFor("the camera's file to be removed") { cameraFiles().isEmpty() }
        controller.pause().stop().destroy()
    }

    @Test
    fun `a phone without a camera app is told so, and no file is left`() {
        // Robolectric then resolves intents as Android does: nothing handles ACTION_IMAGE_CAPTURE.
        shadowOf(RuntimeEnvironment.getApplication()).checkActivities(true)
        val screen = startReport()
        screen.tap("Take a photo")
        assertNull("no camera app was started", shadowOf(screen).nextStartedActivityForResult)
        assertEquals("No camera app is available", ShadowToast.getTextOfLatestToast())
        assertEquals(emptyList<String>(), cameraFiles())
        assertEquals(0, draftPhotos())
    }
}
