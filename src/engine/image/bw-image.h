/* bw-image.h: an RGB image as planar floats in [0, 1], read and written through GdkPixbuf.
 *
 * Reading applies the EXIF orientation and flattens transparency onto white; writing goes to
 * a temporary file that is renamed into place, so a failed save never damages a file.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define BW_IMAGE_ERROR (bw_image_error_quark ())

typedef enum {
  BW_IMAGE_ERROR_NOT_FOUND,
  BW_IMAGE_ERROR_UNREADABLE,    /* not an image, or damaged */
  BW_IMAGE_ERROR_TOO_LARGE,
  BW_IMAGE_ERROR_FORMAT,        /* an output format we do not write */
  BW_IMAGE_ERROR_WRITE,
} BwImageError;

GQuark bw_image_error_quark (void);

/* Images above this many pixels are refused before they are decoded. */
#define BW_IMAGE_MAX_PIXELS (250 * 1000 * 1000)

#define BW_TYPE_IMAGE (bw_image_get_type ())
G_DECLARE_FINAL_TYPE (BwImage, bw_image, BW, IMAGE, GObject)

/* Takes @data: 3 planes of @width x @height floats. */
BwImage     *bw_image_new_take   (int           width,
                                  int           height,
                                  float        *data);
/* Loads @path scaled so that its longer side is @longest_side pixels (0: as it is). */
BwImage     *bw_image_load       (const char   *path,
                                  int           longest_side,
                                  GError      **error);
/* Writes PNG or JPEG, chosen by @path's extension; @jpeg_quality 1-100. */
gboolean     bw_image_save       (BwImage      *self,
                                  const char   *path,
                                  int           jpeg_quality,
                                  GError      **error);
/* A resampled copy of @width x @height (@self itself, with a new reference, at its size). */
BwImage     *bw_image_scale      (BwImage      *self,
                                  int           width,
                                  int           height);
/* Keeps the luminance of @self and takes the colour of @colors (same size), in YIQ, as
 * jcjohnson/neural-style's -original_colors does; the result is clamped to [0, 1]. */
BwImage     *bw_image_transfer_luminance (BwImage *self,
                                          BwImage *colors);

int          bw_image_get_width  (BwImage      *self);
int          bw_image_get_height (BwImage      *self);
const float *bw_image_get_data   (BwImage      *self);
/* 8-bit RGB, rows of width * 3 bytes, for previews and writers. */
GBytes      *bw_image_to_rgb8    (BwImage      *self);

G_END_DECLS
