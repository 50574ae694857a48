/* test-controls: the window's controls while it paints, on test weights at 40 px.
 *
 * /controls/weights-mid-run: moving Style Strength from 6 to 3 (β from 1e6 to 1e3) during a
 *   run does not restart it: the steps the worker reports go on 1, 2, 3, … without a gap or
 *   a return to 1, all on the main thread, and it never prepares again; and the engine took the new weight: within
 *   three steps of the move, the style part of the loss it computes drops by 1000 (Adam at
 *   lr 0.003 barely moves the image in one step, so the ratio is the weights' ratio, ±2x).
 * /controls/pause-resume: after Pause, no step arrives for six steps' time (at least 1.5 s),
 *   the frame stays the same, and the button offers Resume; after Resume the next step is the
 *   one after the paused one, never 1, and steps keep coming.
 * /controls/preparing: at Paint, before the worker has done anything, the preview shows the
 *   photo itself (the photo pane's texture), the status reads "Preparing style…" and the bar
 *   pulses; the first frame then replaces the photo and the bar counts steps.
 * /controls/prepare-fails: when the style's file has vanished by Paint, the failure leaves no
 *   photo posing as a painting: the preview's page goes back to the empty one, a dialog says
 *   why, and the bar stops pulsing.
 * /controls/paste: an image on the clipboard (a GdkTexture) pasted with win.paste fills the
 *   empty photo pane with exactly its pixels; a second paste adds a style.
 * /controls/size-waits: two clicks on Size "+" a second apart during a run restart
 *   nothing at once: the steps go on, and a note says "Restarts at 168 px"; 3 s after the
 *   last click the run restarts once, and its frames are 168 px; paused, a change waits
 *   (4 s) until Resume, which restarts at the new size; Keep Painting puts the size back and
 *   nothing restarts.
 * /controls/too-large: Size goes no higher than the photo's own 1024 px (2048 typed gives
 *   1024), more than a budget of 800 MB holds (BRUSHWORK_MAX_MEMORY): at Paint, before any step or frame, a dialog names the chosen size and the largest the
 *   engine found to fit (16..1023, a multiple of 16), in pixels, not in MB or feature maps;
 *   its button sets that size and paints; stopped in the first pass and saved, the toast
 *   says the file is smaller than chosen.
 * /controls/close-unsaved: closing the window with an unsaved painting asks (a message
 *   dialog, transient for it, appears and the window stays); Cancel keeps the window; asked
 *   again, Discard closes it.
 * /controls/close-saved: once the painting is saved, closing asks nothing and the window
 *   goes at once.
 */
#include <adwaita.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "bw-alert.h"
#include "bw-app-test-util.h"
#include "bw-image-pane.h"
#include "bw-style-row.h"
#include "bw-window.h"

#define SIZE 40

static char *tmpdir;
static char *weights;
static GThread *main_thread;

static BwApplication *
new_app (int         steps,
         const char *optimizer)
{
  BwApplication *app = bw_app_test_new_app (SIZE, steps, optimizer);
  g_autoptr(GError) error = NULL;

  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  return app;
}

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

static GtkWidget *
pane (BwWindow *window,
      int       index)
{
  return bw_app_test_find (GTK_WIDGET (window), BW_TYPE_IMAGE_PANE, index);
}

/* A window on the test weights with the sample photo and painting in. */
static BwWindow *
new_window (BwApplication *app,
            const char    *style)
{
  g_autofree char *content = bw_app_test_sample ("chelsea.png");
  g_autofree char *sample = bw_app_test_sample ("starry-night.jpg");
  BwWindow *window = bw_window_new (app);

  bw_window_set_weights_path (window, weights);
  gtk_window_present (GTK_WINDOW (window));
  bw_app_test_drop_file (pane (window, 0), content);
  bw_app_test_drop_file (pane (window, 1), style ? style : sample);
  bw_app_test_wait (has_texture, pane (window, 0), 20, "the photo's thumbnail");
  bw_app_test_wait (has_style, window, 20, "the style's row");
  return window;
}

