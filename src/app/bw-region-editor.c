/* bw-region-editor.c: see bw-region-editor.h.
 *
 * The masks are float planes at the photo's shape (at most BW_REGION_EDITOR_MAX_SIDE on the
 * longer side), painted on the main thread: a stroke is a few hundred discs at most, and the
 * tinted overlay is rebuilt only when a mask changed and the canvas is drawn.
 */
#include <adwaita.h>
#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "bw-region-editor.h"
#include "bw-alert.h"
#include "image/bw-mask.h"

/* Each style's tint (GNOME's palette), in turn. */
static const char *const tints[] = { "#3584e4", "#ff7800", "#2ec27e", "#9141ac", "#e01b24", "#f6d32d" };

/* How opaque the overlay is where a region is painted: the photo stays readable. */
#define OVERLAY_ALPHA 0.5

struct _BwRegionEditor
{
  GtkWidget parent_instance;

  /* template */
  GtkBox *style_box;
  GtkAdjustment *brush_adjustment;
  GtkToggleButton *eraser_button;
  GtkToggleButton *overlay_button;
  GtkDrawingArea *canvas;

  cairo_surface_t *photo;       /* the photo's pixels, as drawn */
  int width, height;            /* of the masks */
  GPtrArray *masks;             /* float planes of width * height, one per style */
  guint style;
  cairo_surface_t *overlay;     /* the tinted masks; NULL when a mask changed since */
  double drag_x, drag_y;        /* where the drag began, in the canvas */
  double last_x, last_y;        /* the last disc, in mask pixels */
  GtkFileChooserNative *chooser;
  gboolean chooser_saves;
};

enum {
  SIGNAL_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (BwRegionEditor, bw_region_editor, GTK_TYPE_WIDGET)

void
bw_region_editor_get_color (guint    index,
                            GdkRGBA *color)
{
  gdk_rgba_parse (color, tints[index % G_N_ELEMENTS (tints)]);
}

static float *
mask_at (BwRegionEditor *self,
         guint           index)
{
  return g_ptr_array_index (self->masks, index);
}

static void
masks_changed (BwRegionEditor *self)
{
  g_clear_pointer (&self->overlay, cairo_surface_destroy);
  gtk_widget_queue_draw (GTK_WIDGET (self->canvas));
}

/* Where the photo is drawn in the canvas: scaled to fit, centred. */
static void
photo_rect (BwRegionEditor *self,
            double         *x,
            double         *y,
            double         *scale)
{
  int cw = gtk_widget_get_width (GTK_WIDGET (self->canvas));
  int ch = gtk_widget_get_height (GTK_WIDGET (self->canvas));

  *scale = MIN ((double) cw / self->width, (double) ch / self->height);
  *x = (cw - self->width * *scale) / 2;
  *y = (ch - self->height * *scale) / 2;
}

static cairo_surface_t *
build_overlay (BwRegionEditor *self)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, self->width, self->height);
  int stride = cairo_image_surface_get_stride (surface);
  guchar *data;
  GdkRGBA colors[G_N_ELEMENTS (tints)];

  for (guint k = 0; k < G_N_ELEMENTS (tints); k++)
    bw_region_editor_get_color (k, &colors[k]);
  cairo_surface_flush (surface);
  data = cairo_image_surface_get_data (surface);
  for (int y = 0; y < self->height; y++)
    for (int x = 0; x < self->width; x++)
      {
        gsize i = (gsize) y * self->width + x;
        double r = 0, g = 0, b = 0, a = 0;
        guint32 *px = (guint32 *) (data + (gsize) y * stride) + x;

        for (guint k = 0; k < self->masks->len; k++)
          {
            double m = mask_at (self, k)[i];
            const GdkRGBA *c = &colors[k % G_N_ELEMENTS (tints)];

            r += m * c->red;
            g += m * c->green;
            b += m * c->blue;
            a += m;
          }
        /* premultiplied, as cairo's ARGB32 */
        a = MIN (a, 1.0) * OVERLAY_ALPHA;
        r = MIN (r * OVERLAY_ALPHA, a);
        g = MIN (g * OVERLAY_ALPHA, a);
        b = MIN (b * OVERLAY_ALPHA, a);
        *px = ((guint32) lround (a * 255) << 24) | ((guint32) lround (r * 255) << 16) |
              ((guint32) lround (g * 255) << 8) | (guint32) lround (b * 255);
      }
  cairo_surface_mark_dirty (surface);
  return surface;
}

