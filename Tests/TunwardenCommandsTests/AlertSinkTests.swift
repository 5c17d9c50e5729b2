import Foundation
import Storage
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

    /// An alert the webhook did not take stays in the state database and is retried, once due,
    /// until it is delivered; `deliverPending` says when the next retry is due.
    @Test func anUndeliveredAlertIsKeptAndRetriedUntilDelivered() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tunwarden-deliver-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = StateStore(directory: directory)
        let standIn = StandIn(["HTTP 503", "HTTP 503", "HTTP 503"])
        var monitoring = Monitoring(alertExec: nil, alertWebhook: URL(string: "http://127.0.0.1:9/hook"), textfile: nil, growthPolicy: GrowthPolicy())
        monitoring.webhookTransport = standIn
        let now = Date()
        let snapshot = Snapshot(platform: .linux, namespace: "blue", namespaceIdentity: "netns-cookie:5@boot:b", takenAt: now,
                                interfaces: [NetworkInterface(index: 3, name: "o0", kind: .tun, carrier: false, tun: TunDetails(persistent: true))],
                                routes: [], holders: HolderScan(complete: true, attachments: [], processesScanned: 1))
        let alert = try #require(Audit.record(Heuristics.assess(snapshot), store: store, alerting: monitoring.judging)?.alert)
        monitoring.deliver(alert, store: store)
        #expect(standIn.posted.count == 3)
        // Not due yet: its backoff is a minute.
        let next = try #require(monitoring.deliverPending(store: store, now: now.addingTimeInterval(1)))
        #expect(standIn.posted.count == 3)
        #expect(abs(next.timeIntervalSince(now) - 60) < 5)
        #expect(monitoring.deliverPending(store: store, now: next) == nil)
        #expect(standIn.posted.count == 4)
        #expect(standIn.posted.allSatisfy { $0.1 == alert.body })
        #expect(try store.database()?.undeliveredAlerts(sinks: [.webhook]).isEmpty == true)
    }
}
