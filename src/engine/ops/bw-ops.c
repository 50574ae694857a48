/* bw-ops.c: dispatch of the compute shaders in shaders/. */
#include "bw-ops-private.h"

#include <math.h>

#define GROUP 64               /* local_size_x of the elementwise shaders */
#define REDUCE_CHUNK 4096      /* vec4s per workgroup in reduce.comp */

/* gram.comp: each invocation owns GRAM_B x GRAM_B blocks of 4x4 channels; the pixels are split
 * until there are about 128 invocations on a CPU (16 workgroups of 8: enough to balance its
 * threads) or 8192 on a GPU, but not into chunks below GRAM_MIN_CHUNK pixels, where the
 * partials' traffic would start to show (small maps need no split). */
#define GRAM_B 4
#define GRAM_MIN_CHUNK 2048

/* Bounded work: a GPU that also drives a display resets a job that runs for seconds (Windows'
 * 2 s TDR, i915 and amdgpu hang checks), so no conv or GEMM dispatch carries more than about
 * DISPATCH_FLOPS, and the ops submit once MAX_PENDING_FLOPS are recorded (issue 16). At an
 * H200's ~50 TFLOP/s f32 a dispatch then takes under a millisecond, on a laptop iGPU ~50 ms. */
#define DISPATCH_FLOPS 20e9
#define MAX_PENDING_FLOPS 100e9

typedef struct {
  BwDevice *device;
  BwBuffer *buffers[N_SCRATCH];
} Scratch;

/* BRUSHWORK_DISPATCH_GFLOP lowers the cap so that the tests split small layers too. */
double
_bw_ops_dispatch_flops (void)
{
  static double cap = 0;

  if (cap == 0)
    {
      const char *env = g_getenv ("BRUSHWORK_DISPATCH_GFLOP");
      cap = env ? MAX (1e-9, g_ascii_strtod (env, NULL)) * 1e9 : DISPATCH_FLOPS;
    }
  return cap;
}

/* Records @flops of work for one dispatch, and submits what was recorded once it adds up to
 * MAX_PENDING_FLOPS (a submit in the middle of recording is safe: it waits). */
gboolean
_bw_ops_note_work (BwDevice  *dev,
                   double     flops,
                   GError   **error)
{
  bw_device_note_work (dev, flops);
  if (bw_device_get_pending_work (dev) >= MAX_PENDING_FLOPS)
    return bw_device_submit (dev, error);
  return TRUE;
}

/* A dispatch of @groups workgroups along one dimension. Devices allow only
 * maxComputeWorkGroupCount[0] (65,535 on lavapipe) per dimension, so more are folded into rows
 * of y; the shaders index linearly (see eltwise.comp) and bound-check the tail. */
static void
dispatch_linear (BwDevice          *dev,
                 BwPipeline        *pipe,
                 BwBuffer  * const *buffers,
                 const void        *push,
                 guint64            groups)
{
  guint64 max_x = bw_device_get_max_group_count (dev, 0);
  guint64 gx = MIN (groups, max_x), gy = gx ? (groups + gx - 1) / gx : 0;

  g_return_if_fail (gy <= bw_device_get_max_group_count (dev, 1));
  bw_device_dispatch (dev, pipe, buffers, push, gx, gy, 1);
}

/* dispatch_linear() with each buffer bound from byte @offsets[i]. */
static void
dispatch_linear_at (BwDevice          *dev,
                    BwPipeline        *pipe,
                    BwBuffer  * const *buffers,
                    const guint64     *offsets,
                    const void        *push,
                    guint64            groups)
{
  guint64 max_x = bw_device_get_max_group_count (dev, 0);
  guint64 gx = MIN (groups, max_x), gy = gx ? (groups + gx - 1) / gx : 0;

  g_return_if_fail (gy <= bw_device_get_max_group_count (dev, 1));
  bw_device_dispatch_at (dev, pipe, buffers, offsets, push, gx, gy, 1);
}

static guint64
gcd (guint64 a,
     guint64 b)
{
  while (b)
    {
      guint64 t = a % b;
      a = b;
      b = t;
    }
  return a;
}

