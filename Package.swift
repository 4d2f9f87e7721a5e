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
        .library(name: "AttendViz", targets: ["AttendViz"]),
        .executable(name: "attend", targets: ["attend"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Innermost micro-kernels in C, one function per ISA, chosen at run time.
        .target(name: "AttendKernelsC"),
        .target(name: "AttendTensor", dependencies: ["AttendKernelsC"]),
        .target(name: "AttendNN", dependencies: ["AttendTensor"]),
        .target(name: "AttendTokenizers"),
        .target(name: "AttendModels", dependencies: ["AttendNN", "AttendTokenizers"], resources: [.copy("Resources")]),
        .target(name: "AttendViz", dependencies: ["AttendModels"], resources: [.copy("Resources")]),
        .target(name: "Attend", dependencies: ["AttendTensor", "AttendNN", "AttendTokenizers", "AttendModels", "AttendViz"]),
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
        .testTarget(name: "AttendVizTests", dependencies: ["AttendViz", "AttendTestSupport"], exclude: ["Goldens"]),
        .testTarget(name: "AttendCLITests", dependencies: ["AttendTestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
