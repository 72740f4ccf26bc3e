// One finished person of a multi-person job put aside on disk until the end of the video: their 2D
// keypoints and fitted camera-frame pose, in a small binary file in the temporary folder. Used when
// a person's files need something only known once everyone has been seen (the world frame's one
// scene, the viewer page's): holding everyone's poses in memory until then would grow with the
// people seen and the length of the video; on disk, the end reads them back one person at a time.
// The file is registered with TemporaryFiles, so an interrupt or an error removes it; nothing in
// it is an output.

import Foundation

struct StagedPerson {
    /// Where the person lies.
    let path: String

    /// Writes `keypoints` and `pose` (rows the keypoints' rows) to a new temporary file.
    static func stage(id: Int, keypoints kp: Keypoints2D, pose: Pose3DSequence) throws -> StagedPerson {
        let path = (NSTemporaryDirectory() as NSString).appendingPathComponent(".mhformer-\(getpid())-\(UUID().uuidString)-p\(id).bin")
        TemporaryFiles.register(path)
        var data = Data()
        func ints(_ v: [Int]) { for x in v { withUnsafeBytes(of: Int64(x).littleEndian) { data.append(contentsOf: $0) } } }
        func floats(_ v: [Float]) { v.withUnsafeBytes { data.append(contentsOf: $0) } }
        func doubles(_ v: [Double]) { v.withUnsafeBytes { data.append(contentsOf: $0) } }
        func flags(_ v: [Bool]) { data.append(contentsOf: v.map { $0 ? 1 as UInt8 : 0 }) }
        ints([kp.count, kp.width, kp.height, kp.scores == nil ? 0 : 1, kp.feet?.count ?? -1, pose.footContacts == nil ? 0 : 1])
        ints(kp.frames)
        flags(kp.times.map { $0 != nil })
        doubles(kp.times.map { $0 ?? 0 })
        floats(kp.points)
        flags(kp.present)
        if let scores = kp.scores { floats(scores) }
        if let feet = kp.feet { floats(feet) }
        floats(pose.joints)
        flags(pose.present)
        if let contacts = pose.footContacts { flags(contacts) }
        do { try data.write(to: URL(fileURLWithPath: path)) } catch {
            remove(path)
            throw MHFormerError("\(path): cannot write a temporary file (\(error.localizedDescription))")
        }
        return StagedPerson(path: path)
    }

    /// The keypoints and pose as staged.
    func load() throws -> (keypoints: Keypoints2D, pose: Pose3DSequence) {
        guard let data = FileManager.default.contents(atPath: path) else { throw MHFormerError("\(path): the temporary file went missing") }
        var at = 0
        func ints(_ n: Int) -> [Int] {
            defer { at += 8 * n }
            return (0..<n).map { k in Int(Int64(littleEndian: data.subdata(in: (at + 8 * k)..<(at + 8 * k + 8)).withUnsafeBytes { $0.loadUnaligned(as: Int64.self) })) }
        }
        func floats(_ n: Int) -> [Float] {
            defer { at += 4 * n }
            return data.subdata(in: at..<(at + 4 * n)).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }
        func doubles(_ n: Int) -> [Double] {
            defer { at += 8 * n }
            return data.subdata(in: at..<(at + 8 * n)).withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
        }
        func flags(_ n: Int) -> [Bool] {
            defer { at += n }
            return data.subdata(in: at..<(at + n)).map { $0 != 0 }
        }
        let head = ints(6)
        let (n, width, height, hasScores, feetCount, hasContacts) = (head[0], head[1], head[2], head[3] == 1, head[4], head[5] == 1)
        let frames = ints(n)
        let timed = flags(n), times = doubles(n)
        var kp = Keypoints2D(frames: frames, times: zip(timed, times).map { $0 ? $1 : nil }, width: width, height: height,
                             points: floats(n * 34), present: flags(n))
        if hasScores { kp.scores = floats(n * 17) }
        if feetCount >= 0 { kp.feet = floats(feetCount) }
        let joints = floats(n * 51), posePresent = flags(n)
        let pose = Pose3DSequence(frames: frames, times: kp.times, joints: joints, present: posePresent,
                                  footContacts: hasContacts ? flags(2 * n) : nil)
        return (kp, pose)
    }

    /// Deletes the file (the person is done with, or dropped).
    func remove() { StagedPerson.remove(path) }

    private static func remove(_ path: String) {
        unlink(path)
        TemporaryFiles.unregister(path)
    }
}
