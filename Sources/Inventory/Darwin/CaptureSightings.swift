import Foundation

/// Output that shows an interface existed when it ran without listing it as ifconfig does: the
/// rows of `netstat -i`, WireGuard's `wg show` (`interface: utun4`), `route get` (`interface:
/// utun4`), `scutil --nwi` (`Network interfaces: utun4 en0`), and the file in which wireguard-go
/// keeps a tunnel's utun name (`cat /var/run/wireguard/wg0.name`). Each sighting is kept with its
/// moment: a tunnel seen at or after the moment of the listing of every interface that lacks it
/// is not gone (see `CaptureContents.sightings`).
extension Section {
    /// Records a sighting of `name` at the current moment, when it names an interface.
    func sighted(_ name: Substring, into contents: inout CaptureContents) {
        let bare = name.hasSuffix("*") ? name.dropLast() : name
        guard ShellCommand.isInterfaceName(bare) else { return }
        contents.sightings[String(bare), default: []].insert(contents.moment)
    }

    /// The sightings on the line at `position` (`interface: utun4`, `Network interfaces: utun4
    /// en0`); returns where the line ends when it held any.
    func readSighting(at position: Int, into contents: inout CaptureContents) -> Int? {
        guard text.startsLine(position) else { return nil }
        var end = position
        while end < range.upperBound, text.line(end) == text.line(position) { end += 1 }
        if text[position] == "interface:", end - position == 2 {
            sighted(text[position + 1], into: &contents)
            return end
        }
        if text[position] == "Network", position + 1 < end, text[position + 1] == "interfaces:" {
            for at in (position + 2)..<end { sighted(text[at], into: &contents) }
            return end
        }
        return nil
    }

    /// The rows of a `netstat -i` table starting at `start` (its header), up to `end`: each
    /// row's first word names an interface (with `*` when it is down).
    func readInterfaceTableRows(_ start: Int, _ end: Int, into contents: inout CaptureContents) {
        for position in (start + 1)..<end where text.startsLine(position) { sighted(text[position], into: &contents) }
    }

    /// The names a `cat` of wireguard-go's name file printed (`/var/run/wireguard/wg0.name`).
    func readNameFile(into contents: inout CaptureContents) {
        guard let command, (command.name as NSString).lastPathComponent == "cat",
              command.arguments.contains(where: { $0.hasSuffix(".name") && $0.contains("wireguard") }) else { return }
        for position in range { sighted(text[position], into: &contents) }
    }
}
