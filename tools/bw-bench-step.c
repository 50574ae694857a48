/* bw-bench-step.c: seconds per style-transfer step of the seed preset at a given size, on
 * random weights and images (speed does not depend on the values). Used by tools/bench,
 * which runs PyTorch on the same problem beside it. Prints key=value lines; the last ones
 * time the default preset's first frame (its first pass is small), after the seed's steps
 * have compiled the pipelines, as an app's second run finds them in the cache.
 *
 * Usage: bw-bench-step SIZE STEPS [adam|lbfgs] [BUDGET]   (STEPS 0: print the plan only)
 * BUDGET (2G, 768M) is the memory budget the step is planned for (bw-step-plan.h); the plan
 * is printed: tiles, what is recomputed, the storage type, the plan's count, and peak_mb, the
 * most the device held (measured on its allocations, the weights included).
 */
#include <math.h>
#include <stdlib.h>

#include "session/bw-session.h"
#include "session/bw-step-plan.h"

static int
cmp_double (const void *a,
            const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static BwImage *
random_image (GRand *rand,
              int    w,
              int    h)
{
  float *data = g_new (float, (gsize) 3 * w * h);

  for (gsize i = 0; i < (gsize) 3 * w * h; i++)
    data[i] = g_rand_double (rand);
  return bw_image_new_take (w, h, data);
}

int
main (int   argc,
      char *argv[])
{
  int size = argc > 1 ? atoi (argv[1]) : 256;
  int steps = argc > 2 ? atoi (argv[2]) : 5;
  const char *optimizer = argc > 3 ? argv[3] : "adam";
  guint64 budget = 0;
  g_autoptr(GError) error = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (1);
  g_autoptr(BwDevice) dev = NULL;
  g_autoptr(BwWeights) weights = bw_weights_new ();
  g_autoptr(BwVgg19) vgg = NULL;
  g_autoptr(BwSession) session = NULL;
  g_autoptr(BwImage) content = NULL, style = NULL;
  g_autofree double *times = NULL;
  guint64 dispatches0, barriers0, dispatches, barriers;
  BwParams params;
  gint64 t0, t1;
  double load;

  if (size < 16 || steps < 0 || (argc > 4 && !bw_step_plan_parse_size (argv[4], &budget)))
    {
      g_printerr ("Usage: %s SIZE>=16 STEPS>=1 [adam|lbfgs] [BUDGET, as 2G or 768M]\n", argv[0]);
      return 2;
    }
  dev = bw_device_new (NULL, &error);
  if (dev == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  for (int i = 0; i < BW_VGG19_N_CONVS; i++)
    {
      const BwVgg19Conv *c = &bw_vgg19_convs[i];
      gint64 ws[4] = { c->out_channels, c->in_channels, 3, 3 }, bs[1] = { c->out_channels };
      gsize n = (gsize) c->out_channels * c->in_channels * 9;
      float *w = g_new (float, n), *b = g_new0 (float, c->out_channels);
      double scale = sqrt (2.0 / (c->in_channels * 9));   /* He initialisation */
      g_autofree char *wn = g_strdup_printf ("features.%d.weight", c->module);
      g_autofree char *bn = g_strdup_printf ("features.%d.bias", c->module);

      for (gsize k = 0; k < n; k++)
        w[k] = (g_rand_double (rand) * 2 - 1) * scale * sqrt (3.0);
      bw_weights_insert (weights, wn, ws, 4, w);
      bw_weights_insert (weights, bn, bs, 1, b);
    }
  t0 = g_get_monotonic_time ();
  vgg = bw_vgg19_new (dev, weights, &error);
  load = (g_get_monotonic_time () - t0) / 1e6;
  if (vgg == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  bw_params_init_preset (&params, "seed");
  params.optimizer = g_str_equal (optimizer, "lbfgs") ? BW_OPTIMIZER_LBFGS : BW_OPTIMIZER_ADAM;
  params.lr = params.optimizer == BW_OPTIMIZER_LBFGS ? 1.0 : 0.003;
  params.size = size;
  params.steps = steps;
  params.max_memory = budget;
  if (steps == 0)
    {
      BwStepPlan plan;
      g_autofree char *text = NULL;

      /* the seed preset's painting is taken at the output's size */
      if ((budget == 0 && !bw_step_plan_get_budget (dev, &budget, &error)) ||
          !bw_step_plan_make (vgg, &params, size * 3 / 4, size, size * 3 / 4, size, budget, &plan,
                              &error))
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }
      text = bw_step_plan_describe (&plan);
      g_print ("plan=%s\n", text);
      g_print ("tiles=%d\ntile_px=%dx%d\nplan_mb=%.1f\n", plan.n_tiles, plan.tile_width,
               plan.tile_height, plan.bytes / 1e6);
      return 0;
    }
  content = random_image (rand, size, size * 3 / 4);
  style = random_image (rand, size, size * 3 / 4);
  session = bw_session_new (vgg, &params);
  bw_session_set_content (session, content);
  bw_session_add_style (session, style, 1.0);

  /* set-up and the first step compile pipelines (or load them from the cache) */
  t0 = g_get_monotonic_time ();
  if (!bw_session_start (session, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  t1 = g_get_monotonic_time ();
  if (!bw_session_step (session, NULL, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  g_print ("device=%s\n", bw_device_get_name (dev));
  /* what a user waits for: the weights onto the device (once per app run), the targets
   * (bw_session_start) and the first step, whose result is the first preview */
  g_print ("load_s=%.3f\n", load);
  g_print ("start_s=%.3f\n", (t1 - t0) / 1e6);
  g_print ("warmup_s=%.3f\n", (g_get_monotonic_time () - t0) / 1e6);
  times = g_new (double, steps);
  bw_device_get_command_counts (dev, &dispatches0, &barriers0);
  for (int i = 0; i < steps; i++)
    {
      gint64 s = g_get_monotonic_time ();
      if (!bw_session_step (session, NULL, &error))
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }
      times[i] = (g_get_monotonic_time () - s) / 1e6;
    }
  qsort (times, steps, sizeof (double), cmp_double);
  g_print ("step_s=%.4f\n", times[steps / 2]);
  {
    const BwStepPlan *plan = bw_session_get_plan (session);
    g_autofree char *text = bw_step_plan_describe (plan);

    g_print ("plan=%s\n", text);
    g_print ("tiles=%d\n", plan->n_tiles);
    g_print ("tile_px=%dx%d\n", plan->tile_width, plan->tile_height);
    /* with tiles, the second pass runs the forward of the tiles not kept again, but the last */
    g_print ("recomputed=%d of %d tiles\n",
             plan->tile_height > 0 ? plan->n_tiles - 1 - plan->kept_tiles : 0, plan->n_tiles);
    g_print ("storage=f32\n");
    g_print ("budget_mb=%.1f\n", plan->budget / 1e6);
    g_print ("plan_mb=%.1f\n", plan->bytes / 1e6);
    g_print ("step_peak_mb=%.1f\n", bw_device_get_peak_allocated (dev) / 1e6);
  }
  bw_device_get_command_counts (dev, &dispatches, &barriers);
  g_print ("dispatches_per_step=%.0f\n", (double) (dispatches - dispatches0) / MAX (steps, 1));
  g_print ("barriers_per_step=%.0f\n", (double) (barriers - barriers0) / MAX (steps, 1));

  /* the default preset's first frame, what the app shows first: its first pass is small */
  {
    g_autoptr(BwSession) first = NULL;

    bw_params_init_preset (&params, "default");
    params.size = size;
    first = bw_session_new (vgg, &params);
    bw_session_set_content (first, content);
    bw_session_add_style (first, style, 1.0);
    t0 = g_get_monotonic_time ();
    if (!bw_session_start (first, &error) || !bw_session_step (first, NULL, &error))
      {
        g_printerr ("%s\n", error->message);
        return 1;
      }
    g_print ("default_first_frame_s=%.3f\n", (g_get_monotonic_time () - t0) / 1e6);
    g_print ("default_passes=%d\n", bw_session_get_passes (first));
  }
  g_print ("peak_mb=%.1f\n", bw_device_get_peak_allocated (dev) / 1e6);
  return 0;
}
