/* bw-tiled-step.c: see bw-tiled-step.h. */
#include "bw-tiled-step.h"

#include <string.h>

#include "ops/bw-ops.h"
#include "bw-i18n.h"

/* Tiles start at multiples of ALIGN, so that every level's pixel grid (each pool halves it,
 * four pools) lines up with the whole image's; crops start at multiples of CROP_ALIGN, so that
 * the Winograd path's 4x4 output tiles line up too at the deepest level (64 / 16 = 4): then
 * each feature is computed by the same sums in the same order as in the whole image. */
#define ALIGN 16
#define CROP_ALIGN 64

typedef struct {
  BwLossLayer loss;
  gboolean used;
  BwBuffer *gram;        /* G summed over the tiles, then S */
  BwBuffer *gram_tile;   /* one tile's G */
  BwTensor *valid;       /* the feature over a tile's own region (largest tile) */
  BwTensor *valid_grad;  /* dL/dF over that region */
  BwTensor *grad;        /* dL/dF over the whole crop, zero outside the tile's own region */
  guint style_partial;
} Layer;

typedef struct {
  int y0, y1, x0, x1;        /* the tile's own region in the image */
  int cy0, cy1, cx0, cx1;    /* its crop: the region and the halo, inside the image */
  guint content_partial;     /* where its content partials start */
  /* the content target of each content layer over the tile's own region, kept per tile so
   * that no tensor is image-sized (bindings are limited: 128 MiB on lavapipe) */
  BwTensor *targets[BW_VGG19_N_CONVS];
  /* its features from pass 1, kept for pass 2 where the budget allows (else NULL) */
  BwTensor *kept[BW_VGG19_N_CONVS];
} Tile;

struct _BwTiledStep {
  GObject parent_instance;

  BwVgg19 *vgg;
  BwLosses *losses;
  BwDevice *device;
  int height, width, tile_height, tile_width, halo, last;
  GArray *tiles;             /* Tile */
  Layer layers[BW_VGG19_N_CONVS];
  BwTensor *crop;            /* the image over the largest crop */
  BwTensor *crop_grad;       /* dL/d(crop) */
  BwBuffer *partials;
  guint n_partials;
};

G_DEFINE_FINAL_TYPE (BwTiledStep, bw_tiled_step, G_TYPE_OBJECT)

static void
bw_tiled_step_finalize (GObject *object)
{
  BwTiledStep *self = BW_TILED_STEP (object);

  for (int i = 0; i < BW_VGG19_N_CONVS; i++)
    {
      Layer *layer = &self->layers[i];

      if (layer->gram)
        bw_device_free_buffer (self->device, layer->gram);
      if (layer->gram_tile)
        bw_device_free_buffer (self->device, layer->gram_tile);
      g_clear_object (&layer->valid);
      g_clear_object (&layer->valid_grad);
      g_clear_object (&layer->grad);
    }
  if (self->partials)
    bw_device_free_buffer (self->device, self->partials);
  for (guint t = 0; self->tiles && t < self->tiles->len; t++)
    for (int i = 0; i < BW_VGG19_N_CONVS; i++)
      {
        g_clear_object (&g_array_index (self->tiles, Tile, t).targets[i]);
        g_clear_object (&g_array_index (self->tiles, Tile, t).kept[i]);
      }
  g_clear_object (&self->crop);
  g_clear_object (&self->crop_grad);
  g_clear_pointer (&self->tiles, g_array_unref);
  g_clear_object (&self->vgg);
  g_clear_object (&self->losses);
  g_clear_object (&self->device);
  G_OBJECT_CLASS (bw_tiled_step_parent_class)->finalize (object);
}

static void
bw_tiled_step_class_init (BwTiledStepClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bw_tiled_step_finalize;
}

static void
bw_tiled_step_init (BwTiledStep *self)
{
}

static int
level_of (int index)
{
  int level = 0;

  while ((1 << (level + 1)) <= bw_vgg19_min_side (index))
    level++;
  return level;
}

