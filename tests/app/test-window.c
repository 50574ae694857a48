/* test-window: the app end to end, in this process, on test weights.
 *
 * /window/command-line: `brushwork --content C --style S --start --weights W` opens the
 *   window and paints: the preview shows an image, and it changes between two frames; a
 *   screenshot is written (BRUSHWORK_SCREENSHOT, else the test's temporary folder).
 *   Quitting mid-run stops the worker cleanly.
 * /window/drop-and-save: a file that is not an image, dropped on the photo, changes nothing;
 *   a photo and a style dropped on their panes paint, and saving writes a PNG of the size
 *   asked for.
 * /window/first-run: without weights, Paint opens the dialog that offers the download.
 * /window/narrow: at most 400 px is the narrowest the window goes, and there, with a
 *   painting shown, every control shown (buttons, sliders, spin buttons, the progress bar)
 *   lies inside the window (and inside its scrolled sidebar), the compare button and the
 *   status included; the sidebar button shows the settings over the painting, their
 *   controls inside the window too.
 */
#include <adwaita.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>

#include "bw-alert.h"
#include "bw-app-test-util.h"
#include "bw-image-pane.h"
#include "bw-style-row.h"
#include "bw-weights-dialog.h"
#include "bw-window.h"

#define SIZE 40

static char *tmpdir;
static char *weights;

/* L-BFGS (the default) changes the picture visibly within a few steps; small and quick on a
 * CPU's Vulkan */
static BwApplication *
new_app (int steps)
{
  BwApplication *app = bw_app_test_new_app (SIZE, steps, "lbfgs");
  g_autoptr(GSettings) settings = g_settings_new ("io.github.brushwork.Brushwork");

  /* the default preset's own style weight (the tests' 1e6 is the seed's): with the relative
   * losses and the test weights, 1e6 left the preview unchanged at step 61 */
  g_settings_set_double (settings, "style-weight", 10);
  return app;
}

/* --- command line ---------------------------------------------------------------------- */

typedef struct {
  BwApplication *app;
  GdkTexture *first;
  GdkTexture *first_frame;
  int first_step;
  double diff;
  gboolean checked;
  gint64 deadline;
} CommandLine;

static gboolean
poll_command_line (gpointer data)
{
  CommandLine *t = data;
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (t->app));
  BwWorker *worker;
  BwPreview *preview;
  int step;

  if (g_get_monotonic_time () > t->deadline)
    g_error ("The preview did not show two frames in time");
  if (!BW_IS_WINDOW (window))
    return G_SOURCE_CONTINUE;
  worker = bw_window_get_worker (BW_WINDOW (window));
  preview = bw_window_get_preview (BW_WINDOW (window));
  step = bw_worker_get_step (worker);
  if (bw_preview_get_texture (preview) == NULL || step < 1 || !gtk_widget_get_mapped (GTK_WIDGET (preview)))
    return G_SOURCE_CONTINUE;

  if (t->first == NULL)
    {
      /* NULL until the preview has been drawn: try again at the next poll */
      t->first = bw_app_test_render (GTK_WIDGET (preview));
      if (t->first)
        {
          t->first_frame = g_object_ref (bw_preview_get_texture (preview));
          t->first_step = step;
        }
      return G_SOURCE_CONTINUE;
    }
  if (step < t->first_step + 3)
    return G_SOURCE_CONTINUE;

  {
    g_autoptr(GdkTexture) second = bw_app_test_render (GTK_WIDGET (preview));
    g_autoptr(GdkTexture) shot = second ? bw_app_test_render (GTK_WIDGET (window)) : NULL;
    const char *env = g_getenv ("BRUSHWORK_SCREENSHOT");
    g_autofree char *path = env ? g_strdup (env) : g_build_filename (tmpdir, "window.png", NULL);
    g_autofree char *first_path = g_build_filename (tmpdir, "preview-1.png", NULL);
    g_autofree char *second_path = g_build_filename (tmpdir, "preview-2.png", NULL);

    if (shot == NULL)
      return G_SOURCE_CONTINUE;

    t->diff = bw_app_test_texture_diff (t->first, second);
    if (t->diff == G_MAXDOUBLE)
      {
        /* the preview was resized in between (the window still settling, which the first
         * steps can now outrun at this size): compare from this frame on */
        g_set_object (&t->first, second);
        g_set_object (&t->first_frame, bw_preview_get_texture (preview));
        t->first_step = step;
        return G_SOURCE_CONTINUE;
      }
    /* The preview shows the best image evaluated so far: L-BFGS's first steps after a
     * restart are tiny (or overshoot, and are not shown), so the picture may take some
     * steps to change visibly. */
    if (t->diff <= 0.05 && step < t->first_step + 60)
      return G_SOURCE_CONTINUE;
    g_test_message ("frames differ by %.3f", bw_app_test_texture_diff (t->first_frame, bw_preview_get_texture (preview)));
    g_assert_true (gdk_texture_save_to_png (shot, path));
    gdk_texture_save_to_png (t->first, first_path);
    gdk_texture_save_to_png (second, second_path);
    g_test_message ("steps %d and %d differ by %.3f per byte; screenshot in %s",
                    t->first_step, step, t->diff, path);
  }
  t->checked = TRUE;
  /* mid-run: the worker must stop and join when the app quits */
  g_assert_cmpint (bw_worker_get_state (worker), !=, BW_WORKER_IDLE);
  g_application_quit (G_APPLICATION (t->app));
  return G_SOURCE_REMOVE;
}

