/* bw-vgg19.c: the VGG19 graph on the device.
 *
 * Memory plan: every post-ReLU feature up to the deepest layer is kept (the backward pass needs
 * them as ReLU masks and max-pool argmaxes). Gradients live in two buffers per resolution,
 * used in turn, since the backward pass only ever holds the gradient of one layer and of the
 * layer above it.
 */
#include "bw-vgg19.h"

#include <string.h>

#include "ops/bw-ops.h"
#include "bw-i18n.h"

#define N_LEVELS 5

const float bw_vgg19_torchvision_mean[3] = { 0.485f, 0.456f, 0.406f };
const float bw_vgg19_caffe_mean[3] = { 123.68f / 255.0f, 116.779f / 255.0f, 103.939f / 255.0f };
const float bw_vgg19_std[3] = { 0.229f, 0.224f, 0.225f };

static const char *const relu_names[BW_VGG19_N_CONVS] = {
  "relu1_1", "relu1_2", "relu2_1", "relu2_2", "relu3_1", "relu3_2", "relu3_3", "relu3_4",
  "relu4_1", "relu4_2", "relu4_3", "relu4_4", "relu5_1",
};

struct _BwVgg19 {
  GObject parent_instance;

  BwDevice *device;
  BwWeightsConvention convention;
  const float *mean;                       /* of the normalised image, for the convention */
  BwBuffer *weights[BW_VGG19_N_CONVS];
  BwBuffer *weights_t[BW_VGG19_N_CONVS];   /* transposed and flipped, for the backward pass */
  /* both, transformed for the Winograd path (bw_ops_conv3x3), where it may serve; NULL else
   * (winograd_t also where the input gradient reads winograd flipped: conv_input_grad()) */
  BwBuffer *winograd[BW_VGG19_N_CONVS];
  BwBuffer *winograd_t[BW_VGG19_N_CONVS];
  int winograd_tile[BW_VGG19_N_CONVS];     /* their output tile, 4 or 6; 0 without them */
  BwBuffer *bias[BW_VGG19_N_CONVS];
  guint64 weight_bytes;                    /* all of the above */

  /* prepared for: */
  int height, width, last;
  gboolean backward;

  BwTensor *pooled[BW_VGG19_N_CONVS];      /* the input of conv i when a pool precedes it */
  BwTensor *features[BW_VGG19_N_CONVS];
  BwTensor *grad_slots[N_LEVELS][2];

  /* what is allocated, for the size bw_vgg19_prepare() was last given; the tensors above are
   * these, or views of them after bw_vgg19_prepare_within() */
  int store_height, store_width, store_last;
  gboolean store_backward;
  BwTensor *store_pooled[BW_VGG19_N_CONVS];
  BwTensor *store_features[BW_VGG19_N_CONVS];
  BwTensor *store_grad_slots[N_LEVELS][2];
};

G_DEFINE_FINAL_TYPE (BwVgg19, bw_vgg19, G_TYPE_OBJECT)

static int
level_of (int index)
{
  int level = 0;

  for (int i = 1; i <= index; i++)
    level += bw_vgg19_convs[i].pool_before;
  return level;
}

static void
release_views (BwVgg19 *self)
{
  for (int i = 0; i < BW_VGG19_N_CONVS; i++)
    {
      g_clear_object (&self->pooled[i]);
      g_clear_object (&self->features[i]);
    }
  for (int l = 0; l < N_LEVELS; l++)
    {
      g_clear_object (&self->grad_slots[l][0]);
      g_clear_object (&self->grad_slots[l][1]);
    }
  self->height = self->width = 0;
  self->last = -1;
}

static void
release_activations (BwVgg19 *self)
{
  release_views (self);
  for (int i = 0; i < BW_VGG19_N_CONVS; i++)
    {
      g_clear_object (&self->store_pooled[i]);
      g_clear_object (&self->store_features[i]);
    }
  for (int l = 0; l < N_LEVELS; l++)
    {
      g_clear_object (&self->store_grad_slots[l][0]);
      g_clear_object (&self->store_grad_slots[l][1]);
    }
  self->store_height = self->store_width = 0;
  self->store_last = -1;
}

