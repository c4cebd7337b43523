import SwiftUI
import Waystation

/// Sync status: what waits, the last success and error, what the last "Sync now" fetched (new
/// packs, lesson images); "Sync now"; background sync choice.
struct SyncStatusView: View {
    @EnvironmentObject private var model: AppModel
    @State private var snapshot: SyncSnapshot?
    @State private var running = false
    @State private var message: String?
    /// What this screen's last "Sync now" fetched, shown under the status.
    @State private var packs: PackUpdate?
    @AppStorage("background_sync") private var background = true
    @State private var server = SyncAccount.load()?.server ?? ""
    @State private var token = SyncAccount.load()?.token ?? ""

    var body: some View {
        List {
            if let snapshot {
                Section {
                    Text(headline(snapshot)).font(.title3).bold()
                    if snapshot.pendingDocuments > 0 { Text(L.t("待发送记录：\(snapshot.pendingDocuments)", "Records waiting: \(snapshot.pendingDocuments)")) }
                    if snapshot.pendingPhotos > 0 { Text(L.t("待上传照片：\(snapshot.pendingPhotos)", "Photos waiting: \(snapshot.pendingPhotos)")) }
                    if snapshot.refused > 0 {
                        Text(L.t("\(snapshot.refused) 项被服务器拒收（已保留在手机上）", "\(snapshot.refused) refused by the server (kept on the phone)"))
                            .foregroundStyle(.orange)
                    }
                    Text(snapshot.lastSuccess.map { L.t("上次成功同步：", "Last synced ") + formatAgo($0) } ?? L.t("尚未同步过", "Never synced"))
                    if let error = snapshot.lastError { Text(L.t("上次错误：", "Last error: ") + error).foregroundStyle(.orange) }
                    ForEach(packs?.lines ?? [], id: \.self) { Text($0) }
                }
            }
            if let reason = model.sync.unavailableReason {
                Section { Text(L.t("无法同步：", "Sync unavailable: ") + reason).foregroundStyle(.orange) }
            }
            Section {
                Button(L.t("立即同步", "Sync now")) { syncNow() }
                    .disabled(running || model.sync.unavailableReason != nil)
                Toggle(L.t("后台自动同步（有网络时）", "Sync in the background (on a network)"), isOn: $background)
                    .onChange(of: background) { _ in BackgroundSync.schedule(model: model) }
            }
            Section(L.t("同步服务器", "Sync server")) {
                TextField("https://sync.example.org", text: $server)
                    .textInputAutocapitalization(.never)
                    .keyboardType(.URL)
                SecureField(L.t("令牌（管理员发放）", "Token (from an administrator)"), text: $token)
                Button(L.t("保存", "Save")) {
                    let s = server.trimmingCharacters(in: .whitespaces)
                    let t = token.trimmingCharacters(in: .whitespaces)
                    if !SyncAccount.save(s.isEmpty || t.isEmpty ? nil : SyncAccount(server: s, token: t)) {
                        message = L.t("无法把令牌存入钥匙串，未保存", "The Keychain refused the token: nothing was saved")
                    }
                    BackgroundSync.schedule(model: model)
                    Task { await load() }
                }
            }
            if let message { Section { Text(message).foregroundStyle(.secondary) } }
        }
        .navigationTitle(L.t("同步", "Sync"))
        .task {
            model.sync.onChange = { snapshot = $0 }
            await load()
        }
    }

    private func headline(_ s: SyncSnapshot) -> String {
        if s.inProgress || running { return L.t("正在同步…", "Syncing…") }
        let pending = s.pendingDocuments + s.pendingPhotos
        if pending > 0 { return L.t("\(pending) 项等待发送", "\(pending) waiting to be sent") }
        if s.lastError != nil || s.refused > 0 { return L.t("需要注意", "Needs attention") }
        return L.t("没有待发送的内容", "Nothing waiting to be sent")
    }

    @MainActor
    private func load() async {
        let sync = model.sync
        snapshot = try? await model.run { _ in try sync.status() }
    }

    private func syncNow() {
        running = true
        Task { @MainActor in
            switch await model.sync.syncNow() {
            case let .synced(_, fetched):
                message = L.t("同步完成", "Synced")
                packs = fetched
            case let .failed(reason, _):
                message = L.t("同步失败：", "Sync failed: ") + reason
                packs = nil
            case let .unavailable(reason):
                message = L.t("无法同步：", "Sync unavailable: ") + reason
                packs = nil
            }
            running = false
            await load()
            // A sync ends by asking the server who the token is (GET /v1/me): the role may have
            // changed, and with it whether the case inbox shows.
            await model.refreshAccount()
        }
    }
}