static void
test_command_line (void)
{
  g_autofree char *content = bw_app_test_sample ("chelsea.png");
  g_autofree char *style = bw_app_test_sample ("starry-night.jpg");
  char *argv[] = { "brushwork", "--content", content, "--style", style, "--start",
                   "--weights", weights, NULL };
  CommandLine t = { 0 };
  int status;

  t.app = new_app (500);
  /* generous: a first run under AddressSanitizer compiles every pipeline slowly */
  t.deadline = g_get_monotonic_time () + 400 * G_USEC_PER_SEC;
  g_timeout_add (50, poll_command_line, &t);
  status = g_application_run (G_APPLICATION (t.app), G_N_ELEMENTS (argv) - 1, argv);
  g_assert_cmpint (status, ==, 0);
  g_assert_true (t.checked);
  /* a picture, not a blank: the frames differ from each other */
  g_assert_cmpfloat (t.diff, >, 0.05);
  g_assert_cmpfloat (t.diff, <, 255);
  g_clear_object (&t.first);
  g_clear_object (&t.first_frame);
  g_object_unref (t.app);
}

/* --- drop and save --------------------------------------------------------------------- */

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
has_toast (gpointer window)
{
  /* AdwToastOverlay shows a toast as an AdwToastWidget, a private type */
  GtkWidget *overlay = bw_app_test_find (window, ADW_TYPE_TOAST_OVERLAY, 0);

  for (GtkWidget *c = gtk_widget_get_first_child (overlay); c; c = gtk_widget_get_next_sibling (c))
    if (g_str_equal (G_OBJECT_TYPE_NAME (c), "AdwToastWidget"))
      return TRUE;
  return FALSE;
}

static gboolean
is_done (gpointer worker)
{
  return bw_worker_get_state (worker) == BW_WORKER_IDLE && bw_worker_get_image (worker) != NULL;
}

