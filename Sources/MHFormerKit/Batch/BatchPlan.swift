// Which videos a batch holds and where each one's files go.
//
//   INPUT: a video file | a folder (searched recursively; hidden entries and OUTDIR skipped)
//        | a text file listing one path per line (relative to the list's folder; '#' comments)
//   OUTDIR/<path relative to the input root, extension dropped>.csv (.json, .trc, .bvh per format)
//                                                      .2d.csv  .overlay.mp4  .plot.png  .viewer.html  .angles.csv
//                                                      .record.json   (BatchRecord)
// The input root is the deepest folder holding every video of the batch (or --input-root), so the
// output tree mirrors the input folders and equal names in different folders do not collide. Two
// videos of one folder that differ only in extension (a.mp4, a.mov) keep the extension (a.mp4.csv).

import CFFmpeg
import Foundation

/// The files one video of a batch gets (absolute paths).
public struct BatchOutputs: Codable, Equatable, Sendable {
    /// One per format of BatchSettings.formats, in that order.
    public var motion: [String]
    public var keypoints2d: String?
    public var overlay: String?
    public var plot: String?
    public var viewer: String?
    public var angles: String?
    /// The video's BatchRecord, written last.
    public var record: String

    /// Every output but the record.
    public var files: [String] { motion + [keypoints2d, overlay, plot, viewer, angles].compactMap { $0 } }
}

public struct BatchVideo: Codable, Equatable, Sendable {
    /// Absolute path of the video.
    public var input: String
    public var outputs: BatchOutputs
}

public struct BatchPlan: Sendable {
    public var outdir: String
    public var inputRoot: String
    /// Sorted by input path.
    public var videos: [BatchVideo]

    /// Expands `inputs`, places every video's outputs under `outdir` and checks that no two videos
    /// share an output. Paths that do not exist stay in the plan (they fail when run, with their
    /// error in the summary); an INPUT that yields no video at all is an error.
    public static func make(inputs: [String], outdir: String, inputRoot: String? = nil, settings: BatchSettings) throws -> BatchPlan {
        let out = BatchSettings.absolute(outdir)
        var paths: [String] = []
        for input in inputs {
            let found = try expand(input, skipping: out)
            if found.isEmpty { throw MHFormerError("\(input): no video files found (extensions: \(videoExtensions.sorted().joined(separator: " ")))") }
            paths += found
        }
        var seen = Set<String>()
        paths = paths.filter { seen.insert($0).inserted }.sorted()
        let root = inputRoot.map(BatchSettings.absolute) ?? commonFolder(paths)
        var videos: [BatchVideo] = []
        var owner: [String: String] = [:]
        for path in paths {
            guard path.hasPrefix(root == "/" ? "/" : root + "/") else {
                throw MHFormerError("\(path): not inside the input root \(root) (--input-root)")
            }
            let outputs = outputsFor(path, root: root, outdir: out, settings: settings)
            for file in outputs.files + [outputs.record] {
                if let other = owner[file] {
                    throw MHFormerError("\(path): its output \(file) is also the output of \(other); rename one of the two videos")
                }
                owner[file] = path
            }
            videos.append(BatchVideo(input: path, outputs: outputs))
        }
        return BatchPlan(outdir: out, inputRoot: root, videos: videos)
    }

    /// The videos of shard `index` of `count` (1-based): every count-th video from the index-th, so
    /// independent processes given the same inputs split them without overlap.
    public func shard(_ index: Int, of count: Int) -> [BatchVideo] {
        videos.enumerated().filter { $0.offset % count == index - 1 }.map(\.element)
    }

