package org.waystation.demo.android

import android.app.Application

/**
 * The application class: opens the core once and wires background sync to WorkManager.
 *
 * In src/androidx because WorkManagerScheduler needs AndroidX, which CI cannot fetch (Google's
 * Maven repository): this file is compiled only by the Gradle build, not in CI.
 */
class WaystationDemoApp : Application() {
    override fun onCreate() {
        super.onCreate()
        val graph = AppGraph.init(this, WorkManagerScheduler(this))
        // The schedule depends on the outbox, read from the database: not on the main thread.
        Thread({ graph.coordinator.onAppStart() }, "waystation-sync-schedule").start()
    }
}
