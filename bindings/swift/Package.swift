// swift-tools-version:5.9
// The Waystation core for Swift: the uniffi-generated module `waystation_ffi` over the C
// module `waystation_ffiFFI`, whose static library ships as an XCFramework.
//
//   scripts/gen-bindings.sh swift      # writes generated/ (any OS)
//   scripts/build-xcframework.sh       # writes build/waystation_ffiFFI.xcframework (macOS, Xcode)
//
// Neither output is checked in. Add this folder to an app as a local package
// (ios-demo/project.yml does) and `import waystation_ffi`.
import PackageDescription

let package = Package(
    name: "Waystation",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "Waystation", targets: ["waystation_ffi"]),
    ],
    targets: [
        // libwaystation_ffi.a for iOS devices and simulators (and macOS with --macos), with the
        // C header and its module map.
        .binaryTarget(
            name: "waystation_ffiFFI",
            path: "build/waystation_ffiFFI.xcframework"
        ),
        .target(
            name: "waystation_ffi",
            dependencies: ["waystation_ffiFFI"],
            path: "generated",
            exclude: ["waystation_ffiFFI.h", "waystation_ffiFFI.modulemap"],
            sources: ["waystation_ffi.swift"],
            linkerSettings: [
                // Proxy detection of the HTTP client that sync uses.
                .linkedFramework("SystemConfiguration"),
            ]
        ),
    ]
)
