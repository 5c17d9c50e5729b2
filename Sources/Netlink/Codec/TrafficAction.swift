/// The kernel's traffic-control actions of kind `mirred` (include/uapi/linux/tc_act/tc_mirred.h,
/// rtnetlink.h): each redirects or mirrors the packets a filter matched, on any device, to one
/// device, or (Linux 6.8+) to every device bound to a shared tc block (`mirred … blockid 22`).
/// Read for those devices: deleting one leaves the action pointing nowhere, or the block one port
/// short, and the traffic of the device the filter sits on goes nowhere with it.
public enum TrafficAction {
    /// RTM_GETACTION; the kernel answers a dump with messages of the request's type (older
    /// kernels with RTM_NEWACTION).
    public static let getAction: UInt16 = 50
    public static let newAction: UInt16 = 48
    /// TCA_ACT_TAB, TCA_ACT_KIND, TCA_ACT_OPTIONS, and TCA_MIRRED_PARMS and TCA_MIRRED_BLOCKID
    /// (after TCA_MIRRED_TM 1, PARMS 2, PAD 3) inside the options.
    static let table: UInt16 = 1
    static let kind: UInt16 = 1
    static let options: UInt16 = 2
    static let mirredParameters: UInt16 = 2
    static let mirredBlock: UInt16 = 4
    /// Size of `struct tc_mirred`: tc_gen (index, capab, action, refcnt, bindcnt), eaction, ifindex.
    static let mirredSize = 28
    static let mirredKind: [UInt8] = Array("mirred".utf8) + [0]

    /// A dump request for every `mirred` action of the namespace.
    public static func mirredDumpRequest(sequence: UInt32) -> [UInt8] {
        var payload: [UInt8] = [0, 0, 0, 0]              // struct tcamsg
        var kindAttribute: [UInt8] = []
        kindAttribute.appendNative(UInt16(4 + mirredKind.count))
        kindAttribute.appendNative(kind)
        kindAttribute += mirredKind
        kindAttribute.padTo4()
        var first: [UInt8] = []
        first.appendNative(UInt16(4 + kindAttribute.count))
        first.appendNative(UInt16(1))
        first += kindAttribute
        payload.appendNative(UInt16(4 + first.count))
        payload.appendNative(table)
        payload += first
        return NetlinkMessage.encode(type: getAction, flags: NetlinkFlags.request | NetlinkFlags.dump, sequence: sequence, payload: payload)
    }

    /// One `mirred` action as a dump lists it: the device it sends packets to (0 when it sends
    /// them to a block, or when its device is gone), the shared block whose every port it sends
    /// them to (nil: none), and how many filters use it (an action no filter binds moves no
    /// packets).
    public struct Mirred: Equatable, Sendable {
        public var targetIndex: UInt32
        public var blockIndex: UInt32?
        public var boundFilters: Int32

        public init(targetIndex: UInt32, blockIndex: UInt32? = nil, boundFilters: Int32) {
            self.targetIndex = targetIndex
            self.blockIndex = blockIndex
            self.boundFilters = boundFilters
        }
    }

    /// The `mirred` actions one reply lists (actions of other kinds are skipped). Throws for a
    /// payload shorter than `struct tcamsg`, or attributes that do not parse.
    public static func decodeMirred(_ payload: ArraySlice<UInt8>) throws(NetlinkError) -> [Mirred] {
        guard payload.count >= 4 else { throw .truncated(what: "tcamsg", need: 4, have: payload.count) }
        var found: [Mirred] = []
        var failure: NetlinkError?
        var attributes = AttributeDecoder(payload.dropFirst(4))
        while attributes.next() {
            guard attributes.type == table else { continue }
            attributes.nested { actions in
                while actions.next() {
                    actions.nested { action in
                        var isMirred = false
                        var options: ArraySlice<UInt8>?
                        while action.next() {
                            switch action.type {
                            case kind: isMirred = action.data.prefix { $0 != 0 }.elementsEqual(mirredKind.dropLast())
                            case TrafficAction.options: options = action.data
                            default: break
                            }
                        }
                        guard isMirred, let options else { return }
                        var inner = AttributeDecoder(options)
                        var parameters: Mirred?
                        var block: UInt32?
                        while inner.next() {
                            switch inner.type {
                            case mirredParameters:
                                let data = inner.data
                                guard data.count >= mirredSize else {
                                    failure = .truncated(what: "tc_mirred", need: mirredSize, have: data.count)
                                    continue
                                }
                                parameters = Mirred(targetIndex: data.readNative(UInt32.self, at: data.startIndex + 24),
                                                    boundFilters: data.readNative(Int32.self, at: data.startIndex + 16))
                            case mirredBlock:
                                block = inner.uint32()
                            default: break
                            }
                        }
                        if let error = inner.error {
                            failure = error
                        } else if var parameters {
                            parameters.blockIndex = block
                            found.append(parameters)
                        }
                    }
                }
            }
        }
        try attributes.finish()
        if let failure { throw failure }
        return found
    }
}
