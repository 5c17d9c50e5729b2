import Foundation

/// What tells a device from another that later stands at its ifindex under its name, wherever
/// tunwarden carries a device across time (the grace period's observations, a plan waiting to be
/// carried out, a killed reap's intent records).
///
/// Ifindex and name are not enough: a device moved in from another namespace keeps its ifindex
/// when it is free there, and fresh namespaces number their devices alike, so a tap made in a
/// staging namespace and moved in can arrive under an orphan's name and ifindex. What a device
/// keeps for its whole life, and a newcomer most likely does not share, is compared instead: its
/// kind (a tun's type, tun or tap), whether it is multi-queue (fixed when it is made), and its
/// hardware address where it has one (every tap, veth, macvlan: random unless set by hand).
///
/// What remains unprovable: a newcomer with the same kind, queue mode and hardware address (an
/// L3 tun has none; a tap given the old one's address by hand) is taken for the old device. The
/// reaper closes that gap for the window between its plan and its act with link notifications
/// (see `LinuxReaper`); across runs, nothing the kernel keeps tells two such devices apart.
/// Something changing the address of the same device makes it look new: the safe side, since a
/// new device waits out the grace period again and a replaced plan item is skipped.
public struct DeviceIdentity: Sendable, Equatable {
    /// The kind (a Linux tun device's type: `.tun` or `.tap`); nil when not known.
    public var kind: InterfaceKind?
    /// Whether it is a multi-queue tun/tap; nil when not known or not a tun/tap.
    public var multiQueue: Bool?
    /// Its hardware address as `ip` writes it (lowercase hex pairs and colons); nil for a device
    /// without one, or when not known.
    public var hardwareAddress: String?

    public init(kind: InterfaceKind?, multiQueue: Bool? = nil, hardwareAddress: String?) {
        self.kind = kind
        self.multiQueue = multiQueue
        self.hardwareAddress = hardwareAddress?.lowercased()
    }

    /// The identity of `interface` as an inventory reports it.
    public init(_ interface: NetworkInterface) {
        self.init(kind: interface.kind, multiQueue: interface.tun?.multiQueue, hardwareAddress: interface.hardwareAddress)
    }

    /// What tells `self`, a device seen now, from `earlier`, a device seen before at the same
    /// ifindex under the same name, each in words ("its hardware address is 02:… where the
    /// earlier one's was 7a:…"); empty when nothing known tells them apart. A field either side
    /// does not know tells nothing; a hardware address one side has and the other lacks tells.
    public func differences(from earlier: DeviceIdentity) -> [String] {
        var found: [String] = []
        if let kind, let before = earlier.kind, kind != before {
            found.append("it is a \(kind.rawValue) where the earlier one was a \(before.rawValue)")
        }
        if let multiQueue, let before = earlier.multiQueue, multiQueue != before {
            found.append(multiQueue ? "it is multi-queue where the earlier one was single-queue" : "it is single-queue where the earlier one was multi-queue")
        }
        switch (hardwareAddress, earlier.hardwareAddress) {
        case let (now?, before?) where now != before:
            found.append("its hardware address is \(now) where the earlier one's was \(before)")
        case let (now?, nil) where earlier.kind != nil:
            found.append("it has a hardware address (\(now)) where the earlier one had none")
        case let (nil, before?) where kind != nil:
            found.append("it has no hardware address where the earlier one had \(before)")
        default:
            break
        }
        return found
    }

    /// What tells `now` from `earlier`, the same ifindex and name seen before: the identity's
    /// differences, and for a tun or tap counters lower than they were (the kernel's own software
    /// counters of such a device only grow, and nothing resets them).
    public static func replacement(of earlier: NetworkInterface, by now: NetworkInterface) -> [String] {
        DeviceIdentity(now).differences(from: DeviceIdentity(earlier))
            + (countersWentBack(from: earlier.stats, to: now.stats, kind: now.kind).map { [$0] } ?? [])
    }

    /// Why counters read as `now` cannot be those of the device that showed `earlier` (a tun or
    /// tap's counters never go back), or nil; also nil when either is unknown, or for another kind.
    public static func countersWentBack(from earlier: TrafficCounters?, to now: TrafficCounters?, kind: InterfaceKind) -> String? {
        guard kind == .tun || kind == .tap, let earlier, let now,
              now.rxPackets < earlier.rxPackets || now.txPackets < earlier.txPackets || now.rxBytes < earlier.rxBytes || now.txBytes < earlier.txBytes
        else { return nil }
        let pairs = [("received packets", now.rxPackets, earlier.rxPackets), ("sent packets", now.txPackets, earlier.txPackets),
                     ("received bytes", now.rxBytes, earlier.rxBytes), ("sent bytes", now.txBytes, earlier.txBytes)]
        guard let (what, value, before) = pairs.first(where: { $0.1 < $0.2 }) else { return nil }
        return "its counter of \(what) is \(value) where the earlier one's was \(before) (a tun/tap's counters never go back)"
    }

    /// The identity as `state.db` keeps it: `KIND[ mq| sq][ ADDRESS]`, e.g. `tap sq 7a:15:0e:9c:22:01`.
    public var text: String {
        var words = [kind?.rawValue ?? "-"]
        if let multiQueue { words.append(multiQueue ? "mq" : "sq") }
        if let hardwareAddress { words.append(hardwareAddress) }
        return words.joined(separator: " ")
    }

    /// Reads `text`; nil for text `text` never writes. (A state file holds one per device, read
    /// at every run: the words are taken one by one, with no list of them made.)
    public init?(text: String) {
        var rest = text[...]
        func nextWord() -> Substring? {
            rest = rest.drop { $0 == " " }
            guard !rest.isEmpty else { return nil }
            let end = rest.firstIndex(of: " ") ?? rest.endIndex
            defer { rest = rest[end...] }
            return rest[..<end]
        }
        guard let first = nextWord() else { return nil }
        if first == "-" { kind = nil } else {
            guard let known = InterfaceKind(rawValue: String(first)) else { return nil }
            kind = known
        }
        var word = nextWord()
        if let mode = word, mode == "mq" || mode == "sq" {
            multiQueue = mode == "mq"
            word = nextWord()
        }
        guard nextWord() == nil else { return nil }
        hardwareAddress = word.map(String.init)
    }
}