/* Feature maps larger than one binding (bw_tensor_fits(): on devices that read them through
 * texel views) are written a range of channel packs at a time, each map bound from the range's
 * first pack. Returns how many packs one range takes: all @c4 where every map fits one
 * binding, else a multiple of what keeps each map's offsets aligned, for @n maps of
 * @pack_bytes[i] per pack, and where they fit, of @unit (the packs a workgroup makes). */
guint
_bw_ops_pack_range (BwDevice      *dev,
                    guint          c4,
                    guint          unit,
                    const guint64 *pack_bytes,
                    guint          n)
{
  guint64 align = bw_device_get_offset_alignment (dev);
  guint64 binding = bw_device_get_max_buffer_size (dev);
  guint64 largest = 0, step = 1, with_unit, most;

  for (guint i = 0; i < n; i++)
    {
      guint64 s = align / gcd (pack_bytes[i] % align, align);

      largest = MAX (largest, pack_bytes[i]);
      step = step / gcd (step, s) * s;
    }
  if (largest * c4 <= binding)
    return c4;
  most = binding / largest;
  with_unit = step / gcd (step, unit) * unit;
  if (most >= with_unit)
    step = with_unit;
  most = most / step * step;
  /* bw_tensor_fits() lets in no map whose pack does not fit a binding */
  g_return_val_if_fail (most > 0, c4);
  return MIN (most, c4);
}

/* Image-sized vectors may be larger than one binding (maxStorageBufferRange: 128 MiB on
 * lavapipe, a 4096 x 3072 image is 201 MB): elementwise ops take them in parts of this many
 * vec4s, a multiple of @unit whose byte offsets are aligned, bound with descriptor offsets.
 * BRUSHWORK_BINDING_PART=VEC4S lowers it, so that the tests split small vectors too. */
static guint64
part_vec4 (BwDevice *dev,
           guint64   unit)
{
  static guint64 forced = G_MAXUINT64;
  guint64 align = bw_device_get_offset_alignment (dev) / 16;
  guint64 step = unit / gcd (unit, align) * align;
  guint64 most;

  if (forced == G_MAXUINT64)
    {
      const char *env = g_getenv ("BRUSHWORK_BINDING_PART");
      forced = env ? g_ascii_strtoull (env, NULL, 10) : 0;
    }
  most = bw_device_get_max_buffer_size (dev) / 16;
  if (forced > 0)
    most = MIN (most, forced);
  return MAX (step, most / step * step);
}

/* Called while the device is disposed, before it destroys its Vulkan device. */
static void
scratch_free (gpointer  data,
              GObject  *where_the_device_was)
{
  Scratch *scratch = data;

  for (int i = 0; i < N_SCRATCH; i++)
    if (scratch->buffers[i])
      bw_device_free_buffer (scratch->device, scratch->buffers[i]);
  g_free (scratch);
}

/* A device buffer of at least @size bytes for scratch slot @slot, grown on demand. Growing
 * submits first, since recorded dispatches may still use the old buffer. */
BwBuffer *
_bw_ops_get_scratch (BwDevice  *dev,
                     int        slot,
                     guint64    size,
                     GError   **error)
{
  Scratch *scratch = g_object_get_data (G_OBJECT (dev), "bw-ops-scratch");

  if (scratch == NULL)
    {
      scratch = g_new0 (Scratch, 1);
      scratch->device = dev;
      g_object_set_data (G_OBJECT (dev), "bw-ops-scratch", scratch);
      g_object_weak_ref (G_OBJECT (dev), scratch_free, scratch);
    }
  if (scratch->buffers[slot] && scratch->buffers[slot]->size >= size)
    return scratch->buffers[slot];
  if (scratch->buffers[slot])
    {
      if (!bw_device_submit (dev, error))
        return NULL;
      bw_device_free_buffer (dev, scratch->buffers[slot]);
    }
  scratch->buffers[slot] = bw_device_alloc_buffer (dev, size, error);
  return scratch->buffers[slot];
}

/* Whether @dev reads buffers through texel views (bw_device_has_texel_loads()) and each of
 * @buffers has one; a NULL binding takes the device's dummy buffer, which has. */
gboolean
_bw_ops_texel_readable (BwDevice         *dev,
                        BwBuffer * const *buffers,
                        guint             n)
{
  if (!bw_device_has_texel_loads (dev))
    return FALSE;
  for (guint i = 0; i < n; i++)
    if (buffers[i] && buffers[i]->view == VK_NULL_HANDLE)
      return FALSE;
  return TRUE;
}

