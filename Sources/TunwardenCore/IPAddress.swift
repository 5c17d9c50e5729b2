/// An IPv4 or IPv6 address as raw bytes, with the textual forms people and iproute2 use.
public struct IPAddress: Hashable, Sendable, Comparable, CustomStringConvertible, Decodable {
    /// 4 bytes for IPv4, 16 for IPv6.
    public let bytes: [UInt8]
    /// An IPv6 zone (`%utun3`, `%lo0`) as printed by BSD tools; nil when there is none.
    public let zone: String?

    public init?(bytes: [UInt8], zone: String? = nil) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
        self.zone = zone
    }

    public var family: AddressFamily { bytes.count == 4 ? .inet : .inet6 }

    /// Whether this is an IPv6 link-local address (fe80::/10), valid only with its zone.
    public var isIPv6LinkLocal: Bool { family == .inet6 && bytes[0] == 0xfe && bytes[1] & 0xc0 == 0x80 }

    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text, with an optional `%zone`.
    public init?(_ text: String) {
        var body = Substring(text)
        var zone: String?
        if let percent = body.firstIndex(of: "%") {
            zone = String(body[body.index(after: percent)...])
            body = body[..<percent]
        }
        if let v4 = Self.parseV4(body) {
            self.init(bytes: v4, zone: zone)
        } else if let v6 = Self.parseV6(body) {
            self.init(bytes: v6, zone: zone)
        } else {
            return nil
        }
    }

    static func parseV4(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), let value = UInt8(part) else { return nil }
            out.append(value)
        }
        return out
    }

    static func parseV6(_ text: Substring) -> [UInt8]? {
        guard text.contains(":") else { return nil }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ s: String) -> [UInt8]? {
            if s.isEmpty { return [] }
            var out: [UInt8] = []
            let pieces = s.split(separator: ":", omittingEmptySubsequences: false)
            for (i, piece) in pieces.enumerated() {
                if i == pieces.count - 1, piece.contains(".") {
                    guard let v4 = parseV4(piece) else { return nil }
                    out += v4
                    continue
                }
                guard (1...4).contains(piece.count), let value = UInt16(piece, radix: 16) else { return nil }
                out += [UInt8(value >> 8), UInt8(value & 0xff)]
            }
            return out
        }
        guard let head = groups(halves[0]) else { return nil }
        if halves.count == 1 { return head.count == 16 ? head : nil }
        guard let tail = groups(halves[1]), head.count + tail.count <= 14 else { return nil }
        return head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
    }

    /// Dotted quad for IPv4; for IPv6 the form iproute2 prints (glibc's `inet_ntop`): RFC 5952's
    /// lower case with the first longest run of two or more zero groups compressed, and the last
    /// 32 bits as a dotted quad in an IPv4-mapped address (`::ffff:10.1.2.3`) and in one whose
    /// first 96 bits are zero but not its seventh group (`::192.0.2.2`, as a sit tunnel's).
    public var description: String {
        let zoneSuffix = zone.map { "%\($0)" } ?? ""
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") + zoneSuffix }
        var groups: [UInt16] = []
        for i in stride(from: 0, to: 16, by: 2) { groups.append(UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1])) }
        var bestStart = -1, bestLength = 0, runStart = -1
        for i in 0...8 {
            if i < 8, groups[i] == 0 {
                if runStart < 0 { runStart = i }
            } else if runStart >= 0 {
                if i - runStart > bestLength { bestStart = runStart; bestLength = i - runStart }
                runStart = -1
            }
        }
        if bestLength < 2 { bestStart = -1 }
        var text = ""
        var i = 0
        while i < 8 {
            if i == bestStart {
                text += "::"
                i += bestLength
                continue
            }
            if !text.isEmpty, !text.hasSuffix(":") { text += ":" }
            if i == 6, bestStart == 0, bestLength == 6 || (bestLength == 5 && groups[5] == 0xffff) {
                text += bytes[12...].map(String.init).joined(separator: ".")
                break
            }
            text += String(groups[i], radix: 16)
            i += 1
        }
        return text + zoneSuffix
    }

    /// Hashes the bytes packed into two words, with the count and the zone: equal addresses hash
    /// alike, as `==` (every byte and the zone) requires. Fed to the hasher one byte at a time, as
    /// an array hashes itself, sixteen bytes cost sixteen rounds, and judging routes hashes
    /// prefixes by the thousand.
    public func hash(into hasher: inout Hasher) {
        var high: UInt64 = 0, low: UInt64 = 0
        for (position, byte) in bytes.enumerated() {
            if position < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
        }
        hasher.combine(high)
        hasher.combine(low)
        hasher.combine(bytes.count)
        hasher.combine(zone)
    }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        if lhs.bytes.count != rhs.bytes.count { return lhs.bytes.count < rhs.bytes.count }
        return lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let parsed = IPAddress(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an IP address: \(text)"))
        }
        self = parsed
    }
}

