// Reads the frames of a video file with FFmpeg (libavformat demuxes, libavcodec decodes,
// libswscale converts to RGB): any container and codec this FFmpeg build supports, one frame at a
// time, so memory stays bounded whatever the video's length.
//
//     let reader = try VideoReader(path: "clip.mp4")
//     print(reader.info.width, reader.info.height, reader.info.rotation)
//     let summary = try reader.forEachFrame { frame in
//         use(frame.pixels, frame.time)
//         return true                      // false stops early
//     }
//     if let damage = summary.damage { print("warning: \(damage)") }

import CFFmpeg
import Foundation

/// A video file opened for decoding. Each `forEachFrame` call is one pass from the first frame;
/// calls may come from any thread (each pass owns its own FFmpeg objects).
public final class VideoReader: @unchecked Sendable {
    public let info: VideoInfo
    private let decoderThreads: Int
    private let fallbackFrameRate: Double
    // The demuxer/decoder opened by init to read `info`, kept for the first pass so the file is not
    // opened twice. Guarded by `lock`; later passes open the file again.
    private var openedSession: DecoderSession?
    private let lock = NSLock()

    /// Opens `path` and reads its stream parameters. `decoderThreads` = 0 lets FFmpeg choose.
    /// `fallbackFrameRate` spaces estimated and repaired timestamps when the stream has no usable
    /// frame rate of its own.
    /// Throws an `MHFormerError` naming the file when it is missing, empty, not a video FFmpeg can
    /// read, or has no video stream with a decoder.
    public init(path: String, decoderThreads: Int = 0, fallbackFrameRate: Double = 25) throws {
        FFmpegLog.quietOnce
        let session = try DecoderSession(path: path, threads: decoderThreads, fallbackFrameRate: fallbackFrameRate)
        info = session.info
        openedSession = session
        self.decoderThreads = decoderThreads
        self.fallbackFrameRate = fallbackFrameRate
    }

    /// Decodes every frame in presentation order and calls `body` with it (upright RGB24); `body`
    /// returns false to stop. Damaged data is skipped and counted in the returned summary (its
    /// `damage` says what was lost); timestamps that repeat or go back are repaired. Throws
    /// what `body` throws, or an `MHFormerError` when not a single frame could be decoded.
    @discardableResult
    public func forEachFrame(_ body: (VideoFrame) throws -> Bool) throws -> DecodeSummary {
        let session = try takeSession()
        let summary = try session.decodeAll(body)
        if summary.framesDecoded == 0 && !summary.stoppedEarly {
            throw MHFormerError("\(info.path): no video frame could be decoded (\(summary))")
        }
        return summary
    }

    /// `forEachFrame` with the decoding on a thread of its own, up to `depth` frames ahead of
    /// `body`: decoding the next frame overlaps the work on this one (the multi-person tracker
    /// keeps both cores busy this way). Same frames, same order, same summary.
    @discardableResult
    public func forEachFramePrefetched(depth: Int = 2, _ body: (VideoFrame) throws -> Bool) throws -> DecodeSummary {
        final class Channel: @unchecked Sendable {
            let condition = NSCondition()
            var frames: [VideoFrame] = []
            var stop = false, finished = false
            var summary: Result<DecodeSummary, Error>?
        }
        let channel = Channel()
        let reader = UnsafeSendable(self)
        let producer = Thread {
            let result = Result {
                try reader.value.forEachFrame { frame in
                    channel.condition.lock()
                    defer { channel.condition.unlock() }
                    while channel.frames.count >= depth && !channel.stop { channel.condition.wait() }
                    if channel.stop { return false }
                    channel.frames.append(frame)
                    channel.condition.broadcast()
                    return true
                }
            }
            channel.condition.lock()
            channel.summary = result
            channel.finished = true
            channel.condition.broadcast()
            channel.condition.unlock()
        }
        producer.start()
        var bodyError: Error?
        while true {
            channel.condition.lock()
            while channel.frames.isEmpty && !channel.finished { channel.condition.wait() }
            guard !channel.frames.isEmpty else { channel.condition.unlock(); break }
            let frame = channel.frames.removeFirst()
            channel.condition.broadcast()
            channel.condition.unlock()
            var more = false
            do { more = try body(frame) } catch { bodyError = error }
            if !more {
                channel.condition.lock(); channel.stop = true; channel.condition.broadcast(); channel.condition.unlock()
                break
            }
        }
        channel.condition.lock()
        while !channel.finished { channel.condition.wait() }
        channel.condition.unlock()
        if let bodyError { throw bodyError }
        return try channel.summary!.get()
    }

    private func takeSession() throws -> DecoderSession {
        lock.lock()
        let session = openedSession
        openedSession = nil
        lock.unlock()
        return try session ?? DecoderSession(path: info.path, threads: decoderThreads, fallbackFrameRate: fallbackFrameRate)
    }
}

/// The text FFmpeg gives for an error code, e.g. "Invalid data found when processing input".
func ffmpegErrorText(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: Int(AV_ERROR_MAX_STRING_SIZE) + 64)
    guard av_strerror(code, &buffer, buffer.count) == 0 else { return "FFmpeg error \(code)" }
    return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}
