/* bw-session-private.h: what bw-session.c and bw-session-recovery.c (going on after a lost
 * device) share: the session's state and the steps both take. */
#pragma once

#include "bw-session.h"
#include "optim/bw-adam.h"
#include "optim/bw-lbfgs.h"
#include "session/bw-step-plan.h"
#include "session/bw-tiled-step.h"

G_BEGIN_DECLS

typedef struct {
  BwImage *image;
  double blend;
  BwImage *mask;            /* region masks (bw_session_set_style_masks()), or NULL */
  BwImage *style_mask;
  BwImage *recoloured;      /* the image with the photo's colours (transfer_histogram) */
} Style;

struct _BwSession {
  GObject parent_instance;

  BwParams params;
  BwVgg19 *vgg;
  BwDevice *device;
  BwLosses *losses;
  BwTiledStep *tiled;       /* the step in tiles (bw-tiled-step.h), or NULL: whole */
  BwStepPlan plan;          /* this pass's (bw-step-plan.h) */
  BwImage *content;
  BwImage *init_image;
  GArray *styles;           /* Style */
  int largest_size;         /* after a start too large for the device: what fits, or 0 */

  /* coarse to fine: pass `pass` of `passes` runs at the content scaled to `pass_content`
   * until step pass_end() (or convergence), then starts the next from its result */
  int pass, passes;
  BwImage *pass_content;

  BwTensor *x;              /* the normalised image being optimised */
  /* the image with the lowest loss evaluated so far in this pass (L-BFGS overshoots at
   * restarts, and its last step is never evaluated), or with Adam the last one evaluated;
   * also what is kept when the numbers stop being finite */
  BwTensor *best;
  BwTensor *candidate;      /* Adam: this step's image until its loss is read */
  double best_loss;
  gboolean have_best;
  BwTensor *grad;
  BwTensor *staging;        /* x back in [0, 1] */
  BwAdam *adam;
  BwLbfgs *lbfgs;
  gboolean converged;
  BwBuffer *tv_partials;
  guint n_tv_partials;
  double tv_scale;          /* BW_GRAM_RELATIVE: 1 / tv(the pass's photo), else 1 */
  int step;
  gboolean started;
  /* for bw_session_get_seconds_left(): time spent in steps (pass changes included) and the
   * pixel-steps they did */
  double seconds_spent, pixel_steps_done;

  /* after a lost device (bw_session_set_reopen_func()): the last finished step, kept on the
   * host, since a lost device's memory cannot be read */
  BwSessionReopenFunc reopen;
  gpointer reopen_data;
  GDestroyNotify reopen_destroy;
  int device_losses;
  /* after the device ran out of memory: the budget every later plan of this run stays within
   * (0: none), and how often it was cut */
  guint64 memory_cap;
  int replans;
  struct {
    guint8 *x, *adam_m, *adam_v;   /* the tensors' buffers, as they are on the device */
    gsize size;
    guint adam_step;
    int width, height, pass, step;
  } saved;
};

/* bw-session.c */
void      _bw_session_clear_device_state (BwSession *self);
gboolean  _bw_session_start_pass      (BwSession  *self,
                                       int         pass,
                                       BwImage    *from,
                                       GError    **error);
gboolean  _bw_session_pass_fits       (BwSession  *self,
                                       int         pass,
                                       GError    **error);

/* bw-session-recovery.c: the last finished step kept on the host, and going on from it */
void      _bw_session_clear_saved     (BwSession  *self);
gboolean  _bw_session_save_step       (BwSession  *self,
                                       GError    **error);
BwImage  *_bw_session_saved_image     (BwSession  *self);
gboolean  _bw_session_go_on_after_loss (BwSession  *self,
                                        GError    **error);
gboolean  _bw_session_go_on_after_oom (BwSession  *self,
                                       GError    **error);

G_END_DECLS