gboolean
bw_ops_maxpool (BwTensor  *x,
                BwTensor  *y,
                GError   **error)
{
  BwDevice *dev = bw_tensor_get_device (x);
  int h = bw_tensor_get_height (x), w = bw_tensor_get_width (x);
  int c4 = packs (bw_tensor_get_channels (x));
  const guint64 pack_bytes[] = { (guint64) h * w * 16, (guint64) (h / 2) * (w / 2) * 16 };
  guint range = _bw_ops_pack_range (dev, c4, 1, pack_bytes, G_N_ELEMENTS (pack_bytes));
  BwBuffer *buffers[] = { bw_tensor_get_buffer (x), bw_tensor_get_buffer (y) };
  BwPipeline *pipe;

  g_return_val_if_fail (bw_tensor_get_height (y) == h / 2 && bw_tensor_get_width (y) == w / 2,
                        FALSE);
  pipe = bw_device_get_pipeline (dev, "maxpool", NULL, 0, 2, sizeof (gint32[3]), error);
  if (pipe == NULL)
    return FALSE;
  for (int c0 = 0; c0 < c4; c0 += range)
    {
      struct { gint32 h, w, c4; } push = { h, w, MIN ((int) range, c4 - c0) };
      const guint64 offsets[] = { c0 * pack_bytes[0], c0 * pack_bytes[1] };

      dispatch_linear_at (dev, pipe, buffers, offsets, &push,
                          div_up ((guint64) push.c4 * (h / 2) * (w / 2), GROUP));
    }
  return TRUE;
}

gboolean
bw_ops_maxpool_backward (BwTensor *dy,
                         BwTensor *x,
                         BwTensor *addend,
                         BwTensor *dx,
                         GError  **error)
{
  BwDevice *dev = bw_tensor_get_device (x);
  const guint32 spec[] = { addend != NULL };
  int h = bw_tensor_get_height (x), w = bw_tensor_get_width (x);
  int c4 = packs (bw_tensor_get_channels (x));
  const guint64 pack_bytes[] = {
    (guint64) (h / 2) * (w / 2) * 16, (guint64) h * w * 16, (guint64) h * w * 16,
    (guint64) h * w * 16,
  };
  guint range = _bw_ops_pack_range (dev, c4, 1, pack_bytes, G_N_ELEMENTS (pack_bytes));
  BwBuffer *buffers[] = {
    bw_tensor_get_buffer (dy), bw_tensor_get_buffer (x),
    addend ? bw_tensor_get_buffer (addend) : NULL, bw_tensor_get_buffer (dx),
  };
  gboolean texel = _bw_ops_texel_readable (dev, buffers, 3);
  BwPipeline *pipe;

  pipe = bw_device_get_pipeline (dev, texel ? "maxpool_bwd_texel" : "maxpool_bwd", spec, 1, 4,
                                 sizeof (gint32[4]), error);
  if (pipe == NULL)
    return FALSE;
  /* a map larger than one binding is taken a range of packs at a time, every map bound from
   * the range's first, except those read through texel views (which start at pack 0) */
  for (int c0 = 0; c0 < c4; c0 += range)
    {
      struct { gint32 h, w, c4, c0; } push = { h, w, MIN ((int) range, c4 - c0), c0 };
      const guint64 offsets[] = {
        texel ? 0 : c0 * pack_bytes[0], texel ? 0 : c0 * pack_bytes[1],
        texel ? 0 : c0 * pack_bytes[2], c0 * pack_bytes[3],
      };

      dispatch_linear_at (dev, pipe, buffers, offsets, &push,
                          div_up ((guint64) push.c4 * h * w, GROUP));
    }
  return TRUE;
}

