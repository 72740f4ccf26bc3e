// The kernels against straightforward Double references, the safetensors reader's number formats,
// and the COCO-17 flip test's mirror.

import Foundation
import Testing
@testable import MHFormerKit

@Suite("kernels")
struct KernelTests {
    @Test("exp16 matches exp within 2e-7 relative over the softmax range")
    func expAccuracy() {
        var worst: Double = 0
        var x: Float = -87
        while x < 88 {
            var v = SIMD16<Float>()
            for l in 0..<16 { v[l] = x + Float(l) * 0.0137 }
            let e = exp16(v)
            for l in 0..<16 {
                let ref = Foundation.exp(Double(v[l]))
                worst = max(worst, abs(Double(e[l]) - ref) / ref)
            }
            x += 0.21
        }
        #expect(worst < 2e-7, "worst relative error \(worst)")
        #expect(exp16(SIMD16<Float>(repeating: -.infinity))[0] == 0)
        #expect(exp16(SIMD16<Float>(repeating: -200))[3] == 0)
    }

    @Test("GELU (erf form) matches 0.5·x·(1+erf(x/√2)) within 5e-7 absolute")
    func geluAccuracy() {
        let n = 4001
        let xs = (0..<n).map { Float($0 - n / 2) * 0.004 }     // [-8, 8], odd count: exercises the tail
        let buf = Tensor(shape: [n], values: xs)
        geluInPlace(buf.data, count: n)
        var worst: Double = 0
        for i in 0..<n {
            let x = Double(xs[i])
            worst = max(worst, abs(Double(buf[i]) - 0.5 * x * (1 + Foundation.erf(x / 2.0.squareRoot()))))
        }
        #expect(worst < 5e-7, "worst absolute error \(worst)")
        // tanh-approximate GELU differs by up to ~1e-3 here: the exact form is what PyTorch's nn.GELU() uses.
    }

    @Test("LayerNorm and softmax against Double references (odd widths, strided rows)")
    func layerNormSoftmax() {
        let rows = 5, dim = 37, stride = 41
        var rng = SystemRandomNumberGenerator()
        let x = Tensor(shape: [rows * stride], values: (0..<(rows * stride)).map { _ in Float.random(in: -3...3, using: &rng) })
        let g = Tensor(shape: [dim], values: (0..<dim).map { _ in Float.random(in: 0.5...1.5, using: &rng) })
        let b = Tensor(shape: [dim], values: (0..<dim).map { _ in Float.random(in: -1...1, using: &rng) })
        let y = Tensor(shape: [rows * dim])
        layerNorm(x.data, xStride: stride, rows: rows, dim: dim, gamma: g.data, beta: b.data, eps: 1e-5, y.data, yStride: dim)
        for r in 0..<rows {
            let v = (0..<dim).map { Double(x[r * stride + $0]) }
            let mean = v.reduce(0, +) / Double(dim)
            let variance = v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(dim)
            for i in 0..<dim {
                let ref = (v[i] - mean) / (variance + 1e-5).squareRoot() * Double(g[i]) + Double(b[i])
                #expect(abs(Double(y[r * dim + i]) - ref) < 2e-6)
            }
        }
        let s = Tensor(shape: [rows * dim], values: (0..<(rows * dim)).map { _ in Float.random(in: -20...20, using: &rng) })
        let orig = s.array
        softmaxRows(s.data, rows: rows, cols: dim)
        for r in 0..<rows {
            let row = orig[(r * dim)..<((r + 1) * dim)].map(Double.init)
            let m = row.max()!
            let z = row.map { Foundation.exp($0 - m) }.reduce(0, +)
            for i in 0..<dim { #expect(abs(Double(s[r * dim + i]) - Foundation.exp(row[i] - m) / z) < 1e-6) }
        }
    }

    @Test("half and bfloat16 decoding")
    func halfFloats() {
        #expect(halfToFloat(0x3C00) == 1)
        #expect(halfToFloat(0xC000) == -2)
        #expect(halfToFloat(0x7BFF) == 65504)
        #expect(halfToFloat(0x0001) == Float(sign: .plus, exponent: -24, significand: 1))   // smallest subnormal
        #expect(halfToFloat(0x8000).sign == .minus && halfToFloat(0x8000) == 0)
        #expect(halfToFloat(0x7C00) == .infinity)
        #expect(halfToFloat(0x7E00).isNaN)
        #expect(halfToFloat(0x3555) == 0.333251953125)
    }

    @Test("safetensors: F16, BF16 and F64 tensors read as Float32; corrupt offsets rejected")
    func safetensorsFormats() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        func file(_ header: String, _ payload: [UInt8]) throws -> String {
            var h = Array(header.utf8)
            while h.count % 8 != 0 { h.append(0x20) }
            var bytes = withUnsafeBytes(of: UInt64(h.count).littleEndian) { Array($0) }
            bytes += h + payload
            let p = dir.appendingPathComponent("t\(UUID().uuidString).safetensors").path
            try Data(bytes).write(to: URL(fileURLWithPath: p))
            return p
        }
        let p = try file(#"{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[4,6]},"c":{"dtype":"F64","shape":[1],"data_offsets":[6,14]},"__metadata__":{"format":"pt"}}"#,
                         [0x00, 0x3C, 0x00, 0xC0, 0x80, 0x3F] + withUnsafeBytes(of: (0.25 as Double).bitPattern.littleEndian) { Array($0) })
        let f = try SafeTensorsFile(path: p)
        #expect(try f.floats("a") == [1, -2])
        #expect(try f.floats("b") == [1])
        #expect(try f.floats("c") == [0.25])
        #expect(f.metadata["format"] == "pt")
        let bad = try file(#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, [0, 0, 0, 0])
        #expect(throws: MHFormerError.self) { try SafeTensorsFile(path: bad) }
        let odd = try file(#"{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}"#, [0])
        #expect(throws: MHFormerError.self) { try SafeTensorsFile(path: odd) }
    }

    @Test("COCO-17 flip test: pairs are left/right twins, flip_back undoes the mirror")
    func cocoFlip() {
        let names = COCOSkeleton.jointNames
        #expect(names.count == 17)
        for (l, r) in COCOSkeleton.flipPairs {
            #expect(names[l].hasPrefix("left_") && names[r] == "right_" + names[l].dropFirst(5))
        }
        #expect(COCOSkeleton.mirrorIndex.map { COCOSkeleton.mirrorIndex[$0] } == Array(0..<17))
        // heatmaps [17, 2, 3]: flipBack(mirror of the maps with twins swapped) gives the maps back
        let maps = (0..<(17 * 6)).map { Float($0) }
        var mirrored = COCOSkeleton.mirror(maps, height: 2, width: 3)
        let swapped = mirrored
        for k in 0..<17 { for i in 0..<6 { mirrored[k * 6 + i] = swapped[COCOSkeleton.mirrorIndex[k] * 6 + i] } }
        #expect(COCOSkeleton.flipBack(mirrored, keypoints: 17, height: 2, width: 3) == maps)
        #expect(COCOSkeleton.mirror([1, 2, 3, 4, 5, 6], height: 1, width: 3) == [3, 2, 1, 6, 5, 4])
    }
}
