/* bw-mask.c: see bw-mask.h. */
#include "bw-mask.h"

#include <math.h>
#include "bw-i18n.h"

gboolean
bw_mask_check (BwImage     *mask,
               const char  *name,
               int          width,
               int          height,
               GError     **error)
{
  double want = (double) width / height;
  double got = (double) bw_image_get_width (mask) / bw_image_get_height (mask);

  if (fabs (got - want) <= BW_MASK_MAX_ASPECT_ERROR * want)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               _("The mask “%s” is %d×%d pixels, a different shape from the %d×%d image it "
                 "covers. Use a mask with the image's aspect ratio, for example one painted "
                 "over a copy of it."),
               name, bw_image_get_width (mask), bw_image_get_height (mask), width, height);
  return FALSE;
}

BwImage *
bw_mask_load (const char  *path,
              int          width,
              int          height,
              GError     **error)
{
  g_autoptr(BwImage) mask = bw_image_load (path, 0, error);
  g_autofree char *display = g_filename_display_name (path);

  if (mask == NULL || !bw_mask_check (mask, display, width, height, error))
    return NULL;
  return g_steal_pointer (&mask);
}

float *
bw_mask_to_plane (BwImage *mask,
                  int      width,
                  int      height)
{
  g_autoptr(BwImage) scaled = bw_image_scale (mask, width, height);
  gsize plane = (gsize) width * height;
  const float *d = bw_image_get_data (scaled);
  float *out = g_new (float, plane);

  for (gsize i = 0; i < plane; i++)
    out[i] = CLAMP (0.299f * d[i] + 0.587f * d[plane + i] + 0.114f * d[2 * plane + i], 0.0f, 1.0f);
  return out;
}
