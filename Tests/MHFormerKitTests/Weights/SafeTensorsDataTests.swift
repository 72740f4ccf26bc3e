// SafeTensorsFile(data:name:), the in-memory reader the safetensors fuzz target uses, and the fuzz
// corpus replayed through it (Pose2D/FuzzCorpusTests.swift has the other targets').

import Foundation
import Testing
@testable import MHFormerKit

@Suite("safetensors from memory")
struct SafeTensorsDataTests {
    @Test("safetensors: every committed input parses or is refused; SafeTensorsFile(data:) reads as the path does")
    func safetensors() throws {
        for url in try fuzzCorpus("safetensors") {
            let data = try Data(contentsOf: url)
            var fromPath: SafeTensorsFile?, fromData: SafeTensorsFile?
            try readOrRefuse { fromPath = try SafeTensorsFile(path: url.path) }
            try readOrRefuse { fromData = try SafeTensorsFile(data: data, name: url.path) }
            #expect((fromPath == nil) == (fromData == nil), "\(url.lastPathComponent)")
            if let fromPath, let fromData {
                #expect(fromPath.entries.keys.sorted() == fromData.entries.keys.sorted())
                for name in fromPath.entries.keys where fromPath.isFloating(name) {
                    #expect(try fromPath.floats(name) == fromData.floats(name))
                }
            }
        }
        // A slice of a larger Data reads as a Data of its own.
        let one = try Data(contentsOf: Paths.repo.appendingPathComponent("Fuzz/Corpus/safetensors/one-tensor.safetensors"))
        let slice = (Data([1, 2, 3]) + one)[3...]
        #expect(try SafeTensorsFile(data: slice, name: "s").floats("w") == [1, 2])
    }

}
