package org.waystation.demo

import java.time.Instant
import java.util.concurrent.atomic.AtomicInteger
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.waystation.*
import org.waystation.core.*

/**
 * The coordinator with the real core underneath: the status comes from the real outbox.
 * [LoopbackGateway] stands in for a server that accepts everything (it records each pending
 * report as delivered, as the core's sync does on an acknowledgement) until the core's own
 * sync is in the bindings.
 */
class SyncCoordinatorTest : CoreTest() {
    private class RecordingScheduler : BackgroundSyncScheduler {
        val plans = mutableListOf<SyncPlan>()
        override fun apply(plan: SyncPlan) {
            plans += plan
        }
    }

    /** Accepts everything: marks each waiting report as sent. Counts overlapping runs. */
    private class LoopbackGateway(private val core: Waystation, private val outbox: OutboxOnlySyncGateway) : SyncGateway {
        val running = AtomicInteger()
        val maxOverlap = AtomicInteger()
        val runs = AtomicInteger()
        var failWith: SyncOutcome.Failed? = null
        private var lastSuccess: Instant? = null

        override fun unavailableReason(): String? = null
        override fun status(): SyncSnapshot = outbox.status().copy(lastSuccess = lastSuccess)
        override fun observe(listener: (SyncSnapshot) -> Unit): AutoCloseable = outbox.observe(listener)

        override suspend fun syncNow(): SyncOutcome {
            maxOverlap.accumulateAndGet(running.incrementAndGet(), ::maxOf)
            try {
                runs.incrementAndGet()
                delay(20)
                failWith?.let { return it }
                for (s in core.reports().summaries(Fixtures.RIDER, ReportStatus.SUBMITTED)) {
                    if (core.reports().get(s.id).outbox == OutboxState.Pending) core.reports().recordDelivery(s.id, OutboxState.Sent(Instant.now()))
                }
                lastSuccess = Instant.now()
                return SyncOutcome.Synced(status())
            } finally {
                running.decrementAndGet()
            }
        }
    }

    @Test
    fun `the outbox-only gateway counts what waits in the real outbox and never pretends to send`() = runBlocking {
        val core = core()
        val gateway = OutboxOnlySyncGateway(core, Fixtures.RIDER)
        assertEquals(0, gateway.status().pending)
        val seen = mutableListOf<SyncSnapshot>()
        val handle = gateway.observe { seen += it }
        val id = Fixtures.submitWithPhoto(core)
        // The coordinator tells the observers after a local change.
        SyncCoordinator(gateway, RecordingScheduler()) { SyncPreferences() }.onLocalChange()
        assertEquals(SyncSnapshot(1, 1, null, null, false), gateway.status())
        assertEquals(listOf(gateway.status()), seen)
        handle.close()
        gateway.notifyChanged()
        assertEquals(1, seen.size, "a closed observer hears nothing")

        assertInstanceOf(SyncOutcome.Unavailable::class.java, gateway.syncNow())
        assertEquals(OutboxState.Pending, core.reports().get(id).outbox, "nothing was marked sent")
        core.reports().recordDelivery(id, OutboxState.Refused("too large", Instant.now()))
        assertEquals(SyncSnapshot(0, 0, null, null, false, refused = 1), gateway.status())

        // Without sync there is nothing to schedule.
        val scheduler = RecordingScheduler()
        SyncCoordinator(gateway, scheduler) { SyncPreferences() }.onAppStart()
        assertTrue(scheduler.plans.single().enqueue.isEmpty())
    }

    @Test
    fun `a submitted report schedules an upload, and a successful sync empties the outbox and the schedule`() = runBlocking {
        val core = core()
        val gateway = LoopbackGateway(core, OutboxOnlySyncGateway(core, Fixtures.RIDER))
        val scheduler = RecordingScheduler()
        var prefs = SyncPreferences()
        val coordinator = SyncCoordinator(gateway, scheduler) { prefs }

        coordinator.onAppStart()
        assertEquals(listOf(SyncPolicy.PERIODIC_WORK), scheduler.plans.last().enqueue.map { it.uniqueName })

        val id = Fixtures.submitWithPhoto(core)
        coordinator.onLocalChange()
        val upload = scheduler.plans.last().enqueue.single { it.uniqueName == SyncPolicy.UPLOAD_WORK }
        assertEquals(NetworkRequirement.CONNECTED, upload.constraints.network)

        val outcome = coordinator.syncNow()
        assertInstanceOf(SyncOutcome.Synced::class.java, outcome)
        assertTrue(core.reports().get(id).outbox is OutboxState.Sent)
        assertEquals(0, gateway.status().pending)
        assertEquals(listOf(SyncPolicy.UPLOAD_WORK), scheduler.plans.last().cancel, "nothing left to upload")
        assertEquals("Nothing waiting to be sent", presentSync(gateway.status(), null, Instant.now(), Lang.EN).headline)

        prefs = prefs.copy(backgroundSync = false)
        coordinator.onPreferencesChanged()
        assertTrue(scheduler.plans.last().enqueue.isEmpty())
    }

    @Test
    fun `background runs retry a failing server, and stop on a refused token`() = runBlocking {
        val core = core()
        val gateway = LoopbackGateway(core, OutboxOnlySyncGateway(core, Fixtures.RIDER))
        val coordinator = SyncCoordinator(gateway, RecordingScheduler()) { SyncPreferences() }
        val id = Fixtures.submitWithPhoto(core)

        gateway.failWith = SyncOutcome.Failed("server unreachable", retryable = true)
        assertEquals(WorkerDecision.RETRY, coordinator.runInBackground(runAttemptCount = 0))
        assertEquals(OutboxState.Pending, core.reports().get(id).outbox, "a failed sync keeps the report waiting")
        gateway.failWith = SyncOutcome.Failed("token refused", retryable = false)
        assertEquals(WorkerDecision.FAILURE, coordinator.runInBackground(runAttemptCount = 1))
        gateway.failWith = null
        assertEquals(WorkerDecision.SUCCESS, coordinator.runInBackground(runAttemptCount = 2))
        assertTrue(core.reports().get(id).outbox is OutboxState.Sent)
    }

    @Test
    fun `the button and the worker never run two syncs at once`() = runBlocking {
        val core = core()
        val gateway = LoopbackGateway(core, OutboxOnlySyncGateway(core, Fixtures.RIDER))
        val coordinator = SyncCoordinator(gateway, RecordingScheduler()) { SyncPreferences() }
        Fixtures.submitWithPhoto(core)
        (1..4).map { i ->
            async(Dispatchers.Default) { if (i % 2 == 0) coordinator.syncNow() else coordinator.runInBackground(0) }
        }.awaitAll()
        assertEquals(4, gateway.runs.get())
        assertEquals(1, gateway.maxOverlap.get())
    }
}
