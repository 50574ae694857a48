/* bw-preview.c: the painting as it forms, scaled to fit or zoomed, with the photo a press
 * away for comparison, or beside it, split by a divider.
 *
 * A BwComparePicture draws the images; zoomed, it asks for the image's size times the zoom
 * and the scrolled window scrolls it, as Loupe does without its own renderer. A zoom keeps
 * the image point under the pointer (Ctrl+scroll) or the view's centre (the actions) where
 * it was, by moving the scroll position once the new size is laid out.
 */
#include <glib/gi18n.h>

#include <math.h>

#include "bw-compare-picture.h"
#include "bw-preview.h"

#define MIN_ZOOM 0.1
#define MAX_ZOOM 16.0
#define ZOOM_STEP 1.25
/* As Loupe: the controls over the image fade out when the pointer rests or leaves. */
#define HIDE_CONTROLS_SECONDS 3

struct _BwPreview
{
  GtkWidget parent_instance;

  GtkScrolledWindow *scroller;
  BwComparePicture *picture;
  GtkToggleButton *fit_button;
  GtkWidget *compare_button;
  GtkLabel *zoom_label;
  GtkWidget *controls;
  GtkEventController *controls_motion;
  guint hide_source;

  double zoom_at_gesture_start;

  /* a zoom's anchor: the image point (fractions of its size) that stays at a point of the
   * view (scroller coordinates) once the new size is laid out, in the next frame */
  gboolean anchor_pending;
  gulong after_paint_handler;
  GdkFrameClock *frame_clock;
  double anchor_fx, anchor_fy;
  double anchor_vx, anchor_vy;
};

G_DEFINE_FINAL_TYPE (BwPreview, bw_preview, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_TEXTURE,
  PROP_ZOOM,
  PROP_SPLIT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
update_zoom_label (BwPreview *self)
{
  g_autofree char *text = NULL;
  double zoom = bw_compare_picture_get_zoom (self->picture);

  if (zoom > 0)
    /* Translators: a zoom level, "439%"; write it as your language does ("439 %") */
    text = g_strdup_printf (C_("zoom", "%d%%"), (int) (zoom * 100 + 0.5));
  gtk_label_set_label (self->zoom_label, text ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->zoom_label), text != NULL);
  gtk_toggle_button_set_active (self->fit_button, zoom == 0);
}

static void
update_sensitivity (BwPreview *self)
{
  gboolean both = bw_compare_picture_get_texture (self->picture) &&
                  bw_compare_picture_get_original (self->picture);

  gtk_widget_set_sensitive (self->compare_button, both);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "preview.split", both);
}

/* The zoom the fitted picture has now, so zooming from fit starts where the eye is. */
static double
current_zoom (BwPreview *self)
{
  double zoom = bw_compare_picture_get_zoom (self->picture);
  int iw, ih, w, h;

  bw_compare_picture_get_image_dimensions (self->picture, &iw, &ih);
  if (zoom > 0 || iw == 0)
    return zoom > 0 ? zoom : 1;
  w = gtk_widget_get_width (GTK_WIDGET (self->scroller));
  h = gtk_widget_get_height (GTK_WIDGET (self->scroller));
  if (w <= 0 || h <= 0)
    return 1;
  return MIN (1.0 * w / iw, 1.0 * h / ih);
}

static void
clear_anchor (BwPreview *self)
{
  self->anchor_pending = FALSE;
  if (self->frame_clock)
    g_clear_signal_handler (&self->after_paint_handler, self->frame_clock);
  g_clear_object (&self->frame_clock);
}

/* The frame that laid out the new size is drawn: the anchor has done its work. */
static void
on_after_paint (GdkFrameClock *clock,
                BwPreview     *self)
{
  clear_anchor (self);
}

/* Zooms so that the image point now at (vx, vy) of the view stays there. */
static void
zoom_at (BwPreview *self,
         double     zoom,
         double     vx,
         double     vy)
{
  GtkAdjustment *hadj = gtk_scrolled_window_get_hadjustment (self->scroller);
  GtkAdjustment *vadj = gtk_scrolled_window_get_vadjustment (self->scroller);
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (self));
  graphene_rect_t bounds;

  clear_anchor (self);
  if (clock && bw_compare_picture_get_image_bounds (self->picture, &bounds) &&
      bounds.size.width > 0 && bounds.size.height > 0)
    {
      /* the picture sits at minus the scroll position in the view */
      double px = vx + gtk_adjustment_get_value (hadj);
      double py = vy + gtk_adjustment_get_value (vadj);

      self->anchor_fx = CLAMP ((px - bounds.origin.x) / bounds.size.width, 0, 1);
      self->anchor_fy = CLAMP ((py - bounds.origin.y) / bounds.size.height, 0, 1);
      self->anchor_vx = vx;
      self->anchor_vy = vy;
      self->anchor_pending = TRUE;
      self->frame_clock = g_object_ref (clock);
      self->after_paint_handler = g_signal_connect (clock, "after-paint",
                                                    G_CALLBACK (on_after_paint), self);
    }
  bw_preview_set_zoom (self, zoom);
}

