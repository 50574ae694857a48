/* bw-step-plan.c: see bw-step-plan.h. */
#include "bw-step-plan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/bw-ops.h"
#include "session/bw-tiled-step.h"
#include "bw-i18n.h"

/* partials, Gram scratch, the device's dummy buffer and the like: small, counted once */
#define SMALL_BYTES (32u << 20)

static const int tile_sizes[] = { 2048, 1536, 1024, 768, 512, 384, 256, 192, 128, 96, 64 };

gboolean
bw_step_plan_parse_size (const char *text,
                         guint64    *bytes)
{
  char *end = NULL;
  double value, unit = 1;

  if (text == NULL || *text == '\0' || g_ascii_isspace (*text))
    return FALSE;
  value = g_ascii_strtod (text, &end);
  if (end == text || !(value > 0) || value > 1e15)
    return FALSE;
  switch (g_ascii_toupper (*end))
    {
    case 'K': unit = 1024.0; end++; break;
    case 'M': unit = 1024.0 * 1024; end++; break;
    case 'G': unit = 1024.0 * 1024 * 1024; end++; break;
    case 'T': unit = 1024.0 * 1024 * 1024 * 1024; end++; break;
    default: break;
    }
  if (g_ascii_toupper (*end) == 'B' && unit > 1)
    end++;   /* "2GB" reads as "2G" */
  if (*end != '\0' || value * unit < 1)
    return FALSE;
  *bytes = (guint64) (value * unit);
  return TRUE;
}

gboolean
bw_step_plan_get_budget (BwDevice  *device,
                         guint64   *budget,
                         GError   **error)
{
  const char *env = g_getenv ("BRUSHWORK_MAX_MEMORY");
  guint64 memory = bw_device_get_memory_size (device);

  if (env != NULL && *env != '\0')
    {
      if (!bw_step_plan_parse_size (env, budget))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _("BRUSHWORK_MAX_MEMORY=“%s” is not a size. Give it as 2G or 768M."), env);
          return FALSE;
        }
      return TRUE;
    }
  *budget = memory / 4 * 3;
  return TRUE;
}

static int
deepest_layer (const BwParams *params,
               gboolean        style_only)
{
  int deepest = -1;

  for (int i = 0; i < BW_VGG19_N_CONVS; i++)
    if (params->style_layers[i] != 0 || (!style_only && params->content_layers[i] != 0))
      deepest = i;
  return deepest;
}

static int
level_of (int index)
{
  int level = 0;

  while ((2 << level) <= bw_vgg19_min_side (index))
    level++;
  return level;
}

static guint64
map_bytes (int c,
           int h,
           int w)
{
  return bw_tensor_size_for (c, MAX (h, 1), MAX (w, 1));
}

/* The network's activations at @h x @w and the Winograd path's two scratch buffers. */
static guint64
network_bytes (BwDevice *device,
               int       h,
               int       w,
               int       last,
               gboolean  backward)
{
  guint64 scratch = 0;

  for (int i = 0; i <= last; i++)
    {
      const BwVgg19Conv *conv = &bw_vgg19_convs[i];
      int level = level_of (i);

      int tile = bw_ops_winograd_tile (device, conv->in_channels, conv->out_channels);

      if (tile != 0)
        scratch = MAX (scratch, bw_ops_winograd_scratch_size (device, tile, conv->in_channels,
                                                              conv->out_channels,
                                                              h >> level, w >> level));
    }
  return bw_vgg19_estimate_memory (h, w, last, backward) + 2 * scratch;
}

/* Counts a plan with tiles of @th x @tw px (0 x 0: whole) and @history L-BFGS pairs into
 * @plan. */
