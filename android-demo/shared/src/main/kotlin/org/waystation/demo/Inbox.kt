package org.waystation.demo

import java.time.Clock
import java.time.Instant
import org.waystation.WaystationInterface
import org.waystation.core.CaseQuery
import org.waystation.core.CaseStatus
import org.waystation.core.CaseSummary
import org.waystation.core.KnownAccount
import org.waystation.reportCategories

/** The inbox's sections, in the order shown: what needs someone first, closed cases last. */
enum class InboxGroup {
    /** Nobody has taken it on (open, or reopened). */
    NEW,

    /** Taken on, or more information asked for, and not with a grid. */
    IN_PROGRESS,

    /** With a community grid. */
    DISPATCHED,

    /** Fixed. */
    RESOLVED,

    /** Not acted on (with a reason), or followed as another report. */
    REJECTED,
    ;

    fun title(lang: Lang): String {
        val zh = lang == Lang.ZH
        return when (this) {
            NEW -> if (zh) "新报告" else "New"
            IN_PROGRESS -> if (zh) "处理中" else "In progress"
            DISPATCHED -> if (zh) "已派往网格" else "Dispatched"
            RESOLVED -> if (zh) "已解决" else "Resolved"
            REJECTED -> if (zh) "未采纳" else "Rejected"
        }
    }

    companion object {
        /** The section of a case in [status], dispatched to [gridId] or not. */
        fun of(status: CaseStatus, gridId: String?): InboxGroup = when (status) {
            CaseStatus.OPEN -> NEW
            CaseStatus.ACKNOWLEDGED -> IN_PROGRESS
            CaseStatus.IN_PROGRESS -> if (gridId != null) DISPATCHED else IN_PROGRESS
            CaseStatus.RESOLVED -> RESOLVED
            CaseStatus.REJECTED, CaseStatus.DUPLICATE -> REJECTED
        }
    }
}

/** One case in the inbox. */
data class InboxRow(
    val reportId: String,
    val category: String,
    /** The merchant and the description, shortened; `(no description)` when there is none. */
    val summary: String,
    /** The district's name, if the report has one. */
    val place: String?,
    /** How long the problem has been known: `reported 3 h ago`. */
    val age: String,
    /** The case's status in words (`Acknowledged`, `Duplicate`…). */
    val status: String,
    /** `Grid 610103-07` when dispatched. */
    val grid: String?,
    /** `1 action waiting to be sent` when this phone recorded events the server lacks. */
    val waiting: String?,
)

/** A section of the inbox: its title with the count, and its cases, newest problem first. */
data class InboxSection(val group: InboxGroup, val title: String, val rows: List<InboxRow>)

/** What the inbox screen shows. */
data class InboxScreen(
    /** `Station staff beilin-station-3 · Beilin`; null when the phone knows no follow-up account. */
    val account: String?,
    /** Why there is no inbox (no account learned yet, a rider's account), if there is none. */
    val notice: String?,
    /** `New 2 · In progress 1 · Dispatched 0 · Resolved 3 · Rejected 0` (a no-break space before each count). */
    val counts: String,
    /** The sections that have cases, in [InboxGroup] order. */
    val sections: List<InboxSection>,
    /** As of when: `Last synced 5 min ago; shown from this phone's copy`. */
    val asOf: String,
    /** `No cases in your districts yet` when there are none. */
    val empty: String?,
)

/**
 * The inbox of a station, supervisor or grid account: the cases of its districts, from what
 * the last sync brought (offline: only the phone's database is read), by status and age,
 * newest problem first within each status. The account comes from `sync().account()`.
 * Blocking calls: run them off the main thread.
 */
