// Turns decoded FFmpeg pictures (any pixel format) into upright packed RGB24 with libswscale,
// reusing its buffers from frame to frame.

import CFFmpeg

/// Converts frames to RGB24 and applies the display rotation. Owned by one decoding pass.
final class RGBConverter {
    private var sws: OpaquePointer?          // SwsContext is opaque in Swift
    private var swsKey: SourceFormat?
    /// RGB in stored orientation; only used when a rotation has to follow.
    private var scratch: [UInt8] = []
    /// swscale's output in padded rows, for widths that are not a multiple of 8 (see `scale`).
    private var padded: [UInt8] = []
    /// The upright RGB24 picture of the last converted frame (handed out as `VideoFrame.pixels`).
    private(set) var output: [UInt8] = []

    /// What the swscale context depends on: rebuild it only when one of these changes mid-stream.
    private struct SourceFormat: Equatable {
        let width: Int32, height: Int32, format: Int32, colorspace: UInt32, range: UInt32
    }

    deinit { sws_freeContext(sws) }

    /// Converts `frame` into `output`, turned `rotation` degrees clockwise.
    /// Returns the upright size, or nil when swscale cannot handle the frame's pixel format.
    func convert(_ frame: UnsafeMutablePointer<AVFrame>, rotation: Int) -> (width: Int, height: Int)? {
        let w = Int(frame.pointee.width), h = Int(frame.pointee.height)
        guard w > 0, h > 0, prepareScaler(for: frame) else { return nil }
        let swapped = rotation == 90 || rotation == 270
        let outW = swapped ? h : w, outH = swapped ? w : h
        resize(&output, to: w * h * 3)
        if rotation == 0 {
            guard scale(frame, into: &output) else { return nil }
        } else {
            resize(&scratch, to: w * h * 3)
            guard scale(frame, into: &scratch) else { return nil }
            rotate(scratch, width: w, height: h, clockwise: rotation, into: &output)
        }
        return (outW, outH)
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

    /// Runs swscale from the frame's planes into `buffer` (packed RGB24, no row padding).
    ///
    /// swscale's x86 YUV→RGB fast path (yuv420p, the commonest format) converts 8 pixels at a time and,
    /// when the output rows have no room for the width rounded up to 8, stops at the last whole group:
    /// on a 900-pixel-wide video the last 4 columns stay black. The ffmpeg command line never sees
    /// this, its frames have padded rows. So widths that are not a multiple of 8 are converted into
    /// padded rows (as wide as that fast path writes, 64-byte aligned like FFmpeg's own buffers),
    /// then packed.
    private func scale(_ frame: UnsafeMutablePointer<AVFrame>, into buffer: inout [UInt8]) -> Bool {
        let w = Int(frame.pointee.width), h = Int(frame.pointee.height)
        if w % 8 == 0 { return scale(frame, into: &buffer, rowBytes: w * 3) }
        let rowBytes = ((w + 7) / 8 * 8 * 3 + 63) / 64 * 64
        resize(&padded, to: rowBytes * h)
        guard scale(frame, into: &padded, rowBytes: rowBytes) else { return false }
        padded.withUnsafeBufferPointer { src in
            buffer.withUnsafeMutableBufferPointer { dst in
                for row in 0..<h {
                    (dst.baseAddress! + row * w * 3).update(from: src.baseAddress! + row * rowBytes, count: w * 3)
                }
            }
        }
        return true
    }

    /// swscale from the frame's planes into `buffer`, rows `rowBytes` apart.
    private func scale(_ frame: UnsafeMutablePointer<AVFrame>, into buffer: inout [UInt8], rowBytes: Int) -> Bool {
        let h = frame.pointee.height
        let rows = buffer.withUnsafeMutableBufferPointer { dst -> Int32 in
            let dstData: [UnsafeMutablePointer<UInt8>?] = [dst.baseAddress, nil, nil, nil]
            let dstStride: [Int32] = [Int32(rowBytes), 0, 0, 0]
            // AVFrame.data / .linesize are C arrays, imported as 8-tuples: view them as pointers.
            return withUnsafePointer(to: &frame.pointee.data) { data in
                data.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: Int(AV_NUM_DATA_POINTERS)) { src in
                    withUnsafePointer(to: &frame.pointee.linesize) { lines in
                        lines.withMemoryRebound(to: Int32.self, capacity: Int(AV_NUM_DATA_POINTERS)) { stride in
                            sws_scale(sws, src, stride, 0, h, dstData, dstStride)
                        }
                    }
                }
            }
        }
        return rows == h
    }

    /// Grows or shrinks a buffer without reallocating when the size is unchanged (the usual case).
    private func resize(_ buffer: inout [UInt8], to count: Int) {
        if buffer.count != count { buffer = [UInt8](repeating: 0, count: count) }
    }
}

/// Turns a packed RGB24 picture `clockwise` degrees (90, 180 or 270) into `output`
/// (same byte count; for 90 and 270 the output is `height` pixels wide and `width` tall).
func rotate(_ input: [UInt8], width: Int, height: Int, clockwise: Int, into output: inout [UInt8]) {
    let outWidth = clockwise == 180 ? width : height
    let outHeight = clockwise == 180 ? height : width
    input.withUnsafeBufferPointer { src in
        output.withUnsafeMutableBufferPointer { dst in
            for row in 0..<outHeight {
                // An output row is a straight line through the source: where it starts and how
                // many bytes apart its pixels lie there.
                let (start, step): (Int, Int)
                switch clockwise {
                case 90: (start, step) = (((height - 1) * width + row) * 3, -width * 3)   // a source column, bottom up
                case 270: (start, step) = ((width - 1 - row) * 3, width * 3)              // a source column, top down
                default: (start, step) = (((height - 1 - row) * width + width - 1) * 3, -3) // a source row, backwards
                }
                var s = start, d = row * outWidth * 3
                for _ in 0..<outWidth {
                    dst[d] = src[s]; dst[d + 1] = src[s + 1]; dst[d + 2] = src[s + 2]
                    s += step; d += 3
                }
            }
        }
    }
}
