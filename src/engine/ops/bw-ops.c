/* bw-ops.c: dispatch of the compute shaders in shaders/. */
#include "bw-ops.h"

#include <math.h>

#define GROUP 64               /* local_size_x of the elementwise shaders */
#define REDUCE_CHUNK 4096      /* vec4s per workgroup in reduce.comp */

/* conv.comp's tile per invocation: TO output packs x TY rows x TX pixels. On lavapipe every
 * load is a scalar loop over the lanes, so big register tiles and one subgroup per
 * workgroup (8 lanes) win (docs/lavapipe-kernels.md). GPUs get the same kernel with wider
 * workgroups until a shared-memory variant exists. */
#define CONV_TO 4
#define CONV_TX 8
#define CONV_TY 4

static guint
div_up (guint64 a,
        guint64 b)
{
  return (guint) ((a + b - 1) / b);
}

static int
packs (int channels)
{
  return (channels + 3) / 4;
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
  const guint32 spec[] = {
    local, k, bias != NULL, addend != NULL, relu, mask != NULL, CONV_TO, CONV_TX, CONV_TY
  };
  struct { gint32 h, w, ic4, oc4; } push = {
    h, w, packs (bw_tensor_get_channels (x)), packs (bw_tensor_get_channels (y))
  };
  BwBuffer *buffers[] = {
    bw_tensor_get_buffer (x), weights, bias,
    addend ? bw_tensor_get_buffer (addend) : NULL,
    mask ? bw_tensor_get_buffer (mask) : NULL,
    bw_tensor_get_buffer (y),
  };
  BwPipeline *pipe;

  g_return_val_if_fail (k == 1 || k == 3, FALSE);
  g_return_val_if_fail (bw_tensor_get_height (y) == h && bw_tensor_get_width (y) == w, FALSE);

  pipe = bw_device_get_pipeline (dev, bw_device_has_int64 (dev) ? "conv" : "conv_noint64",
                                 spec, G_N_ELEMENTS (spec), 6, sizeof push, error);
  if (pipe == NULL)
    return FALSE;
  bw_device_dispatch (dev, pipe, buffers, &push,
                      div_up ((guint64) div_up (w, CONV_TX) * div_up (h, CONV_TY), local),
                      div_up (push.oc4, CONV_TO), 1);
  return TRUE;
}

gboolean
bw_ops_maxpool (BwTensor  *x,
                BwTensor  *y,
                GError   **error)
{
  BwDevice *dev = bw_tensor_get_device (x);
  struct { gint32 h, w, c4; } push = {
    bw_tensor_get_height (x), bw_tensor_get_width (x), packs (bw_tensor_get_channels (x))
  };
  BwBuffer *buffers[] = { bw_tensor_get_buffer (x), bw_tensor_get_buffer (y) };
  BwPipeline *pipe;

  g_return_val_if_fail (bw_tensor_get_height (y) == push.h / 2 &&
                        bw_tensor_get_width (y) == push.w / 2, FALSE);
  pipe = bw_device_get_pipeline (dev, "maxpool", NULL, 0, 2, sizeof push, error);
  if (pipe == NULL)
    return FALSE;
  bw_device_dispatch (dev, pipe, buffers, &push, div_up (bw_tensor_get_n_vec4 (y), GROUP), 1, 1);
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
  struct { gint32 h, w, c4; } push = {
    bw_tensor_get_height (x), bw_tensor_get_width (x), packs (bw_tensor_get_channels (x))
  };
  BwBuffer *buffers[] = {
    bw_tensor_get_buffer (dy), bw_tensor_get_buffer (x),
    addend ? bw_tensor_get_buffer (addend) : NULL, bw_tensor_get_buffer (dx),
  };
  BwPipeline *pipe;

  pipe = bw_device_get_pipeline (dev, "maxpool_bwd", spec, 1, 4, sizeof push, error);
  if (pipe == NULL)
    return FALSE;
  bw_device_dispatch (dev, pipe, buffers, &push, div_up (bw_tensor_get_n_vec4 (x), GROUP), 1, 1);
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
  push.n = bw_tensor_get_height (x) * bw_tensor_get_width (x);
  push.total = bw_tensor_get_n_vec4 (x);
  pipe = bw_device_get_pipeline (dev, "affine", NULL, 0, 2, sizeof push, error);
  if (pipe == NULL)
    return FALSE;
  bw_device_dispatch (dev, pipe, buffers, &push, div_up (push.total, GROUP), 1, 1);
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
  struct { gint32 c4, n; } push = {
    packs (bw_tensor_get_channels (f)), bw_tensor_get_height (f) * bw_tensor_get_width (f)
  };
  BwBuffer *buffers[] = { bw_tensor_get_buffer (f), gram };
  BwPipeline *pipe;

  g_return_val_if_fail (gram->size >= bw_ops_gram_size (bw_tensor_get_channels (f)), FALSE);
  pipe = bw_device_get_pipeline (dev, "gram", NULL, 0, 2, sizeof push, error);
  if (pipe == NULL)
    return FALSE;
  bw_device_dispatch (dev, pipe, buffers, &push, div_up ((guint64) push.c4 * push.c4, GROUP), 1, 1);
  return TRUE;
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

  pipe = bw_device_get_pipeline (device, "eltwise", spec, G_N_ELEMENTS (spec), 5, sizeof push, error);
  if (pipe == NULL)
    return FALSE;
  bw_device_dispatch (device, pipe, buffers, &push, div_up (n_vec4, GROUP), 1, 1);
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

  g_return_val_if_fail ((offset + groups) * sizeof (float) <= partials->size, 0);
  g_return_val_if_fail (mode != BW_REDUCE_DOT || b != NULL, 0);
  pipe = bw_device_get_pipeline (device, "reduce", spec, 2, 3, sizeof push, error);
  if (pipe == NULL)
    return 0;
  bw_device_dispatch (device, pipe, buffers, &push, groups, 1, 1);
  return groups;
}

guint
bw_ops_tv_n_partials (BwTensor *x)
{
  return div_up (bw_tensor_get_n_vec4 (x), GROUP);
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
  struct { gint32 h, w, total, offset; float weight; } push = {
    bw_tensor_get_height (x), bw_tensor_get_width (x), bw_tensor_get_n_vec4 (x), offset, weight
  };
  BwBuffer *buffers[] = { bw_tensor_get_buffer (x), bw_tensor_get_buffer (grad), partials };
  guint groups = bw_ops_tv_n_partials (x);
  BwPipeline *pipe;

  g_return_val_if_fail ((offset + groups) * sizeof (float) <= partials->size, 0);
  pipe = bw_device_get_pipeline (dev, "tv", NULL, 0, 3, sizeof push, error);
  if (pipe == NULL)
    return 0;
  bw_device_dispatch (dev, pipe, buffers, &push, groups, 1, 1);
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

  g_return_val_if_fail (step >= 1, FALSE);
  pipe = bw_device_get_pipeline (device, "adam", NULL, 0, 4, sizeof push, error);
  if (pipe == NULL)
    return FALSE;
  bw_device_dispatch (device, pipe, buffers, &push, div_up (n_vec4, GROUP), 1, 1);
  return TRUE;
}
