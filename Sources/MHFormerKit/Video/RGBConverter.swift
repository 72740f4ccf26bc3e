// Turns decoded FFmpeg pictures (any pixel format) into upright packed RGB24 with libswscale,
// reusing its buffers from frame to frame.
//
// Where swscale writes. Its SIMD converters write whole vectors, not single pixels: the SSSE3
// YUV→RGB24 path (yuv420p, the commonest format) converts 16 pixels per step, so on a row whose width
// is 8 more than a multiple of 16 (1080, 1000, 360, 40, ...) it writes 24 bytes past the row's last
// pixel, and past the end of the picture on its last row. FFmpeg never notices, because its own frame
// buffers (av_frame_get_buffer, and the ffmpeg command line's filter pool) pad every row to an
// aligned stride and leave room after the last row. Converting into tightly packed rows of `width × 3`
// bytes overran the heap (glibc: "double free or corruption", exit 134). So swscale always writes
// into an RGB24 frame that FFmpeg itself allocates, and the rows are then copied (or turned) into the
// packed picture the pipeline reads.

import CFFmpeg

/// Converts frames to RGB24 and applies the display rotation. Owned by one decoding pass.
final class RGBConverter {
    private var sws: OpaquePointer?          // SwsContext is opaque in Swift
    private var swsKey: SourceFormat?
    /// swscale's destination: an RGB24 AVFrame with FFmpeg's padded, aligned rows (see above),
    /// reallocated only when the frame size changes.
    private var rgbFrame: UnsafeMutablePointer<AVFrame>?
    /// The upright RGB24 picture of the last converted frame (handed out as `VideoFrame.pixels`),
    /// `height` rows of `width × 3` bytes, no padding.
    private(set) var output: [UInt8] = []

    /// What the swscale context depends on: rebuild it only when one of these changes mid-stream.
    private struct SourceFormat: Equatable {
        let width: Int32, height: Int32, format: Int32, colorspace: UInt32, range: UInt32
    }

    deinit {
        sws_freeContext(sws)
        av_frame_free(&rgbFrame)
    }

    /// Converts `frame` into `output`, turned `rotation` degrees clockwise.
    /// Returns the upright size, or nil when swscale cannot handle the frame's pixel format (or
    /// memory for the RGB frame cannot be had).
    func convert(_ frame: UnsafeMutablePointer<AVFrame>, rotation: Int) -> (width: Int, height: Int)? {
        let w = Int(frame.pointee.width), h = Int(frame.pointee.height)
        guard w > 0, h > 0, prepareScaler(for: frame), let rgb = prepareRGBFrame(width: w, height: h),
              scale(frame, into: rgb) else { return nil }
        let swapped = rotation == 90 || rotation == 270
        if output.count != w * h * 3 { output = [UInt8](repeating: 0, count: w * h * 3) }
        let rows = UnsafePointer(rgb.pointee.data.0!), rowBytes = Int(rgb.pointee.linesize.0)
        output.withUnsafeMutableBufferPointer { dst in
            if rotation == 0 {
                for row in 0..<h {
                    (dst.baseAddress! + row * w * 3).update(from: rows + row * rowBytes, count: w * 3)
                }
            } else {
                rotate(rows, width: w, height: h, rowBytes: rowBytes, clockwise: rotation, into: dst)
            }
        }
        return swapped ? (h, w) : (w, h)
    }

    /// Creates (or keeps) the swscale context for this frame's size, pixel format and colours.
    private func prepareScaler(for frame: UnsafeMutablePointer<AVFrame>) -> Bool {
        let f = frame.pointee
        let key = SourceFormat(width: f.width, height: f.height, format: f.format,
                               colorspace: f.colorspace.rawValue, range: f.color_range.rawValue)
        if key == swsKey, sws != nil { return true }
        guard f.format >= 0 else { return false }
        // No resizing happens, but formats without a direct converter (10-bit HEVC from phones) go
        // through swscale's filters to upsample chroma: bicubic, the ffmpeg command line's default,
        // gives the same pixels as `ffmpeg -pix_fmt rgb24`.
        sws = sws_getCachedContext(sws, f.width, f.height, AVPixelFormat(rawValue: f.format),
                                   f.width, f.height, AV_PIX_FMT_RGB24, SWS_BICUBIC, nil, nil, nil)
        guard sws != nil else { swsKey = nil; return false }
        applyColorDetails(colorspace: f.colorspace, range: f.color_range)
        swsKey = key
        return true
    }

    /// The RGB24 destination frame for a `width` × `height` picture, allocated by FFmpeg
    /// (av_frame_get_buffer with the CPU's alignment: rows padded to an aligned stride, the height
    /// padded, room after the last row), kept while the size stays the same.
    private func prepareRGBFrame(width: Int, height: Int) -> UnsafeMutablePointer<AVFrame>? {
        if let rgb = rgbFrame, Int(rgb.pointee.width) == width, Int(rgb.pointee.height) == height { return rgb }
        av_frame_free(&rgbFrame)
        guard let rgb = av_frame_alloc() else { return nil }
        rgbFrame = rgb
        rgb.pointee.format = AV_PIX_FMT_RGB24.rawValue
        rgb.pointee.width = Int32(width)
        rgb.pointee.height = Int32(height)
        guard av_frame_get_buffer(rgb, 0) >= 0 else { av_frame_free(&rgbFrame); return nil }
        return rgb
    }

