/* bw-worker.h: the thread that owns the engine.
 *
 * The main thread only sends messages (start, pause, resume, stop, new weights) and receives
 * frames and progress as signals on the main context; it never waits for the engine.
 */
#pragma once

#include <gtk/gtk.h>

#include "bw-autosave.h"
#include "bw-engine.h"
#include "motion/bw-frame-recorder.h"

G_BEGIN_DECLS

typedef enum {
  BW_WORKER_IDLE,
  BW_WORKER_PREPARING,   /* loading the weights and images, computing the targets */
  BW_WORKER_RUNNING,
  BW_WORKER_PAUSED,
} BwWorkerState;

#define BW_TYPE_WORKER_STATE (bw_worker_state_get_type ())
GType bw_worker_state_get_type (void);

#define BW_TYPE_WORKER (bw_worker_get_type ())
G_DECLARE_FINAL_TYPE (BwWorker, bw_worker, BW, WORKER, GObject)

BwWorker      *bw_worker_new              (void);

/* The weights file to load when the engine is first needed; a new path drops the engine. */
void           bw_worker_set_weights_path (BwWorker        *self,
                                           const char      *path);
/* Starts a stylisation, replacing the one under way. @content is a photo, or a video whose
 * frame at @position seconds is painted. @blends has one weight per style. Every step goes
 * into a new recording (BwWorker:recording) for Export Animation. */
void           bw_worker_start            (BwWorker        *self,
                                           const BwParams  *params,
                                           GFile           *content,
                                           double           position,
                                           GFile   *const  *styles,
                                           const double    *blends,
                                           guint            n_styles);
/* The same with a region mask over the photo for each style (@masks: @n_styles of them, each
 * a BwImage or NULL; the array NULL for none): see bw_session_set_style_masks(). */
void           bw_worker_start_with_masks (BwWorker        *self,
                                           const BwParams  *params,
                                           GFile           *content,
                                           double           position,
                                           GFile   *const  *styles,
                                           const double    *blends,
                                           BwImage *const  *masks,
                                           guint            n_styles);
/* Stylises every frame of the video @content into the WebM @output (see BwVideoJob; each
 * frame after the first takes @frame_steps steps, 0: params->steps): the
 * frames show as they are painted, BwWorker:frame counts them, stop ends the file with the
 * frames so far, pause and the weights work as for a photo. */
void           bw_worker_start_video      (BwWorker        *self,
                                           const BwParams  *params,
                                           GFile           *content,
                                           GFile           *output,
                                           int              frame_steps,
                                           GFile   *const  *styles,
                                           const double    *blends,
                                           guint            n_styles);
/* A photo's painting in progress is kept in its autosave (bw-autosave.h) after its first
 * step, every 30 s, and when it pauses, stops or ends; a clean shutdown removes it. */
/* Shows the painting kept by an earlier run, which becomes this worker's: the next start
 * with the same photo and paintings goes on from its image and step. */
void           bw_worker_restore          (BwWorker        *self,
                                           const BwAutosave *autosave);
/* The painting was saved: its autosave goes (until the painting changes again). */
void           bw_worker_forget_autosave  (BwWorker        *self);
void           bw_worker_pause            (BwWorker        *self);
void           bw_worker_resume           (BwWorker        *self);
/* Ends the run; the image so far stays the result. */
void           bw_worker_stop             (BwWorker        *self);
/* Applied at the next step, without a restart. */
void           bw_worker_set_weights      (BwWorker        *self,
                                           double           content_weight,
                                           double           style_weight,
                                           double           tv_weight);
void           bw_worker_set_n_steps      (BwWorker        *self,
                                           int              n_steps);
/* Stops any run, without waiting: the thread ends after the step under way, holding the
 * default application (and a reference on the worker) until then. The worker accepts
 * nothing afterwards. */
void           bw_worker_shutdown         (BwWorker        *self);
/* The workers' threads that have not ended yet, in the whole process. */
guint          bw_worker_get_n_running    (void);
/* Blocks until every worker's thread has ended: only once the main loop is over (the
 * application's shutdown), so that none runs on while the process exits. */
void           bw_worker_wait_all         (void);

BwWorkerState  bw_worker_get_state        (BwWorker        *self);
int            bw_worker_get_step         (BwWorker        *self);
int            bw_worker_get_n_steps      (BwWorker        *self);
double         bw_worker_get_loss         (BwWorker        *self);
/* The latest frame, or NULL before the first one. */
BwImage       *bw_worker_get_image        (BwWorker        *self);
GdkTexture    *bw_worker_get_texture      (BwWorker        *self);
const char    *bw_worker_get_device_name  (BwWorker        *self);
/* When the last failure was a size too large for the device (BW_DEVICE_ERROR_OUT_OF_MEMORY
 * before painting): the largest size the engine found it can paint; otherwise 0. */
int            bw_worker_get_largest_size (BwWorker        *self);
/* While a video is stylised: the frame under way (from 1), and the frames it has (0 when
 * unknown). */
int            bw_worker_get_frame        (BwWorker        *self);
int            bw_worker_get_n_frames     (BwWorker        *self);
/* The region mask of style @index the last start was given, or NULL. */
BwImage       *bw_worker_get_mask         (BwWorker        *self,
                                           guint            index);
/* The parameters of the last start (what the session was made with). */
void           bw_worker_get_params       (BwWorker        *self,
                                           BwParams        *params);
/* The timelapse of the last painting of a photo, or NULL before the first. */
BwFrameRecorder *bw_worker_get_recording  (BwWorker        *self);

G_END_DECLS
