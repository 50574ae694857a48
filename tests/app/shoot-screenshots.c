/* shoot-screenshots: the README's screenshots, made the way the app looks (light theme,
 * GNOME's window buttons), from the real weights and the sample images in data/samples/.
 * Not a test: `meson compile -C build screenshots WEIGHTS=…` is not a thing, so run it as
 *
 *   BRUSHWORK_WEIGHTS=vgg19.safetensors meson compile -C build screenshots
 *
 * which writes data/screenshots/main.png (painting, wide) and narrow.png (a half-screen
 * window, the settings folded away). */
#include <adwaita.h>

#include "bw-app-test-util.h"
#include "bw-image-pane.h"
#include "bw-style-row.h"
#include "bw-window.h"

#define SIZE 384
#define STEPS 160

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
late_in_the_run (gpointer worker)
{
  return bw_worker_get_step (worker) >= STEPS * 3 / 4;
}

static gboolean
is_idle (gpointer worker)
{
  return bw_worker_get_state (worker) == BW_WORKER_IDLE;
}

static gboolean
flap_folded_away (gpointer flap)
{
  double progress;

  g_object_get (flap, "reveal-progress", &progress, NULL);
  return adw_flap_get_folded (flap) && progress == 0;
}

static void
shoot (GtkWidget  *window,
       const char *dir,
       const char *name)
{
  g_autoptr(GdkTexture) render = bw_app_test_render_drawn (window);
  g_autofree char *path = g_build_filename (dir, name, NULL);

  g_assert_nonnull (render);
  g_assert_true (gdk_texture_save_to_png (render, path));
  g_print ("%s: %d×%d\n", path, gdk_texture_get_width (render), gdk_texture_get_height (render));
}

int
main (int   argc,
      char *argv[])
{
  const char *weights = g_getenv ("BRUSHWORK_WEIGHTS");
  g_autofree char *content = NULL;
  g_autofree char *style = NULL;
  g_autoptr(BwApplication) app = NULL;
  g_autoptr(GError) error = NULL;
  BwWindow *window;
  BwWorker *worker;
  int min_width;

  if (argc != 2 || weights == NULL)
    {
      g_printerr ("Usage: BRUSHWORK_WEIGHTS=FILE shoot-screenshots FOLDER\n");
      return 2;
    }
  g_test_init (&argc, &argv, NULL);
  g_free (bw_app_test_setup_env ());
  content = bw_app_test_sample ("chelsea.png");
  style = bw_app_test_sample ("starry-night.jpg");

  app = bw_app_test_new_app (SIZE, STEPS, "lbfgs");
  /* the default preset's style weight (the test settings take the seed's) */
  {
    g_autoptr(GSettings) settings = g_settings_new ("io.github.brushwork.Brushwork");
    g_settings_set_double (settings, "style-weight", 10);
  }
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_FORCE_LIGHT);
  g_object_set (gtk_settings_get_default (), "gtk-decoration-layout", "appmenu:close", NULL);

  window = bw_window_new (app);
  worker = bw_window_get_worker (window);
  bw_window_set_weights_path (window, weights);
  gtk_window_set_default_size (GTK_WINDOW (window), 1100, 720);
  gtk_window_present (GTK_WINDOW (window));
  bw_app_test_drop_file (bw_app_test_find (GTK_WIDGET (window), BW_TYPE_IMAGE_PANE, 0), content);
  bw_app_test_drop_file (bw_app_test_find (GTK_WIDGET (window), BW_TYPE_IMAGE_PANE, 1), style);
  bw_app_test_wait (has_texture, bw_app_test_find (GTK_WIDGET (window), BW_TYPE_IMAGE_PANE, 0), 20,
                    "the photo");
  bw_app_test_wait (has_style, window, 20, "the style");

  g_action_group_activate_action (G_ACTION_GROUP (window), "start", NULL);
  bw_app_test_wait (late_in_the_run, worker, 1200, "three quarters of the steps");
  shoot (GTK_WIDGET (window), argv[1], "main.png");

  /* a half-screen window: the settings fold away behind the sidebar button */
  gtk_widget_measure (GTK_WIDGET (window), GTK_ORIENTATION_HORIZONTAL, -1, &min_width, NULL, NULL, NULL);
  gtk_window_set_default_size (GTK_WINDOW (window), MAX (min_width, 420), 720);
  bw_app_test_wait (bw_app_test_is_narrow, &(BwAppTestWidth) { GTK_WIDGET (window), MAX (min_width, 420) },
                    20, "the narrow window");
  bw_app_test_wait (flap_folded_away, bw_app_test_find (GTK_WIDGET (window), ADW_TYPE_FLAP, 0), 20,
                    "the settings folded away");
  shoot (GTK_WIDGET (window), argv[1], "narrow.png");

  g_action_group_activate_action (G_ACTION_GROUP (window), "stop", NULL);
  bw_app_test_wait (is_idle, worker, 60, "the stop");
  gtk_window_destroy (GTK_WINDOW (window));
  return 0;
}