class InboxViewModel(
    private val core: WaystationInterface,
    private val lang: Lang,
    private val pending: PendingActions,
    private val clock: Clock = Clock.systemUTC(),
) {
    private val zh = lang == Lang.ZH
    private val categories = reportCategories().associateBy { it.code }

    /** The account this phone follows up as, or null (none learned yet, or a rider's). */
    fun account(): KnownAccount? = core.sync().account()

    fun load(): InboxScreen {
        val now = clock.instant()
        val asOf = asOf(core.sync().status().lastSuccess, now)
        val known = account()
        val followUp = known?.followUp()
        if (known == null || followUp == null) {
            val notice = when {
                known == null -> if (zh) {
                    "这部手机还不知道您的账户：请在“同步”页填写服务器和令牌并同步一次"
                } else {
                    "This phone does not know your account yet: set up the server and token on the Sync screen and sync once"
                }
                else -> {
                    val role = accountRoleLabel(known.role, lang)
                    if (zh) {
                        "此账户（$role）不处理案件：这里只列出驿站、监督员和网格员的待办"
                    } else {
                        "This account ($role) follows up no case: this inbox is for station staff, supervisors and grid workers"
                    }
                }
            }
            return InboxScreen(null, notice, "", emptyList(), asOf, null)
        }
        val places = followUp.areas.mapNotNull { districtName(it, lang) }.joinToString(if (zh) "、" else ", ")
        val account = "${accountRoleLabel(known.role, lang)} ${known.user}" + if (places.isEmpty()) "" else " · $places"
        val cases = core.cases().list(CaseQuery(districts = followUp.areas, statuses = emptyList(), includeWithdrawn = false))
        val sections = group(cases, now)
        // A no-break space keeps each count with its label when the line wraps.
        val counts = InboxGroup.entries.joinToString(" · ") { g -> "${g.title(lang)}\u00A0${sections[g]?.size ?: 0}" }
        val empty = if (cases.isEmpty()) {
            if (zh) "您的辖区还没有报告（上次同步带来的）" else "No reports in your districts yet (as of the last sync)"
        } else {
            null
        }
        return InboxScreen(
            account = account,
            notice = if (followUp.areas.isEmpty()) {
                if (zh) "此账户没有负责的区县：请管理员在服务器上添加" else "This account follows no district: an administrator adds them on the server"
            } else {
                null
            },
            counts = counts,
            sections = InboxGroup.entries.mapNotNull { g ->
                sections[g]?.let { rows ->
                    InboxSection(g, if (zh) "${g.title(lang)}（${rows.size}）" else "${g.title(lang)} (${rows.size})", rows)
                }
            },
            asOf = asOf,
            empty = empty,
        )
    }

    /** The cases by section; each section newest problem first (latest submission first). */
    private fun group(cases: List<CaseSummary>, now: Instant): Map<InboxGroup, List<InboxRow>> =
        cases.sortedByDescending { it.report.submittedAt ?: it.report.createdAt }
            .groupBy { InboxGroup.of(it.status, it.gridId) }
            .mapValues { (_, list) -> list.map { row(it, now) } }

    private fun row(case: CaseSummary, now: Instant): InboxRow {
        val report = core.reports().get(case.report.id)
        val summary = listOfNotNull(report.merchantName, report.description).joinToString(" · ").ifBlank {
            if (zh) "（无描述）" else "(no description)"
        }
        val category = categories[report.category]?.let { if (zh) it.labelZh else it.labelEn } ?: report.category
        val since = case.report.submittedAt ?: case.report.createdAt
        val waiting = pending.forCase(case.report.id).size
        return InboxRow(
            reportId = case.report.id,
            category = category,
            summary = summary.take(120),
            place = districtName(case.report.district, lang),
            age = if (zh) "${formatAgo(since, now, lang)}上报" else "reported ${formatAgo(since, now, lang)}",
            status = caseStatusLabel(case.status, lang),
            grid = case.gridId?.let { if (zh) "网格 $it" else "Grid $it" },
            waiting = waitingText(waiting, lang),
        )
    }

    private fun asOf(lastSuccess: Instant?, now: Instant): String = when (lastSuccess) {
        null -> if (zh) "尚未同步过：只显示这部手机上的内容" else "Never synced: showing only what is on this phone"
        else -> if (zh) {
            "上次同步：${formatAgo(lastSuccess, now, lang)}（离线时显示手机上的副本）"
        } else {
            "Last synced ${formatAgo(lastSuccess, now, lang)} (offline, this phone's copy is shown)"
        }
    }
}

/** `2 actions waiting to be sent`, or null for none. */
fun waitingText(count: Int, lang: Lang): String? = when {
    count <= 0 -> null
    lang == Lang.ZH -> "$count 项操作等待发送"
    count == 1 -> "1 action waiting to be sent"
    else -> "$count actions waiting to be sent"
}
