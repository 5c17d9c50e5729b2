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

    /// A run killed before it recorded any result is counted against the devices it named, not
    /// against the results it had: "0 deleted of 2", each device shown as interrupted.
    @Test func aRunKilledBeforeActingCountsItsDevices() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let journal = Journal(path: directory.path + "/journal.jsonl")
        try journal.append([record("kil0", 7, type: .intent), record("kil1", 8, type: .intent)])
        let shown = try Shell.capture([Shell.tunwardenBinary, "journal", "--journal", journal.path])
        #expect(shown.stdout.contains("namespace blue: 0 deleted of 2\n"), "\(shown.stdout)")
        #expect(shown.stdout.components(separatedBy: "interrupted (no result recorded)").count == 3, "\(shown.stdout)")
        try journal.append([record("kil0", 7, type: .result)])
        let after = try Shell.capture([Shell.tunwardenBinary, "journal", "--journal", journal.path])
        #expect(after.stdout.contains(": 1 deleted of 2\n"), "\(after.stdout)")
    }

    @Test func aRecordCutShortIsReportedAndTheRestShownButDamageIsRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let journal = Journal(path: directory.path + "/journal.jsonl")
        try journal.append([record("cut0", 7, type: .intent), record("cut1", 8, type: .intent), record("cut0", 7, type: .result)])
        let whole = FileManager.default.contents(atPath: journal.path) ?? Data()
        try (whole + Data(record("cut1", 8, type: .result).json().prefix(33))).write(to: URL(fileURLWithPath: journal.path))

        let shown = try Shell.capture([Shell.tunwardenBinary, "journal", "--journal", journal.path])
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stderr.contains("tunwarden: warning: \(journal.path): the record at byte \(whole.count) was cut short after 33 bytes"))
        #expect(shown.stdout.contains("deleted  tun cut0 (ifindex 7)"))
        #expect(shown.stdout.contains("interrupted (no result recorded) tun cut1 (ifindex 8)"))
        let json = try Shell.capture([Shell.tunwardenBinary, "journal", "--journal", journal.path, "--format", "json"])
        #expect(json.status == 0)
        #expect((try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [Any])?.count == 3)
        // The records as the journal holds them, keys in the same order: its lines, in an array.
        #expect(json.stdout == "[" + String(decoding: whole, as: UTF8.self).split(separator: "\n").joined(separator: ",") + "]\n")

        // A damaged line before good ones is not a record cut short: nothing is shown.
        try (Data("{\"time\": oops}\n".utf8) + whole).write(to: URL(fileURLWithPath: journal.path))
        let damaged = try Shell.capture([Shell.tunwardenBinary, "journal", "--journal", journal.path])
        #expect(damaged.status == 3)
        #expect(damaged.stdout.isEmpty)
        #expect(damaged.stderr.contains("line 1 is not a journal record"))
    }

    /// A journal path typed on the command line whose directory does not exist is a usage error
    /// (exit 64) that names the directory, in every format; a missing file in an existing
    /// directory, or a configured path no reap has used yet, is no journal yet (exit 0), which is
    /// said apart from an empty journal.
    @Test func aMissingJournalIsToldFromAnEmptyOneAndAMistypedDirectoryIsAnError() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let missing = directory.path + "/missing"
        for format in ["table", "json"] {
            let mistyped = try Shell.capture([Shell.tunwardenBinary, "journal", "--journal", missing + "/j.jsonl", "--format", format])
            #expect(mistyped.status == 64, "\(format): \(mistyped.stdout)\(mistyped.stderr)")
            #expect(mistyped.stdout.isEmpty)
            #expect(mistyped.stderr == "tunwarden: error: --journal \(missing)/j.jsonl: the directory \(missing) does not exist, so no reap has written a journal there; give the --journal that reap was given\n")
        }
        let stateDirectory = try Shell.capture([Shell.tunwardenBinary, "journal", "--state-dir", missing])
        #expect(stateDirectory.status == 64)
        #expect(stateDirectory.stderr.hasPrefix("tunwarden: error: --state-dir \(missing): the directory \(missing) does not exist"), "\(stateDirectory.stderr)")
        let file = directory.path + "/plain"
        try Data().write(to: URL(fileURLWithPath: file))
        let underFile = try Shell.capture([Shell.tunwardenBinary, "journal", "--journal", file + "/j.jsonl"])
        #expect(underFile.status == 64)
        #expect(underFile.stderr.hasPrefix("tunwarden: error: --journal \(file)/j.jsonl: \(file) is not a directory"), "\(underFile.stderr)")

        let notYet = try Shell.capture([Shell.tunwardenBinary, "journal", "--journal", directory.path + "/j.jsonl"])
        #expect(notYet.status == 0 && notYet.stderr.isEmpty, "\(notYet.stderr)")
        #expect(notYet.stdout == "There is no journal at \(directory.path)/j.jsonl yet: nothing has been reaped with it.\n")
        let notYetJSON = try Shell.capture([Shell.tunwardenBinary, "journal", "--journal", directory.path + "/j.jsonl", "--format", "json"])
        #expect(notYetJSON.status == 0 && notYetJSON.stdout == "[]\n", "\(notYetJSON.stdout)\(notYetJSON.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/j.jsonl"), "reading the journal created it")

        // The configuration file's path is where the first reap will write: its directory may not exist yet.
        let config = directory.path + "/tunwarden.conf"
        try Data("journal: \(missing)/j.jsonl\n".utf8).write(to: URL(fileURLWithPath: config))
        let configured = try Shell.capture([Shell.tunwardenBinary, "--config", config, "journal"])
        #expect(configured.status == 0, "\(configured.stderr)")
        #expect(configured.stdout == "There is no journal at \(missing)/j.jsonl yet: nothing has been reaped with it.\n")

        try Data().write(to: URL(fileURLWithPath: directory.path + "/j.jsonl"))
        let empty = try Shell.capture([Shell.tunwardenBinary, "journal", "--journal", directory.path + "/j.jsonl"])
        #expect(empty.status == 0 && empty.stderr.isEmpty, "\(empty.stderr)")
        #expect(empty.stdout == "The journal at \(directory.path)/j.jsonl is empty: nothing has been reaped since it was created or rotated.\n")
    }
}
