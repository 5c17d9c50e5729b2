import Foundation

/// A piece of JSON text in memory the writer allocated, handed on without being copied into an
/// array (a report on tens of thousands of interfaces is megabytes). Freed with the last reference.
public final class JSONSegment: @unchecked Sendable {
    private let base: UnsafeMutablePointer<UInt8>
    /// The number of bytes.
    public let count: Int

    init(taking bytes: inout RawVector<UInt8>, replacementCapacity: Int) {
        (base, count) = bytes.takeStorage(replacementCapacity: replacementCapacity)
    }

    /// Reads the bytes in place.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// The bytes of `segments`, one after the other, in one array.
    public static func joined(_ segments: [JSONSegment]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(segments.reduce(0) { $0 + $1.count })
        for segment in segments { segment.withUnsafeBytes { bytes.append(contentsOf: $0) } }
        return bytes
    }

    deinit { base.deallocate() }
}

/// A streaming JSON encoder for tunwarden's reports.
///
/// It writes bytes as `encode(to:)` runs, in the order the values encode themselves, so the
/// `Encodable` conformances remain the one definition of the schema while output stays fast and
/// small for reports of tens of thousands of interfaces (Foundation's `JSONEncoder` builds an
/// intermediate tree first). Keys come out in declaration order.
///
/// Limits, which the report types respect: a value opens at most one container, and nested
/// containers (`nestedContainer`, `superEncoder`) are not supported.
public enum JSONWriter {
    /// Encodes `value` as JSON text; `pretty` indents with two spaces, one member per line.
    /// `capacity` is a hint of the output size, to avoid regrowing a large buffer.
    public static func encode<T: Encodable>(_ value: T, pretty: Bool = false, capacity: Int = 64 * 1024) throws -> [UInt8] {
        JSONSegment.joined(try encodeSegments(value, pretty: pretty, capacity: capacity))
    }

    /// The same bytes as `encode`, as consecutive pieces: concurrently encoded arrays stay in the
    /// buffers their threads wrote, so a large report is written out without being copied first.
    public static func encodeSegments<T: Encodable>(_ value: T, pretty: Bool = false, capacity: Int = 64 * 1024) throws -> [JSONSegment] {
        let sink = JSONSink(pretty: pretty, capacity: capacity)
        try sink.encodeValue(value)
        return sink.takeSegments()
    }

    /// The same bytes as `encode`, but with every value encoding itself through the Encoder
    /// containers, never the direct writers some records use for speed: the reference those
    /// writers are tested against.
    static func encodeThroughContainers<T: Encodable>(_ value: T, pretty: Bool = false) throws -> [UInt8] {
        let sink = JSONSink(pretty: pretty, capacity: 4096, direct: false)
        try sink.encodeValue(value)
        return sink.result
    }

    /// `text` as a JSON string literal.
    public static func string(_ text: String) -> String {
        let sink = JSONSink(pretty: false, capacity: text.utf8.count + 2)
        sink.writeString(text)
        return String(decoding: sink.result, as: UTF8.self)
    }
}

/// An array whose elements the streaming writer may encode on several threads at once when there
/// are many; the bytes are the same as a serial encoding. Other encoders see a plain array.
///
/// The elements may also be made one at a time as they are written (`count` and `element`), so
/// a large array need never exist whole.
public struct ConcurrentlyEncodedArray<Element: Encodable & Sendable>: Encodable, Sendable {
    public let count: Int
    let element: @Sendable (Int) -> Element
    /// Members already written (see `PrewrittenMembers`); used only by tunwarden's own writer in
    /// the same style.
    var prewritten: PrewrittenMembers?

    public init(_ elements: [Element]) {
        count = elements.count
        element = { elements[$0] }
    }

    public init(count: Int, element: @escaping @Sendable (Int) -> Element) {
        self.count = count
        self.element = element
    }

    /// `prewritten` holds some elements as they would be written, made earlier (only tunwarden's
    /// own writer can take them over; any other encoder encodes every element).
    init(count: Int, prewritten: PrewrittenMembers?, element: @escaping @Sendable (Int) -> Element) {
        self.count = count
        self.element = element
        self.prewritten = prewritten
    }

