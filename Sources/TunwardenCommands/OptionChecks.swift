import ArgumentParser
import Foundation
import TunwardenConfig
import TunwardenCore

/// Checks of option values that several commands share. Each error names the option, the value
/// given and what the option takes, and ends the run with exit code 64 before anything is done.
/// The bounds are the configuration file's (`SettingBounds`), so an option and its key in the file
/// accept the same values.
enum OptionCheck {
    /// A whole number within `bounds`.
    static func number(_ value: Int?, _ option: String, in bounds: ClosedRange<Int>) throws {
        guard let value, !bounds.contains(value) else { return }
        throw ValidationError("\(option) must be from \(bounds.lowerBound) to \(bounds.upperBound); got \(value)")
    }

    /// A duration from `minimum` to `DurationText.maximum`; `examples` shows what one looks like.
    /// A number other than 0 without a unit is refused, naming the spellings that would do.
    static func duration(_ text: String?, _ option: String, minimum: TimeInterval, examples: String) throws {
        guard let text else { return }
        do {
            _ = try DurationText.checked(text, minimum: minimum)
        } catch .notADuration {
            throw ValidationError("\(option) takes a duration like \(examples); got '\(text)'")
        } catch {
            throw ValidationError("\(option) \(error)")
        }
    }

    /// A path, which an empty text is not: it would silently mean the current directory or,
    /// joined with a file name, the filesystem's root.
    static func path(_ text: String?, _ option: String) throws {
        guard let text, text.isEmpty else { return }
        throw ValidationError("\(option) takes a path; got an empty one")
    }
}
