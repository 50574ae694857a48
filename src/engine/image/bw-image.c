/* bw-image.c: see bw-image.h. */
#include "bw-image.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <math.h>
#include "bw-i18n.h"

G_DEFINE_QUARK (bw-image-error-quark, bw_image_error)

struct _BwImage {
  GObject parent_instance;

  int width, height;
  float *data;
};

G_DEFINE_FINAL_TYPE (BwImage, bw_image, G_TYPE_OBJECT)

static void
bw_image_finalize (GObject *object)
{
  g_free (BW_IMAGE (object)->data);
  G_OBJECT_CLASS (bw_image_parent_class)->finalize (object);
}

static void
bw_image_class_init (BwImageClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bw_image_finalize;
}

static void
bw_image_init (BwImage *self)
{
}

BwImage *
bw_image_new_take (int    width,
                   int    height,
                   float *data)
{
  BwImage *self = g_object_new (BW_TYPE_IMAGE, NULL);

  self->width = width;
  self->height = height;
  self->data = data;
  return self;
}

int bw_image_get_width (BwImage *self) { return self->width; }
int bw_image_get_height (BwImage *self) { return self->height; }
const float *bw_image_get_data (BwImage *self) { return self->data; }

/* libjpeg fills a truncated JPEG with grey and only warns; a JPEG ends with the EOI marker
 * (FF D9), possibly followed by a little padding, so look for it near the end. */
static gboolean
jpeg_is_complete (const char                *path,
                  GdkPixbufFormat           *format,
                  GError                   **error)
{
  g_autofree char *name = gdk_pixbuf_format_get_name (format);
  g_autoptr(GMappedFile) file = NULL;
  const guchar *data;
  gsize len;

  if (g_strcmp0 (name, "jpeg") != 0)
    return TRUE;
  file = g_mapped_file_new (path, FALSE, error);
  if (file == NULL)
    return FALSE;
  data = (const guchar *) g_mapped_file_get_contents (file);
  len = g_mapped_file_get_length (file);
  for (gsize i = len > 4096 ? len - 4096 : 0; i + 1 < len; i++)
    if (data[i] == 0xFF && data[i + 1] == 0xD9)
      return TRUE;
  g_set_error (error, BW_IMAGE_ERROR, BW_IMAGE_ERROR_UNREADABLE, _("the JPEG data ends too early"));
  return FALSE;
}

static BwImage *
from_pixbuf (GdkPixbuf *pixbuf)
{
  int w = gdk_pixbuf_get_width (pixbuf), h = gdk_pixbuf_get_height (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf), nc = gdk_pixbuf_get_n_channels (pixbuf);
  gboolean alpha = gdk_pixbuf_get_has_alpha (pixbuf);
  const guchar *pixels = gdk_pixbuf_read_pixels (pixbuf);
  gsize plane = (gsize) w * h;
  float *data = g_new (float, plane * 3);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        const guchar *p = pixels + (gsize) y * stride + (gsize) x * nc;
        float a = alpha ? p[3] / 255.0f : 1.0f;
        for (int c = 0; c < 3; c++)
          /* transparency over white, as a painting's canvas */
          data[c * plane + (gsize) y * w + x] = (nc >= 3 ? p[c] : p[0]) / 255.0f * a + (1.0f - a);
      }
  return bw_image_new_take (w, h, data);
}

BwImage *
bw_image_load (const char  *path,
               int          longest_side,
               GError     **error)
{
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GdkPixbuf) oriented = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *display = g_filename_display_name (path);
  GdkPixbufFormat *format;
  int w = 0, h = 0;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, BW_IMAGE_ERROR, BW_IMAGE_ERROR_NOT_FOUND,
                   _("“%s” does not exist. Check the file name."), display);
      return NULL;
    }
  /* Reads only the header: a hostile file declaring gigapixels is refused before decoding. */
  format = gdk_pixbuf_get_file_info (path, &w, &h);
  if (format == NULL || w <= 0 || h <= 0)
    {
      g_set_error (error, BW_IMAGE_ERROR, BW_IMAGE_ERROR_UNREADABLE,
                   _("“%s” is not an image Brushwork can read. Use a JPEG, PNG, WebP or TIFF file."),
                   display);
      return NULL;
    }
  if ((guint64) w * h > BW_IMAGE_MAX_PIXELS)
    {
      g_set_error (error, BW_IMAGE_ERROR, BW_IMAGE_ERROR_TOO_LARGE,
                   _("“%s” is %d×%d pixels, more than the %d megapixels Brushwork reads. Use a "
                     "smaller copy."), display, w, h, BW_IMAGE_MAX_PIXELS / 1000000);
      return NULL;
    }

  /* A full decode, not a progressive one: only that reports a truncated PNG. */
  pixbuf = gdk_pixbuf_new_from_file (path, &local_error);
  if (pixbuf == NULL || !jpeg_is_complete (path, format, &local_error))
    {
      g_set_error (error, BW_IMAGE_ERROR, BW_IMAGE_ERROR_UNREADABLE,
                   _("“%s” could not be read: %s. The file may be damaged or incomplete; try "
                     "another copy."), display, local_error ? local_error->message : "unknown error");
      return NULL;
    }
  oriented = gdk_pixbuf_apply_embedded_orientation (pixbuf);
  if (oriented == NULL)
    oriented = g_object_ref (pixbuf);
  if (longest_side > 0)
    {
      int ow = gdk_pixbuf_get_width (oriented), oh = gdk_pixbuf_get_height (oriented);
      double f = (double) longest_side / MAX (ow, oh);
      int sw = MAX (1, (int) lround (ow * f)), sh = MAX (1, (int) lround (oh * f));

      if (sw != ow || sh != oh)
        {
          /* gdk-pixbuf's bilinear filter averages over the whole source area when shrinking */
          GdkPixbuf *scaled = gdk_pixbuf_scale_simple (oriented, sw, sh, GDK_INTERP_BILINEAR);
          g_object_unref (oriented);
          oriented = scaled;
        }
    }
  return from_pixbuf (oriented);
}

