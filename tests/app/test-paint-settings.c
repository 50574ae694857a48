/* test-paint-settings: the painting settings of issue 19 reach the engine, on test weights.
 *
 * /paint-settings/colours-and-brush-size: choosing "Match the Photo’s" in Colours and 0.5 on
 *   Brush Size through the widgets, then Paint: the worker is started with histogram colour
 *   transfer (and not luminance) and style scale 0.5, the run gets to its first frame (a
 *   painting at half the photo's size is still wide enough at 64 px), and both choices are
 *   kept in GSettings for the next start. "Keep the Photo’s" then gives luminance only.
 * /paint-settings/region-brush: with a photo and two styles, Regions shows the region editor;
 *   strokes through its drag gesture (drag-begin/update/end, as a pointer delivers them) paint
 *   style 1 on the left, style 2 on the right, and the eraser takes back the right stroke's
 *   end. At Paint the worker receives, at the pixels computed here from the canvas's size
 *   (the photo fitted and centred) and the brush's radius, 1 inside each stroke and 0
 *   outside it, 0 for the other style there, 0 where erased; the painting then runs with the
 *   masks to its first frame. A mask saved to PNG, cleared and loaded back is the same to
 *   8 bits, and a mask of another shape is refused with a sentence.
 */
#include <adwaita.h>

#include <math.h>

#include "bw-app-test-util.h"
#include "bw-image-pane.h"
#include "bw-region-editor.h"
#include "bw-style-row.h"
#include "bw-window.h"

#define SIZE 64

static char *tmpdir;
static char *weights;

static gboolean
has_texture (gpointer pane)
{
  return bw_image_pane_get_texture (pane) != NULL;
}

static gboolean
has_style (gpointer window)
{
  return bw_app_test_find (window, BW_TYPE_STYLE_ROW, 0) != NULL;
}

static gboolean
has_frame (gpointer worker)
{
  return bw_worker_get_texture (worker) != NULL && bw_worker_get_state (worker) == BW_WORKER_RUNNING;
}

static gboolean
is_idle (gpointer worker)
{
  return bw_worker_get_state (worker) == BW_WORKER_IDLE;
}

static AdwPreferencesRow *
row_titled (GtkWidget  *window,
            const char *title)
{
  GtkWidget *row;

  for (int i = 0; (row = bw_app_test_find (window, ADW_TYPE_PREFERENCES_ROW, i)); i++)
    if (g_strcmp0 (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), title) == 0)
      return ADW_PREFERENCES_ROW (row);
  g_error ("No row titled “%s”", title);
  return NULL;
}

