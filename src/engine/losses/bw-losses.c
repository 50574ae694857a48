/* bw-losses.c: content and style losses; see bw-losses.h for the formulas.
 *
 * Gradients: d content / dF = 2 alpha a / N (F - P). For style, with D = dL/dG symmetric,
 * dL/dF = 2 D F = S F where S = 4 beta w d s (s G - A); S has the layout of a 1x1 convolution's
 * weights, so the product is one more conv dispatch (fused with the content gradient when a
 * layer has both).
 */
#include "bw-losses.h"

#include <math.h>
#include <string.h>

#include "ops/bw-ops.h"
#include "bw-i18n.h"

typedef struct {
  double content_weight;          /* a_l */
  double style_weight;            /* w_l */
  BwTensor *content_target;       /* P_l */
  BwBuffer *style_target;         /* A_l, blended */
  BwBuffer *gram;                 /* G_l, then S_l in place */
  BwTensor *grad;                 /* dLoss/dF_l */
  guint content_partial, style_partial;   /* offsets into the partials buffer */
  BwTensor *masked;               /* guided: F_l m, then S F_l (scratch) */
  double content_norm, style_norm; /* BW_GRAM_RELATIVE: ||P_l||^2, ||A_l||^2 */
} Layer;

/* A style of its own term, once any style has a region mask (bw_losses_add_guided_style_target);
 * per layer l: */
typedef struct {
  double blend;
  BwBuffer *target[BW_VGG19_N_CONVS];   /* A_l, from the painting and its own mask */
  BwBuffer *mask[BW_VGG19_N_CONVS];     /* m_l at the photo's feature size, h * w floats */
  double q[BW_VGG19_N_CONVS];           /* (h w) / sum(m_l^2), 0 where the mask covers nothing */
  double norm[BW_VGG19_N_CONVS];        /* BW_GRAM_RELATIVE: ||A_l||^2 */
  guint partial[BW_VGG19_N_CONVS];
} Guided;

struct _BwLosses {
  GObject parent_instance;

  BwVgg19 *vgg;
  BwDevice *device;
  BwGramMode mode;
  int image_height, image_width;   /* for BW_GRAM_MATCHED, known before the styles */
  double alpha, beta;
  Layer layers[BW_VGG19_N_CONVS];
  BwTensor *grads[BW_VGG19_N_CONVS];      /* the view handed to the network */
  double style_blend_total;
  int height, width;                      /* of the content */

  BwBuffer *partials;
  guint n_partials;
  gboolean recorded_content[BW_VGG19_N_CONVS], recorded_style[BW_VGG19_N_CONVS];
  GPtrArray *guided;                      /* Guided, or NULL: one blended target */
};

G_DEFINE_FINAL_TYPE (BwLosses, bw_losses, G_TYPE_OBJECT)

static void
bw_losses_finalize (GObject *object)
{
  BwLosses *self = BW_LOSSES (object);

  for (int i = 0; i < BW_VGG19_N_CONVS; i++)
    {
      Layer *layer = &self->layers[i];
      g_clear_object (&layer->content_target);
      g_clear_object (&layer->grad);
      g_clear_object (&layer->masked);
      bw_device_free_buffer (self->device, layer->style_target);
      bw_device_free_buffer (self->device, layer->gram);
    }
  bw_device_free_buffer (self->device, self->partials);
  for (guint g = 0; self->guided && g < self->guided->len; g++)
    {
      Guided *guided = g_ptr_array_index (self->guided, g);
      for (int i = 0; i < BW_VGG19_N_CONVS; i++)
        {
          bw_device_free_buffer (self->device, guided->target[i]);
          bw_device_free_buffer (self->device, guided->mask[i]);
        }
      g_free (guided);
    }
  g_clear_pointer (&self->guided, g_ptr_array_unref);
  g_clear_object (&self->vgg);
  g_clear_object (&self->device);
  G_OBJECT_CLASS (bw_losses_parent_class)->finalize (object);
}

static void
bw_losses_class_init (BwLossesClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bw_losses_finalize;
}

static void
bw_losses_init (BwLosses *self)
{
  self->alpha = 1.0;
  self->beta = 1.0;
}

