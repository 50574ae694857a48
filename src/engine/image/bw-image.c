/* bw-image.c: see bw-image.h. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

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

/* libjpeg fills a truncated JPEG with grey and only warns, so the file's structure is walked
 * here: marker segments, each scan's entropy-coded data, up to the end-of-image marker
 * (FF D9). Whatever follows it is not the image's and is allowed: motion photos (Pixel,
 * Samsung) append a whole video there. */
static gboolean
jpeg_reaches_end (const guchar *data,
                  gsize         len)
{
  gsize i = 2;   /* after SOI, which gdk-pixbuf already recognised */

  while (i + 1 < len)
    {
      guchar marker;
      gsize segment;

      if (data[i] != 0xFF)
        return FALSE;
      marker = data[i + 1];
      i += 2;
      if (marker == 0xFF)            /* fill byte before a marker */
        {
          i--;
          continue;
        }
      if (marker == 0xD9)            /* EOI */
        return TRUE;
      if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7))
        continue;                    /* markers without a length */
      if (i + 1 >= len)
        return FALSE;
      segment = ((gsize) data[i] << 8) | data[i + 1];
      if (segment < 2)
        return FALSE;
      i += segment;
      if (marker != 0xDA)            /* SOS: entropy-coded data follows its header */
        continue;
      while (i + 1 < len && !(data[i] == 0xFF && data[i + 1] != 0x00 &&
                              !(data[i + 1] >= 0xD0 && data[i + 1] <= 0xD7)))
        i++;
    }
  return FALSE;
}

static gboolean
jpeg_is_complete (const char                *path,
                  GdkPixbufFormat           *format,
                  GError                   **error)
{
  g_autofree char *name = gdk_pixbuf_format_get_name (format);
  g_autoptr(GMappedFile) file = NULL;

  if (g_strcmp0 (name, "jpeg") != 0)
    return TRUE;
  file = g_mapped_file_new (path, FALSE, error);
  if (file == NULL)
    return FALSE;
  if (jpeg_reaches_end ((const guchar *) g_mapped_file_get_contents (file),
                        g_mapped_file_get_length (file)))
    return TRUE;
  g_set_error (error, BW_IMAGE_ERROR, BW_IMAGE_ERROR_UNREADABLE, _("the JPEG data ends too early"));
  return FALSE;
}

static guint
read_u16 (const guchar *p,
          gboolean      big_endian)
{
  return big_endian ? (p[0] << 8) | p[1] : (p[1] << 8) | p[0];
}

static guint32
read_u32 (const guchar *p,
          gboolean      big_endian)
{
  return big_endian ? ((guint32) p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]
                    : ((guint32) p[3] << 24) | (p[2] << 16) | (p[1] << 8) | p[0];
}

/* The Orientation tag (0x0112) of IFD0 in EXIF data (a TIFF header and its IFDs); 0 if none. */
static guint
exif_orientation (const guchar *exif,
                  gsize         len)
{
  gboolean big;
  guint32 ifd;
  guint n;

  if (len < 8 || !(memcmp (exif, "MM", 2) == 0 || memcmp (exif, "II", 2) == 0))
    return 0;
  big = exif[0] == 'M';
  ifd = read_u32 (exif + 4, big);
  if (ifd > len - 2)
    return 0;
  n = read_u16 (exif + ifd, big);
  for (guint k = 0; k < n && ifd + 2 + 12 * (gsize) (k + 1) <= len; k++)
    {
      const guchar *entry = exif + ifd + 2 + 12 * k;
      if (read_u16 (entry, big) == 0x0112 && read_u16 (entry + 2, big) == 3)
        return read_u16 (entry + 8, big);
    }
  return 0;
}

/* gdk-pixbuf applies EXIF orientation from JPEG and TIFF only; a PNG carries it in an eXIf
 * chunk (PNG 1.5), which phones and editors write. Returns 0 when there is none. */
static guint
png_orientation (const char *path)
{
  g_autoptr(GMappedFile) file = g_mapped_file_new (path, FALSE, NULL);
  const guchar *data;
  gsize len, i = 8;

  if (file == NULL)
    return 0;
  data = (const guchar *) g_mapped_file_get_contents (file);
  len = g_mapped_file_get_length (file);
  while (i + 8 <= len)
    {
      guint32 chunk = read_u32 (data + i, TRUE);

      if (chunk > len - i - 8)
        return 0;
      if (memcmp (data + i + 4, "eXIf", 4) == 0)
        return exif_orientation (data + i + 8, chunk);
      if (memcmp (data + i + 4, "IDAT", 4) == 0)
        return 0;   /* eXIf must come before the image data */
      i += 12 + (gsize) chunk;
    }
  return 0;
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
  {
    g_autofree char *name = gdk_pixbuf_format_get_name (format);
    guint orientation = g_strcmp0 (name, "png") == 0 ? png_orientation (path) : 0;

    if (orientation >= 1 && orientation <= 8)
      {
        char value[2] = { (char) ('0' + orientation), 0 };
        gdk_pixbuf_set_option (pixbuf, "orientation", value);
      }
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

/* What @path names once symbolic links are followed (a link that points nowhere yet names
 * the file it would create), so that saving replaces the file, not the link. */
static char *
resolve_link (const char *path)
{
  g_autofree char *current = g_strdup (path);

  for (int hops = 0; hops < 40 && g_file_test (current, G_FILE_TEST_IS_SYMLINK); hops++)
    {
      g_autofree char *link = g_file_read_link (current, NULL);
      g_autofree char *dir = NULL;

      if (link == NULL)
        break;
      dir = g_path_get_dirname (current);
      g_free (current);
      current = g_path_is_absolute (link) ? g_steal_pointer (&link)
                                          : g_build_filename (dir, link, NULL);
    }
  return g_steal_pointer (&current);
}

/* BRUSHWORK_FAULT=write@save (tests only): the first save of the process fails as on a
 * full disk. */
static gboolean
write_fault (GError **error)
{
  static gint fired;

  if (g_strcmp0 (g_getenv ("BRUSHWORK_FAULT"), "write@save") != 0 ||
      !g_atomic_int_compare_and_exchange (&fired, 0, 1))
    return FALSE;
  g_set_error_literal (error, G_FILE_ERROR, G_FILE_ERROR_NOSPC, g_strerror (ENOSPC));
  return TRUE;
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
  g_autofree char *target = NULL;
  GStatBuf st;
  gboolean existed;
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
  /* a temporary file renamed over the target: a failure leaves the old file whole; through
   * a symbolic link to what it points at, and with an existing file's permissions */
  target = resolve_link (path);
  existed = g_stat (target, &st) == 0;
  /* 0666: a new file gets what the umask allows, as any program's would */
  if (write_fault (&local_error) ||
      !g_file_set_contents_full (target, buffer, len, G_FILE_SET_CONTENTS_CONSISTENT, 0666,
                                 &local_error))
    {
      gboolean full = g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOSPC);

      g_set_error (error, BW_IMAGE_ERROR, BW_IMAGE_ERROR_WRITE,
                   full ? _("Could not save “%s”: %s. The disk is full: free some space there, "
                            "or save elsewhere.")
                        : _("Could not save “%s”: %s. Check that the folder exists and is "
                            "writable."),
                   display, local_error->message);
      return FALSE;
    }
  /* the new file is another inode: give it the permissions the old one had (a failure
   * leaves the painting saved, with the usual ones) */
  if (existed)
    g_chmod (target, st.st_mode & 07777);
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
