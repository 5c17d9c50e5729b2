import Foundation

/// A record a report holds many of (an interface's addresses, routes and holders), which writes
/// its members straight into tunwarden's writer instead of through the Encoder containers. The
/// bytes are the ones its `encode(to:)` gives; the direct-writing tests compare the two.
protocol DirectlyWritten {
    func write(to sink: JSONSink)
}

extension InterfaceAddress: DirectlyWritten {
    func write(to sink: JSONSink) {
        sink.openObject()
        sink.field("family", family.rawValue)
        sink.field("local", local.description)
        sink.field("prefixlen", prefixLength)
        sink.field("address", ifPresent: peer?.description)
        sink.field("broadcast", ifPresent: broadcast?.description)
        sink.field("scope", scope)
        sink.field("label", ifPresent: label)
        if !flags.isEmpty { sink.field("flags", strings: flags) }
        sink.field("metric", ifPresent: metric)
        sink.field("valid_life_time", ifPresent: validLifetime)
        sink.field("preferred_life_time", ifPresent: preferredLifetime)
        sink.close()
    }
}

extension NextHop: DirectlyWritten {
    func write(to sink: JSONSink) {
        sink.openObject()
        sink.field("gateway", ifPresent: gateway?.description)
        sink.field("ifindex", ifPresent: interfaceIndex)
        sink.field("dev", ifPresent: interfaceName)
        sink.close()
    }
}

extension Route: DirectlyWritten {
    func write(to sink: JSONSink) {
        sink.openObject()
        sink.field("dst", destination.description)
        sink.field("type", type.name)
        sink.field("table", table.name)
        sink.field("metric", ifPresent: metric)
        sink.field("protocol", ifPresent: routeProtocol?.name)
        sink.field("scope", ifPresent: scope?.name)
        sink.field("nexthops", records: nextHops)
        sink.field("nhid", ifPresent: nexthopObject)
        sink.close()
    }
}

extension TrafficCounters: DirectlyWritten {
    func write(to sink: JSONSink) {
        sink.openObject()
        sink.field("rx_packets", rxPackets)
        sink.field("tx_packets", txPackets)
        sink.field("rx_bytes", rxBytes)
        sink.field("tx_bytes", txBytes)
        sink.close()
    }
}

extension Holder: DirectlyWritten {
    func write(to sink: JSONSink) {
        sink.openObject()
        sink.field("pid", pid)
        sink.field("comm", comm)
        sink.field("uid", ifPresent: uid)
        sink.field("fd", ifPresent: fd)
        sink.field("netns", ifPresent: netns)
        sink.close()
    }
}