BwLosses *
bw_losses_new (BwVgg19    *vgg,
               BwGramMode  mode)
{
  BwLosses *self = g_object_new (BW_TYPE_LOSSES, NULL);

  self->vgg = g_object_ref (vgg);
  self->device = g_object_ref (bw_vgg19_get_device (vgg));
  self->mode = mode;
  return self;
}

void
bw_losses_set_content_layer (BwLosses *self,
                             int       index,
                             double    weight)
{
  g_return_if_fail (index >= 0 && index < BW_VGG19_N_CONVS);
  self->layers[index].content_weight = weight;
}

void
bw_losses_set_style_layer (BwLosses *self,
                           int       index,
                           double    weight)
{
  g_return_if_fail (index >= 0 && index < BW_VGG19_N_CONVS);
  self->layers[index].style_weight = weight;
}

void
bw_losses_set_weights (BwLosses *self,
                       double    content_weight,
                       double    style_weight)
{
  self->alpha = content_weight;
  self->beta = style_weight;
}

int
bw_losses_get_deepest_layer (BwLosses *self)
{
  int deepest = -1;

  for (int i = 0; i < BW_VGG19_N_CONVS; i++)
    if (self->layers[i].content_weight != 0 || self->layers[i].style_weight != 0)
      deepest = i;
  return deepest;
}

static int
deepest_of (BwLosses *self,
            gboolean  style)
{
  int deepest = -1;

  for (int i = 0; i < BW_VGG19_N_CONVS; i++)
    if ((style ? self->layers[i].style_weight : self->layers[i].content_weight) != 0)
      deepest = i;
  return deepest;
}

/* A target's squared norm as BW_GRAM_RELATIVE divides by it: a target of zeros (a black
 * painting's deep layer) leaves its term absolute rather than infinite. */
static double
relative_norm (double norm)
{
  return norm > 0 && isfinite (norm) ? norm : 1.0;
}

/* s_l and d_l of the header's formula for a feature map of @c x @h x @w; @norm is the style
 * target's ||A_l||^2 (for BW_GRAM_RELATIVE, whose d_l = c^2 / ||A_l||^2 turns the mean over
 * the c x c Gram into the sum over it, relative to the target). */
static void
factors_at (BwGramMode  mode,
            int         c,
            int         h,
            int         w,
            double      norm,
            double     *s,
            double     *d)
{
  double chw = (double) c * h * w;

  switch (mode)
    {
    case BW_GRAM_NORMALISED:
      *s = 1.0 / chw;
      *d = 1.0;
      break;
    case BW_GRAM_RELATIVE:
      *s = 1.0 / chw;
      *d = (double) c * c / relative_norm (norm);
      break;
    case BW_GRAM_SEED:
    case BW_GRAM_MATCHED:
    default:
      *s = 1.0;
      *d = 1.0 / chw;
      break;
    }
}

static void
gram_factors (BwLosses *self,
              BwTensor *feature,
              double    norm,
              double   *s,
              double   *d)
{
  factors_at (self->mode, bw_tensor_get_channels (feature), bw_tensor_get_height (feature),
              bw_tensor_get_width (feature), norm, s, d);
}

/* What the content term at a layer of @count values divides its sum of squares by. */
static double
content_divisor (BwLosses *self,
                 Layer    *layer,
                 double    count)
{
  return self->mode == BW_GRAM_RELATIVE ? relative_norm (layer->content_norm) : count;
}

/* ||@buffer||^2 over @n_vec4 vec4s: records a reduce, submits (with whatever was recorded
 * before it) and reads the partial sums back. */
static gboolean
sum_squares (BwDevice  *device,
             BwBuffer  *buffer,
             guint      n_vec4,
             double    *out,
             GError   **error)
{
  guint n = bw_ops_reduce_n_partials (n_vec4);
  g_autofree float *p = g_new (float, n);
  BwBuffer *partials = bw_device_alloc_buffer (device, n * sizeof (float), error);
  gboolean ok;

  if (partials == NULL)
    return FALSE;
  ok = bw_ops_reduce (device, BW_REDUCE_SQDIFF, buffer, NULL, 1.0f, n_vec4, partials, 0, error) &&
       bw_device_submit (device, error) &&
       bw_device_read_buffer (device, partials, 0, p, n * sizeof (float), error);
  bw_device_free_buffer (device, partials);
  *out = 0;
  for (guint i = 0; ok && i < n; i++)
    *out += p[i];
  return ok;
}

