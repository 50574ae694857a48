/* bw-window-settings.c: the controls and the window's size kept in GSettings, and how a
 * change the run under way cannot take (size, preset, optimiser, colours) reaches it. */
#include <math.h>
#include <glib/gi18n.h>

#include "bw-window-private.h"
#include "weights/bw-weights-download.h"

static gboolean
log_get_mapping (GValue   *value,
                 GVariant *variant,
                 gpointer  user_data)
{
  double v = g_variant_get_double (variant);

  g_value_set_double (value, v > 0 ? log10 (v) : 0);
  return TRUE;
}

static GVariant *
log_set_mapping (const GValue       *value,
                 const GVariantType *expected_type,
                 gpointer            user_data)
{
  return g_variant_new_double (pow (10, g_value_get_double (value)));
}

/* The combo rows' positions as the keys' strings. */
static const char *const preset_choices[] = { "default", "seed" };
static const char *const optimizer_choices[] = { "lbfgs", "adam" };

static gboolean
colors_get_mapping (GValue   *value,
                    GVariant *variant,
                    gpointer  user_data)
{
  const char *nick = g_variant_get_string (variant, NULL);

  g_value_set_uint (value, g_str_equal (nick, "histogram") ? 2 : g_str_equal (nick, "luminance") ? 1 : 0);
  return TRUE;
}

static GVariant *
colors_set_mapping (const GValue       *value,
                    const GVariantType *expected_type,
                    gpointer            user_data)
{
  static const char *const nicks[] = { "none", "luminance", "histogram" };

  return g_variant_new_string (nicks[MIN (g_value_get_uint (value), 2)]);
}

static gboolean
choice_get_mapping (GValue   *value,
                    GVariant *variant,
                    gpointer  user_data)
{
  const char *const *choices = user_data;

  g_value_set_uint (value, g_str_equal (g_variant_get_string (variant, NULL), choices[1]) ? 1 : 0);
  return TRUE;
}

static GVariant *
choice_set_mapping (const GValue       *value,
                    const GVariantType *expected_type,
                    gpointer            user_data)
{
  const char *const *choices = user_data;

  return g_variant_new_string (choices[g_value_get_uint (value) == 1]);
}

void
_bw_window_bind_settings (BwWindow *self)
{
  g_settings_bind (self->settings, "window-width", self, "default-width", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "window-height", self, "default-height", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "window-maximized", self, "maximized", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "size", self->size_adjustment, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "steps", self->steps_adjustment, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind_with_mapping (self->settings, "color-transfer", self->colors_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, colors_get_mapping, colors_set_mapping, NULL, NULL);
  g_settings_bind (self->settings, "style-scale", self->style_scale_adjustment, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind_with_mapping (self->settings, "style-weight", self->style_adjustment, "value",
                                G_SETTINGS_BIND_DEFAULT, log_get_mapping, log_set_mapping, NULL, NULL);
  g_settings_bind_with_mapping (self->settings, "content-weight", self->content_adjustment, "value",
                                G_SETTINGS_BIND_DEFAULT, log_get_mapping, log_set_mapping, NULL, NULL);
  g_settings_bind (self->settings, "smoothness", self->tv_adjustment, "value", G_SETTINGS_BIND_DEFAULT);
  /* restoring the preset must not reset the weights saved with it */
  self->applying_preset = TRUE;
  g_settings_bind_with_mapping (self->settings, "preset", self->preset_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, choice_get_mapping, choice_set_mapping,
                                (gpointer) preset_choices, NULL);
  g_settings_bind_with_mapping (self->settings, "optimizer", self->optimizer_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, choice_get_mapping, choice_set_mapping,
                                (gpointer) optimizer_choices, NULL);
  self->applying_preset = FALSE;
}

/* --weights, else $BRUSHWORK_WEIGHTS, else a file the user chose before, else the cache. */
char *
_bw_window_find_weights (BwWindow *self)
{
  const char *env = g_getenv ("BRUSHWORK_WEIGHTS");
  g_autofree char *chosen = g_settings_get_string (self->settings, "weights-path");

  if (env && *env)
    return g_strdup (env);
  if (*chosen && g_file_test (chosen, G_FILE_TEST_EXISTS))
    return g_steal_pointer (&chosen);
  return bw_weights_default_path ();
}

/* --- a restart for new settings ----------------------------------------------------- */

/* Long enough for a few more clicks on "+", short enough to feel like an answer. */
#define SETTLE_SECONDS 3

static gboolean
settled (gpointer data)
{
  BwWindow *self = data;

  self->restart_source = 0;
  _bw_window_restart_now (self);
  return G_SOURCE_REMOVE;
}

void
_bw_window_update_restart (BwWindow *self)
{
  BwWorkerState state = bw_worker_get_state (self->worker);
  g_autofree char *text = NULL;
  int size = (int) gtk_adjustment_get_value (self->size_adjustment);

  if (state == BW_WORKER_IDLE || self->video_output)
    self->restart_pending = FALSE;
  /* paused, Resume restarts (bw-window-actions.c) */
  if (!self->restart_pending || state == BW_WORKER_PAUSED)
    g_clear_handle_id (&self->restart_source, g_source_remove);
  else if (self->restart_source == 0)
    /* not g_timeout_add_seconds(): it rounds to whole seconds and may fire almost one early */
    self->restart_source = g_timeout_add (SETTLE_SECONDS * 1000, settled, self);

  if (self->restart_pending)
    {
      if (state == BW_WORKER_PAUSED)
        /* Translators: the painting starts again at the new size when resumed */
        text = g_strdup_printf (_("Restarts at %d px when you resume."), size);
      else
        /* Translators: the painting starts again at the new size in a few seconds */
        text = g_strdup_printf (_("Restarts at %d px in a moment."), size);
      gtk_label_set_label (self->restart_label, text);
    }
  gtk_revealer_set_reveal_child (self->restart_revealer, self->restart_pending);
}

void
_bw_window_settings_changed (BwWindow *self)
{
  if (self->reverting || !_bw_window_is_busy (self) || self->video_output)
    return;
  self->restart_pending = TRUE;
  /* each change starts the wait again */
  g_clear_handle_id (&self->restart_source, g_source_remove);
  _bw_window_update_restart (self);
}

void
_bw_window_restart_now (BwWindow *self)
{
  if (self->restart_pending && _bw_window_is_busy (self))
    _bw_window_run_start (self);
}

/* The controls back to what the run under way uses, and no restart. */
void
_bw_window_keep_painting (BwWindow *self)
{
  const BwParams *p = &self->run_params;

  if (!self->restart_pending)
    return;
  self->reverting = TRUE;
  /* the preset's own values are left as they are: only the choice goes back */
  adw_combo_row_set_selected (self->preset_row, self->run_preset);
  gtk_adjustment_set_value (self->size_adjustment, p->size);
  adw_combo_row_set_selected (self->colors_row, p->transfer_histogram ? 2 : p->preserve_colors ? 1 : 0);
  gtk_adjustment_set_value (self->style_scale_adjustment, p->style_scale);
  adw_combo_row_set_selected (self->optimizer_row, p->optimizer == BW_OPTIMIZER_ADAM ? 1 : 0);
  self->reverting = FALSE;
  self->restart_pending = FALSE;
  _bw_window_update_restart (self);
}
