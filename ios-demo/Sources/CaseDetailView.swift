import PhotosUI
import SwiftUI
import UIKit
import Waystation

/// A photo of the report: on the phone already, or to fetch from the server on demand.
struct CasePhoto: Identifiable {
    var id: String { sha256 }
    let sha256: String
    /// `Photo 1 · 120 KB`: what VoiceOver says of the image.
    let label: String
    /// The button that fetches it: `Fetch photo 1 (120 KB)`.
    let fetchLabel: String
    /// The file, when the phone has it (the reporter's phone, or after a fetch).
    let path: String?
}

/// What the case screen shows, read off the core queue in one go.
struct CaseDetail {
    let caseView: CaseView
    let report: Report
    let photos: [CasePhoto]
    /// Each event's photos by event id (an inspection note's or a resolve's), in its order.
    let eventPhotos: [String: [CasePhoto]]
    /// Photos on this phone waiting for the next sync (`SyncStatus.pendingPhotos`; 0 for a rider).
    let pendingPhotos: Int64
    /// The buttons this account may use now; empty for a rider, or outside its districts.
    let actions: [CaseAction]
    /// Why a follow-up account has no actions here (outside its districts).
    let actionsNotice: String?
    /// This phone's events on the case that the server has not taken yet.
    let waitingIds: Set<String>
    /// The server's reason, when it refused the case's changes.
    let refusal: String?
}

/// A submitted report's case (mirrors the Android demo's CaseActivity and CaseViewModel; named
/// so as not to clash with the generated record `CaseView`): the report (category,
/// description, merchant, place, photos, a photo the phone lacks fetched from the server when
/// its button is tapped), the derived status and every event, oldest first.
///
/// A rider (from the outbox) reads it. A station, supervisor or grid account (from the inbox;
/// the role is the one the server told the phone at its last sync) also gets the actions its
/// role may take in the case's status: acknowledge, dispatch to a grid, note, inspection note
/// with photos, resolve (with photos too), reject with a reason. A photo, from the camera or
/// the library, is stored on the phone when taken (`cases().storePhoto`: metadata stripped,
/// size-capped) and named in the event (`cases().record(..., photos:)`). Each action is saved
/// on the phone at once (no network) and sent, photos first, at the next sync; the screen says
/// what is still waiting. The timeline shows each event's photos, fetched from the server on
/// demand when the phone lacks them (another account's photos).
struct CaseDetailView: View {
    let reportId: String
    @EnvironmentObject private var model: AppModel
    @State private var detail: CaseDetail?
    @State private var pictures: [String: UIImage] = [:]
    /// The text typed for each action that needs one.
    @State private var typed: [CaseAction: String] = [:]
    /// The photos stored for each action that takes them, sent with it when it is recorded.
    @State private var attached: [CaseAction: [ReportPhoto]] = [:]
    /// The action the camera is open for.
    @State private var cameraFor: CaseAction?
    @State private var busy = false
    @State private var message: String?

    var body: some View {
        List {
            if let message { Text(message).foregroundStyle(.secondary) }
            if let detail {
                statusSection(detail)
                reportSection(detail)
                actionsSection(detail)
                timelineSection(detail)
            }
        }
        .navigationTitle(L.t("处理进度", "Case timeline"))
        .task { await load() }
        .task { await followStatus() }
        .sheet(isPresented: Binding(get: { cameraFor != nil }, set: { if !$0 { cameraFor = nil } })) {
            let action = cameraFor
            CameraPicker { jpeg in
                if let action { store(jpeg, for: action) }
            }
        }
    }

    private func statusSection(_ detail: CaseDetail) -> some View {
        let view = detail.caseView
        let open = view.open311Status == Open311Status.open
        return Section {
            Text(caseStatusLabel(view.status)).font(.title3).bold()
            // The core's notes are English; in Chinese the status heading says the rest.
            Text(L.zh ? "Open311 状态：\(open ? "open（未结案）" : "closed（已结案）")" : "Open311: \(open ? "open" : "closed") — \(view.statusNotes)")
                .font(.footnote).foregroundStyle(.secondary)
            if let grid = view.gridId { Text(L.t("网格 ", "Grid ") + grid) }
            if let waiting = waitingLine(detail) {
                Text(waiting).bold().foregroundStyle(detail.refusal != nil || !detail.waitingIds.isEmpty ? Color.orange : Color.green)
            }
        }
    }

