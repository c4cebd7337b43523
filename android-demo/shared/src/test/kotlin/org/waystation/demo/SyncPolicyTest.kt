package org.waystation.demo

import java.time.Duration
import java.time.Instant
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** The background sync rules, as plain data. */
class SyncPolicyTest {
    private val policy = SyncPolicy()
    private val idle = SyncSnapshot(0, 0, lastSuccess = null, lastError = null, inProgress = false)
    private val waiting = idle.copy(pendingDocuments = 2, pendingPhotos = 1)
    private val prefs = SyncPreferences()

    private fun SyncPlan.work(name: String) = enqueue.single { it.uniqueName == name }

    @Test
    fun `on start with nothing waiting, only the periodic job, kept as it is`() {
        val plan = policy.plan(SyncTrigger.APP_START, idle, prefs, canSync = true)
        assertEquals(listOf(SyncPolicy.PERIODIC_WORK), plan.enqueue.map { it.uniqueName })
        assertEquals(listOf(SyncPolicy.UPLOAD_WORK), plan.cancel)
        val periodic = plan.work(SyncPolicy.PERIODIC_WORK)
        assertEquals(SyncSchedule.Periodic(Duration.ofHours(1), Duration.ofMinutes(20)), periodic.schedule)
        assertEquals(ExistingWork.KEEP, periodic.existing)
        assertEquals(SyncConstraints(NetworkRequirement.CONNECTED, batteryNotLow = true), periodic.constraints)
        assertEquals(BackoffSpec(BackoffKind.EXPONENTIAL, Duration.ofSeconds(30)), periodic.backoff)
    }

    @Test
    fun `something waiting is sent as soon as there is a network`() {
        val plan = policy.plan(SyncTrigger.APP_START, waiting, prefs, canSync = true)
        val upload = plan.work(SyncPolicy.UPLOAD_WORK)
        assertEquals(SyncSchedule.OneTime(Duration.ZERO), upload.schedule)
        assertEquals(NetworkRequirement.CONNECTED, upload.constraints.network)
        assertTrue(upload.constraints.batteryNotLow)
        // A job already waiting for the network, or in backoff, is not reset.
        assertEquals(ExistingWork.KEEP, upload.existing)
        assertTrue(plan.cancel.isEmpty())
    }

    @Test
    fun `a local change sends after a short delay, grouping quick changes`() {
        // The change may not be counted as pending yet when the plan is made.
        val plan = policy.plan(SyncTrigger.LOCAL_CHANGE, idle, prefs, canSync = true)
        val upload = plan.work(SyncPolicy.UPLOAD_WORK)
        assertEquals(SyncSchedule.OneTime(Duration.ofSeconds(10)), upload.schedule)
        assertEquals(ExistingWork.KEEP, upload.existing)
    }

    @Test
    fun `Wi-Fi only and changed preferences update the scheduled jobs`() {
        val plan = policy.plan(SyncTrigger.PREFERENCES_CHANGED, waiting, prefs.copy(wifiOnly = true), canSync = true)
        plan.enqueue.forEach { assertEquals(NetworkRequirement.UNMETERED, it.constraints.network) }
        assertEquals(ExistingWork.UPDATE, plan.work(SyncPolicy.PERIODIC_WORK).existing)
        assertEquals(ExistingWork.REPLACE, plan.work(SyncPolicy.UPLOAD_WORK).existing)
    }

    @Test
    fun `background sync off, or no way to sync, cancels every job`() {
        val off = policy.plan(SyncTrigger.LOCAL_CHANGE, waiting, prefs.copy(backgroundSync = false), canSync = true)
        assertTrue(off.enqueue.isEmpty())
        assertEquals(setOf(SyncPolicy.PERIODIC_WORK, SyncPolicy.UPLOAD_WORK), off.cancel.toSet())
        val cannot = policy.plan(SyncTrigger.APP_START, waiting, prefs, canSync = false)
        assertTrue(cannot.enqueue.isEmpty())
        assertEquals(setOf(SyncPolicy.PERIODIC_WORK, SyncPolicy.UPLOAD_WORK), cannot.cancel.toSet())
    }

    @Test
    fun `a sync in progress keeps its upload job`() {
        val plan = policy.plan(SyncTrigger.SYNC_FINISHED, idle.copy(inProgress = true), prefs, canSync = true)
        assertFalse(SyncPolicy.UPLOAD_WORK in plan.cancel)
    }

    @Test
    fun `worker results retry what can succeed later and stop what cannot`() {
        val synced = SyncOutcome.Synced(idle)
        val offline = SyncOutcome.Failed("timeout", retryable = true)
        val badToken = SyncOutcome.Failed("token refused", retryable = false)
        assertEquals(WorkerDecision.SUCCESS, policy.workerDecision(synced, 0))
        assertEquals(WorkerDecision.RETRY, policy.workerDecision(offline, 0))
        assertEquals(WorkerDecision.RETRY, policy.workerDecision(offline, 8))
        assertEquals(WorkerDecision.FAILURE, policy.workerDecision(offline, 9), "the 10th failed run gives up")
        assertEquals(WorkerDecision.FAILURE, policy.workerDecision(badToken, 0))
        assertEquals(WorkerDecision.FAILURE, policy.workerDecision(SyncOutcome.Unavailable("no server"), 0))
    }

