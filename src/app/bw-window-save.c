/* bw-window-save.c: saving the painting, on a thread, and the save dialogs. */
#include <glib/gi18n.h>

#include "bw-autosave.h"
#include "bw-engine.h"
#include "bw-style-row.h"
#include "bw-window-private.h"

#define JPEG_QUALITY 92

static void
save_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  BwImage *image = g_object_get_data (G_OBJECT (task), "image");
  const char *path = task_data;
  GError *error = NULL;

  g_autofree char *rescued = NULL;
  g_autoptr(GError) rescue_error = NULL;

  if (bw_image_save (image, path, JPEG_QUALITY, &error))
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  /* the painting stays unsaved in the window; a copy goes where the CLI puts one */
  rescued = bw_autosave_rescue (image, path, &rescue_error);
  if (rescued != NULL)
    g_task_return_new_error (task, error->domain, error->code,
                             _("%s A copy was kept in “%s”."), error->message, rescued);
  else
    g_task_return_error (task, g_steal_pointer (&error));
  g_clear_error (&error);
}

static void
on_save_thread_done (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  BwWindow *self = BW_WINDOW (object);
  g_autoptr(GTask) task = user_data;
  BwImage *image = g_object_get_data (G_OBJECT (result), "image");
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_task_return_error (task, error);
      return;
    }
  /* a newer frame than the one written is still unsaved */
  if (image == bw_worker_get_image (self->worker))
    {
      self->unsaved = FALSE;
      bw_worker_forget_autosave (self->worker);
    }
  g_task_return_boolean (task, TRUE);
}

void
bw_window_save_async (BwWindow            *self,
                      GFile               *file,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GTask *thread_task;
  BwImage *image;
  char *path;

  g_return_if_fail (BW_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (file));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, bw_window_save_async);
  image = bw_worker_get_image (self->worker);
  if (image == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED,
                               _("There is no painting to save yet. Press Paint first."));
      return;
    }
  path = g_file_get_path (file);
  if (path == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               _("Brushwork can only save to a folder on this computer. Choose a local folder."));
      return;
    }
  /* for the toast: what was written, and where */
  g_object_set_data_full (G_OBJECT (task), "image", g_object_ref (image), g_object_unref);
  g_object_set_data_full (G_OBJECT (task), "file", g_object_ref (file), g_object_unref);
  /* frames are never changed once made, so the thread may read this one */
  thread_task = g_task_new (self, cancellable, on_save_thread_done, g_steal_pointer (&task));
  g_object_set_data_full (G_OBJECT (thread_task), "image", g_object_ref (image), g_object_unref);
  g_task_set_task_data (thread_task, path, g_free);
  g_task_run_in_thread (thread_task, save_thread);
  g_object_unref (thread_task);
}

