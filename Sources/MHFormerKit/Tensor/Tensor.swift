// A flat, row-major Float32 buffer with a shape: the one data type of the models.
//
// Weights and activations are `Tensor`s. Kernels take raw pointers (`t.data`) plus explicit row
// counts and strides, as llm.c does, so a column slice of a wider matrix (one hypothesis inside the
// concatenated [H1 | H2 | H3] buffer) can be read and written in place without copies.

public final class Tensor: @unchecked Sendable {
    public let shape: [Int]
    public let count: Int
    /// Owned, 64-byte aligned storage of `count` floats.
    public let data: UnsafeMutablePointer<Float>

    /// A zero-filled tensor.
    public init(shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.count = shape.reduce(1, *)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        self.data = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        data.initialize(repeating: 0, count: max(count, 1))
    }

    public convenience init(shape: [Int], values: [Float]) {
        self.init(shape: shape)
        precondition(values.count == count, "\(values.count) values for shape \(shape)")
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    deinit { data.deallocate() }

    public var array: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

    public subscript(i: Int) -> Float {
        get { data[i] }
        set { data[i] = newValue }
    }
}