int
bw_tiled_step_halo (int last)
{
  int margin = 0;

  /* from the deepest layer down: each 3x3 conv widens the field by one pixel of its level,
   * each pool doubles it (its windows are aligned) */
  for (int i = last; i >= 0; i--)
    {
      margin += 1;
      if (bw_vgg19_convs[i].pool_before)
        margin *= 2;
    }
  return margin;
}

/* The crop [*c0, *c1) of the tile [t0, t1) along an axis of @size pixels: the halo on both
 * sides, its start down to CROP_ALIGN and its end up to ALIGN, within the image. */
static void
crop_axis (int  t0,
           int  t1,
           int  size,
           int  halo,
           int *c0,
           int *c1)
{
  *c0 = MAX (0, t0 - halo) / CROP_ALIGN * CROP_ALIGN;
  *c1 = MIN (size, (t1 + halo + ALIGN - 1) / ALIGN * ALIGN);
}

static int
align_tile (int tile)
{
  return MAX (ALIGN, (tile + ALIGN - 1) / ALIGN * ALIGN);
}

/* The largest crop along an axis of @size px cut in tiles of @tile, and the crops' sum. */
static void
crop_extent (int  size,
             int  tile,
             int  halo,
             int *largest,
             int *sum)
{
  *largest = *sum = 0;
  for (int t0 = 0; t0 < size; t0 += tile)
    {
      int c0, c1;

      crop_axis (t0, MIN (size, t0 + tile), size, halo, &c0, &c1);
      *largest = MAX (*largest, c1 - c0);
      *sum += c1 - c0;
    }
}

void
bw_tiled_step_crop_size (int      last,
                         int      height,
                         int      width,
                         int      tile_height,
                         int      tile_width,
                         int     *crop_height,
                         int     *crop_width,
                         guint64 *crop_pixels)
{
  int halo = bw_tiled_step_halo (last), ch, cw, sum_h, sum_w;

  crop_extent (height, align_tile (tile_height), halo, &ch, &sum_h);
  crop_extent (width, align_tile (tile_width), halo, &cw, &sum_w);
  if (crop_height)
    *crop_height = ch;
  if (crop_width)
    *crop_width = cw;
  if (crop_pixels)
    *crop_pixels = (guint64) sum_h * sum_w;
}

guint64
bw_tiled_step_kept_bytes (int last,
                          int crop_height,
                          int crop_width)
{
  guint64 bytes = 0;

  for (int i = 0; i <= last; i++)
    bytes += bw_tensor_size_for (bw_vgg19_convs[i].out_channels,
                                 MAX (crop_height >> level_of (i), 1),
                                 MAX (crop_width >> level_of (i), 1));
  return bytes;
}

int
bw_tiled_step_get_n_tiles (BwTiledStep *self)
{
  return self->tiles->len;
}

static BwTensor *
new_tensor (BwTiledStep  *self,
            int           c,
            int           h,
            int           w,
            GError      **error)
{
  return bw_tensor_new (self->device, c, MAX (h, 1), MAX (w, 1), error);
}

static void
cut_tiles (BwTiledStep *self)
{
  for (int y = 0; y < self->height; y += self->tile_height)
    for (int x = 0; x < self->width; x += self->tile_width)
      {
        Tile t = {
          y, MIN (y + self->tile_height, self->height), x, MIN (x + self->tile_width, self->width)
        };

        crop_axis (t.y0, t.y1, self->height, self->halo, &t.cy0, &t.cy1);
        crop_axis (t.x0, t.x1, self->width, self->halo, &t.cx0, &t.cx1);
        g_array_append_val (self->tiles, t);
      }
}

