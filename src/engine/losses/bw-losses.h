/* bw-losses.h: content and style losses on VGG19 features, their values and gradients.
 *
 *   content = alpha * sum_l a_l * mean((F_l - P_l)^2)
 *   style   = beta  * sum_l w_l * mean((s_l G_l - A_l)^2) * d_l,   G_l = F_l F_l^T
 * With BW_GRAM_SEED (the seed's recipe) and BW_GRAM_MATCHED, s_l = 1 and d_l = 1 / (c h w);
 * with BW_GRAM_NORMALISED, s_l = 1 / (c h w) and d_l = 1. A_l is the blend of the style images'
 * (scaled) Gram matrices. With BW_GRAM_RELATIVE each term is relative to its target:
 *   content = alpha * sum_l a_l * ||F_l - P_l||^2 / ||P_l||^2
 *   style   = beta  * sum_l w_l * ||s_l G_l - A_l||^2 / ||A_l||^2,  s_l = 1 / (c h w)
 * (a guided style's term divides by its own target's norm), so that neither the features'
 * scale (the weights' input convention) nor the painting's size changes the weights' meaning.
 * The norms are taken once, when the targets are set.
 */
#pragma once

#include "vgg19/bw-vgg19.h"

G_BEGIN_DECLS

typedef enum {
  BW_GRAM_SEED,
  BW_GRAM_NORMALISED,
  /* the seed's, with each painting's Gram taken at the photo's pixel count: A_l is scaled by
   * (h w of the photo's feature) / (h w of the painting's), so that a painting's size or
   * shape does not change the style's strength (bw_losses_set_image_size() says the photo's) */
  BW_GRAM_MATCHED,
  /* normalised Grams, and each content and style term divided by its target's squared norm
   * (the formula above): a weight of 1 means the same with any network's feature scale */
  BW_GRAM_RELATIVE,
} BwGramMode;

typedef struct {
  double total;
  double content;
  double style;
} BwLossValues;

#define BW_TYPE_LOSSES (bw_losses_get_type ())
G_DECLARE_FINAL_TYPE (BwLosses, bw_losses, BW, LOSSES, GObject)

BwLosses *bw_losses_new                   (BwVgg19        *vgg,
                                           BwGramMode      mode);

/* Per-layer weights (a_l, w_l); 0 removes a layer. Changing weights between steps is fine;
 * adding or removing a layer needs new targets. */
void      bw_losses_set_content_layer     (BwLosses       *self,
                                           int             index,
                                           double          weight);
void      bw_losses_set_style_layer       (BwLosses       *self,
                                           int             index,
                                           double          weight);
void      bw_losses_set_weights           (BwLosses       *self,
                                           double          content_weight,
                                           double          style_weight);
/* The size of the image being optimised, for BW_GRAM_MATCHED; before adding style targets. */
void      bw_losses_set_image_size        (BwLosses       *self,
                                           int             height,
                                           int             width);
/* The deepest layer any loss reads, or -1. */
int       bw_losses_get_deepest_layer     (BwLosses       *self);

/* Run the network on the content image, and on each style image, and keep what the losses
 * compare against. These submit and wait. Style targets are blended by @blend (normalised
 * over all styles added). */
gboolean  bw_losses_set_content_target    (BwLosses       *self,
                                           BwTensor       *content,
                                           GError        **error);
gboolean  bw_losses_add_style_target      (BwLosses       *self,
                                           BwTensor       *style,
                                           double          blend,
                                           GError        **error);

/* Region masks (guided Gram matrices, Gatys et al. 2017): a style term of its own for
 * @style, instead of the blended target. @mask (h x w of bw_losses_set_image_size(), which
 * must come first) says where on the photo the style goes and @style_mask (the style's
 * h x w) which part of the painting it is taken from; NULL for either is a mask of ones.
 * Values in [0, 1]. At each max-pool a mask is halved by 2x2 average pooling (floor); at a
 * style layer, with features F (c x h x w) and mask m (h x w), the guided Gram is
 *   G = (F m)(F m)^T * (h w) / sum(m^2)
 * and A likewise from the painting; then the loss is the formula above with G and A, times the
 * style's @blend normalised over all guided styles. A photo mask that covers nothing at a
 * layer adds nothing there. Not to be mixed with bw_losses_add_style_target(); submits and
 * waits. */
gboolean  bw_losses_add_guided_style_target (BwLosses    *self,
                                             BwTensor    *style,
                                             const float *style_mask,
                                             const float *mask,
                                             double       blend,
                                             GError     **error);

/* Records, after a forward pass of the network at the content's size, the loss values and
 * the gradient of the total with respect to each feature. */
gboolean  bw_losses_record                (BwLosses       *self,
                                           GError        **error);
/* dLoss/d(feature i) for each conv i (NULL where no loss reads it), valid after record. */
BwTensor *const *bw_losses_get_feature_grads (BwLosses    *self);
/* After the recorded work has been submitted: the loss values. */
gboolean  bw_losses_read_values           (BwLosses       *self,
                                           BwLossValues   *values,
                                           GError        **error);

/* What a step computed outside bw_losses_record() (the tiled step, bw-tiled-step.c, one tile
 * at a time) needs of the losses on conv @index for an image of @height x @width. */
typedef struct {
  gboolean content;           /* a content loss reads the layer (its target is the caller's) */
  gboolean style;             /* a style loss reads the layer */
  double content_k;           /* dL/dF = content_k (F - P); the loss is content_k / 2 sum (F - P)^2 */
  BwBuffer *style_target;     /* A_l, or NULL before the first painting */
  double style_s;             /* s_l: the loss is style_kappa sum (s G - A)^2, G summed over all */
  double style_kappa;         /*   pixels, and dL/dF = S F with S = 4 style_kappa s (s G - A) */
} BwLossLayer;

/* BW_GRAM_RELATIVE: the squared norm of conv @index's content target, for a caller that keeps
 * the targets itself (the tiled step: the sum over its tiles' own regions); before
 * bw_losses_get_layer(). bw_losses_set_content_target() sets it itself. */
void      bw_losses_set_content_norm      (BwLosses       *self,
                                           int             index,
                                           double          norm);

/* Fills @layer for conv @index (nothing where no loss reads it). */
void      bw_losses_get_layer             (BwLosses       *self,
                                           int             index,
                                           int             height,
                                           int             width,
                                           BwLossLayer    *layer);

/* As bw_losses_add_style_target(), from the painting's Gram matrices computed elsewhere (in
 * tiles): @grams[i] holds G of conv i (where a style loss reads it) of a painting of @height x
 * @width. Records the blend; the caller submits (BW_GRAM_RELATIVE submits here, to take the
 * blended target's norm). */
gboolean  bw_losses_add_style_grams       (BwLosses       *self,
                                           BwBuffer *const *grams,
                                           int             height,
                                           int             width,
                                           double          blend,
                                           GError        **error);

G_END_DECLS
