import Foundation
import TunwardenCore

/// Output of a macOS tool that cannot be read as what it claims to be.
public struct CaptureParseError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var expected: String
    public var found: String

    public var description: String { "\(file): expected \(expected), found \(found.isEmpty ? "nothing" : "'\(found.prefix(60))'")" }
}

/// Parsers for the macOS tools' output. They work on whitespace-separated tokens rather than lines,
/// so a listing that lost its line breaks (pasted from a forum or a ticket) parses the same.
public enum DarwinParsers {
    static func tokens(_ text: String) -> [Substring] {
        text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
    }

    /// The bounds of the numbers a capture holds, as the macOS kernel keeps them: a capture that
    /// says otherwise is damaged, and its numbers never reach arithmetic.
    enum Bounds {
        /// Process ids (pid_t, and 0 is the kernel's own).
        static let pid: ClosedRange<Int32> = 1...Int32.max
        /// A utun control socket's unit (sc_unit, a u_int32_t); unit N is utun(N-1), so 0 names none.
        static let utunUnit: ClosedRange<Int> = 1...Int(UInt32.max)
        /// An interface's MTU and index (u_int32_t).
        static let mtu: ClosedRange<Int> = 0...Int(UInt32.max)
        static let interfaceIndex: ClosedRange<Int> = 1...Int(UInt32.max)
        /// An IPv6 prefix length.
        static let inet6PrefixLength: ClosedRange<Int> = 0...128
    }

    /// `value` when it lies within `bounds`, otherwise an error naming the value and the bounds.
    static func bounded<T: Comparable & CustomStringConvertible>(_ value: T, _ bounds: ClosedRange<T>, _ what: String, file: String) throws -> T {
        guard bounds.contains(value) else {
            throw CaptureParseError(file: file, expected: "\(what) from \(bounds.lowerBound) to \(bounds.upperBound)", found: "\(value)")
        }
        return value
    }

    // MARK: ifconfig -a

    /// One interface from `ifconfig -a`.
    public struct IfconfigEntry: Equatable, Sendable {
        public var name: String
        public var flags: [String]
        public var mtu: Int?
        public var ether: String?
        public var addresses: [InterfaceAddress] = []
        /// The `peer:` of a feth.
        public var peer: String?
        /// `status: active|inactive`.
        public var status: String?
        /// From an inet6 line's `scopeid 0x…`: the kernel's interface index.
        public var scopeID: Int?
    }

    static func isInterfaceHeader(_ token: Substring) -> Bool {
        guard token.count >= 3, token.last == ":", let first = token.first, first.isLetter, first.isLowercase else { return false }
        let name = token.dropLast()
        return name.allSatisfy { $0.isLetter || $0.isNumber } && name.last?.isNumber == true
    }

    /// Parses `ifconfig -a`.
    public static func ifconfig(_ text: String, file: String = "ifconfig.txt") throws -> [IfconfigEntry] {
        let tokens = tokens(text)
        guard !tokens.isEmpty else { return [] }
        // An interface starts at `NAME:` followed by `flags=…`.
        var starts: [Int] = []
        for i in tokens.indices where isInterfaceHeader(tokens[i]) && i + 1 < tokens.count && tokens[i + 1].hasPrefix("flags=") {
            starts.append(i)
        }
        guard let first = starts.first, first == 0 else {
            throw CaptureParseError(file: file, expected: "`ifconfig -a` output starting with 'NAME: flags=…'", found: String(tokens[0]))
        }
        var entries: [IfconfigEntry] = []
        for (n, start) in starts.enumerated() {
            let block = tokens[start..<(n + 1 < starts.count ? starts[n + 1] : tokens.count)]
            entries.append(try ifconfigEntry(Array(block), file: file))
        }
        return entries
    }