static void
test_colours_and_brush_size (void)
{
  g_autoptr(BwApplication) app = bw_app_test_new_app (SIZE, 400, "lbfgs");
  g_autofree char *content = bw_app_test_sample ("chelsea.png");
  g_autofree char *sample = bw_app_test_sample ("starry-night.jpg");
  g_autoptr(GError) error = NULL;
  g_autoptr(GSettings) settings = NULL;
  g_autofree char *kept = NULL;
  BwWindow *window;
  BwWorker *worker;
  AdwComboRow *colours;
  GtkRange *brush;
  BwParams params;

  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  window = bw_window_new (app);
  worker = bw_window_get_worker (window);
  bw_window_set_weights_path (window, weights);
  gtk_window_present (GTK_WINDOW (window));
  bw_app_test_drop_file (bw_app_test_find (GTK_WIDGET (window), BW_TYPE_IMAGE_PANE, 0), content);
  bw_app_test_drop_file (bw_app_test_find (GTK_WIDGET (window), BW_TYPE_IMAGE_PANE, 1), sample);
  bw_app_test_wait (has_texture, bw_app_test_find (GTK_WIDGET (window), BW_TYPE_IMAGE_PANE, 0), 20,
                    "the photo's thumbnail");
  bw_app_test_wait (has_style, window, 20, "the style's row");

  colours = ADW_COMBO_ROW (row_titled (GTK_WIDGET (window), "Colours"));
  g_assert_cmpuint (g_list_model_get_n_items (adw_combo_row_get_model (colours)), ==, 3);
  adw_combo_row_set_selected (colours, 2);
  brush = GTK_RANGE (bw_app_test_find_in_row (GTK_WIDGET (window), "Brush Size", GTK_TYPE_SCALE));
  gtk_range_set_value (brush, 0.5);

  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "start"));
  g_action_group_activate_action (G_ACTION_GROUP (window), "start", NULL);
  bw_worker_get_params (worker, &params);
  g_assert_true (params.transfer_histogram);
  g_assert_false (params.preserve_colors);
  g_assert_cmpfloat (params.style_scale, ==, 0.5);
  bw_app_test_wait (has_frame, worker, 400, "the first frame");
  g_action_group_activate_action (G_ACTION_GROUP (window), "stop", NULL);
  bw_app_test_wait (is_idle, worker, 60, "the stop");

  settings = g_settings_new ("io.github.brushwork.Brushwork");
  kept = g_settings_get_string (settings, "color-transfer");
  g_assert_cmpstr (kept, ==, "histogram");
  g_assert_cmpfloat (g_settings_get_double (settings, "style-scale"), ==, 0.5);

  adw_combo_row_set_selected (colours, 1);
  g_action_group_activate_action (G_ACTION_GROUP (window), "start", NULL);
  bw_worker_get_params (worker, &params);
  g_assert_false (params.transfer_histogram);
  g_assert_true (params.preserve_colors);
  g_action_group_activate_action (G_ACTION_GROUP (window), "stop", NULL);
  bw_app_test_wait (is_idle, worker, 60, "the second stop");
  gtk_window_destroy (GTK_WINDOW (window));
}

static gboolean
has_two_styles (gpointer window)
{
  return bw_app_test_find (window, BW_TYPE_STYLE_ROW, 1) != NULL;
}

/* The toggle button labelled @label inside @widget. */
static GtkWidget *
toggle_labelled (GtkWidget  *widget,
                 const char *label)
{
  GtkWidget *b;

  for (int i = 0; (b = bw_app_test_find (widget, GTK_TYPE_TOGGLE_BUTTON, i)); i++)
    if (g_strcmp0 (gtk_button_get_label (GTK_BUTTON (b)), label) == 0)
      return b;
  g_error ("No toggle button “%s”", label);
  return NULL;
}

typedef struct {
  GtkGesture *drag;
  double ox, oy, scale;     /* where mask pixel (0, 0) is on the canvas, and its size */
} Canvas;

/* A stroke from mask point (x0, y0) to (x1, y1), in mask pixels, through the gesture. */
static void
stroke (Canvas *c,
        double  x0,
        double  y0,
        double  x1,
        double  y1)
{
  double wx = c->ox + x0 * c->scale, wy = c->oy + y0 * c->scale;
  double dx = (x1 - x0) * c->scale, dy = (y1 - y0) * c->scale;

  g_signal_emit_by_name (c->drag, "drag-begin", wx, wy);
  g_signal_emit_by_name (c->drag, "drag-update", dx / 2, dy / 2);
  g_signal_emit_by_name (c->drag, "drag-update", dx, dy);
  g_signal_emit_by_name (c->drag, "drag-end", dx, dy);
}

/* What a click delivers once the pointer is released: GtkButton's "clicked" (a toggle button
 * toggles on it). gtk_widget_activate() would emit it only after a 250 ms flash. */
static void
click (GtkWidget *button)
{
  g_signal_emit_by_name (button, "clicked");
}

static gboolean
transition_done (gpointer stack)
{
  return !gtk_stack_get_transition_running (stack);
}

static float
mask_value (BwImage *mask,
            double   x,
            double   y)
{
  int w = bw_image_get_width (mask);

  if (mask == NULL)
    return 0;
  return bw_image_get_data (mask)[(gsize) floor (y) * w + (gsize) floor (x)];
}

