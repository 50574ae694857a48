/* bw-reference.c: see bw-reference.h. */
#include "bw-reference.h"

#include <math.h>

void
ref_conv (const float *x, int ic, int h, int w,
          const float *weights, const float *bias, int oc, int k,
          double *y)
{
  int r = k / 2;

  for (int o = 0; o < oc; o++)
    for (int yy = 0; yy < h; yy++)
      for (int xx = 0; xx < w; xx++)
        {
          double acc = bias ? bias[o] : 0.0;
          for (int i = 0; i < ic; i++)
            for (int ky = 0; ky < k; ky++)
              for (int kx = 0; kx < k; kx++)
                {
                  int sy = yy + ky - r, sx = xx + kx - r;
                  if (sy < 0 || sy >= h || sx < 0 || sx >= w)
                    continue;
                  acc += (double) weights[((o * ic + i) * k + ky) * k + kx] *
                         x[(i * h + sy) * w + sx];
                }
          y[(o * h + yy) * w + xx] = acc;
        }
}

void
ref_conv_input_grad (const float *dy, int oc, int h, int w,
                     const float *weights, int ic, int k,
                     double *dx)
{
  int r = k / 2;

  /* scatter: each output y[o][yy][xx] read x[i][yy+ky-r][xx+kx-r] with weight w[o][i][ky][kx] */
  for (int i = 0; i < ic * h * w; i++)
    dx[i] = 0;
  for (int o = 0; o < oc; o++)
    for (int yy = 0; yy < h; yy++)
      for (int xx = 0; xx < w; xx++)
        for (int i = 0; i < ic; i++)
          for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++)
              {
                int sy = yy + ky - r, sx = xx + kx - r;
                if (sy < 0 || sy >= h || sx < 0 || sx >= w)
                  continue;
                dx[(i * h + sy) * w + sx] += (double) weights[((o * ic + i) * k + ky) * k + kx] *
                                             dy[(o * h + yy) * w + xx];
              }
}

void
ref_maxpool (const float *x, int c, int h, int w, float *y)
{
  int oh = h / 2, ow = w / 2;

  for (int ch = 0; ch < c; ch++)
    for (int yy = 0; yy < oh; yy++)
      for (int xx = 0; xx < ow; xx++)
        {
          float m = -INFINITY;
          for (int dy = 0; dy < 2; dy++)
            for (int dx = 0; dx < 2; dx++)
              m = fmaxf (m, x[(ch * h + 2 * yy + dy) * w + 2 * xx + dx]);
          y[(ch * oh + yy) * ow + xx] = m;
        }
}

void
ref_maxpool_backward (const float *dy, const float *x, int c, int h, int w, double *dx)
{
  int oh = h / 2, ow = w / 2;

  for (int i = 0; i < c * h * w; i++)
    dx[i] = 0;
  for (int ch = 0; ch < c; ch++)
    for (int yy = 0; yy < oh; yy++)
      for (int xx = 0; xx < ow; xx++)
        {
          int best = -1;
          float m = 0;
          for (int ddy = 0; ddy < 2; ddy++)
            for (int ddx = 0; ddx < 2; ddx++)
              {
                int idx = (ch * h + 2 * yy + ddy) * w + 2 * xx + ddx;
                if (best < 0 || x[idx] > m || isnan (x[idx]))
                  {
                    best = idx;
                    m = x[idx];
                  }
              }
          dx[best] += dy[(ch * oh + yy) * ow + xx];
        }
}

void
ref_gram (const float *f, int c, int n, double *g)
{
  for (int i = 0; i < c; i++)
    for (int j = 0; j < c; j++)
      {
        double acc = 0;
        for (int p = 0; p < n; p++)
          acc += (double) f[i * n + p] * f[j * n + p];
        g[i * c + j] = acc;
      }
}

void
ref_adam_step (float *x, const float *g, double *m, double *v, int n,
               double lr, double b1, double b2, double eps, int step)
{
  double bc1 = 1 - pow (b1, step), bc2 = 1 - pow (b2, step);

  for (int i = 0; i < n; i++)
    {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * (double) g[i] * g[i];
      x[i] -= (float) (lr / bc1 * m[i] / (sqrt (v[i]) / sqrt (bc2) + eps));
    }
}
