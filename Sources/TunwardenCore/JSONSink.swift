import Foundation

/// Where JSON text is written, byte by byte into memory it owns: it keeps the nesting of objects
/// and arrays it is in, so that members get their commas and, when pretty, their indents, and
/// strings are escaped as they are copied in.
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

    init(pretty: Bool, capacity: Int, direct: Bool = true) {
        self.pretty = pretty
        self.direct = direct
        state = .allocate(capacity: 1)
        state.initialize(to: State(bytes: RawVector(capacity: capacity)))
    }

    /// About how many bytes one interface entry of a report takes, for sizing buffers up front.
    static func entryBytes(pretty: Bool) -> Int { pretty ? 1200 : 700 }

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
