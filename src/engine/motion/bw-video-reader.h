/* bw-video-reader.h: the frames of a video file, one BwImage at a time, through GStreamer. */
#pragma once

#include "image/bw-image.h"

G_BEGIN_DECLS

#define BW_TYPE_VIDEO_READER (bw_video_reader_get_type ())
G_DECLARE_FINAL_TYPE (BwVideoReader, bw_video_reader, BW, VIDEO_READER, GObject)

/* TRUE when @path looks like a video rather than a still image. */
gboolean       bw_video_reader_is_video   (const char     *path);

/* Frames come upright (after the stream's rotation tag), in square pixels, scaled so that
 * their longer side is @longest_side (0: as they are), and all in the first frame's size: a
 * later frame of another shape is scaled into it whole, with black borders. */
BwVideoReader *bw_video_reader_new        (const char     *path,
                                           int             longest_side,
                                           GError        **error);
/* The next frame, or NULL at the end (with @error unset) or on failure (@error set). */
BwImage       *bw_video_reader_next       (BwVideoReader  *self,
                                           GError        **error);
/* Known once the first frame has been read: TRUE when the video has sound that GStreamer can
 * decode (bw_video_writer_new_with_audio() can carry it over); FALSE with @error set
 * (BW_MOTION_ERROR_AUDIO, saying what to install) when it has sound that cannot be decoded
 * here; FALSE alone when it has none. */
gboolean       bw_video_reader_has_audio  (BwVideoReader  *self,
                                           GError        **error);
/* The length in seconds, or -1 when the container does not say. Waits for the first frame
 * to be decoded. */
double         bw_video_reader_get_duration (BwVideoReader *self);
/* The next frame bw_video_reader_next() returns is the one shown at @seconds. */
gboolean       bw_video_reader_seek       (BwVideoReader  *self,
                                           double          seconds,
                                           GError        **error);
/* One frame, for a scrubber or a still preview: the one shown at @seconds (the last one
 * when @seconds is past the end); @duration (may be NULL) gets the video's length as
 * bw_video_reader_get_duration() gives it. */
BwImage       *bw_video_reader_get_frame_at (const char   *path,
                                             int           longest_side,
                                             double        seconds,
                                             double       *duration,
                                             GError      **error);
/* The frame rate, known once the first frame has been read; 0/1 when it varies (or the
 * file does not say): then only each frame's time (bw_video_reader_get_frame_time()) tells. */
void           bw_video_reader_get_rate   (BwVideoReader  *self,
                                           int            *fps_n,
                                           int            *fps_d);
/* Of the frame bw_video_reader_next() returned last: when it is shown, in nanoseconds from
 * the start of the video (or of the seek), and for how long: until the next frame starts,
 * else its own length, else a frame at the video's rate. A frame without a time follows the
 * one before. */
void           bw_video_reader_get_frame_time (BwVideoReader *self,
                                               gint64        *start,
                                               gint64        *duration);

G_END_DECLS
