// Frame widths that are not a multiple of 8. swscale's x86 YUV→RGB fast path converts 8 pixels at a
// time; into tightly packed rows it used to leave the last (width mod 8) columns black. BlazePose
// notices: its landmark crop replicates the image's edge pixels wherever the region of interest
// leaves the frame (close-ups), so a black edge column became a black wall in the model's input.

import Foundation
import Testing
@testable import MHFormerKit

@Suite("Video reader: odd widths", .enabled(if: FFmpegCLI.available, "ffmpeg is not on PATH: the video tests need it to make their clips"))
struct VideoWidthTests {
    /// 900 = 8·112 + 4 (the close-up frames' width), 322 = 8·40 + 2, 326 = 8·40 + 6; 320 for comparison.
    @Test("every column of a yuv420p frame has ffmpeg's pixels, whatever the width mod 8", arguments: ["900x540", "322x240", "326x180", "320x240"])
    func lastColumns(size: String) throws {
        let dir = ClipDir(); defer { dir.remove() }
        let clip = try dir.testPattern("clip.mp4", size: size, rate: 25, seconds: 0.2)
        let (info, frames, _) = try decodeAll(clip)
        #expect(frames.count == 5)
        let reference = try FFmpegCLI.referenceRGB(clip, frame: 3, in: dir.url)
        let w = info.width, h = info.height
        // the columns past the last whole group of 8, alone, then the whole frame
        let tail = w / 8 * 8
        var tailDiff = 0
        for y in 0..<h {
            for x in tail..<w {
                for c in 0..<3 { tailDiff = max(tailDiff, abs(Int(frames[3].pixels[(y * w + x) * 3 + c]) - Int(reference[(y * w + x) * 3 + c]))) }
            }
        }
        #expect(tailDiff == 0, "columns \(tail)..<\(w) differ from ffmpeg's by up to \(tailDiff)")
        #expect(maxByteDiff(frames[3].pixels, reference) == 0)
    }
}
