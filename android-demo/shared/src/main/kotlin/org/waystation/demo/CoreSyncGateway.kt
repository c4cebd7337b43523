package org.waystation.demo

import java.util.concurrent.CopyOnWriteArrayList
import uniffi.waystation_ffi.SyncConfig
import uniffi.waystation_ffi.SyncObserver
import uniffi.waystation_ffi.SyncStatus
import uniffi.waystation_ffi.WaystationException
import uniffi.waystation_ffi.WaystationInterface

/** Where and as whom to sync: the server's URL and the token an administrator issued. */
data class SyncAccount(val server: String, val token: String) {
    init {
        require(server.startsWith("https://") || server.startsWith("http://")) { "the server must be an http(s) URL" }
        require(token.isNotBlank()) { "the token is empty" }
    }

    /** The core's config: 30 s per request and 4 tries with backoff (the core's defaults). */
    fun toConfig(): SyncConfig = SyncConfig(server = server.trimEnd('/'), token = token, timeoutMs = 0u, attempts = 0u, extraRootPem = null)
}

/**
 * The [SyncGateway] on the core's sync: `syncNow` (a suspend function in the bindings),
 * `syncStatus`, and a [SyncObserver] the core calls on its syncing thread. [account] is read
 * at each sync, so a changed server or token applies to the next one; null means "not set up".
 */
class CoreSyncGateway(
    private val core: WaystationInterface,
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

    init {
        core.setSyncObserver(observer)
    }

    override fun unavailableReason(): String? = if (account() == null) "no sync server is set up" else null

    override fun status(): SyncSnapshot = core.syncStatus().toSnapshot()

    override suspend fun syncNow(): SyncOutcome {
        val config = account()?.toConfig() ?: return SyncOutcome.Unavailable("no sync server is set up")
        return try {
            val report = core.syncNow(config)
            if (report.complete) {
                SyncOutcome.Synced(status())
            } else {
                // Stopped with work left (the next sync carries on): retry soon.
                SyncOutcome.Failed("the sync stopped with work left", retryable = true)
            }
        } catch (e: WaystationException.Network) {
            SyncOutcome.Failed(e.reason, retryable = true)
        } catch (e: WaystationException.Server) {
            SyncOutcome.Failed(e.reason, retryable = true)
        } catch (e: WaystationException.Unauthorized) {
            // Retrying with the same token cannot help: the rider must sign in again.
            SyncOutcome.Failed(e.reason, retryable = false)
        } catch (e: WaystationException.Storage) {
            SyncOutcome.Failed(e.reason, retryable = true)
        } catch (e: WaystationException) {
            SyncOutcome.Failed(e.message ?: e.javaClass.simpleName, retryable = false)
        }
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

    /** Unregisters the observer from the core. */
    override fun close() {
        core.setSyncObserver(null)
        listeners.clear()
    }
}

/** The core's status in the demo's terms. */
fun SyncStatus.toSnapshot(): SyncSnapshot = SyncSnapshot(
    pendingDocuments = pendingDocuments.toInt(),
    pendingPhotos = pendingPhotos.toInt(),
    lastSuccess = lastSuccess,
    lastError = lastError,
    inProgress = inProgress,
    refused = refusedDocuments.toInt(),
)
