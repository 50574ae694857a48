/* bw-bench-layers.c: GFLOP/s of each VGG19 conv, forward and input gradient, on the chosen
 * Vulkan device. A benchmark, not a test: it prints numbers and asserts nothing.
 *
 * Usage: bw-bench-layers [SIZE] [REPEATS]    (default 256 px, 3 repeats, median reported)
 */
#include <stdlib.h>

#include "ops/bw-ops.h"
#include "vgg19/bw-vgg19-layers.h"

static int
cmp_double (const void *a,
            const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
time_conv (BwTensor *x,
           BwBuffer *weights,
           BwBuffer *bias,
           BwTensor *y,
           int       repeats)
{
  g_autofree double *t = g_new (double, repeats);
  BwDevice *dev = bw_tensor_get_device (x);
  g_autoptr(GError) error = NULL;

  /* the first run compiles the pipeline (or loads it from the cache) */
  if (!bw_ops_conv (x, weights, 3, bias, NULL, bias != NULL, NULL, y, &error) ||
      !bw_device_submit (dev, &error))
    g_error ("%s", error->message);
  for (int r = 0; r < repeats; r++)
    {
      gint64 start = g_get_monotonic_time ();
      bw_ops_conv (x, weights, 3, bias, NULL, bias != NULL, NULL, y, NULL);
      bw_device_submit (dev, NULL);
      t[r] = (g_get_monotonic_time () - start) / 1e6;
    }
  qsort (t, repeats, sizeof (double), cmp_double);
  return t[repeats / 2];
}

int
main (int   argc,
      char *argv[])
{
  int size = argc > 1 ? atoi (argv[1]) : 256;
  int repeats = argc > 2 ? atoi (argv[2]) : 3;
  g_autoptr(GError) error = NULL;
  g_autoptr(BwDevice) dev = bw_device_new (NULL, &error);
  double total_flop = 0, total_time = 0;

  if (dev == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  if (size < 16 || repeats < 1)
    {
      g_printerr ("Usage: %s [SIZE >= 16] [REPEATS >= 1]\n", argv[0]);
      return 2;
    }
  g_print ("VGG19 3x3 convolutions at %d px on %s (median of %d)\n", size,
           bw_device_get_name (dev), repeats);
  g_print ("%-8s %9s %11s %10s %11s %10s\n", "layer", "size", "fwd ms", "fwd GF/s",
           "bwd ms", "bwd GF/s");

  for (int i = 0; i < BW_VGG19_N_CONVS; i++)
    {
      const BwVgg19Conv *c = &bw_vgg19_convs[i];
      int level = 0;
      for (int j = 1; j <= i; j++)
        level += bw_vgg19_convs[j].pool_before;
      int s = size >> level;
      double flop = 2.0 * s * s * c->in_channels * c->out_channels * 9;
      gsize nw = (gsize) ((c->out_channels + 3) / 4) * ((c->in_channels + 3) / 4) * 9 * 16;
      g_autofree float *zeros = g_new0 (float, nw);
      BwBuffer *w = bw_device_alloc_buffer (dev, nw * 4, &error);
      BwBuffer *b = bw_device_alloc_buffer (dev, c->out_channels * 4 + 16, &error);
      g_autoptr(BwTensor) x = bw_tensor_new (dev, c->in_channels, s, s, &error);
      g_autoptr(BwTensor) y = bw_tensor_new (dev, c->out_channels, s, s, &error);
      double tf, tb;

      if (w == NULL || b == NULL || x == NULL || y == NULL)
        g_error ("%s", error->message);
      bw_device_write_buffer (dev, w, 0, zeros, nw * 4, NULL);
      bw_tensor_clear (x);
      tf = time_conv (x, w, b, y, repeats);
      /* the input gradient: the same conv with in and out swapped, no bias */
      tb = time_conv (y, w, NULL, x, repeats);
      g_print ("%-8s %4dx%-4d %11.2f %10.1f %11.2f %10.1f\n", c->name, s, s, tf * 1e3,
               flop / tf / 1e9, tb * 1e3, flop / tb / 1e9);
      total_flop += 2 * flop;
      total_time += tf + tb;
      bw_device_free_buffer (dev, w);
      bw_device_free_buffer (dev, b);
    }
  g_print ("all convs, forward + input gradient: %.2f s, %.1f GFLOP/s\n", total_time,
           total_flop / total_time / 1e9);
  return 0;
}
