/* test-image.c: reading and writing images, and original-colour transfer.
 *
 * Fixtures come from tests/oracle/image_fixtures.py (Pillow). Colours from JPEG are compared
 * within 0.05 (q100 chroma subsampling blurs the red/blue edge by a pixel, so only pixels
 * away from it are checked); PNG round trips are exact to 8-bit rounding (0.5/255).
 */
#include <glib/gstdio.h>

#include "bw-test-util.h"
#include "image/bw-image.h"

static char *fixtures;

static BwImage *
load (const char *name,
      int         longest_side)
{
  g_autofree char *path = g_build_filename (fixtures, name, NULL);
  g_autoptr(GError) error = NULL;
  BwImage *image = bw_image_load (path, longest_side, &error);

  g_assert_no_error (error);
  return image;
}

static void
pixel (BwImage *image,
       int      x,
       int      y,
       float    rgb[3])
{
  int w = bw_image_get_width (image), h = bw_image_get_height (image);
  const float *d = bw_image_get_data (image);

  for (int c = 0; c < 3; c++)
    rgb[c] = d[(gsize) c * w * h + (gsize) y * w + x];
}

static void
assert_rgb (BwImage    *image,
            int         x,
            int         y,
            float       r,
            float       g,
            float       b,
            float       tol)
{
  float p[3];

  pixel (image, x, y, p);
  if (fabsf (p[0] - r) > tol || fabsf (p[1] - g) > tol || fabsf (p[2] - b) > tol)
    g_test_fail_printf ("pixel (%d, %d) is (%.3f, %.3f, %.3f), expected (%.3f, %.3f, %.3f)",
                        x, y, p[0], p[1], p[2], r, g, b);
}

static void
test_orientation (void)
{
  g_autoptr(BwImage) image = load ("rotated.jpg", 0);

  g_assert_cmpint (bw_image_get_width (image), ==, 8);
  g_assert_cmpint (bw_image_get_height (image), ==, 16);
  assert_rgb (image, 4, 2, 1, 0, 0, 0.05f);    /* red on top */
  assert_rgb (image, 4, 13, 0, 0, 1, 0.05f);   /* blue below */
}

/* PNG's eXIf chunk: orientation 6 as in the JPEG above */
static void
test_png_orientation (void)
{
  g_autoptr(BwImage) image = load ("rotated.png", 0);

  g_assert_cmpint (bw_image_get_width (image), ==, 8);
  g_assert_cmpint (bw_image_get_height (image), ==, 16);
  assert_rgb (image, 4, 2, 1, 0, 0, 0.5f / 255);
  assert_rgb (image, 4, 13, 0, 0, 1, 0.5f / 255);
}

/* Data after the end-of-image marker (a motion photo's video) is not the image's: it reads as
 * the JPEG alone does. A JPEG cut short is still refused. */
