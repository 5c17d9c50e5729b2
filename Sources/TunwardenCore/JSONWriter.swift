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
        member(key, room: 5) { out in
            for byte in value ? Self.trueText : Self.falseText { out.append(byte) }
        }
    }

    public mutating func field<Number: BinaryInteger>(_ key: String, _ value: Number) {
        member(key, room: Self.integerRoom) { out in Self.append(value, to: &out) }
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
        member(key, room: 0) { _ in }
    }

    /// Writes a member: its separator, `key` (a schema key) and the value `value` writes, in at
    /// most `room` bytes.
    ///
    /// Compact output, the one written at volume, takes the key's bytes and the value in one
    /// reservation of the buffer, byte by byte: for the short strings keys and most values are,
    /// that costs a fraction of appending each piece to the array on its own.
    @inline(__always)
    private mutating func member(_ key: String, room: Int, _ value: (inout OutputSpan<UInt8>) -> Void) {
        assert(!key.utf8.contains(where: Self.mustEscape), "a schema key that needs escaping: \(key)")
        guard !pretty else {
            beginMember()
            buffer.append(UInt8(ascii: "\""))
            buffer.append(contentsOf: key.utf8)
            buffer.append(contentsOf: #"": "#.utf8)
            buffer.append(addingCapacity: room, initializingWith: value)
            return
        }
        let separated = depth > 0 && members > 0
        if depth > 0 { members += 1 }
        let key = key.utf8Span.span
        buffer.append(addingCapacity: key.count + 4 + room) { out in
            if separated { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            for position in key.indices { out.append(key[position]) }
            out.append(UInt8(ascii: "\""))
            out.append(UInt8(ascii: ":"))
            value(&out)
        }
    }

    private static let trueText: [UInt8] = Array("true".utf8)
    private static let falseText: [UInt8] = Array("false".utf8)

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
        // Nearly every string (names, addresses, ids, evidence) needs no escape. A short one is
        // copied a byte at a time into room reserved once, and looked at on the way; a long one
        // is looked at first, then copied whole. The rare string that needs escapes is written
        // again, escaped.
        let bytes = text.utf8Span.span
        var found = false
        if bytes.count <= Self.shortString {
            let start = buffer.count
            buffer.append(addingCapacity: bytes.count + 2) { out in
                out.append(UInt8(ascii: "\""))
                var escapes: UInt8 = 0
                for position in bytes.indices {
                    escapes |= Self.escapeBit(bytes[position])
                    out.append(bytes[position])
                }
                out.append(UInt8(ascii: "\""))
                found = escapes != 0
            }
            guard found else { return }
            buffer.removeSubrange(start...)
        } else {
            var escapes: UInt8 = 0
            for position in bytes.indices { escapes |= Self.escapeBit(bytes[position]) }
            found = escapes != 0
        }
        buffer.append(UInt8(ascii: "\""))
        if found { writeEscaped(text) } else { buffer.append(contentsOf: text.utf8) }
        buffer.append(UInt8(ascii: "\""))
    }

    /// The longest string copied a byte at a time: longer ones are copied whole.
    private static let shortString = 32

    /// 1 for a byte JSON does not allow in a string as it is, 0 otherwise; branch-free, so a
    /// loop over many bytes can test several at once.
    @inline(__always)
    private static func escapeBit(_ byte: UInt8) -> UInt8 {
        (byte < 0x20 ? 1 : 0) | (byte == UInt8(ascii: "\"") ? 1 : 0) | (byte == UInt8(ascii: "\\") ? 1 : 0)
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

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }

    /// The most bytes an integer takes: a sign and the 20 digits of `UInt64.max`.
    private static let integerRoom = 21

    /// Appends an integer's decimal digits, most significant first, without making a String.
    private static func append<Number: BinaryInteger>(_ value: Number, to out: inout OutputSpan<UInt8>) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        let magnitude = UInt64(value.magnitude)
        var divisor: UInt64 = 1
        while magnitude / divisor >= 10 { divisor *= 10 }
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(magnitude / divisor % 10))
            divisor /= 10
        }
    }
}
