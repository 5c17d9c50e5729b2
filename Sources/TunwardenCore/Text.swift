/// Sentences put together tens of thousands of times per audit (an orphan's evidence names its
/// device, ifindex and the holder scan): joined into a string sized once, with one copy per
/// piece, where interpolation grows its buffer as it goes.
enum Text {
    /// The pieces one after the other, as `pieces.joined()` gives them.
    static func join(_ pieces: String...) -> String {
        var total = 0
        for piece in pieces { total += piece.utf8.count }
        var text = ""
        text.reserveCapacity(total)
        for piece in pieces { text += piece }
        return text
    }
}
