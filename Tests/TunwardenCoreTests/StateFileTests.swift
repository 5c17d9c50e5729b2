import Foundation
import Testing
@testable import TunwardenCore

/// The fast state-file reader and timestamp code against Foundation, which defines them: the same
/// observations as JSONDecoder for every file tunwarden writes, nil (and so JSONDecoder) for
/// anything else, and the same timestamp text as `Date.ISO8601FormatStyle`.
@Suite struct StateFileTests {
    static func decodeWithFoundation(_ bytes: [UInt8]) -> Observations? {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(Observations.self, from: Data(bytes))
    }

    static func decodeFast(_ bytes: [UInt8]) -> Observations? {
        bytes.withUnsafeBufferPointer(StateFile.observations)
    }

    /// Observations with every optional member sometimes present, names that need escapes or
    /// are not ASCII, counters at their limits and histories.
    static func randomObservations(_ generator: inout some RandomNumberGenerator) -> Observations {
        let names = ["bt0", "tun-vpn", "wg0", "vpn\"quoted", "back\\slash", "tab\there", "é-tun", "日本", "🙂x", "line\nbreak"]
        func date() -> Date { Date(timeIntervalSince1970: TimeInterval(Int64.random(in: 0...4_102_444_800, using: &generator))) }
        var observations = Observations()
        for n in 0..<Int.random(in: 0...3, using: &generator) {
            let namespace = "net:[\(4_026_531_840 + n)]"
            var entries: [String: InterfaceObservation] = [:]
            for i in 0..<Int.random(in: 0...40, using: &generator) {
                let name = Bool.random(using: &generator) ? "bt\(i)" : names.randomElement(using: &generator)!
                var observation = InterfaceObservation(ifindex: Int.random(in: 1...Int(Int32.max), using: &generator), ifname: name,
                                                       kind: InterfaceKind.allCases.randomElement(using: &generator)!,
                                                       firstSeen: date(), lastSeen: date(),
                                                       orphanedSince: Bool.random(using: &generator) ? date() : nil)
                if Bool.random(using: &generator) {
                    observation.traffic = TrafficCounters(rxPackets: .random(in: 0...UInt64.max, using: &generator), txPackets: 0,
                                                          rxBytes: UInt64.max, txBytes: .random(in: 0...9, using: &generator))
                }
                if Bool.random(using: &generator) { observation.lastTrafficChange = date() }
                if Bool.random(using: &generator) {
                    observation.holdersSeen = (0..<Int.random(in: 0...3, using: &generator)).map { "\(names.randomElement(using: &generator)!)[\($0)]" }
                }
                entries["\(observation.ifindex):\(name)"] = observation
            }
            observations.namespaces[namespace] = entries
            if Bool.random(using: &generator) {
                var history = NamespaceHistory()
                history.addSample(CountSample(time: date(), count: entries.count))
                history.alertedOrphans = Array(entries.values.map(\.ifname).prefix(2))
                observations.histories[namespace] = history
            }
        }
        return observations
    }

    @Test func filesTunwardenWritesReadTheSameAsWithJSONDecoder() throws {
        var generator = SystemRandomNumberGenerator()
        var readFast = 0
        for _ in 0..<300 {
            let observations = Self.randomObservations(&generator)
            for pretty in [false, true] {
                let bytes = try JSONWriter.encode(observations, pretty: pretty)
                let reference = Self.decodeWithFoundation(bytes)
                #expect(reference == observations)
                // Nil only where the file needs what the fast reader leaves to JSONDecoder (escapes).
                if let fast = Self.decodeFast(bytes) {
                    #expect(fast == reference)
                    readFast += 1
                } else {
                    #expect(bytes.contains(UInt8(ascii: "\\")))
                }
            }
        }
        #expect(readFast > 100)
    }

