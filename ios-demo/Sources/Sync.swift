import BackgroundTasks
import Foundation
import Security
import Waystation

/*
 * Sync as the demo sees it, mirroring the Android demo's SyncGateway (android-demo/shared,
 * Sync.kt and CoreSyncGateway.kt, which are tested in CI against a real server).
 * CoreSyncGateway runs the core's sync, then its pack fetch (newer station and training packs,
 * lesson images); OutboxOnlySyncGateway, which counts the local outbox and sends nothing,
 * remains for a core built without sync.
 */

/// The sync screen's data.
struct SyncSnapshot {
    var pendingDocuments: Int
    var pendingPhotos: Int
    var lastSuccess: Date?
    var lastError: String?
    var inProgress: Bool
    var refused: Int
}

/// What a sync's pack fetch (the core's `packs().fetch`, after the reports) brought: the pack
/// versions newly installed and the lesson images downloaded. Empty when nothing changed.
struct PackUpdate: Equatable {
    /// The station directory's version, when a newer one was installed.
    var stations: UInt64? = nil
    /// The training pack's version, when a newer one was installed.
    var training: UInt64? = nil
    var imagesFetched = 0
    /// Still missing; the next sync asks for them again.
    var imagesMissing = 0
    /// Why each missing image could not be stored (the core's words, in English).
    var imageProblems: [String] = []

    /// The sync screen's lines (as the Android demo's presentPackUpdate); none when nothing changed.
    var lines: [String] {
        var lines: [String] = []
        if let v = stations { lines.append(L.t("站点目录已更新到第 \(v) 版", "Station directory updated to version \(v)")) }
        if let v = training { lines.append(L.t("培训内容已更新到第 \(v) 版", "Training updated to version \(v)")) }
        if imagesFetched > 0 {
            lines.append(L.t("已下载 \(imagesFetched) 张课程图片",
                             "\(imagesFetched) lesson \(imagesFetched == 1 ? "image" : "images") downloaded"))
        }
        if imagesMissing > 0 {
            let why = imageProblems.first.map { L.t("：", ": ") + $0 } ?? ""
            lines.append(L.t("仍缺 \(imagesMissing) 张课程图片（下次同步再试）",
                             "\(imagesMissing) lesson \(imagesMissing == 1 ? "image" : "images") still missing (the next sync tries again)") + why)
        }
        return lines
    }
}

enum SyncOutcome {
    case synced(SyncSnapshot, packs: PackUpdate)
    case failed(reason: String, retryable: Bool)
    case unavailable(reason: String)
}

protocol SyncGateway: AnyObject {
    /// Nil when sync can run; otherwise why it cannot. Cheap: no I/O.
    var unavailableReason: String? { get }
    func status() throws -> SyncSnapshot
    func syncNow() async -> SyncOutcome
    /// Re-reads the status and tells the observers (after a local change).
    func refresh()
    var onChange: ((SyncSnapshot) -> Void)? { get set }
}

/// Where and as whom to sync: the server's URL in UserDefaults, the token in the Keychain
/// (`TokenKeychain`).
struct SyncAccount {
    var server: String
    var token: String

    static func load() -> SyncAccount? {
        guard let server = UserDefaults.standard.string(forKey: "sync_server"), !server.isEmpty,
              let token = TokenKeychain.read(), !token.isEmpty else { return nil }
        return SyncAccount(server: server, token: token)
    }

    /// Saves the account, or forgets it when nil. False when the Keychain refused the token;
    /// nothing is saved then.
    @discardableResult
    static func save(_ account: SyncAccount?) -> Bool {
        guard TokenKeychain.write(account?.token) else { return false }
        UserDefaults.standard.set(account?.server, forKey: "sync_server")
        return true
    }

    /// 30 s per request and 4 tries with backoff: the core's defaults, left unset.
    var options: SyncOptions {
        SyncOptions(server: server, token: token)
    }
}