static void
bw_vgg19_finalize (GObject *object)
{
  BwVgg19 *self = BW_VGG19 (object);

  release_activations (self);
  for (int i = 0; i < BW_VGG19_N_CONVS; i++)
    {
      bw_device_free_buffer (self->device, self->weights[i]);
      bw_device_free_buffer (self->device, self->weights_t[i]);
      if (self->winograd[i])
        bw_device_free_buffer (self->device, self->winograd[i]);
      if (self->winograd_t[i])
        bw_device_free_buffer (self->device, self->winograd_t[i]);
      bw_device_free_buffer (self->device, self->bias[i]);
    }
  g_clear_object (&self->device);
  G_OBJECT_CLASS (bw_vgg19_parent_class)->finalize (object);
}

static void
bw_vgg19_class_init (BwVgg19Class *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bw_vgg19_finalize;
}

static void
bw_vgg19_init (BwVgg19 *self)
{
  self->last = self->store_last = -1;
}

BwDevice *
bw_vgg19_get_device (BwVgg19 *self)
{
  return self->device;
}

guint64
bw_vgg19_get_weight_bytes (BwVgg19 *self)
{
  return self->weight_bytes;
}

BwWeightsConvention
bw_vgg19_get_convention (BwVgg19 *self)
{
  return self->convention;
}

const float *
bw_vgg19_get_mean (BwVgg19 *self)
{
  return self->mean;
}

/* conv1_1 for Caffe's weights on the normalised image n = (x - m) / s, m = Caffe's mean/255 in
 * RGB: Caffe's input is bgr[c'] = 255 x[c] - 255 m[c] = 255 s[c] n[c] with c = 2 - c', so
 *   sum_c' W[o][c'] bgr[c'] = sum_c (W[o][2 - c] 255 s[c]) n[c]
 * exactly, zero padding included (n = 0 is bgr = 0); the bias is unchanged. */
static float *
caffe_first_conv (const float *w)
{
  const BwVgg19Conv *conv = &bw_vgg19_convs[0];
  float *out = g_new (float, (gsize) conv->out_channels * 3 * 9);

  g_assert (conv->in_channels == 3);
  for (int o = 0; o < conv->out_channels; o++)
    for (int c = 0; c < 3; c++)
      for (int k = 0; k < 9; k++)
        out[(o * 3 + c) * 9 + k] = w[(o * 3 + (2 - c)) * 9 + k] * 255.0f * bw_vgg19_std[c];
  return out;
}

int
bw_vgg19_layer_index (const char *relu_name)
{
  for (int i = 0; i < BW_VGG19_N_CONVS; i++)
    if (g_strcmp0 (relu_names[i], relu_name) == 0)
      return i;
  return -1;
}

const char *
bw_vgg19_layer_name (int index)
{
  g_return_val_if_fail (index >= 0 && index < BW_VGG19_N_CONVS, NULL);
  return relu_names[index];
}

static BwBuffer *
upload_floats (BwVgg19      *self,
               const float  *data,
               gsize         n,
               GError      **error)
{
  BwBuffer *buf = bw_device_alloc_buffer (self->device, n * sizeof (float), error);

  if (buf && !bw_device_write_buffer (self->device, buf, 0, data, n * sizeof (float), error))
    {
      bw_device_free_buffer (self->device, buf);
      return NULL;
    }
  if (buf)
    self->weight_bytes += n * sizeof (float);
  return buf;
}

/* Winograd weights straight into the buffer where the host sees it (lavapipe's are host
 * memory): 0.6 GB for VGG19 not made twice and copied. */