static void
activate (BwWindow   *window,
          const char *action)
{
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (window), action));
  g_action_group_activate_action (G_ACTION_GROUP (window), action, NULL);
}

/* Every step the worker reports, with the parts of its loss; whether it ever prepared again
 * after it first ran; and whether any report came on another thread than the main one. */
typedef struct {
  BwWorker *worker;
  GArray *steps;         /* int */
  GArray *style;         /* double */
  gboolean running_seen;
  gboolean prepared_again;
  int n_prepared_again;
  gint64 prepared_again_at;   /* the first time, monotonic */
  gboolean off_main_thread;
} Record;

static void
on_step (BwWorker *worker,
         GParamSpec *pspec,
         Record     *r)
{
  int step = bw_worker_get_step (worker);
  double style;

  if (g_thread_self () != main_thread)
    g_atomic_int_set (&r->off_main_thread, TRUE);
  if (step == 0)
    return;
  g_object_get (worker, "style-loss", &style, NULL);
  g_array_append_val (r->steps, step);
  g_array_append_val (r->style, style);
}

static void
on_state (BwWorker   *worker,
          GParamSpec *pspec,
          Record     *r)
{
  BwWorkerState state = bw_worker_get_state (worker);

  if (g_thread_self () != main_thread)
    g_atomic_int_set (&r->off_main_thread, TRUE);
  if (state == BW_WORKER_RUNNING)
    r->running_seen = TRUE;
  else if (state == BW_WORKER_PREPARING && r->running_seen)
    {
      if (!r->prepared_again)
        r->prepared_again_at = g_get_monotonic_time ();
      r->prepared_again = TRUE;
      r->n_prepared_again++;
    }
}

static void
record_start (Record   *r,
              BwWorker *worker)
{
  r->worker = worker;
  r->steps = g_array_new (FALSE, FALSE, sizeof (int));
  r->style = g_array_new (FALSE, FALSE, sizeof (double));
  g_signal_connect (worker, "notify::step", G_CALLBACK (on_step), r);
  g_signal_connect (worker, "notify::state", G_CALLBACK (on_state), r);
}

static void
record_stop (Record *r)
{
  g_signal_handlers_disconnect_by_data (r->worker, r);
  g_array_unref (r->steps);
  g_array_unref (r->style);
}

/* The steps came one after another from 1, on the main thread: no restart, no gap. */
static void
assert_consecutive (Record *r)
{
  g_assert_false (g_atomic_int_get (&r->off_main_thread));
  g_assert_cmpuint (r->steps->len, >, 0);
  for (guint i = 0; i < r->steps->len; i++)
    if (g_array_index (r->steps, int, i) != (int) i + 1)
      g_error ("report %u is step %d, not %u: the run restarted or skipped", i,
               g_array_index (r->steps, int, i), i + 1);
  g_assert_false (r->prepared_again);
}

typedef struct {
  BwWorker *worker;
  int step;
} StepWait;

static gboolean
step_reached (gpointer data)
{
  StepWait *w = data;

  return bw_worker_get_step (w->worker) >= w->step;
}

static void
wait_step (BwWorker *worker,
           int       step)
{
  StepWait w = { worker, step };
  g_autofree char *what = g_strdup_printf ("step %d", step);

  bw_app_test_wait (step_reached, &w, 400, what);
}

static gboolean
is_idle (gpointer worker)
{
  return bw_worker_get_state (worker) == BW_WORKER_IDLE;
}

static gboolean
is_paused (gpointer worker)
{
  return bw_worker_get_state (worker) == BW_WORKER_PAUSED;
}

static gboolean
elapsed (gpointer deadline)
{
  return g_get_monotonic_time () > *(gint64 *) deadline;
}

static void
spin (double seconds)
{
  gint64 until = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);

  bw_app_test_wait (elapsed, &until, seconds + 10, "time to pass");
}

/* --- weights mid-run ------------------------------------------------------------------- */

