/* test-closing: windows closing while work is still in flight, and what they leave behind.
 *
 * Run under G_DEBUG=fatal-criticals (meson's app environment) and, in the sanitizer build,
 * AddressSanitizer: a callback that touches a disposed window's widgets fails with a
 * critical, one that reads freed memory with ASan's report.
 *
 * /closing/quit-two-windows: Ctrl+Q's action closes every window (two open).
 */
#include <adwaita.h>
#include <glib/gstdio.h>

#include "bw-app-test-util.h"
#include "bw-window.h"

#define SIZE 40

static char *tmpdir;
static char *weights;

static BwApplication *
new_registered_app (void)
{
  BwApplication *app = bw_app_test_new_app (SIZE, 3, "lbfgs");
  g_autoptr(GError) error = NULL;

  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  return app;
}

static BwWindow *
new_window (BwApplication *app)
{
  BwWindow *window = bw_window_new (app);

  bw_window_set_weights_path (window, weights);
  gtk_window_present (GTK_WINDOW (window));
  return window;
}

/* --- quit ------------------------------------------------------------------------------ */

static void
test_quit_two_windows (void)
{
  g_autoptr(BwApplication) app = new_registered_app ();
  BwWindow *first = new_window (app);
  BwWindow *second = new_window (app);

  g_object_add_weak_pointer (G_OBJECT (first), (gpointer *) &first);
  g_object_add_weak_pointer (G_OBJECT (second), (gpointer *) &second);
  g_assert_cmpuint (g_list_length (gtk_application_get_windows (GTK_APPLICATION (app))), ==, 2);

  /* what Ctrl+Q activates; nothing is unsaved, so each window closes at once */
  g_action_group_activate_action (G_ACTION_GROUP (app), "quit", NULL);
  g_assert_null (gtk_application_get_windows (GTK_APPLICATION (app)));
  g_assert_null (first);
  g_assert_null (second);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);
  tmpdir = bw_app_test_setup_env ();
  weights = bw_app_test_make_weights (tmpdir);

  g_test_add_func ("/closing/quit-two-windows", test_quit_two_windows);
  status = g_test_run ();
  g_free (weights);
  g_free (tmpdir);
  return status;
}
