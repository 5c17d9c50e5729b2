#if os(Linux)
import ArgumentParser
import Foundation
import Testing
import TestSupport
@testable import TunwardenCommands
import TunwardenCore

/// `--netns` with a name that is not UTF-8 (`ip netns add` takes any bytes): the argument would
/// reach tunwarden with U+FFFD in place of the odd bytes, and name another file. It is refused as
/// bad usage, the name shown with `\xHH` escapes, before anything is looked at.
@Suite struct NamespaceNameBytesTests {
    @Test func aNamespaceNameThatIsNotUTF8IsRefusedShownAsItsBytes() throws {
        for form in ["--netns \"$(printf 'twx-nu\\377')\"", "--netns=\"$(printf 'twx-nu\\377')\""] {
            let result = try Shell.capture(["/bin/sh", "-c", "exec \"$0\" \(form) audit --no-state", Shell.tunwardenBinary])
            #expect(result.status == 64, "\(form): \(result.status) \(result.stderr)")
            #expect(result.stderr.contains("the network namespace name 'twx-nu\\xff' is not UTF-8"), "\(form): \(result.stderr)")
            #expect(!result.stderr.contains("\u{FFFD}"), "\(result.stderr)")
        }
    }

    @Test func theArgumentIsFoundByItsBytes() throws {
        let odd: [UInt8] = Array("twx-nu".utf8) + [0xff]
        for arguments in [[Array("tunwarden".utf8), Array("--netns".utf8), odd], [Array("tunwarden".utf8), Array("--netns=".utf8) + odd]] {
            #expect(throws: ValidationError.self) { try Tunwarden.commandLineArguments(arguments) }
            do {
                _ = try Tunwarden.commandLineArguments(arguments)
            } catch {
                #expect("\(error)".contains(#"'twx-nu\xff' is not UTF-8"#), "\(error)")
            }
        }
        // A name that holds a backslash and x itself, given as UTF-8, is that name.
        #expect(try Tunwarden.commandLineArguments([Array("--netns".utf8), Array(#"a\xff"#.utf8)]) == ["--netns", #"a\xff"#])
    }
}
#endif
