/* bw-video-writer.h: frames in, a WebM (VP8) file out, through GStreamer.
 *
 * Frames are streamed to the encoder as they come, so memory stays bounded however long the
 * run; the file is written under a temporary name and renamed into place by
 * bw_video_writer_finish(), so an interrupted run never leaves a broken file where the
 * output should be.
 */
#pragma once

#include "image/bw-image.h"

G_BEGIN_DECLS

#define BW_TYPE_VIDEO_WRITER (bw_video_writer_get_type ())
G_DECLARE_FINAL_TYPE (BwVideoWriter, bw_video_writer, BW, VIDEO_WRITER, GObject)

/* @path must end in .webm. Frames are scaled to @width x @height (rounded down to even
 * numbers, as the encoder needs). @fps_n / @fps_d is the frame rate. */
BwVideoWriter *bw_video_writer_new      (const char     *path,
                                         int             width,
                                         int             height,
                                         int             fps_n,
                                         int             fps_d,
                                         GError        **error);
gboolean       bw_video_writer_add      (BwVideoWriter  *self,
                                         BwImage        *frame,
                                         GError        **error);
/* Ends the stream, waits for the encoder and renames the file into place. */
gboolean       bw_video_writer_finish   (BwVideoWriter  *self,
                                         GError        **error);
guint          bw_video_writer_get_n_frames (BwVideoWriter *self);

G_END_DECLS
