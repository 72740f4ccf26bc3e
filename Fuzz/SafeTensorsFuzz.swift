// Fuzz target safetensors: the safetensors header parser (SafeTensorsFile) and reading each
// floating tensor it accepted.

import Foundation

func fuzzSafeTensors(_ data: Data) {
    expectingMHFormerErrors {
        let file = try SafeTensorsFile(data: data, name: "fuzz.safetensors")
        for (name, entry) in file.entries where file.isFloating(name) {
            let values = try file.floats(name)
            invariant(values.count == entry.shape.reduce(1, *), "tensor '\(name)': \(values.count) values for shape \(entry.shape)")
        }
        if verbose { print("accepted: \(file.entries.count) tensors") }
    }
}