static void
count (BwVgg19         *vgg,
       const BwParams  *params,
       int              h,
       int              w,
       int              sh,
       int              sw,
       int              th,
       int              tw,
       int              history,
       BwStepPlan      *plan)
{
  BwDevice *device = bw_vgg19_get_device (vgg);
  int last = deepest_layer (params, FALSE), last_style = deepest_layer (params, TRUE);
  gboolean tiled = th > 0;
  int ah = h, aw = w, ash = sh, asw = sw;
  guint64 image = map_bytes (3, h, w), losses = 0, style_forward = 0;

  if (tiled)
    {
      bw_tiled_step_crop_size (last, h, w, th, tw, &ah, &aw, NULL);
      if (sh > 0)
        bw_tiled_step_crop_size (MAX (last_style, 0), sh, sw, th, tw, &ash, &asw, NULL);
    }
  plan->tile_height = th;
  plan->tile_width = tw;
  plan->n_tiles = tiled ? ((h + th - 1) / th) * ((w + tw - 1) / tw) : 1;
  th = tiled ? MIN (h, th) : h;
  tw = tiled ? MIN (w, tw) : w;
  plan->lbfgs_history = history;
  plan->weights = bw_vgg19_get_weight_bytes (vgg);

  /* the session's x, gradient, staging, best and (Adam) candidate, the content while its
   * targets are taken, and with tiles a crop of the image and of its gradient */
  plan->images = image * (params->optimizer == BW_OPTIMIZER_ADAM ? 6 : 5);
  if (tiled)
    plan->images += 2 * map_bytes (3, ah, aw);
  for (int i = 0; i <= last; i++)
    {
      int c = bw_vgg19_convs[i].out_channels, level = level_of (i);
      gboolean content = params->content_layers[i] != 0, style = params->style_layers[i] != 0;

      if (!content && !style)
        continue;
      if (content)
        plan->images += map_bytes (c, h >> level, w >> level);   /* the target */
      if (style)
        losses += (tiled ? 3 : 2) * bw_ops_gram_size (c);
      if (!tiled)
        losses += map_bytes (c, h >> level, w >> level);          /* dL/dF */
      else
        losses += (content ? 3 : 2) * map_bytes (c, th >> level, tw >> level) +
                  map_bytes (c, ah >> level, aw >> level);
    }
  if (last_style >= 0)
    style_forward = network_bytes (device, ash, asw, last_style, FALSE);
  plan->activations = MAX (network_bytes (device, ah, aw, last, TRUE), style_forward) + losses;
  plan->optimiser = params->optimizer == BW_OPTIMIZER_ADAM ? 2 * image
                                                           : (3 + 2 * (guint64) (history + 1)) * image;
  plan->bytes = plan->weights + plan->images + plan->activations + plan->optimiser + SMALL_BYTES;
}

/* Whether the device takes every tensor of the plan (bw_tensor_fits()): the largest is conv1_x's
 * 64-channel map of the image or the crop. */
static gboolean
fits_bindings (BwVgg19  *vgg,
               int       h,
               int       w,
               int       th,
               int       tw,
               int       last)
{
  int ah = h, aw = w;

  if (th > 0)
    bw_tiled_step_crop_size (last, h, w, th, tw, &ah, &aw, NULL);
  return bw_tensor_fits (bw_vgg19_get_device (vgg), 64, ah, aw);
}

/* The most L-BFGS pairs (1 .. @want) with which tiles of @th x @tw fit, or 0. */
static int
fit_history (BwVgg19         *vgg,
             const BwParams  *params,
             int              h,
             int              w,
             int              sh,
             int              sw,
             int              th,
             int              tw,
             int              want,
             BwStepPlan      *plan)
{
  if (!fits_bindings (vgg, h, w, th, tw, deepest_layer (params, FALSE)) ||
      (sh > 0 && !fits_bindings (vgg, sh, sw, th, tw, deepest_layer (params, FALSE))))
    return 0;
  if (params->optimizer != BW_OPTIMIZER_LBFGS)
    {
      count (vgg, params, h, w, sh, sw, th, tw, 0, plan);
      return plan->bytes <= plan->budget ? 1 : 0;
    }
  for (int history = want; history >= 1; history--)
    {
      count (vgg, params, h, w, sh, sw, th, tw, history, plan);
      if (plan->bytes <= plan->budget)
        return history;
    }
  return 0;
}

