// Splits a CSV file into records and fields: the one tokenizer behind both 2D keypoint CSVs that
// `mhformer lift` reads (this project's, Keypoints2DCSV, and MediaPipe landmarks, MediaPipeCSV).
// The dialect it accepts:
//   - UTF-8 text, with or without a byte order mark;
//   - fields separated by commas, quoted as RFC 4180 says: a field in double quotes may hold commas,
//     line breaks and `""` for one quote (`"a ""b"", c"` is the field `a "b", c`);
//   - records end at LF, CRLF or CR (old Mac files), mixed too; the last one needs no line break;
//   - blank lines (empty, or only spaces and tabs) are skipped, wherever they are;
//   - spaces and tabs around a field are not part of it; inside quotes they are.
// Where RFC 4180 says nothing sensible we keep what the file says or refuse: a quote inside an
// unquoted field is kept as a character (`5"` stays `5"`, which a number column then refuses); text
// after a closing quote, and a quote never closed, are errors.
//
// Why bytes, read in chunks: the file is read 1 MB at a time and a record's fields are kept as bytes
// in two arrays reused from record to record, so memory does not grow with the file and a number is
// parsed without a String of its own. `mhformer lift` reads a 200,000-row (114 MB) file in 3.8 s
// and 99 MB at peak this way; splitting the whole text into String lines and cells took 22 s and
// 455 MB (both measured on a busy 2-core machine, /usr/bin/time -v).
// Why by hand: the project prefers a maintained library that measures as well, and none does here.
// yaslab/CSV.swift (2.5.2), tokenizing the same file with every cell parsed as a number, took 34 s
// (20 s CPU) where this tokenizer took 3.0 s (2.0 s CPU), both streaming in about 20 MB: it decodes
// Unicode scalars one by one through an AnyIterator and makes a String of every cell. And SwiftPM
// could not fetch it anyway: this project's machines reach no package source but Debian's and PyPI's.

import Foundation

/// One record (row) of a CSV file, its fields unquoted and kept as bytes.
struct CSVRecord {
    /// The file's line the record starts on, from 1 (a quoted field may run over several lines).
    let line: Int
    /// Every field's bytes, one after the other; field `i` ends at `ends[i]`.
    fileprivate(set) var bytes: [UInt8]
    fileprivate(set) var ends: [Int]

    /// The number of fields.
    var count: Int { ends.count }

    private func range(_ i: Int) -> Range<Int> { (i == 0 ? 0 : ends[i - 1])..<ends[i] }

    func isEmpty(_ i: Int) -> Bool { range(i).isEmpty }

    /// Field `i`'s bytes, for parsing a number without making a String of it.
    func withField<R>(_ i: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let r = range(i)
        return try bytes.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[r])) }
    }

    /// Field `i` as text (the tokenizer has checked that it is UTF-8).
    func string(_ i: Int) -> String { String(decoding: bytes[range(i)], as: UTF8.self) }

    /// All fields as text (for a header).
    var strings: [String] { (0..<count).map(string) }
}

/// Reads CSV records one at a time, from a file (streamed) or from bytes in memory.
struct CSVTokenizer {
    /// The name errors start with (the file's path).
    private let path: String
    /// nil: all input is in `chunk` already.
    private let file: FileHandle?
    private static let chunkSize = 1 << 20

    /// Input bytes read and not yet all consumed, and the next one to consume.
    private var chunk: [UInt8]
    private var position = 0
    /// Before the first byte: a byte order mark is still to be skipped.
    private var atStart = true
    /// The line the next byte is on, and the byte before it (a LF right after a CR ends no line).
    private var line = 1
    private var previous: UInt8 = 0
    /// The record being built, reused from record to record (see CSVRecord).
    private var bytes: [UInt8] = []
    private var ends: [Int] = []

