import Foundation
#if os(Linux)
import CWebhook
#endif

/// How an alert reaches a webhook: one POST of JSON, answered or not within a timeout. The one
/// code path every webhook takes; tests put a stand-in here instead of a server.
protocol WebhookTransport: Sendable {
    /// POSTs `body` to `url` as application/json, waiting at most `timeout`; nil when the server
    /// answered 2xx, otherwise what went wrong, in words.
    func post(_ url: URL, body: [UInt8], timeout: TimeInterval) -> String?
}

/// The system's way: libcurl on Linux (through `CWebhook`, loaded only now), URLSession elsewhere.
struct SystemWebhookTransport: WebhookTransport {
    func post(_ url: URL, body: [UInt8], timeout: TimeInterval) -> String? {
        #if os(Linux)
        // libcurl, loaded only now: linking Foundation's networking would load libcurl and its
        // dozens of libraries at every start, webhook or not.
        var status = 0
        var error = [CChar](repeating: 0, count: 512)
        // A stop abandons the POST under way (see `AlertSinks.interrupt`).
        let stop = AlertSinks.interrupt?.descriptor ?? -1
        let result = body.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { text in
                tw_http_post_json(url.absoluteString, text.baseAddress, text.count, Int(timeout * 1000), &status, &error, UInt(error.count), stop)
            }
        }
        if result != 0 { return String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        return (200..<300).contains(status) ? nil : "HTTP \(status)"
        #else
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(body)
        request.timeoutInterval = timeout
        let outcome = WebhookOutcome()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { _, response, error in
            if let error {
                outcome.problem = error.localizedDescription
            } else if let status = (response as? HTTPURLResponse)?.statusCode, !(200..<300).contains(status) {
                outcome.problem = "HTTP \(status)"
            }
            done.signal()
        }.resume()
        done.wait()
        return outcome.problem
        #endif
    }
}

#if !os(Linux)
/// What one webhook attempt ended with; written by URLSession's thread before the semaphore is signalled.
private final class WebhookOutcome: @unchecked Sendable {
    var problem: String?
}
#endif
