/* bw-session.h: one stylisation: a content image, style images with blend weights, the
 * parameters, the current image, and step().
 *
 * The image being optimised is kept ImageNet-normalised on the device, as the seed's PyTorch
 * recipe optimises it; frames are converted back to [0, 1] only when asked for.
 */
#pragma once

#include "image/bw-image.h"
#include "losses/bw-losses.h"

G_BEGIN_DECLS

typedef enum {
  BW_OPTIMIZER_ADAM,
  BW_OPTIMIZER_LBFGS,
} BwOptimizer;

typedef enum {
  BW_INIT_CONTENT,
  BW_INIT_NOISE,
  BW_INIT_IMAGE,
} BwInit;

typedef struct {
  int size;                                   /* longest side of the output, px */
  int steps;
  double content_weight;                      /* alpha */
  double style_weight;                        /* beta */
  double tv_weight;                           /* total variation, on the normalised image;
                                               * with BW_GRAM_RELATIVE relative to the
                                               * photo's own */
  double content_layers[BW_VGG19_N_CONVS];    /* a_l; 0 = unused */
  double style_layers[BW_VGG19_N_CONVS];      /* w_l; 0 = unused */
  BwGramMode gram_mode;
  BwOptimizer optimizer;
  double lr;
  int lbfgs_history;
  BwInit init;
  guint64 seed;                               /* for noise */
  double style_scale;                         /* style images' size relative to the output */
  gboolean preserve_colors;                   /* luminance only: the photo's colours kept */
  gboolean transfer_histogram;                /* the paintings' colours moved to the photo's
                                                 before painting (bw-color-transfer.h) */
  int scales;                                 /* coarse-to-fine passes (1 = single scale,
                                                 0 = from the size: bw_session_get_passes()) */
  guint64 max_memory;                         /* bytes the step may take on the device (0:
                                                 BRUSHWORK_MAX_MEMORY, else from the device;
                                                 bw-step-plan.h) */
} BwParams;

/* Coarse to fine: each pass doubles the size of the last and starts from its result. */
#define BW_SESSION_MAX_PASSES 5

/* "seed" (the original recipe, exactly) or "default" (better results per second); FALSE for
 * an unknown name. */
gboolean bw_params_init_preset (BwParams   *params,
                                const char *preset);

#define BW_TYPE_SESSION (bw_session_get_type ())
G_DECLARE_FINAL_TYPE (BwSession, bw_session, BW, SESSION, GObject)

BwSession *bw_session_new              (BwVgg19        *vgg,
                                        const BwParams *params);

/* @content at the output size; styles at any size (scaled to size * style_scale). */
void       bw_session_set_content      (BwSession      *self,
                                        BwImage        *content);
void       bw_session_add_style        (BwSession      *self,
                                        BwImage        *style,
                                        double          blend);
/* Region masks for style @index (in the order added; bw-mask.h): @mask over the photo (any
 * size of its shape: scaled to each pass), @style_mask over the painting; NULL for none. Once
 * any style has a mask, each style is a term of its own (bw_losses_add_guided_style_target()),
 * a style without a mask covering the whole photo. Takes effect at the next start. */
void       bw_session_set_style_masks  (BwSession      *self,
                                        guint           index,
                                        BwImage        *mask,
                                        BwImage        *style_mask);
/* The starting image for BW_INIT_IMAGE (scaled to the content's size). */
void       bw_session_set_init_image   (BwSession      *self,
                                        BwImage        *image);

/* Computes the targets and the starting image of the first pass. Must precede the first
 * step. */
gboolean   bw_session_start            (BwSession      *self,
                                        GError        **error);
/* After bw_session_start() failed with BW_DEVICE_ERROR_OUT_OF_MEMORY: the largest size
 * (longest side, a multiple of 16) the device can paint these images at, for an app to
 * offer; 0 when none fits, or the start did not fail so. */
