/* test-limits.c: the device limits a big painting meets (issue 16), each at a size that
 * crosses it, against the plain-C reference, with the validation layer on (as the suite runs):
 * - maxComputeWorkGroupCount: a one-dimensional op over more than 65,535 groups of 64;
 * - bounded work per dispatch: convs and Grams split into dispatches under a cap (lowered
 *   through BRUSHWORK_DISPATCH_GFLOP so that small shapes cross it) give the same numbers.
 *
 * Tolerances: as test-ops.c (fp32 shader against a double reference): elementwise 1e-6, sums
 * of up to 9 x 64 products 1e-4 abs or rel.
 */
#include <math.h>

#include "bw-test-util.h"
#include "ops/bw-ops.h"
#include "reference/bw-reference.h"

static BwTensor *
tensor_from (const float *data,
             int          c,
             int          h,
             int          w)
{
  g_autoptr(GError) error = NULL;
  BwTensor *t = bw_tensor_new (bw_test_device (), c, h, w, &error);

  g_assert_no_error (error);
  if (data)
    {
      bw_tensor_upload (t, data, &error);
      g_assert_no_error (error);
    }
  return t;
}

static float *
download (BwTensor *t)
{
  g_autoptr(GError) error = NULL;
  float *out;

  bw_device_submit (bw_test_device (), &error);
  g_assert_no_error (error);
  out = bw_tensor_download (t, &error);
  g_assert_no_error (error);
  return out;
}

/* max-pool backward over a 4-channel 2064 x 2048 map: 4,227,072 vec4s, 66,048 groups of 64,
 * past the 65,535 that lavapipe (and Vulkan's minimum) allow in one dimension. A driver that
 * honours the limit strictly would leave the tail unwritten; the validation layer reports the
 * dispatch itself. */
static void
test_group_count (void)
{
  const int c = 4, h = 2064, w = 2048;
  gsize nx = (gsize) c * h * w, ny = nx / 4;
  g_autoptr(GRand) rand = g_rand_new_with_seed (16);
  g_autofree float *x = bw_test_random (rand, nx, 0, 1);
  g_autofree float *dy = bw_test_random (rand, ny, -1, 1);
  g_autofree double *want = g_new (double, nx);
  g_autofree float *got = NULL;
  g_autoptr(BwTensor) tx = tensor_from (x, c, h, w);
  g_autoptr(BwTensor) tdy = tensor_from (dy, c, h / 2, w / 2);
  g_autoptr(BwTensor) tdx = tensor_from (NULL, c, h, w);
  g_autoptr(GError) error = NULL;

  g_assert_cmpuint ((bw_tensor_get_n_vec4 (tx) + 63) / 64, >,
                    bw_device_get_max_group_count (bw_test_device (), 0));
  bw_ops_maxpool_backward (tdy, tx, NULL, tdx, &error);
  g_assert_no_error (error);
  got = download (tdx);
  ref_maxpool_backward (dy, x, c, h, w, want);
  for (gsize i = 0; i < nx; i++)
    want[i] = x[i] > 0 ? want[i] : 0;
  bw_test_assert_close ("maxpool backward past the group limit", got, want, nx, 1e-6, 1e-6);
  bw_test_check_validation ();
}

/* With BRUSHWORK_DISPATCH_GFLOP=0.02 (20 MFLOP, set in main), a 64 -> 64 conv on 24 x 20
 * (35 MFLOP direct), a Gram over 64 channels x 6400 pixels (33 MFLOP), a 1x1 conv of the
 * same map (52 MFLOP, the Gram's gradient; on a CPU it takes the Winograd GEMM), and 3 -> 64 and
 * 64 -> 3 convs of 80 x 80 (28 MFLOP, conv1_1 forward and its input gradient) are each split
 * over several dispatches; the results must not change and no dispatch may carry more than the cap.
 * (The split is by whole workgroups: on lavapipe one conv workgroup is 8 tiles of 32 pixels,
 * 19 MFLOP here, under the cap; a GPU's workgroups of 64 would not be.) */
