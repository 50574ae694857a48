/* bw-video-writer.h: frames in, a video file out: WebM (VP8, optionally with the sound of
 * another file as Opus) through GStreamer, animated WebP through libwebpmux, or GIF through
 * GStreamer's gifenc.
 *
 * WebM and GIF frames are streamed to the encoder as they come, so memory stays bounded
 * however long the run; WebP keeps the compressed frames until the end (libwebpmux assembles
 * the file then). The file is written under a temporary name and renamed into place by
 * bw_video_writer_finish(), so an interrupted run never leaves a broken file where the
 * output should be (bw_video_writer_dup_partial_path() names it).
 */
#pragma once

#include "image/bw-image.h"

G_BEGIN_DECLS

#define BW_TYPE_VIDEO_WRITER (bw_video_writer_get_type ())
G_DECLARE_FINAL_TYPE (BwVideoWriter, bw_video_writer, BW, VIDEO_WRITER, GObject)

/* TRUE when @path names a format this machine can write: .webm always (with
 * gstreamer1.0-plugins-good), .webp when Brushwork was built with libwebp-dev, .gif when
 * GStreamer's gifenc (gst-plugins-rs) is installed. Otherwise @error says what would help:
 * BW_MOTION_ERROR_FORMAT for an unknown extension, BW_MOTION_ERROR_MISSING_PLUGIN for a
 * missing encoder. */
gboolean       bw_video_writer_check_format (const char     *path,
                                             GError        **error);

/* The temporary name @path is written under until bw_video_writer_finish(). */
char          *bw_video_writer_dup_partial_path (const char *path);

/* Frames are scaled to @width x @height (rounded down to even numbers, as the encoders need).
 * @fps_n / @fps_d is the frame rate; 0/1 for a variable one, whose frames then come with
 * their times (bw_video_writer_add_timed()). */
BwVideoWriter *bw_video_writer_new      (const char     *path,
                                         int             width,
                                         int             height,
                                         int             fps_n,
                                         int             fps_d,
                                         GError        **error);
/* As bw_video_writer_new() for a .webm, with the sound of @audio_from (decoded a second
 * time, as the frames are written, and re-encoded as Opus), cut where the video ends. For a
 * file whose sound GStreamer decodes (bw_video_reader_has_audio()); if none comes out after
 * all, the output has none. When the Opus encoder is missing this fails with
 * BW_MOTION_ERROR_AUDIO, and bw_video_writer_new() can write the video without sound. */
BwVideoWriter *bw_video_writer_new_with_audio (const char  *path,
                                               int          width,
                                               int          height,
                                               int          fps_n,
                                               int          fps_d,
                                               const char  *audio_from,
                                               GError     **error);
/* The next frame at the writer's rate. */
gboolean       bw_video_writer_add      (BwVideoWriter  *self,
                                         BwImage        *frame,
                                         GError        **error);
/* A frame shown from @start for @duration (nanoseconds from the start of the video); the
 * starts must go up. For a source's frames, which keep their own times. */
gboolean       bw_video_writer_add_timed (BwVideoWriter *self,
                                          BwImage       *frame,
                                          gint64         start,
                                          gint64         duration,
                                          GError       **error);
/* Ends the stream, waits for the encoder and renames the file into place. */
gboolean       bw_video_writer_finish   (BwVideoWriter  *self,
                                         GError        **error);
guint          bw_video_writer_get_n_frames (BwVideoWriter *self);
/* TRUE when the output carries sound. */
gboolean       bw_video_writer_has_audio (BwVideoWriter *self);

G_END_DECLS
