/* test-recovery: the app loses no painting (issue 20).
 *
 * /recovery/restore: a painting in progress, paused (which writes its autosave, and shows
 *   the image it kept), is abandoned by a process that ends without quitting (_exit, as a
 *   kill or a crash would). The next start offers it; Restore shows the same pixels at the
 *   same step, and Paint goes on from the step after it to the end. Saving removes the
 *   autosave.
 * /recovery/quit-mid-step: Ctrl+Q while a step runs, the close prompt answered Discard: the
 *   window goes at once, and the answer returns to the main loop with the worker's thread
 *   still running (before, dispose joined it on the main thread, blocking the UI for up to a
 *   step); the main loop runs on, the application held, until the thread has ended; then
 *   the run returns, the worker is finalised and no thread is left.
 * /recovery/device-lost: the device lost at step 3 of a painting (BRUSHWORK_FAULT): the
 *   window says so (the worker's warning, shown as a toast) and painting goes on to the
 *   last step, the preview updated past the loss.
 * /recovery/save-fails: a save that fails (BRUSHWORK_FAULT=write@save: as on a full disk)
 *   says so in a sentence naming the file, the reason and where a copy went
 *   ($XDG_CACHE_HOME/brushwork/rescued/, as the CLI); the copy is the painting; nothing is
 *   left at the file asked for; the window stays unsaved (closing asks).
 */
#include <adwaita.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "bw-alert.h"
#include "bw-app-test-util.h"
#include "bw-autosave.h"
#include "bw-window.h"

#define SIZE 40
/* Adam: every step counts (L-BFGS may converge before the last) */
#define STEPS 12

static char *tmpdir;
static char *weights;

static gboolean
has_painted_two (gpointer worker)
{
  return bw_worker_get_step (worker) >= 2 && bw_worker_get_texture (worker) != NULL;
}

static gboolean
is_paused (gpointer worker)
{
  return bw_worker_get_state (worker) == BW_WORKER_PAUSED;
}

static gboolean
is_done (gpointer worker)
{
  return bw_worker_get_state (worker) == BW_WORKER_IDLE && bw_worker_get_step (worker) == STEPS;
}

static gboolean
is_done_3 (gpointer worker)
{
  return bw_worker_get_state (worker) == BW_WORKER_IDLE && bw_worker_get_step (worker) == 3;
}

static gboolean
has_texture (gpointer worker)
{
  return bw_worker_get_texture (worker) != NULL;
}

static guint
count_autosaves (void)
{
  g_autofree char *dir = bw_autosave_get_dir ();
  g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  while (listing && (name = g_dir_read_name (listing)))
    n += g_str_has_suffix (name, ".ini");
  return n;
}

static gboolean
has_no_autosave (gpointer data)
{
  return count_autosaves () == 0;
}

static gboolean
no_thread_runs (gpointer data)
{
  return bw_worker_get_n_running () == 0;
}

static BwWindow *
new_window (BwApplication *app)
{
  g_autoptr(GError) error = NULL;
  BwWindow *window;

  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  window = bw_window_new (app);
  bw_window_set_weights_path (window, weights);
  gtk_window_present (GTK_WINDOW (window));
  return window;
}

static void
on_step (BwWorker   *worker,
         GParamSpec *pspec,
         int        *first)
{
  int step = bw_worker_get_step (worker);

  if (*first == 0 && step > 0)
    *first = step;
}

/* The abandoned run, in a process of its own that ends as a killed one would. */
static void
abandon_painting (const char *truth)
{
  BwApplication *app = bw_app_test_new_app (SIZE, STEPS, "adam");
  BwWindow *window = new_window (app);
  BwWorker *worker = bw_window_get_worker (window);
  g_autofree char *content = bw_app_test_sample ("chelsea.png");
  g_autofree char *style = bw_app_test_sample ("starry-night.jpg");
  g_autoptr(GFile) content_file = g_file_new_for_path (content);
  g_autoptr(GFile) style_file = g_file_new_for_path (style);
  g_autofree char *step_text = NULL;
  g_autofree char *step_path = g_strconcat (truth, ".step", NULL);

  bw_window_open_content (window, content_file);
  bw_window_add_style (window, style_file);
  bw_window_start (window);
  bw_app_test_wait (has_painted_two, worker, 400, "two steps");
  bw_worker_pause (worker);
  bw_app_test_wait (is_paused, worker, 60, "the pause");
  g_assert_true (gdk_texture_save_to_png (bw_worker_get_texture (worker), truth));
  step_text = g_strdup_printf ("%d", bw_worker_get_step (worker));
  g_assert_true (g_file_set_contents (step_path, step_text, -1, NULL));
  /* no quit, no dispose: what a kill leaves */
  _exit (0);
}

