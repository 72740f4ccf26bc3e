// In-the-wild inference as the official demo (demo/vis.py) does it, batched:
//   for output frame i: the window [i - pad, i + pad] clipped to the sequence and edge-padded to T
//   frames; normalised x/w·2 - 1, y/w·2 - h/w; the model on it and on its mirror image (x negated,
//   left/right swapped), the mirror's output mirrored back, the two averaged; the middle frame `pad`;
//   the root joint set to zero.
// See ../shared/docs/mhformer-reference.md §4.

import Foundation


public final class Lifter: @unchecked Sendable {
    public let model: MHFormerModel
    /// Windows per forward call (each is run twice with flipping). Bounded so that activations stay
    /// around 100 MB whatever T and C are.
    public let windowsPerBatch: Int

    public init(model: MHFormerModel, windowsPerBatch: Int? = nil) {
        self.model = model
        let c = model.config
        let rowsBudget = max(1, (1 << 22) / (3 * c.channel))            // B·T rows of width 3C
        self.windowsPerBatch = windowsPerBatch ?? max(1, min(128, rowsBudget / c.frames / 2))
    }

    /// Normalised screen coordinates as the demo computes them, bit for bit:
    /// fl32(fl32(u / w) · 2) then "- 1" and "- h/w" in float64, rounded to float32.
    @inline(__always)
    public static func normalise(_ u: Float, _ v: Float, width: Int, height: Int) -> (Float, Float) {
        let w = Float(width)
        let x = Float(Double((u / w) * 2) - 1.0)
        let y = Float(Double((v / w) * 2) - Double(height) / Double(width))
        return (x, y)
    }

    /// keypoints: (N, 17, 2) pixels of one contiguous sequence. Returns (N, 17, 3), root-relative
    /// camera-frame metres (x right, y down, z away from the camera), root set to 0.
    public func lift(_ keypoints: [Float], frames N: Int, width: Int, height: Int, flip: Bool = true,
                     progress: ((Int) -> Void)? = nil) -> [Float] {
        lift(sequences: [(keypoints, N)], width: width, height: height, flip: flip, progress: progress)[0]
    }

    /// Several contiguous sequences of one image size (several people's tracks) lifted together:
    /// their windows share the forward calls, so short tracks still fill whole batches. Each
    /// sequence's windows come in order, so one sequence gives exactly the batches `lift` gives.
    public func lift(sequences: [(keypoints: [Float], frames: Int)], width: Int, height: Int, flip: Bool = true,
                     progress: ((Int) -> Void)? = nil) -> [[Float]] {
        let T = model.config.frames, pad = model.config.pad
        // Normalise once; windows then index into these (N, 17, 2) arrays.
        let norms: [[Float]] = sequences.map { s in
            precondition(s.keypoints.count == s.frames * 34 && s.frames > 0)
            var norm = [Float](repeating: 0, count: s.frames * 34)
            for p in 0..<(s.frames * 17) {
                let (x, y) = Lifter.normalise(s.keypoints[2 * p], s.keypoints[2 * p + 1], width: width, height: height)
                norm[2 * p] = x; norm[2 * p + 1] = y
            }
            return norm
        }
        // Every output frame of every sequence: (sequence, frame).
        let windows = sequences.indices.flatMap { k in (0..<sequences[k].frames).map { (k, $0) } }
        var results = sequences.map { [Float](repeating: 0, count: $0.frames * 51) }
        var start = 0
        while start < windows.count {
            let count = min(windowsPerBatch, windows.count - start)
            let B = flip ? 2 * count : count
            // (B, T, 17, 2): windows [start, start+count), then their mirror images.
            var input = [Float](repeating: 0, count: B * T * 34)
            for w in 0..<count {
                let (k, i) = windows[start + w]
                let norm = norms[k], N = sequences[k].frames
                for t in 0..<T {
                    let src = min(max(i - pad + t, 0), N - 1)          // clip + edge padding
                    let dst = (w * T + t) * 34
                    for c in 0..<34 { input[dst + c] = norm[src * 34 + c] }
                    if flip {
                        let fdst = ((count + w) * T + t) * 34
                        for j in 0..<17 {
                            let m = Skeleton.mirror[j]
                            input[fdst + 2 * j] = -norm[src * 34 + 2 * m]
                            input[fdst + 2 * j + 1] = norm[src * 34 + 2 * m + 1]
                        }
                    }
                }
            }
            let y = model.forward(input, batch: B)                 // (B, T, 17, 3)
            for w in 0..<count {
                let (k, i) = windows[start + w]
                let mid = (w * T + pad) * 51
                for j in 0..<17 {
                    for c in 0..<3 {
                        var v = y[mid + 3 * j + c]
                        if flip {
                            // Mirror the flipped output back: negate X, swap left and right.
                            let fm = ((count + w) * T + pad) * 51 + 3 * Skeleton.mirror[j] + c
                            let f = c == 0 ? -y[fm] : y[fm]
                            v = (v + f) / 2
                        }
                        results[k][i * 51 + 3 * j + c] = j == 0 ? 0 : v     // root set to zero after averaging
                    }
                }
            }
            start += count
            progress?(start)
        }
        return results
    }

    /// The demo's display transform: rotate camera-frame joints by the quaternion of Human3.6M's
    /// S1 camera 54138969 (w, x, y, z), in float32 as the demo's `qrot`, then lift the lowest joint
    /// to z = 0. Input and output (N, 17, 3).
    public static func cameraToWorld(_ pose: [Float]) -> [Float] {
        let qw: Float = 0.1407056450843811, qx: Float = -0.1500701755285263
        let qy: Float = -0.755240797996521, qz: Float = 0.6223280429840088
        var out = pose
        let frames = pose.count / 51
        for f in 0..<frames {
            var minZ = Float.infinity
            for j in 0..<17 {
                let o = f * 51 + 3 * j
                let vx = pose[o], vy = pose[o + 1], vz = pose[o + 2]
                // uv = q × v ; uuv = q × uv ; v' = v + 2 (w · uv + uuv)
                let uvx = qy * vz - qz * vy, uvy = qz * vx - qx * vz, uvz = qx * vy - qy * vx
                let uuvx = qy * uvz - qz * uvy, uuvy = qz * uvx - qx * uvz, uuvz = qx * uvy - qy * uvx
                out[o] = vx + 2 * (qw * uvx + uuvx)
                out[o + 1] = vy + 2 * (qw * uvy + uuvy)
                out[o + 2] = vz + 2 * (qw * uvz + uuvz)
                minZ = min(minZ, out[o + 2])
            }
            for j in 0..<17 { out[f * 51 + 3 * j + 2] -= minZ }
        }
        return out
    }
}