/* BW_GRAM_RELATIVE: each style layer's ||A_l||^2, again after each painting is blended in. */
static gboolean
update_style_norms (BwLosses  *self,
                    GError   **error)
{
  if (self->mode != BW_GRAM_RELATIVE)
    return TRUE;
  for (int i = 0; i < BW_VGG19_N_CONVS; i++)
    {
      Layer *layer = &self->layers[i];

      if (layer->style_weight != 0 && layer->style_target != NULL &&
          !sum_squares (self->device, layer->style_target,
                        bw_ops_gram_size (bw_vgg19_convs[i].out_channels) / 16, &layer->style_norm,
                        error))
        return FALSE;
    }
  return TRUE;
}

void
bw_losses_set_content_norm (BwLosses *self,
                            int       index,
                            double    norm)
{
  g_return_if_fail (index >= 0 && index < BW_VGG19_N_CONVS);
  self->layers[index].content_norm = norm;
}

void
bw_losses_set_image_size (BwLosses *self,
                          int       height,
                          int       width)
{
  self->image_height = height;
  self->image_width = width;
}

gboolean
bw_losses_add_style_target (BwLosses  *self,
                            BwTensor  *style,
                            double     blend,
                            GError   **error)
{
  int deepest = deepest_of (self, TRUE);
  double total;

  g_return_val_if_fail (blend > 0, FALSE);
  if (deepest < 0)
    return TRUE;
  if (!bw_vgg19_prepare (self->vgg, bw_tensor_get_height (style), bw_tensor_get_width (style),
                         deepest, FALSE, error) ||
      !bw_vgg19_forward (self->vgg, style, error))
    return FALSE;

  total = self->style_blend_total + blend;
  for (int i = 0; i <= deepest; i++)
    {
      Layer *layer = &self->layers[i];
      BwTensor *f;
      guint64 size;
      guint n_vec4;
      double s, d;

      if (layer->style_weight == 0)
        continue;
      f = bw_vgg19_get_feature (self->vgg, i);
      size = bw_ops_gram_size (bw_tensor_get_channels (f));
      n_vec4 = size / 16;
      gram_factors (self, f, 0, &s, &d);
      if (self->mode == BW_GRAM_MATCHED && self->image_height > 0)
        {
          /* the photo's feature map at this layer: each max-pool halves it, rounding down */
          int side = bw_vgg19_min_side (i);
          s *= (double) (self->image_height / side) * (self->image_width / side) /
               ((double) bw_tensor_get_height (f) * bw_tensor_get_width (f));
        }
      if (layer->style_target == NULL)
        {
          layer->style_target = bw_device_alloc_buffer (self->device, size, error);
          if (layer->style_target == NULL)
            return FALSE;
          bw_device_fill_zero (self->device, layer->style_target);
        }
      if (layer->gram == NULL)
        {
          layer->gram = bw_device_alloc_buffer (self->device, size, error);
          if (layer->gram == NULL)
            return FALSE;
        }
      /* A = A * old_total / total + blend / total * s G */
      if (!bw_ops_gram (f, layer->gram, error) ||
          !bw_ops_eltwise (self->device, layer->style_target, NULL, NULL, NULL,
                           self->style_blend_total / total, 1.0f, layer->style_target, n_vec4, error) ||
          !bw_ops_eltwise (self->device, layer->gram, NULL, layer->style_target, NULL,
                           blend / total, s, layer->style_target, n_vec4, error))
        return FALSE;
    }
  if (!bw_device_submit (self->device, error))
    return FALSE;
  self->style_blend_total = total;
  return update_style_norms (self, error);
}

/* The mask at pooling level @level: @mask (@h x @w; NULL: ones) halved @level times by 2x2
 * average pooling, rounding down as the network's max-pools do. Returns its sum of squares. */