gboolean
bw_ops_crop (BwTensor  *src,
             BwTensor  *dst,
             int        oy,
             int        ox,
             int        ry,
             int        rx,
             int        rh,
             int        rw,
             gboolean   accumulate,
             GError   **error)
{
  BwDevice *dev = bw_tensor_get_device (dst);
  const guint32 spec[] = { accumulate };
  struct { gint32 sh, sw, dh, dw, c4, oy, ox, ry, rx, rh, rw, sshift, dshift; } push = {
    bw_tensor_get_height (src), bw_tensor_get_width (src),
    bw_tensor_get_height (dst), bw_tensor_get_width (dst),
    packs (bw_tensor_get_channels (dst)), oy, ox, ry, rx, rh, rw, 0, 0,
  };
  BwBuffer *buffers[] = { bw_tensor_get_buffer (src), bw_tensor_get_buffer (dst) };
  guint64 offsets[] = { 0, 0 };
  guint64 align = bw_device_get_offset_alignment (dev) / 16;
  BwPipeline *pipe;

  g_return_val_if_fail (bw_tensor_get_channels (src) == bw_tensor_get_channels (dst), FALSE);
  g_return_val_if_fail (ry >= 0 && rx >= 0 && ry + rh <= push.dh && rx + rw <= push.dw, FALSE);
  if (rh <= 0 || rw <= 0)
    return TRUE;
  pipe = bw_device_get_pipeline (dev, "crop", spec, 1, 2, sizeof push, error);
  if (pipe == NULL)
    return FALSE;
  /* an image (one pack) may be larger than one binding: bind from the first row touched */
  if (push.c4 == 1)
    {
      int srow = MAX (0, MIN (ry + oy, push.sh - 1)), drow = ry;

      push.sshift = (guint64) srow * push.sw / align * align;
      push.dshift = (guint64) drow * push.dw / align * align;
      offsets[0] = (guint64) push.sshift * 16;
      offsets[1] = (guint64) push.dshift * 16;
      dispatch_linear_at (dev, pipe, buffers, offsets, &push, div_up ((guint64) rh * rw, GROUP));
      return TRUE;
    }
  /* a feature map, a range of packs at a time (_bw_ops_pack_range()) */
  {
    const guint64 pack_bytes[] = {
      (guint64) push.sh * push.sw * 16, (guint64) push.dh * push.dw * 16,
    };
    int c4 = push.c4, range = _bw_ops_pack_range (dev, c4, 1, pack_bytes, 2);

    for (int c0 = 0; c0 < c4; c0 += range)
      {
        offsets[0] = c0 * pack_bytes[0];
        offsets[1] = c0 * pack_bytes[1];
        push.c4 = MIN (range, c4 - c0);
        dispatch_linear_at (dev, pipe, buffers, offsets, &push,
                            div_up ((guint64) push.c4 * rh * rw, GROUP));
      }
  }
  return TRUE;
}

gboolean
bw_ops_affine (BwTensor     *x,
               const float   scale[4],
               const float   shift[4],
               BwTensor     *y,
               GError      **error)
{
  BwDevice *dev = bw_tensor_get_device (x);
  struct { float scale[4]; float shift[4]; gint32 n, total; } push;
  BwBuffer *buffers[] = { bw_tensor_get_buffer (x), bw_tensor_get_buffer (y) };
  BwPipeline *pipe;

  for (int i = 0; i < 4; i++)
    {
      push.scale[i] = scale[i];
      push.shift[i] = shift[i];
    }
  guint64 part = part_vec4 (dev, GROUP), total = bw_tensor_get_n_vec4 (x);

  /* a tensor of more than one pack must fit one binding */
  g_return_val_if_fail (packs (bw_tensor_get_channels (x)) == 1 || total <= part, FALSE);
  pipe = bw_device_get_pipeline (dev, "affine", NULL, 0, 2, sizeof push, error);
  if (pipe == NULL)
    return FALSE;
  for (guint64 v0 = 0; v0 < total; v0 += part)
    {
      const guint64 offsets[] = { v0 * 16, v0 * 16 };

      /* one pack: every vec4 is of the first */
      push.total = MIN (part, total - v0);
      push.n = packs (bw_tensor_get_channels (x)) == 1
               ? push.total : bw_tensor_get_height (x) * bw_tensor_get_width (x);
      dispatch_linear_at (dev, pipe, buffers, offsets, &push, div_up (push.total, GROUP));
    }
  return TRUE;
}

guint64
bw_ops_gram_size (int channels)
{
  return (guint64) packs (channels) * packs (channels) * 16 * sizeof (float);
}

