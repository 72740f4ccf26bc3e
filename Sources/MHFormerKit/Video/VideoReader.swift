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