static void
draw_canvas (GtkDrawingArea *area,
             cairo_t        *cr,
             int             width,
             int             height,
             gpointer        data)
{
  BwRegionEditor *self = data;
  double x, y, scale;

  if (self->photo == NULL)
    return;
  photo_rect (self, &x, &y, &scale);
  cairo_translate (cr, x, y);
  cairo_scale (cr, scale, scale);
  cairo_save (cr);
  cairo_scale (cr, (double) self->width / cairo_image_surface_get_width (self->photo),
               (double) self->height / cairo_image_surface_get_height (self->photo));
  cairo_set_source_surface (cr, self->photo, 0, 0);
  cairo_paint (cr);
  cairo_restore (cr);
  if (gtk_toggle_button_get_active (self->overlay_button))
    {
      if (self->overlay == NULL)
        self->overlay = build_overlay (self);
      cairo_set_source_surface (cr, self->overlay, 0, 0);
      cairo_paint (cr);
    }
}

/* One disc of the brush at (@cx, @cy) in mask pixels. */
static void
stamp (BwRegionEditor *self,
       double          cx,
       double          cy)
{
  double r = gtk_adjustment_get_value (self->brush_adjustment) / 100 * MAX (self->width, self->height) / 2;
  gboolean erasing = gtk_toggle_button_get_active (self->eraser_button);
  int y0 = MAX (0, (int) floor (cy - r)), y1 = MIN (self->height - 1, (int) ceil (cy + r));
  int x0 = MAX (0, (int) floor (cx - r)), x1 = MIN (self->width - 1, (int) ceil (cx + r));

  for (int y = y0; y <= y1; y++)
    for (int x = x0; x <= x1; x++)
      {
        /* pixel centres */
        double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
        gsize i = (gsize) y * self->width + x;

        if (dx * dx + dy * dy > r * r)
          continue;
        if (erasing)
          mask_at (self, self->style)[i] = 0;
        else
          for (guint k = 0; k < self->masks->len; k++)
            mask_at (self, k)[i] = k == self->style ? 1.0f : 0.0f;
      }
}

/* Discs from the last point to the canvas point (@wx, @wy), close enough to make a line. */
static void
stroke_to (BwRegionEditor *self,
           double          wx,
           double          wy,
           gboolean        first)
{
  double ox, oy, scale, x, y, r, dist;
  int n;

  if (self->photo == NULL || self->style >= self->masks->len)
    return;
  photo_rect (self, &ox, &oy, &scale);
  x = (wx - ox) / scale;
  y = (wy - oy) / scale;
  if (first)
    {
      self->last_x = x;
      self->last_y = y;
    }
  r = gtk_adjustment_get_value (self->brush_adjustment) / 100 * MAX (self->width, self->height) / 2;
  dist = hypot (x - self->last_x, y - self->last_y);
  n = MAX (1, (int) ceil (dist / MAX (r / 3, 0.5)));
  for (int i = 1; i <= n; i++)
    stamp (self, self->last_x + (x - self->last_x) * i / n, self->last_y + (y - self->last_y) * i / n);
  self->last_x = x;
  self->last_y = y;
  masks_changed (self);
}

static void
on_drag_begin (GtkGestureDrag *gesture,
               double          x,
               double          y,
               BwRegionEditor *self)
{
  self->drag_x = x;
  self->drag_y = y;
  stroke_to (self, x, y, TRUE);
}

static void
on_drag_update (GtkGestureDrag *gesture,
                double          dx,
                double          dy,
                BwRegionEditor *self)
{
  stroke_to (self, self->drag_x + dx, self->drag_y + dy, FALSE);
}

static void
on_drag_end (GtkGestureDrag *gesture,
             double          dx,
             double          dy,
             BwRegionEditor *self)
{
  stroke_to (self, self->drag_x + dx, self->drag_y + dy, FALSE);
  /* once per stroke: a change restarts the painting */
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

static void
on_style_toggled (GtkToggleButton *button,
                  BwRegionEditor  *self)
{
  if (gtk_toggle_button_get_active (button))
    self->style = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (button), "style"));
}

