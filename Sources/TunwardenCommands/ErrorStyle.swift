import ArgumentParser
import Foundation
import TunwardenCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Tunwarden {
    /// What argument-parser puts before its own errors (an unknown option, a missing value, a
    /// `ValidationError`), so that they read like the tool's (`Terminal.error`): every error a
    /// person sees starts `tunwarden: error: `, which is what scripts and log searches look for.
    /// Argument-parser takes this from the root command only; it marks the hook experimental, and
    /// `ErrorStyleTests` fails if a new version stops using it.
    public static var _errorPrefix: String { "tunwarden: error: " }
}

/// What an error tells a person, with what to do about it where tunwarden knows.
enum ErrorAdvice {
    /// The error's text; for an inventory refused for want of root, followed by this very command
    /// line run with sudo, unless the process is root already (and still refused: then the text
    /// alone says what is missing).
    static func text(_ error: any Error) -> String {
        guard let refused = error as? InventoryError, refused.needsRoot, geteuid() != 0 else { return "\(error)" }
        return "\(refused); run it as root: \(asRoot(GlobalOptions.displayArguments()))"
    }

    /// `arguments` (the program and its arguments, as run) as a command line for a POSIX shell,
    /// under sudo; arguments with characters the shell would act on are single-quoted.
    static func asRoot(_ arguments: [String]) -> String {
        (["sudo"] + arguments.map(quoted)).joined(separator: " ")
    }

    /// The characters no POSIX shell acts on, anywhere in a word.
    private static let plain = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-")

    private static func quoted(_ argument: String) -> String {
        !argument.isEmpty && argument.allSatisfy(plain.contains) ? argument : "'" + argument.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }
}