static void
test_restore (void)
{
  g_autofree char *truth = g_build_filename (tmpdir, "abandoned.png", NULL);
  g_autofree char *step_path = g_strconcat (truth, ".step", NULL);
  g_autofree char *step_text = NULL;
  g_autofree char *saved = g_build_filename (tmpdir, "restored.png", NULL);
  g_autoptr(GFile) saved_file = g_file_new_for_path (saved);
  g_autoptr(GdkTexture) want = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(BwApplication) app = NULL;
  GtkWidget *dialog = NULL;
  BwWindow *window;
  BwWorker *worker;
  int abandoned_step, first_step = 0;
  double diff;

  if (g_test_subprocess ())
    {
      abandon_painting (truth);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
  g_assert_cmpuint (count_autosaves (), ==, 1);
  g_assert_true (g_file_get_contents (step_path, &step_text, NULL, NULL));
  abandoned_step = atoi (step_text);
  g_assert_cmpint (abandoned_step, >=, 2);
  g_assert_cmpint (abandoned_step, <, STEPS);

  /* the next start: the window the app presents first offers it */
  app = bw_app_test_new_app (SIZE, 3, "lbfgs");
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  g_application_activate (G_APPLICATION (app));
  window = BW_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  g_assert_nonnull (window);
  bw_window_set_weights_path (window, weights);
  worker = bw_window_get_worker (window);
  bw_app_test_wait (bw_app_test_has_alert, &dialog, 20, "the offer to restore");
  g_test_message ("%s: %s", bw_alert_get_heading (dialog), bw_alert_get_body (dialog));
  /* as a click would: the response, then the dialog closes itself */
  g_assert_true (bw_alert_click (dialog, "restore"));

  /* the same pixels (8-bit values read back as floats and converted again: exact) */
  bw_app_test_wait (has_texture, worker, 60, "the restored painting");
  want = gdk_texture_new_from_filename (truth, &error);
  g_assert_no_error (error);
  diff = bw_app_test_texture_diff (want, bw_worker_get_texture (worker));
  g_test_message ("restored painting: %.4f per byte from the abandoned one", diff);
  g_assert_cmpfloat (diff, ==, 0);
  g_assert_cmpint (bw_worker_get_step (worker), ==, abandoned_step);

  /* Paint goes on from the next step, with the painting's own settings (12 Adam steps) */
  g_signal_connect (worker, "notify::step", G_CALLBACK (on_step), &first_step);
  bw_window_start (window);
  bw_app_test_wait (is_done, worker, 400, "the rest of the steps");
  g_assert_cmpint (first_step, ==, abandoned_step + 1);
  g_assert_cmpuint (count_autosaves (), ==, 1);

  /* saved: nothing left to offer */
  bw_app_test_save (window, saved_file);
  bw_app_test_wait (has_no_autosave, NULL, 20, "the autosave's removal");
  gtk_window_destroy (GTK_WINDOW (window));
  bw_app_test_wait (no_thread_runs, NULL, 60, "the worker's thread to end");
}

/* --- quitting mid-step ---------------------------------------------------------------- */

typedef struct {
  BwApplication *app;
  BwWorker *worker;             /* weak */
  gboolean quit_sent, answered;
  guint running_after_close;    /* workers' threads still running once the answer returned */
  gboolean window_gone;
  guint iterations;             /* main loop iterations after it */
} Quit;

static gboolean
drive_quit (gpointer data)
{
  Quit *t = data;
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (t->app));
  GtkWidget *dialog = NULL;

  if (!t->quit_sent)
    {
      BwWorker *worker;

      if (!BW_IS_WINDOW (window))
        return G_SOURCE_CONTINUE;
      worker = bw_window_get_worker (BW_WINDOW (window));
      if (bw_worker_get_state (worker) != BW_WORKER_RUNNING || bw_worker_get_step (worker) < 1)
        return G_SOURCE_CONTINUE;
      t->worker = worker;
      g_object_add_weak_pointer (G_OBJECT (worker), (gpointer *) &t->worker);
      g_action_group_activate_action (G_ACTION_GROUP (t->app), "quit", NULL);
      t->quit_sent = TRUE;
      return G_SOURCE_CONTINUE;
    }
  if (!t->answered)
    {
      /* the painting is unsaved: the close prompt */
      if (!bw_app_test_has_alert (&dialog))
        return G_SOURCE_CONTINUE;
      g_assert_true (bw_alert_click (dialog, "discard"));
      t->running_after_close = bw_worker_get_n_running ();
      t->window_gone = gtk_application_get_windows (GTK_APPLICATION (t->app)) == NULL;
      t->answered = TRUE;
      return G_SOURCE_CONTINUE;
    }
  t->iterations++;
  return G_SOURCE_CONTINUE;
}

