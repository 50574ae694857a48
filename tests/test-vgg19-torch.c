/* test-vgg19-torch.c: the whole network, the seed's losses, their gradient and Adam steps
 * against PyTorch (tests/oracle/seed_oracle.py) on the same seeded random weights and inputs.
 *
 * Tolerances (normwise: max abs error over max |value|, since deep features and gradients
 * have many near-zero elements whose relative error means nothing):
 *  - features 1e-4: both sides sum up to 4608 fp32 products per layer in different orders;
 *    the error measured is ~1e-6, so 1e-4 is the bound with a wide margin.
 *  - image gradient 1e-3: it passes back through up to 13 layers, Gram matrices and a 1e6
 *    style weight; measured ~1e-5.
 *  - loss values 1e-3 relative (the bound); after five Adam steps the image 1e-4.
 * The same bounds hold for weights that take Caffe's input (BGR, 0-255, mean pixel): there the
 * oracle (seed_oracle.py --caffe) preprocesses a plain [0, 1] RGB image itself, and our side
 * normalises it on the device and folds the convention into conv1_1 (bw-vgg19.h).
 */
#include <string.h>
#include <glib/gstdio.h>

#include "bw-test-util.h"
#include "losses/bw-losses.h"
#include "optim/bw-adam.h"
#include "optim/bw-lbfgs.h"
#include "ops/bw-ops.h"

#define H 48
#define W 64
#define SH 40
#define SW 56
#define STEPS 5
#define LBFGS_STEPS 8
#define LBFGS_HISTORY 3

static char *oracle_dir;
static BwWeights *weights;
static char *caffe_dir;

static const char *const taps[] = { "relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1" };
static const struct { const char *name; double weight; } style_layers[] = {
  { "relu1_1", 1.0 }, { "relu2_1", 0.75 }, { "relu3_1", 0.2 }, { "relu4_1", 0.2 }, { "relu5_1", 0.2 },
};

static BwTensor *
image_tensor_from (const char *dir,
                   const char *name,
                   int         h,
                   int         w)
{
  g_autofree float *data = bw_test_read_floats (dir, name, (gsize) 3 * h * w);
  g_autoptr(GError) error = NULL;
  BwTensor *t = bw_tensor_new (bw_test_device (), 3, h, w, &error);

  g_assert_no_error (error);
  bw_tensor_upload (t, data, &error);
  g_assert_no_error (error);
  return t;
}

static BwTensor *
image_tensor (const char *name,
              int         h,
              int         w)
{
  return image_tensor_from (oracle_dir, name, h, w);
}

static BwVgg19 *
new_network (void)
{
  g_autoptr(GError) error = NULL;
  BwVgg19 *vgg = bw_vgg19_new (bw_test_device (), weights, &error);

  g_assert_no_error (error);
  return vgg;
}

static BwLosses *
losses_for (BwVgg19    *vgg,
            gboolean    blend,
            BwGramMode  mode)
{
  BwLosses *losses = bw_losses_new (vgg, mode);
  g_autoptr(BwTensor) content = image_tensor ("content.bin", H, W);
  g_autoptr(BwTensor) style = image_tensor ("style.bin", SH, SW);
  g_autoptr(BwTensor) style2 = image_tensor ("style2.bin", SH + 8, SW - 8);
  g_autoptr(GError) error = NULL;

  bw_losses_set_weights (losses, 1.0, 1e6);
  bw_losses_set_content_layer (losses, bw_vgg19_layer_index ("relu4_2"), 1.0);
  for (gsize i = 0; i < G_N_ELEMENTS (style_layers); i++)
    bw_losses_set_style_layer (losses, bw_vgg19_layer_index (style_layers[i].name),
                               style_layers[i].weight);
  /* style first: its forward pass runs at the style image's size */
  bw_losses_add_style_target (losses, style, blend ? 3.0 : 1.0, &error);
  g_assert_no_error (error);
  if (blend)
    {
      /* blend weights 3 : 7 are normalised to 0.3 : 0.7 */
      bw_losses_add_style_target (losses, style2, 7.0, &error);
      g_assert_no_error (error);
    }
  bw_losses_set_content_target (losses, content, &error);
  g_assert_no_error (error);
  return losses;
}