static void
test_drop_and_save (void)
{
  g_autoptr(BwApplication) app = new_app (3);
  g_autoptr(GError) error = NULL;
  g_autofree char *content = bw_app_test_sample ("chelsea.png");
  g_autofree char *style = bw_app_test_sample ("starry-night.jpg");
  g_autofree char *not_image = g_build_filename (tmpdir, "notes.txt", NULL);
  g_autofree char *out = g_build_filename (tmpdir, "saved.png", NULL);
  g_autofree char *name = NULL;
  g_autofree char *format_name = NULL;
  g_autoptr(GFile) out_file = g_file_new_for_path (out);
  BwWindow *window;
  GtkWidget *content_pane, *style_pane;
  BwWorker *worker;
  int width = 0, height = 0;
  GdkPixbufFormat *format;

  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  window = bw_window_new (app);
  bw_window_set_weights_path (window, weights);
  gtk_window_present (GTK_WINDOW (window));
  worker = bw_window_get_worker (window);
  content_pane = bw_app_test_find (GTK_WIDGET (window), BW_TYPE_IMAGE_PANE, 0);
  style_pane = bw_app_test_find (GTK_WIDGET (window), BW_TYPE_IMAGE_PANE, 1);
  g_assert_nonnull (style_pane);

  /* not an image: a toast, and the photo stays empty */
  g_assert_true (g_file_set_contents (not_image, "shopping list\n", -1, NULL));
  bw_app_test_drop_file (content_pane, not_image);
  bw_app_test_wait (has_toast, window, 20, "a toast about the file that is not an image");
  g_assert_null (bw_image_pane_get_texture (BW_IMAGE_PANE (content_pane)));

  bw_app_test_drop_file (content_pane, content);
  bw_app_test_drop_file (style_pane, style);
  bw_app_test_wait (has_texture, content_pane, 20, "the photo's thumbnail");
  bw_app_test_wait (has_style, window, 20, "the style's row");
  name = bw_window_dup_default_name (window);
  g_assert_cmpstr (name, ==, "chelsea-starry-night.png");

  g_action_group_activate_action (G_ACTION_GROUP (window), "start", NULL);
  bw_app_test_wait (is_done, worker, 400, "three steps");
  g_assert_cmpint (bw_worker_get_step (worker), ==, 3);

  bw_app_test_save (window, out_file);
  format = gdk_pixbuf_get_file_info (out, &width, &height);
  g_assert_nonnull (format);
  format_name = gdk_pixbuf_format_get_name (format);
  g_assert_cmpstr (format_name, ==, "png");
  g_assert_cmpint (MAX (width, height), ==, SIZE);

  /* saved: closing asks nothing */
  gtk_window_close (GTK_WINDOW (window));
  /* what stayed, if anything, for the failure's message */
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (app)); l; l = l->next)
    g_test_message ("still open: %s", G_OBJECT_TYPE_NAME (l->data));
  if (bw_alert_find (NULL))
    g_test_message ("an alert saying %s", bw_alert_get_heading (bw_alert_find (NULL)));
  g_assert_null (gtk_application_get_windows (GTK_APPLICATION (app)));
}

/* --- a narrow window ---------------------------------------------------------------------- */

static gboolean
is_control (GtkWidget *w)
{
  return GTK_IS_BUTTON (w) || GTK_IS_MENU_BUTTON (w) || GTK_IS_RANGE (w) ||
         GTK_IS_SPIN_BUTTON (w) || GTK_IS_SWITCH (w) || GTK_IS_PROGRESS_BAR (w) ||
         GTK_IS_DROP_DOWN (w);
}

/* Every control shown under @widget lies inside @root's width, and inside the scrolled
 * window that holds it, if any (its content scrolls only up and down); one outside no
 * scrolled window lies inside @root's height too. Counts the controls looked at. */
static void
assert_controls_inside (GtkWidget       *root,
                        GtkWidget       *widget,
                        graphene_rect_t *clip,
                        int             *n_checked)
{
  graphene_rect_t area = *clip;
  graphene_rect_t b;

  if (!gtk_widget_get_mapped (widget) || !gtk_widget_get_child_visible (widget))
    return;
  if (GTK_IS_SCROLLED_WINDOW (widget))
    {
      g_assert_true (gtk_widget_compute_bounds (widget, root, &b));
      /* across: within the clip; down: what scrolls into view */
      area.origin.x = MAX (clip->origin.x, b.origin.x);
      area.size.width = MIN (clip->origin.x + clip->size.width, b.origin.x + b.size.width) - area.origin.x;
      area.origin.y = -G_MAXFLOAT / 4;
      area.size.height = G_MAXFLOAT / 2;
    }
  if (is_control (widget) && gtk_widget_get_width (widget) > 0)
    {
      g_assert_true (gtk_widget_compute_bounds (widget, root, &b));
      if (b.origin.x < area.origin.x - 0.5 ||
          b.origin.x + b.size.width > area.origin.x + area.size.width + 0.5 ||
          b.origin.y < area.origin.y - 0.5 ||
          b.origin.y + b.size.height > area.origin.y + area.size.height + 0.5)
        g_error ("%s “%s” at %.0f,%.0f %.0f×%.0f is outside the visible %.0f,%.0f %.0f×%.0f",
                 G_OBJECT_TYPE_NAME (widget),
                 gtk_widget_get_tooltip_text (widget) ? gtk_widget_get_tooltip_text (widget) :
                 GTK_IS_BUTTON (widget) && gtk_button_get_label (GTK_BUTTON (widget)) ?
                 gtk_button_get_label (GTK_BUTTON (widget)) : "",
                 b.origin.x, b.origin.y, b.size.width, b.size.height,
                 area.origin.x, area.origin.y, area.size.width, area.size.height);
      (*n_checked)++;
    }
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    assert_controls_inside (root, c, &area, n_checked);
}

