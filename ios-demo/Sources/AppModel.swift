import Foundation
import Waystation

/// The app's core and what every screen shares. Quick core calls block on SQLite, so they run
/// on one serial background queue through `run`, never on the main thread. The long ones (pack
/// import and fetch, photo attach, exports, sync) are `async` in the bindings and run on the
/// library's own executor: screens `await` them directly.
final class AppModel: ObservableObject {
    static let shared = AppModel()

    /// This install's rider id (a demo has no accounts).
    let user: String
    /// Opened once for the app's lifetime; nil when the data directory could not be opened.
    let core: Waystation?
    let openError: String?
    let sync: SyncGateway
    @Published var packsReady = false
    @Published var lastError: String?
    /// The account the server gave the sync token (`GET /v1/me`, learned at the end of a sync:
    /// `sync().account()`); nil until a sync has learned it. Its role decides whether the case
    /// inbox and the follow-up actions show: never typed on the phone.
    @Published var account: KnownAccount?

    private let queue = DispatchQueue(label: "org.waystation.demo.core")

    private init() {
        let defaults = UserDefaults.standard
        if let saved = defaults.string(forKey: "user_id") {
            user = saved
        } else {
            user = "rider-" + UUID().uuidString.prefix(8).lowercased()
            defaults.set(user, forKey: "user_id")
        }
        let dir = FileManager.default.urls(for: .applicationSupportDirectory, in: .userDomainMask)[0]
            .appendingPathComponent("waystation", isDirectory: true)
        do {
            // The demo trusts the demo publisher key, whose secret is public: a real app ships
            // the city's key instead. Sync, pack fetch and photo fetch go through URLSession
            // (the phone library has no HTTP stack of its own): the system's proxy, trust
            // store and App Transport Security apply.
            let opened = try Waystation(dataDir: dir.path, options: Options(trustedKeys: [demoPublisherKey()]),
                                        transport: URLSessionTransport())
            core = opened
            openError = nil
            sync = CoreSyncGateway(core: opened)
        } catch {
            core = nil
            openError = describe(error)
            sync = UnavailableSyncGateway(reason: describe(error))
        }
    }

    /// Runs a core call on the core queue.
    func run<T>(_ work: @escaping (Waystation) throws -> T) async throws -> T {
        guard let core else { throw DemoError.coreUnavailable(openError ?? "") }
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try work(core) })
            }
        }
    }

    /// Installs the bundled station and training packs on first start (verified like any pack).
    @MainActor
    func start() async {
        do {
            let kinds = try await run { core in Set(try core.packs().installed().map { $0.kind }) }
            guard let core else { return }
            if !kinds.contains("stations"), let url = Bundle.main.url(forResource: "xian-sample.pack", withExtension: "json") {
                _ = try await core.packs().importStationsFile(path: url.path)
            }
            if !kinds.contains("training"), let url = Bundle.main.url(forResource: "xian-training.pack", withExtension: "json") {
                _ = try await core.packs().importTrainingFile(path: url.path)
            }
            packsReady = true
        } catch {
            lastError = describe(error)
        }
        await refreshAccount()
    }

    /// Re-reads the account the last sync learned (after a sync, at start).
    @MainActor
    func refreshAccount() async {
        if let known = try? await run({ core in try core.sync().account() }) {
            account = known
        }
    }

    /// The follow-up account this phone acts as, or nil (a rider's phone, or none learned yet).
    var followUp: FollowUpAccount? { account?.followUp }
}

enum DemoError: Error {
    case coreUnavailable(String)
}

/// What went wrong, for a message on screen (the reasons carry no personal data).
func describe(_ error: Error) -> String {
    switch error {
    case let WaystationError.InvalidInput(reason): return reason
    case let WaystationError.NotFound(reason): return L.t("找不到：", "Not found: ") + reason
    case let WaystationError.PackRejected(reason): return L.t("数据包被拒绝：", "Pack refused: ") + reason
    case let WaystationError.DataDirectory(reason): return L.t("数据目录不可用：", "Data directory unusable: ") + reason
    case WaystationError.SchemaTooNew: return L.t("数据来自更新的版本，请更新应用", "The data was written by a newer app: update the app")
    case let WaystationError.Storage(reason): return L.t("本地存储出错：", "Storage failed: ") + reason
    case let WaystationError.Network(reason): return L.t("网络不通：", "No connection: ") + reason
    case let WaystationError.Unauthorized(reason): return L.t("同步令牌无效，请重新登录：", "The sync token was refused; sign in again: ") + reason
    case let WaystationError.Server(status, _, reason): return L.t("服务器出错（\(status)）：", "Server error (\(status)): ") + reason
    case WaystationError.Cancelled: return L.t("已取消", "Cancelled")
    case let DemoError.coreUnavailable(reason): return L.t("核心库无法打开：", "The core could not be opened: ") + reason
    default: return L.t("内部错误，请报告", "Internal error; please report it")
    }
}