static BwBuffer *
upload_winograd (BwVgg19      *self,
                 const float  *packed,
                 int           out_channels,
                 int           in_channels,
                 int           tile,
                 GError      **error)
{
  gsize n = bw_ops_winograd_weights_size (out_channels, in_channels, tile);
  g_autofree float *wino = NULL;
  BwBuffer *buf;

  buf = bw_device_alloc_buffer (self->device, n * sizeof (float), error);
  if (buf == NULL)
    return NULL;
  if (buf->mapped)
    bw_ops_pack_winograd_weights_into (packed, out_channels, in_channels, tile, buf->mapped);
  else
    {
      wino = bw_ops_pack_winograd_weights (packed, out_channels, in_channels, tile, NULL);
      if (!bw_device_write_buffer (self->device, buf, 0, wino, n * sizeof (float), error))
        {
          bw_device_free_buffer (self->device, buf);
          return NULL;
        }
    }
  self->weight_bytes += n * sizeof (float);
  return buf;
}

BwVgg19 *
bw_vgg19_new (BwDevice   *device,
              BwWeights  *weights,
              GError    **error)
{
  g_autoptr(BwVgg19) self = NULL;

  if (!bw_weights_check_vgg19 (weights, NULL, error))
    return NULL;

  self = g_object_new (BW_TYPE_VGG19, NULL);
  self->device = g_object_ref (device);
  self->convention = bw_weights_get_convention (weights);
  self->mean = self->convention == BW_WEIGHTS_CONVENTION_CAFFE ? bw_vgg19_caffe_mean
                                                               : bw_vgg19_torchvision_mean;
  for (int i = 0; i < BW_VGG19_N_CONVS; i++)
    {
      const BwVgg19Conv *conv = &bw_vgg19_convs[i];
      g_autofree char *wname = g_strdup_printf ("features.%d.weight", conv->module);
      g_autofree char *bname = g_strdup_printf ("features.%d.bias", conv->module);
      const float *w = bw_weights_lookup (weights, wname, NULL, NULL);
      const float *b = bw_weights_lookup (weights, bname, NULL, NULL);
      g_autofree float *folded = NULL;
      g_autofree float *packed = NULL;
      g_autofree float *packed_t = NULL;
      g_autofree float *bias4 = NULL;
      gsize n, n_t;

      if (i == 0 && self->convention == BW_WEIGHTS_CONVENTION_CAFFE)
        w = folded = caffe_first_conv (w);
      packed = bw_tensor_pack_conv_weights (w, conv->out_channels, conv->in_channels, 3, FALSE, &n);
      packed_t = bw_tensor_pack_conv_weights (w, conv->out_channels, conv->in_channels, 3, TRUE, &n_t);
      bias4 = bw_tensor_pack4 (b, conv->out_channels, 1);
      self->weights[i] = upload_floats (self, packed, n, error);
      if (self->weights[i] == NULL)
        return NULL;
      self->weights_t[i] = upload_floats (self, packed_t, n_t, error);
      if (self->weights_t[i] == NULL)
        return NULL;
      self->bias[i] = upload_floats (self, bias4, (conv->out_channels + 3) / 4 * 4, error);
      if (self->bias[i] == NULL)
        return NULL;
      /* 4x the memory of the weights with F(4x4, 3x3) for both directions (416 MB for all 12
       * layers), 7.1x with F(6x6, 3x3) for one (370 MB: the input gradient reads them flipped
       * where bw_ops_winograd_flip_shared()), for 2-3x the speed (bw-ops.c) */
      self->winograd_tile[i] = bw_ops_winograd_tile (device, conv->in_channels, conv->out_channels);
      if (self->winograd_tile[i] != 0)
        {
          int tile = self->winograd_tile[i];

          self->winograd[i] = upload_winograd (self, packed, conv->out_channels,
                                               conv->in_channels, tile, error);
          if (self->winograd[i] == NULL)
            return NULL;
          if (!bw_ops_winograd_flip_shared (device, tile))
            {
              self->winograd_t[i] = upload_winograd (self, packed_t, conv->in_channels,
                                                     conv->out_channels, tile, error);
              if (self->winograd_t[i] == NULL)
                return NULL;
            }
        }
    }
  return g_steal_pointer (&self);
}

/* Walks the tensors a run allocates, for bw_vgg19_prepare() and the estimate alike. */
typedef void (*PlanFunc) (const char *what, int slot, int c, int h, int w, gpointer data);

