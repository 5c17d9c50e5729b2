/// Something that carries netlink datagrams to the kernel and back.
///
/// On Linux this is a `NetlinkSocket`; tests put a scripted stand-in here to exercise the dump
/// and acknowledgement logic with exact bytes.
public protocol NetlinkTransport: AnyObject {
    /// Sends one request datagram.
    func send(_ datagram: [UInt8]) throws
    /// Waits for and returns one datagram, whole.
    func receive() throws -> [UInt8]
    /// Waits for one datagram and puts it, whole, in `datagram`, reusing that array's storage
    /// when it can, so a long dump does not need fresh memory for every datagram.
    func receive(into datagram: inout [UInt8]) throws
    /// Takes back a datagram that `receive` returned and its reader has finished with, so that its
    /// storage can hold a later one. Giving nothing back is always correct, only slower.
    func recycle(_ datagram: consuming [UInt8])
}

extension NetlinkTransport {
    public func receive(into datagram: inout [UInt8]) throws { datagram = try receive() }
    public func recycle(_ datagram: consuming [UInt8]) {}
}

/// Runs rtnetlink conversations over a transport: dumps that end in NLMSG_DONE, requests that end
/// in an acknowledgement, sequence numbers, kernel errors with their extended-ack text, and
/// interrupted dumps.
///
/// A client is not thread-safe; give each thread its own.
public final class RtnetlinkClient {
    let transport: any NetlinkTransport
    private var sequence: UInt32
    /// How many times a dump is retried when the kernel marks it interrupted before giving up.
    public var maxDumpAttempts = 5

    public init(transport: any NetlinkTransport, firstSequence: UInt32 = 1) {
        self.transport = transport
        self.sequence = firstSequence &- 1
    }

    func nextSequence() -> UInt32 {
        sequence &+= 1
        if sequence == 0 { sequence = 1 }
        return sequence
    }

    /// Runs a dump and hands each data message to `body`, then checks that the kernel did not mark
    /// it interrupted. Throws `NetlinkError.dumpInterrupted` (after reading to NLMSG_DONE, so the
    /// socket is ready for the next request) when it did: whatever `body` saw must be discarded.
    public func dumpOnce(operation: String, request: (UInt32) -> [UInt8], _ body: (NetlinkMessage) throws -> Void) throws {
        let sequence = nextSequence()
        try transport.send(request(sequence))
        var interrupted = false
        while true {
            let datagram = try transport.receive()
            do {
                var messages = NetlinkMessage.Cursor(datagram[...])
                while let message = try messages.next() {
                    guard try belongs(message, to: sequence, operation: operation) else { continue }
                    if message.header.flags & NetlinkFlags.dumpInterrupted != 0 { interrupted = true }
                    switch message.header.type {
                    case NetlinkType.done:
                        // A dump that failed part-way reports the negative errno here.
                        if message.payload.count >= 4 {
                            let code = message.payload.readNative(Int32.self, at: message.payload.startIndex)
                            if code < 0 { throw NetlinkError.kernel(operation: operation, errno: -code, message: nil) }
                        }
                        if interrupted { throw NetlinkError.dumpInterrupted(operation: operation, attempts: 1) }
                        return
                    case NetlinkType.error:
                        let error = try ErrorMessage.decode(message.payload, flags: message.header.flags)
                        if error.errno != 0 {
                            throw NetlinkError.kernel(operation: operation, errno: error.errno, message: error.message)
                        }
                    case NetlinkType.noop:
                        continue
                    case NetlinkType.overrun:
                        throw NetlinkError.unexpectedReply(operation: operation, detail: "NLMSG_OVERRUN: data was lost")
                    default:
                        try body(message)
                    }
                }
            }
            // The messages, slices of the datagram, are gone: its storage can take the next one.
            transport.recycle(consume datagram)
        }
    }

    /// Runs a dump until the kernel returns it uninterrupted, decoding each message with `decode`
    /// (nil skips a message), at most `maxDumpAttempts` times.
    public func dump<T>(operation: String, request: (UInt32) -> [UInt8], decode: (NetlinkMessage) throws -> T?) throws -> [T] {
        var results: [T] = []
        try dumpEach(operation: operation, request: request, restart: { results.removeAll() }) { message in
            if let value = try decode(message) { results.append(value) }
        }
        return results
    }

    /// Runs a dump until the kernel returns it uninterrupted, at most `maxDumpAttempts` times,
    /// handing each data message to `body` as it arrives. `restart` runs before every attempt:
    /// whatever `body` kept from an interrupted attempt must be dropped there.
    public func dumpEach(operation: String, request: (UInt32) -> [UInt8], restart: () -> Void,
                         _ body: (NetlinkMessage) throws -> Void) throws {
        for _ in 0..<maxDumpAttempts {
            restart()
            do {
                try dumpOnce(operation: operation, request: request, body)
                return
            } catch NetlinkError.dumpInterrupted {
                continue
            }
        }
        throw NetlinkError.dumpInterrupted(operation: operation, attempts: maxDumpAttempts)
    }

    /// Sends a request that carries NLM_F_ACK and returns the replies that came before the
    /// acknowledgement. A refusal throws `NetlinkError.kernel` with the extended-ack text; an
    /// answer that cannot be read, once the request is sent, throws `NetlinkError.unanswered`.
    @discardableResult
    public func request(operation: String, _ build: (UInt32) -> [UInt8]) throws -> [NetlinkMessage] {
        let sequence = nextSequence()
        var datagram = build(sequence)
        // Ask for the acknowledgement that ends the exchange.
        if datagram.count >= NetlinkHeader.size {
            let flags = datagram[...].readNative(UInt16.self, at: 6) | NetlinkFlags.ack
            withUnsafeBytes(of: flags) { datagram.replaceSubrange(6..<8, with: $0) }
        }
        try transport.send(datagram)
        var replies: [NetlinkMessage] = []
        // Sent, the request is the kernel's: only its own refusal says it was not carried out.
        // Anything else that keeps its answer from being read leaves that unknown.
        do {
            while true {
                let received = try transport.receive()
                for message in try NetlinkMessage.split(received[...]) {
                    guard try belongs(message, to: sequence, operation: operation) else { continue }
                    if message.header.type == NetlinkType.error {
                        let error = try ErrorMessage.decode(message.payload, flags: message.header.flags)
                        if error.errno != 0 {
                            throw NetlinkError.kernel(operation: operation, errno: error.errno, message: error.message)
                        }
                        return replies
                    }
                    replies.append(message)
                }
            }
        } catch let error as NetlinkError {
            if case .kernel = error { throw error }
            throw NetlinkError.unanswered(operation: operation, detail: "\(error)")
        } catch {
            throw NetlinkError.unanswered(operation: operation, detail: "\(error)")
        }
    }

    /// Whether a message answers the request in flight. Replies to earlier requests (left over
    /// after an error) are skipped; anything else is a protocol violation.
    private func belongs(_ message: NetlinkMessage, to sequence: UInt32, operation: String) throws -> Bool {
        if message.header.sequence == sequence { return true }
        if message.header.sequence < sequence { return false }
        throw NetlinkError.unexpectedReply(
            operation: operation,
            detail: "sequence \(message.header.sequence) while waiting for \(sequence)"
        )
    }
}
