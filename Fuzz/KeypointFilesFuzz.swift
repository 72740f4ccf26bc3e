// Fuzz target keypoint-files: the readers of other tools' 2D keypoint files. Each reader takes a
// path, so the input is written to this process's scratch folder each run and given to all three:
// COCOKeypointsJSON and MediaPipeCSV read it as a file, OpenPoseJSON as the one frame file of a
// folder. Format detection (KeypointFiles.detectFormat) runs on it too.

import Foundation

private let openPoseFolder: String = {
    let dir = (scratchFolder as NSString).appendingPathComponent("openpose")
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}()
private let inputFile = (scratchFolder as NSString).appendingPathComponent("input")
private let frameFile = (openPoseFolder as NSString).appendingPathComponent("clip_000000000007_keypoints.json")

func fuzzKeypointFiles(_ data: Data) {
    try! data.write(to: URL(fileURLWithPath: inputFile))
    try! data.write(to: URL(fileURLWithPath: frameFile))
    let size = (width: 640, height: 480)
    expectingMHFormerErrors { _ = try KeypointFiles.detectFormat(path: inputFile) }
    for given in [size, nil] {
        expectingMHFormerErrors {
            let contents = try COCOKeypointsJSON.load(path: inputFile, imageSize: given)
            let (kp, undetected) = (contents.keypoints, contents.framesWithUndetectedPoints)
            checkKeypoints(kp)
            invariant(undetected >= 0 && undetected <= kp.present.filter { $0 }.count, "undetected count \(undetected)")
            if verbose { print("accepted as COCO: \(kp.count) frames") }
        }
        expectingMHFormerErrors {
            let (kp, undetected) = try MediaPipeCSV.load(path: inputFile, imageSize: given)
            checkKeypoints(kp)
            invariant(undetected >= 0 && undetected <= kp.present.filter { $0 }.count, "undetected count \(undetected)")
            if verbose { print("accepted as MediaPipe: \(kp.count) frames") }
        }
    }
    expectingMHFormerErrors {
        let kp = try OpenPoseJSON.load(folder: openPoseFolder, imageSize: size).keypoints
        checkKeypoints(kp)
        invariant(kp.frames == [7], "one frame file, frames \(kp.frames)")
        if verbose { print("accepted as OpenPose: 1 frame") }
    }
}
