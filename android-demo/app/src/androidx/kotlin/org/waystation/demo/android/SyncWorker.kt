package org.waystation.demo.android

import android.app.Application
import android.content.Context
import androidx.work.BackoffPolicy
import androidx.work.Constraints
import androidx.work.CoroutineWorker
import androidx.work.ExistingPeriodicWorkPolicy
import androidx.work.ExistingWorkPolicy
import androidx.work.NetworkType
import androidx.work.OneTimeWorkRequestBuilder
import androidx.work.PeriodicWorkRequestBuilder
import androidx.work.WorkManager
import androidx.work.WorkerParameters
import org.waystation.demo.BackgroundSyncScheduler
import org.waystation.demo.BackoffKind
import org.waystation.demo.ExistingWork
import org.waystation.demo.NetworkRequirement
import org.waystation.demo.SyncPlan
import org.waystation.demo.SyncSchedule
import org.waystation.demo.SyncWork
import org.waystation.demo.WorkerDecision

/*
 * Background sync through WorkManager. Every rule (when, which network, battery, backoff,
 * what a result means) is decided by org.waystation.demo.SyncPolicy in the shared module,
 * which is unit-tested in CI; this file only translates its plain data to WorkManager.
 *
 * In src/androidx: WorkManager lives in Google's Maven repository, which CI cannot reach, so
 * this file is compiled only by the Gradle build, not in CI.
 */

/** One background sync run. WorkManager calls it when the constraints hold. */
class SyncWorker(context: Context, params: WorkerParameters) : CoroutineWorker(context, params) {
    override suspend fun doWork(): Result {
        // WorkManager may start a worker before Application.onCreate has finished; init is
        // idempotent and synchronized, so the graph is ready either way.
        val app = applicationContext as Application
        val graph = AppGraph.init(app, WorkManagerScheduler(app))
        return when (graph.coordinator.runInBackground(runAttemptCount)) {
            WorkerDecision.SUCCESS -> Result.success()
            WorkerDecision.RETRY -> Result.retry()
            WorkerDecision.FAILURE -> Result.failure()
        }
    }
}

/** Applies a [SyncPlan] to WorkManager: unique jobs by name, enqueued or cancelled. */
class WorkManagerScheduler(context: Context) : BackgroundSyncScheduler {
    private val workManager = WorkManager.getInstance(context.applicationContext)

    override fun apply(plan: SyncPlan) {
        plan.cancel.forEach { workManager.cancelUniqueWork(it) }
        plan.enqueue.forEach(::enqueue)
    }

    private fun enqueue(work: SyncWork) {
        val constraints = Constraints.Builder()
            .setRequiredNetworkType(
                when (work.constraints.network) {
                    NetworkRequirement.CONNECTED -> NetworkType.CONNECTED
                    NetworkRequirement.UNMETERED -> NetworkType.UNMETERED
                },
            )
            .setRequiresBatteryNotLow(work.constraints.batteryNotLow)
            .build()
        val backoff = when (work.backoff.kind) {
            BackoffKind.EXPONENTIAL -> BackoffPolicy.EXPONENTIAL
            BackoffKind.LINEAR -> BackoffPolicy.LINEAR
        }
        when (val schedule = work.schedule) {
            is SyncSchedule.OneTime -> {
                val request = OneTimeWorkRequestBuilder<SyncWorker>()
                    .setConstraints(constraints)
                    .setInitialDelay(schedule.initialDelay)
                    .setBackoffCriteria(backoff, work.backoff.initial)
                    .build()
                val policy = when (work.existing) {
                    ExistingWork.KEEP -> ExistingWorkPolicy.KEEP
                    ExistingWork.REPLACE, ExistingWork.UPDATE -> ExistingWorkPolicy.REPLACE
                }
                workManager.enqueueUniqueWork(work.uniqueName, policy, request)
            }
            is SyncSchedule.Periodic -> {
                val request = PeriodicWorkRequestBuilder<SyncWorker>(schedule.interval, schedule.flex)
                    .setConstraints(constraints)
                    .setBackoffCriteria(backoff, work.backoff.initial)
                    .build()
                val policy = when (work.existing) {
                    ExistingWork.KEEP -> ExistingPeriodicWorkPolicy.KEEP
                    ExistingWork.UPDATE -> ExistingPeriodicWorkPolicy.UPDATE
                    ExistingWork.REPLACE -> ExistingPeriodicWorkPolicy.CANCEL_AND_REENQUEUE
                }
                workManager.enqueueUniquePeriodicWork(work.uniqueName, policy, request)
            }
        }
    }
}
