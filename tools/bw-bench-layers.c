/* bw-bench-layers.c: GFLOP/s of each VGG19 conv, forward and input gradient, and of the Gram
 * matrices of the five style layers, on the chosen Vulkan device. A benchmark, not a test: it
 * prints numbers and asserts nothing.
 *
 * Usage: bw-bench-layers [SIZE] [REPEATS] [conv|gram|LAYER]   (default 256 px, 3 repeats, both;
 *        LAYER: one conv by name, e.g. conv1_1)
 * The convs go through bw_ops_conv3x3(), so each layer takes the path the network would take
 * (Winograd, with the tile bw_ops_winograd_tile() chooses, or direct); BRUSHWORK_WINOGRAD=0
 * measures the direct kernel, BRUSHWORK_WINOGRAD_TILE=4 or 6 one Winograd tile.
 *
 * Each op is timed REPEATS times; "ms" is the best wall time, "GF/s" its rate, and "cpuGF" the
 * rate from the process CPU time of the best run divided by the number of online CPUs (lavapipe
 * runs its threads in this process). On a shared machine the wall time swings with the load
 * while cpuGF stays close to what all cores would give (docs/lavapipe-kernels.md).
 */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "ops/bw-ops.h"
#include "vgg19/bw-vgg19-layers.h"

typedef struct {
  double wall, cpu;   /* seconds, best run by wall time */
} Timing;

typedef gboolean (*OpFunc) (gpointer data, GError **error);

