/* bw-window-actions.c: the window's actions ("win.*") and its paste binding. */
#include <glib/gi18n.h>

#include "bw-export-dialog.h"
#include "bw-window-private.h"

static void
start_action (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       user_data)
{
  bw_window_start (BW_WINDOW (user_data));
}

static void
pause_action (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       user_data)
{
  bw_worker_pause (BW_WINDOW (user_data)->worker);
}

/* Paused with settings changed meanwhile: resuming paints with them, from the start. */
static void
resume (BwWindow *self)
{
  if (self->restart_pending)
    _bw_window_restart_now (self);
  else
    bw_worker_resume (self->worker);
}

static void
resume_action (GSimpleAction *action,
               GVariant      *parameter,
               gpointer       user_data)
{
  resume (BW_WINDOW (user_data));
}

static void
keep_painting_action (GSimpleAction *action,
                      GVariant      *parameter,
                      gpointer       user_data)
{
  _bw_window_keep_painting (BW_WINDOW (user_data));
}

static void
restart_now_action (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  _bw_window_restart_now (BW_WINDOW (user_data));
}

static void
toggle_pause_action (GSimpleAction *action,
                     GVariant      *parameter,
                     gpointer       user_data)
{
  BwWindow *self = user_data;

  if (bw_worker_get_state (self->worker) == BW_WORKER_PAUSED)
    resume (self);
  else if (_bw_window_is_busy (self))
    bw_worker_pause (self->worker);
}

static void
stop_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  BwWindow *self = user_data;

  g_clear_handle_id (&self->restart_source, g_source_remove);
  bw_worker_stop (self->worker);
}

/* The painting's settings back to what a first start has (the schema's defaults). */
static void
reset_settings_action (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  BwWindow *self = user_data;
  const char *keys[] = { "preset", "optimizer", "style-weight", "content-weight", "smoothness",
                         "size", "steps", "preserve-colors" };

  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    g_settings_reset (self->settings, keys[i]);
}

/* A saved file, in the app the desktop opens it with. */
static void
open_file_action (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       user_data)
{
  gtk_show_uri (GTK_WINDOW (user_data), g_variant_get_string (parameter, NULL), GDK_CURRENT_TIME);
}

static void
paint_video_action (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  _bw_window_show_video_dialog (BW_WINDOW (user_data));
}

static void
on_animation_exported (BwExportDialog *dialog,
                       GFile          *file,
                       BwWindow       *self)
{
  g_autofree char *name = g_file_get_basename (file);
  g_autofree char *text = g_strdup_printf (_("Saved the animation “%s”"), name);

  _bw_window_show_toast (self, text);
}

static void
export_animation_action (GSimpleAction *action,
                         GVariant      *parameter,
                         gpointer       user_data)
{
  BwWindow *self = user_data;
  BwFrameRecorder *recording = bw_worker_get_recording (self->worker);
  g_autofree char *stem = _bw_window_dup_default_stem (self);
  BwExportDialog *dialog;

  if (recording == NULL)
    return;
  dialog = bw_export_dialog_new (GTK_WINDOW (self), recording, stem);
  g_signal_connect_object (dialog, "exported", G_CALLBACK (on_animation_exported), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
save_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  _bw_window_show_save_dialog (BW_WINDOW (user_data));
}

static void
open_content_action (GSimpleAction *action,
                     GVariant      *parameter,
                     gpointer       user_data)
{
  _bw_window_show_open_dialog (BW_WINDOW (user_data), TRUE);
}

static void
add_style_action (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       user_data)
{
  _bw_window_show_open_dialog (BW_WINDOW (user_data), FALSE);
}

static void
paste_action (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       user_data)
{
  _bw_window_paste (BW_WINDOW (user_data));
}

/* A binding, not an accelerator, so a focused text field pastes text first. */
static gboolean
paste_binding (GtkWidget *widget,
               GVariant  *args,
               gpointer   user_data)
{
  paste_action (NULL, NULL, widget);
  return TRUE;
}

static const GActionEntry win_actions[] = {
  { "start", start_action },
  { "pause", pause_action },
  { "resume", resume_action },
  { "toggle-pause", toggle_pause_action },
  { "stop", stop_action },
  { "keep-painting", keep_painting_action },
  { "restart-now", restart_now_action },
  { "open-file", open_file_action, "s" },
  { "reset-settings", reset_settings_action },
  { "save", save_action },
  { "paint-video", paint_video_action },
  { "export-animation", export_animation_action },
  { "open-content", open_content_action },
  { "add-style", add_style_action },
  { "paste", paste_action },
};

void
_bw_window_class_init_actions (GtkWidgetClass *widget_class)
{
  gtk_widget_class_add_binding (widget_class, GDK_KEY_v, GDK_CONTROL_MASK, paste_binding, NULL);
}

void
_bw_window_init_actions (BwWindow *self)
{
  g_action_map_add_action_entries (G_ACTION_MAP (self), win_actions, G_N_ELEMENTS (win_actions), self);
}
