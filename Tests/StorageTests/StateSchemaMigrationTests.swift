import Foundation
import Testing
@testable import Storage
import TunwardenCore

/// A state database of schema version 1 (ages on the wall clock alone) is brought to version 2
/// when opened, keeping every row; its orphans count their grace period from the next
/// observation, which keeps a boot-clock reading, never from their wall-clock time.
@Suite struct StateSchemaMigrationTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static let identity = "netns-cookie:7@boot:b1"
    static let hour: TimeInterval = 3600

    /// Version 4's tables: this version's without the sinks alerts are owed to and the time an
    /// alerted orphan was released.
    static var version4: String {
        get throws {
            let added = ["released REAL,", "-- When the device stopped being an orphan", "-- keeps it remembered as alerted; NULL", "exec_sink TEXT,",
                         "webhook_sink TEXT,", "-- The sink of each kind the alert is owed to", "-- --alert-webhook URL of the run that decided it",
                         "-- kind: then the next run recording the namespace"]
            let schema = StateSchema.create.split(separator: "\n", omittingEmptySubsequences: false)
                .filter { line in !added.contains { line.contains($0) } }.joined(separator: "\n")
            try #require(schema != StateSchema.create && !schema.contains("released") && !schema.contains("_sink"))
            return schema
        }
    }

    /// Version 3's tables: version 4's without the devices' identities.
    static var version3: String {
        get throws {
            let added = ["identity TEXT,", "-- What tells the device from another", "-- (`DeviceIdentity.text`"]
            let schema = try Self.version4.split(separator: "\n", omittingEmptySubsequences: false)
                .filter { line in !added.contains { line.contains($0) } }.joined(separator: "\n")
            try #require(schema != StateSchema.create && !schema.contains("identity TEXT,"))
            return schema
        }
    }

    /// Version 2's tables: version 3's without the boot clock of a namespace's last run.
    static var version2: String {
        get throws {
            let added = ["last_run_boot REAL", "-- The boot clock when the last inventory recorded", "-- capture): a run whose inventory is older"]
            let schema = try Self.version3.split(separator: "\n", omittingEmptySubsequences: false)
                .filter { line in !added.contains { line.contains($0) } }.joined(separator: "\n")
                .replacingOccurrences(of: "9007199254740992),\n);", with: "9007199254740992)\n);")
            try #require(schema != StateSchema.create && !schema.contains("last_run_boot"))
            return schema
        }
    }

    /// Version 1's tables: version 2's without the boot-clock column.
    static var version1: String {
        get throws {
            let added = ["orphaned_since_boot REAL,", "-- The boot clock when orphaned_since was", "-- orphan was next seen: its age counts from here"]
            let schema = try version2.split(separator: "\n", omittingEmptySubsequences: false)
                .filter { line in !added.contains { line.contains($0) } }.joined(separator: "\n")
            try #require(!schema.contains("orphaned_since_boot"))
            return schema
        }
    }

    /// A version-1 database in `directory` with one namespace (last run at t0) and two rows: a
    /// tun orphaned for three days by the wall clock, and one held.
    func makeVersion1(in directory: String) throws {
        let connection = try SQLiteConnection(path: directory + "/state.db", create: true)
        try connection.execute("PRAGMA journal_mode = WAL")
        try connection.execute(try Self.version1)
        try connection.execute("PRAGMA user_version = 1")
        let t0 = Self.t0.timeIntervalSince1970, old = t0 - 72 * Self.hour
        try connection.execute("""
            INSERT INTO namespaces (id, identity, boot, name, last_run) VALUES (1, '\(Self.identity)', 'b1', 'blue', \(t0));
            INSERT INTO interfaces (namespace, ifindex, ifname, kind, first_seen, orphaned_since) VALUES (1, 2, 'mig0', 'tun', \(old), \(old));
            INSERT INTO interfaces (namespace, ifindex, ifname, kind, first_seen, holders_seen) VALUES (1, 3, 'mig1', 'tun', \(old), '["vpn[1000]"]');
            INSERT INTO counts (namespace, time, count) VALUES (1, \(t0), 2);
            """)
    }

    /// An assessment of mig0 (orphaned) and mig1 (held) at `wall`, when the boot clock read `boot`.
    func assessment(wall: Date, boot: TimeInterval) -> Assessment {
        let interfaces = [2, 3].map { NetworkInterface(index: $0, name: "mig\($0 - 2)", kind: .tun, carrier: false, tun: TunDetails(persistent: true)) }
        let holder = HolderAttachment(holder: Holder(pid: 1000, comm: "vpn", uid: 0, fd: 3), ifname: "mig1", inInspectedNamespace: true)
        var snapshot = Snapshot(platform: .linux, namespace: "blue", namespaceIdentity: Self.identity, takenAt: wall, interfaces: interfaces,
                                routes: [], holders: HolderScan(complete: true, attachments: [holder], processesScanned: 10))
        snapshot.bootClock = boot
        return Heuristics.assess(snapshot)
    }

    @Test func aVersion1DatabaseIsMigratedKeepingItsRows() throws {
        let directory = try StateDatabaseTests.Directory()
        try makeVersion1(in: directory.path)
        let store = StateStore(directory: directory.path)
        let database = try #require(try store.database(create: false))
        #expect(try database.connection.integer("PRAGMA user_version") == StateSchema.version)
        #expect(StateSchema.version == 5)
        try database.quickCheck()
        let read = try database.observations(namespace: Self.identity).namespaces[Self.identity] ?? [:]
        #expect(read.count == 2)
        let orphan = try #require(read[Observations.key(2, "mig0")])
        #expect(orphan.orphanedSince == Self.t0 - 72 * Self.hour && orphan.firstSeen == Self.t0 - 72 * Self.hour)
        #expect(orphan.orphanedSinceBoot == nil)
        #expect(read[Observations.key(3, "mig1")]?.holdersSeen == ["vpn[1000]"])
        // Opened again: already at the newest version, nothing more to do.
        store.close()
        #expect(try StateStore(directory: directory.path).database()?.connection.integer("PRAGMA user_version") == 5)
    }

    /// After the migration, the orphan's three wall-clock days count for nothing: the first
    /// recording keeps its boot-clock reading (and its wall-clock time, which is shown), and an
    /// hour's grace period runs from there.
    @Test func aMigratedOrphansAgeCountsFromItsNextObservation() throws {
        let directory = try StateDatabaseTests.Directory()
        try makeVersion1(in: directory.path)
        let database = try #require(try StateStore(directory: directory.path).database())
        let policy = ReapPolicy(minimumAge: Self.hour)
        func plan(wall: Date, boot: TimeInterval) throws -> ReapPlan {
            let assessment = assessment(wall: wall, boot: boot)
            let observations = try database.record(assessment, label: NamespaceLabel(name: "blue"), alerting: nil).observations
            return ReapPlan.make(assessment, observations: observations, namespaceKey: Self.identity, policy: policy, now: wall)
        }
        let first = try plan(wall: Self.t0 + 60, boot: 5000)
        #expect(first.items.isEmpty)
        #expect(first.excluded == [ReapExclusion(ifname: "mig0", reason: .tooYoung(reapableAt: Self.t0 + 60 + Self.hour))])
        let row = try #require(try database.observations(namespace: Self.identity).namespaces[Self.identity]?[Observations.key(2, "mig0")])
        #expect(row.orphanedSinceBoot == 5000 && row.orphanedSince == Self.t0 - 72 * Self.hour)
        // The wall clock stepped forward a day: ten minutes of boot time are ten minutes.
        #expect(try plan(wall: Self.t0 + 24 * Self.hour, boot: 5600).items.isEmpty)
        #expect(try plan(wall: Self.t0 + 25 * Self.hour, boot: 5000 + Self.hour).items.map(\.ifname) == ["mig0"])
    }

    /// A version-2 database kept no boot clock for a namespace's last run: the first recording
    /// after the migration is ordered by the wall clock, and one stamped ahead of the clock (a
    /// run before a backward step) does not stop it; after it, the boot clock orders.
    @Test func aVersion2DatabaseIsOrderedByTheWallClockUntilItsNextRecording() throws {
        let directory = try StateDatabaseTests.Directory()
        let connection = try SQLiteConnection(path: directory.path + "/state.db", create: true)
        try connection.execute("PRAGMA journal_mode = WAL")
        try connection.execute(try Self.version2)
        try connection.execute("PRAGMA user_version = 2")
        let ahead = Date().addingTimeInterval(Self.hour)
        try connection.execute("INSERT INTO namespaces (id, identity, boot, name, last_run) VALUES (1, '\(Self.identity)', 'b1', 'blue', \(ahead.timeIntervalSince1970));")
        let database = try #require(try StateStore(directory: directory.path).database())
        #expect(try database.connection.integer("PRAGMA user_version") == 5)
        let now = Date()
        let first = try database.record(assessment(wall: now, boot: 5000), label: nil, alerting: nil)
        #expect(!first.wasStale && first.clockStep?.byBootClock == false)
        #expect(try database.connection.integer("SELECT last_run_boot FROM namespaces WHERE id = 1") == 5000)
        #expect(try database.record(assessment(wall: now + 1, boot: 4990), label: nil, alerting: nil).wasStale)
    }

    /// A version-3 database knew devices by ifindex and name alone: migrated, it keeps every row,
    /// but its orphans' ages count from the next recording (whether the device then seen is the
    /// one that was orphaned cannot be told), which keeps each device's identity; a device with
    /// another hardware address at the same ifindex and name after that starts afresh.
    @Test func aVersion3DatabaseKeepsItsRowsAndCountsOrphansFromTheNextRecording() throws {
        let directory = try StateDatabaseTests.Directory()
        let connection = try SQLiteConnection(path: directory.path + "/state.db", create: true)
        try connection.execute("PRAGMA journal_mode = WAL")
        try connection.execute(try Self.version3)
        try connection.execute("PRAGMA user_version = 3")
        let t0 = Self.t0.timeIntervalSince1970, old = t0 - 72 * Self.hour
        try connection.execute("""
            INSERT INTO namespaces (id, identity, boot, name, last_run, last_run_boot) VALUES (1, '\(Self.identity)', 'b1', 'blue', \(t0), 4000);
            INSERT INTO interfaces (namespace, ifindex, ifname, kind, first_seen, orphaned_since, orphaned_since_boot) VALUES (1, 2, 'mig0', 'tun', \(old), \(old), 100);
            INSERT INTO interfaces (namespace, ifindex, ifname, kind, first_seen, holders_seen) VALUES (1, 3, 'mig1', 'tun', \(old), '["vpn[1000]"]');
            INSERT INTO alerted_orphans (namespace, ifname) VALUES (1, 'mig0');
            """)
        let database = try #require(try StateStore(directory: directory.path).database())
        #expect(try database.connection.integer("PRAGMA user_version") == 5)
        try database.quickCheck()
        let read = try database.observations(namespace: Self.identity).namespaces[Self.identity] ?? [:]
        let orphan = try #require(read[Observations.key(2, "mig0")])
        #expect(orphan.orphanedSince == Self.t0 - 72 * Self.hour && orphan.firstSeen == Self.t0 - 72 * Self.hour)
        #expect(orphan.orphanedSinceBoot == nil && orphan.identity == nil)
        #expect(read[Observations.key(3, "mig1")]?.holdersSeen == ["vpn[1000]"])
        #expect(try database.connection.integer("SELECT count(*) FROM alerted_orphans") == 1)

        var seen = assessment(wall: Self.t0 + 60, boot: 5000)
        let recorded = try database.record(seen, label: nil, alerting: nil).observations.namespaces[Self.identity]?[Observations.key(2, "mig0")]
        #expect(recorded?.orphanedSinceBoot == 5000 && recorded?.firstSeen == Self.t0 - 72 * Self.hour)
        #expect(recorded?.identity == DeviceIdentity(kind: .tun, multiQueue: nil, hardwareAddress: nil))
        // Another device (here told by its kind) under mig0's ifindex and name: a new history.
        var interface = seen.snapshot.interfaces[0]
        interface.kind = .tap
        interface.hardwareAddress = "02:00:00:00:f2:02"
        var snapshot = seen.snapshot
        snapshot.interfaces[0] = interface
        snapshot.takenAt = Self.t0 + 120
        snapshot.bootClock = 5060
        seen = Heuristics.assess(snapshot)
        let replaced = try database.record(seen, label: nil, alerting: nil).observations.namespaces[Self.identity]?[Observations.key(2, "mig0")]
        #expect(replaced?.firstSeen == Self.t0 + 120 && replaced?.orphanedSinceBoot == 5060 && replaced?.identity?.kind == .tap)
        #expect(try database.connection.integer("SELECT count(*) FROM alerted_orphans WHERE ifname = 'mig0'") == 0, "a new orphan, to be alerted on")
    }

    /// A version-4 database owed its alerts to any sink of a kind: migrated, an alert still owed
    /// is owed to the next run of its own namespace with a sink of the kind (as one decided by a
    /// run without sinks is), not to a run of another namespace; its alerted orphans stay so.
    @Test func aVersion4DatabaseKeepsItsOwedAlertsForItsOwnNamespace() throws {
        let directory = try StateDatabaseTests.Directory()
        let connection = try SQLiteConnection(path: directory.path + "/state.db", create: true)
        try connection.execute("PRAGMA journal_mode = WAL")
        try connection.execute(try Self.version4)
        try connection.execute("PRAGMA user_version = 4")
        let t0 = Self.t0.timeIntervalSince1970
        try connection.execute("""
            INSERT INTO namespaces (id, identity, boot, name, last_run, alerted_status) VALUES (1, '\(Self.identity)', 'b1', 'red', \(t0), 'warning');
            INSERT INTO namespaces (id, identity, boot, name, last_run) VALUES (2, 'netns-cookie:8@boot:b1', 'b1', 'blue', \(t0));
            INSERT INTO alerted_orphans (namespace, ifname) VALUES (1, 'mig0');
            INSERT INTO alerts (namespace, time, event, status, previous_status, first, summary, new_orphans, body, pending_exec, pending_webhook, next_attempt)
            VALUES (1, \(t0), 'transition', 'warning', 'ok', 1, 's', 'mig0', x'7b7d', 1, 0, \(t0));
            """)
        let database = try #require(try StateStore(directory: directory.path).database())
        #expect(try database.connection.integer("PRAGMA user_version") == 5)
        try database.quickCheck()
        #expect(try database.connection.integer("SELECT count(*) FROM alerted_orphans WHERE released IS NULL") == 1)
        let blue = try database.claimDueAlerts(sinks: [.exec], addresses: SinkAddresses(exec: "page blue"), own: "netns-cookie:8@boot:b1", now: Self.t0 + 60)
        #expect(blue.isEmpty)
        let red = try database.claimDueAlerts(sinks: [.exec], addresses: SinkAddresses(exec: "page red"), own: Self.identity, now: Self.t0 + 60)
        #expect(red.map(\.event) == ["transition"])
    }

    /// A database newer than any migration this tunwarden knows stays refused, unchanged.
    @Test func noMigrationRunsFromAVersionWithoutOne() throws {
        #expect(StateSchema.migrations.keys.sorted() == Array(1..<StateSchema.version))
    }
}