static double
cpu_seconds (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static Timing
time_op (BwDevice *dev,
         OpFunc    op,
         gpointer  data,
         int       repeats)
{
  Timing best = { G_MAXDOUBLE, 0 };
  g_autoptr(GError) error = NULL;

  /* the first run compiles the pipeline (or loads it from the cache) */
  if (!op (data, &error) || !bw_device_submit (dev, &error))
    g_error ("%s", error->message);
  for (int r = 0; r < repeats; r++)
    {
      gint64 start = g_get_monotonic_time ();
      double cpu = cpu_seconds ();
      double wall;

      op (data, NULL);
      bw_device_submit (dev, NULL);
      wall = (g_get_monotonic_time () - start) / 1e6;
      if (wall < best.wall)
        best = (Timing) { wall, cpu_seconds () - cpu };
    }
  return best;
}

typedef struct {
  BwTensor *x, *y;
  BwBuffer *weights, *winograd, *bias, *gram;
  int tile;
  gboolean flipped;
} OpData;

static gboolean
run_conv (gpointer  data,
          GError  **error)
{
  OpData *d = data;

  return bw_ops_conv3x3 (d->x, d->weights, d->winograd, d->tile, d->flipped, d->bias, NULL,
                         d->bias != NULL, NULL, d->y, error);
}

static gboolean
run_gram (gpointer  data,
          GError  **error)
{
  OpData *d = data;

  return bw_ops_gram (d->x, d->gram, error);
}

static void
bench_convs (BwDevice   *dev,
             int         size,
             int         repeats,
             double      ncpu,
             const char *layer)
{
  g_autoptr(GError) error = NULL;
  double total_flop = 0, total_time = 0, total_cpu = 0;

  g_print ("VGG19 3x3 convolutions at %d px on %s (best of %d; cpuGF = FLOPs / (CPU s / %.0f))\n",
           size, bw_device_get_name (dev), repeats, ncpu);
  g_print ("%-8s %9s %9s %8s %8s %9s %8s %8s\n", "layer", "size", "fwd ms", "GF/s", "cpuGF",
           "bwd ms", "GF/s", "cpuGF");

  for (int i = 0; i < BW_VGG19_N_CONVS; i++)
    {
      const BwVgg19Conv *c = &bw_vgg19_convs[i];
      int level = 0;
      if (layer && !g_str_equal (layer, c->name))
        continue;
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
      /* transformed weights where the Winograd path may be taken (both directions have the
       * same size: (tile + 2)^2 / 9 of the direct weights) */
      int tile = bw_ops_winograd_tile (dev, c->in_channels, c->out_channels);
      BwBuffer *wino = tile ? bw_device_alloc_buffer (dev, nw * 4 * (tile + 2) * (tile + 2) / 9,
                                                      &error) : NULL;
      OpData fwd = { x, y, w, wino, b, NULL, tile, FALSE };
      OpData bwd = { y, x, w, wino, NULL, NULL, tile, bw_ops_winograd_flip_shared (dev, tile) };
      Timing tf, tb;

      if (w == NULL || b == NULL || x == NULL || y == NULL)
        g_error ("%s", error->message);
      bw_device_write_buffer (dev, w, 0, zeros, nw * 4, NULL);
      if (wino)
        bw_device_fill_zero (dev, wino);
      bw_tensor_clear (x);
      bw_tensor_clear (y);
      tf = time_op (dev, run_conv, &fwd, repeats);
      /* the input gradient: the same conv with in and out swapped, no bias */
      tb = time_op (dev, run_conv, &bwd, repeats);
      g_print ("%-8s %4dx%-4d %9.2f %8.1f %8.1f %9.2f %8.1f %8.1f\n", c->name, s, s,
               tf.wall * 1e3, flop / tf.wall / 1e9, flop / (tf.cpu / ncpu) / 1e9,
               tb.wall * 1e3, flop / tb.wall / 1e9, flop / (tb.cpu / ncpu) / 1e9);
      total_flop += 2 * flop;
      total_time += tf.wall + tb.wall;
      total_cpu += tf.cpu + tb.cpu;
      bw_device_free_buffer (dev, w);
      bw_device_free_buffer (dev, b);
      if (wino)
        bw_device_free_buffer (dev, wino);
    }
  g_print ("all convs, forward + input gradient: %.2f s, %.1f GFLOP/s, %.1f cpuGF\n", total_time,
           total_flop / total_time / 1e9, total_flop / (total_cpu / ncpu) / 1e9);
}

static void
bench_grams (BwDevice *dev,
             int       size,
             int       repeats,
             double    ncpu)
{
  g_autoptr(GError) error = NULL;

  /* c x c over s*s pixels; FLOPs of the full product, though only half is computed */
  g_print ("Gram matrices\n%-8s %9s %9s %8s %8s\n", "layer", "size", "ms", "GF/s", "cpuGF");
  for (int level = 0; level < 5; level++)
    {
      static const int channels[] = { 64, 128, 256, 512, 512 };
      int s = size >> level, c = channels[level];
      double flop = 2.0 * s * s * c * c;
      g_autoptr(BwTensor) f = bw_tensor_new (dev, c, s, s, &error);
      BwBuffer *g = bw_device_alloc_buffer (dev, bw_ops_gram_size (c), &error);
      OpData gd = { f, NULL, NULL, NULL, NULL, g };
      Timing t;

      if (f == NULL || g == NULL)
        g_error ("%s", error->message);
      bw_tensor_clear (f);
      t = time_op (dev, run_gram, &gd, repeats);
      g_print ("relu%d_1  %4dx%-4d %9.2f %8.1f %8.1f\n", level + 1, s, s, t.wall * 1e3,
               flop / t.wall / 1e9, flop / (t.cpu / ncpu) / 1e9);
      bw_device_free_buffer (dev, g);
    }
}

int
main (int   argc,
      char *argv[])
{
  int size = argc > 1 ? atoi (argv[1]) : 256;
  int repeats = argc > 2 ? atoi (argv[2]) : 3;
  const char *only = argc > 3 ? argv[3] : NULL;
  double ncpu = MAX (sysconf (_SC_NPROCESSORS_ONLN), 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(BwDevice) dev = bw_device_new (NULL, &error);

  if (dev == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  if (size < 16 || repeats < 1)
    {
      g_printerr ("Usage: %s [SIZE >= 16] [REPEATS >= 1] [conv|gram|LAYER]\n", argv[0]);
      return 2;
    }
  if (only == NULL || g_str_equal (only, "conv"))
    bench_convs (dev, size, repeats, ncpu, NULL);
  else if (g_str_has_prefix (only, "conv"))
    bench_convs (dev, size, repeats, ncpu, only);
  if (only == NULL || g_str_equal (only, "gram"))
    bench_grams (dev, size, repeats, ncpu);
  return 0;
}
