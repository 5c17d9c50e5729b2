import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TunwardenCore

/// Reading a capture's files into what they hold: a capture directory's `ifconfig.txt`,
/// `netstat.txt`, `lsof.txt` and `ps.txt` (or, without those, any text files in it), one file
/// of pasted output, standard input, or the raw outputs the live backend runs. A file too large
/// to be a listing, or a capture with nothing readable in it, is refused; what a directory lacks
/// is named, by what it would have told.
extension CapturedInventory {
    /// What to give `--from` instead of a capture it cannot use: the commands `snapshot` runs,
    /// `ifconfig -a -v` among them (`-v` adds the `agent` lines that name the VPN behind a utun).
    static let whatToPaste = "Capture with `tunwarden snapshot DIR` on the Mac, or paste the output of `ifconfig -a -v`, `netstat -rn`, `sudo lsof -nP` and `ps -axww -o pid,comm` run there"

    /// How errors name the capture at `path`: standard input as `standard input`, never `-`.
    static func label(_ path: String) -> String {
        path == standardInput ? "standard input" : path
    }

    /// The files of a capture directory, with the tool each is expected to hold.
    static let directoryFiles: [(name: String, tool: ShellCommand.Tool)] = [
        ("ifconfig.txt", .ifconfig), ("netstat.txt", .netstat), ("lsof.txt", .lsof), ("ps.txt", .ps),
    ]