    static func ifconfigEntry(_ t: [Substring], file: String) throws -> IfconfigEntry {
        var entry = IfconfigEntry(name: String(t[0].dropLast()), flags: [])
        let flagsToken = t[1]
        if let open = flagsToken.firstIndex(of: "<"), let close = flagsToken.lastIndex(of: ">"), open < close {
            entry.flags = flagsToken[flagsToken.index(after: open)..<close].split(separator: ",").map(String.init)
        }
        var i = 2
        func value(after index: Int) -> Substring? { index + 1 < t.count ? t[index + 1] : nil }
        while i < t.count {
            switch t[i] {
            case "mtu":
                entry.mtu = try value(after: i).flatMap { Int($0) }.map { try bounded($0, Bounds.mtu, "an MTU for \(entry.name)", file: file) }
                i += 2
            case "ether":
                entry.ether = value(after: i).map(String.init)
                i += 2
            case "peer:":
                entry.peer = value(after: i).map(String.init)
                i += 2
            case "status:":
                entry.status = value(after: i).map(String.init)
                i += 2
            case "inet":
                guard let text = value(after: i), let local = IPAddress(String(text)), local.family == .inet else {
                    throw CaptureParseError(file: file, expected: "an IPv4 address after 'inet' for \(entry.name)", found: String(value(after: i) ?? ""))
                }
                var peer: IPAddress?
                var length = 32
                i += 2
                while i < t.count {
                    if t[i] == "-->", let p = value(after: i) { peer = IPAddress(String(p)); i += 2 }
                    else if t[i] == "netmask", let mask = value(after: i) {
                        guard let bits = netmaskLength(mask) else {
                            throw CaptureParseError(file: file, expected: "a hex netmask like 0xffffff00 for \(entry.name)", found: String(mask))
                        }
                        length = bits
                        i += 2
                    } else if t[i] == "broadcast" { i += 2 }
                    else { break }
                }
                entry.addresses.append(InterfaceAddress(local: local, prefixLength: length, peer: peer, scope: "global"))
            case "inet6":
                guard let text = value(after: i), let local = IPAddress(String(text)), local.family == .inet6 else {
                    throw CaptureParseError(file: file, expected: "an IPv6 address after 'inet6' for \(entry.name)", found: String(value(after: i) ?? ""))
                }
                var length = 128
                i += 2
                while i < t.count {
                    if t[i] == "prefixlen", let p = value(after: i).flatMap({ Int($0) }) {
                        length = try bounded(p, Bounds.inet6PrefixLength, "an IPv6 prefix length for \(entry.name)", file: file)
                        i += 2
                    } else if t[i] == "scopeid", let s = value(after: i) {
                        entry.scopeID = try Int(s.dropFirst(2), radix: 16).map { try bounded($0, Bounds.interfaceIndex, "a scope id (interface index) for \(entry.name)", file: file) }
                        i += 2
                    }
                    else if ["secured", "autoconf", "temporary", "deprecated", "dynamic", "detached", "tentative", "duplicated"].contains(t[i]) { i += 1 }
                    else { break }
                }
                let linkLocal = local.bytes[0] == 0xfe && local.bytes[1] & 0xc0 == 0x80
                entry.addresses.append(InterfaceAddress(local: IPAddress(bytes: local.bytes)!, prefixLength: length, scope: linkLocal ? "link" : "global"))
            default:
                i += 1
            }
        }
        return entry
    }

    /// `0xffffff00` → 24. Only contiguous masks are accepted.
    static func netmaskLength(_ text: Substring) -> Int? {
        guard text.hasPrefix("0x"), let mask = UInt32(text.dropFirst(2), radix: 16) else { return nil }
        let length = mask.nonzeroBitCount
        guard length == 0 || mask == ~UInt32(0) << (32 - length) else { return nil }
        return length
    }

    // MARK: netstat -rn

    /// One row of `netstat -rn`.
    public struct NetstatRow: Equatable, Sendable {
        public var destination: IPPrefix
        /// A gateway address; nil for `link#N` and MAC gateways (directly attached).
        public var gateway: IPAddress?
        public var flags: String
        public var netif: String
    }

