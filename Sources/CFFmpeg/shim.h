#ifndef CFFMPEG_SHIM_H
#define CFFMPEG_SHIM_H
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libswscale/swscale.h>
#include <libavutil/avutil.h>
#include <libavutil/imgutils.h>
#include <libavutil/display.h>
#include <libavutil/error.h>
#include <libavutil/pixdesc.h>
#include <libavutil/opt.h>
#include <errno.h>

/* Function-like and compound-literal macros are not imported by Swift: re-export them. */
static inline int cff_averror(int posixErr) { return AVERROR(posixErr); }
static inline int cff_averror_eof(void) { return AVERROR_EOF; }
static inline int cff_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int64_t cff_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline AVRational cff_time_base_q(void) { return AV_TIME_BASE_Q; }
static inline int cff_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }
static inline int cff_averror_stream_not_found(void) { return AVERROR_STREAM_NOT_FOUND; }
static inline int cff_averror_decoder_not_found(void) { return AVERROR_DECODER_NOT_FOUND; }

/* Rotation of the stream's display matrix in degrees counter-clockwise (av_display_rotation_get),
   0 when the stream has none. The side data moved from the stream to codecpar in FFmpeg 6.1, so the
   version test lives here: Swift cannot test C macros. */
static inline double cff_stream_rotation(const AVStream *st) {
#if LIBAVCODEC_VERSION_INT >= AV_VERSION_INT(60, 30, 100)
    const AVPacketSideData *sd = av_packet_side_data_get(st->codecpar->coded_side_data,
                                   st->codecpar->nb_coded_side_data, AV_PKT_DATA_DISPLAYMATRIX);
    if (!sd || sd->size < 9 * 4) return 0.0;
    return av_display_rotation_get((const int32_t *)sd->data);
#else
    size_t size = 0;
    const uint8_t *m = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
    if (!m || size < 9 * 4) return 0.0;
    return av_display_rotation_get((const int32_t *)m);
#endif
}

/* Gives a stream a display matrix saying its pictures are shown turned `degrees` clockwise
   (av_display_rotation_set's convention; a phone's portrait clip: 90), as phones tag video they
   store sideways. 0 on success. Used by the video fuzz target to make rotated clips; the side data
   moved as for reading above. */
static inline int cff_stream_set_rotation(AVStream *st, double degrees) {
#if LIBAVCODEC_VERSION_INT >= AV_VERSION_INT(60, 30, 100)
    AVPacketSideData *sd = av_packet_side_data_new(&st->codecpar->coded_side_data, &st->codecpar->nb_coded_side_data,
                                                   AV_PKT_DATA_DISPLAYMATRIX, 9 * 4, 0);
    if (!sd) return AVERROR(ENOMEM);
    av_display_rotation_set((int32_t *)sd->data, degrees);
#else
    uint8_t *m = av_stream_new_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, 9 * 4);
    if (!m) return AVERROR(ENOMEM);
    av_display_rotation_set((int32_t *)m, degrees);
#endif
    return 0;
}

/* A frame's plane `plane` (0-3) and its line size: AVFrame.data and .linesize are C arrays, which
   Swift sees as tuples. NULL / 0 past the format's planes. */
static inline uint8_t *cff_frame_plane(const AVFrame *f, int plane) {
    return plane >= 0 && plane < 4 ? f->data[plane] : NULL;
}
static inline int cff_frame_linesize(const AVFrame *f, int plane) {
    return plane >= 0 && plane < 4 ? f->linesize[plane] : 0;
}

/* Rows in plane `plane` of a picture `height` rows tall: chroma planes (1 and 2) are subsampled. */
static inline int cff_plane_height(enum AVPixelFormat fmt, int height, int plane) {
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(fmt);
    if (!d) return 0;
    return (plane == 1 || plane == 2) ? AV_CEIL_RSHIFT(height, d->log2_chroma_h) : height;
}

/* A decoded frame's duration in stream time-base units (0 if unknown): AVFrame.duration replaced
   pkt_duration in FFmpeg 6.0. */
static inline int64_t cff_frame_duration(const AVFrame *f) {
#if LIBAVUTIL_VERSION_INT >= AV_VERSION_INT(58, 2, 100)
    return f->duration;
#else
    return f->pkt_duration;
#endif
}

/* Counting the errors a decoder logs. FFmpeg reports most damage (a broken slice, a concealed
   macroblock row, a missing reference) only as a log message, not as an error code, so a pass that
   wants to report "148 decoder errors" has to listen to the log. The log callback is global; each
   decoding pass points its AVCodecContext's `opaque` at its own counter (FFmpeg copies `opaque` into
   the contexts of its decoding threads), so parallel passes count separately. The magic number
   guards against other code's contexts that use `opaque` for something else. */
#define CFF_ERROR_COUNTER_MAGIC 0x6d68666f726d6572ULL   /* "mhformer" */
typedef struct {
    uint64_t magic;
    int errors;           /* updated from the decoder's threads: read with cff_error_counter_value */
} cff_error_counter;

static inline void cff_error_counter_init(cff_error_counter *counter) {
    counter->magic = CFF_ERROR_COUNTER_MAGIC;
    counter->errors = 0;
}

static inline int cff_error_counter_value(const cff_error_counter *counter) {
    return __atomic_load_n(&counter->errors, __ATOMIC_RELAXED);
}

static inline void cff_counting_log_callback(void *context, int level, const char *format, va_list args) {
    if (level <= AV_LOG_ERROR && context && *(const AVClass **)context == avcodec_get_class()) {
        cff_error_counter *counter = ((AVCodecContext *)context)->opaque;
        if (counter && counter->magic == CFF_ERROR_COUNTER_MAGIC) {
            __atomic_fetch_add(&counter->errors, 1, __ATOMIC_RELAXED);
        }
    }
    av_log_default_callback(context, level, format, args);   /* still printed when the log level allows */
}

/* Installs the counting callback for the whole process (once, before decoding). */
static inline void cff_install_error_counting_log(void) { av_log_set_callback(cff_counting_log_callback); }

#endif