static float *
mask_at_level (const float *mask,
               int          h,
               int          w,
               int          level,
               int         *out_h,
               int         *out_w,
               double      *sum_sq)
{
  gsize n = (gsize) h * w;
  float *cur = mask ? g_memdup2 (mask, n * sizeof (float)) : g_new (float, n);
  double acc = 0;

  if (mask == NULL)
    for (gsize i = 0; i < n; i++)
      cur[i] = 1.0f;
  for (int l = 0; l < level; l++)
    {
      int nh = h / 2, nw = w / 2;
      float *next = g_new (float, MAX ((gsize) nh * nw, 1));

      for (int y = 0; y < nh; y++)
        for (int x = 0; x < nw; x++)
          {
            const float *r0 = cur + (gsize) (2 * y) * w + 2 * x, *r1 = r0 + w;
            next[(gsize) y * nw + x] = 0.25f * (r0[0] + r0[1] + r1[0] + r1[1]);
          }
      g_free (cur);
      cur = next;
      h = nh;
      w = nw;
    }
  for (gsize i = 0; i < (gsize) h * w; i++)
    acc += (double) cur[i] * cur[i];
  *out_h = h;
  *out_w = w;
  *sum_sq = acc;
  return cur;
}

/* The pooling level of conv @i's output (0 before the first max-pool). */
static int
level_of_layer (int i)
{
  return g_bit_storage (bw_vgg19_min_side (i)) - 1;
}

static BwBuffer *
upload_floats (BwDevice     *device,
               const float  *data,
               gsize         n,
               GError      **error)
{
  BwBuffer *buffer = bw_device_alloc_buffer (device, MAX (n, 4) * sizeof (float), error);

  if (buffer && !bw_device_write_buffer (device, buffer, 0, data, n * sizeof (float), error))
    {
      bw_device_free_buffer (device, buffer);
      return NULL;
    }
  return buffer;
}

gboolean
bw_losses_add_guided_style_target (BwLosses     *self,
                                   BwTensor     *style,
                                   const float  *style_mask,
                                   const float  *mask,
                                   double        blend,
                                   GError      **error)
{
  int deepest = deepest_of (self, TRUE);
  int sh = bw_tensor_get_height (style), sw = bw_tensor_get_width (style);
  Guided *guided;

  g_return_val_if_fail (blend > 0, FALSE);
  g_return_val_if_fail (self->style_blend_total == 0, FALSE);   /* not with blended targets */
  g_return_val_if_fail (self->image_height > 0 && self->image_width > 0, FALSE);
  if (deepest < 0)
    return TRUE;
  if (!bw_vgg19_prepare (self->vgg, sh, sw, deepest, FALSE, error) ||
      !bw_vgg19_forward (self->vgg, style, error))
    return FALSE;

  guided = g_new0 (Guided, 1);
  guided->blend = blend;
  if (self->guided == NULL)
    self->guided = g_ptr_array_new ();
  g_ptr_array_add (self->guided, guided);   /* finalize frees what is made below */

  for (int i = 0; i <= deepest; i++)
    {
      Layer *layer = &self->layers[i];
      BwTensor *f;
      g_autoptr(BwTensor) masked = NULL;
      g_autofree float *level_mask = NULL;
      BwBuffer *style_level = NULL;
      int c, mh, mw;
      double s, d, sum_sq;
      gboolean ok;

      if (layer->style_weight == 0)
        continue;
      f = bw_vgg19_get_feature (self->vgg, i);
      c = bw_tensor_get_channels (f);
      gram_factors (self, f, 0, &s, &d);
      if (self->mode == BW_GRAM_MATCHED)
        {
          int side = bw_vgg19_min_side (i);
          s *= (double) (self->image_height / side) * (self->image_width / side) /
               ((double) bw_tensor_get_height (f) * bw_tensor_get_width (f));
        }

      /* A_l = s (h w / sum(m^2)) (F m)(F m)^T from the painting and its own mask */
      level_mask = mask_at_level (style_mask, sh, sw, level_of_layer (i), &mh, &mw, &sum_sq);
      g_assert (mh == bw_tensor_get_height (f) && mw == bw_tensor_get_width (f));
      if (!(sum_sq > 0))
        {
          g_set_error (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_FAILED,
                       _("The mask over a painting leaves none of it to take the style from at "
                         "layer %s. Paint a larger part of the painting white in its mask."),
                       bw_vgg19_layer_name (i));
          return FALSE;
        }
      guided->target[i] = bw_device_alloc_buffer (self->device, bw_ops_gram_size (c), error);
      if (guided->target[i] == NULL ||
          !(style_level = upload_floats (self->device, level_mask, (gsize) mh * mw, error)) ||
          !(masked = bw_tensor_new (self->device, c, mh, mw, error)))
        {
          bw_device_free_buffer (self->device, style_level);
          return FALSE;
        }
      ok = bw_ops_mask_mul (f, style_level, NULL, 1.0f, FALSE, masked, error) &&
           bw_ops_gram (masked, guided->target[i], error) &&
           bw_ops_eltwise (self->device, guided->target[i], NULL, NULL, NULL, 1.0f,
                           s * mh * mw / sum_sq, guided->target[i], bw_ops_gram_size (c) / 16,
                           error) &&
           bw_device_submit (self->device, error) &&
           (self->mode != BW_GRAM_RELATIVE ||
            sum_squares (self->device, guided->target[i], bw_ops_gram_size (c) / 16,
                         &guided->norm[i], error));
      bw_device_free_buffer (self->device, style_level);
      if (!ok)
        return FALSE;

      /* the photo's mask at this layer's size */
      g_clear_pointer (&level_mask, g_free);
      level_mask = mask_at_level (mask, self->image_height, self->image_width,
                                  level_of_layer (i), &mh, &mw, &sum_sq);
      guided->q[i] = sum_sq > 0 ? mh * mw / sum_sq : 0;
      guided->mask[i] = upload_floats (self->device, level_mask, (gsize) mh * mw, error);
      if (guided->mask[i] == NULL)
        return FALSE;
    }
  return TRUE;
}

