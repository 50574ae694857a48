/* bw-preview.c: the painting as it forms, scaled to fit or zoomed, with the photo a press
 * away for comparison.
 *
 * Fitting is GtkPicture's own shrinking; a zoom gives the picture a size request and lets
 * the scrolled window scroll it, as Loupe does without its own renderer.
 */
#include <glib/gi18n.h>

#include <math.h>

#include "bw-preview.h"

#define MIN_ZOOM 0.1
#define MAX_ZOOM 16.0

struct _BwPreview
{
  GtkWidget parent_instance;

  GtkScrolledWindow *scroller;
  GtkPicture *picture;
  GtkToggleButton *fit_button;
  GtkWidget *compare_button;
  GtkLabel *zoom_label;

  GdkTexture *texture;
  GdkTexture *original;
  double zoom;
  double zoom_at_gesture_start;
  gboolean show_original;
};

G_DEFINE_FINAL_TYPE (BwPreview, bw_preview, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_TEXTURE,
  PROP_ZOOM,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static GdkTexture *
shown_texture (BwPreview *self)
{
  return self->show_original && self->original ? self->original : self->texture;
}

static void
update_picture (BwPreview *self)
{
  GdkTexture *texture = shown_texture (self);

  gtk_picture_set_paintable (self->picture, GDK_PAINTABLE (texture));
  if (self->zoom > 0 && self->texture)
    {
      /* the painting's size sets the scale, so the photo overlays it exactly */
      int w = gdk_texture_get_width (self->texture);
      int h = gdk_texture_get_height (self->texture);

      gtk_widget_set_size_request (GTK_WIDGET (self->picture), (int) (w * self->zoom),
                                   (int) (h * self->zoom));
      gtk_picture_set_can_shrink (self->picture, FALSE);
    }
  else
    {
      gtk_widget_set_size_request (GTK_WIDGET (self->picture), -1, -1);
      gtk_picture_set_can_shrink (self->picture, TRUE);
    }
}

static void
update_zoom_label (BwPreview *self)
{
  g_autofree char *text = NULL;

  if (self->zoom > 0)
    text = g_strdup_printf ("%d %%", (int) (self->zoom * 100 + 0.5));
  gtk_label_set_label (self->zoom_label, text ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->zoom_label), text != NULL);
  gtk_toggle_button_set_active (self->fit_button, self->zoom == 0);
}

/* The zoom the fitted picture has now, so zooming from fit starts where the eye is. */
static double
current_zoom (BwPreview *self)
{
  int w, h;

  if (self->zoom > 0 || self->texture == NULL)
    return self->zoom > 0 ? self->zoom : 1;
  w = gtk_widget_get_width (GTK_WIDGET (self->scroller));
  h = gtk_widget_get_height (GTK_WIDGET (self->scroller));
  return MIN (1.0 * w / gdk_texture_get_width (self->texture),
              1.0 * h / gdk_texture_get_height (self->texture));
}

static gboolean
on_scroll (GtkEventControllerScroll *controller,
           double                    dx,
           double                    dy,
           BwPreview                *self)
{
  GdkModifierType state = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (controller));

  if (!(state & GDK_CONTROL_MASK) || self->texture == NULL)
    return FALSE;
  bw_preview_set_zoom (self, current_zoom (self) * pow (1.1, -dy));
  return TRUE;
}

static void
on_zoom_begin (GtkGesture       *gesture,
               GdkEventSequence *sequence,
               BwPreview        *self)
{
  self->zoom_at_gesture_start = current_zoom (self);
}

static void
on_zoom_scale_changed (GtkGestureZoom *gesture,
                       double          scale,
                       BwPreview      *self)
{
  if (self->texture)
    bw_preview_set_zoom (self, self->zoom_at_gesture_start * scale);
}

static void
on_compare_pressed (GtkGestureClick *gesture,
                    int              n_press,
                    double           x,
                    double           y,
                    BwPreview       *self)
{
  bw_preview_set_show_original (self, TRUE);
}

static void
on_compare_released (BwPreview *self)
{
  bw_preview_set_show_original (self, FALSE);
}

static void
on_fit_toggled (BwPreview *self)
{
  if (gtk_toggle_button_get_active (self->fit_button))
    bw_preview_set_zoom (self, 0);
  else if (self->zoom == 0)
    bw_preview_set_zoom (self, 1);
}

static void
on_original_size_clicked (BwPreview *self)
{
  bw_preview_set_zoom (self, 1);
}

static void
bw_preview_dispose (GObject *object)
{
  BwPreview *self = BW_PREVIEW (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), BW_TYPE_PREVIEW);
  /* a widget, unlike a window, unparents its own children */
  for (GtkWidget *child; (child = gtk_widget_get_first_child (GTK_WIDGET (self)));)
    gtk_widget_unparent (child);
  g_clear_object (&self->texture);
  g_clear_object (&self->original);
  G_OBJECT_CLASS (bw_preview_parent_class)->dispose (object);
}