int        bw_session_get_largest_size (BwSession      *self);
/* After start: the number of passes, params.scales or, for 0, one below 256 px and one more
 * per doubling from 128 px (512 px: 128, 256, 512), each no smaller than the network needs.
 * params.steps are shared evenly, the remainder to the last; a pass that converges early
 * hands over to the next. Frames of early passes are smaller than the output. */
int        bw_session_get_passes       (BwSession      *self);
/* One optimisation step (which first moves to the next pass when this one is over: the
 * targets at the new size make that step slower); @values gets the losses of the image
 * before the step. With a reopen function (bw_session_set_reopen_func()), a step that loses
 * the device goes on, on a device opened anew, from the last finished step: ::device-lost
 * is emitted, and the step is done again there. The BW_SESSION_MAX_DEVICE_LOSSES-th loss
 * in one session ends the step with BW_DEVICE_ERROR_LOST; the image of the last finished
 * step can still be read (bw_session_get_image()). Likewise a step that runs out of device
 * memory is planned again within less (bw-step-plan.h: a quarter of what tiles and a
 * shorter L-BFGS history can save, for the rest of the run), ::replanned is emitted, and
 * the step is done again on the same device; when no smaller plan fits, or after
 * BW_SESSION_MAX_REPLANS, the step fails with BW_DEVICE_ERROR_OUT_OF_MEMORY, a sentence
 * that says so, and the image of the last finished step kept. */
gboolean   bw_session_step             (BwSession      *self,
                                        BwLossValues   *values,
                                        GError        **error);
/* The network on a device opened anew (a new reference), or NULL and @error. */
typedef BwVgg19 *(*BwSessionReopenFunc) (gpointer    user_data,
                                         GError    **error);

#define BW_SESSION_MAX_DEVICE_LOSSES 3
#define BW_SESSION_MAX_REPLANS 6

/* Lets steps go on after a lost device or out of memory (see bw_session_step()); set before
 * start. The
 * session then keeps a copy of its state on the host after every step (the image, and
 * Adam's moments: Adam goes on exactly; L-BFGS starts its history again from the best
 * image). */
void       bw_session_set_reopen_func  (BwSession           *self,
                                        BwSessionReopenFunc  func,
                                        gpointer             user_data,
                                        GDestroyNotify       destroy);
/* The devices lost so far in this session. */
int        bw_session_get_device_losses (BwSession     *self);

/* TRUE once L-BFGS has met its tolerances: further steps change nothing. */
gboolean   bw_session_is_converged     (BwSession      *self);
/* Runs until params.steps (or convergence), emitting ::step after each; stops early with
 * G_IO_ERROR_CANCELLED when @cancellable is cancelled between steps. */
gboolean   bw_session_run              (BwSession      *self,
                                        GCancellable   *cancellable,
                                        GError        **error);

int        bw_session_get_step         (BwSession      *self);
/* The time the steps up to params.steps will take, from the time the steps so far took per
 * pixel (a pass's step costs about 4x the last one's); -1 before the first step. A pass that
 * converges early makes it an overestimate. */
double     bw_session_get_seconds_left (BwSession      *self);
/* Changes params.steps between steps: the passes still to come share what is left, each at
 * least one step, so that a run still ends at the output size. Returns the count in effect. */
int        bw_session_set_steps        (BwSession      *self,
                                        int             steps);
/* Weights and the learning rate may change between steps without a restart. */
void       bw_session_set_weights      (BwSession      *self,
                                        double          content_weight,
                                        double          style_weight,
                                        double          tv_weight);
void       bw_session_set_lr           (BwSession      *self,
                                        double          lr);

/* The current image in [0, 1] (clamped, original colours restored if asked). */
BwImage   *bw_session_get_image        (BwSession      *self,
                                        GError        **error);
/* The same at the output size: an early coarse-to-fine pass's image scaled up, for what is
 * written to a file. */
BwImage   *bw_session_get_output_image (BwSession      *self,
                                        GError        **error);

G_END_DECLS