    /// Damaged files: truncated anywhere, a byte changed anywhere. Whatever the fast reader
    /// returns, JSONDecoder returns the same; where JSONDecoder fails, the fast reader gives up.
    @Test func damagedFilesAreLeftToJSONDecoder() throws {
        var generator = SystemRandomNumberGenerator()
        var observations = Self.randomObservations(&generator)
        observations.namespaces["net:[1]"] = ["2:bt0": InterfaceObservation(ifindex: 2, ifname: "bt0", kind: .tun,
                                                                             firstSeen: Date(timeIntervalSince1970: 1_700_000_000),
                                                                             lastSeen: Date(timeIntervalSince1970: 1_700_000_060), orphanedSince: nil)]
        let bytes = try JSONWriter.encode(observations)
        let replacements: [UInt8] = Array("{}[]\":,0123456789-.eE ntfulrsaZT\\\u{01}".utf8) + [0xff, 0xc3]
        for _ in 0..<3000 {
            var damaged = bytes
            if Bool.random(using: &generator) {
                damaged.removeLast(Int.random(in: 1...damaged.count, using: &generator))
            } else {
                damaged[Int.random(in: 0..<damaged.count, using: &generator)] = replacements.randomElement(using: &generator)!
            }
            let fast = Self.decodeFast(damaged)
            if let fast { #expect(fast == Self.decodeWithFoundation(damaged), "\(String(decoding: damaged, as: UTF8.self))") }
        }
    }

    @Test func whatTheFastReaderDoesNotTakeFallsBack() {
        let good = #"{"version":1,"namespaces":{"n":{"2:a":{"ifindex":2,"ifname":"a","kind":"tun","first_seen":"2026-12-02T15:40:17Z","last_seen":"2026-12-02T15:40:18Z"}}}}"#
        #expect(Self.decodeFast(Array(good.utf8)) != nil)
        #expect(Self.decodeFast(Array(good.utf8)) == Self.decodeWithFoundation(Array(good.utf8)))
        let others = [
            good.replacingOccurrences(of: #""orphaned"#, with: #""x"#) + " ",  // still good, trailing space
            good.replacingOccurrences(of: #""ifindex":2"#, with: #""ifindex":2.0"#),
            good.replacingOccurrences(of: #""ifindex":2"#, with: #""ifindex":02"#),
            good.replacingOccurrences(of: #""ifindex":2"#, with: #""ifindex":-0"#),
            good.replacingOccurrences(of: #""ifname":"a""#, with: #""ifname":"\u0061""#),
            good.replacingOccurrences(of: #","last_seen""#, with: #","orphaned_since":null,"last_seen""#),
            good.replacingOccurrences(of: #""kind":"tun""#, with: #""kind":"tun","kind":"tap""#),
            good.replacingOccurrences(of: #""kind":"tun""#, with: #""kind":"tun","color":"red""#),
            good.replacingOccurrences(of: "15:40:17Z", with: "15:40:17.5Z"),
            good.replacingOccurrences(of: "15:40:17Z", with: "15:40:17+00:00"),
            good.replacingOccurrences(of: "2026-12-02T", with: "2026-02-30T"),
        ]
        for text in others.dropFirst() {
            #expect(Self.decodeFast(Array(text.utf8)) == nil, "\(text)")
        }
        #expect(Self.decodeFast(Array(others[0].utf8)) == Self.decodeWithFoundation(Array(others[0].utf8)))
    }

    @Test func timestampsAreWhatFoundationWritesAndReads() throws {
        var generator = SystemRandomNumberGenerator()
        let style = Date.ISO8601FormatStyle()
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let edges: [TimeInterval] = [0, -1, -0.5, 0.999, 59, 86_399.9, 951_782_400, 4_107_542_400, -62_135_596_800, 253_402_300_799]
        let randomDates = (0..<20_000).map { _ in TimeInterval.random(in: -2_208_988_800...4_102_444_800, using: &generator) }
        for interval in edges + randomDates {
            let date = Date(timeIntervalSince1970: interval)
            let text = Timestamp.format(date)
            #expect(text == style.format(date), "\(interval)")
            let parsed = Array(text.utf8).withUnsafeBufferPointer(Timestamp.parse)
            // Before 1970 the reading is left to Foundation (its calendar is Julian before 1582).
            guard interval >= 0 else {
                #expect(parsed == nil, "\(text)")
                continue
            }
            #expect(parsed == Date(timeIntervalSince1970: interval.rounded(.down)), "\(text)")
            #expect(parsed == (try decoder.decode([Date].self, from: Data("[\"\(text)\"]".utf8))).first, "\(text)")
        }
        for bad in ["2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z", "2026-04-31T00:00:00Z",
                    "2026-01-01T24:00:00Z", "2026-01-01T23:60:00Z", "2026-01-01T23:59:60Z", "0000-01-01T00:00:00Z",
                    "2026-01-01 00:00:00Z", "2026-01-01T00:00:00z", "+026-01-01T00:00:00Z", "2026-01-01T00:00:00", "1969-12-31T23:59:59Z"] {
            #expect(Array(bad.utf8).withUnsafeBufferPointer(Timestamp.parse) == nil, "\(bad)")
        }
        #expect(Array("2024-02-29T12:00:00Z".utf8).withUnsafeBufferPointer(Timestamp.parse) != nil)
    }
}