/* Zooms about the view's centre. */
static void
zoom_to (BwPreview *self,
         double     zoom)
{
  zoom_at (self, zoom,
           gtk_widget_get_width (GTK_WIDGET (self->scroller)) / 2.0,
           gtk_widget_get_height (GTK_WIDGET (self->scroller)) / 2.0);
}

/* The viewport has configured an adjustment for the new size: scroll so the anchor stays
 * where it was in the view. */
static void
apply_anchor (BwPreview     *self,
              GtkAdjustment *adjustment,
              gboolean       horizontal)
{
  double zoom = bw_compare_picture_get_zoom (self->picture);
  double upper = gtk_adjustment_get_upper (adjustment);
  double page = gtk_adjustment_get_page_size (adjustment);
  double size, origin, f, v;
  int iw, ih;

  if (!self->anchor_pending || zoom <= 0)
    return;
  bw_compare_picture_get_image_dimensions (self->picture, &iw, &ih);
  size = (horizontal ? iw : ih) * zoom;
  /* where the picture centres the image in its allocation, which is the adjustment's range */
  origin = floor ((MAX (upper, page) - size) / 2);
  f = horizontal ? self->anchor_fx : self->anchor_fy;
  v = horizontal ? self->anchor_vx : self->anchor_vy;
  /* the anchor stays until the frame is drawn: a layout may configure an axis twice */
  gtk_adjustment_set_value (adjustment, CLAMP (origin + f * size - v, 0, MAX (0, upper - page)));
}

static void
on_hadjustment_changed (GtkAdjustment *adjustment,
                        BwPreview     *self)
{
  apply_anchor (self, adjustment, TRUE);
}

static void
on_vadjustment_changed (GtkAdjustment *adjustment,
                        BwPreview     *self)
{
  apply_anchor (self, adjustment, FALSE);
}

static gboolean
on_scroll (GtkEventControllerScroll *controller,
           double                    dx,
           double                    dy,
           BwPreview                *self)
{
  GtkEventController *ec = GTK_EVENT_CONTROLLER (controller);
  GdkModifierType state = gtk_event_controller_get_current_event_state (ec);
  GdkEvent *event = gtk_event_controller_get_current_event (ec);
  GtkNative *native = gtk_widget_get_native (GTK_WIDGET (self));
  double vx = gtk_widget_get_width (GTK_WIDGET (self->scroller)) / 2.0;
  double vy = gtk_widget_get_height (GTK_WIDGET (self->scroller)) / 2.0;
  double ex, ey, nx, ny;

  if (!(state & GDK_CONTROL_MASK) || bw_compare_picture_get_texture (self->picture) == NULL)
    return FALSE;
  /* zoom about the pointer: the event is in the surface's coordinates */
  if (event && native && gdk_event_get_position (event, &ex, &ey))
    {
      graphene_point_t p;

      gtk_native_get_surface_transform (native, &nx, &ny);
      if (gtk_widget_compute_point (GTK_WIDGET (native), GTK_WIDGET (self->scroller),
                                    &GRAPHENE_POINT_INIT (ex - nx, ey - ny), &p))
        {
          vx = p.x;
          vy = p.y;
        }
    }
  zoom_at (self, current_zoom (self) * pow (1.1, -dy), vx, vy);
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
  double x, y;

  if (bw_compare_picture_get_texture (self->picture) == NULL)
    return;
  if (gtk_gesture_get_bounding_box_center (GTK_GESTURE (gesture), &x, &y))
    zoom_at (self, self->zoom_at_gesture_start * scale, x, y);
  else
    bw_preview_set_zoom (self, self->zoom_at_gesture_start * scale);
}

static void
on_compare_pressed (BwPreview *self)
{
  bw_preview_set_show_original (self, TRUE);
}

