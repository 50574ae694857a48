/* bw-reference.h: plain-C versions of the engine's ops, in double, planar c x h x w layout.
 * They are the independent truth the shaders are tested against: written for clarity,
 * straight from the definitions, with no shared code. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* y[o] = sum_i w[o][i] (*) x[i] + bias[o], k x k window, zero padding k/2; bias may be NULL */
void ref_conv            (const float *x, int ic, int h, int w,
                          const float *weights, const float *bias, int oc, int k,
                          double *y);
/* dx = d(conv)/dx applied to dy: the input gradient of ref_conv, from the definition */
void ref_conv_input_grad (const float *dy, int oc, int h, int w,
                          const float *weights, int ic, int k,
                          double *dx);
void ref_maxpool         (const float *x, int c, int h, int w, float *y);
/* dx[i] = dy[window] if i is the first maximum of its window (PyTorch's rule), else 0 */
void ref_maxpool_backward (const float *dy, const float *x, int c, int h, int w, double *dx);
/* g = f f^T, c x c */
void ref_gram            (const float *f, int c, int n, double *g);
/* torch.optim.Adam, one step */
void ref_adam_step       (float *x, const float *g, double *m, double *v, int n,
                          double lr, double b1, double b2, double eps, int step);

G_END_DECLS
