import BackgroundTasks
import Foundation
import waystation_ffi

/*
 * Sync as the demo sees it, mirroring the Android demo's SyncGateway (android-demo/shared,
 * Sync.kt). The core's bindings have no sync API yet (issue 4 adds it): until then
 * OutboxOnlySyncGateway shows what waits in the local outbox and sends nothing.
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

/// Counts what waits in the local outbox; sends nothing.
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
