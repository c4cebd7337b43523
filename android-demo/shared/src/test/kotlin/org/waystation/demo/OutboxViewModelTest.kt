package org.waystation.demo

import java.time.Instant
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.waystation.*
import org.waystation.core.*

/** The outbox and case timelines over the real core. */
class OutboxViewModelTest : CoreTest() {
    private fun submitted(core: Waystation, description: String, lat: Double = 34.2230): String {
        val form = ReportForm(core, Fixtures.RIDER, Lang.EN)
        val id = form.start("other").id
        form.edit(ReportField.DESCRIPTION, description)
        form.setLocation(Fixtures.gpsFix(lat, 108.9530))
        val result = form.submit()
        assertTrue(result is SubmitResult.Submitted, "$result")
        return id
    }

    @Test
    fun `drafts and submitted reports, each with where it stands`() {
        val core = core()
        val draft = ReportForm(core, Fixtures.RIDER, Lang.EN).start("other").id
        val waiting = submitted(core, "井盖缺失")
        val sent = submitted(core, "充电桩漏电", lat = 34.2500)
        val refused = submitted(core, "无证后厨", lat = 34.2700)
        core.reports().recordDelivery(sent, OutboxState.Sent(Instant.now()))
        core.reports().recordDelivery(refused, OutboxState.Refused("photo too large", Instant.now()))
        // Someone else's report is not in this rider's outbox.
        ReportForm(core, "rider-8", Lang.EN).start("other")

        val screen = OutboxViewModel(core, Fixtures.RIDER, Lang.EN).load()
        assertEquals(listOf(draft), screen.drafts.map { it.reportId })
        assertEquals(Delivery.DRAFT, screen.drafts[0].delivery)
        assertNull(screen.drafts[0].caseStatus)
        assertEquals("(no description)", screen.drafts[0].summary)

        val byId = screen.submitted.associateBy { it.reportId }
        assertEquals(setOf(waiting, sent, refused), byId.keys)
        assertEquals(Delivery.WAITING, byId.getValue(waiting).delivery)
        assertEquals("Waiting for a connection", byId.getValue(waiting).deliveryText)
        assertEquals(Delivery.SENT, byId.getValue(sent).delivery)
        assertTrue(byId.getValue(sent).deliveryText.startsWith("Sent "))
        assertEquals(Delivery.REFUSED, byId.getValue(refused).delivery)
        assertEquals("Refused by the server: photo too large", byId.getValue(refused).deliveryText)
        assertEquals("无证后厨", byId.getValue(refused).summary)
        assertEquals(1, screen.waitingCount)
        val other = reportCategories().first { it.code == "other" }.labelEn
        screen.submitted.forEach { assertEquals("Open", it.caseStatus); assertEquals(other, it.category) }
        // In the core's order (newest first).
        assertEquals(
            core.reports().summaries(Fixtures.RIDER, null).map { it.id }.filter { it != draft },
            screen.submitted.map { it.reportId },
        )
    }

    @Test
    fun `a case timeline shows who did what, and the Open311 meaning`() {
        val core = core()
        val id = submitted(core, "井盖缺失")
        val vm = OutboxViewModel(core, Fixtures.RIDER, Lang.EN)
        val fresh = vm.case(id)
        assertEquals("Open", fresh.status)
        assertTrue(fresh.rows.isEmpty())
        assertTrue(fresh.open311.startsWith("Open311: open"), fresh.open311)

        core.cases().record(id, "staff-1", CaseRole.STATION_STAFF, CaseEventKind.Acknowledge, "on it")
        core.cases().record(id, "sup-1", CaseRole.SUPERVISOR, CaseEventKind.Dispatch("610113-07"), "")
        val case = vm.case(id)
        assertEquals("In progress", case.status)
        assertEquals("Grid 610113-07", case.grid)
        assertEquals(listOf("Acknowledged", "Dispatched to grid 610113-07"), case.rows.map { it.what })
        assertEquals(listOf("Station staff-1", "Supervisor sup-1"), case.rows.map { it.who })
        assertEquals("on it", case.rows[0].note)
        assertNull(case.rows[1].note, "an empty note is no note")
        assertTrue(case.rows.all { it.applied })
        assertEquals(0, case.unreadable)

        core.cases().record(id, "grid-1", CaseRole.GRID_WORKER, CaseEventKind.Resolve, "修好了")
        val resolved = vm.case(id)
        assertEquals("Resolved", resolved.status)
        assertTrue(resolved.open311.startsWith("Open311: closed"), resolved.open311)
        assertEquals("Resolved", OutboxViewModel(core, Fixtures.RIDER, Lang.EN).load().submitted.single().caseStatus)
    }

    @Test
    fun `labels exist in both languages for every status, role and event`() {
        org.waystation.core.CaseStatus.entries.forEach {
            assertFalse(caseStatusLabel(it, Lang.ZH).isBlank()); assertFalse(caseStatusLabel(it, Lang.EN).isBlank())
        }
        CaseRole.entries.forEach { assertFalse(roleLabel(it, Lang.ZH) == roleLabel(it, Lang.EN)) }
        assertEquals("未采纳：重复", eventLabel(CaseEventKind.Reject("重复"), Lang.ZH))
    }
}