    @Test
    fun `retry delays follow WorkManager's exponential backoff, capped at 5 hours`() {
        assertEquals(Duration.ofSeconds(30), policy.retryDelay(1))
        assertEquals(Duration.ofSeconds(60), policy.retryDelay(2))
        assertEquals(Duration.ofSeconds(240), policy.retryDelay(4))
        assertEquals(Duration.ofHours(5), policy.retryDelay(11))
        assertEquals(Duration.ofHours(5), policy.retryDelay(1000))
        assertThrows<IllegalArgumentException> { policy.retryDelay(0) }
    }

    @Test
    fun `the OS scheduler's limits are refused up front`() {
        assertThrows<IllegalArgumentException> { SyncPolicy(periodicInterval = Duration.ofMinutes(5)) }
        assertThrows<IllegalArgumentException> { SyncPolicy(backoffInitial = Duration.ofSeconds(1)) }
        assertThrows<IllegalArgumentException> { SyncPolicy(periodicFlex = Duration.ofHours(2)) }
        assertThrows<IllegalArgumentException> { SyncPolicy(maxAttempts = 0) }
    }

    @Test
    fun `the sync screen says what waits, when it last worked and what went wrong`() {
        val now = Instant.parse("2026-12-02T03:00:00Z")
        val fine = presentSync(idle.copy(lastSuccess = now.minusSeconds(300)), null, now, Lang.EN)
        assertEquals("Nothing waiting to be sent", fine.headline)
        assertEquals(listOf("Last synced 5 min ago"), fine.lines)
        assertTrue(fine.canSyncNow)
        assertFalse(fine.attention)

        val failing = presentSync(waiting.copy(lastError = "server unreachable"), null, now, Lang.EN)
        assertEquals("3 waiting to be sent", failing.headline)
        assertEquals(
            listOf("Records waiting: 2", "Photos waiting: 1", "Never synced", "Last error: server unreachable"),
            failing.lines,
        )
        assertTrue(failing.attention)

        val running = presentSync(waiting.copy(inProgress = true), null, now, Lang.ZH)
        assertEquals("正在同步…", running.headline)
        assertFalse(running.canSyncNow, "one sync at a time")

        val refused = presentSync(idle.copy(refused = 1), null, now, Lang.EN)
        assertEquals("Needs attention", refused.headline)
        assertTrue(refused.lines.any { it.contains("kept on the phone") })

        val unavailable = presentSync(idle, "no server configured", now, Lang.EN)
        assertFalse(unavailable.canSyncNow)
        assertTrue(unavailable.attention)
        assertEquals("Sync unavailable: no server configured", unavailable.lines.last())
    }

    @Test
    fun `a Sync now ends with what happened, in either language`() {
        val synced = SyncOutcome.Synced(idle, PackUpdate(training = 2L))
        assertEquals("Synced", syncOutcomeMessage(synced, Lang.EN), "what the packs brought is in the screen's lines")
        assertEquals("同步完成", syncOutcomeMessage(synced, Lang.ZH))
        val failed = SyncOutcome.Failed("server unreachable", retryable = true)
        assertEquals("Sync failed: server unreachable", syncOutcomeMessage(failed, Lang.EN))
        assertEquals("同步失败：server unreachable", syncOutcomeMessage(failed, Lang.ZH))
        val unavailable = SyncOutcome.Unavailable("no server configured")
        assertEquals("Sync unavailable: no server configured", syncOutcomeMessage(unavailable, Lang.EN))
        assertEquals("无法同步：尚未设置同步服务器", syncOutcomeMessage(unavailable, Lang.ZH))
    }

    @Test
    fun `the sync screen says what the last pack fetch brought`() {
        val now = Instant.parse("2026-12-02T03:00:00Z")
        val synced = idle.copy(lastSuccess = now.minusSeconds(60))
        assertEquals(emptyList<String>(), presentPackUpdate(PackUpdate(), Lang.EN), "nothing changed: no line")
        assertEquals(presentSync(synced, null, now, Lang.EN), presentSync(synced, null, now, Lang.EN, PackUpdate()))

        val update = PackUpdate(stations = 3L, training = 2L, imagesFetched = 2, imagesMissing = 1, imageProblems = listOf("the server has no training image ab12"))
        val en = presentSync(synced, null, now, Lang.EN, update)
        assertEquals(
            listOf(
                "Last synced 1 min ago",
                "Station directory updated to version 3",
                "Training updated to version 2",
                "2 lesson images downloaded",
                "1 lesson image still missing (the next sync tries again): the server has no training image ab12",
            ),
            en.lines,
        )
        assertFalse(en.attention, "lessons open without a missing image")
        assertEquals(
            listOf("站点目录已更新到第 3 版", "培训内容已更新到第 2 版", "已下载 2 张课程图片", "仍缺 1 张课程图片（下次同步再试）：the server has no training image ab12"),
            presentPackUpdate(update, Lang.ZH),
        )
        assertEquals(listOf("3 lesson images still missing (the next sync tries again)"), presentPackUpdate(PackUpdate(imagesMissing = 3), Lang.EN))
    }
}
