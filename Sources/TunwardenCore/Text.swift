/// Sentences put together tens of thousands of times per audit (an orphan's evidence names its
/// device, ifindex and the holder scan): joined with one allocation and one copy per piece.
/// String interpolation builds the same text through a growing buffer and cost about 5,000
/// instructions per orphan; this costs about 1,700, most of them the String's own check that the
/// bytes are UTF-8.
enum Text {
    /// The pieces one after the other, as `pieces.joined()` gives them.
    static func join(_ pieces: String...) -> String {
        var total = 0
        for piece in pieces { total += piece.utf8.count }
        return String(unsafeUninitializedCapacity: total) { buffer in
            var offset = 0
            for var piece in pieces {
                piece.withUTF8 { utf8 in
                    guard let source = utf8.baseAddress, let target = buffer.baseAddress else { return }
                    (target + offset).update(from: source, count: utf8.count)
                    offset += utf8.count
                }
            }
            return offset
        }
    }
}