gboolean
bw_ops_gram (BwTensor  *f,
             BwBuffer  *gram,
             GError   **error)
{
  BwDevice *dev = bw_tensor_get_device (f);
  guint local = bw_device_is_cpu (dev) ? 8 : 64;
  guint target = bw_device_is_cpu (dev) ? 128 : 8192;
  const guint32 spec[] = { local, GRAM_B };
  int c4 = packs (bw_tensor_get_channels (f)), nb = div_up (c4, GRAM_B);
  int n = bw_tensor_get_height (f) * bw_tensor_get_width (f), ntri = nb * (nb + 1) / 2;
  /* one block of GRAM_B x GRAM_B 4x4 blocks per invocation: 2 * (4 GRAM_B)^2 per pixel */
  double pixel_flops = 2.0 * 16 * GRAM_B * GRAM_B * ntri;
  /* enough splits that one split's work fits one dispatch, as big maps need */
  int bounded = (int) MIN ((double) n, ceil (pixel_flops * n / _bw_ops_dispatch_flops ()));
  int splits = MAX (CLAMP ((int) div_up (target, ntri), 1, MAX (n / GRAM_MIN_CHUNK, 1)), bounded);
  int chunk = div_up (n, splits);
  struct { gint32 c4, n, splits, chunk, g0; } push = { c4, n, div_up (n, chunk), chunk, 0 };
  guint n_vec4 = (guint) c4 * c4 * 4;
  guint64 invocations = (guint64) ntri * push.splits;
  double invocation_flops = pixel_flops / ntri * chunk;
  guint64 per_dispatch = MAX (1, (guint64) (_bw_ops_dispatch_flops () / invocation_flops) /
                                 local) * local;
  BwBuffer *buffers[] = { bw_tensor_get_buffer (f), gram };
  BwPipeline *pipe;

  g_return_val_if_fail (gram->size >= bw_ops_gram_size (bw_tensor_get_channels (f)), FALSE);
  /* a map larger than one binding is read through its texel view (bw_tensor_fits()) */
  g_return_val_if_fail (_bw_ops_texel_readable (dev, buffers, 1) ||
                        (guint64) c4 * n * 16 <= bw_device_get_max_buffer_size (dev), FALSE);
  pipe = bw_device_get_pipeline (dev, _bw_ops_texel_readable (dev, buffers, 1)
                                      ? "gram_texel"
                                      : bw_device_has_int64 (dev) ? "gram" : "gram_noint64",
                                 spec, G_N_ELEMENTS (spec), 2, sizeof push, error);
  if (pipe == NULL)
    return FALSE;
  if (push.splits > 1)
    {
      /* partial Grams of the pixel ranges, then their sum in a fixed order */
      struct { gint32 n, splits; } sum_push = { n_vec4, push.splits };
      BwPipeline *sum = bw_device_get_pipeline (dev, "gram_sum", NULL, 0, 2, sizeof sum_push, error);
      BwBuffer *partials = _bw_ops_get_scratch (dev, SCRATCH_GRAM,
                                        (guint64) push.splits * n_vec4 * 4 * sizeof (float), error);
      BwBuffer *sum_buffers[] = { partials, gram };

      if (sum == NULL || partials == NULL)
        return FALSE;
      buffers[1] = partials;
      per_dispatch = MIN (per_dispatch, (guint64) bw_device_get_max_group_count (dev, 0) * local);
      for (guint64 g0 = 0; g0 < invocations; g0 += per_dispatch)
        {
          guint64 m = MIN (per_dispatch, invocations - g0);

          push.g0 = g0;
          bw_device_dispatch (dev, pipe, buffers, &push, div_up (m, local), 1, 1);
          if (!_bw_ops_note_work (dev, m * invocation_flops, error))
            return FALSE;
        }
      dispatch_linear (dev, sum, sum_buffers, &sum_push, div_up (n_vec4, GROUP));
      return TRUE;
    }
  bw_device_dispatch (dev, pipe, buffers, &push, div_up (ntri, local), 1, 1);
  return _bw_ops_note_work (dev, pixel_flops * n, error);
}

