import SwiftUI
import UIKit
import Waystation

/// A hazard report draft: category, description, location with accuracy and the simulated
/// flag, camera photos, every problem before sending, nearby duplicates, submit. Text is
/// saved when the rider pauses typing; every other change is stored at once.
struct ReportFormView: View {
    let reportId: String?
    @EnvironmentObject private var model: AppModel
    @StateObject private var location = LocationProvider()
    @State private var id: String?
    @State private var report: Report?
    @State private var check: ReportCheck?
    @State private var duplicates: [DuplicateCandidate] = []
    @State private var category = reportCategories().first?.code ?? "other"
    @State private var descriptionText = ""
    @State private var merchantName = ""
    @State private var fixText: String?
    @State private var showCamera = false
    @State private var message: String?
    @State private var saveTask: Task<Void, Never>?
    private let categories = reportCategories()
    private let rules = ReportRules()  // the defaults

    var body: some View {
        Form {
            if id == nil {
                Section(L.t("报告什么问题？", "What is the problem?")) {
                    Picker(L.t("类别", "Category"), selection: $category) {
                        ForEach(categories, id: \.code) { Text(L.zh ? $0.labelZh : $0.labelEn).tag($0.code) }
                    }
                    Button(L.t("开始填写", "Start the report")) { start() }
                }
            } else if let report, report.status != ReportStatus.draft {
                Section { Text(L.t("已提交，不能再修改", "Submitted: it can no longer be changed")) }
                Section { NavigationLink(L.t("查看处理进度", "Case timeline")) { CaseDetailView(reportId: report.id) } }
            } else {
                Section(L.t("描述", "Description")) {
                    TextEditor(text: $descriptionText).frame(minHeight: 80)
                        .onChange(of: descriptionText) { _ in autosave() }
                    if needsMerchant {
                        TextField(L.t("商户名称", "Merchant name"), text: $merchantName)
                            .onChange(of: merchantName) { _ in autosave() }
                    }
                }
                Section(L.t("位置", "Location")) {
                    if let position = report?.position {
                        Text(formatAccuracy(position.accuracyM) + String(format: " · %.5f, %.5f", position.lat, position.lon)
                            + (position.mock ? L.t(" · 模拟定位", " · simulated") : ""))
                    } else {
                        Text(L.t("尚未记录位置", "No location yet")).foregroundStyle(.secondary)
                    }
                    if let fixText { Text(fixText).font(.footnote).foregroundStyle(.secondary) }
                    Button(L.t("记录我现在的位置", "Record my location")) { locate() }
                }
                Section(L.t("照片", "Photos")) {
                    ForEach(report?.photos ?? [], id: \.sha256) { photo in
                        HStack {
                            Text("\(photo.mediaType) · \(photo.sizeBytes / 1024) KB")
                            Spacer()
                            Button(L.t("移除", "Remove")) { change { core, id in try core.reports().removePhoto(id: id, sha256: photo.sha256) } }
                        }
                    }
                    Button(L.t("拍照", "Take a photo")) { showCamera = true }
                        .disabled(!UIImagePickerController.isSourceTypeAvailable(.camera))
                    Text(L.t("照片的 EXIF（含 GPS）会在保存前删除", "EXIF metadata, GPS included, is removed before the photo is stored"))
                        .font(.footnote).foregroundStyle(.secondary)
                }
                if !duplicates.isEmpty {
                    Section(L.t("附近可能相同的报告", "Possibly the same problem nearby")) {
                        ForEach(duplicates, id: \.report.id) { d in
                            Text("\(formatDistance(d.distanceM)) · \(caseStatusLabel(d.caseStatus)) · \(d.report.description ?? "")")
                        }
                    }
                }
                if let check, !(check.problems.isEmpty && check.warnings.isEmpty) {
                    Section(L.t("提交前", "Before sending")) {
                        ForEach(check.problems, id: \.self) { Text("✗ \($0.field): \($0.message)").foregroundStyle(.red) }
                        ForEach(check.warnings, id: \.self) { Text("⚠ \($0.field): \($0.message)").foregroundStyle(.orange) }
                    }
                }
                Section {
                    Button(L.t("提交", "Submit")) { submit() }.disabled(!(check?.problems.isEmpty ?? false))
                    Button(L.t("删除草稿", "Delete draft"), role: .destructive) { deleteDraft() }
                }
            }
            if let message { Section { Text(message).foregroundStyle(.secondary) } }
        }
        .navigationTitle(L.t("隐患报告", "Hazard report"))
        .sheet(isPresented: $showCamera) {
            CameraPicker { jpeg in
                // Async in the bindings: stripping and storing runs on the library's executor.
                changeAsync { core, id in try await core.reports().attachPhoto(id: id, photo: jpeg, rules: rules) }
            }
        }
        .task {
            if let reportId, id == nil {
                id = reportId
                await reload()
            }
        }
    }

    private var needsMerchant: Bool {
        categories.first { $0.code == report?.category }?.needsMerchant ?? false
    }