static void
test_weights_mid_run (void)
{
  g_autoptr(BwApplication) app = new_app (400, "adam");
  BwWindow *window = new_window (app, NULL);
  BwWorker *worker = bw_window_get_worker (window);
  GtkWidget *scale = bw_app_test_find_in_row (GTK_WIDGET (window), "Style Strength", GTK_TYPE_SCALE);
  GtkAdjustment *adjustment = gtk_range_get_adjustment (GTK_RANGE (scale));
  Record r = { 0 };
  int moved_at, first_new = -1;
  double ratio = 0;

  g_assert_cmpfloat (gtk_adjustment_get_value (adjustment), ==, 6);
  record_start (&r, worker);
  activate (window, "start");
  wait_step (worker, 3);

  moved_at = bw_worker_get_step (worker);
  gtk_adjustment_set_value (adjustment, 3);
  wait_step (worker, moved_at + 5);
  activate (window, "stop");
  bw_app_test_wait (is_idle, worker, 60, "the stop");

  assert_consecutive (&r);
  for (guint i = moved_at; i < r.steps->len; i++)
    {
      double before = g_array_index (r.style, double, i - 1);
      double after = g_array_index (r.style, double, i);

      g_test_message ("step %d: style loss %g", g_array_index (r.steps, int, i), after);
      if (first_new < 0 && after < before / 100)
        {
          first_new = (int) i;
          ratio = after / before;
        }
    }
  g_assert_cmpint (first_new, >=, 0);
  /* the step in flight when the slider moved, and one report still on its way, may have
   * the old weight; the one after takes the new */
  g_assert_cmpint (g_array_index (r.steps, int, first_new), <=, moved_at + 3);
  g_test_message ("style loss ratio at step %d: %g", g_array_index (r.steps, int, first_new), ratio);
  g_assert_cmpfloat (ratio, >, 0.5e-3);
  g_assert_cmpfloat (ratio, <, 2e-3);
  /* and it stays */
  for (guint i = first_new; i < r.style->len; i++)
    g_assert_cmpfloat (g_array_index (r.style, double, i),
                       <, g_array_index (r.style, double, first_new - 1) / 100);

  record_stop (&r);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* --- pause and resume ------------------------------------------------------------------ */

static gboolean
has_button (GtkWidget  *window,
            const char *label,
            const char *action)
{
  GtkWidget *button;

  for (int i = 0; (button = bw_app_test_find (window, GTK_TYPE_BUTTON, i)); i++)
    if (g_strcmp0 (gtk_button_get_label (GTK_BUTTON (button)), label) == 0 &&
        g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (button)), action) == 0)
      return TRUE;
  return FALSE;
}

