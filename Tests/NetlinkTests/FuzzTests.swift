import Testing
import TestSupport
@testable import Netlink

/// Property tests: the decoders must turn any bytes into a value or an error, never a crash; and
/// what the encoder writes, the decoder reads back.
@Suite struct FuzzTests {
    /// Runs every decoder over `bytes`, as a datagram and as a bare payload.
    static func decodeEverything(_ bytes: [UInt8]) -> Int {
        var decoded = 0
        let messages = try? NetlinkMessage.split(bytes[...])
        // The read-ahead thread's header-only end check agrees with the messages `split` finds.
        for sequence: UInt32 in [0, 1, messages?.first?.header.sequence ?? 2] {
            let ends = messages.map { (found: [NetlinkMessage]) -> Bool in
                found.isEmpty || found.contains { $0.header.sequence == sequence && ($0.header.type == NetlinkType.done || $0.header.type == NetlinkType.error) }
            } ?? true
            precondition(NetlinkMessage.endsExchange(bytes[...], sequence: sequence) == ends)
        }
        if let messages {
            for message in messages {
                // Every payload lies inside the datagram.
                precondition(message.payload.startIndex >= bytes.startIndex && message.payload.endIndex <= bytes.endIndex)
                decoded += decodePayload(message.payload, flags: message.header.flags)
            }
        }
        return decoded + decodePayload(bytes[...], flags: 0x300)
    }

