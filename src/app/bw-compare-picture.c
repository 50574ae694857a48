/* bw-compare-picture.c: the painting drawn to fit or at a zoom, and the photo beside it for
 * comparison: instead of it, or left of a divider the user drags.
 *
 * One widget draws both images over the same rectangle, so the photo (a thumbnail of any
 * size) lines up with the painting exactly. Zoomed, it asks for the painting's size times
 * the zoom and lets a scrolled window around it scroll; the image is centred when the
 * allocation is larger, and never stretched: at zoom 1 an image pixel is a screen pixel.
 *
 * The divider's position is a fraction of the painting's width. A press anywhere on the
 * picture moves the divider there and a drag carries it along, so it can always be reached,
 * even zoomed in with the divider scrolled out of sight; Left and Right move it from the
 * keyboard.
 */
#include <math.h>

#include "bw-compare-picture.h"

#define HANDLE_RADIUS 14.0
#define KEY_STEP 0.05

struct _BwComparePicture
{
  GtkWidget parent_instance;

  GdkTexture *texture;
  GdkTexture *original;
  int image_size;
  double zoom;
  gboolean show_original;
  gboolean split;
  double split_position;
  double drag_start_x;
};

G_DEFINE_FINAL_TYPE (BwComparePicture, bw_compare_picture, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_TEXTURE,
  PROP_ORIGINAL,
  PROP_IMAGE_SIZE,
  PROP_ZOOM,
  PROP_SHOW_ORIGINAL,
  PROP_SPLIT,
  PROP_SPLIT_POSITION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

void
bw_compare_picture_get_image_dimensions (BwComparePicture *self,
                                         int              *width,
                                         int              *height)
{
  int tw, th;

  g_return_if_fail (BW_IS_COMPARE_PICTURE (self));

  *width = *height = 0;
  if (self->texture == NULL)
    return;
  tw = gdk_texture_get_width (self->texture);
  th = gdk_texture_get_height (self->texture);
  if (self->image_size <= 0)
    {
      *width = tw;
      *height = th;
      return;
    }
  /* as the engine scales the photo: the longest side to the size, the other rounded */
  *width = MAX (1, (int) lround ((double) tw * self->image_size / MAX (tw, th)));
  *height = MAX (1, (int) lround ((double) th * self->image_size / MAX (tw, th)));
}

gboolean
bw_compare_picture_get_image_bounds (BwComparePicture *self,
                                     graphene_rect_t  *bounds)
{
  int width = gtk_widget_get_width (GTK_WIDGET (self));
  int height = gtk_widget_get_height (GTK_WIDGET (self));
  int iw, ih;
  double w, h;

  g_return_val_if_fail (BW_IS_COMPARE_PICTURE (self), FALSE);

  bw_compare_picture_get_image_dimensions (self, &iw, &ih);
  if (iw == 0 || width <= 0 || height <= 0)
    return FALSE;
  if (self->zoom > 0)
    {
      w = iw * self->zoom;
      h = ih * self->zoom;
    }
  else
    {
      double scale = MIN ((double) width / iw, (double) height / ih);

      w = iw * scale;
      h = ih * scale;
    }
  /* whole pixels, so that at zoom 1 each image pixel lands on one screen pixel */
  graphene_rect_init (bounds, floor ((width - w) / 2), floor ((height - h) / 2), w, h);
  return TRUE;
}

static double
divider_x (BwComparePicture      *self,
           const graphene_rect_t *bounds)
{
  return round (bounds->origin.x + self->split_position * bounds->size.width);
}

static void
append_handle (GtkSnapshot *snapshot,
               double       x,
               double       y)
{
  GskRoundedRect circle;
  cairo_t *cr;
  const GdkRGBA shadow = { 0, 0, 0, 0.35f };
  const GdkRGBA light = { 1, 1, 1, 0.95f };
  const GdkRGBA widths_color[4] = { shadow, shadow, shadow, shadow };
  const float widths[4] = { 1, 1, 1, 1 };
  graphene_rect_t box = GRAPHENE_RECT_INIT (x - HANDLE_RADIUS, y - HANDLE_RADIUS,
                                            2 * HANDLE_RADIUS, 2 * HANDLE_RADIUS);

  gsk_rounded_rect_init_from_rect (&circle, &box, HANDLE_RADIUS);
  gtk_snapshot_push_rounded_clip (snapshot, &circle);
  gtk_snapshot_append_color (snapshot, &light, &box);
  gtk_snapshot_pop (snapshot);
  gtk_snapshot_append_border (snapshot, &circle, widths, widths_color);

  /* two arrows: the divider moves sideways */
  cr = gtk_snapshot_append_cairo (snapshot, &box);
  cairo_set_source_rgba (cr, 0, 0, 0, 0.7);
  cairo_move_to (cr, x - 3, y - 5);
  cairo_line_to (cr, x - 9, y);
  cairo_line_to (cr, x - 3, y + 5);
  cairo_close_path (cr);
  cairo_move_to (cr, x + 3, y - 5);
  cairo_line_to (cr, x + 9, y);
  cairo_line_to (cr, x + 3, y + 5);
  cairo_close_path (cr);
  cairo_fill (cr);
  cairo_destroy (cr);
}

static void
bw_compare_picture_snapshot (GtkWidget   *widget,
                             GtkSnapshot *snapshot)
{
  BwComparePicture *self = BW_COMPARE_PICTURE (widget);
  graphene_rect_t bounds;
  double x;
  const GdkRGBA shadow = { 0, 0, 0, 0.35f };
  const GdkRGBA light = { 1, 1, 1, 0.95f };

  if (!bw_compare_picture_get_image_bounds (self, &bounds))
    return;
  if (self->show_original && self->original)
    {
      gtk_snapshot_append_texture (snapshot, self->original, &bounds);
      return;
    }
  gtk_snapshot_append_texture (snapshot, self->texture, &bounds);
  if (!self->split || self->original == NULL)
    return;

  x = divider_x (self, &bounds);
  gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (bounds.origin.x, bounds.origin.y,
                                                         x - bounds.origin.x, bounds.size.height));
  gtk_snapshot_append_texture (snapshot, self->original, &bounds);
  gtk_snapshot_pop (snapshot);

  /* a light line with a dark edge shows on any picture */
  gtk_snapshot_append_color (snapshot, &shadow,
                             &GRAPHENE_RECT_INIT (x - 2, bounds.origin.y, 4, bounds.size.height));
  gtk_snapshot_append_color (snapshot, &light,
                             &GRAPHENE_RECT_INIT (x - 1, bounds.origin.y, 2, bounds.size.height));
  append_handle (snapshot, x, bounds.origin.y + bounds.size.height / 2);
}