static void
plan (int       height,
      int       width,
      int       last,
      gboolean  backward,
      PlanFunc  func,
      gpointer  data)
{
  int slot_c[N_LEVELS] = { 0 };

  for (int i = 0; i <= last; i++)
    {
      int level = level_of (i);
      int h = height >> level, w = width >> level;

      if (bw_vgg19_convs[i].pool_before)
        func ("pooled", i, bw_vgg19_convs[i - 1].out_channels, h, w, data);
      func ("feature", i, bw_vgg19_convs[i].out_channels, h, w, data);
      slot_c[level] = MAX (slot_c[level], bw_vgg19_convs[i].out_channels);
    }
  if (!backward)
    return;
  for (int level = 0; level < N_LEVELS && slot_c[level] > 0; level++)
    {
      func ("grad", level * 2, slot_c[level], height >> level, width >> level, data);
      func ("grad", level * 2 + 1, slot_c[level], height >> level, width >> level, data);
    }
}

static void
add_size (const char *what,
          int         slot,
          int         c,
          int         h,
          int         w,
          gpointer    data)
{
  *(guint64 *) data += bw_tensor_size_for (c, h, w);
}

guint64
bw_vgg19_estimate_memory (int      height,
                          int      width,
                          int      last,
                          gboolean backward)
{
  guint64 total = 0;

  plan (height, width, last, backward, add_size, &total);
  return total;
}

typedef struct {
  BwVgg19 *self;
  GError **error;
  gboolean failed;
  gboolean views;     /* make views of the allocation rather than allocate */
} AllocData;

static void
alloc_tensor (const char *what,
              int         slot,
              int         c,
              int         h,
              int         w,
              gpointer    data)
{
  AllocData *ad = data;
  BwVgg19 *self = ad->self;
  BwTensor **dest, **store;

  if (ad->failed)
    return;
  if (g_str_equal (what, "pooled"))
    {
      dest = &self->pooled[slot];
      store = &self->store_pooled[slot];
    }
  else if (g_str_equal (what, "feature"))
    {
      dest = &self->features[slot];
      store = &self->store_features[slot];
    }
  else if (g_str_equal (what, "grad"))
    {
      dest = &self->grad_slots[slot / 2][slot % 2];
      store = &self->store_grad_slots[slot / 2][slot % 2];
    }
  else
    g_assert_not_reached ();
  if (ad->views)
    {
      /* within the allocation, which was planned for at least this size */
      *dest = bw_tensor_new_view (*store, c, h, w);
      return;
    }
  *store = bw_tensor_new (self->device, c, h, w, ad->error);
  ad->failed = *store == NULL;
  if (!ad->failed)
    *dest = g_object_ref (*store);
}

int
bw_vgg19_min_side (int last)
{
  g_return_val_if_fail (last >= 0 && last < BW_VGG19_N_CONVS, 1);
  return 1 << level_of (last);
}

/* The most one of bw_ops_conv3x3()'s two scratch buffers holds for the convs up to @last. */
static guint64
winograd_scratch (BwVgg19 *self,
                  int      height,
                  int      width,
                  int      last)
{
  guint64 most = 0;

  for (int i = 0; i <= last; i++)
    if (self->winograd[i] != NULL)
      {
        const BwVgg19Conv *conv = &bw_vgg19_convs[i];
        int level = level_of (i);

        most = MAX (most, bw_ops_winograd_scratch_size (self->device, self->winograd_tile[i],
                                                        conv->in_channels, conv->out_channels,
                                                        height >> level, width >> level));
      }
  return most;
}

typedef struct {
  BwDevice *device;
  guint64 largest;   /* of the tensors the device does not take (bw_tensor_fits()) */
} Largest;

static void
add_largest (const char *what,
             int         slot,
             int         c,
             int         h,
             int         w,
             gpointer    data)
{
  Largest *largest = data;

  if (!bw_tensor_fits (largest->device, c, h, w))
    largest->largest = MAX (largest->largest, bw_tensor_size_for (c, h, w));
}

