/// Route lookups, as `ip route get` asks them: an RTM_GETROUTE request for one destination,
/// which the kernel answers with the route a packet to it would take (RTM_NEWROUTE, without
/// NLM_F_DUMP), or with an error. Read-only: nothing is sent anywhere. With `RTM_F_FIB_MATCH`
/// the answer is the table's route that matched, whole, all its next hops included, instead of
/// the one path chosen for the packet.
public enum RouteLookup {
    /// RTM_F_FIB_MATCH, in `rtm_flags`: answer with the matching table route.
    public static let fibMatch: UInt32 = 0x2000
    /// RTM_F_LOOKUP_TABLE, in `rtm_flags`: answer with the table the route was found in. Without
    /// it IPv4 answers every lookup as the main table's (`inet_rtm_getroute`); IPv6 always
    /// answers with the table.
    public static let lookupTable: UInt32 = 0x1000

    /// RTA_MARK: the packet's firewall mark (u32), which `fwmark` rules select by.
    public static let markAttribute: UInt16 = 16
    /// RTA_UID: the user the packet is sent for (u32), which `uidrange` rules select by.
    public static let uidAttribute: UInt16 = 25

    /// The request for `destination` (4 or 16 bytes) of `family`, as a host route (`rtm_dst_len`
    /// 32 or 128), with RTM_F_FIB_MATCH when `fibMatch`; with `mark`, `uid` and `tos`, for a
    /// packet of that firewall mark, user and type of service, as policy rules select them
    /// (`ip route get … mark 5 uid 1000 tos 0x10`).
    public static func request(family: UInt8, destination: [UInt8], fibMatch: Bool, mark: UInt32? = nil, uid: UInt32? = nil, tos: UInt8 = 0,
                               sequence: UInt32) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: RouteMessage.headerSize)
        header[0] = family
        header[1] = UInt8(destination.count * 8)
        header[3] = tos
        var flags: [UInt8] = []
        flags.appendNative((fibMatch ? Self.fibMatch : 0) | Self.lookupTable)
        header.replaceSubrange(8..<12, with: flags)
        var attributes = AttributeEncoder(prefix: header)
        attributes.append(type: RouteMessage.Attribute.destination, payload: destination)
        for (type, value) in [(markAttribute, mark), (uidAttribute, uid)] {
            guard let value else { continue }
            var payload: [UInt8] = []
            payload.appendNative(value)
            attributes.append(type: type, payload: payload)
        }
        return NetlinkMessage.encode(type: NetlinkType.getRoute, flags: NetlinkFlags.request, sequence: sequence, payload: attributes.bytes)
    }
}

extension RtnetlinkClient {
    /// Sends requests the kernel answers with one message each (lookups), `requests` at once in
    /// one datagram, and returns each one's answer in order: the message, or the kernel's
    /// refusal as `NetlinkError.kernel`. Keep a batch small (tens): the answers wait in the
    /// socket's receive buffer until read.
    public func askEach(operation: String, _ requests: [(UInt32) -> [UInt8]]) throws -> [Result<NetlinkMessage, NetlinkError>] {
        guard !requests.isEmpty else { return [] }
        var sequences: [UInt32] = []
        var datagram: [UInt8] = []
        for build in requests {
            let sequence = nextSequence()
            sequences.append(sequence)
            datagram += build(sequence)
        }
        try transport.send(datagram)
        var answers = [Result<NetlinkMessage, NetlinkError>?](repeating: nil, count: requests.count)
        var waiting = requests.count
        while waiting > 0 {
            let received = try transport.receive()
            for message in try NetlinkMessage.split(received[...]) {
                // Answers to earlier requests (left over after an error) are not these.
                guard let position = sequences.firstIndex(of: message.header.sequence), answers[position] == nil else { continue }
                if message.header.type == NetlinkType.error {
                    let error = try ErrorMessage.decode(message.payload, flags: message.header.flags)
                    // (An acknowledgement without error is not an answer; none is asked for.)
                    guard error.errno != 0 else { continue }
                    answers[position] = .failure(.kernel(operation: operation, errno: error.errno, message: error.message))
                } else {
                    answers[position] = .success(message)
                }
                waiting -= 1
            }
        }
        return answers.compactMap { $0 }
    }
}