/* With tiles, keeps the features of as many tiles as the budget has room for after @plan
 * (each of bw_tiled_step_kept_bytes()), so that pass 2 runs fewer of them forward again, but
 * in no more than the plan's own bytes again: the budget of a CPU device is three quarters of
 * the machine's available memory, and a 4096 px painting would otherwise take all of it
 * (16.7 of 17.2 GB here) for a fifth of its time. Returns TRUE, for the planner's tail calls. */
static gboolean
keep_features (const BwParams *params,
               int             h,
               int             w,
               BwStepPlan     *plan)
{
  int last = deepest_layer (params, FALSE), ah, aw;
  guint64 each;
  int room;

  if (plan->tile_height == 0 || g_getenv ("BRUSHWORK_TILE_RECOMPUTE") != NULL)
    return TRUE;
  bw_tiled_step_crop_size (last, h, w, plan->tile_height, plan->tile_width, &ah, &aw, NULL);
  each = bw_tiled_step_kept_bytes (last, ah, aw);
  room = plan->bytes < plan->budget
         ? (int) MIN (MIN (plan->budget - plan->bytes, plan->bytes) / each, G_MAXINT) : 0;
  plan->kept_tiles = MIN (plan->n_tiles - 1, room);
  plan->activations += plan->kept_tiles * each;
  plan->bytes += plan->kept_tiles * each;
  return TRUE;
}

/* Whether a plan with @history L-BFGS pairs (0: it does not fit) will do in pass @pass: the
 * first wants the whole history, the second takes what fits. */
static gboolean
acceptable (const BwParams *params,
            int             pass,
            int             history,
            int             want)
{
  return history > 0 && (pass == 1 || history == want || params->optimizer != BW_OPTIMIZER_LBFGS);
}

