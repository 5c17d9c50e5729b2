import Foundation
import Testing
@testable import TunwardenCommands
import TunwardenCore

@Suite struct AlertSinkTests {
    /// A leak of thousands is one readable log line and an environment variable execve accepts.
    @Test func longOrphanListsAreAbbreviatedWithACount() {
        let names = (0..<9900).map { "bt\($0)" }
        let line = AlertSinks.abbreviated(names, separator: ", ")
        #expect(line.hasPrefix("bt0, bt1, "))
        #expect(line.hasSuffix("bt19, … (9880 more)"))
        #expect(AlertSinks.abbreviated(names, separator: " ", limit: 1000).utf8.count < 128 * 1024)
        #expect(AlertSinks.abbreviated(["a", "b"], separator: ", ") == "a, b")
    }
}

/// Webhook delivery through its one code path, with a stand-in for the network.
@Suite struct WebhookTransportTests {
    /// Answers with the problems it is given, in turn (nil: a 2xx), and keeps what was posted.
    final class StandIn: WebhookTransport, @unchecked Sendable {
        var answers: [String?]
        var posted: [(URL, [UInt8])] = []
        init(_ answers: [String?]) { self.answers = answers }
        func post(_ url: URL, body: [UInt8], timeout: TimeInterval) -> String? {
            posted.append((url, body))
            return answers.isEmpty ? nil : answers.removeFirst()
        }
    }

    static func alert() -> AlertDecision.Alert {
        let snapshot = Snapshot(platform: .linux, interfaces: [], routes: [], holders: HolderScan(complete: true, attachments: [], processesScanned: 1))
        var history = NamespaceHistory()
        history.alertedStatus = .warning
        return AlertDecision.decide(Heuristics.assess(snapshot), history: history, host: "h")!
    }

    @Test func aFailedPostIsRetriedUntilItIsAnswered() throws {
        let standIn = StandIn(["HTTP 503", "timed out", nil])
        var sinks = AlertSinks(execCommand: nil, webhook: URL(string: "http://127.0.0.1:9/hook"))
        sinks.transport = standIn
        sinks.deliver(Self.alert())
        #expect(standIn.posted.count == 3)
        let body = try #require(standIn.posted.first?.1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        #expect(object["event"] as? String == "resolved")
        #expect(standIn.posted.allSatisfy { $0.0.absoluteString == "http://127.0.0.1:9/hook" && $0.1 == body })
    }

    @Test func aWebhookThatNeverAnswersIsTriedAFixedNumberOfTimes() {
        let standIn = StandIn(["HTTP 500", "HTTP 500", "HTTP 500", "HTTP 500"])
        var sinks = AlertSinks(execCommand: nil, webhook: URL(string: "http://127.0.0.1:9/hook"))
        sinks.transport = standIn
        sinks.webhookAttempts = 2
        sinks.deliver(Self.alert())
        #expect(standIn.posted.count == 2)
    }
}
