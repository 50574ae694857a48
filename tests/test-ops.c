/* test-ops.c: every compute shader against the plain-C reference, on seeded random data of
 * awkward shapes (odd sizes, 1x1 and 2x2 images, channel counts that are not multiples of 4).
 *
 * Tolerances: fp32 shaders against a double reference. Convs and Grams sum up to 9 x 64
 * products of values in [-1, 1]: fp32 rounding leaves ~1e-6 relative, so abs 1e-4 or rel 1e-4
 * (the bound) holds with margin. Elementwise ops are exact up to a few ulps: 1e-6.
 */
#include <string.h>

#include "bw-test-util.h"
#include "ops/bw-ops.h"
#include "reference/bw-reference.h"

#define CONV_ABS 1e-4
#define CONV_REL 1e-4
#define ELT_TOL 1e-6
/* Winograd F(4x4, 3x3) in fp32 is less exact than the direct sum: its transforms scale terms
 * by up to 5 (input), 8 (output) and 1/24 (weights), so the rounding error grows with the sum
 * rather than with each output. Measured on these tests: max abs error 4e-4 on outputs up to
 * ~60 (256 channels), i.e. <= 1e-5 of the largest output; F(6x6, 3x3) (transforms up to 21/4,
 * 32 and 32/45) 5.7e-4 on the same sums, 1-1.5x F(4x4, 3x3)'s errors case by case. The
 * bound is abs 1e-4 or 3e-5 of the largest |output| in the case, whichever is larger, and
 * rel 1e-4. (test-vgg19-torch checks features at 1e-4 of the max and gradients at 1e-3
 * normwise.) */
#define WINOGRAD_OF_MAX 3e-5

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