static void
rebuild_style_buttons (BwRegionEditor *self)
{
  GtkWidget *child;
  GtkToggleButton *group = NULL;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->style_box))))
    gtk_box_remove (self->style_box, child);
  for (guint i = 0; i < self->masks->len; i++)
    {
      GtkWidget *button = gtk_toggle_button_new ();
      GtkWidget *label = gtk_label_new (NULL);
      g_autofree char *markup = NULL;
      g_autofree char *name = g_strdup_printf (_("Style %u"), i + 1);

      /* the style's tint, then its number in the list */
      markup = g_markup_printf_escaped ("<span foreground=\"%s\">⬤</span> %u",
                                        tints[i % G_N_ELEMENTS (tints)], i + 1);
      gtk_label_set_markup (GTK_LABEL (label), markup);
      gtk_button_set_child (GTK_BUTTON (button), label);
      gtk_widget_set_tooltip_text (button, name);
      gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
      g_object_set_data (G_OBJECT (button), "style", GUINT_TO_POINTER (i));
      if (group)
        gtk_toggle_button_set_group (GTK_TOGGLE_BUTTON (button), group);
      else
        group = GTK_TOGGLE_BUTTON (button);
      gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (button), i == self->style);
      g_signal_connect (button, "toggled", G_CALLBACK (on_style_toggled), self);
      gtk_box_append (self->style_box, button);
    }
}

static void
on_overlay_toggled (BwRegionEditor *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self->canvas));
}

static void
on_clear_clicked (BwRegionEditor *self)
{
  bw_region_editor_clear (self);
}

static void
on_fill_clicked (BwRegionEditor *self)
{
  bw_region_editor_fill_rest (self);
}

static void
show_error (BwRegionEditor *self,
            const char     *heading,
            const GError   *error)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  bw_alert_tell (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, heading, error->message);
}

static void
on_chooser_response (GtkNativeDialog *chooser,
                     int              response,
                     BwRegionEditor  *self)
{
  g_autoptr(GFile) file = NULL;
  g_autoptr(GError) error = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
  if (file && self->chooser_saves && !bw_region_editor_save_mask (self, self->style, file, &error))
    show_error (self, _("The Mask Was Not Saved"), error);
  else if (file && !self->chooser_saves && !bw_region_editor_load_mask (self, self->style, file, &error))
    show_error (self, _("The Mask Could Not Be Loaded"), error);
  g_clear_object (&self->chooser);
}

static void
show_chooser (BwRegionEditor *self,
              gboolean        save)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  g_autoptr(GtkFileFilter) images = gtk_file_filter_new ();

  if (self->chooser || self->photo == NULL || self->style >= self->masks->len)
    return;
  self->chooser_saves = save;
  self->chooser = gtk_file_chooser_native_new (save ? _("Save Mask") : _("Load Mask"),
                                               GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                               save ? GTK_FILE_CHOOSER_ACTION_SAVE : GTK_FILE_CHOOSER_ACTION_OPEN,
                                               save ? _("_Save") : _("_Load"), NULL);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  if (save)
    {
      g_autofree char *name = g_strdup_printf ("mask-%u.png", self->style + 1);
      gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (self->chooser), name);
      gtk_file_filter_set_name (images, _("PNG Image"));
      gtk_file_filter_add_mime_type (images, "image/png");
    }
  else
    {
      gtk_file_filter_set_name (images, _("Images"));
      gtk_file_filter_add_pixbuf_formats (images);
    }
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), images);
  g_signal_connect (self->chooser, "response", G_CALLBACK (on_chooser_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
on_load_clicked (BwRegionEditor *self)
{
  show_chooser (self, FALSE);
}

static void
on_save_clicked (BwRegionEditor *self)
{
  show_chooser (self, TRUE);
}

static void
bw_region_editor_dispose (GObject *object)
{
  BwRegionEditor *self = BW_REGION_EDITOR (object);
  GtkWidget *child;

  if (self->chooser)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  gtk_widget_dispose_template (GTK_WIDGET (self), BW_TYPE_REGION_EDITOR);
  /* the template's unnamed toolbar too */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))))
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (bw_region_editor_parent_class)->dispose (object);
}

static void
bw_region_editor_finalize (GObject *object)
{
  BwRegionEditor *self = BW_REGION_EDITOR (object);

  g_ptr_array_unref (self->masks);
  g_clear_pointer (&self->photo, cairo_surface_destroy);
  g_clear_pointer (&self->overlay, cairo_surface_destroy);
  G_OBJECT_CLASS (bw_region_editor_parent_class)->finalize (object);
}