/* Guided terms at layer @i of the photo's features @f: the scratch map and each term's
 * place among the partial sums. */
static gboolean
guided_layer_prepare (BwLosses  *self,
                      int        i,
                      BwTensor  *f,
                      guint     *n_partials,
                      GError   **error)
{
  int c = bw_tensor_get_channels (f);

  /* the masks were made at the size bw_losses_set_image_size() gave */
  g_return_val_if_fail (bw_tensor_get_height (f) == self->image_height / bw_vgg19_min_side (i) &&
                        bw_tensor_get_width (f) == self->image_width / bw_vgg19_min_side (i), FALSE);
  self->layers[i].masked = bw_tensor_new (self->device, c, bw_tensor_get_height (f),
                                          bw_tensor_get_width (f), error);
  if (self->layers[i].masked == NULL)
    return FALSE;
  for (guint g = 0; g < self->guided->len; g++)
    {
      Guided *guided = g_ptr_array_index (self->guided, g);

      guided->partial[i] = *n_partials;
      *n_partials += bw_ops_reduce_n_partials (bw_ops_gram_size (c) / 16);
    }
  return TRUE;
}

/* Sum of the guided terms' blend weights, which are normalised by it. */
static double
guided_blend_total (BwLosses *self)
{
  double total = 0;

  for (guint g = 0; g < self->guided->len; g++)
    total += ((Guided *) g_ptr_array_index (self->guided, g))->blend;
  return total;
}

/* Records the guided style terms at layer @i: for each style, with G = (F m)(F m)^T and
 * q = h w / sum(m^2), the loss kappa sum((s q G - A)^2) and its gradient
 * m * (S (F m)) = m^2 (S F), S = 4 kappa s q (s q G - A), added to the layer's gradient
 * (which holds the content's when @have_grad). */
