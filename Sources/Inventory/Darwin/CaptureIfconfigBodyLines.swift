import Foundation
import TunwardenCore

/// Telling the lines of an interface block from what stands between listings when a paste lost
/// the tab indents ifconfig puts before them (copied from a rendered page, a chat, a web form).
///
/// A body line is known by its first word (`inet`, `status:`, `nd6`), by a key macOS's ifconfig
/// prints in more words (`data milestone interval:`, `Address cache:`), or by its shape: a line
/// of keys and machine values (`throttling: level 1 (opportunistic)`, `L4S: enabled`,
/// `unaligned pkts: 12`), or a bridge's learned address (`6e:67:2:6d:cf:32 Vlan1 en9 1196
/// flags=0<>`). A line that starts another tool's output, a prompt, or holds a word of prose
/// (`note: 3 hours later`, `Update: it works`, `time: 10:32`) is none: it stays what stands
/// between two listings.
extension Section {
    /// Words that begin the lines of an interface block, for pastes that lost its tab indents.
    static let bodyWords: Set<String> = [
        "inet", "inet6", "ether", "nd6", "media:", "status:", "member:", "Configuration:", "id", "maxage", "root", "ipfilter",
        "ifmaxaddr", "peer:", "agent", "type:", "link", "state", "scheduler:", "effective", "generation", "qosmarking",
        "low", "multi", "routermode4", "netem", "desc:", "vlan:", "parent", "lladdr", "tunnel", "bond", "uplink", "mpklog",
        "subfamily:", "thread", "txstart", "unit", "interface", "ipsec", "channel", "netif", "input", "output", "mode",
        // `ifconfig -v`'s lines on recent macOS (`timestamp: disabled`, `routermode4: disabled`,
        // `downlink rate: …`, `l4s mode: …`, `netif: …`, `flowswitch: …`, `L4S: enabled`,
        // `throttling: level 1 (opportunistic)`, `logging: level 1 facilities=…`), en0's
        // `nat64 prefix 64:ff9b:: prefixlen 96` on an IPv6-only network (plain `ifconfig -a`
        // prints it), and a bridge member's `hostfilter 0 hw: … ip: …` (`-v`).
        "timestamp:", "routermode4:", "routermode6", "routermode6:", "downlink", "l4s", "netif:", "flowswitch:",
        "L4S:", "throttling:", "logging:", "nat64", "hostfilter",
    ]

    static func isBodyWord<S: StringProtocol>(_ word: S) -> Bool {
        bodyWords.contains(String(word)) || word.hasPrefix("options=") || word.hasPrefix("eflags=") || word.hasPrefix("xflags=")
            || word.hasPrefix("capabilities=") || word.hasPrefix("hwassist=")
    }

    /// Keys of macOS's ifconfig (macOS 10.13 to 26) that begin a body line in more than one word,
    /// or with a first word prose may begin with too; a key that ends its line (`Address cache:`)
    /// stands alone on it. From `-v` and `-vv` (`unaligned pkts:`, `data milestone interval:`,
    /// `functional type:`), `-m` (`supported media:`), and a bridge's status (its learned
    /// addresses and MAC NAT entries, and a member's checksum counters with `-v`).
    static let bodyKeys: [[Substring]] = [
        "unaligned pkts:", "data milestone interval:", "functional type:", "Address cache:", "MAC NAT list:", "supported media:",
        "checksum stats:", "checksum offloaded:", "checksum good sw:", "checksum bad sw:",
    ].map { $0.split(separator: " ") }

    /// Words a value of ifconfig's body is written in: states, units, a level's name.
    static let valueWords: Set<Substring> = [
        "enabled", "disabled", "yes", "no", "none", "true", "false", "on", "off", "active", "inactive", "unknown", "level",
        "default", "custom", "fastlane", "NONE", "UNKNOWN", "bps", "Kbps", "Mbps", "Gbps", "bytes", "KB", "MB", "GB", "packets",
        "microseconds", "nsec", "usec", "msec", "sec", "/",
    ]

    /// First words of the key-value lines other tools print, which the reader reads as theirs:
    /// `wg show`'s (`interface: utun4`, `public key: …`, `listening port: 51820`, `endpoint:`,
    /// `allowed ips:`) and `route get`'s (`destination:`, `gateway:`, `interface:`). ifconfig
    /// starts no line with them.
    static let otherToolKeys: Set<Substring> = [
        "interface:", "public", "private", "preshared", "listening", "fwmark:", "endpoint:", "allowed", "latest", "transfer:", "persistent",
        "destination:", "mask:", "gateway:", "flags:", "index:",
    ]

