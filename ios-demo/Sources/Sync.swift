import BackgroundTasks
import Foundation
import waystation_ffi

/*
 * Sync as the demo sees it, mirroring the Android demo's SyncGateway (android-demo/shared,
 * Sync.kt and CoreSyncGateway.kt, which are tested in CI against a real server).
 * CoreSyncGateway runs the core's sync; OutboxOnlySyncGateway, which counts the local outbox
 * and sends nothing, remains for a core built without sync.
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

enum SyncOutcome {
    case synced(SyncSnapshot)
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

/// Where and as whom to sync. A demo keeps the token in UserDefaults; a real app keeps it in
/// the Keychain.
struct SyncAccount {
    var server: String
    var token: String

    static func load() -> SyncAccount? {
        let defaults = UserDefaults.standard
        guard let server = defaults.string(forKey: "sync_server"), !server.isEmpty,
              let token = defaults.string(forKey: "sync_token"), !token.isEmpty else { return nil }
        return SyncAccount(server: server, token: token)
    }

    static func save(_ account: SyncAccount?) {
        UserDefaults.standard.set(account?.server, forKey: "sync_server")
        UserDefaults.standard.set(account?.token, forKey: "sync_token")
    }

    /// 30 s per request and 4 tries with backoff (the core's defaults: 0 means default).
    var config: SyncConfig {
        SyncConfig(server: server, token: token, timeoutMs: 0, attempts: 0, extraRootPem: nil)
    }
}

/// Tells the gateway about the core's status changes (called on the syncing thread).
final class StatusObserver: SyncObserver, @unchecked Sendable {
    private let onStatus: (SyncStatus) -> Void
    init(_ onStatus: @escaping (SyncStatus) -> Void) { self.onStatus = onStatus }
    func syncStatusChanged(status: SyncStatus) { onStatus(status) }
}

/// The core's sync: `syncNow` is async in the bindings; the core calls the observer.
final class CoreSyncGateway: SyncGateway {
    private let core: Waystation
    private var observer: StatusObserver?
    var onChange: ((SyncSnapshot) -> Void)?

    init(core: Waystation) {
        self.core = core
        let observer = StatusObserver { [weak self] status in
            guard let self, let onChange = self.onChange else { return }
            let snapshot = CoreSyncGateway.snapshot(status)
            DispatchQueue.main.async { onChange(snapshot) }
        }
        self.observer = observer
        core.setSyncObserver(observer: observer)
    }

    var unavailableReason: String? {
        SyncAccount.load() == nil ? L.t("尚未设置同步服务器", "no sync server is set up") : nil
    }

    func status() throws -> SyncSnapshot { CoreSyncGateway.snapshot(try core.syncStatus()) }

    func syncNow() async -> SyncOutcome {
        guard let account = SyncAccount.load() else { return .unavailable(reason: unavailableReason ?? "") }
        do {
            let report = try await core.syncNow(config: account.config)
            return report.complete ? .synced(try status()) : .failed(reason: "the sync stopped with work left", retryable: true)
        } catch let WaystationError.Network(reason) {
            return .failed(reason: reason, retryable: true)
        } catch let WaystationError.Server(reason) {
            return .failed(reason: reason, retryable: true)
        } catch let WaystationError.Unauthorized(reason) {
            // The same token cannot succeed later: the rider must sign in again.
            return .failed(reason: reason, retryable: false)
        } catch {
            return .failed(reason: describe(error), retryable: false)
        }
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
        for summary in try core.reportSummaries(author: author, status: ReportStatus.submitted) {
            let report = try core.report(id: summary.id)
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
