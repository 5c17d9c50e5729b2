import Foundation
import TunwardenCore

/// Who a capture shows using each tunnel: the processes lsof shows holding a utun's control
/// socket or a tuntaposx device, and what a tuntaposx block's status line says, each tied to a
/// listed interface only where they were read at the moment it was listed. A command between
/// them that may change interfaces breaks the tie: XNU gives a new utun the lowest free unit, so
/// a VPN that reconnects after its daemon was killed takes the numbers leaked utuns had, and
/// Tunnelblick reopens the `/dev/tun0` an earlier `ifconfig` showed closed.
extension CapturedInventory {
    /// Why holders read at another moment than the interface listing are tied to none of it.
    static let otherMomentHolders = "lsof was taken at another moment than the interface listing, with a command or other text between them that may have changed which process holds which utun: a VPN that reconnects takes the lowest free unit, one a leaked utun had"

    /// The holder scan the capture's lsof listings make: each utun control socket tied to the
    /// utun of its unit, when lsof showed it at the moment that utun was listed (or the capture
    /// does not list the utun), and each process lsof showed with a tuntaposx device open. A
    /// utun listed at another moment than every lsof that showed a holder of its unit keeps no
    /// holder, the scan is incomplete, and `problems` names those utuns and says why: their
    /// holders are unknown, and none of them is an idle unit of a hoard.
    static func holderScan(_ contents: CaptureContents, processes: [Int32: String]?, problems: inout [String]) -> HolderScan {
        guard contents.lsofSeen else { return .unavailable("the capture has no lsof output") }
        var attachments: [HolderAttachment] = []
        var untied: [DarwinParsers.UtunHolder] = []
        for holder in contents.holders {
            if let listed = contents.interfaceStamps[holder.ifname], contents.interfacePositions[holder.ifname] != nil,
               !(contents.holderStamps[holder] ?? []).contains(where: { $0.isSameMoment(as: listed) }) {
                untied.append(holder)
                continue
            }
            attachments.append(HolderAttachment(holder: Holder(pid: holder.pid, comm: displayName(holder.pid, lsofName: holder.command, processes: processes)),
                                                ifname: holder.ifname, inInspectedNamespace: true))
        }
        for opener in contents.deviceOpeners where !attachments.contains(where: { $0.ifname == opener.ifname && $0.holder.pid == opener.pid }) {
            attachments.append(HolderAttachment(holder: Holder(pid: opener.pid, comm: displayName(opener.pid, lsofName: opener.command, processes: processes)),
                                                ifname: opener.ifname, inInspectedNamespace: true))
        }
        var reasons = contents.lsofWhole ? [] : contents.lsofLimits
        if !untied.isEmpty {
            let units = Set(untied.map(\.unit)).sorted()
            let names = units.prefix(8).map { "utun\($0 - 1)" }.joined(separator: ", ") + (units.count > 8 ? ", …" : "")
            problems.append("\(otherMomentHolders). The holders it shows of \(names) are tied to none of the listed utuns, whose holders are unknown")
            reasons.insert(otherMomentHolders, at: 0)
        }
        let complete = reasons.isEmpty
        return HolderScan(complete: complete, incompleteReason: complete ? nil : reasons.joined(separator: "; "),
                          remedy: complete ? nil : "Capture `sudo lsof -nP` (every process)",
                          attachments: attachments, processesScanned: max(contents.lsofPIDs.count, processes?.count ?? 0))
    }