    static func decodePayload(_ payload: ArraySlice<UInt8>, flags: UInt16) -> Int {
        var decoded = 0
        let link = try? LinkMessage.decode(payload)
        if link != nil { decoded += 1 }
        // The attachment reader reads what `decode` reads of those fields, and refuses nothing
        // `decode` takes (it may take what `decode` refuses inside attributes it skips).
        let attachment = try? LinkMessage.decodeAttachment(payload)
        if let link { precondition(attachment == CapturedMessageTests.attachment(of: link)) }
        if attachment == nil { precondition(link == nil) }
        let address = try? AddressMessage.decode(payload)
        if address != nil { decoded += 1 }
        // The in-place multicast reader reads what `decode` reads of those fields, and refuses
        // nothing `decode` takes (it may take what `decode` refuses inside attributes it skips).
        let entry = try? AddressMessage.multicastEntry(payload)
        if entry == nil { precondition(address == nil) }
        if let address, let entry {
            precondition(entry.family == address.family && entry.index == address.index && entry.group.map(Array.init) == address.multicast)
        }
        if (try? RouteMessage.decode(payload)) != nil { decoded += 1 }
        // A route that decodes is handed back as the same route, its state flags dropped.
        if var route = try? RouteMessage.decode(payload) {
            let request = try? Replay.addRouteRequest(fromDumped: payload, sequence: 1)
            let replayed = request.flatMap { try? NetlinkMessage.split($0[...]).first }.flatMap { try? RouteMessage.decode($0.payload) }
            route.flags &= 0x4
            for position in route.nextHops.indices { route.nextHops[position].flags &= 0x4 }
            precondition(replayed == route)
        }
        _ = try? Replay.addAddressRequest(fromDumped: payload, sequence: 1)
        _ = try? Replay.deleteAddressRequest(fromDumped: payload, sequence: 1)
        if (try? SocketDiagnostics.decode(payload)) != nil { decoded += 1 }
        if (try? NexthopMessage.decode(payload)) != nil { decoded += 1 }
        // A policy rule that decodes holds addresses of its family's size only.
        if let rule = try? PolicyRuleMessage.decode(payload) {
            decoded += 1
            for address in [rule.source, rule.destination] { if let address { precondition(address.count == (rule.family == 10 ? 16 : 4)) } }
        }
        if (try? SocketDiagnostics.decodeXDP(payload)) != nil { decoded += 1 }
        if (try? SocketDiagnostics.decodePacket(payload)) != nil { decoded += 1 }
        if (try? TrafficAction.decodeMirred(payload)) != nil { decoded += 1 }
        if (try? TrafficBlock.decodePorts(payload)) != nil { decoded += 1 }
        if (try? TrafficFilter.decodeIndexMatch(payload)) != nil { decoded += 1 }
        if let matches = try? TrafficFilter.decodeIndexMatches(payload) {
            decoded += 1
            // A meta match's device compared exactly is a real index.
            for match in matches where match.meta != nil {
                if case let .index(index) = match.device { precondition(index != 0 && index <= UInt32(Int32.max)) }
            }
        }
        if (try? TrafficEmatch.deviceComparisons(payload)) != nil { decoded += 1 }
        if (try? TrafficFilter.places(ofQdisc: payload)) != nil { decoded += 1 }
        if (try? TrafficFilter.place(ofClass: payload)) != nil { decoded += 1 }
        if (try? NftablesRule.decodeRule(payload)) != nil { decoded += 1 }
        if (try? NftablesRule.decodeSetElementValues(payload)) != nil { decoded += 1 }
        // A set that decodes says where its indices are within its key; its elements give at most
        // a bounded number of indices each.
        if let set = try? NftablesRule.decodeSet(payload) {
            decoded += 1
            precondition(set.indexOffsets.allSatisfy { $0 >= 0 && $0 + 4 <= max(Int(set.keyLength), 4) })
        }
        if let listed = try? NftablesRule.decodeSetElementKeys(payload, offsets: [0, 4, 60], networkOrder: true) {
            decoded += 1
            // At most three indices per element of 12 bytes or more, and each interval bounded.
            precondition(listed.elements.count <= payload.count / 4)
            precondition(NftablesRule.indices(of: listed.elements, limit: 256).keys.count <= listed.elements.count * 256)
        }
        if (try? NftablesRule.decodeHooked(payload, flowtable: false)) != nil { decoded += 1 }
        if (try? NftablesRule.decodeHooked(payload, flowtable: true)) != nil { decoded += 1 }
        // A neighbour entry that decodes is asked for again as itself.
        if let neighbour = try? NeighbourMessage.decode(payload) {
            decoded += 1
            if let request = neighbour.addRequest(index: neighbour.index, sequence: 1) {
                var asked = neighbour
                asked.type = 0
                // A forwarding entry's device is not asked for again: a neighbour entry has none.
                asked.viaIndex = nil
                if neighbour.flags & NeighbourMessage.proxy != 0 { asked.state = NeighbourMessage.permanent }
                // A managed entry is asked for with no state and no link-layer address (the
                // kernel resolves it), and no flags are sent where there are none.
                else if neighbour.isManaged { asked.state = 0 }
                if neighbour.isManaged { asked.linkLayerAddress = nil }
                if asked.extendedFlags == 0 { asked.extendedFlags = nil }
                let again = try? NetlinkMessage.split(request[...]).first.map { try NeighbourMessage.decode($0.payload) }
                precondition(again == .some(.some(asked)))
            }
        }
        // A neighbour table's parameters hold only what was sent, and a device's name one.
        if let table = try? NeighbourTableMessage.decode(payload) {
            decoded += 1
            precondition(table.hasParameters || (table.index == nil && table.values.isEmpty))
            // The reader that looks no further than the device takes every message `decode` takes.
            precondition(NeighbourTableMessage.parametersIndex(payload) != nil)
        }
        if (try? ErrorMessage.decode(payload, flags: flags)) != nil { decoded += 1 }
        if (try? NamespaceIDMessage.decodeID(payload)) != nil { decoded += 1 }
        if (try? XfrmPolicy.decode(payload)) != nil { decoded += 1 }
        if let endpoint = try? MptcpEndpoint.decode(payload) {
            decoded += 1
            precondition([0, 4, 16].contains(endpoint.address.count))
        }
        if (try? GenericNetlink.decodeFamilyID(payload)) != nil { decoded += 1 }
        if let label = try? AddressLabel.decode(payload) {
            decoded += 1
            precondition([0, 16].contains(label.prefix.count))
        }
        if (try? LinkGroupNotice.decode(payload)) != nil { decoded += 1 }
        if (try? LinkMessage.targetNamespaceID(payload)) != nil { decoded += 1 }
        var attributes = AttributeDecoder(payload)
        while attributes.next() {
            _ = attributes.string()
            attributes.nested { inner in while inner.next() { _ = inner.uint32() } }
        }
        return decoded
    }

