import Foundation

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
