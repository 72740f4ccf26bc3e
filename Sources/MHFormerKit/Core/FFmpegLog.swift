// FFmpeg's logging, set up once per process for every reader and writer (decoding, the overlay
// video, the PNG plot). FFmpeg logs every damaged macroblock (and libx264 its settings) to stderr by
// default; the tool reports damage in its summary and throws errors instead. The counting callback
// adds each decoder error to the counter of the decoding pass it belongs to
// (DecodeSummary.decoderErrors); MHFORMER_FFMPEG_LOG=1 keeps FFmpeg's own log.

import CFFmpeg
import Foundation

enum FFmpegLog {
    static let quietOnce: Void = {
        if ProcessInfo.processInfo.environment["MHFORMER_FFMPEG_LOG"] == nil {
            av_log_set_level(AV_LOG_FATAL)
        }
        cff_install_error_counting_log()
    }()
}