/// The sync token in the Keychain: a generic password of the service
/// "org.waystation.demo.sync". AfterFirstUnlockThisDeviceOnly: readable once the phone has
/// been unlocked since it started, so a BGTaskScheduler run with the screen locked can sync;
/// never in iCloud Keychain nor restored to another phone (the rider enters it again there).
/// Keychain items outlive deleting the app, UserDefaults do not: after a reinstall the server
/// is unset, so the account reads as "not set up" until the rider saves it, which replaces
/// the token. Called from the main thread and the background task: one lock guards it all.
enum TokenKeychain {
    static let service = "org.waystation.demo.sync"
    private static let account = "sync_token"
    /// Where the old demo kept the token in plain text; only read to move it here.
    private static let oldDefaultsKey = "sync_token"
    private static let lock = NSLock()
    /// The token last read or written (`known`), so that `unavailableReason`, asked at each
    /// SwiftUI redraw, does not call the Keychain (another process) every time.
    private static var known = false
    private static var cached: String?

    private static var item: [String: Any] {
        [kSecClass as String: kSecClassGenericPassword,
         kSecAttrService as String: service,
         kSecAttrAccount as String: account]
    }

    /// The token; nil when none is saved, or when the Keychain cannot be read now (before the
    /// first unlock): sync is then "not set up" until a later read succeeds.
    static func read() -> String? {
        lock.lock()
        defer { lock.unlock() }
        // The old demo kept the token in UserDefaults: move it here, and drop the plain copy
        // only once the Keychain holds it (until then it is still used).
        if let plain = UserDefaults.standard.string(forKey: oldDefaultsKey) {
            if store(plain) { UserDefaults.standard.removeObject(forKey: oldDefaultsKey) }
            return plain
        }
        if known { return cached }
        var query = item
        query[kSecReturnData as String] = true
        query[kSecMatchLimit as String] = kSecMatchLimitOne
        var result: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &result)
        if status == errSecItemNotFound {
            known = true
            cached = nil
        } else if status == errSecSuccess, let data = result as? Data, let token = String(data: data, encoding: .utf8) {
            known = true
            cached = token
        }
        // Otherwise (errSecInteractionNotAllowed before the first unlock…) nothing is
        // remembered: the next read asks again.
        return known ? cached : nil
    }

    /// Saves the token, or deletes it when nil. False when the Keychain refused.
    @discardableResult
    static func write(_ token: String?) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard store(token) else { return false }
        UserDefaults.standard.removeObject(forKey: oldDefaultsKey)
        return true
    }

    /// The caller holds `lock`.
    private static func store(_ token: String?) -> Bool {
        var status: OSStatus
        if let token {
            let attributes: [String: Any] = [
                kSecValueData as String: Data(token.utf8),
                kSecAttrAccessible as String: kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
            ]
            status = SecItemUpdate(item as CFDictionary, attributes as CFDictionary)
            if status == errSecItemNotFound {
                let newItem = item.merging(attributes) { _, new in new }
                status = SecItemAdd(newItem as CFDictionary, nil)
            }
        } else {
            status = SecItemDelete(item as CFDictionary)
            if status == errSecItemNotFound { status = errSecSuccess }
        }
        known = status == errSecSuccess
        cached = known ? token : nil
        return known
    }
}

/// Tells the gateway about the core's status changes (called on the syncing thread).
final class StatusObserver: SyncObserver, @unchecked Sendable {
    private let onStatus: (SyncStatus) -> Void
    init(_ onStatus: @escaping (SyncStatus) -> Void) { self.onStatus = onStatus }
    func syncStatusChanged(status: SyncStatus) { onStatus(status) }
}

/// The core's sync: `sync().run`, then `packs().fetch` (both async in the bindings); the core
/// calls the observer for as long as the gateway keeps its subscription.
final class CoreSyncGateway: SyncGateway {
    private let core: Waystation
    private var subscription: Subscription?
    var onChange: ((SyncSnapshot) -> Void)?