static void
bw_compare_picture_measure (GtkWidget      *widget,
                            GtkOrientation  orientation,
                            int             for_size,
                            int            *minimum,
                            int            *natural,
                            int            *minimum_baseline,
                            int            *natural_baseline)
{
  BwComparePicture *self = BW_COMPARE_PICTURE (widget);
  int iw, ih, size;

  bw_compare_picture_get_image_dimensions (self, &iw, &ih);
  size = orientation == GTK_ORIENTATION_HORIZONTAL ? iw : ih;
  if (self->zoom > 0)
    {
      /* zoomed: the whole image, for the scrolled window to scroll */
      *minimum = *natural = (int) ceil (size * self->zoom);
      return;
    }
  /* to fit: any size will do */
  *minimum = 0;
  *natural = size;
}

static GtkSizeRequestMode
bw_compare_picture_get_request_mode (GtkWidget *widget)
{
  return GTK_SIZE_REQUEST_CONSTANT_SIZE;
}

static void
move_divider_to (BwComparePicture *self,
                 double            x)
{
  graphene_rect_t bounds;

  if (!bw_compare_picture_get_image_bounds (self, &bounds) || bounds.size.width <= 0)
    return;
  bw_compare_picture_set_split_position (self, (x - bounds.origin.x) / bounds.size.width);
}

static gboolean
can_split (BwComparePicture *self)
{
  return self->split && self->texture && self->original && !self->show_original;
}

static void
on_drag_begin (GtkGestureDrag   *gesture,
               double            x,
               double            y,
               BwComparePicture *self)
{
  if (!can_split (self))
    {
      gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_DENIED);
      return;
    }
  gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
  self->drag_start_x = x;
  move_divider_to (self, x);
  gtk_widget_grab_focus (GTK_WIDGET (self));
}

static void
on_drag_update (GtkGestureDrag   *gesture,
                double            offset_x,
                double            offset_y,
                BwComparePicture *self)
{
  if (can_split (self))
    move_divider_to (self, self->drag_start_x + offset_x);
}

static gboolean
move_divider_binding (GtkWidget *widget,
                      GVariant  *args,
                      gpointer   user_data)
{
  BwComparePicture *self = BW_COMPARE_PICTURE (widget);
  double delta, to;

  if (!can_split (self))
    return FALSE;
  g_variant_get (args, "(dd)", &delta, &to);
  bw_compare_picture_set_split_position (self, to >= 0 ? to : self->split_position + delta);
  return TRUE;
}

