// Root trajectory, ground plane and One Euro smoothing on synthetic data with exact answers.

import Foundation
import Testing
@testable import MHFormerKit

@Suite("motion post-processing")
struct MotionTests {
    /// A plausible standing pose, root-relative, camera axes (x right, y down, z forward), metres.
    static let pose: [Float] = [
        0, 0, 0,  -0.13, 0, 0.01,  -0.14, 0.45, 0.03,  -0.15, 0.88, 0.06,  0.13, 0, -0.01,  0.14, 0.45, 0.02,
        0.15, 0.88, 0.05,  0, -0.22, -0.01,  0, -0.47, 0,  0, -0.56, -0.05,  0, -0.7, -0.02,  0.17, -0.44, 0,
        0.2, -0.17, 0.02,  0.22, 0.06, -0.05,  -0.17, -0.44, 0,  -0.2, -0.17, 0.02,  -0.22, 0.06, -0.05,
    ]

    @Test("exact projections give back the translation")
    func rootTranslationExact() {
        let n = 30
        let cam = PinholeCamera.assumed(width: 1280, height: 720, fovDegrees: 60)
        var points = [Float](), poses = [Float](), truth = [Double]()
        for i in 0..<n {
            let t = [0.3 * sin(Double(i) / 5), 0.2, 4 + 0.05 * Double(i)]
            truth += t
            poses += MotionTests.pose
            for j in 0..<17 {
                let X = Double(MotionTests.pose[3 * j]) + t[0], Y = Double(MotionTests.pose[3 * j + 1]) + t[1]
                let Z = Double(MotionTests.pose[3 * j + 2]) + t[2]
                points += [Float(cam.focalPx * X / Z + cam.cx), Float(cam.focalPx * Y / Z + cam.cy)]
            }
        }
        let t = RootTrajectory.solve(points2D: points, pose3D: poses, frames: n, camera: cam)
        let err = zip(t, truth).map { abs($0 - $1) }.max()!
        #expect(err < 2e-3, "max translation error \(err) m")
    }

    @Test("eigen-decomposition and the ground plane from walking feet")
    func groundPlane() {
        let (values, vectors) = symmetricEigen3([4, 1, 0, 1, 3, 0, 0, 0, 1])
        #expect(abs(values[0] - 1) < 1e-9)
        #expect(abs(abs(vectors[0][2]) - 1) < 1e-9)
        // A camera tilted 20° down watching someone walk across: the true up in camera coordinates.
        let tilt = 20.0 * Double.pi / 180
        let up = [0, -cos(tilt), -sin(tilt)]          // world up seen by a camera pitched down
        let fwd = [0, -sin(tilt), cos(tilt)]          // horizontal direction away from the camera
        var joints = [Double](), present = [Bool]()
        for i in 0..<60 {
            let base = add(add([-1.5 + 0.05 * Double(i), 0, 0], fwd.map { $0 * 5 }), up.map { $0 * -1.6 })
            for j in 0..<17 {
                // stand the pose upright along `up`: camera-frame pose y is "down"
                let p = MotionTests.pose
                let h = -Double(p[3 * j + 1]) + 0.96           // height above ground (ankles at 0.08)
                let q = add(add(base, [Double(p[3 * j]), 0, 0]), add(up.map { $0 * h }, fwd.map { $0 * Double(p[3 * j + 2]) }))
                joints += q
            }
            present.append(true)
        }
        let w = WorldFrame.estimate(cameraJoints: joints, present: present)
        #expect(w.upSource == "feet+torso")     // a straight walk: the contacts lie along a line
        #expect(dot(w.axes[1], up) > cos(0.5 * Double.pi / 180), "up off by \(acos(dot(w.axes[1], up)) * 180 / Double.pi)°")
        let world = w.transform(joints)
        let ankleHeights = (0..<60).map { min(world[$0 * 51 + 3 * 3 + 1], world[$0 * 51 + 3 * 6 + 1]) }
        #expect(abs(ankleHeights.max()! - WorldFrame.ankleHeight) < 0.01)
        #expect(abs(world[1] - 0.96) < 0.01)            // first pelvis 0.96 m above the ground
        #expect(abs(world[0]) < 1e-9 && abs(world[2]) < 1e-9)
    }

    @Test("feet covering an area give the plane on their own")
    func groundPlaneFromArea() {
        let tilt = 15.0 * Double.pi / 180
        let up = [0, -cos(tilt), -sin(tilt)], fwd = [0, -sin(tilt), cos(tilt)]
        var joints = [Double]()
        for i in 0..<80 {   // walking a circle of 1 m radius, the torso leaning 10° (ignored here)
            let a = Double(i) / 80 * 2 * Double.pi
            let base = add(add([cos(a), 0, 0], fwd.map { $0 * (5 + sin(a)) }), up.map { $0 * -1.6 })
            for j in 0..<17 {
                let p = MotionTests.pose
                let h = -Double(p[3 * j + 1]) + 0.96
                joints += add(add(base, [Double(p[3 * j]) + 0.17 * h, 0, 0]), add(up.map { $0 * h }, fwd.map { $0 * Double(p[3 * j + 2]) }))
            }
        }
        let w = WorldFrame.estimate(cameraJoints: joints, present: Array(repeating: true, count: 80))
        #expect(w.upSource == "feet")
        #expect(dot(w.axes[1], up) > cos(0.5 * Double.pi / 180), "up off by \(acos(dot(w.axes[1], up)) * 180 / Double.pi)°")
    }

    @Test("One Euro: a constant stays constant, jitter on a still joint shrinks")
    func oneEuro() {
        let n = 200
        let times = (0..<n).map { Double($0) / 30 }
        #expect(OneEuroFilter.filter([Float](repeating: 2.5, count: n), channels: 1, times: times, parameters: .init()).allSatisfy { $0 == 2.5 })
        var rng = SystemRandomNumberGenerator()
        let noisy = (0..<n).map { _ in Float.random(in: -0.01...0.01, using: &rng) }
        let smooth = OneEuroFilter.filter(noisy, channels: 1, times: times, parameters: .init(minCutoff: 1, beta: 0.5))
        func jitter(_ x: [Float]) -> Float { zip(x.dropFirst(), x).map { abs($0 - $1) }.reduce(0, +) / Float(n - 1) }
        #expect(jitter(smooth) < 0.3 * jitter(noisy))
    }

    @Test("zero-lag smoothing keeps a straight line straight")
    func smoothLine() {
        let times = (0..<50).map { Double($0) / 25 }
        let line = times.map { 2 * $0 + 1 }
        let s = RootTrajectory.smooth(line, channels: 1, times: times, sigmaSeconds: 0.1)
        #expect(abs(s[25] - line[25]) < 1e-9)
    }
}
