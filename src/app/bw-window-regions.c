/* bw-window-regions.c: the window's Regions mode: the region editor in place of the preview,
 * and its masks handed to the worker with each start. */
#include <glib/gi18n.h>

#include "bw-region-editor.h"
#include "bw-window-private.h"

/* The editor on the current photo and style list (a new photo clears the masks). */
static void
sync_editor (BwWindow *self)
{
  GdkTexture *photo = bw_image_pane_get_texture (self->content_pane);

  if (photo != self->regions_photo)
    {
      g_set_object (&self->regions_photo, photo);
      /* another photo: its regions are to be painted anew */
      bw_region_editor_set_n_styles (self->region_editor, 0);
      if (photo)
        bw_region_editor_set_photo (self->region_editor, photo);
    }
  bw_region_editor_set_n_styles (self->region_editor, _bw_window_count_styles (self));
}

static void
on_regions_toggled (BwWindow *self)
{
  if (gtk_toggle_button_get_active (self->regions_button))
    {
      if (bw_image_pane_get_texture (self->content_pane) == NULL || self->content_is_video)
        {
          gtk_toggle_button_set_active (self->regions_button, FALSE);
          _bw_window_show_toast (self, self->content_is_video ?
                                 _("Regions are painted on a photo, not on a video.") :
                                 _("Open a photo first: regions are painted on it."));
          return;
        }
      sync_editor (self);
      gtk_stack_set_visible_child_name (self->preview_stack, "regions");
    }
  else
    gtk_stack_set_visible_child_name (self->preview_stack,
                                      bw_preview_get_texture (self->preview) ? "preview" : "empty");
}

/* A mask changed: the painting under way restarts with it. */
static void
on_regions_changed (BwWindow *self)
{
  _bw_window_queue_restart (self);
}

void
_bw_window_init_regions (BwWindow *self)
{
  g_signal_connect_swapped (self->regions_button, "toggled", G_CALLBACK (on_regions_toggled), self);
  g_signal_connect_swapped (self->region_editor, "changed", G_CALLBACK (on_regions_changed), self);
}

void
_bw_window_class_init_regions (GtkWidgetClass *widget_class)
{
  g_type_ensure (BW_TYPE_REGION_EDITOR);
  gtk_widget_class_bind_template_child (widget_class, BwWindow, regions_button);
  gtk_widget_class_bind_template_child (widget_class, BwWindow, region_editor);
}

static void
unref_if_set (gpointer object)
{
  g_clear_object (&object);
}

GPtrArray *
_bw_window_get_masks (BwWindow *self)
{
  GPtrArray *masks;
  guint n;

  if (self->content_is_video || self->regions_photo == NULL)
    return NULL;
  sync_editor (self);
  if (!bw_region_editor_has_masks (self->region_editor))
    return NULL;
  n = bw_region_editor_get_n_styles (self->region_editor);
  masks = g_ptr_array_new_with_free_func (unref_if_set);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (masks, bw_region_editor_get_mask (self->region_editor, i));
  return masks;
}

void
_bw_window_after_start_regions (BwWindow *self)
{
  /* painting from the Regions mode keeps it in view: the preview is a toggle away */
  if (gtk_toggle_button_get_active (self->regions_button))
    gtk_stack_set_visible_child_name (self->preview_stack, "regions");
}