static void
on_compare_released (BwPreview *self)
{
  bw_preview_set_show_original (self, FALSE);
}

/* The keyboard's hold: Space or Enter held on the focused button, as a pointer's press. */
static gboolean
is_activate_key (guint keyval)
{
  return keyval == GDK_KEY_space || keyval == GDK_KEY_Return || keyval == GDK_KEY_KP_Enter;
}

static gboolean
on_compare_key_pressed (GtkEventControllerKey *key,
                        guint                  keyval,
                        guint                  keycode,
                        GdkModifierType        state,
                        BwPreview             *self)
{
  if (!is_activate_key (keyval) || !gtk_widget_is_sensitive (self->compare_button))
    return FALSE;
  bw_preview_set_show_original (self, TRUE);
  return TRUE;
}

static void
on_compare_key_released (GtkEventControllerKey *key,
                         guint                  keyval,
                         guint                  keycode,
                         GdkModifierType        state,
                         BwPreview             *self)
{
  if (is_activate_key (keyval))
    bw_preview_set_show_original (self, FALSE);
}

/* --- the controls over the image, shown while the pointer moves ------------------------ */

static void
set_controls_shown (BwPreview *self,
                    gboolean   shown)
{
  /* faded, not hidden: they keep their place, and a click or Tab finds them */
  if (shown)
    gtk_widget_remove_css_class (self->controls, "faded");
  else
    gtk_widget_add_css_class (self->controls, "faded");
}

/* Hidden unless the pointer is on them or the keyboard is in them. */
static gboolean
can_hide_controls (BwPreview *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *focus = root ? gtk_root_get_focus (root) : NULL;

  return !gtk_event_controller_motion_contains_pointer (GTK_EVENT_CONTROLLER_MOTION (self->controls_motion)) &&
         !(focus && gtk_widget_is_ancestor (focus, self->controls));
}

static gboolean
hide_controls (gpointer data)
{
  BwPreview *self = data;

  self->hide_source = 0;
  if (can_hide_controls (self))
    set_controls_shown (self, FALSE);
  return G_SOURCE_REMOVE;
}

static void
show_controls (BwPreview *self)
{
  set_controls_shown (self, TRUE);
  g_clear_handle_id (&self->hide_source, g_source_remove);
  /* not g_timeout_add_seconds(): it rounds to whole seconds and may fire almost one early */
  self->hide_source = g_timeout_add (HIDE_CONTROLS_SECONDS * 1000, hide_controls, self);
}

static void
on_motion (GtkEventControllerMotion *motion,
           double                    x,
           double                    y,
           BwPreview                *self)
{
  show_controls (self);
}

static void
on_leave (BwPreview *self)
{
  g_clear_handle_id (&self->hide_source, g_source_remove);
  if (can_hide_controls (self))
    set_controls_shown (self, FALSE);
}

gboolean
bw_preview_get_controls_shown (BwPreview *self)
{
  g_return_val_if_fail (BW_IS_PREVIEW (self), FALSE);
  return !gtk_widget_has_css_class (self->controls, "faded");
}

static void
on_fit_toggled (BwPreview *self)
{
  if (gtk_toggle_button_get_active (self->fit_button))
    bw_preview_set_zoom (self, 0);
  else if (bw_compare_picture_get_zoom (self->picture) == 0)
    zoom_to (self, 1);
}

static void
on_original_size_clicked (BwPreview *self)
{
  zoom_to (self, 1);
}

static void
on_picture_notify (BwPreview *self)
{
  update_sensitivity (self);
}

static void
on_split_notify (BwPreview *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SPLIT]);
}

static void
bw_preview_dispose (GObject *object)
{
  BwPreview *self = BW_PREVIEW (object);

  clear_anchor (self);
  g_clear_handle_id (&self->hide_source, g_source_remove);
  if (self->scroller)
    {
      g_signal_handlers_disconnect_by_data (gtk_scrolled_window_get_hadjustment (self->scroller), self);
      g_signal_handlers_disconnect_by_data (gtk_scrolled_window_get_vadjustment (self->scroller), self);
    }
  gtk_widget_dispose_template (GTK_WIDGET (self), BW_TYPE_PREVIEW);
  /* a widget, unlike a window, unparents its own children */
  for (GtkWidget *child; (child = gtk_widget_get_first_child (GTK_WIDGET (self)));)
    gtk_widget_unparent (child);
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
      g_value_set_object (value, bw_preview_get_texture (self));
      break;
    case PROP_ZOOM:
      g_value_set_double (value, bw_preview_get_zoom (self));
      break;
    case PROP_SPLIT:
      g_value_set_boolean (value, bw_preview_get_split (self));
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
    case PROP_SPLIT:
      bw_preview_set_split (self, g_value_get_boolean (value));
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
  on_original_size_clicked (BW_PREVIEW (widget));
}

