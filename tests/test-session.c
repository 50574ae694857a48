/* test-session.c: BwSession's coarse-to-fine passes, on seeded random weights (no oracle:
 * what is checked is where each pass runs and what it starts from, not the losses, which
 * test-vgg19-torch and test-cli compare with PyTorch).
 */
#include <math.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "bw-test-util.h"
#include "session/bw-session.h"
#include "session/bw-step-plan.h"

static BwVgg19 *
random_network_on (BwDevice *device)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (3);
  g_autoptr(BwWeights) weights = bw_weights_new ();
  g_autoptr(GError) error = NULL;
  BwVgg19 *vgg;

  for (int i = 0; i < BW_VGG19_N_CONVS; i++)
    {
      const BwVgg19Conv *c = &bw_vgg19_convs[i];
      gint64 ws[4] = { c->out_channels, c->in_channels, 3, 3 }, bs[1] = { c->out_channels };
      gsize n = (gsize) c->out_channels * c->in_channels * 9;
      float scale = sqrtf (6.0f / (c->in_channels * 9));   /* He, uniform */
      g_autofree char *wn = g_strdup_printf ("features.%d.weight", c->module);
      g_autofree char *bn = g_strdup_printf ("features.%d.bias", c->module);

      bw_weights_insert (weights, wn, ws, 4, bw_test_random (rand, n, -scale, scale));
      bw_weights_insert (weights, bn, bs, 1, bw_test_random (rand, c->out_channels, -0.1f, 0.1f));
    }
  vgg = bw_vgg19_new (device, weights, &error);
  g_assert_no_error (error);
  return vgg;
}

static BwVgg19 *
random_network (void)
{
  return random_network_on (bw_test_device ());
}

static BwImage *
random_image (GRand *rand,
              int    w,
              int    h)
{
  return bw_image_new_take (w, h, bw_test_random (rand, (gsize) 3 * w * h, 0, 1));
}

static BwSession *
new_session (BwVgg19        *vgg,
             const BwParams *params,
             int             w,
             int             h)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (w * 1000 + h);
  g_autoptr(BwImage) content = random_image (rand, w, h);
  g_autoptr(BwImage) style = random_image (rand, 40, 30);
  BwSession *session = bw_session_new (vgg, params);

  bw_session_set_content (session, content);
  bw_session_add_style (session, style, 1.0);
  return session;
}

static void
assert_image_size (BwSession *session,
                   int        w,
                   int        h)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BwImage) image = bw_session_get_image (session, &error);

  g_assert_no_error (error);
  g_assert_cmpint (bw_image_get_width (image), ==, w);
  g_assert_cmpint (bw_image_get_height (image), ==, h);
}

/* The default preset's passes start at 128-255 px and double up to the output; the seed
 * preset keeps one; an explicit count is cut where a pass would be smaller than relu5_1's
 * 16 px. Only the first pass's targets are computed by start, so even 512 px is quick. */
static void
test_passes (void)
{
  static const struct {
    const char *preset;
    int scales;     /* -1: the preset's */
    int w, h;
    int passes, first_w, first_h;
  } cases[] = {
    { "default", -1, 512, 384, 3, 128, 96 },
    { "default", -1, 256, 192, 2, 128, 96 },
    { "default", -1, 200, 150, 1, 200, 150 },
    { "default", -1, 300, 400, 2, 150, 200 },
    { "seed", -1, 512, 384, 1, 512, 384 },
    { "seed", 4, 64, 48, 2, 32, 24 },
  };
  g_autoptr(BwVgg19) vgg = random_network ();

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(BwSession) session = NULL;
      g_autoptr(GError) error = NULL;
      BwParams params;

      g_assert_true (bw_params_init_preset (&params, cases[i].preset));
      if (cases[i].scales >= 0)
        params.scales = cases[i].scales;
      session = new_session (vgg, &params, cases[i].w, cases[i].h);
      g_assert_true (bw_session_start (session, &error));
      g_assert_no_error (error);
      g_test_message ("%s %dx%d: %d passes", cases[i].preset, cases[i].w, cases[i].h,
                      bw_session_get_passes (session));
      g_assert_cmpint (bw_session_get_passes (session), ==, cases[i].passes);
      assert_image_size (session, cases[i].first_w, cases[i].first_h);
    }
  bw_test_check_validation ();
}

/* Two passes of two Adam steps from noise: the second pass must start from the first one's
 * result scaled up, not from the content or new noise. Adam moves each element by at most
 * lr per step (in ImageNet-normalised units, so by lr * 0.229 at most in [0, 1]), so one
 * step into the second pass leaves every pixel within 0.003 * 0.229 of the scaled result,
 * while a restart would sit ~0.3 away on average (two independent uniform images). */
