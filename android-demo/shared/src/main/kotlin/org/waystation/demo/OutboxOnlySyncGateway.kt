package org.waystation.demo

import java.util.concurrent.CopyOnWriteArrayList
import org.waystation.*
import org.waystation.core.*

/**
 * A [SyncGateway] for a core without sync: the status counts what waits in the local outbox
 * (submitted reports not yet acknowledged by a server, photos of those reports, refusals), and
 * [syncNow] answers [SyncOutcome.Unavailable]. It lets the sync screen and the scheduling run
 * on real data before (or without) the core's sync; it sends nothing.
 */
class OutboxOnlySyncGateway(
    private val core: WaystationInterface,
    private val author: String,
    private val reason: String = "this build of the Waystation core has no sync",
) : SyncGateway {
    private val listeners = CopyOnWriteArrayList<(SyncSnapshot) -> Unit>()

    override fun unavailableReason(): String = reason

    override fun status(): SyncSnapshot {
        var pendingReports = 0
        var pendingPhotos = 0
        var refused = 0
        for (summary in core.reports().summaries(author, ReportStatus.SUBMITTED)) {
            val report = core.reports().get(summary.id)
            when (report.outbox) {
                null, OutboxState.Pending -> {
                    pendingReports++
                    pendingPhotos += report.photos.size
                }
                is OutboxState.Refused -> refused++
                is OutboxState.Sent -> {}
            }
        }
        return SyncSnapshot(
            pendingDocuments = pendingReports,
            pendingPhotos = pendingPhotos,
            lastSuccess = null,
            lastError = null,
            inProgress = false,
            refused = refused,
        )
    }

    override suspend fun syncNow(): SyncOutcome = SyncOutcome.Unavailable(reason)

    override fun observe(listener: (SyncSnapshot) -> Unit): AutoCloseable {
        listeners += listener
        return AutoCloseable { listeners -= listener }
    }

    override fun refresh() = notifyChanged()

    /** Tells observers the status changed (call after a local change: the core has no observer here). */
    fun notifyChanged() {
        if (listeners.isEmpty()) return
        val snapshot = status()
        listeners.forEach { it(snapshot) }
    }
}