gboolean
bw_ops_eltwise (BwDevice  *device,
                BwBuffer  *a,
                BwBuffer  *b,
                BwBuffer  *c,
                BwBuffer  *m,
                float      k,
                float      s,
                BwBuffer  *out,
                guint      n_vec4,
                GError   **error)
{
  const guint32 spec[] = { b != NULL, c != NULL, m != NULL };
  struct { float k, s; gint32 n; } push = { k, s, n_vec4 };
  BwBuffer *buffers[] = { a, b, c, m, out };
  BwPipeline *pipe;

  guint64 part = part_vec4 (device, GROUP);

  pipe = bw_device_get_pipeline (device, "eltwise", spec, G_N_ELEMENTS (spec), 5, sizeof push, error);
  if (pipe == NULL)
    return FALSE;
  for (guint64 v0 = 0; v0 < n_vec4; v0 += part)
    {
      const guint64 offsets[] = { v0 * 16, v0 * 16, v0 * 16, v0 * 16, v0 * 16 };

      push.n = MIN (part, n_vec4 - v0);
      dispatch_linear_at (device, pipe, buffers, offsets, &push, div_up (push.n, GROUP));
    }
  return TRUE;
}

gboolean
bw_ops_mask_mul (BwTensor  *x,
                 BwBuffer  *m,
                 BwTensor  *addend,
                 float      k,
                 gboolean   square,
                 BwTensor  *out,
                 GError   **error)
{
  BwDevice *dev = bw_tensor_get_device (x);
  const guint32 spec[] = { addend != NULL, square };
  guint n_vec4 = bw_tensor_get_n_vec4 (x);
  struct { float k; gint32 n_pixels, n; } push = {
    k, bw_tensor_get_height (x) * bw_tensor_get_width (x), n_vec4
  };
  BwBuffer *buffers[] = { bw_tensor_get_buffer (x), m,
                          addend ? bw_tensor_get_buffer (addend) : NULL, bw_tensor_get_buffer (out) };
  BwPipeline *pipe;

  g_return_val_if_fail (bw_tensor_get_n_vec4 (out) == n_vec4, FALSE);
  g_return_val_if_fail (m->size >= (guint64) push.n_pixels * sizeof (float), FALSE);
  pipe = bw_device_get_pipeline (dev, "mask_mul", spec, G_N_ELEMENTS (spec), 4, sizeof push, error);
  if (pipe == NULL)
    return FALSE;
  /* a range of packs at a time (_bw_ops_pack_range()), each with the whole mask */
  {
    guint64 pack_bytes = (guint64) push.n_pixels * 16;
    guint c4 = n_vec4 / push.n_pixels, range = _bw_ops_pack_range (dev, c4, 1, &pack_bytes, 1);

    for (guint c0 = 0; c0 < c4; c0 += range)
      {
        const guint64 offsets[] = { c0 * pack_bytes, 0, c0 * pack_bytes, c0 * pack_bytes };

        push.n = MIN (range, c4 - c0) * push.n_pixels;
        bw_device_dispatch_at (dev, pipe, buffers, offsets, &push, div_up (push.n, GROUP), 1, 1);
      }
  }
  return TRUE;
}

guint
bw_ops_reduce_n_partials (guint n_vec4)
{
  return div_up (n_vec4, REDUCE_CHUNK);
}

guint
bw_ops_reduce (BwDevice  *device,
               BwReduce   mode,
               BwBuffer  *a,
               BwBuffer  *b,
               float      s,
               guint      n_vec4,
               BwBuffer  *partials,
               guint      offset,
               GError   **error)
{
  const guint32 spec[] = { b != NULL, mode };
  struct { float s; gint32 n, offset; } push = { s, n_vec4, offset };
  BwBuffer *buffers[] = { a, b, partials };
  guint groups = bw_ops_reduce_n_partials (n_vec4);
  BwPipeline *pipe;

  /* parts of whole chunks: the partials come out as from one dispatch */
  guint64 part = part_vec4 (device, REDUCE_CHUNK);

  g_return_val_if_fail ((offset + groups) * sizeof (float) <= partials->size, 0);
  g_return_val_if_fail (mode != BW_REDUCE_DOT || b != NULL, 0);
  pipe = bw_device_get_pipeline (device, "reduce", spec, 2, 3, sizeof push, error);
  if (pipe == NULL)
    return 0;
  for (guint64 v0 = 0; v0 < n_vec4; v0 += part)
    {
      const guint64 offsets[] = { v0 * 16, v0 * 16, 0 };

      push.n = MIN (part, n_vec4 - v0);
      push.offset = offset + v0 / REDUCE_CHUNK;
      dispatch_linear_at (device, pipe, buffers, offsets, &push, bw_ops_reduce_n_partials (push.n));
    }
  return groups;
}