static void
bw_region_editor_class_init (BwRegionEditorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = bw_region_editor_dispose;
  object_class->finalize = bw_region_editor_finalize;

  /**
   * BwRegionEditor::changed:
   *
   * A mask changed: after a stroke, a clear, a fill or a load.
   */
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/brushwork/Brushwork/bw-region-editor.ui");
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "bw-region-editor");
  gtk_widget_class_bind_template_child (widget_class, BwRegionEditor, style_box);
  gtk_widget_class_bind_template_child (widget_class, BwRegionEditor, brush_adjustment);
  gtk_widget_class_bind_template_child (widget_class, BwRegionEditor, eraser_button);
  gtk_widget_class_bind_template_child (widget_class, BwRegionEditor, overlay_button);
  gtk_widget_class_bind_template_child (widget_class, BwRegionEditor, canvas);
  gtk_widget_class_bind_template_callback (widget_class, on_overlay_toggled);
  gtk_widget_class_bind_template_callback (widget_class, on_clear_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_fill_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_load_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_save_clicked);
}

static void
bw_region_editor_init (BwRegionEditor *self)
{
  GtkGesture *drag = gtk_gesture_drag_new ();

  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_orientable_set_orientation (GTK_ORIENTABLE (gtk_widget_get_layout_manager (GTK_WIDGET (self))),
                                  GTK_ORIENTATION_VERTICAL);
  self->masks = g_ptr_array_new_with_free_func (g_free);
  gtk_drawing_area_set_draw_func (self->canvas, draw_canvas, self, NULL);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (on_drag_end), self);
  gtk_widget_add_controller (GTK_WIDGET (self->canvas), GTK_EVENT_CONTROLLER (drag));
}

GtkWidget *
bw_region_editor_new (void)
{
  return g_object_new (BW_TYPE_REGION_EDITOR, NULL);
}

void
bw_region_editor_set_photo (BwRegionEditor *self,
                            GdkTexture     *photo)
{
  int tw, th, w, h;
  double f;

  g_return_if_fail (BW_IS_REGION_EDITOR (self));
  g_return_if_fail (GDK_IS_TEXTURE (photo));

  tw = gdk_texture_get_width (photo);
  th = gdk_texture_get_height (photo);
  f = MIN (1.0, (double) BW_REGION_EDITOR_MAX_SIDE / MAX (tw, th));
  w = MAX (1, (int) lround (tw * f));
  h = MAX (1, (int) lround (th * f));

  g_clear_pointer (&self->photo, cairo_surface_destroy);
  self->photo = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, tw, th);
  cairo_surface_flush (self->photo);
  /* GDK downloads in cairo's ARGB32 layout */
  gdk_texture_download (photo, cairo_image_surface_get_data (self->photo),
                        cairo_image_surface_get_stride (self->photo));
  cairo_surface_mark_dirty (self->photo);

  if (w != self->width || h != self->height)
    {
      guint n = self->masks->len;

      self->width = w;
      self->height = h;
      g_ptr_array_set_size (self->masks, 0);
      for (guint i = 0; i < n; i++)
        g_ptr_array_add (self->masks, g_new0 (float, (gsize) w * h));
    }
  masks_changed (self);
}

void
bw_region_editor_set_n_styles (BwRegionEditor *self,
                               guint           n_styles)
{
  g_return_if_fail (BW_IS_REGION_EDITOR (self));

  if (n_styles == self->masks->len)
    return;
  if (n_styles < self->masks->len)
    g_ptr_array_set_size (self->masks, n_styles);
  while (self->masks->len < n_styles)
    g_ptr_array_add (self->masks, g_new0 (float, MAX ((gsize) self->width * self->height, 1)));
  if (self->style >= n_styles)
    self->style = 0;
  rebuild_style_buttons (self);
  masks_changed (self);
}

guint
bw_region_editor_get_n_styles (BwRegionEditor *self)
{
  g_return_val_if_fail (BW_IS_REGION_EDITOR (self), 0);
  return self->masks->len;
}

void
bw_region_editor_set_style (BwRegionEditor *self,
                            guint           index)
{
  GtkWidget *button = gtk_widget_get_first_child (GTK_WIDGET (self->style_box));

  g_return_if_fail (BW_IS_REGION_EDITOR (self));
  g_return_if_fail (index < self->masks->len);

  for (guint i = 0; button && i < index; i++)
    button = gtk_widget_get_next_sibling (button);
  if (button)
    gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (button), TRUE);
  self->style = index;
}

guint
bw_region_editor_get_style (BwRegionEditor *self)
{
  g_return_val_if_fail (BW_IS_REGION_EDITOR (self), 0);
  return self->style;
}

void
bw_region_editor_set_brush_size (BwRegionEditor *self,
                                 double          percent)
{
  g_return_if_fail (BW_IS_REGION_EDITOR (self));
  gtk_adjustment_set_value (self->brush_adjustment, percent);
}

