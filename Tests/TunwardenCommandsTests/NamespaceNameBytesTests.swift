#if os(Linux)
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

    @Test func theArgumentIsFoundByItsBytes() {
        let odd: [UInt8] = Array("twx-nu".utf8) + [0xff]
        let decoded = InterfaceName.argumentText(odd)
        #expect(GlobalOptions.argumentNotUTF8(decodingTo: decoded, arguments: [Array("tunwarden".utf8), Array("--netns".utf8), odd]) == odd)
        #expect(GlobalOptions.argumentNotUTF8(decodingTo: decoded, arguments: [Array("--netns=".utf8) + odd]) == odd)
        // A name that holds a backslash and x itself, given as UTF-8, is that name.
        #expect(GlobalOptions.argumentNotUTF8(decodingTo: #"a\xff"#, arguments: [Array(#"a\xff"#.utf8)]) == nil)
    }
}
#endif
