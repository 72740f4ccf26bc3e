// Property-based round trip of the 2D keypoint CSV: whatever Keypoints2DCSV.write writes, read gives
// back exactly (frame numbers, time stamps, image size, every coordinate and score bit for bit, frames
// without a person). Random files from swift-property-based; a failure prints the shrunk input and a
// `.fixedSeed(...)` to reproduce it.

import Foundation
import PropertyBased
import Testing
@testable import MHFormerKit

/// One row of a random keypoint file, before it becomes a Keypoints2D.
private struct Row: Sendable {
    var step: Int                 // frame number minus the previous row's (>= 1)
    var points: [Float]?          // 34 pixels; nil: nobody in this frame
    var scores: [Float]           // 17, used only with a person and when the file has scores
    var time: Double?
}

/// `common` 6 times in 8, `wide` once, one of `edges` once.
private func mixture<T: BinaryFloatingPoint & Sendable>(_ common: ClosedRange<T>, _ wide: ClosedRange<T>, _ edges: [T])
    -> Generator<T, AnySequence<(index: Int, value: Any)>> where T.RawSignificand: FixedWidthInteger {
    Gen<T>.frequency([
        (weight: 6, gen: Gen<T>.value(in: common).eraseToAny()),
        (weight: 1, gen: Gen<T>.value(in: wide).eraseToAny()),
        (weight: 1, gen: Gen<Int>.int(in: edges.indices).map { edges[$0] }.eraseToAny()),
    ])
}

/// Mostly ordinary pixels, and now and then the edges: ±10^7 (the reader's limit), ±0, subnormals,
/// values with no short decimal form.
private let coordinate = mixture(-2000...4000, -Keypoints2DCSV.maxCoordinate...Keypoints2DCSV.maxCoordinate,
                                 [0, -0.0, .leastNonzeroMagnitude, -.leastNormalMagnitude, Keypoints2DCSV.maxCoordinate,
                                  -Keypoints2DCSV.maxCoordinate, 0.1, 1 / 3, 1e-30])

/// Scores: any finite Float32 is accepted (the detector's range is 0...1).
private let score = mixture(Float(0)...1, -1e30...1e30, [0, 1, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude])

private let time = mixture(Double(0)...36_000, -1e300...1e300, [0, -0.0, .leastNonzeroMagnitude, 1 / 3, 1e-7, .greatestFiniteMagnitude])
    .optional(valueRate: 0.8)

private let row = zip(Gen.int(in: 1...5), coordinate.array(of: 34).optional(valueRate: 0.75), score.array(of: 17), time)
    .map { Row(step: $0, points: $1, scores: $2, time: $3) }

/// A Keypoints2D with at least one person (read refuses a file without one).
private func keypoints(first: Int, rows: [Row], size: (Int, Int), withScores: Bool) -> Keypoints2D {
    var rows = rows
    if !rows.contains(where: { $0.points != nil }) { rows[0].points = [Float](repeating: 1, count: 34) }
    var kp = Keypoints2D(frames: [], times: [], width: size.0, height: size.1, points: [], present: [],
                         scores: withScores ? [] : nil)
    var frame = first
    for r in rows {
        frame += r.step
        kp.frames.append(frame)
        kp.times.append(r.time)
        kp.present.append(r.points != nil)
        kp.points += r.points ?? [Float](repeating: 0, count: 34)
        kp.scores? += r.points != nil ? r.scores : [Float](repeating: 0, count: 17)   // read's value for nobody
    }
    return kp
}

@Suite("2D keypoint CSV properties")
struct Keypoints2DCSVPropertyTests {
    @Test("write then read gives the same keypoints: frames, times, size, coordinates and scores bit for bit")
    func roundTrip() async throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("kp.csv").path
        let size = zip(Gen.int(in: 1...Keypoints2DCSV.maxImageSide), Gen.int(in: 1...Keypoints2DCSV.maxImageSide))
        var cases = 0
        await propertyCheck(count: 300, input: Gen.int(in: -1_000_000_000...1_000_000_000), row.array(of: 1...12),
                            size, Gen.bool) { first, rows, size, withScores in
            cases += 1
            let kp = keypoints(first: first, rows: rows, size: size, withScores: withScores)
            try Keypoints2DCSV.write(kp, to: path)
            let back = try Keypoints2DCSV.read(path: path)
            #expect(back.frames == kp.frames)
            #expect(back.times.map { $0?.bitPattern } == kp.times.map { $0?.bitPattern }, "times \(kp.times) read back as \(back.times)")
            #expect(back.width == kp.width && back.height == kp.height)
            #expect(back.present == kp.present)
            // Bit patterns: formatFloat writes -0 as "0", the one accepted difference.
            #expect(back.points.map(\.bitPattern) == kp.points.map { $0 == 0 ? 0 : $0.bitPattern })
            #expect(back.scores?.map(\.bitPattern) == kp.scores?.map { $0 == 0 ? 0 : $0.bitPattern })
        }
        #expect(cases >= 300, "\(cases) random cases ran")
    }
}
