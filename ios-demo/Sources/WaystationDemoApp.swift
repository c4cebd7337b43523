import SwiftUI
import Waystation

/// The Waystation demo: the same screens as the Android demo, on the same core. A station,
/// supervisor or grid account (the role the server gave the sync token, learned by a sync) also
/// gets the case inbox, first; a rider, an admin or a phone that has not synced never sees it.
@main
struct WaystationDemoApp: App {
    @StateObject private var model = AppModel.shared
    @Environment(\.scenePhase) private var scenePhase

    init() {
        // BGTaskScheduler wants its handlers registered before the app finishes launching.
        BackgroundSync.register(model: AppModel.shared)
    }

    var body: some Scene {
        WindowGroup {
            TabView {
                if model.followUp != nil {
                    NavigationStack { InboxView() }
                        .tabItem { Label(L.t("案件", "Cases"), systemImage: "checklist") }
                }
                NavigationStack { StationsView() }
                    .tabItem { Label(L.t("驿站", "Stations"), systemImage: "mappin.and.ellipse") }
                NavigationStack { ReportFormView(reportId: nil) }
                    .tabItem { Label(L.t("报告", "Report"), systemImage: "exclamationmark.bubble") }
                NavigationStack { OutboxView() }
                    .tabItem { Label(L.t("发件箱", "Outbox"), systemImage: "tray.full") }
                NavigationStack { CoursesView() }
                    .tabItem { Label(L.t("培训", "Training"), systemImage: "graduationcap") }
                NavigationStack { SyncStatusView() }
                    .tabItem { Label(L.t("同步", "Sync"), systemImage: "arrow.triangle.2.circlepath") }
            }
            .environmentObject(model)
            .task { await model.start() }
        }
        .onChange(of: scenePhase) { phase in
            // Leaving the foreground is when iOS lets an app ask for background time later.
            if phase == .background { BackgroundSync.schedule(model: model) }
        }
    }
}