gboolean
bw_vgg19_fits (BwVgg19   *self,
               int        height,
               int        width,
               int        last,
               gboolean   backward,
               GError   **error)
{
  int min_side = bw_vgg19_min_side (last);
  guint64 need, have;
  Largest largest = { self->device, 0 };

  g_return_val_if_fail (last >= 0 && last < BW_VGG19_N_CONVS, FALSE);

  if (height < min_side || width < min_side)
    {
      g_set_error (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_UNSUPPORTED,
                   _("A %d×%d image is too small for layer %s, which needs at least %d×%d pixels. "
                     "Choose a larger size."), width, height, relu_names[last], min_side, min_side);
      return FALSE;
    }
  plan (height, width, last, backward, add_largest, &largest);
  if (largest.largest > 0)
    {
      g_set_error (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_OUT_OF_MEMORY,
                   _("A %d×%d image needs %.0f MB in one piece for its largest feature map, "
                     "more than “%s” allows. Choose a smaller size."), width, height,
                   largest.largest / 1e6, bw_device_get_name (self->device));
      return FALSE;
    }
  need = bw_vgg19_estimate_memory (height, width, last, backward) + self->weight_bytes +
         2 * winograd_scratch (self, height, width, last);
  have = bw_device_get_memory_size (self->device);
  /* Leave a tenth for the losses, the optimiser and whatever else shares the device. */
  if (need > have / 10 * 9)
    {
      g_set_error (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_OUT_OF_MEMORY,
                   _("A %d×%d image needs %.1f GB of graphics memory, but “%s” has %.1f GB. "
                     "Choose a smaller size."), width, height, need / 1e9,
                   bw_device_get_name (self->device), have / 1e9);
      return FALSE;
    }
  return TRUE;
}

gboolean
bw_vgg19_prepare (BwVgg19   *self,
                  int        height,
                  int        width,
                  int        last,
                  gboolean   backward,
                  GError   **error)
{
  AllocData ad = { self, error, FALSE, FALSE };

  g_return_val_if_fail (last >= 0 && last < BW_VGG19_N_CONVS, FALSE);

  if (height == self->store_height && width == self->store_width && last == self->store_last &&
      backward == self->store_backward)
    return bw_vgg19_prepare_within (self, height, width, last, backward, error);
  if (!bw_vgg19_fits (self, height, width, last, backward, error))
    return FALSE;

  release_activations (self);
  plan (height, width, last, backward, alloc_tensor, &ad);
  if (ad.failed)
    {
      release_activations (self);
      return FALSE;
    }
  self->height = self->store_height = height;
  self->width = self->store_width = width;
  self->last = self->store_last = last;
  self->backward = self->store_backward = backward;
  return TRUE;
}

gboolean
bw_vgg19_prepare_within (BwVgg19   *self,
                         int        height,
                         int        width,
                         int        last,
                         gboolean   backward,
                         GError   **error)
{
  AllocData ad = { self, error, FALSE, TRUE };

  g_return_val_if_fail (height <= self->store_height && width <= self->store_width &&
                        last == self->store_last && backward == self->store_backward, FALSE);
  g_return_val_if_fail (height >= bw_vgg19_min_side (last) && width >= bw_vgg19_min_side (last),
                        FALSE);

  if (height == self->height && width == self->width && last == self->last &&
      backward == self->backward)
    return TRUE;
  release_views (self);
  plan (height, width, last, backward, alloc_tensor, &ad);
  self->height = height;
  self->width = width;
  self->last = last;
  self->backward = backward;
  return TRUE;
}

gboolean
bw_vgg19_normalize (BwVgg19   *self,
                    BwTensor  *image,
                    BwTensor  *out,
                    gboolean   inverse,
                    GError   **error)
{
  float scale[4] = { 1, 1, 1, 0 }, shift[4] = { 0, 0, 0, 0 };

  g_return_val_if_fail (BW_IS_VGG19 (self), FALSE);

  for (int c = 0; c < 3; c++)
    {
      scale[c] = inverse ? bw_vgg19_std[c] : 1.0f / bw_vgg19_std[c];
      shift[c] = inverse ? self->mean[c] : -self->mean[c] / bw_vgg19_std[c];
    }
  return bw_ops_affine (image, scale, shift, out, error);
}

