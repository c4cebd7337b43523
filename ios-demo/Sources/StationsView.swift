import SwiftUI
import UIKit
import Waystation

/// Nearest open stations: service filters, "open now", distance and bearing.
struct StationsView: View {
    @EnvironmentObject private var model: AppModel
    @StateObject private var location = LocationProvider()
    @State private var selected: Set<Service> = []
    @State private var openOnly = true
    @State private var position: Position?
    @State private var positionText = L.t("尚未定位", "No position yet")
    @State private var hits: [StationHit] = []
    @State private var message: String?
    private let services = allServices()

    var body: some View {
        List {
            Section(L.t("需要的服务", "Services needed")) {
                ScrollView(.horizontal, showsIndicators: false) {
                    HStack {
                        ForEach(services, id: \.name) { info in
                            Toggle(L.zh ? info.labelZh : info.labelEn, isOn: binding(info.service))
                                .toggleStyle(.button)
                        }
                    }
                }
                Toggle(L.t("只看现在开放的", "Open now only"), isOn: $openOnly)
                    .onChange(of: openOnly) { _ in search() }
            }
            Section {
                Button(L.t("用我的位置", "Use my location")) { locate() }
                Button(L.t("以钟楼为中心（演示）", "Search from the Bell Tower (demo)")) {
                    position = Position(lat: 34.25953, lon: 108.94235, datum: Datum.wgs84)
                    positionText = L.t("钟楼（演示位置）", "Bell Tower (demo position)")
                    search()
                }
                Text(positionText).font(.footnote).foregroundStyle(.secondary)
            }
            Section {
                if let message { Text(message).foregroundStyle(.secondary) }
                ForEach(hits, id: \.station.id) { hit in
                    VStack(alignment: .leading, spacing: 4) {
                        Text(L.zh ? hit.station.nameZh : (hit.station.nameEn ?? hit.station.nameZh)).bold()
                        Text("\(formatDistance(hit.distanceM)) · \(formatBearing(hit.bearingDeg))")
                        Text(formatOpenStatus(hit.status, nextChange: hit.nextChange))
                            .foregroundStyle(hit.status == .open ? Color.green : (hit.status == .closed ? Color.red : Color.gray))
                        Text(L.zh ? hit.station.addressZh : (hit.station.addressEn ?? hit.station.addressZh))
                            .font(.footnote).foregroundStyle(.secondary)
                        if let phone = hit.station.phone { Text("☎ \(phone)").font(.footnote) }
                        // "Navigate": Amap (GCJ-02), Baidu Maps (BD-09) or Apple Maps (Navigation.swift).
                        ForEach(mapHandoffs(name: L.zh ? hit.station.nameZh : (hit.station.nameEn ?? hit.station.nameZh),
                                            position: hit.station.position,
                                            canOpen: { UIApplication.shared.canOpenURL($0) }), id: \.url) { handoff in
                            Button(handoff.label) { UIApplication.shared.open(handoff.url) }
                                .buttonStyle(.bordered)
                                .frame(minHeight: 44)
                        }
                    }
                }
            }
        }
        .navigationTitle(L.t("附近驿站", "Nearest stations"))
        .onChange(of: model.packsReady) { _ in search() }
    }

    private func binding(_ service: Service) -> Binding<Bool> {
        Binding(
            get: { selected.contains(service) },
            set: { on in
                if on { selected.insert(service) } else { selected.remove(service) }
                search()
            }
        )
    }

    private func locate() {
        positionText = L.t("正在定位…", "Finding your position…")
        location.locate { fix in
            guard let fix else {
                positionText = L.t("无法定位：请到开阔处，或用演示位置", "No position: try in the open, or use the demo position")
                return
            }
            position = Position(lat: fix.lat, lon: fix.lon, datum: fix.datum)
            positionText = String(format: "%.5f, %.5f · ", fix.lat, fix.lon) + formatAccuracy(fix.accuracyM)
                + (fix.mock ? L.t(" · 模拟定位", " · simulated") : "")
            search()
        }
    }

    private func search() {
        guard let position else { return }
        // No time: now. No distance limit: the filter's default.
        let query = NearestQuery(
            position: position,
            limit: 10,
            filter: StationFilter(services: Array(selected), openOnly: openOnly)
        )
        Task { @MainActor in
            do {
                let (found, count) = try await model.run { core in (try core.stations().nearest(query: query), core.stations().count()) }
                hits = found
                if !found.isEmpty {
                    message = nil
                } else if count == 0 {
                    message = L.t("尚未安装驿站数据", "No station directory is installed yet")
                } else {
                    message = L.t("没有符合条件的驿站，请减少筛选条件", "No station matches these filters; try fewer services")
                }
            } catch {
                message = describe(error)
            }
        }
    }
}
