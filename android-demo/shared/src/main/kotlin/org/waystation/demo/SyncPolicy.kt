package org.waystation.demo

import java.time.Duration

/**
 * When background sync runs, expressed as plain data that maps one to one onto Android's
 * WorkManager (`Constraints`, `BackoffPolicy`, `ExistingWorkPolicy`) and onto iOS's
 * BGTaskScheduler (a `BGProcessingTaskRequest` with `requiresNetworkConnectivity`), so the
 * rules are tested here and the platform code only translates them.
 *
 * The rules, and why:
 * - Sync goes through the OS scheduler, never a loop in the app: continuous replication
 *   drains batteries and is killed by the OS.
 * - Something waiting to be sent is sent as soon as there is a network: a one-time job with
 *   a network constraint runs the moment the signal comes back (the most common complaint
 *   about field-reporting apps is that nothing was sent when it did).
 * - A periodic job fetches what others did (case follow-up, new packs) every
 *   [periodicInterval], on a network, and not when the battery is low.
 * - Failures retry with exponential backoff from [backoffInitial] (the OS caps it at 5 h); a
 *   failure that retrying cannot fix (a refused token) stops and waits for the rider.
 * - The rider can turn background sync off, or keep it to Wi-Fi (metered data plans); the
 *   "Sync now" button works either way.
 */
class SyncPolicy(
    val periodicInterval: Duration = Duration.ofHours(1),
    /** WorkManager runs a periodic job somewhere in the last [periodicFlex] of each interval. */
    val periodicFlex: Duration = Duration.ofMinutes(20),
    /** Several quick changes (submit, then a case note) are sent together after this delay. */
    val localChangeDelay: Duration = Duration.ofSeconds(10),
    val backoffInitial: Duration = Duration.ofSeconds(30),
    /** After this many failed runs in a row the one-time job gives up until the next change. */
    val maxAttempts: Int = 10,
) {
    init {
        // WorkManager's own limits: a shorter periodic interval or backoff is silently raised.
        require(periodicInterval >= MIN_PERIODIC_INTERVAL) { "periodic interval below 15 min" }
        require(periodicFlex >= MIN_PERIODIC_FLEX && periodicFlex <= periodicInterval) { "flex must be 5 min..interval" }
        require(backoffInitial >= MIN_BACKOFF && backoffInitial <= MAX_BACKOFF) { "backoff must be 10 s..5 h" }
        require(maxAttempts >= 1)
    }

    /** What to schedule and cancel after [trigger], given the status and the preferences. */
    fun plan(trigger: SyncTrigger, status: SyncSnapshot, prefs: SyncPreferences, canSync: Boolean): SyncPlan {
        if (!prefs.backgroundSync || !canSync) {
            return SyncPlan(enqueue = emptyList(), cancel = listOf(PERIODIC_WORK, UPLOAD_WORK))
        }
        val constraints = SyncConstraints(
            network = if (prefs.wifiOnly) NetworkRequirement.UNMETERED else NetworkRequirement.CONNECTED,
            batteryNotLow = true,
        )
        val backoff = BackoffSpec(BackoffKind.EXPONENTIAL, backoffInitial)
        val periodic = SyncWork(
            uniqueName = PERIODIC_WORK,
            schedule = SyncSchedule.Periodic(periodicInterval, periodicFlex),
            constraints = constraints,
            backoff = backoff,
            // KEEP leaves a running schedule alone at each start; UPDATE carries new
            // constraints over without resetting the period.
            existing = if (trigger == SyncTrigger.PREFERENCES_CHANGED) ExistingWork.UPDATE else ExistingWork.KEEP,
        )
        val uploadNeeded = trigger == SyncTrigger.LOCAL_CHANGE || status.pending > 0
        val enqueue = buildList {
            add(periodic)
            if (uploadNeeded) {
                add(
                    SyncWork(
                        uniqueName = UPLOAD_WORK,
                        schedule = SyncSchedule.OneTime(
                            initialDelay = if (trigger == SyncTrigger.LOCAL_CHANGE) localChangeDelay else Duration.ZERO,
                        ),
                        constraints = constraints,
                        backoff = backoff,
                        // KEEP: a job already waiting (for a network, or in backoff) sends
                        // everything pending when it runs; replacing it would reset its backoff
                        // and hammer a server that is down.
                        existing = if (trigger == SyncTrigger.PREFERENCES_CHANGED) ExistingWork.REPLACE else ExistingWork.KEEP,
                    ),
                )
            }
        }
        val cancel = if (uploadNeeded || status.inProgress) emptyList() else listOf(UPLOAD_WORK)
        return SyncPlan(enqueue, cancel)
    }

    /** What a background run tells the OS scheduler. [runAttemptCount] is 0 on the first run. */
    fun workerDecision(outcome: SyncOutcome, runAttemptCount: Int): WorkerDecision = when (outcome) {
        is SyncOutcome.Synced -> WorkerDecision.SUCCESS
        is SyncOutcome.Failed -> when {
            !outcome.retryable -> WorkerDecision.FAILURE
            runAttemptCount + 1 >= maxAttempts -> WorkerDecision.FAILURE
            else -> WorkerDecision.RETRY
        }
        // Nothing to retry: the sync screen says why, and a change of settings reschedules.
        is SyncOutcome.Unavailable -> WorkerDecision.FAILURE
    }

    /**
     * How long WorkManager waits before run [runAttemptCount] + 1 after a RETRY: its
     * exponential formula, `initial × 2^(runAttemptCount − 1)`, capped at 5 h. Shown on the
     * sync screen as "next try in about …".
     */
    fun retryDelay(runAttemptCount: Int): Duration {
        require(runAttemptCount >= 1) { "a retry follows at least one run" }
        val shift = (runAttemptCount - 1).coerceAtMost(30)
        val millis = backoffInitial.toMillis().toDouble() * (1L shl shift).toDouble()
        return if (millis >= MAX_BACKOFF.toMillis()) MAX_BACKOFF else Duration.ofMillis(millis.toLong())
    }

    companion object {
        /** Unique name of the periodic job. */
        const val PERIODIC_WORK = "waystation-sync-periodic"

        /** Unique name of the one-time job that sends what waits. */
        const val UPLOAD_WORK = "waystation-sync-upload"

        val MIN_PERIODIC_INTERVAL: Duration = Duration.ofMinutes(15)
        val MIN_PERIODIC_FLEX: Duration = Duration.ofMinutes(5)
        val MIN_BACKOFF: Duration = Duration.ofSeconds(10)
        val MAX_BACKOFF: Duration = Duration.ofHours(5)
    }
}

