#if os(Linux)
import CLinuxShims
import Foundation
import Glibc
import Netlink

/// The tun flags a device was made with that its netlink attributes do not carry (IFF_ONE_QUEUE,
/// IFF_NAPI, IFF_NAPI_FRAGS), read from sysfs so that an attach to the device (the reaper's
/// single-queue fence) can keep them.
public enum TunFeatureFlags {
    /// TUN_FEATURES (drivers/net/tun.c): the bits an attach sets on an existing device, whatever
    /// it had: IFF_NO_PI, IFF_ONE_QUEUE, IFF_VNET_HDR, IFF_MULTI_QUEUE, IFF_NAPI, IFF_NAPI_FRAGS.
    public static let bits: UInt16 = 0x1000 | 0x2000 | 0x4000 | 0x0100 | 0x0010 | 0x0020

    /// The TUN_FEATURES bits of `devices` (ifindex and name) in the namespace `namespaceFD`
    /// names (nil: this thread's), from sysfs `tun_flags`, by ifindex. sysfs shows the devices of
    /// the namespace it was mounted in, so it is mounted afresh, read-only, by a short-lived
    /// thread inside that namespace and a private mount namespace of its own, which ends with the
    /// thread: nothing is mounted where anyone else sees it. A device whose directory there has
    /// another ifindex, or that cannot be read (no privilege to mount, say), is left out.
    public static func read(of devices: [(index: Int32, name: [UInt8])], namespaceFD: Int32?) -> [Int32: UInt16] {
        guard !devices.isEmpty else { return [:] }
        // A thread of its own even for this namespace: the mount namespace it makes must not be
        // the caller's.
        var own: Int32?
        if namespaceFD == nil, case let .ok(fd) = Sys.openFile("/proc/thread-self/ns/net") { own = fd }
        defer { if let own { close(own) } }
        guard let fd = namespaceFD ?? own else { return [:] }
        return (try? NamespaceThread.run(in: fd) { readInPrivateSysfs(devices) }) ?? [:]
    }

    /// On a thread that may change its mount namespace: mounts sysfs for its network namespace
    /// and reads each device's `ifindex` and `tun_flags`.
    private static func readInPrivateSysfs(_ devices: [(index: Int32, name: [UInt8])]) -> [Int32: UInt16] {
        let newNS: Int32 = 0x0002_0000, recursive: UInt = 0x4000, slave: UInt = 0x8_0000
        let readOnly: UInt = 0x1 | 0x2 | 0x4 | 0x8 // MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC
        guard tw_unshare(newNS) == 0, mount("none", "/", nil, recursive | slave, nil) == 0,
              mount("sysfs", "/sys", "sysfs", readOnly, nil) == 0 else { return [:] }
        var features: [Int32: UInt16] = [:]
        for device in devices where !device.name.contains(0x2f) && !device.name.isEmpty {
            let directory = Sys.Path("/sys/class/net").appending(device.name)
            guard let index = DeviceFileSettings.text(Sys.readSmallFile(directory.appending(Array("ifindex".utf8)), limit: 64)).flatMap({ Int32($0) }),
                  index == device.index,
                  let text = DeviceFileSettings.text(Sys.readSmallFile(directory.appending(Array("tun_flags".utf8)), limit: 64)),
                  text.hasPrefix("0x"), let flags = UInt32(text.dropFirst(2), radix: 16) else { continue }
            features[device.index] = UInt16(truncatingIfNeeded: flags) & bits
        }
        return features
    }
}
#endif
