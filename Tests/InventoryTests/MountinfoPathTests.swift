#if os(Linux)
import Foundation
import Testing
@testable import Inventory

/// Namespaces kept by bind mounts are found in mountinfo, whose paths are the kernel's bytes with
/// only a space, tab, newline and backslash escaped (`\ooo`). The tables here are written to a
/// /proc made in a temporary directory.
struct MountinfoPathTests {
    @Test func escapesBecomeBytesAndOtherBytesStayAsTheyAre() {
        #expect(ForeignStacking.unescapedMountField(Array(#"/run/a\040b\011c\012d\134e"#.utf8)) == Array("/run/a b\tc\nd\\e".utf8))
        #expect(ForeignStacking.unescapedMountField(Array(#"/x\377"#.utf8)) == Array("/x".utf8) + [0xff])
        #expect(ForeignStacking.unescapedMountField([0x2f, 0xff, 0xfe]) == [0x2f, 0xff, 0xfe])
        // What the kernel never writes is taken as it is: a backslash at the end, digits that are
        // not octal, a value over a byte.
        #expect(ForeignStacking.unescapedMountField(Array(#"/a\"#.utf8)) == Array(#"/a\"#.utf8))
        #expect(ForeignStacking.unescapedMountField(Array(#"/a\08"#.utf8)) == Array(#"/a\08"#.utf8))
        #expect(ForeignStacking.unescapedMountField(Array(#"/a\400"#.utf8)) == Array(#"/a\400"#.utf8))
    }

    @Test func aTableWithPathsThatAreNotUTF8StillGivesItsNamespaces() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("tw-mountinfo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("self"), withIntermediateDirectories: true)
        var table = Array("36 25 0:4 / /proc rw,nosuid - proc proc rw\n".utf8)
        table += Array("40 25 0:30 / /mnt/".utf8) + [0xff, 0xc3] + Array(" rw - tmpfs none".utf8) + [0xfe] + Array(" rw\n".utf8)
        table += Array("41 25 0:4 net:[4026532999] /run/netns/b".utf8) + [0xff] + Array(" rw shared:5 - nsfs nsfs rw\n".utf8)
        table += Array(#"42 25 0:4 net:[4026533000] /run/docker/netns/with\040space rw - nsfs nsfs rw"#.utf8) + [0x0a]
        table += Array("43 25 0:4 mnt:[4026533001] /run/x rw - nsfs nsfs rw\n".utf8)
        try Data(table).write(to: root.appendingPathComponent("self/mountinfo"))
        guard case let .ok(mounts) = ForeignStacking.nsfsMounts(procRoot: root.path) else {
            Issue.record("the table was not read")
            return
        }
        #expect(mounts.map(\.inode) == [4026532999, 4026533000])
        #expect(mounts.map(\.point.bytes) == [Array("/run/netns/b".utf8) + [0xff], Array("/run/docker/netns/with space".utf8)])
    }

    @Test func aTableThatCannotBeReadIsSaid() {
        if case .ok = ForeignStacking.nsfsMounts(procRoot: "/nonexistent-\(UUID().uuidString)") {
            Issue.record("a missing mountinfo read as an empty table")
        }
    }
}
#endif
