import TunwardenCore

/// Why a result left its intent open (`JournalRecord.leftFenced`): what the run, or the repair of
/// it, could not finish, so that the repair that next takes the intent up can say what happened
/// to it rather than take the run for killed.
public enum LeftOpen: String, Decodable, Sendable, Equatable {
    /// Giving the device back left part of the fence on it (a step the kernel refused, its name
    /// taken meanwhile), here or in the namespace it had gone to.
    case giveBack = "give-back"
    /// The device was gone from its namespace, and where it went could not be told: nothing
    /// told whose of the removals seen was its, or a namespace it may be in could not be looked in.
    case whereabouts
    /// The deletion's answer did not prove the device went (it was lost, or it was the answer
    /// to a group deletion, which leaves a device taken out of the group just before it), and
    /// whether the device was still there could not be checked: it may be there, fenced.
    case unchecked
    /// A result left it open without saying why (written before the reasons were kept), or
    /// with a reason this tunwarden does not know (written by a newer one).
    case unsaid

    /// Reads a reason this tunwarden does not know as `unsaid`: a newer tunwarden's reason must
    /// not make the journal line damage, which would stop every reap.
    public init(from decoder: any Decoder) throws {
        self = LeftOpen(rawValue: try decoder.singleValueContainer().decode(String.self)) ?? .unsaid
    }
}

/// One device a checkpoint names as left open by a result, and why (`OpenRun.leftOpen`).
public struct LeftOpenDevice: Decodable, JSONRecord, Sendable, Equatable {
    public var ifindex: Int
    public var cause: LeftOpen

    public init(ifindex: Int, cause: LeftOpen) {
        self.ifindex = ifindex
        self.cause = cause
    }

    public func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("ifindex", ifindex)
            json.field("cause", cause.rawValue)
        }
    }
}
