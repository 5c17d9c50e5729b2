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
        let sink = JSONSink(pretty: pretty, capacity: capacity)
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

final class JSONSink {
    struct Frame {
        var closer: UInt8
        var count = 0
    }

    // Private, so the optimizer can see every access and drop dynamic exclusivity checks.
    private var bytes: [UInt8] = []
    private var stack: [Frame] = []
    private let pretty: Bool

    init(pretty: Bool, capacity: Int) {
        self.pretty = pretty
        bytes.reserveCapacity(capacity)
    }

    var result: [UInt8] { bytes }
    /// Members written so far in the innermost container.
    var memberCount: Int { stack.last?.count ?? 0 }

    func newlineAndIndent(_ depth: Int) {
        bytes.append(UInt8(ascii: "\n"))
        bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: depth * 2))
    }

    /// Writes the separator before the next member of the innermost container.
    func beginMember() {
        guard !stack.isEmpty else { return }
        if stack[stack.count - 1].count > 0 { bytes.append(UInt8(ascii: ",")) }
        stack[stack.count - 1].count += 1
        if pretty { newlineAndIndent(stack.count) }
    }

    private func open(_ opener: UInt8, _ closer: UInt8) {
        bytes.append(opener)
        stack.append(Frame(closer: closer))
    }

    func close() {
        let frame = stack.removeLast()
        if pretty, frame.count > 0 { newlineAndIndent(stack.count) }
        bytes.append(frame.closer)
    }

    /// Keys are the schema's own ASCII names: they are written without an escape scan.
    func writeKey(_ key: String) {
        beginMember()
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: key.utf8)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        if pretty { bytes.append(UInt8(ascii: " ")) }
    }

    func writeString(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        // Most strings (names, addresses, ids) need no escaping: copy them whole.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            bytes.append(contentsOf: text.utf8)
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: Array("\\u00".utf8))
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0xf)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    func writeRaw(_ text: String) { bytes.append(contentsOf: text.utf8) }

    /// Writes an integer's decimal digits without an intermediate String.
    func writeInteger<T: BinaryInteger>(_ value: T) {
        if value == 0 {
            bytes.append(UInt8(ascii: "0"))
            return
        }
        var magnitude = value.magnitude
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            while magnitude > 0 {
                buffer[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            }
            for i in stride(from: count - 1, through: 0, by: -1) { bytes.append(buffer[i]) }
        }
    }

    /// Encodes one value in place; closes the container it opened, if any.
    func encodeValue<T: Encodable>(_ value: T) throws {
        switch value {
        case let string as String: writeString(string)
        case let bool as Bool: writeRaw(bool ? "true" : "false")
        case let int as Int: writeInteger(int)
        default:
            let depth = stack.count
            let start = bytes.count
            try value.encode(to: StreamEncoder(sink: self))
            while stack.count > depth { close() }
            if bytes.count == start { writeRaw("{}") }
        }
    }

    func openObject() { open(UInt8(ascii: "{"), UInt8(ascii: "}")) }
    func openArray() { open(UInt8(ascii: "["), UInt8(ascii: "]")) }
}

struct StreamEncoder: Encoder {
    let sink: JSONSink
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