static BwLosses *
seed_losses (BwVgg19 *vgg)
{
  return losses_for (vgg, FALSE, BW_GRAM_SEED);
}

/* One closure evaluation: forward, losses, backward; leaves dLoss/dx in @grad. */
static BwLossValues
evaluate (BwVgg19  *vgg,
          BwLosses *losses,
          BwTensor *x,
          BwTensor *grad)
{
  g_autoptr(GError) error = NULL;
  BwLossValues values;

  bw_vgg19_forward (vgg, x, &error);
  g_assert_no_error (error);
  bw_losses_record (losses, &error);
  g_assert_no_error (error);
  bw_vgg19_backward (vgg, bw_losses_get_feature_grads (losses), grad, &error);
  g_assert_no_error (error);
  bw_device_submit (bw_test_device (), &error);
  g_assert_no_error (error);
  bw_losses_read_values (losses, &values, &error);
  g_assert_no_error (error);
  return values;
}

static void
assert_loss (const char *what,
             double      got,
             double      want)
{
  double rel = fabs (got - want) / MAX (fabs (want), 1e-30);

  g_test_message ("%s: %.9g, PyTorch %.9g, rel err %.3g", what, got, want, rel);
  if (!(rel <= 1e-3))
    g_test_fail_printf ("%s is %.9g, PyTorch says %.9g (rel err %.3g > 1e-3)", what, got, want, rel);
}

/* The network's features at every tap for @probe against the oracle's in @dir, within 1e-4
 * (normwise; see the header); @what_prefix names the run in failures. */
static void
assert_features (BwVgg19    *vgg,
                 BwTensor   *probe,
                 const char *dir,
                 const char *what_prefix)
{
  g_autoptr(GError) error = NULL;

  bw_vgg19_prepare (vgg, H, W, BW_VGG19_N_CONVS - 1, FALSE, &error);
  g_assert_no_error (error);
  bw_vgg19_forward (vgg, probe, &error);
  g_assert_no_error (error);
  bw_device_submit (bw_test_device (), &error);
  g_assert_no_error (error);
  for (gsize i = 0; i < G_N_ELEMENTS (taps); i++)
    {
      BwTensor *f = bw_vgg19_get_feature (vgg, bw_vgg19_layer_index (taps[i]));
      gsize n = (gsize) bw_tensor_get_channels (f) * bw_tensor_get_height (f) * bw_tensor_get_width (f);
      g_autofree char *file = g_strdup_printf ("probe_%s.bin", taps[i]);
      g_autofree char *what = g_strdup_printf ("%s%s", what_prefix, taps[i]);
      g_autofree float *want = bw_test_read_floats (dir, file, n);
      g_autofree float *got = bw_tensor_download (f, &error);

      g_assert_no_error (error);
      bw_test_assert_close_normwise (what, got, want, n, 1e-4);
    }
  bw_test_check_validation ();
}

static void
test_features (void)
{
  g_autoptr(BwVgg19) vgg = new_network ();
  g_autoptr(BwTensor) probe = image_tensor ("probe.bin", H, W);

  assert_features (vgg, probe, oracle_dir, "");
}

