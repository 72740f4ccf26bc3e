// Planting the feet: a foot in contact stays where it was put down, on the ground, and no foot goes
// below the ground. World frame, Y up, the ground at 0, a rigid skeleton (bone lengths are kept).
//
//   1. Each contact gets one target: where the ankle was over it (the median), at standing height.
//   2. The body moves: the root's correction is, along the ground, the mean of what the planted feet
//      are off their targets, and in height what stands the lowest planted foot on the ground;
//      low-passed over time (a step to the next foothold is spread, never a jump); frames without a
//      contact take it from their neighbours. This removes most of the sliding and floating the root
//      path's errors cause, and keeps the root's motion consistent with the feet.
//   3. Each leg reaches the rest of the way by two-bone IK (hip fixed, thigh and shin lengths kept, the
//      knee bent in its own plane): along the ground to the contact's target, in height to the
//      contact's median height after step 2 (not the ground's: moving the ankle of a nearly straight
//      leg up or down bends the knee several times as far, and the lifter's two legs rarely end at the
//      same height), blended in and out over `blendSeconds` at each end of a contact so nothing pops.
//   4. A foot left below the ground is lifted onto it by the same IK.
//   5. Where a planted foot is still short of its target (beyond the leg's reach: the leg straight
//      behind at the end of a stance), the body moves the rest of the way.

import Foundation

public enum FootLocking {
    /// Hip, knee and ankle of the left and right leg (contacts' order).
    static let legs = [(hip: 4, knee: 5, ankle: 6), (hip: 1, knee: 2, ankle: 3)]

    public struct Settings: Sendable {
        /// Time over which a foot's lock is blended in before its contact and out after it (s).
        public var blendSeconds = 0.12
        /// Cut-off of the low-pass of the root's correction (Hz).
        public var rootCorrectionCutoffHz = 2.0
        public init() {}
    }

    /// `world` (N, 17, 3) with the feet in `contacts` (N, 2: left, right) planted; rows not `present`
    /// are left as they are.
    public static func apply(world: [Double], present: [Bool], contacts: [Bool], rate: Double,
                             settings: Settings = Settings()) -> [Double] {
        var out = world
        let blend = max(1, Int((settings.blendSeconds * rate).rounded()))
        for seg in runsOfTrue(present) where seg.count >= 3 {
            let n = seg.count
            func ankle(_ k: Int, _ side: Int) -> [Double] { (0..<3).map { out[(seg.lowerBound + k) * 51 + 3 * legs[side].ankle + $0] } }
            // 1. Targets and blend weights per foot: weight 1 during a contact, ramping to 0 over `blend`
            // frames on either side; the target outside a contact is that of the nearest one.
            var target = [[[Double]]](repeating: [[Double]](repeating: [0, 0, 0], count: n), count: 2)
            var weight = [[Double]](repeating: [Double](repeating: 0, count: n), count: 2)
            // The contact each frame's target belongs to (an index into `runs[side]`).
            var owner = [[Int]](repeating: [Int](repeating: -1, count: n), count: 2)
            let runs = (0..<2).map { side in runsOfTrue((0..<n).map { contacts[2 * (seg.lowerBound + $0) + side] }) }
            for side in 0..<2 {
                for (index, run) in runs[side].enumerated() {
                    let xs = run.map { ankle($0, side)[0] }.sorted(), zs = run.map { ankle($0, side)[2] }.sorted()
                    let goal = [xs[xs.count / 2], WorldFrame.ankleHeight, zs[zs.count / 2]]
                    for k in max(0, run.lowerBound - blend)..<min(n, run.upperBound + blend) {
                        let distance = k < run.lowerBound ? run.lowerBound - k : (k >= run.upperBound ? k - run.upperBound + 1 : 0)
                        let w = 1 - Double(distance) / Double(blend + 1)
                        if w > weight[side][k] { weight[side][k] = w; target[side][k] = goal; owner[side][k] = index }
                    }
                }
            }
            // 2. The root's correction, low-passed: along the ground the weighted mean offset of the
            // planted feet; in height what puts the lowest planted foot at standing height (the
            // lifter's two legs rarely end at the same height: the other foot may hover a little,
            // rather than be pushed into the ground).
            var offset = [Double](repeating: 0, count: 3 * n), support = [Double](repeating: 1e-3, count: n)
            for k in 0..<n {
                var lowest = Double.infinity, lowestWeight = 0.0
                for side in 0..<2 where weight[side][k] > 0 {
                    let a = ankle(k, side)
                    for c in [0, 2] { offset[3 * k + c] += weight[side][k] * (target[side][k][c] - a[c]) }
                    support[k] += weight[side][k]
                    if a[1] < lowest { lowest = a[1]; lowestWeight = weight[side][k] }
                }
                for c in [0, 2] { offset[3 * k + c] /= support[k] }
                if lowest.isFinite { offset[3 * k + 1] = lowestWeight * (WorldFrame.ankleHeight - lowest) }
            }
            let correction = ZeroPhaseLowPass.filter(offset, channels: 3, weights: support,
                                                  lambda: ZeroPhaseLowPass.smoothness(cutoffHz: settings.rootCorrectionCutoffHz, rate: rate))
            for k in 0..<n {
                for j in 0..<17 { for c in 0..<3 { out[(seg.lowerBound + k) * 51 + 3 * j + c] += correction[3 * k + c] } }
            }
            // The planted height: each contact's median ankle height once the root has moved (on the
            // ground for the lowest foot, a little above it for the other), so the foot stays at one
            // height over its stance without pulling a nearly straight leg to the ground's height.
            for side in 0..<2 {
                for (index, run) in runs[side].enumerated() {
                    let heights = run.map { ankle($0, side)[1] }.sorted()
                    let height = max(heights[heights.count / 2], WorldFrame.ankleHeight)
                    for k in 0..<n where owner[side][k] == index { target[side][k][1] = height }
                }
            }
            for k in 0..<n {
                // 3. Each leg the rest of the way to its (blended) target.
                for side in 0..<2 where weight[side][k] > 0 {
                    let a = ankle(k, side)
                    let goal = (0..<3).map { a[$0] + weight[side][k] * (target[side][k][$0] - a[$0]) }
                    reach(&out, row: seg.lowerBound + k, leg: legs[side], to: goal)
                }
                // 5. Where a foot in contact is short of its target (beyond its leg's reach: the leg
                // straight behind at the end of a stance), the body moves the rest of the way; with
                // both feet in contact, half each. Feet blending in or out do not move the body.
                var shift = [0.0, 0.0, 0.0], planted = 0.0
                for side in 0..<2 where contacts[2 * (seg.lowerBound + k) + side] {
                    let miss = sub(target[side][k], ankle(k, side))
                    for c in 0..<3 { shift[c] += miss[c] }
                    planted += 1
                }
                if planted > 0, norm(shift) > 1e-9 {
                    for j in 0..<17 { for c in 0..<3 { out[(seg.lowerBound + k) * 51 + 3 * j + c] += shift[c] / planted } }
                }
                // 4. Last, no foot below the ground.
                for side in 0..<2 {
                    var a = ankle(k, side)
                    if a[1] < WorldFrame.ankleHeight {
                        a[1] = WorldFrame.ankleHeight
                        reach(&out, row: seg.lowerBound + k, leg: legs[side], to: a)
                    }
                }
            }
        }
        return out
    }

