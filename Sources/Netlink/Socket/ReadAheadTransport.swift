#if os(Linux)
import Foundation

/// A transport that receives ahead of its reader: a thread of its own sends each request and reads
/// the kernel's replies until the message that ends the exchange (NLMSG_DONE or NLMSG_ERROR with
/// the request's sequence number), queueing them, so that decoding one datagram overlaps with the
/// kernel building the next. A large link dump spends most of its time in the kernel; with this
/// the decoding cost disappears behind it.
///
/// The thread is started when the transport is made, so it is already waiting when the request
/// comes, and it sends the request itself: the kernel's work on a dump request (sizing every
/// device, then filling the first datagram) runs on it from the start. A request that cannot be
/// sent is reported by the next `receive`. It keeps the request/reply order of the transport it
/// wraps: one exchange at a time.
public final class ReadAheadTransport: NetlinkTransport, @unchecked Sendable {
    private let shared: Shared

    public init(wrapping inner: any NetlinkTransport) {
        shared = Shared(inner: inner)
        let shared = self.shared
        let thread = Thread { shared.serve() }
        thread.stackSize = 256 * 1024
        thread.start()
    }

    deinit {
        shared.condition.lock()
        shared.closing = true
        shared.condition.broadcast()
        shared.condition.unlock()
    }

    public func send(_ datagram: [UInt8]) throws {
        let shared = self.shared
        shared.condition.lock()
        // A previous exchange must have been read to its end before a new one starts.
        while shared.exchangeRunning { shared.condition.wait() }
        shared.queue.removeAll()
        shared.request = datagram
        shared.exchangeRunning = true
        shared.condition.broadcast()
        shared.condition.unlock()
    }

    public func receive() throws -> [UInt8] {
        let shared = self.shared
        shared.condition.lock()
        defer { shared.condition.unlock() }
        while shared.queue.isEmpty {
            guard shared.exchangeRunning else { throw NetlinkError.unexpectedReply(operation: "receive", detail: "no reply is pending") }
            shared.condition.wait()
        }
        return try shared.queue.removeFirst().get()
    }

    /// What the transport and its thread share; the thread holds this, not the transport, so the
    /// transport's end (deinit) is what tells the thread to stop.
    private final class Shared: @unchecked Sendable {
        let inner: any NetlinkTransport
        let condition = NSCondition()
        // Guarded by `condition`.
        var queue: [Result<[UInt8], any Error>] = []
        var request: [UInt8]?
        var exchangeRunning = false
        var closing = false

        init(inner: any NetlinkTransport) { self.inner = inner }

        /// Runs exchanges as requests come, until the transport goes away.
        func serve() {
            while true {
                condition.lock()
                while request == nil, !closing { condition.wait() }
                guard let datagram = request else {
                    condition.unlock()
                    return
                }
                request = nil
                condition.unlock()
                exchange(datagram)
            }
        }

        private func exchange(_ datagram: [UInt8]) {
            do {
                try inner.send(datagram)
            } catch {
                deliver(.failure(error), finished: true)
                return
            }
            guard datagram.count >= NetlinkHeader.size else {
                deliver(.failure(NetlinkError.truncated(what: "netlink request", need: NetlinkHeader.size, have: datagram.count)), finished: true)
                return
            }
            let sequence = datagram[...].readNative(UInt32.self, at: 8)
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
                deliver(result, finished: finished)
            }
        }

        private func deliver(_ result: Result<[UInt8], any Error>, finished: Bool) {
            condition.lock()
            queue.append(result)
            if finished { exchangeRunning = false }
            condition.broadcast()
            condition.unlock()
        }
    }
}
#endif