static int
check_window_controls (GtkWidget *window)
{
  graphene_rect_t all = GRAPHENE_RECT_INIT (0, 0, gtk_widget_get_width (window),
                                            gtk_widget_get_height (window));
  int n = 0;

  g_object_unref (bw_app_test_render_drawn (window));
  assert_controls_inside (window, window, &all, &n);
  return n;
}


static gboolean
flap_settled (gpointer flap)
{
  double progress;
  gboolean reveal;

  g_object_get (flap, "reveal-progress", &progress, "reveal-flap", &reveal, NULL);
  return progress == (reveal ? 1.0 : 0.0);
}

/* At its minimum width, a half-screen or tiled window's, every control is inside the
 * window: the settings fold over the painting, shown by the sidebar button, and the zoom
 * and compare buttons, the status and the header's buttons stay in view. */
static void
test_narrow (void)
{
  g_autoptr(BwApplication) app = new_app (2);
  g_autoptr(GError) error = NULL;
  g_autofree char *content = bw_app_test_sample ("chelsea.png");
  g_autofree char *style = bw_app_test_sample ("starry-night.jpg");
  g_autofree char *shot = g_build_filename (tmpdir, "narrow.png", NULL);
  BwWindow *window;
  GtkWidget *flap, *sidebar_button = NULL, *compare = NULL;
  int min_width, n_wide, n_narrow, n_revealed;

  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  /* GNOME's window buttons (GTK's own default adds minimise and maximise) */
  g_object_set (gtk_settings_get_default (), "gtk-decoration-layout", "appmenu:close", NULL);
  window = bw_window_new (app);
  bw_window_set_weights_path (window, weights);
  gtk_window_set_default_size (GTK_WINDOW (window), 1100, 700);
  gtk_window_present (GTK_WINDOW (window));
  bw_app_test_drop_file (bw_app_test_find (GTK_WIDGET (window), BW_TYPE_IMAGE_PANE, 0), content);
  bw_app_test_drop_file (bw_app_test_find (GTK_WIDGET (window), BW_TYPE_IMAGE_PANE, 1), style);
  bw_app_test_wait (has_texture, bw_app_test_find (GTK_WIDGET (window), BW_TYPE_IMAGE_PANE, 0), 20,
                    "the photo's thumbnail");
  bw_app_test_wait (has_style, window, 20, "the style's row");
  g_action_group_activate_action (G_ACTION_GROUP (window), "start", NULL);
  bw_app_test_wait (is_done, bw_window_get_worker (window), 400, "two steps");
  /* wide: everything in view, the settings beside the painting */
  n_wide = check_window_controls (GTK_WIDGET (window));

  /* as narrow as the window goes */
  gtk_widget_measure (GTK_WIDGET (window), GTK_ORIENTATION_HORIZONTAL, -1, &min_width, NULL, NULL, NULL);
  g_test_message ("minimum width %d", min_width);
  /* half of a 1280 px screen, and GNOME's narrowest phone-sized windows */
  g_assert_cmpint (min_width, <=, 400);
  gtk_window_set_default_size (GTK_WINDOW (window), min_width, 700);
  bw_app_test_wait (bw_app_test_is_narrow, &(BwAppTestWidth) { GTK_WIDGET (window), min_width }, 20,
                    "the window at its minimum width");
  flap = bw_app_test_find (GTK_WIDGET (window), ADW_TYPE_FLAP, 0);
  bw_app_test_wait (flap_settled, flap, 20, "the settings to fold away");
  g_assert_true (adw_flap_get_folded (ADW_FLAP (flap)));
  n_narrow = check_window_controls (GTK_WIDGET (window));
  /* the preview's buttons were looked at: they are shown, and in view */
  for (int i = 0; (compare = bw_app_test_find (GTK_WIDGET (window), GTK_TYPE_BUTTON, i)); i++)
    if (g_strcmp0 (gtk_widget_get_tooltip_text (compare), "Hold to See the Photo") == 0)
      break;
  g_assert_nonnull (compare);
  g_assert_true (gtk_widget_get_mapped (compare));
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (bw_app_test_find (GTK_WIDGET (window), GTK_TYPE_PROGRESS_BAR, 0))));

  /* the settings, shown over the painting, are in view too */
  for (int i = 0; (sidebar_button = bw_app_test_find (GTK_WIDGET (window), GTK_TYPE_TOGGLE_BUTTON, i)); i++)
    if (g_strcmp0 (gtk_widget_get_tooltip_text (sidebar_button), "Settings") == 0)
      break;
  g_assert_nonnull (sidebar_button);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (sidebar_button), TRUE);
  bw_app_test_wait (flap_settled, flap, 20, "the settings to unfold");
  n_revealed = check_window_controls (GTK_WIDGET (window));
  {
    g_autoptr(GdkTexture) render = bw_app_test_render_drawn (GTK_WIDGET (window));
    g_assert_true (gdk_texture_save_to_png (render, shot));
  }
  g_test_message ("controls in view: %d wide, %d narrow, %d with the settings shown; %s",
                  n_wide, n_narrow, n_revealed, shot);
  /* the size, steps, the three sliders: the sidebar's controls were among them */
  g_assert_cmpint (n_revealed, >, n_narrow + 5);
  gtk_window_destroy (GTK_WINDOW (window));
}