    /// Whether `words` (a line's) begin with one of `bodyKeys`: a line of an interface block
    /// whether or not the listing kept its indents elsewhere, as a line known by its first word is.
    static func startsWithBodyKey(_ words: [Substring]) -> Bool {
        bodyKeys.contains { key in key.count <= words.count && zip(key, words).allSatisfy { $0 == $1 } }
    }

    /// Whether the line at `position` begins with one of `bodyKeys` (see `startsWithBodyKey`).
    func startsWithBodyKey(_ position: Int) -> Bool {
        guard text.startsLine(position), !ShellCommand.isPrompt(text[position]) else { return false }
        let end = lineEnd(position)
        guard end - position <= 16 else { return false }
        return Self.startsWithBodyKey((position..<end).map { text[$0] })
    }

    /// First words of the lines ifconfig indents with a tab and eight spaces (a bridge member's
    /// `ifmaxaddr …` and, with `-v`, `hostfilter …` under its `member:` line): a paste that lost
    /// its tabs keeps their spaces, so their indent says nothing of whether the listing kept its own.
    static let memberDetailWords: Set<Substring> = ["ifmaxaddr", "hostfilter"]

    /// Whether the unindented line at `position` is a line of an interface block (see the type's
    /// comment): what a paste that lost its indents leaves of one that `isBodyWord` does not know
    /// by its first word.
    func isBodyLine(_ position: Int) -> Bool {
        guard text.startsLine(position), !CaptureReader.startsOutput(text, at: position), !ShellCommand.isPrompt(text[position]) else { return false }
        let end = lineEnd(position)
        guard end - position <= 16 else { return false }
        let words = (position..<end).map { text[$0] }
        if Self.startsWithBodyKey(words) { return true }
        // A bridge's learned address (`Address cache:`): `6e:67:2:6d:cf:32 Vlan1 en9 1196 flags=0<>`.
        if words.count >= 2, Self.isLinkLayerAddress(words[0]), words[1].hasPrefix("Vlan") { return true }
        // An entry of its MAC NAT list: `en0 192.168.1.2 6e:67:2:6d:cf:32 1196`.
        if words.count >= 3, ShellCommand.isInterfaceName(words[0]), Self.isAddress(words[1]), Self.isLinkLayerAddress(words[2]) { return true }
        // `-m`'s supported media (`media autoselect`, `media 1000baseT mediaopt full-duplex`),
        // and an STP member's `role designated state forwarding`.
        if words[0] == "media", words.count >= 2, words.count == 2 ? words[1] == "autoselect" || words[1].contains(where: \.isNumber) : words.contains("mediaopt") {
            return true
        }
        if words.count == 4, words[0] == "role", words[2] == "state" { return true }
        return Self.isKeyValueLine(words)
    }

    /// The first words of the keys macOS's ifconfig (and its bridge, vlan and bond status)
    /// prints at a body line's start, as it prints them (network_cmds' ifconfig.tproj): a key
    /// read by its shape begins with one of them. A key in capitals is one only as `L4S:`; a
    /// word a writer begins a note with (`vpn:`, `run:`, `wait:`, `UPDATE:`) is none.
    static let shapeKeyWords: Set<Substring> = [
        "type:", "functional", "agent", "link", "state", "scheduler:", "throttling:", "uplink", "downlink", "unaligned", "data",
        "desc:", "logging:", "effective", "txstart", "timestamp:", "qosmarking", "low", "multi", "routermode4:", "routermode6:",
        "L4S:", "l4s", "netif:", "flowswitch:", "vlan:", "parent", "partner", "bond", "subfamily:", "in:", "out:", "checksum",
        "supported", "generation", "media:", "status:", "peer:", "member:",
    ]

    /// Words besides `CaptureReader.timePassingWords` with which a note says time passed
    /// (`wait: 600 sec`, `then:`, `before: …`).
    static let waitingWords: Set<String> = ["wait", "waits", "then", "before", "since", "ago", "elapsed", "time", "date", "uptime"]

    /// Whether a line's `words` say that time passed (`UPDATE: (after reconnecting)`, `EDIT:
    /// [after sleep]`, `link went down after sleep`) or hold a date or a time of day: no line of
    /// ifconfig's does. (`waitingWords` count only in a line read by its shape.)
    static func saysTimePassed(_ words: ArraySlice<String>, shaped: Bool = false) -> Bool {
        if CaptureReader.timePassingWord(Array(words)) != nil { return true }
        return words.contains { word in
            (shaped && waitingWords.contains(word.lowercased().filter(\.isLetter))) || isDateOrTime(word, shaped: shaped)
        }
    }

