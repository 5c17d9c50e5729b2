import Foundation

/// Reading a state file (`Observations`) quickly when it is exactly what tunwarden writes.
///
/// A state file holds an observation per interface: tens of thousands on a busy container host.
/// Foundation's JSONDecoder spent about 100,000 instructions on each (a billion for 10,000
/// interfaces, most of a timer job's run). The observations are read here directly; the
/// `histories` member, small and of many shapes, is still decoded by JSONDecoder from its own
/// bytes.
///
/// This reader gives up (returns nil) at anything tunwarden's writer does not produce: escapes
/// in strings, `null`, fractions or exponents, unknown or repeated keys, other date spellings.
/// The caller then decodes the whole file with JSONDecoder, which remains the definition of what
/// a state file means and gives the precise error for a damaged one. What this reader returns is
/// what JSONDecoder returns for the same bytes; the tests hold the two equal.
public enum StateFile {
    /// The observations in `bytes`, or nil when the fast reading does not apply.
    public static func observations(_ bytes: UnsafeBufferPointer<UInt8>) -> Observations? {
        var reader = Reader(bytes: bytes)
        return reader.observations()
    }

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0

        // MARK: the file's structure

        mutating func observations() -> Observations? {
            var result = Observations()
            var seen: Fields = []
            let read = members { reader, key in
                switch Self.field(key, among: Self.topLevelFields, seen: &seen) {
                case .version?:
                    guard let version = reader.integer(Int.self) else { return false }
                    result.version = version
                case .namespaces?:
                    guard let namespaces = reader.namespaces() else { return false }
                    result.namespaces = namespaces
                case .histories?:
                    guard let histories = reader.histories() else { return false }
                    result.histories = histories
                default:
                    return false
                }
                return true
            }
            skipWhitespace()
            guard read, seen.isSuperset(of: [.version, .namespaces]), position == bytes.count else { return nil }
            return result
        }

        mutating func namespaces() -> [String: [String: InterfaceObservation]]? {
            dictionary { $0.dictionary { $0.observation() } }
        }

        /// An object whose values `value` reads, keyed by their keys; nil at anything else,
        /// including a repeated key.
        mutating func dictionary<Value>(_ value: (inout Reader) -> Value?) -> [String: Value]? {
            var result: [String: Value] = [:]
            let read = members { reader, key in
                guard let name = String(validating: key, as: UTF8.self), let item = value(&reader) else { return false }
                return result.updateValue(item, forKey: name) == nil
            }
            return read ? result : nil
        }

        /// The members of the file, of an observation and of its counters, one bit each, to refuse
        /// a repeated one.
        struct Fields: OptionSet {
            let rawValue: UInt16
            static let ifindex = Fields(rawValue: 1 << 0), ifname = Fields(rawValue: 1 << 1), kind = Fields(rawValue: 1 << 2)
            static let firstSeen = Fields(rawValue: 1 << 3), lastSeen = Fields(rawValue: 1 << 4), orphanedSince = Fields(rawValue: 1 << 5)
            static let traffic = Fields(rawValue: 1 << 6), lastTrafficChange = Fields(rawValue: 1 << 7), holdersSeen = Fields(rawValue: 1 << 8)
            static let rxPackets = Fields(rawValue: 1 << 9), txPackets = Fields(rawValue: 1 << 10), rxBytes = Fields(rawValue: 1 << 11)
            static let txBytes = Fields(rawValue: 1 << 12)
            static let version = Fields(rawValue: 1 << 13), namespaces = Fields(rawValue: 1 << 14), histories = Fields(rawValue: 1 << 15)
        }

        /// The field a key names, once: nil for an unknown or repeated key.
        static func field(_ key: UnsafeBufferPointer<UInt8>, among candidates: [(StaticString, Fields)], seen: inout Fields) -> Fields? {
            for (name, field) in candidates where Self.key(key, is: name) {
                guard !seen.contains(field) else { return nil }
                seen.insert(field)
                return field
            }
            return nil
        }

        static let topLevelFields: [(StaticString, Fields)] = [("version", .version), ("namespaces", .namespaces), ("histories", .histories)]
        static let observationFields: [(StaticString, Fields)] = [
            ("ifindex", .ifindex), ("ifname", .ifname), ("kind", .kind), ("first_seen", .firstSeen), ("last_seen", .lastSeen),
            ("orphaned_since", .orphanedSince), ("traffic", .traffic), ("last_traffic_change", .lastTrafficChange),
            ("holders_seen", .holdersSeen),
        ]
        static let counterFields: [(StaticString, Fields)] = [
            ("rx_packets", .rxPackets), ("tx_packets", .txPackets), ("rx_bytes", .rxBytes), ("tx_bytes", .txBytes),
        ]

        mutating func observation() -> InterfaceObservation? {
            var ifindex: Int?, ifname: String?, kind: InterfaceKind?, firstSeen: Date?, lastSeen: Date?
            var orphanedSince: Date?, traffic: TrafficCounters?, lastTrafficChange: Date?, holdersSeen: [String]?
            var seen: Fields = []
            let read = members { reader, key in
                switch Self.field(key, among: Self.observationFields, seen: &seen) {
                case .ifindex?: ifindex = reader.integer(Int.self)
                case .ifname?: ifname = reader.string()
                case .kind?: kind = reader.string().flatMap(InterfaceKind.init(rawValue:))
                case .firstSeen?: firstSeen = reader.date()
                case .lastSeen?: lastSeen = reader.date()
                // Optional members are absent, never null, in a file tunwarden wrote.
                case .orphanedSince?: orphanedSince = reader.date(); return orphanedSince != nil
                case .traffic?: traffic = reader.counters(); return traffic != nil
                case .lastTrafficChange?: lastTrafficChange = reader.date(); return lastTrafficChange != nil
                case .holdersSeen?: holdersSeen = reader.strings(); return holdersSeen != nil
                default: return false
                }
                return true
            }
            guard read, let ifindex, let ifname, let kind, let firstSeen, let lastSeen else { return nil }
            var observation = InterfaceObservation(ifindex: ifindex, ifname: ifname, kind: kind, firstSeen: firstSeen,
                                                   lastSeen: lastSeen, orphanedSince: orphanedSince)
            observation.traffic = traffic
            observation.lastTrafficChange = lastTrafficChange
            observation.holdersSeen = holdersSeen
            return observation
        }

