package org.waystation.demo

import java.time.Clock
import java.time.Instant
import org.waystation.*
import org.waystation.core.*

/** Where a submitted report is on its way to the server. */
enum class Delivery { DRAFT, WAITING, SENT, REFUSED, WITHDRAWN }

/** One line of the outbox. */
data class OutboxRow(
    val reportId: String,
    val category: String,
    val summary: String,
    val delivery: Delivery,
    /** `Waiting for a connection`, `Sent 10:32`, `Refused by the server: …`. */
    val deliveryText: String,
    /** The case's status once submitted (`Open`, `Dispatched`…), null for a draft. */
    val caseStatus: String?,
    val when_: String,
)

/** The outbox screen: drafts first, then sent and waiting reports, newest first. */
data class OutboxScreen(val drafts: List<OutboxRow>, val submitted: List<OutboxRow>, val waitingCount: Int)

/** One entry of a case's timeline. */
data class TimelineRow(
    val time: String,
    val who: String,
    val what: String,
    val note: String?,
    /** False for an event that landed where it could not apply; shown, with [notAppliedBecause]. */
    val applied: Boolean,
    val notAppliedBecause: String?,
)

/** A case as the timeline screen shows it. */
data class CaseScreen(
    val reportId: String,
    val status: String,
    /** What Open311 calls it (`open`/`closed`) and why; "closed" never hides "not fixed". */
    val open311: String,
    val grid: String?,
    val rows: List<TimelineRow>,
    val unreadable: Int,
)

/**
 * The outbox (what the rider reported, and whether it reached the server) and each case's
 * timeline. Blocking calls: run them off the main thread.
 */
class OutboxViewModel(
    private val core: WaystationInterface,
    private val author: String,
    private val lang: Lang,
    private val clock: Clock = Clock.systemUTC(),
) {
    private val categoryLabels = reportCategories().associate { it.code to if (lang == Lang.ZH) it.labelZh else it.labelEn }

    /** Drafts, then submitted and withdrawn reports, each newest first. */
    fun load(): OutboxScreen {
        val now = clock.instant()
        // The summaries come from the report index (fast with thousands of reports); only
        // the rows shown open their report for the delivery state and the case.
        val summaries = core.reports().summaries(author, null)
        val rows = summaries.map { row(core.reports().get(it.id), now) }
        val drafts = rows.filter { it.delivery == Delivery.DRAFT }
        val submitted = rows.filter { it.delivery != Delivery.DRAFT }
        return OutboxScreen(drafts, submitted, submitted.count { it.delivery == Delivery.WAITING })
    }

    /** The timeline of a submitted report's case, oldest event first. */
    fun case(reportId: String): CaseScreen = caseScreenOf(core.cases().get(reportId), lang, clock.instant())

    private fun row(report: Report, now: Instant): OutboxRow {
        val zh = lang == Lang.ZH
        val (delivery, text) = when {
            report.status == ReportStatus.DRAFT -> Delivery.DRAFT to (if (zh) "草稿，尚未提交" else "Draft, not submitted")
            report.status == ReportStatus.WITHDRAWN -> Delivery.WITHDRAWN to (if (zh) "已撤回" else "Withdrawn")
            else -> when (val state = report.outbox) {
                null, OutboxState.Pending -> Delivery.WAITING to (if (zh) "等待网络发送" else "Waiting for a connection")
                is OutboxState.Sent -> Delivery.SENT to (if (zh) "已发送 ${formatClock(state.at, now)}" else "Sent ${formatClock(state.at, now)}")
                is OutboxState.Refused -> Delivery.REFUSED to
                    (if (zh) "服务器拒收：${state.reason}" else "Refused by the server: ${state.reason}")
            }
        }
        val caseStatus = if (report.status == ReportStatus.DRAFT) null else caseStatusLabel(core.cases().get(report.id).status, lang)
        val summary = listOfNotNull(report.merchantName, report.description).joinToString(" · ").ifBlank {
            if (zh) "（无描述）" else "(no description)"
        }
        return OutboxRow(
            reportId = report.id,
            category = categoryLabels[report.category] ?: report.category,
            summary = summary.take(120),
            delivery = delivery,
            deliveryText = text,
            caseStatus = caseStatus,
            when_ = formatAgo(report.submittedAt ?: report.createdAt, now, lang),
        )
    }
}

/** The status of a case in words. */
fun caseStatusLabel(status: CaseStatus, lang: Lang): String {
    val zh = lang == Lang.ZH
    return when (status) {
        CaseStatus.OPEN -> if (zh) "待处理" else "Open"
        CaseStatus.ACKNOWLEDGED -> if (zh) "驿站已受理" else "Acknowledged"
        CaseStatus.IN_PROGRESS -> if (zh) "处理中" else "In progress"
        CaseStatus.RESOLVED -> if (zh) "已解决" else "Resolved"
        CaseStatus.REJECTED -> if (zh) "未采纳" else "Rejected"
        CaseStatus.DUPLICATE -> if (zh) "重复报告" else "Duplicate"
    }
}

/** Who wrote an event. */
fun roleLabel(role: CaseRole, lang: Lang): String {
    val zh = lang == Lang.ZH
    return when (role) {
        CaseRole.RIDER -> if (zh) "骑手" else "Rider"
        CaseRole.STATION_STAFF -> if (zh) "驿站" else "Station"
        CaseRole.SUPERVISOR -> if (zh) "监督员" else "Supervisor"
        CaseRole.GRID_WORKER -> if (zh) "网格员" else "Grid worker"
    }
}

/** What an event did. */
fun eventLabel(kind: CaseEventKind, lang: Lang): String {
    val zh = lang == Lang.ZH
    return when (kind) {
        CaseEventKind.Acknowledge -> if (zh) "受理" else "Acknowledged"
        CaseEventKind.Note -> if (zh) "备注" else "Note"
        CaseEventKind.RequestInfo -> if (zh) "请求补充信息" else "Asked for more information"
        is CaseEventKind.Dispatch -> if (zh) "派往网格 ${kind.gridId}" else "Dispatched to grid ${kind.gridId}"
        is CaseEventKind.MarkDuplicate -> if (zh) "标记为重复（${kind.of}）" else "Marked as a duplicate of ${kind.of}"
        CaseEventKind.Resolve -> if (zh) "已解决" else "Resolved"
        is CaseEventKind.Reject -> if (zh) "未采纳：${kind.reason}" else "Rejected: ${kind.reason}"
        CaseEventKind.Reopen -> if (zh) "重新打开" else "Reopened"
    }
}
