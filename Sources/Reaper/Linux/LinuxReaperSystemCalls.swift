#if os(Linux)
import CLinuxShims
import Foundation
import Glibc
import Inventory
import Netlink
import Storage
import TunwardenCore

/// The tun ioctls and link-group choice the reaper needs: attaching exclusively, reading the
/// flags a device was made with, and a group no link uses.
extension LinuxReaper {
    static func openTunDescriptors(count: Int) throws -> [Int32] {
        var descriptors: [Int32] = []
        descriptors.reserveCapacity(count)
        for _ in 0..<count {
            let fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC)
            guard fd >= 0 else {
                let code = errno
                descriptors.forEach { close($0) }
                throw NetlinkError.system(call: "open(/dev/net/tun)", errno: code)
            }
            descriptors.append(fd)
        }
        return descriptors
    }

    /// TUNSETIFF with `name` (exact bytes) and the device's own type and features, so that
    /// attaching changes none of them: the kernel sets the device's TUN_FEATURES to the
    /// attacher's. `features` are the device's own as sysfs reads them (`tunFeatures`); without
    /// them, those the inventory reads (packet information, virtio-net header, multi-queue), and
    /// IFF_ONE_QUEUE, IFF_NAPI and IFF_NAPI_FRAGS are taken off. Returns 0 or the errno.
    static func attach(fd: Int32, name: [UInt8], to interface: NetworkInterface, features: UInt16? = nil) -> Int32 {
        var flags = interface.kind == .tap ? iffTap : iffTun
        if let features {
            flags |= features & TunFeatureFlags.bits
        } else {
            if interface.tun?.packetInfo != true { flags |= iffNoPI }
            if interface.tun?.vnetHeader == true { flags |= iffVnetHeader }
            if interface.tun?.multiQueue == true { flags |= iffMultiQueue }
        }
        // struct ifreq: a 16-byte name, then the flags, in 40 bytes.
        var request = [UInt8](repeating: 0, count: 40)
        let bytes = name.prefix(15)
        request.replaceSubrange(0..<bytes.count, with: bytes)
        withUnsafeBytes(of: flags) { request.replaceSubrange(16..<18, with: $0) }
        while true {
            let rc = request.withUnsafeMutableBytes { tw_ioctl_ptr(fd, tunSetIFF, $0.baseAddress) }
            if rc == 0 { return 0 }
            if errno != EINTR { return errno }
        }
    }

    /// The IFF_* flags of the device `fd` is attached to (TUNGETIFF), or nil.
    static func attached(fd: Int32) -> (name: [UInt8], flags: UInt16)? {
        var request = [UInt8](repeating: 0, count: 40)
        let rc = request.withUnsafeMutableBytes { tw_ioctl_ptr(fd, tunGetIFF, $0.baseAddress) }
        guard rc == 0 else { return nil }
        // struct ifreq: the name (IFNAMSIZ, NUL-terminated), then the flags.
        return (Array(request[0..<16].prefix { $0 != 0 }), request.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 16, as: UInt16.self) })
    }

    /// TUNGETDEVNETNS (include/uapi/linux/if_tun.h, Linux 5.2): a descriptor of the namespace
    /// the attached device is in.
    static let tunGetDevNetns: UInt = 0x54e3

    /// Where the device `fd` is attached to is now (see `TunHome`).
    static func home(fd: Int32) -> TunHome {
        var request = [UInt8](repeating: 0, count: 40)
        let rc = request.withUnsafeMutableBytes { tw_ioctl_ptr(fd, tunGetIFF, $0.baseAddress) }
        guard rc == 0 else { return errno == EBADFD ? .detached : .unknown(errno) }
        let name = Array(request[0..<16].prefix { $0 != 0 })
        let namespace = tw_ioctl_int(fd, tunGetDevNetns, 0)
        return .attached(name: name, namespaceFD: namespace >= 0 ? namespace : nil)
    }

    /// Private names for one run: `tw` and 13 hex digits (15 bytes, the most a name may have),
    /// all different, from one random seed (SplitMix64, a bijection on 64 bits, over a counter).
    /// One system random draw per run: drawing each digit cost a getrandom(2) call, 130,000 of
    /// them for 10,000 devices.
    struct PrivateNames {
        private var state = UInt64.random(in: 0...UInt64.max)
        private static let digits = Array("0123456789abcdef".utf8)

        mutating func next() -> [UInt8] {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            z ^= z >> 31
            return Array("tw".utf8) + (0..<13).map { Self.digits[Int((z >> (UInt64($0) * 4)) & 0xf)] }
        }
    }

    /// A random link group outside `used` (and away from the small numbers people assign).
    static func unusedGroup(avoiding used: Set<UInt32>) -> UInt32 {
        while true {
            let candidate = UInt32.random(in: 0x0100_0000...0xFFFF_FFF0)
            if !used.contains(candidate) { return candidate }
        }
    }
}
#endif