gboolean
bw_vgg19_forward (BwVgg19   *self,
                  BwTensor  *input,
                  GError   **error)
{
  BwTensor *x = input;

  g_return_val_if_fail (self->last >= 0, FALSE);
  g_return_val_if_fail (bw_tensor_get_height (input) == self->height &&
                        bw_tensor_get_width (input) == self->width, FALSE);

  for (int i = 0; i <= self->last; i++)
    {
      if (bw_vgg19_convs[i].pool_before)
        {
          if (!bw_ops_maxpool (self->features[i - 1], self->pooled[i], error))
            return FALSE;
          x = self->pooled[i];
        }
      if (!bw_ops_conv3x3 (x, self->weights[i], self->winograd[i], self->winograd_tile[i], FALSE,
                           self->bias[i], NULL, TRUE, NULL, self->features[i], error))
        return FALSE;
      x = self->features[i];
    }
  return TRUE;
}

BwTensor *
bw_vgg19_get_feature (BwVgg19 *self,
                      int      index)
{
  g_return_val_if_fail (index >= 0 && index <= self->last, NULL);
  return self->features[index];
}

/* The input gradient of conv @i, y = mask(conv_t(x) + addend): through its own transformed
 * weights, or its forward ones read flipped (bw_ops_winograd_flip_shared()). */
static gboolean
conv_input_grad (BwVgg19   *self,
                 int        i,
                 BwTensor  *x,
                 BwTensor  *addend,
                 BwTensor  *mask,
                 BwTensor  *y,
                 GError   **error)
{
  gboolean flipped = self->winograd_t[i] == NULL && self->winograd[i] != NULL;

  return bw_ops_conv3x3 (x, self->weights_t[i], flipped ? self->winograd[i] : self->winograd_t[i],
                         self->winograd_tile[i], flipped, NULL, addend, FALSE, mask, y, error);
}

/* The gradient of conv @index's pre-ReLU output lives in slot index % 2 of its level, and the
 * gradient of the pooled map above it in the other slot of the level above. */
static BwTensor *
grad_view (BwVgg19 *self,
           int      level,
           int      slot,
           int      channels)
{
  return bw_tensor_new_view (self->grad_slots[level][slot], channels,
                             self->height >> level, self->width >> level);
}

gboolean
bw_vgg19_backward (BwVgg19         *self,
                   BwTensor *const *feature_grads,
                   BwTensor        *input_grad,
                   GError         **error)
{
  g_autoptr(BwTensor) above = NULL;   /* dLoss/d(pre-ReLU output) of the conv above */
  int deepest = -1;

  g_return_val_if_fail (self->backward, FALSE);

  for (int i = 0; i <= self->last; i++)
    if (feature_grads[i] != NULL)
      deepest = i;
  if (deepest < 0)
    {
      bw_tensor_clear (input_grad);
      return TRUE;
    }

  for (int l = deepest; l >= 0; l--)
    {
      int level = level_of (l);
      g_autoptr(BwTensor) here = grad_view (self, level, l % 2, bw_vgg19_convs[l].out_channels);
      BwTensor *addend = feature_grads[l];

      if (l == deepest)
        {
          if (!bw_ops_eltwise (self->device, bw_tensor_get_buffer (addend), NULL, NULL,
                               bw_tensor_get_buffer (self->features[l]), 1.0f, 1.0f,
                               bw_tensor_get_buffer (here), bw_tensor_get_n_vec4 (here), error))
            return FALSE;
        }
      else if (bw_vgg19_convs[l + 1].pool_before)
        {
          g_autoptr(BwTensor) pooled = grad_view (self, level + 1, l % 2,
                                                  bw_vgg19_convs[l].out_channels);
          if (!conv_input_grad (self, l + 1, above, NULL, NULL, pooled, error) ||
              !bw_ops_maxpool_backward (pooled, self->features[l], addend, here, error))
            return FALSE;
        }
      else if (!conv_input_grad (self, l + 1, above, addend, self->features[l], here, error))
        return FALSE;
      g_set_object (&above, here);
    }

  return conv_input_grad (self, 0, above, NULL, NULL, input_grad, error);
}
