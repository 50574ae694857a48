/* test-closing: windows closing while work is still in flight, and what they leave behind.
 *
 * Run under G_DEBUG=fatal-criticals (meson's app environment) and, in the sanitizer build,
 * AddressSanitizer: a callback that touches a disposed window's widgets fails with a
 * critical, one that reads freed memory with ASan's report.
 *
 * /closing/quit-two-windows: Ctrl+Q's action closes every window (two open).
 * /closing/paste-texture, /closing/paste-files: the window closes while a paste is read
 *   from the clipboard; the pasted image then goes nowhere.
 * /closing/save: the window closes while the painting chosen in the save dialog is being
 *   written; the file is still written whole, and the closed window shows nothing about it.
 * (A window's callbacks hold a reference on it, so a closed window lives on, hidden, until
 * they are done: they must see it is closed, not disposed.)
 * /closing/save-prompt-over-open-dialog: Save in the close prompt, while the Open dialog is
 *   open, shows the save dialog; cancelled, the next Ctrl+S saves and leaves the window open.
 * /closing/pasted-files: a pasted image is stored as a file in $TMPDIR for the worker; it is
 *   removed once replaced as the photo, once its style is removed, and when the window goes.
 * /closing/weights-download: the weights dialog closes while its download is connecting
 *   (to a local server that never answers): the download stops, and the dialog goes.
 *
 * The file dialogs are answered through the window's GtkFileChooserNative (hence
 * bw-window-private.h): see accept_file_chooser().
 */
#include <adwaita.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "bw-alert.h"
#include "bw-app-test-util.h"
#include "bw-image-pane.h"
#include "bw-style-row.h"
#include "bw-weights-dialog.h"
#include "bw-window-private.h"

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

static gboolean
is_null (gpointer pointer)
{
  return *(gpointer *) pointer == NULL;
}

/* Destroys @window and waits until the last reference, a callback's, lets go of it. */
static void
destroy_and_wait (gpointer window)
{
  gpointer weak = window;

  g_object_add_weak_pointer (G_OBJECT (window), &weak);
  gtk_window_destroy (GTK_WINDOW (window));
  bw_app_test_wait (is_null, &weak, 60, "the window to be finalised");
}

static gboolean
only_ours (gpointer object)
{
  return G_OBJECT (object)->ref_count == 1;
}

/* Closes @window, as its close button does once nothing is unsaved, and waits until the work
 * it had in flight lets go of it; the test still holds it, to look at what became of it. */
static void
close_and_settle (BwWindow *window)
{
  g_object_ref (window);
  gtk_window_destroy (GTK_WINDOW (window));
  bw_app_test_wait (only_ours, window, 60, "the window's work in flight to end");
}

