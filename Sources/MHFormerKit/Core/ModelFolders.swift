// Where model files are found when no path is given.

import Foundation

/// Where the tool looks for its model files: $MHFORMER_MODELS, then `Models/` beside `executable`
/// (the command line passes its own path) and its parent folders (a build tree inside the
/// repository), then ./Models.
public enum ModelFolders {
    public static func candidates(executable: String? = nil) -> [String] {
        var dirs: [URL] = []
        if let env = ProcessInfo.processInfo.environment["MHFORMER_MODELS"] { dirs.append(URL(fileURLWithPath: env)) }
        if let executable {
            var exe = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
            for _ in 0..<6 {
                dirs.append(exe.appendingPathComponent("Models"))
                exe = exe.deletingLastPathComponent()
            }
        }
        dirs.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("Models"))
        return dirs.map(\.path)
    }
}

public enum DefaultWeights {
    /// The project's own weights: `mhformer-cmu-T*.safetensors` in the first of `folders` that has one.
    public static func find(in folders: [String] = ModelFolders.candidates()) -> String? {
        for dir in folders {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { continue }
            if let name = names.filter({ $0.hasPrefix("mhformer-cmu-T") && $0.hasSuffix(".safetensors") }).sorted().first {
                return (dir as NSString).appendingPathComponent(name)
            }
        }
        return nil
    }
}