static void
update_interaction (BwComparePicture *self)
{
  gboolean splitting = can_split (self);

  gtk_widget_set_focusable (GTK_WIDGET (self), splitting);
  gtk_widget_set_cursor_from_name (GTK_WIDGET (self), splitting ? "ew-resize" : NULL);
}

static void
bw_compare_picture_dispose (GObject *object)
{
  BwComparePicture *self = BW_COMPARE_PICTURE (object);

  g_clear_object (&self->texture);
  g_clear_object (&self->original);
  G_OBJECT_CLASS (bw_compare_picture_parent_class)->dispose (object);
}

static void
bw_compare_picture_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  BwComparePicture *self = BW_COMPARE_PICTURE (object);

  switch (prop_id)
    {
    case PROP_TEXTURE:
      g_value_set_object (value, self->texture);
      break;
    case PROP_ORIGINAL:
      g_value_set_object (value, self->original);
      break;
    case PROP_IMAGE_SIZE:
      g_value_set_int (value, self->image_size);
      break;
    case PROP_ZOOM:
      g_value_set_double (value, self->zoom);
      break;
    case PROP_SHOW_ORIGINAL:
      g_value_set_boolean (value, self->show_original);
      break;
    case PROP_SPLIT:
      g_value_set_boolean (value, self->split);
      break;
    case PROP_SPLIT_POSITION:
      g_value_set_double (value, self->split_position);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bw_compare_picture_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  BwComparePicture *self = BW_COMPARE_PICTURE (object);

  switch (prop_id)
    {
    case PROP_TEXTURE:
      bw_compare_picture_set_texture (self, g_value_get_object (value));
      break;
    case PROP_ORIGINAL:
      bw_compare_picture_set_original (self, g_value_get_object (value));
      break;
    case PROP_IMAGE_SIZE:
      bw_compare_picture_set_image_size (self, g_value_get_int (value));
      break;
    case PROP_ZOOM:
      bw_compare_picture_set_zoom (self, g_value_get_double (value));
      break;
    case PROP_SHOW_ORIGINAL:
      bw_compare_picture_set_show_original (self, g_value_get_boolean (value));
      break;
    case PROP_SPLIT:
      bw_compare_picture_set_split (self, g_value_get_boolean (value));
      break;
    case PROP_SPLIT_POSITION:
      bw_compare_picture_set_split_position (self, g_value_get_double (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bw_compare_picture_class_init (BwComparePictureClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = bw_compare_picture_dispose;
  object_class->get_property = bw_compare_picture_get_property;
  object_class->set_property = bw_compare_picture_set_property;
  widget_class->snapshot = bw_compare_picture_snapshot;
  widget_class->measure = bw_compare_picture_measure;
  widget_class->get_request_mode = bw_compare_picture_get_request_mode;

  properties[PROP_TEXTURE] =
    g_param_spec_object ("texture", NULL, NULL, GDK_TYPE_TEXTURE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ORIGINAL] =
    g_param_spec_object ("original", NULL, NULL, GDK_TYPE_TEXTURE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_IMAGE_SIZE] =
    g_param_spec_int ("image-size", NULL, NULL, 0, G_MAXINT, 0,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ZOOM] =
    g_param_spec_double ("zoom", NULL, NULL, 0, G_MAXDOUBLE, 0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SHOW_ORIGINAL] =
    g_param_spec_boolean ("show-original", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SPLIT] =
    g_param_spec_boolean ("split", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SPLIT_POSITION] =
    g_param_spec_double ("split-position", NULL, NULL, 0, 1, 0.5,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_add_binding (widget_class, GDK_KEY_Left, 0, move_divider_binding, "(dd)", -KEY_STEP, -1.0);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_Right, 0, move_divider_binding, "(dd)", KEY_STEP, -1.0);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_Home, 0, move_divider_binding, "(dd)", 0.0, 0.0);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_End, 0, move_divider_binding, "(dd)", 0.0, 1.0);

  gtk_widget_class_set_css_name (widget_class, "bw-compare-picture");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
bw_compare_picture_init (BwComparePicture *self)
{
  GtkGesture *drag = gtk_gesture_drag_new ();

  self->split_position = 0.5;
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (drag), GDK_BUTTON_PRIMARY);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));
}

GtkWidget *
bw_compare_picture_new (void)
{
  return g_object_new (BW_TYPE_COMPARE_PICTURE, NULL);
}

