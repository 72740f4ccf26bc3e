// Scripts/convert/convert-mhformer.py: checkpoint layouts it accepts, and files it refuses without ever
// executing code from them.

import Foundation
import Testing
@testable import MHFormerKit

/// Python (numpy only) that rewrites a torch.save archive: prefixes every key with `module.` and
/// wraps the state dict as {"epoch": 7, "model": state_dict}, by editing the pickle opcodes.
private let wrapScript = #"""
import pickletools, struct, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
zin = zipfile.ZipFile(src)
pkl_name = [n for n in zin.namelist() if n.endswith("data.pkl")][0]
pkl = zin.read(pkl_name)
out = bytearray()
last = 0
for op, arg, pos in pickletools.genops(pkl):
    if op.name == "BINUNICODE" and (arg.startswith("norm_") or arg.startswith("Transformer") or arg.startswith("embedding") or arg.startswith("regression")):
        out += pkl[last:pos]
        new = ("module." + arg).encode()
        out += b"X" + struct.pack("<I", len(new)) + new
        last = pos + 5 + len(arg.encode())
out += pkl[last:]
body = bytes(out)[2:-1]                          # drop PROTO 2 and STOP
key = lambda s: b"X" + struct.pack("<I", len(s)) + s.encode()
wrapped = b"\x80\x02}(" + key("epoch") + b"K\x07" + key("model") + body + b"u."
with zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
    for n in zin.namelist():
        zout.writestr(n, wrapped if n == pkl_name else zin.read(n))
"""#

/// Python that writes a .pth-shaped zip whose pickle calls os.system (a malicious checkpoint).
private let evilScript = #"""
import os, pickle, sys, zipfile
class Evil:
    def __reduce__(self):
        return (os.system, ("touch " + sys.argv[2],))
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("archive/data.pkl", pickle.dumps({"norm_1.weight": Evil()}, protocol=2))
"""#

@Suite("checkpoint converter", .enabled(if: Paths.sharedAvailable, "../shared/fixtures/mhformer is absent: converter cases skipped"))
struct ConverterTests {
    @Test("a wrapped state dict with module. prefixes converts to the same tensors")
    func wrappedAndPrefixed() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let pth = Paths.mhformerFixtures.appendingPathComponent("small81/small_model.pth")
        let plain = try convertCheckpoint(pth, into: dir)
        let script = dir.appendingPathComponent("wrap.py").path
        try wrapScript.write(toFile: script, atomically: true, encoding: .utf8)
        let wrapped = dir.appendingPathComponent("wrapped.pth")
        let w = try runPython([script, pth.path, wrapped.path])
        #expect(w.status == 0, "\(w.stderr)")
        let sub = dir.appendingPathComponent("sub")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        let converted = try convertCheckpoint(wrapped, into: sub)
        let a = try SafeTensorsFile(path: plain), b = try SafeTensorsFile(path: converted)
        #expect(Set(a.entries.keys) == Set(b.entries.keys))
        #expect(a.entries.count == 273)
        for name in a.entries.keys where a.isFloating(name) {
            #expect(try a.floats(name) == b.floats(name), "\(name) differs")
        }
    }

    @Test("a pickle that calls os.system is refused and nothing runs")
    func maliciousPickle() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = dir.appendingPathComponent("evil.py").path
        try evilScript.write(toFile: script, atomically: true, encoding: .utf8)
        let evil = dir.appendingPathComponent("evil.pth").path
        let marker = dir.appendingPathComponent("pwned").path
        #expect(try runPython([script, evil, marker]).status == 0)
        let out = dir.appendingPathComponent("out.safetensors").path
        let r = try runPython([Paths.repo.appendingPathComponent("Scripts/convert/convert-mhformer.py").path, evil, out])
        #expect(r.status == 1)
        #expect(r.stderr.contains("evil.pth") && r.stderr.contains("system") && r.stderr.contains("refusing"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: marker), "the pickle's code ran")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test("not a checkpoint, not MHFormer, missing: one-line errors")
    func badFiles() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = dir.appendingPathComponent("notes.pth").path
        try "hello".write(toFile: text, atomically: true, encoding: .utf8)
        let cases: [(String, String)] = [(text, "not a PyTorch zip checkpoint"), (dir.path + "/missing.pth", "no such file")]
        for (input, message) in cases {
            let out = dir.appendingPathComponent("o.safetensors").path
            let r = try runPython([Paths.repo.appendingPathComponent("Scripts/convert/convert-mhformer.py").path, input, out])
            #expect(r.status == 1)
            #expect(r.stderr.contains(message) && r.stderr.contains((input as NSString).lastPathComponent), "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out))
        }
    }
}
