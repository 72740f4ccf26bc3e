// PNG files from packed RGB24 pixels, encoded with FFmpeg's PNG encoder (the plot of 3D poses).

import CFFmpeg
import Foundation

public enum PNGWriter {
    /// Encodes packed RGB24 pixels as a PNG file (written atomically).
    public static func write(rgb: [UInt8], width: Int, height: Int, to path: String) throws {
        FFmpegLog.quietOnce                                           // errors are thrown, not logged
        guard let enc = avcodec_find_encoder(AV_CODEC_ID_PNG) else { throw MHFormerError("\(path): FFmpeg has no PNG encoder") }
        var ctx = avcodec_alloc_context3(enc)
        var frame = av_frame_alloc()
        var packet = av_packet_alloc()
        defer { avcodec_free_context(&ctx); av_frame_free(&frame); av_packet_free(&packet) }
        guard let ctx, let frame, let packet else { throw MHFormerError("\(path): out of memory") }
        ctx.pointee.width = Int32(width); ctx.pointee.height = Int32(height)
        ctx.pointee.pix_fmt = AV_PIX_FMT_RGB24
        ctx.pointee.time_base = AVRational(num: 1, den: 1)
        guard avcodec_open2(ctx, enc, nil) >= 0 else { throw MHFormerError("\(path): cannot open the PNG encoder") }
        frame.pointee.format = AV_PIX_FMT_RGB24.rawValue
        frame.pointee.width = Int32(width); frame.pointee.height = Int32(height)
        guard av_frame_get_buffer(frame, 0) >= 0 else { throw MHFormerError("\(path): out of memory") }
        let stride = Int(frame.pointee.linesize.0)
        for y in 0..<height {
            for x in 0..<(width * 3) { frame.pointee.data.0![y * stride + x] = rgb[y * width * 3 + x] }
        }
        frame.pointee.pts = 0
        guard avcodec_send_frame(ctx, frame) >= 0, avcodec_send_frame(ctx, nil) >= 0,
              avcodec_receive_packet(ctx, packet) >= 0 else { throw MHFormerError("\(path): PNG encoding failed") }
        let data = Data(bytes: packet.pointee.data, count: Int(packet.pointee.size))
        try AtomicFile.write(data, to: path)
    }
}
