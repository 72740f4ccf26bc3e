// The parts of a .tflite file (TFLite schema v3) that a float interpreter needs, read with FlatBuffer.
//
// Field ids below are the table slots of tensorflow/lite/schema/schema.fbs (a union takes two slots:
// its type tag, then its value). Only what BlazePose's two models use is interpreted; anything else
// (another operator, a quantized tensor, a second subgraph, an unknown option value) is refused with a
// one-line MHFormerError, never guessed.
//
//   Model          0 version, 1 operator_codes, 2 subgraphs, 3 description, 4 buffers
//   OperatorCode   0 deprecated_builtin_code (int8), 1 custom_code, 2 version, 3 builtin_code (int32)
//   SubGraph       0 tensors, 1 inputs, 2 outputs, 3 operators, 4 name
//   Tensor         0 shape, 1 type, 2 buffer, 3 name, 4 quantization, 5 is_variable, 6 sparsity
//   Buffer         0 data, 1 offset (u64), 2 size (u64)   (offset/size: data outside the flatbuffer)
//   Operator       0 opcode_index, 1 inputs, 2 outputs, 3 builtin_options_type, 4 builtin_options,
//                  5 custom_options, ... 11 builtin_options_2_type, 12 builtin_options_2
//   QuantizationParameters  0 min, 1 max, 2 scale, 3 zero_point
//   SparsityParameters      0 traversal_order, 1 block_map, 2 dim_metadata
//   DimensionMetadata       0 format (0 DENSE, 1 SPARSE_CSR), 1 dense_size, 2 array_segments_type,
//                           3 array_segments, 4 array_indices_type, 5 array_indices
//   Int32Vector / Uint16Vector / Uint8Vector: 0 values    (SparseIndexVector tags 1 / 2 / 3)

import Foundation

/// TFLite's BuiltinOperator codes of the operators this reader knows.
enum TFLiteOp: Int {
    case add = 0, concatenation = 2, conv2D = 3, depthwiseConv2D = 4, depthToSpace = 5, dequantize = 6
    case logistic = 14, maxPool2D = 17, reshape = 22, resizeBilinear = 23, pad = 34, densify = 124

    var name: String {
        switch self {
        case .add: "ADD"
        case .concatenation: "CONCATENATION"
        case .conv2D: "CONV_2D"
        case .depthwiseConv2D: "DEPTHWISE_CONV_2D"
        case .depthToSpace: "DEPTH_TO_SPACE"
        case .dequantize: "DEQUANTIZE"
        case .logistic: "LOGISTIC"
        case .maxPool2D: "MAX_POOL_2D"
        case .reshape: "RESHAPE"
        case .resizeBilinear: "RESIZE_BILINEAR"
        case .pad: "PAD"
        case .densify: "DENSIFY"
        }
    }

    /// The BuiltinOptions union tag each operator's options must carry (0 = none expected).
    var optionsTag: Int {
        switch self {
        case .conv2D: 1            // Conv2DOptions
        case .depthwiseConv2D: 2   // DepthwiseConv2DOptions
        case .maxPool2D: 5         // Pool2DOptions
        case .concatenation: 10    // ConcatenationOptions
        case .add: 11              // AddOptions
        case .resizeBilinear: 15   // ResizeBilinearOptions
        case .reshape: 17          // ReshapeOptions
        case .pad: 22              // PadOptions
        case .dequantize: 38       // DequantizeOptions
        case .depthToSpace: 94     // DepthToSpaceOptions
        case .densify: 99          // DensifyOptions
        case .logistic: 0
        }
    }
}

/// TFLite TensorType values this reader handles.
enum TFLiteType: Int {
    case float32 = 0, float16 = 1, int32 = 2

    var byteSize: Int { self == .float16 ? 2 : 4 }
}

/// CSR sparsity of one constant tensor (TFLite SparsityParameters without a block map).
struct TFLiteSparsity {
    enum Dim {
        case dense(size: Int)
        case csr(segments: [Int], indices: [Int])
    }
    let dims: [Dim]          // in traversal order, which must be the identity here
}

