package org.waystation.demo.robolectric

import org.junit.After
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.annotation.Config
import org.waystation.demo.android.AppGraph
import org.waystation.demo.android.MainActivity

@RunWith(RobolectricTestRunner::class)
class SmokeTest {
    @After
    fun release() = AppGraph.release()

    @Test
    @Config(qualifiers = "zh-rCN")
    fun `home starts and installs the bundled packs`() {
        val home = Robolectric.buildActivity(MainActivity::class.java).setup().get()
        home.waitForText("驿站")
        println(home.screenText())
    }
}
