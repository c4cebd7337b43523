package org.waystation.demo

import java.time.Instant
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock

/**
 * Sync as the demo sees it: a [SyncGateway] (status, sync now, observe) that the sync screen,
 * the background worker and the scheduling policy use, whatever implements it underneath.
 * `CoreSyncGateway` implements it on the core's sync API when the bindings have one;
 * [OutboxOnlySyncGateway] reports the local outbox when they do not.
 */

/** What the sync screen shows: the core's sync status, in the demo's own terms. */
data class SyncSnapshot(
    /** Documents (reports, cases, progress) with changes the server has not acknowledged. */
    val pendingDocuments: Int,
    /** Photos not uploaded yet. */
    val pendingPhotos: Int,
    /** When a sync last finished without error. */
    val lastSuccess: Instant?,
    /** Why the last sync failed, if it did (no personal data). */
    val lastError: String?,
    /** True while a sync runs. */
    val inProgress: Boolean,
    /** Documents the server refused, each kept on the phone and shown with its reason. */
    val refused: Int = 0,
) {
    val pending: Int get() = pendingDocuments + pendingPhotos
}

/**
 * What a sync's pack fetch (the core's `fetchPacks`, after the reports) brought: the pack
 * versions newly installed and the lesson images downloaded. All empty when nothing changed.
 */
data class PackUpdate(
    /** The station directory's version, when a newer one was installed. */
    val stations: Long? = null,
    /** The training pack's version, when a newer one was installed. */
    val training: Long? = null,
    /** Lesson images downloaded and stored. */
    val imagesFetched: Int = 0,
    /** Lesson images still missing; the next sync asks for them again. */
    val imagesMissing: Int = 0,
    /** Why each missing image could not be stored (the core's words, in English). */
    val imageProblems: List<String> = emptyList(),
)

/** How one sync ended. */
sealed class SyncOutcome {
    /** Everything pending was exchanged, then the packs fetched; [packs] says what they brought. */
    data class Synced(val snapshot: SyncSnapshot, val packs: PackUpdate = PackUpdate()) : SyncOutcome()

    /** It failed; [retryable] is false when trying again cannot help (a refused token or pack). */
    data class Failed(val reason: String, val retryable: Boolean) : SyncOutcome()

    /** This build or configuration cannot sync at all (no server set up, no sync in the core). */
    data class Unavailable(val reason: String) : SyncOutcome()
}

/** The core's sync, as the demo uses it. */
interface SyncGateway {
    /** Null when sync can run; otherwise why it cannot (shown on the sync screen). Cheap: no I/O. */
    fun unavailableReason(): String?

    /** The current status, from the local database (no network). */
    fun status(): SyncSnapshot

    /** Runs one sync now. Safe to call again after any failure: a replay never duplicates. */
    suspend fun syncNow(): SyncOutcome

    /** Calls [listener] with each new status until the returned handle is closed. */
    fun observe(listener: (SyncSnapshot) -> Unit): AutoCloseable

    /**
     * Called after a local change (a submitted report…). An implementation whose core has no
     * observer of its own re-reads the status and tells the observers.
     */
    fun refresh() {}
}

/** What the sync screen shows. */
data class SyncScreen(
    val headline: String,
    val lines: List<String>,
    val canSyncNow: Boolean,
    /** True when something is wrong and the rider should look. */
    val attention: Boolean,
)

/**
 * The sync screen's lines for what the last sync's pack fetch brought: new pack versions,
 * lesson images downloaded and still missing (with the first reason). None when nothing changed.
 */
fun presentPackUpdate(update: PackUpdate, lang: Lang): List<String> {
    val zh = lang == Lang.ZH
    return buildList {
        update.stations?.let { add(if (zh) "站点目录已更新到第 $it 版" else "Station directory updated to version $it") }
        update.training?.let { add(if (zh) "培训内容已更新到第 $it 版" else "Training updated to version $it") }
        val fetched = update.imagesFetched
        if (fetched > 0) {
            add(if (zh) "已下载 $fetched 张课程图片" else "$fetched lesson ${if (fetched == 1) "image" else "images"} downloaded")
        }
        val missing = update.imagesMissing
        if (missing > 0) {
            val why = update.imageProblems.firstOrNull()?.let { if (zh) "：$it" else ": $it" }.orEmpty()
            add(
                if (zh) "仍缺 $missing 张课程图片（下次同步再试）$why"
                else "$missing lesson ${if (missing == 1) "image" else "images"} still missing (the next sync tries again)$why",
            )
        }
    }
}

/**
 * The sync screen's text for a status; [packs], what the last sync's pack fetch brought (from
 * [SyncOutcome.Synced]), adds its lines.
 */
