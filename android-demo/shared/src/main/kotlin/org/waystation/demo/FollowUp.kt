package org.waystation.demo

import org.waystation.core.CaseEventKind
import org.waystation.core.CaseRole
import org.waystation.core.CaseStatus
import org.waystation.core.CategoryGroup
import org.waystation.core.KnownAccount
import org.waystation.core.Role

/*
 * Who may follow up a case, and what they may do: the station staff, volunteer supervisors and
 * grid workers whose accounts the server knows (GET /v1/me, learned by a sync:
 * `sync().account()`). A rider, an admin, or a phone that has not learned its account yet sees
 * no action.
 */

/** A follow-up account: who the phone syncs as, in the role it writes case events in. */
data class FollowUpAccount(val user: String, val role: CaseRole, val areas: List<String>)

/** The case role a server role writes in; null for riders and admins, who write no case. */
fun Role.caseRole(): CaseRole? = when (this) {
    Role.STATION -> CaseRole.STATION_STAFF
    Role.SUPERVISOR -> CaseRole.SUPERVISOR
    Role.GRID -> CaseRole.GRID_WORKER
    Role.RIDER, Role.ADMIN -> null
}

/** The account as a follow-up account, or null when it writes no case (a rider, an admin). */
fun KnownAccount.followUp(): FollowUpAccount? = role.caseRole()?.let { FollowUpAccount(user, it, areas) }

/** What a follow-up screen offers, one button each. */
enum class CaseAction {
    /** Taken on (a new case only). */
    ACKNOWLEDGE,

    /** Handed to a community grid (needs the grid's id). */
    DISPATCH,

    /** A remark; never changes the status. */
    NOTE,

    /**
     * What a supervisor or grid worker saw on site, with a photo if they take one: recorded as
     * a note that names the photo (`cases().storePhoto`, then `record(…, photos)`).
     */
    INSPECTION,

    /** Fixed: closes the case. */
    RESOLVE,

    /** Not acted on, with the reason (required): closes the case. */
    REJECT,
    ;

    /** The text field this action needs filled in, if any. */
    val needsText: Boolean get() = this != ACKNOWLEDGE && this != RESOLVE
}

private fun CaseStatus.closed(): Boolean =
    this == CaseStatus.RESOLVED || this == CaseStatus.REJECTED || this == CaseStatus.DUPLICATE

/**
 * The actions [role] may take on a case in [status] whose report is in category group
 * [categoryGroup], in the order the screen shows
 * them. The core decides what is recorded (`docs/formats/case-status.md`: who may write which
 * event, and which event applies in which status); this mirrors its table so that the screen
 * offers only what the core accepts, and FollowUpTest checks every role, status and action
 * against the real core. Riders get nothing.
 *
 * - acknowledge: a new case, every follow-up role;
 * - dispatch to a grid: an open case, station staff and supervisors (a grid worker is the grid);
 * - note: any case, every follow-up role;
 * - inspection note: any case, supervisors and grid workers (they go on site);
 * - resolve: an open case, supervisors and grid workers, and station staff for a problem at a
 *   station (category group [CategoryGroup.STATION]), which they can fix themselves;
 * - reject with a reason: an open case, supervisors and grid workers.
 */
fun allowedActions(role: CaseRole, status: CaseStatus, categoryGroup: CategoryGroup): List<CaseAction> {
    if (role == CaseRole.RIDER) return emptyList()
    val open = !status.closed()
    val onSite = role == CaseRole.SUPERVISOR || role == CaseRole.GRID_WORKER
    return buildList {
        if (status == CaseStatus.OPEN) add(CaseAction.ACKNOWLEDGE)
        if (open && role != CaseRole.GRID_WORKER) add(CaseAction.DISPATCH)
        add(CaseAction.NOTE)
        if (onSite) add(CaseAction.INSPECTION)
        if (open && (onSite || categoryGroup == CategoryGroup.STATION)) add(CaseAction.RESOLVE)
        if (open && onSite) add(CaseAction.REJECT)
    }
}