static void
zoom_in_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  BwPreview *self = BW_PREVIEW (widget);

  if (bw_compare_picture_get_texture (self->picture))
    zoom_to (self, current_zoom (self) * ZOOM_STEP);
}

static void
zoom_out_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  BwPreview *self = BW_PREVIEW (widget);

  if (bw_compare_picture_get_texture (self->picture))
    zoom_to (self, current_zoom (self) / ZOOM_STEP);
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
  properties[PROP_SPLIT] =
    g_param_spec_boolean ("split", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (BW_TYPE_COMPARE_PICTURE);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/brushwork/Brushwork/bw-preview.ui");
  gtk_widget_class_bind_template_child (widget_class, BwPreview, scroller);
  gtk_widget_class_bind_template_child (widget_class, BwPreview, picture);
  gtk_widget_class_bind_template_child (widget_class, BwPreview, fit_button);
  gtk_widget_class_bind_template_child (widget_class, BwPreview, compare_button);
  gtk_widget_class_bind_template_child (widget_class, BwPreview, zoom_label);
  gtk_widget_class_bind_template_child (widget_class, BwPreview, controls);
  gtk_widget_class_bind_template_callback (widget_class, on_fit_toggled);
  gtk_widget_class_bind_template_callback (widget_class, on_original_size_clicked);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "bw-preview");

  gtk_widget_class_install_action (widget_class, "preview.zoom-fit", NULL, zoom_fit_action);
  gtk_widget_class_install_action (widget_class, "preview.zoom-original", NULL, zoom_original_action);
  gtk_widget_class_install_action (widget_class, "preview.zoom-in", NULL, zoom_in_action);
  gtk_widget_class_install_action (widget_class, "preview.zoom-out", NULL, zoom_out_action);
  gtk_widget_class_install_property_action (widget_class, "preview.split", "split");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_0, GDK_CONTROL_MASK, "preview.zoom-fit", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_1, GDK_CONTROL_MASK, "preview.zoom-original", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_plus, GDK_CONTROL_MASK, "preview.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_equal, GDK_CONTROL_MASK, "preview.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Add, GDK_CONTROL_MASK, "preview.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_minus, GDK_CONTROL_MASK, "preview.zoom-out", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Subtract, GDK_CONTROL_MASK, "preview.zoom-out", NULL);
}