    static func looksLikeFlags(_ token: Substring) -> Bool {
        !token.isEmpty && token.allSatisfy { $0.isLetter }
    }

    static func looksLikeInterface(_ token: Substring) -> Bool {
        guard let first = token.first, first.isLetter, first.isLowercase, token.last?.isNumber == true else { return false }
        return token.allSatisfy { $0.isLetter || $0.isNumber }
    }

    /// Parses `netstat -rn` (both the Internet: and Internet6: sections, and `-f inet` output).
    public static func netstat(_ text: String, file: String = "netstat.txt") throws -> [NetstatRow] {
        let t = tokens(text)
        var rows: [NetstatRow] = []
        var family: AddressFamily?
        var i = 0
        var sawHeader = false
        while i < t.count {
            switch t[i] {
            case "Routing", "tables": i += 1; continue
            case "Internet:": family = .inet; i += 1; continue
            case "Internet6:": family = .inet6; i += 1; continue
            case "Destination":
                // Header: Destination Gateway Flags Netif [Refs Use] Expire
                sawHeader = true
                i += 1
                while i < t.count, ["Gateway", "Flags", "Netif", "Expire", "Refs", "Use", "Mtu"].contains(t[i]) { i += 1 }
                continue
            default: break
            }
            guard sawHeader, i + 3 < t.count, looksLikeFlags(t[i + 2]), looksLikeInterface(t[i + 3]) else {
                // An expiry column ("!" or seconds) after a row, or trailing text.
                if sawHeader, !rows.isEmpty, t[i] == "!" || Int(t[i]) != nil { i += 1; continue }
                throw CaptureParseError(file: file, expected: sawHeader ? "a route row 'DESTINATION GATEWAY FLAGS NETIF'" : "`netstat -rn` output with a 'Destination Gateway Flags Netif' header",
                                        found: t[i...].prefix(4).joined(separator: " "))
            }
            let netif = String(t[i + 3])
            guard let destination = destinationPrefix(t[i], family: family) else {
                throw CaptureParseError(file: file, expected: "a destination (default, 16/4, 128.0/1, 192.168.88, fe80::%utun0/64, …)", found: String(t[i]))
            }
            rows.append(NetstatRow(destination: destination, gateway: gatewayAddress(t[i + 1]), flags: String(t[i + 2]), netif: netif))
            i += 4
        }
        if !sawHeader, !t.isEmpty {
            throw CaptureParseError(file: file, expected: "`netstat -rn` output with a 'Destination Gateway Flags Netif' header", found: t.prefix(4).joined(separator: " "))
        }
        return rows
    }