/** What caused the schedule to be computed again. */
enum class SyncTrigger { APP_START, LOCAL_CHANGE, PREFERENCES_CHANGED, SYNC_FINISHED }

/** The rider's choices on the sync screen. */
data class SyncPreferences(
    /** Sync through the OS scheduler when the app is closed. */
    val backgroundSync: Boolean = true,
    /** Only on unmetered networks (Wi-Fi), for riders on a small data plan. */
    val wifiOnly: Boolean = false,
)

enum class NetworkRequirement { CONNECTED, UNMETERED }

/** WorkManager `Constraints`; on iOS only the network requirement applies. */
data class SyncConstraints(val network: NetworkRequirement, val batteryNotLow: Boolean)

enum class BackoffKind { EXPONENTIAL, LINEAR }

/** WorkManager `setBackoffCriteria(kind, initial)`. */
data class BackoffSpec(val kind: BackoffKind, val initial: Duration)

/** WorkManager `ExistingWorkPolicy` / `ExistingPeriodicWorkPolicy`. */
enum class ExistingWork { KEEP, REPLACE, UPDATE }

sealed class SyncSchedule {
    data class OneTime(val initialDelay: Duration) : SyncSchedule()

    data class Periodic(val interval: Duration, val flex: Duration) : SyncSchedule()
}

/** One unique background job. */
data class SyncWork(
    val uniqueName: String,
    val schedule: SyncSchedule,
    val constraints: SyncConstraints,
    val backoff: BackoffSpec,
    val existing: ExistingWork,
)

/** Jobs to enqueue (by unique name) and jobs to cancel. */
data class SyncPlan(val enqueue: List<SyncWork>, val cancel: List<String>)

/** A background run's result for the OS scheduler (WorkManager `Result`). */
enum class WorkerDecision { SUCCESS, RETRY, FAILURE }

/** Applies a [SyncPlan] to the platform's scheduler (WorkManager on Android). */
fun interface BackgroundSyncScheduler {
    fun apply(plan: SyncPlan)
}
