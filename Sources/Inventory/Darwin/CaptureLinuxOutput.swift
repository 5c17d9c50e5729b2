import Foundation
import TunwardenCore

/// Output of Linux's own tools pasted into `--from`, which reads listings taken on a Mac: told
/// apart by the shapes only Linux prints, so that it is refused with a word on what to run
/// instead rather than half read as macOS blocks whose headers seem cut off.
extension CapturedInventory {
    /// Which Linux listing `text` is (net-tools' `ifconfig -a`, or `ip addr`), or nil when it
    /// holds none or also shows macOS's own shapes (then it is read as a Mac's capture).
    ///
    /// net-tools prints `inet 10.0.0.1  netmask 255.0.0.0` (a dotted netmask, where macOS prints
    /// `0xff000000`), `RX packets 12  bytes 3456`, `ether … txqueuelen 1000` and `loop  txqueuelen`;
    /// `ip addr` numbers its blocks `2: eth0: <BROADCAST,…> mtu 1500 qdisc …` and names their
    /// links `link/ether`. Two such lines are needed; one line of macOS's (`netmask 0x…`,
    /// `nd6 options=`, `status: active`, `media:`) is enough to read the text as a Mac's.
    static func linuxListing(in text: String) -> String? {
        var netTools = 0
        var ipAddr = 0
        for line in text.split(whereSeparator: \.isNewline) {
            let words = line.split(separator: " ")
            guard let first = words.first else { continue }
            if line.contains("netmask 0x") || first == "nd6" || first == "media:" || (first == "status:" && words.count == 2) { return nil }
            if first == "inet", words.count >= 4, words[2] == "netmask", words[3].split(separator: ".").count == 4 {
                netTools += 1
            } else if (first == "RX" || first == "TX") && words.count >= 3 && words[1] == "packets" && words.contains("bytes") {
                netTools += 1
            } else if words.contains("txqueuelen") {
                netTools += 1
            } else if first.hasPrefix("link/") || (first.hasSuffix(":") && first.dropLast().allSatisfy(\.isNumber) && words.contains("qdisc")) {
                ipAddr += 1
            }
        }
        if netTools >= 2 { return "Linux net-tools `ifconfig -a` output" }
        if ipAddr >= 2 { return "Linux `ip addr` output" }
        return nil
    }

    /// The refusal of `name`'s Linux `listing`, saying where each tool belongs.
    static func linuxRefusal(_ name: String, listing: String) -> InventoryError {
        InventoryError("\(name): this looks like \(listing), not a Mac's: --from reads captures taken on a Mac "
            + "(`tunwarden snapshot DIR` there, or a paste of `ifconfig -a -v`, `netstat -rn`, `sudo lsof -nP` and `ps -axww -o pid,comm`). "
            + "On Linux, run `sudo tunwarden audit`: it reads the kernel itself")
    }

    /// What to tell of `ip route` run on a Mac (Homebrew's iproute2mac, which prints the routes
    /// netstat shows in Linux's shape: `default via 10.66.66.1 dev utun12`): its output is not
    /// read, since that shape drops the flags that tell the general default from an
    /// interface-scoped one, so the capture says what to paste instead of passing it by. Nil for
    /// any other command.
    static func iprouteProblem(_ command: ShellCommand, at place: String) -> String? {
        guard command.name == "ip" || command.name.hasSuffix("/ip"),
              command.arguments.prefix(4).contains(where: { ["r", "ro", "rou", "rout", "route"].contains($0) }) else { return nil }
        return "\(place): `\(command.display)` output (Homebrew's iproute2mac) is not read: it leaves out the flags that tell the general default "
            + "from an interface-scoped one, so the routes it shows are not judged; paste `netstat -rn` instead"
    }
}
