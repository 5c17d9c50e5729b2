/// One qdisc of the kernel's list (RTM_NEWQDISC: `struct tcmsg`, then TCA_KIND), as far as the
/// recreate commands name it: its device, kind, handle and parent. A qdisc with handle 0 is one
/// the kernel attached itself (the default root, or an `mq` root's per-queue children); every
/// qdisc `tc qdisc add` makes has a handle, given or chosen.
public struct QdiscMessage: Equatable, Sendable {
    public var index: Int32
    public var handle: UInt32
    public var parent: UInt32
    public var kind: String

    /// TCA_KIND.
    static let kindAttribute: UInt16 = 1
    /// TC_H_ROOT and TC_H_INGRESS (the parent of `ingress` and `clsact`).
    public static let root: UInt32 = 0xFFFF_FFFF, ingress: UInt32 = 0xFFFF_FFF1

    public static func decode(_ payload: ArraySlice<UInt8>) throws(NetlinkError) -> QdiscMessage {
        guard payload.count >= TrafficBlock.headerSize else { throw .truncated(what: "tcmsg", need: TrafficBlock.headerSize, have: payload.count) }
        let base = payload.startIndex
        var qdisc = QdiscMessage(index: payload.readNative(Int32.self, at: base + 4), handle: payload.readNative(UInt32.self, at: base + 8),
                                 parent: payload.readNative(UInt32.self, at: base + 12), kind: "")
        var attributes = AttributeDecoder(payload.dropFirst(TrafficBlock.headerSize))
        while attributes.next() {
            if attributes.type == kindAttribute { qdisc.kind = String(decoding: attributes.bytesUpToNUL(), as: UTF8.self) }
        }
        try attributes.finish()
        return qdisc
    }

    /// `tbf 1: root`, `ingress ffff:`, `sfq 10: parent 1:1`: the qdisc as `tc qdisc show` names it.
    public var description: String {
        func handleText(_ value: UInt32) -> String {
            String(value >> 16, radix: 16) + ":" + (value & 0xFFFF == 0 ? "" : String(value & 0xFFFF, radix: 16))
        }
        var text = "\(kind) \(handleText(handle))"
        if parent == Self.root { text += " root" } else if parent != Self.ingress { text += " parent \(handleText(parent))" }
        return text
    }
}