/* Drops the test's reference, the last one. */
static void
release (BwWindow *window)
{
  gpointer weak = window;

  g_object_add_weak_pointer (G_OBJECT (window), &weak);
  g_object_unref (window);
  g_assert_null (weak);
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

static GdkTexture *
get_photo (BwWindow *window)
{
  return bw_image_pane_get_texture (BW_IMAGE_PANE (bw_app_test_find (GTK_WIDGET (window),
                                                                     BW_TYPE_IMAGE_PANE, 0)));
}

static gboolean
is_done (gpointer worker)
{
  return bw_worker_get_state (worker) == BW_WORKER_IDLE && bw_worker_get_image (worker) != NULL;
}

/* A window with a photo, a style and a painting of a few steps: unsaved. */
static BwWindow *
new_painted_window (BwApplication *app)
{
  BwWindow *window = new_window (app);
  g_autofree char *content = bw_app_test_sample ("chelsea.png");
  g_autofree char *style = bw_app_test_sample ("starry-night.jpg");

  bw_app_test_drop_file (bw_app_test_find (GTK_WIDGET (window), BW_TYPE_IMAGE_PANE, 0), content);
  bw_app_test_drop_file (bw_app_test_find (GTK_WIDGET (window), BW_TYPE_IMAGE_PANE, 1), style);
  bw_window_start (window);
  bw_app_test_wait (is_done, bw_window_get_worker (window), 400, "three steps");
  return window;
}

/* Answers @window's file dialog with @name in the test's folder. */
static void
accept_file_chooser (BwWindow   *window,
                     const char *name)
{
  bw_app_test_accept_file_chooser (window, tmpdir, name);
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

/* --- in flight when the window closes ------------------------------------------------ */

static void
test_paste_texture (void)
{
  g_autoptr(BwApplication) app = new_registered_app ();
  g_autofree char *path = bw_app_test_sample ("chelsea.png");
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkTexture) texture = gdk_texture_new_from_filename (path, &error);
  BwWindow *window = new_window (app);

  g_assert_no_error (error);
  gdk_clipboard_set_texture (gtk_widget_get_clipboard (GTK_WIDGET (window)), texture);
  /* the read is answered from the main loop, after the window is gone */
  g_action_group_activate_action (G_ACTION_GROUP (window), "paste", NULL);
  close_and_settle (window);
  /* a closed window takes in nothing more */
  g_assert_null (get_photo (window));
  release (window);
}

static void
test_paste_files (void)
{
  g_autoptr(BwApplication) app = new_registered_app ();
  g_autofree char *path = bw_app_test_sample ("chelsea.png");
  g_autoptr(GFile) file = g_file_new_for_path (path);
  GSList files = { file, NULL };
  g_autoptr(GdkContentProvider) provider = NULL;
  BwWindow *window = new_window (app);

  provider = gdk_content_provider_new_typed (GDK_TYPE_FILE_LIST, &files);
  gdk_clipboard_set_content (gtk_widget_get_clipboard (GTK_WIDGET (window)), provider);
  g_action_group_activate_action (G_ACTION_GROUP (window), "paste", NULL);
  close_and_settle (window);
  g_assert_null (get_photo (window));
  release (window);
}

static void
test_save (void)
{
  g_autoptr(BwApplication) app = new_registered_app ();
  g_autofree char *out = g_build_filename (tmpdir, "closing-save.png", NULL);
  BwWindow *window = new_painted_window (app);
  int width = 0, height = 0;

  g_action_group_activate_action (G_ACTION_GROUP (window), "save", NULL);
  accept_file_chooser (window, "closing-save.png");
  /* the save is on its thread now: close without asking, as Discard does */
  close_and_settle (window);
  g_assert_true (bw_app_test_has_no_file_chooser (NULL));
  /* written whole, and no toast about it on the closed window */
  g_assert_false (has_toast (window));
  release (window);
  g_assert_nonnull (gdk_pixbuf_get_file_info (out, &width, &height));
  g_assert_cmpint (MAX (width, height), ==, SIZE);
  g_unlink (out);
}

static gboolean
exists (gpointer path)
{
  return g_file_test (path, G_FILE_TEST_EXISTS);
}

static void
test_save_prompt_over_open_dialog (void)
{
  g_autoptr(BwApplication) app = new_registered_app ();
  g_autofree char *out = g_build_filename (tmpdir, "prompt-save.png", NULL);
  BwWindow *window = new_painted_window (app);
  GtkWidget *prompt = NULL;

  g_action_group_activate_action (G_ACTION_GROUP (window), "open-content", NULL);
  bw_app_test_wait (bw_app_test_has_file_chooser, NULL, 20, "the Open dialog");
  g_assert_cmpint (gtk_file_chooser_get_action (GTK_FILE_CHOOSER (bw_app_test_find_file_chooser ())), ==,
                   GTK_FILE_CHOOSER_ACTION_OPEN);

  /* unsaved: closing asks */
  gtk_window_close (GTK_WINDOW (window));
  bw_app_test_wait (bw_app_test_has_alert, &prompt, 20, "the close prompt");
  g_assert_true (bw_alert_click (prompt, "save"));

  /* the save dialog, not the Open dialog, is what shows now */
  bw_app_test_wait (bw_app_test_has_file_chooser, NULL, 20, "the save dialog");
  g_assert_cmpint (gtk_file_chooser_get_action (GTK_FILE_CHOOSER (bw_app_test_find_file_chooser ())), ==,
                   GTK_FILE_CHOOSER_ACTION_SAVE);
  /* changed their mind: the window stays */
  g_signal_emit_by_name (window->chooser, "response", GTK_RESPONSE_CANCEL);
  bw_app_test_wait (bw_app_test_has_no_file_chooser, NULL, 20, "the save dialog to close");

  /* Ctrl+S later saves, and that is all it does */
  g_action_group_activate_action (G_ACTION_GROUP (window), "save", NULL);
  accept_file_chooser (window, "prompt-save.png");
  bw_app_test_wait (exists, out, 20, "the saved file");
  bw_app_test_wait (has_toast, window, 20, "the toast saying it is saved");
  g_assert_nonnull (g_list_find (gtk_application_get_windows (GTK_APPLICATION (app)), window));
  g_unlink (out);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* The images pasted and stored, in this test's own $TMPDIR (see main()). */
static guint
count_pasted (void)
{
  g_autoptr(GDir) dir = g_dir_open (g_get_tmp_dir (), 0, NULL);
  const char *name;
  guint n = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)))
    {
      g_autofree char *path = g_build_filename (g_get_tmp_dir (), name, "pasted.png", NULL);

      n += g_file_test (path, G_FILE_TEST_EXISTS);
    }
  return n;
}

