import Foundation
import PackagePlugin

/// Records the commit the package is built from in the `BuildInfo` target, for `tunwarden
/// --version`. Its command runs again whenever git moves the checkout to another commit (a
/// commit, checkout, reset or rebase changes HEAD or its reflog), and rewrites its output only
/// when the commit did, so an unchanged commit rebuilds nothing. (A prebuild command was meant to
/// run before every build, but SwiftPM skips it in a build that finds nothing else to do, and
/// `--version` then named a commit from before.)
@main
struct BuildInfoPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let repository = context.package.directoryURL
        let output = context.pluginWorkDirectoryURL.appending(path: "generated")
        let script = repository.appending(path: "Plugins/BuildInfoPlugin/commit.sh")
        return [.buildCommand(displayName: "Recording the commit tunwarden is built from",
                              executable: URL(fileURLWithPath: "/bin/sh"),
                              arguments: [script.path, repository.path, output.path],
                              inputFiles: [script] + Self.checkoutFiles(repository),
                              outputFiles: [output.appending(path: "BuildCommit.swift")])]
    }

    /// The files git changes when the checkout moves to another commit: HEAD and its reflog, in
    /// the repository's git directory (`.git`, or in a worktree the directory its `.git` file
    /// names). None outside a git checkout (a release tarball): the command then runs once.
    static func checkoutFiles(_ repository: URL) -> [URL] {
        let dotGit = repository.appending(path: ".git")
        var gitDirectory = dotGit
        if let text = try? String(contentsOf: dotGit, encoding: .utf8), text.hasPrefix("gitdir: ") {
            let path = text.dropFirst("gitdir: ".count).trimmingCharacters(in: .whitespacesAndNewlines)
            gitDirectory = path.hasPrefix("/") ? URL(fileURLWithPath: path) : repository.appending(path: path)
        }
        return ["HEAD", "logs/HEAD"].map { gitDirectory.appending(path: $0) }.filter { FileManager.default.fileExists(atPath: $0.path) }
    }
}