/* The rows of each band of bw_ops_tv(): each band with the rows above and below it must fit
 * one binding, from an aligned start. */
static int
tv_band_rows (BwTensor *x)
{
  BwDevice *dev = bw_tensor_get_device (x);
  int h = bw_tensor_get_height (x), w = bw_tensor_get_width (x);
  guint64 align = bw_device_get_offset_alignment (dev) / 16;
  guint64 most = part_vec4 (dev, align);

  if ((guint64) h * w <= most)
    return h;
  return MAX (1, (int) MIN ((guint64) h, (most - align) / w) - 2);
}

guint
bw_ops_tv_n_partials (BwTensor *x)
{
  int h = bw_tensor_get_height (x), w = bw_tensor_get_width (x), band = tv_band_rows (x);
  guint n = 0;

  for (int y0 = 0; y0 < h; y0 += band)
    n += div_up ((guint64) MIN (band, h - y0) * w, GROUP);
  return n;
}

guint
bw_ops_tv (BwTensor  *x,
           BwTensor  *grad,
           float      weight,
           BwBuffer  *partials,
           guint      offset,
           GError   **error)
{
  BwDevice *dev = bw_tensor_get_device (x);
  int h = bw_tensor_get_height (x), w = bw_tensor_get_width (x), band = tv_band_rows (x);
  guint64 align = bw_device_get_offset_alignment (dev) / 16;
  struct { gint32 h, w, total, offset; float weight; gint32 y0, xo, go; } push = {
    h, w, 0, offset, weight, 0, 0, 0,
  };
  BwBuffer *buffers[] = { bw_tensor_get_buffer (x), bw_tensor_get_buffer (grad), partials };
  guint groups = bw_ops_tv_n_partials (x);
  BwPipeline *pipe;

  g_return_val_if_fail (packs (bw_tensor_get_channels (x)) == 1, 0);
  g_return_val_if_fail ((offset + groups) * sizeof (float) <= partials->size, 0);
  pipe = bw_device_get_pipeline (dev, "tv", NULL, 0, 3, sizeof push, error);
  if (pipe == NULL)
    return 0;
  for (int y0 = 0; y0 < h; y0 += band)
    {
      /* X from the row above the band, G from its first row, both down to an aligned start */
      guint64 xstart = (guint64) MAX (0, y0 - 1) * w / align * align;
      guint64 gstart = (guint64) y0 * w / align * align;
      const guint64 offsets[] = { xstart * 16, gstart * 16, 0 };

      push.y0 = y0;
      push.total = MIN (band, h - y0) * w;
      push.xo = (guint64) y0 * w - xstart;
      push.go = (guint64) y0 * w - gstart;
      dispatch_linear_at (dev, pipe, buffers, offsets, &push, div_up (push.total, GROUP));
      push.offset += div_up (push.total, GROUP);
    }
  return groups;
}

gboolean
bw_ops_adam (BwDevice  *device,
             BwBuffer  *x,
             BwBuffer  *grad,
             BwBuffer  *m,
             BwBuffer  *v,
             guint      n_vec4,
             double     lr,
             double     beta1,
             double     beta2,
             double     eps,
             guint      step,
             GError   **error)
{
  /* Bias corrections in double on the host, as torch.optim.Adam computes them in Python. */
  struct { float b1, b2, step_size, bc2_sqrt, eps; gint32 n; } push = {
    beta1, beta2,
    lr / (1.0 - pow (beta1, step)),
    sqrt (1.0 - pow (beta2, step)),
    eps, n_vec4,
  };
  BwBuffer *buffers[] = { x, grad, m, v };
  BwPipeline *pipe;

  guint64 part = part_vec4 (device, GROUP);

  g_return_val_if_fail (step >= 1, FALSE);
  pipe = bw_device_get_pipeline (device, "adam", NULL, 0, 4, sizeof push, error);
  if (pipe == NULL)
    return FALSE;
  for (guint64 v0 = 0; v0 < n_vec4; v0 += part)
    {
      const guint64 offsets[] = { v0 * 16, v0 * 16, v0 * 16, v0 * 16 };

      push.n = MIN (part, n_vec4 - v0);
      dispatch_linear_at (device, pipe, buffers, offsets, &push, div_up (push.n, GROUP));
    }
  return TRUE;
}
