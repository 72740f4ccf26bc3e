// swift-tools-version: 6.0
import PackageDescription

// mhformer: offline markerless motion capture from one video.
// MHFormerKit holds the pipeline (one folder per stage); `mhformer` is the command line on top.
let package = Package(
    name: "mhformer",
    products: [
        .executable(name: "mhformer", targets: ["mhformer"]),
        .library(name: "MHFormerKit", targets: ["MHFormerKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // SHA-256 of inputs and weights for the batch records (mhformer batch skips what is done).
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // Tests only: property-based tests (random inputs, shrinking, reproducible seeds).
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // FFmpeg's C libraries (decoding video frames). The shim re-exports macros Swift cannot import.
        .systemLibrary(
            name: "CFFmpeg",
            pkgConfig: "libavformat",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswscale-dev", "libavutil-dev"])]
        ),
        // OpenBLAS (cblas_sgemm): every matrix product of the models.
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .target(
            name: "MHFormerKit",
            dependencies: ["CFFmpeg", "COpenBLAS", .product(name: "Crypto", package: "swift-crypto")],
            // The kernels' SIMD loops are ~100x slower unoptimised: optimise this target in debug
            // builds (and so in `swift test`) too.
            swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]
        ),
        .executableTarget(
            name: "mhformer",
            dependencies: [
                "MHFormerKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "MHFormerKitTests",
            dependencies: [
                "MHFormerKit",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
    ]
)
