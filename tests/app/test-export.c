/* test-export: the Export Animation dialog, on a recording of synthetic frames (no network,
 * no worker).
 *
 * The save dialog is skipped: bw_export_dialog_export_to() is what its response calls.
 *
 * /export/writes: 10 fps for 2 s gives a WebM of 20 frames at 10 fps; progress reaches the
 *   end on the way, ::exported names the file, and the dialog closes.
 * /export/cancel: Cancel during a long export leaves no file and no .part, emits nothing,
 *   shows no error, and the next export works.
 * /export/close: closing the dialog during an export leaves no file and no .part.
 * /export/error: a folder that does not exist: the writer's sentence is shown, the dialog
 *   stays, and another try works.
 * /export/chooser: the Export button's save dialog (GTK's own, without a portal) offers
 *   suggested_name with the chosen format's extension and filter; cancelled, nothing starts.
 * /export/empty: with nothing recorded, the caption says so and Export is off.
 * /export/formats: exactly the formats bw_video_writer_check_format() accepts are offered
 *   (on Debian 12, no GIF).
 * /export/labels: the caption counts the frames recorded. (Every control's accessible name:
 *   test-accessibility, /a11y/export-dialog.)
 */
#include <adwaita.h>
#include <glib/gstdio.h>
#include <gst/gst.h>

#include "bw-app-test-util.h"
#include "bw-export-dialog.h"
#include "motion/bw-frame-recorder.h"
#include "motion/bw-video-reader.h"
#include "motion/bw-video-writer.h"

static char *tmpdir;

static char *
in_tmp (const char *name)
{
  return g_build_filename (tmpdir, name, NULL);
}

/* @n frames of @width x @height, each another grey. */
static BwFrameRecorder *
make_recording (int   width,
                int   height,
                guint n)
{
  BwFrameRecorder *recorder = bw_frame_recorder_new (width, height, 64);
  gsize size = (gsize) width * height * 3;

  for (guint k = 0; k < n; k++)
    {
      float *data = g_new (float, size);
      g_autoptr(BwImage) frame = NULL;

      for (gsize i = 0; i < size; i++)
        data[i] = (float) (k % 8) / 7.0f;
      frame = bw_image_new_take (width, height, data);
      bw_frame_recorder_add (recorder, frame);
    }
  return recorder;
}

/* What the test sees of one dialog. */
typedef struct {
  BwExportDialog *dialog;     /* weak: NULL once finalized */
  GFile *exported;            /* from ::exported */
  int n_exported;
  double fraction;            /* the progress bar's latest */
  GtkWidget *progress_bar;
  GtkStack *stack;
} Watch;

static void
on_exported (BwExportDialog *dialog,
             GFile          *file,
             Watch          *w)
{
  g_set_object (&w->exported, file);
  w->n_exported++;
}

static void
on_fraction (GtkProgressBar *bar,
             GParamSpec     *pspec,
             Watch          *w)
{
  w->fraction = gtk_progress_bar_get_fraction (bar);
}

static void
watch_clear (Watch *w)
{
  if (w->dialog)
    {
      g_object_remove_weak_pointer (G_OBJECT (w->dialog), (gpointer *) &w->dialog);
      gtk_window_destroy (GTK_WINDOW (w->dialog));
    }
  g_clear_object (&w->exported);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Watch, watch_clear)

static void
open_dialog (Watch           *w,
             BwFrameRecorder *recording,
             int              fps,
             int              seconds)
{
  w->dialog = bw_export_dialog_new (NULL, recording, "chelsea-painted");
  g_object_add_weak_pointer (G_OBJECT (w->dialog), (gpointer *) &w->dialog);
  g_signal_connect (w->dialog, "exported", G_CALLBACK (on_exported), w);
  w->progress_bar = bw_app_test_find (GTK_WIDGET (w->dialog), GTK_TYPE_PROGRESS_BAR, 0);
  g_signal_connect (w->progress_bar, "notify::fraction", G_CALLBACK (on_fraction), w);
  w->stack = GTK_STACK (bw_app_test_find (GTK_WIDGET (w->dialog), GTK_TYPE_STACK, 0));
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (bw_app_test_find_in_row (GTK_WIDGET (w->dialog), "Frame Rate", GTK_TYPE_SPIN_BUTTON)), fps);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (bw_app_test_find_in_row (GTK_WIDGET (w->dialog), "Length", GTK_TYPE_SPIN_BUTTON)), seconds);
  gtk_window_present (GTK_WINDOW (w->dialog));
}

