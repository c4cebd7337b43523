package org.waystation.demo.robolectric

import android.app.Activity
import android.content.Intent
import java.awt.image.BufferedImage
import java.io.ByteArrayOutputStream
import javax.imageio.ImageIO
import org.junit.After
import org.junit.Assert.assertTrue
import android.os.Looper
import org.robolectric.Robolectric
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.android.controller.ActivityController
import org.waystation.demo.android.AppGraph
import org.waystation.*
import org.waystation.core.*

/**
 * The base of the screen tests: Robolectric makes a new [RobolectricApp] (and so a new data
 * directory and core) for each test; the graph is released after it.
 */
abstract class ScreenTest {
    val graph: AppGraph.Graph get() = AppGraph.get()

    @After
    fun releaseGraph() = AppGraph.release()

    /** The screens [open] made, to close when the test moves to another phone. */
    private val opened = mutableListOf<ActivityController<out Activity>>()

    /** Creates, starts and resumes [screen] (with [intent]'s extras), as the launcher would. */
    fun <T : Activity> open(screen: Class<T>, intent: Intent? = null): T {
        val controller = if (intent == null) Robolectric.buildActivity(screen) else Robolectric.buildActivity(screen, intent)
        opened += controller
        return controller.setup().get()
    }

    /**
     * Makes the app another phone ([RobolectricApp.switchTo]) after closing every screen opened
     * so far, as a person putting one phone down and picking up another: nothing of the last
     * phone's screens runs against the next phone's core.
     */
    fun switchTo(instance: String) {
        opened.reversed().forEach { controller ->
            if (!controller.get().isDestroyed) controller.pause().stop().destroy()
        }
        opened.clear()
        shadowOf(Looper.getMainLooper()).idle()
        (RuntimeEnvironment.getApplication() as RobolectricApp).switchTo(instance)
    }

    companion object {
        /** The Bell Tower of Xi'an, WGS-84: the Stations screen's demo position. */
        val BELL_TOWER = Position(34.25953, 108.94235, Datum.WGS84)

        /** A real JPEG (16×16, written by the JDK's encoder), as a camera app would save one. */
        val JPEG: ByteArray by lazy {
            val image = BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB)
            for (x in 0 until 16) for (y in 0 until 16) image.setRGB(x, y, (x * 16) shl 16 or (y * 16))
            ByteArrayOutputStream().also { assertTrue(ImageIO.write(image, "jpg", it)) }.toByteArray()
        }

        /** A JPEG unlike [JPEG] (a flat grey 16×16): another photo, as the core tells photos by their hash. */
        val GREY_JPEG: ByteArray by lazy {
            val image = BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB)
            for (x in 0 until 16) for (y in 0 until 16) image.setRGB(x, y, 0x808080)
            ByteArrayOutputStream().also { assertTrue(ImageIO.write(image, "jpg", it)) }.toByteArray()
        }
    }
}
