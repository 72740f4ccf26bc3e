// The motion stage's parts on synthetic data: the zero-phase low-pass, the two-bone IK, foot locking
// of a sliding stance, contact detection, and finite outputs for any input.

import Foundation
import Testing
@testable import MHFormerKit

@Suite("Motion stage: the zero-phase low-pass")
struct ZeroPhaseLowPassTests {
    @Test("a straight line passes unchanged (no lag, no shrinking at the ends)")
    func lineIsKept() {
        let x = (0..<50).flatMap { t in [0.3 * Double(t) - 2, -0.1 * Double(t)] }
        let y = ZeroPhaseLowPass.filter(x, channels: 2, lambda: ZeroPhaseLowPass.smoothness(cutoffHz: 2, rate: 25))
        #expect(maxAbsDiff(x.map(Float.init), y.map(Float.init)) < 1e-9)
    }

    /// The response is 1 / (1 + λ (2 sin(ω/2))⁴): ½ at the cut-off, about 1 well below, small well above.
    @Test("a sine at the cut-off keeps half its amplitude; slower ones pass, faster ones are removed",
          arguments: [(1.0, 0.99), (6.0, 0.5), (12.0, 0.06)])
    func response(frequency: Double, gain: Double) {
        let rate = 50.0, n = 2000
        let x = (0..<n).map { sin(2 * Double.pi * frequency * Double($0) / rate) }
        let y = ZeroPhaseLowPass.filter(x, channels: 1, lambda: ZeroPhaseLowPass.smoothness(cutoffHz: 6, rate: rate))
        // Amplitude in the middle, away from the ends: the least-squares fit of a sine of that frequency.
        var s = 0.0, c = 0.0
        for t in 500..<1500 {
            let phase = 2 * Double.pi * frequency * Double(t) / rate
            s += y[t] * sin(phase); c += y[t] * cos(phase)
        }
        let amplitude = 2 * (s * s + c * c).squareRoot() / 1000
        #expect(abs(amplitude - gain) < 0.02, "gain \(amplitude) at \(frequency) Hz")
    }

    @Test("the robust filter bridges a run of gross errors that the plain one follows")
    func robustBridgesOutliers() {
        var x = (0..<100).map { 5 + 0.01 * Double($0) }
        for t in 40..<46 { x[t] += 1.5 }       // a root depth 1.5 m off for 6 frames
        let lambda = ZeroPhaseLowPass.smoothness(cutoffHz: 0.5, rate: 25)
        let plain = ZeroPhaseLowPass.filter(x, channels: 1, lambda: lambda)
        let robust = ZeroPhaseLowPass.robustFilter(x, channels: 1, lambda: lambda)
        let truth = (0..<100).map { 5 + 0.01 * Double($0) }
        let plainError = zip(plain, truth).map { abs($0 - $1) }.max()!, robustError = zip(robust, truth).map { abs($0 - $1) }.max()!
        #expect(robustError < 0.02 && plainError > 0.05, "robust \(robustError), plain \(plainError)")
    }
}

/// A standing skeleton (world frame, Y up, metres): pelvis at 0.95 m, straight legs, feet on the ground.
func standingPose(x: Double = 0, z: Double = 0) -> [Double] {
    var p = [Double](repeating: 0, count: 51)
    func set(_ j: Int, _ v: [Double]) { for c in 0..<3 { p[3 * j + c] = v[c] } }
    set(0, [x, 0.95, z]); set(1, [x - 0.1, 0.95, z]); set(2, [x - 0.1, 0.52, z + 0.02]); set(3, [x - 0.1, 0.08, z])
    set(4, [x + 0.1, 0.95, z]); set(5, [x + 0.1, 0.52, z + 0.02]); set(6, [x + 0.1, 0.08, z])
    set(7, [x, 1.2, z]); set(8, [x, 1.45, z]); set(9, [x, 1.55, z + 0.05]); set(10, [x, 1.65, z])
    set(11, [x + 0.18, 1.42, z]); set(12, [x + 0.2, 1.15, z]); set(13, [x + 0.2, 0.9, z])
    set(14, [x - 0.18, 1.42, z]); set(15, [x - 0.2, 1.15, z]); set(16, [x - 0.2, 0.9, z])
    return p
}

@Suite("Motion stage: foot locking")
struct FootLockingTests {
    private func length(_ p: [Double], _ a: Int, _ b: Int) -> Double {
        norm(sub(Array(p[(3 * a)..<(3 * a + 3)]), Array(p[(3 * b)..<(3 * b + 3)])))
    }

    @Test("two-bone IK puts the ankle on the goal and keeps the thigh and shin lengths")
    func ikReaches() {
        var p = standingPose()
        let goal = [0.05, 0.15, 0.25]
        FootLocking.reach(&p, row: 0, leg: FootLocking.legs[0], to: goal)
        #expect(norm(sub(Array(p[18..<21]), goal)) < 1e-9)
        #expect(abs(length(p, 4, 5) - length(standingPose(), 4, 5)) < 1e-9 && abs(length(p, 5, 6) - length(standingPose(), 5, 6)) < 1e-9)
        #expect(p[12..<15] == standingPose()[12..<15])             // the hip stays
        // Out of reach: the leg straightens towards the goal, lengths kept.
        var q = standingPose()
        FootLocking.reach(&q, row: 0, leg: FootLocking.legs[1], to: [-0.1, -1.5, 0])
        #expect(abs(length(q, 1, 2) - length(standingPose(), 1, 2)) < 1e-9 && abs(length(q, 2, 3) - length(standingPose(), 2, 3)) < 1e-9)
    }

