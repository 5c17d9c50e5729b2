import Foundation
import TunwardenCore

/// Output of a macOS tool in which nothing could be read as what it claims to be.
public struct CaptureParseError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var expected: String
    public var found: String

    public var description: String { "\(file): expected \(expected), found \(found.isEmpty ? "nothing" : "'\(found.prefix(60))'")" }
}

/// The records macOS tools print, as the capture reader (`CaptureReader`) finds them, and a
/// convenience entry point per tool for text known to hold only that tool's output.
public enum DarwinParsers {
    /// The bounds of the numbers a capture holds, as the macOS kernel keeps them: a row that says
    /// otherwise is damaged, is skipped with a note, and its numbers never reach arithmetic.
    enum Bounds {
        /// Process ids (pid_t, and 0 is the kernel's own).
        static let pid: ClosedRange<Int> = 1...Int(Int32.max)
        /// A utun control socket's unit (sc_unit, a u_int32_t); unit N is utun(N-1), so 0 names none.
        static let utunUnit: ClosedRange<Int> = 1...Int(UInt32.max)
        /// An interface's MTU and index (u_int32_t).
        static let mtu: ClosedRange<Int> = 0...Int(UInt32.max)
        static let interfaceIndex: ClosedRange<Int> = 1...Int(UInt32.max)
        /// An IPv6 prefix length.
        static let inet6PrefixLength: ClosedRange<Int> = 0...128
    }

    /// One interface from `ifconfig`.
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
        /// From `ifconfig -v`'s header line (`mtu 1380 index 23`): the kernel's interface index.
        public var index: Int?
        /// The `desc:` of each `agent` line (`ifconfig -v`).
        public var agents: [String] = []
        /// The status line of a tuntaposx `tunN` or `tapN` (`open (pid N)`, `closed`), when its
        /// block has one.
        public var deviceStatus: TuntaposxDevice?
        /// Known only from a block whose header line was cut off: flags and state are unknown.
        public var headerMissing = false
        /// Only its name is known (`ifconfig -l`): its flags, state and addresses are not.
        public var nameOnly = false
        /// Its block went through a filter or a cut (`ifconfig | grep -A1 utun`, `| head`):
        /// lines of it may be missing, so its addresses are not known to be all. Likewise when an
        /// address in it could not be read (masked in the paste: `inet 10.x.x.x`).
        public var addressesPartial = false
        /// Why lines of its block may be missing, when the command that printed it went through
        /// a filter or a cut (`` `ifconfig | grep -A1 tun0` may have left lines of it out ``).
        public var linesMayBeMissing: String?
        /// How many commands that may change the tables came before the block's listing (see
        /// `CaptureContents.moment`).
        public var moment = 0