static gboolean
is_exported (gpointer data)
{
  return ((Watch *) data)->n_exported > 0;
}

static gboolean
is_finalized (gpointer data)
{
  return ((Watch *) data)->dialog == NULL;
}

static gboolean
has_progress (gpointer data)
{
  return ((Watch *) data)->fraction > 0;
}

static gboolean
is_settled (gpointer data)
{
  Watch *w = data;

  return g_strcmp0 (gtk_stack_get_visible_child_name (w->stack), "settings") == 0;
}

static GtkButton *
button_labelled (Watch      *w,
                 const char *label)
{
  GtkWidget *button;

  for (int i = 0; (button = bw_app_test_find (GTK_WIDGET (w->dialog), GTK_TYPE_BUTTON, i)); i++)
    if (g_strcmp0 (gtk_button_get_label (GTK_BUTTON (button)), label) == 0)
      return GTK_BUTTON (button);
  g_error ("No button labelled “%s”", label);
  return NULL;
}

static GtkLabel *
error_label (Watch *w)
{
  GtkWidget *label;

  for (int i = 0; (label = bw_app_test_find (GTK_WIDGET (w->dialog), GTK_TYPE_LABEL, i)); i++)
    if (gtk_widget_has_css_class (label, "error"))
      return GTK_LABEL (label);
  g_error ("No error label");
  return NULL;
}

static void
assert_no_file (const char *path)
{
  g_autofree char *part = g_strdup_printf ("%s.part", path);

  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));
}

/* Decodes @path: its frame count and rate. */
static int
count_frames (const char *path,
              int        *fps_n,
              int        *fps_d)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BwVideoReader) reader = bw_video_reader_new (path, 0, &error);
  int n = 0;

  g_assert_no_error (error);
  for (;;)
    {
      g_autoptr(BwImage) frame = bw_video_reader_next (reader, &error);

      g_assert_no_error (error);
      if (frame == NULL)
        break;
      n++;
    }
  bw_video_reader_get_rate (reader, fps_n, fps_d);
  return n;
}

static void
export_and_check (Watch      *w,
                  const char *path,
                  int         n_frames,
                  int         fps)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  int fps_n = 0, fps_d = 0;

  w->fraction = 0;
  bw_export_dialog_export_to (w->dialog, file);
  /* under way, and the main loop free meanwhile */
  g_assert_cmpstr (gtk_stack_get_visible_child_name (w->stack), ==, "progress");
  bw_app_test_wait (is_exported, w, 120, "the export");
  g_assert_cmpint (w->n_exported, ==, 1);
  g_assert_true (g_file_equal (w->exported, file));
  g_assert_cmpfloat (w->fraction, ==, 1.0);
  /* closed on success, and let go once the thread is done */
  bw_app_test_wait (is_finalized, w, 20, "the dialog to close");

  g_assert_cmpint (count_frames (path, &fps_n, &fps_d), ==, n_frames);
  g_assert_cmpint (fps_n, ==, fps * fps_d);
}

static void
test_writes (void)
{
  g_autoptr(BwFrameRecorder) recording = make_recording (64, 48, 12);
  g_autofree char *path = in_tmp ("chelsea-painted.webm");
  g_auto(Watch) w = { 0 };

  open_dialog (&w, recording, 10, 2);
  {
    /* for a person to look at: the dialog as it opens */
    g_autoptr(GdkTexture) shot = bw_app_test_render_drawn (GTK_WIDGET (w.dialog));
    g_autofree char *shot_path = in_tmp ("export-dialog.png");

    g_assert_nonnull (shot);
    g_assert_true (gdk_texture_save_to_png (shot, shot_path));
    g_test_message ("screenshot in %s", shot_path);
  }
  export_and_check (&w, path, 20, 10);
  g_unlink (path);
}

/* Starts an export long enough to stop halfway (3600 frames), and waits for its first
 * frame. */
static void
start_long_export (Watch           *w,
                   BwFrameRecorder *recording,
                   const char      *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);

  open_dialog (w, recording, 60, 60);
  bw_export_dialog_export_to (w->dialog, file);
  bw_app_test_wait (has_progress, w, 60, "the first frames");
  g_assert_cmpfloat (w->fraction, <, 0.5);
}

