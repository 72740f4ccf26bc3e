// The library's one error type.

/// Every failure of the tool: a one-line message that names the file (and row, column or tensor).
public struct MHFormerError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