BwTiledStep *
bw_tiled_step_new (BwVgg19   *vgg,
                   BwLosses  *losses,
                   int        height,
                   int        width,
                   int        tile_height,
                   int        tile_width,
                   int        kept_tiles,
                   GError   **error)
{
  g_autoptr(BwTiledStep) self = g_object_new (BW_TYPE_TILED_STEP, NULL);
  int crop_h = 0, crop_w = 0;
  guint n_partials = 0;

  self->vgg = g_object_ref (vgg);
  self->losses = g_object_ref (losses);
  self->device = g_object_ref (bw_vgg19_get_device (vgg));
  self->height = height;
  self->width = width;
  self->tile_height = align_tile (tile_height);
  self->tile_width = align_tile (tile_width);
  self->last = bw_losses_get_deepest_layer (losses);
  g_return_val_if_fail (self->last >= 0, NULL);
  self->halo = bw_tiled_step_halo (self->last);
  self->tiles = g_array_new (FALSE, FALSE, sizeof (Tile));
  cut_tiles (self);
  for (guint t = 0; t < self->tiles->len; t++)
    {
      Tile *tl = &g_array_index (self->tiles, Tile, t);
      crop_h = MAX (crop_h, tl->cy1 - tl->cy0);
      crop_w = MAX (crop_w, tl->cx1 - tl->cx0);
    }

  for (int i = 0; i <= self->last; i++)
    {
      Layer *layer = &self->layers[i];
      int c = bw_vgg19_convs[i].out_channels, level = level_of (i);
      int vh = MIN (self->tile_height, height) >> level;
      int vw = MIN (self->tile_width, width) >> level;

      bw_losses_get_layer (losses, i, height, width, &layer->loss);
      if (layer->loss.style && layer->loss.style_target == NULL)
        {
          g_set_error (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_FAILED,
                       _("Layer %s has a loss weight but no target image. Set the content and "
                         "style images again."), bw_vgg19_layer_name (i));
          return NULL;
        }
      layer->used = layer->loss.content || layer->loss.style;
      if (!layer->used)
        continue;
      if (!(layer->valid = new_tensor (self, c, vh, vw, error)) ||
          !(layer->valid_grad = new_tensor (self, c, vh, vw, error)) ||
          !(layer->grad = new_tensor (self, c, crop_h >> level, crop_w >> level, error)))
        return NULL;
      if (layer->loss.style_target)
        {
          layer->gram = bw_device_alloc_buffer (self->device, bw_ops_gram_size (c), error);
          layer->gram_tile = layer->gram ? bw_device_alloc_buffer (self->device,
                                                                   bw_ops_gram_size (c), error) : NULL;
          if (layer->gram_tile == NULL)
            return NULL;
          layer->style_partial = n_partials;
          n_partials += bw_ops_reduce_n_partials (bw_ops_gram_size (c) / 16);
        }
    }
  /* each tile's content partials, over its own region at each content layer */
  for (guint t = 0; t < self->tiles->len; t++)
    {
      Tile *tl = &g_array_index (self->tiles, Tile, t);

      tl->content_partial = n_partials;
      for (int i = 0; i <= self->last; i++)
        if (self->layers[i].loss.content)
          {
            int level = level_of (i), c = bw_vgg19_convs[i].out_channels;
            int vh = (tl->y1 >> level) - (tl->y0 >> level), vw = (tl->x1 >> level) - (tl->x0 >> level);

            n_partials += bw_ops_reduce_n_partials ((guint64) (c + 3) / 4 * vh * vw);
            if (!(tl->targets[i] = new_tensor (self, c, vh, vw, error)))
              return NULL;
          }
    }
  /* the last tile needs none: pass 2 starts with it */
  for (guint t = 0; t < MIN ((guint) MAX (kept_tiles, 0), self->tiles->len - 1); t++)
    {
      Tile *tl = &g_array_index (self->tiles, Tile, t);

      for (int i = 0; i <= self->last; i++)
        if (!(tl->kept[i] = new_tensor (self, bw_vgg19_convs[i].out_channels,
                                        (tl->cy1 - tl->cy0) >> level_of (i),
                                        (tl->cx1 - tl->cx0) >> level_of (i), error)))
          return NULL;
    }
  self->partials = bw_device_alloc_buffer (self->device, MAX (n_partials, 1) * sizeof (float), error);
  if (self->partials == NULL)
    return NULL;
  self->n_partials = n_partials;
  if (!(self->crop = new_tensor (self, 3, crop_h, crop_w, error)) ||
      !(self->crop_grad = new_tensor (self, 3, crop_h, crop_w, error)))
    return NULL;
  if (!bw_vgg19_prepare (vgg, crop_h, crop_w, self->last, TRUE, error))
    return NULL;
  return g_steal_pointer (&self);
}