static void
test_cancel (void)
{
  g_autoptr(BwFrameRecorder) recording = make_recording (320, 240, 8);
  g_autofree char *path = in_tmp ("cancelled.webm");
  g_auto(Watch) w = { 0 };

  start_long_export (&w, recording, path);
  gtk_widget_activate (GTK_WIDGET (button_labelled (&w, "_Cancel")));
  bw_app_test_wait (is_settled, &w, 30, "the export to stop");
  g_assert_cmpfloat (w.fraction, <, 1.0);
  assert_no_file (path);
  g_assert_cmpint (w.n_exported, ==, 0);
  g_assert_nonnull (w.dialog);
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (error_label (&w))));

  /* and again, to the end */
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (bw_app_test_find_in_row (GTK_WIDGET (w.dialog), "Frame Rate", GTK_TYPE_SPIN_BUTTON)), 5);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (bw_app_test_find_in_row (GTK_WIDGET (w.dialog), "Length", GTK_TYPE_SPIN_BUTTON)), 1);
  export_and_check (&w, path, 5, 5);
  g_unlink (path);
}

static void
test_close (void)
{
  g_autoptr(BwFrameRecorder) recording = make_recording (320, 240, 8);
  g_autofree char *path = in_tmp ("closed.webm");
  g_auto(Watch) w = { 0 };

  start_long_export (&w, recording, path);
  gtk_window_close (GTK_WINDOW (w.dialog));
  /* the thread holds it until the export has stopped */
  bw_app_test_wait (is_finalized, &w, 30, "the export to stop");
  assert_no_file (path);
  g_assert_cmpint (w.n_exported, ==, 0);
}

static void
test_error (void)
{
  g_autoptr(BwFrameRecorder) recording = make_recording (64, 48, 4);
  g_autofree char *missing = in_tmp ("no-such-folder/painted.webm");
  g_autofree char *path = in_tmp ("painted.webm");
  g_autoptr(GFile) file = g_file_new_for_path (missing);
  g_auto(Watch) w = { 0 };
  GtkLabel *label;

  open_dialog (&w, recording, 10, 1);
  bw_export_dialog_export_to (w.dialog, file);
  bw_app_test_wait (is_settled, &w, 30, "the export to fail");
  label = error_label (&w);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (label)));
  g_test_message ("%s", gtk_label_get_label (label));
  g_assert_nonnull (strstr (gtk_label_get_label (label), "Check that its folder exists"));
  g_assert_cmpint (w.n_exported, ==, 0);
  g_assert_true (gtk_widget_get_sensitive (GTK_WIDGET (button_labelled (&w, "_Export…"))));

  export_and_check (&w, path, 10, 10);
  g_unlink (path);
}

static void
test_chooser (void)
{
  g_autoptr(BwFrameRecorder) recording = make_recording (64, 48, 4);
  g_autofree char *name = NULL;
  g_auto(Watch) w = { 0 };
  AdwComboRow *format_row;
  GListModel *model;
  GtkWidget *chooser;
  GtkFileFilter *filter;
  guint webp = G_MAXUINT;

  if (!bw_video_writer_check_format ("x.webp", NULL))
    {
      g_test_skip ("This build writes no animated WebP");
      return;
    }
  open_dialog (&w, recording, 10, 1);
  format_row = ADW_COMBO_ROW (bw_app_test_find (GTK_WIDGET (w.dialog), ADW_TYPE_COMBO_ROW, 0));
  model = adw_combo_row_get_model (format_row);
  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    if (g_str_equal (gtk_string_list_get_string (GTK_STRING_LIST (model), i), "Animated WebP"))
      webp = i;
  g_assert_cmpuint (webp, !=, G_MAXUINT);
  adw_combo_row_set_selected (format_row, webp);

  gtk_widget_activate (GTK_WIDGET (button_labelled (&w, "_Export…")));
  bw_app_test_wait (bw_app_test_has_file_chooser, NULL, 20, "the save dialog");
  chooser = bw_app_test_find_file_chooser ();
  g_assert_true (gtk_window_get_transient_for (GTK_WINDOW (chooser)) == GTK_WINDOW (w.dialog));
  g_assert_cmpint (gtk_file_chooser_get_action (GTK_FILE_CHOOSER (chooser)), ==,
                   GTK_FILE_CHOOSER_ACTION_SAVE);
  name = gtk_file_chooser_get_current_name (GTK_FILE_CHOOSER (chooser));
  g_assert_cmpstr (name, ==, "chelsea-painted.webp");
  filter = gtk_file_chooser_get_filter (GTK_FILE_CHOOSER (chooser));
  g_assert_nonnull (filter);
  g_assert_cmpstr (gtk_file_filter_get_name (filter), ==, "Animated WebP");
  /* a second press while it is open opens no second one */
  gtk_widget_activate (GTK_WIDGET (button_labelled (&w, "_Export…")));

  /* cancelled: nothing starts. (Accepting is left out: GTK's own dialog under Xvfb keeps
   * the folder it starts in, whatever the test sets, so it would write outside the test's
   * folder; the response then calls bw_export_dialog_export_to(), tested above.) */
  gtk_dialog_response (GTK_DIALOG (chooser), GTK_RESPONSE_CANCEL);
  bw_app_test_wait (bw_app_test_has_no_file_chooser, NULL, 20, "the save dialog to close");
  g_assert_cmpstr (gtk_stack_get_visible_child_name (w.stack), ==, "settings");
  g_assert_cmpint (w.n_exported, ==, 0);
}