    /// The doubt (`TuntaposxDevice.doubted`, with why and what would settle it) that makes a
    /// tuntaposx block's `closed` say nothing of the routes into it, or nil when it does:
    /// an lsof row of the block's moment, of the routes' or of any later moment shows a process
    /// with the device open (the two were read at different times, as when a VPN connects from
    /// its menu with no command; or the VPN was started again since, `open -a Tunnelblick`, and
    /// the routes it adds anew are the ones read), or the routes were read at another moment
    /// than the block, with a command between that may have opened the device again (`open -a
    /// Tunnelblick`, `sleep`). A reap acts on the present: the newest word on the device counts.
    /// A process listing of the block's moment or a later one that shows a program running that opens tuntaposx devices
    /// (`openvpn`, Tunnelblick's, see `tunDevicePrograms`) doubts it too: the VPN may have been
    /// started again since, or have reopened the device with no command (round 37 F4), and the
    /// routes read be the ones it adds anew; where no route leads into the device, that says
    /// nothing of any traffic, and no doubt is raised (round 43 F2).
    /// (An opener read before the block, with a change between, says only that the device was
    /// open then: the VPN may have died since.)
    static func closedStatusDoubt(of entry: DarwinParsers.IfconfigEntry, contents: CaptureContents, processes: [Int32: String]?) -> TuntaposxDevice? {
        let node = "/dev/\(entry.name)"
        guard let listed = contents.interfaceStamps[entry.name] else { return nil }
        let routes = contents.routeStamps[entry.name] ?? []
        let openers = contents.deviceOpeners.filter { opener in
            opener.ifname == entry.name && (opener.stamp.isSameMoment(as: listed) || opener.stamp.isLater(than: listed)
                                            || routes.contains { opener.stamp.isSameMoment(as: $0) })
        }
        if !openers.isEmpty {
            let names = openers.map { "\(displayName($0.pid, lsofName: $0.command, processes: processes))[\($0.pid)]" }.joined(separator: " and ")
            return .doubted(because: "says `closed`, but lsof shows \(names) with \(node) open: the two were read at different times (a VPN that connects from its menu runs no command, or was started again since)")
        }
        if routes.contains(where: { !$0.isSameMoment(as: listed) }) {
            return .doubted(because: "said `closed` at another moment than the routes into it were read, with a command or other text between them (such as `open -a Tunnelblick`, `sleep`, or a line saying time passed) that may have opened \(node) again")
        }
        // A VPN that may have reopened the device matters only to routes into it: with a routing
        // table read and none of its rows (nor `route get`) leading there, open or closed, nothing
        // is sent into it, and a connected Tunnelblick must not make the audit unknown.
        let routed = !routes.isEmpty || !contents.netstatSeen || contents.routeGetInterfaces[entry.name] != nil
            || contents.unreadableRouteRows.contains { $0.tunnels.contains(entry.name) }
        guard routed else { return nil }
        // (Of any moment, the block's own too: a VPN reconnecting from its menu, or OpenVPN
        // restarting without persist-tun, closes and reopens the device with no command typed,
        // and a `closed` caught between the two says nothing of the routes it adds again.)
        // (Not one read only before the block, with a command between: `sudo killall openvpn`
        // may have ended it.)
        let running = contents.processStamps.filter { _, stamps in
            stamps.contains { $0.isSameMoment(as: listed) || $0.isLater(than: listed) || routes.contains($0) }
        }.keys.filter { pid in
            Heuristics.executableNames(of: contents.processes[pid] ?? "").contains { name in tunDevicePrograms.contains { name.hasPrefix($0) } }
        }.sorted()
        if !running.isEmpty {
            // (Named as the table names a holder ps shows: `openvpn`, not the `Application` of
            // `/Library/Application Support/Tunnelblick/…/openvpn`.)
            let names = running.map { "\(Heuristics.programName(of: contents.processes[$0] ?? "") ?? "?")[\($0)]" }.joined(separator: " and ")
            let naming = running.contains { pid in
                let words = (contents.processes[pid] ?? "").split(separator: " ")
                return words.contains(Substring(entry.name)) || words.contains(Substring(node))
            }
            return .doubted(because: "says `closed`, but a process listing of the paste shows \(names) running\(naming ? ", whose arguments name \(entry.name)" : ""), "
                + "which opens such devices: the VPN may have closed \(node) and opened it again (a reconnect from its menu, OpenVPN restarting), with no command typed",
                            settledBy: "while it runs, no paste settles it, since a reconnect needs no command: quit the VPN (its app and openvpn), then `ifconfig \(entry.name)`, `netstat -rn` and `ps auxww` "
                                + "with no command between them show whether the routes outlived it")
        }
        // A row ps cut at the terminal's width before its program's name could be read may be
        // such a program's: the listing cannot show that none runs.
        let cut = contents.cutProcessRows.filter { row in
            (row.stamp.isSameMoment(as: listed) || row.stamp.isLater(than: listed) || routes.contains(row.stamp))
                && commandMayBeTunProgram(shown: row.shown, whole: contents.processes[row.pid])
        }
        if !cut.isEmpty {
            let rows = cut.prefix(3).map { "\($0.pid) ('\($0.shown.prefix(30))')" }.joined(separator: ", ") + (cut.count > 3 ? ", …" : "")
            return .doubted(because: "says `closed`, but the process listing of the paste is cut at the terminal's width, and its row\(cut.count == 1 ? "" : "s") of pid \(rows) may be a program "
                + "that opens such devices (openvpn, Tunnelblick's): the VPN may have closed \(node) and opened it again with no command typed",
                            settledBy: "`ifconfig \(entry.name)`, `netstat -rn` and `ps auxww` (whose rows are whole) with no command between them show whether one runs")
        }
        return nil
    }

