import SwiftUI
import Waystation

/// Drafts to finish, and submitted reports with their delivery state and case status.
struct OutboxView: View {
    @EnvironmentObject private var model: AppModel
    @State private var reports: [Report] = []
    @State private var message: String?

    var body: some View {
        List {
            if let message { Text(message).foregroundStyle(.secondary) }
            Section(L.t("草稿", "Drafts")) {
                ForEach(reports.filter { $0.status == ReportStatus.draft }, id: \.id) { report in
                    NavigationLink { ReportFormView(reportId: report.id) } label: { row(report) }
                }
            }
            Section(L.t("已提交", "Submitted")) {
                ForEach(reports.filter { $0.status != ReportStatus.draft }, id: \.id) { report in
                    NavigationLink { CaseDetailView(reportId: report.id) } label: { row(report) }
                }
            }
        }
        .navigationTitle(L.t("发件箱", "Outbox"))
        .task { await load() }
        .refreshable { await load() }
    }

    private func row(_ report: Report) -> some View {
        let label = reportCategories().first { $0.code == report.category }.map { L.zh ? $0.labelZh : $0.labelEn } ?? report.category
        return VStack(alignment: .leading, spacing: 4) {
            Text(label).bold()
            Text(report.description ?? L.t("（无描述）", "(no description)")).font(.subheadline)
            Text(delivery(report)).font(.footnote).foregroundStyle(.secondary)
        }
    }

    private func delivery(_ report: Report) -> String {
        switch (report.status, report.outbox) {
        case (.draft, _): return L.t("草稿，尚未提交", "Draft, not submitted")
        case (.withdrawn, _): return L.t("已撤回", "Withdrawn")
        case (_, .some(.sent(let at))): return L.t("已发送 ", "Sent ") + formatAgo(at)
        case (_, .some(.refused(let reason, _))): return L.t("服务器拒收：", "Refused by the server: ") + reason
        default: return L.t("等待网络发送", "Waiting for a connection")
        }
    }

    @MainActor
    private func load() async {
        let author = model.user
        do {
            // Summaries come from the report index; each row then opens its report.
            reports = try await model.run { core in
                try core.reports().summaries(author: author, status: nil).map { try core.reports().get(id: $0.id) }
            }
        } catch { message = describe(error) }
    }
}