static gboolean
pasted_are (gpointer n)
{
  return count_pasted () == GPOINTER_TO_UINT (n);
}

static gboolean
has_n_styles (gpointer data)
{
  gpointer *args = data;
  int n = GPOINTER_TO_INT (args[1]);

  return (n == 0 || bw_app_test_find (args[0], BW_TYPE_STYLE_ROW, n - 1) != NULL) &&
         bw_app_test_find (args[0], BW_TYPE_STYLE_ROW, n) == NULL;
}

static gboolean
photo_is_not (gpointer data)
{
  gpointer *args = data;

  return get_photo (args[0]) != NULL && get_photo (args[0]) != args[1];
}

static void
paste (BwWindow   *window,
       GdkTexture *texture)
{
  gdk_clipboard_set_texture (gtk_widget_get_clipboard (GTK_WIDGET (window)), texture);
  g_action_group_activate_action (G_ACTION_GROUP (window), "paste", NULL);
}

static void
test_pasted_files (void)
{
  g_autoptr(BwApplication) app = new_registered_app ();
  g_autofree char *photo = bw_app_test_sample ("chelsea.png");
  g_autofree char *painting = bw_app_test_sample ("starry-night.jpg");
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkTexture) texture = gdk_texture_new_from_filename (painting, &error);
  BwWindow *window = new_window (app);
  gpointer one_style[] = { window, GINT_TO_POINTER (1) };
  gpointer no_style[] = { window, GINT_TO_POINTER (0) };
  gpointer replaced[] = { window, NULL };

  g_assert_no_error (error);
  g_assert_cmpuint (count_pasted (), ==, 0);
  /* the first paste is the photo, the second a style */
  paste (window, texture);
  bw_app_test_wait (photo_is_not, replaced, 20, "the pasted photo");
  replaced[1] = get_photo (window);
  paste (window, texture);
  bw_app_test_wait (has_n_styles, one_style, 20, "the pasted style");
  g_assert_cmpuint (count_pasted (), ==, 2);

  /* another photo: the pasted one goes */
  bw_app_test_drop_file (bw_app_test_find (GTK_WIDGET (window), BW_TYPE_IMAGE_PANE, 0), photo);
  bw_app_test_wait (photo_is_not, replaced, 20, "the dropped photo");
  bw_app_test_wait (pasted_are, GUINT_TO_POINTER (1), 20, "the replaced photo's file to go");

  /* the style removed: its file goes */
  g_signal_emit_by_name (bw_app_test_find (GTK_WIDGET (window), BW_TYPE_STYLE_ROW, 0), "remove");
  bw_app_test_wait (has_n_styles, no_style, 20, "the style to go");
  bw_app_test_wait (pasted_are, GUINT_TO_POINTER (0), 20, "the removed style's file to go");

  /* the window closed: what it still holds goes */
  paste (window, texture);
  bw_app_test_wait (has_n_styles, one_style, 20, "the pasted style");
  g_assert_cmpuint (count_pasted (), ==, 1);
  destroy_and_wait (window);
  g_assert_cmpuint (count_pasted (), ==, 0);
}

/* A server that takes connections and never answers: a download stays "connecting". */
static gboolean
on_incoming (GSocketService    *service,
             GSocketConnection *connection,
             GObject           *source,
             gpointer           user_data)
{
  GPtrArray *connections = user_data;

  g_ptr_array_add (connections, g_object_ref (connection));
  return TRUE;
}

