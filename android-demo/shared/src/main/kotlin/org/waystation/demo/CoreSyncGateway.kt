package org.waystation.demo

import java.util.concurrent.CopyOnWriteArrayList
import org.waystation.*
import org.waystation.core.*

/** Where and as whom to sync: the server's URL and the token an administrator issued. */
data class SyncAccount(val server: String, val token: String) {
    init {
        require(server.startsWith("https://") || server.startsWith("http://")) { "the server must be an http(s) URL" }
        require(token.isNotBlank()) { "the token is empty" }
    }

    /**
     * The core's sync options: 30 s per request and 4 tries with backoff (the core's defaults
     * when none is given); plain `http://` only to this device (loopback), as the core allows.
     */
    fun toOptions(): SyncOptions = SyncOptions(server = server.trimEnd('/'), token = token)
}

/**
 * The [SyncGateway] on the core's sync: `sync().run` then `packs().fetch` (suspend functions in
 * the bindings), `sync().status()`, and a [SyncObserver] subscribed to the core, which calls it
 * on its syncing thread. [account] is read at each sync, so a changed server or token applies to
 * the next one; null means "not set up". [pending] is the list of this phone's case events not
 * sent yet: a complete sync forgets the ones it delivered ([PendingActions.delivered]).
 */
class CoreSyncGateway(
    private val core: WaystationInterface,
    private val pending: PendingActions? = null,
    private val account: () -> SyncAccount?,
) : SyncGateway, AutoCloseable {
    private val listeners = CopyOnWriteArrayList<(SyncSnapshot) -> Unit>()

    /** Kept in a field: the core holds only a handle to it. */
    private val observer = object : SyncObserver {
        override fun syncStatusChanged(status: SyncStatus) {
            val snapshot = status.toSnapshot()
            listeners.forEach { it(snapshot) }
        }
    }

    /** The core's subscription; closing it unsubscribes. */
    private val subscription = core.sync().subscribe(observer)

    override fun unavailableReason(): String? = if (account() == null) "no sync server is set up" else null

    override fun status(): SyncSnapshot = core.sync().status().toSnapshot()

    /**
     * The reports first (they matter most), then, once they are all exchanged, newer station
     * and training packs and the lesson images the phone lacks. The pack requests are
     * conditional (ETag): when nothing changed they are two small 304s.
     */
    override suspend fun syncNow(): SyncOutcome {
        val options = account()?.toOptions() ?: return SyncOutcome.Unavailable("no sync server is set up")
        // The case events noted before the sync starts are the ones it can deliver.
        val before = pending?.snapshot().orEmpty()
        val report = try {
            core.sync().run(options)
        } catch (e: WaystationException) {
            return failure(e)
        }
        // Stopped with work left (the next sync carries on): retry soon.
        if (!report.complete) return SyncOutcome.Failed("the sync stopped with work left", retryable = true)
        if (pending != null && before.isNotEmpty()) {
            val refused = core.sync().refusals().map { it.docId }.filter { it.startsWith(CASE_PREFIX) }.map { it.removePrefix(CASE_PREFIX) }
            pending.delivered(before, refused.toSet())
        }
        return try {
            SyncOutcome.Synced(status(), core.packs().fetch(options).toUpdate())
        } catch (e: WaystationException) {
            // The reports went; say so, since the outcome is a failure.
            failure(e, prefix = "the reports were sent, but fetching the packs failed: ")
        }
    }

    private fun failure(e: WaystationException, prefix: String = ""): SyncOutcome.Failed = when (e) {
        is WaystationException.Network -> SyncOutcome.Failed(prefix + e.reason, retryable = true)
        // The server says whether trying again can help (busy, down) or not (a bad request).
        is WaystationException.Server -> SyncOutcome.Failed(prefix + e.reason, retryable = e.retryable)
        // Stopped (the worker was stopped, the screen closed): the next run carries on.
        is WaystationException.Cancelled -> SyncOutcome.Failed(prefix + "the sync was cancelled", retryable = true)
        // Retrying with the same token cannot help: the rider must sign in again.
        is WaystationException.Unauthorized -> SyncOutcome.Failed(prefix + e.reason, retryable = false)
        is WaystationException.Storage -> SyncOutcome.Failed(prefix + e.reason, retryable = true)
        // A pack whose signature or content the phone refuses; the installed one stays. The
        // same pack would be refused again: the publisher must fix it.
        is WaystationException.PackRejected ->
            SyncOutcome.Failed(prefix + "the server's pack was refused (the installed one stays): " + e.reason, retryable = false)
        else -> SyncOutcome.Failed(prefix + (e.message ?: e.javaClass.simpleName), retryable = false)
    }

    override fun observe(listener: (SyncSnapshot) -> Unit): AutoCloseable {
        listeners += listener
        return AutoCloseable { listeners -= listener }
    }

    /** The core tells observers itself; a local change is in the next status read. */
    override fun refresh() {
        if (listeners.isEmpty()) return
        val snapshot = status()
        listeners.forEach { it(snapshot) }
    }

    /** Unsubscribes the observer from the core. */
    override fun close() {
        subscription.close()
        listeners.clear()
    }

    private companion object {
        /** A case document's id is `case:<report id>`. */
        const val CASE_PREFIX = "case:"
    }
}

/**
 * What the fetch brought, in the demo's terms. The core names a pack version only when the
 * fetch installed it (not when the server's pack is the one installed already).
 */
fun PackFetch.toUpdate(): PackUpdate = PackUpdate(
    stations = stations,
    training = training,
    imagesFetched = trainingImagesFetched.toInt(),
    imagesMissing = trainingImageProblems.size,
    imageProblems = trainingImageProblems,
)

/** The core's status in the demo's terms. */
fun SyncStatus.toSnapshot(): SyncSnapshot = SyncSnapshot(
    pendingDocuments = pendingDocuments.toInt(),
    pendingPhotos = pendingPhotos.toInt(),
    lastSuccess = lastSuccess,
    lastError = lastError,
    inProgress = inProgress,
    refused = refusedDocuments.toInt(),
)
