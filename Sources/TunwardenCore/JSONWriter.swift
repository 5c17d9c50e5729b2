import Foundation

/// A record tunwarden writes as JSON: a report, an entry of one, a finding, an alert, an
/// observation, a journal record.
///
/// `write(to:)` is the one definition of the record's JSON: it names each key once, in the order
/// the output lists them, and leaves out optional keys that do not apply (never `null`). The
/// golden files in the tests hold the output of every record byte for byte.
public protocol JSONRecord {
    /// Writes the record as one JSON value (an object, for every record tunwarden has).
    func write(to json: inout JSONWriter)

    /// About how many bytes the record's compact JSON takes, to size the output once; the
    /// default suits a small record.
    var jsonSizeHint: Int { get }
}

extension JSONRecord {
    public var jsonSizeHint: Int { 1024 }

    /// The record as UTF-8 JSON text, compact or pretty-printed (see `JSONWriter`).
    public func json(pretty: Bool = false) -> [UInt8] {
        var writer = JSONWriter(pretty: pretty, capacity: pretty ? jsonSizeHint * 2 : jsonSizeHint)
        write(to: &writer)
        return writer.bytes
    }
}

/// JSON text, appended to an array of bytes as records write themselves into it.
///
/// It keeps track of where it is (how deep in objects and arrays, and whether the container has a
/// member already), so a record only says what to write: each member gets its comma, and when
/// `pretty` a line of its own indented two spaces per level, with `": "` after its key; an empty
/// object or array stays `{}` or `[]`. Compact output has no whitespace at all.
///
/// Strings are escaped as RFC 8259 requires and no further: the quote and the backslash with a
/// backslash, newline, carriage return and tab as `\n`, `\r`, `\t`, other control characters as
/// `\u00XX`; everything else, UTF-8 included, is copied as it is. Interface names arrive as the
/// text `InterfaceName` makes of their bytes, so a name that is not printable UTF-8 appears as
/// its `\xHH` text (in JSON `"zz\\xff"`), losslessly.
public struct JSONWriter: Sendable {
    /// Everything written so far.
    public var bytes: [UInt8] {
        guard !segments.isEmpty else { return buffer }
        var all: [UInt8] = []
        all.reserveCapacity(segments.reduce(buffer.count) { $0 + $1.count })
        for segment in segments { all += segment }
        all += buffer
        return all
    }
    /// Everything written so far, as the pieces it was written in: fragments spliced in stay
    /// pieces of their own, not copied (a report of tens of thousands of entries is megabytes).
    public var pieces: [[UInt8]] { segments + [buffer] }
    /// What was written before the last fragment spliced in, and the fragments themselves.
    private var segments: [[UInt8]] = []
    /// What is being written now.
    private var buffer: [UInt8] = []
    /// Whether members are put on lines of their own and indented.
    public let pretty: Bool
    /// How many objects and arrays are open.
    private var depth = 0
    /// How many members the innermost open object or array has so far.
    private var members = 0

    /// `capacity`: about how many bytes will be written, reserved up front.
    public init(pretty: Bool = false, capacity: Int = 1024) {
        self.pretty = pretty
        buffer.reserveCapacity(capacity)
    }

    /// A writer for elements of an array that is `depth` levels deep in another writer's output,
    /// written apart (on another thread, say) and then spliced in with `splice`: its bytes are
    /// exactly what the other writer would have written for those elements.
    public static func fragment(pretty: Bool, depth: Int, capacity: Int = 1024) -> JSONWriter {
        var writer = JSONWriter(pretty: pretty, capacity: capacity)
        writer.depth = depth
        return writer
    }

    /// Appends the elements a `fragment` writer wrote, as if written here: into the innermost
    /// open array, which must be as deep as the fragment's. The fragment's bytes become pieces of
    /// this writer's (see `pieces`), not a copy.
    public mutating func splice(_ fragment: JSONWriter) {
        precondition(fragment.depth == depth && fragment.pretty == pretty, "a fragment written for another place")
        guard fragment.members > 0 else { return }
        // The fragment's first element has no separator of its own.
        if members > 0 { buffer.append(UInt8(ascii: ",")) }
        segments.append(buffer)
        segments += fragment.segments
        segments.append(fragment.buffer)
        buffer = []
        buffer.reserveCapacity(1024)
        members += fragment.members
    }

