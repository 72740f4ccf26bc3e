// Hands values to worker threads that only read them, or that each worker touches a part of its
// own (the people tracker's tracks, the lifter's per-worker results, the video reader's frames).
// Used by the stages that run work on several threads; the caller vouches for the sharing.

struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
