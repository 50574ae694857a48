/* test-paint-settings: the painting settings of issue 19 reach the engine, on test weights.
 *
 * /paint-settings/colours-and-brush-size: choosing "Match the Photo’s" in Colours and 0.5 on
 *   Brush Size through the widgets, then Paint: the worker is started with histogram colour
 *   transfer (and not luminance) and style scale 0.5, the run gets to its first frame (a
 *   painting at half the photo's size is still wide enough at 64 px), and both choices are
 *   kept in GSettings for the next start. "Keep the Photo’s" then gives luminance only.
 */
#include <adwaita.h>

#include "bw-app-test-util.h"
#include "bw-image-pane.h"
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
  status = g_test_run ();
  g_free (weights);
  g_free (tmpdir);
  return status;
}
