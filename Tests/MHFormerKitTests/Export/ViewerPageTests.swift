// `--viewer OUT.html` (ViewerPage): the page of the sample walk, checked as a file (one file, its size,
// the JSON output inside) and in a real browser: headless Chromium opens it from disk, and the page
// says what it loaded and where the shown frame's joints are on screen; a screenshot must have the
// skeleton's pixels there and nowhere else. Skipped with a message without three.js or Chromium.

import Foundation
import Testing
@testable import MHFormerKit

enum Chromium {
    static let path: String? = {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        return ["chromium", "chromium-browser", "google-chrome"].lazy.flatMap { name in dirs.map { "\($0)/\(name)" } }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// Headless Chromium on `url` with a 1000x800 window, WebGL in software (SwiftShader), 5 s of
    /// page time for it to draw; `mode` is `--dump-dom` or `--screenshot=FILE`.
    static func open(_ url: String, _ mode: String, profile: String) throws -> RunResult {
        try run(path!, ["--headless=new", "--no-sandbox", "--user-data-dir=\(profile)", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
                        "--hide-scrollbars", "--window-size=1000,800", "--virtual-time-budget=5000", mode, url])
    }
}

private var threeJSAvailable: Bool { (try? ViewerPage.checkAvailable()) != nil }

@Suite("--viewer: one page to look at the capture", .enabled(if: DefaultWeights.find() != nil && threeJSAvailable,
                                                               "no weights, or no three.js (apt-get install -y libjs-three)"))
struct ViewerPageTests {
    /// The sample walk's page, from `lift` on its exact 2D: (page path, page text).
    func walkPage(_ dir: ClipDir, extra: [String] = []) throws -> (String, String) {
        let page = dir.path("walk.html")
        let r = try run(Paths.tool, ["lift", "--keypoints", SampleVideo.gt2D.path, "-o", dir.path("walk.json"), "--viewer", page] + extra)
        #expect(r.status == 0, "\(r.stderr)")
        return (page, try String(contentsOfFile: page, encoding: .utf8))
    }

    @Test("one file under 2 MB holding the JSON output of all 200 frames (world frame) and three.js; bad extension refused")
    func pageFile() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let (page, text) = try walkPage(dir)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: page)[.size] as? Int)
        print("viewer page of the 200-frame walk: \(size) bytes")
        #expect(size < 2_000_000)
        // No file or address the page would fetch besides the optional video.
        #expect(!text.contains("<script src") && !text.contains("<link"))
        let open = try #require(text.range(of: #"<script type="application/json" id="capture">"#))
        let close = try #require(text.range(of: "</script>", range: open.upperBound..<text.endIndex))
        let capture = try #require(try JSONSerialization.jsonObject(with: Data(text[open.upperBound..<close.lowerBound].utf8)) as? [String: Any])
        let people = try #require(capture["people"] as? [[String: Any]])
        let motion = try #require(people.first?["motion"] as? [String: Any])
        #expect(people.count == 1 && motion["format"] as? String == "mhformer-motion")
        #expect((motion["coordinates"] as? [String: Any])?["frame"] as? String == "world")
        let frames = try #require(motion["frames"] as? [[String: Any]])
        #expect(frames.count == 200 && frames.allSatisfy { ($0["joints"] as? [[Double]])?.count == 17 })
        #expect(capture["video"] is NSNull)          // lift has no video beside it

        let bad = try run(Paths.tool, ["lift", "--keypoints", SampleVideo.gt2D.path, "-o", dir.path("b.json"), "--viewer", dir.path("b.txt")])
        #expect(bad.status == 1 && bad.stderr == "error: \(dir.path("b.txt")): the viewer is a web page: give it the extension .html\n", "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path("b.json")))
    }

    @Test("the video beside the page is found by a path relative to the page")
    func relativeVideo() {
        #expect(ViewerPage.relativePath(of: "/a/b/clip.overlay.mp4", fromPage: "/a/b/clip.html") == "clip.overlay.mp4")
        #expect(ViewerPage.relativePath(of: "/a/videos/my clip.mp4", fromPage: "/a/out/x/clip.html") == "../../videos/my%20clip.mp4")
    }

    @Test("headless Chromium opens it from disk: 200 frames loaded, the skeleton drawn where the frame's joints project",
          .enabled(if: Chromium.path != nil, "no Chromium (apt-get install -y chromium)"))
    func inBrowser() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let (page, _) = try walkPage(dir)
        // Frame 100, paused, the 3D view 640x400 at the top left (the same in both browser runs).
        let url = URL(fileURLWithPath: page).absoluteString + "#frame=100&size=640x400"
        let start = Date()
        let dom = try Chromium.open(url, "--dump-dom", profile: dir.path("profile"))
        let seconds = Date().timeIntervalSince(start)
        print("viewer page opened and drawn in headless Chromium in \(String(format: "%.2f", seconds)) s")
        let bodyTag = try #require(dom.stdout.range(of: "<body[^>]*>", options: .regularExpression).map { String(dom.stdout[$0]) }, "\(dom.stderr.suffix(500))")
        func attribute(_ name: String) -> String? {
            bodyTag.range(of: "\(name)=\"[^\"]*\"", options: .regularExpression).map { String(bodyTag[$0].dropFirst(name.count + 2).dropLast()) }
        }
        #expect(attribute("data-error") == nil, "\(bodyTag)")
        #expect(attribute("data-frames") == "200" && attribute("data-frame") == "100" && attribute("data-drawn") == "1", "\(bodyTag)")
        #expect(dom.stdout.contains("<title>cmu131_walk_gt_2d.csv: 200 frames</title>"))
        let joints = try #require(try JSONSerialization.jsonObject(with: Data((attribute("data-joints") ?? "").utf8)) as? [[Double]])
        #expect(joints.count == 17)

        let shot = dir.path("shot.png")
        _ = try Chromium.open(url, "--screenshot=\(shot)", profile: dir.path("profile"))
        let raw = dir.path("shot.rgb")
        try FFmpegCLI.run(["-i", shot, "-f", "rawvideo", "-pix_fmt", "rgb24", raw])
        let pixels = [UInt8](try Data(contentsOf: URL(fileURLWithPath: raw)))
        let width = 1000
        #expect(pixels.count == width * 800 * 3)
        // The joint dots are light grey (no 2D scores in this file), the only light pixels in the view.
        func light(_ x: Int, _ y: Int) -> Bool {
            let k = (y * width + x) * 3
            return pixels[k] > 150 && pixels[k + 1] > 150 && pixels[k + 2] > 150
        }
        for (j, p) in joints.enumerated() {
            let x = Int(p[0].rounded()), y = Int(p[1].rounded())
            let near = (-4...4).contains { dy in (-4...4).contains { dx in light(x + dx, y + dy) } }
            #expect(near, "joint \(j) at \(p): no dot drawn there")
        }
        let xs = joints.map { $0[0] }, ys = joints.map { $0[1] }
        var stray = 0
        for y in 0..<400 { for x in 0..<640 where light(x, y) {
            if Double(x) < xs.min()! - 8 || Double(x) > xs.max()! + 8 || Double(y) < ys.min()! - 8 || Double(y) > ys.max()! + 8 { stray += 1 }
        } }
        #expect(stray == 0, "\(stray) light pixels away from the skeleton")
    }
}
