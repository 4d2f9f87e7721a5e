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
        .executable(name: "attend", targets: ["attend"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // Innermost micro-kernels in C, one function per ISA, chosen at run time.
        .target(name: "AttendKernelsC"),
        .target(name: "AttendTensor", dependencies: ["AttendKernelsC"]),
        .target(name: "AttendNN", dependencies: ["AttendTensor"]),
        .target(name: "AttendTokenizers"),
        .target(name: "AttendModels", dependencies: ["AttendNN", "AttendTokenizers", .product(name: "Crypto", package: "swift-crypto")], resources: [.copy("Resources")]),
        .target(name: "AttendSearch", dependencies: ["AttendModels"]),
        .target(name: "AttendViz", dependencies: ["AttendModels"]),
        .target(name: "Attend", dependencies: ["AttendTensor", "AttendNN", "AttendTokenizers", "AttendModels", "AttendSearch", "AttendViz"]),
        .executableTarget(
            name: "attend",
            dependencies: [
                "Attend",
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
    ],
    swiftLanguageModes: [.v5]
)
