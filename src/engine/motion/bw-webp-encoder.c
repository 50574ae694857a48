/* bw-webp-encoder.c: WebPAnimEncoder, one lossy frame at a time, looping forever. */
#include "bw-webp-encoder.h"

#include <webp/encode.h>
#include <webp/mux.h>

#include "motion/bw-motion-error.h"
#include "bw-i18n.h"

struct _BwWebpEncoder {
  WebPAnimEncoder *encoder;
  WebPConfig config;
  int width, height;
};

BwWebpEncoder *
bw_webp_encoder_new (int      width,
                     int      height,
                     GError **error)
{
  g_autoptr(BwWebpEncoder) self = g_new0 (BwWebpEncoder, 1);
  WebPAnimEncoderOptions options;

  self->width = width;
  self->height = height;
  if (!WebPAnimEncoderOptionsInit (&options) || !WebPConfigInit (&self->config))
    {
      g_set_error (error, BW_MOTION_ERROR, BW_MOTION_ERROR_MISSING_PLUGIN,
                   _("The WebP library does not match the one Brushwork was built with; "
                     "reinstall libwebp7 and libwebpmux3."));
      return NULL;
    }
  options.anim_params.loop_count = 0;   /* forever */
  self->config.quality = 90;
  self->encoder = WebPAnimEncoderNew (width, height, &options);
  if (self->encoder == NULL)
    {
      g_set_error (error, BW_MOTION_ERROR, BW_MOTION_ERROR_ENCODE,
                   _("Could not start a %d×%d WebP animation: WebP images are at most 16383 "
                     "pixels a side."), width, height);
      return NULL;
    }
  return g_steal_pointer (&self);
}

gboolean
bw_webp_encoder_add (BwWebpEncoder  *self,
                     const guint8   *rgb,
                     int             timestamp_ms,
                     GError        **error)
{
  WebPPicture picture;
  gboolean ok;

  if (!WebPPictureInit (&picture))
    {
      g_set_error (error, BW_MOTION_ERROR, BW_MOTION_ERROR_ENCODE,
                   _("The WebP library does not match the one Brushwork was built with; "
                     "reinstall libwebp7."));
      return FALSE;
    }
  picture.use_argb = 1;
  picture.width = self->width;
  picture.height = self->height;
  ok = WebPPictureImportRGB (&picture, rgb, self->width * 3) &&
       WebPAnimEncoderAdd (self->encoder, &picture, timestamp_ms, &self->config);
  WebPPictureFree (&picture);
  if (!ok)
    {
      g_set_error (error, BW_MOTION_ERROR, BW_MOTION_ERROR_ENCODE,
                   _("The WebP encoder failed on a frame: %s."),
                   WebPAnimEncoderGetError (self->encoder));
      return FALSE;
    }
  return TRUE;
}

GBytes *
bw_webp_encoder_finish (BwWebpEncoder  *self,
                        int             end_ms,
                        GError        **error)
{
  WebPData data;

  WebPDataInit (&data);
  /* a NULL frame marks the end: it gives the last frame its duration */
  if (!WebPAnimEncoderAdd (self->encoder, NULL, end_ms, NULL) ||
      !WebPAnimEncoderAssemble (self->encoder, &data))
    {
      g_set_error (error, BW_MOTION_ERROR, BW_MOTION_ERROR_ENCODE,
                   _("The WebP encoder could not assemble the animation: %s."),
                   WebPAnimEncoderGetError (self->encoder));
      WebPDataClear (&data);
      return NULL;
    }
  return g_bytes_new_with_free_func (data.bytes, data.size, WebPFree, (gpointer) data.bytes);
}

void
bw_webp_encoder_free (BwWebpEncoder *self)
{
  if (self->encoder)
    WebPAnimEncoderDelete (self->encoder);
  g_free (self);
}