    init(core: Waystation) {
        self.core = core
        let observer = StatusObserver { [weak self] status in
            guard let self, let onChange = self.onChange else { return }
            let snapshot = CoreSyncGateway.snapshot(status)
            DispatchQueue.main.async { onChange(snapshot) }
        }
        subscription = core.sync().subscribe(observer: observer)
    }

    var unavailableReason: String? {
        SyncAccount.load() == nil ? L.t("尚未设置同步服务器", "no sync server is set up") : nil
    }

    func status() throws -> SyncSnapshot { CoreSyncGateway.snapshot(try core.sync().status()) }

    /// The reports first (they matter most), then, once they are all exchanged, newer station
    /// and training packs and the lesson images the phone lacks. The pack requests are
    /// conditional (ETag): when nothing changed they are two small 304s.
    func syncNow() async -> SyncOutcome {
        guard let account = SyncAccount.load() else { return .unavailable(reason: unavailableReason ?? "") }
        let options = account.options
        // The case events noted before the sync starts are the ones it can deliver.
        let before = PendingActions.snapshot()
        do {
            let report = try await core.sync().run(options: options)
            // Stopped with work left (the next sync carries on): retry soon.
            guard report.complete else { return .failed(reason: "the sync stopped with work left", retryable: true) }
            // A refused case keeps its events waiting (the case screen shows the refusal); when
            // the refusals cannot be read, every event stays waiting until the next sync.
            if !before.isEmpty, let refusals = try? core.sync().refusals() {
                let refused = refusals.map(\.docId).filter { $0.hasPrefix("case:") }.map { String($0.dropFirst(5)) }
                PendingActions.delivered(before, refusedReports: Set(refused))
            }
        } catch {
            return CoreSyncGateway.failure(error)
        }
        do {
            let fetched = try await core.packs().fetch(options: options)
            return .synced(try status(), packs: CoreSyncGateway.update(fetched))
        } catch {
            // The reports went; say so, since the outcome is a failure.
            return CoreSyncGateway.failure(error, prefix: "the reports were sent, but fetching the packs failed: ")
        }
    }

    private static func failure(_ error: Error, prefix: String = "") -> SyncOutcome {
        switch error {
        case let WaystationError.Network(reason):
            return .failed(reason: prefix + reason, retryable: true)
        case let WaystationError.Server(status, retryable, reason):
            // The core says whether trying again can help: a 5xx, 429 or 408 can, a 400 cannot
            // (the same request would be refused the same way).
            return .failed(reason: prefix + "server \(status): " + reason, retryable: retryable)
        case WaystationError.Cancelled:
            // iOS ended the background task: the next run resumes.
            return .failed(reason: prefix + "cancelled", retryable: true)
        case let WaystationError.Unauthorized(reason):
            // The same token cannot succeed later: the rider must sign in again.
            return .failed(reason: prefix + reason, retryable: false)
        case let WaystationError.PackRejected(reason):
            // A pack whose signature or content the phone refuses; the installed one stays. The
            // same pack would be refused again: the publisher must fix it.
            return .failed(reason: prefix + "the server's pack was refused (the installed one stays): " + reason, retryable: false)
        default:
            return .failed(reason: prefix + describe(error), retryable: false)
        }
    }

    /// What the fetch brought. The core names a pack version only when the fetch installed it
    /// (not when the server's pack is the one installed already).
    static func update(_ f: PackFetch) -> PackUpdate {
        PackUpdate(stations: f.stations, training: f.training,
                   imagesFetched: Int(f.trainingImagesFetched), imagesMissing: f.trainingImageProblems.count,
                   imageProblems: f.trainingImageProblems)
    }

    func refresh() {
        guard let onChange, let snapshot = try? status() else { return }
        DispatchQueue.main.async { onChange(snapshot) }
    }

    static func snapshot(_ s: SyncStatus) -> SyncSnapshot {
        SyncSnapshot(pendingDocuments: Int(s.pendingDocuments), pendingPhotos: Int(s.pendingPhotos),
                     lastSuccess: s.lastSuccess, lastError: s.lastError, inProgress: s.inProgress,
                     refused: Int(s.refusedDocuments))
    }
}