static gboolean
record_guided (BwLosses  *self,
               int        i,
               BwTensor  *f,
               gboolean   have_grad,
               GError   **error)
{
  Layer *layer = &self->layers[i];
  int c = bw_tensor_get_channels (f);
  guint n_vec4 = bw_ops_gram_size (c) / 16;
  double s, d, total = guided_blend_total (self);

  for (guint g = 0; g < self->guided->len; g++)
    {
      Guided *guided = g_ptr_array_index (self->guided, g);
      double sq, kappa;

      gram_factors (self, f, guided->norm[i], &s, &d);
      sq = s * guided->q[i];
      kappa = self->beta * layer->style_weight * d * (guided->blend / total) / ((double) c * c);
      if (guided->q[i] == 0)
        continue;   /* the mask covers nothing at this layer */
      if (!bw_ops_mask_mul (f, guided->mask[i], NULL, 1.0f, FALSE, layer->masked, error) ||
          !bw_ops_gram (layer->masked, layer->gram, error) ||
          !bw_ops_reduce (self->device, BW_REDUCE_SQDIFF, layer->gram, guided->target[i], sq,
                          n_vec4, self->partials, guided->partial[i], error) ||
          !bw_ops_eltwise (self->device, layer->gram, guided->target[i], NULL, NULL,
                           4.0 * kappa * sq, sq, layer->gram, n_vec4, error) ||
          !bw_ops_conv (f, layer->gram, 1, NULL, NULL, FALSE, NULL, layer->masked, error) ||
          !bw_ops_mask_mul (layer->masked, guided->mask[i], have_grad ? layer->grad : NULL, 1.0f,
                            TRUE, layer->grad, error))
        return FALSE;
      have_grad = TRUE;
    }
  if (!have_grad)
    bw_device_fill_zero (self->device, bw_tensor_get_buffer (layer->grad));
  return TRUE;
}

gboolean
bw_losses_set_content_target (BwLosses  *self,
                              BwTensor  *content,
                              GError   **error)
{
  int deepest = bw_losses_get_deepest_layer (self);
  int h = bw_tensor_get_height (content), w = bw_tensor_get_width (content);
  guint n_partials = 0;

  g_return_val_if_fail (deepest >= 0, FALSE);

  if (!bw_vgg19_prepare (self->vgg, h, w, deepest, TRUE, error) ||
      !bw_vgg19_forward (self->vgg, content, error))
    return FALSE;

  for (int i = 0; i <= deepest; i++)
    {
      Layer *layer = &self->layers[i];
      BwTensor *f = bw_vgg19_get_feature (self->vgg, i);
      int c = bw_tensor_get_channels (f);

      g_clear_object (&layer->content_target);
      g_clear_object (&layer->grad);
      g_clear_object (&layer->masked);
      if (layer->content_weight == 0 && layer->style_weight == 0)
        continue;
      layer->grad = bw_tensor_new (self->device, c, bw_tensor_get_height (f),
                                   bw_tensor_get_width (f), error);
      if (layer->grad == NULL)
        return FALSE;
      if (layer->content_weight != 0)
        {
          layer->content_target = bw_tensor_new (self->device, c, bw_tensor_get_height (f),
                                                 bw_tensor_get_width (f), error);
          if (layer->content_target == NULL ||
              !bw_ops_eltwise (self->device, bw_tensor_get_buffer (f), NULL, NULL, NULL, 1.0f, 1.0f,
                               bw_tensor_get_buffer (layer->content_target),
                               bw_tensor_get_n_vec4 (f), error))
            return FALSE;
          if (self->mode == BW_GRAM_RELATIVE &&
              !sum_squares (self->device, bw_tensor_get_buffer (f), bw_tensor_get_n_vec4 (f),
                            &layer->content_norm, error))
            return FALSE;
          layer->content_partial = n_partials;
          n_partials += bw_ops_reduce_n_partials (bw_tensor_get_n_vec4 (f));
        }
      if (layer->style_weight != 0)
        {
          if (layer->gram == NULL)
            {
              layer->gram = bw_device_alloc_buffer (self->device, bw_ops_gram_size (c), error);
              if (layer->gram == NULL)
                return FALSE;
            }
          layer->style_partial = n_partials;
          n_partials += bw_ops_reduce_n_partials (bw_ops_gram_size (c) / 16);
          if (self->guided && !guided_layer_prepare (self, i, f, &n_partials, error))
            return FALSE;
        }
    }
  bw_device_free_buffer (self->device, self->partials);
  self->partials = bw_device_alloc_buffer (self->device, MAX (n_partials, 1) * sizeof (float), error);
  if (self->partials == NULL)
    return FALSE;
  self->n_partials = n_partials;
  self->height = h;
  self->width = w;
  return bw_device_submit (self->device, error);
}

