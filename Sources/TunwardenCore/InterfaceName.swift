import Foundation

/// The one way tunwarden turns an interface name's bytes into text and back.
///
/// A Linux interface name is 1–15 arbitrary bytes (the kernel refuses only `/`, `:`, whitespace,
/// `.` and `..`), not necessarily UTF-8. tunwarden carries every name as the text this type makes,
/// which is *lossless*: `kernelBytes(_:)` gives back exactly the bytes `text(_:)` was given, for
/// every byte string. The text is also safe to print: it never holds a control character.
///
/// The rule, like `ls -b`:
/// - a backslash is written `\\`;
/// - every byte of a character that is not printable UTF-8 (a byte that is not valid UTF-8, a
///   control character such as ESC or BEL, a C1 control, a format character such as a
///   right-to-left override) is written `\xHH`, two lowercase hex digits;
/// - everything else is itself, unless the characters are not in canonical composed form (NFC):
///   then every byte that is not printable ASCII is written `\xHH`, so that no two names have
///   texts Swift takes as equal (`;` and U+037E, `é` and `e` + U+0301).
///
/// So `zz` followed by 0xff is `zz\xff`, while a name made of the six characters `zz\xff` is
/// `zz\\xff`. Equal texts mean equal bytes. Everywhere tunwarden acts on a name (attaching, protect
/// patterns, the journal's recreate commands) it uses `kernelBytes(_:)`, never the text's UTF-8.
public enum InterfaceName {
    /// The text for a name's bytes, as the kernel reports them. (The forms for arrays and their
    /// slices are what other modules call: a generic function is not specialised across modules,
    /// and tens of thousands of names go through here in one dump.)
    public static func text(_ bytes: [UInt8]) -> String { textOf(bytes) }
    public static func text(_ bytes: ArraySlice<UInt8>) -> String { textOf(bytes) }
    public static func text<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 { textOf(bytes) }

    private static func textOf<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        // Nearly every name is printable ASCII without a backslash: it is its own text.
        if bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7f && $0 != 0x5c }) {
            return String(decoding: bytes, as: UTF8.self)
        }
        let array = Array(bytes)
        var text = ""
        var position = 0
        while position < array.count {
            let byte = array[position]
            if byte == 0x5c {
                text += "\\\\"
                position += 1
                continue
            }
            let length = scalarLength(array, at: position)
            if length > 0 {
                let scalarBytes = array[position..<position + length]
                let scalar = String(decoding: scalarBytes, as: UTF8.self).unicodeScalars.first!
                if isPrintable(scalar) {
                    text.unicodeScalars.append(scalar)
                } else {
                    for b in scalarBytes { text += escape(b) }
                }
                position += length
            } else {
                text += escape(byte)
                position += 1
            }
        }
        // Swift compares text by canonical equivalence: `;` and U+037E GREEK QUESTION MARK, or a
        // precomposed `é` and `e` with a combining acute, are equal strings though their bytes
        // differ, and would be one key wherever names are. A text in canonical composed form
        // (NFC) equals only itself; any other is written with every non-ASCII byte escaped.
        if text.utf8.contains(where: { $0 >= 0x80 }), !text.unicodeScalars.elementsEqual(text.precomposedStringWithCanonicalMapping.unicodeScalars) {
            return asciiText(array)
        }
        return text
    }

    /// The text of `bytes` with every byte that is not printable ASCII escaped (`\xHH`) and a
    /// backslash written `\\`: the form for a name whose characters are not in canonical
    /// composed form.
    private static func asciiText(_ bytes: [UInt8]) -> String {
        var text = ""
        for byte in bytes {
            if byte == 0x5c {
                text += "\\\\"
            } else if byte >= 0x20 && byte < 0x7f {
                text.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                text += escape(byte)
            }
        }
        return text
    }

    /// Whether `name`, a text `text(_:)` made, is the text of these bytes; without making the
    /// text when the name has no escape (equal texts mean equal bytes, and such a text is its bytes).
    public static func isText(_ name: String, of bytes: ArraySlice<UInt8>) -> Bool {
        name.utf8.contains(0x5c) ? text(bytes) == name : name.utf8.elementsEqual(bytes)
    }

    /// The kernel's bytes for a name's text: the exact inverse of `text(_:)`.
    ///
    /// Text that `text(_:)` cannot have made (a lone backslash, `\x` without two hex digits) is
    /// taken literally, so a name typed by a person is never silently changed into another.
    public static func kernelBytes(_ name: String) -> [UInt8] {
        let utf8 = Array(name.utf8)
        guard utf8.contains(0x5c) else { return utf8 }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var position = 0
        while position < utf8.count {
            let byte = utf8[position]
            if byte == 0x5c, position + 1 < utf8.count {
                let next = utf8[position + 1]
                if next == 0x5c {
                    bytes.append(0x5c)
                    position += 2
                    continue
                }
                if next == UInt8(ascii: "x"), position + 3 < utf8.count,
                   let high = hexValue(utf8[position + 2]), let low = hexValue(utf8[position + 3]) {
                    bytes.append(high << 4 | low)
                    position += 4
                    continue
                }
            }
            bytes.append(byte)
            position += 1
        }
        return bytes
    }

    /// `text` with each character `escaping` picks written as its UTF-8 bytes in `\xHH`, as
    /// `text(_:)` writes a character that is not printable; every other character as it is (a
    /// backslash included: the text is not made to read back).
    public static func escaping(_ text: String, _ escaping: (Unicode.Scalar) -> Bool) -> String {
        guard text.unicodeScalars.contains(where: escaping) else { return text }
        var result = ""
        for scalar in text.unicodeScalars {
            if escaping(scalar) {
                for byte in String(scalar).utf8 { result += escape(byte) }
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// Whether the name's text is exactly its bytes read as UTF-8 (nothing needed escaping).
    public static func isPlain(_ name: String) -> Bool { !name.utf8.contains(0x5c) }

    /// The length of the valid UTF-8 sequence starting at `position`, or 0 when none starts there.
    static func scalarLength(_ bytes: [UInt8], at position: Int) -> Int {
        let first = bytes[position]
        let length: Int
        let minimum: UInt32
        switch first {
        case 0x00...0x7f: return 1
        case 0xc2...0xdf: length = 2; minimum = 0x80
        case 0xe0...0xef: length = 3; minimum = 0x800
        case 0xf0...0xf4: length = 4; minimum = 0x10000
        default: return 0
        }
        guard position + length <= bytes.count else { return 0 }
        var value = UInt32(first) & (0xff >> (length + 1))
        for offset in 1..<length {
            let next = bytes[position + offset]
            guard next & 0xc0 == 0x80 else { return 0 }
            value = value << 6 | UInt32(next & 0x3f)
        }
        // Overlong forms, surrogates and values past U+10FFFF are not valid UTF-8.
        guard value >= minimum, value <= 0x10ffff, !(0xd800...0xdfff).contains(value) else { return 0 }
        return length
    }

    /// Whether a character may be printed as itself: not a control, format, separator-control,
    /// private-use, surrogate or unassigned code point.
    public static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x20 || scalar.value == 0x7f { return false }
        if scalar.isASCII { return true }
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .privateUse, .surrogate, .unassigned:
            return false
        default:
            return true
        }
    }

    static func escape(_ byte: UInt8) -> String {
        let digits: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"]
        return "\\x" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0xf)])
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
