package org.waystation.demo

import java.io.File
import java.time.Clock
import java.time.Instant
import java.util.Locale
import kotlinx.coroutines.runBlocking
import org.waystation.WaystationException
import org.waystation.WaystationInterface
import org.waystation.core.CaseView
import org.waystation.core.CategoryGroup
import org.waystation.core.Open311Status
import org.waystation.core.Report
import org.waystation.reportCategories

/** A photo of the report: on the phone already, or to fetch from the server on demand. */
data class CasePhoto(
    val sha256: String,
    /** `Photo 1 · 120 KB`: what a screen reader says of the image. */
    val label: String,
    /** The button that fetches it: `Fetch photo 1 (120 KB)`. */
    val fetchLabel: String,
    /** The file, when the phone has it (the reporter's phone, or after a fetch). */
    val path: String?,
)

/** The report a case follows, as the case screen shows it. */
data class ReportDetails(
    val category: String,
    val description: String?,
    /** `Merchant: name · address`, for food-safety reports that name one. */
    val merchant: String?,
    /** `Beilin · 34.22300, 108.95300 · ±8 m`, or the address typed. */
    val place: String?,
    /** `Reported 2026-12-01 10:32 (1 d ago)`. */
    val reported: String,
    val photos: List<CasePhoto>,
)

/**
 * One event of the timeline, whether it is this phone's and not sent yet, and its photos (an
 * inspection's), each on the phone or to fetch on demand.
 */
data class FollowUpEvent(val row: TimelineRow, val waiting: Boolean, val photos: List<CasePhoto> = emptyList())

/** What the case screen shows: the report, the timeline, and what this account may do. */
data class CaseDetail(
    val reportId: String,
    /** The status, the Open311 line and the grid, as the rider's case screen has them. */
    val case: CaseScreen,
    val report: ReportDetails,
    val events: List<FollowUpEvent>,
    /** The buttons this account may use now; empty for a rider, or outside its districts. */
    val actions: List<CaseAction>,
    /** Why there are no actions when a follow-up account looks (outside its districts). */
    val actionsNotice: String?,
    /**
     * For a follow-up account: `2 actions saved on this phone, waiting to be sent`, `Nothing
     * waiting to be sent`, or the server's refusal. Null for a rider.
     */
    val waiting: String?,
    /** This phone's events on the case that the server has not taken yet. */
    val waitingCount: Int,
    /** True when [waiting] is a refusal (shown in a warning colour). */
    val refused: Boolean,
)

/**
 * A submitted report's case: the report (category, description, merchant, place, photos,
 * fetched from the server on demand), its timeline, and for a station, supervisor or grid
 * account ([FollowUpAccount], from `sync().account()`) the actions it may take, each saved
 * on the phone first and sent at the next sync ([PendingActions] says what waits). A rider
 * sees the same case with no action. Blocking calls: run them off the main thread.
 */
