// Fuzz target keypoints2d-csv: the 2D keypoint CSV that `mhformer lift` reads (Keypoints2DCSV.parse).

import Foundation

func fuzzKeypoints2DCSV(_ data: Data) {
    // Invalid UTF-8 is read's concern (it refuses the file); parse sees text.
    let text = String(decoding: data, as: UTF8.self)
    expectingMHFormerErrors {
        let kp = try Keypoints2DCSV.parse(text, path: "fuzz.csv")
        checkKeypoints(kp)
        if verbose { print("accepted: \(kp.count) frames") }
        for i in 0..<kp.count where !kp.present[i] {
            invariant(kp.row(i).allSatisfy { $0 == 0 }, "row \(i) without a person holds coordinates")
        }
    }
}
