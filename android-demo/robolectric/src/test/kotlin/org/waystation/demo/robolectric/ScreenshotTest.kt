package org.waystation.demo.robolectric

import android.app.Activity
import android.graphics.Bitmap
import android.graphics.Canvas
import android.graphics.Color
import android.view.View
import android.view.ViewGroup
import android.widget.TextView
import java.io.File
import java.io.FileOutputStream
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.annotation.Config
import org.robolectric.annotation.GraphicsMode

/**
 * Every rider screen rendered by Robolectric's native graphics (the real Android drawing code)
 * to a PNG, in zh-CN and English, at normal and 1.3× font scale, on a 360×760 dp phone at
 * xhdpi: target/screenshots/<lang>-<scale>/<screen>.png, listed in target/screenshots/index.md.
 * Each PNG is the whole scrolling content, not only the first screenful.
 *
 * On every screen, every control a finger can tap is at least 48 dp in both dimensions and
 * says what it is (its text, a content description, or the texts of the card it is).
 *
 *   mvn -B -f android-demo/pom.xml -pl robolectric -am verify -Dtest=ScreenshotTest \
 *       -Dsurefire.failIfNoSpecifiedTests=false -Dwaystation.repo.root=$PWD -Dwaystation.lib.dir=$PWD/target/debug
 */
@RunWith(RobolectricTestRunner::class)
@GraphicsMode(GraphicsMode.Mode.NATIVE)
class ScreenshotTest : ScreenTest() {
    private val out = File(System.getProperty("screenshots.dir") ?: error("screenshots.dir is not set"))

    @Test
    @Config(qualifiers = "zh-rCN-w360dp-h760dp-xhdpi")
    fun `Chinese at normal size`() = shoot("zh-CN", 1.0f)

    @Test
    @Config(qualifiers = "zh-rCN-w360dp-h760dp-xhdpi")
    fun `Chinese at 1·3x font`() = shoot("zh-CN", 1.3f)

    @Test
    @Config(qualifiers = "en-rUS-w360dp-h760dp-xhdpi")
    fun `English at normal size`() = shoot("en", 1.0f)

    @Test
    @Config(qualifiers = "en-rUS-w360dp-h760dp-xhdpi")
    fun `English at 1·3x font`() = shoot("en", 1.3f)

    private fun shoot(lang: String, fontScale: Float) {
        if (fontScale != 1.0f) RuntimeEnvironment.setFontScale(fontScale)
        val variant = "$lang-${if (fontScale == 1.0f) "1.0x" else "${fontScale}x"}"
        val dir = File(out, variant).apply { mkdirs() }
        val problems = mutableListOf<String>()
        val shots = mutableListOf<String>()
        Tour(this).walk { name, screen ->
            problems += touchTargets(name, screen)
            val file = File(dir, "$name.png")
            render(screen, file)
            shots += "$variant/$name.png"
        }
        index(variant, shots)
        assertTrue("touch targets ($variant):\n" + problems.joinToString("\n"), problems.isEmpty())
    }

    /** Controls smaller than 48 dp, or with nothing to say what they are. */
    private fun touchTargets(name: String, screen: Activity): List<String> {
        val density = screen.resources.displayMetrics.density
        val min = (48 * density).toInt()
        layOut(screen)
        return screen.content.tree().filter { it.shown() && it.isClickable && it.isEnabled || it.shown() && it.isClickable }
            .flatMap { view ->
                val label = label(view)
                listOfNotNull(
                    if (view.width < min || view.height < min) {
                        "$name: \"$label\" ${view.javaClass.simpleName} is ${(view.width / density).toInt()}×${(view.height / density).toInt()} dp"
                    } else {
                        null
                    },
                    if (label.isBlank()) "$name: a ${view.javaClass.simpleName} with no text or description" else null,
                )
            }
    }

    private fun label(view: View): String = view.contentDescription?.toString()?.takeIf { it.isNotBlank() }
        ?: (view as? TextView)?.text?.toString()?.takeIf { it.isNotBlank() }
        ?: (view as? TextView)?.hint?.toString()?.takeIf { it.isNotBlank() }
        ?: (view as? ViewGroup)?.tree()?.filterIsInstance<TextView>()?.joinToString(" ") { it.text }.orEmpty()

    /** Measures and lays out the window as a frame would (the looper is paused under test). */
    private fun layOut(screen: Activity) {
        val decor = screen.window.decorView
        val metrics = screen.resources.displayMetrics
        decor.measure(
            View.MeasureSpec.makeMeasureSpec(metrics.widthPixels, View.MeasureSpec.EXACTLY),
            View.MeasureSpec.makeMeasureSpec(metrics.heightPixels, View.MeasureSpec.EXACTLY),
        )
        decor.layout(0, 0, metrics.widthPixels, metrics.heightPixels)
    }

    /** The screen's whole scrolling column on the window's background, as a PNG. */
    private fun render(screen: Activity, file: File) {
        layOut(screen)
        val root = (screen.content as ViewGroup).getChildAt(0)
        val column = (root as? ViewGroup)?.getChildAt(0) ?: root
        val bitmap = Bitmap.createBitmap(column.width.coerceAtLeast(1), column.height.coerceAtLeast(1), Bitmap.Config.ARGB_8888)
        val canvas = Canvas(bitmap)
        canvas.drawColor(Color.WHITE)
        column.draw(canvas)
        FileOutputStream(file).use { bitmap.compress(Bitmap.CompressFormat.PNG, 100, it) }
    }

    private fun index(variant: String, shots: List<String>) {
        val index = File(out, "index.md")
        synchronized(ScreenshotTest::class.java) {
            val lines = if (index.exists()) index.readLines().filter { !it.contains("($variant/") } else listOf("# Waystation Android demo: screens", "")
            index.writeText((lines + shots.map { "- [$it]($it)" }).joinToString("\n") + "\n")
        }
    }
}
