package org.waystation.demo.android

import org.waystation.demo.OutboxOnlySyncGateway
import org.waystation.demo.SyncGateway
import uniffi.waystation_ffi.Waystation

/** Chooses the app's [SyncGateway]. */
object SyncGateways {
    /**
     * The core's bindings have no sync API yet (issue 4 adds it): until then the sync screen
     * and the scheduling run on [OutboxOnlySyncGateway], which shows what waits in the local
     * outbox and sends nothing.
     */
    fun create(core: Waystation, user: String): SyncGateway = OutboxOnlySyncGateway(core, user)
}