static void
test_quit_mid_step (void)
{
  g_autofree char *content = bw_app_test_sample ("chelsea.png");
  g_autofree char *style = bw_app_test_sample ("starry-night.jpg");
  char *argv[] = { "brushwork", "--content", content, "--style", style, "--start",
                   "--weights", weights, NULL };
  Quit t = { 0 };
  guint source;
  int status;

  t.app = bw_app_test_new_app (SIZE, 500, "lbfgs");
  source = g_timeout_add (5, drive_quit, &t);
  status = g_application_run (G_APPLICATION (t.app), G_N_ELEMENTS (argv) - 1, argv);
  g_source_remove (source);
  g_test_message ("threads running once the answer returned: %u; main loop iterations "
                  "until the worker had ended: %u", t.running_after_close, t.iterations);
  g_assert_cmpint (status, ==, 0);
  g_assert_true (t.answered);
  g_assert_true (t.window_gone);
  g_assert_cmpuint (t.running_after_close, ==, 1);
  g_assert_cmpuint (bw_worker_get_n_running (), ==, 0);
  /* the thread's reference went on the main thread, with the application's hold */
  g_assert_null (t.worker);
  g_object_unref (t.app);
}

/* --- a lost device ---------------------------------------------------------------------- */

static void
on_warning (BwWorker    *worker,
            const char  *text,
            char       **warning)
{
  g_free (*warning);
  *warning = g_strdup (text);
}

static void
on_texture (BwWorker   *worker,
            GParamSpec *pspec,
            int        *last_step_shown)
{
  *last_step_shown = bw_worker_get_step (worker);
}

static void
test_device_lost (void)
{
  g_autoptr(BwApplication) app = bw_app_test_new_app (SIZE, STEPS, "adam");
  BwWindow *window = new_window (app);
  BwWorker *worker = bw_window_get_worker (window);
  g_autofree char *content = bw_app_test_sample ("chelsea.png");
  g_autofree char *style = bw_app_test_sample ("starry-night.jpg");
  g_autoptr(GFile) content_file = g_file_new_for_path (content);
  g_autoptr(GFile) style_file = g_file_new_for_path (style);
  g_autofree char *warning = NULL;
  GtkWidget *prompt = NULL;
  int last_step_shown = 0;

  g_signal_connect (worker, "warning", G_CALLBACK (on_warning), &warning);
  g_signal_connect (worker, "notify::texture", G_CALLBACK (on_texture), &last_step_shown);
  /* read when the worker opens its device, at the first Paint */
  g_setenv ("BRUSHWORK_FAULT", "device-lost@3", TRUE);
  bw_window_open_content (window, content_file);
  bw_window_add_style (window, style_file);
  bw_window_start (window);
  bw_app_test_wait (is_done, worker, 400, "every step");
  g_unsetenv ("BRUSHWORK_FAULT");
  g_test_message ("%s", warning ? warning : "(no warning)");
  g_assert_nonnull (warning);
  g_assert_nonnull (strstr (warning, "painting goes on from step 2"));
  g_assert_cmpint (bw_worker_get_step (worker), ==, STEPS);
  g_assert_cmpint (last_step_shown, >, 3);

  gtk_window_close (GTK_WINDOW (window));
  bw_app_test_wait (bw_app_test_has_alert, &prompt, 20, "the close prompt");
  g_assert_true (bw_alert_click (prompt, "discard"));
  bw_app_test_wait (no_thread_runs, NULL, 60, "the worker's thread to end");
}

