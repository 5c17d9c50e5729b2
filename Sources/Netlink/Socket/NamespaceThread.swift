#if os(Linux)
import CLinuxShims
import Glibc

/// Runs work inside another network namespace without moving the caller.
///
/// Sockets and /dev/net/tun descriptors belong to the namespace they were created in for their
/// whole life. The work runs on a short-lived thread that enters the namespace (setns is per
/// thread) and ends there, so no thread of the caller ever changes namespace.
public enum NamespaceThread {
    /// Runs `body` on a thread inside the namespace behind `namespaceFD`, waits for it, and returns
    /// its result or rethrows its error.
    public static func run<T>(in namespaceFD: Int32, _ body: @escaping () throws -> T) throws -> T {
        var result: Result<T, any Error> = .failure(NetlinkError.system(call: "pthread", errno: 0))
        let job = NamespaceJob(namespaceFD: namespaceFD) { result = Result { try body() } }
        var thread = pthread_t()
        let context = Unmanaged.passRetained(job).toOpaque()
        let created = pthread_create(&thread, nil, { raw in
            let job = Unmanaged<NamespaceJob>.fromOpaque(raw!).takeRetainedValue()
            if tw_setns(job.namespaceFD, tw_clone_newnet()) != 0 {
                job.setnsErrno = errno
            } else {
                job.work()
            }
            return nil
        }, context)
        guard created == 0 else {
            Unmanaged<NamespaceJob>.fromOpaque(context).release()
            throw NetlinkError.system(call: "pthread_create", errno: created)
        }
        pthread_join(thread, nil)
        if job.setnsErrno != 0 { throw NetlinkError.enterNamespace(errno: job.setnsErrno) }
        return try result.get()
    }

    /// Runs `body` inside the namespace behind `namespaceFD` as `run(in:_:)` does, or on the
    /// calling thread when `namespaceFD` is nil (the caller's own namespace), and returns its result.
    public static func run<T>(in namespaceFD: Int32?, _ body: @escaping () throws -> T) throws -> T {
        guard let namespaceFD else { return try body() }
        return try run(in: namespaceFD, body)
    }
}

/// The work and its namespace, handed to the thread; read again after the thread is joined.
private final class NamespaceJob {
    let namespaceFD: Int32
    let work: () -> Void
    var setnsErrno: Int32 = 0

    init(namespaceFD: Int32, work: @escaping () -> Void) {
        self.namespaceFD = namespaceFD
        self.work = work
    }
}
#endif
