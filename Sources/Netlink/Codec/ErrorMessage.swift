/// An NLMSG_ERROR message: an acknowledgement (error 0) or the kernel's refusal of a request.
public struct ErrorMessage: Equatable, Sendable {
    /// NLMSGERR_ATTR_* extended-ack attributes.
    enum Attribute {
        static let message: UInt16 = 1
        static let offset: UInt16 = 2
    }

    /// The positive errno, or 0 for an acknowledgement.
    public var errno: Int32
    /// The header of the request this answers.
    public var request: NetlinkHeader
    /// The extended-ack text (NLMSGERR_ATTR_MSG), when the kernel sent one.
    public var message: String?

    /// Decodes an NLMSG_ERROR payload; `flags` is the error message's own header flags.
    public static func decode(_ payload: ArraySlice<UInt8>, flags: UInt16) throws(NetlinkError) -> ErrorMessage {
        let minimum = 4 + NetlinkHeader.size
        guard payload.count >= minimum else {
            throw .truncated(what: "nlmsgerr", need: minimum, have: payload.count)
        }
        let base = payload.startIndex
        let code = payload.readNative(Int32.self, at: base)
        let header = NetlinkHeader(
            length: payload.readNative(UInt32.self, at: base + 4),
            type: payload.readNative(UInt16.self, at: base + 8),
            flags: payload.readNative(UInt16.self, at: base + 10),
            sequence: payload.readNative(UInt32.self, at: base + 12),
            portID: payload.readNative(UInt32.self, at: base + 16)
        )
        var result = ErrorMessage(errno: code == Int32.min ? Int32.max : -code, request: header, message: nil)
        guard flags & NetlinkFlags.ackTLVs != 0 else { return result }
        // Unless capped, the original request's payload sits between the header and the TLVs.
        var tlvStart = base + minimum
        if flags & NetlinkFlags.capped == 0 {
            let echoed = Int(header.length) - NetlinkHeader.size
            guard echoed >= 0, tlvStart + align4(echoed) <= payload.endIndex else {
                throw .truncated(what: "nlmsgerr echoed request", need: minimum + align4(max(echoed, 0)), have: payload.count)
            }
            tlvStart += align4(echoed)
        }
        var attributes = AttributeDecoder(payload[tlvStart...])
        while attributes.next() {
            if attributes.type == Attribute.message { result.message = attributes.string() }
        }
        try attributes.finish()
        return result
    }
}
