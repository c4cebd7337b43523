package org.waystation.demo

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.waystation.Waystation
import org.waystation.WaystationException
import org.waystation.core.CaseEventKind
import org.waystation.core.CaseRole
import org.waystation.core.CaseStatus
import org.waystation.core.CategoryGroup
import org.waystation.core.Role
import org.waystation.reportCategories

/**
 * What a follow-up role may do, against the real core: every action the screen offers is one
 * the core records, and every core event it does not offer is one the core refuses.
 */
class FollowUpTest : CoreTest() {
    /** The text each action is tried with: a grid id, a reason, a note. */
    private fun textFor(action: CaseAction) = when (action) {
        CaseAction.DISPATCH -> "610103-07"
        CaseAction.REJECT -> "不是隐患"
        else -> "现场已查看"
    }

    /** A submitted report of [category] whose case a supervisor (who may do anything) brought to [status]. */
    private fun caseIn(core: Waystation, status: CaseStatus, category: String): String {
        val id = submitted(core, category)
        val kind = when (status) {
            CaseStatus.OPEN -> null
            CaseStatus.ACKNOWLEDGED -> CaseEventKind.Acknowledge
            CaseStatus.IN_PROGRESS -> CaseEventKind.Dispatch("610103-01")
            CaseStatus.RESOLVED -> CaseEventKind.Resolve
            CaseStatus.REJECTED -> CaseEventKind.Reject("重复")
            CaseStatus.DUPLICATE -> CaseEventKind.MarkDuplicate(submitted(core, category))
        }
        kind?.let { core.cases().record(id, "sup-1", CaseRole.SUPERVISOR, it, "") }
        assertEquals(status, core.cases().get(id).status)
        return id
    }

    @Test
    fun `every action offered is recorded by the core, and every core event withheld is refused`() {
        val core = core()
        val station = reportCategories().first { it.group == CategoryGroup.STATION }
        val categories = listOf("other" to CategoryGroup.OTHER, station.code to station.group)
        for ((category, group) in categories) for (status in CaseStatus.entries) {
            // A refused event stores nothing, so one case serves until an event is accepted.
            var fresh: String? = null
            for (role in CaseRole.entries) for (action in CaseAction.entries) {
                val offered = allowedActions(role, status, group)
                val id = fresh ?: caseIn(core, status, category)
                val text = textFor(action)
                val accepted = try {
                    core.cases().record(id, "someone", role, action.toKind(text), action.noteFor(text))
                    true
                } catch (e: WaystationException.InvalidInput) {
                    false
                }
                fresh = if (accepted) null else id
                val what = "$role on a $status case of $category, $action"
                if (action in offered) assertTrue(accepted, "offered but refused: $what")
                // An inspection is a note the screen offers to on-site roles only.
                if (action != CaseAction.INSPECTION) assertEquals(action in offered, accepted, what)
            }
        }
        assertTrue(allowedActions(CaseRole.RIDER, CaseStatus.OPEN, CategoryGroup.OTHER).isEmpty(), "a rider never sees an action")
    }

    @Test
    fun `each role's buttons on a new case, in order`() {
        assertEquals(
            listOf(CaseAction.ACKNOWLEDGE, CaseAction.DISPATCH, CaseAction.NOTE),
            allowedActions(CaseRole.STATION_STAFF, CaseStatus.OPEN, CategoryGroup.ROAD),
        )
        assertEquals(
            listOf(CaseAction.ACKNOWLEDGE, CaseAction.DISPATCH, CaseAction.NOTE, CaseAction.RESOLVE),
            allowedActions(CaseRole.STATION_STAFF, CaseStatus.OPEN, CategoryGroup.STATION),
        )
        assertEquals(CaseAction.entries, allowedActions(CaseRole.SUPERVISOR, CaseStatus.OPEN, CategoryGroup.FOOD))
        assertEquals(
            listOf(CaseAction.NOTE, CaseAction.INSPECTION, CaseAction.RESOLVE, CaseAction.REJECT),
            allowedActions(CaseRole.GRID_WORKER, CaseStatus.IN_PROGRESS, CategoryGroup.ROAD),
        )
        assertEquals(listOf(CaseAction.NOTE, CaseAction.INSPECTION), allowedActions(CaseRole.SUPERVISOR, CaseStatus.RESOLVED, CategoryGroup.FOOD))
    }