/* Copies the network's features, every conv's map up to the last, to or from tile @t's. */
static gboolean
copy_kept (BwTiledStep  *self,
           const Tile   *t,
           gboolean      restore,
           GError      **error)
{
  for (int i = 0; i <= self->last; i++)
    {
      BwTensor *feature = bw_vgg19_get_feature (self->vgg, i);
      int h = bw_tensor_get_height (t->kept[i]), w = bw_tensor_get_width (t->kept[i]);

      if (!bw_ops_crop (restore ? t->kept[i] : feature, restore ? feature : t->kept[i],
                        0, 0, 0, 0, h, w, FALSE, error))
        return FALSE;
    }
  return TRUE;
}

/* Crops @x to tile @t and runs the network on it. */
static gboolean
forward_tile (BwTiledStep  *self,
              BwTensor     *x,
              const Tile   *t,
              GError      **error)
{
  int h = t->cy1 - t->cy0, w = t->cx1 - t->cx0;
  g_autoptr(BwTensor) crop = bw_tensor_new_view (self->crop, 3, h, w);

  return bw_vgg19_prepare_within (self->vgg, h, w, self->last, TRUE, error) &&
         bw_ops_crop (x, crop, t->cy0, t->cx0, 0, 0, h, w, FALSE, error) &&
         bw_vgg19_forward (self->vgg, crop, error);
}

/* The tile's own region at the level of conv @i: in the crop (@vy, @vx), in the image's
 * feature map (@fy, @fx), and its size. */
static void
own_region (const Tile *t,
            int         i,
            int        *vy,
            int        *vx,
            int        *fy,
            int        *fx,
            int        *vh,
            int        *vw)
{
  int level = level_of (i);

  *fy = t->y0 >> level;
  *fx = t->x0 >> level;
  *vy = *fy - (t->cy0 >> level);
  *vx = *fx - (t->cx0 >> level);
  *vh = (t->y1 >> level) - *fy;
  *vw = (t->x1 >> level) - *fx;
}

/* A view of @base for the tile's own region of conv @i's map, filled from the crop's feature. */
static BwTensor *
crop_own (BwTiledStep  *self,
          const Tile   *t,
          int           i,
          BwTensor     *base,
          GError      **error)
{
  int vy, vx, fy, fx, vh, vw;
  g_autoptr(BwTensor) v = NULL;

  own_region (t, i, &vy, &vx, &fy, &fx, &vh, &vw);
  v = bw_tensor_new_view (base, bw_vgg19_convs[i].out_channels, vh, vw);
  if (!bw_ops_crop (bw_vgg19_get_feature (self->vgg, i), v, vy, vx, 0, 0, vh, vw, FALSE, error))
    return NULL;
  return g_steal_pointer (&v);
}