    /// `prewritten` as for `init(count:prewritten:element:)`.
    init(_ elements: [Element], prewritten: PrewrittenMembers?) {
        self.init(count: elements.count, prewritten: prewritten) { elements[$0] }
    }

    public func encode(to encoder: any Encoder) throws {
        if let stream = encoder as? StreamEncoder {
            var pieces: [ArrayPiece] = [.elements(0..<count)]
            if let prewritten, prewritten.pretty == stream.sink.pretty, stream.sink.direct, prewritten.covers(count) {
                pieces = prewritten.pieces
            }
            try stream.sink.writeArrayConcurrently(pieces: pieces, element: element)
            return
        }
        var container = encoder.unkeyedContainer()
        for position in 0..<count { try container.encode(element(position)) }
    }
}

/// One stretch of an array being written: elements (by position) already written elsewhere, or
/// elements still to encode.
enum ArrayPiece {
    /// The bytes of the elements at `elements`, written as members of an array at the depth the
    /// array is written at, the first member without a leading separator.
    case written([JSONSegment], elements: Range<Int>)
    case elements(Range<Int>)

    var elements: Range<Int> {
        switch self {
        case let .written(_, elements): elements
        case let .elements(elements): elements
        }
    }
}

/// Members of an array written ahead of time (while the inventory was still reading, see
/// `EarlyJudging`), in one style, and the stretches between them still to encode.
struct PrewrittenMembers {
    var pretty: Bool
    var pieces: [ArrayPiece]

    /// These pieces followed by the elements after them up to `count`, still to encode.
    func followed(upTo count: Int) -> PrewrittenMembers {
        let end = pieces.last?.elements.upperBound ?? 0
        guard end < count else { return self }
        return PrewrittenMembers(pretty: pretty, pieces: pieces + [.elements(end..<count)])
    }

    /// How many elements the pieces hold already written.
    var writtenCount: Int {
        pieces.reduce(0) { total, piece in
            if case let .written(_, elements) = piece { return total + elements.count }
            return total
        }
    }

    /// Whether the pieces name every element of an array of `count`, once each, in order: only then
    /// do they stand for it.
    func covers(_ count: Int) -> Bool {
        var next = 0
        for piece in pieces {
            guard piece.elements.lowerBound == next else { return false }
            next = piece.elements.upperBound
        }
        return next == count
    }
}

final class JSONSink {
    struct Frame {
        var closer: UInt8
        var count = 0
    }

    struct State {
        /// Finished pieces of output, before `bytes`.
        var finished: [JSONSegment] = []
        var bytes: RawVector<UInt8>
        var stack = RawVector<Frame>(capacity: 16)
    }

    // The mutable state sits behind a `let` pointer: mutating a class's `var` properties costs a
    // dynamic exclusivity check on every access, which dominated the cost of writing large reports.
    // The sink is used by one encoding on one thread, so no access can overlap.
    private let state: UnsafeMutablePointer<State>
    let pretty: Bool
    /// Whether records may write themselves directly (see `key(_:)`); off only for the reference
    /// encoding tests compare them with.
    let direct: Bool

    /// `depth` open containers are assumed around what this sink writes (for a chunk of a larger
    /// array: its indentation, and whether its first member needs a leading comma).
    init(pretty: Bool, capacity: Int, depth: Int = 0, continuing: Bool = false, direct: Bool = true) {
        self.pretty = pretty
        self.direct = direct
        state = .allocate(capacity: 1)
        state.initialize(to: State(bytes: RawVector(capacity: capacity)))
        for level in 0..<depth { state.pointee.stack.append(Frame(closer: 0, count: level == depth - 1 && continuing ? 1 : 0)) }
    }

    /// About how many bytes one interface entry of a report takes, for sizing buffers up front.
    static func entryBytes(pretty: Bool) -> Int { pretty ? 1200 : 700 }

    /// Below this many elements an array is encoded on the calling thread.
    static let concurrencyThreshold = 2048

