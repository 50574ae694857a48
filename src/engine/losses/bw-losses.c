/* bw-losses.c: content and style losses; see bw-losses.h for the formulas.
 *
 * Gradients: d content / dF = 2 alpha a / N (F - P). For style, with D = dL/dG symmetric,
 * dL/dF = 2 D F = S F where S = 4 beta w d s (s G - A); S has the layout of a 1x1 convolution's
 * weights, so the product is one more conv dispatch (fused with the content gradient when a
 * layer has both).
 */
#include "bw-losses.h"

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
} Layer;

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
      bw_device_free_buffer (self->device, layer->style_target);
      bw_device_free_buffer (self->device, layer->gram);
    }
  bw_device_free_buffer (self->device, self->partials);
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

/* s_l and d_l of the header's formula for a feature map of c x h x w. */
static void
gram_factors (BwLosses *self,
              BwTensor *feature,
              double   *s,
              double   *d)
{
  double chw = (double) bw_tensor_get_channels (feature) * bw_tensor_get_height (feature) *
               bw_tensor_get_width (feature);

  *s = self->mode == BW_GRAM_NORMALISED ? 1.0 / chw : 1.0;
  *d = self->mode == BW_GRAM_NORMALISED ? 1.0 : 1.0 / chw;
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
      gram_factors (self, f, &s, &d);
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
      if ((content && layer->content_target == NULL) || (style && layer->style_target == NULL) ||
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
          double n = (double) bw_tensor_get_channels (f) * bw_tensor_get_height (f) *
                     bw_tensor_get_width (f);
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
      if (style)
        {
          int c = bw_tensor_get_channels (f);
          guint n_vec4 = bw_ops_gram_size (c) / 16;
          double s, d, kappa;

          gram_factors (self, f, &s, &d);
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
                             sum_range (p, layer->content_partial, n) / count;
        }
      if (self->recorded_style[i])
        {
          guint n = bw_ops_reduce_n_partials (bw_ops_gram_size (c) / 16);
          double s, d;

          gram_factors (self, f, &s, &d);
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
      out->content_k = 2.0 * self->alpha * layer->content_weight / chw;
    }
  if (layer->style_weight != 0)
    {
      /* as gram_factors() and bw_losses_record() */
      out->style = TRUE;
      out->style_target = layer->style_target;
      out->style_s = self->mode == BW_GRAM_NORMALISED ? 1.0 / chw : 1.0;
      d = self->mode == BW_GRAM_NORMALISED ? 1.0 : 1.0 / chw;
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
      double chw = (double) c * fh * fw;
      guint64 size = bw_ops_gram_size (c);
      double s;

      if (layer->style_weight == 0)
        continue;
      g_return_val_if_fail (grams[i] != NULL, FALSE);
      /* as bw_losses_add_style_target() */
      s = self->mode == BW_GRAM_NORMALISED ? 1.0 / chw : 1.0;
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
  return TRUE;
}