    /// Two-bone IK: moves the knee and ankle of `leg` in row `row` so that the ankle is at `goal` (or as
    /// close as the leg reaches), keeping the hip, both bone lengths and the plane the knee bends in.
    static func reach(_ joints: inout [Double], row: Int, leg: (hip: Int, knee: Int, ankle: Int), to goal: [Double]) {
        func p(_ j: Int) -> [Double] { (0..<3).map { joints[row * 51 + 3 * j + $0] } }
        let hip = p(leg.hip), knee = p(leg.knee), ankle = p(leg.ankle)
        let thigh = norm(sub(knee, hip)), shin = norm(sub(ankle, knee))
        guard thigh > 1e-6, shin > 1e-6 else { return }
        var toGoal = sub(goal, hip)
        let reachable = min(max(norm(toGoal), abs(thigh - shin) + 1e-6), thigh + shin - 1e-6)
        guard norm(toGoal) > 1e-9 else { return }
        let axis = normalised(toGoal)
        toGoal = axis.map { $0 * reachable }
        // The knee: `along` from the hip on the hip-ankle line, `out` away from it towards where it bent.
        let along = (thigh * thigh - shin * shin + reachable * reachable) / (2 * reachable)
        let away = max(thigh * thigh - along * along, 0).squareRoot()
        var bend = sub(sub(knee, hip), axis.map { $0 * dot(sub(knee, hip), axis) })
        if norm(bend) < 1e-9 { bend = perpendicular(to: axis) }
        let bendDirection = normalised(bend)
        let newKnee = add(hip, add(axis.map { $0 * along }, bendDirection.map { $0 * away }))
        let newAnkle = add(hip, toGoal)
        for c in 0..<3 {
            joints[row * 51 + 3 * leg.knee + c] = newKnee[c]
            joints[row * 51 + 3 * leg.ankle + c] = newAnkle[c]
        }
    }

    /// A unit vector at right angles to `v` (the knee's bend when the leg is straight: forward-ish).
    static func perpendicular(to v: [Double]) -> [Double] {
        let other: [Double] = abs(v[2]) < 0.9 ? [0, 0, 1] : [1, 0, 0]
        return normalised(cross(v, other))
    }
}
