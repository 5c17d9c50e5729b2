/// Tells a journal line that a write left unfinished from one that was damaged.
///
/// A write cut short by a full disk, a signal or a crash leaves the start of a record: JSON text
/// that is correct as far as it goes and stops before its object closes. A crash can also leave
/// NUL bytes where the file's last block was allocated but never written. Anything else (a byte
/// no JSON text could have at its place, or an object that closes but is not a record) is damage.
enum CutShortJSON {
    /// Whether `line` is the start of a JSON object that stops before its end, possibly followed
    /// by NUL bytes. A line of NUL bytes alone counts as cut short.
    static func isCutShort(_ line: some Collection<UInt8>) -> Bool {
        var bytes = Array(line)
        while bytes.last == 0 { bytes.removeLast() }
        var scanner = Scanner(bytes: bytes)
        return scanner.scanObjectPrefix()
    }

    private enum Step { case done, cut, invalid }

    private struct Scanner {
        let bytes: [UInt8]
        var at = 0
        var depth = 0
        /// Deeper nesting than any record has is damage; the bound also keeps the recursion shallow.
        static let maximumDepth = 32

        init(bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { at == bytes.count }

        mutating func skipSpace() {
            while at < bytes.count, [0x20, 0x09, 0x0D].contains(bytes[at]) { at += 1 }
        }

        /// True when the bytes run out inside the object, false when they hold something JSON
        /// cannot have or the object ends (with or without more after it).
        mutating func scanObjectPrefix() -> Bool {
            skipSpace()
            if atEnd { return true }
            guard bytes[at] == UInt8(ascii: "{") else { return false }
            return value() == .cut
        }

        mutating func value() -> Step {
            skipSpace()
            if atEnd { return .cut }
            switch bytes[at] {
            case UInt8(ascii: "{"): return container(close: UInt8(ascii: "}"), keyed: true)
            case UInt8(ascii: "["): return container(close: UInt8(ascii: "]"), keyed: false)
            case UInt8(ascii: "\""): return string()
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "n"): return literal("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number()
            default: return .invalid
            }
        }

        /// An object (`keyed`) or an array, from its opening bracket.
        mutating func container(close: UInt8, keyed: Bool) -> Step {
            depth += 1
            defer { depth -= 1 }
            guard depth <= Self.maximumDepth else { return .invalid }
            at += 1
            skipSpace()
            if atEnd { return .cut }
            if bytes[at] == close {
                at += 1
                return .done
            }
            while true {
                if keyed {
                    skipSpace()
                    if atEnd { return .cut }
                    guard bytes[at] == UInt8(ascii: "\"") else { return .invalid }
                    let key = string()
                    guard key == .done else { return key }
                    skipSpace()
                    if atEnd { return .cut }
                    guard bytes[at] == UInt8(ascii: ":") else { return .invalid }
                    at += 1
                }
                let member = value()
                guard member == .done else { return member }
                skipSpace()
                if atEnd { return .cut }
                if bytes[at] == close {
                    at += 1
                    return .done
                }
                guard bytes[at] == UInt8(ascii: ",") else { return .invalid }
                at += 1
            }
        }

        mutating func string() -> Step {
            at += 1
            while !atEnd {
                let byte = bytes[at]
                at += 1
                switch byte {
                case UInt8(ascii: "\""): return .done
                case 0..<0x20: return .invalid
                case UInt8(ascii: "\\"):
                    if atEnd { return .cut }
                    let escaped = bytes[at]
                    at += 1
                    if escaped == UInt8(ascii: "u") {
                        for _ in 0..<4 {
                            if atEnd { return .cut }
                            guard Self.isHexDigit(bytes[at]) else { return .invalid }
                            at += 1
                        }
                    } else if !Array("\"\\/bfnrt".utf8).contains(escaped) {
                        return .invalid
                    }
                default: continue
                }
            }
            return .cut
        }

        mutating func literal(_ word: String) -> Step {
            for expected in word.utf8 {
                if atEnd { return .cut }
                guard bytes[at] == expected else { return .invalid }
                at += 1
            }
            return .done
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`. A number the bytes end in is
        /// cut: inside an object, more must follow it.
        mutating func number() -> Step {
            if bytes[at] == UInt8(ascii: "-") { at += 1 }
            if atEnd { return .cut }
            if bytes[at] == UInt8(ascii: "0") {
                at += 1
            } else {
                guard digits() else { return .invalid }
            }
            if atEnd { return .cut }
            if bytes[at] == UInt8(ascii: ".") {
                at += 1
                if atEnd { return .cut }
                guard digits() else { return .invalid }
            }
            if atEnd { return .cut }
            if bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E") {
                at += 1
                if atEnd { return .cut }
                if bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-") { at += 1 }
                if atEnd { return .cut }
                guard digits() else { return .invalid }
            }
            return atEnd ? .cut : .done
        }

        /// Consumes one or more decimal digits; false when there is none.
        mutating func digits() -> Bool {
            let start = at
            while !atEnd, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[at]) { at += 1 }
            return at > start
        }

        static func isHexDigit(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
        }
    }
}
