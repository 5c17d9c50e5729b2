/// Walks the netlink attributes (`struct nlattr`: length, type, payload, padding) in a byte range.
///
/// Use it like an iterator: `while decoder.next() { switch decoder.type { … } }`. Typed readers
/// check the payload's size; a wrong size or a truncated attribute records the first error and the
/// walk stops. Check `error` (or call `finish()`) once at the end. Nothing here can trap on input.
public struct AttributeDecoder {
    /// The kernel ORs these into `nla_type`; they are masked off `type`.
    static let nestedFlag: UInt16 = 0x8000
    static let byteOrderFlag: UInt16 = 0x4000

    private let bytes: ArraySlice<UInt8>
    private var offset: Int
    /// The current attribute's type, without the nested and byte-order flag bits.
    public private(set) var type: UInt16 = 0
    /// Where the current attribute's payload lies in `bytes`. Kept as positions rather than as a
    /// slice: stepping through a link's fifty-odd attributes then costs no reference counting.
    private var dataRange: Range<Int> = 0..<0
    /// The current attribute's payload, without padding.
    public var data: ArraySlice<UInt8> { bytes[dataRange] }
    /// The first error met, by the walk itself or by a typed reader.
    public private(set) var error: NetlinkError?
    /// Whether `error` is set: one byte to test per step, where the optional error is several words.
    private var failed = false

    public init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.offset = bytes.startIndex
    }

    /// Moves to the next attribute. Returns false at the end or after an error.
    public mutating func next() -> Bool {
        guard !failed else { return false }
        let remaining = bytes.endIndex - offset
        // Fewer bytes than an attribute header can only be padding.
        guard remaining >= 4 else { return false }
        // The header (u16 nla_len, u16 nla_type) in one read: a link carries fifty-odd attributes.
        let at = offset - bytes.startIndex
        let (length16, rawType) = bytes.withUnsafeBytes { raw in
            (raw.loadUnaligned(fromByteOffset: at, as: UInt16.self), raw.loadUnaligned(fromByteOffset: at + 2, as: UInt16.self))
        }
        let length = Int(length16)
        guard length >= 4 else {
            fail(.malformed("attribute length \(length) is shorter than its header"))
            return false
        }
        guard length <= remaining else {
            fail(.truncated(what: "attribute of type \(rawType & 0x3fff)", need: length, have: remaining))
            return false
        }
        type = rawType & ~(Self.nestedFlag | Self.byteOrderFlag)
        dataRange = (offset + 4)..<(offset + length)
        offset += min(align4(length), remaining)
        return true
    }

    /// Records `error` unless one is already recorded.
    public mutating func fail(_ error: NetlinkError) {
        if self.error == nil { self.error = error }
        failed = true
    }

    private mutating func fixed<T: FixedWidthInteger>(_: T.Type, _ name: String) -> T {
        guard dataRange.count == MemoryLayout<T>.size else {
            fail(.malformed("attribute \(type) should hold a \(name) (\(MemoryLayout<T>.size) bytes) but holds \(dataRange.count) bytes"))
            return 0
        }
        return bytes.readNative(T.self, at: dataRange.lowerBound)
    }

    public mutating func uint8() -> UInt8 { fixed(UInt8.self, "u8") }
    public mutating func uint16() -> UInt16 { fixed(UInt16.self, "u16") }
    public mutating func uint32() -> UInt32 { fixed(UInt32.self, "u32") }
    public mutating func int32() -> Int32 { fixed(Int32.self, "s32") }
    public mutating func uint64() -> UInt64 { fixed(UInt64.self, "u64") }

    /// The payload as a string, up to its first NUL. Invalid UTF-8 is repaired, never fatal:
    /// interface names are bytes to the kernel.
    public mutating func string() -> String {
        let range = dataRange
        return bytes.withUnsafeBufferPointer { buffer in
            let start = range.lowerBound - bytes.startIndex
            let payload = UnsafeBufferPointer(rebasing: buffer[start..<(start + range.count)])
            let end = payload.firstIndex(of: 0) ?? payload.endIndex
            return String(decoding: UnsafeBufferPointer(rebasing: payload[..<end]), as: UTF8.self)
        }
    }

    /// The payload's bytes up to its first NUL, exactly as sent: interface names are bytes to the
    /// kernel, not necessarily UTF-8.
    public func bytesUpToNUL() -> [UInt8] { Array(data.prefix { $0 != 0 }) }

    /// The payload bytes.
    public var rawBytes: [UInt8] { Array(data) }

    /// Walks the current attribute's payload as nested attributes. An error inside becomes this
    /// decoder's error too, so one check at the end covers the whole tree.
    public mutating func nested(_ body: (inout AttributeDecoder) -> Void) {
        var inner = AttributeDecoder(data)
        body(&inner)
        if let innerError = inner.error { fail(innerError) }
    }

    /// Throws the first error met, if any.
    public func finish() throws(NetlinkError) {
        if let error { throw error }
    }
}

/// Appends netlink attributes to a byte buffer, with the kernel's 4-byte alignment.
public struct AttributeEncoder {
    public private(set) var bytes: [UInt8] = []

    public init(prefix: [UInt8] = []) {
        bytes = prefix
        bytes.padTo4()
    }

    public mutating func append(type: UInt16, payload: [UInt8]) {
        bytes.appendNative(UInt16(4 + payload.count))
        bytes.appendNative(type)
        bytes.append(contentsOf: payload)
        bytes.padTo4()
    }

    public mutating func append(type: UInt16, uint8 value: UInt8) { append(type: type, payload: [value]) }

    public mutating func append(type: UInt16, uint32 value: UInt32) {
        var payload: [UInt8] = []
        payload.appendNative(value)
        append(type: type, payload: payload)
    }

    public mutating func append(type: UInt16, int32 value: Int32) { append(type: type, uint32: UInt32(bitPattern: value)) }

    /// A NUL-terminated string, as the kernel expects for names.
    public mutating func append(type: UInt16, string: String) { append(type: type, payload: Array(string.utf8) + [0]) }

    /// A nested attribute whose payload the closure writes.
    public mutating func appendNested(type: UInt16, _ body: (inout AttributeEncoder) -> Void) {
        var inner = AttributeEncoder()
        body(&inner)
        append(type: type | AttributeDecoder.nestedFlag, payload: inner.bytes)
    }
}