    /// Writes an array from its pieces in order: members written earlier are taken over as
    /// segments of their own, uncopied; elements still to encode are encoded here, in chunks on
    /// separate threads when there are many.
    func writeArrayConcurrently<Element: Encodable>(pieces: [ArrayPiece], element: @Sendable (Int) -> Element) throws {
        openArray()
        for piece in pieces {
            switch piece {
            case let .written(segments, elements):
                guard !elements.isEmpty else { continue }
                if state.pointee.stack.last.count > 0 { state.pointee.bytes.append(UInt8(ascii: ",")) }
                finishSegment()
                state.pointee.finished += segments
                state.pointee.stack.last.count += elements.count
            case let .elements(elements):
                try writeMembers(elements, element: element)
            }
        }
        close()
    }

    /// Writes the elements at `positions` as the next members of the innermost array.
    private func writeMembers<Element: Encodable>(_ positions: Range<Int>, element: @Sendable (Int) -> Element) throws {
        let chunks = Chunked.count(of: positions.count, maxChunks: 4, minimum: Self.concurrencyThreshold)
        if chunks == 1 {
            for position in positions {
                beginMember()
                try encodeValue(element(position))
            }
            return
        }
        let depth = state.pointee.stack.count
        let pretty = self.pretty
        let direct = self.direct
        let before = state.pointee.stack.last.count
        let encoded = Chunked.map(positions.count, chunks: chunks, empty: Result<[JSONSegment], any Error>.success([])) { chunk in
            let range = (chunk.lowerBound + positions.lowerBound)..<(chunk.upperBound + positions.lowerBound)
            let sink = JSONSink(pretty: pretty, capacity: range.count * Self.entryBytes(pretty: pretty), depth: depth,
                                continuing: before + chunk.lowerBound > 0, direct: direct)
            return Result {
                for position in range {
                    sink.beginMember()
                    try sink.encodeValue(element(position))
                }
                return sink.takeSegments()
            }
        }
        // The chunks become segments of their own, uncopied; writing resumes in a fresh buffer.
        finishSegment()
        for chunk in encoded { state.pointee.finished += try chunk.get() }
        state.pointee.stack.last.count = before + positions.count
    }

    deinit {
        state.pointee.bytes.free()
        state.pointee.stack.free()
        state.deinitialize(count: 1)
        state.deallocate()
    }

    /// Everything written, in pieces.
    /// Ends the current segment: what was written so far becomes a segment of its own (its
    /// buffer handed over, not copied) and writing goes on in a fresh buffer.
    private func finishSegment(replacementCapacity: Int = 64 * 1024) {
        guard !state.pointee.bytes.isEmpty else { return }
        state.pointee.finished.append(JSONSegment(taking: &state.pointee.bytes, replacementCapacity: replacementCapacity))
    }

    /// Large output goes on in new buffers rather than regrown ones: a buffer of at least
    /// `minimumSegment` bytes with less than `memberSlack` to spare is ended before the next
    /// member, and one of `segmentCapacity` bytes takes over. A report of tens of thousands of
    /// entries is thus written without copying (a doubling buffer copies, and faults in, each
    /// byte about twice).
    static let segmentCapacity = 512 * 1024
    static let memberSlack = 8 * 1024
    static let minimumSegment = 32 * 1024

    /// Everything written, in pieces, handed over (the sink is left empty).
    func takeSegments() -> [JSONSegment] {
        finishSegment()
        defer { state.pointee.finished = [] }
        return state.pointee.finished
    }

    /// Everything written, in one buffer.
    var result: [UInt8] {
        state.pointee.finished.isEmpty ? state.pointee.bytes.array() : JSONSegment.joined(state.pointee.finished) + state.pointee.bytes.array()
    }
    /// Members written so far in the innermost container.
    var memberCount: Int { state.pointee.stack.isEmpty ? 0 : state.pointee.stack.last.count }

    func newlineAndIndent(_ depth: Int) {
        state.pointee.bytes.append(UInt8(ascii: "\n"))
        for _ in 0..<(depth * 2) { state.pointee.bytes.append(UInt8(ascii: " ")) }
    }

    /// Writes the separator before the next member of the innermost container.
    func beginMember() {
        guard !state.pointee.stack.isEmpty else { return }
        if state.pointee.bytes.spareCapacity < Self.memberSlack, state.pointee.bytes.count >= Self.minimumSegment {
            finishSegment(replacementCapacity: Self.segmentCapacity)
        }
        if state.pointee.stack.last.count > 0 { state.pointee.bytes.append(UInt8(ascii: ",")) }
        state.pointee.stack.last.count += 1
        if pretty { newlineAndIndent(state.pointee.stack.count) }
    }