    /// `text` as a JSON string literal.
    public static func string(_ text: String) -> String {
        var writer = JSONWriter(capacity: text.utf8.count + 2)
        writer.writeString(text)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    // MARK: Values

    /// Writes an object whose members `body` writes.
    public mutating func object(_ body: (inout JSONWriter) -> Void) {
        container(UInt8(ascii: "{"), UInt8(ascii: "}"), body)
    }

    /// Writes an array whose elements `body` writes (with `element`).
    public mutating func array(_ body: (inout JSONWriter) -> Void) {
        container(UInt8(ascii: "["), UInt8(ascii: "]"), body)
    }

    /// Writes the next element of the innermost array.
    public mutating func element(_ text: String) {
        beginMember()
        writeString(text)
    }

    /// Writes the next element of the innermost array, which `body` writes as one value.
    public mutating func element(_ body: (inout JSONWriter) -> Void) {
        beginMember()
        body(&self)
    }

    /// Writes the next element of the innermost array: a whole number.
    public mutating func element<Number: BinaryInteger>(_ value: Number) {
        beginMember()
        writeInteger(value)
    }

    public mutating func element<Record: JSONRecord>(_ record: Record) {
        element { record.write(to: &$0) }
    }

    // MARK: Members of an object
    //
    // A member's key is a name of the schema: ASCII with no quote, backslash or control
    // character, written as it is. Keys that are data (a map's, holding interface names) go
    // through `object(named:)` and `field(named:)`, which escape them.

    /// Writes a member whose value is an object; `body` writes its members.
    public mutating func object(_ key: String, _ body: (inout JSONWriter) -> Void) {
        writeKey(key)
        object(body)
    }

    /// Writes a member whose value is an array; `body` writes its elements.
    public mutating func array(_ key: String, _ body: (inout JSONWriter) -> Void) {
        writeKey(key)
        array(body)
    }

    public mutating func field(_ key: String, _ value: String) {
        writeKey(key)
        writeString(value)
    }

    public mutating func field(_ key: String, _ value: Bool) {
        writeKey(key)
        if value {
            buffer.append(contentsOf: "true".utf8)
        } else {
            buffer.append(contentsOf: "false".utf8)
        }
    }

    public mutating func field<Number: BinaryInteger>(_ key: String, _ value: Number) {
        writeKey(key)
        writeInteger(value)
    }

    /// A time, as `Timestamp.format` writes it.
    public mutating func field(_ key: String, _ date: Date) {
        writeKey(key)
        buffer.append(UInt8(ascii: "\""))
        Timestamp.append(date, to: &buffer)
        buffer.append(UInt8(ascii: "\""))
    }

    public mutating func field(_ key: String, _ values: [String]) {
        array(key) { json in
            for value in values { json.element(value) }
        }
    }

    public mutating func field<Record: JSONRecord>(_ key: String, _ record: Record) {
        writeKey(key)
        record.write(to: &self)
    }

    // Members of a map, whose keys are data.

    /// Writes a member named `name` (escaped as any string) whose value is an object.
    public mutating func object(named name: String, _ body: (inout JSONWriter) -> Void) {
        writeMapKey(name)
        object(body)
    }

    /// Writes a member named `name` (escaped as any string) whose value is `record`.
    public mutating func field<Record: JSONRecord>(named name: String, _ record: Record) {
        writeMapKey(name)
        record.write(to: &self)
    }

    public mutating func field<Record: JSONRecord>(_ key: String, _ records: [Record]) {
        array(key) { json in
            for record in records { json.element(record) }
        }
    }

    // Optional members: a nil value leaves the key out.

    public mutating func field(_ key: String, _ value: String?) { if let value { field(key, value) } }
    public mutating func field(_ key: String, _ value: Bool?) { if let value { field(key, value) } }
    public mutating func field<Number: BinaryInteger>(_ key: String, _ value: Number?) { if let value { field(key, value) } }
    public mutating func field(_ key: String, _ date: Date?) { if let date { field(key, date) } }
    public mutating func field(_ key: String, _ values: [String]?) { if let values { field(key, values) } }
    public mutating func field<Record: JSONRecord>(_ key: String, _ record: Record?) { if let record { field(key, record) } }
    public mutating func field<Record: JSONRecord>(_ key: String, _ records: [Record]?) { if let records { field(key, records) } }

    // MARK: Bytes

    private mutating func container(_ opener: UInt8, _ closer: UInt8, _ body: (inout JSONWriter) -> Void) {
        buffer.append(opener)
        let outer = members
        members = 0
        depth += 1
        body(&self)
        depth -= 1
        if pretty, members > 0 { newline() }
        buffer.append(closer)
        members = outer
    }

    /// The separator before the next member of the innermost object or array, if one is open.
    private mutating func beginMember() {
        guard depth > 0 else { return }
        if members > 0 { buffer.append(UInt8(ascii: ",")) }
        members += 1
        if pretty { newline() }
    }

    private mutating func newline() {
        buffer.append(UInt8(ascii: "\n"))
        buffer.append(contentsOf: repeatElement(UInt8(ascii: " "), count: depth * 2))
    }

    /// A schema key, copied without looking for bytes to escape: there are none.
    private mutating func writeKey(_ key: String) {
        assert(!key.utf8.contains(where: Self.mustEscape), "a schema key that needs escaping: \(key)")
        beginMember()
        buffer.append(UInt8(ascii: "\""))
        buffer.append(contentsOf: key.utf8)
        buffer.append(UInt8(ascii: "\""))
        buffer.append(UInt8(ascii: ":"))
        if pretty { buffer.append(UInt8(ascii: " ")) }
    }

    /// A map's key, which holds data (a Linux interface name may hold a quote or a backslash).
    private mutating func writeMapKey(_ name: String) {
        beginMember()
        writeString(name)
        buffer.append(UInt8(ascii: ":"))
        if pretty { buffer.append(UInt8(ascii: " ")) }
    }

    private static func mustEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    private mutating func writeString(_ text: String) {
        buffer.append(UInt8(ascii: "\""))
        // Nearly every string (names, addresses, ids, evidence) needs no escape. It is copied
        // whole and then checked where it landed, which costs less than walking the String's
        // UTF-8 view first; the rare string that needs escapes is taken back out and rewritten.
        let start = buffer.count
        buffer.append(contentsOf: text.utf8)
        if needsEscape(from: start) {
            buffer.removeSubrange(start...)
            writeEscaped(text)
        }
        buffer.append(UInt8(ascii: "\""))
    }

    /// Writes `text`'s bytes, each one JSON does not allow in a string as its escape.
    private mutating func writeEscaped(_ text: String) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): buffer.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): buffer.append(contentsOf: #"\\"#.utf8)
            case UInt8(ascii: "\n"): buffer.append(contentsOf: #"\n"#.utf8)
            case UInt8(ascii: "\r"): buffer.append(contentsOf: #"\r"#.utf8)
            case UInt8(ascii: "\t"): buffer.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20:
                buffer.append(contentsOf: #"\u00"#.utf8)
                buffer.append(Self.hexDigit(byte >> 4))
                buffer.append(Self.hexDigit(byte & 0xf))
            default: buffer.append(byte)
            }
        }
    }

    /// Whether any byte written from `start` on must be escaped: a control character, the quote
    /// or the backslash. Every byte is looked at, without stopping at the first such one, so that
    /// the loop can test many bytes at a time.
    private func needsEscape(from start: Int) -> Bool {
        var found: UInt8 = 0
        for position in start..<buffer.count {
            let byte = buffer[position]
            found |= (byte < 0x20 ? 1 : 0) | (byte == UInt8(ascii: "\"") ? 1 : 0) | (byte == UInt8(ascii: "\\") ? 1 : 0)
        }
        return found != 0
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }

    /// Writes an integer's decimal digits, most significant first, without making a String.
    private mutating func writeInteger<Number: BinaryInteger>(_ value: Number) {
        if value < 0 { buffer.append(UInt8(ascii: "-")) }
        let magnitude = UInt64(value.magnitude)
        var divisor: UInt64 = 1
        while magnitude / divisor >= 10 { divisor *= 10 }
        while divisor > 0 {
            buffer.append(UInt8(ascii: "0") + UInt8(magnitude / divisor % 10))
            divisor /= 10
        }
    }
}