static void
test_pause_resume (void)
{
  g_autoptr(BwApplication) app = new_app (400, "adam");
  BwWindow *window = new_window (app, NULL);
  BwWorker *worker = bw_window_get_worker (window);
  Record r = { 0 };
  gint64 begun;
  double step_s;
  int paused_at;
  guint n_reports;
  GdkTexture *frame;

  record_start (&r, worker);
  activate (window, "start");
  wait_step (worker, 2);
  begun = g_get_monotonic_time ();
  wait_step (worker, 5);
  step_s = (g_get_monotonic_time () - begun) / 1e6 / (bw_worker_get_step (worker) - 2);

  activate (window, "pause");
  bw_app_test_wait (is_paused, worker, 60, "the pause");
  paused_at = bw_worker_get_step (worker);
  n_reports = r.steps->len;
  frame = bw_worker_get_texture (worker);
  g_assert_true (has_button (GTK_WIDGET (window), "_Resume", "win.resume"));

  g_test_message ("a step takes %.3f s; paused at step %d", step_s, paused_at);
  spin (MAX (1.5, 6 * step_s));
  g_assert_cmpint (bw_worker_get_state (worker), ==, BW_WORKER_PAUSED);
  g_assert_cmpint (bw_worker_get_step (worker), ==, paused_at);
  g_assert_cmpuint (r.steps->len, ==, n_reports);
  g_assert_true (bw_worker_get_texture (worker) == frame);

  activate (window, "resume");
  wait_step (worker, paused_at + 3);
  g_assert_cmpint (g_array_index (r.steps, int, n_reports), ==, paused_at + 1);
  assert_consecutive (&r);
  g_assert_true (has_button (GTK_WIDGET (window), "_Pause", "win.pause"));

  activate (window, "stop");
  bw_app_test_wait (is_idle, worker, 60, "the stop");
  record_stop (&r);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* --- a new size waits for the person ---------------------------------------------------- */

static gboolean
prepared_again (gpointer data)
{
  return ((Record *) data)->prepared_again;
}

typedef struct {
  BwWorker *worker;
  int side;
} SideWait;

static gboolean
painting_has_side (gpointer data)
{
  SideWait *w = data;
  BwImage *image = bw_worker_get_image (w->worker);

  return image && bw_worker_get_state (w->worker) == BW_WORKER_RUNNING &&
         MAX (bw_image_get_width (image), bw_image_get_height (image)) == w->side;
}

static void
test_size_waits (void)
{
  g_autoptr(BwApplication) app = new_app (10000, "adam");
  BwWindow *window = new_window (app, NULL);
  BwWorker *worker = bw_window_get_worker (window);
  GtkWidget *size_spin = bw_app_test_find_in_row (GTK_WIDGET (window), "Size", GTK_TYPE_SPIN_BUTTON);
  GtkRevealer *note = NULL;
  GtkWidget *label = NULL;
  Record r = { 0 };
  gint64 last_change;
  SideWait w = { worker, SIZE + 2 * 64 };

  /* the note: the revealer with Restart Now, its label the one that takes the width */
  for (int i = 0; note == NULL; i++)
    {
      GtkWidget *revealer = bw_app_test_find (GTK_WIDGET (window), GTK_TYPE_REVEALER, i);

      g_assert_nonnull (revealer);
      if (has_button (revealer, "Restart _Now", "win.restart-now"))
        note = GTK_REVEALER (revealer);
    }
  for (int i = 0; (label = bw_app_test_find (GTK_WIDGET (note), GTK_TYPE_LABEL, i)); i++)
    if (gtk_widget_get_hexpand (label))
      break;
  g_assert_nonnull (label);
  record_start (&r, worker);
  activate (window, "start");
  wait_step (worker, 2);
  g_assert_false (gtk_revealer_get_reveal_child (note));

  /* two clicks on "+", a second apart: the painting goes on, and the note says what comes */
  gtk_spin_button_spin (GTK_SPIN_BUTTON (size_spin), GTK_SPIN_STEP_FORWARD, 0);
  spin (1);
  g_assert_false (r.prepared_again);
  g_assert_true (gtk_revealer_get_reveal_child (note));
  g_assert_nonnull (strstr (gtk_label_get_label (GTK_LABEL (label)), "104 px"));
  gtk_spin_button_spin (GTK_SPIN_BUTTON (size_spin), GTK_SPIN_STEP_FORWARD, 0);
  last_change = g_get_monotonic_time ();
  g_assert_nonnull (strstr (gtk_label_get_label (GTK_LABEL (label)), "168 px"));
  spin (1);
  g_assert_false (r.prepared_again);
  assert_consecutive (&r);

  /* then, once the changes settle (3 s after the last), one restart at the new size */
  bw_app_test_wait (prepared_again, &r, 20, "the restart");
  g_assert_cmpint (r.prepared_again_at - last_change, >=, 3 * G_USEC_PER_SEC - G_USEC_PER_SEC / 10);
  bw_app_test_wait (painting_has_side, &w, 60, "a frame at the new size");
  g_assert_cmpint (r.n_prepared_again, ==, 1);
  g_assert_false (gtk_revealer_get_reveal_child (note));

  /* paused, a change waits for Resume, which restarts with it */
  activate (window, "pause");
  bw_app_test_wait (is_paused, worker, 60, "the pause");
  gtk_spin_button_spin (GTK_SPIN_BUTTON (size_spin), GTK_SPIN_STEP_BACKWARD, 0);
  g_assert_nonnull (strstr (gtk_label_get_label (GTK_LABEL (label)), "104 px when you resume"));
  spin (4);
  g_assert_cmpint (bw_worker_get_state (worker), ==, BW_WORKER_PAUSED);
  g_assert_cmpint (r.n_prepared_again, ==, 1);
  activate (window, "resume");
  w.side = SIZE + 64;
  bw_app_test_wait (painting_has_side, &w, 60, "a frame at the size chosen while paused");
  g_assert_cmpint (r.n_prepared_again, ==, 2);

  /* Keep Painting puts the size back, and nothing restarts */
  gtk_spin_button_spin (GTK_SPIN_BUTTON (size_spin), GTK_SPIN_STEP_FORWARD, 0);
  g_assert_true (gtk_revealer_get_reveal_child (note));
  activate (window, "keep-painting");
  g_assert_false (gtk_revealer_get_reveal_child (note));
  g_assert_cmpfloat (gtk_spin_button_get_value (GTK_SPIN_BUTTON (size_spin)), ==, SIZE + 64);
  spin (4);
  g_assert_cmpint (r.n_prepared_again, ==, 2);

  activate (window, "stop");
  bw_app_test_wait (is_idle, worker, 60, "the stop");
  record_stop (&r);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* --- a size too large for the device --------------------------------------------------- */

static gboolean has_frame (gpointer worker);

/* The text of the toast showing, if any (AdwToastWidget is private: its label is read). */
static const char *
toast_text (BwWindow *window)
{
  GtkWidget *overlay = bw_app_test_find (GTK_WIDGET (window), ADW_TYPE_TOAST_OVERLAY, 0);

  for (GtkWidget *c = gtk_widget_get_first_child (overlay); c; c = gtk_widget_get_next_sibling (c))
    if (g_str_equal (G_OBJECT_TYPE_NAME (c), "AdwToastWidget"))
      {
        GtkWidget *label = bw_app_test_find (c, GTK_TYPE_LABEL, 0);

        return label ? gtk_label_get_label (GTK_LABEL (label)) : NULL;
      }
  return NULL;
}

static gboolean
has_saved_toast (gpointer window)
{
  const char *text = toast_text (window);

  return text && g_str_has_prefix (text, "Saved ");
}

static void
test_too_large (void)
{
  g_autoptr(BwApplication) app = new_app (300, "lbfgs");
  g_autofree char *photo = bw_app_test_sample ("starry-night.jpg");
  g_autofree char *style = bw_app_test_sample ("chelsea.png");
  g_autofree char *out = g_build_filename (tmpdir, "too-large.png", NULL);
  g_autoptr(GFile) out_file = g_file_new_for_path (out);
  BwWindow *window = bw_window_new (app);
  BwWorker *worker = bw_window_get_worker (window);
  GtkWidget *size_spin = bw_app_test_find_in_row (GTK_WIDGET (window), "Size", GTK_TYPE_SPIN_BUTTON);
  g_autofree char *chosen_text = NULL;
  g_autofree char *largest_text = NULL;
  GtkWidget *alert = NULL;
  const char *body;
  int largest, w, h;

  bw_window_set_weights_path (window, weights);
  gtk_window_present (GTK_WINDOW (window));
  bw_app_test_drop_file (pane (window, 0), photo);
  bw_app_test_drop_file (pane (window, 1), style);
  bw_app_test_wait (has_texture, pane (window, 0), 20, "the photo's thumbnail");
  bw_app_test_wait (has_style, window, 20, "the style's row");

  /* the size goes up to the photo's own, 1024 px, which the engine paints in tiles within
   * its default budget; a budget of 800 MB holds no plan for it (the least is about 900 MB:
   * the weights alone take 494) but one for a smaller size */
  g_setenv ("BRUSHWORK_MAX_MEMORY", "800M", TRUE);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (size_spin), 2048);
  g_assert_cmpfloat (gtk_spin_button_get_value (GTK_SPIN_BUTTON (size_spin)), ==, 1024);
  activate (window, "start");
  bw_app_test_wait (bw_app_test_has_alert, &alert, 120, "the dialog saying the size is too large");

  /* said before any painting, with the engine's largest size, in pixels as chosen */
  g_assert_cmpint (bw_worker_get_step (worker), ==, 0);
  g_assert_null (bw_worker_get_image (worker));
  g_assert_cmpstr (bw_alert_get_heading (alert), ==, "Too Large to Paint");
  largest = bw_worker_get_largest_size (worker);
  g_test_message ("largest size: %d", largest);
  g_assert_cmpint (largest, >=, 16);
  g_assert_cmpint (largest, <, 1024);
  g_assert_cmpint (largest % 16, ==, 0);
  body = bw_alert_get_body (alert);
  g_test_message ("%s", body);
  chosen_text = g_strdup_printf ("at %d pixels", 1024);
  largest_text = g_strdup_printf ("is %d pixels.", largest);
  g_assert_nonnull (strstr (body, chosen_text));
  g_assert_nonnull (strstr (body, largest_text));
  /* not in the driver's words */
  g_assert_null (strstr (body, "MB"));
  g_assert_null (strstr (body, "feature map"));
  g_assert_null (strstr (body, "llvmpipe"));

  /* the offered size is taken and painting starts with it */
  g_assert_true (bw_alert_click (alert, "smaller"));
  g_assert_cmpfloat (gtk_spin_button_get_value (GTK_SPIN_BUTTON (size_spin)), ==, largest);
  g_assert_cmpint (bw_worker_get_state (worker), !=, BW_WORKER_IDLE);
  bw_app_test_wait (has_frame, worker, 120, "the first frame at the smaller size");
  g_assert_null (bw_alert_find (NULL));

  /* stopped in the first, coarse pass: the file is smaller than chosen, and the toast says so */
  activate (window, "stop");
  bw_app_test_wait (is_idle, worker, 60, "the stop");
  w = bw_image_get_width (bw_worker_get_image (worker));
  h = bw_image_get_height (bw_worker_get_image (worker));
  g_assert_cmpint (MAX (w, h), <, largest);
  activate (window, "save");
  bw_app_test_accept_file_chooser (window, tmpdir, "too-large.png");
  bw_app_test_wait (has_saved_toast, window, 20, "the toast saying it is saved");
  g_assert_true (g_file_query_exists (out_file, NULL));
  g_test_message ("%s", toast_text (window));
  g_assert_nonnull (strstr (toast_text (window), "smaller than the"));
  g_unlink (out);
  gtk_window_destroy (GTK_WINDOW (window));
  g_unsetenv ("BRUSHWORK_MAX_MEMORY");
}

/* --- what Paint shows at once ---------------------------------------------------------- */

static GtkProgressBar *
progress_bar (BwWindow *window)
{
  return GTK_PROGRESS_BAR (bw_app_test_find (GTK_WIDGET (window), GTK_TYPE_PROGRESS_BAR, 0));
}

/* A progress bar in activity mode marks its moving block with .pulse. */
static gboolean
is_pulsing (GtkProgressBar *bar)
{
  GtkWidget *w;

  for (int i = 0; (w = bw_app_test_find (GTK_WIDGET (bar), GTK_TYPE_WIDGET, i)); i++)
    if (gtk_widget_has_css_class (w, "pulse"))
      return TRUE;
  return FALSE;
}

static gboolean
shows_preview (BwPreview *preview)
{
  GtkStack *stack = GTK_STACK (gtk_widget_get_parent (GTK_WIDGET (preview)));

  return gtk_stack_get_visible_child (stack) == GTK_WIDGET (preview);
}

static gboolean
has_frame (gpointer worker)
{
  return bw_worker_get_texture (worker) != NULL && bw_worker_get_state (worker) == BW_WORKER_RUNNING;
}

/* Keeps a rendering to look at, in the test's temporary folder. */
static void
keep (GtkWidget  *widget,
      const char *name)
{
  g_autoptr(GdkTexture) render = bw_app_test_render_drawn (widget);
  g_autofree char *path = g_build_filename (tmpdir, name, NULL);

  g_assert_true (gdk_texture_save_to_png (render, path));
  g_test_message ("%s in %s", name, path);
}

static void
test_preparing (void)
{
  g_autoptr(BwApplication) app = new_app (400, "lbfgs");
  BwWindow *window = new_window (app, NULL);
  BwWorker *worker = bw_window_get_worker (window);
  BwPreview *preview = bw_window_get_preview (window);
  GdkTexture *photo = bw_image_pane_get_texture (BW_IMAGE_PANE (pane (window, 0)));
  GtkProgressBar *bar = progress_bar (window);

  g_assert_false (shows_preview (preview));
  g_assert_nonnull (photo);
  activate (window, "start");
  /* nothing from the worker yet: what shows is the window's own doing */
  g_assert_cmpint (bw_worker_get_state (worker), ==, BW_WORKER_PREPARING);
  g_assert_null (bw_worker_get_texture (worker));
  g_assert_true (shows_preview (preview));
  g_assert_true (bw_preview_get_texture (preview) == photo);
  g_assert_cmpstr (gtk_progress_bar_get_text (bar), ==, "Preparing style…");
  g_assert_true (is_pulsing (bar));
  /* after the pages' crossfade; the worker may be done preparing by then */
  spin (0.3);
  keep (GTK_WIDGET (window), "preparing.png");

  bw_app_test_wait (has_frame, worker, 400, "the first frame");
  wait_step (worker, 1);
  g_assert_true (bw_preview_get_texture (preview) == bw_worker_get_texture (worker));
  g_assert_false (bw_preview_get_texture (preview) == photo);
  g_assert_true (g_str_has_prefix (gtk_progress_bar_get_text (bar), "Step "));
  g_assert_false (is_pulsing (bar));

  activate (window, "stop");
  bw_app_test_wait (is_idle, worker, 60, "the stop");
  /* for a look at the comparison in the window */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (preview), "preview.split", NULL));
  g_assert_true (bw_preview_get_split (preview));
  keep (GTK_WIDGET (window), "split.png");
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_prepare_fails (void)
{
  g_autoptr(BwApplication) app = new_app (400, "lbfgs");
  g_autofree char *sample = bw_app_test_sample ("starry-night.jpg");
  g_autofree char *style = g_build_filename (tmpdir, "vanishing.jpg", NULL);
  g_autofree char *contents = NULL;
  gsize length;
  BwWindow *window;
  BwWorker *worker;
  BwPreview *preview;
  GtkWidget *dialog = NULL;

  g_assert_true (g_file_get_contents (sample, &contents, &length, NULL));
  g_assert_true (g_file_set_contents (style, contents, length, NULL));
  window = new_window (app, style);
  worker = bw_window_get_worker (window);
  preview = bw_window_get_preview (window);
  g_assert_cmpint (g_unlink (style), ==, 0);

  activate (window, "start");
  g_assert_true (shows_preview (preview));
  bw_app_test_wait (bw_app_test_has_alert, &dialog, 400, "the dialog saying why");
  g_assert_true (bw_alert_get_parent (dialog) == GTK_WINDOW (window));
  bw_app_test_wait (is_idle, worker, 20, "the worker to give up");
  g_assert_false (shows_preview (preview));
  g_assert_null (bw_preview_get_texture (preview));
  g_assert_false (is_pulsing (progress_bar (window)));
  g_assert_true (bw_alert_click (dialog, "close"));
  gtk_window_destroy (GTK_WINDOW (window));
}

