// `--viewer OUT.html`: one self-contained page to look at a capture: the 3D skeleton of every frame on a
// ground grid, turned with the mouse or touch (three.js's OrbitControls), played at the video's own
// times, scrubbed with a slider; the root's path on the ground, the foot contacts, each joint's 2D
// confidence as its colour, several people in their ID colours, and the video beside it when it lies
// next to the page. It opens from disk, with no server and no network:
//   - three.js is Debian's `libjs-three` (r111: build/three.min.js, examples/js/controls/OrbitControls.js),
//     copied into the page when it is written (`ViewerPage.threeFolder`);
//   - the capture is the JSON output format (MotionWriter.json), one document per person, inside the page.
// The page tells a test what it did: `document.title` and the body's data- attributes (frames, people,
// the frame shown, `data-drawn`, the shown frame's joints projected to page pixels).

import Foundation

public enum ViewerPage {
    /// Where three.js is read from: $MHFORMER_THREE_JS, else Debian's libjs-three.
    public static var threeFolder: String {
        ProcessInfo.processInfo.environment["MHFORMER_THREE_JS"] ?? "/usr/share/javascript/three"
    }
    static let threeFiles = ["build/three.min.js", "examples/js/controls/OrbitControls.js"]

    /// Refuses, before any work, when three.js is not there.
    public static func checkAvailable() throws {
        for file in threeFiles where !FileManager.default.isReadableFile(atPath: (threeFolder as NSString).appendingPathComponent(file)) {
            throw MHFormerError("--viewer needs three.js (\((threeFolder as NSString).appendingPathComponent(file)) is missing): apt-get install -y libjs-three, or set MHFORMER_THREE_JS to a three.js folder")
        }
    }

    /// One person's capture: the ID (nil for a single-person run) and the JSON output of their motion.
    public struct Person {
        public var id: Int?
        public var motionJSON: String
        public init(id: Int?, motionJSON: String) { self.id = id; self.motionJSON = motionJSON }
    }

    /// The page. `video`: a path relative to the page of the video to show beside the skeleton (the
    /// page hides it when it cannot be loaded).
    public static func html(people: [Person], title: String, video: String?) throws -> String {
        try checkAvailable()
        let scripts = try threeFiles.map { try String(contentsOfFile: (threeFolder as NSString).appendingPathComponent($0), encoding: .utf8) }
        let list = people.map { "{\"id\": \($0.id.map(String.init) ?? "null"), \"motion\": \($0.motionJSON)}" }.joined(separator: ",\n")
        let capture = "{\"title\": \(jsonString(title)), \"video\": \(video.map(jsonString) ?? "null"), \"people\": [\n\(list)]}"
        return fill(ViewerTemplate.page, ["@TITLE@": htmlEscaped(title),
                                          "@CAPTURE@": capture.replacingOccurrences(of: "<", with: "\\u003c"),
                                          "@THREE@": scriptSafe(scripts[0]), "@ORBIT@": scriptSafe(scripts[1])])
    }

    /// `to` relative to the folder of `page` (both as given, made absolute), for the video beside the page.
    public static func relativePath(of target: String, fromPage page: String) -> String {
        let from = URL(fileURLWithPath: page).standardizedFileURL.deletingLastPathComponent().pathComponents
        let to = URL(fileURLWithPath: target).standardizedFileURL.pathComponents
        var common = 0
        while common < min(from.count, to.count - 1), from[common] == to[common] { common += 1 }
        let parts = Array(repeating: "..", count: from.count - common) + to[common...]
        return parts.map { $0.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? $0 }.joined(separator: "/")
    }

    /// `template` with each `@NAME@` replaced by its value; inserted text is never searched again.
    static func fill(_ template: String, _ values: [String: String]) -> String {
        var out = "", rest = Substring(template)
        while let start = rest.firstIndex(of: "@"), let end = rest[rest.index(after: start)...].firstIndex(of: "@"),
              let value = values[String(rest[start...end])] {
            out += rest[..<start] + value
            rest = rest[rest.index(after: end)...]
        }
        return out + rest
    }

    /// A JSON string literal.
    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    /// JavaScript inside a <script> element must not close it: `</` becomes `<\/` (the same in strings
    /// and regular expressions; three.js has none). The JSON in the page has `<` as `\u003c` instead.
    static func scriptSafe(_ s: String) -> String { s.replacingOccurrences(of: "</", with: "<\\/") }

    static func htmlEscaped(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
