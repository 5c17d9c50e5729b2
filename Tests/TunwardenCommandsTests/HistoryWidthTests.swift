import Foundation
import Testing
@testable import TunwardenCommands
import TunwardenCore

/// `history` for people is fitted to the terminal: its heading wraps and its sparkline narrows,
/// where a pipe gets the lines whole.
@Suite struct HistoryWidthTests {
    static func history() -> NamespaceHistory {
        var history = NamespaceHistory()
        let start = Date(timeIntervalSince1970: 1_790_000_000)
        history.counts = (0..<70).map { CountSample(time: start.addingTimeInterval(Double($0) * 60), count: 10 + $0 % 7) }
        return history
    }

    @Test(arguments: [30, 40, 60])
    func everyLineFitsANarrowTerminal(width: Int) {
        let now = Date(timeIntervalSince1970: 1_790_010_000)
        let text = HistoryCommand.render(Self.history(), window: 3600, now: now, width: width)
        for line in text.split(separator: "\n") {
            #expect(TextLayout.columns(String(line)) <= width, "\(width): '\(line)'\n\(text)")
        }
        #expect(text.contains("samples):") && text.contains("growth:"), "\(text)")
    }

    @Test func aPipeGetsTheHeadingWholeAndSixtyBars() throws {
        let text = HistoryCommand.render(Self.history(), window: 3600, now: Date(timeIntervalSince1970: 1_790_010_000))
        let lines = text.split(separator: "\n")
        #expect(lines.first?.hasPrefix("Tunnel-style interfaces, ") == true && lines.first?.hasSuffix("(70 samples):") == true, "\(text)")
        #expect(lines.count > 1 && lines[1].count == 62, "\(text)")
    }
}
