import ArgumentParser

extension Tunwarden {
    /// What argument-parser puts before its own errors (an unknown option, a missing value, a
    /// `ValidationError`), so that they read like the tool's (`Terminal.error`): every error a
    /// person sees starts `tunwarden: error: `, which is what scripts and log searches look for.
    /// Argument-parser takes this from the root command only; it marks the hook experimental, and
    /// `ErrorStyleTests` fails if a new version stops using it.
    public static var _errorPrefix: String { "tunwarden: error: " }
}
