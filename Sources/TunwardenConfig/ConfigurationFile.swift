import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TunwardenCore
import Yams

/// Reading a configuration file: finding it, refusing what is not one, and checking every setting.
extension Configuration {
    /// An http(s) URL with a host, as alert webhooks take (from the file or the command line).
    public static func webhookURL(_ text: String) -> URL? {
        guard let url = URL(string: text), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else { return nil }
        return url
    }

    /// The file used when neither `--config` nor `TUNWARDEN_CONFIG` names one.
    public static let defaultPath = "/etc/tunwarden/tunwarden.conf"

    /// Reads the configuration: `explicitPath` (from `--config`), else `$TUNWARDEN_CONFIG`, else
    /// the default path. A file that was asked for must exist; the default file may be absent.
    public static func load(explicitPath: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Configuration {
        let requested = explicitPath ?? environment["TUNWARDEN_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        let path = requested ?? defaultPath
        guard FileManager.default.fileExists(atPath: path) else {
            if requested == nil { return .empty }
            throw ConfigError(path: path, line: nil, key: nil, problem: "no such file; give an existing file to --config (or TUNWARDEN_CONFIG)")
        }
        let data = try contents(of: path)
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(path: path, line: nil, key: nil, problem: "is not UTF-8 text")
        }
        return try parse(text, path: path)
    }

    /// The most a configuration file may hold. Real ones hold a few hundred bytes; the bound keeps
    /// a wrong path (a log, a disk image) from being read whole.
    public static let maximumSize = 1 << 20

    /// The bytes of the file at `path`, which must be a regular file of at most `maximumSize`
    /// bytes, or /dev/null (no settings). Anything else (a directory, /dev/zero, a FIFO with no
    /// writer, a terminal) is an error at once instead of a read that hangs or never ends.
    static func contents(of path: String) throws -> Data {
        func refuse(_ problem: String) -> ConfigError { ConfigError(path: path, line: nil, key: nil, problem: problem) }
        // Non-blocking, so that opening a FIFO does not wait for a writer; it is refused below.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw refuse("cannot be opened for reading (\(String(cString: strerror(errno)))); check its permissions") }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw refuse("cannot be read (\(String(cString: strerror(errno))))") }
        var null = stat()
        let isNull = status.st_mode & S_IFMT == S_IFCHR && stat("/dev/null", &null) == 0 && null.st_rdev == status.st_rdev
        guard status.st_mode & S_IFMT == S_IFREG || isNull else {
            let kinds = [S_IFDIR: "a directory", S_IFCHR: "a character device", S_IFBLK: "a block device", S_IFIFO: "a FIFO", S_IFSOCK: "a socket"]
            throw refuse("is \(kinds[status.st_mode & S_IFMT] ?? "not a regular file"), not a file of settings; give one (or /dev/null for none)")
        }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw refuse("cannot be read (\(String(cString: strerror(errno))))")
            }
            if count == 0 { return data }
            data.append(contentsOf: buffer.prefix(count))
            guard data.count <= maximumSize else {
                throw refuse("is larger than \(maximumSize >> 20) MiB, which is not a configuration file; check the path")
            }
        }
    }

    /// Parses and checks the text of a configuration file; `path` names it in errors.
    public static func parse(_ text: String, path: String) throws -> Configuration {
        try refuseAnchorsAndAliases(text, path: path)
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw syntaxError(error, path: path, text: text)
        }
        var configuration = Configuration(path: path)
        guard let root else { return configuration }
        guard case let .mapping(mapping) = root else {
            throw ConfigError(path: path, line: root.mark?.line, key: nil,
                              problem: "expected settings as 'key: value' lines (see the example in /usr/share/doc/tunwarden or README.md)")
        }
        for (name, node, line) in try pairs(of: mapping, path: path) {
            if let section = ConfigSection(rawValue: name), case let .mapping(inner) = node {
                var entries: [String: Entry] = [:]
                for (innerName, innerNode, innerLine) in try pairs(of: inner, path: path) {
                    let qualified = "\(section.rawValue).\(innerName)"
                    if let reason = ConfigKey.commandLineOnly[innerName] {
                        throw ConfigError(path: path, line: innerLine, key: qualified, problem: "cannot be set in the file: \(reason)")
                    }
                    guard let key = ConfigKey.all[innerName] else {
                        throw ConfigError(path: path, line: innerLine, key: qualified, problem: "unknown setting; \(section.rawValue) takes: \(ConfigKey.names(for: section))")
                    }
                    guard key.sections.contains(section) else {
                        throw ConfigError(path: path, line: innerLine, key: qualified,
                                          problem: "\(section.rawValue) has no such option; it belongs in \(key.sections.map { "'\($0.rawValue):'" }.sorted().joined(separator: " or "))")
                    }
                    entries[innerName] = Entry(value: try key.read(innerNode, section: section, path: path, line: innerLine, name: qualified), line: innerLine)
                }
                configuration.sections[section] = entries
                continue
            }
            if ConfigSection(rawValue: name) != nil, ConfigKey.all[name]?.topLevel != true {
                throw ConfigError(path: path, line: line, key: name, problem: "a section: indent its settings below it (for example '  min-age: 1h')")
            }
            if let reason = ConfigKey.commandLineOnly[name] {
                throw ConfigError(path: path, line: line, key: name, problem: "cannot be set in the file: \(reason)")
            }
            guard let key = ConfigKey.all[name] else {
                throw ConfigError(path: path, line: line, key: name, problem: "unknown setting; known settings: \(ConfigKey.names(for: nil))")
            }
            guard key.topLevel else {
                throw ConfigError(path: path, line: line, key: name,
                                  problem: "set it inside a command's section (\(key.sections.map { "'\($0.rawValue):'" }.sorted().joined(separator: " or ")))")
            }
            configuration.topLevel[name] = Entry(value: try key.read(node, section: nil, path: path, line: line, name: name), line: line)
        }
        return configuration
    }

    /// The key/value pairs of a mapping with their lines; keys must be plain text. (Yams has
    /// already refused duplicate keys.)
    static func pairs(of mapping: Node.Mapping, path: String) throws -> [(String, Node, Int)] {
        var result: [(String, Node, Int)] = []
        for (keyNode, value) in mapping {
            let line = keyNode.mark?.line ?? 0
            guard case let .scalar(scalar) = keyNode else {
                throw ConfigError(path: path, line: line, key: nil, problem: "a setting's name must be plain text")
            }
            result.append((scalar.string, value, line))
        }
        return result
    }

    /// The error for YAML that libyaml could not read, with its words for what it was doing.
    static func invalid(_ context: YamlError.Context?, _ problem: String, line: Int, path: String) -> ConfigError {
        let detail = [context.map { "\($0.text)" }, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
        return ConfigError(path: path, line: line, key: nil, problem: "not valid YAML (\(detail)); check the indentation and quoting near this line")
    }

    /// The line (from 1) to name for a YAML syntax error: the line that needs the fix, not the
    /// one where libyaml gave up. libyaml notices a missing ':', an unclosed quote or bracket only
    /// on a later line, or at the end of the file; its context mark (`startedAt`: the scanner's
    /// for a simple key or a quoted scalar, the parser's for a flow collection) is where the
    /// broken key, quote or bracket began. A line past the last one with content (the end of the file after
    /// blank lines) is taken back to that last line. A "mapping values are not allowed here" on
    /// a line whose previous line, at the same indentation, has no ':' at all names that previous
    /// line: `warn 5` above `limit: 3` is one multi-line scalar, and the missing ':' is the first
    /// line's.
    static func syntaxErrorLine(problem: String, at line: Int, startedAt: Int?, text: String) -> Int {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { String($0) }
        func hasContent(_ number: Int) -> Bool {
            guard number >= 1, number <= lines.count else { return false }
            let trimmed = lines[number - 1].drop { $0 == " " || $0 == "\t" }
            return !trimmed.isEmpty && !trimmed.hasPrefix("#") && trimmed != "\r"
        }
        func indentation(_ number: Int) -> Int { lines[number - 1].prefix { $0 == " " }.count }
        if let startedAt, startedAt >= 1 { return startedAt }
        let lastWithContent = (1...max(1, lines.count)).last(where: hasContent) ?? 1
        let named = max(1, min(line, lastWithContent))
        if problem.hasPrefix("mapping values are not allowed"),
           let previous = (1..<named).last(where: hasContent), indentation(previous) == indentation(named) {
            let previousText = lines[previous - 1].drop { $0 == " " }
            if !previousText.contains(":"), !previousText.hasPrefix("-") { return previous }
        }
        return named
    }

    static func syntaxError(_ error: YamlError, path: String, text: String) -> ConfigError {
        switch error {
        case let .duplicatedKeysInMapping(duplicates, _):
            // Yams names the key but not the lines: find where it is set.
            let key = duplicates.sorted().first ?? ""
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().compactMap { index, line -> Int? in
                let trimmed = line.drop { $0 == " " || $0 == "\t" }
                guard trimmed.hasPrefix(key) else { return nil }
                return trimmed.dropFirst(key.count).drop { $0 == " " || $0 == "\t" }.hasPrefix(":") ? index + 1 : nil
            }
            let problem = lines.count >= 2 ? "set twice (also on line \(lines[0])); keep one" : "set twice; keep one"
            return ConfigError(path: path, line: lines.count >= 2 ? lines[1] : nil, key: key, problem: problem)
        case let .scanner(context, problem, mark, _):
            // A key missing its ':' or an unclosed quote is found lines later: where it began is
            // the fix. (A plain scalar's context is where the value began, not the bad tab or
            // indentation the problem mark points at.)
            let began = context.flatMap { ["while scanning a simple key", "while scanning a quoted scalar"].contains($0.text) ? $0.mark.line : nil }
            return invalid(context, problem, line: syntaxErrorLine(problem: problem, at: mark.line, startedAt: began, text: text), path: path)
        case let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            // An unclosed [ or { is found where something else begins: the bracket is the fix.
            let opened = context.flatMap { $0.text.hasPrefix("while parsing a flow") ? $0.mark.line : nil }
            return invalid(context, problem, line: syntaxErrorLine(problem: problem, at: mark.line, startedAt: opened, text: text), path: path)
        case let .reader(problem, _, _, _):
            return ConfigError(path: path, line: nil, key: nil, problem: "cannot be read as text (\(problem))")
        default:
            return ConfigError(path: path, line: nil, key: nil, problem: "not valid YAML (\(error))")
        }
    }
}
