import Foundation
import Storage
import Testing
import TestSupport
import TunwardenCore

/// `tunwarden journal` over a journal with a record cut short and with a damaged line.
@Suite struct JournalCommandTests {
    func record(_ name: String, _ index: Int, type: JournalRecord.Kind) -> JournalRecord {
        JournalRecord(time: Date(timeIntervalSince1970: 1_800_000_000), run: "0123456789abcdef", type: type, netns: "blue", ifname: name, ifindex: index,
                      prior: type == .intent ? PriorState(NetworkInterface(index: index, name: name, kind: .tun, mtu: 1500, tun: TunDetails(persistent: true)), routes: []) : nil,
                      recreate: type == .intent ? ["ip -n blue tuntap add dev \(name) mode tun"] : nil, result: type == .result ? .deleted : nil)
    }

    @Test func aRecordCutShortIsReportedAndTheRestShownButDamageIsRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let journal = Journal(path: directory.path + "/journal.jsonl")
        try journal.append([record("cut0", 7, type: .intent), record("cut1", 8, type: .intent), record("cut0", 7, type: .result)])
        let whole = FileManager.default.contents(atPath: journal.path) ?? Data()
        try (whole + Data(try JSONWriter.encode(record("cut1", 8, type: .result)).prefix(33))).write(to: URL(fileURLWithPath: journal.path))

        let shown = try Shell.capture([Shell.tunwardenBinary, "journal", "--journal", journal.path])
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stderr.contains("tunwarden: warning: \(journal.path): the record at byte \(whole.count) was cut short after 33 bytes"))
        #expect(shown.stdout.contains("deleted  tun cut0 (ifindex 7)"))
        #expect(shown.stdout.contains("interrupted (no result recorded) tun cut1 (ifindex 8)"))
        let json = try Shell.capture([Shell.tunwardenBinary, "journal", "--journal", journal.path, "--format", "json"])
        #expect(json.status == 0)
        #expect((try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [Any])?.count == 3)

        // A damaged line before good ones is not a record cut short: nothing is shown.
        try (Data("{\"time\": oops}\n".utf8) + whole).write(to: URL(fileURLWithPath: journal.path))
        let damaged = try Shell.capture([Shell.tunwardenBinary, "journal", "--journal", journal.path])
        #expect(damaged.status == 3)
        #expect(damaged.stdout.isEmpty)
        #expect(damaged.stderr.contains("line 1 is not a journal record"))
    }
}
