import Foundation
import PackagePlugin

/// Records the commit the package is built from in the `BuildInfo` target, for `tunwarden
/// --version`. It runs before every build (a prebuild command: the commit changes without any
/// file of the target changing) and rewrites its output only when the commit did, so an
/// unchanged commit rebuilds nothing.
@main
struct BuildInfoPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appending(path: "generated")
        let script = context.package.directoryURL.appending(path: "Plugins/BuildInfoPlugin/commit.sh")
        return [.prebuildCommand(displayName: "Recording the commit tunwarden is built from",
                                 executable: URL(fileURLWithPath: "/bin/sh"),
                                 arguments: [script.path, context.package.directoryURL.path, output.path],
                                 outputFilesDirectory: output)]
    }
}