    private func start() {
        let author = model.user
        let code = category
        Task { @MainActor in
            do {
                id = try await model.run { core in try core.reports().createDraft(author: author, category: code) }
                await reload()
            } catch { message = describe(error) }
        }
    }

    /// Reads the report, its check and its possible duplicates.
    @MainActor
    private func reload() async {
        guard let id else { return }
        let rules = rules
        do {
            let (r, c, d) = try await model.run { core -> (Report, ReportCheck?, [DuplicateCandidate]) in
                let r = try core.reports().get(id: id)
                guard r.status == ReportStatus.draft else { return (r, nil, []) }
                let c = try core.reports().check(id: id, rules: rules)
                let d: [DuplicateCandidate] = try r.position == nil ? [] : core.reports().nearbyDuplicates(reportId: id, rules: DuplicateRules())
                return (r, c, d)
            }
            if report == nil {
                descriptionText = r.description ?? ""
                merchantName = r.merchantName ?? ""
            }
            report = r
            check = c
            duplicates = d
        } catch { message = describe(error) }
    }

    /// Runs a change on the draft, then reloads.
    private func change<T>(_ work: @escaping (Waystation, String) throws -> T) {
        guard let id else { return }
        Task { @MainActor in
            do {
                _ = try await model.run { core in try work(core, id) }
                await reload()
            } catch { message = describe(error) }
        }
    }

    /// Runs an async change on the draft (on the library's executor), then reloads.
    private func changeAsync<T>(_ work: @escaping (Waystation, String) async throws -> T) {
        guard let id, let core = model.core else { return }
        Task { @MainActor in
            do {
                _ = try await work(core, id)
                await reload()
            } catch { message = describe(error) }
        }
    }

    /// Saves typed text after a pause of 0.8 s (the Android demo's AutosavePolicy).
    private func autosave() {
        saveTask?.cancel()
        let patch = ReportPatch(description: descriptionText, merchantName: merchantName.isEmpty ? nil : merchantName)
        saveTask = Task { @MainActor in
            try? await Task.sleep(nanoseconds: 800_000_000)
            if Task.isCancelled { return }
            change { core, id in try core.reports().updateDraft(id: id, patch: patch) }
        }
    }

    private func locate() {
        fixText = L.t("正在定位…", "Finding your position…")
        location.locate { fix in
            guard let fix else {
                fixText = L.t("没有定位结果：请到开阔处再试", "No fix: try again in the open")
                return
            }
            fixText = formatAccuracy(fix.accuracyM) + (fix.mock ? L.t(" · 模拟定位：报告会被标记", " · simulated: the report will be flagged") : "")
            // Stored even when imprecise or simulated: the core flags it, and the check says
            // whether the report can be sent with it.
            change { core, id in try core.reports().setPosition(id: id, fix: fix) }
        }
    }

    private func submit() {
        guard let id else { return }
        let author = model.user
        let rules = rules
        let patch = ReportPatch(description: descriptionText, merchantName: merchantName.isEmpty ? nil : merchantName)
        saveTask?.cancel()
        Task { @MainActor in
            do {
                _ = try await model.run { core in
                    _ = try core.reports().updateDraft(id: id, patch: patch)
                    return try core.reports().submit(author: author, id: id, rules: rules)
                }
                message = L.t("已提交，联网后自动发送", "Submitted: it is sent as soon as there is a connection")
                model.sync.refresh()
                BackgroundSync.schedule(model: model)
                await reload()
            } catch { message = describe(error) }
        }
    }

    private func deleteDraft() {
        guard let id else { return }
        let author = model.user
        Task { @MainActor in
            do {
                try await model.run { core in try core.reports().deleteDraft(author: author, id: id) }
                self.id = nil
                report = nil
                check = nil
                descriptionText = ""
                merchantName = ""
            } catch { message = describe(error) }
        }
    }
}

/// The camera, through UIImagePickerController; hands back JPEG bytes (the core strips EXIF).
struct CameraPicker: UIViewControllerRepresentable {
    let onPhoto: (Data) -> Void
    @Environment(\.dismiss) private var dismiss

    func makeUIViewController(context: Context) -> UIImagePickerController {
        let picker = UIImagePickerController()
        picker.sourceType = .camera
        picker.delegate = context.coordinator
        return picker
    }

    func updateUIViewController(_ controller: UIImagePickerController, context: Context) {}

    func makeCoordinator() -> Coordinator { Coordinator(self) }

    final class Coordinator: NSObject, UIImagePickerControllerDelegate, UINavigationControllerDelegate {
        let parent: CameraPicker
        init(_ parent: CameraPicker) { self.parent = parent }

        func imagePickerController(_ picker: UIImagePickerController, didFinishPickingMediaWithInfo info: [UIImagePickerController.InfoKey: Any]) {
            if let image = info[.originalImage] as? UIImage, let jpeg = image.jpegData(compressionQuality: 0.8) {
                parent.onPhoto(jpeg)
            }
            parent.dismiss()
        }

        func imagePickerControllerDidCancel(_ picker: UIImagePickerController) {
            parent.dismiss()
        }
    }
}