gboolean
bw_losses_record (BwLosses  *self,
                  GError   **error)
{
  int deepest = bw_losses_get_deepest_layer (self);

  for (int i = 0; i < BW_VGG19_N_CONVS; i++)
    {
      Layer *layer = &self->layers[i];
      BwTensor *f;
      gboolean content, style;

      self->grads[i] = NULL;
      self->recorded_content[i] = self->recorded_style[i] = FALSE;
      if (i > deepest)
        continue;
      content = layer->content_weight != 0;
      style = layer->style_weight != 0;
      if (!content && !style)
        continue;
      if ((content && layer->content_target == NULL) ||
          (style && layer->style_target == NULL && (self->guided == NULL || layer->masked == NULL)) ||
          layer->grad == NULL)
        {
          g_set_error (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_FAILED,
                       _("Layer %s has a loss weight but no target image. Set the content and "
                         "style images again."), bw_vgg19_layer_name (i));
          return FALSE;
        }
      f = bw_vgg19_get_feature (self->vgg, i);
      if (content)
        {
          double n = content_divisor (self, layer, (double) bw_tensor_get_channels (f) *
                                             bw_tensor_get_height (f) * bw_tensor_get_width (f));
          float k = 2.0 * self->alpha * layer->content_weight / n;

          if (!bw_ops_reduce (self->device, BW_REDUCE_SQDIFF, bw_tensor_get_buffer (f),
                                       bw_tensor_get_buffer (layer->content_target), 1.0f,
                                       bw_tensor_get_n_vec4 (f), self->partials,
                                       layer->content_partial, error) ||
              !bw_ops_eltwise (self->device, bw_tensor_get_buffer (f),
                               bw_tensor_get_buffer (layer->content_target), NULL, NULL, k, 1.0f,
                               bw_tensor_get_buffer (layer->grad), bw_tensor_get_n_vec4 (f), error))
            return FALSE;
          self->recorded_content[i] = TRUE;
        }
      if (style && self->guided)
        {
          if (!record_guided (self, i, f, content, error))
            return FALSE;
          self->recorded_style[i] = TRUE;
        }
      else if (style)
        {
          int c = bw_tensor_get_channels (f);
          guint n_vec4 = bw_ops_gram_size (c) / 16;
          double s, d, kappa;

          gram_factors (self, f, layer->style_norm, &s, &d);
          kappa = self->beta * layer->style_weight * d / ((double) c * c);
          if (!bw_ops_gram (f, layer->gram, error) ||
              !bw_ops_reduce (self->device, BW_REDUCE_SQDIFF, layer->gram, layer->style_target, s, n_vec4,
                                       self->partials, layer->style_partial, error) ||
              !bw_ops_eltwise (self->device, layer->gram, layer->style_target, NULL, NULL,
                               4.0 * kappa * s, s, layer->gram, n_vec4, error) ||
              !bw_ops_conv (f, layer->gram, 1, NULL, content ? layer->grad : NULL, FALSE, NULL,
                            layer->grad, error))
            return FALSE;
          self->recorded_style[i] = TRUE;
        }
      self->grads[i] = layer->grad;
    }
  return TRUE;
}

BwTensor *const *
bw_losses_get_feature_grads (BwLosses *self)
{
  return self->grads;
}

static double
sum_range (const float *p,
           guint        from,
           guint        n)
{
  double acc = 0;

  for (guint i = 0; i < n; i++)
    acc += p[from + i];
  return acc;
}