gboolean
bw_step_plan_make (BwVgg19         *vgg,
                   const BwParams  *params,
                   int              height,
                   int              width,
                   int              style_height,
                   int              style_width,
                   guint64          budget,
                   BwStepPlan      *plan,
                   GError         **error)
{
  const char *env = g_getenv ("BRUSHWORK_TILE");
  int longest = MAX (height, width), forced_w = 0, forced_h = 0;
  int want = MAX (params->lbfgs_history, 1), last = deepest_layer (params, FALSE);
  int smallest = tile_sizes[G_N_ELEMENTS (tile_sizes) - 1];

  g_return_val_if_fail (last >= 0, FALSE);

  memset (plan, 0, sizeof *plan);
  plan->budget = budget;
  /* image-sized vectors (the image, its gradient, the optimiser's) are one allocation each */
  if (bw_tensor_size_for (3, height, width) > bw_device_get_max_allocation (bw_vgg19_get_device (vgg)))
    {
      g_set_error (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_OUT_OF_MEMORY,
                   _("A %d×%d image needs %.0f MB in one piece, more than “%s” allows (%.0f MB). "
                     "Choose a smaller size."), width, height,
                   bw_tensor_size_for (3, height, width) / 1e6,
                   bw_device_get_name (bw_vgg19_get_device (vgg)),
                   bw_device_get_max_allocation (bw_vgg19_get_device (vgg)) / 1e6);
      return FALSE;
    }
  if (env != NULL)
    {
      char *end = NULL;

      forced_w = forced_h = (int) g_ascii_strtoll (env, &end, 10);
      if (end && *end == 'x')
        forced_h = (int) g_ascii_strtoll (end + 1, NULL, 10);
    }
  if (forced_w > 0 && forced_h > 0)
    {
      /* as asked, whatever the budget says (tiles smaller than the image only) */
      gboolean whole = forced_w >= width && forced_h >= height;
      int th = whole ? 0 : (forced_h + 15) / 16 * 16, tw = whole ? 0 : (forced_w + 15) / 16 * 16;

      if (!fit_history (vgg, params, height, width, style_height, style_width, th, tw, want, plan))
        count (vgg, params, height, width, style_height, style_width, th, tw, want, plan);
      return keep_features (params, height, width, plan);
    }
  /* the whole image; else of the tilings that fit (each side of a tile one of tile_sizes or
   * the image's whole height or width: at 1024 x 768 on lavapipe, whose bindings hold a
   * 64-channel map of 512 K pixels, 2 tiles of 512 x 768 compute 0.95 M pixels of crops
   * where 4 of 512 x 512 compute 1.2 M), the one with the least work, with the full L-BFGS
   * history; then the same with a shorter history rather than not at all */
  for (int pass = 0; pass < 2; pass++)
    {
      BwStepPlan best = { 0 };
      guint64 best_work = G_MAXUINT64;
      int history = fit_history (vgg, params, height, width, style_height, style_width, 0, 0,
                                 want, plan);

      if (acceptable (params, pass, history, want))
        return TRUE;
      for (int a = -1; a < (int) G_N_ELEMENTS (tile_sizes); a++)
        for (int b = -1; b < (int) G_N_ELEMENTS (tile_sizes); b++)
          {
            /* each side a size of the list, or the image's whole height or width */
            int th = a < 0 ? height : tile_sizes[a], tw = b < 0 ? width : tile_sizes[b];
            guint64 work;

            if ((th >= height && tw >= width) || (a >= 0 && th >= height) ||
                (b >= 0 && tw >= width))
              continue;
            history = fit_history (vgg, params, height, width, style_height, style_width, th, tw,
                                   want, plan);
            if (!acceptable (params, pass, history, want))
              continue;
            bw_tiled_step_crop_size (last, height, width, th, tw, NULL, NULL, &work);
            if (work < best_work || (work == best_work && plan->n_tiles < best.n_tiles))
              {
                best = *plan;
                best_work = work;
              }
          }
      if (best_work != G_MAXUINT64)
        {
          *plan = best;
          return keep_features (params, height, width, plan);
        }
    }
  /* nothing fits: the smallest tile with one pair is the least that would do */
  count (vgg, params, height, width, style_height, style_width,
         smallest < longest ? smallest : 0, smallest < longest ? smallest : 0, 1, plan);
  g_set_error (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_OUT_OF_MEMORY,
               _("A %d×%d painting needs at least %.0f MB of memory, more than the budget of "
                 "%.0f MB. Raise the budget to that with --max-memory or BRUSHWORK_MAX_MEMORY, "
                 "or choose a smaller size."),
               width, height, ceil (plan->bytes / 1048576.0), budget / 1048576.0);
  return FALSE;
}

char *
bw_step_plan_describe (const BwStepPlan *plan)
{
  g_autofree char *history = g_strdup_printf (", L-BFGS history %d", plan->lbfgs_history);
  g_autofree char *how = plan->tile_height > 0
    ? plan->kept_tiles + 1 >= plan->n_tiles
      ? g_strdup_printf ("%d tiles of %d×%d px, features kept", plan->n_tiles,
                         plan->tile_width, plan->tile_height)
      : g_strdup_printf ("%d tiles of %d×%d px, %d recomputed", plan->n_tiles,
                         plan->tile_width, plan->tile_height,
                         plan->n_tiles - 1 - plan->kept_tiles)
    : g_strdup ("whole image");

  return g_strdup_printf ("%s, f32, %.0f MB of %.0f MB (weights %.0f, activations %.0f, "
                          "images %.0f, optimiser %.0f)%s", how, plan->bytes / 1048576.0,
                          plan->budget / 1048576.0, plan->weights / 1048576.0,
                          plan->activations / 1048576.0, plan->images / 1048576.0,
                          plan->optimiser / 1048576.0,
                          plan->lbfgs_history > 0 ? history : "");
}