class CaseViewModel(
    private val core: WaystationInterface,
    private val lang: Lang,
    private val pending: PendingActions,
    private val clock: Clock = Clock.systemUTC(),
) {
    private val zh = lang == Lang.ZH
    private val categories = reportCategories().associateBy { it.code }

    /** The account that may act on cases from this phone, or null (a rider's phone). */
    fun followUpAccount(): FollowUpAccount? = core.sync().account()?.followUp()

    fun load(reportId: String): CaseDetail {
        val now = clock.instant()
        val report = core.reports().get(reportId)
        val view = core.cases().get(reportId)
        val account = followUpAccount()
        val group = categories[report.category]?.group ?: CategoryGroup.OTHER
        val inArea = account != null && report.district != null && report.district in account.areas
        val actions = if (account != null && inArea) allowedActions(account.role, view.status, group) else emptyList()
        val waitingIds = pending.forCase(reportId)
        val refusal = if (account == null) null else core.sync().refusals().firstOrNull { it.docId == PendingActions.caseDocId(reportId) }
        val waiting = when {
            account == null -> null
            refusal != null -> if (zh) {
                "服务器拒收了此案件的更改（已保留在手机上）：${refusal.reason}"
            } else {
                "The server refused this case's changes (kept on the phone): ${refusal.reason}"
            }
            waitingIds.isNotEmpty() -> if (zh) {
                "${waitingIds.size} 项操作已保存在手机上，等待发送"
            } else {
                "${waitingIds.size} ${if (waitingIds.size == 1) "action" else "actions"} saved on this phone, waiting to be sent"
            }
            else -> if (zh) "没有等待发送的操作" else "Nothing waiting to be sent"
        }
        val case = caseScreenOf(view, lang, now)
        return CaseDetail(
            reportId = reportId,
            case = case,
            report = details(report, now),
            events = view.timeline.zip(case.rows) { entry, row ->
                FollowUpEvent(row, entry.event.id in waitingIds, entry.event.photos.mapIndexed { i, sha -> eventPhoto(sha, i) })
            },
            actions = actions,
            actionsNotice = if (account != null && !inArea) {
                if (zh) "这份报告不在您负责的区县，不能处理" else "This report is outside your districts: you cannot act on it"
            } else {
                null
            },
            waiting = waiting,
            waitingCount = waitingIds.size,
            refused = refusal != null,
        )
    }

    /**
     * Records [action] on [reportId]'s case as this phone's follow-up account, on the phone
     * (the next sync sends it), and notes it as waiting. [text] is the grid id, the reason or
     * the note ([CaseAction.needsText]). Throws the core's `InvalidInput` with the reason when
     * the core refuses it (nothing is stored then), and IllegalStateException when the phone
     * has no follow-up account. Returns what to tell the person.
     */
    fun act(reportId: String, action: CaseAction, text: String, photo: ByteArray? = null): String {
        val account = followUpAccount() ?: throw IllegalStateException(
            if (zh) "这部手机的账户不能处理案件" else "This phone's account cannot act on cases",
        )
        if (action.needsText && text.isBlank()) throw IllegalArgumentException(action.hint(lang))
        require(photo == null || action == CaseAction.INSPECTION) { "only an inspection note takes a photo" }
        // Stored first (metadata stripped, kept under its SHA-256), then named by the event.
        val photos = photo?.let { bytes -> listOf(runBlocking { core.cases().storePhoto(bytes) }.sha256) }.orEmpty()
        val before = core.cases().get(reportId).timeline.map { it.event.id }.toSet()
        val after = core.cases().record(reportId, account.user, account.role, action.toKind(text), action.noteFor(text), photos)
        after.timeline.map { it.event.id }.filter { it !in before }.forEach { pending.add(reportId, it) }
        return action.savedText(lang)
    }

    /**
     * Downloads a photo of the report that the phone lacks (a follow-up phone gets reports
     * through sync, their photos only when looked at), from [account]'s server; the core checks
     * it against its SHA-256 and stores it. Returns its file.
     */
    suspend fun fetchPhoto(sha256: String, account: SyncAccount): String =
        core.reports().fetchPhoto(account.toOptions(), sha256)

    /** The local file of a stored photo, or null when the phone does not hold it. */
    private fun localPhoto(sha256: String): String? = try {
        core.reports().photoPath(sha256).takeIf { File(it).isFile }
    } catch (e: WaystationException.NotFound) {
        null
    }

    private fun eventPhoto(sha256: String, index: Int): CasePhoto = CasePhoto(
        sha256 = sha256,
        label = if (zh) "现场照片 ${index + 1}" else "Inspection photo ${index + 1}",
        fetchLabel = if (zh) "下载现场照片 ${index + 1}" else "Fetch inspection photo ${index + 1}",
        path = localPhoto(sha256),
    )

    private fun details(report: Report, now: Instant): ReportDetails {
        val category = categories[report.category]?.let { if (zh) it.labelZh else it.labelEn } ?: report.category
        val merchant = listOfNotNull(report.merchantName, report.merchantAddress).filter { it.isNotBlank() }
            .takeIf { it.isNotEmpty() }?.joinToString(" · ")?.let { if (zh) "商户：$it" else "Merchant: $it" }
        val position = report.position?.let {
            String.format(Locale.ROOT, "%.5f, %.5f", it.lat, it.lon) + " · " + formatAccuracy(it.accuracyM, lang)
        }
        val place = listOfNotNull(districtName(report.district, lang), report.address?.takeIf { it.isNotBlank() }, position)
            .takeIf { it.isNotEmpty() }?.joinToString(" · ")
        val at = report.submittedAt ?: report.createdAt
        return ReportDetails(
            category = category,
            description = report.description?.takeIf { it.isNotBlank() },
            merchant = merchant,
            place = place,
            reported = if (zh) "上报于 ${formatClock(at, now)}（${formatAgo(at, now, lang)}）" else "Reported ${formatClock(at, now)} (${formatAgo(at, now, lang)})",
            photos = report.photos.mapIndexed { i, photo ->
                // A report that came through sync brings its photos' hashes only.
                val path = localPhoto(photo.sha256)
                val size = formatBytes(photo.sizeBytes)
                CasePhoto(
                    sha256 = photo.sha256,
                    label = if (zh) "照片 ${i + 1} · $size" else "Photo ${i + 1} · $size",
                    fetchLabel = if (zh) "下载照片 ${i + 1}（$size）" else "Fetch photo ${i + 1} ($size)",
                    path = path,
                )
            },
        )
    }
}

/** A size as `850 B`, `120 KB`, `2.4 MB`. */
fun formatBytes(bytes: Long): String = when {
    bytes < 1024 -> "$bytes B"
    bytes < 1024 * 1024 -> "${(bytes + 512) / 1024} KB"
    else -> String.format(Locale.ROOT, "%.1f MB", bytes / (1024.0 * 1024.0))
}

/** A case's status line, Open311 meaning, grid and timeline, as every case screen shows it. */
fun caseScreenOf(case: CaseView, lang: Lang, now: Instant): CaseScreen {
    val zh = lang == Lang.ZH
    val open311 = when (case.open311Status) {
        Open311Status.OPEN -> "open"
        Open311Status.CLOSED -> "closed"
    }
    return CaseScreen(
        reportId = case.reportId,
        status = caseStatusLabel(case.status, lang),
        // The core's notes are English; in Chinese the status heading says the rest.
        open311 = if (zh) {
            "Open311 状态：$open311（${if (case.open311Status == Open311Status.OPEN) "未结案" else "已结案"}）"
        } else {
            "Open311: $open311 — ${case.statusNotes}"
        },
        grid = case.gridId?.let { if (zh) "网格 $it" else "Grid $it" },
        rows = case.timeline.map { entry ->
            val e = entry.event
            TimelineRow(
                time = formatClock(e.at, now),
                who = "${roleLabel(e.role, lang)} ${e.actor}",
                what = eventLabel(e.kind, lang),
                note = e.note?.takeIf { it.isNotBlank() },
                applied = entry.applied,
                notAppliedBecause = entry.notAppliedBecause,
            )
        },
        unreadable = case.unreadableEvents.size,
    )
}