gboolean
bw_losses_read_values (BwLosses      *self,
                       BwLossValues  *values,
                       GError       **error)
{
  g_autofree float *p = g_new (float, MAX (self->n_partials, 1));

  values->content = values->style = values->total = 0;
  if (self->n_partials &&
      !bw_device_read_buffer (self->device, self->partials, 0, p,
                              self->n_partials * sizeof (float), error))
    return FALSE;
  for (int i = 0; i < BW_VGG19_N_CONVS; i++)
    {
      Layer *layer = &self->layers[i];
      BwTensor *f;
      int c;

      if (!self->recorded_content[i] && !self->recorded_style[i])
        continue;
      f = bw_vgg19_get_feature (self->vgg, i);
      c = bw_tensor_get_channels (f);
      if (self->recorded_content[i])
        {
          guint n = bw_ops_reduce_n_partials (bw_tensor_get_n_vec4 (f));
          double count = (double) c * bw_tensor_get_height (f) * bw_tensor_get_width (f);
          values->content += self->alpha * layer->content_weight *
                             sum_range (p, layer->content_partial, n) /
                             content_divisor (self, layer, count);
        }
      if (self->recorded_style[i] && self->guided)
        {
          guint n = bw_ops_reduce_n_partials (bw_ops_gram_size (c) / 16);
          double s, d, total = guided_blend_total (self);

          for (guint g = 0; g < self->guided->len; g++)
            {
              Guided *guided = g_ptr_array_index (self->guided, g);

              gram_factors (self, f, guided->norm[i], &s, &d);
              if (guided->q[i] != 0)
                values->style += self->beta * layer->style_weight * d * (guided->blend / total) *
                                 sum_range (p, guided->partial[i], n) / ((double) c * c);
            }
        }
      else if (self->recorded_style[i])
        {
          guint n = bw_ops_reduce_n_partials (bw_ops_gram_size (c) / 16);
          double s, d;

          gram_factors (self, f, layer->style_norm, &s, &d);
          values->style += self->beta * layer->style_weight * d *
                           sum_range (p, layer->style_partial, n) / ((double) c * c);
        }
    }
  values->total = values->content + values->style;
  return TRUE;
}

void
bw_losses_get_layer (BwLosses     *self,
                     int           index,
                     int           height,
                     int           width,
                     BwLossLayer  *out)
{
  Layer *layer = &self->layers[index];
  int side = bw_vgg19_min_side (index), c = bw_vgg19_convs[index].out_channels;
  /* the feature map: each max-pool halves the image, rounding down */
  double chw = (double) c * (height / side) * (width / side);
  double d;

  memset (out, 0, sizeof *out);
  if (layer->content_weight != 0)
    {
      out->content = TRUE;
      out->content_k = 2.0 * self->alpha * layer->content_weight / content_divisor (self, layer, chw);
    }
  if (layer->style_weight != 0)
    {
      /* as bw_losses_record() */
      out->style = TRUE;
      out->style_target = layer->style_target;
      factors_at (self->mode, c, height / side, width / side, layer->style_norm, &out->style_s, &d);
      out->style_kappa = self->beta * layer->style_weight * d / ((double) c * c);
    }
}

gboolean
bw_losses_add_style_grams (BwLosses         *self,
                           BwBuffer *const  *grams,
                           int               height,
                           int               width,
                           double            blend,
                           GError          **error)
{
  double total = self->style_blend_total + blend;

  g_return_val_if_fail (blend > 0, FALSE);
  for (int i = 0; i < BW_VGG19_N_CONVS; i++)
    {
      Layer *layer = &self->layers[i];
      int side = bw_vgg19_min_side (i), c = bw_vgg19_convs[i].out_channels;
      int fh = height / side, fw = width / side;
      guint64 size = bw_ops_gram_size (c);
      double s, d;

      if (layer->style_weight == 0)
        continue;
      g_return_val_if_fail (grams[i] != NULL, FALSE);
      /* as bw_losses_add_style_target() */
      factors_at (self->mode, c, fh, fw, 0, &s, &d);
      if (self->mode == BW_GRAM_MATCHED && self->image_height > 0)
        s *= (double) (self->image_height / side) * (self->image_width / side) / ((double) fh * fw);
      if (layer->style_target == NULL)
        {
          layer->style_target = bw_device_alloc_buffer (self->device, size, error);
          if (layer->style_target == NULL)
            return FALSE;
          bw_device_fill_zero (self->device, layer->style_target);
        }
      if (!bw_ops_eltwise (self->device, layer->style_target, NULL, NULL, NULL,
                           self->style_blend_total / total, 1.0f, layer->style_target, size / 16,
                           error) ||
          !bw_ops_eltwise (self->device, grams[i], NULL, layer->style_target, NULL,
                           blend / total, s, layer->style_target, size / 16, error))
        return FALSE;
    }
  self->style_blend_total = total;
  return update_style_norms (self, error);
}
