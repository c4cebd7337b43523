import SwiftUI
import Waystation

/// One case in the inbox.
struct InboxRow: Identifiable {
    var id: String { reportId }
    let reportId: String
    let category: String
    /// The merchant and the description, shortened; `(no description)` when there is none.
    let summary: String
    /// The district's name, if the report has one.
    let place: String?
    /// How long the problem has been known: `reported 3 h ago`.
    let age: String
    let status: String
    /// `Grid 610103-07` when dispatched.
    let grid: String?
    /// `1 action waiting to be sent` when this phone recorded events the server lacks.
    let waiting: String?
}

/// A section of the inbox, newest problem first.
struct InboxSection: Identifiable {
    var id: String { title }
    let group: InboxGroup
    let title: String
    let rows: [InboxRow]
}

/// The case inbox of a station, supervisor or grid account (mirrors the Android demo's
/// InboxActivity and InboxViewModel): its districts' cases (`cases().list`) by status (new, in
/// progress, dispatched, resolved, rejected), newest problem first, each with its age and what
/// this phone has not sent yet. Only the phone's database is read, so offline it shows what the
/// last sync brought; "Sync now" fetches what changed. The sync status comes through the
/// bindings' `statusStream()`: the "as of" line follows it, and the list reloads when a sync
/// (this screen's or a background one) ends.
struct InboxView: View {
    @EnvironmentObject private var model: AppModel
    @State private var sections: [InboxSection] = []
    @State private var counts = ""
    @State private var lastSuccess: Date?
    @State private var syncing = false
    @State private var running = false
    @State private var message: String?

    var body: some View {
        List {
            Section {
                if let account = model.account {
                    if let followUp = account.followUp {
                        Text(accountLine(account, followUp)).bold()
                        if followUp.areas.isEmpty {
                            Text(L.t("此账户没有负责的区县：请管理员在服务器上添加",
                                     "This account follows no district: an administrator adds them on the server"))
                                .foregroundStyle(.orange)
                        }
                        if !counts.isEmpty { Text(counts).font(.subheadline) }
                    } else {
                        Text(L.t("此账户（\(accountRoleLabel(account.role))）不处理案件：这里只列出驿站、监督员和网格员的待办",
                                 "This account (\(accountRoleLabel(account.role))) follows up no case: this inbox is for station staff, supervisors and grid workers"))
                            .foregroundStyle(.orange)
                    }
                } else {
                    Text(L.t("这部手机还不知道您的账户：请在“同步”页填写服务器和令牌并同步一次",
                             "This phone does not know your account yet: set up the server and token on the Sync screen and sync once"))
                        .foregroundStyle(.orange)
                }
                Text(asOf).font(.footnote).foregroundStyle(.secondary)
                Button(syncing || running ? L.t("正在同步…", "Syncing…") : L.t("立即同步", "Sync now")) { syncNow() }
                    .disabled(syncing || running || model.sync.unavailableReason != nil)
                    .frame(minHeight: 44)
                if let message { Text(message).font(.footnote).foregroundStyle(.secondary) }
            }
            if model.followUp != nil && sections.isEmpty {
                Text(L.t("您的辖区还没有报告（上次同步带来的）", "No reports in your districts yet (as of the last sync)"))
                    .foregroundStyle(.secondary)
            }
            ForEach(sections) { section in
                Section(section.title) {
                    ForEach(section.rows) { row in
                        NavigationLink { CaseDetailView(reportId: row.reportId) } label: { rowView(row) }
                    }
                }
            }
        }
        .navigationTitle(L.t("案件待办", "Case inbox"))
        .task { await load() }
        .refreshable { await load() }
        .task { await followStatus() }
    }

    private func rowView(_ row: InboxRow) -> some View {
        VStack(alignment: .leading, spacing: 4) {
            Text(row.category).bold()
            Text(row.summary).font(.subheadline)
            Text([row.status, row.grid].compactMap { $0 }.joined(separator: " · ")).font(.subheadline)
            Text([row.place, row.age].compactMap { $0 }.joined(separator: " · ")).font(.footnote).foregroundStyle(.secondary)
            if let waiting = row.waiting { Text(waiting).font(.footnote).foregroundStyle(.orange) }
        }
        .frame(minHeight: 44)
        .accessibilityElement(children: .combine)
    }

