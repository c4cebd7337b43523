package org.waystation

import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import org.waystation.core.SyncObserver
import org.waystation.core.SyncStatus

/**
 * The sync status as a cold [Flow]: the current status when collection starts, then every
 * change (a sync starts, makes progress, ends; a refusal is dismissed).
 *
 * Each collector holds its own [org.waystation.core.Subscription], so several screens may
 * collect at once; it is closed when the collector stops (its scope is cancelled, or `first`,
 * `take` end it). The core calls the observer on the syncing thread; the flow hands the status
 * to the collector's dispatcher. A slow collector sees the newest status, not every step
 * (statuses are whole snapshots, so nothing is lost by skipping one).
 *
 * ```
 * lifecycleScope.launch {
 *     ws.sync().statusFlow().collect { status -> render(status) }
 * }
 * ```
 */
fun SyncClient.statusFlow(): Flow<SyncStatus> = callbackFlow {
    val subscription = subscribe(object : SyncObserver {
        override fun syncStatusChanged(status: SyncStatus) {
            trySend(status)
        }
    })
    // Subscribed first, so that no change between the two is missed.
    trySend(status())
    awaitClose { subscription.close() }
}.buffer(Channel.CONFLATED)
