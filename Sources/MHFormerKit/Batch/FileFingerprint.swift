// What identifies a file's contents for the batch records: size, modification time and SHA-256.
// Size and time are compared first (as make and rsync do); the hash settles it when they differ, so
// a file copied or touched without a change is still recognised.

import Crypto
import Foundation

public struct FileFingerprint: Codable, Equatable, Sendable {
    public var path: String
    public var size: Int64
    /// Seconds since 1970 (nanosecond resolution where the file system keeps it).
    public var modified: Double
    public var sha256: String

    /// Size and modification time, without reading the file; nil when it cannot be stat'ed.
    public static func sizeAndTime(_ path: String) -> (size: Int64, modified: Double)? {
        var s = stat()
        guard stat(path, &s) == 0 else { return nil }
        return (Int64(s.st_size), Double(s.st_mtim.tv_sec) + Double(s.st_mtim.tv_nsec) / 1e9)
    }

    /// Reads the whole file (1 MiB at a time) to hash it.
    public static func make(_ path: String) throws -> FileFingerprint {
        guard let (size, modified) = sizeAndTime(path) else { throw MHFormerError("\(path): no such file") }
        return FileFingerprint(path: path, size: size, modified: modified, sha256: try sha256(path))
    }

    public static func sha256(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw MHFormerError("\(path): cannot be read") }
        defer { try? handle.close() }
        var hasher = SHA256()
        while true {
            let chunk: Data
            do { chunk = try handle.read(upToCount: 1 << 20) ?? Data() } catch {
                throw MHFormerError("\(path): cannot be read (\(error.localizedDescription))")
            }
            if chunk.isEmpty { break }
            hasher.update(data: chunk)
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `path` still has these contents: same size and time, or else the same hash.
    public func matches(_ path: String) -> Bool {
        guard let now = FileFingerprint.sizeAndTime(path), now.size == size else { return false }
        if now.modified == modified { return true }
        return (try? FileFingerprint.sha256(path)) == sha256
    }
}