/* --- a save that fails ------------------------------------------------------------------ */

static void
on_saved (GObject      *object,
          GAsyncResult *result,
          gpointer      data)
{
  GError **error = data;

  if (bw_window_save_finish (BW_WINDOW (object), result, error))
    g_assert_not_reached ();
}

static gboolean
is_set (gpointer data)
{
  return *(GError **) data != NULL;
}

static void
test_save_fails (void)
{
  g_autoptr(BwApplication) app = bw_app_test_new_app (SIZE, 3, "lbfgs");
  BwWindow *window = new_window (app);
  BwWorker *worker = bw_window_get_worker (window);
  g_autofree char *content = bw_app_test_sample ("chelsea.png");
  g_autofree char *style = bw_app_test_sample ("starry-night.jpg");
  g_autoptr(GFile) content_file = g_file_new_for_path (content);
  g_autoptr(GFile) style_file = g_file_new_for_path (style);
  g_autofree char *out = g_build_filename (tmpdir, "full-disk.png", NULL);
  g_autoptr(GFile) out_file = g_file_new_for_path (out);
  g_autofree char *rescue_dir = g_build_filename (g_get_user_cache_dir (), "brushwork", "rescued", NULL);
  g_autofree char *rescued = NULL;
  g_autoptr(GdkTexture) copy = NULL;
  g_autoptr(GError) error = NULL, load_error = NULL;
  GtkWidget *prompt = NULL;
  const char *start, *end;
  double diff;

  bw_window_open_content (window, content_file);
  bw_window_add_style (window, style_file);
  bw_window_start (window);
  bw_app_test_wait (is_done_3, worker, 400, "three steps");

  g_setenv ("BRUSHWORK_FAULT", "write@save", TRUE);
  bw_window_save_async (window, out_file, NULL, on_saved, &error);
  bw_app_test_wait (is_set, &error, 20, "the save's failure");
  g_unsetenv ("BRUSHWORK_FAULT");
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "full-disk.png"));
  g_assert_nonnull (strstr (error->message, g_strerror (ENOSPC)));
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));

  /* the copy it names, in the rescue folder, is the painting */
  start = strstr (error->message, rescue_dir);
  g_assert_nonnull (start);
  end = strstr (start, "”");
  g_assert_nonnull (end);
  rescued = g_strndup (start, end - start);
  copy = gdk_texture_new_from_filename (rescued, &load_error);
  g_assert_no_error (load_error);
  diff = bw_app_test_texture_diff (copy, bw_worker_get_texture (worker));
  g_test_message ("the rescued copy: %.4f per byte from the painting", diff);
  g_assert_cmpfloat (diff, ==, 0);
  g_unlink (rescued);

  /* still unsaved: closing asks */
  gtk_window_close (GTK_WINDOW (window));
  bw_app_test_wait (bw_app_test_has_alert, &prompt, 20, "the close prompt");
  g_assert_true (bw_alert_click (prompt, "discard"));
  bw_app_test_wait (no_thread_runs, NULL, 60, "the worker's thread to end");
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);
  tmpdir = bw_app_test_setup_env ();
  if (g_test_subprocess ())
    {
      /* the parent's folders, kept in the environment */
      g_free (tmpdir);
      tmpdir = g_strdup (g_getenv ("BW_APP_TEST_TMPDIR"));
    }
  else
    {
      g_setenv ("BW_APP_TEST_KEEP_STATE", "1", TRUE);
      g_setenv ("BW_APP_TEST_TMPDIR", tmpdir, TRUE);
    }
  weights = bw_app_test_make_weights (tmpdir);

  g_test_add_func ("/recovery/restore", test_restore);
  g_test_add_func ("/recovery/quit-mid-step", test_quit_mid_step);
  g_test_add_func ("/recovery/device-lost", test_device_lost);
  g_test_add_func ("/recovery/save-fails", test_save_fails);
  status = g_test_run ();
  g_free (weights);
  g_free (tmpdir);
  return status;
}
