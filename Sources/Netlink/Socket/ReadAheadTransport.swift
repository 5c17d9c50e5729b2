#if os(Linux)
import Foundation

/// A transport that receives ahead of its reader: after each request is sent, a thread reads the
/// kernel's replies until the message that ends the exchange (NLMSG_DONE or NLMSG_ERROR with the
/// request's sequence number) and queues them, so that decoding one datagram overlaps with the
/// kernel building the next. A large link dump spends most of its time in the kernel; with this
/// the decoding cost disappears behind it.
///
/// It keeps the request/reply order of the transport it wraps: one exchange at a time.
public final class ReadAheadTransport: NetlinkTransport, @unchecked Sendable {
    private let inner: any NetlinkTransport
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var queue: [Result<[UInt8], any Error>] = []
    private var readerRunning = false

    public init(wrapping inner: any NetlinkTransport) {
        self.inner = inner
    }

    public func send(_ datagram: [UInt8]) throws {
        condition.lock()
        // A previous exchange must have been read to its end before a new one starts.
        while readerRunning { condition.wait() }
        queue.removeAll()
        condition.unlock()
        try inner.send(datagram)
        guard datagram.count >= NetlinkHeader.size else { return }
        let sequence = datagram[...].readNative(UInt32.self, at: 8)
        condition.lock()
        readerRunning = true
        condition.unlock()
        let thread = Thread { [self] in readUntilEnd(of: sequence) }
        thread.stackSize = 256 * 1024
        thread.start()
    }

    public func receive() throws -> [UInt8] {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty {
            guard readerRunning else { throw NetlinkError.unexpectedReply(operation: "receive", detail: "no reply is pending") }
            condition.wait()
        }
        return try queue.removeFirst().get()
    }

    private func readUntilEnd(of sequence: UInt32) {
        var finished = false
        while !finished {
            let result = Result { try inner.receive() }
            switch result {
            case let .success(datagram):
                // A datagram that cannot be split is handed on; the client reports the error.
                let messages = (try? NetlinkMessage.split(datagram[...])) ?? []
                finished = messages.isEmpty || messages.contains { message in
                    message.header.sequence == sequence
                        && (message.header.type == NetlinkType.done || message.header.type == NetlinkType.error)
                }
            case .failure:
                finished = true
            }
            condition.lock()
            queue.append(result)
            if finished { readerRunning = false }
            condition.broadcast()
            condition.unlock()
        }
    }
}
#endif