    private func open(_ opener: UInt8, _ closer: UInt8) {
        state.pointee.bytes.append(opener)
        state.pointee.stack.append(Frame(closer: closer))
    }

    func close() {
        let frame = state.pointee.stack.removeLast()
        if pretty, frame.count > 0 { newlineAndIndent(state.pointee.stack.count) }
        state.pointee.bytes.append(frame.closer)
    }

    /// Keys are escaped like any string: besides the schema's names they are dictionary keys,
    /// which hold interface names, and a Linux interface name may contain a quote or a backslash.
    func writeKey(_ key: String) {
        beginMember()
        writeString(key)
        state.pointee.bytes.append(UInt8(ascii: ":"))
        if pretty { state.pointee.bytes.append(UInt8(ascii: " ")) }
    }

    func writeString(_ text: String) {
        // Most strings (names, addresses, ids, evidence) need no escaping: checked a word at a
        // time and copied whole, quotes included, after one check for room.
        let copied = text.utf8.withContiguousStorageIfAvailable { utf8 -> Bool in
            guard !JSONEscaping.needed(in: utf8) else { return false }
            let out = state.pointee.bytes.tail(reserving: utf8.count + 2)
            out[0] = UInt8(ascii: "\"")
            if let source = utf8.baseAddress { (out + 1).update(from: source, count: utf8.count) }
            out[utf8.count + 1] = UInt8(ascii: "\"")
            state.pointee.bytes.commit(utf8.count + 2)
            return true
        }
        if copied == true { return }
        state.pointee.bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): appendEscape(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): appendEscape(UInt8(ascii: "\\"))
            case UInt8(ascii: "\n"): appendEscape(UInt8(ascii: "n"))
            case UInt8(ascii: "\r"): appendEscape(UInt8(ascii: "r"))
            case UInt8(ascii: "\t"): appendEscape(UInt8(ascii: "t"))
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                appendUTF8("\\u00")
                state.pointee.bytes.append(hex[Int(byte >> 4)])
                state.pointee.bytes.append(hex[Int(byte & 0xf)])
            default: state.pointee.bytes.append(byte)
            }
        }
        state.pointee.bytes.append(UInt8(ascii: "\""))
    }

    func writeRaw(_ text: String) { appendUTF8(text) }

    /// Appends a string's UTF-8 bytes.
    private func appendUTF8(_ text: String) {
        var text = text
        text.withUTF8 { state.pointee.bytes.append(contentsOf: $0) }
    }

    /// Appends a backslash and `byte`.
    private func appendEscape(_ byte: UInt8) {
        state.pointee.bytes.append(UInt8(ascii: "\\"))
        state.pointee.bytes.append(byte)
    }

    /// Writes an integer's decimal digits without an intermediate String.
    func writeInteger<T: BinaryInteger>(_ value: T) {
        if value == 0 {
            state.pointee.bytes.append(UInt8(ascii: "0"))
            return
        }
        var magnitude = value.magnitude
        if value < 0 { state.pointee.bytes.append(UInt8(ascii: "-")) }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            while magnitude > 0 {
                buffer[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            }
            for i in stride(from: count - 1, through: 0, by: -1) { state.pointee.bytes.append(buffer[i]) }
        }
    }

    /// Encodes one value in place; closes the container it opened, if any.
    func encodeValue<T: Encodable>(_ value: T) throws {
        // Scalars arrive through the containers' concrete overloads; anything else encodes itself.
        let depth = state.pointee.stack.count
        let start = state.pointee.bytes.count
        try value.encode(to: StreamEncoder(sink: self))
        while state.pointee.stack.count > depth { close() }
        if state.pointee.bytes.count == start { writeRaw("{}") }
    }

    func openObject() { open(UInt8(ascii: "{"), UInt8(ascii: "}")) }
    func openArray() { open(UInt8(ascii: "["), UInt8(ascii: "]")) }

    // MARK: direct writing
    //
    // The records written tens of thousands of times per report (an interface entry, a finding)
    // write themselves through these, without the Encoder protocol's boxes and generic calls.
    // They produce exactly the bytes the Encodable path would; tests compare the two.

    /// Starts a member named by a schema key (ASCII, needing no escapes).
    func key(_ name: StaticString) {
        beginMember()
        let length = name.utf8CodeUnitCount
        let out = state.pointee.bytes.tail(reserving: length + 4)
        out[0] = UInt8(ascii: "\"")
        (out + 1).update(from: name.utf8Start, count: length)
        out[length + 1] = UInt8(ascii: "\"")
        out[length + 2] = UInt8(ascii: ":")
        out[length + 3] = UInt8(ascii: " ")
        state.pointee.bytes.commit(pretty ? length + 4 : length + 3)
    }

    func field(_ name: StaticString, _ value: String) { key(name); writeString(value) }
    func field(_ name: StaticString, _ value: Bool) { key(name); writeRaw(value ? "true" : "false") }
    func field<T: BinaryInteger>(_ name: StaticString, _ value: T) { key(name); writeInteger(value) }
    func field(_ name: StaticString, ifPresent value: String?) { if let value { field(name, value) } }
    func field(_ name: StaticString, ifPresent value: Bool?) { if let value { field(name, value) } }
    func field<T: BinaryInteger>(_ name: StaticString, ifPresent value: T?) { if let value { field(name, value) } }

    /// A date as `Timestamp.format` gives it, written straight into the output.
    func field(_ name: StaticString, timestamp date: Date) {
        key(name)
        let out = state.pointee.bytes.tail(reserving: Timestamp.length + 2)
        guard Timestamp.write(date, to: out + 1) else {
            writeString(Timestamp.format(date))
            return
        }
        out[0] = UInt8(ascii: "\"")
        out[Timestamp.length + 1] = UInt8(ascii: "\"")
        state.pointee.bytes.commit(Timestamp.length + 2)
    }

    func field(_ name: StaticString, ifPresent date: Date?) { if let date { field(name, timestamp: date) } }

    /// An array of strings, as `[String]` encodes.
    func field(_ name: StaticString, strings: [String]) {
        key(name)
        openArray()
        for string in strings {
            beginMember()
            writeString(string)
        }
        close()
    }

    /// An array of records that write themselves directly.
    func field<T: DirectlyWritten>(_ name: StaticString, records: [T]) {
        key(name)
        openArray()
        for record in records {
            beginMember()
            record.write(to: self)
        }
        close()
    }

    /// An array of values that encode themselves; an empty one costs no encoder.
    func field<T: Encodable>(_ name: StaticString, array: [T]) throws {
        key(name)
        openArray()
        for element in array {
            beginMember()
            try encodeValue(element)
        }
        close()
    }
}