static void
test_bounded_work (void)
{
  const int ic = 64, oc = 64, h = 24, w = 20, n = 80 * 80;
  g_autoptr(GRand) rand = g_rand_new_with_seed (17);
  gsize nx = (gsize) ic * h * w, ny = (gsize) oc * h * w;
  g_autofree float *x = bw_test_random (rand, nx, -1, 1);
  g_autofree float *wt = bw_test_random (rand, (gsize) oc * ic * 9, -0.1, 0.1);
  g_autofree float *f = bw_test_random (rand, (gsize) oc * n, -1, 1);
  g_autofree double *want = g_new (double, ny);
  g_autofree double *want_g = g_new (double, oc * oc);
  g_autofree float *got = NULL;
  g_autofree float *blocks = g_new (float, oc * oc);
  g_autofree float *got_g = g_new (float, oc * oc);
  gsize n_packed;
  g_autofree float *packed = bw_tensor_pack_conv_weights (wt, oc, ic, 3, FALSE, &n_packed);
  g_autoptr(BwTensor) tx = tensor_from (x, ic, h, w);
  g_autoptr(BwTensor) ty = tensor_from (NULL, oc, h, w);
  g_autoptr(BwTensor) tf = tensor_from (f, oc, 80, 80);
  g_autoptr(GError) error = NULL;
  BwDevice *dev = bw_test_device ();
  BwBuffer *bw = bw_device_alloc_buffer (dev, n_packed * sizeof (float), &error);
  BwBuffer *g = bw_device_alloc_buffer (dev, bw_ops_gram_size (oc), &error);
  int c4 = oc / 4;

  g_assert_no_error (error);
  bw_device_write_buffer (dev, bw, 0, packed, n_packed * sizeof (float), &error);
  g_assert_no_error (error);
  bw_ops_conv (tx, bw, 3, NULL, NULL, FALSE, NULL, ty, &error);
  g_assert_no_error (error);
  got = download (ty);
  ref_conv (x, ic, h, w, wt, NULL, oc, 3, want);
  bw_test_assert_close ("conv in bounded dispatches", got, want, ny, 1e-4, 1e-4);

  bw_ops_gram (tf, g, &error);
  g_assert_no_error (error);
  bw_device_submit (dev, &error);
  g_assert_no_error (error);
  bw_device_read_buffer (dev, g, 0, blocks, bw_ops_gram_size (oc), &error);
  g_assert_no_error (error);
  for (int i = 0; i < oc; i++)
    for (int j = 0; j < oc; j++)
      got_g[i * oc + j] = blocks[(((gsize) (i / 4) * c4 + j / 4) * 4 + j % 4) * 4 + i % 4];
  ref_gram (f, oc, n, want_g);
  bw_test_assert_close ("gram in bounded dispatches", got_g, want_g, oc * oc, 1e-4, 1e-4);

  {
    gsize n_packed1;
    g_autofree float *wt1 = bw_test_random (rand, (gsize) oc * oc, -0.1, 0.1);
    g_autofree float *packed1 = bw_tensor_pack_conv_weights (wt1, oc, oc, 1, FALSE, &n_packed1);
    g_autofree double *want1 = g_new (double, (gsize) oc * n);
    g_autofree float *got1 = NULL;
    g_autoptr(BwTensor) t1 = tensor_from (NULL, oc, 80, 80);
    BwBuffer *bw1 = bw_device_alloc_buffer (dev, n_packed1 * sizeof (float), &error);

    g_assert_no_error (error);
    bw_device_write_buffer (dev, bw1, 0, packed1, n_packed1 * sizeof (float), &error);
    g_assert_no_error (error);
    bw_ops_conv (tf, bw1, 1, NULL, NULL, FALSE, NULL, t1, &error);
    g_assert_no_error (error);
    got1 = download (t1);
    ref_conv (f, oc, 80, 80, wt1, NULL, oc, 1, want1);
    bw_test_assert_close ("1x1 conv in bounded dispatches", got1, want1, (gsize) oc * n, 1e-4, 1e-4);
    bw_device_free_buffer (dev, bw1);
  }

  /* VGG19's first layer (on a CPU device its own kernel, conv3x3_in3.comp) and the image
   * gradient through it, 28 MFLOP each on 80 x 80 */
  {
    gsize n_packed3;
    g_autofree float *x3 = bw_test_random (rand, (gsize) 3 * n, -1, 1);
    g_autofree float *wt3 = bw_test_random (rand, (gsize) oc * 3 * 9, -0.1, 0.1);
    g_autofree float *packed3 = bw_tensor_pack_conv_weights (wt3, oc, 3, 3, FALSE, &n_packed3);
    g_autofree float *packed3_t = bw_tensor_pack_conv_weights (wt3, oc, 3, 3, TRUE, &n_packed3);
    g_autofree double *want3 = g_new (double, (gsize) oc * n);
    g_autofree float *got3 = NULL;
    g_autoptr(BwTensor) tx3 = tensor_from (x3, 3, 80, 80);
    g_autoptr(BwTensor) ty3 = tensor_from (NULL, oc, 80, 80);
    g_autoptr(BwTensor) tdx3 = tensor_from (NULL, 3, 80, 80);
    BwBuffer *bw3 = bw_device_alloc_buffer (dev, n_packed3 * sizeof (float), &error);
    BwBuffer *bw3_t = bw_device_alloc_buffer (dev, n_packed3 * sizeof (float), &error);

    g_assert_no_error (error);
    bw_device_write_buffer (dev, bw3, 0, packed3, n_packed3 * sizeof (float), &error);
    g_assert_no_error (error);
    bw_device_write_buffer (dev, bw3_t, 0, packed3_t, n_packed3 * sizeof (float), &error);
    g_assert_no_error (error);
    bw_ops_conv (tx3, bw3, 3, NULL, NULL, FALSE, NULL, ty3, &error);
    g_assert_no_error (error);
    got3 = download (ty3);
    ref_conv (x3, 3, 80, 80, wt3, NULL, oc, 3, want3);
    bw_test_assert_close ("conv 3 -> 64 in bounded dispatches", got3, want3, (gsize) oc * n,
                          1e-4, 1e-4);
    g_free (got3);
    bw_ops_conv (tf, bw3_t, 3, NULL, NULL, FALSE, NULL, tdx3, &error);
    g_assert_no_error (error);
    got3 = download (tdx3);
    ref_conv_input_grad (f, oc, 80, 80, wt3, 3, 3, want3);
    bw_test_assert_close ("image gradient in bounded dispatches", got3, want3, (gsize) 3 * n,
                          1e-4, 1e-4);
    bw_device_free_buffer (dev, bw3);
    bw_device_free_buffer (dev, bw3_t);
  }

  if (bw_device_is_cpu (dev))
    g_assert_cmpfloat (bw_device_get_largest_dispatch (dev), <=, 20e6);
  g_assert_cmpfloat (bw_device_get_largest_dispatch (dev), >, 0);
  bw_device_free_buffer (dev, bw);
  bw_device_free_buffer (dev, g);
  bw_test_check_validation ();
}

