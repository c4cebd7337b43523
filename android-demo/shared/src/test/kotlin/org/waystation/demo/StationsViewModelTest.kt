package org.waystation.demo

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.waystation.*
import org.waystation.core.*

/** The station screen over the real core and the signed Xi'an sample pack. */
class StationsViewModelTest : CoreTest() {
    @Test
    fun `rows are the core's nearest open stations, formatted, nearest first`() {
        val core = core()
        val vm = StationsViewModel(core, Lang.EN, Fixtures.clockAt(Fixtures.WEDNESDAY_11H), limit = 5)
        val screen = vm.nearest(Fixtures.BELL_TOWER)
        assertNull(screen.emptyMessage)
        val hits = core.stations().nearest(
            NearestQuery(Fixtures.BELL_TOWER, 5, StationFilter(openOnly = true), Fixtures.WEDNESDAY_11H),
        )
        assertEquals(5, screen.rows.size)
        assertEquals(hits.map { it.station.id }, screen.rows.map { it.id })
        screen.rows.zip(hits).forEach { (row, hit) ->
            assertEquals(formatDistance(hit.distanceM), row.distance)
            assertEquals(formatBearing(hit.bearingDeg, Lang.EN), row.bearing)
            assertEquals(OpenStatus.OPEN, row.openStatus)
            assertTrue(row.status.startsWith("Open"), row.status)
            assertEquals(hit.station.nameEn ?: hit.station.nameZh, row.name)
        }
        // Nearest first: the numbers behind the strings are strictly growing.
        assertTrue(hits.zipWithNext().all { (a, b) -> a.distanceM <= b.distanceM })
    }

    @Test
    fun `a service filter keeps only stations offering every selected service`() {
        val core = core()
        val vm = StationsViewModel(core, Lang.ZH, Fixtures.clockAt(Fixtures.WEDNESDAY_11H))
        vm.toggle(Service.EBIKE_CHARGING)
        vm.toggle(Service.FIRST_AID_KIT)
        vm.toggle(Service.LEGAL_AID)
        vm.toggle(Service.LEGAL_AID) // toggled off again
        assertEquals(setOf(Service.EBIKE_CHARGING, Service.FIRST_AID_KIT), vm.selectedServices)
        val rows = vm.nearest(Fixtures.BELL_TOWER).rows
        assertEquals(10, rows.size)
        rows.forEach { row ->
            val services = core.stations().get(row.id).services
            assertTrue(Service.EBIKE_CHARGING in services && Service.FIRST_AID_KIT in services, row.id)
            assertTrue(row.services.contains(vm.label(Service.EBIKE_CHARGING)))
        }
        val choices = vm.serviceChoices()
        assertEquals(allServices().size, choices.size)
        assertEquals(setOf(Service.EBIKE_CHARGING, Service.FIRST_AID_KIT), choices.filter { it.selected }.map { it.service }.toSet())
        // Labels come from the core, in the interface language.
        assertEquals(allServices().first { it.service == Service.EBIKE_CHARGING }.labelZh, vm.label(Service.EBIKE_CHARGING))
    }

    @Test
    fun `at three in the morning, open-only hides closed and unknown stations`() {
        val core = core()
        val vm = StationsViewModel(core, Lang.EN, Fixtures.clockAt(Fixtures.THURSDAY_03H), limit = 20)
        vm.openOnly = false
        val all = vm.nearest(Fixtures.BELL_TOWER).rows
        assertTrue(all.any { it.openStatus == OpenStatus.CLOSED }, "some stations are closed at 03:00")
        all.filter { it.openStatus == OpenStatus.CLOSED }.forEach { assertTrue(it.status.startsWith("Closed"), it.status) }
        all.filter { it.openStatus == OpenStatus.UNKNOWN }.forEach { assertEquals("Hours unknown", it.status) }

        vm.openOnly = true
        val open = vm.nearest(Fixtures.BELL_TOWER).rows
        assertTrue(open.isNotEmpty(), "24-hour stations exist in the sample pack")
        open.forEach { assertEquals(OpenStatus.OPEN, it.openStatus) }
        assertFalse(open.map { it.id }.any { id -> all.first().let { it.id == id && it.openStatus != OpenStatus.OPEN } })
    }

    @Test
    fun `without a pack the screen says so instead of showing an empty list`() {
        val core = opened(Fixtures.core(tmp.resolve("empty")))
        val screen = StationsViewModel(core, Lang.EN, Fixtures.clockAt(Fixtures.WEDNESDAY_11H)).nearest(Fixtures.BELL_TOWER)
        assertTrue(screen.rows.isEmpty())
        assertEquals("No station directory is installed yet", screen.emptyMessage)
    }

    @Test
    fun `impossible filters give a hint, not silence`() {
        val core = core()
        val vm = StationsViewModel(core, Lang.EN, Fixtures.clockAt(Fixtures.THURSDAY_03H))
        Service.entries.forEach { vm.toggle(it) }
        val screen = vm.nearest(Fixtures.BELL_TOWER)
        assertTrue(screen.rows.isEmpty())
        assertNotNull(screen.emptyMessage)
        assertTrue(screen.emptyMessage!!.contains("fewer services"))
    }
}
