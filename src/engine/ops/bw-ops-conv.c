/* bw-ops-conv.c: the convolutions: direct (conv.comp, and conv3x3_in3.comp for VGG19's first
 * layer), 1x1 as a GEMM, and Winograd F(4x4, 3x3) and F(6x6, 3x3) with their weight
 * transforms. */
#include "bw-ops-private.h"

#include <math.h>

/* conv.comp's tile per invocation: TO output packs x TY rows x TX pixels. On lavapipe every
 * load is a scalar loop over the lanes, so big register tiles and one subgroup per
 * workgroup (8 lanes) win (docs/lavapipe-kernels.md). GPUs get the same kernel with wider
 * workgroups until a shared-memory variant exists. */
#define CONV_TO 4
#define CONV_TX 8
#define CONV_TY 4

/* winograd_gemm.comp's tile: TO output packs x TT tiles (4x4 or 6x6 px), 256 accumulators:
 * measured on lavapipe against 4x32, 8x16, 8x32, 16x8, 16x24, 32x8 and 32x16, it loads
 * the fewest bytes per product that still pays (all convs at 384 px: 2.84 s, 4x32: 3.80 s).
 * Layers of fewer than 64 output channels take TO = 4 rather than idle lanes. The path is
 * taken for 3x3 convs with at least WINOGRAD_MIN_CHANNELS in and out (conv1_1 and its gradient,
 * with 3 channels, lose: the transforms cost more than the products save). Measured on lavapipe
 * (docs/lavapipe-kernels.md), it wins on every other VGG19 layer down to 12x12 maps (9 tiles),
 * 1.2x on conv1_2 to 3x on conv4_x. Big maps are transformed in chunks of tiles so that the
 * scratch buffers V and M stay under WINOGRAD_CHUNK_BYTES (and the device's buffer range).
 * GPUs take winograd_gemm_tiled.comp instead, a shared-memory tiled GEMM (see conv_winograd). */
#define WINOGRAD_TO 16
#define WINOGRAD_TT 16
#define WINOGRAD_MIN_CHANNELS 16
#define WINOGRAD_CHUNK_BYTES (64u << 20)
/* On a CPU the chunks are smaller, so that V and M stay in its caches between the three
 * passes: 2 MiB took a 512 px step of F(6x6, 3x3) from 2.49 s to 2.21-2.32 s on lavapipe
 * (1 MiB: 3.1 s, its wide layers' chunks too few tiles to fill the GEMM; 4 MiB: 2.49 s).
 * But the GEMM reads all of the transformed weights U once per chunk, and conv4_x's U (64 MiB
 * at F(6x6, 3x3)) is 32 such chunks: so a chunk is no smaller than U / WINOGRAD_CPU_U_SHARE.
 * conv4_2 at 512 px forward 131-136 -> 108-116 ms; the step, alternated five times, median
 * 2.62 -> 2.45 s (U / 1: 2.67, U / 4: 2.55; docs/lavapipe-kernels.md). */
#define WINOGRAD_CPU_CHUNK_BYTES (2u << 20)
#define WINOGRAD_CPU_U_SHARE 2


/* A 1x1 conv without an epilogue (the Gram matrices' gradient, bw-losses.c) is a plain product
 * [OC x IC] x [IC x H*W] of a pack4 map: on a CPU device winograd_gemm.comp with one position
 * takes it, its weights being in conv.comp's layout already, at about twice conv.comp's rate
 * there (docs/lavapipe-kernels.md). */
