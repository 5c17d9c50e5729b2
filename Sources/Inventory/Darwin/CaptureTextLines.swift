/// The words of one line of a capture, as the readers that look at a whole line (a prose line
/// naming a cut command, the line a `date` printed on) take them.
extension CaptureText {
    /// The first word of the line word `position` is on, at `lower` at the earliest.
    func lineStart(of position: Int, notBefore lower: Int) -> Int {
        var at = position
        while at > lower, line(at - 1) == line(position) { at -= 1 }
        return at
    }

    /// The words of the line word `position` is on, within `range`, at most `limit` of them from
    /// its start.
    func lineWords(at position: Int, within range: Range<Int>, limit: Int) -> [String] {
        var at = lineStart(of: position, notBefore: range.lowerBound)
        var words: [String] = []
        while at < range.upperBound, line(at) == line(position), words.count < limit {
            words.append(String(self[at]))
            at += 1
        }
        return words
    }
}