static void
check_gradient (gboolean   blend,
                BwGramMode mode)
{
  g_autoptr(BwVgg19) vgg = new_network ();
  g_autoptr(BwLosses) losses = losses_for (vgg, blend, mode);
  gboolean normalised = mode == BW_GRAM_NORMALISED, relative = mode == BW_GRAM_RELATIVE;
  g_autoptr(BwTensor) probe = image_tensor ("probe.bin", H, W);
  g_autoptr(BwTensor) grad = NULL;
  g_autofree float *want = bw_test_read_floats (oracle_dir, blend ? "blend_grad.bin" :
                                                normalised ? "ngram_grad.bin" :
                                                relative ? "rgram_grad.bin" : "probe_grad.bin",
                                                3 * H * W);
  g_autofree float *got = NULL;
  g_autoptr(GError) error = NULL;
  BwLossValues values;

  grad = bw_tensor_new (bw_test_device (), 3, H, W, &error);
  g_assert_no_error (error);
  if (relative)   /* the oracle's relative terms are of one order: style weight 1 */
    bw_losses_set_weights (losses, 1.0, 1.0);
  values = evaluate (vgg, losses, probe, grad);

  if (blend)
    assert_loss ("total loss, two styles", values.total, bw_test_read_value (oracle_dir, "blend_total"));
  else if (normalised)
    assert_loss ("total loss, normalised Gram", values.total, bw_test_read_value (oracle_dir, "ngram_total"));
  else if (relative)
    {
      assert_loss ("relative content loss", values.content, bw_test_read_value (oracle_dir, "rgram_content"));
      assert_loss ("relative style loss", values.style, bw_test_read_value (oracle_dir, "rgram_style"));
      assert_loss ("relative total loss", values.total, bw_test_read_value (oracle_dir, "rgram_total"));
    }
  else
    {
      assert_loss ("content loss", values.content, bw_test_read_value (oracle_dir, "probe_content"));
      assert_loss ("style loss", values.style, 1e6 * bw_test_read_value (oracle_dir, "probe_style"));
      assert_loss ("total loss", values.total, bw_test_read_value (oracle_dir, "probe_total"));
    }
  got = bw_tensor_download (grad, &error);
  g_assert_no_error (error);
  bw_test_assert_close_normwise ("image gradient", got, want, 3 * H * W, 1e-3);
  bw_test_check_validation ();
}

static void
test_gradient (void)
{
  check_gradient (FALSE, BW_GRAM_SEED);
}

/* Gram matrices divided by c h w on both sides (independent of the image size). */
static void
test_normalised_gradient (void)
{
  check_gradient (FALSE, BW_GRAM_NORMALISED);
}

/* Each term relative to its target's squared norm (BW_GRAM_RELATIVE). */
static void
test_relative_gradient (void)
{
  check_gradient (FALSE, BW_GRAM_RELATIVE);
}

/* The oracle's weights with every feature @k times larger: conv1_1's weights and bias and every
 * later conv's bias times @k (ReLU and max-pool are positively homogeneous, so each layer's
 * output is exactly k times the original's). Caffe's 0-255 input makes features ~57x
 * torchvision's in just this way at conv1_1. */
static BwVgg19 *
scaled_network (float k)
{
  g_autoptr(BwWeights) scaled = bw_weights_new ();
  g_autoptr(GError) error = NULL;
  BwVgg19 *vgg;

  for (int i = 0; i < BW_VGG19_N_CONVS; i++)
    for (int b = 0; b < 2; b++)
      {
        g_autofree char *name = g_strdup_printf ("features.%d.%s", bw_vgg19_convs[i].module,
                                                 b ? "bias" : "weight");
        const gint64 *shape;
        guint n_dims;
        const float *src = bw_weights_lookup (weights, name, &shape, &n_dims);
        gsize n = 1;
        float *data;

        g_assert_nonnull (src);
        for (guint d = 0; d < n_dims; d++)
          n *= shape[d];
        data = g_memdup2 (src, n * sizeof (float));
        if (b || i == 0)
          for (gsize j = 0; j < n; j++)
            data[j] *= k;
        bw_weights_insert (scaled, name, shape, n_dims, data);
      }
  vgg = bw_vgg19_new (bw_test_device (), scaled, &error);
  g_assert_no_error (error);
  return vgg;
}

/* BW_GRAM_RELATIVE's point: the features' scale (the weights' convention) does not change the
 * losses, nor the image gradient, so one preset suits both. Features 57x larger (Caffe's
 * against torchvision's) must give the same content and style losses within 1e-4 relative
 * (exact arithmetic makes them equal; fp32 rounding measures ~1e-6; at k = 2 they are equal
 * bit for bit) and the same image gradient within 1e-2 normwise: at k = 3 and at 57 alike it
 * differs by 2.5e-3 of its largest value (the same element), the mark of a discrete event
 * rather than of accumulated rounding: rounding flips the winner of a max-pool window whose
 * two largest inputs are within fp32 rounding of each other, and that window's gradient goes
 * to its neighbour (against PyTorch the same probe's gradient differs by 5e-4 already). The
 * Winograd F(6x6, 3x3) path rounds about twice as coarsely as F(4x4, 3x3) and flips more such
 * windows: 1.6e-2 (elements beyond 1e-3 of the largest: 361 of 9216, against 124), so its bound
 * is 3e-2. A term not relative to its target would be off by a factor k^2 or more. The seed's
 * losses, for contrast, grow as k^2 and k^4. */