static void
bw_preview_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  BwPreview *self = BW_PREVIEW (object);

  switch (prop_id)
    {
    case PROP_TEXTURE:
      g_value_set_object (value, self->texture);
      break;
    case PROP_ZOOM:
      g_value_set_double (value, self->zoom);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bw_preview_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  BwPreview *self = BW_PREVIEW (object);

  switch (prop_id)
    {
    case PROP_TEXTURE:
      bw_preview_set_texture (self, g_value_get_object (value));
      break;
    case PROP_ZOOM:
      bw_preview_set_zoom (self, g_value_get_double (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
zoom_fit_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  bw_preview_set_zoom (BW_PREVIEW (widget), 0);
}

static void
zoom_original_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  bw_preview_set_zoom (BW_PREVIEW (widget), 1);
}

static void
bw_preview_class_init (BwPreviewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = bw_preview_dispose;
  object_class->get_property = bw_preview_get_property;
  object_class->set_property = bw_preview_set_property;

  properties[PROP_TEXTURE] =
    g_param_spec_object ("texture", NULL, NULL, GDK_TYPE_TEXTURE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ZOOM] =
    g_param_spec_double ("zoom", NULL, NULL, 0, MAX_ZOOM, 0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/brushwork/Brushwork/bw-preview.ui");
  gtk_widget_class_bind_template_child (widget_class, BwPreview, scroller);
  gtk_widget_class_bind_template_child (widget_class, BwPreview, picture);
  gtk_widget_class_bind_template_child (widget_class, BwPreview, fit_button);
  gtk_widget_class_bind_template_child (widget_class, BwPreview, compare_button);
  gtk_widget_class_bind_template_child (widget_class, BwPreview, zoom_label);
  gtk_widget_class_bind_template_callback (widget_class, on_fit_toggled);
  gtk_widget_class_bind_template_callback (widget_class, on_original_size_clicked);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "bw-preview");

  gtk_widget_class_install_action (widget_class, "preview.zoom-fit", NULL, zoom_fit_action);
  gtk_widget_class_install_action (widget_class, "preview.zoom-original", NULL, zoom_original_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_0, GDK_CONTROL_MASK, "preview.zoom-fit", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_1, GDK_CONTROL_MASK, "preview.zoom-original", NULL);
}

static void
bw_preview_init (BwPreview *self)
{
  GtkEventController *scroll;
  GtkGesture *zoom, *click;

  gtk_widget_init_template (GTK_WIDGET (self));

  scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  /* before the scrolled window, which would scroll instead */
  gtk_event_controller_set_propagation_phase (scroll, GTK_PHASE_CAPTURE);
  g_signal_connect (scroll, "scroll", G_CALLBACK (on_scroll), self);
  gtk_widget_add_controller (GTK_WIDGET (self), scroll);

  zoom = gtk_gesture_zoom_new ();
  g_signal_connect (zoom, "begin", G_CALLBACK (on_zoom_begin), self);
  g_signal_connect (zoom, "scale-changed", G_CALLBACK (on_zoom_scale_changed), self);
  gtk_widget_add_controller (GTK_WIDGET (self->scroller), GTK_EVENT_CONTROLLER (zoom));

  /* the photo shows while the button is held, the way Loupe-like viewers compare */
  click = gtk_gesture_click_new ();
  g_signal_connect (click, "pressed", G_CALLBACK (on_compare_pressed), self);
  g_signal_connect_swapped (click, "released", G_CALLBACK (on_compare_released), self);
  g_signal_connect_swapped (click, "stopped", G_CALLBACK (on_compare_released), self);
  g_signal_connect_swapped (click, "cancel", G_CALLBACK (on_compare_released), self);
  gtk_widget_add_controller (self->compare_button, GTK_EVENT_CONTROLLER (click));

  update_zoom_label (self);
}

GdkTexture *
bw_preview_get_texture (BwPreview *self)
{
  g_return_val_if_fail (BW_IS_PREVIEW (self), NULL);
  return self->texture;
}

void
bw_preview_set_texture (BwPreview  *self,
                        GdkTexture *texture)
{
  g_return_if_fail (BW_IS_PREVIEW (self));

  if (!g_set_object (&self->texture, texture))
    return;
  update_picture (self);
  gtk_widget_set_sensitive (self->compare_button, texture && self->original);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXTURE]);
}

void
bw_preview_set_original (BwPreview  *self,
                         GdkTexture *original)
{
  g_return_if_fail (BW_IS_PREVIEW (self));

  if (!g_set_object (&self->original, original))
    return;
  update_picture (self);
  gtk_widget_set_sensitive (self->compare_button, self->texture && original);
}

double
bw_preview_get_zoom (BwPreview *self)
{
  g_return_val_if_fail (BW_IS_PREVIEW (self), 0);
  return self->zoom;
}

void
bw_preview_set_zoom (BwPreview *self,
                     double     zoom)
{
  g_return_if_fail (BW_IS_PREVIEW (self));

  if (zoom != 0)
    zoom = CLAMP (zoom, MIN_ZOOM, MAX_ZOOM);
  if (zoom == self->zoom)
    return;
  self->zoom = zoom;
  update_picture (self);
  update_zoom_label (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOM]);
}

void
bw_preview_set_show_original (BwPreview *self,
                              gboolean   show_original)
{
  g_return_if_fail (BW_IS_PREVIEW (self));

  show_original = !!show_original;
  if (show_original == self->show_original)
    return;
  self->show_original = show_original;
  update_picture (self);
}
