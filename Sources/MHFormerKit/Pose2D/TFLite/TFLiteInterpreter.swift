// Runs a float .tflite model (one subgraph, batch 1, NHWC) natively: load once, then `run` per input.
//
// Loading (`init` runs one function per pass):
//   1. TFLiteModel parses the file (TFLiteModel.swift).
//   2. foldConstantOperators, weight preparation: DENSIFY and DEQUANTIZE whose input is a constant are
//      evaluated here, once (fp16 → fp32, CSR → dense), so at run time every weight is a ready fp32
//      array. The op list left over holds only "real" operators.
//   3. makeSteps: each real operator is checked (shapes, options, supported values) and turned into a
//      Step with its sizes precomputed. Anything unexpected is an MHFormerError naming the operator.
//   3b. foldZeroPads: zero PADs in front of convolutions become the convolutions' own padding;
//      dropUnneededSteps: steps that no wanted output depends on are dropped.
//   4. planBuffers: every activation tensor gets a slot in a pool of preallocated buffers; a slot
//      is reused once the last reader of its tensor has run (outputs of the graph stay live), which
//      keeps the working set small instead of one buffer per tensor.
// Running is then a loop over the steps, with no allocation.

import Foundation

public final class TFLiteInterpreter {
    public struct TensorInfo: Sendable {
        public let name: String
        public let shape: [Int]
        public var count: Int { shape.reduce(1, *) }
    }

    public let path: String
    public let input: TensorInfo
    public let outputs: [TensorInfo]
    /// Real operators per run (weights prepared at load).
    public var stepCount: Int { steps.count }

    private enum Step {
        case conv(x: Int, y: Int, shape: ConvShape, weights: Int, bias: Int, outC: Int, act: FusedActivation)
        case depthwise(x: Int, y: Int, shape: ConvShape, weights: Int, bias: Int, act: FusedActivation)
        case maxPool(x: Int, y: Int, shape: ConvShape, act: FusedActivation)
        case add(a: Int, b: Int, y: Int, count: Int, act: FusedActivation)
        case pad(x: Int, y: Int, H: Int, W: Int, C: Int, pads: [Int])   // top, bottom, left, right, cBefore, cAfter
        case copy(x: Int, y: Int, count: Int)                           // RESHAPE
        case resize(x: Int, y: Int, H: Int, W: Int, C: Int, outH: Int, outW: Int)
        case depthToSpace(x: Int, y: Int, H: Int, W: Int, C: Int, block: Int)
        case concat(xs: [Int], y: Int, outer: Int, chunks: [Int])
        case logistic(x: Int, y: Int, count: Int)

        /// The activation tensors the step reads.
        var inputs: [Int] {
            switch self {
            case .conv(let x, _, _, _, _, _, _), .depthwise(let x, _, _, _, _, _), .maxPool(let x, _, _, _),
                 .pad(let x, _, _, _, _, _), .copy(let x, _, _), .resize(let x, _, _, _, _, _, _),
                 .depthToSpace(let x, _, _, _, _, _), .logistic(let x, _, _):
                return [x]
            case .add(let a, let b, _, _, _): return [a, b]
            case .concat(let xs, _, _, _): return xs
            }
        }

        /// The activation tensor the step writes.
        var output: Int {
            switch self {
            case .conv(_, let y, _, _, _, _, _), .depthwise(_, let y, _, _, _, _), .maxPool(_, let y, _, _),
                 .pad(_, let y, _, _, _, _), .copy(_, let y, _), .resize(_, let y, _, _, _, _, _),
                 .depthToSpace(_, let y, _, _, _, _), .logistic(_, let y, _), .add(_, _, let y, _, _), .concat(_, let y, _, _):
                return y
            }
        }
    }

    private var steps: [Step] = []
    /// Prepared fp32 weights and biases (index = position in this array, referenced by Steps).
    private var weights: [UnsafeMutablePointer<Float>] = []
    /// Buffer pool; `slotOf[tensor]` is the slot holding that activation tensor.
    private var slots: [UnsafeMutablePointer<Float>] = []
    private var slotOf: [Int: Int] = [:]
    private var im2colBuffer: UnsafeMutablePointer<Float>
    /// The most floats the activation buffers and the im2col buffer may hold together (4 GiB; the
    /// BlazePose models need a few MB).
    static let maxBufferFloats = 1 << 30
    private let inputTensor: Int
    private let outputTensors: [Int]

