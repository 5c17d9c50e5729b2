# Homebrew formula for tunwarden: builds from source with the Swift toolchain (Xcode's, or the
# `swift` formula) and installs the binary, the man page, shell completions and a launchd
# service (`sudo brew services start tunwarden`: the hourly audit, as root so that lsof sees
# every process's utun sockets).
#
# For a tap: put this file in Formula/ of a tap repository, set `url` to a release tarball and
# `sha256` to its checksum (`shasum -a 256`), then `brew install OWNER/tap/tunwarden`.
class Tunwarden < Formula
  desc "Find, watch and safely remove stale tunnel interfaces (utun, feth, tun, tap, veth)"
  homepage "https://github.com/tunwarden/tunwarden"
  url "https://github.com/tunwarden/tunwarden/archive/refs/tags/v0.1.0.tar.gz"
  sha256 "0000000000000000000000000000000000000000000000000000000000000000"
  head "https://github.com/tunwarden/tunwarden.git", branch: "main"

  depends_on xcode: ["15.0", :build]
  depends_on :macos
  # The state database (state.db): the SQLite that is part of macOS.
  uses_from_macos "sqlite"

  def install
    system "swift", "build", "--disable-sandbox", "--configuration", "release", "--product", "tunwarden"
    bin.install ".build/release/tunwarden"
    man8.install "man/tunwarden.8"
    (etc/"tunwarden").install "packaging/tunwarden.conf" unless (etc/"tunwarden/tunwarden.conf").exist?
    generate_completions_from_executable(bin/"tunwarden", "--generate-completion-script")
  end

  service do
    run [opt_bin/"tunwarden", "--config", etc/"tunwarden/tunwarden.conf", "audit", "--format", "nagios"]
    run_type :interval
    interval 3600
    require_root true
    log_path var/"log/tunwarden.log"
    error_log_path var/"log/tunwarden.log"
  end

  def caveats
    <<~EOS
      tunwarden needs root to see every process's utun sockets:
        sudo tunwarden audit
      The hourly audit runs as a launchd service:
        sudo brew services start tunwarden
      Settings: #{etc}/tunwarden/tunwarden.conf
    EOS
  end

  test do
    assert_match version.to_s, shell_output("#{bin}/tunwarden --version")
    # A captured snapshot needs no privileges: an empty capture is audited as unknown (exit 3).
    (testpath/"capture").mkpath
    output = shell_output("#{bin}/tunwarden audit --from #{testpath}/capture --format nagios", 3)
    assert_match "TUNWARDEN UNKNOWN", output
  end
end
