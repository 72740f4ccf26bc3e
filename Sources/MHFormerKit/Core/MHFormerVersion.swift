// The tool's version: printed by `mhformer --version` and stored in every batch record, so that a
// batch run by another version runs its videos again. Bump it when the outputs change.

public enum MHFormerVersion {
    public static let number = "0.6.0"
    /// "mhformer 0.6.0".
    public static var tool: String { "mhformer \(number)" }
}
