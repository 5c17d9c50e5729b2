import Foundation

/// Work on consecutive ranges of `0..<count`, one range per thread: the judging and the JSON
/// writing of tens of thousands of interfaces.
enum Chunked {
    /// How many chunks to make of `count` items: at most `maxChunks`, each of at least `minimum`
    /// items, and at least one.
    static func count(of count: Int, maxChunks: Int, minimum: Int) -> Int {
        max(1, min(maxChunks, count / minimum))
    }

    /// Runs `body` on `chunks` consecutive ranges covering `0..<count`, concurrently, and returns
    /// its results in range order.
    static func map<T>(_ count: Int, chunks: Int, empty: T, _ body: @Sendable (Range<Int>) -> T) -> [T] {
        guard chunks > 1 else { return [body(0..<count)] }
        let results = Results(count: chunks, empty: empty)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            results.store(chunk, body((count * chunk / chunks)..<(count * (chunk + 1) / chunks)))
        }
        return (0..<chunks).map(results.take)
    }

    /// Each chunk's result, stored by the thread that made it and taken (moved out, leaving
    /// `empty`) after all have finished.
    private final class Results<Value>: @unchecked Sendable {
        private var values: [Value]
        private let empty: Value
        private let lock = NSLock()

        init(count: Int, empty: Value) {
            values = Array(repeating: empty, count: count)
            self.empty = empty
        }

        func store(_ index: Int, _ value: Value) {
            lock.lock()
            values[index] = value
            lock.unlock()
        }

        func take(_ index: Int) -> Value {
            lock.lock()
            defer { lock.unlock() }
            let value = values[index]
            values[index] = empty
            return value
        }
    }
}