GdkTexture *
bw_compare_picture_get_texture (BwComparePicture *self)
{
  g_return_val_if_fail (BW_IS_COMPARE_PICTURE (self), NULL);
  return self->texture;
}

/* A new frame of the same size only needs drawing; a new size needs a new layout. */
static void
queue_for_change (BwComparePicture *self,
                  GdkTexture       *old,
                  GdkTexture       *new)
{
  if (old == NULL || new == NULL ||
      gdk_texture_get_width (old) != gdk_texture_get_width (new) ||
      gdk_texture_get_height (old) != gdk_texture_get_height (new))
    gtk_widget_queue_resize (GTK_WIDGET (self));
  else
    gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
bw_compare_picture_set_texture (BwComparePicture *self,
                                GdkTexture       *texture)
{
  g_autoptr(GdkTexture) old = NULL;

  g_return_if_fail (BW_IS_COMPARE_PICTURE (self));
  g_return_if_fail (texture == NULL || GDK_IS_TEXTURE (texture));

  if (texture == self->texture)
    return;
  old = g_steal_pointer (&self->texture);
  self->texture = texture ? g_object_ref (texture) : NULL;
  queue_for_change (self, old, texture);
  update_interaction (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXTURE]);
}

GdkTexture *
bw_compare_picture_get_original (BwComparePicture *self)
{
  g_return_val_if_fail (BW_IS_COMPARE_PICTURE (self), NULL);
  return self->original;
}

void
bw_compare_picture_set_original (BwComparePicture *self,
                                 GdkTexture       *original)
{
  g_return_if_fail (BW_IS_COMPARE_PICTURE (self));
  g_return_if_fail (original == NULL || GDK_IS_TEXTURE (original));

  if (!g_set_object (&self->original, original))
    return;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  update_interaction (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ORIGINAL]);
}

int
bw_compare_picture_get_image_size (BwComparePicture *self)
{
  g_return_val_if_fail (BW_IS_COMPARE_PICTURE (self), 0);
  return self->image_size;
}

void
bw_compare_picture_set_image_size (BwComparePicture *self,
                                   int               image_size)
{
  g_return_if_fail (BW_IS_COMPARE_PICTURE (self));

  image_size = MAX (0, image_size);
  if (image_size == self->image_size)
    return;
  self->image_size = image_size;
  gtk_widget_queue_resize (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IMAGE_SIZE]);
}

double
bw_compare_picture_get_zoom (BwComparePicture *self)
{
  g_return_val_if_fail (BW_IS_COMPARE_PICTURE (self), 0);
  return self->zoom;
}

void
bw_compare_picture_set_zoom (BwComparePicture *self,
                             double            zoom)
{
  g_return_if_fail (BW_IS_COMPARE_PICTURE (self));

  zoom = MAX (0, zoom);
  if (zoom == self->zoom)
    return;
  self->zoom = zoom;
  gtk_widget_queue_resize (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOM]);
}

gboolean
bw_compare_picture_get_show_original (BwComparePicture *self)
{
  g_return_val_if_fail (BW_IS_COMPARE_PICTURE (self), FALSE);
  return self->show_original;
}

void
bw_compare_picture_set_show_original (BwComparePicture *self,
                                      gboolean          show_original)
{
  g_return_if_fail (BW_IS_COMPARE_PICTURE (self));

  show_original = !!show_original;
  if (show_original == self->show_original)
    return;
  self->show_original = show_original;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  update_interaction (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SHOW_ORIGINAL]);
}

gboolean
bw_compare_picture_get_split (BwComparePicture *self)
{
  g_return_val_if_fail (BW_IS_COMPARE_PICTURE (self), FALSE);
  return self->split;
}

void
bw_compare_picture_set_split (BwComparePicture *self,
                              gboolean          split)
{
  g_return_if_fail (BW_IS_COMPARE_PICTURE (self));

  split = !!split;
  if (split == self->split)
    return;
  self->split = split;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  update_interaction (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SPLIT]);
}

double
bw_compare_picture_get_split_position (BwComparePicture *self)
{
  g_return_val_if_fail (BW_IS_COMPARE_PICTURE (self), 0.5);
  return self->split_position;
}

void
bw_compare_picture_set_split_position (BwComparePicture *self,
                                       double            position)
{
  g_return_if_fail (BW_IS_COMPARE_PICTURE (self));

  position = CLAMP (position, 0, 1);
  if (position == self->split_position)
    return;
  self->split_position = position;
  if (self->split)
    gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SPLIT_POSITION]);
}