/* --- paste ----------------------------------------------------------------------------- */

static void
test_paste (void)
{
  g_autoptr(BwApplication) app = new_app (3, "lbfgs");
  g_autofree guchar *data = g_malloc (48 * 32 * 3);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  BwWindow *window = bw_window_new (app);
  GdkTexture *shown;

  for (int i = 0; i < 48 * 32; i++)
    {
      data[i * 3] = (guchar) (i * 7);
      data[i * 3 + 1] = (guchar) (i / 48 * 8);
      data[i * 3 + 2] = (guchar) (255 - i % 48 * 5);
    }
  bytes = g_bytes_new_take (g_steal_pointer (&data), 48 * 32 * 3);
  texture = gdk_memory_texture_new (48, 32, GDK_MEMORY_R8G8B8, bytes, 48 * 3);

  gtk_window_present (GTK_WINDOW (window));
  g_assert_null (bw_image_pane_get_texture (BW_IMAGE_PANE (pane (window, 0))));
  gdk_clipboard_set_texture (gtk_widget_get_clipboard (GTK_WIDGET (window)), texture);
  activate (window, "paste");
  bw_app_test_wait (has_texture, pane (window, 0), 20, "the pasted photo");
  shown = bw_image_pane_get_texture (BW_IMAGE_PANE (pane (window, 0)));
  g_assert_cmpint (gdk_texture_get_width (shown), ==, 48);
  g_assert_cmpint (gdk_texture_get_height (shown), ==, 32);
  g_assert_cmpfloat (bw_app_test_texture_diff (shown, texture), ==, 0);
  g_assert_false (has_style (window));

  /* the photo is there: the next paste is a style */
  activate (window, "paste");
  bw_app_test_wait (has_style, window, 20, "the pasted style");
  g_assert_true (bw_image_pane_get_texture (BW_IMAGE_PANE (pane (window, 0))) == shown);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* --- closing --------------------------------------------------------------------------- */

static gboolean
is_done (gpointer worker)
{
  return bw_worker_get_state (worker) == BW_WORKER_IDLE && bw_worker_get_image (worker) != NULL;
}

static BwWindow *
painted_window (BwApplication *app)
{
  BwWindow *window = new_window (app, NULL);

  activate (window, "start");
  bw_app_test_wait (is_done, bw_window_get_worker (window), 400, "two steps");
  return window;
}

static gboolean
window_listed (BwApplication *app,
               BwWindow      *window)
{
  return g_list_find (gtk_application_get_windows (GTK_APPLICATION (app)), window) != NULL;
}

static void
test_close_unsaved (void)
{
  g_autoptr(BwApplication) app = new_app (2, "lbfgs");
  BwWindow *window = painted_window (app);
  GtkWidget *dialog = NULL;

  gtk_window_close (GTK_WINDOW (window));
  bw_app_test_wait (bw_app_test_has_alert, &dialog, 20, "the question");
  g_assert_true (bw_alert_get_parent (dialog) == GTK_WINDOW (window));
  g_assert_true (window_listed (app, window));

  g_assert_true (bw_alert_click (dialog, "cancel"));
  spin (0.2);
  g_assert_true (window_listed (app, window));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (window)));

  dialog = NULL;
  gtk_window_close (GTK_WINDOW (window));
  bw_app_test_wait (bw_app_test_has_alert, &dialog, 20, "the question, again");
  g_assert_true (bw_alert_click (dialog, "discard"));
  g_assert_null (gtk_application_get_windows (GTK_APPLICATION (app)));
}

