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
            var seen = Set<String>()
            guard take(UInt8(ascii: "{")) else { return nil }
            var first = true
            loop: while true {
                switch member(&first) {
                case .end: break loop
                case .invalid: return nil
                case let .key(key):
                    guard seen.insert(key).inserted else { return nil }
                    switch key {
                    case "version":
                        guard let version = integer(Int.self) else { return nil }
                        result.version = version
                    case "namespaces":
                        guard let namespaces = namespaces() else { return nil }
                        result.namespaces = namespaces
                    case "histories":
                        guard let histories = histories() else { return nil }
                        result.histories = histories
                    default:
                        return nil
                    }
                }
            }
            skipWhitespace()
            guard seen.contains("version"), seen.contains("namespaces"), position == bytes.count else { return nil }
            return result
        }

        mutating func namespaces() -> [String: [String: InterfaceObservation]]? {
            var result: [String: [String: InterfaceObservation]] = [:]
            guard take(UInt8(ascii: "{")) else { return nil }
            var first = true
            while true {
                switch member(&first) {
                case .end: return result
                case .invalid: return nil
                case let .key(namespace):
                    guard result[namespace] == nil, let observations = observationsOfNamespace() else { return nil }
                    result[namespace] = observations
                }
            }
        }

        mutating func observationsOfNamespace() -> [String: InterfaceObservation]? {
            var result: [String: InterfaceObservation] = [:]
            guard take(UInt8(ascii: "{")) else { return nil }
            var first = true
            while true {
                switch member(&first) {
                case .end: return result
                case .invalid: return nil
                case let .key(key):
                    guard result[key] == nil, let observation = observation() else { return nil }
                    result[key] = observation
                }
            }
        }

        mutating func observation() -> InterfaceObservation? {
            var ifindex: Int?, ifname: String?, kind: InterfaceKind?, firstSeen: Date?, lastSeen: Date?
            var orphanedSince: Date?, traffic: TrafficCounters?, lastTrafficChange: Date?, holdersSeen: [String]?
            var seen = Set<String>()
            guard take(UInt8(ascii: "{")) else { return nil }
            var first = true
            loop: while true {
                switch member(&first) {
                case .end: break loop
                case .invalid: return nil
                case let .key(key):
                    guard seen.insert(key).inserted else { return nil }
                    switch key {
                    case "ifindex": ifindex = integer(Int.self)
                    case "ifname": ifname = string()
                    case "kind": kind = string().flatMap(InterfaceKind.init(rawValue:))
                    case "first_seen": firstSeen = date()
                    case "last_seen": lastSeen = date()
                    case "orphaned_since":
                        orphanedSince = date()
                        if orphanedSince == nil { return nil }
                    case "traffic":
                        traffic = counters()
                        if traffic == nil { return nil }
                    case "last_traffic_change":
                        lastTrafficChange = date()
                        if lastTrafficChange == nil { return nil }
                    case "holders_seen":
                        holdersSeen = strings()
                        if holdersSeen == nil { return nil }
                    default:
                        return nil
                    }
                }
            }
            guard let ifindex, let ifname, let kind, let firstSeen, let lastSeen else { return nil }
            var observation = InterfaceObservation(ifindex: ifindex, ifname: ifname, kind: kind, firstSeen: firstSeen,
                                                   lastSeen: lastSeen, orphanedSince: orphanedSince)
            observation.traffic = traffic
            observation.lastTrafficChange = lastTrafficChange
            observation.holdersSeen = holdersSeen
            return observation
        }

        mutating func counters() -> TrafficCounters? {
            var values: [String: UInt64] = [:]
            guard take(UInt8(ascii: "{")) else { return nil }
            var first = true
            loop: while true {
                switch member(&first) {
                case .end: break loop
                case .invalid: return nil
                case let .key(key):
                    guard ["rx_packets", "tx_packets", "rx_bytes", "tx_bytes"].contains(key), values[key] == nil,
                          let value = integer(UInt64.self) else { return nil }
                    values[key] = value
                }
            }
            guard let rxPackets = values["rx_packets"], let txPackets = values["tx_packets"],
                  let rxBytes = values["rx_bytes"], let txBytes = values["tx_bytes"] else { return nil }
            return TrafficCounters(rxPackets: rxPackets, txPackets: txPackets, rxBytes: rxBytes, txBytes: txBytes)
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

        /// What comes next inside an object whose `{` has been read: the key of a member (the
        /// reader is then at its value), the object's end, or something else.
        enum Member {
            case key(String)
            case end
            case invalid
        }

        mutating func member(_ first: inout Bool) -> Member {
            if take(UInt8(ascii: "}")) { return .end }
            if !first, !take(UInt8(ascii: ",")) { return .invalid }
            first = false
            guard let key = string(), take(UInt8(ascii: ":")) else { return .invalid }
            return .key(key)
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