/// Counts what waits in the local outbox; sends nothing (for a core without sync).
final class OutboxOnlySyncGateway: SyncGateway {
    private let core: Waystation
    private let author: String
    var onChange: ((SyncSnapshot) -> Void)?
    let unavailableReason: String? = L.t("此版本的核心库还没有同步功能", "this build of the Waystation core has no sync")

    init(core: Waystation, author: String) {
        self.core = core
        self.author = author
    }

    func status() throws -> SyncSnapshot {
        var snapshot = SyncSnapshot(pendingDocuments: 0, pendingPhotos: 0, lastSuccess: nil, lastError: nil, inProgress: false, refused: 0)
        for summary in try core.reports().summaries(author: author, status: ReportStatus.submitted) {
            let report = try core.reports().get(id: summary.id)
            switch report.outbox {
            case .some(.sent): break
            case .some(.refused): snapshot.refused += 1
            default:
                snapshot.pendingDocuments += 1
                snapshot.pendingPhotos += report.photos.count
            }
        }
        return snapshot
    }

    func syncNow() async -> SyncOutcome { .unavailable(reason: unavailableReason ?? "") }

    func refresh() {
        guard let onChange, let snapshot = try? status() else { return }
        DispatchQueue.main.async { onChange(snapshot) }
    }
}

/// When the core could not be opened at all.
final class UnavailableSyncGateway: SyncGateway {
    let unavailableReason: String?
    var onChange: ((SyncSnapshot) -> Void)?
    init(reason: String) { unavailableReason = reason }
    func status() throws -> SyncSnapshot {
        SyncSnapshot(pendingDocuments: 0, pendingPhotos: 0, lastSuccess: nil, lastError: nil, inProgress: false, refused: 0)
    }
    func syncNow() async -> SyncOutcome { .unavailable(reason: unavailableReason ?? "") }
    func refresh() {}
}

/// Background sync through BGTaskScheduler, with the rules of the Android demo's SyncPolicy:
/// only with a network, never a loop in the app, and the OS decides when (it also spares a
/// low battery). iOS has no "battery not low" constraint; it defers processing tasks itself.
enum BackgroundSync {
    /// Also listed in Info.plist under BGTaskSchedulerPermittedIdentifiers (project.yml).
    static let taskIdentifier = "org.waystation.demo.sync"
    /// The Android policy's periodic interval.
    static let interval: TimeInterval = 60 * 60

    static func register(model: AppModel) {
        BGTaskScheduler.shared.register(forTaskWithIdentifier: taskIdentifier, using: nil) { task in
            // Next time first: a task that is killed still leaves one scheduled.
            schedule(model: model)
            let work = Task {
                let outcome = await model.sync.syncNow()
                if case .synced = outcome {
                    task.setTaskCompleted(success: true)
                } else {
                    task.setTaskCompleted(success: false)
                }
            }
            task.expirationHandler = { work.cancel() }
        }
    }

    /// Asks iOS for a background run with a network, sooner when something waits.
    static func schedule(model: AppModel) {
        guard UserDefaults.standard.object(forKey: "background_sync") as? Bool ?? true,
              model.sync.unavailableReason == nil else {
            BGTaskScheduler.shared.cancel(taskRequestWithIdentifier: taskIdentifier)
            return
        }
        let pending = (try? model.sync.status())?.pendingDocuments ?? 0
        let request = BGProcessingTaskRequest(identifier: taskIdentifier)
        request.requiresNetworkConnectivity = true
        request.requiresExternalPower = false
        request.earliestBeginDate = Date(timeIntervalSinceNow: pending > 0 ? 60 : interval)
        do {
            try BGTaskScheduler.shared.submit(request)
        } catch {
            // Simulators and devices with Background App Refresh off refuse: sync waits for
            // the app to be opened, or for "Sync now".
        }
    }
}
