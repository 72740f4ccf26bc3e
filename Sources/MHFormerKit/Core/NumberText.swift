// Numbers as the tool's text outputs print them: the shortest text that reads back as the same value.

import Foundation

/// Shortest text that reads back as the same Float32.
public func formatFloat(_ v: Float) -> String { v == 0 ? "0" : "\(v)" }
public func formatDouble(_ v: Double) -> String { "\(v)" }