fun presentSync(
    snapshot: SyncSnapshot,
    unavailableReason: String?,
    now: Instant,
    lang: Lang,
    packs: PackUpdate? = null,
): SyncScreen {
    val zh = lang == Lang.ZH
    val headline = when {
        snapshot.inProgress -> if (zh) "正在同步…" else "Syncing…"
        snapshot.pending == 0 && snapshot.lastError == null && snapshot.refused == 0 ->
            if (zh) "没有待发送的内容" else "Nothing waiting to be sent"
        snapshot.pending > 0 -> if (zh) "${snapshot.pending} 项等待发送" else "${snapshot.pending} waiting to be sent"
        else -> if (zh) "需要注意" else "Needs attention"
    }
    val lines = buildList {
        if (snapshot.pendingDocuments > 0) {
            add(if (zh) "待发送记录：${snapshot.pendingDocuments}" else "Records waiting: ${snapshot.pendingDocuments}")
        }
        if (snapshot.pendingPhotos > 0) {
            add(if (zh) "待上传照片：${snapshot.pendingPhotos}" else "Photos waiting: ${snapshot.pendingPhotos}")
        }
        if (snapshot.refused > 0) {
            add(
                if (zh) "${snapshot.refused} 项被服务器拒收（已保留在手机上，见发件箱）"
                else "${snapshot.refused} refused by the server (kept on the phone; see the outbox)",
            )
        }
        add(
            snapshot.lastSuccess?.let { if (zh) "上次成功同步：${formatAgo(it, now, lang)}" else "Last synced ${formatAgo(it, now, lang)}" }
                ?: if (zh) "尚未同步过" else "Never synced",
        )
        snapshot.lastError?.let { add(if (zh) "上次错误：$it" else "Last error: $it") }
        packs?.let { addAll(presentPackUpdate(it, lang)) }
        unavailableReason?.let { add(if (zh) "无法同步：$it" else "Sync unavailable: $it") }
    }
    return SyncScreen(
        headline = headline,
        lines = lines,
        canSyncNow = unavailableReason == null && !snapshot.inProgress,
        attention = snapshot.lastError != null || snapshot.refused > 0 || unavailableReason != null,
    )
}

/**
 * What a "Sync now" (the sync screen's, the inbox's) says when it ends: synced, or why not.
 * What the packs brought is not here but in the sync screen's lines ([presentPackUpdate]). The
 * gateway's only reason for being unavailable is "not set up", in English: Chinese says it in
 * its own words.
 */
fun syncOutcomeMessage(outcome: SyncOutcome, lang: Lang): String {
    val zh = lang == Lang.ZH
    return when (outcome) {
        is SyncOutcome.Synced -> if (zh) "同步完成" else "Synced"
        is SyncOutcome.Failed -> (if (zh) "同步失败：" else "Sync failed: ") + outcome.reason
        is SyncOutcome.Unavailable -> if (zh) "无法同步：尚未设置同步服务器" else "Sync unavailable: " + outcome.reason
    }
}

/**
 * Runs syncs one at a time, whoever asks (the sync screen's button, the background worker),
 * and keeps background scheduling in step with the status and the preferences.
 */
class SyncCoordinator(
    private val gateway: SyncGateway,
    private val scheduler: BackgroundSyncScheduler,
    private val policy: SyncPolicy = SyncPolicy(),
    private val preferences: () -> SyncPreferences,
) {
    private val running = Mutex()

    /** Schedules background sync for the app's start (keeps an existing schedule). */
    fun onAppStart() = apply(SyncTrigger.APP_START)

    /** After the rider stored something to send (a submitted report, a case event, a quiz). */
    fun onLocalChange(): SyncPlan {
        gateway.refresh()
        return apply(SyncTrigger.LOCAL_CHANGE)
    }

    /** After the sync preferences changed. */
    fun onPreferencesChanged() = apply(SyncTrigger.PREFERENCES_CHANGED)

    /** One sync now, in the foreground; waits for a sync already running instead of starting a second. */
    suspend fun syncNow(): SyncOutcome {
        val outcome = running.withLock { gateway.syncNow() }
        apply(SyncTrigger.SYNC_FINISHED)
        return outcome
    }

    /**
     * The background worker's run: one sync, and what to tell the OS scheduler.
     * [runAttemptCount] is WorkManager's `runAttemptCount` (0 on the first run).
     */
    suspend fun runInBackground(runAttemptCount: Int): WorkerDecision {
        val outcome = running.withLock { gateway.syncNow() }
        return policy.workerDecision(outcome, runAttemptCount)
    }

    private fun apply(trigger: SyncTrigger): SyncPlan {
        val prefs = preferences()
        val plan = policy.plan(trigger, gateway.status(), prefs, gateway.unavailableReason() == null)
        scheduler.apply(plan)
        return plan
    }
}