    /// Streams the file at `path`. Errors name `path`; a missing file, a folder or an unreadable
    /// file is an error here rather than on the first `next()`.
    init(path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw MHFormerError("\(path): no such file")
        }
        guard !isDirectory.boolValue else { throw MHFormerError("\(path): is a folder, not a file") }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw MHFormerError("\(path): cannot read the file") }
        self.path = path
        self.file = handle
        self.chunk = []
    }

    /// Reads `bytes` (a whole file's content); errors name `path`.
    init<Bytes: Sequence<UInt8>>(bytes: Bytes, path: String) {
        self.path = path
        self.file = nil
        self.chunk = Array(bytes)
    }

    /// Reads the next chunk of the file into `chunk`; false at the end of the input.
    private mutating func refill() throws -> Bool {
        guard let file else { return false }
        let data: Data?
        do { data = try file.read(upToCount: Self.chunkSize) } catch {
            throw MHFormerError("\(path): cannot read the file (\(error.localizedDescription))")
        }
        guard let data, !data.isEmpty else { return false }
        chunk = [UInt8](data)
        position = 0
        return true
    }

    private enum State {
        case fieldStart      // before a field's first byte (spaces and tabs skipped)
        case unquoted        // in a field that did not start with a quote
        case quoted          // between a field's opening and closing quote
        case quoteInQuoted   // just after a quote in a quoted field: the closing one, or the first of ""
        case afterQuote      // spaces and tabs after a closing quote
    }

    /// The next record that is not a blank line; nil at the end of the input.
    mutating func next() throws -> CSVRecord? {
        let comma = UInt8(ascii: ","), quote = UInt8(ascii: "\""), cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")
        let space = UInt8(ascii: " "), tab = UInt8(ascii: "\t")
        if atStart {
            // A byte order mark (EF BB BF, as Windows tools write UTF-8) is not part of the first field.
            atStart = false
            if position == chunk.count { _ = try refill() }
            if chunk[position...].starts(with: [0xEF, 0xBB, 0xBF]) { position += 3 }
        }
        bytes.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        var state = State.fieldStart
        var recordLine = line
        var hasQuotedField = false
        var allBytes: UInt8 = 0             // every byte of the record OR-ed: bit 7 set if any is not ASCII

        /// Ends the field being read (an unquoted one loses its trailing spaces and tabs).
        func endField() {
            if state == .unquoted {
                let start = ends.last ?? 0
                while bytes.count > start, bytes[bytes.count - 1] == space || bytes[bytes.count - 1] == tab { bytes.removeLast() }
            }
            ends.append(bytes.count)
            state = .fieldStart
        }
        /// Ends the record; false when it was a blank line (one empty field, not quoted), to skip.
        func endRecord() throws -> Bool {
            endField()
            if ends.count == 1, bytes.isEmpty, !hasQuotedField {
                ends.removeAll(keepingCapacity: true)
                recordLine = line
                return false
            }
            if allBytes & 0x80 != 0 { try checkUTF8(recordLine) }
            return true
        }

        while true {
            if position == chunk.count {
                guard try refill() else { break }
            }
            let b = chunk[position]
            position += 1
            allBytes |= b
            let lineBreak = b == lf || b == cr
            if lineBreak, !(b == lf && previous == cr) { line += 1 }
            previous = b
            switch state {
            case .fieldStart:
                if b == space || b == tab { continue }
                if b == quote { state = .quoted; hasQuotedField = true }
                else if b == comma { endField() }
                else if lineBreak { if try endRecord() { return record(recordLine) } }
                else { bytes.append(b); state = .unquoted }
            case .unquoted:
                if b == comma { endField() }
                else if lineBreak { if try endRecord() { return record(recordLine) } }
                else { bytes.append(b) }
            case .quoted:
                if b == quote { state = .quoteInQuoted } else { bytes.append(b) }
            case .quoteInQuoted:
                if b == quote { bytes.append(quote); state = .quoted }
                else if b == comma { endField() }
                else if lineBreak { if try endRecord() { return record(recordLine) } }
                else if b == space || b == tab { state = .afterQuote }
                else { throw textAfterQuote(b, recordLine) }
            case .afterQuote:
                if b == space || b == tab { continue }
                if b == comma { endField() }
                else if lineBreak { if try endRecord() { return record(recordLine) } }
                else { throw textAfterQuote(b, recordLine) }
            }
        }
        // The end of the input: the last record needs no line break.
        if state == .quoted {
            throw MHFormerError("\(path): line \(recordLine), column \(ends.count + 1): a quoted field has no closing quote")
        }
        if state == .fieldStart, ends.isEmpty, !hasQuotedField { return nil }    // nothing after the last line break
        return try endRecord() ? record(recordLine) : nil
    }

    private func record(_ line: Int) -> CSVRecord { CSVRecord(line: line, bytes: bytes, ends: ends) }

    private func textAfterQuote(_ b: UInt8, _ line: Int) -> MHFormerError {
        let found = b < 0x80 ? "'\(Keypoints2DCSV.printable(String(UnicodeScalar(b))))'" : "a non-ASCII byte"
        return MHFormerError("\(path): line \(line), column \(ends.count + 1): \(found) after a closing quote (a quote in a quoted field is written \"\")")
    }

    /// Refuses a record with a field that is not valid UTF-8 (as a file that is not text).
    private func checkUTF8(_ line: Int) throws {
        var start = 0
        for end in ends {
            if String(validating: bytes[start..<end], as: UTF8.self) == nil {
                throw MHFormerError("\(path): line \(line): not a UTF-8 text file")
            }
            start = end
        }
    }
}
