// swift-tools-version:6.0
import PackageDescription

/// tunwarden: finds, watches and safely removes stale tunnel interfaces.
///
/// Layers, from the bottom up:
/// - `TunwardenCore`: the model, heuristics, planning and rendering. Foundation only; no platform module.
/// - `Netlink`: the rtnetlink codec (pure) and, on Linux, the socket it talks through.
/// - `CLinuxShims`: the handful of Linux syscalls Swift's Glibc module does not expose.
/// - `CWebhook`: webhook delivery through libcurl, loaded only when a webhook is sent (Linux).
/// - `ChildProcesses`: the one way to run another program (timeout, SIGTERM then SIGKILL, always reaped).
/// - `Inventory`: platform backends that turn the system's state into a `TunwardenCore.Snapshot`.
/// - `TunwardenConfig`: the configuration file (YAML, through Yams), checked when read.
/// - `CSQLite`: the system's SQLite (libsqlite3), which keeps the observations (`state.db`).
/// - `Storage`: tunwarden's own files: the observations kept between runs and the reap journal.
/// - `Reaper`: carries out a reap plan, race-free and in batches (Linux).
/// - `BuildInfo`: the commit the binary is built from, recorded by `BuildInfoPlugin` whenever the checkout moves to another commit.
/// - `TunwardenCommands`: the command-line commands, as a library.
/// - `tunwarden`: the thin executable.
let package = Package(
    name: "tunwarden",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "tunwarden", targets: ["tunwarden"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // YAML configuration files: libyaml reports the line of every node, so a bad setting is
        // named with its line; no further dependencies.
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .target(name: "TunwardenCore"),
        .target(name: "CLinuxShims"),
        .target(name: "CWebhook"),
        .target(name: "Netlink", dependencies: ["CLinuxShims"]),
        .target(name: "ChildProcesses", dependencies: ["CLinuxShims"]),
        .target(name: "Inventory", dependencies: ["TunwardenCore", "Netlink", "CLinuxShims", "ChildProcesses"]),
        // The system's SQLite: Debian's libsqlite3-dev to build, libsqlite3-0 to run; part of macOS.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"]), .brew(["sqlite"])]),
        .target(name: "Storage", dependencies: ["TunwardenCore", "CSQLite"]),
        .target(name: "TunwardenConfig", dependencies: ["TunwardenCore", .product(name: "Yams", package: "Yams")]),
        .target(name: "Reaper", dependencies: ["TunwardenCore", "Netlink", "Inventory", "Storage", "CLinuxShims"]),
        .plugin(name: "BuildInfoPlugin", capability: .buildTool()),
        .target(name: "BuildInfo", plugins: ["BuildInfoPlugin"]),
        .target(
            name: "TunwardenCommands",
            dependencies: [
                "TunwardenCore", "TunwardenConfig", "Inventory", "Storage", "Reaper", "CLinuxShims", "ChildProcesses", "BuildInfo", "CWebhook",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "tunwarden", dependencies: ["TunwardenCommands"]),
        // Throwaway network namespaces, holder processes, a runner for the built binary and a seeded random generator; used by tests only.
        .target(name: "TestSupport", path: "Tests/TestSupport"),

        .testTarget(name: "TunwardenCoreTests", dependencies: ["TunwardenCore", "TestSupport"]),
        .testTarget(name: "ChildProcessesTests", dependencies: ["ChildProcesses"]),
        .testTarget(name: "NetlinkTests", dependencies: ["Netlink", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "InventoryTests", dependencies: ["Inventory", "Netlink", "TunwardenCore", "TestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "TunwardenConfigTests", dependencies: ["TunwardenConfig"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "TunwardenCore"]),
        .testTarget(name: "ReaperTests", dependencies: ["Reaper", "Inventory", "Storage", "TunwardenCore", "TestSupport"]),
        .testTarget(name: "PackagingTests", dependencies: ["TestSupport"]),
        .testTarget(name: "TunwardenCommandsTests", dependencies: [
            "TunwardenCommands", "TunwardenCore", "TunwardenConfig", "Inventory", "Storage", "Reaper", "TestSupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
    ]
)
