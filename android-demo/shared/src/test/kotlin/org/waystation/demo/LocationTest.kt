package org.waystation.demo

import java.time.Duration
import java.time.Instant
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.waystation.*
import org.waystation.core.*

class LocationTest {
    private val now = Instant.parse("2026-12-02T03:00:00Z")
    private fun fix(accuracy: Double?, ageSeconds: Long, mock: Boolean = false, provider: String = "gps") =
        PlatformFix(34.2, 108.9, accuracy, now.minusSeconds(ageSeconds).toEpochMilli(), mock, provider)

    @Test
    fun `the best recent fix wins`() {
        val old = fix(3.0, ageSeconds = 600)
        val network = fix(40.0, ageSeconds = 5, provider = "network")
        val gps = fix(9.0, ageSeconds = 30)
        val noAccuracy = fix(null, ageSeconds = 1)
        assertEquals(gps, chooseFix(listOf(old, network, gps, noAccuracy), now))
        assertEquals(network, chooseFix(listOf(old, network, noAccuracy), now))
        assertEquals(noAccuracy, chooseFix(listOf(old, noAccuracy), now))
        assertNull(chooseFix(listOf(old), now), "a 10-minute-old fix is not where the rider is")
        assertEquals(old, chooseFix(listOf(old), now, maxAge = Duration.ofHours(1)))
    }

    @Test
    fun `a mock fix loses to a real one but is not thrown away`() {
        val mock = fix(1.0, ageSeconds = 1, mock = true)
        val real = fix(30.0, ageSeconds = 10)
        assertEquals(real, chooseFix(listOf(mock, real), now))
        assertEquals(mock, chooseFix(listOf(mock), now))
    }

    @Test
    fun `same accuracy, the newer fix wins`() {
        val a = fix(10.0, ageSeconds = 50)
        val b = fix(10.0, ageSeconds = 5)
        assertEquals(b, chooseFix(listOf(a, b), now))
    }

    @Test
    fun `the form describes a fix against the report rules`() {
        val rules = defaultReportRules() // warn above 50 m, refuse above 500 m
        val good = describeFix(fix(8.0, 2), rules, now, Lang.EN)
        assertEquals(FixQuality.GOOD, good.quality)
        assertEquals("±8 m · gps · just now", good.summary)
        assertTrue(good.warnings.isEmpty())

        assertEquals(FixQuality.IMPRECISE, describeFix(fix(120.0, 2), rules, now, Lang.EN).quality)
        val unknown = describeFix(fix(null, 2), rules, now, Lang.EN)
        assertEquals(FixQuality.IMPRECISE, unknown.quality)
        assertTrue(unknown.summary.startsWith("accuracy unknown"))

        val hopeless = describeFix(fix(3000.0, 2), rules, now, Lang.ZH)
        assertEquals(FixQuality.TOO_IMPRECISE, hopeless.quality)
        assertTrue(hopeless.warnings.single().contains("无法提交"))

        val mock = describeFix(fix(5.0, 2, mock = true), rules, now, Lang.EN)
        assertEquals(FixQuality.GOOD, mock.quality)
        assertEquals(listOf("Mock location: the report will be flagged"), mock.warnings)
    }

    @Test
    fun `a platform fix becomes the core's location fix unchanged`() {
        val f = PlatformFix(34.2, 108.9, 12.5, now.toEpochMilli(), true, "gps", Datum.GCJ02)
        val lf = f.toLocationFix()
        assertEquals(34.2, lf.lat)
        assertEquals(Datum.GCJ02, lf.datum)
        assertEquals(12.5, lf.accuracyM)
        assertEquals(now, lf.fixTime)
        assertTrue(lf.mock)
        assertNull(fix(Double.NaN, 0).toLocationFix().accuracyM, "NaN accuracy is no accuracy")
    }
}
