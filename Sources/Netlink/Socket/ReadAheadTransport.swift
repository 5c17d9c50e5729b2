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
///
/// The kernel fills the next dump datagram inside the `recv` that returns the previous one, so
/// whatever the thread does between two receives delays the whole dump. It therefore only reads
/// headers to find the end, wakes its reader every few datagrams rather than for each one, and
/// receives into datagrams its reader has given back (`recycle`), so that it does not depend on
/// the allocator to avoid page faults: a C reader given fresh memory for every datagram of a
/// 10,000-device dump took 12 % longer.
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
            _ = shared.condition.wait(until: Date(timeIntervalSinceNow: Shared.longestUnreadWait))
        }
        return try shared.queue.removeFirst().get()
    }

    public func recycle(_ datagram: consuming [UInt8]) {
        let shared = self.shared
        shared.condition.lock()
        if shared.spare.count < Shared.maxSpare { shared.spare.append(datagram) }
        shared.condition.unlock()
    }

    /// What the transport and its thread share; the thread holds this, not the transport, so the
    /// transport's end (deinit) is what tells the thread to stop.
    private final class Shared: @unchecked Sendable {
        let inner: any NetlinkTransport
        let condition = NSCondition()
        // Guarded by `condition`.
        var queue: [Result<[UInt8], any Error>] = []
        /// Datagrams given back by the reader, whose storage the next receives reuse.
        var spare: [[UInt8]] = []
        var request: [UInt8]?
        var exchangeRunning = false
        var closing = false

        /// How many given-back datagrams are kept: enough for the reader to fall that far behind
        /// without the thread needing new memory, few enough to bound what is kept (64 KiB each).
        static let maxSpare = 32
        /// The thread wakes its reader once this many datagrams wait, or when the exchange ends:
        /// a wake-up is a system call between two of the kernel's fills, and waking the reader for
        /// every datagram of a 10,000-device dump made the dump about 3 % slower.
        static let wakeBatch = 8
        /// A reader left asleep looks at the queue by itself after this long (seconds), so a
        /// datagram never waits long unread when replies come slowly.
        static let longestUnreadWait = 0.002

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
                _ = deliver(.failure(error), finished: true)
                return
            }
            guard datagram.count >= NetlinkHeader.size else {
                _ = deliver(.failure(NetlinkError.truncated(what: "netlink request", need: NetlinkHeader.size, have: datagram.count)), finished: true)
                return
            }
            let sequence = datagram[...].readNative(UInt32.self, at: 8)
            var finished = false
            var buffer: [UInt8] = []
            while !finished {
                let result: Result<[UInt8], any Error>
                do {
                    try inner.receive(into: &buffer)
                    // A datagram that cannot be read ends the exchange; the client reports why.
                    finished = NetlinkMessage.endsExchange(buffer[...], sequence: sequence)
                    result = .success(buffer)
                } catch {
                    finished = true
                    result = .failure(error)
                }
                buffer = deliver(result, finished: finished)
            }
        }

        /// Queues one result for the reader and returns storage for the next datagram: one the
        /// reader gave back, or an empty array.
        private func deliver(_ result: consuming Result<[UInt8], any Error>, finished: Bool) -> [UInt8] {
            condition.lock()
            queue.append(result)
            if finished { exchangeRunning = false }
            let next = spare.popLast() ?? []
            if finished || queue.count >= Self.wakeBatch { condition.broadcast() }
            condition.unlock()
            return next
        }
    }
}
#endif
