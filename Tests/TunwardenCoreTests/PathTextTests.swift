import Testing
import TunwardenCore

/// `PathText` splits paths at slashes by hand, for every shape of slashes: the shapes that made
/// Foundation trap (`///l//`, `a///b//`) and random mixes of slashes, letters, dots and
/// non-ASCII text agree with a model of what the parts are, and never crash.
@Suite struct PathTextTests {
    @Test func examples() {
        let cases: [(String, last: String, directory: String)] = [
            ("/sbin/ifconfig", "ifconfig", "/sbin"), ("ifconfig", "ifconfig", ""), ("/journal.jsonl", "journal.jsonl", "/"),
            ("/var/lib/tunwarden/", "tunwarden", "/var/lib"), ("///l//", "l", "/"), ("a///b//", "b", "a"),
            ("file:///l//", "l", "file:"), ("x///l//", "l", "x"), ("/", "/", "/"), ("///", "/", "/"), ("", "", ""),
            ("a//", "a", ""), ("./state", "state", "."), ("é/ü", "ü", "é"),
        ]
        for (path, last, directory) in cases {
            #expect(PathText.lastComponent(path) == last, "\(path)")
            #expect(PathText.directory(of: path) == directory, "\(path)")
        }
        #expect(PathText.joined("/var/lib", "x") == "/var/lib/x")
        #expect(PathText.joined("/", "x") == "/x")
        #expect(PathText.joined("", "x") == "x")
        #expect(PathText.joined("a///b//", "ifconfig.txt") == "a///b//ifconfig.txt")
    }

    /// The model: the components are the non-empty runs between slashes.
    static func model(_ path: String) -> (last: String, directory: String) {
        let components = path.split(separator: "/").map(String.init)
        guard let last = components.last else { return (path.isEmpty ? "" : "/", path.isEmpty ? "" : "/") }
        let absolute = path.hasPrefix("/")
        let above = components.dropLast()
        let directory = above.isEmpty ? (absolute ? "/" : "") : (absolute ? "/" : "") + above.joined(separator: "/")
        return (last, directory)
    }

    @Test func randomShapesAgreeWithTheModel() {
        var generator = SystemRandomNumberGenerator()
        let pieces = ["/", "/", "//", "l", "a", ".", "..", "file:", "é", "~", " "]
        for _ in 0..<20_000 {
            let path = (0..<Int.random(in: 0...9, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            let expected = Self.model(path)
            #expect(PathText.lastComponent(path) == expected.last, "\(path)")
            // Runs of slashes inside the directory are kept as typed; compared without them.
            let directory = PathText.directory(of: path)
            #expect(directory.split(separator: "/") == expected.directory.split(separator: "/"), "\(path)")
            #expect(directory.hasPrefix("/") == expected.directory.hasPrefix("/"), "\(path)")
            #expect(PathText.lastComponent(Substring(path)) == expected.last)
        }
    }
}