    /// swscale assumes BT.601 limited range unless told otherwise; phones record BT.709 and some
    /// full range. Use what the frame says, as the ffmpeg command line's scale filter does, so the
    /// colours match `ffmpeg -pix_fmt rgb24`.
    private func applyColorDetails(colorspace: AVColorSpace, range: AVColorRange) {
        var invTable: UnsafeMutablePointer<Int32>? = nil, table: UnsafeMutablePointer<Int32>? = nil
        var srcRange: Int32 = 0, dstRange: Int32 = 0
        var brightness: Int32 = 0, contrast: Int32 = 0, saturation: Int32 = 0
        // Fails for RGB sources, which have no YUV matrix: nothing to adjust then.
        guard sws_getColorspaceDetails(sws, &invTable, &srcRange, &table, &dstRange,
                                       &brightness, &contrast, &saturation) >= 0 else { return }
        // sws_getCoefficients maps an AVColorSpace value (unknown ones to BT.601) to its matrix.
        let sourceMatrix = sws_getCoefficients(Int32(colorspace.rawValue))
        if range != AVCOL_RANGE_UNSPECIFIED { srcRange = range == AVCOL_RANGE_JPEG ? 1 : 0 }
        _ = sws_setColorspaceDetails(sws, sourceMatrix, srcRange, table, dstRange,
                                     brightness, contrast, saturation)
    }

    /// swscale from the frame's planes into the rows of `rgb`. False when swscale did not convert
    /// the whole picture.
    private func scale(_ frame: UnsafeMutablePointer<AVFrame>, into rgb: UnsafeMutablePointer<AVFrame>) -> Bool {
        let h = frame.pointee.height
        // AVFrame.data / .linesize are C arrays, imported as 8-tuples: view them as pointers.
        let rows = withUnsafePointer(to: &frame.pointee.data) { data in
            data.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: Int(AV_NUM_DATA_POINTERS)) { src in
                withUnsafePointer(to: &frame.pointee.linesize) { lines in
                    lines.withMemoryRebound(to: Int32.self, capacity: Int(AV_NUM_DATA_POINTERS)) { stride in
                        withUnsafePointer(to: &rgb.pointee.data) { dstData in
                            dstData.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: Int(AV_NUM_DATA_POINTERS)) { dst in
                                withUnsafePointer(to: &rgb.pointee.linesize) { dstLines in
                                    dstLines.withMemoryRebound(to: Int32.self, capacity: Int(AV_NUM_DATA_POINTERS)) { dstStride in
                                        sws_scale(sws, src, stride, 0, h, dst, dstStride)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return rows == h
    }
}

/// Turns a packed RGB24 picture `clockwise` degrees (90, 180 or 270) into `output`
/// (same byte count; for 90 and 270 the output is `height` pixels wide and `width` tall).
func rotate(_ input: [UInt8], width: Int, height: Int, clockwise: Int, into output: inout [UInt8]) {
    input.withUnsafeBufferPointer { src in
        output.withUnsafeMutableBufferPointer { dst in
            rotate(src.baseAddress!, width: width, height: height, rowBytes: width * 3, clockwise: clockwise, into: dst)
        }
    }
}

/// Turns an RGB24 picture whose rows lie `rowBytes` apart `clockwise` degrees (90, 180 or 270) into
/// the packed picture `dst` (width × height × 3 bytes).
func rotate(_ src: UnsafePointer<UInt8>, width: Int, height: Int, rowBytes: Int, clockwise: Int,
            into dst: UnsafeMutableBufferPointer<UInt8>) {
    let outWidth = clockwise == 180 ? width : height
    let outHeight = clockwise == 180 ? height : width
    precondition(dst.count >= outWidth * outHeight * 3 && rowBytes >= width * 3)
    for row in 0..<outHeight {
        // An output row is a straight line through the source: where it starts and how many bytes
        // apart its pixels lie there.
        let (start, step): (Int, Int)
        switch clockwise {
        case 90: (start, step) = ((height - 1) * rowBytes + row * 3, -rowBytes)             // a source column, bottom up
        case 270: (start, step) = ((width - 1 - row) * 3, rowBytes)                          // a source column, top down
        default: (start, step) = ((height - 1 - row) * rowBytes + (width - 1) * 3, -3)        // a source row, backwards
        }
        var s = start, d = row * outWidth * 3
        for _ in 0..<outWidth {
            dst[d] = src[s]; dst[d + 1] = src[s + 1]; dst[d + 2] = src[s + 2]
            s += step; d += 3
        }
    }
}
