/* bw-ops.h: the compute kernels, one function per shader.
 *
 * Each call records a dispatch on the tensors' device; nothing runs until bw_device_submit().
 * Which shader variant serves a call (tile sizes, a Winograd path later) is decided here, per
 * device, so callers never see it. Functions return FALSE with @error set only when a pipeline
 * cannot be built.
 */
#pragma once

#include "tensor/bw-tensor.h"

G_BEGIN_DECLS

/* y = mask(relu(conv_k(x, weights) + bias + addend)); weights packed by
 * bw_tensor_pack_conv_weights() (or a Gram matrix, for k = 1). @bias, @addend and @mask may be
 * NULL; the mask zeroes y where mask <= 0. y has x's height and width. */
gboolean bw_ops_conv            (BwTensor  *x,
                                 BwBuffer  *weights,
                                 int        k,
                                 BwBuffer  *bias,
                                 BwTensor  *addend,
                                 gboolean   relu,
                                 BwTensor  *mask,
                                 BwTensor  *y,
                                 GError   **error);

/* The same for k = 3, through the Winograd F(@winograd_tile x @winograd_tile, 3x3) path when
 * @winograd is not NULL and the device and layer suit it (bw_ops_winograd_tile() is not 0);
 * otherwise through bw_ops_conv() with @weights. @winograd holds @weights transformed by
 * bw_ops_pack_winograd_weights() for that tile (4 or 6); or, with @winograd_flipped, where
 * bw_ops_winograd_flip_shared() allows it, this conv is the input gradient of a conv whose own
 * (forward) weights @winograd holds. The Winograd path keeps two scratch buffers on the device,
 * each of at most bw_ops_winograd_scratch_size(). */
gboolean bw_ops_conv3x3         (BwTensor  *x,
                                 BwBuffer  *weights,
                                 BwBuffer  *winograd,
                                 int        winograd_tile,
                                 gboolean   winograd_flipped,
                                 BwBuffer  *bias,
                                 BwTensor  *addend,
                                 gboolean   relu,
                                 BwTensor  *mask,
                                 BwTensor  *y,
                                 GError   **error);

/* The output tile of the Winograd path for a 3x3 conv of these channel counts on @device:
 * 4 for F(4x4, 3x3), 6 for F(6x6, 3x3), or 0 where the path does not serve (so that callers
 * upload transformed weights only where they can be used). It serves where the device has
 * shaderInt64 (or takes the shared-memory GEMM) and both counts are at least 16.
 * BRUSHWORK_WINOGRAD=0 in the environment turns the path off, BRUSHWORK_WINOGRAD=always takes
 * it for any channel count, BRUSHWORK_WINOGRAD_TILE=4 or 6 chooses the tile (read once). */
int      bw_ops_winograd_tile   (BwDevice  *device,
                                 int        in_channels,
                                 int        out_channels);

/* Whether the input gradient of a conv whose Winograd path has output tiles of @tile can read
 * the conv's own transformed weights on @device (bw_ops_conv3x3()'s @winograd_flipped), so
 * that they are kept once: F(6x6, 3x3) on devices that take winograd_gemm.comp. */
gboolean bw_ops_winograd_flip_shared (BwDevice *device,
                                      int       tile);

/* The most bytes one of the Winograd path's two scratch buffers holds for a conv of
 * @in_channels to @out_channels on a map of @height x @width with output tiles of @tile. */
guint64  bw_ops_winograd_scratch_size (BwDevice *device,
                                       int       tile,
                                       int       in_channels,
                                       int       out_channels,
                                       int       height,
                                       int       width);

/* Transforms 3x3 weights packed by bw_tensor_pack_conv_weights() for a conv of @in_channels to
 * @out_channels (for transposed-flipped weights, the channels of the transposed conv) into the
 * layout of winograd_gemm.comp for output tiles of @tile (4 or 6): (tile + 2)^2 x ceil(out/4)
 * x ceil(in/4) blocks of 16 floats. */
float   *bw_ops_pack_winograd_weights (const float *packed,
                                       int          out_channels,
                                       int          in_channels,
                                       int          tile,
                                       gsize       *n_floats);
/* The same into @out, of bw_ops_winograd_weights_size() floats (a mapped device buffer, say). */
void     bw_ops_pack_winograd_weights_into (const float *packed,
                                            int          out_channels,
                                            int          in_channels,
                                            int          tile,
                                            float       *out);
gsize    bw_ops_winograd_weights_size (int out_channels,
                                       int in_channels,
                                       int tile);

