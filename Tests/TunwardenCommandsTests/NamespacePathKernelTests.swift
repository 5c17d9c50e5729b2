#if os(Linux)
import Foundation
import Testing
import TestSupport

/// Other namespaces found by paths that are not UTF-8, and files that are not namespaces where
/// namespaces are looked for. A tap that a macvlan of another namespace sits on is used, whatever
/// bytes that namespace's name or another mount's path holds; and a FIFO where `ip netns` keeps
/// names must not stop a look. As root, in a throwaway network namespace; every mount is made in a
/// private mount namespace (`unshare`'s, which ends with the script), so none reaches the host's.
@Suite(.enabled(if: TestNamespace.available && Shell.which("unshare") != nil && Shell.which("nsenter") != nil,
                "needs root, /dev/net/tun, ip, python3, unshare and nsenter"))
struct NamespacePathKernelTests {
    /// Runs `script` with bash in a private mount namespace, with `TW` the built binary, `NS` the
    /// inspected namespace's name and `D` a directory of the test's; every tunwarden run in it
    /// is bounded by `timeout`, so a hang fails the test instead of stopping the suite.
    func inPrivateMounts(_ script: String, namespace: TestNamespace, directory: TemporaryDirectory) throws -> Shell.Result {
        try Shell.capture(["unshare", "--mount", "--propagation", "private", "bash", "-c", "set -u\n" + script],
                          environment: ProcessInfo.processInfo.environment.merging(
                              ["TW": Shell.tunwardenBinary, "NS": namespace.name, "D": directory.path]) { $1 })
    }

    /// Makes namespace B (a process's, kept afterwards only by a bind mount at `$D/nsB`) and moves
    /// the macvlan `MV` into it. (The test runner's threads block SIGTERM, and its children
    /// inherit that: the process is killed with SIGKILL.)
    static let namespaceB = """
        unshare -n sleep 600 & SP=$!
        for i in $(seq 100); do [ "$(readlink /proc/$SP/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break; sleep 0.05; done
        ip -n "$NS" link set "$MV" netns $SP
        touch "$D/nsB"; mount --bind /proc/$SP/ns/net "$D/nsB"
        kill -KILL $SP; wait $SP 2>/dev/null

        """

    /// A reap run in the inspected namespace, then whether the macvlan is still in B.
    static let reapThenLook = """
        timeout 60 "$TW" --netns "$NS" reap --min-age 0 --yes --state-dir "$D/state" --journal "$D/journal"; echo "reap-rc=$?"
        nsenter --net="$D/nsB" ip -br link show "$MV" >/dev/null 2>&1 && echo "macvlan-kept" || echo "macvlan-gone"

        """

    @Test func aMountPathThatIsNotUTF8HidesNoNamespace() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        let directory = try TemporaryDirectory()
        try ns.ip("tuntap", "add", "dev", "kbyt0", "mode", "tap")
        try ns.ip("link", "add", "link", "kbyt0", "name", "kbymv0", "type", "macvlan", "mode", "bridge")
        // A tmpfs at a path with the byte 0xff: mountinfo is then not UTF-8 as a whole.
        let result = try inPrivateMounts("MV=kbymv0\n" + Self.namespaceB + """
            BAD="$D/mnt$(printf '\\377')"; mkdir "$BAD"; mount -t tmpfs none "$BAD"
            grep -c "$(printf '\\377')" /proc/self/mountinfo >/dev/null || echo "no-bad-mount"

            """ + Self.reapThenLook, namespace: ns, directory: directory)
        #expect(!result.stdout.contains("no-bad-mount"), "the mount with a non-UTF-8 path was not made: \(result.stderr)")
        #expect(result.stdout.contains("reap-rc=0"), "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("Nothing to reap"), "\(result.stdout)")
        #expect(result.stdout.contains("macvlan-kept"), "the macvlan in the bind-mounted namespace went with the tap: \(result.stdout)")
    }

    /// Runs `body` with a tmpfs over /run/netns (in the private mount namespace) holding the
    /// inspected namespace's name again and whatever `body` puts there.
    static func overNamespaceDirectory(_ body: String) -> String {
        """
        touch "$D/inspected"; mount --bind "/run/netns/$NS" "$D/inspected"
        mount -t tmpfs none /run/netns
        touch "/run/netns/$NS"; mount --bind "$D/inspected" "/run/netns/$NS"

        """ + body
    }

    @Test func aNamespaceNameThatIsNotUTF8IsLookedIn() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        let directory = try TemporaryDirectory()
        try ns.ip("tuntap", "add", "dev", "kbyt1", "mode", "tap")
        try ns.ip("link", "add", "link", "kbyt1", "name", "kbymv1", "type", "macvlan", "mode", "bridge")
        // B is named under /run/netns with a byte that is not UTF-8, and kept by nothing else.
        let result = try inPrivateMounts("MV=kbymv1\n" + Self.namespaceB + Self.overNamespaceDirectory("""
            NAME="/run/netns/twtest-b$(printf '\\377')"; touch "$NAME"; mount --bind "$D/nsB" "$NAME"; umount "$D/nsB"
            timeout 60 "$TW" --netns "$NS" audit --no-state; echo "audit-rc=$?"
            touch "$D/nsB"; mount --bind "$NAME" "$D/nsB"

            """) + Self.reapThenLook, namespace: ns, directory: directory)
        #expect(result.stdout.contains("kbymv1 (namespace twtest-b\\xff) sits on it"), "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("macvlan-kept"), "the macvlan in the namespace named with 0xff went with the tap: \(result.stdout)")
    }

    @Test func aFIFOWhereNamesAreKeptStopsNoLook() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        let directory = try TemporaryDirectory()
        try ns.ip("tuntap", "add", "dev", "kbyt2", "mode", "tap")
        // Opened for reading, a FIFO blocks until a writer comes: every look at the other
        // namespaces stopped there, a reap's last look with its targets fenced.
        let result = try inPrivateMounts(Self.overNamespaceDirectory("""
            mkfifo /run/netns/twtest-fifo
            timeout 60 "$TW" --netns "$NS" audit --no-state; echo "audit-rc=$?"
            timeout 60 "$TW" --netns "$NS" reap --min-age 0 --yes --state-dir "$D/state" --journal "$D/journal" 2>&1; echo "reap-rc=$?"
            ip -n "$NS" -br link show kbyt2 >/dev/null 2>&1 && echo "tap-kept" || echo "tap-gone"

            """), namespace: ns, directory: directory)
        // The audit ends with its warning, or, where the tmpfs covers the names of namespaces
        // other tests make meanwhile, unknown for those (never for the FIFO, which is no namespace).
        #expect(result.stdout.contains("audit-rc=1") || (result.stdout.contains("audit-rc=3") && result.stdout.contains("covered by another mount")
                                                          && !result.stdout.contains("twtest-fifo")),
                "the audit did not end with its warning: \(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("kbyt2") && (result.stdout.contains("orphaned") || result.stdout.contains("unknown")), "\(result.stdout)")
        // The reap ends too. (The tmpfs also covers the names of namespaces other tests make
        // meanwhile; a reap that cannot look into one of them rightly deletes nothing.)
        #expect(!result.stdout.contains("reap-rc=124"), "the reap hung: \(result.stdout)")
        let deleted = result.stdout.contains("reap-rc=0") && result.stdout.contains("tap-gone")
        let refused = result.stdout.contains("tap-kept") && result.stdout.contains("covered by another mount")
        #expect(deleted || refused, "\(result.stdout)\n\(result.stderr)")
    }
}
#endif