static void
test_empty (void)
{
  g_autoptr(BwFrameRecorder) recording = bw_frame_recorder_new (64, 48, 8);
  g_auto(Watch) w = { 0 };
  GtkWidget *widget;
  gboolean said = FALSE;

  open_dialog (&w, recording, 10, 1);
  for (int i = 0; (widget = bw_app_test_find (GTK_WIDGET (w.dialog), GTK_TYPE_LABEL, i)); i++)
    said |= strstr (gtk_label_get_label (GTK_LABEL (widget)), "No frames were recorded") != NULL;
  g_assert_true (said);
  g_assert_false (gtk_widget_get_sensitive (GTK_WIDGET (button_labelled (&w, "_Export…"))));

  /* as test-ui-files builds every template: no recording at all */
  widget = g_object_ref_sink (g_object_new (BW_TYPE_EXPORT_DIALOG, NULL));
  gtk_window_destroy (GTK_WINDOW (widget));
  g_object_unref (widget);
}

static void
test_formats (void)
{
  const struct { const char *name, *probe; } formats[] = {
    { "WebM Video", "x.webm" },
    { "Animated WebP", "x.webp" },
    { "GIF", "x.gif" },
  };
  g_autoptr(BwFrameRecorder) recording = make_recording (64, 48, 4);
  g_auto(Watch) w = { 0 };
  GListModel *model;
  guint n_offered = 0;

  open_dialog (&w, recording, 10, 1);
  model = adw_combo_row_get_model (ADW_COMBO_ROW (bw_app_test_find (GTK_WIDGET (w.dialog), ADW_TYPE_COMBO_ROW, 0)));
  for (gsize f = 0; f < G_N_ELEMENTS (formats); f++)
    {
      gboolean writable = bw_video_writer_check_format (formats[f].probe, NULL);
      gboolean offered = FALSE;

      for (guint i = 0; i < g_list_model_get_n_items (model); i++)
        offered |= g_str_equal (gtk_string_list_get_string (GTK_STRING_LIST (model), i), formats[f].name);
      g_test_message ("%s: %s, %s", formats[f].name, writable ? "writable" : "not writable",
                      offered ? "offered" : "not offered");
      g_assert_cmpint (offered, ==, writable);
      n_offered += offered;
    }
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, n_offered);
  /* WebM first, the default */
  g_assert_cmpstr (gtk_string_list_get_string (GTK_STRING_LIST (model), 0), ==, "WebM Video");
  g_assert_cmpuint (adw_combo_row_get_selected (ADW_COMBO_ROW (bw_app_test_find (GTK_WIDGET (w.dialog), ADW_TYPE_COMBO_ROW, 0))), ==, 0);
}

static void
test_labels (void)
{
  g_autoptr(BwFrameRecorder) recording = make_recording (64, 48, 5);
  g_auto(Watch) w = { 0 };
  gboolean counted = FALSE;
  GtkWidget *widget;

  open_dialog (&w, recording, 30, 6);
  for (int i = 0; (widget = bw_app_test_find (GTK_WIDGET (w.dialog), GTK_TYPE_LABEL, i)); i++)
    counted |= strstr (gtk_label_get_label (GTK_LABEL (widget)), "5 frames were recorded") != NULL;
  g_assert_true (counted);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);
  tmpdir = bw_app_test_setup_env ();
  gtk_init ();
  adw_init ();
  gst_init (&argc, &argv);

  g_test_add_func ("/export/writes", test_writes);
  g_test_add_func ("/export/cancel", test_cancel);
  g_test_add_func ("/export/close", test_close);
  g_test_add_func ("/export/error", test_error);
  g_test_add_func ("/export/chooser", test_chooser);
  g_test_add_func ("/export/empty", test_empty);
  g_test_add_func ("/export/formats", test_formats);
  g_test_add_func ("/export/labels", test_labels);
  status = g_test_run ();
  g_free (tmpdir);
  return status;
}