static void
test_relative_scale_free (void)
{
  const float k = 57;
  g_autoptr(BwVgg19) vgg = new_network ();
  g_autoptr(BwVgg19) big = scaled_network (k);
  g_autoptr(GError) error = NULL;
  g_autoptr(BwTensor) probe = image_tensor ("probe.bin", H, W);
  g_autoptr(BwTensor) grad = bw_tensor_new (bw_test_device (), 3, H, W, &error);
  g_autoptr(BwTensor) grad_big = bw_tensor_new (bw_test_device (), 3, H, W, &error);
  g_autofree float *a = NULL;
  g_autofree float *b = NULL;
  BwLossValues v, v_big;

  g_assert_no_error (error);
  for (int relative = 1; relative >= 0; relative--)
    {
      BwGramMode mode = relative ? BW_GRAM_RELATIVE : BW_GRAM_SEED;
      g_autoptr(BwLosses) losses = losses_for (vgg, FALSE, mode);
      g_autoptr(BwLosses) losses_big = losses_for (big, FALSE, mode);
      double content_ratio, style_ratio;

      v = evaluate (vgg, losses, probe, grad);
      v_big = evaluate (big, losses_big, probe, grad_big);
      content_ratio = v_big.content / v.content;
      style_ratio = v_big.style / v.style;
      g_test_message ("%s: content %.9g, %.9g at %gx the features; style %.9g, %.9g",
                      relative ? "relative" : "seed", v.content, v_big.content, k, v.style,
                      v_big.style);
      if (!relative)
        {
          /* the scaling itself is as claimed: the seed's terms move as k^2 and k^4 */
          g_assert_cmpfloat (fabs (content_ratio / (k * k) - 1), <, 1e-3);
          g_assert_cmpfloat (fabs (style_ratio / ((double) k * k * k * k) - 1), <, 1e-3);
          continue;
        }
      g_assert_cmpfloat (fabs (content_ratio - 1), <, 1e-4);
      g_assert_cmpfloat (fabs (style_ratio - 1), <, 1e-4);
      a = bw_tensor_download (grad, &error);
      g_assert_no_error (error);
      b = bw_tensor_download (grad_big, &error);
      g_assert_no_error (error);
      bw_test_assert_close_normwise ("image gradient at 57x the features", b, a, 3 * H * W,
                                     bw_ops_winograd_tile (bw_test_device (), 64, 64) == 6 ? 3e-2 : 1e-2);
    }
  bw_test_check_validation ();
}

/* Two style images blended 3 : 7 against PyTorch with the blended Gram target. */
static void
test_blend_gradient (void)
{
  check_gradient (TRUE, BW_GRAM_SEED);
}

static void
test_adam_steps (void)
{
  g_autoptr(BwVgg19) vgg = new_network ();
  g_autoptr(BwLosses) losses = seed_losses (vgg);
  g_autoptr(BwTensor) target = image_tensor ("content.bin", H, W);
  g_autoptr(BwTensor) grad = NULL;
  g_autoptr(BwAdam) adam = NULL;
  g_autofree float *want = bw_test_read_floats (oracle_dir, "final.bin", 3 * H * W);
  g_autofree float *got = NULL;
  g_autoptr(GError) error = NULL;

  grad = bw_tensor_new (bw_test_device (), 3, H, W, &error);
  g_assert_no_error (error);
  adam = bw_adam_new (target, 0.003, &error);
  g_assert_no_error (error);

  for (int step = 1; step <= STEPS; step++)
    {
      g_autofree char *cname = g_strdup_printf ("step%d_content", step);
      g_autofree char *sname = g_strdup_printf ("step%d_style", step);
      g_autofree char *tname = g_strdup_printf ("step%d_total", step);
      g_autofree char *what = NULL;
      BwLossValues values;
      double want_content;

      values = evaluate (vgg, losses, target, grad);
      bw_adam_step (adam, grad, &error);
      g_assert_no_error (error);

      want_content = bw_test_read_value (oracle_dir, cname);
      what = g_strdup_printf ("step %d content loss", step);
      /* at step 1 the image is the content: both losses are ~0 */
      if (step == 1)
        g_assert_cmpfloat (fabs (values.content), <=, 1e-9);
      else
        assert_loss (what, values.content, want_content);
      g_free (what);
      what = g_strdup_printf ("step %d style loss", step);
      assert_loss (what, values.style, 1e6 * bw_test_read_value (oracle_dir, sname));
      g_free (what);
      what = g_strdup_printf ("step %d total loss", step);
      assert_loss (what, values.total, bw_test_read_value (oracle_dir, tname));
    }
  got = bw_tensor_download (target, &error);
  g_assert_no_error (error);
  bw_test_assert_close_normwise ("image after Adam steps", got, want, 3 * H * W, 1e-4);
  bw_test_check_validation ();
}

