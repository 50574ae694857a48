/* bw-tensor.h: a c x h x w float tensor on the device.
 *
 * Stored with channels packed by four (ncnn's pack4: [ceil(c/4)][h][w][4]) so that shaders move
 * whole vec4s; the padding lanes are kept at zero. Callers see planar c x h x w floats only.
 */
#pragma once

#include "gpu/bw-device.h"

G_BEGIN_DECLS

#define BW_TYPE_TENSOR (bw_tensor_get_type ())
G_DECLARE_FINAL_TYPE (BwTensor, bw_tensor, BW, TENSOR, GObject)

/* Fails for a tensor that bw_tensor_fits() refuses. */
BwTensor *bw_tensor_new          (BwDevice     *device,
                                  int           channels,
                                  int           height,
                                  int           width,
                                  GError      **error);

/* A tensor of another shape over the start of @base's storage, which must be large enough. */
BwTensor *bw_tensor_new_view     (BwTensor     *base,
                                  int           channels,
                                  int           height,
                                  int           width);

/* Whether @device takes a tensor of this shape. Images of up to four channels may take up to
 * bw_device_get_max_allocation() (the ops that take them bind a part at a time). A feature map
 * must fit one binding (bw_device_get_max_buffer_size()), except on a device that reads maps
 * through texel views: there it may fill one view, as long as one pack of four channels fits
 * a binding, and the ops write it a range of packs at a time (bw-ops.c). */
gboolean  bw_tensor_fits         (BwDevice     *device,
                                  int           channels,
                                  int           height,
                                  int           width);

/* Bytes a tensor of this shape occupies on the device. */
guint64   bw_tensor_size_for     (int           channels,
                                  int           height,
                                  int           width);

int       bw_tensor_get_channels (BwTensor     *self);
int       bw_tensor_get_height   (BwTensor     *self);
int       bw_tensor_get_width    (BwTensor     *self);
/* Number of vec4s: ceil(c/4) * h * w. */
guint     bw_tensor_get_n_vec4   (BwTensor     *self);
BwBuffer *bw_tensor_get_buffer   (BwTensor     *self);
BwDevice *bw_tensor_get_device   (BwTensor     *self);

/* @data: c * h * w floats, planar. */
gboolean  bw_tensor_upload       (BwTensor     *self,
                                  const float  *data,
                                  GError      **error);
/* Returns c * h * w planar floats (g_free them), or NULL with @error set. */
float    *bw_tensor_download     (BwTensor     *self,
                                  GError      **error);
/* Records a zero fill. */
void      bw_tensor_clear        (BwTensor     *self);

/* Packs planar float arrays into the layouts the shaders read. */
float    *bw_tensor_pack4        (const float  *data,
                                  int           channels,
                                  int           hw);
/* A [out][in][k*k] weight array (torchvision's order) as conv.comp's [OC4][IC4][k*k][4] vec4
 * blocks. With @transpose_flip, packs the input-gradient weights instead: out and in swapped
 * and the k x k window rotated by 180 degrees. Returns the floats and their count. */
float    *bw_tensor_pack_conv_weights (const float *weights,
                                       int          out_channels,
                                       int          in_channels,
                                       int          k,
                                       gboolean     transpose_flip,
                                       gsize       *n_floats);

G_END_DECLS