static gboolean
has_connection (gpointer connections)
{
  return ((GPtrArray *) connections)->len > 0;
}

static void
test_weights_download (void)
{
  g_autoptr(BwApplication) app = new_registered_app ();
  g_autoptr(GSocketService) service = g_socket_service_new ();
  g_autoptr(GPtrArray) connections = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  BwWeightsDialog *dialog;
  GtkWidget *download;
  guint16 port;

  port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (service), NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (service, "incoming", G_CALLBACK (on_incoming), connections);
  url = g_strdup_printf ("http://127.0.0.1:%u/vgg19.pth", port);
  g_setenv ("BRUSHWORK_WEIGHTS_URL", url, TRUE);

  dialog = bw_weights_dialog_new (GTK_WINDOW (new_window (app)));
  gtk_window_present (GTK_WINDOW (dialog));
  for (int i = 0; (download = bw_app_test_find (GTK_WIDGET (dialog), GTK_TYPE_BUTTON, i)); i++)
    if (g_strcmp0 (gtk_button_get_label (GTK_BUTTON (download)), "_Download") == 0)
      break;
  g_assert_nonnull (download);
  g_signal_emit_by_name (download, "clicked");
  bw_app_test_wait (has_connection, connections, 30, "the download to connect");
  destroy_and_wait (dialog);
  g_socket_service_stop (service);
  g_unsetenv ("BRUSHWORK_WEIGHTS_URL");
}

/* A $TMPDIR of the test's own, where the pasted images it counts are alone. Before anything
 * asks GLib for it, which keeps the first answer. */
static void
own_tmpdir (void)
{
  const char *parent = g_getenv ("TMPDIR");
  g_autofree char *dir = g_build_filename (parent && *parent ? parent : "/tmp",
                                           "brushwork-closing-test-XXXXXX", NULL);

  g_assert_nonnull (g_mkdtemp (dir));
  g_setenv ("TMPDIR", dir, TRUE);
  g_assert_cmpstr (g_get_tmp_dir (), ==, dir);
}

/* Links @name in the test's own cache folder @own to the shared one's. */
static void
link_shared_cache (const char *own,
                   const char *name)
{
  g_autofree char *link = g_build_filename (own, name, NULL);
  g_autofree char *shared = g_build_filename (g_getenv ("XDG_CACHE_HOME"), name, NULL);
  g_autofree char *parent = g_path_get_dirname (link);

  g_assert_cmpint (g_mkdir_with_parents (parent, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (shared, 0700), ==, 0);
  g_assert_cmpint (symlink (shared, link), ==, 0);
}

/* The weights dialog downloads into the cache: a folder of the test's own, which still
 * shares the compiled shaders with the other tests: Brushwork's pipeline cache, and Mesa's
 * shader cache, where lavapipe keeps the code LLVM made (its pipeline cache keeps none:
 * without the link each run compiled them all again, 20 of this test's 40 s). */
static void
use_own_cache (void)
{
  g_autofree char *cache = g_build_filename (tmpdir, "cache", NULL);

  link_shared_cache (cache, "brushwork/pipelines");
  link_shared_cache (cache, "mesa_shader_cache");
  g_setenv ("XDG_CACHE_HOME", cache, TRUE);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);
  own_tmpdir ();
  tmpdir = bw_app_test_setup_env ();
  weights = bw_app_test_make_weights (tmpdir);
  use_own_cache ();
  /* GTK's own file dialog starts in the current folder: the test's, so what it saves stays
   * there */
  g_assert_cmpint (g_chdir (tmpdir), ==, 0);

  g_test_add_func ("/closing/quit-two-windows", test_quit_two_windows);
  g_test_add_func ("/closing/paste-texture", test_paste_texture);
  g_test_add_func ("/closing/paste-files", test_paste_files);
  g_test_add_func ("/closing/save", test_save);
  g_test_add_func ("/closing/save-prompt-over-open-dialog", test_save_prompt_over_open_dialog);
  g_test_add_func ("/closing/pasted-files", test_pasted_files);
  g_test_add_func ("/closing/weights-download", test_weights_download);
  status = g_test_run ();
  g_free (weights);
  g_free (tmpdir);
  return status;
}