void
bw_region_editor_set_erasing (BwRegionEditor *self,
                              gboolean        erasing)
{
  g_return_if_fail (BW_IS_REGION_EDITOR (self));
  gtk_toggle_button_set_active (self->eraser_button, erasing);
}

void
bw_region_editor_clear (BwRegionEditor *self)
{
  g_return_if_fail (BW_IS_REGION_EDITOR (self));
  if (self->style >= self->masks->len)
    return;
  memset (mask_at (self, self->style), 0, (gsize) self->width * self->height * sizeof (float));
  masks_changed (self);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

void
bw_region_editor_fill_rest (BwRegionEditor *self)
{
  gsize n;

  g_return_if_fail (BW_IS_REGION_EDITOR (self));
  if (self->style >= self->masks->len)
    return;
  n = (gsize) self->width * self->height;
  for (gsize i = 0; i < n; i++)
    {
      float others = 0;

      for (guint k = 0; k < self->masks->len; k++)
        if (k != self->style)
          others += mask_at (self, k)[i];
      /* what the other regions leave, so that the masks add up to one there */
      mask_at (self, self->style)[i] = MAX (mask_at (self, self->style)[i], 1.0f - MIN (others, 1.0f));
    }
  masks_changed (self);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

void
bw_region_editor_get_mask_size (BwRegionEditor *self,
                                int            *width,
                                int            *height)
{
  g_return_if_fail (BW_IS_REGION_EDITOR (self));
  *width = self->photo ? self->width : 0;
  *height = self->photo ? self->height : 0;
}

BwImage *
bw_region_editor_get_mask (BwRegionEditor *self,
                           guint           index)
{
  gsize n = (gsize) self->width * self->height;
  const float *m;
  float *data;
  gboolean empty = TRUE;

  g_return_val_if_fail (BW_IS_REGION_EDITOR (self), NULL);
  if (self->photo == NULL || index >= self->masks->len)
    return NULL;
  m = mask_at (self, index);
  for (gsize i = 0; i < n && empty; i++)
    empty = m[i] == 0;
  if (empty)
    return NULL;
  data = g_new (float, 3 * n);
  for (int c = 0; c < 3; c++)
    memcpy (data + c * n, m, n * sizeof (float));
  return bw_image_new_take (self->width, self->height, data);
}

gboolean
bw_region_editor_has_masks (BwRegionEditor *self)
{
  g_return_val_if_fail (BW_IS_REGION_EDITOR (self), FALSE);
  for (guint k = 0; k < self->masks->len; k++)
    {
      g_autoptr(BwImage) mask = bw_region_editor_get_mask (self, k);
      if (mask)
        return TRUE;
    }
  return FALSE;
}

gboolean
bw_region_editor_load_mask (BwRegionEditor  *self,
                            guint            index,
                            GFile           *file,
                            GError         **error)
{
  g_autofree char *path = g_file_get_path (file);
  g_autoptr(BwImage) mask = NULL;
  g_autofree float *plane = NULL;

  g_return_val_if_fail (BW_IS_REGION_EDITOR (self), FALSE);
  g_return_val_if_fail (index < self->masks->len && self->photo, FALSE);

  if (path == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("The mask is not a local file. Copy it to this computer and load it again."));
      return FALSE;
    }
  mask = bw_mask_load (path, self->width, self->height, error);
  if (mask == NULL)
    return FALSE;
  plane = bw_mask_to_plane (mask, self->width, self->height);
  memcpy (mask_at (self, index), plane, (gsize) self->width * self->height * sizeof (float));
  masks_changed (self);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  return TRUE;
}

gboolean
bw_region_editor_save_mask (BwRegionEditor  *self,
                            guint            index,
                            GFile           *file,
                            GError         **error)
{
  g_autofree char *path = g_file_get_path (file);
  gsize n = (gsize) self->width * self->height;
  g_autoptr(BwImage) image = NULL;
  float *data;

  g_return_val_if_fail (BW_IS_REGION_EDITOR (self), FALSE);
  g_return_val_if_fail (index < self->masks->len && self->photo, FALSE);

  if (path == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("The mask can only be saved to a folder on this computer. Choose another "
                     "folder."));
      return FALSE;
    }
  /* an empty mask is saved too: black, the style nowhere */
  data = g_new (float, 3 * n);
  for (int c = 0; c < 3; c++)
    memcpy (data + c * n, mask_at (self, index), n * sizeof (float));
  image = bw_image_new_take (self->width, self->height, data);
  return bw_image_save (image, path, 100, error);
}
