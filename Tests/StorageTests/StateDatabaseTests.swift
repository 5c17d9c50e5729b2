import Foundation
import Testing
@testable import Storage
import TunwardenCore

/// The state database: recording row by row, the watcher's incremental entry point, alerts
/// claimed once and retried until delivered, damage, and the import of a state.json.
@Suite struct StateDatabaseTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static let identity = "netns-cookie:7@boot:b1"

    final class Directory {
        let path: String
        init() throws {
            path = FileManager.default.temporaryDirectory.appendingPathComponent("tunwarden-db-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    /// `count` persistent tuns named t0…, those in `orphaned` with no holder, the others held;
    /// the boot clock reads as far from `bootAtT0` as `time` is from t0, as it would without a
    /// step of the wall clock (the times are the wall clock's in 2027: ahead of the real one).
    static func assessment(_ count: Int, orphaned: Set<Int> = [], at time: Date, identity: String = identity, netns: String? = "blue") -> Assessment {
        var attachments: [HolderAttachment] = []
        let interfaces = (0..<count).map { i in
            NetworkInterface(index: i + 2, name: "t\(i)", kind: .tun, carrier: false, tun: TunDetails(persistent: true))
        }
        for i in 0..<count where !orphaned.contains(i) {
            attachments.append(HolderAttachment(holder: Holder(pid: Int32(1000 + i), comm: "vpn", uid: 0, fd: 3), ifname: "t\(i)", inInspectedNamespace: true))
        }
        var snapshot = Snapshot(platform: .linux, namespace: netns, namespaceIdentity: identity, takenAt: time, interfaces: interfaces,
                                routes: [], holders: HolderScan(complete: true, attachments: attachments, processesScanned: 10))
        snapshot.bootClock = bootAtT0 + time.timeIntervalSince(t0)
        return Heuristics.assess(snapshot)
    }
    static let bootAtT0: TimeInterval = 1_000_000

    static let judging = AlertJudging(growth: GrowthPolicy(), sinks: [.exec]) { "h" }

    @Test func aMissingDatabaseIsNoneUntilMadeAndObservationsRoundTrip() throws {
        let directory = try Directory()
        let store = StateStore(directory: directory.path + "/nested/state")
        #expect(try store.database(create: false) == nil)
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/nested"))
        func recordAndRead() throws -> Observations {
            let database = try #require(try store.database())
            let recorded = try database.record(Self.assessment(3, orphaned: [1], at: Self.t0), label: NamespaceLabel(name: "blue"), alerting: nil)
            let read = try database.observations(namespace: Self.identity)
            #expect(read.namespaces == recorded.observations.namespaces)
            #expect(read.namespaces[Self.identity]?["3:t1"]?.orphanedSince == Self.t0)
            #expect(read.namespaces[Self.identity]?["2:t0"]?.holdersSeen == ["vpn[1000]"])
            return read
        }
        let read = try recordAndRead()
        store.close()
        // A small write-ahead log stays beside the file when the last connection closes.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path + "/nested/state").sorted() == ["state.db", "state.db-shm", "state.db-wal"])
        #expect(try StateStore(directory: directory.path + "/nested/state").database()?.observations(namespace: Self.identity).namespaces == read.namespaces)
    }

    /// A store kept open (the watcher's) follows the file at its path: when another run moves a
    /// damaged database aside, or the file is removed or replaced, the next use opens the file
    /// now there, and `openings` tells the keeper to record whole, instead of writing on into a
    /// file no other run reads.
    @Test func aStoreKeptOpenFollowsTheFileAtItsPath() throws {
        let directory = try Directory()
        let store = StateStore(directory: directory.path)
        let first = try #require(try store.database())
        _ = try first.record(Self.assessment(2, orphaned: [1], at: Self.t0), label: nil, alerting: nil)
        #expect(store.openings == 1 && !store.openFileReplaced)
        #expect(try store.database() === first)
        try FileManager.default.moveItem(atPath: store.path, toPath: store.path + ".corrupt-test")
        #expect(store.openFileReplaced)
        let second = try #require(try store.database())
        #expect(second !== first && store.openings == 2 && !store.openFileReplaced)
        // The fresh file knows nothing of the first one's namespace.
        #expect(try second.observations(namespace: Self.identity).namespaces[Self.identity]?.isEmpty ?? true)
        try FileManager.default.removeItem(atPath: store.path)
        #expect(store.openFileReplaced)
        #expect(try store.database() !== second && store.openings == 3)
    }

    /// A recording reads only the count samples recorded since its connection last read them;
    /// what it returns is what reading them all gives, whoever recorded them (another run,
    /// stale ones refused), however far the window moves, and past `maximumSamples`.
    @Test func countsReadSinceTheLastReadEqualAWholeRead() throws {
        let directory = try Directory()
        let watcher = try #require(try StateStore(directory: directory.path).database())
        let other = try #require(try StateStore(directory: directory.path).database())
        var generator = SystemRandomNumberGenerator()
        let window: TimeInterval = 400
        let judging = AlertJudging(growth: GrowthPolicy(window: window), sinks: []) { "h" }
        var cache = try watcher.record(Self.assessment(3, at: Self.t0), label: nil, alerting: judging).observations
        var now = Self.t0
        var compared = 0
        for step in 0..<(StateDatabase.maximumSamples + 300) {
            // Mostly a second apart, now and then at the same moment or a long way on.
            now += [0, 1, 1, 1, 2, 150].randomElement(using: &generator)!
            let count = Int.random(in: 1...6, using: &generator)
            let alerting = Int.random(in: 0...9, using: &generator) == 0 ? nil : judging
            let recording: Recording
            switch Int.random(in: 0...9, using: &generator) {
            case 0:
                // Another run, sometimes with an inventory older than the last one recorded.
                _ = try other.record(Self.assessment(count, at: now - Double(Int.random(in: 0...1, using: &generator) * 5)), label: nil, alerting: judging)
                continue
            case 1:
                recording = try watcher.record(Self.assessment(count, at: now), label: nil, alerting: alerting)
                cache = recording.observations
            default:
                let assessment = Self.assessment(count, at: now)
                recording = try watcher.recordChanges(assessment, changed: [assessment.interfaces[0]], removed: [], label: nil,
                                                      alerting: alerting, cache: &cache)
            }
            guard !recording.wasStale, step % 37 == 0 || step > StateDatabase.maximumSamples + 250 else { continue }
            // A whole read, by a connection that never read them before.
            let fresh = try #require(try StateStore(directory: directory.path).database())
            let whole = try fresh.observations(namespace: Self.identity, growthWindow: alerting == nil ? 0 : window, now: now)
            #expect(recording.observations.histories[Self.identity]?.counts == whole.histories[Self.identity]?.counts, "step \(step)")
            #expect(whole.histories[Self.identity]?.counts.count ?? 0 <= StateDatabase.maximumSamples)
            compared += 1
        }
        #expect(compared > 60)
    }

    /// A checkpoint folds what the write-ahead log holds into the database file while the
    /// connection stays open (a watcher's does not close), and another connection still reads it.
    @Test func aCheckpointFoldsTheLogIntoTheFile() throws {
        let directory = try Directory()
        let store = StateStore(directory: directory.path)
        let database = try #require(try store.database())
        let recorded = try database.record(Self.assessment(3000, at: Self.t0), label: nil, alerting: nil)
        func size(_ name: String) throws -> Int {
            try FileManager.default.attributesOfItem(atPath: directory.path + "/" + name)[.size] as? Int ?? 0
        }
        let before = try size("state.db")
        #expect(try size("state.db-wal") > 100_000)
        try database.checkpoint()
        #expect(try size("state.db") > before + 100_000, "the rows are in the file")
        #expect(try StateStore(directory: directory.path).database()?.observations(namespace: Self.identity).namespaces == recorded.observations.namespaces)
        store.close()
    }

    /// A run that leaves a small write-ahead log leaves it as it is (no fold, no fsync, no file
    /// made and deleted again): the next run reads it back. One that grew it past
    /// `foldAtClose` folds it into the file and empties it.
    @Test func aSmallLogOutlivesItsConnectionAndALargeOneIsFolded() throws {
        let directory = try Directory()
        func size(_ name: String) throws -> Int {
            try FileManager.default.attributesOfItem(atPath: directory.path + "/" + name)[.size] as? Int ?? 0
        }
        var store = StateStore(directory: directory.path)
        let first = try #require(try store.database()).record(Self.assessment(10_000, at: Self.t0), label: nil, alerting: nil)
        store.close()
        #expect(try size("state.db-wal") == 0, "ten thousand rows are past the limit: folded and emptied")
        #expect(try size("state.db") > 100_000)
        store = StateStore(directory: directory.path)
        let second = try #require(try store.database()).record(Self.assessment(10_000, orphaned: [7], at: Self.t0 + 60), label: nil, alerting: nil)
        store.close()
        let left = try size("state.db-wal")
        #expect(left > 0 && left <= SQLiteConnection.foldAtClose, "one changed row is left in the log: \(left) bytes")
        let again = try #require(try StateStore(directory: directory.path).database())
        #expect(try again.observations(namespace: Self.identity).namespaces == second.observations.namespaces)
        #expect(first.observations.namespaces != second.observations.namespaces)
    }

    /// An audit that finds every interface as it was writes no interface row: only its count
    /// sample and the namespace's last run, however many interfaces there are.
    @Test func anUnchangedInventoryWritesNoInterfaceRow() throws {
        let directory = try Directory()
        let database = try #require(try StateStore(directory: directory.path).database())
        _ = try database.record(Self.assessment(2000, orphaned: Set(0..<50), at: Self.t0), label: nil, alerting: Self.judging)
        let before = database.rowsWritten
        let again = try database.record(Self.assessment(2000, orphaned: Set(0..<50), at: Self.t0 + 60), label: nil, alerting: Self.judging)
        #expect(again.alert == nil)
        #expect(database.rowsWritten - before == 2, "the namespace's last run and one count sample")
        // Seen again now, though no row said so.
        #expect(again.observations.namespaces[Self.identity]?["2:t0"]?.lastSeen == Self.t0 + 60)
        #expect(try database.observations(namespace: Self.identity).namespaces[Self.identity]?["2:t0"]?.lastSeen == Self.t0 + 60)

        // One interface orphaned, one gone: two rows more (and the remembered orphan).
        let changed = database.rowsWritten
        var next = Self.assessment(2000, orphaned: Set(0..<51), at: Self.t0 + 120)
        next.interfaces.removeLast()
        let recorded = try database.record(next, label: nil, alerting: Self.judging)
        #expect(recorded.alert?.newOrphans == ["t50"])
        // last run, sample, t50's row, t1999's row, t50 remembered as alerted, the alert itself,
        // and the claim of it and of the first alert (claimed, never finished), which it carries.
        #expect(database.rowsWritten - changed == 8)
    }

    /// An interface renamed keeps its index: its old row is forgotten and it is new under its
    /// new name, whether that name sorts before the old one or after it, and the rows around it
    /// keep their first sightings.
    @Test func aRenamedInterfaceIsNewAndItsOldRowForgotten() throws {
        let directory = try Directory()
        let database = try #require(try StateStore(directory: directory.path).database())
        _ = try database.record(Self.assessment(4, at: Self.t0), label: nil, alerting: nil)
        var renamed = Self.assessment(4, at: Self.t0 + 60)
        renamed.interfaces[1].interface.name = "a1"   // sorts before "t1"
        renamed.interfaces[2].interface.name = "zz2"  // sorts after "t2"
        let recorded = try database.record(renamed, label: nil, alerting: nil)
        let stored = try database.observations(namespace: Self.identity).namespaces[Self.identity] ?? [:]
        #expect(stored.keys.sorted() == ["2:t0", "3:a1", "4:zz2", "5:t3"])
        #expect(stored["3:a1"]?.firstSeen == Self.t0 + 60 && stored["4:zz2"]?.firstSeen == Self.t0 + 60)
        #expect(stored["2:t0"]?.firstSeen == Self.t0 && stored["5:t3"]?.firstSeen == Self.t0)
        #expect(recorded.observations.namespaces[Self.identity] == stored)
    }

    /// A recording for a one-shot audit (`keyed: false`) writes what a keyed one writes and gives
    /// the same observations, in the assessment's order (also one not in key order), without the
    /// map by key; a lookup by key still finds each.
    @Test func anUnkeyedRecordingGivesTheSameObservationsInOrder() throws {
        let directory = try Directory(), keyedDirectory = try Directory()
        let database = try #require(try StateStore(directory: directory.path).database())
        let keyedDatabase = try #require(try StateStore(directory: keyedDirectory.path).database())
        for (step, orphaned) in [Set([1, 4]), Set([4, 5])].enumerated() {
            var assessment = Self.assessment(8, orphaned: orphaned, at: Self.t0 + Double(step) * 60)
            if step == 1 { assessment.interfaces.swapAt(0, 6) }
            let unkeyed = try database.record(assessment, label: nil, alerting: Self.judging, keyed: false)
            let keyed = try keyedDatabase.record(assessment, label: nil, alerting: Self.judging)
            #expect(unkeyed.observations.namespaces[Self.identity] == nil)
            let order = try #require(unkeyed.observations.recordedOrder)
            #expect(order.list.map(\.ifname) == assessment.interfaces.map(\.interface.name))
            #expect(order.list == keyed.observations.recordedOrder?.list)
            for entry in assessment.interfaces {
                #expect(unkeyed.observations.observation(of: entry.interface, in: Self.identity) == keyed.observations.observation(of: entry.interface, in: Self.identity))
            }
            #expect(try database.observations(namespace: Self.identity).namespaces == keyedDatabase.observations(namespace: Self.identity).namespaces)
        }
    }

    /// Rows read ahead (while the kernel's dump runs) stand in for the recording's own read only
    /// while no other run has written: a recording after another connection's write sees that
    /// write, one after none records what reading in its own transaction would, and rows read
    /// ahead for another namespace, or used once already, are not used.
    @Test func rowsReadAheadAreUsedOnlyWhileNoOtherRunHasWritten() throws {
        let directory = try Directory()
        let store = StateStore(directory: directory.path)
        let database = try #require(try store.database())
        _ = try database.record(Self.assessment(50, orphaned: [3], at: Self.t0), label: nil, alerting: Self.judging)

        // Another run records t7 orphaned after this one read ahead: this one's recording keeps
        // the orphaned-since time that run wrote, and alerts nothing new (that run alerted it).
        store.readAhead(namespace: Self.identity)
        let other = try #require(try StateStore(directory: directory.path).database())
        let otherRecording = try other.record(Self.assessment(50, orphaned: [3, 7], at: Self.t0 + 10), label: nil, alerting: Self.judging)
        #expect(otherRecording.alert?.newOrphans == ["t7"])
        let after = try database.record(Self.assessment(50, orphaned: [3, 7], at: Self.t0 + 20), label: nil, alerting: Self.judging)
        #expect(after.observations.namespaces[Self.identity]?["9:t7"]?.orphanedSince == Self.t0 + 10)
        #expect(after.alert == nil)
        // Another run (a watcher's traffic sample) writes t4's counters, which leaves the
        // namespace's last run as it was: only SQLite's data_version tells.
        store.readAhead(namespace: Self.identity)
        var sampled = NetworkInterface(index: 6, name: "t4", kind: .tun, carrier: false, tun: TunDetails(persistent: true))
        sampled.stats = TrafficCounters(rxPackets: 5, txPackets: 6, rxBytes: 700, txBytes: 800)
        #expect(try other.noteTraffic([sampled], namespace: Self.identity, at: Self.t0 + 25))
        let afterSample = try database.record(Self.assessment(50, orphaned: [3, 7], at: Self.t0 + 30), label: nil, alerting: Self.judging)
        #expect(afterSample.observations.namespaces[Self.identity]?["6:t4"]?.traffic == sampled.stats)

        // Nothing written since: the rows read ahead are used, and the recording equals one that
        // read its rows itself (compared with a copy of the database).
        store.readAhead(namespace: Self.identity)
        #expect(database.readAhead?.rows.count == 50)
        let copy = try Directory()
        try database.checkpoint()
        try FileManager.default.copyItem(atPath: directory.path + "/state.db", toPath: copy.path + "/state.db")
        let copied = try #require(try StateStore(directory: copy.path).database())
        var next = Self.assessment(51, orphaned: [3, 7, 50], at: Self.t0 + 40)
        next.interfaces.remove(at: 20)
        let withReadAhead = try database.record(next, label: nil, alerting: Self.judging)
        let withoutReadAhead = try copied.record(next, label: nil, alerting: Self.judging)
        #expect(withReadAhead.observations == withoutReadAhead.observations)
        #expect(withReadAhead.alert?.newOrphans == ["t50"] && withoutReadAhead.alert?.newOrphans == ["t50"])
        #expect(try database.observations(namespace: Self.identity) == copied.observations(namespace: Self.identity))
        // Used once.
        #expect(database.readAhead == nil)

        // Rows this connection wrote after reading ahead are not another run's write (SQLite's
        // data_version does not count them), so the rows read ahead are what is used: the proof
        // that they stand in for the read. (tunwarden never writes between the two.)
        store.readAhead(namespace: Self.identity)
        try database.connection.statement("DELETE FROM interfaces WHERE ifname = 't0'").run()
        let stale = try database.record(Self.assessment(51, orphaned: [3, 7, 50], at: Self.t0 + 50), label: nil, alerting: nil)
        #expect(stale.observations.namespaces[Self.identity]?["2:t0"]?.firstSeen == Self.t0, "the row read ahead, not a new one")

        // Read ahead for another namespace: not used for this one.
        store.readAhead(namespace: "netns-cookie:99@boot:b1")
        #expect(database.readAhead == nil, "a namespace never recorded has nothing to read")
    }

    /// The watcher's entry point reads and writes only the interfaces named, decides the alert
    /// in the same transaction, and leaves the rows as a whole recording would.
    @Test func recordingAChangeTouchesOnlyItsInterfaces() throws {
        let directory = try Directory()
        let database = try #require(try StateStore(directory: directory.path).database())
        var cache = try database.record(Self.assessment(1000, at: Self.t0), label: NamespaceLabel(name: "blue"), alerting: Self.judging).observations
        let now = Self.t0 + 30
        var next = Self.assessment(1001, orphaned: [1000], at: now)
        next.interfaces.remove(at: 5)
        let before = database.rowsWritten
        let recording = try database.recordChanges(next, changed: [next.interfaces.last!], removed: [InterfaceKey(ifindex: 7, ifname: "t5")],
                                                   label: nil, alerting: Self.judging, cache: &cache)
        // Critical before and after (1000 tunnels are beyond the limit): a new orphan.
        #expect(recording.alert?.event == "new-orphan")
        #expect(recording.alert?.newOrphans == ["t1000"])
        // t1000 written, t5 deleted, last run, sample, t1000 alerted, the alert, and the claim of
        // it and of the first alert (claimed, never finished), which it carries.
        #expect(database.rowsWritten - before == 8)
        let stored = try database.observations(namespace: Self.identity).namespaces[Self.identity] ?? [:]
        #expect(stored.count == 1000 && stored["7:t5"] == nil && stored["1002:t1000"]?.orphanedSince == now)
        #expect(cache.namespaces[Self.identity]?.keys.sorted() == stored.keys.sorted())
        // What a whole recording of the same inventory would keep.
        let whole = try #require(try StateStore(directory: try Directory().path).database())
        _ = try whole.record(Self.assessment(1000, at: Self.t0), label: nil, alerting: nil)
        let wholeRows = try whole.record(next, label: nil, alerting: nil).observations.namespaces[Self.identity] ?? [:]
        #expect(wholeRows.mapValues { $0.orphanedSince } == stored.mapValues { $0.orphanedSince })

        // The same condition again alerts nothing, and neither does a whole recording of it.
        var later = next
        later.snapshot.takenAt = now + 30
        let quiet = try database.recordChanges(later, changed: [later.interfaces.last!], removed: [], label: nil, alerting: Self.judging, cache: &cache)
        #expect(quiet.alert == nil)
        later.snapshot.takenAt = now + 60
        #expect(try database.record(later, label: nil, alerting: Self.judging).alert == nil)
    }

    /// A change that cannot be recorded (a full disk, a read-only file) leaves the cache as it
    /// was: the watcher reads from it what it alerted until a whole recording succeeds, and an
    /// orphan missing from it would be alerted again, one added to it never.
    @Test func aChangeThatCannotBeRecordedLeavesTheCacheAsItWas() throws {
        let directory = try Directory()
        let database = try #require(try StateStore(directory: directory.path).database())
        var cache = try database.record(Self.assessment(10, orphaned: [3], at: Self.t0), label: nil, alerting: Self.judging).observations
        let kept = cache
        var next = Self.assessment(11, orphaned: [3, 10], at: Self.t0 + 30)
        next.interfaces.remove(at: 5)
        // The namespace's own row is written; the interfaces' rows fail, as on a disk that fills.
        try database.connection.execute("""
            CREATE TEMP TRIGGER full_on_insert BEFORE INSERT ON interfaces BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;
            CREATE TEMP TRIGGER full_on_update BEFORE UPDATE ON interfaces BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;
            """)
        #expect(throws: (any Error).self) {
            try database.recordChanges(next, changed: [next.interfaces.last!], removed: [InterfaceKey(ifindex: 7, ifname: "t5")],
                                       label: nil, alerting: Self.judging, cache: &cache)
        }
        #expect(cache.namespaces[Self.identity] == kept.namespaces[Self.identity])
        #expect(cache.namespaces[Self.identity]?.values.filter { $0.orphanedSince != nil }.map(\.ifname) == ["t3"])
        #expect(cache.namespaces[Self.identity]?["7:t5"] != nil, "the removal the failed recording made is undone")
    }

    /// Two runs (connections) recording the same change: one decides the alert, the other finds
    /// it decided; an older inventory recorded after a newer one writes nothing.
    @Test func anAlertIsDecidedOnceBetweenRuns() throws {
        let directory = try Directory()
        let first = try #require(try StateStore(directory: directory.path).database())
        let second = try #require(try StateStore(directory: directory.path).database())
        _ = try first.record(Self.assessment(3, at: Self.t0), label: nil, alerting: Self.judging)
        let a = try first.record(Self.assessment(3, orphaned: [2], at: Self.t0 + 10), label: nil, alerting: Self.judging)
        let b = try second.record(Self.assessment(3, orphaned: [2], at: Self.t0 + 11), label: nil, alerting: Self.judging)
        let stale = try second.record(Self.assessment(3, orphaned: [2], at: Self.t0 + 5), label: nil, alerting: Self.judging)
        #expect(a.alert != nil && b.alert == nil)
        #expect(stale.wasStale && stale.alert == nil)
    }

    /// An alert whose delivery failed stays pending, is not retried before its backoff, is
    /// claimed by one run at a time, and is done once delivered.
    @Test func undeliveredAlertsAreRetriedWithBackoffUntilDelivered() throws {
        let directory = try Directory()
        let database = try #require(try StateStore(directory: directory.path).database())
        let other = try #require(try StateStore(directory: directory.path).database())
        _ = try database.record(Self.assessment(2, at: Self.t0), label: nil, alerting: Self.judging)
        let recorded = try database.record(Self.assessment(2, orphaned: [0], at: Self.t0 + 1), label: nil, alerting: Self.judging)
        let alert = try #require(recorded.alert)
        #expect(recorded.claimed.map(\.covers) == [[alert.id]] && recorded.claimed.first?.body == alert.body)
        // Claimed by the run that decided it: nobody else takes it meanwhile.
        #expect(try other.claimDueAlerts(sinks: [.exec], now: Self.t0 + 2).isEmpty)
        try database.finishDelivery(of: alert, delivered: [], failed: [.exec], problem: "--alert-exec exited 1", now: Self.t0 + 2)
        #expect(try database.nextDeliveryAttempt(sinks: [.exec]) == Self.t0 + 62)
        #expect(try other.claimDueAlerts(sinks: [.exec], now: Self.t0 + 61).isEmpty)
        let retry = try other.claimDueAlerts(sinks: [.exec], now: Self.t0 + 62)
        #expect(retry.map(\.id) == [alert.id] && retry.first?.attempts == 1 && retry.first?.body == alert.body)
        #expect(try database.claimDueAlerts(sinks: [.exec], now: Self.t0 + 63).isEmpty, "claimed twice")
        try other.finishDelivery(of: retry[0], delivered: [], failed: [.exec], problem: "again", now: Self.t0 + 63)
        // 1 min, then 2 min, … at most 1 h.
        #expect(try database.nextDeliveryAttempt(sinks: [.exec]) == Self.t0 + 63 + 120)
        #expect(StateDatabase.backoff(afterAttempts: 20) == 3600)
        let third = try database.claimDueAlerts(sinks: [.exec], now: Self.t0 + 200)
        try database.finishDelivery(of: third[0], delivered: [.exec], failed: [], problem: nil, now: Self.t0 + 200)
        #expect(try database.undeliveredAlerts(sinks: [.exec]).isEmpty)
    }

    /// The next alert of a namespace carries what a failed delivery did not say: the status the
    /// sink was last told, the transition since, every new orphan still orphaned. Status is never
    /// stale: back where the sink was last told, with no orphan left to tell of, nothing is owed.
    @Test func theNextAlertCarriesWhatAFailedDeliveryDidNotSay() throws {
        let directory = try Directory()
        let database = try #require(try StateStore(directory: directory.path).database())
        _ = try database.record(Self.assessment(3, at: Self.t0), label: nil, alerting: Self.judging)
        let first = try database.record(Self.assessment(3, orphaned: [0], at: Self.t0 + 1), label: nil, alerting: Self.judging)
        try database.finishDelivery(of: try #require(first.claimed.first), delivered: [], failed: [.exec], problem: "down", now: Self.t0 + 2)
        let second = try database.record(Self.assessment(3, orphaned: [0, 1], at: Self.t0 + 10), label: nil, alerting: Self.judging)
        #expect(second.alert?.event == "new-orphan" && second.alert?.newOrphans == ["t1"])
        let delivery = try #require(second.claimed.first)
        #expect(second.claimed.count == 1 && delivery.sinks == [.exec] && delivery.attempts == 1)
        #expect(delivery.covers == [try #require(first.alert?.id), try #require(second.alert?.id)])
        #expect(delivery.event == "transition" && delivery.previousStatus == .ok && delivery.status == .warning && !delivery.first)
        #expect(delivery.newOrphans == ["t0", "t1"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(delivery.body)) as? [String: Any])
        #expect(object["event"] as? String == "transition" && object["previous_status"] as? String == "ok")
        #expect(object["new_orphans"] as? [String] == ["t0", "t1"] && object["summary"] as? String == second.alert?.summary)
        #expect(object["host"] as? String == "h")
        try database.finishDelivery(of: delivery, delivered: [.exec], failed: [], problem: nil, now: Self.t0 + 11)
        #expect(try database.undeliveredAlerts(sinks: [.exec]).isEmpty)

        // Told WARNING; "resolved" fails, then the same orphan comes back: only the orphan is news.
        let resolved = try database.record(Self.assessment(3, at: Self.t0 + 20), label: nil, alerting: Self.judging)
        try database.finishDelivery(of: try #require(resolved.claimed.first), delivered: [], failed: [.exec], problem: "down", now: Self.t0 + 21)
        let back = try database.record(Self.assessment(3, orphaned: [2], at: Self.t0 + 30), label: nil, alerting: Self.judging)
        #expect(back.alert?.event == "transition")
        #expect(back.claimed.map(\.event) == ["new-orphan"] && back.claimed.first?.previousStatus == .warning && back.claimed.first?.newOrphans == ["t2"])
        try database.finishDelivery(of: back.claimed[0], delivered: [], failed: [.exec], problem: "down", now: Self.t0 + 31)
        // Resolved before the sink heard of t2: it was last told WARNING, so it is told "resolved".
        let gone = try database.record(Self.assessment(3, at: Self.t0 + 40), label: nil, alerting: Self.judging)
        #expect(gone.claimed.map(\.event) == ["resolved"] && gone.claimed.first?.previousStatus == .warning && gone.claimed.first?.newOrphans == [])
        try database.finishDelivery(of: gone.claimed[0], delivered: [.exec], failed: [], problem: nil, now: Self.t0 + 41)
        // Told OK; a transition fails, and is resolved before its retry: nothing is owed, and nothing stays pending.
        let flap = try database.record(Self.assessment(3, orphaned: [1], at: Self.t0 + 50), label: nil, alerting: Self.judging)
        try database.finishDelivery(of: try #require(flap.claimed.first), delivered: [], failed: [.exec], problem: "down", now: Self.t0 + 51)
        let calm = try database.record(Self.assessment(3, at: Self.t0 + 60), label: nil, alerting: Self.judging)
        #expect(calm.alert?.event == "resolved" && calm.claimed.isEmpty)
        #expect(try database.undeliveredAlerts(sinks: [.exec]).isEmpty)
    }

    /// An alert a run without sinks decided (an admin's `audit`) stays owed to every kind of
    /// sink, and a run that has one delivers it; a kind nobody has is told nothing stale later.
    @Test func anAlertARunWithoutSinksDecidedStaysOwedToEverySink() throws {
        let directory = try Directory()
        let database = try #require(try StateStore(directory: directory.path).database())
        let watcher = try #require(try StateStore(directory: directory.path).database())
        let sinkless = AlertJudging(growth: GrowthPolicy(), sinks: []) { "h" }
        _ = try database.record(Self.assessment(2, at: Self.t0), label: nil, alerting: Self.judging)
        let told = try database.record(Self.assessment(2, orphaned: [0], at: Self.t0 + 1), label: nil, alerting: Self.judging)
        try database.finishDelivery(of: try #require(told.claimed.first), delivered: [.exec], failed: [], problem: nil, now: Self.t0 + 2)
        let look = try database.record(Self.assessment(2, at: Self.t0 + 3), label: nil, alerting: sinkless)
        let resolved = try #require(look.alert)
        #expect(resolved.event == "resolved" && look.claimed.isEmpty)
        #expect(try database.undeliveredAlerts(sinks: [.exec]).map(\.id) == [resolved.id])
        let due = try watcher.claimDueAlerts(sinks: [.exec], now: Self.t0 + 3)
        #expect(due.map(\.covers) == [[resolved.id]] && due.first?.sinks == [.exec] && due.first?.previousStatus == .warning)
        #expect(due.first?.namespace == Self.identity)
        try watcher.finishDelivery(of: due[0], delivered: [.exec], failed: [], problem: nil, now: Self.t0 + 4)
        #expect(try database.undeliveredAlerts(sinks: [.exec]).isEmpty)
        // The webhook no run had was told nothing: OK since, so it is owed nothing now.
        #expect(try database.undeliveredAlerts(sinks: [.webhook]).count == 2)
        #expect(try watcher.claimDueAlerts(sinks: [.webhook], now: Self.t0 + 5).isEmpty)
        #expect(try database.undeliveredAlerts().isEmpty)
    }

    @Test func aDamagedDatabaseIsAnErrorNamingItAndIsMovedAsideWhole() throws {
        let directory = try Directory()
        let store = StateStore(directory: directory.path)
        try Data("not a database, but long enough to have a header of sorts: 0123456789012345678901234567890123456789".utf8)
            .write(to: URL(fileURLWithPath: store.path))
        let error = #expect(throws: StorageError.self) { try store.database() }
        #expect(error?.isCorrupt == true && error?.path == store.path)
        #expect(error?.description.contains("is not a valid tunwarden state database") == true, "\(String(describing: error))")
        let kept = try store.moveAside(now: Self.t0)
        #expect(kept == store.path + ".corrupt-2027-01-15T080000Z")
        #expect(try StateStore(directory: directory.path).database() != nil)
        // Damaged again within the same second: kept beside the first, not refused.
        try Data("damaged again, and again long enough to look like something: 0123456789012345678901234567890123456789".utf8)
            .write(to: URL(fileURLWithPath: store.path))
        let again = StateStore(directory: directory.path)
        #expect(try again.moveAside(now: Self.t0) == store.path + ".corrupt-2027-01-15T080000Z-2")

        // Damage SQLite finds in the pages: the interfaces' table overwritten in the middle.
        let other = try Directory()
        let damaged = StateStore(directory: other.path)
        _ = try damaged.database()?.record(Self.assessment(3000, at: Self.t0), label: nil, alerting: nil)
        // In the file, where the damage is done, and no longer in the write-ahead log.
        try damaged.database()?.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        damaged.close()
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: damaged.path))
        try handle.seek(toOffset: 8192)
        handle.write(Data(repeating: 0x5a, count: 64 * 1024))
        try handle.close()
        #expect(throws: StorageError.self) {
            let database = try StateStore(directory: other.path).database()
            try database?.quickCheck()
            _ = try database?.observations(namespace: Self.identity)
        }
    }

    @Test func aDatabaseOfANewerSchemaIsRefusedNotMovedAside() throws {
        let directory = try Directory()
        let store = StateStore(directory: directory.path)
        _ = try store.database()
        try store.database()?.connection.execute("PRAGMA user_version = 9")
        store.close()
        let error = #expect(throws: StorageError.self) { try StateStore(directory: directory.path).database() }
        #expect(error?.isCorrupt == false)
        #expect(error?.description.contains("has schema version 9, which this tunwarden does not know") == true)
    }

    /// Numbers no tunwarden writes (the CHECK constraints refuse them, so only a hand at the file
    /// puts them there) make the database damaged when read.
    @Test func outOfBoundsNumbersMakeTheDatabaseDamaged() throws {
        let directory = try Directory()
        let store = StateStore(directory: directory.path)
        let database = try #require(try store.database())
        _ = try database.record(Self.assessment(1, at: Self.t0), label: nil, alerting: nil)
        #expect(throws: (any Error).self) { try database.connection.execute("UPDATE counts SET count = -1") }
        try database.connection.execute("PRAGMA ignore_check_constraints = ON; UPDATE counts SET count = -9223372036854775808")
        let error = #expect(throws: StorageError.self) { try database.observations(namespace: Self.identity) }
        #expect(error?.isCorrupt == true)
        #expect(error?.description.contains("a tunnel count in the history of \(Self.identity) is -9223372036854775808") == true, "\(String(describing: error))")
        #expect(throws: StorageError.self) { try database.namespaceRecords() }
    }

    @Test func stateNumbersOutsideTheirBoundsAreNamed() {
        var observations = Observations()
        #expect(observations.numberOutOfBounds == nil)
        var history = NamespaceHistory()
        history.addSample(CountSample(time: Self.t0, count: 3))
        history.reapedTotal = 1 << 53
        observations.histories["net:[1]"] = history
        #expect(observations.numberOutOfBounds == nil)
        observations.histories["net:[1]"]?.reapedTotal = Int.max
        #expect(observations.numberOutOfBounds == "the reaped total of net:[1] is \(Int.max), outside 0 to \(1 << 53)")
        observations.histories = [:]
        observations.namespaces["net:[1]"] = ["0:t0": InterfaceObservation(ifindex: 0, ifname: "t0", kind: .tun, firstSeen: Self.t0, lastSeen: Self.t0, orphanedSince: nil)]
        #expect(observations.numberOutOfBounds == "the ifindex of t0 in net:[1] is 0, outside 1 to 2147483647")
    }

    /// A state.json of the format tunwarden kept before (`Golden/state.json`) is imported once,
    /// whole, and kept renamed.
    @Test func aStateFileOfTheOldFormatIsImportedOnceAndKept() throws {
        let directory = try Directory()
        let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/state.json")
        let legacy = directory.path + "/state.json"
        try FileManager.default.copyItem(atPath: golden.path, toPath: legacy)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let expected = try decoder.decode(Observations.self, from: Data(contentsOf: golden))
        let store = StateStore(directory: directory.path)
        let database = try #require(try store.database(create: false))
        #expect(!FileManager.default.fileExists(atPath: legacy))
        #expect(FileManager.default.contentsEqual(atPath: legacy + ".imported", andPath: golden.path))
        for identity in expected.namespaces.keys {
            let read = try database.observations(namespace: identity, growthWindow: .infinity)
            #expect(read.namespaces[identity] == expected.namespaces[identity])
            #expect(read.histories[identity]?.counts == expected.histories[identity]?.counts)
        }
        let records = try database.namespaceRecords()
        #expect(Dictionary(uniqueKeysWithValues: records.map { ($0.identity, $0.history) }) == expected.histories)
        // Never again: a state.json put back is not read.
        store.close()
        try FileManager.default.copyItem(atPath: golden.path, toPath: legacy)
        let reopened = try #require(try StateStore(directory: directory.path).database())
        #expect(try reopened.namespaceRecords() == records)
    }

    @Test(arguments: [
        (#""counts":[{"time":"2026-01-01T00:00:00Z","count":-9223372036854775808}]"#, "a tunnel count in the history of net:[9] is -9223372036854775808"),
        (#""counts":[],"reaped_total":9223372036854775807"#, "the reaped total of net:[9] is 9223372036854775807"),
        ("\"counts\":[", "is not a valid tunwarden state file"),
    ])
    func aDamagedStateFileIsNotImported(history: String, problem: String) throws {
        let directory = try Directory()
        let store = StateStore(directory: directory.path)
        let text = #"{"version":1,"namespaces":{},"histories":{"net:[9]":{"#+history+#"}}}"#
        try Data(text.utf8).write(to: URL(fileURLWithPath: store.legacyPath))
        let error = #expect(throws: StorageError.self) { try store.database() }
        #expect(error?.isCorrupt == true && error?.path == store.legacyPath)
        #expect(error?.description.contains(problem) == true, "\(String(describing: error))")
        // Kept as it was; once moved aside, a fresh database is made.
        #expect(try String(contentsOfFile: store.legacyPath, encoding: .utf8) == text)
        let kept = try store.moveAside(store.legacyPath, now: Self.t0)
        #expect(kept == store.legacyPath + ".corrupt-2027-01-15T080000Z")
        #expect(try store.database()?.namespaceRecords().isEmpty == true)
    }
}
