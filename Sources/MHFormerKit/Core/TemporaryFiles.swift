// Every temporary file the tool creates while writing outputs is registered here, so that an
// interrupt (Ctrl-C, SIGTERM) can remove them before the process exits: no `.NAME.tmp-<pid>` is
// ever left behind. The registry is a fixed table of C strings because a signal handler may only
// call async-signal-safe functions (unlink, write, _exit): no Swift allocation, no locks there.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum TemporaryFiles {
    /// Slots for paths being written (temporary) and outputs already moved into place (completed).
    /// Many: a multi-person run stages each person's files when the person leaves and keeps them
    /// staged until the video ends (hundreds of people in a long video, several files each). An
    /// empty slot costs 8 bytes.
    static let capacity = 16384
    nonisolated(unsafe) static let temporary = makeTable()
    nonisolated(unsafe) static let completed = makeTable()
    static let lock = NSLock()

    private static func makeTable() -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> {
        let table = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: capacity)
        table.initialize(repeating: nil, count: capacity)
        return table
    }

    /// Child processes running part of the job (mhformer batch runs each video in one): an interrupt
    /// is passed on to them, and each removes its own temporary files.
    nonisolated(unsafe) static let children: UnsafeMutablePointer<pid_t> = {
        let table = UnsafeMutablePointer<pid_t>.allocate(capacity: capacity)
        table.initialize(repeating: 0, count: capacity)
        return table
    }()

    public static func registerChild(_ pid: pid_t) {
        lock.lock(); defer { lock.unlock() }
        for i in 0..<capacity where children[i] == 0 { children[i] = pid; return }
    }

    public static func unregisterChild(_ pid: pid_t) {
        lock.lock(); defer { lock.unlock() }
        for i in 0..<capacity where children[i] == pid { children[i] = 0; return }
    }

    /// Remembers a temporary file, to be removed if the process is interrupted.
    public static func register(_ path: String) { add(path, to: temporary) }

    /// Forgets a temporary file (renamed into place or removed).
    public static func unregister(_ path: String) { remove(path, from: temporary) }

    /// Records an output moved into place, for the interrupt message. `clearCompleted` starts a new job.
    public static func markCompleted(_ path: String) { add(path, to: completed) }
    public static func clearCompleted() {
        lock.lock(); defer { lock.unlock() }
        for i in 0..<capacity { free(completed[i]); completed[i] = nil }
    }

    private static func add(_ path: String, to table: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) {
        lock.lock(); defer { lock.unlock() }
        for i in 0..<capacity where table[i] == nil {
            table[i] = strdup(path)
            return
        }
        // More than `capacity` files in flight: the extra ones are not cleaned up on an interrupt, which
        // is the worst case; nothing else breaks.
    }

    private static func remove(_ path: String, from table: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) {
        lock.lock(); defer { lock.unlock() }
        for i in 0..<capacity {
            if let p = table[i], strcmp(p, path) == 0 { free(p); table[i] = nil; return }
        }
    }

    /// Installs handlers for SIGINT and SIGTERM that remove the registered temporary files, print
    /// one line saying which outputs were completed, and exit with 128 + the signal number (130 for
    /// Ctrl-C, as shells expect).
    public static func installInterruptHandlers() {
        signal(SIGINT, onInterrupt)
        signal(SIGTERM, onInterrupt)
        // A parent may start us with the signals blocked (Foundation's Process does when the
        // launching thread blocks them): unblock, or the handler never runs and the run goes on.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }
}

/// The signal handler: async-signal-safe calls only.
private func onInterrupt(_ signalNumber: Int32) {
    for i in 0..<TemporaryFiles.capacity where TemporaryFiles.children[i] > 0 { kill(TemporaryFiles.children[i], signalNumber) }
    for i in 0..<TemporaryFiles.capacity {
        if let p = TemporaryFiles.temporary[i] { unlink(p) }
    }
    func say(_ text: StaticString) { _ = write(2, text.utf8Start, text.utf8CodeUnitCount) }
    var anyCompleted = false
    for i in 0..<TemporaryFiles.capacity where TemporaryFiles.completed[i] != nil { anyCompleted = true }
    if anyCompleted {
        say("\nerror: interrupted; temporary files removed; outputs completed:")
        for i in 0..<TemporaryFiles.capacity {
            if let p = TemporaryFiles.completed[i] { say(" "); _ = write(2, p, strlen(p)) }
        }
        say("\n")
    } else {
        say("\nerror: interrupted; no output written (temporary files removed)\n")
    }
    _exit(128 + signalNumber)
}