static void
test_jpeg_trailing_data (void)
{
  g_autoptr(BwImage) plain = load ("base.jpg", 0);
  g_autoptr(BwImage) motion = load ("motion.jpg", 0);
  g_autofree char *truncated = g_build_filename (fixtures, "truncated.jpg", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(BwImage) none = bw_image_load (truncated, 0, &error);
  gsize n = (gsize) 3 * 16 * 8;

  g_assert_cmpint (bw_image_get_width (motion), ==, 16);
  g_assert_cmpint (bw_image_get_height (motion), ==, 8);
  for (gsize i = 0; i < n; i++)
    g_assert_cmpfloat (bw_image_get_data (motion)[i], ==, bw_image_get_data (plain)[i]);
  g_assert_null (none);
  g_assert_error (error, BW_IMAGE_ERROR, BW_IMAGE_ERROR_UNREADABLE);
}

static void
test_longest_side (void)
{
  g_autoptr(BwImage) image = load ("plain.png", 8);

  g_assert_cmpint (bw_image_get_width (image), ==, 8);
  g_assert_cmpint (bw_image_get_height (image), ==, 4);
  assert_rgb (image, 1, 2, 1, 0, 0, 0.5f / 255);
  assert_rgb (image, 6, 2, 0, 0, 1, 0.5f / 255);
}

/* Transparency is flattened onto white: a * colour + (1 - a) * 1 */
static void
test_alpha (void)
{
  g_autoptr(BwImage) image = load ("alpha.png", 0);
  float half = 1.0f - 128.0f / 255.0f;

  assert_rgb (image, 0, 0, 0, 1, 0, 0.5f / 255);
  assert_rgb (image, 1, 0, 1, 1, 1, 0.5f / 255);
  assert_rgb (image, 2, 0, half, half, half, 0.5f / 255);
}

static void
test_save (void)
{
  g_autoptr(BwImage) image = load ("plain.png", 0);
  g_autoptr(BwImage) back = NULL;
  g_autofree char *png = g_build_filename (fixtures, "saved.png", NULL);
  g_autofree char *jpg = g_build_filename (fixtures, "saved.jpg", NULL);
  g_autofree char *gif = g_build_filename (fixtures, "saved.gif", NULL);
  g_autofree char *nodir = g_build_filename (fixtures, "no-such-folder", "saved.png", NULL);
  g_autoptr(GError) error = NULL;
  const float *a, *b;

  g_assert_true (bw_image_save (image, png, 90, &error));
  g_assert_no_error (error);
  back = load ("saved.png", 0);
  a = bw_image_get_data (image);
  b = bw_image_get_data (back);
  for (int i = 0; i < 3 * 16 * 8; i++)
    g_assert_cmpfloat (fabsf (a[i] - b[i]), <=, 0.5f / 255);

  g_assert_true (bw_image_save (image, jpg, 90, &error));
  g_assert_no_error (error);

  /* errors are sentences, and leave no file behind */
  g_assert_false (bw_image_save (image, gif, 90, &error));
  g_assert_error (error, BW_IMAGE_ERROR, BW_IMAGE_ERROR_FORMAT);
  g_test_message ("%s", error->message);
  g_assert_false (g_file_test (gif, G_FILE_TEST_EXISTS));
  g_clear_error (&error);
  g_assert_false (bw_image_save (image, nodir, 90, &error));
  g_assert_error (error, BW_IMAGE_ERROR, BW_IMAGE_ERROR_WRITE);
  g_test_message ("%s", error->message);
}

/* Original colours: the luminance of the stylised image with the chroma of the photo, in
 * YIQ. The expectation inverts the forward YIQ matrix numerically here, so the 4-digit
 * inverse constants in bw-image.c are checked, not copied: tolerance 2e-3. */
static void
test_transfer_luminance (void)
{
  const double m[3][3] = {
    { 0.299, 0.587, 0.114 }, { 0.595716, -0.274453, -0.321263 }, { 0.211456, -0.522591, 0.311135 },
  };
  double inv[3][3], det;
  g_autoptr(GRand) rand = g_rand_new_with_seed (11);
  const int w = 7, h = 5, n = w * h;
  float *styled = bw_test_random (rand, 3 * n, 0, 1);
  float *photo = bw_test_random (rand, 3 * n, 0, 1);
  g_autoptr(BwImage) s = bw_image_new_take (w, h, styled);
  g_autoptr(BwImage) p = bw_image_new_take (w, h, photo);
  g_autoptr(BwImage) out = bw_image_transfer_luminance (s, p);
  g_autofree double *want = g_new (double, 3 * n);

  det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
        m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
        m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      {
        /* cofactor of (j, i) over the determinant */
        int r0 = (j + 1) % 3, r1 = (j + 2) % 3, c0 = (i + 1) % 3, c1 = (i + 2) % 3;
        inv[i][j] = (m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0]) / det;
      }
  for (int k = 0; k < n; k++)
    {
      double yiq[3];
      yiq[0] = m[0][0] * styled[k] + m[0][1] * styled[n + k] + m[0][2] * styled[2 * n + k];
      for (int r = 1; r < 3; r++)
        yiq[r] = m[r][0] * photo[k] + m[r][1] * photo[n + k] + m[r][2] * photo[2 * n + k];
      for (int c = 0; c < 3; c++)
        want[c * n + k] = CLAMP (inv[c][0] * yiq[0] + inv[c][1] * yiq[1] + inv[c][2] * yiq[2], 0.0, 1.0);
    }
  bw_test_assert_close ("original colours", bw_image_get_data (out), want, 3 * n, 2e-3, 0);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  fixtures = bw_test_run_oracle ("image_fixtures.py", NULL);
  g_test_add_func ("/image/exif-orientation", test_orientation);
  g_test_add_func ("/image/png-exif-orientation", test_png_orientation);
  g_test_add_func ("/image/jpeg-trailing-data", test_jpeg_trailing_data);
  g_test_add_func ("/image/longest-side", test_longest_side);
  g_test_add_func ("/image/alpha-flattened", test_alpha);
  g_test_add_func ("/image/save", test_save);
  g_test_add_func ("/image/original-colours", test_transfer_luminance);
  ret = g_test_run ();
  bw_test_remove_dir (fixtures);
  g_free (fixtures);
  return ret;
}
