/* bw-window-restore.c: the painting an earlier run left behind (bw-autosave.h), offered
 * back when a window opens. */
#include <glib/gi18n.h>
#include <math.h>

#include "bw-autosave.h"
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
  gtk_switch_set_active (self->colors_switch, params->preserve_colors);
}

static void
on_restore_response (AdwMessageDialog *dialog,
                     const char       *response,
                     BwWindow         *self)
{
  BwAutosave *autosave = g_object_get_data (G_OBJECT (dialog), "autosave");

  if (g_str_equal (response, "discard"))
    bw_autosave_remove (autosave);
  else if (g_str_equal (response, "restore") && !_bw_window_is_closed (self))
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
}

void
bw_window_offer_restore (BwWindow *self)
{
  g_autoptr(BwAutosave) autosave = NULL;
  g_autofree char *name = NULL, *body = NULL;
  AdwMessageDialog *dialog;

  g_return_if_fail (BW_IS_WINDOW (self));

  autosave = bw_autosave_find_abandoned ();
  if (autosave == NULL)
    return;
  name = g_path_get_basename (autosave->content);
  body = g_strdup_printf (_("Brushwork closed while painting “%s”, at step %d of %d. Restore "
                            "the painting to see it and paint on from there, or discard it."),
                          name, autosave->step, autosave->params.steps);
  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self),
                                                       _("Restore the Last Painting?"), body));
  adw_message_dialog_add_responses (dialog,
                                    "discard", _("_Discard"),
                                    "restore", _("_Restore"),
                                    NULL);
  adw_message_dialog_set_response_appearance (dialog, "discard", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_response_appearance (dialog, "restore", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (dialog, "restore");
  adw_message_dialog_set_close_response (dialog, "keep");
  g_object_set_data_full (G_OBJECT (dialog), "autosave", g_steal_pointer (&autosave),
                          (GDestroyNotify) bw_autosave_free);
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_restore_response), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}
