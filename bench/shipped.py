"""The binary the benchmarks measure: tunwarden as it is shipped (`packaging/build-deb`), a
release build with Swift's runtime linked in statically, built in its own scratch folder
(.build-bench) so it neither disturbs nor waits for a debug build."""
import os, subprocess, sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def binary(given, script):
    """Returns the absolute path of `given` if set; otherwise builds the shipped binary (an
    incremental build, quick when nothing changed) and returns its path. Exits with a message
    naming `script` when the binary cannot be had."""
    if given:
        path = os.path.abspath(given)
        if not os.access(path, os.X_OK):
            sys.exit(f"{script}: {path} is not an executable")
        return path
    scratch = os.path.join(REPO, ".build-bench")
    print(f"{script}: building the release binary as shipped (static Swift runtime) in {scratch}", file=sys.stderr)
    build = subprocess.run(["swift", "build", "--package-path", REPO, "--scratch-path", scratch, "-c", "release",
                            "--static-swift-stdlib", "--product", "tunwarden"], stdout=subprocess.DEVNULL)
    if build.returncode != 0:
        sys.exit(f"{script}: the release build failed (run the swift build command above to see why)")
    return os.path.join(scratch, "release", "tunwarden")
