// A native reader for the safetensors format:
//   [8 bytes little-endian u64 N][N bytes JSON header][raw little-endian tensor data]
// The header maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets into
// the data part), plus an optional "__metadata__" string map. Floating tensors (F32, F16, BF16, F64)
// are returned as Float32; integer tensors (I64, I32) are kept for bookkeeping only.
// Models load their weights through StrictWeights.swift, which checks names, shapes and values.

import Foundation

public struct SafeTensorsFile {
    public struct Entry {
        public let dtype: String
        public let shape: [Int]
        let begin: Int, end: Int
    }

    public let path: String
    public let entries: [String: Entry]
    public let metadata: [String: String]
    /// The first byte range of the data section that no tensor covers (between two tensors or after
    /// the last), nil when the tensors cover it exactly as the format requires.
    public let uncoveredBytes: Range<Int>?
    private let data: Data
    private let dataStart: Int

    public init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw MHFormerError("\(path): no such weights file")
        }
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe) else {
            throw MHFormerError("\(path): cannot read the file")
        }
        try self.init(data: data, name: path)
    }

    /// Parses safetensors bytes already in memory; `name` stands for the file in errors and `path`.
    public init(data: Data, name path: String) throws {
        let data = data.startIndex == 0 ? data : Data(data)   // a slice: indices below count from 0
        guard data.count >= 8 else { throw MHFormerError("\(path): not a safetensors file (too short)") }
        let headerLength = data.withUnsafeBytes { raw -> UInt64 in
            UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        }
        guard headerLength > 1, headerLength <= UInt64(data.count - 8), headerLength < 100_000_000 else {
            throw MHFormerError("\(path): not a safetensors file (bad header length)")
        }
        // The format pads its header with spaces so that the data starts on an 8-byte boundary; a
        // length off by a few bytes (a truncated or shifted header) would still parse as JSON and
        // read every tensor shifted.
        guard headerLength % 8 == 0 else {
            throw MHFormerError("\(path): not a safetensors file (header length \(headerLength) is not a multiple of 8: the data would not start 8-byte aligned)")
        }
        let headerBytes = data.subdata(in: 8 ..< 8 + Int(headerLength))
        guard let json = try? JSONSerialization.jsonObject(with: headerBytes) as? [String: Any] else {
            throw MHFormerError("\(path): not a safetensors file (header is not a JSON object)")
        }
        let dataStart = 8 + Int(headerLength)
        let dataLength = data.count - dataStart
        var entries: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        for (key, value) in json {
            if key == "__metadata__" {
                if let m = value as? [String: Any] {
                    for (k, v) in m { metadata[k] = "\(v)" }
                }
                continue
            }
            guard let info = value as? [String: Any],
                  let dtype = info["dtype"] as? String,
                  let shape = SafeTensorsFile.integers(info["shape"]),
                  let offsets = SafeTensorsFile.integers(info["data_offsets"]),
                  offsets.count == 2 else {
                throw MHFormerError("\(path): tensor '\(key)' has a malformed header entry")
            }
            guard let size = SafeTensorsFile.byteSize(dtype) else {
                throw MHFormerError("\(path): tensor '\(key)' has unsupported dtype \(dtype)")
            }
            guard shape.allSatisfy({ $0 >= 0 }) else {
                throw MHFormerError("\(path): tensor '\(key)' has a negative dimension in its shape \(shape)")
            }
            // The element and byte counts come from untrusted numbers: a plain `*` traps on overflow
            // (e.g. shape [4294967296, 4294967296]), so multiply with overflow reporting.
            guard let byteCount = SafeTensorsFile.checkedProduct(shape + [size]) else {
                throw MHFormerError("\(path): tensor '\(key)' has a shape \(shape) too large to exist (its size overflows)")
            }
            guard offsets[0] >= 0, offsets[1] >= offsets[0], offsets[1] <= dataLength,
                  offsets[1] - offsets[0] == byteCount else {
                throw MHFormerError("\(path): tensor '\(key)' has data offsets that do not match its shape \(shape) (file truncated or corrupt?)")
            }
            entries[key] = Entry(dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1])
        }
        // The format's layout rule: the tensors' byte ranges, in offset order, follow each other without
        // overlap and cover the data section exactly. An overlap (two tensors sharing bytes) is refused
        // here; a gap is kept in `uncoveredBytes` for StrictWeights.finish to refuse once every expected
        // tensor was found (a file with one header entry removed then names the missing tensor).
        let ordered = entries.sorted { ($0.value.begin, $0.value.end, $0.key) < ($1.value.begin, $1.value.end, $1.key) }
        var covered = 0, previous = ""
        var gap: Range<Int>? = nil
        for (name, e) in ordered {
            if e.begin < covered {
                throw MHFormerError("\(path): tensors '\(previous)' and '\(name)' overlap in the data section ('\(previous)' ends at byte \(covered), '\(name)' begins at \(e.begin)): corrupt file")
            }
            if e.begin > covered && gap == nil { gap = covered..<e.begin }
            covered = e.end
            previous = name
        }
        if covered < dataLength && gap == nil { gap = covered..<dataLength }
        uncoveredBytes = gap
        self.path = path
        self.entries = entries
        self.metadata = metadata
        self.data = data
        self.dataStart = dataStart
    }

    /// The product of `values`, or nil when it overflows Int.
    static func checkedProduct(_ values: [Int]) -> Int? {
        var product = 1
        for v in values {
            let (p, overflow) = product.multipliedReportingOverflow(by: v)
            if overflow { return nil }
            product = p
        }
        return product
    }

    /// A JSON array of whole numbers as [Int]; nil when anything in it is not one (a string, a
    /// fraction, a number beyond Int) rather than silently dropping or truncating it.
    static func integers(_ value: Any?) -> [Int]? {
        guard let array = value as? [Any] else { return nil }
        var out: [Int] = []
        for element in array {
            // Through the number's text: exact for every Int, nil for fractions ("2.5", "1e+30") and for
            // integers beyond Int, where intValue would wrap and doubleValue would round.
            guard let n = element as? NSNumber, let v = Int(n.stringValue) else { return nil }
            out.append(v)
        }
        return out
    }

    static func byteSize(_ dtype: String) -> Int? {
        switch dtype {
        case "F32", "I32": return 4
        case "F16", "BF16": return 2
        case "F64", "I64": return 8
        case "U8", "I8", "BOOL": return 1
        default: return nil
        }
    }

    public func isFloating(_ name: String) -> Bool {
        guard let e = entries[name] else { return false }
        return ["F32", "F16", "BF16", "F64"].contains(e.dtype)
    }

    /// The tensor as Float32 values, row-major.
    public func floats(_ name: String) throws -> [Float] {
        guard let e = entries[name] else { throw MHFormerError("\(path): missing tensor '\(name)'") }
        let count = e.shape.reduce(1, *)
        return data.withUnsafeBytes { raw -> [Float] in
            let base = raw.baseAddress! + dataStart + e.begin
            var out = [Float](repeating: 0, count: count)
            switch e.dtype {
            case "F32":
                for i in 0..<count { out[i] = Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
            case "F64":
                for i in 0..<count { out[i] = Float(Double(bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))) }
            case "F16":
                for i in 0..<count { out[i] = halfToFloat(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
            case "BF16":
                for i in 0..<count { out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16) }
            default:
                break
            }
            return out
        }
    }
}

/// IEEE 754 binary16 → binary32, exact (subnormals, infinities and NaN included).
func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exp = Int((h >> 10) & 0x1F)
    let mant = UInt32(h & 0x3FF)
    if exp == 0 {
        if mant == 0 { return Float(bitPattern: sign) }
        let value = Float(mant) * Float(sign: .plus, exponent: -24, significand: 1)   // subnormal: m · 2^-24
        return sign != 0 ? -value : value
    }
    if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13)) }
    return Float(bitPattern: sign | (UInt32(exp + 112) << 23) | (mant << 13))
}