    /// For a follow-up account: what waits to be sent, or the server's refusal. None for a rider.
    private func waitingLine(_ detail: CaseDetail) -> String? {
        guard model.followUp != nil else { return nil }
        if let refusal = detail.refusal {
            return L.t("服务器拒收了此案件的更改（已保留在手机上）：", "The server refused this case's changes (kept on the phone): ") + refusal
        }
        let count = detail.waitingIds.count
        if count == 0 { return L.t("没有等待发送的操作", "Nothing waiting to be sent") }
        let actions = L.zh ? "\(count) 项操作已保存在手机上，等待发送" : "\(count) \(count == 1 ? "action" : "actions") saved on this phone, waiting to be sent"
        let photos = detail.pendingPhotos
        if photos <= 0 { return actions }
        return actions + (L.zh ? "（连同 \(photos) 张照片）" : " (with \(photos) \(photos == 1 ? "photo" : "photos"))")
    }

    private func reportSection(_ detail: CaseDetail) -> some View {
        let report = detail.report
        let merchant = [report.merchantName, report.merchantAddress].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " · ")
        let position = report.position.map { String(format: "%.5f, %.5f", $0.lat, $0.lon) + " · " + formatAccuracy($0.accuracyM) }
        let place = [districtName(report.district), report.address, position].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " · ")
        let at = report.submittedAt ?? report.createdAt
        return Section(L.t("报告", "Report")) {
            Text(categoryLabel(report.category)).bold()
            if let description = report.description, !description.isEmpty { Text(description) }
            if !merchant.isEmpty { Text(L.t("商户：", "Merchant: ") + merchant).font(.subheadline) }
            if !place.isEmpty { Text(place).font(.subheadline) }
            Text(L.zh ? "上报于 \(formatClock(at))（\(formatAgo(at))）" : "Reported \(formatClock(at)) (\(formatAgo(at)))")
                .font(.footnote).foregroundStyle(.secondary)
            if detail.photos.isEmpty { Text(L.t("没有照片", "No photos")).font(.subheadline).foregroundStyle(.secondary) }
            ForEach(detail.photos) { photo in photoRow(photo) }
        }
    }

    /// The photo when the phone has it; otherwise a button that fetches it from the server.
    @ViewBuilder
    private func photoRow(_ photo: CasePhoto) -> some View {
        if photo.path != nil {
            if let picture = pictures[photo.sha256] {
                Image(uiImage: picture).resizable().scaledToFit().accessibilityLabel(photo.label)
            } else {
                Text(photo.label + L.t("（无法显示）", " (cannot be shown)")).font(.subheadline).foregroundStyle(.orange)
            }
        } else if SyncAccount.load() == nil {
            Button(photo.fetchLabel) {}.disabled(true)
            Text(L.t("设置同步服务器后可下载照片", "Set up the sync server to fetch photos")).font(.footnote).foregroundStyle(.secondary)
        } else {
            // Borderless: in a timeline row, a plain button would take the whole row's taps.
            Button(photo.fetchLabel) { fetch(photo) }
                .buttonStyle(.borderless)
                .disabled(busy)
                .frame(minHeight: 44)
        }
    }

    /// The account's actions, each with the text it needs; nothing for a rider.
    @ViewBuilder
    private func actionsSection(_ detail: CaseDetail) -> some View {
        if let notice = detail.actionsNotice {
            Section { Text(notice).foregroundStyle(.orange) }
        }
        if !detail.actions.isEmpty {
            Section(L.t("处理", "Follow up")) {
                ForEach(detail.actions, id: \.self) { action in
                    if action.needsText {
                        TextField(action.hint, text: text(action), axis: action == .dispatch ? .horizontal : .vertical)
                            .textInputAutocapitalization(action == .dispatch ? TextInputAutocapitalization.never : TextInputAutocapitalization.sentences)
                        if action.takesPhotos { attachRows(action) }
                        Button(action.label) { act(action) }
                            .disabled(busy || (typed[action] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
                            .frame(minHeight: 44)
                    } else {
                        if action.takesPhotos { attachRows(action) }
                        Button(action.label) { act(action) }
                            .disabled(busy)
                            .frame(minHeight: 44)
                    }
                }
            }
        }
    }

    /// The photos stored for `action` so far (each removable) and, below the limit, the camera
    /// and the photo library. A photo is stored when picked; it goes out with the action.
    @ViewBuilder
    private func attachRows(_ action: CaseAction) -> some View {
        let photos = attached[action] ?? []
        ForEach(Array(photos.enumerated()), id: \.element.sha256) { index, photo in
            HStack {
                Text(L.t("照片 \(index + 1) · \(formatBytes(photo.sizeBytes))", "Photo \(index + 1) · \(formatBytes(photo.sizeBytes))"))
                Spacer()
                Button(L.t("移除", "Remove")) { attached[action]?.removeAll { $0.sha256 == photo.sha256 } }
                    .buttonStyle(.borderless)
            }
        }
        if photos.count < CaseAction.maxPhotos {
            Button(L.t("拍照", "Take a photo")) { cameraFor = action }
                .disabled(busy || !UIImagePickerController.isSourceTypeAvailable(.camera))
                .frame(minHeight: 44)
            PhotosPicker(selection: library(action), matching: .images) {
                Text(L.t("从相册选择照片", "Choose a photo from the library"))
            }
            .disabled(busy)
            .frame(minHeight: 44)
        } else {
            Text(L.t("每条记录最多 \(CaseAction.maxPhotos) 张照片", "At most \(CaseAction.maxPhotos) photos per event"))
                .font(.footnote).foregroundStyle(.secondary)
        }
    }

    /// The library picker's selection for `action`: never shows one, stores each picked photo.
    private func library(_ action: CaseAction) -> Binding<PhotosPickerItem?> {
        Binding(get: { nil }, set: { item in
            guard let item else { return }
            Task { @MainActor in
                do {
                    guard let data = try await item.loadTransferable(type: Data.self) else { return }
                    // HEIC and other library formats become JPEG, as the camera's photos are.
                    guard let jpeg = UIImage(data: data)?.jpegData(compressionQuality: 0.8) else {
                        message = L.t("无法读取这张照片", "This photo cannot be read")
                        return
                    }
                    store(jpeg, for: action)
                } catch {
                    message = describe(error)
                }
            }
        })
    }

    /// Stores the photo on the phone (`cases().storePhoto`: metadata stripped, size-capped like
    /// a report photo; an oversized or broken image is refused with the core's reason) and
    /// keeps its SHA-256 for the action.
    private func store(_ jpeg: Data, for action: CaseAction) {
        guard let core = model.core else { return }
        busy = true
        Task { @MainActor in
            do {
                let photo = try await core.cases().storePhoto(photo: jpeg)
                var photos = attached[action] ?? []
                if !photos.contains(where: { $0.sha256 == photo.sha256 }) { photos.append(photo) }
                attached[action] = photos
            } catch {
                message = L.t("照片未能保存：", "The photo was not stored: ") + describe(error)
            }
            busy = false
        }
    }

    private func timelineSection(_ detail: CaseDetail) -> some View {
        let view = detail.caseView
        return Section(L.t("处理记录", "Timeline")) {
            if view.timeline.isEmpty { Text(L.t("还没有人跟进", "Nobody has followed it up yet")).foregroundStyle(.secondary) }
            ForEach(view.timeline, id: \.event.id) { entry in
                VStack(alignment: .leading, spacing: 4) {
                    Text("\(formatClock(entry.event.at)) · \(roleLabel(entry.event.role)) \(entry.event.actor)")
                        .font(.footnote).foregroundStyle(.secondary)
                    Text(eventLabel(entry.event.kind)).bold()
                    if let note = entry.event.note, !note.isEmpty { Text(note) }
                    ForEach(detail.eventPhotos[entry.event.id] ?? []) { photo in photoRow(photo) }
                    if detail.waitingIds.contains(entry.event.id) {
                        Text(L.t("保存在手机上，等待发送", "Saved on this phone, waiting to be sent")).font(.footnote).foregroundStyle(.orange)
                    }
                    if !entry.applied {
                        Text(L.t("未生效：", "Not applied: ") + (entry.notAppliedBecause ?? "")).font(.footnote).foregroundStyle(.orange)
                    }
                }
            }
            if !view.unreadableEvents.isEmpty {
                let n = view.unreadableEvents.count
                Text(L.t("\(n) 条记录来自更新的版本，请更新应用", "\(n) events come from a newer app version: update the app")).foregroundStyle(.orange)
            }
        }
    }

    private func text(_ action: CaseAction) -> Binding<String> {
        Binding(get: { typed[action] ?? "" }, set: { typed[action] = $0 })
    }

    /// The case, the report and what the account may do, from the phone's database only.
    @MainActor
    private func load() async {
        let id = reportId
        let account = model.followUp
        do {
            let loaded = try await model.run { core in try CaseDetailView.read(core, reportId: id, account: account) }
            detail = loaded
            var decoded: [String: UIImage] = [:]
            for photo in loaded.photos + loaded.eventPhotos.values.flatMap({ $0 }) {
                if let path = photo.path, let image = UIImage(contentsOfFile: path) { decoded[photo.sha256] = image }
            }
            pictures = decoded
        } catch {
            message = describe(error)
        }
    }

    /// Runs on the core queue.
    private static func read(_ core: Waystation, reportId: String, account: FollowUpAccount?) throws -> CaseDetail {
        let report = try core.reports().get(id: reportId)
        let view = try core.cases().get(reportId: reportId)
        let group = reportCategories().first { $0.code == report.category }?.group ?? CategoryGroup.other
        let inArea = account.map { account in report.district.map { account.areas.contains($0) } ?? false } ?? false
        var actions: [CaseAction] = []
        if let account, inArea { actions = allowedActions(role: account.role, status: view.status, group: group) }
        let photos = report.photos.enumerated().map { index, photo -> CasePhoto in
            let size = formatBytes(photo.sizeBytes)
            return CasePhoto(sha256: photo.sha256,
                             label: L.t("照片 \(index + 1) · \(size)", "Photo \(index + 1) · \(size)"),
                             fetchLabel: L.t("下载照片 \(index + 1)（\(size)）", "Fetch photo \(index + 1) (\(size))"),
                             path: localPath(core, sha256: photo.sha256))
        }
        // An event names its photos by SHA-256 only: the writer's phone holds them, others
        // fetch them on demand (the server lets the case's readers have them).
        var eventPhotos: [String: [CasePhoto]] = [:]
        for entry in view.timeline where !entry.event.photos.isEmpty {
            eventPhotos[entry.event.id] = entry.event.photos.enumerated().map { index, sha in
                CasePhoto(sha256: sha,
                          label: L.t("现场照片 \(index + 1)", "Site photo \(index + 1)"),
                          fetchLabel: L.t("下载现场照片 \(index + 1)", "Fetch site photo \(index + 1)"),
                          path: localPath(core, sha256: sha))
            }
        }
        var refusal: String?
        var pendingPhotos: Int64 = 0
        if account != nil {
            refusal = try core.sync().refusals().first { $0.docId == PendingActions.caseDocId(reportId) }?.reason
            pendingPhotos = try core.sync().status().pendingPhotos
        }
        return CaseDetail(
            caseView: view, report: report, photos: photos, eventPhotos: eventPhotos, pendingPhotos: pendingPhotos, actions: actions,
            actionsNotice: account != nil && !inArea
                ? L.t("这份报告不在您负责的区县，不能处理", "This report is outside your districts: you cannot act on it") : nil,
            waitingIds: PendingActions.forCase(reportId), refusal: refusal)
    }

    /// The photo's file when the phone has it. NotFound: a report or case that came through
    /// sync brings its photos' hashes only.
    private static func localPath(_ core: Waystation, sha256: String) -> String? {
        (try? core.reports().photoPath(sha256: sha256)).flatMap { FileManager.default.fileExists(atPath: $0) ? $0 : nil }
    }

    /// Records the action as this phone's follow-up account, on the phone (the next sync sends
    /// it), and notes its new events as waiting. The core refuses what the role may not do, or
    /// a blank reason, with a message; nothing is stored then.
    private func act(_ action: CaseAction) {
        guard let account = model.followUp else {
            message = L.t("这部手机的账户不能处理案件", "This phone's account cannot act on cases")
            return
        }
        let id = reportId
        let text = typed[action] ?? ""
        let photos = action.takesPhotos ? (attached[action] ?? []).map(\.sha256) : []
        busy = true
        Task { @MainActor in
            do {
                try await model.run { core -> Void in
                    let before = try Set(core.cases().get(reportId: id).timeline.map(\.event.id))
                    let after = try core.cases().record(reportId: id, actor: account.user, role: account.role,
                                                        kind: action.kind(text), note: action.note(text), photos: photos)
                    for entry in after.timeline where !before.contains(entry.event.id) {
                        PendingActions.add(reportId: id, eventId: entry.event.id)
                    }
                }
                typed[action] = nil
                attached[action] = nil
                message = action.savedText
                model.sync.refresh()
            } catch {
                message = describe(error)
            }
            busy = false
            await load()
        }
    }

    /// Downloads a photo the phone lacks (a follow-up phone gets reports through sync, their
    /// photos only when looked at); the core checks it against its SHA-256 and stores it.
    private func fetch(_ photo: CasePhoto) {
        guard let core = model.core, let account = SyncAccount.load() else { return }
        busy = true
        Task { @MainActor in
            do {
                _ = try await core.reports().fetchPhoto(options: account.options, sha256: photo.sha256)
            } catch {
                message = L.t("照片下载失败：", "The photo could not be fetched: ") + describe(error)
            }
            busy = false
            await load()
        }
    }

    /// Reloads when a sync ends (what waits to be sent changes), through the bindings' stream.
    @MainActor
    private func followStatus() async {
        guard let core = model.core else { return }
        var syncing = false
        for await status in core.sync().statusStream() {
            if syncing && !status.inProgress { await load() }
            syncing = status.inProgress
        }
    }
}
