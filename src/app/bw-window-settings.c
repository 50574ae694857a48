/* bw-window-settings.c: the controls and the window's size kept in GSettings. */
#include <math.h>

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
