import Foundation
import Waystation

/*
 * Who may follow up a case, and what they may do, mirroring the Android demo's FollowUp.kt,
 * Inbox.kt and PendingActions.kt (android-demo/shared, tested in CI against the real core:
 * FollowUpTest checks every role, status and action). Keep the two in step.
 *
 * The accounts are the station staff, volunteer supervisors and grid workers whose role the
 * server gives the sync token (GET /v1/me, learned by a sync: `sync().account()`). A rider, an
 * admin, or a phone that has not learned its account yet sees no action.
 */

/// A follow-up account: who the phone syncs as, in the role it writes case events in.
struct FollowUpAccount: Equatable {
    var user: String
    var role: CaseRole
    var areas: [String]
}

extension Role {
    /// The case role a server role writes in; nil for riders and admins, who write no case.
    var caseRole: CaseRole? {
        switch self {
        case .station: return CaseRole.stationStaff
        case .supervisor: return CaseRole.supervisor
        case .grid: return CaseRole.gridWorker
        case .rider, .admin: return nil
        }
    }
}

extension KnownAccount {
    /// The account as a follow-up account, or nil when it writes no case (a rider, an admin).
    var followUp: FollowUpAccount? {
        role.caseRole.map { FollowUpAccount(user: user, role: $0, areas: areas) }
    }
}

/// What a case screen offers, one button each.
enum CaseAction: CaseIterable {
    /// Taken on (a new case only).
    case acknowledge
    /// Handed to a community grid (needs the grid's id).
    case dispatch
    /// A remark; never changes the status.
    case note
    /// What a supervisor or grid worker saw on site: a note with its photos (`takesPhotos`),
    /// each stored first with `cases().storePhoto` and named by SHA-256 in `cases().record`.
    case inspection
    /// Fixed: closes the case.
    case resolve
    /// Not acted on, with the reason (required): closes the case.
    case reject

    /// True when the action needs its text field filled in.
    var needsText: Bool { self != .acknowledge && self != .resolve }

    /// True when the action may carry photos: the core takes them on a note or a resolve only
    /// (an inspection is a note); a plain remark stays text.
    var takesPhotos: Bool { self == .inspection || self == .resolve }

    /// The most photos one event may carry (the core refuses more with `InvalidInput`).
    static let maxPhotos = 4

    /// The core's event; `text` is the grid id (dispatch), the reason (reject), or the note.
    func kind(_ text: String) -> CaseEventKind {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        switch self {
        case .acknowledge: return CaseEventKind.acknowledge
        case .dispatch: return CaseEventKind.dispatch(gridId: trimmed)
        case .note, .inspection: return CaseEventKind.note
        case .resolve: return CaseEventKind.resolve
        case .reject: return CaseEventKind.reject(reason: trimmed)
        }
    }

    /// The note recorded with the action: the text itself for a note or an inspection.
    func note(_ text: String) -> String {
        self == .note || self == .inspection ? text.trimmingCharacters(in: .whitespacesAndNewlines) : ""
    }

    /// The button's label.
    var label: String {
        switch self {
        case .acknowledge: return L.t("受理", "Acknowledge")
        case .dispatch: return L.t("派往网格", "Dispatch to the grid")
        case .note: return L.t("添加备注", "Add a note")
        case .inspection: return L.t("记录现场检查", "Record the inspection")
        case .resolve: return L.t("标记为已解决", "Mark resolved")
        case .reject: return L.t("不予采纳", "Reject")
        }
    }

    /// The placeholder of the text field the action needs.
    var hint: String {
        switch self {
        case .dispatch: return L.t("网格编号（如 610103-07）", "Grid id (e.g. 610103-07)")
        case .note: return L.t("备注", "Note")
        case .inspection: return L.t("现场看到的情况", "What you saw on site")
        case .reject: return L.t("不予采纳的原因", "Why it is rejected")
        case .acknowledge, .resolve: return ""
        }
    }

    /// What the screen says once the action is saved on the phone.
    var savedText: String {
        let what: String
        switch self {
        case .acknowledge: what = L.t("已受理", "Acknowledged")
        case .dispatch: what = L.t("已派往网格", "Dispatched")
        case .note: what = L.t("备注已添加", "Note added")
        case .inspection: what = L.t("现场检查已记录", "Inspection recorded")
        case .resolve: what = L.t("已标记为解决", "Marked resolved")
        case .reject: what = L.t("已不予采纳", "Rejected")
        }
        return L.zh ? "\(what)，已保存在手机上，下次同步时发送" : "\(what): saved on this phone, sent at the next sync"
    }
}

/// The actions `role` may take on a case in `status` whose report's category is in `group`,
/// in the order the screen shows them. The core decides what is recorded
/// (docs/formats/case-status.md); this mirrors its table (Android's `allowedActions`) so that
/// the screen offers only what the core accepts. Riders get nothing.
func allowedActions(role: CaseRole, status: CaseStatus, group: CategoryGroup) -> [CaseAction] {
    if role == CaseRole.rider { return [] }
    let closed = status == CaseStatus.resolved || status == CaseStatus.rejected || status == CaseStatus.duplicate
    let onSite = role == CaseRole.supervisor || role == CaseRole.gridWorker
    var actions: [CaseAction] = []
    if status == CaseStatus.open { actions.append(.acknowledge) }
    if !closed && role != CaseRole.gridWorker { actions.append(.dispatch) }
    actions.append(.note)
    if onSite { actions.append(.inspection) }
    if !closed && (onSite || group == CategoryGroup.station) { actions.append(.resolve) }
    if !closed && onSite { actions.append(.reject) }
    return actions
}

