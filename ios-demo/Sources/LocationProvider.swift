import CoreLocation
import Foundation
import Waystation

/// One fix at a time from Core Location (WGS-84), with its accuracy and whether iOS says it
/// was simulated (iOS 15+), ready for `setReportPosition`.
final class LocationProvider: NSObject, ObservableObject, CLLocationManagerDelegate {
    private let manager = CLLocationManager()
    private var waiting: [(PositionFix?) -> Void] = []

    override init() {
        super.init()
        manager.delegate = self
        manager.desiredAccuracy = kCLLocationAccuracyBest
    }

    /// Asks for permission when needed, then for one fix. Calls back on the main thread.
    func locate(_ done: @escaping (PositionFix?) -> Void) {
        waiting.append(done)
        switch manager.authorizationStatus {
        case .notDetermined: manager.requestWhenInUseAuthorization()
        case .denied, .restricted: finish(nil)
        default: manager.requestLocation()
        }
    }

    func locationManagerDidChangeAuthorization(_ manager: CLLocationManager) {
        guard !waiting.isEmpty else { return }
        switch manager.authorizationStatus {
        case .authorizedWhenInUse, .authorizedAlways: manager.requestLocation()
        case .denied, .restricted: finish(nil)
        default: break
        }
    }

    func locationManager(_ manager: CLLocationManager, didUpdateLocations locations: [CLLocation]) {
        guard let location = locations.last else { return finish(nil) }
        finish(Self.fix(location))
    }

    func locationManager(_ manager: CLLocationManager, didFailWithError error: Error) {
        finish(nil)
    }

    private func finish(_ fix: PositionFix?) {
        let callbacks = waiting
        waiting.removeAll()
        DispatchQueue.main.async { callbacks.forEach { $0(fix) } }
    }

    /// A negative horizontal accuracy means the position is invalid: kept as "unknown".
    static func fix(_ location: CLLocation) -> PositionFix {
        var simulated = false
        if #available(iOS 15.0, *) {
            simulated = location.sourceInformation?.isSimulatedBySoftware ?? false
        }
        return PositionFix(
            lat: location.coordinate.latitude,
            lon: location.coordinate.longitude,
            datum: Datum.wgs84,
            accuracyM: location.horizontalAccuracy >= 0 ? location.horizontalAccuracy : nil,
            fixTime: location.timestamp,
            mock: simulated
        )
    }
}
