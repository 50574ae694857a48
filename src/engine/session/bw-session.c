/* bw-session.c: see bw-session.h.
 *
 * One step records forward pass, losses, backward pass, total variation and the optimiser
 * into a single command buffer and submits it once.
 */
#include "bw-session-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "image/bw-color-transfer.h"
#include "image/bw-mask.h"
#include "ops/bw-ops.h"
#include "optim/bw-adam.h"
#include "optim/bw-lbfgs.h"
#include "session/bw-step-plan.h"
#include "session/bw-tiled-step.h"
#include "bw-i18n.h"


enum {
  SIGNAL_STEP,
  SIGNAL_DEVICE_LOST,
  SIGNAL_REPLANNED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (BwSession, bw_session, G_TYPE_OBJECT)

static void
clear_style (gpointer data)
{
  Style *s = data;

  g_clear_object (&s->image);
  g_clear_object (&s->mask);
  g_clear_object (&s->style_mask);
  g_clear_object (&s->recoloured);
}

/* What lives on the device, before the device goes (finalize, or a lost device). */
void
_bw_session_clear_device_state (BwSession *self)
{
  g_clear_object (&self->tiled);
  g_clear_object (&self->losses);
  g_clear_object (&self->x);
  g_clear_object (&self->grad);
  g_clear_object (&self->staging);
  g_clear_object (&self->best);
  g_clear_object (&self->candidate);
  g_clear_object (&self->adam);
  g_clear_object (&self->lbfgs);
  if (self->tv_partials)
    bw_device_free_buffer (self->device, self->tv_partials);
  self->tv_partials = NULL;
}

static void
bw_session_finalize (GObject *object)
{
  BwSession *self = BW_SESSION (object);

  g_array_unref (self->styles);
  _bw_session_clear_device_state (self);
  g_clear_object (&self->content);
  g_clear_object (&self->pass_content);
  g_clear_object (&self->init_image);
  g_clear_object (&self->vgg);
  g_clear_object (&self->device);
  _bw_session_clear_saved (self);
  if (self->reopen_destroy)
    self->reopen_destroy (self->reopen_data);
  G_OBJECT_CLASS (bw_session_parent_class)->finalize (object);
}

static void
bw_session_class_init (BwSessionClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bw_session_finalize;

  /**
   * BwSession::step:
   * @step: the number of steps done
   * @values: (type gpointer): the BwLossValues of that step
   *
   * Emitted by bw_session_run() after each step.
   */
  signals[SIGNAL_STEP] = g_signal_new ("step", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                       0, NULL, NULL, NULL, G_TYPE_NONE, 2,
                                       G_TYPE_INT, G_TYPE_POINTER);
  /**
   * BwSession::device-lost:
   * @losses: the devices lost so far in this session
   *
   * Emitted by bw_session_step() when the device was lost and a new one took over: painting
   * goes on from the last finished step.
   */
  signals[SIGNAL_DEVICE_LOST] = g_signal_new ("device-lost", G_TYPE_FROM_CLASS (klass),
                                              G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                              G_TYPE_NONE, 1, G_TYPE_INT);
  /**
   * BwSession::replanned:
   *
   * Emitted by bw_session_step() when the device ran out of memory and the session planned
   * its step again within less (bw_session_get_plan()): painting goes on from the last
   * finished step.
   */
  signals[SIGNAL_REPLANNED] = g_signal_new ("replanned", G_TYPE_FROM_CLASS (klass),
                                            G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                            G_TYPE_NONE, 0);
}

static void
bw_session_init (BwSession *self)
{
  self->styles = g_array_new (FALSE, TRUE, sizeof (Style));
  g_array_set_clear_func (self->styles, clear_style);
}

gboolean
bw_params_init_preset (BwParams   *params,
                       const char *preset)
{
  static const char *const style_taps[] = { "relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1" };

  *params = (BwParams) {
    .size = 512,
    .content_weight = 1,
    .lbfgs_history = 100,
    .style_scale = 1,
    .scales = 1,
    .init = BW_INIT_CONTENT,
  };
  params->content_layers[bw_vgg19_layer_index ("relu4_2")] = 1;

  if (g_strcmp0 (preset, "seed") == 0)
    {
      /* the seed project's recipe, exactly */
      static const double w[] = { 1, 0.75, 0.2, 0.2, 0.2 };
      for (gsize i = 0; i < G_N_ELEMENTS (style_taps); i++)
        params->style_layers[bw_vgg19_layer_index (style_taps[i])] = w[i];
      params->style_weight = 1e6;
      params->gram_mode = BW_GRAM_SEED;
      params->optimizer = BW_OPTIMIZER_ADAM;
      params->lr = 0.003;
      params->steps = 2000;
      return TRUE;
    }
  if (g_strcmp0 (preset, "default") == 0)
    {
      /* Optimised with L-BFGS as Gatys et al. and jcjohnson/neural-style do: on the seed's
       * problem it reaches in 8 evaluations a loss Adam at lr 0.003 needs hundreds of steps
       * for (tests/test-vgg19-torch.c prints both). A history of 10 pairs keeps its memory
       * at 20 image-sized vectors. The weights were chosen by eye and by style distance on
       * the original VGG19's trained weights (docs/real-paintings.md): style weight 10 with
       * the seed's layer weights paints; 3 keeps more of the photo and 30 or more loses it. */
      static const double w[] = { 1, 0.75, 0.2, 0.2, 0.2 };
      for (gsize i = 0; i < G_N_ELEMENTS (style_taps); i++)
        params->style_layers[bw_vgg19_layer_index (style_taps[i])] = w[i];
      params->style_weight = 10;
      /* each term relative to its target (bw-losses.h): the weights mean the same whatever
       * the network's feature scale (Caffe's 0-255 input or torchvision's normalised one)
       * and whatever the painting's size */
      params->gram_mode = BW_GRAM_RELATIVE;
      params->optimizer = BW_OPTIMIZER_LBFGS;
      params->lr = 1;
      params->lbfgs_history = 10;
      /* 300 evaluations reached the same style distance and SSIM as 200 on the pairs tried */
      params->steps = 200;
      /* coarse to fine from ~128 px (bw_session_get_passes()): the first frames come in
       * well under a second, and the big strokes settle where a step is cheap */
      params->scales = 0;
      return TRUE;
    }
  return FALSE;
}

BwSession *
bw_session_new (BwVgg19        *vgg,
                const BwParams *params)
{
  BwSession *self = g_object_new (BW_TYPE_SESSION, NULL);

  self->vgg = g_object_ref (vgg);
  self->device = g_object_ref (bw_vgg19_get_device (vgg));
  self->params = *params;
  return self;
}

void
bw_session_set_content (BwSession *self,
                        BwImage   *content)
{
  g_set_object (&self->content, content);
  self->started = FALSE;
}

void
bw_session_add_style (BwSession *self,
                      BwImage   *style,
                      double     blend)
{
  Style s = { g_object_ref (style), blend, NULL, NULL, NULL };

  g_array_append_val (self->styles, s);
  self->started = FALSE;
}

void
bw_session_set_style_masks (BwSession *self,
                            guint      index,
                            BwImage   *mask,
                            BwImage   *style_mask)
{
  Style *s;

  g_return_if_fail (index < self->styles->len);
  s = &g_array_index (self->styles, Style, index);
  g_set_object (&s->mask, mask);
  g_set_object (&s->style_mask, style_mask);
  self->started = FALSE;
}

void
bw_session_set_init_image (BwSession *self,
                           BwImage   *image)
{
  g_set_object (&self->init_image, image);
}

static BwTensor *
upload_normalised (BwSession  *self,
                   BwImage    *image,
                   GError    **error)
{
  int w = bw_image_get_width (image), h = bw_image_get_height (image);
  g_autoptr(BwTensor) raw = bw_tensor_new (self->device, 3, h, w, error);
  g_autoptr(BwTensor) out = NULL;

  if (raw == NULL || !bw_tensor_upload (raw, bw_image_get_data (image), error))
    return NULL;
  out = bw_tensor_new (self->device, 3, h, w, error);
  if (out == NULL || !bw_vgg19_normalize (self->vgg, raw, out, FALSE, error) ||
      !bw_device_submit (self->device, error))
    return NULL;
  return g_steal_pointer (&out);
}

/* The size scaled_style() gives @style in a pass @shift halvings below the output. */
static void
style_size_at (BwSession *self,
               BwImage   *style,
               int        shift,
               int       *w,
               int       *h)
{
  int cw = (int) lround (bw_image_get_width (self->content) / (double) (1 << shift));
  int ch = (int) lround (bw_image_get_height (self->content) / (double) (1 << shift));
  int sw = bw_image_get_width (style), sh = bw_image_get_height (style);
  double f = MAX (cw, ch) * self->params.style_scale / MAX (sw, sh);

  *w = MAX (1, (int) lround (sw * f));
  *h = MAX (1, (int) lround (sh * f));
}

/* The style image at the pass's scale: its longer side is the pass's size * style_scale. */
static BwImage *
scaled_style (BwSession *self,
              BwImage   *style)
{
  int w, h;

  style_size_at (self, style, self->passes - 1 - self->pass, &w, &h);
  return bw_image_scale (style, w, h);
}

static gboolean
any_mask (BwSession *self)
{
  for (guint i = 0; i < self->styles->len; i++)
    {
      Style *s = &g_array_index (self->styles, Style, i);
      if (s->mask || s->style_mask)
        return TRUE;
    }
  return FALSE;
}

/* Style @s's target with its masks, at the pass's sizes: the photo's mask at @w x @h. */
static gboolean
add_guided_style (BwSession  *self,
                  Style      *s,
                  BwTensor   *painting,
                  int         w,
                  int         h,
                  GError    **error)
{
  g_autofree float *mask = s->mask ? bw_mask_to_plane (s->mask, w, h) : NULL;
  g_autofree float *style_mask = s->style_mask ?
    bw_mask_to_plane (s->style_mask, bw_tensor_get_width (painting), bw_tensor_get_height (painting)) : NULL;

  return bw_losses_add_guided_style_target (self->losses, painting, style_mask, mask, s->blend, error);
}

/* The shortest side of any painting in a pass @shift halvings below the output; @narrowest,
 * if given, gets the painting with it. */
static int
narrowest_style (BwSession  *self,
                 int         shift,
                 Style     **narrowest)
{
  int least = G_MAXINT;

  for (guint i = 0; i < self->styles->len; i++)
    {
      Style *s = &g_array_index (self->styles, Style, i);
      int w, h;

      style_size_at (self, s->image, shift, &w, &h);
      if (MIN (w, h) < least)
        {
          least = MIN (w, h);
          if (narrowest)
            *narrowest = s;
        }
    }
  return least;
}

static BwImage *
noise_image (BwSession *self)
{
  int w = bw_image_get_width (self->pass_content), h = bw_image_get_height (self->pass_content);
  g_autoptr(GRand) rand = g_rand_new_with_seed ((guint32) (self->params.seed ^ (self->params.seed >> 32)));
  gsize n = (gsize) 3 * w * h;
  float *data = g_new (float, n);

  for (gsize i = 0; i < n; i++)
    data[i] = (float) g_rand_double (rand);
  return bw_image_new_take (w, h, data);
}

/* The passes for a size: one below 256 px, then one more per doubling from 128 px, so the
 * first pass runs at 128-255 px (at most BW_SESSION_MAX_PASSES). */
static int
auto_passes (int size)
{
  int passes = 1;

  while (passes < BW_SESSION_MAX_PASSES && (size >> passes) >= 128)
    passes++;
  return passes;
}

/* The last step (exclusive) of pass @pass: the steps are shared evenly, the rest to the last. */
static int
pass_end (BwSession *self,
          int        pass)
{
  return pass == self->passes - 1 ? self->params.steps : (pass + 1) * (self->params.steps / self->passes);
}

static int
pass_of_step (BwSession *self,
              int        step)
{
  int pass = 0;

  while (pass < self->passes - 1 && step >= pass_end (self, pass))
    pass++;
  return pass;
}

/* Pixels of the image in pass @pass: a step's cost, near enough (each pass has 4x the last). */
static double
pass_pixels (BwSession *self,
             int        pass)
{
  int shift = self->passes - 1 - pass;

  return (double) bw_image_get_width (self->content) * bw_image_get_height (self->content) /
         (1 << (2 * shift));
}

/* The memory budget: params.max_memory, else BRUSHWORK_MAX_MEMORY, else from the device;
 * after the device ran out of memory in this run, no more than what was left then. */
static gboolean
get_budget (BwSession  *self,
            guint64    *budget,
            GError    **error)
{
  if (self->params.max_memory > 0)
    *budget = self->params.max_memory;
  else if (!bw_step_plan_get_budget (self->device, budget, error))
    return FALSE;
  if (self->memory_cap > 0)
    *budget = MIN (*budget, self->memory_cap);
  return TRUE;
}

/* The plan for a step at @height x @width with the paintings as a pass @shift halvings below
 * the output takes them. */
static gboolean
plan_at (BwSession   *self,
         int          shift,
         int          height,
         int          width,
         BwStepPlan  *plan,
         GError     **error)
{
  int sh = 0, sw = 0;
  guint64 budget;

  for (guint i = 0; i < self->styles->len; i++)
    {
      Style *s = &g_array_index (self->styles, Style, i);
      int w, h;

      style_size_at (self, s->image, shift, &w, &h);
      sh = MAX (sh, h);
      sw = MAX (sw, w);
    }
  return get_budget (self, &budget, error) &&
         bw_step_plan_make (self->vgg, &self->params, height, width, sh, sw, budget, plan, error);
}

/* The paintings' targets and the photo's, whole or in the plan's tiles. */
static gboolean
set_targets (BwSession  *self,
             int         height,
             int         width,
             GError    **error)
{
  g_autoptr(BwTensor) content = NULL;
  gboolean guided = any_mask (self);

  g_clear_object (&self->tiled);
  /* fits_at() plans regions whole: their masks are not cropped per tile yet */
  g_return_val_if_fail (!guided || self->plan.tile_height == 0, FALSE);
  /* styles first: each runs the network at its own size */
  for (guint i = 0; i < self->styles->len; i++)
    {
      Style *s = &g_array_index (self->styles, Style, i);
      g_autoptr(BwImage) scaled = scaled_style (self, s->recoloured ? s->recoloured : s->image);
      g_autoptr(BwTensor) t = upload_normalised (self, scaled, error);

      if (t == NULL ||
          !(guided ? add_guided_style (self, s, t, width, height, error)
            : self->plan.tile_height > 0
              ? bw_tiled_step_add_style (self->vgg, self->losses, t, s->blend,
                                         self->plan.tile_height, self->plan.tile_width, error)
              : bw_losses_add_style_target (self->losses, t, s->blend, error)))
        return FALSE;
    }
  content = upload_normalised (self, self->pass_content, error);
  if (content == NULL)
    return FALSE;
  if (self->plan.tile_height == 0)
    return bw_losses_set_content_target (self->losses, content, error);
  self->tiled = bw_tiled_step_new (self->vgg, self->losses, height, width,
                                   self->plan.tile_height, self->plan.tile_width,
                                   self->plan.kept_tiles, error);
  return self->tiled != NULL && bw_tiled_step_set_content (self->tiled, content, error);
}

/* The image's size in pass @pass. */
static void
pass_size (BwSession *self,
           int        pass,
           int       *w,
           int       *h)
{
  int shift = self->passes - 1 - pass;

  *w = MAX (1, (int) lround (bw_image_get_width (self->content) / (double) (1 << shift)));
  *h = MAX (1, (int) lround (bw_image_get_height (self->content) / (double) (1 << shift)));
}

/* Whether pass @pass has a plan within the budget; @error from the planner when not. */
gboolean
_bw_session_pass_fits (BwSession  *self,
                       int         pass,
                       GError    **error)
{
  BwStepPlan plan;
  int w, h;

  pass_size (self, pass, &w, &h);
  return plan_at (self, self->passes - 1 - pass, h, w, &plan, error);
}

/* The total variation of @image as tv.comp counts it on the normalised image. */
static double
image_tv (BwImage *image)
{
  int w = bw_image_get_width (image), h = bw_image_get_height (image);
  const float *data = bw_image_get_data (image);
  double tv = 0;

  /* of differences: the mean drops out */
  for (int c = 0; c < 3; c++)
    {
      const float *plane = data + (gsize) c * w * h;
      double k = 1.0 / bw_vgg19_std[c];

      for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
          {
            double v = plane[(gsize) y * w + x];

            if (x + 1 < w)
              tv += pow ((plane[(gsize) y * w + x + 1] - v) * k, 2);
            if (y + 1 < h)
              tv += pow ((plane[(gsize) (y + 1) * w + x] - v) * k, 2);
          }
    }
  return tv;
}

/* Sets up pass @pass: the content at its size, the targets, the optimiser, and the image to
 * start from (@from, scaled, when the previous pass left one; else params.init). */
gboolean
_bw_session_start_pass (BwSession  *self,
                        int         pass,
                        BwImage    *from,
                        GError    **error)
{
  g_autoptr(BwImage) init = NULL;
  int shift = self->passes - 1 - pass;
  int w, h;

  pass_size (self, pass, &w, &h);

  g_clear_object (&self->pass_content);
  self->pass_content = bw_image_scale (self->content, w, h);
  self->pass = pass;
  /* relative losses: the total variation relative to the photo's too, so that a weight of 1
   * asks for as much smoothness as the photo has, at any size */
  self->tv_scale = 1;
  if (self->params.gram_mode == BW_GRAM_RELATIVE)
    self->tv_scale = 1 / MAX (image_tv (self->pass_content), 1e-12);

  g_clear_object (&self->tiled);
  g_clear_object (&self->losses);
  self->losses = bw_losses_new (self->vgg, self->params.gram_mode);
  bw_losses_set_image_size (self->losses, h, w);
  for (int i = 0; i < BW_VGG19_N_CONVS; i++)
    {
      bw_losses_set_content_layer (self->losses, i, self->params.content_layers[i]);
      bw_losses_set_style_layer (self->losses, i, self->params.style_layers[i]);
    }
  bw_losses_set_weights (self->losses, self->params.content_weight, self->params.style_weight);

  if (!plan_at (self, shift, h, w, &self->plan, error) || !set_targets (self, h, w, error))
    return FALSE;

  if (from != NULL)
    init = bw_image_scale (from, w, h);
  else
    switch (self->params.init)
      {
      case BW_INIT_NOISE:
        init = noise_image (self);
        break;
      case BW_INIT_IMAGE:
        g_return_val_if_fail (self->init_image != NULL, FALSE);
        init = bw_image_scale (self->init_image, w, h);
        break;
      case BW_INIT_CONTENT:
      default:
        init = g_object_ref (self->pass_content);
        break;
      }
  g_clear_object (&self->x);
  self->x = upload_normalised (self, init, error);
  if (self->x == NULL)
    return FALSE;
  g_clear_object (&self->grad);
  g_clear_object (&self->staging);
  g_clear_object (&self->best);
  g_clear_object (&self->candidate);
  self->have_best = FALSE;
  self->grad = bw_tensor_new (self->device, 3, h, w, error);
  self->staging = self->grad ? bw_tensor_new (self->device, 3, h, w, error) : NULL;
  self->best = self->staging ? bw_tensor_new (self->device, 3, h, w, error) : NULL;
  if (self->best == NULL)
    return FALSE;
  if (self->params.optimizer == BW_OPTIMIZER_ADAM &&
      !(self->candidate = bw_tensor_new (self->device, 3, h, w, error)))
    return FALSE;

  if (self->tv_partials)
    bw_device_free_buffer (self->device, self->tv_partials);
  self->n_tv_partials = bw_ops_tv_n_partials (self->x);
  self->tv_partials = bw_device_alloc_buffer (self->device, self->n_tv_partials * sizeof (float), error);
  if (self->tv_partials == NULL)
    return FALSE;

  g_clear_object (&self->adam);
  g_clear_object (&self->lbfgs);
  if (self->params.optimizer == BW_OPTIMIZER_LBFGS)
    self->lbfgs = bw_lbfgs_new (self->x, self->params.lr, MAX (1, self->plan.lbfgs_history), error);
  else
    self->adam = bw_adam_new (self->x, self->params.lr, error);
  if (self->adam == NULL && self->lbfgs == NULL)
    return FALSE;
  self->converged = FALSE;
  return TRUE;
}

/* Whether the photo at @longest px (and each painting at its scale) fits on the device: the
 * network's smallest input, and a plan within the memory budget (bw-step-plan.h). */
static gboolean
fits_at (BwSession  *self,
         int         deepest,
         int         longest,
         GError    **error)
{
  int cw = bw_image_get_width (self->content), ch = bw_image_get_height (self->content);
  double f = (double) longest / MAX (cw, ch);
  int h = MAX (1, (int) lround (ch * f)), w = MAX (1, (int) lround (cw * f)), sh = 0, sw = 0;
  int min_side = bw_vgg19_min_side (deepest);
  BwStepPlan plan;
  guint64 budget;

  if (h < min_side || w < min_side)
    return bw_vgg19_fits (self->vgg, h, w, deepest, TRUE, error);
  for (guint i = 0; i < self->styles->len; i++)
    {
      Style *s = &g_array_index (self->styles, Style, i);
      int iw = bw_image_get_width (s->image), ih = bw_image_get_height (s->image);
      double g = longest * self->params.style_scale / MAX (iw, ih);

      sh = MAX (sh, MAX (1, (int) lround (ih * g)));
      sw = MAX (sw, MAX (1, (int) lround (iw * g)));
    }
  if (!get_budget (self, &budget, error) ||
      !bw_step_plan_make (self->vgg, &self->params, h, w, sh, sw, budget, &plan, error))
    return FALSE;
  if (any_mask (self) && plan.tile_height > 0)
    {
      g_set_error (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_OUT_OF_MEMORY,
                   _("Painting in regions at %d×%d pixels needs the whole picture in memory at "
                     "once, more than the memory budget allows."), w, h);
      return FALSE;
    }
  return TRUE;
}

/* Before any painting: a size the device cannot hold fails now, saying the largest size that
 * would fit, rather than in the last coarse-to-fine pass minutes later, in the numbers of
 * a feature map. */
static gboolean
check_fits (BwSession  *self,
            int         deepest,
            GError    **error)
{
  g_autoptr(GError) local_error = NULL;
  int size = MAX (bw_image_get_width (self->content), bw_image_get_height (self->content));
  int largest = 0;

  if (fits_at (self, deepest, size, &local_error))
    return TRUE;
  if (!g_error_matches (local_error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_OUT_OF_MEMORY))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  for (int s = (size - 1) / 16 * 16; s >= 16 && largest == 0; s -= 16)
    if (fits_at (self, deepest, s, NULL))
      largest = s;
  self->largest_size = largest;
  if (largest > 0)
    g_set_error (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_OUT_OF_MEMORY,
                 _("%s The largest size it can paint is %d pixels."), local_error->message,
                 largest);
  else
    g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

gboolean
bw_session_start (BwSession  *self,
                  GError    **error)
{
  int size, min_side, deepest = -1;
  Style *narrow = NULL;

  g_return_val_if_fail (self->content != NULL, FALSE);
  self->largest_size = 0;
  if (self->styles->len == 0)
    {
      g_set_error (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_FAILED,
                   _("No style image was given. Add at least one painting to take the style from."));
      return FALSE;
    }
  for (int i = 0; i < BW_VGG19_N_CONVS; i++)
    if (self->params.content_layers[i] != 0 || self->params.style_layers[i] != 0)
      deepest = i;
  if (deepest < 0)
    {
      g_set_error (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_FAILED,
                   _("No content or style layer has a weight. Give at least one layer a weight."));
      return FALSE;
    }
  min_side = bw_vgg19_min_side (deepest);

  /* no pass below the network's smallest input, for the photo or any painting, and at least
   * one step per pass */
  size = MAX (bw_image_get_width (self->content), bw_image_get_height (self->content));
  self->passes = self->params.scales > 0 ? self->params.scales : auto_passes (size);
  self->passes = CLAMP (self->passes, 1, MAX (1, self->params.steps));
  while (self->passes > 1 &&
         (MIN (bw_image_get_width (self->content), bw_image_get_height (self->content)) >>
          (self->passes - 1) < min_side ||
          narrowest_style (self, self->passes - 1, NULL) < min_side))
    self->passes--;
  if (narrowest_style (self, 0, &narrow) < min_side)
    {
      int sw = bw_image_get_width (narrow->image), sh = bw_image_get_height (narrow->image);
      int w, h;

      style_size_at (self, narrow->image, 0, &w, &h);
      g_set_error (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_UNSUPPORTED,
                   _("A painting of %d×%d pixels becomes %d×%d at this size, too narrow for "
                     "the network, which needs at least %d pixels on each side. Choose a larger "
                     "size or style scale, or crop the painting to a less narrow shape."),
                   sw, sh, w, h, min_side);
      return FALSE;
    }

  /* every pass must fit, not only the first: the last is the largest */
  if (!check_fits (self, deepest, error))
    return FALSE;

  /* the paintings' colours, once for all passes */
  for (guint i = 0; i < self->styles->len; i++)
    {
      Style *s = &g_array_index (self->styles, Style, i);

      g_clear_object (&s->recoloured);
      if (self->params.transfer_histogram)
        s->recoloured = bw_color_transfer_histogram (s->image, self->content);
    }

  self->started = FALSE;
  self->step = 0;
  self->seconds_spent = self->pixel_steps_done = 0;
  self->device_losses = 0;
  self->memory_cap = 0;
  self->replans = 0;
  _bw_session_clear_saved (self);
  bw_device_set_step (self->device, 0);
  if (!_bw_session_start_pass (self, 0, NULL, error) || !_bw_session_save_step (self, error))
    {
      bw_device_discard (self->device);
      return FALSE;
    }
  self->started = TRUE;
  return TRUE;
}

const BwStepPlan *
bw_session_get_plan (BwSession *self)
{
  return &self->plan;
}

int
bw_session_get_largest_size (BwSession *self)
{
  return self->largest_size;
}

int
bw_session_get_passes (BwSession *self)
{
  return self->passes;
}

/* The current image in [0, 1], as optimised (no colours restored). */
static BwImage *
download_image (BwSession  *self,
                GError    **error)
{
  int w, h;
  /* L-BFGS: the best image evaluated, not the last step's, which no one has evaluated */
  BwTensor *image = self->lbfgs && self->have_best ? self->best : self->x;
  float *data;

  /* a device lost for good (or one that failed to take over) */
  if ((self->x == NULL || bw_device_is_lost (self->device)) && self->saved.x != NULL)
    return _bw_session_saved_image (self);
  w = bw_tensor_get_width (self->x);
  h = bw_tensor_get_height (self->x);
  if (!bw_vgg19_normalize (self->vgg, image, self->staging, TRUE, error))
    return NULL;
  data = bw_tensor_download (self->staging, error);
  if (data == NULL)
    return NULL;
  for (gsize i = 0; i < (gsize) 3 * w * h; i++)
    data[i] = isnan (data[i]) ? 0.0f : CLAMP (data[i], 0.0f, 1.0f);
  return bw_image_new_take (w, h, data);
}

static gboolean
copy_tensor (BwSession  *self,
             BwTensor   *from,
             BwTensor   *to,
             GError    **error)
{
  return bw_ops_eltwise (self->device, bw_tensor_get_buffer (from), NULL, NULL, NULL, 1.0f, 1.0f,
                         bw_tensor_get_buffer (to), bw_tensor_get_n_vec4 (from), error);
}

/* A loss that is not a finite number (a learning rate or weight far too large) ends the run
 * with the image of the last step that had one: a NaN image would be saved as black. */
static gboolean
check_finite (BwSession     *self,
              BwLossValues  *values,
              GError       **error)
{
  if (isfinite (values->total))
    return TRUE;
  if (self->have_best)
    {
      /* restored now (a failed step's recording is discarded), so that whatever reads the
       * image next reads a good one */
      if (!copy_tensor (self, self->best, self->x, NULL) || !bw_device_submit (self->device, NULL))
        bw_device_discard (self->device);
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               _("The painting's numbers overflowed at step %d: the learning rate or a weight "
                 "is too large for this picture. The image of the last good step is kept; "
                 "lower the learning rate or the weights and paint again."), self->step + 1);
  return FALSE;
}

/* Records forward, losses, backward and total variation: leaves dLoss/dx in self->grad. */
static gboolean
record_gradient (BwSession  *self,
                 GError    **error)
{
  if (self->tiled)
    {
      if (!bw_tiled_step_record (self->tiled, self->x, self->grad, error))
        return FALSE;
    }
  else if (!bw_vgg19_forward (self->vgg, self->x, error) ||
           !bw_losses_record (self->losses, error) ||
           !bw_vgg19_backward (self->vgg, bw_losses_get_feature_grads (self->losses), self->grad,
                               error))
    return FALSE;
  if (self->params.tv_weight != 0 &&
      !bw_ops_tv (self->x, self->grad, self->params.tv_weight * self->tv_scale,
                  self->tv_partials, 0, error))
    return FALSE;
  return TRUE;
}

static gboolean
read_values (BwSession     *self,
             BwLossValues  *values,
             GError       **error)
{
  if (self->tiled ? !bw_tiled_step_read_values (self->tiled, values, error)
                  : !bw_losses_read_values (self->losses, values, error))
    return FALSE;
  if (self->params.tv_weight != 0)
    {
      g_autofree float *p = g_new (float, self->n_tv_partials);
      double tv = 0;

      if (!bw_device_read_buffer (self->device, self->tv_partials, 0, p,
                                  self->n_tv_partials * sizeof (float), error))
        return FALSE;
      for (guint i = 0; i < self->n_tv_partials; i++)
        tv += p[i];
      values->total += self->params.tv_weight * self->tv_scale * tv;
    }
  return TRUE;
}

static gboolean
step_once (BwSession     *self,
           BwLossValues  *values,
           GError       **error)
{
  BwLossValues local;
  gint64 started;

  if (values == NULL)
    values = &local;
  started = g_get_monotonic_time ();

  if (self->pass < self->passes - 1 && (self->step >= pass_end (self, self->pass) || self->converged))
    {
      g_autoptr(BwImage) last = download_image (self, error);

      if (last == NULL || !_bw_session_start_pass (self, self->pass + 1, last, error))
        return FALSE;
    }

  if (self->adam)
    {
      /* Adam needs no loss value: the whole step is one submission, and the image it
       * evaluated is kept first, for a step whose numbers turn out not finite */
      BwTensor *evaluated = self->candidate;

      if (!copy_tensor (self, self->x, self->candidate, error) ||
          !record_gradient (self, error) ||
          !bw_adam_step (self->adam, self->grad, error) ||
          !bw_device_submit (self->device, error) ||
          !read_values (self, values, error) ||
          !check_finite (self, values, error))
        return FALSE;
      /* the image this step evaluated had finite numbers: it is the last good one */
      self->candidate = self->best;
      self->best = evaluated;
      self->have_best = TRUE;
    }
  else
    {
      if (!record_gradient (self, error) ||
          !bw_device_submit (self->device, error) ||
          !read_values (self, values, error) ||
          !check_finite (self, values, error))
        return FALSE;
      if (!self->have_best || values->total < self->best_loss)
        {
          if (!copy_tensor (self, self->x, self->best, error))
            return FALSE;
          self->best_loss = values->total;
          self->have_best = TRUE;
        }
      if (!bw_lbfgs_step (self->lbfgs, self->grad, values->total, &self->converged, error))
        return FALSE;
    }
  self->step++;
  self->seconds_spent += (g_get_monotonic_time () - started) / 1e6;
  self->pixel_steps_done += pass_pixels (self, self->pass);
  return TRUE;
}

static gboolean
try_step (BwSession     *self,
          BwLossValues  *values,
          GError       **error)
{
  bw_device_set_step (self->device, self->step + 1);
  if (step_once (self, values, error) && _bw_session_save_step (self, error))
    return TRUE;
  /* what the failed step recorded must not run with the next one */
  bw_device_discard (self->device);
  return FALSE;
}

gboolean
bw_session_step (BwSession     *self,
                 BwLossValues  *values,
                 GError       **error)
{
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (self->started, FALSE);
  /* after a device that failed to take over */
  g_return_val_if_fail (self->x != NULL, FALSE);

  while (!try_step (self, values, &local_error))
    {
      if (g_error_matches (local_error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_OUT_OF_MEMORY))
        {
          if (!_bw_session_go_on_after_oom (self, &local_error))
            break;
          g_signal_emit (self, signals[SIGNAL_REPLANNED], 0);
          continue;
        }
      if (!_bw_session_go_on_after_loss (self, &local_error))
        break;
      g_signal_emit (self, signals[SIGNAL_DEVICE_LOST], 0, self->device_losses);
    }
  if (local_error)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  return TRUE;
}

int
bw_session_set_steps (BwSession *self,
                      int        steps)
{
  /* the passes still to come need a step each (each step enters at most one new pass), so
   * that a run always ends at the output size */
  if (self->started)
    steps = MAX (steps, self->step + (self->passes - 1 - self->pass));
  self->params.steps = MAX (steps, 1);
  return self->params.steps;
}

double
bw_session_get_seconds_left (BwSession *self)
{
  double left_work = 0;

  g_return_val_if_fail (self->started, -1);
  if (self->step == 0)
    return -1;
  for (int step = self->step; step < self->params.steps; step++)
    left_work += pass_pixels (self, pass_of_step (self, step));
  return left_work * self->seconds_spent / self->pixel_steps_done;
}

gboolean
bw_session_run (BwSession     *self,
                GCancellable  *cancellable,
                GError       **error)
{
  while (self->step < self->params.steps && !bw_session_is_converged (self))
    {
      BwLossValues values;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      if (!bw_session_step (self, &values, error))
        return FALSE;
      g_signal_emit (self, signals[SIGNAL_STEP], 0, self->step, &values);
    }
  return TRUE;
}

gboolean
bw_session_is_converged (BwSession *self)
{
  return self->converged && self->pass == self->passes - 1;
}

int
bw_session_get_step (BwSession *self)
{
  return self->step;
}

void
bw_session_set_weights (BwSession *self,
                        double     content_weight,
                        double     style_weight,
                        double     tv_weight)
{
  self->params.content_weight = content_weight;
  self->params.style_weight = style_weight;
  self->params.tv_weight = tv_weight;
  if (self->losses)
    bw_losses_set_weights (self->losses, content_weight, style_weight);
}

void
bw_session_set_lr (BwSession *self,
                   double     lr)
{
  self->params.lr = lr;
  if (self->adam)
    bw_adam_set_lr (self->adam, lr);
  if (self->lbfgs)
    bw_lbfgs_set_lr (self->lbfgs, lr);
}

BwImage *
bw_session_get_output_image (BwSession  *self,
                             GError    **error)
{
  g_autoptr(BwImage) image = bw_session_get_image (self, error);
  int w = bw_image_get_width (self->content), h = bw_image_get_height (self->content);

  if (image == NULL || (bw_image_get_width (image) == w && bw_image_get_height (image) == h))
    return g_steal_pointer (&image);
  return bw_image_scale (image, w, h);
}

BwImage *
bw_session_get_image (BwSession  *self,
                      GError    **error)
{
  g_autoptr(BwImage) image = NULL;

  g_return_val_if_fail (self->started, NULL);
  image = download_image (self, error);
  if (image != NULL && self->params.preserve_colors)
    {
      BwImage *recoloured = bw_image_transfer_luminance (image, self->pass_content);

      g_set_object (&image, recoloured);
      g_object_unref (recoloured);
    }
  return g_steal_pointer (&image);
}
