package org.waystation.demo

import java.time.Instant
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.CsvSource
import org.waystation.*
import org.waystation.core.*

class FormattingTest {
    @ParameterizedTest
    @CsvSource(
        "0.0, 0 m",
        "7.6, 8 m",
        "99.4, 99 m",
        "99.6, 100 m",
        "123.0, 120 m",
        "849.0, 850 m",
        "994.9, 990 m",
        "995.0, 1.0 km",
        "1234.0, 1.2 km",
        "9949.0, 9.9 km",
        "9950.0, 10 km",
        "12499.0, 12 km",
    )
    fun `distances round to what a rider needs`(metres: Double, expected: String) {
        assertEquals(expected, formatDistance(metres))
    }

    @Test
    fun `an impossible distance is a bug, not a string`() {
        assertThrows<IllegalArgumentException> { formatDistance(-1.0) }
        assertThrows<IllegalArgumentException> { formatDistance(Double.NaN) }
        assertThrows<IllegalArgumentException> { formatDistance(Double.POSITIVE_INFINITY) }
    }

    @ParameterizedTest
    @CsvSource(
        "0.0, N", "22.4, N", "22.5, NE", "45.0, NE", "90.0, E", "134.9, SE", "180.0, S",
        "225.0, SW", "270.0, W", "315.0, NW", "337.4, NW", "337.5, N", "359.9, N", "360.0, N",
        "-10.0, N", "-45.0, NW", "405.0, NE",
    )
    fun `bearings fall in the compass point centred on them`(bearing: Double, point: String) {
        assertEquals(CompassPoint.valueOf(point), CompassPoint.of(bearing))
    }

    @Test
    fun `bearing text in both languages, normalized degrees`() {
        assertEquals("↗ NE 45°", formatBearing(45.2, Lang.EN))
        assertEquals("↗ 东北 45°", formatBearing(45.2, Lang.ZH))
        assertEquals("↑ N 0°", formatBearing(359.7, Lang.EN))
        assertEquals("↑ N 350°", formatBearing(-10.0, Lang.EN))
        assertEquals("↖ NW 310°", formatBearing(-50.0, Lang.EN))
    }

    // Wednesday 2 December 2026, 11:00 in Xi'an.
    private val now = Instant.parse("2026-12-02T03:00:00Z")

    @Test
    fun `open status with the next change in Xi'an time`() {
        val today20h = Instant.parse("2026-12-02T12:00:00Z")
        assertEquals("Open · closes 20:00", formatOpenStatus(OpenStatus.OPEN, today20h, now, Lang.EN))
        assertEquals("营业中 · 20:00关闭", formatOpenStatus(OpenStatus.OPEN, today20h, now, Lang.ZH))
        val tomorrow8h = Instant.parse("2026-12-03T00:00:00Z")
        assertEquals("Closed · opens tomorrow 08:00", formatOpenStatus(OpenStatus.CLOSED, tomorrow8h, now, Lang.EN))
        val saturday8h = Instant.parse("2026-12-05T00:00:00Z")
        assertEquals("Closed · opens Sat 08:00", formatOpenStatus(OpenStatus.CLOSED, saturday8h, now, Lang.EN))
        val later = Instant.parse("2026-12-24T00:30:00Z")
        assertEquals("Closed · opens 2026-12-24 08:30", formatOpenStatus(OpenStatus.CLOSED, later, now, Lang.EN))
        assertEquals("Open", formatOpenStatus(OpenStatus.OPEN, null, now, Lang.EN))
    }

    @Test
    fun `unknown hours are never shown as open, whatever the next change says`() {
        val today20h = Instant.parse("2026-12-02T12:00:00Z")
        assertEquals("Hours unknown", formatOpenStatus(OpenStatus.UNKNOWN, today20h, now, Lang.EN))
        assertEquals("营业时间未知", formatOpenStatus(OpenStatus.UNKNOWN, null, now, Lang.ZH))
    }

    @Test
    fun `a next change in the past is not shown`() {
        assertEquals("Open", formatOpenStatus(OpenStatus.OPEN, now.minusSeconds(60), now, Lang.EN))
    }

    @Test
    fun `ages and clock times`() {
        assertEquals("just now", formatAgo(now.minusSeconds(59), now, Lang.EN))
        assertEquals("just now", formatAgo(now.plusSeconds(30), now, Lang.EN)) // clock skew
        assertEquals("5 min ago", formatAgo(now.minusSeconds(5 * 60 + 10), now, Lang.EN))
        assertEquals("3 小时前", formatAgo(now.minusSeconds(3 * 3600), now, Lang.ZH))
        assertEquals("2 d ago", formatAgo(now.minusSeconds(2 * 86400 + 5), now, Lang.EN))
        assertEquals("10:32", formatClock(Instant.parse("2026-12-02T02:32:00Z"), now))
        // 23:30 UTC on 1 December is 07:30 on 2 December in Xi'an: still today.
        assertEquals("07:30", formatClock(Instant.parse("2026-12-01T23:30:00Z"), now))
        assertEquals("2026-12-01 22:00", formatClock(Instant.parse("2026-12-01T14:00:00Z"), now))
    }

    @Test
    fun `accuracy unknown is said, not hidden`() {
        assertEquals("±12 m", formatAccuracy(12.3, Lang.EN))
        assertEquals("±1.5 km", formatAccuracy(1500.0, Lang.EN))
        assertEquals("accuracy unknown", formatAccuracy(null, Lang.EN))
        assertEquals("精度未知", formatAccuracy(Double.NaN, Lang.ZH))
    }

    @Test
    fun `localized text falls back to Chinese`() {
        assertEquals("头盔", LocalizedText("头盔", null).pick(Lang.EN))
        assertEquals("头盔", LocalizedText("头盔", " ").pick(Lang.EN))
        assertEquals("Helmet", LocalizedText("头盔", "Helmet").pick(Lang.EN))
        assertEquals("头盔", LocalizedText("头盔", "Helmet").pick(Lang.ZH))
    }

    @Test
    fun `markdown becomes plain paragraphs`() {
        val md = "# 封签\n\n取餐时检查**封签**是否完好。\n\n- 不要*自己*补封\n- 见 [食品安全法](https://example.org/law)\n\n\n\n> 提示：`拍照`留证"
        assertEquals(
            "封签\n\n取餐时检查封签是否完好。\n\n• 不要自己补封\n• 见 食品安全法\n\n提示：拍照留证",
            markdownToPlainText(md),
        )
        // Snake_case words and lone asterisks are not emphasis.
        assertEquals("use food_safety_seal * 2", markdownToPlainText("use food_safety_seal * 2"))
    }
}
