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

    /// The same bytes as `encode`, as consecutive pieces, so a large report is written out without
    /// being copied first.
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