static void
test_close_saved (void)
{
  g_autoptr(BwApplication) app = new_app (2, "lbfgs");
  BwWindow *window = painted_window (app);
  g_autofree char *out = g_build_filename (tmpdir, "closing.png", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (out);

  bw_app_test_save (window, file);
  gtk_window_close (GTK_WINDOW (window));
  g_assert_null (gtk_application_get_windows (GTK_APPLICATION (app)));
  g_assert_null (bw_alert_find (NULL));
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);
  main_thread = g_thread_self ();
  tmpdir = bw_app_test_setup_env ();
  weights = bw_app_test_make_weights (tmpdir);
  gtk_init ();
  adw_init ();

  g_test_add_func ("/controls/weights-mid-run", test_weights_mid_run);
  g_test_add_func ("/controls/pause-resume", test_pause_resume);
  g_test_add_func ("/controls/size-waits", test_size_waits);
  g_test_add_func ("/controls/too-large", test_too_large);
  g_test_add_func ("/controls/preparing", test_preparing);
  g_test_add_func ("/controls/prepare-fails", test_prepare_fails);
  g_test_add_func ("/controls/paste", test_paste);
  g_test_add_func ("/controls/close-unsaved", test_close_unsaved);
  g_test_add_func ("/controls/close-saved", test_close_saved);
  status = g_test_run ();
  g_free (weights);
  g_free (tmpdir);
  return status;
}
