import Foundation
import Testing
import TestSupport

/// `yes: true` in the configuration file is refused with the reason, before anything is done.
@Suite struct ConfigConsentTests {
    @Test func consentInTheFileIsRefusedWithTheReason() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let config = directory.path + "/tunwarden.conf"
        try Data("protect: ['wg*']\nreap:\n  yes: true\n".utf8).write(to: URL(fileURLWithPath: config))
        let result = try Shell.capture([Shell.tunwardenBinary, "--config", config, "reap", "--dry-run", "--state-dir", directory.path])
        #expect(result.status == 64, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("\(config):3: 'reap.yes': cannot be set in the file: consent to delete belongs to the person running the command"),
                "\(result.stderr)")
        #expect(!result.stderr.contains("unknown setting"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["tunwarden.conf"], "the refused run created files")
    }
}
