/* bw-window-restore.c: the painting an earlier run left behind (bw-autosave.h), offered
 * back when a window opens. */
#include <glib/gi18n.h>
#include <math.h>

#include "bw-autosave.h"
#include "bw-alert.h"
#include "bw-window-private.h"

/* The controls as the painting had them; the preset first, since choosing one sets the
 * others. */
static void
apply_params (BwWindow       *self,
              const BwParams *params)
{
  adw_combo_row_set_selected (self->preset_row, params->gram_mode == BW_GRAM_SEED ? 1 : 0);
  adw_combo_row_set_selected (self->optimizer_row, params->optimizer == BW_OPTIMIZER_ADAM ? 1 : 0);
  gtk_adjustment_set_value (self->size_adjustment, params->size);
  gtk_adjustment_set_value (self->steps_adjustment, params->steps);
  gtk_adjustment_set_value (self->style_adjustment, log10 (params->style_weight));
  gtk_adjustment_set_value (self->content_adjustment, log10 (params->content_weight));
  /* _bw_window_get_params(): tv = 10^(slider - 1), and 0 at the left end */
  gtk_adjustment_set_value (self->tv_adjustment,
                            params->tv_weight > 0 ? log10 (params->tv_weight) + 1 : 0);
  adw_combo_row_set_selected (self->colors_row,
                              params->transfer_histogram ? 2 : params->preserve_colors ? 1 : 0);
  gtk_adjustment_set_value (self->style_scale_adjustment, params->style_scale);
}

typedef struct {
  BwWindow *window;      /* weak */
  BwAutosave *autosave;
} RestoreOffer;

static void
on_restore_response (const char *response,
                     gpointer    user_data)
{
  RestoreOffer *offer = user_data;
  BwWindow *self = offer->window;
  BwAutosave *autosave = offer->autosave;

  if (g_str_equal (response, "discard"))
    bw_autosave_remove (autosave);
  else if (g_str_equal (response, "restore") && self != NULL && !_bw_window_is_closed (self))
    {
      g_autoptr(GFile) content = g_file_new_for_path (autosave->content);

      bw_window_open_content (self, content);
      for (guint i = 0; i < autosave->styles->len; i++)
        {
          g_autoptr(GFile) style = g_file_new_for_path (g_ptr_array_index (autosave->styles, i));

          bw_window_add_style (self, style);
        }
      apply_params (self, &autosave->params);
      g_clear_handle_id (&self->restart_source, g_source_remove);
      bw_worker_restore (self->worker, autosave);
    }
  /* anything else (Escape): left for the next start */
  g_clear_weak_pointer (&offer->window);
  bw_autosave_free (offer->autosave);
  g_free (offer);
}

void
bw_window_offer_restore (BwWindow *self)
{
  g_autoptr(BwAutosave) autosave = NULL;
  g_autofree char *name = NULL, *body = NULL;
  const BwAlertResponse responses[] = {
    { "discard", _("_Discard"), ADW_RESPONSE_DESTRUCTIVE },
    { "restore", _("_Restore"), ADW_RESPONSE_SUGGESTED },
  };
  RestoreOffer *offer;

  g_return_if_fail (BW_IS_WINDOW (self));

  autosave = bw_autosave_find_abandoned ();
  if (autosave == NULL)
    return;
  name = g_path_get_basename (autosave->content);
  body = g_strdup_printf (_("Brushwork closed while painting “%s”, at step %d of %d. Restore "
                            "the painting to see it and paint on from there, or discard it."),
                          name, autosave->step, autosave->params.steps);
  offer = g_new0 (RestoreOffer, 1);
  g_set_weak_pointer (&offer->window, self);
  offer->autosave = g_steal_pointer (&autosave);
  bw_alert_ask (GTK_WINDOW (self), _("Restore the Last Painting?"), body,
                responses, G_N_ELEMENTS (responses), "restore", "keep",
                on_restore_response, offer);
}