static gboolean
has_weights_dialog (gpointer data)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) w = g_list_model_get_item (toplevels, i);

      if (BW_IS_WEIGHTS_DIALOG (w))
        {
          *(GtkWindow **) data = GTK_WINDOW (w);
          return TRUE;
        }
    }
  return FALSE;
}

static void
test_first_run (void)
{
  g_autoptr(BwApplication) app = new_app (3);
  g_autoptr(GError) error = NULL;
  g_autofree char *content = bw_app_test_sample ("chelsea.png");
  g_autofree char *style = bw_app_test_sample ("starry-night.jpg");
  g_autofree char *missing = g_build_filename (tmpdir, "no-weights-here.safetensors", NULL);
  GtkWindow *dialog = NULL;
  BwWindow *window;

  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  window = bw_window_new (app);
  bw_window_set_weights_path (window, missing);
  gtk_window_present (GTK_WINDOW (window));
  bw_app_test_drop_file (bw_app_test_find (GTK_WIDGET (window), BW_TYPE_IMAGE_PANE, 0), content);
  bw_app_test_drop_file (bw_app_test_find (GTK_WIDGET (window), BW_TYPE_IMAGE_PANE, 1), style);
  bw_window_start (window);
  bw_app_test_wait (has_weights_dialog, &dialog, 20, "the weights dialog");
  g_assert_true (gtk_window_get_transient_for (dialog) == GTK_WINDOW (window));
  g_assert_cmpint (bw_worker_get_state (bw_window_get_worker (window)), ==, BW_WORKER_IDLE);
  gtk_window_destroy (dialog);
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

  g_test_add_func ("/window/command-line", test_command_line);
  g_test_add_func ("/window/drop-and-save", test_drop_and_save);
  g_test_add_func ("/window/first-run", test_first_run);
  g_test_add_func ("/window/narrow", test_narrow);
  status = g_test_run ();
  g_free (weights);
  g_free (tmpdir);
  return status;
}
