extension LinkMessage {
    /// What a process attaching to a tun or tap device, or letting go of it, can change in the
    /// device's RTM_NEWLINK message: read without building the whole message, for a watcher that
    /// looks at thousands of devices every few seconds and finds nearly all of them as they were.
    ///
    /// Each field is what `LinkMessage.decode` gives for it: `name` is `decode`'s `name` (as a
    /// slice of the payload), `carrierUpCount` its own, `persist`, `numQueues` and `numDisabledQueues` are its `tun`'s
    /// (nil unless the device is of kind `tun` and carries IFLA_INFO_DATA), and `xdpProgramID`
    /// its own (a program attached through a bpf_link raises no event either).
    public struct Attachment: Equatable {
        public var index: Int32 = 0
        public var flags: UInt32 = 0
        public var name: ArraySlice<UInt8>?
        public var carrier: Bool?
        public var carrierUpCount: UInt32?
        public var persist: Bool?
        public var numQueues: UInt32?
        public var numDisabledQueues: UInt32?
        public var xdpProgramID: UInt32?
    }

    /// Reads an RTM_NEWLINK payload's `Attachment`. It walks every attribute as `decode` does and
    /// fails where that walk fails, but reads nothing else: a payload that is malformed only in an
    /// attribute this does not read (a wrongly sized MTU, master or group, the counters, the
    /// property list, a tun's owner or type) is read here and refused by `decode`.
    public static func decodeAttachment(_ payload: ArraySlice<UInt8>) throws(NetlinkError) -> Attachment {
        guard payload.count >= headerSize else {
            throw .truncated(what: "ifinfomsg", need: headerSize, have: payload.count)
        }
        let base = payload.startIndex
        var attachment = Attachment()
        attachment.index = payload.readNative(Int32.self, at: base + 4)
        attachment.flags = payload.readNative(UInt32.self, at: base + 8)
        var attributes = AttributeDecoder(payload[(base + headerSize)...])
        while attributes.next() {
            switch attributes.type {
            case Attribute.ifname: attachment.name = attributes.data.prefix { $0 != 0 }
            case Attribute.carrier: attachment.carrier = attributes.uint8() != 0
            case Attribute.carrierUpCount: attachment.carrierUpCount = attributes.uint32()
            case Attribute.linkinfo: attributes.nested { info in attachment.readLinkInfo(&info) }
            case Attribute.xdp: attributes.nested { xdp in attachment.xdpProgramID = LinkMessage.xdpProgram(&xdp) }
            default: break
            }
        }
        try attributes.finish()
        return attachment
    }
}

extension LinkMessage.Attachment {
    /// IFLA_INFO_KIND as `decodeLinkInfo` takes it: the bytes up to the first NUL.
    private static let tunKind: [UInt8] = Array("tun".utf8)

    /// Reads the tun fields of IFLA_LINKINFO, as `LinkMessage.decodeLinkInfo` does.
    fileprivate mutating func readLinkInfo(_ info: inout AttributeDecoder) {
        var isTun = false
        var data: ArraySlice<UInt8>?
        while info.next() {
            switch info.type {
            case LinkMessage.LinkInfoAttribute.kind: isTun = info.data.prefix { $0 != 0 }.elementsEqual(Self.tunKind)
            case LinkMessage.LinkInfoAttribute.data: data = info.data
            default: break
            }
        }
        guard info.error == nil, isTun, let data else { return }
        var tun = AttributeDecoder(data)
        var (persist, numQueues, numDisabledQueues): (Bool?, UInt32?, UInt32?) = (nil, nil, nil)
        while tun.next() {
            switch tun.type {
            case LinkMessage.TunAttribute.persist: persist = tun.uint8() != 0
            case LinkMessage.TunAttribute.numQueues: numQueues = tun.uint32()
            case LinkMessage.TunAttribute.numDisabledQueues: numDisabledQueues = tun.uint32()
            default: break
            }
        }
        if let error = tun.error {
            info.fail(error)
            return
        }
        (self.persist, self.numQueues, self.numDisabledQueues) = (persist, numQueues, numDisabledQueues)
    }
}