    /// A date (`2026-12-05`, `12/05/2026`, `05.12.2026`), a time of day (`17:02`, `17:02:11`),
    /// or, in a line read by its shape, a Unix time (`1733414531`).
    static func isDateOrTime(_ word: String, shaped: Bool) -> Bool {
        let bare = word.trimmingCharacters(in: CharacterSet(charactersIn: "()[]<>,;\"'"))
        if shaped, bare.count == 10, bare.first == "1", bare.allSatisfy(\.isNumber) { return true }
        return bare.range(of: #"^(\d{1,2}:\d{2}(:\d{2})?|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/]\d{1,2}[-/]\d{2,4}|\d{1,2}\.\d{1,2}\.\d{4})$"#,
                          options: .regularExpression) != nil
    }

    /// Whether `words` (a line's) are keys and values as ifconfig's body writes them: a key of at
    /// most four words ending in `:` that begins as ifconfig's do (`shapeKeyWords`:
    /// `throttling:`, `L4S:`, `state availability:`), then values, each a number, an address, a
    /// flag list, a state, a unit, a word in brackets, an identifier with a digit or `_`, or
    /// another key (`qosmarking enabled: yes mode: none`). A word of prose anywhere (`note: 3
    /// hours later`, a capitalised `Update:`), a word that says time passed, a date or a time
    /// makes it none, as does a key of another tool's (`otherToolKeys`).
    static func isKeyValueLine(_ words: [Substring]) -> Bool {
        guard let first = words.first, shapeKeyWords.contains(first), !otherToolKeys.contains(first),
              let keyEnd = words.prefix(4).firstIndex(where: { $0.hasSuffix(":") }), keyEnd + 1 < words.count,
              words[...keyEnd].allSatisfy(isKeyWord), !saysTimePassed(words.map { String($0) }[...], shaped: true) else { return false }
        for index in (keyEnd + 1)..<words.count {
            let word = words[index]
            if isValueWord(word) || (word.hasSuffix(":") && isKeyWord(word)) { continue }
            // The first word of a key in two (`parent interface:`, `partner system:`).
            if index + 1 < words.count, isKeyWord(word), words[index + 1].hasSuffix(":"), isKeyWord(words[index + 1]) { continue }
            return false
        }
        return true
    }

    /// A word of one of ifconfig's keys: letters (and digits, `_`, `-`, brackets) all in lower
    /// case or all in capitals, with or without the key's closing colon (`pkts:`, `(mpklog):`, `L4S:`).
    static func isKeyWord(_ word: Substring) -> Bool {
        let body = word.hasSuffix(":") ? word.dropLast() : word
        guard let first = body.first, first.isASCII, first.isLetter || first == "(",
              body.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "()_-".contains($0)) }) else { return false }
        return !body.contains(where: \.isUppercase) || !body.contains(where: \.isLowercase)
    }

    /// A value as ifconfig writes one (see `isKeyValueLine`).
    static func isValueWord(_ word: Substring) -> Bool {
        if valueWords.contains(word) || word.contains("=") || isAddress(word) || isLinkLayerAddress(word) { return true }
        if let first = word.first, "([<".contains(first) { return true }
        if let last = word.last, ")]>".contains(last) { return true }
        let number = word.hasSuffix("%") ? word.dropLast() : word
        if Double(number) != nil, number.first?.isNumber == true || number.first == "-" { return true }
        if word.hasPrefix("0x"), word.count > 2, word.dropFirst(2).allSatisfy(\.isHexDigit) { return true }
        // An identifier: `wifi_infra`, `FQ_CODEL`, `1000baseT`, `RFC4594`, `en0`, a UUID.
        guard word.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) }) else { return false }
        return word.contains("_") || (word.contains(where: \.isNumber) && word.contains(where: \.isLetter))
    }

    /// An IPv4 or IPv6 address, with a zone (`fe80::1%utun4`) or prefix length (`10.8.0.0/16`).
    static func isAddress(_ word: Substring) -> Bool {
        let bare = word.split(separator: "%", maxSplits: 1).first.flatMap { $0.split(separator: "/", maxSplits: 1).first } ?? word
        return bare.contains(where: { $0 == "." || $0 == ":" }) && IPAddress(String(bare)) != nil
    }

    /// A link-layer address as BSD's `ether_ntoa` writes it: six parts of one or two hex digits
    /// (`6e:67:2:6d:cf:32`).
    static func isLinkLayerAddress(_ word: Substring) -> Bool {
        let parts = word.split(separator: ":", omittingEmptySubsequences: false)
        return parts.count == 6 && parts.allSatisfy { (1...2).contains($0.count) && $0.allSatisfy(\.isHexDigit) }
    }
}