/* An image larger than one binding (maxStorageBufferRange: 128 MiB on lavapipe): 3 x 2896 x
 * 2900 is 134.4 MB in pack4. The elementwise ops, the reduction, total variation and crops
 * take it a part at a time through descriptor offsets; each is checked against plain C, and
 * the validation layer checks every binding's range. Tolerances: elementwise and crops exact
 * up to 1e-6; the sums (reduction, tv) in float partials of 4096 and 64 vec4s, added in
 * double, within 1e-5 relative. */
static void
test_binding_limit (void)
{
  BwDevice *dev = bw_test_device ();
  const int c = 3, h = 2896, w = 2900;
  gsize n = (gsize) c * h * w, hw = (gsize) h * w;
  g_autoptr(GRand) rand = g_rand_new_with_seed (18);
  g_autofree float *a = bw_test_random (rand, n, -1, 1);
  g_autofree float *b = bw_test_random (rand, n, -1, 1);
  g_autofree float *got = NULL;
  g_autofree double *want = g_new (double, n);
  g_autoptr(BwTensor) ta = tensor_from (a, c, h, w);
  g_autoptr(BwTensor) tb = tensor_from (b, c, h, w);
  g_autoptr(BwTensor) tout = tensor_from (NULL, c, h, w);
  g_autoptr(BwTensor) crop = tensor_from (NULL, c, 40, 50);
  g_autoptr(GError) error = NULL;
  guint n_vec4 = bw_tensor_get_n_vec4 (ta), n_red = bw_ops_reduce_n_partials (n_vec4);
  guint n_tv = bw_ops_tv_n_partials (ta);
  BwBuffer *partials = bw_device_alloc_buffer (dev, (n_red + n_tv) * sizeof (float), &error);
  g_autofree float *p = g_new (float, n_red + n_tv);
  double sum = 0, want_sum = 0, tv = 0, want_tv = 0;

  g_assert_no_error (error);
  g_assert_cmpuint (bw_tensor_size_for (c, h, w), >, bw_device_get_max_buffer_size (dev));

  /* out = 2 (a - b) */
  bw_ops_eltwise (dev, bw_tensor_get_buffer (ta), bw_tensor_get_buffer (tb), NULL, NULL, 2.0f,
                  1.0f, bw_tensor_get_buffer (tout), n_vec4, &error);
  g_assert_no_error (error);
  got = download (tout);
  for (gsize i = 0; i < n; i++)
    want[i] = 2.0 * ((double) a[i] - b[i]);
  bw_test_assert_close ("eltwise past the binding limit", got, want, n, 1e-6, 1e-6);
  g_clear_pointer (&got, g_free);

  /* sum (a - b)^2, and tv(a) with its gradient added into zeros */
  bw_tensor_clear (tout);
  bw_ops_reduce (dev, BW_REDUCE_SQDIFF, bw_tensor_get_buffer (ta), bw_tensor_get_buffer (tb), 1.0f,
                 n_vec4, partials, 0, &error);
  g_assert_no_error (error);
  bw_ops_tv (ta, tout, 1.0f, partials, n_red, &error);
  g_assert_no_error (error);
  got = download (tout);
  bw_device_read_buffer (dev, partials, 0, p, (n_red + n_tv) * sizeof (float), &error);
  g_assert_no_error (error);
  for (guint i = 0; i < n_red; i++)
    sum += p[i];
  for (guint i = 0; i < n_tv; i++)
    tv += p[n_red + i];
  for (gsize i = 0; i < n; i++)
    want_sum += ((double) a[i] - b[i]) * ((double) a[i] - b[i]);
  for (int ch = 0; ch < c; ch++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        {
          gsize i = ch * hw + (gsize) y * w + x;
          double d = 0;

          if (x + 1 < w)
            {
              double e = (double) a[i + 1] - a[i];
              want_tv += e * e;
              d -= 2 * e;
            }
          if (x > 0)
            d += 2 * ((double) a[i] - a[i - 1]);
          if (y + 1 < h)
            {
              double e = (double) a[i + w] - a[i];
              want_tv += e * e;
              d -= 2 * e;
            }
          if (y > 0)
            d += 2 * ((double) a[i] - a[i - w]);
          want[i] = d;
        }
  g_test_message ("sum %.9g (%.9g), tv %.9g (%.9g)", sum, want_sum, tv, want_tv);
  g_assert_cmpfloat (fabs (sum - want_sum), <=, 1e-5 * want_sum);
  g_assert_cmpfloat (fabs (tv - want_tv), <=, 1e-5 * want_tv);
  bw_test_assert_close ("tv gradient past the binding limit", got, want, n, 1e-5, 1e-5);
  g_clear_pointer (&got, g_free);

  /* a crop from the image's last rows, beyond the first binding's reach */
  bw_ops_crop (ta, crop, h - 40, w - 50, 0, 0, 40, 50, FALSE, &error);
  g_assert_no_error (error);
  got = download (crop);
  for (int ch = 0; ch < c; ch++)
    for (int y = 0; y < 40; y++)
      for (int x = 0; x < 50; x++)
        want[(ch * 40 + y) * 50 + x] = a[ch * hw + (gsize) (h - 40 + y) * w + w - 50 + x];
  bw_test_assert_close ("crop past the binding limit", got, want, (gsize) c * 40 * 50, 1e-6, 1e-6);
  bw_device_free_buffer (dev, partials);
  bw_test_check_validation ();
}

/* The plain-C conv over three windows of 16 x 16 outputs, at the map's top-left corner, its
 * middle and its bottom-right corner, each from an 18 x 18 crop of the input with zeros outside
 * the map: ref_conv() over the whole map would take minutes. @got is the device's output. */
static void
assert_conv_windows (const char  *what,
                     const float *x,
                     const float *wt,
                     const float *bias,
                     const float *addend,
                     const float *mask,
                     gboolean     relu,
                     int          c,
                     int          h,
                     int          w,
                     const float *got)
{
  const int n = 16, corners[][2] = { { 0, 0 }, { h / 2 - 7, w / 2 - 9 }, { h - n, w - n } };
  g_autofree float *crop = g_new (float, (gsize) c * (n + 2) * (n + 2));
  g_autofree double *ref = g_new (double, (gsize) c * (n + 2) * (n + 2));
  g_autofree float *part = g_new (float, (gsize) c * n * n);
  g_autofree double *want = g_new (double, (gsize) c * n * n);
  double max_want = 0;

  for (gsize k = 0; k < G_N_ELEMENTS (corners); k++)
    {
      int y0 = corners[k][0], x0 = corners[k][1];

      for (int ch = 0; ch < c; ch++)
        for (int r = 0; r < n + 2; r++)
          for (int q = 0; q < n + 2; q++)
            {
              int y = y0 + r - 1, xx = x0 + q - 1;

              crop[((gsize) ch * (n + 2) + r) * (n + 2) + q] =
                y >= 0 && y < h && xx >= 0 && xx < w ? x[((gsize) ch * h + y) * w + xx] : 0.0f;
            }
      ref_conv (crop, c, n + 2, n + 2, wt, bias, c, 3, ref);
      for (int ch = 0; ch < c; ch++)
        for (int r = 0; r < n; r++)
          for (int q = 0; q < n; q++)
            {
              gsize i = ((gsize) ch * h + y0 + r) * w + x0 + q, j = ((gsize) ch * n + r) * n + q;
              double v = ref[((gsize) ch * (n + 2) + r + 1) * (n + 2) + q + 1];

              if (addend)
                v += addend[i];
              if (relu)
                v = MAX (v, 0.0);
              if (mask && mask[i] <= 0)
                v = 0;
              want[j] = v;
              part[j] = got[i];
              max_want = MAX (max_want, fabs (v));
            }
      /* test-ops' bound for the Winograd path: 3e-5 of the largest output, or 1e-4 */
      bw_test_assert_close (what, part, want, (gsize) c * n * n, MAX (1e-4, 3e-5 * max_want), 1e-4);
    }
}

/* A 64-channel map of 1024 x 768 px is 201 MB, more than one binding of lavapipe (128 MiB): a
 * device that reads maps through texel views takes it whole (bw_tensor_fits()), and the ops
 * write it a range of channel packs at a time, each bound from the range's first pack. The
 * 3x3 conv (Winograd where the device takes it: with bias and ReLU, and with addend and mask),
 * the 1x1 product (the Gram's gradient), max-pool and its backward, against plain C: the
 * pools everywhere, the convs in windows at the map's corners and middle, over all channels
 * (those past the first binding's reach included). */
static void
test_feature_map_ranges (void)
{
  BwDevice *dev = bw_test_device ();
  const int c = 64, h = 768, w = 1024;
  gsize n = (gsize) c * h * w, nw = (gsize) c * c * 9, npacked, nwino, np = n / 4;
  int tile = bw_ops_winograd_tile (dev, c, c);
  g_autoptr(GRand) rand = g_rand_new_with_seed (19);
  g_autofree float *x = bw_test_random (rand, n, -1, 1);
  g_autofree float *wt = bw_test_random (rand, nw, -0.05, 0.05);
  g_autofree float *bias = bw_test_random (rand, c, -0.1, 0.1);
  g_autofree float *addend = bw_test_random (rand, n, -1, 1);
  g_autofree float *mask = bw_test_random (rand, n, -1, 1);
  g_autofree float *dy = bw_test_random (rand, np, -1, 1);
  g_autofree float *packed = bw_tensor_pack_conv_weights (wt, c, c, 3, FALSE, &npacked);
  g_autofree float *wino = tile ? bw_ops_pack_winograd_weights (packed, c, c, tile, &nwino) : NULL;
  g_autofree float *bias4 = bw_tensor_pack4 (bias, c, 1);
  g_autofree float *got = NULL, *pooled = NULL, *want_pool = g_new (float, np);
  g_autofree float *w1 = g_new (float, (gsize) c * c);
  g_autofree double *want = NULL;
  g_autoptr(BwTensor) tx = NULL, ty = NULL, ta = NULL, tm = NULL, tp = NULL, tdy = NULL;
  g_autoptr(BwTensor) tdx = NULL;
  g_autoptr(GError) error = NULL;
  BwBuffer *bwt, *bwino = NULL, *bb, *bw1;
  double max_want = 0;

  if (!bw_tensor_fits (dev, c, h, w))
    {
      /* a device without texel loads takes maps of one binding only, and the planner tiles */
      g_assert_false (bw_device_has_texel_loads (dev));
      g_test_message ("this device takes no map past one binding");
      return;
    }
  g_assert_cmpuint (bw_tensor_size_for (c, h, w), >, bw_device_get_max_buffer_size (dev));
  tx = tensor_from (x, c, h, w);
  ty = tensor_from (NULL, c, h, w);
  ta = tensor_from (addend, c, h, w);
  tm = tensor_from (mask, c, h, w);
  bwt = bw_device_alloc_buffer (dev, npacked * sizeof (float), &error);
  g_assert_no_error (error);
  bw_device_write_buffer (dev, bwt, 0, packed, npacked * sizeof (float), &error);
  g_assert_no_error (error);
  if (tile)
    {
      bwino = bw_device_alloc_buffer (dev, nwino * sizeof (float), &error);
      g_assert_no_error (error);
      bw_device_write_buffer (dev, bwino, 0, wino, nwino * sizeof (float), &error);
      g_assert_no_error (error);
    }
  bb = bw_device_alloc_buffer (dev, c * sizeof (float), &error);
  g_assert_no_error (error);
  bw_device_write_buffer (dev, bb, 0, bias4, c * sizeof (float), &error);
  g_assert_no_error (error);

  bw_ops_conv3x3 (tx, bwt, bwino, tile, FALSE, bb, NULL, TRUE, NULL, ty, &error);
  g_assert_no_error (error);
  got = download (ty);
  assert_conv_windows ("conv +bias, relu past the binding", x, wt, bias, NULL, NULL, TRUE, c, h, w,
                       got);

  /* max-pool of those ReLU outputs, and its backward with the addend */
  tp = tensor_from (NULL, c, h / 2, w / 2);
  bw_ops_maxpool (ty, tp, &error);
  g_assert_no_error (error);
  pooled = download (tp);
  ref_maxpool (got, c, h, w, want_pool);
  want = g_new (double, n);
  for (gsize i = 0; i < np; i++)
    want[i] = want_pool[i];
  bw_test_assert_close ("maxpool past the binding", pooled, want, np, 0, 0);
  tdy = tensor_from (dy, c, h / 2, w / 2);
  tdx = tensor_from (NULL, c, h, w);
  bw_ops_maxpool_backward (tdy, ty, ta, tdx, &error);
  g_assert_no_error (error);
  g_clear_pointer (&pooled, g_free);
  pooled = download (tdx);
  ref_maxpool_backward (dy, got, c, h, w, want);
  for (gsize i = 0; i < n; i++)
    want[i] = got[i] > 0 ? want[i] + addend[i] : 0;
  bw_test_assert_close ("maxpool backward past the binding", pooled, want, n, 1e-6, 1e-6);

  /* the conv's other epilogue, addend and mask, read where the map's packs are */
  bw_ops_conv3x3 (tx, bwt, bwino, tile, FALSE, NULL, ta, FALSE, tm, ty, &error);
  g_assert_no_error (error);
  g_clear_pointer (&got, g_free);
  got = download (ty);
  assert_conv_windows ("conv +addend, mask past the binding", x, wt, NULL, addend, mask, FALSE, c,
                       h, w, got);

  /* 1x1: y = W1 x (W1: the first c x c of the 3x3 weights), at every 997th value (every
   * channel, pixels across the map); 64 products summed in float: within 1e-5 of the largest */
  for (gsize i = 0; i < (gsize) c * c; i++)
    w1[i] = wt[i];
  g_clear_pointer (&packed, g_free);
  packed = bw_tensor_pack_conv_weights (w1, c, c, 1, FALSE, &npacked);
  bw1 = bw_device_alloc_buffer (dev, npacked * sizeof (float), &error);
  g_assert_no_error (error);
  bw_device_write_buffer (dev, bw1, 0, packed, npacked * sizeof (float), &error);
  g_assert_no_error (error);
  bw_ops_conv (tx, bw1, 1, NULL, NULL, FALSE, NULL, ty, &error);
  g_assert_no_error (error);
  g_clear_pointer (&got, g_free);
  got = download (ty);
  {
    gsize m = 0;
    g_autofree float *part = g_new (float, n / 997 + 1);

    for (gsize i = 0; i < n; i += 997, m++)
      {
        gsize o = i / ((gsize) h * w), px = i % ((gsize) h * w);
        double v = 0;

        for (int k = 0; k < c; k++)
          v += (double) w1[o * c + k] * x[k * (gsize) h * w + px];
        want[m] = v;
        part[m] = got[i];
        max_want = MAX (max_want, fabs (v));
      }
    bw_test_assert_close ("1x1 conv past the binding", part, want, m, 1e-5 * max_want, 1e-5);
  }
  bw_device_free_buffer (dev, bwt);
  bw_device_free_buffer (dev, bwino);
  bw_device_free_buffer (dev, bb);
  bw_device_free_buffer (dev, bw1);
  bw_test_check_validation ();
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  g_setenv ("BRUSHWORK_DISPATCH_GFLOP", "0.02", TRUE);
  g_test_add_func ("/limits/group-count", test_group_count);
  g_test_add_func ("/limits/bounded-work", test_bounded_work);
  g_test_add_func ("/limits/binding", test_binding_limit);
  g_test_add_func ("/limits/feature-map-ranges", test_feature_map_ranges);
  ret = g_test_run ();
  bw_test_shutdown ();
  return ret;
}