struct StreamEncoder: Encoder {
    let sink: JSONSink
    /// The sink, when the value may write itself into it directly.
    var directSink: JSONSink? { sink.direct ? sink : nil }
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        sink.openObject()
        return KeyedEncodingContainer(KeyedStream<Key>(sink: sink))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        sink.openArray()
        return UnkeyedStream(sink: sink)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleStream(sink: sink) }
}

struct KeyedStream<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let sink: JSONSink
    var codingPath: [any CodingKey] { [] }

    mutating func encodeNil(forKey key: Key) throws {
        sink.writeKey(key.stringValue)
        sink.writeRaw("null")
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        sink.writeKey(key.stringValue)
        try sink.encodeValue(value)
    }

    // The concrete overloads the synthesized conformances call, so no runtime cast is needed.
    mutating func encode(_ value: String, forKey key: Key) throws {
        sink.writeKey(key.stringValue)
        sink.writeString(value)
    }

    mutating func encode(_ value: Bool, forKey key: Key) throws {
        sink.writeKey(key.stringValue)
        sink.writeRaw(value ? "true" : "false")
    }

    mutating func encode(_ value: Int, forKey key: Key) throws { sink.writeKey(key.stringValue); sink.writeInteger(value) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { sink.writeKey(key.stringValue); sink.writeInteger(value) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { sink.writeKey(key.stringValue); sink.writeInteger(value) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { sink.writeKey(key.stringValue); sink.writeInteger(value) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { sink.writeKey(key.stringValue); sink.writeInteger(value) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { sink.writeKey(key.stringValue); sink.writeInteger(value) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { sink.writeKey(key.stringValue); sink.writeInteger(value) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        preconditionFailure("JSONWriter does not support nested containers")
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        preconditionFailure("JSONWriter does not support nested containers")
    }

    mutating func superEncoder() -> any Encoder { preconditionFailure("JSONWriter does not support superEncoder") }
    mutating func superEncoder(forKey key: Key) -> any Encoder { preconditionFailure("JSONWriter does not support superEncoder") }
}

struct UnkeyedStream: UnkeyedEncodingContainer {
    let sink: JSONSink
    var codingPath: [any CodingKey] { [] }
    var count: Int { sink.memberCount }

    mutating func encodeNil() throws {
        sink.beginMember()
        sink.writeRaw("null")
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        sink.beginMember()
        try sink.encodeValue(value)
    }

    mutating func encode(_ value: String) throws {
        sink.beginMember()
        sink.writeString(value)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        preconditionFailure("JSONWriter does not support nested containers")
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        preconditionFailure("JSONWriter does not support nested containers")
    }

    mutating func superEncoder() -> any Encoder { preconditionFailure("JSONWriter does not support superEncoder") }
}

struct SingleStream: SingleValueEncodingContainer {
    let sink: JSONSink
    var codingPath: [any CodingKey] { [] }

    mutating func encodeNil() throws { sink.writeRaw("null") }
    mutating func encode(_ value: Bool) throws { sink.writeRaw(value ? "true" : "false") }
    mutating func encode(_ value: String) throws { sink.writeString(value) }

    mutating func encode(_ value: Double) throws {
        guard value.isFinite else { throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "JSON has no \(value)")) }
        sink.writeRaw("\(value)")
    }

    mutating func encode(_ value: Float) throws { try encode(Double(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws { try sink.encodeValue(value) }
    mutating func encode(_ value: Int) throws { sink.writeInteger(value) }
    mutating func encode(_ value: Int8) throws { sink.writeInteger(value) }
    mutating func encode(_ value: Int16) throws { sink.writeInteger(value) }
    mutating func encode(_ value: Int32) throws { sink.writeInteger(value) }
    mutating func encode(_ value: Int64) throws { sink.writeInteger(value) }
    mutating func encode(_ value: UInt) throws { sink.writeInteger(value) }
    mutating func encode(_ value: UInt8) throws { sink.writeInteger(value) }
    mutating func encode(_ value: UInt16) throws { sink.writeInteger(value) }
    mutating func encode(_ value: UInt32) throws { sink.writeInteger(value) }
    mutating func encode(_ value: UInt64) throws { sink.writeInteger(value) }
}

/// A growable run of plain values in memory the writer owns and frees (`free()`): appending costs
/// a bounds check, with none of an array's copy-on-write checks, which dominated writing reports of
/// tens of thousands of interfaces a byte at a time.
struct RawVector<Element: BitwiseCopyable> {
    private(set) var base: UnsafeMutablePointer<Element>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    var isEmpty: Bool { count == 0 }
    /// How many more elements fit before the storage must grow.
    var spareCapacity: Int { capacity - count }

    private mutating func grow(toHold needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let grown = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        grown.update(from: base, count: count)
        base.deallocate()
        base = grown
        capacity = newCapacity
    }

    mutating func append(_ element: Element) {
        if count == capacity { grow(toHold: count + 1) }
        base[count] = element
        count += 1
    }

    mutating func append(contentsOf elements: UnsafeBufferPointer<Element>) {
        guard let source = elements.baseAddress, elements.count > 0 else { return }
        if count + elements.count > capacity { grow(toHold: count + elements.count) }
        (base + count).update(from: source, count: elements.count)
        count += elements.count
    }

    /// Makes room for `count` more elements and returns where they go, for the caller to
    /// initialize (up to `count` of them) and then `commit`.
    mutating func tail(reserving count: Int) -> UnsafeMutablePointer<Element> {
        if self.count + count > capacity { grow(toHold: self.count + count) }
        return base + self.count
    }

    /// Takes the first `count` elements written after `tail(reserving:)` into the vector.
    mutating func commit(_ count: Int) {
        self.count += count
    }

    /// The last element; the vector must not be empty.
    var last: Element {
        get { base[count - 1] }
        set { base[count - 1] = newValue }
    }

    @discardableResult
    mutating func removeLast() -> Element {
        count -= 1
        return base[count]
    }

    /// Hands the storage over (its first `count` elements are the contents) and starts afresh
    /// with an empty buffer of `capacity`.
    mutating func takeStorage(replacementCapacity capacity: Int) -> (base: UnsafeMutablePointer<Element>, count: Int) {
        let taken = (base, count)
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
        count = 0
        return taken
    }

    /// A copy of the elements as an array.
    func array() -> [Element] { Array(UnsafeBufferPointer(start: base, count: count)) }

    /// Releases the memory; the vector must not be used afterwards.
    func free() { base.deallocate() }
}

/// Which bytes a JSON string cannot hold as they are: control characters, the quote and the
/// backslash (RFC 8259, section 7).
enum JSONEscaping {
    /// Whether any byte of `bytes` must be escaped. Eight bytes are tested at a time with word
    /// arithmetic (the "has a zero byte" and "has a byte less than n" tests), which is exact:
    /// it never misses such a byte and never reports one that is not there.
    static func needed(in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let count = bytes.count
        var offset = 0
        while offset + 8 <= count {
            let word = UnsafeRawPointer(base + offset).loadUnaligned(as: UInt64.self)
            let control = (word &- ones &* 0x20) & ~word
            let quote = word ^ (ones &* 0x22)
            let backslash = word ^ (ones &* 0x5C)
            if (control | ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash)) & highs != 0 { return true }
            offset += 8
        }
        while offset < count {
            if needsEscape(base[offset]) { return true }
            offset += 1
        }
        return false
    }

    /// Whether one byte must be escaped: the definition the word test is checked against.
    static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }
}

/// A record a report holds many of (an interface's addresses, routes and holders), which writes
/// its members straight into tunwarden's writer instead of through the Encoder containers. The
/// bytes are the ones its `encode(to:)` gives; the direct-writing tests compare the two.
protocol DirectlyWritten {
    func write(to sink: JSONSink)
}

extension InterfaceAddress: DirectlyWritten {
    func write(to sink: JSONSink) {
        sink.openObject()
        sink.field("family", family.rawValue)
        sink.field("local", local.description)
        sink.field("prefixlen", prefixLength)
        sink.field("address", ifPresent: peer?.description)
        sink.field("broadcast", ifPresent: broadcast?.description)
        sink.field("scope", scope)
        sink.field("label", ifPresent: label)
        if !flags.isEmpty { sink.field("flags", strings: flags) }
        sink.field("metric", ifPresent: metric)
        sink.field("valid_life_time", ifPresent: validLifetime)
        sink.field("preferred_life_time", ifPresent: preferredLifetime)
        sink.close()
    }
}

extension NextHop: DirectlyWritten {
    func write(to sink: JSONSink) {
        sink.openObject()
        sink.field("gateway", ifPresent: gateway?.description)
        sink.field("ifindex", ifPresent: interfaceIndex)
        sink.field("dev", ifPresent: interfaceName)
        sink.close()
    }
}

extension Route: DirectlyWritten {
    func write(to sink: JSONSink) {
        sink.openObject()
        sink.field("dst", destination.description)
        sink.field("type", type.name)
        sink.field("table", table.name)
        sink.field("metric", ifPresent: metric)
        sink.field("protocol", ifPresent: routeProtocol?.name)
        sink.field("scope", ifPresent: scope?.name)
        sink.field("nexthops", records: nextHops)
        sink.field("nhid", ifPresent: nexthopObject)
        sink.close()
    }
}

extension TrafficCounters: DirectlyWritten {
    func write(to sink: JSONSink) {
        sink.openObject()
        sink.field("rx_packets", rxPackets)
        sink.field("tx_packets", txPackets)
        sink.field("rx_bytes", rxBytes)
        sink.field("tx_bytes", txBytes)
        sink.close()
    }
}

extension Holder: DirectlyWritten {
    func write(to sink: JSONSink) {
        sink.openObject()
        sink.field("pid", pid)
        sink.field("comm", comm)
        sink.field("uid", ifPresent: uid)
        sink.field("fd", ifPresent: fd)
        sink.field("netns", ifPresent: netns)
        sink.close()
    }
}
