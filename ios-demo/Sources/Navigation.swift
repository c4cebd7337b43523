import Foundation

/// "Go there": hands a station to the map apps riders in China use, each in the datum it
/// expects, converted by the core (`convertPosition`, the same conversion as everywhere
/// else). Mirrors android-demo/shared/src/main/kotlin/org/waystation/demo/Navigation.kt.
///
/// - Amap (高德) first, GCJ-02: `iosamap://path?…&dev=0` (dev=0: already GCJ-02, do not shift).
/// - Baidu Maps second, BD-09: `baidumap://map/direction?…&coord_type=bd09ll`.
/// - Apple Maps when neither is installed. Apple Maps in mainland China draws AutoNavi's map,
///   which is GCJ-02, and reads coordinates as such; the core leaves points outside mainland
///   China unchanged, so the same URL is right abroad. (Android's fallback is a `geo:` URI,
///   which is WGS-84 by definition.)
///
/// `canOpenURL` answers for `iosamap` and `baidumap` only because project.yml lists them under
/// LSApplicationQueriesSchemes.
enum MapApp: CaseIterable {
    case amap, baidu, apple

    /// The datum its URL takes.
    var datum: Datum {
        switch self {
        case .amap, .apple: return Datum.gcj02
        case .baidu: return Datum.bd09
        }
    }
}

/// One way to go to a station: the app, the URL to open, the button's label.
struct MapHandoff {
    let app: MapApp
    let url: URL
    let label: String
}

/// Amap's `sourceApplication` and Baidu's `src`: both want the caller named.
let mapSource = "org.waystation.demo"

/// The hand-offs to offer for a station: one per installed map app, Amap first, or Apple Maps
/// alone when neither is installed. `canOpen` is `UIApplication.shared.canOpenURL`.
func mapHandoffs(name: String, position: Position, canOpen: (URL) -> Bool) -> [MapHandoff] {
    let installed = [MapApp.amap, MapApp.baidu].filter { app in
        let probe = app == .amap ? "iosamap://" : "baidumap://"
        return URL(string: probe).map(canOpen) ?? false
    }
    let apps = installed.isEmpty ? [MapApp.apple] : installed
    return apps.compactMap { mapHandoff($0, name: name, position: position) }
}

/// The hand-off to `app` for a station named `name` at `position` (any datum), or nil when the
/// core cannot convert the position.
func mapHandoff(_ app: MapApp, name: String, position: Position) -> MapHandoff? {
    guard let at = try? convertPosition(position: position, to: app.datum) else { return nil }
    let lat = String(format: "%.6f", locale: Locale(identifier: "en_US_POSIX"), at.lat)
    let lon = String(format: "%.6f", locale: Locale(identifier: "en_US_POSIX"), at.lon)
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    let n = name.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    let text: String
    let label: String
    switch app {
    case .amap:
        // t=3: cycling, the closest of Amap's route types to an e-bike limited to 25 km/h.
        text = "iosamap://path?sourceApplication=\(mapSource)&dlat=\(lat)&dlon=\(lon)&dname=\(n)&dev=0&t=3"
        label = L.t("用高德地图导航", "Navigate with Amap (高德)")
    case .baidu:
        text = "baidumap://map/direction?destination=latlng:\(lat),\(lon)%7Cname:\(n)&coord_type=bd09ll&mode=riding&src=\(mapSource)"
        label = L.t("用百度地图导航", "Navigate with Baidu Maps (百度)")
    case .apple:
        // dirflg=w: walking directions (Apple Maps has no cycling in China); q names the place.
        text = "https://maps.apple.com/?daddr=\(lat),\(lon)&q=\(n)&dirflg=w"
        label = L.t("用苹果地图导航", "Navigate with Apple Maps")
    }
    return URL(string: text).map { MapHandoff(app: app, url: $0, label: label) }
}
