/* bw-color-transfer.c: see bw-color-transfer.h. All on the host, in double: it runs once per
 * painting, on three channels. */
#include "bw-color-transfer.h"

#include <math.h>

static void
mean_and_covariance (BwImage *image,
                     double   mu[3],
                     double   sigma[3][3])
{
  gsize plane = (gsize) bw_image_get_width (image) * bw_image_get_height (image);
  const float *d = bw_image_get_data (image);

  for (int a = 0; a < 3; a++)
    {
      double acc = 0;
      for (gsize i = 0; i < plane; i++)
        acc += d[a * plane + i];
      mu[a] = acc / plane;
    }
  for (int a = 0; a < 3; a++)
    for (int b = a; b < 3; b++)
      {
        double acc = 0;
        for (gsize i = 0; i < plane; i++)
          acc += (d[a * plane + i] - mu[a]) * (d[b * plane + i] - mu[b]);
        sigma[a][b] = sigma[b][a] = acc / plane;
      }
}

/* Cyclic Jacobi rotations: @m (symmetric) becomes diagonal (its eigenvalues), @v holds the
 * eigenvectors as columns. Three dimensions converge to double precision in a few sweeps. */
static void
eigen_symmetric (double m[3][3],
                 double v[3][3])
{
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      v[i][j] = i == j;
  for (int sweep = 0; sweep < 50; sweep++)
    {
      double off = fabs (m[0][1]) + fabs (m[0][2]) + fabs (m[1][2]);

      if (off < 1e-300)
        break;
      for (int p = 0; p < 2; p++)
        for (int q = p + 1; q < 3; q++)
          {
            double theta, t, c, s;

            if (m[p][q] == 0)
              continue;
            theta = (m[q][q] - m[p][p]) / (2 * m[p][q]);
            t = (theta >= 0 ? 1.0 : -1.0) / (fabs (theta) + sqrt (theta * theta + 1));
            c = 1 / sqrt (t * t + 1);
            s = t * c;
            for (int k = 0; k < 3; k++)
              {
                /* columns p and q of m, then rows p and q */
                double mkp = m[k][p], mkq = m[k][q];
                m[k][p] = c * mkp - s * mkq;
                m[k][q] = s * mkp + c * mkq;
              }
            for (int k = 0; k < 3; k++)
              {
                double mpk = m[p][k], mqk = m[q][k];
                m[p][k] = c * mpk - s * mqk;
                m[q][k] = s * mpk + c * mqk;
              }
            for (int k = 0; k < 3; k++)
              {
                double vkp = v[k][p], vkq = v[k][q];
                v[k][p] = c * vkp - s * vkq;
                v[k][q] = s * vkp + c * vkq;
              }
          }
    }
}

/* V diag(f(lambda)) V^T of symmetric @sigma, with f the square root or its inverse. */
static void
symmetric_power (double   sigma[3][3],
                 gboolean inverse,
                 double   out[3][3])
{
  double m[3][3], v[3][3], f[3];

  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      m[i][j] = sigma[i][j];
  eigen_symmetric (m, v);
  for (int k = 0; k < 3; k++)
    {
      double lambda = MAX (m[k][k], BW_COLOR_TRANSFER_MIN_EIGENVALUE);
      f[k] = inverse ? 1 / sqrt (lambda) : sqrt (lambda);
    }
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      {
        double acc = 0;
        for (int k = 0; k < 3; k++)
          acc += v[i][k] * f[k] * v[j][k];
        out[i][j] = acc;
      }
}

BwImage *
bw_color_transfer_histogram (BwImage *painting,
                             BwImage *photo)
{
  double mu_s[3], mu_c[3], sigma_s[3][3], sigma_c[3][3], root_c[3][3], inv_root_s[3][3], a[3][3];
  int w = bw_image_get_width (painting), h = bw_image_get_height (painting);
  gsize plane = (gsize) w * h;
  const float *d = bw_image_get_data (painting);
  float *out = g_new (float, plane * 3);

  mean_and_covariance (painting, mu_s, sigma_s);
  mean_and_covariance (photo, mu_c, sigma_c);
  symmetric_power (sigma_c, FALSE, root_c);
  symmetric_power (sigma_s, TRUE, inv_root_s);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      {
        a[i][j] = 0;
        for (int k = 0; k < 3; k++)
          a[i][j] += root_c[i][k] * inv_root_s[k][j];
      }
  for (gsize i = 0; i < plane; i++)
    {
      double x[3] = { d[i] - mu_s[0], d[plane + i] - mu_s[1], d[2 * plane + i] - mu_s[2] };

      for (int r = 0; r < 3; r++)
        {
          double y = a[r][0] * x[0] + a[r][1] * x[1] + a[r][2] * x[2] + mu_c[r];
          out[r * plane + i] = (float) CLAMP (y, 0.0, 1.0);
        }
    }
  return bw_image_new_take (w, h, out);
}