    /// BSD netstat's abbreviated destinations: `default`; `16/4` is 16.0.0.0/4; `128.0/1` is
    /// 128.0.0.0/1; `192.168.88` is 192.168.88.0/24 and `127` is 127.0.0.0/8 (class-style width
    /// from the octets given); `fe80::%utun0/64` keeps its zone out of the prefix.
    static func destinationPrefix(_ token: Substring, family: AddressFamily?) -> IPPrefix? {
        if token == "default" {
            let inet6 = family == .inet6
            return IPPrefix(address: IPAddress(bytes: [UInt8](repeating: 0, count: inet6 ? 16 : 4))!, length: 0)
        }
        let parts = token.split(separator: "/", maxSplits: 1)
        var addressText = String(parts[0])
        if let percent = addressText.firstIndex(of: "%") { addressText = String(addressText[..<percent]) }
        let explicitLength = parts.count == 2 ? Int(parts[1]) : nil
        if parts.count == 2, explicitLength == nil { return nil }
        if addressText.contains(":") {
            guard let address = IPAddress(addressText) else { return nil }
            return IPPrefix(address: address, length: explicitLength ?? 128)
        }
        let octets = addressText.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...4).contains(octets.count) else { return nil }
        var bytes: [UInt8] = []
        for octet in octets {
            guard let value = UInt8(octet) else { return nil }
            bytes.append(value)
        }
        let given = bytes.count
        bytes += [UInt8](repeating: 0, count: 4 - given)
        return IPPrefix(address: IPAddress(bytes: bytes)!, length: explicitLength ?? given * 8)
    }

    /// An address gateway, or nil for `link#N` and MAC addresses (directly attached).
    static func gatewayAddress(_ token: Substring) -> IPAddress? {
        if token.hasPrefix("link#") { return nil }
        if token.split(separator: ":").count == 6, token.split(separator: ":").allSatisfy({ $0.count <= 2 && UInt8($0, radix: 16) != nil }) { return nil }
        return IPAddress(String(token))
    }

    // MARK: lsof -nP

    /// A process holding a utun control socket: unit N is utun(N-1).
    public struct UtunHolder: Equatable, Sendable {
        public var pid: Int32
        public var command: String
        public var user: String
        public var unit: Int
        public var ifname: String { "utun\(unit - 1)" }
    }

    /// Parses `lsof -nP`, keeping the `com.apple.net.utun_control` sockets.
    public static func lsof(_ text: String, file: String = "lsof.txt") throws -> [UtunHolder] {
        let t = tokens(text)
        guard !t.isEmpty else { return [] }
        guard t.contains("COMMAND") || t.contains("com.apple.net.utun_control") else {
            throw CaptureParseError(file: file, expected: "`lsof -nP` output (a 'COMMAND PID USER FD TYPE …' header)", found: t.prefix(4).joined(separator: " "))
        }
        var holders: [UtunHolder] = []
        // … COMMAND PID USER FD systm DEVICE SIZE/OFF [ctl com.apple.net.utun_control id I unit U]
        for i in t.indices where t[i] == "com.apple.net.utun_control" {
            guard i >= 8, t[i - 1] == "[ctl", i + 4 < t.count, t[i + 3] == "unit",
                  let unit = Int(t[i + 4].trimmingCharacters(in: CharacterSet(charactersIn: "]"))),
                  let pid = Int32(t[i - 7]) else {
                throw CaptureParseError(file: file, expected: "'COMMAND PID USER FD systm DEVICE SIZE/OFF [ctl com.apple.net.utun_control id N unit N]'",
                                        found: t[max(0, i - 8)...min(t.count - 1, i + 4)].joined(separator: " "))
            }
            holders.append(UtunHolder(pid: try bounded(pid, Bounds.pid, "a process id", file: file), command: String(t[i - 8]), user: String(t[i - 6]),
                                      unit: try bounded(unit, Bounds.utunUnit, "a utun control unit", file: file)))
        }
        return holders
    }

    // MARK: ps -axo pid,comm

    /// Parses `ps -axo pid,comm`: pid → command (a path, possibly with spaces).
    public static func ps(_ text: String, file: String = "ps.txt") throws -> [Int32: String] {
        let t = tokens(text)
        guard !t.isEmpty else { return [:] }
        var i = 0
        if t.count >= 2, t[0] == "PID" { i = 2 }
        var processes: [Int32: String] = [:]
        while i < t.count {
            guard let pid = Int32(t[i]) else {
                throw CaptureParseError(file: file, expected: "`ps -axo pid,comm` rows 'PID COMMAND'", found: String(t[i]))
            }
            var j = i + 1
            var words: [Substring] = []
            // The command runs until the next token that is a number followed by a path-like word.
            while j < t.count, !(Int32(t[j]) != nil && j + 1 < t.count && (t[j + 1].hasPrefix("/") || t[j + 1].hasPrefix("(") || t[j + 1].first?.isLetter == true) && !words.isEmpty) {
                words.append(t[j])
                j += 1
            }
            processes[try bounded(pid, Bounds.pid, "a process id", file: file)] = words.joined(separator: " ")
            i = j
        }
        return processes
    }
}
