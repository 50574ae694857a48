/* bw-window-open.c: images coming into the window: the photo and the styles, opened,
 * dropped or pasted, read off the main thread. */
#include <glib/gi18n.h>

#include "bw-style-row.h"
#include "bw-texture.h"
#include "bw-window-private.h"

#define MAX_SIZE 4096

void
_bw_window_load_finished (BwWindow *self)
{
  self->pending_loads--;
  _bw_window_remove_temporary_files (self, FALSE);
  if (self->pending_loads == 0 && self->start_when_loaded)
    {
      self->start_when_loaded = FALSE;
      bw_window_start (self);
    }
}

void
_bw_window_load_free (BwWindowLoad *load)
{
  g_object_unref (load->window);
  g_clear_object (&load->file);
  g_free (load);
}

BwWindowLoad *
_bw_window_load_new (BwWindow *self,
                     GFile    *file,
                     gboolean  as_content)
{
  BwWindowLoad *load = g_new0 (BwWindowLoad, 1);

  load->window = g_object_ref (self);
  load->file = file ? g_object_ref (file) : NULL;
  load->as_content = as_content;
  self->pending_loads++;
  return load;
}

void
_bw_window_show_content_frame (BwWindow   *self,
                               GdkTexture *texture)
{
  bw_image_pane_set_texture (self->content_pane, texture);
  bw_preview_set_original (self->preview, texture);
}

/* A painting larger than the photo only adds blur: the size goes up to the photo's own
 * (read from the file's header), and never past 4096. */
static void
update_size_limit (BwWindow *self)
{
  const char *path = self->content_file && !self->content_is_video ?
                     g_file_peek_path (self->content_file) : NULL;
  int w = 0, h = 0;
  double upper = MAX_SIZE;

  if (path && gdk_pixbuf_get_file_info (path, &w, &h) && w > 0 && h > 0)
    upper = MIN (MAX_SIZE, MAX (w, h));
  upper = MAX (upper, gtk_adjustment_get_lower (self->size_adjustment));
  gtk_adjustment_set_upper (self->size_adjustment, upper);
  if (gtk_adjustment_get_value (self->size_adjustment) > upper)
    gtk_adjustment_set_value (self->size_adjustment, upper);
}

/* @duration: 0 for a photo; a video's length (-1 when unknown) */
static void
set_content (BwWindow   *self,
             GFile      *file,
             GdkTexture *texture,
             double      duration)
{
  g_set_object (&self->content_file, file);
  self->content_is_video = duration != 0;
  self->content_duration = duration;
  _bw_window_show_content_frame (self, texture);
  /* a length the container does not give cannot be scrubbed: the first frame is painted */
  gtk_widget_set_visible (self->video_box, duration > 0);
  self->frame_wanted = FALSE;
  gtk_adjustment_configure (self->position_adjustment, 0, 0, MAX (duration, 0), 1.0 / 25, 1, 0);
  update_size_limit (self);
  _bw_window_update_actions (self);
  _bw_window_queue_restart (self);
}

static void
on_style_remove (BwStyleRow *row,
                 BwWindow   *self)
{
  gtk_list_box_remove (self->style_list, GTK_WIDGET (row));
  _bw_window_remove_temporary_files (self, FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->style_list), _bw_window_count_styles (self) > 0);
  _bw_window_update_actions (self);
  _bw_window_queue_restart (self);
}

static void
add_style_row (BwWindow   *self,
               GFile      *file,
               GdkTexture *texture)
{
  BwStyleRow *row = bw_style_row_new (file, texture);

  g_signal_connect (row, "remove", G_CALLBACK (on_style_remove), self);
  g_signal_connect_swapped (row, "notify::blend", G_CALLBACK (_bw_window_queue_restart), self);
  gtk_list_box_append (self->style_list, GTK_WIDGET (row));
  gtk_widget_set_visible (GTK_WIDGET (self->style_list), TRUE);
  _bw_window_update_actions (self);
  _bw_window_queue_restart (self);
}