static void
test_region_brush (void)
{
  g_autoptr(BwApplication) app = bw_app_test_new_app (SIZE, 400, "lbfgs");
  g_autofree char *content = bw_app_test_sample ("chelsea.png");
  g_autofree char *sample = bw_app_test_sample ("starry-night.jpg");
  g_autofree char *saved = g_build_filename (tmpdir, "mask-1.png", NULL);
  g_autofree char *square = g_build_filename (tmpdir, "square.png", NULL);
  g_autoptr(GFile) saved_file = g_file_new_for_path (saved);
  g_autoptr(GFile) square_file = g_file_new_for_path (square);
  g_autoptr(GError) error = NULL;
  g_autoptr(BwImage) m0 = NULL;
  g_autoptr(BwImage) m1 = NULL;
  g_autoptr(BwImage) reloaded = NULL;
  g_autoptr(GdkTexture) drawn = NULL;
  BwWindow *window;
  BwWorker *worker;
  BwRegionEditor *editor;
  GtkWidget *canvas;
  Canvas c;
  int mw, mh, cw, ch;
  double r, y;

  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  window = bw_window_new (app);
  worker = bw_window_get_worker (window);
  bw_window_set_weights_path (window, weights);
  gtk_window_present (GTK_WINDOW (window));
  bw_app_test_drop_file (bw_app_test_find (GTK_WIDGET (window), BW_TYPE_IMAGE_PANE, 0), content);
  bw_app_test_drop_file (bw_app_test_find (GTK_WIDGET (window), BW_TYPE_IMAGE_PANE, 1), sample);
  bw_app_test_wait (has_texture, bw_app_test_find (GTK_WIDGET (window), BW_TYPE_IMAGE_PANE, 0), 20,
                    "the photo's thumbnail");
  bw_app_test_wait (has_style, window, 20, "the style's row");
  bw_app_test_drop_file (bw_app_test_find (GTK_WIDGET (window), BW_TYPE_IMAGE_PANE, 1), content);
  bw_app_test_wait (has_two_styles, window, 20, "the second style's row");

  /* Regions, clicked */
  click (GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (window), BW_TYPE_WINDOW,
                                                   "regions_button")));
  editor = BW_REGION_EDITOR (bw_app_test_find (GTK_WIDGET (window), BW_TYPE_REGION_EDITOR, 0));
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (editor)));
  g_assert_cmpuint (bw_region_editor_get_n_styles (editor), ==, 2);
  /* the pages' crossfade over, so that what is drawn is the editor alone */
  bw_app_test_wait (transition_done, gtk_widget_get_parent (GTK_WIDGET (editor)), 10, "the crossfade");
  drawn = bw_app_test_render_drawn (GTK_WIDGET (window));
  canvas = bw_app_test_find (GTK_WIDGET (editor), GTK_TYPE_DRAWING_AREA, 0);
  bw_region_editor_get_mask_size (editor, &mw, &mh);
  g_assert_cmpint (mw, >, 0);
  cw = gtk_widget_get_width (canvas);
  ch = gtk_widget_get_height (canvas);
  g_assert_cmpint (cw, >, 0);
  c.drag = bw_app_test_controller (canvas, GTK_TYPE_GESTURE_DRAG);
  c.scale = MIN ((double) cw / mw, (double) ch / mh);
  c.ox = (cw - mw * c.scale) / 2;
  c.oy = (ch - mh * c.scale) / 2;

  gtk_range_set_value (GTK_RANGE (bw_app_test_find (GTK_WIDGET (editor), GTK_TYPE_SCALE, 0)), 10);
  r = 0.10 * MAX (mw, mh) / 2;
  y = mh / 2.0;
  /* style 1 on the left, style 2 on the right, then the eraser at the right stroke's end */
  click (bw_app_test_find (GTK_WIDGET (editor), GTK_TYPE_TOGGLE_BUTTON, 0));
  stroke (&c, 0.15 * mw, y, 0.35 * mw, y);
  click (bw_app_test_find (GTK_WIDGET (editor), GTK_TYPE_TOGGLE_BUTTON, 1));
  g_assert_cmpuint (bw_region_editor_get_style (editor), ==, 1);
  stroke (&c, 0.55 * mw, y, 0.85 * mw, y);
  click (toggle_labelled (GTK_WIDGET (editor), "_Eraser"));
  stroke (&c, 0.85 * mw, y, 0.85 * mw, y);
  click (toggle_labelled (GTK_WIDGET (editor), "_Eraser"));
  {
    /* a look at the Regions mode, kept in the test's folder (the README's screenshot) */
    g_autoptr(GdkTexture) render = bw_app_test_render_drawn (GTK_WIDGET (window));
    g_autofree char *path = g_build_filename (tmpdir, "regions.png", NULL);

    g_assert_true (gdk_texture_save_to_png (render, path));
    g_test_message ("the Regions mode in %s", path);
  }

  g_action_group_activate_action (G_ACTION_GROUP (window), "start", NULL);
  m0 = bw_worker_get_mask (worker, 0) ? g_object_ref (bw_worker_get_mask (worker, 0)) : NULL;
  m1 = bw_worker_get_mask (worker, 1) ? g_object_ref (bw_worker_get_mask (worker, 1)) : NULL;
  g_assert_nonnull (m0);
  g_assert_nonnull (m1);
  g_assert_cmpint (bw_image_get_width (m0), ==, mw);
  g_assert_cmpint (bw_image_get_height (m0), ==, mh);
  /* inside each stroke (1.5 px in from its edge, for the discs' pixel centres) */
  g_assert_cmpfloat (mask_value (m0, 0.25 * mw, y), ==, 1);
  g_assert_cmpfloat (mask_value (m0, 0.25 * mw, y + r - 1.5), ==, 1);
  g_assert_cmpfloat (mask_value (m1, 0.25 * mw, y), ==, 0);
  g_assert_cmpfloat (mask_value (m1, 0.65 * mw, y), ==, 1);
  g_assert_cmpfloat (mask_value (m0, 0.65 * mw, y), ==, 0);
  /* outside them, and where erased */
  g_assert_cmpfloat (mask_value (m0, 0.25 * mw, y + r + 1.5), ==, 0);
  g_assert_cmpfloat (mask_value (m0, 0.02 * mw, 0.02 * mh), ==, 0);
  g_assert_cmpfloat (mask_value (m1, 0.02 * mw, 0.02 * mh), ==, 0);
  g_assert_cmpfloat (mask_value (m1, 0.85 * mw, y), ==, 0);
  g_assert_cmpfloat (mask_value (m1, 0.45 * mw, y), ==, 0);
  /* the painting runs with them (the editor stays in view) */
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (editor)));
  bw_app_test_wait (has_frame, worker, 400, "the first frame with regions");
  g_action_group_activate_action (G_ACTION_GROUP (window), "stop", NULL);
  bw_app_test_wait (is_idle, worker, 60, "the stop");

  /* save, clear, load back */
  bw_region_editor_set_style (editor, 0);
  bw_region_editor_save_mask (editor, 0, saved_file, &error);
  g_assert_no_error (error);
  bw_region_editor_clear (editor);
  g_assert_null (bw_region_editor_get_mask (editor, 0));
  bw_region_editor_load_mask (editor, 0, saved_file, &error);
  g_assert_no_error (error);
  reloaded = bw_region_editor_get_mask (editor, 0);
  g_assert_nonnull (reloaded);
  for (gsize i = 0; i < (gsize) 3 * mw * mh; i++)
    g_assert_cmpfloat (fabs (bw_image_get_data (reloaded)[i] - bw_image_get_data (m0)[i]), <=, 0.5 / 255);
  {
    g_autoptr(GdkPixbuf) sq = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 40, 40);

    gdk_pixbuf_fill (sq, 0xffffffff);
    g_assert_true (gdk_pixbuf_save (sq, square, "png", NULL, NULL));
  }
  g_assert_false (bw_region_editor_load_mask (editor, 0, square_file, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_test_message ("a square mask: %s", error->message);
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);
  tmpdir = bw_app_test_setup_env ();
  weights = bw_app_test_make_weights (tmpdir);
  gtk_init ();
  adw_init ();

  g_test_add_func ("/paint-settings/colours-and-brush-size", test_colours_and_brush_size);
  g_test_add_func ("/paint-settings/region-brush", test_region_brush);
  status = g_test_run ();
  g_free (weights);
  g_free (tmpdir);
  return status;
}
