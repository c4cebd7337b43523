import Foundation
import Waystation

/// The interface language: Chinese when the phone prefers it, else English.
enum L {
    static let zh: Bool = Locale.preferredLanguages.first?.hasPrefix("zh") ?? false
    static func t(_ zh: String, _ en: String) -> String { L.zh ? zh : en }
}

/// Xi'an's time zone, UTC+8 all year: opening hours and clock times are shown in it.
let xianTimeZone = TimeZone(identifier: "Asia/Shanghai")!

/*
 * The same rules as the Android demo's shared Kotlin module (android-demo/shared,
 * Formatting.kt), which is unit-tested in CI; keep the two in step.
 */

extension LocalizedText {
    /// The text in the interface language, falling back to Chinese (the authoritative text).
    var text: String {
        if L.zh { return zh }
        if let en, !en.trimmingCharacters(in: .whitespaces).isEmpty { return en }
        return zh
    }
}

/// `8 m`, `850 m`, `1.2 km`, `12 km`.
func formatDistance(_ metres: Double) -> String {
    precondition(metres.isFinite && metres >= 0, "distance must be finite and not negative")
    switch metres {
    case ..<100: return "\(Int(metres.rounded())) m"
    case ..<995: return "\(Int((metres / 10).rounded()) * 10) m"
    case ..<9_950:
        let tenths = Int((metres / 100).rounded())
        return "\(tenths / 10).\(tenths % 10) km"
    default: return "\(Int((metres / 1000).rounded())) km"
    }
}

/// `↗ NE 45°`: the compass point whose 45° sector holds the bearing.
func formatBearing(_ degrees: Double) -> String {
    let points = [("N", "北", "↑"), ("NE", "东北", "↗"), ("E", "东", "→"), ("SE", "东南", "↘"),
                  ("S", "南", "↓"), ("SW", "西南", "↙"), ("W", "西", "←"), ("NW", "西北", "↖")]
    let normalized = (degrees.truncatingRemainder(dividingBy: 360) + 360).truncatingRemainder(dividingBy: 360)
    let point = points[Int((normalized + 22.5) / 45) % 8]
    return "\(point.2) \(L.zh ? point.1 : point.0) \(Int(normalized.rounded()) % 360)°"
}

/// `Open · closes 20:00`, `Closed · opens tomorrow 08:00`, `Hours unknown` (never "open").
func formatOpenStatus(_ status: OpenStatus, nextChange: Date?, now: Date = Date()) -> String {
    let head: String
    let verb: String
    switch status {
    case .open:
        head = L.t("营业中", "Open")
        verb = L.t("关闭", "closes")
    case .closed:
        head = L.t("已关闭", "Closed")
        verb = L.t("开门", "opens")
    case .unknown:
        return L.t("营业时间未知", "Hours unknown")
    }
    guard let next = nextChange, next > now else { return head }
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = xianTimeZone
    let clock = DateFormatter()
    clock.timeZone = xianTimeZone
    clock.dateFormat = "HH:mm"
    let days = calendar.dateComponents([.day], from: calendar.startOfDay(for: now), to: calendar.startOfDay(for: next)).day ?? 0
    let when: String
    switch days {
    case 0: when = clock.string(from: next)
    case 1: when = L.t("明天 ", "tomorrow ") + clock.string(from: next)
    case 2...6:
        clock.dateFormat = "EEE HH:mm"
        clock.locale = Locale(identifier: L.zh ? "zh_CN" : "en_US")
        when = clock.string(from: next)
    default:
        clock.dateFormat = "yyyy-MM-dd HH:mm"
        when = clock.string(from: next)
    }
    return L.zh ? "\(head) · \(when)\(verb)" : "\(head) · \(verb) \(when)"
}

/// `±12 m`, or `accuracy unknown` (never shown as precise).
func formatAccuracy(_ metres: Double?) -> String {
    guard let metres, metres.isFinite, metres >= 0 else { return L.t("精度未知", "accuracy unknown") }
    return "±" + formatDistance(metres)
}

/// `just now`, `5 min ago`, `3 h ago`, `2 d ago`.
func formatAgo(_ date: Date, now: Date = Date()) -> String {
    let seconds = now.timeIntervalSince(date)
    switch seconds {
    case ..<60: return L.t("刚刚", "just now")
    case ..<3600: return L.t("\(Int(seconds / 60)) 分钟前", "\(Int(seconds / 60)) min ago")
    case ..<86400: return L.t("\(Int(seconds / 3600)) 小时前", "\(Int(seconds / 3600)) h ago")
    default: return L.t("\(Int(seconds / 86400)) 天前", "\(Int(seconds / 86400)) d ago")
    }
}

func caseStatusLabel(_ status: CaseStatus) -> String {
    switch status {
    case .open: return L.t("待处理", "Open")
    case .acknowledged: return L.t("驿站已受理", "Acknowledged")
    case .inProgress: return L.t("处理中", "In progress")
    case .resolved: return L.t("已解决", "Resolved")
    case .rejected: return L.t("未采纳", "Rejected")
    case .duplicate: return L.t("重复报告", "Duplicate")
    }
}

func roleLabel(_ role: CaseRole) -> String {
    switch role {
    case .rider: return L.t("骑手", "Rider")
    case .stationStaff: return L.t("驿站", "Station")
    case .supervisor: return L.t("监督员", "Supervisor")
    case .gridWorker: return L.t("网格员", "Grid worker")
    }
}

func eventLabel(_ kind: CaseEventKind) -> String {
    switch kind {
    case .acknowledge: return L.t("受理", "Acknowledged")
    case .note: return L.t("备注", "Note")
    case .requestInfo: return L.t("请求补充信息", "Asked for more information")
    case let .dispatch(gridId): return L.t("派往网格 ", "Dispatched to grid ") + gridId
    case let .markDuplicate(of): return L.t("标记为重复：", "Marked as a duplicate of ") + of
    case .resolve: return L.t("已解决", "Resolved")
    case let .reject(reason): return L.t("未采纳：", "Rejected: ") + reason
    case .reopen: return L.t("重新打开", "Reopened")
    }
}
