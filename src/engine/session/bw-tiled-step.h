/* bw-tiled-step.h: the gradient of the losses for an image too large to run through the
 * network whole, computed in spatial tiles with recomputation (issue 16).
 *
 * The image is cut into tiles of @tile x @tile pixels (a multiple of 16, so that VGG19's four
 * 2x2 max-pools see the same windows as on the whole image); each tile runs through the
 * network as a crop with a halo as wide as the receptive field of the deepest layer needs
 * (starting at a multiple of 64 px, so that the Winograd path's 4x4 tiles line up at every
 * level), and its features are used only in the tile's own region, where they equal the
 * whole image's exactly: the same sums in the same order. Two passes per step:
 *   1. every tile forward: the Gram matrices are sums over pixels, so the tiles' Grams of
 *      their own regions add up to the whole image's;
 *   2. every tile forward again (the last tile of pass 1 goes first and has its features
 *      still; others have theirs copied back where the budget let pass 1 keep them) and
 *      backward, with dL/dG now known: the gradients are seeded in the tile's own region
 *      only, and the tile's input gradient (halo included) is added into the image's.
 * The result equals the untiled step's up to the order of summation. The content targets are
 * the tiled step's, per tile; total variation stays with the caller.
 */
#pragma once

#include "losses/bw-losses.h"

G_BEGIN_DECLS

#define BW_TYPE_TILED_STEP (bw_tiled_step_get_type ())
G_DECLARE_FINAL_TYPE (BwTiledStep, bw_tiled_step, BW, TILED_STEP, GObject)

/* The halo in pixels that the tiles of a run up to conv @last need: the reach of its
 * receptive field (70 px for relu5_1). Crops start at multiples of 64 px, so they may have
 * more. */
int          bw_tiled_step_halo          (int          last);
/* The largest crop of a tiling of @height x @width in tiles of @tile_height x @tile_width
 * px, and the pixels of all crops together (what a step computes); either may be NULL. */
void         bw_tiled_step_crop_size     (int          last,
                                          int          height,
                                          int          width,
                                          int          tile_height,
                                          int          tile_width,
                                          int         *crop_height,
                                          int         *crop_width,
                                          guint64     *crop_pixels);

/* For an image of @height x @width whose losses' targets are set; allocates the network's
 * activations for the largest crop (releasing the whole image's) and the step's own
 * buffers. Tiles are @tile_height x @tile_width px, each rounded up to a multiple of 16. The
 * first @kept_tiles tiles keep their features from pass 1 for pass 2 instead of running
 * forward again (bw_tiled_step_kept_bytes() each; the last tile never needs to). */
BwTiledStep *bw_tiled_step_new           (BwVgg19     *vgg,
                                          BwLosses    *losses,
                                          int          height,
                                          int          width,
                                          int          tile_height,
                                          int          tile_width,
                                          int          kept_tiles,
                                          GError     **error);
/* The bytes one tile's kept features take, for a crop of @crop_height x @crop_width and a run
 * up to conv @last. */
guint64      bw_tiled_step_kept_bytes    (int          last,
                                          int          crop_height,
                                          int          crop_width);
int          bw_tiled_step_get_n_tiles   (BwTiledStep *self);

/* Computes the content targets for the content image @content (normalised, h x w), kept per
 * tile. Submits and waits. */
gboolean     bw_tiled_step_set_content   (BwTiledStep *self,
                                          BwTensor    *content,
                                          GError     **error);
/* As bw_losses_add_style_target(), in tiles of @tile_height x @tile_width px: the painting's
 * Gram matrices are the sums of its tiles'. Submits and waits. */
gboolean     bw_tiled_step_add_style     (BwVgg19     *vgg,
                                          BwLosses    *losses,
                                          BwTensor    *style,
                                          double      blend,
                                          int          tile_height,
                                          int          tile_width,
                                          GError     **error);

/* Records both passes for the normalised image @x: @grad (3 x h x w) gets dLoss/dx of the
 * content and style losses. */
gboolean     bw_tiled_step_record        (BwTiledStep *self,
                                          BwTensor    *x,
                                          BwTensor    *grad,
                                          GError     **error);
/* After the recorded work has been submitted: content, style and their total. */
gboolean     bw_tiled_step_read_values   (BwTiledStep  *self,
                                          BwLossValues *values,
                                          GError      **error);

G_END_DECLS