    private func accountLine(_ account: KnownAccount, _ followUp: FollowUpAccount) -> String {
        let places = followUp.areas.compactMap { districtName($0) }.joined(separator: L.t("、", ", "))
        return "\(accountRoleLabel(account.role)) \(account.user)" + (places.isEmpty ? "" : " · \(places)")
    }

    private var asOf: String {
        guard let lastSuccess else { return L.t("尚未同步过：只显示这部手机上的内容", "Never synced: showing only what is on this phone") }
        return L.t("上次同步：\(formatAgo(lastSuccess))（离线时显示手机上的副本）",
                   "Last synced \(formatAgo(lastSuccess)) (offline, this phone's copy is shown)")
    }

    /// The sync status as the core tells it (the bindings' AsyncStream over `subscribe`); the
    /// list reloads when a sync ends. Ends with the view (SwiftUI cancels the task).
    @MainActor
    private func followStatus() async {
        guard let core = model.core else { return }
        for await status in core.sync().statusStream() {
            let ended = syncing && !status.inProgress
            syncing = status.inProgress
            lastSuccess = status.lastSuccess
            if ended {
                await model.refreshAccount()
                await load()
            }
        }
    }

    /// The account's districts' cases, from the phone's database only.
    @MainActor
    private func load() async {
        guard let followUp = model.followUp else {
            sections = []
            counts = ""
            return
        }
        do {
            let rows = try await model.run { core -> [(InboxGroup, InboxRow)] in
                let cases = try core.cases().list(query: CaseQuery(districts: followUp.areas))
                // Newest problem first: the latest submission heads each section.
                return try cases.sorted { ($0.report.submittedAt ?? $0.report.createdAt) > ($1.report.submittedAt ?? $1.report.createdAt) }
                    .map { summary in
                        let report = try core.reports().get(id: summary.report.id)
                        return (InboxGroup.of(summary.status, gridId: summary.gridId), InboxView.row(summary, report))
                    }
            }
            var counted: [String] = []
            sections = InboxGroup.allCases.compactMap { group in
                let inGroup = rows.filter { $0.0 == group }.map(\.1)
                // A no-break space keeps each count with its label when the line wraps.
                counted.append("\(group.title)\u{00A0}\(inGroup.count)")
                guard !inGroup.isEmpty else { return nil }
                return InboxSection(group: group, title: L.t("\(group.title)（\(inGroup.count)）", "\(group.title) (\(inGroup.count))"), rows: inGroup)
            }
            counts = counted.joined(separator: " · ")
        } catch {
            message = describe(error)
        }
    }

    private static func row(_ summary: CaseSummary, _ report: Report) -> InboxRow {
        let text = [report.merchantName, report.description].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " · ")
        let since = summary.report.submittedAt ?? summary.report.createdAt
        return InboxRow(
            reportId: summary.report.id,
            category: categoryLabel(report.category),
            summary: text.isEmpty ? L.t("（无描述）", "(no description)") : String(text.prefix(120)),
            place: districtName(summary.report.district),
            age: L.zh ? "\(formatAgo(since))上报" : "reported \(formatAgo(since))",
            status: caseStatusLabel(summary.status),
            grid: summary.gridId.map { L.t("网格 ", "Grid ") + $0 },
            waiting: waitingText(PendingActions.forCase(summary.report.id).count)
        )
    }

    private func syncNow() {
        running = true
        Task { @MainActor in
            switch await model.sync.syncNow() {
            case .synced: message = L.t("同步完成", "Synced")
            case let .failed(reason, _): message = L.t("同步失败：", "Sync failed: ") + reason
            case let .unavailable(reason): message = L.t("无法同步：", "Sync unavailable: ") + reason
            }
            running = false
            await model.refreshAccount()
            await load()
        }
    }
}