    /// Loads the model at `path`. Outputs named in `skipping` are not computed, nor is any operator
    /// that only they need (BlazePose's landmark model: the segmentation mask); `outputs` then lists
    /// the remaining ones.
    public convenience init(path: String, skipping: Set<String> = []) throws {
        try self.init(model: TFLiteModel(path: path), skipping: skipping)
    }

    init(model: TFLiteModel, skipping: Set<String> = []) throws {
        let path = model.path
        self.path = path
        let T = model.tensors
        guard model.inputs.count == 1 else { throw MHFormerError("\(path): \(model.inputs.count) inputs, expected 1") }
        for name in skipping where !model.outputs.contains(where: { T[$0].name == name }) {
            throw MHFormerError("\(path): no output named '\(name)' to skip")
        }
        inputTensor = model.inputs[0]
        outputTensors = model.outputs.filter { !skipping.contains(T[$0].name) }
        input = TensorInfo(name: T[inputTensor].name, shape: T[inputTensor].shape)
        outputs = outputTensors.map { TensorInfo(name: T[$0].name, shape: T[$0].shape) }
        guard T[inputTensor].type == .float32, T[inputTensor].data == nil else {
            throw MHFormerError("\(path): the input tensor '\(input.name)' must be a FLOAT32 activation")
        }

        var constants = Constants(model: model)
        let real = try Self.foldConstantOperators(model, &constants)                        // 2.
        let built = try Self.makeSteps(model, real, &constants)                             // 3.
        let (steps, needed) = Self.dropUnneededSteps(Self.foldZeroPads(built.steps), outputs: outputTensors)   // 3b.
        let constantActivations = built.constantActivations.filter { needed.contains($0.key) }
        let (slotOf, slotSize) = try Self.planBuffers(steps, model: model, input: inputTensor, outputs: outputTensors,
                                                      constants: Array(constantActivations.keys))   // 4.

        // Refused before allocating: a model whose activations need more than the limit would otherwise
        // make the allocation fail, which traps.
        let totalFloats = slotSize.reduce(built.maxCols, +)
        guard totalFloats <= Self.maxBufferFloats else {
            throw MHFormerError("\(path): the model's activations need \(totalFloats) floats (the limit is \(Self.maxBufferFloats))")
        }
        self.steps = steps
        self.weights = built.weights
        self.slotOf = slotOf
        slots = slotSize.map { n in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: n)
            p.initialize(repeating: 0, count: n)
            return p
        }
        im2colBuffer = UnsafeMutablePointer<Float>.allocate(capacity: built.maxCols)
        for (ti, v) in constantActivations { constantSlots.append((slotOf[ti]!, v)) }
    }

    /// The model's constant tensors as fp32, each read (dequantised, densified) once and kept.
    private struct Constants {
        let model: TFLiteModel
        var folded: [Int: [Float]] = [:]

        /// Tensor `ti` as fp32 [its element count] if it is a float constant or the result of a
        /// folded DENSIFY / DEQUANTIZE; nil for activations and int32 constants.
        mutating func floats(_ ti: Int) throws -> [Float]? {
            if let v = folded[ti] { return v }
            guard model.tensors[ti].data != nil, model.tensors[ti].type != .int32 else { return nil }
            let v = try model.constantFloats(ti)
            folded[ti] = v
            return v
        }
    }

    /// Pass 2: DENSIFY / DEQUANTIZE of constants evaluated now (their fp32 results go into
    /// `constants`); returns the other operators, (index in the model, operator), in order.
    private static func foldConstantOperators(_ model: TFLiteModel, _ constants: inout Constants) throws -> [(Int, TFLiteOperator)] {
        let T = model.tensors
        var real: [(Int, TFLiteOperator)] = []
        for (oi, o) in model.operators.enumerated() {
            switch o.op {
            case .densify, .dequantize:
                guard o.inputs.count == 1, o.outputs.count == 1, o.inputs[0] >= 0, let v = try constants.floats(o.inputs[0]) else {
                    throw failure(model.path, oi, o.op, "only supported on a constant input (weights), not at run time")
                }
                guard v.count == T[o.outputs[0]].shape.reduce(1, *) else { throw failure(model.path, oi, o.op, "output shape does not match its input") }
                guard T[o.outputs[0]].type == (o.op == .densify ? T[o.inputs[0]].type : .float32) else {
                    throw failure(model.path, oi, o.op, "unexpected output type")
                }
                constants.folded[o.outputs[0]] = v
            default:
                real.append((oi, o))
            }
        }
        return real
    }

    /// The one-line error for operator `oi`.
    private static func failure(_ path: String, _ oi: Int, _ op: TFLiteOp, _ why: String) -> MHFormerError {
        MHFormerError("\(path): operator \(oi) (\(op.name)): \(why)")
    }

    /// Pass 3: each real operator checked (shapes, options, supported values) and turned into a Step
    /// with its sizes precomputed. Weights and biases are copied into never-moving fp32 buffers
    /// (`weights`, indexed by the Steps); constant activation inputs are returned to be loaded into
    /// their slot before every run; `maxCols` is the im2col buffer's size in floats.
    private static func makeSteps(_ model: TFLiteModel, _ real: [(Int, TFLiteOperator)], _ constants: inout Constants) throws
        -> (steps: [Step], weights: [UnsafeMutablePointer<Float>], constantActivations: [Int: [Float]], maxCols: Int) {
        let path = model.path
        let T = model.tensors
        func fail(_ oi: Int, _ op: TFLiteOp, _ why: String) -> MHFormerError { failure(path, oi, op, why) }
        var weights: [UnsafeMutablePointer<Float>] = []
        func keep(_ v: [Float]) -> Int {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(v.count, 1))
            p.update(from: v, count: v.count)
            weights.append(p)
            return weights.count - 1
        }
        // Activation inputs that are constants (none in BlazePose, but legal TFLite) are loaded into
        // their slot before every run.
        var constantActivations: [Int: [Float]] = [:]
        func act(_ ti: Int) throws -> Int {
            if T[ti].type != .float32 && constants.folded[ti] == nil { throw MHFormerError("\(path): tensor '\(T[ti].name)' is not FLOAT32") }
            if let v = try constants.floats(ti) { constantActivations[ti] = v }
            return ti
        }
        func hw(_ ti: Int, _ oi: Int, _ op: TFLiteOp) throws -> (Int, Int, Int) {
            let s = T[ti].shape
            guard s.count == 4, s[0] == 1, s[1] >= 1, s[2] >= 1, s[3] >= 1 else {
                throw fail(oi, op, "tensor '\(T[ti].name)' has shape \(s), expected [1, H, W, C]")
            }
            return (s[1], s[2], s[3])
        }
        var steps: [Step] = []
        var maxCols = 1
        for (oi, o) in real {
            let op = o.op
            let opts = o.options
            guard let y = o.outputs.first, o.outputs.count == 1 else { throw fail(oi, op, "expected one output") }
            guard T[y].type == .float32 else { throw fail(oi, op, "output '\(T[y].name)' is not FLOAT32") }
            let outCount = T[y].shape.reduce(1, *)
            func input(_ i: Int) throws -> Int {
                guard i < o.inputs.count, o.inputs[i] >= 0 else { throw fail(oi, op, "missing input \(i)") }
                return o.inputs[i]
            }
            switch op {
            case .conv2D, .depthwiseConv2D:
                guard let opts else { throw fail(oi, op, "no options") }
                // Conv2DOptions: 0 padding, 1 stride_w, 2 stride_h, 3 activation, 4/5 dilation w/h
                // DepthwiseConv2DOptions: 0 padding, 1 stride_w, 2 stride_h, 3 depth_multiplier,
                //                         4 activation, 5/6 dilation w/h
                let dw = op == .depthwiseConv2D
                let padding = Int(try opts.u8(0))
                let sw = Int(try opts.i32(1)), sh = Int(try opts.i32(2))
                let activation = try FusedActivation(code: Int(try opts.u8(dw ? 4 : 3)), path: path, op: "operator \(oi) (\(op.name))")
                let dilW = Int(try opts.i32(dw ? 5 : 4, default: 1)), dilH = Int(try opts.i32(dw ? 6 : 5, default: 1))
                guard dilW == 1, dilH == 1 else { throw fail(oi, op, "dilation \(dilH)x\(dilW) is not supported") }
                guard padding <= 1, sw >= 1, sh >= 1 else { throw fail(oi, op, "padding \(padding) / stride \(sh)x\(sw) not supported") }
                let x = try act(try input(0))
                let (H, W, C) = try hw(x, oi, op)
                let wt = try input(1)
                guard let wv = try constants.floats(wt) else { throw fail(oi, op, "weights are not constant") }
                let ws = T[wt].shape
                guard ws.count == 4 else { throw fail(oi, op, "weights shape \(ws)") }
                let (kH, kW) = (ws[1], ws[2])
                let outC = dw ? ws[3] : ws[0]
                guard kH >= 1, kW >= 1, outC >= 1, C >= 1 else { throw fail(oi, op, "empty weights \(ws) or input") }
                if dw {
                    let dm = Int(try opts.i32(3, default: 1))
                    guard ws[0] == 1, ws[3] == C, dm == 1 else { throw fail(oi, op, "depth multiplier \(dm) / weights \(ws) for \(C) channels not supported") }
                } else {
                    guard ws[3] == C else { throw fail(oi, op, "weights \(ws) do not match \(C) input channels") }
                }
                var bv = [Float](repeating: 0, count: outC)
                if o.inputs.count > 2, o.inputs[2] >= 0 {
                    guard let b = try constants.floats(o.inputs[2]), b.count == outC else { throw fail(oi, op, "bias is not a constant of \(outC) values") }
                    bv = b
                }
                let gy = convGeometry(inSize: H, kernel: kH, stride: sh, same: padding == 0)
                let gx = convGeometry(inSize: W, kernel: kW, stride: sw, same: padding == 0)
                guard T[y].shape == [1, gy.out, gx.out, outC] else {
                    throw fail(oi, op, "output shape \(T[y].shape), computed [1, \(gy.out), \(gx.out), \(outC)]")
                }
                let shape = ConvShape(inH: H, inW: W, inC: C, kH: kH, kW: kW, strideH: sh, strideW: sw,
                                      padTop: gy.padBefore, padLeft: gx.padBefore, outH: gy.out, outW: gx.out)
                if dw {
                    steps.append(.depthwise(x: x, y: y, shape: shape, weights: keep(wv), bias: keep(bv), act: activation))
                } else {
                    if outC >= 4 {                                                          // see conv2d
                        // out·out ≤ 2^28 and kH·kW·C ≤ 2^28 (TFLiteModel caps every tensor), so this
                        // fits an Int; a crafted model can still ask for terabytes, refused here.
                        let cols = gy.out * gx.out * kH * kW * C
                        guard cols <= maxBufferFloats else {
                            throw fail(oi, op, "its im2col buffer would hold \(cols) floats (the limit is \(maxBufferFloats))")
                        }
                        maxCols = max(maxCols, cols)
                    }
                    steps.append(.conv(x: x, y: y, shape: shape, weights: keep(wv), bias: keep(bv), outC: outC, act: activation))
                }

            case .maxPool2D:
                guard let opts else { throw fail(oi, op, "no options") }
                // Pool2DOptions: 0 padding, 1 stride_w, 2 stride_h, 3 filter_width, 4 filter_height, 5 activation
                let padding = Int(try opts.u8(0))
                let sw = Int(try opts.i32(1)), sh = Int(try opts.i32(2))
                let fw = Int(try opts.i32(3)), fh = Int(try opts.i32(4))
                let activation = try FusedActivation(code: Int(try opts.u8(5)), path: path, op: "operator \(oi) (\(op.name))")
                guard padding <= 1, sw >= 1, sh >= 1, fw >= 1, fh >= 1 else { throw fail(oi, op, "bad pooling options") }
                let x = try act(try input(0))
                let (H, W, C) = try hw(x, oi, op)
                let gy = convGeometry(inSize: H, kernel: fh, stride: sh, same: padding == 0)
                let gx = convGeometry(inSize: W, kernel: fw, stride: sw, same: padding == 0)
                guard T[y].shape == [1, gy.out, gx.out, C] else { throw fail(oi, op, "output shape \(T[y].shape)") }
                steps.append(.maxPool(x: x, y: y, shape: ConvShape(inH: H, inW: W, inC: C, kH: fh, kW: fw, strideH: sh, strideW: sw,
                                                                    padTop: gy.padBefore, padLeft: gx.padBefore, outH: gy.out, outW: gx.out),
                                      act: activation))

            case .add:
                // AddOptions: 0 activation. Only same-shape operands (no broadcasting) occur here.
                let activation = try FusedActivation(code: Int(try opts?.u8(0) ?? 0), path: path, op: "operator \(oi) (ADD)")
                let a = try act(try input(0)), b = try act(try input(1))
                guard T[a].shape == T[y].shape, T[b].shape == T[y].shape else {
                    throw fail(oi, op, "broadcasting \(T[a].shape) + \(T[b].shape) is not supported")
                }
                steps.append(.add(a: a, b: b, y: y, count: outCount, act: activation))

            case .pad:
                let x = try act(try input(0))
                let (H, W, C) = try hw(x, oi, op)
                let p = try model.constantInts(try input(1))
                guard p.count == 8, p[0] == 0, p[1] == 0, p.allSatisfy({ $0 >= 0 }) else {
                    throw fail(oi, op, "paddings \(p) not supported (batch padding or negative)")
                }
                guard T[y].shape == [1, H + p[2] + p[3], W + p[4] + p[5], C + p[6] + p[7]] else { throw fail(oi, op, "output shape \(T[y].shape)") }
                steps.append(.pad(x: x, y: y, H: H, W: W, C: C, pads: Array(p[2...])))

            case .reshape:
                let x = try act(try input(0))
                guard T[x].shape.reduce(1, *) == outCount else { throw fail(oi, op, "\(T[x].shape) cannot become \(T[y].shape)") }
                steps.append(.copy(x: x, y: y, count: outCount))

            case .resizeBilinear:
                // ResizeBilinearOptions: 2 align_corners, 3 half_pixel_centers
                let alignCorners = try opts?.bool(2) ?? false, halfPixel = try opts?.bool(3) ?? false
                guard !alignCorners, halfPixel else {
                    throw fail(oi, op, "align_corners=\(alignCorners) half_pixel_centers=\(halfPixel); only half-pixel centres are supported")
                }
                let x = try act(try input(0))
                let (H, W, C) = try hw(x, oi, op)
                let size = try model.constantInts(try input(1))
                guard size.count == 2, T[y].shape == [1, size[0], size[1], C] else { throw fail(oi, op, "size \(size) vs output \(T[y].shape)") }
                steps.append(.resize(x: x, y: y, H: H, W: W, C: C, outH: size[0], outW: size[1]))

            case .depthToSpace:
                let bs = Int(try opts?.i32(0) ?? 0)           // DepthToSpaceOptions: 0 block_size
                let x = try act(try input(0))
                let (H, W, C) = try hw(x, oi, op)
                guard bs >= 1, C % (bs * bs) == 0, T[y].shape == [1, H * bs, W * bs, C / (bs * bs)] else {
                    throw fail(oi, op, "block \(bs) for \(T[x].shape) → \(T[y].shape)")
                }
                steps.append(.depthToSpace(x: x, y: y, H: H, W: W, C: C, block: bs))

            case .concatenation:
                // ConcatenationOptions: 0 axis, 1 activation
                guard let opts else { throw fail(oi, op, "no options") }
                let activation = try FusedActivation(code: Int(try opts.u8(1)), path: path, op: "operator \(oi) (CONCATENATION)")
                guard activation == .none else { throw fail(oi, op, "fused activation not supported") }
                let rank = T[y].shape.count
                var axis = Int(try opts.i32(0))
                if axis < 0 { axis += rank }
                guard axis >= 0, axis < rank else { throw fail(oi, op, "axis \(axis)") }
                let xs = try o.inputs.map { i -> Int in
                    guard i >= 0 else { throw fail(oi, op, "missing input") }
                    return try act(i)
                }
                // Rows of the result = product of the dims before the axis; each input adds a chunk of
                // (its size along the axis · the dims after it) to every row.
                let outer = T[y].shape[..<axis].reduce(1, *)
                var chunks: [Int] = []
                for x in xs {
                    let s = T[x].shape
                    guard s.count == rank, Array(s[..<axis]) == Array(T[y].shape[..<axis]),
                          Array(s[(axis + 1)...]) == Array(T[y].shape[(axis + 1)...]) else {
                        throw fail(oi, op, "input shape \(s) does not fit output \(T[y].shape)")
                    }
                    chunks.append(s[axis...].reduce(1, *))
                }
                guard outer * chunks.reduce(0, +) == outCount else { throw fail(oi, op, "sizes do not add up") }
                steps.append(.concat(xs: xs, y: y, outer: outer, chunks: chunks))

            case .logistic:
                let x = try act(try input(0))
                guard T[x].shape.reduce(1, *) == outCount else { throw fail(oi, op, "shape mismatch") }
                steps.append(.logistic(x: x, y: y, count: outCount))

            case .densify, .dequantize:
                break    // folded above
            }
        }
        return (steps, weights, constantActivations, maxCols)
    }

    /// Pass 3b: zero PADs folded into the convolutions that read them. A convolution treats taps
    /// outside its input as zero, so PAD → conv equals the conv on the unpadded input with larger
    /// top/left padding (bottom/right padding is implied by the unchanged output size). This saves
    /// copying the padded tensor; a PAD left with no reader is then dropped by `dropUnneededSteps`.
    private static func foldZeroPads(_ steps: [Step]) -> [Step] {
        var padOf: [Int: (x: Int, H: Int, W: Int, top: Int, left: Int)] = [:]
        for case let .pad(x, y, H, W, _, p) in steps where p[4] == 0 && p[5] == 0 {
            padOf[y] = (x, H, W, p[0], p[2])
        }
        func unpadded(_ x: Int, _ shape: ConvShape) -> (Int, ConvShape) {
            guard let p = padOf[x] else { return (x, shape) }
            var s = shape
            s.inH = p.H; s.inW = p.W
            s.padTop += p.top; s.padLeft += p.left
            return (p.x, s)
        }
        return steps.map { step in
            switch step {
            case let .conv(x, y, shape, w, b, outC, act):
                let (x2, s2) = unpadded(x, shape)
                return .conv(x: x2, y: y, shape: s2, weights: w, bias: b, outC: outC, act: act)
            case let .depthwise(x, y, shape, w, b, act):
                let (x2, s2) = unpadded(x, shape)
                return .depthwise(x: x2, y: y, shape: s2, weights: w, bias: b, act: act)
            default:
                return step      // MAX_POOL_2D would need -inf padding, not zero: not folded
            }
        }
    }

    /// Pass 3b, second half: only the steps some wanted output depends on (walking back from the
    /// outputs), in order; `needed` is every tensor they read or write.
    private static func dropUnneededSteps(_ steps: [Step], outputs: [Int]) -> (steps: [Step], needed: Set<Int>) {
        var needed = Set(outputs)
        var kept: [Step] = []
        for s in steps.reversed() where needed.contains(s.output) {
            kept.append(s)
            needed.formUnion(s.inputs)
        }
        return (kept.reversed(), needed)
    }

    /// Pass 4: buffer planning over the activation tensors, in execution order. Every tensor gets a
    /// slot of a pool; a slot is free again once the last reader of its tensor has run (the graph's
    /// outputs and constant activations stay live). Returns slotOf[tensor] and each slot's size in floats.
    private static func planBuffers(_ steps: [Step], model: TFLiteModel, input: Int, outputs: [Int], constants: [Int]) throws
        -> (slotOf: [Int: Int], slotSize: [Int]) {
        let path = model.path
        let T = model.tensors
        var lastUse: [Int: Int] = [:]
        for (i, s) in steps.enumerated() { for x in s.inputs { lastUse[x] = i } }
        for o in outputs { lastUse[o] = steps.count }           // outputs stay live
        for ti in constants { lastUse[ti] = steps.count }       // loaded once per run, kept
        var slotSize: [Int] = []
        var free: [Int] = []
        var slotOf: [Int: Int] = [:]
        func assign(_ ti: Int) {
            let need = max(T[ti].shape.reduce(1, *), 1)
            // the smallest free slot that fits, else grow the largest free one, else a new slot
            let fitting = free.filter { slotSize[$0] >= need }.min { slotSize[$0] < slotSize[$1] }
            let slot = fitting ?? free.max { slotSize[$0] < slotSize[$1] } ?? { slotSize.append(0); return slotSize.count - 1 }()
            free.removeAll { $0 == slot }
            slotSize[slot] = max(slotSize[slot], need)
            slotOf[ti] = slot
        }
        assign(input)
        for ti in constants { assign(ti) }
        for (i, s) in steps.enumerated() {
            let y = s.output
            guard slotOf[y] == nil else { throw MHFormerError("\(path): tensor '\(T[y].name)' is written twice") }
            for x in s.inputs where slotOf[x] == nil {
                throw MHFormerError("\(path): tensor '\(T[x].name)' is read before it is written")
            }
            assign(y)
            for x in Set(s.inputs) where lastUse[x] == i { free.append(slotOf[x]!) }
        }
        for o in outputs where slotOf[o] == nil {
            throw MHFormerError("\(path): output '\(T[o].name)' is never computed")
        }
        return (slotOf, slotSize)
    }

    private var constantSlots: [(Int, [Float])] = []

    /// When set, `run` adds each operator kind's wall time (ms) here, for finding slow kernels.
    public var profile: [String: Double]? = nil

    deinit {
        for p in weights { p.deallocate() }
        for p in slots { p.deallocate() }
        im2colBuffer.deallocate()
    }

    /// Runs the model on `x` (input.count floats, NHWC). Read the results with `output(_:)`.
    public func run(_ x: UnsafeBufferPointer<Float>) throws {
        guard x.count == input.count, let base = x.baseAddress else {
            throw MHFormerError("\(path): input has \(x.count) values, '\(input.name)' \(input.shape) needs \(input.count)")
        }
        let s = slots, w = weights
        func buf(_ ti: Int) -> UnsafeMutablePointer<Float> { s[slotOf[ti]!] }
        buf(inputTensor).update(from: base, count: input.count)
        for (slot, v) in constantSlots { s[slot].update(from: v, count: v.count) }
        for step in steps {
            let t0 = profile == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            defer {
                if profile != nil {
                    let kind = "\(step)".prefix { $0 != "(" }
                    profile![String(kind), default: 0] += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
                }
            }
            switch step {
            case let .conv(x, y, shape, wi, bi, outC, act):
                conv2d(buf(x), shape, weights: w[wi], bias: w[bi], outC: outC, act: act, buf(y), cols: im2colBuffer)
            case let .depthwise(x, y, shape, wi, bi, act):
                depthwiseConv2d(buf(x), shape, weights: w[wi], bias: w[bi], act: act, buf(y))
            case let .maxPool(x, y, shape, act):
                maxPool2d(buf(x), shape, act: act, buf(y))
            case let .add(a, b, y, count, act):
                addTensors(buf(a), buf(b), count: count, act: act, buf(y))
            case let .pad(x, y, H, W, C, p):
                pad3d(buf(x), H: H, W: W, C: C, top: p[0], bottom: p[1], left: p[2], right: p[3], cBefore: p[4], cAfter: p[5], buf(y))
            case let .copy(x, y, count):
                buf(y).update(from: buf(x), count: count)
            case let .resize(x, y, H, W, C, outH, outW):
                resizeBilinearHalfPixel(buf(x), H: H, W: W, C: C, outH: outH, outW: outW, buf(y))
            case let .depthToSpace(x, y, H, W, C, block):
                depthToSpace(buf(x), H: H, W: W, C: C, block: block, buf(y))
            case let .concat(xs, y, outer, chunks):
                let total = chunks.reduce(0, +)
                var offset = 0
                for (x, chunk) in zip(xs, chunks) {
                    let src = buf(x), dst = buf(y)
                    for r in 0..<outer { (dst + r * total + offset).update(from: src + r * chunk, count: chunk) }
                    offset += chunk
                }
            case let .logistic(x, y, count):
                logistic(buf(x), count: count, buf(y))
            }
        }
    }

    public func run(_ x: [Float]) throws {
        try x.withUnsafeBufferPointer { try run($0) }
    }

    /// Output `i` of the last run, a copy (shape `outputs[i].shape`).
    public func output(_ i: Int) -> [Float] {
        let p = slots[slotOf[outputTensors[i]]!]
        return Array(UnsafeBufferPointer(start: p, count: outputs[i].count))
    }

    /// Output `name` of the last run.
    public func output(named name: String) throws -> [Float] {
        guard let i = outputs.firstIndex(where: { $0.name == name }) else {
            throw MHFormerError("\(path): no output named '\(name)' (outputs: \(outputs.map(\.name).joined(separator: ", ")))")
        }
        return output(i)
    }
}
