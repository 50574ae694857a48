/* bw-tensor.c: device tensors in pack4 layout and the host-side packing of weights. */
#include "bw-tensor.h"
#include "bw-i18n.h"

struct _BwTensor {
  GObject parent_instance;

  BwDevice *device;
  BwBuffer *buffer;
  BwTensor *base;      /* set for views, which do not own @buffer */
  int c, h, w;
};

G_DEFINE_FINAL_TYPE (BwTensor, bw_tensor, G_TYPE_OBJECT)

static void
bw_tensor_finalize (GObject *object)
{
  BwTensor *self = BW_TENSOR (object);

  if (self->base == NULL)
    bw_device_free_buffer (self->device, self->buffer);
  g_clear_object (&self->base);
  g_clear_object (&self->device);
  G_OBJECT_CLASS (bw_tensor_parent_class)->finalize (object);
}

static void
bw_tensor_class_init (BwTensorClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bw_tensor_finalize;
}

static void
bw_tensor_init (BwTensor *self)
{
}

guint64
bw_tensor_size_for (int channels,
                    int height,
                    int width)
{
  return (guint64) ((channels + 3) / 4) * height * width * 4 * sizeof (float);
}

gboolean
bw_tensor_fits (BwDevice *device,
                int       channels,
                int       height,
                int       width)
{
  guint64 size = bw_tensor_size_for (channels, height, width);

  if (size > bw_device_get_max_allocation (device))
    return FALSE;
  if (channels <= 4 || size <= bw_device_get_max_buffer_size (device))
    return TRUE;
  return size <= bw_device_get_max_texel_view_size (device) &&
         bw_tensor_size_for (4, height, width) <= bw_device_get_max_buffer_size (device);
}

BwTensor *
bw_tensor_new (BwDevice  *device,
               int        channels,
               int        height,
               int        width,
               GError   **error)
{
  g_autoptr(BwTensor) self = NULL;
  guint64 size = bw_tensor_size_for (channels, height, width);

  g_return_val_if_fail (channels > 0 && height > 0 && width > 0, NULL);

  if (!bw_tensor_fits (device, channels, height, width))
    {
      guint64 most = channels <= 4 ? bw_device_get_max_allocation (device)
                                   : MAX (bw_device_get_max_buffer_size (device),
                                          MIN (bw_device_get_max_texel_view_size (device),
                                               bw_device_get_max_allocation (device)));

      g_set_error (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_OUT_OF_MEMORY,
                   _("A %d×%d feature map with %d channels needs %.0f MB in one piece, more than "
                     "“%s” allows (%.0f MB). Choose a smaller image size."),
                   width, height, channels, size / 1e6, bw_device_get_name (device),
                   most / 1e6);
      return NULL;
    }
  self = g_object_new (BW_TYPE_TENSOR, NULL);
  self->device = g_object_ref (device);
  self->c = channels;
  self->h = height;
  self->w = width;
  self->buffer = bw_device_alloc_buffer (device, size, error);
  if (self->buffer == NULL)
    return NULL;
  self->buffer->tensor = TRUE;
  return g_steal_pointer (&self);
}

BwTensor *
bw_tensor_new_view (BwTensor *base,
                    int       channels,
                    int       height,
                    int       width)
{
  BwTensor *self;

  g_return_val_if_fail (bw_tensor_size_for (channels, height, width) <= base->buffer->size, NULL);

  self = g_object_new (BW_TYPE_TENSOR, NULL);
  self->device = g_object_ref (base->device);
  self->base = g_object_ref (base->base ? base->base : base);
  self->buffer = base->buffer;
  self->c = channels;
  self->h = height;
  self->w = width;
  return self;
}

int bw_tensor_get_channels (BwTensor *self) { return self->c; }
int bw_tensor_get_height (BwTensor *self) { return self->h; }
int bw_tensor_get_width (BwTensor *self) { return self->w; }
BwBuffer *bw_tensor_get_buffer (BwTensor *self) { return self->buffer; }
BwDevice *bw_tensor_get_device (BwTensor *self) { return self->device; }

guint
bw_tensor_get_n_vec4 (BwTensor *self)
{
  return (guint) ((self->c + 3) / 4) * self->h * self->w;
}

float *
bw_tensor_pack4 (const float *data,
                 int          channels,
                 int          hw)
{
  int c4 = (channels + 3) / 4;
  float *out = g_new0 (float, (gsize) c4 * hw * 4);

  for (int c = 0; c < channels; c++)
    for (int i = 0; i < hw; i++)
      out[((gsize) (c / 4) * hw + i) * 4 + c % 4] = data[(gsize) c * hw + i];
  return out;
}

gboolean
bw_tensor_upload (BwTensor     *self,
                  const float  *data,
                  GError      **error)
{
  g_autofree float *packed = bw_tensor_pack4 (data, self->c, self->h * self->w);

  return bw_device_write_buffer (self->device, self->buffer, 0, packed,
                                 bw_tensor_size_for (self->c, self->h, self->w), error);
}

float *
bw_tensor_download (BwTensor  *self,
                    GError   **error)
{
  gsize hw = (gsize) self->h * self->w;
  g_autofree float *packed = g_malloc (bw_tensor_size_for (self->c, self->h, self->w));
  float *out;

  if (!bw_device_read_buffer (self->device, self->buffer, 0, packed,
                              bw_tensor_size_for (self->c, self->h, self->w), error))
    return NULL;
  out = g_new (float, (gsize) self->c * hw);
  for (int c = 0; c < self->c; c++)
    for (gsize i = 0; i < hw; i++)
      out[c * hw + i] = packed[((gsize) (c / 4) * hw + i) * 4 + c % 4];
  return out;
}

void
bw_tensor_clear (BwTensor *self)
{
  bw_device_fill_zero (self->device, self->buffer);
}

float *
bw_tensor_pack_conv_weights (const float *weights,
                             int          out_channels,
                             int          in_channels,
                             int          k,
                             gboolean     transpose_flip,
                             gsize       *n_floats)
{
  int kk = k * k;
  int oc = transpose_flip ? in_channels : out_channels;
  int ic = transpose_flip ? out_channels : in_channels;
  int oc4 = (oc + 3) / 4, ic4 = (ic + 3) / 4;
  gsize n = (gsize) oc4 * ic4 * kk * 16;
  float *out = g_new0 (float, n);

  for (int o = 0; o < oc; o++)
    for (int i = 0; i < ic; i++)
      for (int t = 0; t < kk; t++)
        {
          float v = transpose_flip
            ? weights[((gsize) i * in_channels + o) * kk + (kk - 1 - t)]
            : weights[((gsize) o * in_channels + i) * kk + t];
          /* block (o/4, i/4, t), column i%4, row o%4 */
          out[((((gsize) (o / 4) * ic4 + i / 4) * kk + t) * 4 + i % 4) * 4 + o % 4] = v;
        }
  if (n_floats)
    *n_floats = n;
  return out;
}