    @Test func randomBytesNeverCrash() {
        var generator = SplitMix64(state: 0x7475_6e77_6172_6465)
        for _ in 0..<20_000 {
            let count = Int.random(in: 0..<256, using: &generator)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // Give some inputs plausible lengths so the walk goes deeper than the first header.
            if count >= 4, Bool.random(using: &generator) {
                withUnsafeBytes(of: UInt32(count)) { bytes.replaceSubrange(0..<4, with: $0) }
            }
            _ = Self.decodeEverything(bytes)
        }
    }

    @Test(arguments: ["link-dump", "addr-dump", "route-dump", "error-extack", "nft-rule-dump", "nft-setelem-dump", "tc-action-dump", "qdisc-dump", "nft-tee-rule-dump"])
    func truncatedAndMutatedCapturesNeverCrash(name: String) throws {
        let original = try CapturedMessageTests.fixture(name)
        // Every truncation of the first messages.
        for end in stride(from: 0, through: min(original.count, 3000), by: 1) {
            _ = Self.decodeEverything(Array(original[0..<end]))
        }
        // Random byte flips over the whole capture.
        var generator = SplitMix64(state: UInt64(original.count))
        for _ in 0..<2_000 {
            var mutated = original
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                mutated[Int.random(in: 0..<mutated.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            _ = Self.decodeEverything(mutated)
        }
        // The unmutated capture decodes fully: the mutations above start from valid input.
        #expect(Self.decodeEverything(original) > 0)
    }

    @Test func encodedAttributesDecodeToTheSameValues() throws {
        var generator = SplitMix64(state: 42)
        for _ in 0..<5_000 {
            let value = UInt32.random(in: 0...UInt32.max, using: &generator)
            let name = String((0..<Int.random(in: 0..<15, using: &generator)).map { _ in Character(UnicodeScalar(UInt8.random(in: 97...122, using: &generator))) })
            var encoder = AttributeEncoder()
            encoder.append(type: 4, uint32: value)
            encoder.appendNested(type: 18) { inner in inner.append(type: 1, string: name) }
            encoder.append(type: 3, string: name)
            var decoder = AttributeDecoder(encoder.bytes[...])
            var seen: [String] = []
            while decoder.next() {
                switch decoder.type {
                case 4: seen.append("u32:\(decoder.uint32())")
                case 18: decoder.nested { inner in while inner.next() { seen.append("nested:\(inner.string())") } }
                case 3: seen.append("name:\(decoder.string())")
                default: seen.append("other")
                }
            }
            try decoder.finish()
            #expect(seen == ["u32:\(value)", "nested:\(name)", "name:\(name)"])
            #expect(encoder.bytes.count % 4 == 0)
        }
    }

    @Test func malformedAttributesAreErrors() {
        // Length 2 is shorter than an attribute header.
        var short = AttributeDecoder([2, 0, 1, 0, 0, 0, 0, 0][...])
        let shortMoved = short.next()
        #expect(!shortMoved)
        #expect(short.error != nil)
        // Claims 12 bytes, has 8.
        var truncated = AttributeDecoder([12, 0, 1, 0, 0, 0, 0, 0][...])
        let truncatedMoved = truncated.next()
        #expect(!truncatedMoved)
        #expect(truncated.error == .truncated(what: "attribute of type 1", need: 12, have: 8))
        // A u32 attribute holding 2 bytes.
        var wrongSize = AttributeDecoder([6, 0, 4, 0, 1, 2, 0, 0][...])
        let wrongSizeMoved = wrongSize.next()
        #expect(wrongSizeMoved)
        let value = wrongSize.uint32()
        #expect(value == 0)
        #expect(throws: NetlinkError.self) { try wrongSize.finish() }
        // A message header that claims more than the datagram holds.
        #expect(throws: NetlinkError.self) { try NetlinkMessage.split([64, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0][...]) }
    }
}
