/// What the running binary was built from, for `tunwarden --version`.
public enum BuildInfo {
    /// The abbreviated commit of the source tree the binary was built from, or nil when it was
    /// built outside a git checkout (from a release tarball, say) or without git. Recorded before
    /// each build by the BuildInfoPlugin.
    public static let commit: String? = generatedCommit
}