/* 2x2 max-pool, stride 2; y is floor(h/2) x floor(w/2). */
gboolean bw_ops_maxpool         (BwTensor  *x,
                                 BwTensor  *y,
                                 GError   **error);

/* dx = (route(dy) + addend) * (x > 0): the gradient of relu -> maxpool, given the pool's input
 * x (post-ReLU). @addend may be NULL. */
gboolean bw_ops_maxpool_backward (BwTensor *dy,
                                  BwTensor *x,
                                  BwTensor *addend,
                                  BwTensor *dx,
                                  GError  **error);

/* Copies a rectangle between tensors of the same channel count, for tiling: for each pixel
 * (y, x) with @ry <= y < @ry + @rh and @rx <= x < @rx + @rw of @dst, dst[y][x] = src[y + @oy]
 * [x + @ox], or += with @accumulate, reading zero outside @src. The rectangle lies in @dst. */
gboolean bw_ops_crop            (BwTensor  *src,
                                 BwTensor  *dst,
                                 int        oy,
                                 int        ox,
                                 int        ry,
                                 int        rx,
                                 int        rh,
                                 int        rw,
                                 gboolean   accumulate,
                                 GError   **error);

/* y = x * scale + shift per channel, for the first four channels (images). */
gboolean bw_ops_affine          (BwTensor     *x,
                                 const float   scale[4],
                                 const float   shift[4],
                                 BwTensor     *y,
                                 GError      **error);

/* gram = F F^T as ceil(c/4)^2 blocks of 4 vec4 (see gram.comp); @gram holds at least
 * bw_ops_gram_size(c) bytes. */
guint64  bw_ops_gram_size       (int        channels);
gboolean bw_ops_gram            (BwTensor  *f,
                                 BwBuffer  *gram,
                                 GError   **error);

/* out = (k * (s * a - b) + c) * (m > 0) over @n_vec4 vec4s; @b, @c, @m may be NULL. */
gboolean bw_ops_eltwise         (BwDevice  *device,
                                 BwBuffer  *a,
                                 BwBuffer  *b,
                                 BwBuffer  *c,
                                 BwBuffer  *m,
                                 float      k,
                                 float      s,
                                 BwBuffer  *out,
                                 guint      n_vec4,
                                 GError   **error);

/* out = k * x * m^2 (@square) or k * x * m, plus @addend: a feature map times a per-pixel
 * mask @m of h * w floats (region masks); @addend may be NULL or @out. */
gboolean bw_ops_mask_mul        (BwTensor  *x,
                                 BwBuffer  *m,
                                 BwTensor  *addend,
                                 float      k,
                                 gboolean   square,
                                 BwTensor  *out,
                                 GError   **error);

typedef enum {
  BW_REDUCE_SQDIFF,   /* sum of (s * a - b)^2, or of (s * a)^2 without b */
  BW_REDUCE_DOT,      /* sum of a * b */
  BW_REDUCE_MAX_ABS,  /* max of |a| */
  BW_REDUCE_SUM_ABS,  /* sum of |a| */
} BwReduce;

/* Records partial results of @mode over @n_vec4 vec4s into @partials from float index
 * @offset; returns the number of partials written, to combine after the submit (add them,
 * or take their maximum for BW_REDUCE_MAX_ABS), or 0 with @error set. */
guint    bw_ops_reduce          (BwDevice  *device,
                                 BwReduce   mode,
                                 BwBuffer  *a,
                                 BwBuffer  *b,
                                 float      s,
                                 guint      n_vec4,
                                 BwBuffer  *partials,
                                 guint      offset,
                                 GError   **error);
/* How many partials bw_ops_reduce() writes for @n_vec4 vec4s. */
guint    bw_ops_reduce_n_partials (guint   n_vec4);

/* Adds @weight * d tv(x) / dx to @grad, tv as in tv.comp, and records the partial sums of
 * tv(x) into @partials from float index @offset. Returns the number of partials, or 0 with
 * @error set. */
guint    bw_ops_tv              (BwTensor  *x,
                                 BwTensor  *grad,
                                 float      weight,
                                 BwBuffer  *partials,
                                 guint      offset,
                                 GError   **error);
guint    bw_ops_tv_n_partials   (BwTensor  *x);

/* One Adam step of PyTorch's rule on @n_vec4 vec4s: x, m and v are updated in place. */
gboolean bw_ops_adam            (BwDevice  *device,
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
                                 GError   **error);

G_END_DECLS
