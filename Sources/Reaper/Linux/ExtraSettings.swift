#if os(Linux)
import Inventory
import Netlink
import TunwardenCore

/// What the devices a reap deletes have beyond their link dump that deleting them destroys
/// (`DeviceExtraSettings`): their own sysctl files the kernel's arrays lack and their multicast
/// addresses added by hand (`Inventory.DeviceFileSettings`), and their neighbour parameters (one
/// RTM_GETNEIGHTBL dump). Read only where recreate commands are written.
extension LinuxReaper {
    /// What each of the Linux devices `items` plans to delete has beyond its link dump, by
    /// ifindex, for the plan's recreate commands (`execute` reads them again for the journal's).
    public func extraSettings(of items: [ReapItem]) throws -> [Int: DeviceExtraSettings] {
        let devices = items.filter { $0.action == .deleteInterface && !$0.onMacOS }
        guard !devices.isEmpty else { return [:] }
        let held = try holdNamespace()
        let client = RtnetlinkClient(transport: try system.rtnetlink.connect(namespaceFD: held?.descriptor))
        return withExtendedLifetime(held) { extraSettings(of: devices.map(\.interface), client: client, namespaceFD: held?.descriptor) }
    }

    /// What each of `interfaces` has beyond its link dump, by ifindex; what cannot be read is
    /// said in its `unreadable`.
    func extraSettings(of interfaces: [NetworkInterface], client: RtnetlinkClient, namespaceFD: Int32?) -> [Int: DeviceExtraSettings] {
        guard !interfaces.isEmpty else { return [:] }
        var found = system.deviceFiles(interfaces.map { ($0.index, InterfaceName.kernelBytes($0.name)) }, namespaceFD)
        let indices = Set(interfaces.map { Int32($0.index) })
        do {
            let tables = try Self.neighbourParameters(of: indices, client: client)
            for (index, parameters) in tables { found[Int(index), default: DeviceExtraSettings()].neighbourParameters = parameters }
        } catch {
            for interface in interfaces {
                found[interface.index, default: DeviceExtraSettings()].unreadable.append("its neighbour parameters (`ip ntable show dev "
                    + "\(ShellWord.quote(InterfaceName.kernelBytes(interface.name)))`) could not be read (\(error)); any set by hand are not recreated")
            }
        }
        return found
    }

    /// The ARP and neighbour discovery parameters of each device of `indices` that the kernel
    /// lists, by ifindex, beside the tables' own, from one dump of every table.
    static func neighbourParameters(of indices: Set<Int32>, client: RtnetlinkClient) throws -> [Int32: [NeighbourParameters]] {
        var defaults: [String: [NeighbourParameters.Parameter: UInt64]] = [:]
        var own: [Int32: [NeighbourTableMessage]] = [:]
        try client.dumpEach(operation: "RTM_GETNEIGHTBL", request: { NeighbourTableMessage.dumpRequest(sequence: $0) },
                            restart: { defaults = [:]; own = [:] }) { message in
            guard message.header.type == NeighbourTableMessage.newTable else { return }
            // Every device of the namespace is listed, twice: only those deleted are decoded.
            if case let .some(.some(index)) = NeighbourTableMessage.parametersIndex(message.payload), !indices.contains(index) { return }
            let table = try NeighbourTableMessage.decode(message.payload)
            guard table.hasParameters, table.family == 2 || table.family == 10 else { return }
            if let index = table.index {
                if indices.contains(index) { own[index, default: []].append(table) }
            } else {
                defaults[table.name] = converted(table.values)
            }
        }
        return own.mapValues { tables in
            tables.map { table in
                NeighbourParameters(table: table.name, family: table.family == 2 ? .ipv4 : .ipv6, values: converted(table.values),
                                    defaults: defaults[table.name] ?? [:])
            }
        }
    }

    /// The codec's parameters as the recreate commands name them.
    static func converted(_ values: [NeighbourTableMessage.Parameter: UInt64]) -> [NeighbourParameters.Parameter: UInt64] {
        var converted: [NeighbourParameters.Parameter: UInt64] = [:]
        for (parameter, value) in values {
            let named: NeighbourParameters.Parameter = switch parameter {
            case .baseReachableTime: .baseReachableTime
            case .retransTime: .retransTime
            case .gcStaleTime: .gcStaleTime
            case .delayProbeTime: .delayProbeTime
            case .appProbes: .appProbes
            case .unicastProbes: .unicastProbes
            case .multicastProbes: .multicastProbes
            case .anycastDelay: .anycastDelay
            case .proxyDelay: .proxyDelay
            case .proxyQueue: .proxyQueue
            case .lockTime: .lockTime
            case .queueBytes: .queueBytes
            case .multicastReprobes: .multicastReprobes
            case .intervalProbeTime: .intervalProbeTime
            }
            converted[named] = value
        }
        return converted
    }
}
#endif
