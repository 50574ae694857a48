/* bw-mask.h: region masks: grey images that say where on the photo a style goes (white: this
 * style, black: not, grey between), or which part of a painting to take it from.
 *
 * A mask's value is its luminance, 0.299 R + 0.587 G + 0.114 B (ITU-R 601, as PIL's "L"), so
 * a grey PNG reads as it looks. Masks stay BwImages until they are needed at a size, so that
 * they are resized with the same filter as the photo.
 */
#pragma once

#include "image/bw-image.h"

G_BEGIN_DECLS

/* The largest difference of aspect ratio, relative, between a mask and the image it covers. */
#define BW_MASK_MAX_ASPECT_ERROR 0.01

/* Loads the mask in @path for an image of @width x @height: an error (G_IO_ERROR_INVALID_DATA
 * with a sentence) when its aspect ratio differs by more than BW_MASK_MAX_ASPECT_ERROR, or the
 * image loader's when it is not an image. The mask is returned as it is in the file. */
BwImage *bw_mask_load     (const char  *path,
                           int          width,
                           int          height,
                           GError     **error);
/* The same check for a mask already loaded. */
gboolean bw_mask_check    (BwImage     *mask,
                           const char  *name,
                           int          width,
                           int          height,
                           GError     **error);
/* The mask at @width x @height (scaled as bw_image_scale() does), one float per pixel. */
float   *bw_mask_to_plane (BwImage     *mask,
                           int          width,
                           int          height);

G_END_DECLS
