/// The parts of a path, read from its bytes: `/` separates components, and nothing else is
/// interpreted (no `~`, no `file:` URLs, no `.` or `..`).
///
/// These stand in for Foundation's `lastPathComponent` and `deletingLastPathComponent`, which
/// trap on some shapes of slashes (`///l//`, `a///b//`) and so must never see a word from a paste
/// or a path from the command line. They never trap, whatever the text, and take time linear in
/// its length.
public enum PathText {
    private static let slash = UInt8(ascii: "/")

    /// The last component of `path`: `ifconfig` for `/sbin/ifconfig`, `b` for `a///b//`. A path
    /// of nothing but slashes is `/`; an empty path is empty.
    public static func lastComponent(_ path: some StringProtocol) -> String {
        let bytes = Array(path.utf8)
        guard let end = bytes.lastIndex(where: { $0 != slash }) else { return bytes.isEmpty ? "" : "/" }
        let start = bytes[...end].lastIndex(of: slash).map { $0 + 1 } ?? 0
        return String(decoding: bytes[start...end], as: UTF8.self)
    }

    /// The directory that holds the last component of `path`: `/var/lib` for
    /// `/var/lib/tunwarden/`, `/` for `/journal.jsonl`, `a` for `a///b//`, and an empty string
    /// for a name without a slash (the current directory). A path of nothing but slashes is `/`.
    public static func directory(of path: some StringProtocol) -> String {
        let bytes = Array(path.utf8)
        guard let end = bytes.lastIndex(where: { $0 != slash }) else { return bytes.isEmpty ? "" : "/" }
        guard let separator = bytes[...end].lastIndex(of: slash) else { return "" }
        guard let kept = bytes[...separator].lastIndex(where: { $0 != slash }) else { return "/" }
        return String(decoding: bytes[...kept], as: UTF8.self)
    }

    /// `name` inside `directory`, joined by one slash (`directory` alone when `name` is empty,
    /// `name` alone when `directory` is).
    public static func joined(_ directory: some StringProtocol, _ name: some StringProtocol) -> String {
        if directory.isEmpty { return String(name) }
        if name.isEmpty { return String(directory) }
        return directory.hasSuffix("/") ? "\(directory)\(name)" : "\(directory)/\(name)"
    }
}