struct TFLiteTensor {
    let name: String
    let shape: [Int]
    let type: TFLiteType
    /// Byte range of the constant data inside the file, nil for activations.
    let data: Range<Int>?
    let sparsity: TFLiteSparsity?
}

struct TFLiteOperator {
    let op: TFLiteOp
    let inputs: [Int]        // tensor indices; -1 = optional input absent
    let outputs: [Int]
    let options: Table?      // the builtin options table, read by the interpreter per operator
}

/// One parsed .tflite file: its single subgraph, with constants still in the file's bytes.
struct TFLiteModel {
    let path: String
    let fb: FlatBuffer
    let tensors: [TFLiteTensor]
    let operators: [TFLiteOperator]
    let inputs: [Int]
    let outputs: [Int]

    init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw MHFormerError("\(path): no such model file") }
        guard let data = FileManager.default.contents(atPath: path) else { throw MHFormerError("\(path): cannot read the file") }
        try self.init(bytes: [UInt8](data), path: path)
    }

    init(bytes: [UInt8], path: String) throws {
        self.path = path
        // Bytes 4..<8 are the file identifier "TFL3".
        guard bytes.count >= 8, bytes[4..<8].elementsEqual("TFL3".utf8) else {
            throw MHFormerError("\(path): not a TFLite model (no TFL3 identifier)")
        }
        let fb = FlatBuffer(bytes: bytes, path: path)
        self.fb = fb
        let model = try fb.root()
        let version = try model.u32(0)
        guard version == 3 else { throw MHFormerError("\(path): TFLite schema version \(version), expected 3") }

        // Operator codes. builtin_code (int32) replaced the int8 deprecated_builtin_code when codes
        // passed 127; old writers set only the deprecated one, new writers both (the deprecated one
        // then saturates at 127), so the larger of the two is the operator.
        var codes: [(code: Int, custom: String?)] = []
        for oc in try model.tables(1) {
            let deprecated = Int(Int8(bitPattern: try oc.u8(0)))
            let builtin = Int(try oc.i32(3))
            codes.append((max(deprecated, builtin), try oc.string(1)))
        }

        // Buffers: where each constant's bytes are.
        var buffers: [Range<Int>?] = []
        for (bi, b) in try model.tables(4).enumerated() {
            if let r = try b.byteRange(0), !r.isEmpty {
                buffers.append(r)
            } else {
                // u64 fields: beyond Int (a corrupt file), converting them would trap.
                let rawOffset = try b.u64(1), rawSize = try b.u64(2)
                guard let offset = Int(exactly: rawOffset), let size = Int(exactly: rawSize) else {
                    throw fb.corrupt("buffer \(bi) has offset \(rawOffset) and size \(rawSize), beyond any file")
                }
                if offset > 1, size > 0 {       // data after the flatbuffer (files over 2 GB)
                    try fb.check(offset, size)
                    buffers.append(offset..<(offset + size))
                } else {
                    buffers.append(nil)
                }
            }
        }

        let subgraphs = try model.tables(2)
        guard subgraphs.count == 1 else { throw MHFormerError("\(path): \(subgraphs.count) subgraphs, only 1 is supported") }
        let sg = subgraphs[0]

        var tensors: [TFLiteTensor] = []
        for (ti, t) in try sg.tables(0).enumerated() {
            let name = try t.string(3) ?? "tensor \(ti)"
            let shape = try t.i32s(0)
            let rawType = Int(try t.u8(1))
            guard let type = TFLiteType(rawValue: rawType) else {
                throw MHFormerError("\(path): tensor '\(name)' has type \(rawType), only FLOAT32, FLOAT16 and INT32 are supported")
            }
            guard shape.allSatisfy({ $0 >= 0 }) else {
                throw MHFormerError("\(path): tensor '\(name)' has a dynamic shape \(shape)")
            }
            // a corrupt shape must not overflow or ask for terabytes: at most 2^28 elements (1 GiB)
            var elements = 1
            for d in shape {
                let (m, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow, m <= 1 << 28 else { throw MHFormerError("\(path): tensor '\(name)' is too large (shape \(shape))") }
                elements = m
            }
            if let q = try t.table(4), let (_, scales) = try q.vector(2), scales > 0 {
                throw MHFormerError("\(path): tensor '\(name)' is quantized, which is not supported")
            }
            if try t.bool(5) { throw MHFormerError("\(path): tensor '\(name)' is a variable tensor, which is not supported") }
            let bufferIndex = Int(try t.u32(2))
            guard bufferIndex < max(buffers.count, 1) else { throw fb.corrupt("tensor '\(name)' names buffer \(bufferIndex)") }
            let data = buffers.isEmpty ? nil : buffers[bufferIndex]
            var sparsity: TFLiteSparsity? = nil
            if let sp = try t.table(6) {
                sparsity = try TFLiteModel.readSparsity(sp, tensor: name, rank: shape.count, path: path)
            }
            if let data, sparsity == nil {
                let count = shape.reduce(1, *)
                guard data.count == count * type.byteSize else {
                    throw MHFormerError("\(path): tensor '\(name)' holds \(data.count) bytes, its shape \(shape) needs \(count * type.byteSize)")
                }
            }
            tensors.append(TFLiteTensor(name: name, shape: shape, type: type, data: data, sparsity: sparsity))
        }

        var operators: [TFLiteOperator] = []
        for (oi, o) in try sg.tables(3).enumerated() {
            let ci = Int(try o.u32(0))
            guard ci < codes.count else { throw fb.corrupt("operator \(oi) names opcode \(ci)") }
            let (code, custom) = codes[ci]
            guard let op = TFLiteOp(rawValue: code) else {
                let what = code == 32 ? "custom operator '\(custom ?? "?")'" : "builtin operator \(code)"
                throw MHFormerError("\(path): operator \(oi) is \(what), which this reader does not implement")
            }
            let inputs = try o.i32s(1), outputs = try o.i32s(2)
            // -1 marks an absent optional input; an output always exists.
            for i in inputs where i < -1 || i >= tensors.count { throw fb.corrupt("operator \(oi) names tensor \(i)") }
            for i in outputs where i < 0 || i >= tensors.count { throw fb.corrupt("operator \(oi) names output tensor \(i)") }
            let tag = Int(try o.u8(3))
            let options = try o.table(4)
            if tag != 0, tag != op.optionsTag {
                throw MHFormerError("\(path): operator \(oi) (\(op.name)) carries options of union type \(tag), expected \(op.optionsTag)")
            }
            if try o.u8(11) != 0 { throw MHFormerError("\(path): operator \(oi) (\(op.name)) has builtin_options_2, which is not supported") }
            operators.append(TFLiteOperator(op: op, inputs: inputs, outputs: outputs, options: tag == 0 ? nil : options))
        }

        self.tensors = tensors
        self.operators = operators
        inputs = try sg.i32s(1)
        outputs = try sg.i32s(2)
        for i in inputs + outputs where i < 0 || i >= tensors.count { throw fb.corrupt("subgraph input/output names tensor \(i)") }
    }

    private static func readSparsity(_ sp: Table, tensor: String, rank: Int, path: String) throws -> TFLiteSparsity {
        let order = try sp.i32s(0)
        guard order == Array(0..<rank), try sp.i32s(1).isEmpty else {
            throw MHFormerError("\(path): tensor '\(tensor)' uses block sparsity or a traversal order \(order), which is not supported")
        }
        let meta = try sp.tables(2)
        guard meta.count == rank else { throw MHFormerError("\(path): tensor '\(tensor)' has \(meta.count) sparsity dims for rank \(rank)") }
        func indexVector(_ m: Table, tagField: Int) throws -> [Int] {
            guard let values = try m.table(tagField + 1) else { throw MHFormerError("\(path): tensor '\(tensor)' has a CSR dim without segments/indices") }
            switch try m.u8(tagField) {
            case 1: return try values.i32s(0)
            case 2: return try values.u16s(0)
            case 3: return try values.u8s(0)
            case let t: throw MHFormerError("\(path): tensor '\(tensor)' has sparse index vector type \(t)")
            }
        }
        var dims: [TFLiteSparsity.Dim] = []
        for m in meta {
            switch try m.u8(0) {
            case 0: dims.append(.dense(size: Int(try m.i32(1))))
            case 1: dims.append(.csr(segments: try indexVector(m, tagField: 2), indices: try indexVector(m, tagField: 4)))
            case let f: throw MHFormerError("\(path): tensor '\(tensor)' has sparsity dim format \(f)")
            }
        }
        return TFLiteSparsity(dims: dims)
    }

    /// A constant tensor's values as Float: FLOAT32 as is, FLOAT16 widened (exact), sparse ones densified.
    func constantFloats(_ ti: Int) throws -> [Float] {
        let t = tensors[ti]
        guard let range = t.data else { throw MHFormerError("\(path): tensor '\(t.name)' is not a constant") }
        guard t.type != .int32 else { throw MHFormerError("\(path): tensor '\(t.name)' is INT32, expected a float constant") }
        let stored = range.count / t.type.byteSize
        var values = [Float](repeating: 0, count: stored)
        fb.bytes.withUnsafeBytes { raw in
            for i in 0..<stored {
                let p = range.lowerBound + i * t.type.byteSize
                if t.type == .float16 {
                    values[i] = Float(Float16(bitPattern: raw.loadUnaligned(fromByteOffset: p, as: UInt16.self)))
                } else {
                    values[i] = Float(bitPattern: raw.loadUnaligned(fromByteOffset: p, as: UInt32.self))
                }
            }
        }
        guard let sparsity = t.sparsity else { return values }
        return try densify(values, shape: t.shape, sparsity: sparsity, name: t.name)
    }

    /// An INT32 constant (paddings, shapes, sizes).
    func constantInts(_ ti: Int) throws -> [Int] {
        let t = tensors[ti]
        guard let range = t.data, t.type == .int32, t.sparsity == nil else {
            throw MHFormerError("\(path): tensor '\(t.name)' should be a dense INT32 constant")
        }
        return fb.bytes.withUnsafeBytes { raw in
            stride(from: range.lowerBound, to: range.upperBound, by: 4).map {
                Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: $0, as: Int32.self)))
            }
        }
    }

    /// Expands TFLite's compressed-sparse storage to a dense row-major array.
    /// Walking the dims in order, a "position" p numbers the stored prefixes: a DENSE dim of size n
    /// turns p into p·n + i for each coordinate i; a CSR dim turns it into k for
    /// k in segments[p] ..< segments[p+1], with coordinate indices[k]. After the last dim p is the
    /// index into the stored values.
    private func densify(_ values: [Float], shape: [Int], sparsity: TFLiteSparsity, name: String) throws -> [Float] {
        var dense = [Float](repeating: 0, count: shape.reduce(1, *))
        var placed = 0
        func walk(_ d: Int, _ p: Int, _ offset: Int) throws {
            if d == shape.count {
                guard p < values.count else { throw MHFormerError("\(path): tensor '\(name)': sparse data shorter than its index") }
                dense[offset] = values[p]
                placed += 1
                return
            }
            switch sparsity.dims[d] {
            case .dense(let n):
                guard n == shape[d] else { throw MHFormerError("\(path): tensor '\(name)': dense dim \(d) size \(n) vs shape \(shape)") }
                for i in 0..<n { try walk(d + 1, p * n + i, offset * shape[d] + i) }
            case .csr(let segments, let indices):
                guard p + 1 < segments.count, segments[p] >= 0, segments[p] <= segments[p + 1], segments[p + 1] <= indices.count else {
                    throw MHFormerError("\(path): tensor '\(name)': bad CSR segments in dim \(d)")
                }
                for k in segments[p]..<segments[p + 1] {
                    let i = indices[k]
                    guard i >= 0, i < shape[d] else { throw MHFormerError("\(path): tensor '\(name)': CSR index \(i) outside dim \(d)") }
                    try walk(d + 1, k, offset * shape[d] + i)
                }
            }
        }
        try walk(0, 0, 0)
        guard placed == values.count else {
            throw MHFormerError("\(path): tensor '\(name)': \(values.count) stored values but the index places \(placed)")
        }
        return dense
    }
}
