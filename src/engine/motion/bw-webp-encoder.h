/* bw-webp-encoder.h: frames in, an animated WebP out, through libwebpmux's WebPAnimEncoder.
 *
 * Built only when libwebp-dev is there (BW_HAVE_WEBP). libwebpmux assembles the file at the
 * end, so the frames are kept until then, compressed: memory grows by each frame's encoded
 * size (a few kB to tens of kB), not by its pixels.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _BwWebpEncoder BwWebpEncoder;

BwWebpEncoder *bw_webp_encoder_new    (int             width,
                                       int             height,
                                       GError        **error);
/* @rgb: @width x @height packed RGB, 8 bits a channel; @timestamp_ms: when it is shown. */
gboolean       bw_webp_encoder_add    (BwWebpEncoder  *self,
                                       const guint8   *rgb,
                                       int             timestamp_ms,
                                       GError        **error);
/* The whole file; @end_ms is when the last frame stops being shown. */
GBytes        *bw_webp_encoder_finish (BwWebpEncoder  *self,
                                       int             end_ms,
                                       GError        **error);
void           bw_webp_encoder_free   (BwWebpEncoder  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BwWebpEncoder, bw_webp_encoder_free)

G_END_DECLS