static void
test_pass_continues (void)
{
  g_autoptr(BwVgg19) vgg = random_network ();
  g_autoptr(BwSession) session = NULL;
  g_autoptr(BwImage) first = NULL, want = NULL, got = NULL;
  g_autoptr(GError) error = NULL;
  const float bound = 0.003f * 0.229f * 1.01f;   /* 1% for float rounding */
  double worst = 0, mean_from_content = 0;
  BwParams params;
  gsize n;

  bw_params_init_preset (&params, "seed");
  params.init = BW_INIT_NOISE;
  params.steps = 4;
  params.scales = 2;
  session = new_session (vgg, &params, 64, 48);
  g_assert_true (bw_session_start (session, &error));
  for (int i = 0; i < 2; i++)
    g_assert_true (bw_session_step (session, NULL, &error));
  first = bw_session_get_image (session, &error);
  g_assert_no_error (error);
  g_assert_cmpint (bw_image_get_width (first), ==, 32);

  g_assert_true (bw_session_step (session, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (bw_session_get_step (session), ==, 3);
  got = bw_session_get_image (session, &error);
  g_assert_no_error (error);
  g_assert_cmpint (bw_image_get_width (got), ==, 64);
  g_assert_cmpint (bw_image_get_height (got), ==, 48);
  want = bw_image_scale (first, 64, 48);
  n = (gsize) 3 * 64 * 48;
  {
    g_autoptr(GRand) rand = g_rand_new_with_seed (64 * 1000 + 48);
    g_autoptr(BwImage) content = random_image (rand, 64, 48);   /* as new_session made it */

    for (gsize i = 0; i < n; i++)
      {
        worst = MAX (worst, fabs (bw_image_get_data (got)[i] - bw_image_get_data (want)[i]));
        mean_from_content += fabs (bw_image_get_data (got)[i] - bw_image_get_data (content)[i]) / n;
      }
  }
  g_test_message ("second pass, one step in: max |image - first pass scaled| %.2g (bound %.2g), "
                  "mean |image - content| %.3f", worst, bound, mean_from_content);
  g_assert_cmpfloat (worst, <=, bound);
  g_assert_cmpfloat (mean_from_content, >, 0.1);

  g_assert_true (bw_session_step (session, NULL, &error));
  g_assert_cmpint (bw_session_get_step (session), ==, 4);
  bw_test_check_validation ();
}

/* The time left weighs the steps still to come by their pass's size: with three passes of
 * two steps (16x12, 32x24, 64x48 px), after the first step it must exceed what the mean
 * step so far predicts (later steps have 4x and 16x the pixels), and after the last it is 0.
 * Timing-free bounds: only the ratio of pixels is assumed, never a speed. */
static void
test_seconds_left (void)
{
  g_autoptr(BwVgg19) vgg = random_network ();
  g_autoptr(BwSession) session = NULL;
  g_autoptr(GError) error = NULL;
  gint64 t0;
  double first_step, left;
  BwParams params;

  bw_params_init_preset (&params, "seed");
  params.steps = 6;
  params.scales = 3;
  params.style_layers[bw_vgg19_layer_index ("relu5_1")] = 0;
  params.style_layers[bw_vgg19_layer_index ("relu4_1")] = 0;
  params.content_layers[bw_vgg19_layer_index ("relu4_2")] = 0;
  params.content_layers[bw_vgg19_layer_index ("relu2_2")] = 1;   /* 4 px minimum side */
  session = new_session (vgg, &params, 64, 48);
  g_assert_true (bw_session_start (session, &error));
  g_assert_no_error (error);
  g_assert_cmpint (bw_session_get_passes (session), ==, 3);
  g_assert_cmpfloat (bw_session_get_seconds_left (session), <, 0);

  t0 = g_get_monotonic_time ();
  g_assert_true (bw_session_step (session, NULL, &error));
  first_step = (g_get_monotonic_time () - t0) / 1e6;
  left = bw_session_get_seconds_left (session);
  g_test_message ("after step 1 of 6 (%.3f s): %.3f s left; 5 steps at that pace: %.3f s",
                  first_step, left, 5 * first_step);
  /* the remaining steps carry 1 + 4 + 4 + 16 + 16 = 41 first-pass steps' pixels */
  g_assert_cmpfloat (left, >, 5 * first_step * 1.5);
  g_assert_cmpfloat (left, <=, 41 * first_step * 1.01);

  while (bw_session_get_step (session) < params.steps)
    g_assert_true (bw_session_step (session, NULL, &error));
  g_assert_cmpfloat (bw_session_get_seconds_left (session), ==, 0);
  bw_test_check_validation ();
}

/* Steps lowered mid-run (the app's Steps control): the run must still end in the last pass,
 * at the output size. 2 passes of 30 Adam steps (the first ends at step 15); at step 5 the
 * count drops to 8, then (a second run) to 3, below the steps done. */
static void
test_steps_lowered (void)
{
  static const struct { int lowered, effective; } cases[] = {
    { 8, 8 },   /* pass 1 ends at once (4 <= 5), pass 2 gets steps 6-8 */
    { 3, 6 },   /* below the 5 done: one more step, in the last pass */
  };
  g_autoptr(BwVgg19) vgg = random_network ();

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(BwSession) session = NULL;
      g_autoptr(GError) error = NULL;
      BwParams params;

      g_assert_true (bw_params_init_preset (&params, "seed"));
      params.scales = 2;
      params.steps = 30;
      session = new_session (vgg, &params, 64, 48);
      g_assert_true (bw_session_start (session, &error));
      while (bw_session_get_step (session) < 5)
        g_assert_true (bw_session_step (session, NULL, &error));
      assert_image_size (session, 32, 24);
      g_assert_cmpint (bw_session_set_steps (session, cases[i].lowered), ==, cases[i].effective);
      while (bw_session_get_step (session) < cases[i].effective)
        g_assert_true (bw_session_step (session, NULL, &error));
      g_assert_no_error (error);
      assert_image_size (session, 64, 48);
    }
  bw_test_check_validation ();
}

/* The style loss of the photo at step 0 when the painting is @style (relu1_1 and relu2_1). */
static double
first_style_loss (BwVgg19    *vgg,
                  BwGramMode  mode,
                  BwImage    *content,
                  BwImage    *style,
                  double      style_scale)
{
  g_autoptr(BwSession) session = NULL;
  g_autoptr(GError) error = NULL;
  BwLossValues values;
  BwParams params;

  g_assert_true (bw_params_init_preset (&params, "default"));
  memset (params.style_layers, 0, sizeof params.style_layers);
  params.style_layers[bw_vgg19_layer_index ("relu1_1")] = 1;
  params.style_layers[bw_vgg19_layer_index ("relu2_1")] = 0.75;
  params.gram_mode = mode;
  params.scales = 1;
  params.steps = 1;
  params.style_scale = style_scale;
  session = bw_session_new (vgg, &params);
  bw_session_set_content (session, content);
  bw_session_add_style (session, style, 1.0);
  g_assert_true (bw_session_start (session, &error));
  g_assert_true (bw_session_step (session, &values, &error));
  g_assert_no_error (error);
  return values.style;
}

static BwImage *
flat_image (int          w,
            int          h,
            const float  rgb[3])
{
  float *data = g_new (float, (gsize) 3 * w * h);

  for (int c = 0; c < 3; c++)
    for (int i = 0; i < w * h; i++)
      data[c * w * h + i] = rgb[c];
  return bw_image_new_take (w, h, data);
}

/* A painting's pixel count must not set the style's strength (BW_GRAM_MATCHED). A flat photo and a flat painting of the same colour but twice the
 * pixels (128 x 48 against 64 x 48; style_scale 2 keeps it unscaled) have the same
 * statistics: their Gram matrices differ by the pixel count, and by the 1-2 px borders of
 * the zero padding at the two shallow layers used. So the style loss is near zero: below 5%
 * of what the seed's Gram gives (there A is twice G, a loss of G^2) and of what a painting
 * of another colour gives. The seed preset keeps its Gram, as its recipe never met
 * paintings of another size. BW_GRAM_RELATIVE (the default preset's now: normalised Grams,
 * each term relative to its target) must hold the same, below 5% of the other colour's. */
static void
test_matched_style_size (void)
{
  static const float grey[3] = { 0.3f, 0.5f, 0.7f }, other[3] = { 0.7f, 0.2f, 0.4f };
  g_autoptr(BwVgg19) vgg = random_network ();
  g_autoptr(BwImage) photo = flat_image (64, 48, grey);
  g_autoptr(BwImage) twice = flat_image (128, 48, grey);
  g_autoptr(BwImage) unrelated = flat_image (128, 48, other);
  double matched = first_style_loss (vgg, BW_GRAM_MATCHED, photo, twice, 2.0);
  double seed = first_style_loss (vgg, BW_GRAM_SEED, photo, twice, 2.0);
  double different = first_style_loss (vgg, BW_GRAM_MATCHED, photo, unrelated, 2.0);

  g_test_message ("same colour, twice the pixels: %.4g (seed's Gram: %.4g); another colour: "
                  "%.4g", matched, seed, different);
  g_assert_cmpfloat (matched, <, 0.05 * seed);
  g_assert_cmpfloat (matched, <, 0.05 * different);

  matched = first_style_loss (vgg, BW_GRAM_RELATIVE, photo, twice, 2.0);
  different = first_style_loss (vgg, BW_GRAM_RELATIVE, photo, unrelated, 2.0);
  g_test_message ("relative: same colour, twice the pixels: %.4g; another colour: %.4g",
                  matched, different);
  g_assert_cmpfloat (matched, <, 0.05 * different);
  bw_test_check_validation ();
}

#define LBFGS_OVERSHOOT_LR 1e7

/* L-BFGS (no line search) overshoots: with a learning rate of 1e7 its first step lands
 * far above the start's loss. What the session hands out is the best image evaluated, the
 * start (the photo), not the last step taken, which no one evaluated. */
static void
test_lbfgs_best_image (void)
{
  g_autoptr(BwVgg19) vgg = random_network ();
  g_autoptr(BwSession) session = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(BwImage) image = NULL;
  g_autoptr(BwImage) content = NULL;
  BwLossValues first, second;
  BwParams params;
  double diff = 0;

  g_assert_true (bw_params_init_preset (&params, "default"));
  params.scales = 1;
  params.steps = 2;
  params.lr = LBFGS_OVERSHOOT_LR;
  session = new_session (vgg, &params, 48, 36);
  g_assert_true (bw_session_start (session, &error));
  g_assert_true (bw_session_step (session, &first, &error));
  g_assert_true (bw_session_step (session, &second, &error));
  g_test_message ("losses: start %.4g, after one step %.4g", first.total, second.total);
  g_assert_cmpfloat (second.total, >, first.total);
  image = bw_session_get_image (session, &error);
  g_assert_no_error (error);
  {
    g_autoptr(GRand) rand = g_rand_new_with_seed (48 * 1000 + 36);
    content = random_image (rand, 48, 36);   /* new_session's photo, made again */
  }
  for (gsize i = 0; i < (gsize) 3 * 48 * 36; i++)
    diff = MAX (diff, fabs (bw_image_get_data (image)[i] - bw_image_get_data (content)[i]));
  /* normalised and back in float32 */
  g_assert_cmpfloat (diff, <, 1e-5);
  bw_test_check_validation ();
}

/* A size the memory budget cannot hold fails in bw_session_start, before the first (small)
 * pass, and names the largest size that fits, which does fit (while 16 px more does not), as
 * the planner counts it (bw-step-plan.h). The budget, the weights and 200 MB, leaves room
 * for some sizes only: tiles make any size fit a budget of a few hundred MB more. */
static void
test_too_large_before_start (void)
{
  g_autoptr(BwVgg19) vgg = random_network ();
  g_autoptr(BwSession) session = NULL;
  g_autoptr(GError) error = NULL;
  const char *largest_text;
  int largest, w, h;
  BwParams params;
  BwStepPlan plan;

  g_assert_true (bw_params_init_preset (&params, "default"));
  params.max_memory = bw_vgg19_get_weight_bytes (vgg) + (200u << 20);
  session = new_session (vgg, &params, 1400, 1050);
  g_assert_false (bw_session_start (session, &error));
  g_assert_error (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_OUT_OF_MEMORY);
  g_test_message ("%s", error->message);
  largest_text = strstr (error->message, "largest size it can paint is ");
  g_assert_nonnull (largest_text);
  largest = atoi (largest_text + strlen ("largest size it can paint is "));
  /* the number an app offers is the one the message names */
  g_assert_cmpint (bw_session_get_largest_size (session), ==, largest);
  g_assert_cmpint (largest, >=, 16);
  g_assert_cmpint (largest, <, 1400);
  /* new_session's painting has the photo's shape and is taken at the output's size */
  w = largest;
  h = (int) lround (1050.0 * largest / 1400);
  g_assert_true (bw_step_plan_make (vgg, &params, h, w, h, w, params.max_memory, &plan, NULL));
  w = largest + 16;
  h = (int) lround (1050.0 * w / 1400);
  g_assert_false (bw_step_plan_make (vgg, &params, h, w, h, w, params.max_memory, &plan, NULL));
  g_assert_cmpint (bw_session_get_step (session), ==, 0);
  bw_test_check_validation ();
}

static guint64
heap_in_use (void)
{
  struct mallinfo2 info = mallinfo2 ();

  return info.uordblks + info.hblkhd;
}

/* With relative losses (the default preset) the total variation is relative to the photo's
 * own as well: the first step evaluates the photo itself (init: the photo), so its loss is
 * content 0 + style + exactly the weight. Counted here from the loss values alone, against
 * the session's own total variation of the photo in double on the host; 1e-4 relative leaves
 * room for the shader's float sums. Without the scaling the term is the weight times the
 * photo's total variation, ~1e3 at this size: the app's Smoothness (0.1 and up) would blur
 * the painting away. */
static void
test_relative_tv (void)
{
  g_autoptr(BwVgg19) vgg = random_network ();
  g_autoptr(BwSession) session = NULL;
  g_autoptr(GError) error = NULL;
  BwLossValues values;
  BwParams params;

  g_assert_true (bw_params_init_preset (&params, "default"));
  g_assert_cmpint (params.gram_mode, ==, BW_GRAM_RELATIVE);
  params.steps = 1;
  params.scales = 1;
  params.tv_weight = 0.5;
  session = new_session (vgg, &params, 48, 36);
  g_assert_true (bw_session_start (session, &error));
  g_assert_true (bw_session_step (session, &values, &error));
  g_assert_no_error (error);
  g_test_message ("total %.9g, content %.9g, style %.9g", values.total, values.content,
                  values.style);
  g_assert_cmpfloat (fabs (values.total - values.content - values.style - 0.5), <, 0.5 * 1e-4);
}

/* Under AddressSanitizer only the device's count is compared (below), which a leak of one
 * buffer a step shows at any length: half the steps keep the suite within CI's time. */
#ifdef __SANITIZE_ADDRESS__
#define LONG_RUN_STEPS 150
#else
#define LONG_RUN_STEPS 300
#endif

/* A long run stays flat: LONG_RUN_STEPS seed steps (Adam) at 32 x 24 hold the same device
 * memory at the end as at step 100, byte for byte, and malloc's bytes in use grow by less
 * than 64 KB over the last 200 steps (a leak of 330 bytes a step would pass that; allocators
 * and drivers settle their caches in the first steps). Under AddressSanitizer malloc is not
 * glibc's, so there only the device's count is compared. */
static void
test_long_run_flat (void)
{
  g_autoptr(BwVgg19) vgg = random_network ();
  g_autoptr(BwSession) session = NULL;
  g_autoptr(GError) error = NULL;
  BwDevice *device = bw_vgg19_get_device (vgg);
  guint64 device_at_100 = 0, heap_at_100 = 0;
  BwParams params;

  g_assert_true (bw_params_init_preset (&params, "seed"));
  params.steps = LONG_RUN_STEPS;
  session = new_session (vgg, &params, 32, 24);
  g_assert_true (bw_session_start (session, &error));
  while (bw_session_get_step (session) < params.steps)
    {
      g_assert_true (bw_session_step (session, NULL, &error));
      if (bw_session_get_step (session) == 100)
        {
          device_at_100 = bw_device_get_allocated (device);
          heap_at_100 = heap_in_use ();
        }
    }
  g_test_message ("device: %" G_GUINT64_FORMAT " bytes at step 100, %" G_GUINT64_FORMAT
                  " at %d; heap in use: %" G_GUINT64_FORMAT ", then %" G_GUINT64_FORMAT,
                  device_at_100, bw_device_get_allocated (device), LONG_RUN_STEPS, heap_at_100,
                  heap_in_use ());
  g_assert_cmpuint (bw_device_get_allocated (device), ==, device_at_100);
#ifndef __SANITIZE_ADDRESS__
  g_assert_cmpuint (heap_in_use (), <, heap_at_100 + 65536);
#endif
  bw_test_check_validation ();
}

/* BRUSHWORK_FAULT, in a process of its own (each fault fires once per process, and only on a
 * device made after it is set). */
static BwDevice *
faulty_device (const char *fault)
{
  g_autoptr(GError) error = NULL;
  BwDevice *device;

  g_setenv ("BRUSHWORK_FAULT", fault, TRUE);
  device = bw_device_new (NULL, &error);
  g_assert_no_error (error);
  return device;
}

/* An allocation fails part-way through computing the targets (bw_session_start), with
 * commands recorded: start fails with the out-of-memory error,
 * and a new, smaller painting on the same device works. Before the fix the commands the
 * failed step had recorded stayed in the command buffer and ran with the next upload,
 * against buffers already freed (validation: "bound VkBuffer ... was destroyed"; lavapipe
 * crashed). */
static void
test_fault_oom (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(BwDevice) device = faulty_device ("oom@0");
      g_autoptr(BwVgg19) vgg = random_network_on (device);
      g_autoptr(BwSession) session = NULL;
      g_autoptr(BwSession) smaller = NULL;
      g_autoptr(GError) error = NULL;
      BwParams params;
      gboolean failed = FALSE;

      g_assert_true (bw_params_init_preset (&params, "seed"));
      params.steps = 4;
      session = new_session (vgg, &params, 64, 48);
      failed = !bw_session_start (session, &error);
      while (!failed && bw_session_get_step (session) < params.steps)
        failed = !bw_session_step (session, NULL, &error);
      g_assert_error (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_OUT_OF_MEMORY);
      g_clear_error (&error);
      g_clear_object (&session);

      smaller = new_session (vgg, &params, 48, 36);
      g_assert_true (bw_session_start (smaller, &error));
      while (bw_session_get_step (smaller) < params.steps)
        g_assert_true (bw_session_step (smaller, NULL, &error));
      g_assert_no_error (error);
      assert_image_size (smaller, 48, 36);
      g_assert_cmpuint (bw_device_get_validation_errors (device), ==, 0);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* The device is lost at step 2: that step fails with BW_DEVICE_ERROR_LOST, and so does every
 * later call at once (no wait, no replay); a device opened anew paints. */
static void
test_fault_device_lost (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(BwDevice) device = faulty_device ("device-lost@2");
      g_autoptr(BwVgg19) vgg = random_network_on (device);
      g_autoptr(BwSession) session = NULL;
      g_autoptr(GError) error = NULL;
      BwParams params;

      g_assert_true (bw_params_init_preset (&params, "seed"));
      params.steps = 4;
      session = new_session (vgg, &params, 48, 36);
      g_assert_true (bw_session_start (session, &error));
      g_assert_true (bw_session_step (session, NULL, &error));
      g_assert_false (bw_session_step (session, NULL, &error));
      g_assert_error (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_LOST);
      g_assert_true (bw_device_is_lost (device));
      g_clear_error (&error);
      g_assert_false (bw_session_step (session, NULL, &error));
      g_assert_error (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_LOST);
      g_clear_error (&error);
      g_clear_object (&session);
      g_clear_object (&vgg);
      g_clear_object (&device);

      {
        g_autoptr(BwDevice) fresh = faulty_device ("device-lost@2");
        g_autoptr(BwVgg19) again = random_network_on (fresh);
        g_autoptr(BwSession) resumed = new_session (again, &params, 48, 36);

        g_assert_true (bw_session_start (resumed, &error));
        while (bw_session_get_step (resumed) < params.steps)
          g_assert_true (bw_session_step (resumed, NULL, &error));
        g_assert_no_error (error);
        g_assert_cmpuint (bw_device_get_validation_errors (fresh), ==, 0);
      }
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* The network on a device opened anew, as BwEngine's reopen function gives a session; the
 * devices it opened, for their validation counts. */
static BwVgg19 *
reopen_random (gpointer   data,
               GError   **error)
{
  GPtrArray *devices = data;
  g_autoptr(BwDevice) device = bw_device_new (NULL, error);

  if (device == NULL)
    return NULL;
  g_ptr_array_add (devices, g_object_ref (device));
  return random_network_on (device);
}

typedef struct {
  GArray *steps;      /* int: each ::step's count, in order */
  GArray *losses;     /* double: each step's total loss */
  int device_lost;    /* ::device-lost emissions */
  int snapshot_at;    /* the step whose image goes into snapshot (0: none) */
  BwImage *snapshot;
} Watch;

static void
on_watch_step (BwSession *session,
               int        step,
               gpointer   values,
               Watch     *watch)
{
  double total = ((BwLossValues *) values)->total;

  g_array_append_val (watch->steps, step);
  g_array_append_val (watch->losses, total);
  if (step == watch->snapshot_at)
    {
      g_autoptr(GError) error = NULL;

      watch->snapshot = bw_session_get_image (session, &error);
      g_assert_no_error (error);
    }
}

static void
on_watch_lost (BwSession *session,
               int        losses,
               Watch     *watch)
{
  watch->device_lost++;
  g_assert_cmpint (losses, ==, watch->device_lost);
}

/* Paints @steps steps of @params at 48x36 on @vgg (with @devices, a reopen function) and
 * returns the image; @watch, if given, gets what the session said. */
static BwImage *
paint_watched (BwVgg19        *vgg,
               const BwParams *params,
               int             w,
               int             h,
               GPtrArray      *devices,
               Watch          *watch)
{
  g_autoptr(BwSession) session = new_session (vgg, params, w, h);
  g_autoptr(GError) error = NULL;
  BwImage *image;

  if (devices)
    bw_session_set_reopen_func (session, reopen_random, devices, NULL);
  if (watch)
    {
      g_signal_connect (session, "step", G_CALLBACK (on_watch_step), watch);
      g_signal_connect (session, "device-lost", G_CALLBACK (on_watch_lost), watch);
    }
  g_assert_true (bw_session_start (session, &error));
  g_assert_true (bw_session_run (session, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (bw_session_get_step (session), ==, params->steps);
  image = bw_session_get_image (session, &error);
  g_assert_no_error (error);
  return image;
}

static void
assert_steps_continue (Watch *watch,
                       int    steps)
{
  g_assert_cmpint (watch->steps->len, ==, steps);
  for (int i = 0; i < steps; i++)
    g_assert_cmpint (g_array_index (watch->steps, int, i), ==, i + 1);
}

/* The device is lost at step 4 of 8 (seed preset: Adam): a device opened anew takes over,
 * ::device-lost says so once, the steps count on 1..8 with none repeated or skipped, and the
 * image is the uninterrupted run's: Adam's moments and step count are kept on the host, so
 * the same operations run from the same state. On lavapipe the two are identical; 100 dB
 * (an RMS difference of 1e-5) leaves room for a device whose sums are not deterministic,
 * and is well above what losing Adam's moments gives (74 dB here, as the moments restart)
 * and the 60 dB. */
static void
test_fault_device_lost_goes_on (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(BwDevice) device = faulty_device ("device-lost@4");
      g_autoptr(BwVgg19) vgg = random_network_on (device);
      g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func (g_object_unref);
      g_autoptr(BwVgg19) fresh = NULL;
      g_autoptr(BwImage) got = NULL, want = NULL;
      Watch watch = { g_array_new (FALSE, FALSE, sizeof (int)),
                      g_array_new (FALSE, FALSE, sizeof (double)), 0 };
      BwParams params;
      double db;

      g_assert_true (bw_params_init_preset (&params, "seed"));
      params.steps = 8;
      got = paint_watched (vgg, &params, 48, 36, devices, &watch);
      g_assert_true (bw_device_is_lost (device));
      g_assert_cmpint (watch.device_lost, ==, 1);
      g_assert_cmpuint (devices->len, ==, 1);
      assert_steps_continue (&watch, params.steps);

      /* the fault has fired: this run is not interrupted */
      fresh = random_network_on (g_ptr_array_index (devices, 0));
      want = paint_watched (fresh, &params, 48, 36, NULL, NULL);
      db = bw_test_image_psnr (got, want);
      g_test_message ("Adam, lost at step 4 of 8: PSNR %.1f dB against the uninterrupted run", db);
      g_assert_cmpfloat (db, >=, 100.0);
      g_assert_cmpuint (bw_device_get_validation_errors (g_ptr_array_index (devices, 0)), ==, 0);
      g_array_unref (watch.steps);
      g_array_unref (watch.losses);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* L-BFGS across two coarse-to-fine passes (default preset, 32x24 then 64x48), the device
 * lost at step 7 of 10, in the second pass: the run ends at the output size with the steps
 * counted on. L-BFGS's history (20 images) is not kept on the host: it starts again from
 * the best image evaluated, which costs about one step (that image is evaluated again) and
 * the curvature learnt so far. So the result must be as close to the uninterrupted run's as
 * that run's own image one step earlier is, within 6 dB (twice the RMS difference) for the
 * lost curvature. Here the two are equally close (64.6 dB); starting the pass again from
 * its first image instead gives 15.5 dB. */
static void
test_fault_device_lost_lbfgs (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(BwDevice) device = faulty_device ("device-lost@7");
      g_autoptr(BwVgg19) vgg = random_network_on (device);
      g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func (g_object_unref);
      g_autoptr(BwVgg19) fresh = NULL;
      g_autoptr(BwImage) got = NULL, want = NULL;
      Watch watch = { g_array_new (FALSE, FALSE, sizeof (int)),
                      g_array_new (FALSE, FALSE, sizeof (double)), 0 };
      Watch plain = { g_array_new (FALSE, FALSE, sizeof (int)),
                      g_array_new (FALSE, FALSE, sizeof (double)), 0 };
      BwParams params;
      double db, step_db;

      g_assert_true (bw_params_init_preset (&params, "default"));
      params.steps = 10;
      params.scales = 2;
      got = paint_watched (vgg, &params, 64, 48, devices, &watch);
      g_assert_cmpint (watch.device_lost, ==, 1);
      assert_steps_continue (&watch, params.steps);
      g_assert_cmpint (bw_image_get_width (got), ==, 64);

      fresh = random_network_on (g_ptr_array_index (devices, 0));
      plain.snapshot_at = params.steps - 1;
      want = paint_watched (fresh, &params, 64, 48, NULL, &plain);
      db = bw_test_image_psnr (got, want);
      step_db = bw_test_image_psnr (plain.snapshot, want);
      g_test_message ("L-BFGS, lost at step 7 of 10: PSNR %.1f dB against the uninterrupted "
                      "run, whose step 9 is at %.1f dB", db, step_db);
      g_assert_cmpfloat (db, >=, step_db - 6.0);
      g_clear_object (&plain.snapshot);
      g_assert_cmpuint (bw_device_get_validation_errors (g_ptr_array_index (devices, 0)), ==, 0);
      g_array_unref (watch.steps);
      g_array_unref (watch.losses);
      g_array_unref (plain.steps);
      g_array_unref (plain.losses);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

static void
on_replanned (BwSession *session,
              int       *replanned)
{
  (*replanned)++;
}

/* Out of memory at step 6 of 10, where L-BFGS (default preset, history 100) enters its
 * second pass (64x48) and allocates: the step is planned again within less, ::replanned says
 * so once, the steps count on, and the pass runs with a shorter history. The pass's first
 * step starts a new L-BFGS either way and five steps never fill even the shorter history,
 * so the image must be the uninterrupted run's: 100 dB, as for Adam's lost device. */
static void
test_fault_oom_replans (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(BwDevice) device = faulty_device ("oom@6");
      g_autoptr(BwVgg19) vgg = random_network_on (device);
      g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func (g_object_unref);
      g_autoptr(BwSession) session = NULL, plain = NULL;
      g_autoptr(BwImage) got = NULL, want = NULL;
      g_autoptr(GError) error = NULL;
      const BwStepPlan *smaller, *whole;
      int replanned = 0, seen = 0;
      BwParams params;
      double db;

      g_assert_true (bw_params_init_preset (&params, "default"));
      params.steps = 10;
      params.scales = 2;
      params.lbfgs_history = 100;
      session = new_session (vgg, &params, 64, 48);
      bw_session_set_reopen_func (session, reopen_random, devices, NULL);
      g_signal_connect (session, "replanned", G_CALLBACK (on_replanned), &replanned);
      g_assert_true (bw_session_start (session, &error));
      while (bw_session_get_step (session) < params.steps)
        {
          g_assert_true (bw_session_step (session, NULL, &error));
          g_assert_no_error (error);
          g_assert_cmpint (bw_session_get_step (session), ==, ++seen);
        }
      g_assert_cmpint (replanned, ==, 1);
      g_assert_cmpuint (devices->len, ==, 0);
      got = bw_session_get_image (session, &error);
      g_assert_no_error (error);
      g_assert_cmpint (bw_image_get_width (got), ==, 64);

      plain = new_session (vgg, &params, 64, 48);
      g_assert_true (bw_session_start (plain, &error));
      g_assert_true (bw_session_run (plain, NULL, &error));
      g_assert_no_error (error);
      want = bw_session_get_image (plain, &error);
      g_assert_no_error (error);
      smaller = bw_session_get_plan (session);
      whole = bw_session_get_plan (plain);
      g_test_message ("the last pass re-planned: %d pairs, %.1f MB; without: %d pairs, %.1f MB",
                      smaller->lbfgs_history, smaller->bytes / 1048576.0,
                      whole->lbfgs_history, whole->bytes / 1048576.0);
      g_assert_cmpint (smaller->lbfgs_history, <, params.lbfgs_history);
      g_assert_cmpuint (smaller->bytes, <, whole->bytes);
      db = bw_test_image_psnr (got, want);
      g_test_message ("L-BFGS, out of memory at step 6 of 10: PSNR %.1f dB against the "
                      "uninterrupted run", db);
      g_assert_cmpfloat (db, >=, 100.0);
      g_assert_cmpuint (bw_device_get_validation_errors (device), ==, 0);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* Out of memory where Adam (seed preset) enters its second pass at 48x36, which nothing
 * smaller fits (no tile is smaller than the image, and Adam has no history to shorten): the
 * step fails with a sentence that says so and what to do, and the image of the last
 * finished step (the first pass's, 24x18) is still there to read. */
static void
test_fault_oom_gives_up (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(BwDevice) device = faulty_device ("oom@3");
      g_autoptr(BwVgg19) vgg = random_network_on (device);
      g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func (g_object_unref);
      g_autoptr(BwSession) session = NULL;
      g_autoptr(BwImage) kept = NULL;
      g_autoptr(GError) error = NULL;
      BwParams params;

      g_assert_true (bw_params_init_preset (&params, "seed"));
      params.steps = 4;
      params.scales = 2;
      session = new_session (vgg, &params, 48, 36);
      bw_session_set_reopen_func (session, reopen_random, devices, NULL);
      g_assert_true (bw_session_start (session, &error));
      for (int i = 0; i < 2; i++)
        g_assert_true (bw_session_step (session, NULL, &error));
      g_assert_false (bw_session_step (session, NULL, &error));
      g_assert_error (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_OUT_OF_MEMORY);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, "ran out of memory at step 3"));
      g_assert_nonnull (strstr (error->message, "choose a smaller size"));
      g_clear_error (&error);
      kept = bw_session_get_image (session, &error);
      g_assert_no_error (error);
      g_assert_cmpint (bw_image_get_width (kept), ==, 24);
      g_assert_cmpint (bw_image_get_height (kept), ==, 18);
      g_assert_cmpuint (bw_device_get_validation_errors (device), ==, 0);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* Lost three times at step 2: twice a new device takes over, the third time the step fails
 * with the lost device's error, and the image of step 1, kept on the host, is still there
 * to read: the same as read from the device after step 1, up to the float rounding of
 * x * std + mean done on the host rather than in a shader (1e-6). */
static void
test_fault_device_lost_gives_up (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(BwDevice) device = faulty_device ("device-lost@2x3");
      g_autoptr(BwVgg19) vgg = random_network_on (device);
      g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func (g_object_unref);
      g_autoptr(BwSession) session = NULL;
      g_autoptr(BwImage) after_1 = NULL, kept = NULL;
      g_autoptr(GError) error = NULL;
      Watch watch = { g_array_new (FALSE, FALSE, sizeof (int)),
                      g_array_new (FALSE, FALSE, sizeof (double)), 0 };
      BwParams params;

      g_assert_true (bw_params_init_preset (&params, "seed"));
      params.steps = 4;
      session = new_session (vgg, &params, 48, 36);
      bw_session_set_reopen_func (session, reopen_random, devices, NULL);
      g_signal_connect (session, "device-lost", G_CALLBACK (on_watch_lost), &watch);
      g_assert_true (bw_session_start (session, &error));
      g_assert_true (bw_session_step (session, NULL, &error));
      after_1 = bw_session_get_image (session, &error);
      g_assert_no_error (error);

      g_assert_false (bw_session_step (session, NULL, &error));
      g_assert_error (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_LOST);
      g_clear_error (&error);
      g_assert_cmpint (watch.device_lost, ==, BW_SESSION_MAX_DEVICE_LOSSES - 1);
      g_assert_cmpint (bw_session_get_device_losses (session), ==, BW_SESSION_MAX_DEVICE_LOSSES);
      g_assert_cmpuint (devices->len, ==, BW_SESSION_MAX_DEVICE_LOSSES - 1);
      g_assert_cmpint (bw_session_get_step (session), ==, 1);

      kept = bw_session_get_image (session, &error);
      g_assert_no_error (error);
      for (gsize i = 0; i < (gsize) 3 * 48 * 36; i++)
        g_assert_cmpfloat_with_epsilon (bw_image_get_data (kept)[i],
                                        bw_image_get_data (after_1)[i], 1e-6);
      for (guint i = 0; i < devices->len; i++)
        g_assert_cmpuint (bw_device_get_validation_errors (g_ptr_array_index (devices, i)), ==, 0);
      g_array_unref (watch.steps);
      g_array_unref (watch.losses);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/session/passes", test_passes);
  g_test_add_func ("/session/pass-continues", test_pass_continues);
  g_test_add_func ("/session/seconds-left", test_seconds_left);
  g_test_add_func ("/session/steps-lowered", test_steps_lowered);
  g_test_add_func ("/session/matched-style-size", test_matched_style_size);
  g_test_add_func ("/session/relative-tv", test_relative_tv);
  g_test_add_func ("/session/lbfgs-best-image", test_lbfgs_best_image);
  g_test_add_func ("/session/too-large-before-start", test_too_large_before_start);
  /* a test of its own in meson (session-long-run), without the validation layer */
  if (g_strcmp0 (g_getenv ("BRUSHWORK_LONG_RUN"), "1") == 0)
    g_test_add_func ("/session/long-run-flat", test_long_run_flat);
  g_test_add_func ("/session/fault/oom", test_fault_oom);
  g_test_add_func ("/session/fault/oom-replans", test_fault_oom_replans);
  g_test_add_func ("/session/fault/oom-gives-up", test_fault_oom_gives_up);
  g_test_add_func ("/session/fault/device-lost", test_fault_device_lost);
  g_test_add_func ("/session/fault/device-lost-goes-on", test_fault_device_lost_goes_on);
  g_test_add_func ("/session/fault/device-lost-lbfgs", test_fault_device_lost_lbfgs);
  g_test_add_func ("/session/fault/device-lost-gives-up", test_fault_device_lost_gives_up);
  ret = g_test_run ();
  bw_test_shutdown ();
  return ret;
}
