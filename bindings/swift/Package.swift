// swift-tools-version:5.9
// The Waystation core for Swift: one Swift module, `Waystation`, over the one C module
// `WaystationFFI` (two headers), whose static library ships as an XCFramework.
//
//   scripts/gen-bindings.sh swift      # writes generated/ (any OS)
//   scripts/build-xcframework.sh       # writes build/WaystationFFI.xcframework (macOS, Xcode)
//
// Neither output is checked in. Add this folder to an app as a local package
// (ios-demo/project.yml does) and `import Waystation`: that is all an app needs.
//
// The library holds two uniffi components: the FFI's objects, functions and errors
// (generated/Waystation.swift) and the core's plain types, records and enums
// (generated/WaystationCore.swift). uniffi writes one Swift file per component and expects the
// files of one library to be compiled together, so both go into the one target below; the core's
// types are then members of the module `Waystation` and need no re-export. Hand-written Swift
// (extensions over the generated API, and URLSessionTransport, the HttpTransport an app passes
// to Waystation) lives in Sources/Waystation/.
import PackageDescription

let package = Package(
    name: "Waystation",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "Waystation", targets: ["Waystation"]),
    ],
    targets: [
        // libwaystation_ffi.a for iOS devices and simulators (and macOS with --macos), with both
        // C headers and one module map declaring both C modules.
        .binaryTarget(
            name: "WaystationFFI",
            path: "build/WaystationFFI.xcframework"
        ),
        .target(
            name: "Waystation",
            dependencies: ["WaystationFFI"],
            path: ".",
            sources: [
                "generated/Waystation.swift",
                "generated/WaystationCore.swift",
                "Sources/Waystation",
            ]
            // No SystemConfiguration: it served the built-in HTTP client's proxy lookup, which the
            // phone library leaves out (sync goes through URLSessionTransport).
        ),
    ]
)
