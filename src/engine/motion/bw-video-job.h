/* bw-video-job.h: a video as content: every frame stylised and written as WebM at the
 * source's own frame times (a variable rate stays variable), with the source's sound.
 *
 * Each frame starts from the previous result, so the painting stays still where the scene
 * does; such a frame paints in one pass at full size (coarse-to-fine passes are for the
 * first). The CLI and the app's worker both run this; it runs on the thread that owns the
 * engine and emits its signals there.
 */
#pragma once

#include "bw-engine.h"

G_BEGIN_DECLS

#define BW_TYPE_VIDEO_JOB (bw_video_job_get_type ())
G_DECLARE_FINAL_TYPE (BwVideoJob, bw_video_job, BW, VIDEO_JOB, GObject)

/* Opens @input and reads its first frame at once, so that a file that is not a video fails
 * before any slow work (such as loading the network). @output must be a .webm
 * (bw_video_writer_check_format()). Frames are scaled so that their longer side is
 * params->size. */
BwVideoJob *bw_video_job_new              (const BwParams  *params,
                                           const char      *input,
                                           const char      *output,
                                           GError         **error);
void        bw_video_job_add_style        (BwVideoJob      *self,
                                           BwImage         *style,
                                           double           blend);
/* Start every frame from its own photo instead of the previous result (flickers more; for
 * comparisons). */
void        bw_video_job_set_from_content (BwVideoJob      *self,
                                           gboolean         from_content);

/* Steps for each frame after the first, which starts from the previous result and so needs
 * fewer (0, the default: params->steps, as the first). */
void        bw_video_job_set_frame_steps  (BwVideoJob      *self,
                                           int              steps);
/* For the frame under way from its next step, and for the frames after it. */
void        bw_video_job_set_weights      (BwVideoJob      *self,
                                           double           content_weight,
                                           double           style_weight,
                                           double           tv_weight);

/* Stylises every frame, emitting ::step after each optimisation step and ::frame after each
 * frame is written. When @cancellable is cancelled, the frame under way is written as far as
 * it got, the stream is ended so that the file plays, and this returns FALSE with
 * G_IO_ERROR_CANCELLED. After an error (a frame that cannot be decoded, a failed step) the
 * frames written so far are kept the same way, and the error says so; only when the writer
 * itself failed, or no frame was written, is there no file. */
gboolean    bw_video_job_run              (BwVideoJob      *self,
                                           BwEngine        *engine,
                                           GCancellable    *cancellable,
                                           GError         **error);

/* For tests: the run fails as a frame that cannot be decoded would, once @n_frames frames
 * are written (-1, the default: never). */
void        bw_video_job_fail_after       (BwVideoJob      *self,
                                           int              n_frames);

/* Frames written so far. */
int         bw_video_job_get_n_frames     (BwVideoJob      *self);
/* The steps of the frame under way (of the next one between frames). */
int         bw_video_job_get_steps        (BwVideoJob      *self);
/* The frames the video has, from its length and rate (for a variable rate, and the mean
 * length of the frames read so far); -1 when the container does not say. */
int         bw_video_job_get_n_frames_expected (BwVideoJob *self);
/* From the time the frames so far took; -1 before the first step or when the length is
 * unknown. */
double      bw_video_job_get_seconds_left (BwVideoJob      *self);
/* Mean absolute difference of consecutive frames, input and output, over the frames so far;
 * FALSE before the second frame. */
gboolean    bw_video_job_get_flicker      (BwVideoJob      *self,
                                           double          *input,
                                           double          *output);
/* TRUE when the output carries the source's sound. */
gboolean    bw_video_job_has_audio        (BwVideoJob      *self);
/* Why the source's sound was left out although it has some, or NULL. */
const char *bw_video_job_get_warning      (BwVideoJob      *self);

G_END_DECLS