        /// The kernel's interface index, where the output shows it.
        public var kernelIndex: Int? { index ?? scopeID }
    }

    /// One row of `netstat -r`.
    public struct NetstatRow: Equatable, Sendable {
        public var destination: IPPrefix
        public var gateway: IPAddress?
        public var flags: String
        public var netif: String
        /// `link#N` in the Gateway column: the index of the interface the row is attached to.
        public var linkIndex: Int?
        /// The zone of a scoped destination (`fe80::%utun0/64`, `fe80::1%lo0`): an interface name.
        public var zone: String?
        /// Where it was read, for messages.
        public var line: Int = 0
        /// How wide the Netif column is when netstat cuts names to it: older macOS (the layout with
        /// Refs and Use columns) prints 7 characters of an IPv4 route's interface and 8 of an
        /// IPv6 one's. Nil where names are printed whole.
        public var netifWidth: Int?
        /// How many commands that may change the tables came before the row's listing (see
        /// `CaptureContents.moment`).
        public var moment = 0
        /// Which route listing of the capture the row was read in.
        public var listing = 0
    }

    /// A process holding a utun control socket: unit N is utun(N-1).
    public struct UtunHolder: Hashable, Sendable {
        public var pid: Int32
        public var command: String
        public var user: String
        public var unit: Int
        public var ifname: String { "utun\(unit - 1)" }
    }

    // MARK: Entry points for text of one tool

    /// Reads `ifconfig` output. Throws only when text that is not empty holds no interface at all.
    public static func ifconfig(_ text: String, file: String = "ifconfig.txt") throws -> [IfconfigEntry] {
        let contents = CaptureReader.read(CaptureText(file: file, text: text), expecting: .ifconfig)
        if contents.interfaces.isEmpty, !contents.isBlank {
            throw CaptureParseError(file: file, expected: "`ifconfig` output ('NAME: flags=…' blocks)", found: contents.firstWords)
        }
        return contents.interfaces
    }

    /// Reads `netstat -rn` output. Throws only when text that is not empty holds no route row.
    public static func netstat(_ text: String, file: String = "netstat.txt") throws -> [NetstatRow] {
        let contents = CaptureReader.read(CaptureText(file: file, text: text), expecting: .netstat)
        if contents.routes.isEmpty, !contents.isBlank, !contents.netstatSeen {
            throw CaptureParseError(file: file, expected: "`netstat -rn` output (rows 'DESTINATION GATEWAY FLAGS NETIF')", found: contents.firstWords)
        }
        return contents.routes
    }

    /// Reads `lsof` output, keeping the utun control sockets. Throws only when text that is not
    /// empty holds no lsof row at all.
    public static func lsof(_ text: String, file: String = "lsof.txt") throws -> [UtunHolder] {
        let contents = CaptureReader.read(CaptureText(file: file, text: text), expecting: .lsof)
        if !contents.lsofSeen, !contents.isBlank {
            throw CaptureParseError(file: file, expected: "`lsof -nP` output (a 'COMMAND PID USER FD TYPE …' header)", found: contents.firstWords)
        }
        return contents.holders
    }

    /// Reads `ps` output (`-axo pid,comm`, `aux`, `-ef`): pid → command. Throws only when text
    /// that is not empty holds no process row.
    public static func ps(_ text: String, file: String = "ps.txt") throws -> [Int32: String] {
        let contents = CaptureReader.read(CaptureText(file: file, text: text), expecting: .ps)
        if !contents.psSeen, !contents.isBlank {
            throw CaptureParseError(file: file, expected: "`ps` output (rows 'PID COMMAND')", found: contents.firstWords)
        }
        return contents.processes
    }

    // MARK: Shapes of single words

    /// BSD route flags as netstat prints them (`UGScg`, `UHLWIir`, `UGHW3I`).
    static func isRouteFlags<S: StringProtocol>(_ word: S, strict: Bool) -> Bool {
        guard !word.isEmpty, word.count <= 24, word.allSatisfy({ routeFlagLetters.contains($0) }) else { return false }
        return !strict || word.first == "U"
    }

    static let routeFlagLetters: Set<Character> = Set("UGHRDMmdCXLS123WcBbIiYrgAklpPx")

    /// `0xffffff00` → 24. Only contiguous masks are accepted.
    static func netmaskLength<S: StringProtocol>(_ text: S) -> Int? {
        guard text.hasPrefix("0x"), let mask = UInt32(text.dropFirst(2), radix: 16) else { return nil }
        let length = mask.nonzeroBitCount
        guard length == 0 || mask == ~UInt32(0) << (32 - length) else { return nil }
        return length
    }

    /// BSD netstat's abbreviated destinations: `default`; `16/4` is 16.0.0.0/4; `128.0/1` is
    /// 128.0.0.0/1; `192.168.88` is 192.168.88.0/24 and `127` is 127.0.0.0/8 (class-style width
    /// from the octets given); `fe80::%utun0/64` keeps its zone out of the prefix; `localhost`
    /// (netstat without -n) is the loopback address of the family.
    static func destinationPrefix<S: StringProtocol>(_ token: S, family: AddressFamily?) -> (prefix: IPPrefix, zone: String?)? {
        if token == "default" || token == "localhost" {
            let inet6 = family == .inet6
            let address = token == "default" ? IPAddress(bytes: [UInt8](repeating: 0, count: inet6 ? 16 : 4)) : IPAddress(inet6 ? "::1" : "127.0.0.1")
            guard let address, let prefix = IPPrefix(address: address, length: token == "default" ? 0 : inet6 ? 128 : 32) else { return nil }
            return (prefix, nil)
        }
        let parts = token.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2 else { return nil }
        var addressText = String(parts[0])
        var zone: String?
        if let percent = addressText.firstIndex(of: "%") {
            zone = String(addressText[addressText.index(after: percent)...])
            addressText = String(addressText[..<percent])
        }
        var explicitLength: Int?
        if parts.count == 2 {
            guard parts[1].count <= 3, let length = Int(parts[1]) else { return nil }
            explicitLength = length
        }
        if addressText.contains(":") {
            guard let address = IPAddress(addressText), address.family == .inet6 else { return nil }
            let length = explicitLength ?? 128
            guard (0...128).contains(length), let prefix = IPPrefix(address: address, length: length) else { return nil }
            return (prefix, zone)
        }
        let octets = addressText.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...4).contains(octets.count) else { return nil }
        var bytes: [UInt8] = []
        for octet in octets {
            guard octet.count <= 3, octet.allSatisfy(\.isASCII), let value = UInt8(octet) else { return nil }
            bytes.append(value)
        }
        let given = bytes.count
        bytes += [UInt8](repeating: 0, count: 4 - given)
        let length = explicitLength ?? given * 8
        guard (0...32).contains(length), let address = IPAddress(bytes: bytes), let prefix = IPPrefix(address: address, length: length) else { return nil }
        return (prefix, zone)
    }

    /// A link-layer address as netstat prints one (`0:1e:c2:a0:33:1`): six groups of one or two
    /// hex digits, which an IPv6 address never is without `::`.
    static func isMACAddress<S: StringProtocol>(_ text: S) -> Bool {
        let groups = text.split(separator: ":", omittingEmptySubsequences: false)
        return groups.count == 6 && groups.allSatisfy { (1...2).contains($0.count) && $0.allSatisfy(\.isHexDigit) }
    }

    /// An address gateway, or nil for `link#N`, MAC addresses, host names and
    /// redacted addresses: a route is read without its gateway rather than not at all.
    static func gatewayAddress<S: StringProtocol>(_ token: S) -> IPAddress? {
        if token.hasPrefix("link#") { return nil }
        let text = String(token)
        if isMACAddress(text) { return nil }
        if let address = IPAddress(text) { return address }
        // A zone IPAddress does not take (a name with odd characters) is left out.
        guard let percent = text.firstIndex(of: "%") else { return nil }
        return IPAddress(String(text[..<percent]))
    }
}
