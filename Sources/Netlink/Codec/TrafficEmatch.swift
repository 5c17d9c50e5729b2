/// Extended matches of traffic-control filters (`tc filter … basic match 'meta(rt_iif eq 7)'`;
/// include/uapi/linux/pkt_cls.h and tc_ematch/tc_em_meta.h), read for the meta matches that
/// compare a device: the route's input device (`rt_iif`), the device the packet is on (`dev`)
/// and the device the sending socket is bound to (`sk_bound_if`), each by ifindex or by name.
/// The kernel keeps an index as a number, which no notifier clears when the device goes, just as
/// u32's `indev` (see `TrafficFilter`).
///
/// A dump lays a tree out as TCA_EMATCH_TREE_HDR and TCA_EMATCH_TREE_LIST, whose attribute
/// `n` is match `n`: a `struct tcf_ematch_hdr` (match id, kind, flags, pad), then what the
/// match's kind dumps. A meta match dumps TCA_EM_META_HDR (`struct tcf_meta_hdr`: the left and
/// right `tcf_meta_val`, each a kind holding type and id, a shift and, on the left, the
/// operator), then TCA_EM_META_LVALUE and TCA_EM_META_RVALUE: a `value` side's number (4 or 8
/// bytes) or bytes, and for a device side the mask applied to it (none: 0).
public enum TrafficEmatch {
    /// TCA_EMATCH_TREE_LIST.
    static let treeList: UInt16 = 2
    /// TCF_EM_META, the kind of a meta match.
    static let metaKind: UInt16 = 4
    /// TCA_EM_META_HDR, TCA_EM_META_LVALUE, TCA_EM_META_RVALUE.
    static let metaHeader: UInt16 = 1, leftValue: UInt16 = 2, rightValue: UInt16 = 3
    /// TCF_META_ID_VALUE, TCF_META_ID_DEV, TCF_META_ID_RTIIF, TCF_META_ID_SK_BOUND_IF.
    static let valueID: UInt16 = 0, deviceID: UInt16 = 5, routeInputID: UInt16 = 15, socketDeviceID: UInt16 = 19
    /// TCF_META_TYPE_VAR and TCF_META_TYPE_INT.
    static let variableType: UInt16 = 0, integerType: UInt16 = 1
    /// TCF_EM_INVERT, the flag of a negated match.
    static let invert: UInt16 = 1 << 2
    /// TCF_EM_OPND_EQ, TCF_EM_OPND_GT, TCF_EM_OPND_LT.
    static let operators: [UInt8: String] = [0: "eq", 1: "gt", 2: "lt"]
    /// The device ids, by the name `tc` gives each.
    static let deviceIDs: [UInt16: String] = [deviceID: "dev", routeInputID: "rt_iif", socketDeviceID: "sk_bound_if"]

    /// One meta match that compares a device: the device (`.some` for a comparison that may take
    /// in several), and the match in words.
    public struct Comparison: Equatable, Sendable {
        public var device: TrafficFilter.InputDevice
        public var words: String
    }

    /// The meta matches of one extended-match tree (the payload of TCA_BASIC_EMATCHES or its
    /// like) that compare a device with a value: each equal to one index or name, or else `.some`.
    /// A match comparing two of the packet's own values names no device and is left out. Throws
    /// when attributes do not parse or a meta header is short.
    public static func deviceComparisons(_ tree: ArraySlice<UInt8>) throws(NetlinkError) -> [Comparison] {
        var found: [Comparison] = []
        var attributes = AttributeDecoder(tree)
        while attributes.next() {
            guard attributes.type == treeList else { continue }
            var list = AttributeDecoder(attributes.data)
            while list.next() {
                let match = list.data
                // struct tcf_ematch_hdr: matchid, kind, flags, pad.
                guard match.count >= 8 else { throw .truncated(what: "tcf_ematch_hdr", need: 8, have: match.count) }
                guard match.readNative(UInt16.self, at: match.startIndex + 2) == metaKind else { continue }
                guard var comparison = try meta(match.dropFirst(8)) else { continue }
                // TCF_EM_INVERT: the match is negated, and still names its device.
                if match.readNative(UInt16.self, at: match.startIndex + 4) & invert != 0 {
                    comparison.words = "not " + comparison.words
                    if case .some = comparison.device { comparison.device = .some(comparison.words) }
                }
                found.append(comparison)
            }
            try list.finish()
        }
        try attributes.finish()
        return found
    }

    /// One side of a meta match: its type, id, shift and the value that came with it.
    struct Side {
        var type: UInt16
        var id: UInt16
        var shift: UInt8
        var value: ArraySlice<UInt8> = []

        /// The value as a number (0 when it is neither 4 nor 8 bytes).
        var number: UInt64 {
            switch value.count {
            case 4: UInt64(value.readNative(UInt32.self, at: value.startIndex))
            case 8: value.readNative(UInt64.self, at: value.startIndex)
            default: 0
            }
        }

        /// The value in words, as `tc` takes it.
        var text: String {
            if id != TrafficEmatch.valueID { return TrafficEmatch.deviceIDs[id] ?? "id \(id)" }
            if type == TrafficEmatch.integerType { return "\(number)" }
            return "\"" + String(decoding: value, as: UTF8.self) + "\""
        }
    }

    /// The device comparison of one meta match's attributes, or nil when it compares no device
    /// with a value.
    static func meta(_ attributes: ArraySlice<UInt8>) throws(NetlinkError) -> Comparison? {
        var sides: [Side] = []
        var op: UInt8 = 0
        var values: [UInt16: ArraySlice<UInt8>] = [:]
        var decoder = AttributeDecoder(attributes)
        while decoder.next() {
            switch decoder.type {
            case metaHeader:
                let header = decoder.data
                guard header.count >= 8 else { throw .truncated(what: "tcf_meta_hdr", need: 8, have: header.count) }
                for offset in [0, 4] {
                    let kind = header.readNative(UInt16.self, at: header.startIndex + offset)
                    sides.append(Side(type: (kind >> 12) & 0xF, id: kind & 0x7FF, shift: header[header.startIndex + offset + 2]))
                }
                op = header[header.startIndex + 3]
            case leftValue, rightValue: values[decoder.type] = decoder.data
            default: break
            }
        }
        try decoder.finish()
        guard sides.count == 2 else { return nil }
        sides[0].value = values[leftValue] ?? []
        sides[1].value = values[rightValue] ?? []
        // One side a device, the other a value the user gave.
        guard let deviceSide = sides.firstIndex(where: { deviceIDs[$0.id] != nil }), sides[1 - deviceSide].id == valueID else { return nil }
        let device = sides[deviceSide], value = sides[1 - deviceSide]
        let words = "meta(\(sides[0].text) \(operators[op] ?? "op \(op)") \(sides[1].text))"
        // A number's device side carries its mask (0 or all ones: none); a shift cuts a number's
        // low bits or a name's end (a prefix). Either, or an operator other than equality, takes
        // in a range.
        let mask = device.number
        let exact = op == 0 && device.shift == 0 && value.shift == 0
            && (device.type == variableType || mask == 0 || mask & 0xFFFF_FFFF == 0xFFFF_FFFF)
        guard exact else { return Comparison(device: .some(words), words: words) }
        if device.type == integerType {
            let index = value.number
            // An index above 32 bits matches no device; 0 is no device either.
            guard index != 0, index <= UInt64(Int32.max) else { return nil }
            return Comparison(device: .index(UInt32(index)), words: words)
        }
        guard !value.value.isEmpty else { return nil }
        return Comparison(device: .name(Array(value.value.prefix { $0 != 0 })), words: words)
    }
}