    public func snapshot() throws -> Snapshot {
        var isDirectory: ObjCBool = false
        guard path == Self.standardInput || FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw InventoryError("\(path) does not exist; --from takes a capture directory (ifconfig.txt, netstat.txt, lsof.txt, ps.txt) or one file of pasted output")
        }
        var contents = CaptureContents()
        // The capture directory's files there, each with whether it is blank.
        var present: [String: Bool] = [:]
        // A TextEdit RTFD bundle (what TextEdit saves once the document holds an image, a pasted
        // screenshot): a directory whose text is its `TXT.rtf`, read as the one file it is.
        if isDirectory.boolValue, PathText.lastComponent(path).lowercased().hasSuffix(".rtfd") {
            let name = PathText.lastComponent(path)
            guard FileManager.default.fileExists(atPath: PathText.joined(path, "TXT.rtf")) else {
                throw InventoryError("\(path) is a TextEdit RTFD bundle without its TXT.rtf: nothing to read; save the document as RTF or plain text, or paste its text into a .txt file")
            }
            let text = try Self.load(PathText.joined(path, "TXT.rtf"), as: "\(name)/TXT.rtf")
            guard !text.isEmpty else { throw InventoryError("\(path)/TXT.rtf: the capture is empty (nothing but blank space in it): nothing to judge") }
            contents.notes.append("\(name): a TextEdit RTFD bundle, read from its TXT.rtf (its images are not read)")
            CaptureReader.read(text, expecting: nil, into: &contents)
        } else if isDirectory.boolValue {
            let named = Self.directoryFiles.filter { FileManager.default.fileExists(atPath: PathText.joined(path, $0.name)) }
            let (free, skipped) = Self.freeFiles(path)
            if !skipped.isEmpty {
                contents.notes.append("\(PathText.lastComponent(path)): \(skipped.joined(separator: ", ")) left out: macOS's AppleDouble companions (`._NAME`, the metadata a copy to a FAT, exFAT or SMB volume writes beside each file), no capture")
            }
            if named.isEmpty {
                // Any other text files: pasted output, read by shape.
                let names = free
                guard !names.isEmpty else {
                    // (A document in it is named: it is read when given as the file.)
                    let documents = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
                        .filter { name in !name.hasPrefix(".") && [".rtf", ".rtfd", ".md", ".markdown", ".text"].contains { name.lowercased().hasSuffix($0) } }
                    // An unzipped snapshot keeps its folder (`X/tw-snap/ps.txt`, beside a
                    // `__MACOSX/` of AppleDouble files): the capture is one level down.
                    let nested = Self.nestedCaptures(path)
                    if !nested.isEmpty {
                        throw InventoryError("\(path) holds no capture itself, but \(nested.joined(separator: " and ")) \(nested.count == 1 ? "does" : "do"): use --from \(nested[0])")
                    }
                    if !documents.isEmpty {
                        throw InventoryError("\(path) holds none of ifconfig.txt, netstat.txt, lsof.txt, ps.txt, nor any .txt file, but \(documents.joined(separator: ", ")): a document is read when given itself, one at a time (`--from \(PathText.joined(path, documents[0]))`)")
                    }
                    throw InventoryError("\(path) holds none of ifconfig.txt, netstat.txt, lsof.txt, ps.txt, nor any .txt file; capture them with `tunwarden snapshot DIR` on the Mac (or by hand: ifconfig -a -v, netstat -rn, sudo lsof -nP, ps -axww -o pid,comm)")
                }
                let order = Self.fileOrder(names)
                contents.notes.append("\(PathText.lastComponent(path)): \(order.note)")
                contents.unorderedFiles = order.ordered == nil
                for name in order.ordered ?? names {
                    let text = try Self.load(PathText.joined(path, name), as: name)
                    CaptureReader.read(text, expecting: nil, into: &contents)
                }
            } else {
                // Other pastes beside the snapshot's files: those that hold tool output may be
                // older or newer than the snapshot, which nothing tells; the snapshot's four are
                // then one moment and each of them another, none later than another (see
                // `CapturedInventory.fileOrder`), so that nothing they contradict is planned.
                let others = free.filter { name in !Self.directoryFiles.contains { $0.name == name } }
                var withOutput: [(name: String, text: CaptureText)] = []
                var without: [String] = []
                for name in others {
                    let text = try Self.load(PathText.joined(path, name), as: name)
                    if CaptureReader.read(text, expecting: nil).readSomething { withOutput.append((name, text)) } else { without.append(name) }
                }
                let directory = PathText.lastComponent(path)
                if !without.isEmpty {
                    contents.notes.append("\(directory): \(without.joined(separator: ", ")) not read beside the snapshot's files: \(without.count == 1 ? "it holds" : "they hold") no ifconfig, netstat, lsof or ps output")
                }
                if !withOutput.isEmpty {
                    let list = withOutput.map(\.name).joined(separator: ", ")
                    contents.notes.append("\(directory): the snapshot's files (\(named.map(\.name).joined(separator: ", "))) are read as one moment and \(list) each as a moment of its own, none later than another: nothing says whether \(withOutput.count == 1 ? "it was" : "they were") taken before or after the snapshot, so a judgement they contradict is unknown and nothing is planned for it")
                    contents.unorderedFiles = true
                    contents.momentGroup = "the snapshot (\(named.map(\.name).joined(separator: ", ")))"
                }
                for (index, (name, tool)) in named.enumerated() {
                    let text = try Self.load(PathText.joined(path, name), as: name)
                    present[name] = text.isEmpty
                    contents.continuesMoment = contents.unorderedFiles && index > 0
                    CaptureReader.read(text, expecting: tool, into: &contents)
                }
                (contents.momentGroup, contents.continuesMoment) = (nil, false)
                for other in withOutput {
                    CaptureReader.read(other.text, expecting: nil, into: &contents)
                }
            }
        } else {
            let fromInput = path == Self.standardInput
            let name = fromInput ? "standard input" : PathText.lastComponent(path)
            let text = fromInput ? try Self.read(FileHandle.standardInput, path: name, as: name) : try Self.load(path, as: name)
            // An empty file (`pbpaste > cap.txt` with nothing copied) is no capture: refused as
            // one that holds nothing readable is, so that neither an audit nor a reap passes.
            guard !text.isEmpty else {
                throw InventoryError("\(Self.label(path)): the capture is empty (nothing but blank space in it): nothing to judge. \(Self.whatToPaste)")
            }
            CaptureReader.read(text, expecting: Self.directoryFiles.first { $0.name == name }?.tool, into: &contents)
        }
        if !contents.readSomething, !contents.isBlank {
            // Linux output and nothing of a Mac's: refused as what it is (another machine's
            // listing beside a Mac's is set aside, and the Mac's judged).
            if !contents.macOutputSeen, let linux = contents.linuxListings.first {
                let named = isDirectory.boolValue && !PathText.lastComponent(path).lowercased().hasSuffix(".rtfd") ? PathText.joined(path, linux.file) : Self.label(path)
                throw Self.linuxRefusal(named, listing: linux.listing)
            }
            let aside = contents.linuxListings.first.map { " (\($0.listing) at \($0.place) is another machine's, and set aside)" } ?? ""
            throw InventoryError("\(Self.label(path)): nothing tunwarden can read: no ifconfig, netstat -r, lsof or ps output in it\(aside) (it starts '\(contents.firstWords)'). \(Self.whatToPaste)")
        }
        var snapshot = Self.snapshot(from: contents, label: path)
        if !present.isEmpty {
            snapshot.missingSources = Self.missingFiles(present, snapshot: snapshot)
        }
        return snapshot
    }

    /// The text files of a capture directory that may hold pastes (`.txt`, `.log`, `.out`), by
    /// name, and the AppleDouble companions (`._NAME`) left out: binary metadata macOS writes
    /// beside each file copied to a volume without extended attributes, never a capture. Other
    /// hidden files (`.after.txt`) may hold output, and are read.
    static func freeFiles(_ path: String) -> (names: [String], skipped: [String]) {
        let all = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
            .filter { [".txt", ".log", ".out"].contains(where: $0.hasSuffix) }
        return (all.filter { !$0.hasPrefix("._") }, all.filter { $0.hasPrefix("._") })
    }

    /// The directories right under `path` that hold a capture (a snapshot's files, or pastes),
    /// leaving out macOS's `__MACOSX` folder of AppleDouble companions and hidden ones.
    static func nestedCaptures(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().filter { name in
            var isDirectory: ObjCBool = false
            let inner = PathText.joined(path, name)
            guard !name.hasPrefix("."), name != "__MACOSX", FileManager.default.fileExists(atPath: inner, isDirectory: &isDirectory),
                  isDirectory.boolValue else { return false }
            return directoryFiles.contains { FileManager.default.fileExists(atPath: PathText.joined(inner, $0.name)) } || !freeFiles(inner).names.isEmpty
        }.map { PathText.joined(path, $0) }
    }

    /// What a capture directory lacks, by file: a missing one by what it would have told (when
    /// that matters, see `missingText`), an empty one as empty. `present` maps each file there to
    /// whether it is blank.
    static func missingFiles(_ present: [String: Bool], snapshot: Snapshot) -> [String] {
        directoryFiles.compactMap { file -> String? in
            guard let isBlank = present[file.name] else { return missingText(file.tool, snapshot: snapshot, file: file.name) }
            return isBlank ? "\(file.name) (empty)" : nil
        }
    }

    /// Reads one capture file, refusing one too large to be a listing and anything that is not a
    /// regular file. A FIFO, a socket or a device would block the read, or never end it (a FIFO
    /// without a writer, `/dev/zero`): it is refused at once, before a byte is read. The file is
    /// opened without blocking, so that even a FIFO put in its place after the check cannot hang
    /// the open. Piped output is read from standard input (`--from -`).
    static func load(_ path: String, as name: String) throws -> CaptureText {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw InventoryError("\(path) cannot be read (\(String(cString: strerror(errno))))") }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw InventoryError("\(path) cannot be read (\(String(cString: strerror(errno))))") }
        switch status.st_mode & S_IFMT {
        case S_IFREG:
            return try read(handle, path: path, as: name)
        case S_IFDIR:
            throw InventoryError("\(path) is a directory, not a capture file: give the directory that holds it, or put the tool's output in a file of that name")
        case let type:
            let kinds = [S_IFIFO: "a FIFO", S_IFCHR: "a character device", S_IFBLK: "a block device", S_IFSOCK: "a socket"]
            throw InventoryError("\(path) is \(kinds[type] ?? "not a regular file"), not a capture file: a capture is read from regular files; give piped output on standard input (--from -)")
        }
    }

    /// Reads one capture from `handle` (a file, or standard input), refusing one too large to be
    /// a listing; `path` names it in errors.
    static func read(_ handle: FileHandle, path: String, as name: String) throws -> CaptureText {
        let data: Data
        do {
            data = try handle.read(upToCount: maximumFileSize + 1) ?? Data()
        } catch {
            throw InventoryError("\(path) cannot be read: \((error as NSError).localizedFailureReason ?? String(describing: error))")
        }
        guard data.count <= maximumFileSize else {
            throw InventoryError("\(path) is larger than \(maximumFileSize >> 20) MiB, far beyond any real ifconfig, netstat, lsof or ps listing; trim it to the listings")
        }
        return CaptureText(file: name, data: data)
    }

    /// Turns raw outputs (the live system's, or a test's) into a snapshot. `whole` says each
    /// output is the tool's complete, unfiltered listing, as the live backend runs them.
    public static func build(ifconfig: String?, netstat: String?, lsof: String?, ps: String?, directory: String = "",
                             takenAt: Date = Date(), whole: Bool = false) throws -> Snapshot {
        var contents = CaptureContents()
        var present: [String: Bool] = [:]
        for (file, output) in zip(directoryFiles, [ifconfig, netstat, lsof, ps]) {
            guard let output else { continue }
            let text = CaptureText(file: file.name, text: output)
            present[file.name] = text.isEmpty
            CaptureReader.read(text, expecting: file.tool, into: &contents)
        }
        if whole {
            contents.interfacesComplete = contents.ifconfigSeen
            contents.completeInterfaceMoments = contents.ifconfigSeen ? [contents.moment] : []
            contents.routeListings = contents.netstatSeen ? [([.inet, .inet6], nil)] : []
            if lsof != nil { contents.lsofSeen = true; contents.lsofWhole = true; contents.lsofLimits = [] }
            if ps != nil {
                contents.psSeen = true
                contents.processListings = [(contents.moment, nil)]
            }
        }
        var snapshot = snapshot(from: contents, label: directory, takenAt: takenAt)
        snapshot.missingSources = missingFiles(present, snapshot: snapshot)
        return snapshot
    }

    /// What a missing source would have told, when it would have told anything: lsof matters only
    /// for utuns (who holds them), ps only for feth pairs (whether their owner runs).
    static func missingText(_ tool: ShellCommand.Tool, snapshot: Snapshot, file: String) -> String? {
        switch tool {
        case .ifconfig: return "\(file) (interfaces)"
        case .netstat: return "\(file) (routes)"
        case .lsof: return snapshot.interfaces.contains { $0.kind == .utun } ? "\(file) (utun holders)" : nil
        case .ps: return snapshot.interfaces.contains { $0.kind == .feth } || !snapshot.holders.attachments.isEmpty ? "\(file) (running processes)" : nil
        default: return nil
        }
    }
}

extension CaptureReader {
    /// The files (and the clipboard, `(clipboard)`) a command line shows: every file `cat`, `bat`,
    /// `head`, `tail`, `less` or `more` names, those of the capture's saved files a `grep`, `awk`,
    /// `sed` or `sort` names (its other words are patterns), and the clipboard for `pbpaste`.
    static func shownFiles(_ command: ShellCommand, saved: [String: Int]) -> [String] {
        guard command.tool == .other else { return [] }
        switch PathText.lastComponent(command.name) {
        case "cat", "bat", "head", "tail", "less", "more": return command.arguments.filter { !$0.hasPrefix("-") }
        case "grep", "egrep", "fgrep", "rg", "awk", "sed", "sort": return command.arguments.filter { saved[$0] != nil }
        case "pbpaste": return [ShellCommand.clipboard]
        default: return []
        }
    }
}