/* torch.optim.LBFGS(lr=1, history_size=3, max_iter=8): eight iterations (so the history
 * overflows and drops pairs), against its closure's losses and final image. L-BFGS's
 * steps amplify rounding (torch sums its dot products in fp32, we in double; its second
 * step divides by y = g2 - g1 with |y| << |g|), so the image gets 1e-3 on the direct
 * kernels (measured 1e-4) and the losses the 1e-3. Winograd's sums round ~10x more
 * (features 3e-6 of max instead of 2e-7), which this trajectory turns into 5.7e-3 of max in
 * the image with F(4x4, 3x3), 4e-4 with F(6x6, 3x3), while every loss stays within 1e-5:
 * there the image gets 2e-2.
 * The suite runs this file both ways (tests/meson.build). */
static void
test_lbfgs_steps (void)
{
  g_autoptr(BwVgg19) vgg = new_network ();
  g_autoptr(BwLosses) losses = seed_losses (vgg);
  g_autoptr(BwTensor) target = image_tensor ("content.bin", H, W);
  g_autoptr(BwTensor) grad = NULL;
  g_autoptr(BwLbfgs) lbfgs = NULL;
  g_autofree float *want = bw_test_read_floats (oracle_dir, "lbfgs_final.bin", 3 * H * W);
  g_autofree float *got = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpfloat (bw_test_read_value (oracle_dir, "lbfgs_evaluations"), ==, LBFGS_STEPS);
  grad = bw_tensor_new (bw_test_device (), 3, H, W, &error);
  g_assert_no_error (error);
  lbfgs = bw_lbfgs_new (target, 1.0, LBFGS_HISTORY, &error);
  g_assert_no_error (error);

  for (int step = 1; step <= LBFGS_STEPS; step++)
    {
      g_autofree char *name = g_strdup_printf ("lbfgs%d_total", step);
      g_autofree char *what = g_strdup_printf ("L-BFGS evaluation %d loss", step);
      gboolean converged;
      BwLossValues values;

      values = evaluate (vgg, losses, target, grad);
      assert_loss (what, values.total, bw_test_read_value (oracle_dir, name));
      bw_lbfgs_step (lbfgs, grad, values.total, &converged, &error);
      g_assert_no_error (error);
      g_assert_false (converged);
    }
  got = bw_tensor_download (target, &error);
  g_assert_no_error (error);
  bw_test_assert_close_normwise ("image after L-BFGS", got, want, 3 * H * W,
                                 bw_ops_winograd_tile (bw_test_device (), 64, 64) ? 2e-2 : 1e-3);
  bw_test_check_validation ();
}

/* Total variation's value and its gradient (weight 0.5) against PyTorch's autograd:
 * fp32 sums of ~9000 squares, so 1e-5 relative for the value and 1e-5 normwise. */