/// An address family, named as iproute2 names it in JSON.
public enum AddressFamily: String, Decodable, Sendable, Hashable {
    case inet
    case inet6

    /// Address width in bits.
    public var bits: Int { self == .inet ? 32 : 128 }
}

/// A network prefix: an address and a length. The address is kept with its host bits cleared.
public struct IPPrefix: Hashable, Sendable, CustomStringConvertible, Decodable {
    public let address: IPAddress
    public let length: Int

    public init?(address: IPAddress, length: Int) {
        guard length >= 0, length <= address.family.bits else { return nil }
        var bytes = address.bytes
        for i in 0..<bytes.count { bytes[i] &= Self.mask(byte: i, length: length) }
        self.address = IPAddress(bytes: bytes, zone: address.zone)!
        self.length = length
    }

    /// Parses `10.0.0.0/8`, `::/0` or a bare address (a host prefix).
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1)
        guard let first = parts.first, let address = IPAddress(String(first)) else { return nil }
        if parts.count == 2 {
            guard let length = Int(parts[1]) else { return nil }
            self.init(address: address, length: length)
        } else {
            self.init(address: address, length: address.family.bits)
        }
    }

    public var family: AddressFamily { address.family }

    /// Whether this prefix, or one enclosing it, passes `isWanted`, asking only of this prefix's
    /// truncations to `lengths` (the lengths the wanted prefixes have): a few questions however
    /// many prefixes are wanted, where comparing with each would walk them all.
    public func isInside(lengths: [Int], where isWanted: (IPPrefix) -> Bool) -> Bool {
        lengths.contains { length in
            // (This prefix itself is asked as it is: its host bits are already clear.)
            length == self.length ? isWanted(self) : length < self.length && IPPrefix(address: address, length: length).map(isWanted) == true
        }
    }

    /// Whether `other` lies wholly inside this prefix.
    public func contains(_ other: IPPrefix) -> Bool {
        guard other.family == family, other.length >= length else { return false }
        // The first `length` bits agree (this prefix's host bits are already clear).
        let mine = address.bytes, theirs = other.address.bytes
        for i in 0..<(length + 7) / 8 where mine[i] != theirs[i] & Self.mask(byte: i, length: length) { return false }
        return true
    }

    /// The network bits of byte `i` of an address under a prefix of `length` bits.
    static func mask(byte i: Int, length: Int) -> UInt8 {
        let keep = max(0, min(8, length - i * 8))
        return keep == 0 ? 0 : UInt8(truncatingIfNeeded: 0xff << (8 - keep))
    }

    /// The share of the family's whole address space this prefix covers (1 for /0, 0.5 for /1, …).
    public var shareOfAddressSpace: Double {
        var share = 1.0
        for _ in 0..<length { share /= 2 }
        return share
    }

    public var description: String { "\(address)/\(length)" }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let parsed = IPPrefix(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a prefix: \(text)"))
        }
        self = parsed
    }
}
