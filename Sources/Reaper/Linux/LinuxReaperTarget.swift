#if os(Linux)
import Inventory
import Storage
import TunwardenCore

extension LinuxReaper {
    /// One device of a batch and how far it has been fenced, so that it can be restored exactly.
    struct Target {
        var item: ReapItem
        var index: Int32 { Int32(item.interface.index) }
        var name: [UInt8] { InterfaceName.kernelBytes(item.ifname) }
        var multiQueue: Bool { item.interface.tun?.multiQueue == true }
        /// The private name: an alternative name (single-queue) or the new name (multi-queue).
        var fenceName: [UInt8]
        /// tunwarden's own queue on a single-queue device.
        var fd: Int32?
        /// Its TUN_FEATURES bits, which the attach gives so as to keep them; nil: not read.
        var features: UInt16?
        var altNameAdded = false
        var takenDown = false
        var renamed = false
        var grouped = false
        /// Its addresses and routes before fencing (multi-queue), to be given back if it is not deleted.
        var downed: DownedState?
        /// Whether tunwarden's own queue is attached to it (single-queue).
        var attached = false
        /// Why its result leaves its intent open for the next reap (`ReapResult.leftFenced`):
        /// giving it back left part of the fence on it (`restore`), where it went could not be
        /// told, or the deletion left it (or may have); nil when nothing does.
        var markLeft: LeftOpen?
        /// Its IPv6 addresses just before the attach, when it was up (single-queue): what the
        /// carrier coming on adds is said if it is given back.
        var traces: AttachTraces?
        /// The plan's `--protect` patterns, asked again of its names at the last look.
        var protect: [String] = []
        /// The neighbour entries made by hand its fence flushed, once it is given back: made again
        /// when the batch has let go of it (`LostNeighbours`).
        var lostNeighbours: [RecreateCommands.Neighbour] = []

        init(item: ReapItem, fenceName: [UInt8], protect: [String] = []) {
            self.item = item
            self.fenceName = fenceName
            self.protect = protect
        }
    }
}
#endif
