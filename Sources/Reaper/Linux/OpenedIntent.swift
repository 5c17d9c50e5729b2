#if os(Linux)
import Storage

/// How an intent a repair takes up came to be open, as the journal tells: the words a repair's
/// result begins with, so that it never takes for killed a run that said what it left.
enum OpenedIntent: Equatable {
    /// No result answers it or left it open: the run was killed between its intent and its
    /// result, or could not write its results.
    case noResult
    /// A result (the run's, or a repair's since) left it open, for `LeftOpen`'s reason.
    case leftOpen(LeftOpen)
    /// What left it open is not known: an intent of a rotated journal, whose later results the
    /// look does not follow, or one a checkpoint written before the reasons were kept names.
    case unknown

    /// What the journal `open` (or, for an intent of the rotated journal, `rotated`) says of the
    /// intent of run `run` for ifindex `ifindex`.
    init(run: String, ifindex: Int, open: OpenIntents, rotated: OpenIntents?) {
        if let rotated {
            self = rotated.leftOpen(run: run, ifindex: ifindex).map { .leftOpen($0) } ?? .unknown
        } else {
            self = open.leftOpen(run: run, ifindex: ifindex).map { .leftOpen($0) } ?? (open.causeKnown(run: run, ifindex: ifindex) ? .noResult : .unknown)
        }
    }

    /// How a repair's result begins for a device run `run` left bearing its fence.
    func leftFenced(by run: String) -> String {
        switch self {
        case .noResult: "run \(run) left it fenced (killed before deleting it, or before writing its results)"
        case .unknown: "run \(run) left it fenced (killed before deleting it or before writing its results, or a result left its intent open)"
        case let .leftOpen(cause): "run \(run) left it fenced, and a result left its intent open: \(cause.words)"
        }
    }

    /// How a repair's result begins for a device at its ifindex whose intent is open, before
    /// it says that the device bears no mark of the fence.
    func unmarked(by run: String) -> String {
        switch self {
        case .noResult: "run \(run) left no result for it"
        case .unknown: "no result answers run \(run)'s intent (it was killed or could not write its results, or a result left the intent open)"
        case let .leftOpen(cause): "a result left run \(run)'s intent open (\(cause.words))"
        }
    }

    /// How a repair's result begins for a device gone from its namespace.
    func gone(by run: String) -> String {
        let gone = "; the device is gone from this namespace: deleted (by that run, or since), or moved to another namespace"
        return switch self {
        case .noResult: "run \(run) journaled no result for it (it was killed, or could not write its results)" + gone
        case .unknown: "no result answers run \(run)'s intent (it was killed or could not write its results, or a result left the intent open)" + gone
        case let .leftOpen(cause): "a result left run \(run)'s intent open (\(cause.words))" + gone
        }
    }
}

extension LeftOpen {
    /// What the run, or the repair, whose result left its intent open for this reason had met,
    /// as a clause whose subject is the run.
    var words: String {
        switch self {
        case .giveBack: "it, or a repair of it since, could not give all of the fence back"
        case .whereabouts: "it, or a repair of it since, found the device gone from its namespace and could not tell where it went (or could not look in every namespace it may be in)"
        case .unchecked: "its deletion's answer did not prove the device went (the answer was lost, or it was a group deletion's), and whether the device was still there could not be checked"
        case .unsaid: "the result did not say why in words this tunwarden knows (it was written before the reasons were kept, or by a newer tunwarden)"
        }
    }
}
#endif