static void
test_tv (void)
{
  g_autoptr(BwTensor) probe = image_tensor ("probe.bin", H, W);
  g_autoptr(BwTensor) grad = NULL;
  g_autofree float *want = bw_test_read_floats (oracle_dir, "tv_grad.bin", 3 * H * W);
  g_autofree float *got = NULL;
  g_autofree float *parts = NULL;
  g_autoptr(GError) error = NULL;
  BwDevice *dev = bw_test_device ();
  BwBuffer *partials;
  guint n;
  double tv = 0, want_tv = bw_test_read_value (oracle_dir, "tv");

  grad = bw_tensor_new (dev, 3, H, W, &error);
  g_assert_no_error (error);
  bw_tensor_clear (grad);
  n = bw_ops_tv_n_partials (probe);
  partials = bw_device_alloc_buffer (dev, n * sizeof (float), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bw_ops_tv (probe, grad, 0.5f, partials, 0, &error), ==, n);
  g_assert_no_error (error);
  parts = g_new (float, n);
  bw_device_read_buffer (dev, partials, 0, parts, n * sizeof (float), &error);
  g_assert_no_error (error);
  for (guint i = 0; i < n; i++)
    tv += parts[i];
  g_test_message ("tv %.9g, PyTorch %.9g", tv, want_tv);
  g_assert_cmpfloat (fabs (tv - want_tv), <=, 1e-5 * want_tv);
  got = bw_tensor_download (grad, &error);
  g_assert_no_error (error);
  bw_test_assert_close_normwise ("tv gradient", got, want, 3 * H * W, 1e-5);
  bw_device_free_buffer (dev, partials);
  bw_test_check_validation ();
}

/* An image too large for the device is refused before anything is allocated, with a
 * sentence that says what to do. */
static void
test_too_large (void)
{
  g_autoptr(BwVgg19) vgg = new_network ();
  g_autoptr(GError) error = NULL;
  guint64 need = bw_vgg19_estimate_memory (20000, 15000, BW_VGG19_N_CONVS - 1, TRUE);

  /* the estimate grows with the pixels: 4x the area, about 4x the memory */
  g_assert_cmpuint (bw_vgg19_estimate_memory (40000, 30000, BW_VGG19_N_CONVS - 1, TRUE), >, 3 * need);
  g_assert_false (bw_vgg19_prepare (vgg, 15000, 20000, BW_VGG19_N_CONVS - 1, TRUE, &error));
  g_assert_error (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_OUT_OF_MEMORY);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "smaller"));
  bw_test_check_validation ();
}

/* Caffe's convention. */

/* The oracle's --caffe weights as a real file carries them: saved as safetensors with the
 * convention in its metadata and loaded again, so that what the network is told comes from
 * the file (tools/fetch-real-weights writes the same key). */
static BwWeights *
caffe_weights_from_file (void)
{
  g_autoptr(BwWeights) w = bw_test_weights_from_dir (caffe_dir);
  g_autofree char *path = g_build_filename (caffe_dir, "caffe.safetensors", NULL);
  g_autoptr(GError) error = NULL;
  BwWeights *loaded;

  bw_weights_set_convention (w, BW_WEIGHTS_CONVENTION_CAFFE);
  bw_weights_save_safetensors (w, path, &error);
  g_assert_no_error (error);
  loaded = bw_weights_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (bw_weights_get_convention (loaded), ==, BW_WEIGHTS_CONVENTION_CAFFE);
  g_unlink (path);
  return loaded;
}

static BwVgg19 *
new_caffe_network (void)
{
  g_autoptr(BwWeights) w = caffe_weights_from_file ();
  g_autoptr(GError) error = NULL;
  BwVgg19 *vgg = bw_vgg19_new (bw_test_device (), w, &error);

  g_assert_no_error (error);
  g_assert_cmpint (bw_vgg19_get_convention (vgg), ==, BW_WEIGHTS_CONVENTION_CAFFE);
  return vgg;
}

/* An [0, 1] RGB image of the --caffe oracle, normalised on the device as the session does. */
static BwTensor *
caffe_normalised (BwVgg19    *vgg,
                  const char *name,
                  int         h,
                  int         w)
{
  g_autoptr(BwTensor) raw = image_tensor_from (caffe_dir, name, h, w);
  g_autoptr(GError) error = NULL;
  BwTensor *n = bw_tensor_new (bw_test_device (), 3, h, w, &error);

  g_assert_no_error (error);
  bw_vgg19_normalize (vgg, raw, n, FALSE, &error);
  g_assert_no_error (error);
  bw_device_submit (bw_test_device (), &error);
  g_assert_no_error (error);
  return n;
}

