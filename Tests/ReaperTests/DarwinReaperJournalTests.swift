import Foundation
import Testing
@testable import Reaper
import Storage
import TestSupport
import TunwardenCore

/// A macOS reap whose result records cannot be journaled once its commands have run.
@Suite struct DarwinReaperJournalTests {
    /// The stand-in `ifconfig` puts a directory where the journal was as it destroys a feth, so
    /// the intents are journaled and the results cannot be: the reap still returns every result,
    /// as `ReapJournalIncomplete`, for the command to report.
    @Test func resultsThatCannotBeJournaledAreStillReturned() throws {
        let standIns = try StandInTools(ifconfig: DarwinReaperTests.ifconfig, netstat: DarwinReaperTests.netstat,
                                        lsof: DarwinReaperTests.lsof, ps: DarwinReaperTests.ps)
        let journal = Journal(path: standIns.directory.path + "/journal.jsonl")
        try standIns.script("ifconfig", """
        #!/bin/sh
        echo "ifconfig $*" >> "\(standIns.log)"
        if [ "$1" = "-a" ]; then cat "\(standIns.directory.path)/ifconfig.txt"; exit 0; fi
        if [ ! -d "\(journal.path)" ]; then rm -f "\(journal.path)" && mkdir "\(journal.path)"; fi
        """)
        let plan = try DarwinReaperTests().plan(standIns)
        let incomplete = #expect(throws: ReapJournalIncomplete.self) {
            try DarwinReaper(tools: standIns.tools, privileged: true).execute(plan, journal: journal, runID: "t")
        }
        #expect(incomplete?.results.map(\.ifname) == plan.items.map(\.ifname))
        #expect(incomplete?.results.map(\.outcome) == [.deleted, .deleted, .deleted, .deleted, .deleted])
        #expect(incomplete?.reason.contains("\(journal.path): cannot be opened for appending") == true, "\(incomplete?.reason ?? "")")
        #expect(standIns.changes().contains("ifconfig feth8846 destroy"))
        #expect(standIns.changes().contains("route -n delete -inet6 default fe80::%utun0 -ifscope utun0"))
    }
}