static gboolean
pass_grams (BwTiledStep  *self,
            BwTensor     *x,
            GError      **error)
{
  for (int i = 0; i <= self->last; i++)
    if (self->layers[i].loss.style_target)
      bw_device_fill_zero (self->device, self->layers[i].gram);
  for (guint n = 0; n < self->tiles->len; n++)
    {
      const Tile *t = &g_array_index (self->tiles, Tile, n);

      if (!forward_tile (self, x, t, error) || (t->kept[0] && !copy_kept (self, t, FALSE, error)))
        return FALSE;
      for (int i = 0; i <= self->last; i++)
        {
          Layer *layer = &self->layers[i];
          g_autoptr(BwTensor) v = NULL;
          guint n_vec4;

          if (layer->loss.style_target == NULL)
            continue;
          n_vec4 = bw_ops_gram_size (bw_vgg19_convs[i].out_channels) / 16;
          v = crop_own (self, t, i, layer->valid, error);
          if (v == NULL)
            return FALSE;
          /* a tile narrower than a deep level's pixel owns none of it */
          if (bw_tensor_get_n_vec4 (v) == 0)
            continue;
          /* G = the sum of the tiles' Grams */
          if (!bw_ops_gram (v, layer->gram_tile, error) ||
              !bw_ops_eltwise (self->device, layer->gram_tile, NULL, layer->gram, NULL,
                               1.0f, 1.0f, layer->gram, n_vec4, error))
            return FALSE;
        }
    }
  /* the style losses, and S = 4 kappa s (s G - A) in place of G, as bw_losses_record() */
  for (int i = 0; i <= self->last; i++)
    {
      Layer *layer = &self->layers[i];
      guint n_vec4;

      if (layer->loss.style_target == NULL)
        continue;
      n_vec4 = bw_ops_gram_size (bw_vgg19_convs[i].out_channels) / 16;
      if (!bw_ops_reduce (self->device, BW_REDUCE_SQDIFF, layer->gram, layer->loss.style_target,
                          layer->loss.style_s, n_vec4, self->partials, layer->style_partial,
                          error) ||
          !bw_ops_eltwise (self->device, layer->gram, layer->loss.style_target, NULL, NULL,
                           4.0 * layer->loss.style_kappa * layer->loss.style_s,
                           layer->loss.style_s, layer->gram, n_vec4, error))
        return FALSE;
    }
  return TRUE;
}

/* dL/dF of conv @i over the whole crop of tile @t, zero outside its own region. */
static BwTensor *
seed_tile (BwTiledStep  *self,
           const Tile   *t,
           int           i,
           guint        *partial,
           GError      **error)
{
  Layer *layer = &self->layers[i];
  int level = level_of (i), c = bw_vgg19_convs[i].out_channels;
  int vy, vx, fy, fx, vh, vw;
  int ch = (t->cy1 - t->cy0) >> level, cw = (t->cx1 - t->cx0) >> level;
  g_autoptr(BwTensor) v = crop_own (self, t, i, layer->valid, error);
  g_autoptr(BwTensor) g = NULL;
  g_autoptr(BwTensor) grad = NULL;

  if (v == NULL)
    return NULL;
  own_region (t, i, &vy, &vx, &fy, &fx, &vh, &vw);
  g = bw_tensor_new_view (layer->valid_grad, c, vh, vw);
  /* a tile narrower than a deep level's pixel owns none of it: its seed is all zero (the crop
   * below reads nothing from an empty region) */
  if (vh > 0 && vw > 0 && layer->loss.content)
    {
      BwTensor *p = t->targets[i];
      guint n = bw_ops_reduce_n_partials (bw_tensor_get_n_vec4 (v));

      if (!bw_ops_reduce (self->device, BW_REDUCE_SQDIFF, bw_tensor_get_buffer (v),
                          bw_tensor_get_buffer (p), 1.0f, bw_tensor_get_n_vec4 (v),
                          self->partials, *partial, error) ||
          !bw_ops_eltwise (self->device, bw_tensor_get_buffer (v), bw_tensor_get_buffer (p), NULL,
                           NULL, layer->loss.content_k, 1.0f, bw_tensor_get_buffer (g),
                           bw_tensor_get_n_vec4 (v), error))
        return NULL;
      *partial += n;
    }
  if (vh > 0 && vw > 0 && layer->loss.style_target &&
      !bw_ops_conv (v, layer->gram, 1, NULL, layer->loss.content ? g : NULL, FALSE, NULL,
                    g, error))
    return NULL;
  grad = bw_tensor_new_view (layer->grad, c, ch, cw);
  if (!bw_ops_crop (g, grad, -vy, -vx, 0, 0, ch, cw, FALSE, error))
    return NULL;
  return g_steal_pointer (&grad);
}