static void
on_image_loaded (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(BwWindowLoad) load = user_data;
  BwWindow *self = load->window;
  g_autoptr(GError) error = NULL;
  double duration = 0;
  g_autoptr(GdkTexture) texture = bw_texture_load_frame_finish (result, &duration, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (texture == NULL)
    _bw_window_show_toast (self, error->message);
  else if (load->as_content)
    set_content (self, load->file, texture, duration);
  else
    add_style_row (self, load->file, texture);
  _bw_window_load_finished (self);
}

static void
load_file (BwWindow *self,
           GFile    *file,
           gboolean  as_content)
{
  bw_texture_load_async (file, as_content ? CONTENT_TEXTURE_SIZE : STYLE_TEXTURE_SIZE,
                         self->cancellable, on_image_loaded,
                         _bw_window_load_new (self, file, as_content));
}

void
bw_window_open_content (BwWindow *self,
                        GFile    *file)
{
  g_return_if_fail (BW_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (file));

  load_file (self, file, TRUE);
}

void
bw_window_add_style (BwWindow *self,
                     GFile    *file)
{
  g_return_if_fail (BW_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (file));

  load_file (self, file, FALSE);
}

void
bw_window_open_files (BwWindow  *self,
                      GFile    **files,
                      int        n_files)
{
  g_return_if_fail (BW_IS_WINDOW (self));

  for (int i = 0; i < n_files; i++)
    {
      if (i == 0)
        bw_window_open_content (self, files[i]);
      else
        bw_window_add_style (self, files[i]);
    }
}

/* Files dropped on the photo: the first is the photo, any others are styles. */
static void
on_content_files_dropped (BwWindow *self,
                          GSList   *files)
{
  for (GSList *l = files; l; l = l->next)
    {
      if (l == files)
        bw_window_open_content (self, l->data);
      else
        bw_window_add_style (self, l->data);
    }
}

static void
on_style_files_dropped (BwWindow *self,
                        GSList   *files)
{
  for (GSList *l = files; l; l = l->next)
    bw_window_add_style (self, l->data);
}

static void
on_temporary_saved (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(BwWindowLoad) load = user_data;
  BwWindow *self = load->window;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = bw_texture_save_temporary_finish (result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (file == NULL)
    _bw_window_show_toast (self, error->message);
  else
    {
      g_ptr_array_add (self->temporary_files, g_object_ref (file));
      load_file (self, file, load->as_content);
    }
  /* after the file's own load is counted, so a waiting start waits for it too */
  _bw_window_load_finished (self);
}

static gboolean
is_in_use (BwWindow *self,
           GFile    *file)
{
  if (self->content_file && g_file_equal (file, self->content_file))
    return TRUE;
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->style_list));
       child; child = gtk_widget_get_next_sibling (child))
    if (BW_IS_STYLE_ROW (child) && g_file_equal (file, bw_style_row_get_file (BW_STYLE_ROW (child))))
      return TRUE;
  return FALSE;
}

void
_bw_window_remove_temporary_files (BwWindow *self,
                                   gboolean  all)
{
  /* a pending load may be of a stored image not yet shown; a run under way (or queued) may
   * still read the photo and styles it started with */
  if (!all && (self->worker == NULL || self->pending_loads > 0 || _bw_window_is_busy (self)))
    return;
  for (guint i = self->temporary_files->len; i-- > 0;)
    {
      GFile *file = g_ptr_array_index (self->temporary_files, i);

      if (!all && is_in_use (self, file))
        continue;
      bw_texture_remove_temporary (file);
      g_ptr_array_remove_index_fast (self->temporary_files, i);
    }
}

/* An image from another app has no file: store one, so the worker can read it. */
static void
take_texture (BwWindow   *self,
              GdkTexture *texture,
              gboolean    as_content)
{
  bw_texture_save_temporary_async (texture, self->cancellable, on_temporary_saved,
                                   _bw_window_load_new (self, NULL, as_content));
}

static void
on_content_texture_dropped (BwWindow   *self,
                            GdkTexture *texture)
{
  take_texture (self, texture, TRUE);
}

static void
on_style_texture_dropped (BwWindow   *self,
                          GdkTexture *texture)
{
  take_texture (self, texture, FALSE);
}

