import Foundation
import TunwardenCore

/// Reading `lsof` output: the utun control sockets, and which processes a listing covers.
extension Section {
    static func isLsofHeader(_ text: CaptureText, _ position: Int) -> Bool {
        position + 3 < text.count && text[position] == "COMMAND" && text[position + 1] == "PID" && text[position + 2] == "USER" && text[position + 3] == "FD"
    }

    func isUtunSocket(_ position: Int) -> Bool {
        text[position] == "[ctl" && position + 1 < range.upperBound && text[position + 1] == "com.apple.net.utun_control"
    }

    static let lsofTypes: Set<String> = ["DIR", "REG", "CHR", "PIPE", "unix", "IPv4", "IPv6", "KQUEUE", "systm", "NPOLICY", "FSEVENT",
                                         "PSXSHM", "PSXSEM", "ndrv", "key", "NEXUS", "CHAN", "ATALK", "LINK", "FIFO", "unknown", "0000"]

    /// COMMAND PID USER FD TYPE: an lsof row.
    func lsofRowStart(_ position: Int) -> Bool {
        guard position + 4 < range.upperBound, let pid = Int(text[position + 1]), pid >= 0 else { return false }
        return Self.lsofTypes.contains(String(text[position + 4]))
    }

    mutating func readLsof(from start: Int, into contents: inout CaptureContents) -> Int {
        var position = start
        let end = range.upperBound
        if Self.isLsofHeader(text, position) {
            lsofHeaderSeen = true
            position += 4
            while position < end, ["TYPE", "DEVICE", "SIZE/OFF", "NODE", "NAME", "SIZE", "OFF"].contains(String(text[position])) { position += 1 }
        }
        while position < end {
            if position > start {
                if text.startsLine(position) {
                    // A line that is not an lsof row ends the listing.
                    guard lsofRowStart(position) || Self.isLsofHeader(text, position) || isUtunSocket(position) else { break }
                } else if !isUtunSocket(position), CaptureReader.startsOutput(text, at: position) {
                    break
                }
            }
            if Self.isLsofHeader(text, position) {
                lsofHeaderSeen = true
                position += 4
                continue
            }
            if lsofRowStart(position), let pid = Int32(text[position + 1]) {
                lsofPIDs.insert(pid)
                lsofRows += 1
            }
            if isUtunSocket(position) {
                readUtunSocket(position, into: &contents)
                lsofRows += 1
            }
            position += 1
        }
        return position
    }

    /// `COMMAND PID USER FD systm DEVICE SIZE/OFF [ctl com.apple.net.utun_control id N unit U]`.
    mutating func readUtunSocket(_ position: Int, into contents: inout CaptureContents) {
        var systm: Int?
        for back in 1...4 where position - back >= range.lowerBound && text[position - back] == "systm" { systm = position - back; break }
        var unitWord: Substring?
        var after = position + 2
        while after + 1 < range.upperBound, after < position + 8 {
            if text[after] == "unit" { unitWord = text[after + 1]; break }
            after += 1
        }
        guard let systm, systm - 4 >= range.lowerBound, let pid = Int(text[systm - 3]) else {
            contents.problems.append("\(at(position)): a utun control socket without the 'COMMAND PID USER FD systm' columns before it; skipped")
            return
        }
        guard let unitWord, let unit = Int(unitWord.trimmingCharacters(in: CharacterSet(charactersIn: "]"))) else {
            contents.problems.append("\(at(position)): a utun control socket of pid \(pid) without its unit; skipped")
            return
        }
        guard DarwinParsers.Bounds.pid.contains(pid) else {
            contents.problems.append("\(at(position)): pid \(text[systm - 3].prefix(24)) is not a process id; skipped")
            return
        }
        guard DarwinParsers.Bounds.utunUnit.contains(unit) else {
            contents.problems.append("\(at(position)): unit \(unitWord.trimmingCharacters(in: CharacterSet(charactersIn: "]")).prefix(24)) is not a utun control unit (1 to \(UInt32.max)); skipped")
            return
        }
        lsofPIDs.insert(Int32(pid))
        let holder = DarwinParsers.UtunHolder(pid: Int32(pid), command: String(text[systm - 4]), user: String(text[systm - 2]), unit: unit)
        if contents.holderKeys.insert(holder).inserted { contents.holders.append(holder) }
    }
}