static gboolean
pass_gradients (BwTiledStep  *self,
                BwTensor     *x,
                BwTensor     *grad,
                GError      **error)
{
  bw_tensor_clear (grad);
  /* last tile first: pass_grams() ran it last, so its features are still the network's, and
   * a step runs one forward fewer; tiles whose features pass_grams() kept take them back */
  for (guint n = self->tiles->len; n-- > 0;)
    {
      const Tile *t = &g_array_index (self->tiles, Tile, n);
      BwTensor *seeds[BW_VGG19_N_CONVS] = { NULL };
      int h = t->cy1 - t->cy0, w = t->cx1 - t->cx0;
      g_autoptr(BwTensor) crop_grad = bw_tensor_new_view (self->crop_grad, 3, h, w);
      guint partial = t->content_partial;
      gboolean ok;

      if (n + 1 < self->tiles->len &&
          !(t->kept[0] ? bw_vgg19_prepare_within (self->vgg, h, w, self->last, TRUE, error) &&
                         copy_kept (self, t, TRUE, error)
                       : forward_tile (self, x, t, error)))
        return FALSE;
      ok = TRUE;
      for (int i = 0; i <= self->last && ok; i++)
        if (self->layers[i].used)
          ok = (seeds[i] = seed_tile (self, t, i, &partial, error)) != NULL;
      ok = ok && bw_vgg19_backward (self->vgg, seeds, crop_grad, error) &&
           bw_ops_crop (crop_grad, grad, -t->cy0, -t->cx0, t->cy0, t->cx0, h, w, TRUE, error);
      for (int i = 0; i < BW_VGG19_N_CONVS; i++)
        g_clear_object (&seeds[i]);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

/* Each content layer's ||P_l||^2 for BW_GRAM_RELATIVE (bw_losses_set_content_norm()): the sum
 * over the tiles' own regions, in the partials' places read_values() uses; the losses'
 * factors are then taken again. Cheap, so taken whatever the mode. */
static gboolean
content_norms (BwTiledStep  *self,
               GError      **error)
{
  double norms[BW_VGG19_N_CONVS] = { 0 };
  g_autofree float *p = g_new (float, MAX (self->n_partials, 1));

  for (guint n = 0; n < self->tiles->len; n++)
    {
      const Tile *t = &g_array_index (self->tiles, Tile, n);
      guint k = t->content_partial;

      for (int i = 0; i <= self->last; i++)
        {
          int vy, vx, fy, fx, vh, vw;

          if (!self->layers[i].loss.content)
            continue;
          own_region (t, i, &vy, &vx, &fy, &fx, &vh, &vw);
          if (vh > 0 && vw > 0 &&
              !bw_ops_reduce (self->device, BW_REDUCE_SQDIFF, bw_tensor_get_buffer (t->targets[i]),
                              NULL, 1.0f, bw_tensor_get_n_vec4 (t->targets[i]), self->partials, k,
                              error))
            return FALSE;
          k += bw_ops_reduce_n_partials ((guint64) (bw_vgg19_convs[i].out_channels + 3) / 4 * vh * vw);
        }
    }
  if (self->n_partials &&
      (!bw_device_submit (self->device, error) ||
       !bw_device_read_buffer (self->device, self->partials, 0, p,
                               self->n_partials * sizeof (float), error)))
    return FALSE;
  for (guint n = 0; n < self->tiles->len; n++)
    {
      const Tile *t = &g_array_index (self->tiles, Tile, n);
      guint k = t->content_partial;

      for (int i = 0; i <= self->last; i++)
        {
          int vy, vx, fy, fx, vh, vw;
          guint count;

          if (!self->layers[i].loss.content)
            continue;
          own_region (t, i, &vy, &vx, &fy, &fx, &vh, &vw);
          count = vh > 0 && vw > 0
                  ? bw_ops_reduce_n_partials ((guint64) (bw_vgg19_convs[i].out_channels + 3) / 4 * vh * vw)
                  : 0;
          for (guint j = 0; j < count; j++)
            norms[i] += p[k + j];
          k += count;
        }
    }
  for (int i = 0; i <= self->last; i++)
    if (self->layers[i].loss.content)
      {
        bw_losses_set_content_norm (self->losses, i, norms[i]);
        bw_losses_get_layer (self->losses, i, self->height, self->width, &self->layers[i].loss);
      }
  return TRUE;
}

gboolean
bw_tiled_step_set_content (BwTiledStep  *self,
                           BwTensor     *content,
                           GError      **error)
{
  for (guint n = 0; n < self->tiles->len; n++)
    {
      const Tile *t = &g_array_index (self->tiles, Tile, n);

      if (!forward_tile (self, content, t, error))
        return FALSE;
      for (int i = 0; i <= self->last; i++)
        {
          int vy, vx, fy, fx, vh, vw;

          if (!self->layers[i].loss.content)
            continue;
          own_region (t, i, &vy, &vx, &fy, &fx, &vh, &vw);
          if (!bw_ops_crop (bw_vgg19_get_feature (self->vgg, i), t->targets[i], vy, vx, 0, 0, vh,
                            vw, FALSE, error))
            return FALSE;
        }
    }
  return bw_device_submit (self->device, error) && content_norms (self, error);
}

gboolean
bw_tiled_step_add_style (BwVgg19    *vgg,
                         BwLosses   *losses,
                         BwTensor   *style,
                         double      blend,
                         int         tile_height,
                         int         tile_width,
                         GError    **error)
{
  BwDevice *device = bw_vgg19_get_device (vgg);
  int h = bw_tensor_get_height (style), w = bw_tensor_get_width (style);
  int last = -1, halo, crop_h, crop_w;
  BwBuffer *grams[BW_VGG19_N_CONVS] = { NULL }, *one = NULL;
  g_autoptr(BwTensor) crop = NULL;
  gboolean ok = TRUE;

  for (int i = 0; i < BW_VGG19_N_CONVS; i++)
    {
      BwLossLayer layer;

      bw_losses_get_layer (losses, i, h, w, &layer);
      if (layer.style)
        last = i;
    }
  if (last < 0)
    return TRUE;
  tile_height = align_tile (tile_height);
  tile_width = align_tile (tile_width);
  halo = bw_tiled_step_halo (last);
  bw_tiled_step_crop_size (last, h, w, tile_height, tile_width, &crop_h, &crop_w, NULL);
  crop = bw_tensor_new (device, 3, crop_h, crop_w, error);
  if (crop == NULL || !bw_vgg19_prepare (vgg, crop_h, crop_w, last, FALSE, error))
    return FALSE;
  for (int i = 0; i <= last && ok; i++)
    {
      BwLossLayer layer;

      bw_losses_get_layer (losses, i, h, w, &layer);
      if (!layer.style)
        continue;
      grams[i] = bw_device_alloc_buffer (device, bw_ops_gram_size (bw_vgg19_convs[i].out_channels),
                                         error);
      ok = grams[i] != NULL;
      if (ok)
        bw_device_fill_zero (device, grams[i]);
    }
  if (ok)
    ok = (one = bw_device_alloc_buffer (device, bw_ops_gram_size (512), error)) != NULL;
  /* the Grams of the tiles' own regions add up to the painting's */
  for (int y = 0; y < h && ok; y += tile_height)
    for (int x = 0; x < w && ok; x += tile_width)
      {
        Tile t = { y, MIN (y + tile_height, h), x, MIN (x + tile_width, w) };
        g_autoptr(BwTensor) view = NULL;

        crop_axis (t.y0, t.y1, h, halo, &t.cy0, &t.cy1);
        crop_axis (t.x0, t.x1, w, halo, &t.cx0, &t.cx1);
        view = bw_tensor_new_view (crop, 3, t.cy1 - t.cy0, t.cx1 - t.cx0);
        ok = bw_vgg19_prepare_within (vgg, t.cy1 - t.cy0, t.cx1 - t.cx0, last, FALSE, error) &&
             bw_ops_crop (style, view, t.cy0, t.cx0, 0, 0, t.cy1 - t.cy0, t.cx1 - t.cx0, FALSE,
                          error) &&
             bw_vgg19_forward (vgg, view, error);
        for (int i = 0; i <= last && ok; i++)
          {
            int vy, vx, fy, fx, vh, vw;
            g_autoptr(BwTensor) own = NULL;
            g_autoptr(BwTensor) scratch = NULL;
            int c = bw_vgg19_convs[i].out_channels;

            if (grams[i] == NULL)
              continue;
            own_region (&t, i, &vy, &vx, &fy, &fx, &vh, &vw);
            if (vh <= 0 || vw <= 0)
              continue;
            /* the own region in a tensor of its own, freed once the work is done */
            scratch = bw_tensor_new (device, c, vh, vw, error);
            ok = scratch != NULL &&
                 bw_ops_crop (bw_vgg19_get_feature (vgg, i), scratch, vy, vx, 0, 0, vh, vw, FALSE,
                              error) &&
                 bw_ops_gram (scratch, one, error) &&
                 bw_ops_eltwise (device, one, NULL, grams[i], NULL, 1.0f, 1.0f, grams[i],
                                 bw_ops_gram_size (c) / 16, error) &&
                 bw_device_submit (device, error);
          }
      }
  ok = ok && bw_losses_add_style_grams (losses, grams, h, w, blend, error) &&
       bw_device_submit (device, error);
  if (!ok)
    bw_device_discard (device);
  for (int i = 0; i < BW_VGG19_N_CONVS; i++)
    if (grams[i])
      bw_device_free_buffer (device, grams[i]);
  if (one)
    bw_device_free_buffer (device, one);
  return ok;
}

gboolean
bw_tiled_step_record (BwTiledStep  *self,
                      BwTensor     *x,
                      BwTensor     *grad,
                      GError      **error)
{
  g_return_val_if_fail (bw_tensor_get_height (x) == self->height &&
                        bw_tensor_get_width (x) == self->width, FALSE);

  return pass_grams (self, x, error) && pass_gradients (self, x, grad, error);
}

gboolean
bw_tiled_step_read_values (BwTiledStep   *self,
                           BwLossValues  *values,
                           GError       **error)
{
  g_autofree float *p = g_new (float, MAX (self->n_partials, 1));

  memset (values, 0, sizeof *values);
  if (self->n_partials &&
      !bw_device_read_buffer (self->device, self->partials, 0, p,
                              self->n_partials * sizeof (float), error))
    return FALSE;
  for (int i = 0; i <= self->last; i++)
    {
      Layer *layer = &self->layers[i];
      double sum = 0;

      if (layer->loss.style_target == NULL)
        continue;
      for (guint k = 0; k < bw_ops_reduce_n_partials (bw_ops_gram_size (bw_vgg19_convs[i].out_channels) / 16); k++)
        sum += p[layer->style_partial + k];
      values->style += layer->loss.style_kappa * sum;
    }
  /* the content partials in the order they were recorded: tile by tile, layer by layer */
  for (guint n = 0; n < self->tiles->len; n++)
    {
      const Tile *t = &g_array_index (self->tiles, Tile, n);
      guint k = t->content_partial;

      for (int i = 0; i <= self->last; i++)
        {
          Layer *layer = &self->layers[i];
          int vy, vx, fy, fx, vh, vw;
          guint count;
          double sum = 0;

          if (!layer->loss.content)
            continue;
          own_region (t, i, &vy, &vx, &fy, &fx, &vh, &vw);
          count = bw_ops_reduce_n_partials ((guint64) (bw_vgg19_convs[i].out_channels + 3) / 4 * vh * vw);
          for (guint j = 0; j < count; j++)
            sum += p[k + j];
          k += count;
          values->content += layer->loss.content_k / 2 * sum;
        }
    }
  values->total = values->content + values->style;
  return TRUE;
}
