import TunwardenCore

/// What reading a capture left aside, told on standard error: rows that could not be read always
/// (the judgement lacks them), and lines that are not tool output (prompts, prose, other commands)
/// with --verbose.
enum CaptureReport {
    /// Rows shown without --verbose before the rest is only counted.
    static let problemsShown = 10

    static func tell(_ snapshot: Snapshot, verbose: Bool, to console: any Console) {
        let problems = snapshot.readingProblems
        for problem in verbose ? problems : Array(problems.prefix(problemsShown)) {
            console.note(problem)
        }
        if !verbose, problems.count > problemsShown {
            console.note("\(problems.count - problemsShown) more rows skipped; --verbose lists them")
        }
        guard verbose else { return }
        for note in snapshot.readingNotes { console.note(note) }
    }
}