    /// Whether a ps row the terminal cut (`shown`) may run a program that opens tuntaposx
    /// devices: its command is a path cut before an option shows where the program's path ends
    /// (`/Appli`, `/Applications/Tunnelblick.app/Contents/Resourc`), or a name cut inside one
    /// of those programs' names (`openv`). A row whose whole command another listing shows
    /// (`whole`) is judged by that; one whose program shows whole is judged by its name.
    static func commandMayBeTunProgram(shown: String, whole: String?) -> Bool {
        if let whole, whole.count > shown.count, whole.hasPrefix(shown) { return false }
        let words = shown.split(separator: " ")
        guard let first = words.first else { return false }
        if first.hasPrefix("/") { return !words.dropFirst().contains { $0.hasPrefix("-") } }
        return words.count == 1 && tunDevicePrograms.contains { $0.hasPrefix(first) }
    }

    /// The programs (the start of their executable's name) that open a tuntaposx device, or
    /// start one that does: OpenVPN, Tunnelblick's own builds of it (`openvpn`, its
    /// `openvpn-2.5.8-…` directories) and the app and daemon that start them, tinc, vpnc and
    /// OpenConnect.
    static let tunDevicePrograms = ["openvpn", "Tunnelblick", "tunnelblickd", "tincd", "vpnc", "openconnect"]

    /// The name of a utun's holder (see `displayName(_:lsofName:processes:)`).
    static func displayName(_ holder: DarwinParsers.UtunHolder, processes: [Int32: String]?) -> String {
        displayName(holder.pid, lsofName: holder.command, processes: processes)
    }

    /// The name of the process `pid`, which lsof shows as `lsofName`: lsof cuts COMMAND to nine
    /// characters, ps has the whole command. Its executable is the first words (a path may hold
    /// spaces) whose last path component starts with lsof's name.
    static func displayName(_ pid: Int32, lsofName command: String, processes: [Int32: String]?) -> String {
        guard let full = processes?[pid] else { return uncutName(command) }
        let lsofName = command.replacingOccurrences(of: "\\x20", with: " ")
        let names = Heuristics.executableNames(of: full)
        // A ps row that names another program (cut at the window's edge: `Application` of
        // `/Library/Application Support/…`) says nothing of this one: lsof's name stands. A name
        // lsof's starts is preferred to a shorter one that starts lsof's (`OpenVPN Connect`, not
        // the directory `OpenVPN` before it, for lsof's `OpenVPN C`).
        return names.first { $0.hasPrefix(lsofName) } ?? names.first { lsofName.hasPrefix($0) && !$0.isEmpty } ?? uncutName(command)
    }

    /// Programs that hold utuns on a Mac, by their process's name: macOS's own daemons and the
    /// packet-tunnel processes of common VPNs.
    static let utunOwnerNames = ["nesessionmanager", "identityservicesd", "networkserviceproxy", "IPNExtension", "WireGuardNetworkExtension",
                                 "tailscaled", "mullvad-daemon"]

    /// lsof's COMMAND `name` as the whole name of the program it was cut from, when that is one
    /// of `utunOwnerNames`: lsof cuts the column to 9 characters (15 with `+c 15`), and without
    /// a ps row of the process that cut (`nesession`) is all the capture has, a name no process
    /// has (`killall nesession` finds none). A name of another length, or one that begins none
    /// or several of them, stays as lsof shows it.
    static func uncutName(_ name: String) -> String {
        guard name.count >= 9 else { return name }
        let whole = utunOwnerNames.filter { $0.count > name.count && $0.hasPrefix(name) }
        return whole.count == 1 && !utunOwnerNames.contains(name) ? whole[0] : name
    }
}