static gboolean
conv1x1_gemm (BwTensor  *x,
              BwBuffer  *weights,
              BwTensor  *y,
              GError   **error)
{
  BwDevice *dev = bw_tensor_get_device (x);
  int ic4 = packs (bw_tensor_get_channels (x)), oc4 = packs (bw_tensor_get_channels (y));
  int t = bw_tensor_get_height (x) * bw_tensor_get_width (x);
  guint32 to = oc4 >= WINOGRAD_TO ? WINOGRAD_TO : 4;
  const guint32 spec[] = { 8, to, WINOGRAD_TT, 1 };   /* 8: one subgroup, as conv_winograd */
  double pixel_flops = 2.0 * 16.0 * ic4 * oc4;
  guint64 per_dispatch = MIN ((guint64) MAX (1, _bw_ops_dispatch_flops () / pixel_flops),
                              (guint64) bw_device_get_max_group_count (dev, 0) * 8 * WINOGRAD_TT);
  BwBuffer *buffers[] = { bw_tensor_get_buffer (x), weights, bw_tensor_get_buffer (y) };
  gboolean texel = _bw_ops_texel_readable (dev, buffers, 2);
  guint64 plane_bytes = (guint64) t * 16;
  gint32 range = _bw_ops_pack_range (dev, oc4, to, &plane_bytes, 1);
  BwPipeline *pipe;

  pipe = bw_device_get_pipeline (dev, texel ? "winograd_gemm_texel" : "winograd_gemm", spec,
                                 G_N_ELEMENTS (spec), 3, 7 * sizeof (gint32), error);
  if (pipe == NULL)
    return FALSE;
  for (guint64 t0 = 0; t0 < (guint64) t; t0 += per_dispatch)
    {
      gint32 n = MIN (per_dispatch, t - t0);

      /* a map larger than one binding is written a range of packs at a time */
      for (gint32 o0 = 0; o0 < oc4; o0 += range)
        {
          gint32 o1 = MIN (o0 + range, oc4);
          struct { gint32 t, ic4, oc4, t0, n, o0, o1; } push = { t, ic4, oc4, t0, n, o0, o1 };
          const guint64 offsets[] = { 0, 0, o0 * plane_bytes };

          bw_device_dispatch_at (dev, pipe, buffers, offsets, &push,
                                 div_up (div_up (n, WINOGRAD_TT), 8),
                                 div_up (o1 - o0, to), 1);
        }
      if (!_bw_ops_note_work (dev, n * pixel_flops, error))
        return FALSE;
    }
  return TRUE;
}

/* How many tiles of @tile_flops each one dispatch of workgroups of @local takes: whole
 * workgroups, under the bounded work per dispatch and the device's group count. */
static guint64
tiles_per_dispatch (BwDevice *dev,
                    double    tile_flops,
                    guint     local)
{
  guint64 n = MAX (1, (guint64) (_bw_ops_dispatch_flops () / tile_flops) / local) * local;

  return MIN (n, (guint64) bw_device_get_max_group_count (dev, 0) * local);
}

/* VGG19's first layer has 3 input channels: on devices that read through texel views it takes
 * a kernel of its own, conv3x3_in3.comp, at twice conv.comp's rate on lavapipe (its input
 * gradient, 3 channels out, measured no faster with vec3 sums: docs/lavapipe-kernels.md).
 * The kernel's tile of pixels: */
#define IN3_TX 4
#define IN3_TY 2