    /// The file names a video's outputs start with: its path under the root, extension dropped
    /// unless another video file of the same folder has the same base name.
    static func outputsFor(_ path: String, root: String, outdir: String, settings: BatchSettings) -> BatchOutputs {
        var relative = String(path.dropFirst(root == "/" ? 1 : root.count + 1))
        let name = (path as NSString).lastPathComponent
        let base = (name as NSString).deletingPathExtension
        let folder = (path as NSString).deletingLastPathComponent
        let siblings = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let clash = siblings.contains { $0 != name && isVideoName($0) && ($0 as NSString).deletingPathExtension == base }
        if !clash { relative = (relative as NSString).deletingPathExtension }
        let stem = (outdir as NSString).appendingPathComponent(relative)
        return BatchOutputs(motion: settings.formats.map { stem + "." + $0 },
                            keypoints2d: settings.keypoints2d ? stem + ".2d.csv" : nil,
                            overlay: settings.overlay ? stem + ".overlay.mp4" : nil,
                            plot: settings.plot ? stem + ".plot.png" : nil,
                            viewer: settings.viewer ? stem + ".viewer.html" : nil,
                            angles: settings.angles == true ? stem + ".angles.csv" : nil,
                            record: stem + ".record.json")
    }

    /// The videos an INPUT names (absolute, standardised paths).
    static func expand(_ input: String, skipping outdir: String) throws -> [String] {
        let path = BatchSettings.absolute(input)
        var isFolder: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isFolder)
        if exists && isFolder.boolValue { return videosInFolder(path, skipping: outdir) }
        // A missing path or a video: itself (a missing one fails when run, with its error recorded).
        if !exists || isVideoName(path) { return [path] }
        return try readList(path)
    }

    /// Every video file under `folder`, recursively, without hidden entries or the batch's OUTDIR.
    static func videosInFolder(_ folder: String, skipping outdir: String) -> [String] {
        guard let walker = FileManager.default.enumerator(at: URL(fileURLWithPath: folder), includingPropertiesForKeys: [.isRegularFileKey],
                                                          options: [.skipsHiddenFiles]) else { return [] }
        var found: [String] = []
        for case let url as URL in walker {
            let path = url.standardizedFileURL.path
            if path == outdir { walker.skipDescendants(); continue }
            if isVideoName(path), (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
                found.append(path)
            }
        }
        return found
    }

    /// A list file: one path per line, relative to the list's folder; blank lines and '#' comments skipped.
    static func readList(_ path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else { throw MHFormerError("\(path): cannot be read") }
        guard let text = String(data: data, encoding: .utf8), !data.contains(0) else {
            throw MHFormerError("\(path): neither a video (by its extension) nor a text file listing videos")
        }
        let folder = (path as NSString).deletingLastPathComponent
        return text.split(whereSeparator: \.isNewline).compactMap { raw -> String? in
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#") else { return nil }
            return BatchSettings.absolute(line.hasPrefix("/") ? line : (folder as NSString).appendingPathComponent(line))
        }
    }

    /// The deepest folder that holds every path.
    static func commonFolder(_ paths: [String]) -> String {
        guard let first = paths.first else { return "/" }
        var common = (first as NSString).deletingLastPathComponent.split(separator: "/", omittingEmptySubsequences: true)
        for path in paths.dropFirst() {
            let parts = (path as NSString).deletingLastPathComponent.split(separator: "/", omittingEmptySubsequences: true)
            var n = 0
            while n < min(common.count, parts.count) && common[n] == parts[n] { n += 1 }
            common = Array(common.prefix(n))
        }
        return "/" + common.joined(separator: "/")
    }

    static func isVideoName(_ path: String) -> Bool {
        videoExtensions.contains((path as NSString).pathExtension.lowercased())
    }

    /// Video file extensions that this FFmpeg's demuxers claim: the usual video containers, kept
    /// only when a demuxer lists them (so a build without, say, Matroska does not search for .mkv).
    public static let videoExtensions: Set<String> = {
        let usual: Set<String> = ["mp4", "m4v", "mov", "mkv", "webm", "avi", "mpg", "mpeg", "ts", "mts", "m2ts", "wmv", "asf",
                                  "flv", "3gp", "3g2", "ogv", "mxf", "vob", "dv", "y4m", "nut", "gif"]
        var claimed = Set<String>()
        var state: UnsafeMutableRawPointer?
        while let demuxer = av_demuxer_iterate(&state) {
            guard let list = demuxer.pointee.extensions else { continue }
            for e in String(cString: list).split(separator: ",") { claimed.insert(e.lowercased()) }
        }
        // The MP4/MOV demuxer lists its extensions; should a build list none at all, keep the usual set.
        let both = usual.intersection(claimed)
        return both.isEmpty ? usual : both
    }()
}
