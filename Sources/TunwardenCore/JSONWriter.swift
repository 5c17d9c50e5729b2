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