    @Test
    fun `server roles map to case roles, and riders and admins follow up nothing`() {
        assertEquals(CaseRole.STATION_STAFF, Role.STATION.caseRole())
        assertEquals(CaseRole.SUPERVISOR, Role.SUPERVISOR.caseRole())
        assertEquals(CaseRole.GRID_WORKER, Role.GRID.caseRole())
        assertEquals(null, Role.RIDER.caseRole())
        assertEquals(null, Role.ADMIN.caseRole())
    }

    @Test
    fun `every label, hint and section title exists in Chinese and English`() {
        val han = Regex("\\p{IsHan}")
        for (action in CaseAction.entries) {
            val zh = action.label(Lang.ZH)
            val en = action.label(Lang.EN)
            assertTrue(han.containsMatchIn(zh), zh)
            assertFalse(han.containsMatchIn(en), en)
            assertTrue(han.containsMatchIn(action.savedText(Lang.ZH)))
            assertFalse(han.containsMatchIn(action.savedText(Lang.EN)))
            assertEquals(action.needsText, action.hint(Lang.ZH).isNotEmpty(), "$action")
            assertEquals(action.needsText, action.hint(Lang.EN).isNotEmpty(), "$action")
        }
        for (group in InboxGroup.entries) assertNotEquals(group.title(Lang.ZH), group.title(Lang.EN))
        for (role in Role.entries) assertNotEquals(accountRoleLabel(role, Lang.ZH), accountRoleLabel(role, Lang.EN))
        assertEquals("碑林区", districtName("610103", Lang.ZH))
        assertEquals("Beilin", districtName("610103", Lang.EN))
        assertEquals("2 项操作等待发送", waitingText(2, Lang.ZH))
        assertEquals("1 action waiting to be sent", waitingText(1, Lang.EN))
        assertEquals(null, waitingText(0, Lang.EN))
    }

    @Test
    fun `the inbox sections follow the case status, a dispatched case apart`() {
        assertEquals(InboxGroup.NEW, InboxGroup.of(CaseStatus.OPEN, null))
        assertEquals(InboxGroup.IN_PROGRESS, InboxGroup.of(CaseStatus.ACKNOWLEDGED, null))
        assertEquals(InboxGroup.IN_PROGRESS, InboxGroup.of(CaseStatus.IN_PROGRESS, null))
        assertEquals(InboxGroup.DISPATCHED, InboxGroup.of(CaseStatus.IN_PROGRESS, "610103-07"))
        assertEquals(InboxGroup.RESOLVED, InboxGroup.of(CaseStatus.RESOLVED, "610103-07"))
        assertEquals(InboxGroup.REJECTED, InboxGroup.of(CaseStatus.REJECTED, null))
        assertEquals(InboxGroup.REJECTED, InboxGroup.of(CaseStatus.DUPLICATE, null))
    }

    @Test
    fun `the pending list forgets what a complete sync delivered, but not a refused case or a later event`() {
        val pending = PendingActions(MemoryStringStore())
        pending.add("r1", "e1")
        pending.add("r1", "e1")
        pending.add("r2", "e2")
        val before = pending.snapshot()
        pending.add("r1", "e3") // recorded while the sync ran
        pending.delivered(before, refusedReports = setOf("r2"))
        assertEquals(setOf("e3"), pending.forCase("r1"))
        assertEquals(setOf("e2"), pending.forCase("r2"))
        pending.delivered(pending.snapshot(), emptySet())
        assertEquals(emptySet<String>(), pending.forCase("r1") + pending.forCase("r2"))
    }

    companion object {
        /** A report of [category] by [author] in [district], submitted on [core]. */
        fun submitted(
            core: Waystation,
            category: String,
            author: String = Fixtures.RIDER,
            district: String = "610103",
            description: String = "井盖缺失",
        ): String {
            val form = ReportForm(core, author, Lang.EN)
            val id = form.start(category).id
            form.edit(ReportField.DESCRIPTION, description)
            if (reportCategories().first { it.code == category }.needsMerchant) form.edit(ReportField.MERCHANT_NAME, "老王面馆")
            form.edit(ReportField.DISTRICT, district)
            form.setLocation(Fixtures.gpsFix(34.2590, 108.9420))
            val result = form.submit()
            assertTrue(result is SubmitResult.Submitted, "$result")
            return id
        }
    }
}
