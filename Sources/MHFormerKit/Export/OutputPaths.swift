// Guards against a run writing over its own input (or one output over another). Outputs are renamed
// into place (AtomicFile), so `lift --keypoints a.csv -o a.csv` would silently replace the input with
// the result; a symlink or a hard link to the input hides the same mistake behind another name.

import Foundation

public enum OutputPaths {
    /// The absolute path `path` refers to once symlinks are followed: the real path of the file when
    /// it exists, else the real path of its folder plus the file's name (the file an output will be).
    public static func resolved(_ path: String) -> String {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        if let real = realPath(absolute) { return real }
        let folder = (absolute as NSString).deletingLastPathComponent
        let name = (absolute as NSString).lastPathComponent
        guard let realFolder = realPath(folder) else { return absolute }
        return (realFolder as NSString).appendingPathComponent(name)
    }

    /// Whether two paths name the same file: the same resolved path, or (both existing) the same
    /// device and inode, which also catches hard links.
    public static func sameFile(_ a: String, _ b: String) -> Bool {
        if resolved(a) == resolved(b) { return true }
        var sa = stat(), sb = stat()
        guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }

    /// Throws a one-line error when an output is one of the inputs or two outputs are the same file.
    /// Each entry is (option as the user typed it, path); nil paths (options not given) are skipped.
    public static func checkDistinct(outputs: [(option: String, path: String?)], inputs: [(option: String, path: String?)]) throws {
        let outs = outputs.compactMap { o in o.path.map { (option: o.option, path: $0) } }
        let ins = inputs.compactMap { i in i.path.map { (option: i.option, path: $0) } }
        for (k, out) in outs.enumerated() {
            for input in ins where sameFile(out.path, input.path) {
                throw MHFormerError("\(out.path): the output (\(out.option)) is the input file \(input.path) (\(input.option)); refusing to overwrite an input")
            }
            for other in outs[..<k] where sameFile(out.path, other.path) {
                throw MHFormerError("\(out.path): \(other.option) and \(out.option) name the same file; give each output its own path")
            }
        }
    }

    private static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }
}
