// Property-based BVH round trip: for random motions (any joint directions, bone lengths changing from
// frame to frame, frames without a person, with or without 2D scores), BVH.fit's rigid skeleton,
// written by BVH.render and read back by forward kinematics, lands on the fitted positions within
// 0.1 mm. Random inputs from swift-property-based; a failure prints the shrunk motion and a seed.

import Foundation
import PropertyBased
import Testing
@testable import MHFormerKit

/// One frame of a random motion: the pelvis position, and per joint a direction (not normalised) and
/// a length parameter in 0...1.
private struct Frame: Sendable {
    var root: [Double]
    var bones: [Double]          // 17 × (x, y, z, length)
    var present: Bool
    var scores: [Float]          // 17
}

private let frame = zip(Gen.double(in: -3...3).array(of: 3), Gen.double(in: -1...1).array(of: 17 * 4),
                        Gen.bool(0.8), Gen.float(in: 0...1).array(of: 17))
    .map { Frame(root: $0, bones: $1, present: $2, scores: $3) }

/// (N, 17, 3) positions, Y up, metres: each joint its parent plus a bone of 5 to 60 cm.
/// Degenerate branching joints (left and right hip on one point, the spine along the hip line) are
/// the last test below: the random bones here keep them apart.
private func positions(_ frames: [Frame]) -> [Double] {
    var out = [Double]()
    for f in frames {
        var p = [[Double]](repeating: f.root, count: 17)
        for j in 1..<17 {
            var d = Array(f.bones[(4 * j)..<(4 * j + 3)])
            // A direction must exist; each joint's own fallback keeps the hips (and the shoulders)
            // apart: with both on one point the pelvis' frame is degenerate (see the note below).
            if dot(d, d) < 1e-6 { d = [cos(Double(j)), 1, sin(Double(j))] }
            let length = 0.05 + 0.55 * abs(f.bones[4 * j + 3])
            p[j] = add(p[Skeleton.parents[j]], normalised(d).map { $0 * length })
        }
        out += p.flatMap { $0 }
    }
    return out
}

@Suite("BVH properties")
struct BVHPropertyTests {
    @Test("FK of the rendered BVH gives the fitted skeleton's positions within 1e-4 m, for random motions")
    func fitRenderForwardKinematics() async throws {
        var cases = 0
        await propertyCheck(count: 300, input: frame.array(of: 1...8), Gen.bool, Gen.double(in: 1...120)) { frames, withScores, fps in
            cases += 1
            let n = frames.count
            let fit = BVH.fit(positions: positions(frames), present: frames.map(\.present),
                              scores: withScores ? frames.flatMap(\.scores) : nil)
            let (names, frameTime, fk) = try BVH.forwardKinematics(BVH.render(fit, fps: fps))
            #expect(names == Skeleton.jointNames)
            #expect(abs(frameTime - 1 / fps) <= 5e-7)
            try #require(fk.count == n && fit.positions.count == n * 51)
            var worst = 0.0
            for i in 0..<n {
                for j in 0..<17 {
                    let e = sub(Array(fk[i][(3 * j)..<(3 * j + 3)]), Array(fit.positions[(i * 51 + 3 * j)..<(i * 51 + 3 * j + 3)]))
                    worst = max(worst, dot(e, e).squareRoot())
                }
            }
            #expect(worst < 1e-4, "FK of the BVH is \(worst * 1000) mm from the fit")
        }
        #expect(cases >= 300, "\(cases) random cases ran")
    }

    /// Shrinking once found every bone along +Y: both hips on one point, the spine on the hip line,
    /// and BVH.branchFrame no rotation (the BVH was 0.29 m from the fit). Each degenerate layout now
    /// gives a frame that is a rotation, and the BVH encodes the fit.
    @Test("degenerate hips and shoulders: the BVH still encodes the fit within 1e-4 m", arguments: ["hips together", "spine on the hip line", "all along +Y"])
    func degenerateBranches(_ layout: String) throws {
        var p = [[Double]](repeating: [0, 1, 0], count: 17)
        for j in 1..<17 {
            var d: [Double] = [0, 0.2, 0]
            switch layout {
            case "hips together": if j == 1 || j == 4 { d = [0, 0.2, 0] } else if [2, 3, 5, 6].contains(j) { d = [0, -0.4, 0] } else if j == 11 { d = [0.2, 0, 0] } else if j == 14 { d = [-0.2, 0, 0] }
            case "spine on the hip line": if j == 1 { d = [-0.1, 0, 0] } else if j == 4 || j == 7 { d = [0.1, 0, 0] } else if j == 11 { d = [0.2, 0, 0] } else if j == 14 { d = [-0.2, 0, 0] }
            default: break
            }
            p[j] = add(p[Skeleton.parents[j]], d)
        }
        let frames = 3
        let positions = (0..<frames).flatMap { _ in p.flatMap { $0 } }
        for joint in [0, 8] {
            let r = BVH.branchFrame(joint) { p[$0] }
            let columns = (0..<3).map { k in [r.m[k], r.m[3 + k], r.m[6 + k]] }
            let product = columns.map { a in columns.map { dot(a, $0) } }
            #expect(abs(dot(cross(columns[0], columns[1]), columns[2]) - 1) < 1e-9, "\(layout), joint \(joint): not right-handed")
            #expect(zip(product.flatMap { $0 }, [1.0, 0, 0, 0, 1, 0, 0, 0, 1]).allSatisfy { abs($0 - $1) < 1e-9 }, "\(layout), joint \(joint): \(product)")
        }
        let fit = BVH.fit(positions: positions, present: Array(repeating: true, count: frames), scores: nil)
        let (_, _, fk) = try BVH.forwardKinematics(BVH.render(fit, fps: 30))
        var worst = 0.0
        for i in 0..<frames { for k in 0..<51 { worst = max(worst, abs(fk[i][k] - fit.positions[i * 51 + k])) } }
        #expect(worst < 1e-4, "\(layout): FK of the BVH is \(worst * 1000) mm from the fit")
    }
}
