// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Attend",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Attend", targets: ["Attend"]),
        .library(name: "AttendTensor", targets: ["AttendTensor"]),
        .library(name: "AttendNN", targets: ["AttendNN"]),
        .library(name: "AttendTokenizers", targets: ["AttendTokenizers"]),
        .library(name: "AttendModels", targets: ["AttendModels"]),
        .library(name: "AttendSearch", targets: ["AttendSearch"]),
        .library(name: "AttendViz", targets: ["AttendViz"]),
        .library(name: "AttendServer", targets: ["AttendServer"]),
        .executable(name: "attend", targets: ["attend"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // The server only (AttendServer and the `attend` executable); the libraries stay free of networking.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // Innermost micro-kernels in C, one function per ISA, chosen at run time.
        .target(name: "AttendKernelsC", exclude: ["README.md"]),
        .target(name: "AttendTensor", dependencies: ["AttendKernelsC"]),
        .target(name: "AttendNN", dependencies: ["AttendTensor"]),
        .target(name: "AttendTokenizers"),
        .target(name: "AttendModels", dependencies: ["AttendNN", "AttendTokenizers", .product(name: "Crypto", package: "swift-crypto")], resources: [.copy("Resources")]),
        .target(name: "AttendSearch", dependencies: ["AttendModels"]),
        .target(name: "AttendViz", dependencies: ["AttendModels"], resources: [.copy("Resources")]),
        .target(name: "Attend", dependencies: ["AttendTensor", "AttendNN", "AttendTokenizers", "AttendModels", "AttendSearch", "AttendViz"]),
        .target(
            name: "AttendServer",
            dependencies: [
                "Attend",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Resources")]),
        .executableTarget(
            name: "attend",
            dependencies: [
                "Attend",
                "AttendServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .target(name: "AttendTestSupport", dependencies: ["AttendTensor", "AttendModels"], path: "Tests/AttendTestSupport"),
        .testTarget(name: "AttendTensorTests", dependencies: ["AttendTensor", "AttendTestSupport"]),
        .testTarget(name: "AttendNNTests", dependencies: ["AttendNN", "AttendTestSupport"]),
        .testTarget(name: "AttendTokenizersTests", dependencies: ["AttendTokenizers", "AttendTestSupport"], exclude: ["Resources"]),
        .testTarget(name: "AttendModelsTests", dependencies: ["AttendModels", "AttendTestSupport"]),
        .testTarget(name: "AttendSearchTests", dependencies: ["AttendSearch", "AttendTestSupport"]),
        .testTarget(name: "AttendVizTests", dependencies: ["AttendViz", "AttendTestSupport"], exclude: ["Goldens"]),
        .testTarget(name: "AttendCLITests", dependencies: ["AttendTestSupport"]),
        .testTarget(name: "AttendServerTests", dependencies: ["AttendServer", "AttendViz", "AttendTokenizers", "AttendTestSupport"], exclude: ["openai_client.py", "explorer_browser.py", "schemathesis.sh"]),
    ],
    swiftLanguageModes: [.v5]
)
