import Foundation

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
