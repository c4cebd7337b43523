package org.waystation.demo.robolectric

import android.app.Activity
import android.widget.TextView
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.annotation.Config
import org.waystation.demo.Lang

/**
 * Chinese first, and the app follows the phone's language: every screen, in zh-CN, shows no
 * English word but proper nouns, units and identifiers (a text left untranslated fails here,
 * naming the screen and the text); in English, no Chinese but the map apps' own names. Texts
 * and hints of every view are read, as a person sees them.
 */
@RunWith(RobolectricTestRunner::class)
class LanguageTest : ScreenTest() {
    /** What may stay Latin in Chinese: units, formats, standards, proper nouns, our ids. */
    private val latinAllowed = setOf(
        "GPS", "EXIF", "Wi", "Fi", "WGS", "GCJ", "BD", "GB", "km", "KB", "MB", "image", "jpeg", "png",
        "https", "sync", "example", "org", "Open311", "open", "closed", "min", "v",
        // In the training pack's Chinese text ("通过App上报").
        "App",
    )

    /** Every text and hint a person can see on the screen. */
    private fun Activity.allWords(): List<String> = content.tree().filter { it.shown() }.filterIsInstance<TextView>()
        .flatMap { listOfNotNull(it.text?.toString(), it.hint?.toString()) }.filter { it.isNotBlank() }

    /** Data shown as it is (user and pack ids, the account's), not interface text. */
    private fun dataValues(): List<String> =
        graph.core.packs().installed().map { it.packId } + graph.user + listOfNotNull(graph.core.sync().account()?.user)

    @Test
    @Config(qualifiers = "zh-rCN")
    fun `in Chinese, no screen shows an untranslated word`() {
        val untranslated = mutableListOf<String>()
        val tour = Tour(this)
        assertEquals(Lang.ZH, tour.lang)
        tour.walk { name, screen ->
            screen.allWords().forEach { text ->
                var scrubbed = text
                dataValues().forEach { scrubbed = scrubbed.replace(it, "") }
                val words = Regex("[A-Za-z][A-Za-z0-9]*").findAll(scrubbed).map { it.value }.filter { it !in latinAllowed && it.length > 1 }
                if (words.any()) untranslated += "$name: \"$text\" (${words.joinToString()})"
            }
        }
        assertTrue("English on Chinese screens:\n" + untranslated.joinToString("\n"), untranslated.isEmpty())
    }

    @Test
    @Config(qualifiers = "en-rUS")
    fun `in English, no screen shows Chinese but the map apps' names`() {
        val untranslated = mutableListOf<String>()
        val tour = Tour(this)
        assertEquals(Lang.EN, tour.lang)
        tour.walk { name, screen ->
            screen.allWords().forEach { text ->
                val scrubbed = text.replace("高德", "").replace("百度", "")
                if (Regex("\\p{IsHan}").containsMatchIn(scrubbed)) untranslated += "$name: \"$text\""
            }
        }
        assertTrue("Chinese on English screens:\n" + untranslated.joinToString("\n"), untranslated.isEmpty())
    }
}