static void
on_open_response (GtkNativeDialog *chooser,
                  int              response,
                  BwWindow        *self)
{
  gboolean as_content = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (chooser), "as-content"));

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GListModel) files = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (chooser));

      for (guint i = 0; i < g_list_model_get_n_items (files); i++)
        {
          g_autoptr(GFile) file = g_list_model_get_item (files, i);

          if (as_content && i == 0)
            bw_window_open_content (self, file);
          else
            bw_window_add_style (self, file);
        }
    }
  g_clear_object (&self->chooser);
}

void
_bw_window_show_open_dialog (BwWindow *self,
                             gboolean  as_content)
{
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  if (self->chooser)
    return;
  gtk_file_filter_set_name (filter, as_content ? _("Images and Videos") : _("Images"));
  gtk_file_filter_add_mime_type (filter, "image/png");
  gtk_file_filter_add_mime_type (filter, "image/jpeg");
  gtk_file_filter_add_mime_type (filter, "image/webp");
  gtk_file_filter_add_mime_type (filter, "image/tiff");
  /* a video as content: one frame is painted live, the whole of it on request */
  if (as_content)
    gtk_file_filter_add_mime_type (filter, "video/*");
  self->chooser = gtk_file_chooser_native_new (as_content ? _("Open a Photo") : _("Add Styles"),
                                               GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_OPEN,
                                               as_content ? _("_Open") : _("_Add"), NULL);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), filter);
  gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (self->chooser), !as_content);
  g_object_set_data (G_OBJECT (self->chooser), "as-content", GINT_TO_POINTER (as_content));
  g_signal_connect (self->chooser, "response", G_CALLBACK (on_open_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
on_content_open (BwWindow *self)
{
  _bw_window_show_open_dialog (self, TRUE);
}

static void
on_style_open (BwWindow *self)
{
  _bw_window_show_open_dialog (self, FALSE);
}

static void
on_paste_files (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(BwWindow) self = user_data;
  const GValue *value = gdk_clipboard_read_value_finish (GDK_CLIPBOARD (object), result, NULL);

  if (_bw_window_is_closed (self))
    return;
  if (value == NULL || !G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    {
      _bw_window_show_toast (self, _("The clipboard holds no image. Copy an image or an image file, then paste again."));
      return;
    }
  if (self->content_file == NULL)
    on_content_files_dropped (self, g_value_get_boxed (value));
  else
    on_style_files_dropped (self, g_value_get_boxed (value));
}

static void
on_paste_texture (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(BwWindow) self = user_data;
  g_autoptr(GdkTexture) texture = gdk_clipboard_read_texture_finish (GDK_CLIPBOARD (object), result, NULL);

  /* closed meanwhile: a local clipboard answers even a cancelled read */
  if (_bw_window_is_closed (self))
    return;
  if (texture == NULL)
    {
      _bw_window_show_toast (self, _("The clipboard holds no image. Copy an image or an image file, then paste again."));
      return;
    }
  take_texture (self, texture, self->content_file == NULL);
}

/* Paste fills the photo first, then adds styles. */
void
_bw_window_paste (BwWindow *self)
{
  GdkClipboard *clipboard = gtk_widget_get_clipboard (GTK_WIDGET (self));
  GdkContentFormats *formats = gdk_clipboard_get_formats (clipboard);

  if (gdk_content_formats_contain_gtype (formats, GDK_TYPE_FILE_LIST))
    gdk_clipboard_read_value_async (clipboard, GDK_TYPE_FILE_LIST, G_PRIORITY_DEFAULT,
                                    self->cancellable, on_paste_files, g_object_ref (self));
  else
    gdk_clipboard_read_texture_async (clipboard, self->cancellable, on_paste_texture,
                                      g_object_ref (self));
}

void
_bw_window_class_init_open (GtkWidgetClass *widget_class)
{
  gtk_widget_class_bind_template_callback (widget_class, on_content_open);
  gtk_widget_class_bind_template_callback (widget_class, on_content_files_dropped);
  gtk_widget_class_bind_template_callback (widget_class, on_content_texture_dropped);
  gtk_widget_class_bind_template_callback (widget_class, on_style_open);
  gtk_widget_class_bind_template_callback (widget_class, on_style_files_dropped);
  gtk_widget_class_bind_template_callback (widget_class, on_style_texture_dropped);
}