GBytes *
bw_image_to_rgb8 (BwImage *self)
{
  gsize plane = (gsize) self->width * self->height;
  guchar *out = g_malloc (plane * 3);

  for (gsize i = 0; i < plane; i++)
    for (int c = 0; c < 3; c++)
      {
        float v = self->data[c * plane + i];
        /* NaN becomes 0 */
        v = v > 0.0f ? (v < 1.0f ? v : 1.0f) : 0.0f;
        out[i * 3 + c] = (guchar) lrintf (v * 255.0f);
      }
  return g_bytes_new_take (out, plane * 3);
}

static GdkPixbuf *
to_pixbuf (BwImage *self)
{
  g_autoptr(GBytes) rgb = bw_image_to_rgb8 (self);

  return gdk_pixbuf_new_from_bytes (rgb, GDK_COLORSPACE_RGB, FALSE, 8, self->width,
                                    self->height, self->width * 3);
}

gboolean
bw_image_save (BwImage     *self,
               const char  *path,
               int          jpeg_quality,
               GError     **error)
{
  g_autoptr(GdkPixbuf) pixbuf = to_pixbuf (self);
  g_autofree char *display = g_filename_display_name (path);
  g_autofree char *lower = g_ascii_strdown (path, -1);
  g_autofree char *buffer = NULL;
  g_autofree char *quality = NULL;
  g_autoptr(GError) local_error = NULL;
  gsize len = 0;
  gboolean ok;

  if (g_str_has_suffix (lower, ".png"))
    ok = gdk_pixbuf_save_to_buffer (pixbuf, &buffer, &len, "png", &local_error, NULL);
  else if (g_str_has_suffix (lower, ".jpg") || g_str_has_suffix (lower, ".jpeg"))
    {
      quality = g_strdup_printf ("%d", CLAMP (jpeg_quality, 1, 100));
      ok = gdk_pixbuf_save_to_buffer (pixbuf, &buffer, &len, "jpeg", &local_error,
                                      "quality", quality, NULL);
    }
  else
    {
      g_set_error (error, BW_IMAGE_ERROR, BW_IMAGE_ERROR_FORMAT,
                   _("Brushwork saves PNG and JPEG files; name the output “%s” with .png or .jpg "
                     "at the end."), display);
      return FALSE;
    }
  if (!ok)
    {
      g_set_error (error, BW_IMAGE_ERROR, BW_IMAGE_ERROR_WRITE,
                   _("Could not encode “%s”: %s."), display, local_error->message);
      return FALSE;
    }
  /* a temporary file renamed over the target: a failure leaves the old file whole */
  if (!g_file_set_contents_full (path, buffer, len, G_FILE_SET_CONTENTS_CONSISTENT, 0644,
                                 &local_error))
    {
      g_set_error (error, BW_IMAGE_ERROR, BW_IMAGE_ERROR_WRITE,
                   _("Could not save “%s”: %s. Check that the folder exists and is writable."),
                   display, local_error->message);
      return FALSE;
    }
  return TRUE;
}

BwImage *
bw_image_scale (BwImage *self,
                int      width,
                int      height)
{
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GdkPixbuf) scaled = NULL;

  if (width == self->width && height == self->height)
    return g_object_ref (self);
  pixbuf = to_pixbuf (self);
  scaled = gdk_pixbuf_scale_simple (pixbuf, width, height, GDK_INTERP_HYPER);
  return from_pixbuf (scaled);
}

BwImage *
bw_image_transfer_luminance (BwImage *self,
                             BwImage *colors)
{
  gsize plane = (gsize) self->width * self->height;
  float *out = g_new (float, plane * 3);
  const float *s = self->data, *c = colors->data;

  g_return_val_if_fail (self->width == colors->width && self->height == colors->height, NULL);

  for (gsize i = 0; i < plane; i++)
    {
      /* NTSC YIQ, as image.rgb2yiq in Torch, which neural-style uses */
      float y = 0.299f * s[i] + 0.587f * s[plane + i] + 0.114f * s[2 * plane + i];
      float ci = 0.595716f * c[i] - 0.274453f * c[plane + i] - 0.321263f * c[2 * plane + i];
      float cq = 0.211456f * c[i] - 0.522591f * c[plane + i] + 0.311135f * c[2 * plane + i];

      out[i] = CLAMP (y + 0.9563f * ci + 0.6210f * cq, 0.0f, 1.0f);
      out[plane + i] = CLAMP (y - 0.2721f * ci - 0.6474f * cq, 0.0f, 1.0f);
      out[2 * plane + i] = CLAMP (y - 1.1070f * ci + 1.7046f * cq, 0.0f, 1.0f);
    }
  return bw_image_new_take (self->width, self->height, out);
}