gboolean
bw_window_save_finish (BwWindow      *self,
                       GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* "Saved", with a way to the file; and when the painting stopped in an early, smaller pass,
 * that the file is smaller than the size chosen. */
static void
tell_saved (BwWindow *self,
            GFile    *file,
            BwImage  *image)
{
  g_autofree char *name = g_file_get_basename (file);
  g_autofree char *uri = g_file_get_uri (file);
  g_autofree char *text = NULL;
  int w = bw_image_get_width (image), h = bw_image_get_height (image);
  int chosen = self->run_params.size;

  if (chosen > 0 && MAX (w, h) < chosen)
    /* Translators: "Saved “cat.png” at 256×160 pixels, smaller than the 1024 chosen: …" */
    text = g_strdup_printf (_("Saved “%s” at %d×%d pixels, smaller than the %d chosen: the "
                              "painting stopped before its last pass."), name, w, h, chosen);
  else
    text = g_strdup_printf (_("Saved “%s”"), name);
  _bw_window_show_toast_with_button (self, text, _("_Open"), "win.open-file",
                                     g_variant_new_string (uri));
}

static void
on_saved (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  BwWindow *self = BW_WINDOW (object);
  g_autoptr(GError) error = NULL;
  gboolean saved = bw_window_save_finish (self, result, &error);

  /* closed meanwhile: the file is written (or not) all the same, and no one is left to tell */
  if (_bw_window_is_closed (self))
    return;
  if (!saved)
    {
      self->close_after_save = FALSE;
      _bw_window_show_toast (self, error->message);
      return;
    }
  if (self->close_after_save)
    {
      gtk_window_destroy (GTK_WINDOW (self));
      return;
    }
  tell_saved (self, g_object_get_data (G_OBJECT (result), "file"),
              g_object_get_data (G_OBJECT (result), "image"));
}

/* ".png" unless the name already says JPEG or PNG. */
static GFile *
with_image_extension (GFile *file)
{
  g_autofree char *name = g_file_get_basename (file);
  g_autofree char *lower = g_ascii_strdown (name, -1);
  g_autofree char *fixed = NULL;
  g_autoptr(GFile) parent = NULL;

  if (g_str_has_suffix (lower, ".png") || g_str_has_suffix (lower, ".jpg") ||
      g_str_has_suffix (lower, ".jpeg"))
    return g_object_ref (file);
  parent = g_file_get_parent (file);
  fixed = g_strconcat (name, ".png", NULL);
  return g_file_get_child (parent, fixed);
}

static void
on_save_response (GtkNativeDialog *chooser,
                  int              response,
                  BwWindow        *self)
{
  g_autoptr(GFile) chosen = NULL;
  g_autoptr(GFile) file = NULL;
  g_autoptr(GFile) folder = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    chosen = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
  g_clear_object (&self->chooser);
  if (chosen == NULL)
    {
      self->close_after_save = FALSE;
      return;
    }
  file = with_image_extension (chosen);
  folder = g_file_get_parent (file);
  if (folder && g_file_peek_path (folder))
    g_settings_set_string (self->settings, "last-folder", g_file_peek_path (folder));
  bw_window_save_async (self, file, self->cancellable, on_saved, NULL);
}

static char *
file_stem (GFile *file)
{
  g_autofree char *name = g_file_get_basename (file);
  char *dot = strrchr (name, '.');

  if (dot && dot != name)
    *dot = '\0';
  return g_steal_pointer (&name);
}

/* "content-style": what the save dialogs propose, before the extension. */
char *
_bw_window_dup_default_stem (BwWindow *self)
{
  g_autofree char *content = NULL;
  g_autofree char *style = NULL;

  content = self->content_file ? file_stem (self->content_file) : g_strdup (_("painting"));
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->style_list));
       child && style == NULL; child = gtk_widget_get_next_sibling (child))
    if (BW_IS_STYLE_ROW (child))
      style = file_stem (bw_style_row_get_file (BW_STYLE_ROW (child)));
  if (style == NULL)
    return g_steal_pointer (&content);
  return g_strdup_printf ("%s-%s", content, style);
}

char *
bw_window_dup_default_name (BwWindow *self)
{
  g_autofree char *stem = NULL;

  g_return_val_if_fail (BW_IS_WINDOW (self), NULL);

  stem = _bw_window_dup_default_stem (self);
  return g_strconcat (stem, ".png", NULL);
}

/* A save dialog proposing @name in the folder last saved to; shown by the caller. */
GtkFileChooserNative *
_bw_window_new_save_chooser (BwWindow   *self,
                             const char *title,
                             const char *accept_label,
                             const char *name)
{
  g_autofree char *folder = g_settings_get_string (self->settings, "last-folder");
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new (title, GTK_WINDOW (self),
                                                               GTK_FILE_CHOOSER_ACTION_SAVE,
                                                               accept_label, NULL);

  const char *pictures = g_get_user_special_dir (G_USER_DIRECTORY_PICTURES);

  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);
  /* the first save goes to Pictures, not the folder the app was started from */
  if (!(*folder && g_file_test (folder, G_FILE_TEST_IS_DIR)) && pictures &&
      g_file_test (pictures, G_FILE_TEST_IS_DIR))
    {
      g_free (folder);
      folder = g_strdup (pictures);
    }
  if (*folder && g_file_test (folder, G_FILE_TEST_IS_DIR))
    {
      g_autoptr(GFile) dir = g_file_new_for_path (folder);
      gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (chooser), dir, NULL);
    }
  return chooser;
}

gboolean
_bw_window_show_save_dialog (BwWindow *self)
{
  g_autoptr(GtkFileFilter) png = gtk_file_filter_new ();
  g_autoptr(GtkFileFilter) jpeg = gtk_file_filter_new ();
  g_autofree char *name = bw_window_dup_default_name (self);

  if (self->chooser)
    return FALSE;
  gtk_file_filter_set_name (png, _("PNG Image"));
  gtk_file_filter_add_mime_type (png, "image/png");
  gtk_file_filter_set_name (jpeg, _("JPEG Image"));
  gtk_file_filter_add_mime_type (jpeg, "image/jpeg");
  self->chooser = _bw_window_new_save_chooser (self, _("Save Painting"), _("_Save"), name);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), png);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), jpeg);
  g_signal_connect (self->chooser, "response", G_CALLBACK (on_save_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
  return TRUE;
}