        mutating func counters() -> TrafficCounters? {
            var values: [UInt64] = [0, 0, 0, 0]
            var seen: Fields = []
            let read = members { reader, key in
                guard let field = Self.field(key, among: Self.counterFields, seen: &seen), let value = reader.integer(UInt64.self) else { return false }
                values[Self.counterFields.firstIndex { $0.1 == field }!] = value
                return true
            }
            guard read, seen == [.rxPackets, .txPackets, .rxBytes, .txBytes] else { return nil }
            return TrafficCounters(rxPackets: values[0], txPackets: values[1], rxBytes: values[2], txBytes: values[3])
        }

        /// The histories, decoded by JSONDecoder from the bytes of their value alone.
        mutating func histories() -> [String: NamespaceHistory]? {
            skipWhitespace()
            let start = position
            guard skipValue() else { return nil }
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            return try? decoder.decode([String: NamespaceHistory].self, from: Data(UnsafeBufferPointer(rebasing: bytes[start..<position])))
        }

        // MARK: JSON pieces

        mutating func skipWhitespace() {
            while position < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[position]) { position += 1 }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == byte else { return false }
            position += 1
            return true
        }

        /// Reads an object, handing each member's key (its bytes in the file, without escapes)
        /// to `body` with the reader at its value; false when the text is not an object or `body`
        /// gives up.
        mutating func members(_ body: (inout Reader, UnsafeBufferPointer<UInt8>) -> Bool) -> Bool {
            guard take(UInt8(ascii: "{")) else { return false }
            var first = true
            while !take(UInt8(ascii: "}")) {
                if !first, !take(UInt8(ascii: ",")) { return false }
                first = false
                guard let key = stringBytes(), take(UInt8(ascii: ":")), body(&self, key) else { return false }
            }
            return true
        }

        /// Whether a key's bytes spell `name`.
        static func key(_ bytes: UnsafeBufferPointer<UInt8>, is name: StaticString) -> Bool {
            bytes.count == name.utf8CodeUnitCount && memcmp(bytes.baseAddress!, name.utf8Start, bytes.count) == 0
        }

        /// A string without escapes or control characters, as valid UTF-8.
        mutating func string() -> String? {
            guard let text = stringBytes() else { return nil }
            return String(validating: text, as: UTF8.self)
        }

        mutating func stringBytes() -> UnsafeBufferPointer<UInt8>? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = position
            while position < bytes.count {
                let byte = bytes[position]
                if byte == UInt8(ascii: "\"") {
                    position += 1
                    return UnsafeBufferPointer(rebasing: bytes[start..<(position - 1)])
                }
                guard byte != UInt8(ascii: "\\"), byte >= 0x20 else { return nil }
                position += 1
            }
            return nil
        }

        mutating func strings() -> [String]? {
            guard take(UInt8(ascii: "[")) else { return nil }
            var result: [String] = []
            if take(UInt8(ascii: "]")) { return result }
            repeat {
                guard let text = string() else { return nil }
                result.append(text)
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "]")) ? result : nil
        }

        mutating func date() -> Date? {
            stringBytes().flatMap(Timestamp.parse)
        }

        /// A whole number in the type's range: digits with an optional minus, without a leading
        /// zero, a fraction or an exponent.
        mutating func integer<T: FixedWidthInteger>(_: T.Type) -> T? {
            skipWhitespace()
            var negative = false
            if position < bytes.count, bytes[position] == UInt8(ascii: "-") {
                negative = true
                position += 1
            }
            let start = position
            var value: T = 0
            while position < bytes.count, bytes[position] >= UInt8(ascii: "0"), bytes[position] <= UInt8(ascii: "9") {
                let digit = T(bytes[position] - UInt8(ascii: "0"))
                let (times, overflowTimes) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflowSum) = negative ? times.subtractingReportingOverflow(digit) : times.addingReportingOverflow(digit)
                guard !overflowTimes, !overflowSum else { return nil }
                value = sum
                position += 1
            }
            let count = position - start
            guard count > 0, count == 1 || bytes[start] != UInt8(ascii: "0"), !(negative && (value == 0 || !T.isSigned)) else { return nil }
            if position < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[position]) { return nil }
            return value
        }

        /// Steps over one value of any kind (strings may hold escapes here); false if the text
        /// ends first. Whether the value is valid JSON is left to whoever decodes it.
        mutating func skipValue() -> Bool {
            var depth = 0
            repeat {
                skipWhitespace()
                guard position < bytes.count else { return false }
                switch bytes[position] {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                    position += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    guard depth > 0 else { return false }
                    depth -= 1
                    position += 1
                case UInt8(ascii: "\""):
                    position += 1
                    while position < bytes.count, bytes[position] != UInt8(ascii: "\"") {
                        position += bytes[position] == UInt8(ascii: "\\") ? 2 : 1
                    }
                    guard position < bytes.count else { return false }
                    position += 1
                default:
                    // A number, true, false, null, or a separator inside a container.
                    position += 1
                    while position < bytes.count, !",:{}[]\" \n\r\t".utf8.contains(bytes[position]) { position += 1 }
                }
            } while depth > 0
            return true
        }
    }
}