    /// A body gliding forward 2 cm a frame while its left foot is in contact, that ankle 2-4 cm above
    /// standing height: locked, it stays put at standing height during the contact; the right foot,
    /// never in contact, is never left below the ground.
    @Test("a planted foot stays put and on the ground; no foot goes below it")
    func slidingStanceIsLocked() {
        let n = 40
        var world: [Double] = []
        for t in 0..<n {
            var p = standingPose(z: 0.02 * Double(t))
            p[3 * 6 + 1] = 0.11 + 0.01 * sin(Double(t))      // the planted ankle a little off the ground
            p[3 * 3 + 1] = 0.02                              // the other foot below it
            world += p
        }
        var contacts = [Bool](repeating: false, count: 2 * n)
        for t in 5..<35 { contacts[2 * t] = true }
        let out = FootLocking.apply(world: world, present: [Bool](repeating: true, count: n), contacts: contacts, rate: 25)
        let ankle = (5..<35).map { t in Array(out[(t * 51 + 18)..<(t * 51 + 21)]) }
        // Along the ground the foot stays exactly; in height within 1.5 cm of standing: the root follows
        // the low-passed height error (1.5 cm: the ankle wavers 2 cm at 4 Hz here), and heights are the root's job.
        let drift = ankle.map { hypot($0[0] - ankle[0][0], $0[2] - ankle[0][2]) }.max()!
        #expect(drift < 1e-5, "the planted ankle moved \(drift) m along the ground")
        let height = ankle.map { abs($0[1] - WorldFrame.ankleHeight) }.max()!
        #expect(height < 0.015, "the planted ankle is up to \(height) m off its standing height")
        #expect((0..<n).allSatisfy { out[$0 * 51 + 10] >= WorldFrame.ankleHeight - 1e-9 }, "a right ankle below the ground")
        #expect(out.allSatisfy { $0.isFinite })
    }
}

@Suite("Motion stage: contacts")
struct FootContactsTests {
    /// Walking in place on the spot in the image: each foot lifts 20 cm for 10 frames in turn.
    @Test("a lifted foot is not in contact, a foot on the ground and still is")
    func liftedAndPlanted() {
        let n = 60
        var world: [Double] = [], points: [Float] = []
        for t in 0..<n {
            var p = standingPose()
            let leftUp = (10..<20).contains(t), rightUp = (35..<45).contains(t)
            if leftUp { p[3 * 6 + 1] += 0.2; p[3 * 6 + 2] += 0.1 }
            if rightUp { p[3 * 3 + 1] += 0.2; p[3 * 3 + 2] += 0.1 }
            world += p
            // The image: the lifted ankle moves up 20 px over its lift, the others stay.
            var row = [Float](repeating: 300, count: 34)
            if leftUp { row[13] -= 2 * Float(t - 10) }
            if rightUp { row[7] -= 2 * Float(t - 35) }
            points += row
        }
        let kp = Keypoints2D(frames: Array(0..<n), times: (0..<n).map { Double($0) / 25 }, width: 640, height: 480,
                             points: points, present: [Bool](repeating: true, count: n))
        let contacts = FootContacts.detect(world: world, present: kp.present, keypoints: kp, rootDepth: [Double](repeating: 5, count: n),
                                           focalPx: 550, rate: 25)
        #expect((12..<18).allSatisfy { !contacts[2 * $0] } && (37..<43).allSatisfy { !contacts[2 * $0 + 1] })
        #expect((25..<33).allSatisfy { contacts[2 * $0] && contacts[2 * $0 + 1] })
    }

    /// Any motion, however wild (random joints, degenerate bones, a single frame, gaps): the stage
    /// gives finite joints and a contact flag per foot and frame.
    @Test("outputs stay finite for any input")
    func finiteForAnyInput() {
        var random = SplitMix64(seed: 21)
        func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * Double(random.next() % 1_000_000) / 1_000_000 }
        for trial in 0..<40 {
            let n = 1 + Int(random.next() % 80)
            let present = (0..<n).map { _ in random.next() % 7 != 0 }
            var world = (0..<(n * 51)).map { _ in uniform(-2, 2) }
            if trial % 5 == 0 { for i in 0..<n { for c in 0..<3 { world[i * 51 + 3 * 5 + c] = world[i * 51 + 3 * 4 + c] } } }   // zero-length thigh
            if trial % 7 == 0 { world = [Double](repeating: 0.5, count: n * 51) }                                             // every joint on one point
            let points = (0..<(n * 34)).map { _ in Float(uniform(-100, 800)) }
            let kp = Keypoints2D(frames: Array(0..<n), times: (0..<n).map { Double($0) / 30 }, width: 640, height: 480, points: points, present: present)
            let depth = (0..<n).map { _ in uniform(0.5, 20) }
            let (joints, contacts) = MotionRefinement.plantFeet(world: world, present: present, keypoints: kp, rootDepth: depth, focalPx: 500,
                                                                rate: 30, settings: RefinementSettings())
            #expect(joints.count == n * 51 && contacts.count == n * 2)
            #expect(joints.allSatisfy { $0.isFinite }, "trial \(trial): not finite")
            let pose = Pose3DSequence(frames: Array(0..<n), times: kp.times, joints: world.map(Float.init), present: present)
            let smooth = MotionRefinement.smoothJoints(pose, scores: nil, rate: 30, cutoffHz: 6)
            #expect(smooth.joints.allSatisfy { $0.isFinite }, "trial \(trial): smoothing not finite")
        }
    }
}