static void
test_caffe_features (void)
{
  g_autoptr(BwVgg19) vgg = new_caffe_network ();
  g_autoptr(BwTensor) probe = caffe_normalised (vgg, "probe.bin", H, W);
  g_autoptr(BwTensor) back = NULL;
  g_autofree float *x = bw_test_read_floats (caffe_dir, "probe.bin", 3 * H * W);
  g_autofree float *n = NULL;
  g_autofree float *x_back = NULL;
  g_autoptr(GError) error = NULL;

  /* the normalisation is about Caffe's mean, over the same std as torchvision's; and the
   * inverse (the session's download) takes it back */
  n = bw_tensor_download (probe, &error);
  g_assert_no_error (error);
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < H * W; i++)
      {
        static const double caffe_rgb[3] = { 123.68, 116.779, 103.939 };
        double want = (x[c * H * W + i] - caffe_rgb[c] / 255.0) / bw_vgg19_std[c];

        g_assert_cmpfloat (fabs (n[c * H * W + i] - want), <=, 1e-5);
      }
  back = bw_tensor_new (bw_test_device (), 3, H, W, &error);
  g_assert_no_error (error);
  bw_vgg19_normalize (vgg, probe, back, TRUE, &error);
  g_assert_no_error (error);
  bw_device_submit (bw_test_device (), &error);
  g_assert_no_error (error);
  x_back = bw_tensor_download (back, &error);
  g_assert_no_error (error);
  bw_test_assert_close_normwise ("image normalised and back", x_back, x, 3 * H * W, 1e-6);

  assert_features (vgg, probe, caffe_dir, "Caffe ");
}

/* The seed's losses and their gradient. We optimise n = (x - m) / s, the oracle x itself:
 * dL/dx[c] = dL/dn[c] / s[c]. */
static void
test_caffe_gradient (void)
{
  g_autoptr(BwVgg19) vgg = new_caffe_network ();
  g_autoptr(BwLosses) losses = bw_losses_new (vgg, BW_GRAM_SEED);
  g_autoptr(BwTensor) content = caffe_normalised (vgg, "content.bin", H, W);
  g_autoptr(BwTensor) style = caffe_normalised (vgg, "style.bin", SH, SW);
  g_autoptr(BwTensor) probe = caffe_normalised (vgg, "probe.bin", H, W);
  g_autoptr(BwTensor) grad = NULL;
  g_autofree float *want = bw_test_read_floats (caffe_dir, "probe_grad_rgb01.bin", 3 * H * W);
  g_autofree float *got = NULL;
  g_autoptr(GError) error = NULL;
  BwLossValues values;

  bw_losses_set_weights (losses, 1.0, 1e6);
  bw_losses_set_content_layer (losses, bw_vgg19_layer_index ("relu4_2"), 1.0);
  for (gsize i = 0; i < G_N_ELEMENTS (style_layers); i++)
    bw_losses_set_style_layer (losses, bw_vgg19_layer_index (style_layers[i].name),
                               style_layers[i].weight);
  bw_losses_add_style_target (losses, style, 1.0, &error);
  g_assert_no_error (error);
  bw_losses_set_content_target (losses, content, &error);
  g_assert_no_error (error);

  grad = bw_tensor_new (bw_test_device (), 3, H, W, &error);
  g_assert_no_error (error);
  values = evaluate (vgg, losses, probe, grad);
  assert_loss ("Caffe content loss", values.content, bw_test_read_value (caffe_dir, "probe_content"));
  assert_loss ("Caffe style loss", values.style, 1e6 * bw_test_read_value (caffe_dir, "probe_style"));
  assert_loss ("Caffe total loss", values.total, bw_test_read_value (caffe_dir, "probe_total"));

  got = bw_tensor_download (grad, &error);
  g_assert_no_error (error);
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < H * W; i++)
      got[c * H * W + i] /= bw_vgg19_std[c];
  bw_test_assert_close_normwise ("Caffe image gradient", got, want, 3 * H * W, 1e-3);
  bw_test_check_validation ();
}

/* The convention travels in a safetensors file's __metadata__: torchvision's is the default
 * and is not written; an unknown one is refused with a sentence naming both known ones. */
