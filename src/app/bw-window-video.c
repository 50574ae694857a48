/* bw-window-video.c: a video as the photo: the scrubber shows the frame it points at, and
 * Paint Whole Video writes every frame to a WebM. */
#include <glib/gi18n.h>

#include "bw-engine.h"
#include "bw-texture.h"
#include "bw-window-private.h"

static void load_frame (BwWindow *self);

static void
on_frame_loaded (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(BwWindowLoad) load = user_data;
  BwWindow *self = load->window;
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkTexture) texture = bw_texture_load_frame_finish (result, NULL, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self->frame_loading = FALSE;
  /* unless another photo or video came meanwhile, which makes this frame of no use */
  if (load->file == self->content_file)
    {
      if (texture == NULL)
        _bw_window_show_toast (self, error->message);
      else
        _bw_window_show_content_frame (self, texture);
    }
  if (self->frame_wanted)
    load_frame (self);
  else if (load->file == self->content_file)
    /* a painting under way moves to the frame now shown */
    _bw_window_queue_restart (self);
  _bw_window_load_finished (self);
}

static void
load_frame (BwWindow *self)
{
  if (self->frame_loading)
    {
      self->frame_wanted = TRUE;
      return;
    }
  self->frame_wanted = FALSE;
  self->frame_loading = TRUE;
  /* a pending load: Paint pressed meanwhile starts once the frame it paints is shown */
  bw_texture_load_frame_async (self->content_file, CONTENT_TEXTURE_SIZE,
                               gtk_adjustment_get_value (self->position_adjustment),
                               self->cancellable, on_frame_loaded,
                               _bw_window_load_new (self, self->content_file, TRUE));
}

static void
on_position_changed (BwWindow *self)
{
  double position = gtk_adjustment_get_value (self->position_adjustment);
  g_autofree char *text = NULL;

  /* a clip under a minute, as most are, by the tenth of a second: whole seconds would not
   * tell its frames apart */
  if (self->content_duration < 60)
    /* Translators: a video's position and length in seconds: "0.7 / 1.2 s" */
    text = g_strdup_printf (_("%.1f / %.1f s"), position, self->content_duration);
  else
    {
      g_autofree char *at = bw_engine_format_duration (position);
      g_autofree char *length = bw_engine_format_duration (self->content_duration);

      text = g_strdup_printf ("%s / %s", at, length);
    }

  gtk_label_set_label (self->position_label, text);
  if (self->content_is_video && self->content_file)
    load_frame (self);
}

void
bw_window_paint_video (BwWindow *self,
                       GFile    *output,
                       int       frame_steps)
{
  g_autoptr(GPtrArray) files = g_ptr_array_new ();
  g_autoptr(GArray) blends = g_array_new (FALSE, FALSE, sizeof (double));
  BwParams params;

  g_return_if_fail (BW_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (output));

  g_clear_handle_id (&self->restart_source, g_source_remove);
  if (!self->content_is_video || _bw_window_is_busy (self) || !_bw_window_check_ready (self))
    return;
  _bw_window_get_styles (self, files, blends);
  _bw_window_get_params (self, &params);
  g_set_object (&self->video_output, output);
  bw_loss_plot_clear (self->loss_plot);
  bw_preview_set_image_size (self->preview, params.size);
  gtk_stack_set_visible_child_name (self->preview_stack, "preview");
  bw_worker_start_video (self->worker, &params, self->content_file, output, frame_steps,
                         (GFile **) files->pdata, (double *) blends->data, files->len);
}

static void
on_video_save_response (GtkNativeDialog *chooser,
                        int              response,
                        BwWindow        *self)
{
  g_autoptr(GFile) chosen = NULL;
  g_autofree char *path = NULL;
  g_autofree char *lower = NULL;
  const char *pace = gtk_file_chooser_get_choice (GTK_FILE_CHOOSER (chooser), "later-frames");
  int frame_steps = 0;

  if (response == GTK_RESPONSE_ACCEPT)
    chosen = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
  /* later frames start from the previous result and need fewer steps (see README) */
  if (g_strcmp0 (pace, "quarter") == 0)
    frame_steps = MAX (1, (int) gtk_adjustment_get_value (self->steps_adjustment) / 4);
  g_clear_object (&self->chooser);
  if (chosen == NULL)
    return;
  path = g_file_get_path (chosen);
  if (path == NULL)
    {
      _bw_window_show_toast (self,
                             _("That folder is not on this computer. Choose a local folder, then paint the video again."));
      return;
    }
  /* the writer makes WebM only: say so in the name rather than fail */
  lower = g_ascii_strdown (path, -1);
  if (!g_str_has_suffix (lower, ".webm"))
    {
      g_autofree char *name = g_strconcat (path, ".webm", NULL);
      g_autoptr(GFile) fixed = g_file_new_for_path (name);

      bw_window_paint_video (self, fixed, frame_steps);
    }
  else
    bw_window_paint_video (self, chosen, frame_steps);
}

void
_bw_window_show_video_dialog (BwWindow *self)
{
  g_autoptr(GtkFileFilter) webm = gtk_file_filter_new ();
  g_autofree char *stem = _bw_window_dup_default_stem (self);
  g_autofree char *name = g_strconcat (stem, ".webm", NULL);

  if (self->chooser)
    return;
  gtk_file_filter_set_name (webm, _("WebM Video"));
  gtk_file_filter_add_mime_type (webm, "video/webm");
  self->chooser = _bw_window_new_save_chooser (self, _("Paint Whole Video"), _("_Paint"), name);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), webm);
  {
    const char *ids[] = { "all", "quarter", NULL };
    const char *labels[] = { _("All steps for every frame"),
                             _("A quarter of the steps after the first frame (faster, steadier)"),
                             NULL };

    gtk_file_chooser_add_choice (GTK_FILE_CHOOSER (self->chooser), "later-frames",
                                 _("Later Frames"), ids, labels);
    gtk_file_chooser_set_choice (GTK_FILE_CHOOSER (self->chooser), "later-frames", "all");
  }
  g_signal_connect (self->chooser, "response", G_CALLBACK (on_video_save_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

void
_bw_window_init_video (BwWindow *self)
{
  g_signal_connect_swapped (self->position_adjustment, "value-changed", G_CALLBACK (on_position_changed), self);
}
