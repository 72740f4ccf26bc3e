// A tiny crafted TFLite model can ask the interpreter for terabytes (a big input and kernel make a
// huge im2col buffer): the allocation would fail and trap. It is refused with a one-line error.

import Foundation
import Testing
@testable import MHFormerKit

@Suite("TFLite: models that ask for absurd buffers are refused, not allocated")
struct TFLiteLimitsTests {
    /// Writes a one-CONV_2D model with the FlatBuffers writer of Fuzz/make-corpus.py (its corpus-
    /// writing calls at the end are not run): input [1, 8192, 8192, 4] (2^28 floats, the largest
    /// tensor TFLiteModel accepts), 32x32 kernel, 4 output channels. Its im2col buffer would hold
    /// 8192² · 32 · 32 · 4 = 2^38 floats (1 TiB).
    func hugeIm2colModel(in dir: URL) throws -> String {
        let path = dir.appendingPathComponent("huge-im2col.tflite").path
        let script = """
        import sys
        src = open(sys.argv[1]).read().split("\\nkeypoints2d_csv()\\n")[0]
        g = {"__file__": sys.argv[1], "__name__": "corpus"}
        exec(src, g)
        opts = g["Table"](s0=("u8", 0), s1=("i32", 1), s2=("i32", 1), s3=("u8", 0))
        model = g["tflite"]([(g["CONV"], [0, 1, 2], [3], 1, opts)],
                            [("x", [1, 8192, 8192, 4], 0, 0, None), ("w", [4, 32, 32, 4], 0, 1, None),
                             ("b", [4], 0, 2, None), ("y", [1, 8192, 8192, 4], 0, 0, None)],
                            [b"", bytes(4 * 32 * 32 * 4 * 4), bytes(16)], [0], [3])
        open(sys.argv[2], "wb").write(model)
        """
        let r = try runPython(["-c", script, Paths.repo.appendingPathComponent("Fuzz/make-corpus.py").path, path])
        try #require(r.status == 0, "\(r.stderr)")
        return path
    }

    @Test("a 1 TiB im2col buffer is an error naming the file and the operator")
    func hugeIm2col() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try hugeIm2colModel(in: dir)
        do {
            _ = try TFLiteInterpreter(path: path)
            Issue.record("the model was accepted")
        } catch let error as MHFormerError {
            #expect(error.message.contains("huge-im2col.tflite") && error.message.contains("im2col buffer would hold 274877906944 floats"),
                    "\(error.message)")
        }
    }
}