static void
bw_preview_init (BwPreview *self)
{
  GtkEventController *scroll, *key, *focus, *motion, *keys_in;
  GtkGesture *zoom, *hold;
  g_autoptr(GListModel) controllers = NULL;

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

  /* The photo shows while the button is held (mouse, touchpad, touch). A drag gesture, not
   * a click one: a click gesture "stops" after the double-click time and once the pointer
   * moves a few pixels. Grouped with the button's own click gesture, whose claim on the
   * press would otherwise cancel it, so the two share the press; in the capture phase, as
   * the button's handling of the release keeps it from a gesture after it. */
  hold = gtk_gesture_drag_new ();
  gtk_gesture_single_set_touch_only (GTK_GESTURE_SINGLE (hold), FALSE);
  gtk_event_controller_set_propagation_phase (GTK_EVENT_CONTROLLER (hold), GTK_PHASE_CAPTURE);
  g_signal_connect_swapped (hold, "drag-begin", G_CALLBACK (on_compare_pressed), self);
  g_signal_connect_swapped (hold, "drag-end", G_CALLBACK (on_compare_released), self);
  g_signal_connect_swapped (hold, "cancel", G_CALLBACK (on_compare_released), self);
  gtk_widget_add_controller (self->compare_button, GTK_EVENT_CONTROLLER (hold));
  controllers = gtk_widget_observe_controllers (self->compare_button);
  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GObject) controller = g_list_model_get_item (controllers, i);

      if (GTK_IS_GESTURE_CLICK (controller))
        gtk_gesture_group (GTK_GESTURE (controller), hold);
    }
  key = gtk_event_controller_key_new ();
  g_signal_connect (key, "key-pressed", G_CALLBACK (on_compare_key_pressed), self);
  g_signal_connect (key, "key-released", G_CALLBACK (on_compare_key_released), self);
  gtk_widget_add_controller (self->compare_button, key);
  /* a key released elsewhere never comes here */
  focus = gtk_event_controller_focus_new ();
  g_signal_connect_swapped (focus, "leave", G_CALLBACK (on_compare_released), self);
  gtk_widget_add_controller (self->compare_button, focus);

  motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  g_signal_connect_swapped (motion, "leave", G_CALLBACK (on_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
  self->controls_motion = gtk_event_controller_motion_new ();
  gtk_widget_add_controller (self->controls, self->controls_motion);
  /* Tab into them shows them */
  keys_in = gtk_event_controller_focus_new ();
  g_signal_connect_swapped (keys_in, "enter", G_CALLBACK (show_controls), self);
  gtk_widget_add_controller (self->controls, keys_in);

  g_signal_connect (gtk_scrolled_window_get_hadjustment (self->scroller), "changed",
                    G_CALLBACK (on_hadjustment_changed), self);
  g_signal_connect (gtk_scrolled_window_get_vadjustment (self->scroller), "changed",
                    G_CALLBACK (on_vadjustment_changed), self);
  g_signal_connect_swapped (self->picture, "notify::texture", G_CALLBACK (on_picture_notify), self);
  g_signal_connect_swapped (self->picture, "notify::original", G_CALLBACK (on_picture_notify), self);
  g_signal_connect_swapped (self->picture, "notify::split", G_CALLBACK (on_split_notify), self);

  update_zoom_label (self);
  update_sensitivity (self);
}

GdkTexture *
bw_preview_get_texture (BwPreview *self)
{
  g_return_val_if_fail (BW_IS_PREVIEW (self), NULL);
  return bw_compare_picture_get_texture (self->picture);
}

void
bw_preview_set_texture (BwPreview  *self,
                        GdkTexture *texture)
{
  g_return_if_fail (BW_IS_PREVIEW (self));

  if (texture == bw_compare_picture_get_texture (self->picture))
    return;
  bw_compare_picture_set_texture (self->picture, texture);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXTURE]);
}

void
bw_preview_set_original (BwPreview  *self,
                         GdkTexture *original)
{
  g_return_if_fail (BW_IS_PREVIEW (self));
  bw_compare_picture_set_original (self->picture, original);
}

void
bw_preview_set_image_size (BwPreview *self,
                           int        image_size)
{
  g_return_if_fail (BW_IS_PREVIEW (self));
  bw_compare_picture_set_image_size (self->picture, image_size);
}

double
bw_preview_get_zoom (BwPreview *self)
{
  g_return_val_if_fail (BW_IS_PREVIEW (self), 0);
  return bw_compare_picture_get_zoom (self->picture);
}

void
bw_preview_set_zoom (BwPreview *self,
                     double     zoom)
{
  g_return_if_fail (BW_IS_PREVIEW (self));

  if (zoom != 0)
    zoom = CLAMP (zoom, MIN_ZOOM, MAX_ZOOM);
  if (zoom == bw_compare_picture_get_zoom (self->picture))
    {
      clear_anchor (self);
      return;
    }
  if (zoom == 0)
    clear_anchor (self);
  bw_compare_picture_set_zoom (self->picture, zoom);
  update_zoom_label (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOM]);
}

void
bw_preview_set_show_original (BwPreview *self,
                              gboolean   show_original)
{
  g_return_if_fail (BW_IS_PREVIEW (self));
  bw_compare_picture_set_show_original (self->picture, show_original);
}

gboolean
bw_preview_get_split (BwPreview *self)
{
  g_return_val_if_fail (BW_IS_PREVIEW (self), FALSE);
  return bw_compare_picture_get_split (self->picture);
}

void
bw_preview_set_split (BwPreview *self,
                      gboolean   split)
{
  g_return_if_fail (BW_IS_PREVIEW (self));
  /* notified through the picture's own notification */
  bw_compare_picture_set_split (self->picture, split);
}

double
bw_preview_get_split_position (BwPreview *self)
{
  g_return_val_if_fail (BW_IS_PREVIEW (self), 0.5);
  return bw_compare_picture_get_split_position (self->picture);
}

void
bw_preview_set_split_position (BwPreview *self,
                               double     position)
{
  g_return_if_fail (BW_IS_PREVIEW (self));
  bw_compare_picture_set_split_position (self->picture, position);
}