/**
 * The core's event for [action]; [text] is the grid id (dispatch), the reason (reject), or the
 * note (note, inspection). Blank text where the action needs it is refused by the core.
 */
fun CaseAction.toKind(text: String): CaseEventKind = when (this) {
    CaseAction.ACKNOWLEDGE -> CaseEventKind.Acknowledge
    CaseAction.DISPATCH -> CaseEventKind.Dispatch(text.trim())
    CaseAction.NOTE, CaseAction.INSPECTION -> CaseEventKind.Note
    CaseAction.RESOLVE -> CaseEventKind.Resolve
    CaseAction.REJECT -> CaseEventKind.Reject(text.trim())
}

/** The note recorded with [action]: the text itself for a note or an inspection, else none. */
fun CaseAction.noteFor(text: String): String = if (this == CaseAction.NOTE || this == CaseAction.INSPECTION) text.trim() else ""

/** The button's label. */
fun CaseAction.label(lang: Lang): String {
    val zh = lang == Lang.ZH
    return when (this) {
        CaseAction.ACKNOWLEDGE -> if (zh) "受理" else "Acknowledge"
        CaseAction.DISPATCH -> if (zh) "派往网格" else "Dispatch to the grid"
        CaseAction.NOTE -> if (zh) "添加备注" else "Add a note"
        CaseAction.INSPECTION -> if (zh) "记录现场检查" else "Record the inspection"
        CaseAction.RESOLVE -> if (zh) "标记为已解决" else "Mark resolved"
        CaseAction.REJECT -> if (zh) "不予采纳" else "Reject"
    }
}

/** The hint of the text field [action] needs (see [CaseAction.needsText]). */
fun CaseAction.hint(lang: Lang): String {
    val zh = lang == Lang.ZH
    return when (this) {
        CaseAction.DISPATCH -> if (zh) "网格编号（如 610103-07）" else "Grid id (e.g. 610103-07)"
        CaseAction.NOTE -> if (zh) "备注" else "Note"
        CaseAction.INSPECTION -> if (zh) "现场看到的情况" else "What you saw on site"
        CaseAction.REJECT -> if (zh) "不予采纳的原因" else "Why it is rejected"
        CaseAction.ACKNOWLEDGE, CaseAction.RESOLVE -> ""
    }
}

/** What the screen says once the action is saved on the phone. */
fun CaseAction.savedText(lang: Lang): String {
    val zh = lang == Lang.ZH
    val what = when (this) {
        CaseAction.ACKNOWLEDGE -> if (zh) "已受理" else "Acknowledged"
        CaseAction.DISPATCH -> if (zh) "已派往网格" else "Dispatched"
        CaseAction.NOTE -> if (zh) "备注已添加" else "Note added"
        CaseAction.INSPECTION -> if (zh) "现场检查已记录" else "Inspection recorded"
        CaseAction.RESOLVE -> if (zh) "已标记为解决" else "Marked resolved"
        CaseAction.REJECT -> if (zh) "已不予采纳" else "Rejected"
    }
    return if (zh) "$what，已保存在手机上，下次同步时发送" else "$what: saved on this phone, sent at the next sync"
}

/** An account's role as a person reads it: `驿站工作人员` / `Station staff`. */
fun accountRoleLabel(role: Role, lang: Lang): String {
    val zh = lang == Lang.ZH
    return when (role) {
        Role.RIDER -> if (zh) "骑手" else "Rider"
        Role.STATION -> if (zh) "驿站工作人员" else "Station staff"
        Role.SUPERVISOR -> if (zh) "食品安全监督员" else "Food-safety supervisor"
        Role.GRID -> if (zh) "网格员" else "Grid worker"
        Role.ADMIN -> if (zh) "管理员" else "Administrator"
    }
}

/** A district's name by its GB/T 2260 code (`碑林区` / `Beilin`), the code when unknown. */
fun districtName(code: String?, lang: Lang): String? {
    if (code == null) return null
    val d = org.waystation.xianDistricts().firstOrNull { it.code == code } ?: return code
    return if (lang == Lang.ZH) d.nameZh else d.nameEn
}
