import Foundation

/// What a reap may touch and when.
public struct ReapPolicy: Sendable, Equatable {
    /// How long an interface must have been seen orphaned, in tunwarden's own observations.
    public var minimumAge: TimeInterval
    /// Shell-style patterns (`*`, `?`, `[…]`) of names never touched.
    public var protect: [String]
    /// When set, only these kinds are targets.
    public var onlyKinds: Set<InterfaceKind>?

    public init(minimumAge: TimeInterval = 15 * 60, protect: [String] = [], onlyKinds: Set<InterfaceKind>? = nil) {
        self.minimumAge = minimumAge
        self.protect = protect
        self.onlyKinds = onlyKinds
    }

    /// The kinds a reap ever acts on: tun and tap devices on Linux; on macOS feth pairs, the
    /// link-local routes of idle utuns, and the routes into closed tuntaposx tun and tap devices
    /// (never those devices). Every other kind is reported and never reaped, so an `onlyKinds`
    /// naming one would select nothing.
    public static let removableKinds: [InterfaceKind] = [.tun, .tap, .utun, .feth]

    /// The removable kinds that exist only on macOS: on Linux they can be planned for a capture,
    /// never found on the live system.
    public static let macOSKinds: Set<InterfaceKind> = [.utun, .feth]
}

/// What the reaper does to an item.
public enum ReapAction: String, Sendable, Equatable {
    /// Delete the interface; its routes and addresses go with it.
    case deleteInterface = "delete-interface"
    /// Remove the listed routes; the interface stays (a macOS utun or tuntaposx device cannot be
    /// destroyed).
    case removeRoutes = "remove-routes"
}