static gboolean
conv3x3_in3 (BwTensor  *x,
             BwBuffer  *weights,
             BwBuffer  *bias,
             gboolean   relu,
             BwTensor  *y,
             GError   **error)
{
  BwDevice *dev = bw_tensor_get_device (x);
  gint32 h = bw_tensor_get_height (x), w = bw_tensor_get_width (x);
  gint32 oc4 = packs (bw_tensor_get_channels (y));
  guint local = bw_device_is_cpu (dev) ? 8 : 64;
  const guint32 spec[] = { local, bias != NULL, relu };
  BwBuffer *buffers[] = { bw_tensor_get_buffer (x), weights, bias, bw_tensor_get_buffer (y) };
  guint64 tiles = (guint64) div_up (w, IN3_TX) * div_up (h, IN3_TY);
  double tile_flops = 2.0 * IN3_TX * IN3_TY * 27 * 4 * oc4;
  guint64 per_dispatch = tiles_per_dispatch (dev, tile_flops, local);
  guint64 plane_bytes = (guint64) h * w * 16;
  gint32 range = _bw_ops_pack_range (dev, oc4, 1, &plane_bytes, 1);
  BwPipeline *pipe;

  pipe = bw_device_get_pipeline (dev, "conv3x3_in3", spec, G_N_ELEMENTS (spec), 4,
                                 5 * sizeof (gint32), error);
  if (pipe == NULL)
    return FALSE;
  for (guint64 t0 = 0; t0 < tiles; t0 += per_dispatch)
    {
      guint64 n = MIN (per_dispatch, tiles - t0);

      /* a map larger than one binding is written a range of packs at a time */
      for (gint32 o0 = 0; o0 < oc4; o0 += range)
        {
          struct { gint32 h, w, o0, o1, t0; } push = { h, w, o0, MIN (o0 + range, oc4), t0 };
          const guint64 offsets[] = { 0, 0, 0, o0 * plane_bytes };

          bw_device_dispatch_at (dev, pipe, buffers, offsets, &push, div_up (n, local), 1, 1);
        }
      if (!_bw_ops_note_work (dev, n * tile_flops, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
bw_ops_conv (BwTensor  *x,
             BwBuffer  *weights,
             int        k,
             BwBuffer  *bias,
             BwTensor  *addend,
             gboolean   relu,
             BwTensor  *mask,
             BwTensor  *y,
             GError   **error)
{
  BwDevice *dev = bw_tensor_get_device (x);
  int h = bw_tensor_get_height (x), w = bw_tensor_get_width (x);
  guint local = bw_device_is_cpu (dev) ? 8 : 64;
  int ic4 = packs (bw_tensor_get_channels (x)), oc4 = packs (bw_tensor_get_channels (y));
  /* Fewer output packs than a tile holds (the input gradient of conv1_1 has one) would compute
   * clamped duplicates: such a tile takes more pixels instead, keeping its TO x TY x TX at most
   * 128 accumulators (conv1_1's input gradient: 2.3x the GFLOP/s of 4 x 8 x 4 on lavapipe). */
  guint32 to = MIN (CONV_TO, oc4), tx = to <= 2 ? 2 * CONV_TX : CONV_TX;
  guint32 ty = to == 1 ? 2 * CONV_TY : CONV_TY;
  const guint32 spec[] = {
    local, k, bias != NULL, addend != NULL, relu, mask != NULL, to, tx, ty
  };
  guint64 tiles = (guint64) div_up (w, tx) * div_up (h, ty);
  /* work of one tile over all output packs (padded lanes count: they are computed) */
  double tile_flops = 2.0 * tx * ty * k * k * 16.0 * ic4 * oc4;
  guint64 per_dispatch = tiles_per_dispatch (dev, tile_flops, local);
  BwBuffer *buffers[] = {
    bw_tensor_get_buffer (x), weights, bias,
    addend ? bw_tensor_get_buffer (addend) : NULL,
    mask ? bw_tensor_get_buffer (mask) : NULL,
    bw_tensor_get_buffer (y),
  };
  BwBuffer *texel_buffers[] = { buffers[0], weights, bias };
  guint64 plane_bytes;
  gint32 range;
  gboolean big_x;
  BwPipeline *pipe;

  g_return_val_if_fail (k == 1 || k == 3, FALSE);
  g_return_val_if_fail (bw_tensor_get_height (y) == h && bw_tensor_get_width (y) == w, FALSE);

  if (k == 1 && bias == NULL && addend == NULL && !relu && mask == NULL &&
      bw_device_is_cpu (dev) && bw_device_has_int64 (dev))
    return conv1x1_gemm (x, weights, y, error);
  if (k == 3 && bw_tensor_get_channels (x) <= 3 && addend == NULL && mask == NULL &&
      bw_device_has_int64 (dev) &&
      _bw_ops_texel_readable (dev, texel_buffers, G_N_ELEMENTS (texel_buffers)))
    return conv3x3_in3 (x, weights, bias, relu, y, error);

  /* a map larger than one binding is read through its texel view (bw_tensor_fits()), and
   * written a range of packs at a time, bound from the range's first */
  plane_bytes = (guint64) h * w * 16;
  range = _bw_ops_pack_range (dev, oc4, to, &plane_bytes, 1);
  big_x = ic4 * plane_bytes > bw_device_get_max_buffer_size (dev);
  g_return_val_if_fail (!big_x || (bw_device_has_int64 (dev) &&
                                   _bw_ops_texel_readable (dev, buffers, 1)), FALSE);
  pipe = bw_device_get_pipeline (dev, big_x ? "conv_texel"
                                            : bw_device_has_int64 (dev) ? "conv" : "conv_noint64",
                                 spec, G_N_ELEMENTS (spec), 6, sizeof (gint32[7]), error);
  if (pipe == NULL)
    return FALSE;
  for (guint64 t0 = 0; t0 < tiles; t0 += per_dispatch)
    {
      guint64 n = MIN (per_dispatch, tiles - t0);

      for (gint32 o0 = 0; o0 < oc4; o0 += range)
        {
          gint32 o1 = MIN (o0 + range, oc4);
          struct { gint32 h, w, ic4, oc4, t0, o0, o1; } push = { h, w, ic4, oc4, t0, o0, o1 };
          guint64 at = o0 * plane_bytes;
          const guint64 offsets[] = { 0, 0, 0, at, at, at };

          bw_device_dispatch_at (dev, pipe, buffers, offsets, &push, div_up (n, local),
                                 div_up (o1 - o0, to), 1);
        }
      if (!_bw_ops_note_work (dev, n * tile_flops, error))
        return FALSE;
    }
  return TRUE;
}

/* The weight transforms G g G^T, in double and rounded once. F(4x4, 3x3): G = [1/4 0 0;
 * -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]. F(6x6, 3x3), points
 * 0, +-1, +-2, +-1/2 and infinity (the transforms in winograd_in.comp and winograd_out.comp). */
static const double winograd43_g[6][3] = {
  { 1.0 / 4, 0, 0 },
  { -1.0 / 6, -1.0 / 6, -1.0 / 6 },
  { -1.0 / 6, 1.0 / 6, -1.0 / 6 },
  { 1.0 / 24, 1.0 / 12, 1.0 / 6 },
  { 1.0 / 24, -1.0 / 12, 1.0 / 6 },
  { 0, 0, 1 },
};

static const double winograd63_g[8][3] = {
  { 1, 0, 0 },
  { -2.0 / 9, -2.0 / 9, -2.0 / 9 },
  { -2.0 / 9, 2.0 / 9, -2.0 / 9 },
  { 1.0 / 90, 1.0 / 45, 2.0 / 45 },
  { 1.0 / 90, -1.0 / 45, 2.0 / 45 },
  { 32.0 / 45, 16.0 / 45, 8.0 / 45 },
  { 32.0 / 45, -16.0 / 45, 8.0 / 45 },
  { 0, 0, 1 },
};

/* What every block's transform shares: per point (a, b) and tap k, which of the tap's distinct
 * nonzero |g[a][ky] g[b][kx]| it takes (-1: none, the coefficient is 0) and with which sign. */
typedef struct {
  const float *packed;
  float *out;
  gsize blocks;
  int points;
  int n_unique[9];
  double unique[9][64];
  struct { signed char u, negative; } tap[64][9];
} WinogradPack;

#define PACK_BLOCK 16

/* Left out of the sanitizer builds' checks: with a check on every access GCC does not
 * vectorise the loops, and this ran 5-7x slower there, a third of the time of CI's tests that
 * open a network. Its reads and writes are one block of the caller's arrays and fixed-size
 * tables; /ops/winograd-weights checks every value it writes bit for bit. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__ ((no_sanitize ("address", "undefined")))
#endif
static void
pack_winograd_range (const WinogradPack *w,
                     gsize               first,
                     gsize               end)
{
  for (gsize blk = first; blk < end; blk++)
    {
      const float *src = w->packed + blk * 9 * PACK_BLOCK;
      double prod[9][64][PACK_BLOCK];

      for (int k = 0; k < 9; k++)
        for (int u = 0; u < w->n_unique[k]; u++)
          for (int e = 0; e < PACK_BLOCK; e++)
            prod[k][u][e] = w->unique[k][u] * src[k * PACK_BLOCK + e];
      for (int ab = 0; ab < w->points; ab++)
        {
          float *dst = w->out + (ab * w->blocks + blk) * PACK_BLOCK;
          double sum[PACK_BLOCK] = { 0 };

          for (int k = 0; k < 9; k++)
            {
              const double *p;

              if (w->tap[ab][k].u < 0)
                continue;
              p = prod[k][w->tap[ab][k].u];
              if (w->tap[ab][k].negative)
                for (int e = 0; e < PACK_BLOCK; e++)
                  sum[e] -= p[e];
              else
                for (int e = 0; e < PACK_BLOCK; e++)
                  sum[e] += p[e];
            }
          for (int e = 0; e < PACK_BLOCK; e++)
            dst[e] = sum[e];
        }
    }
}

typedef struct {
  const WinogradPack *pack;
  gsize first, end;
} PackPart;

static gpointer
pack_winograd_part (gpointer data)
{
  PackPart *part = data;

  pack_winograd_range (part->pack, part->first, part->end);
  return NULL;
}

void
bw_ops_pack_winograd_weights_into (const float *packed,
                                   int          out_channels,
                                   int          in_channels,
                                   int          tile,
                                   float       *out)
{
  g_autofree WinogradPack *w = g_new0 (WinogradPack, 1);
  int alpha = tile + 2, n_parts;
  const double (*g)[3] = tile == 6 ? winograd63_g : winograd43_g;

  g_return_if_fail (tile == 4 || tile == 6);
  w->packed = packed;
  w->out = out;
  w->blocks = (gsize) packs (out_channels) * packs (in_channels);
  w->points = alpha * alpha;
  /* Each value is still the nine taps summed in order, (g[a][ky] g[b][kx]) src, in double,
   * rounded once: the parity tests' near-ties (a ReLU input within rounding of zero) are
   * settled by these exact bits, so a faster formula (G g G^T in two passes rounds a few
   * weights differently) moved /vgg19/normalised-gram-gradient past its bound. What is left
   * out changes no bit: a coefficient equal to another's or to its negation gives that
   * product or its negation, so each product is made once (a fifth of them); and a zero
   * coefficient's product (+-0) leaves the sum as it is (it starts at +0 and, rounding to
   * nearest, never becomes -0). Every session pays this for all of VGG19 (0.6 GB of weights
   * out), so it is spread over the processors too. */
  for (int ab = 0; ab < w->points; ab++)
    for (int k = 0; k < 9; k++)
      {
        double c = g[ab / alpha][k / 3] * g[ab % alpha][k % 3];
        int u = 0;

        w->tap[ab][k].u = -1;
        w->tap[ab][k].negative = c < 0;
        if (c == 0)
          continue;
        while (u < w->n_unique[k] && w->unique[k][u] != fabs (c))
          u++;
        if (u == w->n_unique[k])
          w->unique[k][w->n_unique[k]++] = fabs (c);
        w->tap[ab][k].u = u;
      }

  n_parts = (int) MIN ((gsize) MIN (g_get_num_processors (), 8), w->blocks / 256 + 1);
  if (n_parts <= 1)
    {
      pack_winograd_range (w, 0, w->blocks);
      return;
    }
  {
    GThread *threads[8];
    PackPart parts[8];

    for (int t = 0; t < n_parts; t++)
      {
        parts[t] = (PackPart) { w, w->blocks * t / n_parts, w->blocks * (t + 1) / n_parts };
        /* the calling thread takes the last part itself */
        threads[t] = t + 1 < n_parts ? g_thread_new ("bw-pack", pack_winograd_part, &parts[t])
                                     : NULL;
      }
    pack_winograd_range (w, parts[n_parts - 1].first, parts[n_parts - 1].end);
    for (int t = 0; t + 1 < n_parts; t++)
      g_thread_join (threads[t]);
  }
}

float *
bw_ops_pack_winograd_weights (const float *packed,
                              int          out_channels,
                              int          in_channels,
                              int          tile,
                              gsize       *n_floats)
{
  gsize n = bw_ops_winograd_weights_size (out_channels, in_channels, tile);
  float *out;

  g_return_val_if_fail (tile == 4 || tile == 6, NULL);
  out = g_new (float, n);
  bw_ops_pack_winograd_weights_into (packed, out_channels, in_channels, tile, out);
  if (n_floats)
    *n_floats = n;
  return out;
}

gsize
bw_ops_winograd_weights_size (int out_channels,
                              int in_channels,
                              int tile)
{
  return (gsize) (tile + 2) * (tile + 2) * packs (out_channels) * packs (in_channels) * PACK_BLOCK;
}

typedef enum { WINOGRAD_OFF, WINOGRAD_AUTO, WINOGRAD_ALWAYS } WinogradPolicy;

/* On where it pays (channel counts above) unless BRUSHWORK_WINOGRAD=0 asks for the direct
 * kernel everywhere (its sums are closer to exact: the tests that follow an ill-conditioned
 * trajectory use it); =always takes it for every 3x3 conv it can serve (the op tests use
 * it on small shapes). */
static WinogradPolicy
winograd_policy (void)
{
  static int policy = -1;

  if (policy < 0)
    {
      const char *env = g_getenv ("BRUSHWORK_WINOGRAD");
      policy = g_strcmp0 (env, "0") == 0 ? WINOGRAD_OFF
             : g_strcmp0 (env, "always") == 0 ? WINOGRAD_ALWAYS : WINOGRAD_AUTO;
    }
  return policy;
}

/* Which GEMM kernel takes the products: winograd_gemm.comp is built for lavapipe (lanes over
 * tiles, big register tiles, no shared memory, docs/lavapipe-kernels.md), which GPUs run
 * poorly; they take winograd_gemm_tiled.comp, whose workgroups of 256 invocations (12 KiB
 * of shared memory, within every device's 16 KiB) need a device that allows them (not all
 * do: Vulkan guarantees 128). BRUSHWORK_GEMM=tiled forces the tiled kernel on a CPU device
 * too, so that the tests check it on lavapipe. */
static gboolean
winograd_gemm_tiled (BwDevice *device)
{
  static int forced = -1;

  if (forced < 0)
    forced = g_strcmp0 (g_getenv ("BRUSHWORK_GEMM"), "tiled") == 0;
  return (forced || !bw_device_is_cpu (device)) && bw_device_get_max_workgroup_size (device) >= 256;
}

static gboolean
winograd_wanted (BwDevice *device,
                 int       in_channels,
                 int       out_channels)
{
  switch (winograd_policy ())
    {
    case WINOGRAD_OFF:
      return FALSE;
    case WINOGRAD_ALWAYS:
      return bw_device_has_int64 (device) || winograd_gemm_tiled (device);
    case WINOGRAD_AUTO:
    default:
      /* winograd_gemm.comp needs shaderInt64; the tiled kernel does not */
      return (bw_device_has_int64 (device) || winograd_gemm_tiled (device)) &&
             MIN (in_channels, out_channels) >= WINOGRAD_MIN_CHANNELS;
    }
}

/* F(6x6, 3x3) takes 64 products for 36 outputs where F(4x4, 3x3) takes 36 for 16: 21% fewer,
 * and its transforms read and write 21% less per output, for about twice the rounding error
 * (tests/test-ops.c) and 1.8x the transformed weights' memory. Measured on lavapipe, where it is
 * the default (docs/lavapipe-kernels.md); GPUs keep F(4x4, 3x3) until it is measured on one.
 * BRUSHWORK_WINOGRAD_TILE=4 or 6 chooses for every device. */
int
bw_ops_winograd_tile (BwDevice *device,
                      int       in_channels,
                      int       out_channels)
{
  static int forced = -1;

  if (!winograd_wanted (device, in_channels, out_channels))
    return 0;
  if (forced < 0)
    {
      const char *env = g_getenv ("BRUSHWORK_WINOGRAD_TILE");
      forced = g_strcmp0 (env, "4") == 0 ? 4 : g_strcmp0 (env, "6") == 0 ? 6 : 0;
    }
  if (forced)
    return forced;
  return bw_device_is_cpu (device) ? 6 : 4;
}

/* F(6x6, 3x3)'s points are closed under 1/x, so the transform of a transposed-flipped kernel is
 * the forward one's at mirrored positions, scaled by powers of two (winograd_gemm.comp's FLIP):
 * the input gradient reads the forward conv's weights, and F(6x6, 3x3) keeps 370 MB of
 * transformed weights instead of 740. winograd_gemm_tiled.comp does not read them so. */
gboolean
bw_ops_winograd_flip_shared (BwDevice *device,
                             int       tile)
{
  return tile == 6 && !winograd_gemm_tiled (device);
}

/* The bytes of the larger of V and M per tile: (tile + 2)^2 vec4 per tile and pack. */
static guint64
winograd_tile_bytes (int tile,
                     int ic4,
                     int oc4)
{
  return (guint64) (tile + 2) * (tile + 2) * MAX (ic4, oc4) * 16;
}

/* The tiles of one chunk of a map of @tiles tiles with @ic4 input and @oc4 output packs.
 * BRUSHWORK_WINOGRAD_CHUNK=BYTES sets the bytes exactly, so that the tests split small maps
 * too. */
static int
winograd_chunk_tiles (BwDevice *device,
                      int       tile,
                      int       ic4,
                      int       oc4,
                      int       tiles)
{
  static guint64 forced = G_MAXUINT64;
  guint64 np = (guint64) (tile + 2) * (tile + 2);
  guint64 cap;

  if (forced == G_MAXUINT64)
    {
      const char *env = g_getenv ("BRUSHWORK_WINOGRAD_CHUNK");
      forced = env ? MAX (1, g_ascii_strtoull (env, NULL, 10)) : 0;
    }
  if (forced)
    cap = forced;
  else if (bw_device_is_cpu (device))
    cap = MAX (WINOGRAD_CPU_CHUNK_BYTES, np * ic4 * oc4 * 64 / WINOGRAD_CPU_U_SHARE);
  else
    cap = WINOGRAD_CHUNK_BYTES;
  cap = MIN (cap, bw_device_get_max_buffer_size (device));
  return (int) MIN ((guint64) tiles, MAX (1, cap / winograd_tile_bytes (tile, ic4, oc4)));
}

guint64
bw_ops_winograd_scratch_size (BwDevice *device,
                              int       tile,
                              int       in_channels,
                              int       out_channels,
                              int       height,
                              int       width)
{
  int ic4 = packs (in_channels), oc4 = packs (out_channels);
  int tiles = div_up (height, tile) * div_up (width, tile);

  return winograd_tile_bytes (tile, ic4, oc4) * winograd_chunk_tiles (device, tile, ic4, oc4,
                                                                     tiles);
}

/* Records the three passes of the Winograd path: input transform, the (tile + 2)^2 products,
 * and the output transform with the epilogue, chunk by chunk of tiles. */
static gboolean
conv_winograd (BwTensor  *x,
               BwBuffer  *weights,
               int        tile,
               gboolean   flipped,
               BwBuffer  *bias,
               BwTensor  *addend,
               gboolean   relu,
               BwTensor  *mask,
               BwTensor  *y,
               GError   **error)
{
  BwDevice *dev = bw_tensor_get_device (x);
  int h = bw_tensor_get_height (x), w = bw_tensor_get_width (x);
  int ic4 = packs (bw_tensor_get_channels (x)), oc4 = packs (bw_tensor_get_channels (y));
  int tw = div_up (w, tile), t = tw * (int) div_up (h, tile), np = (tile + 2) * (tile + 2);
  guint64 plane_bytes = (guint64) h * w * 16;
  int out_range = _bw_ops_pack_range (dev, oc4, 1, &plane_bytes, 1);
  /* the products of one tile; chunks also bounded by the work of one dispatch */
  double tile_flops = 2.0 * np * 16.0 * ic4 * oc4;
  int chunk = MIN (winograd_chunk_tiles (dev, tile, ic4, oc4, t),
                   (int) MAX (1, _bw_ops_dispatch_flops () / tile_flops));
  guint local = bw_device_is_cpu (dev) ? 8 : 64;
  const guint32 in_spec[] = { local };
  guint32 to = oc4 >= WINOGRAD_TO ? WINOGRAD_TO : 4;
  guint32 tt = WINOGRAD_TT;
  /* A map of fewer tiles than TT (conv3 to conv5 of a small preview, or coarse levels) takes
   * the smallest power of two that holds them: lanes compute all TT tiles, live or not, and
   * a 32 px step spent most of its time on dead ones (0.154 -> 0.077 s; 64 px 0.167 -> 0.097;
   * 128 px 0.239 -> 0.207; 512 px has at least 16 tiles per chunk on every layer). */
  while (tt > 1 && (int) tt / 2 >= chunk)
    tt /= 2;
  const guint32 gemm_spec[] = { local, to, tt, np, flipped };
  /* winograd_gemm_tiled.comp: 16 x 16 invocations, each 2 output packs x 4 tiles (8 vec4
   * accumulators), 4 input packs staged in shared memory per barrier: blocks of 32 output packs
   * x 64 tiles, 12 KiB of shared memory. Below 32 output packs (conv1_x, and the input gradient
   * of conv2_1) one pack per invocation, so that half the workgroup does not idle. Chosen by
   * the usual shared-memory GEMM arithmetic, not measured on a GPU. */
  gboolean tiled = winograd_gemm_tiled (dev);
  guint32 rm = oc4 >= 32 ? 2 : 1;
  const guint32 tiled_spec[] = { 16, 16, rm, 4, 4 };
  guint tiled_bn = tiled_spec[0] * tiled_spec[3], tiled_bm = tiled_spec[1] * rm;
  const guint32 out_spec[] = { local, bias != NULL, addend != NULL, relu, mask != NULL };
  BwBuffer *v = _bw_ops_get_scratch (dev, SCRATCH_WINOGRAD_V, (guint64) np * ic4 * chunk * 16,
                                     error);
  BwBuffer *m = v ? _bw_ops_get_scratch (dev, SCRATCH_WINOGRAD_M,
                                         (guint64) np * oc4 * chunk * 16, error) : NULL;
  gboolean texel;
  const char *in_name, *out_name;
  BwPipeline *in_pipe, *gemm_pipe, *out_pipe;
  BwBuffer *in_buffers[2], *gemm_buffers[3], *out_buffers[5];

  g_return_val_if_fail (!flipped || bw_ops_winograd_flip_shared (dev, tile), FALSE);
  if (m == NULL)
    return FALSE;
  /* lavapipe reads X, V, U, M, the addend and the mask through texel views
   * (bw_device_has_texel_loads()), where each has one, and writes V as u64 pairs */
  {
    BwBuffer *read[] = {
      bw_tensor_get_buffer (x), weights, v, m,
      addend ? bw_tensor_get_buffer (addend) : NULL, mask ? bw_tensor_get_buffer (mask) : NULL,
    };

    texel = bw_device_has_int64 (dev) && _bw_ops_texel_readable (dev, read, G_N_ELEMENTS (read));
  }
  /* a map larger than one binding is read through its texel view (bw_tensor_fits()) */
  g_return_val_if_fail (texel || ic4 * plane_bytes <= bw_device_get_max_buffer_size (dev), FALSE);
  in_name = tile == 6 ? (texel ? "winograd63_in_texel" : "winograd63_in")
                      : (texel ? "winograd_in_texel" : "winograd_in");
  out_name = tile == 6 ? (texel ? "winograd63_out_texel" : "winograd63_out")
                       : (texel ? "winograd_out_texel" : "winograd_out");
  in_pipe = bw_device_get_pipeline (dev, in_name, in_spec, G_N_ELEMENTS (in_spec), 2,
                                    6 * sizeof (gint32), error);
  if (in_pipe == NULL)
    gemm_pipe = NULL;
  else if (tiled)
    gemm_pipe = bw_device_get_pipeline (dev, "winograd_gemm_tiled", tiled_spec,
                                        G_N_ELEMENTS (tiled_spec), 3, 3 * sizeof (gint32), error);
  else
    gemm_pipe = bw_device_get_pipeline (dev, texel ? "winograd_gemm_texel" : "winograd_gemm",
                                        gemm_spec, G_N_ELEMENTS (gemm_spec), 3,
                                        7 * sizeof (gint32), error);
  out_pipe = gemm_pipe ? bw_device_get_pipeline (dev, out_name, out_spec,
                                                 G_N_ELEMENTS (out_spec), 5, 7 * sizeof (gint32),
                                                 error) : NULL;
  if (out_pipe == NULL)
    return FALSE;

  in_buffers[0] = bw_tensor_get_buffer (x);
  in_buffers[1] = v;
  gemm_buffers[0] = v;
  gemm_buffers[1] = weights;
  gemm_buffers[2] = m;
  out_buffers[0] = m;
  out_buffers[1] = bias;
  out_buffers[2] = addend ? bw_tensor_get_buffer (addend) : NULL;
  out_buffers[3] = mask ? bw_tensor_get_buffer (mask) : NULL;
  out_buffers[4] = bw_tensor_get_buffer (y);
  for (int t0 = 0; t0 < t; t0 += chunk)
    {
      int n = MIN (chunk, t - t0);
      struct { gint32 h, w, c4, tw, t, t0; } in_push = { h, w, ic4, tw, n, t0 };
      /* the tiled kernel takes the first three */
      struct { gint32 t, ic4, oc4, t0, n, o0, o1; } gemm_push = { n, ic4, oc4, 0, n, 0, oc4 };

      bw_device_dispatch (dev, in_pipe, in_buffers, &in_push, div_up (n, local), ic4, 1);
      if (tiled)
        bw_device_dispatch (dev, gemm_pipe, gemm_buffers, &gemm_push,
                            div_up (n, tiled_bn), div_up (oc4, tiled_bm), np);
      else
        bw_device_dispatch (dev, gemm_pipe, gemm_buffers, &gemm_push,
                            div_up (np * div_up (n, tt), local), div_up (oc4, to), 1);
      /* a map larger than one binding is written a range of packs at a time, bound from the
       * range's first (the addend and mask too, where they are storage buffers) */
      for (int o0 = 0; o0 < oc4; o0 += out_range)
        {
          struct { gint32 h, w, c4, tw, t, t0, o0; } out_push = { h, w, oc4, tw, n, t0, o0 };
          guint64 at = o0 * plane_bytes;
          const guint64 offsets[] = {
            0, 0, texel ? 0 : at, texel ? 0 : at, at,
          };

          bw_device_dispatch_at (dev, out_pipe, out_buffers, offsets, &out_push,
                                 div_up (n, local), MIN (out_range, oc4 - o0), 1);
        }
      if (!_bw_ops_note_work (dev, n * tile_flops, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
bw_ops_conv3x3 (BwTensor  *x,
                BwBuffer  *weights,
                BwBuffer  *winograd,
                int        winograd_tile,
                gboolean   winograd_flipped,
                BwBuffer  *bias,
                BwTensor  *addend,
                gboolean   relu,
                BwTensor  *mask,
                BwTensor  *y,
                GError   **error)
{
  if (winograd != NULL &&
      winograd_wanted (bw_tensor_get_device (x), bw_tensor_get_channels (x),
                       bw_tensor_get_channels (y)))
    {
      g_return_val_if_fail (winograd_tile == 4 || winograd_tile == 6, FALSE);
      g_return_val_if_fail (bw_tensor_get_height (y) == bw_tensor_get_height (x) &&
                            bw_tensor_get_width (y) == bw_tensor_get_width (x), FALSE);
      return conv_winograd (x, winograd, winograd_tile, winograd_flipped, bias, addend, relu,
                            mask, y, error);
    }
  return bw_ops_conv (x, weights, 3, bias, addend, relu, mask, y, error);
}