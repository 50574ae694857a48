/* bw-step-plan.h: how a step at a given size stays within a memory budget (issue 16).
 *
 * The planner counts what a pass allocates on the device: the network's weights, the
 * image-sized tensors of the session and of the optimiser (L-BFGS keeps two image-sized vectors
 * per pair of its history), the targets, and the activations of the network, either for the
 * whole image or for one tile's crop (bw-tiled-step.h). It takes the whole image when that fits,
 * else the tiling that fits with the least work (tiles of any two of its sizes, or strips of
 * the whole width or height), and bounds the L-BFGS history by what is left; with tiles, what
 * is left after that keeps tiles' features between the step's two passes.
 */
#pragma once

#include "session/bw-session.h"

G_BEGIN_DECLS

typedef struct {
  int tile_height;        /* 0 x 0: the whole image at once; else tiles of this many */
  int tile_width;         /* pixels, the last of a row or column cut at the image's edge */
  int n_tiles;
  int kept_tiles;         /* tiles whose features pass 1 keeps for pass 2 (bw-tiled-step.h) */
  int lbfgs_history;      /* the pairs L-BFGS keeps (params.lbfgs_history, or fewer) */
  guint64 budget;
  guint64 bytes;          /* the plan's own count, the sum of: */
  guint64 weights;
  guint64 activations;    /* the network's, for the image or one crop, and the losses' */
  guint64 images;         /* the session's image-sized tensors and the content targets */
  guint64 optimiser;
} BwStepPlan;

/* "2G", "768M", "1.5G", "4096K", or plain bytes; FALSE for anything else or zero. */
gboolean bw_step_plan_parse_size      (const char *text,
                                       guint64    *bytes);

/* The budget: BRUSHWORK_MAX_MEMORY when set (a value it cannot read is an error), else a
 * safe part of the device's memory: three quarters of its device-local heap, or for a CPU
 * device of the machine's available memory and what the device holds already. */
gboolean bw_step_plan_get_budget      (BwDevice   *device,
                                       guint64    *budget,
                                       GError    **error);

/* Plans a step of @params at @height x @width whose largest painting is @style_height x
 * @style_width, within @budget bytes. BRUSHWORK_TILE=PIXELS or WIDTHxHEIGHT forces tiles of
 * that size, BRUSHWORK_TILE_RECOMPUTE=1 keeps no features (tests).
 * FALSE with @error naming the smallest budget that would do when nothing fits. */
gboolean bw_step_plan_make            (BwVgg19         *vgg,
                                       const BwParams  *params,
                                       int              height,
                                       int              width,
                                       int              style_height,
                                       int              style_width,
                                       guint64          budget,
                                       BwStepPlan      *plan,
                                       GError         **error);

/* The plan of @session's pass now (after bw_session_start()). */
const BwStepPlan *bw_session_get_plan (BwSession *session);

/* One line for people: "whole image, 812 MB of 2048 MB" or "12 tiles of 512×512 px, ...". */
char    *bw_step_plan_describe        (const BwStepPlan *plan);

G_END_DECLS
