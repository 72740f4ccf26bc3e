// A minimal, bounds-checked reader of FlatBuffers, the binary format of .tflite files.
//
// The wire format, as much of it as a reader needs (all little-endian):
//   file[0..<4]    u32: offset of the root table
//   table at t     i32 at t: t - that = the table's vtable position v
//   vtable at v    u16 vtable size in bytes, u16 table size, then one u16 per field: the field's
//                  offset from t, 0 = field absent (its default applies). Field i sits at v + 4 + 2i.
//   scalar field   stored inline at t + fieldOffset
//   reference      (table, vector, string) u32 at p = t + fieldOffset; the target is at p + that u32
//   vector at p    u32 element count, then the elements; a vector of tables holds u32 references,
//                  each relative to its own position
//   union          two fields: a u8 type tag (field i) and a reference to the value table (field i + 1)
// Every read checks its range, so a truncated or corrupt file gives an error, never a crash.

import Foundation

struct FlatBuffer {
    let bytes: [UInt8]
    let path: String

    init(bytes: [UInt8], path: String) { self.bytes = bytes; self.path = path }

    func corrupt(_ what: String) -> MHFormerError {
        MHFormerError("\(path): not a valid TFLite flatbuffer (\(what))")
    }

    @inline(__always) func check(_ pos: Int, _ size: Int) throws {
        guard pos >= 0, size >= 0, pos <= bytes.count - size else { throw corrupt("read of \(size) bytes at \(pos) is outside the file") }
    }
    func u8(_ p: Int) throws -> UInt8 { try check(p, 1); return bytes[p] }
    func u16(_ p: Int) throws -> UInt16 { try check(p, 2); return UInt16(bytes[p]) | UInt16(bytes[p + 1]) << 8 }
    func u32(_ p: Int) throws -> UInt32 {
        try check(p, 4)
        return UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16 | UInt32(bytes[p + 3]) << 24
    }
    func i32(_ p: Int) throws -> Int32 { Int32(bitPattern: try u32(p)) }
    func u64(_ p: Int) throws -> UInt64 { UInt64(try u32(p)) | UInt64(try u32(p + 4)) << 32 }

    /// The root table of the file.
    func root() throws -> Table {
        let t = Int(try u32(0))
        return try Table(fb: self, pos: t)
    }

    /// Follows the reference stored at p.
    func deref(_ p: Int) throws -> Int {
        let target = p + Int(try u32(p))
        try check(target, 4)
        return target
    }
}

/// One table: answers "field i" questions through its vtable.
struct Table {
    let fb: FlatBuffer
    let pos: Int
    private let vtable: Int
    private let vtableSize: Int

    init(fb: FlatBuffer, pos: Int) throws {
        self.fb = fb
        self.pos = pos
        vtable = pos - Int(try fb.i32(pos))
        vtableSize = Int(try fb.u16(vtable))
        guard vtableSize >= 4, vtableSize % 2 == 0 else { throw fb.corrupt("bad vtable at \(vtable)") }
        try fb.check(vtable, vtableSize)
    }

    /// Absolute position of field `i`, or nil when absent.
    func field(_ i: Int) throws -> Int? {
        let slot = 4 + 2 * i
        guard slot + 2 <= vtableSize else { return nil }
        let off = Int(try fb.u16(vtable + slot))
        return off == 0 ? nil : pos + off
    }

    func has(_ i: Int) throws -> Bool { try field(i) != nil }

    func u8(_ i: Int, default d: UInt8 = 0) throws -> UInt8 { try field(i).map { try fb.u8($0) } ?? d }
    func bool(_ i: Int) throws -> Bool { try u8(i) != 0 }
    func i32(_ i: Int, default d: Int32 = 0) throws -> Int32 { try field(i).map { try fb.i32($0) } ?? d }
    func u32(_ i: Int, default d: UInt32 = 0) throws -> UInt32 { try field(i).map { try fb.u32($0) } ?? d }
    func u64(_ i: Int, default d: UInt64 = 0) throws -> UInt64 { try field(i).map { try fb.u64($0) } ?? d }

    func table(_ i: Int) throws -> Table? {
        guard let p = try field(i) else { return nil }
        return try Table(fb: fb, pos: try fb.deref(p))
    }

    func string(_ i: Int) throws -> String? {
        guard let (start, n) = try vector(i) else { return nil }
        try fb.check(start, n)
        return String(decoding: fb.bytes[start..<(start + n)], as: UTF8.self)
    }

    /// (position of the first element, element count) of a vector field.
    func vector(_ i: Int) throws -> (Int, Int)? {
        guard let p = try field(i) else { return nil }
        let v = try fb.deref(p)
        return (v + 4, Int(try fb.u32(v)))
    }

    func tables(_ i: Int) throws -> [Table] {
        guard let (start, n) = try vector(i) else { return [] }
        try fb.check(start, 4 * n)
        return try (0..<n).map { try Table(fb: fb, pos: try fb.deref(start + 4 * $0)) }
    }

    func i32s(_ i: Int) throws -> [Int] {
        guard let (start, n) = try vector(i) else { return [] }
        try fb.check(start, 4 * n)
        return try (0..<n).map { Int(try fb.i32(start + 4 * $0)) }
    }

    func u16s(_ i: Int) throws -> [Int] {
        guard let (start, n) = try vector(i) else { return [] }
        try fb.check(start, 2 * n)
        return try (0..<n).map { Int(try fb.u16(start + 2 * $0)) }
    }

    func u8s(_ i: Int) throws -> [Int] {
        guard let (start, n) = try vector(i) else { return [] }
        try fb.check(start, n)
        return fb.bytes[start..<(start + n)].map { Int($0) }
    }

    /// Byte range of a [ubyte] vector field (buffer data), without copying.
    func byteRange(_ i: Int) throws -> Range<Int>? {
        guard let (start, n) = try vector(i) else { return nil }
        try fb.check(start, n)
        return start..<(start + n)
    }
}
