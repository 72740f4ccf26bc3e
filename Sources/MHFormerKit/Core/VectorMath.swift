// Small 3-vector and 3×3 matrix helpers in Double, on plain [Double] of length 3 (vectors) or 9
// (row-major matrices): the root trajectory, the world frame and the BVH skeleton fit use them.

import Foundation

/// Solves the 3×3 system A·x = b (Cramer's rule); nil when singular.
func solve3(_ a: [Double], _ b: [Double]) -> [Double]? {
    func det(_ m: [Double]) -> Double {
        m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6])
    }
    let d = det(a)
    guard abs(d) > 1e-12 * max(1, a.map(abs).max()!) else { return nil }
    var x = [Double](repeating: 0, count: 3)
    for k in 0..<3 {
        var m = a
        for r in 0..<3 { m[r * 3 + k] = b[r] }
        x[k] = det(m) / d
    }
    return x
}

func dot(_ a: [Double], _ b: [Double]) -> Double { a[0] * b[0] + a[1] * b[1] + a[2] * b[2] }
func add(_ a: [Double], _ b: [Double]) -> [Double] { [a[0] + b[0], a[1] + b[1], a[2] + b[2]] }
func sub(_ a: [Double], _ b: [Double]) -> [Double] { [a[0] - b[0], a[1] - b[1], a[2] - b[2]] }
func cross(_ a: [Double], _ b: [Double]) -> [Double] {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}
func norm(_ a: [Double]) -> Double { dot(a, a).squareRoot() }
func normalised(_ a: [Double]) -> [Double] {
    let n = dot(a, a).squareRoot()
    return n > 0 ? a.map { $0 / n } : [0, 1, 0]
}

/// Normal of the least-squares plane through points (the eigenvector of the smallest eigenvalue of
/// their covariance), the middle eigenvalue (how well the plane is determined) and the principal
/// direction with its variance (how far the points spread along a line).
func planeNormal(_ pts: [[Double]]) -> (normal: [Double], spread: Double, line: (direction: [Double], extent: Double)) {
    guard pts.count >= 3 else { return ([0, -1, 0], 0, ([0, 0, 0], 0)) }
    var mean = [0.0, 0.0, 0.0]
    for q in pts { mean = add(mean, q) }
    mean = mean.map { $0 / Double(pts.count) }
    var c = [Double](repeating: 0, count: 9)
    for q in pts {
        let d = sub(q, mean)
        for r in 0..<3 { for s in 0..<3 { c[r * 3 + s] += d[r] * d[s] / Double(pts.count) } }
    }
    let (values, vectors) = symmetricEigen3(c)
    // ascending order: values[0] smallest
    return (vectors[0], values[1], (vectors[2], values[2]))
}

/// Eigen-decomposition of a symmetric 3×3 matrix by Jacobi rotations; eigenvalues ascending with
/// their unit eigenvectors.
func symmetricEigen3(_ m: [Double]) -> ([Double], [[Double]]) {
    var a = m
    var v: [Double] = [1, 0, 0, 0, 1, 0, 0, 0, 1]
    for _ in 0..<50 {
        let off = a[1] * a[1] + a[2] * a[2] + a[5] * a[5]
        if off < 1e-20 { break }
        for (p, q) in [(0, 1), (0, 2), (1, 2)] {
            let apq = a[p * 3 + q]
            if abs(apq) < 1e-30 { continue }
            let theta = (a[q * 3 + q] - a[p * 3 + p]) / (2 * apq)
            let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
            let c = 1 / (t * t + 1).squareRoot(), s = t * c
            for k in 0..<3 {   // A ← Jᵀ A J
                let akp = a[k * 3 + p], akq = a[k * 3 + q]
                a[k * 3 + p] = c * akp - s * akq
                a[k * 3 + q] = s * akp + c * akq
            }
            for k in 0..<3 {
                let apk = a[p * 3 + k], aqk = a[q * 3 + k]
                a[p * 3 + k] = c * apk - s * aqk
                a[q * 3 + k] = s * apk + c * aqk
            }
            for k in 0..<3 {
                let vkp = v[k * 3 + p], vkq = v[k * 3 + q]
                v[k * 3 + p] = c * vkp - s * vkq
                v[k * 3 + q] = s * vkp + c * vkq
            }
        }
    }
    let order = [0, 1, 2].sorted { a[$0 * 3 + $0] < a[$1 * 3 + $1] }
    return (order.map { a[$0 * 3 + $0] }, order.map { k in [v[k], v[3 + k], v[6 + k]] })
}

/// The median of `v` (the mean of the middle two for an even count); 0 when empty. The BVH skeleton
/// fit's bone lengths and the performer's height use it.
func median(_ v: [Double]) -> Double {
    guard !v.isEmpty else { return 0 }
    let s = v.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}