/// An account's role as a person reads it.
func accountRoleLabel(_ role: Role) -> String {
    switch role {
    case .rider: return L.t("骑手", "Rider")
    case .station: return L.t("驿站工作人员", "Station staff")
    case .supervisor: return L.t("食品安全监督员", "Food-safety supervisor")
    case .grid: return L.t("网格员", "Grid worker")
    case .admin: return L.t("管理员", "Administrator")
    }
}

/// A district's name by its GB/T 2260 code (`碑林区` / `Beilin`), the code when unknown.
func districtName(_ code: String?) -> String? {
    guard let code else { return nil }
    guard let district = xianDistricts().first(where: { $0.code == code }) else { return code }
    return L.zh ? district.nameZh : district.nameEn
}

/// A category's label in the interface language, the code when unknown.
func categoryLabel(_ code: String) -> String {
    reportCategories().first { $0.code == code }.map { L.zh ? $0.labelZh : $0.labelEn } ?? code
}

/// A size as `850 B`, `120 KB`, `2.4 MB`.
func formatBytes(_ bytes: Int64) -> String {
    switch bytes {
    case ..<1024: return "\(bytes) B"
    case ..<(1024 * 1024): return "\((bytes + 512) / 1024) KB"
    default: return String(format: "%.1f MB", Double(bytes) / (1024 * 1024))
    }
}

/// `12:05` today, `2026-12-01 10:32` another day (Xi'an time).
func formatClock(_ date: Date, now: Date = Date()) -> String {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = xianTimeZone
    let formatter = DateFormatter()
    formatter.timeZone = xianTimeZone
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.dateFormat = calendar.isDate(date, inSameDayAs: now) ? "HH:mm" : "yyyy-MM-dd HH:mm"
    return formatter.string(from: date)
}

/// `2 actions waiting to be sent`, or nil for none.
func waitingText(_ count: Int) -> String? {
    if count <= 0 { return nil }
    if L.zh { return "\(count) 项操作等待发送" }
    return count == 1 ? "1 action waiting to be sent" : "\(count) actions waiting to be sent"
}

/// The inbox's sections, in the order shown: what needs someone first, closed cases last.
enum InboxGroup: CaseIterable {
    /// Nobody has taken it on (open, or reopened).
    case new
    /// Taken on, or more information asked for, and not with a grid.
    case inProgress
    /// With a community grid.
    case dispatched
    /// Fixed.
    case resolved
    /// Not acted on (with a reason), or followed as another report.
    case rejected

    var title: String {
        switch self {
        case .new: return L.t("新报告", "New")
        case .inProgress: return L.t("处理中", "In progress")
        case .dispatched: return L.t("已派往网格", "Dispatched")
        case .resolved: return L.t("已解决", "Resolved")
        case .rejected: return L.t("未采纳", "Rejected")
        }
    }

    /// The section of a case in `status`, dispatched to `gridId` or not.
    static func of(_ status: CaseStatus, gridId: String?) -> InboxGroup {
        switch status {
        case .open: return .new
        case .acknowledged: return .inProgress
        case .inProgress: return gridId != nil ? .dispatched : .inProgress
        case .resolved: return .resolved
        case .rejected, .duplicate: return .rejected
        }
    }
}

/// The case events this phone recorded that the server has not taken yet, so a case screen
/// can say what is waiting to be sent. The core tells how many documents wait
/// (`SyncStatus.pendingDocuments`), not which events, so the app notes each event it records
/// (in UserDefaults, one `reportId<TAB>eventId` per line, the Android demo's format) and
/// `CoreSyncGateway` forgets the ones a complete sync delivered: those noted before it began,
/// except the events of a case the server refused (they stay; the screen shows the refusal).
enum PendingActions {
    static let key = "pending_case_events"
    private static let lock = NSLock()

    /// One recorded event: its case (the report id) and the event's id.
    struct Entry: Equatable {
        var reportId: String
        var eventId: String
    }

    /// Notes an event this phone just recorded on `reportId`'s case.
    static func add(reportId: String, eventId: String) {
        lock.lock()
        defer { lock.unlock() }
        var entries = read()
        if entries.contains(where: { $0.eventId == eventId }) { return }
        entries.append(Entry(reportId: reportId, eventId: eventId))
        write(entries)
    }

    /// The ids of this phone's events on `reportId`'s case that wait to be sent.
    static func forCase(_ reportId: String) -> Set<String> {
        lock.lock()
        defer { lock.unlock() }
        return Set(read().filter { $0.reportId == reportId }.map(\.eventId))
    }

    /// Every event waiting, as a sync about to start sees it.
    static func snapshot() -> [Entry] {
        lock.lock()
        defer { lock.unlock() }
        return read()
    }

    /// After a complete sync that started when `before` was taken: those events were delivered,
    /// except the ones on the cases in `refusedReports`.
    static func delivered(_ before: [Entry], refusedReports: Set<String>) {
        lock.lock()
        defer { lock.unlock() }
        let sent = Set(before.filter { !refusedReports.contains($0.reportId) }.map(\.eventId))
        if sent.isEmpty { return }
        write(read().filter { !sent.contains($0.eventId) })
    }

    /// The case document id of a report, as sync refusals name it.
    static func caseDocId(_ reportId: String) -> String { "case:" + reportId }

    private static func read() -> [Entry] {
        (UserDefaults.standard.string(forKey: key) ?? "").split(separator: "\n").compactMap { line in
            let parts = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
            return Entry(reportId: parts[0], eventId: parts[1])
        }
    }

    private static func write(_ entries: [Entry]) {
        if entries.isEmpty {
            UserDefaults.standard.removeObject(forKey: key)
        } else {
            UserDefaults.standard.set(entries.map { $0.reportId + "\t" + $0.eventId }.joined(separator: "\n"), forKey: key)
        }
    }
}