static void
test_convention_metadata (void)
{
  g_autoptr(BwWeights) w = bw_test_weights_from_dir (oracle_dir);
  g_autoptr(BwWeights) again = NULL;
  g_autofree char *path = g_build_filename (oracle_dir, "torchvision.safetensors", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GBytes) bad = NULL;
  g_autoptr(GError) error = NULL;
  static const char header[] = "{\"__metadata__\":{\"format\":\"pt\",\"convention\":\"bgr\"}}";
  guint8 file[8 + sizeof header - 1];
  BwWeightsConvention convention;
  gsize len;

  g_assert_cmpint (bw_weights_get_convention (w), ==, BW_WEIGHTS_CONVENTION_TORCHVISION);
  bw_weights_save_safetensors (w, path, &error);
  g_assert_no_error (error);
  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  g_assert_null (g_strstr_len (contents, MIN (len, 4096), "convention"));
  again = bw_weights_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (bw_weights_get_convention (again), ==, BW_WEIGHTS_CONVENTION_TORCHVISION);
  g_unlink (path);

  memset (file, 0, 8);
  file[0] = sizeof header - 1;
  memcpy (file + 8, header, sizeof header - 1);
  bad = g_bytes_new (file, sizeof file);
  g_clear_object (&again);
  again = bw_weights_load_bytes (bad, "odd.safetensors", BW_WEIGHTS_LOAD_DEFAULT, &error);
  g_assert_null (again);
  g_assert_error (error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_NETWORK);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "“bgr”"));
  g_assert_nonnull (strstr (error->message, "“caffe”"));

  g_assert_true (bw_weights_convention_from_string ("caffe", &convention));
  g_assert_cmpint (convention, ==, BW_WEIGHTS_CONVENTION_CAFFE);
  g_assert_false (bw_weights_convention_from_string ("Caffe", &convention));
}

int
main (int   argc,
      char *argv[])
{
  const char *args[] = {
    "--height", G_STRINGIFY (H), "--width", G_STRINGIFY (W),
    "--style-height", G_STRINGIFY (SH), "--style-width", G_STRINGIFY (SW),
    "--steps", G_STRINGIFY (STEPS), "--lbfgs-steps", G_STRINGIFY (LBFGS_STEPS),
    "--lbfgs-history", G_STRINGIFY (LBFGS_HISTORY), NULL
  };
  int ret;

  g_test_init (&argc, &argv, NULL);
  oracle_dir = bw_test_run_oracle ("seed_oracle.py", args);
  weights = bw_test_weights_from_dir (oracle_dir);
  {
    const char *caffe_args[G_N_ELEMENTS (args) + 1];

    memcpy (caffe_args, args, sizeof args);
    caffe_args[G_N_ELEMENTS (args) - 1] = "--caffe";
    caffe_args[G_N_ELEMENTS (args)] = NULL;
    caffe_dir = bw_test_run_oracle ("seed_oracle.py", caffe_args);
  }

  g_test_add_func ("/vgg19/features", test_features);
  g_test_add_func ("/vgg19/seed-gradient", test_gradient);
  g_test_add_func ("/vgg19/two-styles-gradient", test_blend_gradient);
  g_test_add_func ("/vgg19/normalised-gram-gradient", test_normalised_gradient);
  g_test_add_func ("/vgg19/relative-gradient", test_relative_gradient);
  g_test_add_func ("/vgg19/relative-scale-free", test_relative_scale_free);
  g_test_add_func ("/vgg19/seed-adam-steps", test_adam_steps);
  g_test_add_func ("/vgg19/seed-lbfgs-steps", test_lbfgs_steps);
  g_test_add_func ("/vgg19/too-large", test_too_large);
  g_test_add_func ("/vgg19/caffe-features", test_caffe_features);
  g_test_add_func ("/vgg19/caffe-gradient", test_caffe_gradient);
  g_test_add_func ("/weights/convention-metadata", test_convention_metadata);
  g_test_add_func ("/losses/total-variation", test_tv);
  ret = g_test_run ();

  g_clear_object (&weights);
  bw_test_shutdown ();
  bw_test_remove_dir (oracle_dir);
  g_free (oracle_dir);
  bw_test_remove_dir (caffe_dir);
  g_free (caffe_dir);
  return ret;
}
