// Outputs are written to a temporary file beside the target and renamed into place, so a failure
// never leaves a half-written file behind (and an existing file is replaced in one step).
// An existing target keeps its permission bits; a target the user may not write is refused rather
// than replaced. A symlink as the target is followed: the file it points to gets the new contents
// and the link stays, as with shell redirection (`>`).

import Foundation

public enum AtomicFile {
    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }

    public static func write(_ data: Data, to path: String) throws {
        let target = try destination(path)
        let tmp = temporaryPath(for: target)
        TemporaryFiles.register(tmp)
        do {
            try data.write(to: URL(fileURLWithPath: tmp))
        } catch {
            unlink(tmp); TemporaryFiles.unregister(tmp)
            throw MHFormerError("\(path): cannot write (\(error.localizedDescription))")
        }
        try moveIntoPlace(tmp, as: target, reportingAs: path)
    }

    /// The file an output at `path` will be: the path itself, or the file a symlink there points to.
    /// Throws when its folder is missing or an existing target may not be written by this user.
    public static func destination(_ path: String) throws -> String {
        var target = path
        var linkInfo = stat()
        if lstat(path, &linkInfo) == 0, (linkInfo.st_mode & S_IFMT) == S_IFLNK {
            guard let resolved = realpath(path, nil) else {
                throw MHFormerError("\(path): a symbolic link to a missing folder; refusing to replace the link")
            }
            defer { free(resolved) }
            target = String(cString: resolved)
        }
        let dir = (target as NSString).deletingLastPathComponent
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir.isEmpty ? "." : dir, isDirectory: &isDir), isDir.boolValue else {
            throw MHFormerError("\(path): the folder \(dir) does not exist")
        }
        if FileManager.default.fileExists(atPath: target), access(target, W_OK) != 0 {
            throw MHFormerError("\(path): exists and is read-only; refusing to replace it")
        }
        return target
    }

    /// A temporary name beside `target`, in the same folder (so the rename is atomic), ending in the
    /// target's own name (so writers that pick a format from the extension still see it).
    public static func temporaryPath(for target: String, tag: String = "tmp") -> String {
        let url = URL(fileURLWithPath: target)
        return url.deletingLastPathComponent()
            .appendingPathComponent(".\(tag)-\(getpid())-\(url.lastPathComponent)").path
    }

    /// Renames a finished temporary file onto `target`, giving it the permission bits of the file it
    /// replaces (new files keep the umask's). Removes the temporary file on failure.
    public static func moveIntoPlace(_ tmp: String, as target: String, reportingAs path: String) throws {
        var old = stat()
        if stat(target, &old) == 0 { chmod(tmp, old.st_mode & 0o7777) }
        if rename(tmp, target) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(tmp); TemporaryFiles.unregister(tmp)
            throw MHFormerError("\(path): cannot write (\(reason))")
        }
        TemporaryFiles.unregister(tmp)
    }
}

/// The outputs of one job appear together or not at all: each is written to a staged file beside
/// its target, and `commit` renames them all once every one is complete. Until then an interrupt
/// or an error removes the staged files (TemporaryFiles) and leaves the targets as they were.
public final class OutputBatch {
    private var staged: [(path: String, target: String, temporary: String)] = []
    private var committed = false

    public init() { TemporaryFiles.clearCompleted() }

    /// The path to write the output for `path` to. Checks the target first (folder, read-only).
    public func stage(_ path: String) throws -> String {
        let target = try AtomicFile.destination(path)
        let temporary = AtomicFile.temporaryPath(for: target, tag: "partial")
        TemporaryFiles.register(temporary)
        staged.append((path, target, temporary))
        return temporary
    }

    /// Stages `path` and runs `write` with the staged path; errors name `path`, not the staged file.
    public func write(_ path: String, _ write: (String) throws -> Void) throws {
        let staged = try stage(path)
        do { try write(staged) } catch let error as MHFormerError {
            throw MHFormerError(error.message.replacingOccurrences(of: staged, with: path))
        }
    }

    /// The paths staged so far, as given, and how many.
    public var stagedPaths: [String] { staged.map(\.path) }
    public var stagedCount: Int { staged.count }

    /// Moves every staged file into place, in the order staged; returns the paths as given.
    public func commit() throws -> [String] {
        for s in staged {
            try AtomicFile.moveIntoPlace(s.temporary, as: s.target, reportingAs: s.path)
            TemporaryFiles.markCompleted(s.path)
        }
        committed = true
        return staged.map(\.path)
    }

    /// Drops the staged outputs for `paths` (as given to `stage`): their staged files are removed
    /// and `commit` will not write them (a person `--people N` no longer keeps).
    public func discard(paths: [String]) {
        let dropped = Set(paths)
        for s in staged where dropped.contains(s.path) {
            unlink(s.temporary)
            TemporaryFiles.unregister(s.temporary)
        }
        staged.removeAll { dropped.contains($0.path) }
    }

    /// Removes staged files not committed (an error happened): called on deinit too.
    public func discard() {
        for s in staged where !committed {
            unlink(s.temporary)
            TemporaryFiles.unregister(s.temporary)
        }
        staged.removeAll()
    }

    deinit { if !committed { discard() } }
}
