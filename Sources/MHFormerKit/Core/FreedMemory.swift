// Giving freed heap memory back to the system. A multi-person run lifts each person while the 2D
// stage goes on: the lifter's batches (about 100 MB, freed after each person) come and go among the
// 2D stage's small long-lived allocations, and glibc's malloc keeps the freed pages (its heap
// cannot shrink past a live block, and a freed large block raises the size below which blocks come
// from the heap), so resident memory crept up person after person (347 MB to 409 MB over 5 minutes
// of video). malloc_trim returns every whole free page, wherever it is in the heap.

import Foundation

public enum FreedMemory {
    /// glibc's malloc_trim, looked up at run time (Swift's Glibc module does not declare it; other C
    /// libraries have none, and there is nothing to do).
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }   // RTLD_DEFAULT
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
    }()

    /// Returns the heap's free pages to the system. Takes a few milliseconds: call it after a large
    /// piece of work, not in a loop.
    public static func release() {
        _ = mallocTrim?(0)
    }
}
