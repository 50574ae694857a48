/* bw-frame-recorder.h: the frames of a painting as it forms, kept small, for a timelapse
 * exported after the run (the app's Export Animation).
 *
 * Memory stays bounded however long the run: frames are stored as 8-bit RGB at a fixed size,
 * and once @max_frames are held every other one is dropped and only every other frame added
 * from then on is kept, so a long run still fills the recording evenly from start to end.
 * The last frame added is always kept. All functions may be called from any thread: the
 * worker adds frames while the main thread exports.
 */
#pragma once

#include "image/bw-image.h"

G_BEGIN_DECLS

#define BW_TYPE_FRAME_RECORDER (bw_frame_recorder_get_type ())
G_DECLARE_FINAL_TYPE (BwFrameRecorder, bw_frame_recorder, BW, FRAME_RECORDER, GObject)

/* Frames are stored at @width x @height (frames of another size, such as those of early
 * coarse-to-fine passes, are scaled to it). @max_frames below 2 counts as 2: the first frame
 * and the last. */
BwFrameRecorder *bw_frame_recorder_new          (int               width,
                                                 int               height,
                                                 guint             max_frames);
void             bw_frame_recorder_add          (BwFrameRecorder  *self,
                                                 BwImage          *frame);
/* Frames held now. */
guint            bw_frame_recorder_get_n_frames (BwFrameRecorder  *self);
int              bw_frame_recorder_get_width    (BwFrameRecorder  *self);
int              bw_frame_recorder_get_height   (BwFrameRecorder  *self);

/* Called after each frame written. */
typedef void (*BwFrameRecorderProgress) (guint    done,
                                         guint    total,
                                         gpointer user_data);

/* Writes a video of @seconds at @fps frames per second to @path (any format
 * bw_video_writer_check_format() accepts): the frames held when it starts, sampled evenly,
 * the first and the last included (one frame alone is the last). Frames added meanwhile are
 * not in it. The file is written under @path with ".part" appended and renamed at the end: when
 * @cancellable is cancelled, or writing fails, nothing new is left at @path (a file that was
 * there stays as it was), no ".part" either, and this fails (G_IO_ERROR_CANCELLED when
 * cancelled). Needs at least one frame. */
gboolean         bw_frame_recorder_export       (BwFrameRecorder          *self,
                                                 const char               *path,
                                                 int                       fps,
                                                 double                    seconds,
                                                 GCancellable             *cancellable,
                                                 BwFrameRecorderProgress   progress,
                                                 gpointer                  user_data,
                                                 GError                  **error);

G_END_DECLS