static BwBuffer *
buffer_from (const float *data,
             gsize        n)
{
  g_autoptr(GError) error = NULL;
  BwBuffer *b = bw_device_alloc_buffer (bw_test_device (), n * sizeof (float), &error);

  g_assert_no_error (error);
  bw_device_write_buffer (bw_test_device (), b, 0, data, n * sizeof (float), &error);
  g_assert_no_error (error);
  return b;
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

typedef struct {
  int ic, oc, h, w, k;
} ConvShape;

static const ConvShape conv_shapes[] = {
  { 3, 64, 5, 7, 3 },     /* the first VGG layer's channels, odd sizes */
  { 3, 64, 37, 45, 3 },   /* ... over many 4 x 2 tiles (conv3x3_in3.comp), cut at both edges */
  { 2, 5, 6, 3, 3 },      /* fewer than 3 channels in, a part-filled output pack */
  { 9, 2, 17, 19, 3 },    /* fewer than 3 channels out, from 3 packs */
  { 4, 4, 1, 1, 3 },      /* a single pixel: every tap but the centre is padding */
  { 64, 3, 2, 2, 3 },     /* back to image channels, 2x2 */
  { 64, 3, 45, 37, 3 },   /* one output pack over several 16 x 8 tiles, cut at both edges */
  { 5, 9, 9, 4, 3 },      /* channels that are not multiples of 4 */
  { 64, 64, 11, 13, 3 },
  { 12, 20, 6, 17, 1 },   /* 1x1, as the Gram backward uses */
  { 64, 64, 3, 5, 1 },
  { 128, 64, 19, 23, 1 }, /* 1x1 over several GEMM tile groups, as the Gram backward on a CPU */
};

/* forward: relu(conv + bias); and with addend and mask, no bias */
static void
test_conv_forward (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (1);

  for (gsize s = 0; s < G_N_ELEMENTS (conv_shapes); s++)
    for (int variant = 0; variant < 2; variant++)
      {
        const ConvShape *cs = &conv_shapes[s];
        gsize nx = (gsize) cs->ic * cs->h * cs->w, ny = (gsize) cs->oc * cs->h * cs->w;
        gsize nw = (gsize) cs->oc * cs->ic * cs->k * cs->k, npacked;
        g_autofree float *x = bw_test_random (rand, nx, -1, 1);
        g_autofree float *wt = bw_test_random (rand, nw, -1, 1);
        g_autofree float *bias = bw_test_random (rand, cs->oc, -1, 1);
        g_autofree float *addend = bw_test_random (rand, ny, -1, 1);
        g_autofree float *mask = bw_test_random (rand, ny, -1, 1);
        g_autofree float *packed = bw_tensor_pack_conv_weights (wt, cs->oc, cs->ic, cs->k, FALSE, &npacked);
        g_autofree float *bias4 = bw_tensor_pack4 (bias, cs->oc, 1);
        g_autofree double *want = g_new (double, ny);
        g_autofree float *got = NULL;
        g_autofree char *what = NULL;
        g_autoptr(BwTensor) tx = tensor_from (x, cs->ic, cs->h, cs->w);
        g_autoptr(BwTensor) ty = tensor_from (NULL, cs->oc, cs->h, cs->w);
        g_autoptr(BwTensor) ta = tensor_from (addend, cs->oc, cs->h, cs->w);
        g_autoptr(BwTensor) tm = tensor_from (mask, cs->oc, cs->h, cs->w);
        BwBuffer *bw = buffer_from (packed, npacked);
        BwBuffer *bb = buffer_from (bias4, (cs->oc + 3) / 4 * 4);
        g_autoptr(GError) error = NULL;

        if (variant == 0)
          {
            bw_ops_conv (tx, bw, cs->k, bb, NULL, TRUE, NULL, ty, &error);
            ref_conv (x, cs->ic, cs->h, cs->w, wt, bias, cs->oc, cs->k, want);
            for (gsize i = 0; i < ny; i++)
              want[i] = MAX (want[i], 0.0);
          }
        else
          {
            bw_ops_conv (tx, bw, cs->k, NULL, ta, FALSE, tm, ty, &error);
            ref_conv (x, cs->ic, cs->h, cs->w, wt, NULL, cs->oc, cs->k, want);
            for (gsize i = 0; i < ny; i++)
              want[i] = mask[i] > 0 ? want[i] + addend[i] : 0.0;
          }
        g_assert_no_error (error);
        got = download (ty);
        what = g_strdup_printf ("conv%dx%d %d->%d at %dx%d %s", cs->k, cs->k, cs->ic, cs->oc,
                                cs->w, cs->h, variant ? "+addend, mask" : "+bias, relu");
        bw_test_assert_close (what, got, want, ny, CONV_ABS, CONV_REL);
        bw_device_free_buffer (bw_test_device (), bw);
        bw_device_free_buffer (bw_test_device (), bb);
      }
  bw_test_check_validation ();
}

/* The input gradient through packed transposed-flipped weights, against the definition. */
static void
test_conv_input_grad (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (2);

  for (gsize s = 0; s < G_N_ELEMENTS (conv_shapes); s++)
    {
      const ConvShape *cs = &conv_shapes[s];
      gsize ndy = (gsize) cs->oc * cs->h * cs->w, ndx = (gsize) cs->ic * cs->h * cs->w;
      gsize nw = (gsize) cs->oc * cs->ic * cs->k * cs->k, npacked;
      g_autofree float *dy = bw_test_random (rand, ndy, -1, 1);
      g_autofree float *wt = bw_test_random (rand, nw, -1, 1);
      g_autofree float *packed = bw_tensor_pack_conv_weights (wt, cs->oc, cs->ic, cs->k, TRUE, &npacked);
      g_autofree double *want = g_new (double, ndx);
      g_autofree float *got = NULL;
      g_autofree char *what = NULL;
      g_autoptr(BwTensor) tdy = tensor_from (dy, cs->oc, cs->h, cs->w);
      g_autoptr(BwTensor) tdx = tensor_from (NULL, cs->ic, cs->h, cs->w);
      BwBuffer *bw = buffer_from (packed, npacked);
      g_autoptr(GError) error = NULL;

      bw_ops_conv (tdy, bw, cs->k, NULL, NULL, FALSE, NULL, tdx, &error);
      g_assert_no_error (error);
      got = download (tdx);
      ref_conv_input_grad (dy, cs->oc, cs->h, cs->w, wt, cs->ic, cs->k, want);
      what = g_strdup_printf ("conv%dx%d input gradient %d->%d at %dx%d", cs->k, cs->k,
                              cs->oc, cs->ic, cs->w, cs->h);
      bw_test_assert_close (what, got, want, ndx, CONV_ABS, CONV_REL);
      bw_device_free_buffer (bw_test_device (), bw);
    }
  bw_test_check_validation ();
}

/* The Winograd F(4x4, 3x3) and F(6x6, 3x3) paths (BRUSHWORK_WINOGRAD=always, set in main) on
 * the same awkward shapes plus VGG-sized sums: forward with bias and ReLU, with addend and mask,
 * and the input gradient through transformed transposed-flipped weights. main also lowers the
 * scratch cap so that the bigger maps go through in several chunks of tiles, the last one short
 * (37x29 at 128 -> 64 channels: 80 tiles of 4x4 in chunks of 7, 35 of 6x6 in chunks of 3).
 * Devices without shaderInt64 fall back to the direct kernel, which must pass the same checks.
 * Tolerance: see WINOGRAD_OF_MAX. */
static const ConvShape winograd_shapes[] = {
  { 3, 64, 5, 7, 3 }, { 4, 4, 1, 1, 3 }, { 64, 3, 2, 2, 3 }, { 5, 9, 9, 4, 3 },
  { 64, 64, 11, 13, 3 }, { 17, 30, 8, 8, 3 },
  { 256, 256, 9, 10, 3 },   /* 2304 products per output, as conv3_x and conv4_1's gradient */
  { 128, 64, 37, 29, 3 },   /* several GEMM tile groups, edge tiles on both sides */
};

/* The Winograd weights, G g G^T for each 3x3 kernel, against the definition: the nine taps
 * (g[a][ky] g[b][kx]) w[ky][kx] summed in this order in double and rounded once, which the
 * parity tests' near-ties rely on bit for bit (bw_ops_pack_winograd_weights_into()). So the
 * comparison is exact. 80 x 72 channels make 360 blocks, shared between threads where there
 * are several processors; a tenth of the weights are +0 or -0, whose products are left out. */
static void
test_winograd_weights (gconstpointer data)
{
  int tile = GPOINTER_TO_INT (data), alpha = tile + 2, oc = 80, ic = 72;
  static const double g43[6][3] = {
    { 1.0 / 4, 0, 0 }, { -1.0 / 6, -1.0 / 6, -1.0 / 6 }, { -1.0 / 6, 1.0 / 6, -1.0 / 6 },
    { 1.0 / 24, 1.0 / 12, 1.0 / 6 }, { 1.0 / 24, -1.0 / 12, 1.0 / 6 }, { 0, 0, 1 },
  };
  static const double g63[8][3] = {
    { 1, 0, 0 }, { -2.0 / 9, -2.0 / 9, -2.0 / 9 }, { -2.0 / 9, 2.0 / 9, -2.0 / 9 },
    { 1.0 / 90, 1.0 / 45, 2.0 / 45 }, { 1.0 / 90, -1.0 / 45, 2.0 / 45 },
    { 32.0 / 45, 16.0 / 45, 8.0 / 45 }, { 32.0 / 45, -16.0 / 45, 8.0 / 45 }, { 0, 0, 1 },
  };
  const double (*g)[3] = tile == 6 ? g63 : g43;
  g_autoptr(GRand) rand = g_rand_new_with_seed (17);
  g_autofree float *w = bw_test_random (rand, (gsize) oc * ic * 9, -1, 1);
  g_autofree float *packed = NULL;
  g_autofree float *wino = NULL;
  int ic4 = (ic + 3) / 4, oc4 = (oc + 3) / 4;
  gsize n, mismatches = 0;

  for (gsize i = 0; i < (gsize) oc * ic * 9; i += 10)
    w[i] = i % 20 ? 0.0f : -0.0f;
  packed = bw_tensor_pack_conv_weights (w, oc, ic, 3, FALSE, NULL);
  wino = bw_ops_pack_winograd_weights (packed, oc, ic, tile, &n);
  g_assert_cmpuint (n, ==, (gsize) alpha * alpha * oc4 * ic4 * 16);
  for (int a = 0; a < alpha; a++)
    for (int b = 0; b < alpha; b++)
      for (int o = 0; o < oc; o++)
        for (int i = 0; i < ic; i++)
          {
            const float *k = w + ((gsize) o * ic + i) * 9;
            double sum = 0;
            float want, got;

            for (int t = 0; t < 9; t++)
              sum += (g[a][t / 3] * g[b][t % 3]) * k[t];
            want = sum;
            got = wino[((((gsize) a * alpha + b) * oc4 + o / 4) * ic4 + i / 4) * 16 +
                       (i % 4) * 4 + o % 4];
            if (memcmp (&want, &got, sizeof want) != 0 && mismatches++ < 5)
              g_test_message ("point (%d, %d), kernel (%d, %d): %.9g, want %.9g",
                              a, b, o, i, got, want);
          }
  g_assert_cmpuint (mismatches, ==, 0);
}

static void
test_conv_winograd (gconstpointer data)
{
  int tile = GPOINTER_TO_INT (data);
  g_autoptr(GRand) rand = g_rand_new_with_seed (8);

  for (gsize s = 0; s < G_N_ELEMENTS (winograd_shapes); s++)
    for (int variant = 0; variant < 4; variant++)
      {
        const ConvShape *cs = &winograd_shapes[s];
        gboolean grad = variant >= 2;
        /* variant 3: the input gradient through the forward weights, read flipped */
        gboolean flipped = variant == 3;

        if (flipped && !bw_ops_winograd_flip_shared (bw_test_device (), tile))
          continue;   /* not offered where the forward weights cannot be read flipped */
        int cin = grad ? cs->oc : cs->ic, cout = grad ? cs->ic : cs->oc;
        gsize nx = (gsize) cin * cs->h * cs->w, ny = (gsize) cout * cs->h * cs->w;
        gsize nw = (gsize) cs->oc * cs->ic * 9, npacked, nwino;
        g_autofree float *x = bw_test_random (rand, nx, -1, 1);
        g_autofree float *wt = bw_test_random (rand, nw, -1, 1);
        g_autofree float *bias = bw_test_random (rand, cout, -1, 1);
        g_autofree float *addend = bw_test_random (rand, ny, -1, 1);
        g_autofree float *mask = bw_test_random (rand, ny, -1, 1);
        g_autofree float *packed = bw_tensor_pack_conv_weights (wt, cs->oc, cs->ic, 3, grad, &npacked);
        g_autofree float *packed_fwd = bw_tensor_pack_conv_weights (wt, cs->oc, cs->ic, 3, FALSE, NULL);
        g_autofree float *wino = flipped
          ? bw_ops_pack_winograd_weights (packed_fwd, cs->oc, cs->ic, tile, &nwino)
          : bw_ops_pack_winograd_weights (packed, cout, cin, tile, &nwino);
        g_autofree float *bias4 = bw_tensor_pack4 (bias, cout, 1);
        g_autofree double *want = g_new (double, ny);
        g_autofree float *got = NULL;
        g_autofree char *what = NULL;
        g_autoptr(BwTensor) tx = tensor_from (x, cin, cs->h, cs->w);
        g_autoptr(BwTensor) ty = tensor_from (NULL, cout, cs->h, cs->w);
        g_autoptr(BwTensor) ta = tensor_from (addend, cout, cs->h, cs->w);
        g_autoptr(BwTensor) tm = tensor_from (mask, cout, cs->h, cs->w);
        BwBuffer *bw = buffer_from (packed, npacked);
        BwBuffer *bwino = buffer_from (wino, nwino);
        BwBuffer *bb = buffer_from (bias4, (cout + 3) / 4 * 4);
        g_autoptr(GError) error = NULL;
        double max_want = 0;

        if (variant == 0)
          {
            bw_ops_conv3x3 (tx, bw, bwino, tile, FALSE, bb, NULL, TRUE, NULL, ty, &error);
            ref_conv (x, cin, cs->h, cs->w, wt, bias, cout, 3, want);
            for (gsize i = 0; i < ny; i++)
              want[i] = MAX (want[i], 0.0);
          }
        else if (variant == 1)
          {
            bw_ops_conv3x3 (tx, bw, bwino, tile, FALSE, NULL, ta, FALSE, tm, ty, &error);
            ref_conv (x, cin, cs->h, cs->w, wt, NULL, cout, 3, want);
            for (gsize i = 0; i < ny; i++)
              want[i] = mask[i] > 0 ? want[i] + addend[i] : 0.0;
          }
        else
          {
            bw_ops_conv3x3 (tx, bw, bwino, tile, flipped, NULL, NULL, FALSE, NULL, ty, &error);
            ref_conv_input_grad (x, cs->oc, cs->h, cs->w, wt, cs->ic, 3, want);
          }
        g_assert_no_error (error);
        got = download (ty);
        what = g_strdup_printf ("winograd F(%dx%d, 3x3) %s %d->%d at %dx%d", tile, tile,
                                variant == 0 ? "+bias, relu" : variant == 1 ? "+addend, mask"
                                : flipped ? "input gradient, forward weights flipped" : "input gradient",
                                cin, cout, cs->w, cs->h);
        for (gsize i = 0; i < ny; i++)
          max_want = MAX (max_want, fabs (want[i]));
        bw_test_assert_close (what, got, want, ny, MAX (CONV_ABS, WINOGRAD_OF_MAX * max_want),
                              CONV_REL);
        bw_device_free_buffer (bw_test_device (), bw);
        bw_device_free_buffer (bw_test_device (), bwino);
        bw_device_free_buffer (bw_test_device (), bb);
      }
  bw_test_check_validation ();
}

typedef struct { int c, h, w; } PoolShape;
static const PoolShape pool_shapes[] = {
  { 3, 7, 5 }, { 64, 8, 8 }, { 5, 2, 2 }, { 4, 3, 1 }, { 9, 13, 10 },
};

/* Values from a small set, so that windows hold ties and zeros (the ReLU's mask). */
static float *
tied_values (GRand *rand,
             gsize  n)
{
  float *v = g_new (float, n);

  for (gsize i = 0; i < n; i++)
    v[i] = (float) g_rand_int_range (rand, -1, 3);
  return v;
}

static void
test_maxpool (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (3);

  for (gsize s = 0; s < G_N_ELEMENTS (pool_shapes); s++)
    {
      const PoolShape *ps = &pool_shapes[s];
      int oh = ps->h / 2, ow = ps->w / 2;
      gsize nx = (gsize) ps->c * ps->h * ps->w, ny = (gsize) ps->c * oh * ow;
      g_autofree float *x = tied_values (rand, nx);
      g_autofree float *want_f = g_new (float, MAX (ny, 1));
      g_autofree double *want = g_new (double, MAX (ny, 1));
      g_autofree float *got = NULL;
      g_autoptr(BwTensor) tx = tensor_from (x, ps->c, ps->h, ps->w);
      g_autoptr(BwTensor) ty = NULL;
      g_autoptr(GError) error = NULL;

      if (ny == 0)
        continue;
      ty = tensor_from (NULL, ps->c, oh, ow);
      bw_ops_maxpool (tx, ty, &error);
      g_assert_no_error (error);
      got = download (ty);
      ref_maxpool (x, ps->c, ps->h, ps->w, want_f);
      for (gsize i = 0; i < ny; i++)
        want[i] = want_f[i];
      bw_test_assert_close ("maxpool", got, want, ny, 0, 0);
    }
  bw_test_check_validation ();
}

/* relu -> maxpool backward with a tap's addend: (route(dy) + addend) * (x > 0) */
static void
test_maxpool_backward (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (4);

  for (gsize s = 0; s < G_N_ELEMENTS (pool_shapes); s++)
    for (int with_addend = 0; with_addend < 2; with_addend++)
      {
        const PoolShape *ps = &pool_shapes[s];
        int oh = ps->h / 2, ow = ps->w / 2;
        gsize nx = (gsize) ps->c * ps->h * ps->w, ny = (gsize) ps->c * oh * ow;
        g_autofree float *x = tied_values (rand, nx);
        g_autofree float *dy = NULL;
        g_autofree float *addend = bw_test_random (rand, nx, -1, 1);
        g_autofree double *want = g_new (double, nx);
        g_autofree float *got = NULL;
        g_autoptr(BwTensor) tx = NULL, tdy = NULL, tdx = NULL, ta = NULL;
        g_autoptr(GError) error = NULL;

        if (ny == 0)
          continue;
        /* ReLU outputs are never negative */
        for (gsize i = 0; i < nx; i++)
          x[i] = MAX (x[i], 0.0f);
        dy = bw_test_random (rand, ny, -1, 1);
        tx = tensor_from (x, ps->c, ps->h, ps->w);
        tdy = tensor_from (dy, ps->c, oh, ow);
        tdx = tensor_from (NULL, ps->c, ps->h, ps->w);
        ta = tensor_from (addend, ps->c, ps->h, ps->w);
        bw_ops_maxpool_backward (tdy, tx, with_addend ? ta : NULL, tdx, &error);
        g_assert_no_error (error);
        got = download (tdx);
        ref_maxpool_backward (dy, x, ps->c, ps->h, ps->w, want);
        for (gsize i = 0; i < nx; i++)
          want[i] = x[i] > 0 ? want[i] + (with_addend ? addend[i] : 0) : 0;
        bw_test_assert_close ("maxpool backward", got, want, nx, ELT_TOL, ELT_TOL);
      }
  bw_test_check_validation ();
}

static void
test_gram (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (5);
  /* the last three have enough pixels for gram.comp to split them and sum the partials, and
   * channel counts that fill its 16-channel blocks partly */
  const PoolShape shapes[] = {
    { 3, 5, 7 }, { 64, 9, 11 }, { 5, 1, 1 }, { 130, 4, 3 }, { 64, 41, 40 }, { 20, 33, 31 },
    { 9, 97, 61 },
  };

  for (gsize s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      int c = shapes[s].c, n = shapes[s].h * shapes[s].w, c4 = (c + 3) / 4;
      g_autofree float *f = bw_test_random (rand, (gsize) c * n, -1, 1);
      g_autofree double *want = g_new (double, (gsize) c * c);
      g_autofree float *blocks = g_new (float, (gsize) c4 * c4 * 16);
      g_autofree float *again = g_new (float, (gsize) c4 * c4 * 16);
      g_autofree float *got = g_new (float, (gsize) c * c);
      g_autofree char *what = NULL;
      g_autoptr(BwTensor) tf = tensor_from (f, c, shapes[s].h, shapes[s].w);
      g_autoptr(GError) error = NULL;
      BwBuffer *g = bw_device_alloc_buffer (bw_test_device (), bw_ops_gram_size (c), &error);

      g_assert_no_error (error);
      bw_ops_gram (tf, g, &error);
      g_assert_no_error (error);
      bw_device_submit (bw_test_device (), &error);
      g_assert_no_error (error);
      bw_device_read_buffer (bw_test_device (), g, 0, blocks, bw_ops_gram_size (c), &error);
      g_assert_no_error (error);
      /* block (i4, j4), column jj, row r holds G[4 i4 + r][4 j4 + jj] */
      for (int i = 0; i < c; i++)
        for (int j = 0; j < c; j++)
          got[i * c + j] = blocks[(((gsize) (i / 4) * c4 + j / 4) * 4 + j % 4) * 4 + i % 4];
      ref_gram (f, c, n, want);
      what = g_strdup_printf ("gram of %d channels over %d pixels", c, n);
      bw_test_assert_close (what, got, want, (gsize) c * c, CONV_ABS, CONV_REL);
      /* the pixel splits are summed in a fixed order: a second run gives the same bits */
      bw_ops_gram (tf, g, &error);
      g_assert_no_error (error);
      bw_device_submit (bw_test_device (), &error);
      g_assert_no_error (error);
      bw_device_read_buffer (bw_test_device (), g, 0, again, bw_ops_gram_size (c), &error);
      g_assert_no_error (error);
      g_assert_cmpmem (blocks, bw_ops_gram_size (c), again, bw_ops_gram_size (c));
      bw_device_free_buffer (bw_test_device (), g);
    }
  bw_test_check_validation ();
}

/* eltwise in every combination, reductions, affine */
static void
test_elementwise (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (6);
  const guint n4 = 10007;   /* more than two reduce chunks, not a multiple of the group */
  const gsize n = n4 * 4;
  g_autofree float *a = bw_test_random (rand, n, -1, 1);
  g_autofree float *b = bw_test_random (rand, n, -1, 1);
  g_autofree float *c = bw_test_random (rand, n, -1, 1);
  g_autofree float *m = bw_test_random (rand, n, -1, 1);
  g_autofree float *got = g_new (float, n);
  g_autofree double *want = g_new (double, n);
  BwDevice *dev = bw_test_device ();
  BwBuffer *ba = buffer_from (a, n), *bb = buffer_from (b, n), *bc = buffer_from (c, n);
  BwBuffer *bm = buffer_from (m, n), *bo = buffer_from (a, n);
  g_autoptr(GError) error = NULL;
  const float k = 0.37f, s = -1.9f;

  for (int combo = 0; combo < 8; combo++)
    {
      gboolean hb = combo & 1, hc = combo & 2, hm = combo & 4;
      g_autofree char *what = g_strdup_printf ("eltwise b=%d c=%d m=%d", hb, hc != 0, hm != 0);

      bw_ops_eltwise (dev, ba, hb ? bb : NULL, hc ? bc : NULL, hm ? bm : NULL, k, s, bo, n4, &error);
      g_assert_no_error (error);
      bw_device_read_buffer (dev, bo, 0, got, n * sizeof (float), &error);
      g_assert_no_error (error);
      for (gsize i = 0; i < n; i++)
        {
          double v = k * ((double) s * a[i] - (hb ? b[i] : 0)) + (hc ? c[i] : 0);
          want[i] = hm && !(m[i] > 0) ? 0 : v;
        }
      bw_test_assert_close (what, got, want, n, ELT_TOL, ELT_TOL);
    }

  /* reductions: the partials, combined in order, against the reference over all elements */
  for (int mode = 0; mode < 5; mode++)
    {
      BwReduce r = mode < 2 ? BW_REDUCE_SQDIFF : (BwReduce) (mode - 1);
      gboolean hb = mode == 1 || r == BW_REDUCE_DOT;
      guint np = bw_ops_reduce_n_partials (n4);
      g_autofree float *parts = g_new (float, np + 3);
      g_autofree char *what = g_strdup_printf ("reduce mode %d%s", r, hb ? " with b" : "");
      BwBuffer *bp = bw_device_alloc_buffer (dev, (np + 3) * sizeof (float), &error);
      double acc = 0, ref = 0;
      float acc_f;

      g_assert_no_error (error);
      g_assert_cmpuint (bw_ops_reduce (dev, r, ba, hb ? bb : NULL, s, n4, bp, 3, &error), ==, np);
      g_assert_no_error (error);
      bw_device_read_buffer (dev, bp, 0, parts, (np + 3) * sizeof (float), &error);
      g_assert_no_error (error);
      for (guint i = 0; i < np; i++)
        acc = r == BW_REDUCE_MAX_ABS ? MAX (acc, parts[3 + i]) : acc + parts[3 + i];
      for (gsize i = 0; i < n; i++)
        {
          double d = (double) s * a[i] - (hb ? b[i] : 0);
          switch (r)
            {
            case BW_REDUCE_SQDIFF: ref += d * d; break;
            case BW_REDUCE_DOT: ref += (double) a[i] * b[i]; break;
            case BW_REDUCE_MAX_ABS: ref = MAX (ref, fabs (a[i])); break;
            case BW_REDUCE_SUM_ABS: default: ref += fabs (a[i]); break;
            }
        }
      acc_f = acc;
      /* 40028 terms summed in fp32 in groups of 64 then in double: relative error ~1e-6;
       * a dot product of signed terms cancels, so it gets an absolute bound instead */
      bw_test_assert_close (what, &acc_f, &ref, 1, r == BW_REDUCE_DOT ? 1e-3 : 0, 1e-5);
      bw_device_free_buffer (dev, bp);
    }

  /* affine on a 3-channel image: the ImageNet normalisation */
  {
    const int h = 5, w = 3;
    const float scale[4] = { 2, -3, 0.5f, 1 }, shift[4] = { 0.25f, 1, -2, 0 };
    g_autofree double *want_img = g_new (double, 3 * h * w);
    g_autofree float *got_img = NULL;
    g_autoptr(BwTensor) tx = tensor_from (a, 3, h, w);
    g_autoptr(BwTensor) ty = tensor_from (NULL, 3, h, w);

    bw_ops_affine (tx, scale, shift, ty, &error);
    g_assert_no_error (error);
    got_img = download (ty);
    for (int ch = 0; ch < 3; ch++)
      for (int i = 0; i < h * w; i++)
        want_img[ch * h * w + i] = (double) a[ch * h * w + i] * scale[ch] + shift[ch];
    bw_test_assert_close ("affine", got_img, want_img, 3 * h * w, ELT_TOL, ELT_TOL);
  }

  bw_device_free_buffer (dev, ba);
  bw_device_free_buffer (dev, bb);
  bw_device_free_buffer (dev, bc);
  bw_device_free_buffer (dev, bm);
  bw_device_free_buffer (dev, bo);
  bw_test_check_validation ();
}

/* Ten Adam steps with changing gradients against the reference rule. */
static void
test_adam (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  const int c = 3, h = 7, w = 5, n = c * h * w;
  g_autofree float *x = bw_test_random (rand, n, 0, 1);
  g_autofree double *m = g_new0 (double, n);
  g_autofree double *v = g_new0 (double, n);
  g_autofree double *want = g_new (double, n);
  g_autoptr(BwTensor) tx = tensor_from (x, c, h, w);
  g_autoptr(BwTensor) tg = tensor_from (NULL, c, h, w);
  BwDevice *dev = bw_test_device ();
  BwBuffer *bm = NULL, *bv = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree float *zeros = g_new0 (float, (gsize) ((c + 3) / 4) * h * w * 4);

  bm = buffer_from (zeros, (gsize) ((c + 3) / 4) * h * w * 4);
  bv = buffer_from (zeros, (gsize) ((c + 3) / 4) * h * w * 4);
  for (int step = 1; step <= 10; step++)
    {
      /* gradients spanning magnitudes, as image gradients do */
      g_autofree float *g = bw_test_random (rand, n, -1, 1);
      g_autofree float *got = NULL;

      for (int i = 0; i < n; i++)
        g[i] *= powf (10.0f, (float) (i % 7) - 4);
      bw_tensor_upload (tg, g, &error);
      g_assert_no_error (error);
      bw_ops_adam (dev, bw_tensor_get_buffer (tx), bw_tensor_get_buffer (tg), bm, bv,
                   bw_tensor_get_n_vec4 (tx), 0.003, 0.9, 0.999, 1e-8, step, &error);
      g_assert_no_error (error);
      got = download (tx);
      ref_adam_step (x, g, m, v, n, 0.003, 0.9, 0.999, 1e-8, step);
      for (int i = 0; i < n; i++)
        want[i] = x[i];
      /* parameters near 1 move by ~lr per step; fp32 keeps them to ~1e-7 */
      bw_test_assert_close ("adam", got, want, n, 1e-6, 1e-6);
    }
  bw_device_free_buffer (dev, bm);
  bw_device_free_buffer (dev, bv);
  bw_test_check_validation ();
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  g_setenv ("BRUSHWORK_WINOGRAD", "always", TRUE);
  g_setenv ("BRUSHWORK_WINOGRAD_CHUNK", G_STRINGIFY (36 * 32 * 16 * 7), TRUE);
  g_test_add_func ("/ops/conv/forward", test_conv_forward);
  g_test_add_func ("/ops/conv/input-grad", test_conv_input_grad);
  g_test_add_data_func ("/ops/conv/winograd43", GINT_TO_POINTER (4), test_conv_winograd);
  g_test_add_data_func ("/ops/conv/winograd63", GINT_TO_POINTER (6), test_conv_winograd);
  g_test_add_data_func ("/ops/winograd-weights/43", GINT_TO_POINTER (4), test_winograd_weights);
  g_test_add_data_func ("/ops/winograd-weights/63", GINT_TO_POINTER (6), test_winograd_weights);
  g_test_add_func ("/ops/maxpool/forward", test_maxpool);
  g_test_add_func ("/ops/maxpool/backward", test_maxpool_backward);
  g_test_add_func ("/ops/gram", test_gram);
  g_test_add_func ("/ops/elementwise", test_elementwise);
  g_test_add_func ("/ops/adam", test_adam);
  ret = g_test_run ();
  bw_test_shutdown ();
  return ret;
}
