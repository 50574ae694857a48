/* test-video: a video as the content, in the app, on test weights.
 *
 * The clip is made here: N_FRAMES flat grey frames, frame i at grey level level(i), so
 * which frame is shown or painted can be told from its mean. VP8 at a low quantizer keeps a
 * flat grey within a couple of levels; Adam at the seed's rate moves the normalised image
 * by 0.003 per step, a fraction of a level, so a painted frame keeps its source's mean too.
 * TOLERANCE (8 levels) is a quarter of the spacing between frames' levels.
 *
 * /video/scrub: the photo pane shows the first frame and the scrubber, moving it shows the
 *   frame at that time, and Paint paints that frame.
 * /video/paint-whole: Paint Whole Video writes a WebM with every frame at the source's rate,
 *   each as the command line paints it with the same settings (the CLI's video path is
 *   checked against its source in test-motion), while the progress says which frame it is on.
 * /video/stop: Stop during the video leaves a WebM that plays with the frames so far and
 *   no temporary file.
 * /video/frame-steps: asked for fewer steps after the first frame (the save dialog's "Later
 *   frames" choice), the first frame takes the Steps value and every later one the fewer.
 * /video/close: closing the window mid-video asks first; Stop and Close leaves a whole WebM
 *   with the frames so far and no temporary file.
 * /video/weights: moving Style Strength from 6 to 3 (β from 1e6 to 1e3) during the first
 *   frame reaches the engine for the rest of it and for every later frame: the style part of
 *   the loss is a thousandth of what it was before the move (±2x: a frame barely moves).
 * /video/recording: painting a photo records every frame for Export Animation.
 */
#include <adwaita.h>
#include <glib/gstdio.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>

#include "bw-alert.h"
#include "bw-app-test-util.h"
#include "bw-image-pane.h"
#include "bw-style-row.h"
#include "bw-window.h"
#include "motion/bw-video-reader.h"

#define SIZE 32
#define N_FRAMES 6
#define FPS 5
#define TOLERANCE 8.0

static char *tmpdir;
static char *weights;
static char *clip;

static int
level (int frame)
{
  return 30 + 32 * frame;
}

static void
make_clip (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *desc = g_strdup_printf (
    "appsrc name=src format=time caps=video/x-raw,format=RGB,width=48,height=32,framerate=%d/1 ! "
    "videoconvert ! vp8enc deadline=1 min-quantizer=0 max-quantizer=4 ! webmmux ! "
    "filesink location=\"%s\"", FPS, path);
  GstElement *pipeline = gst_parse_launch (desc, &error);
  GstElement *src;
  g_autoptr(GstBus) bus = NULL;
  g_autoptr(GstMessage) msg = NULL;

  g_assert_no_error (error);
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  for (int i = 0; i < N_FRAMES; i++)
    {
      GstBuffer *buffer = gst_buffer_new_allocate (NULL, 48 * 32 * 3, NULL);

      gst_buffer_memset (buffer, 0, level (i), 48 * 32 * 3);
      GST_BUFFER_PTS (buffer) = i * GST_SECOND / FPS;
      GST_BUFFER_DURATION (buffer) = GST_SECOND / FPS;
      g_assert_cmpint (gst_app_src_push_buffer (GST_APP_SRC (src), buffer), ==, GST_FLOW_OK);
    }
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  bus = gst_element_get_bus (pipeline);
  msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (pipeline);
}

static double
texture_mean (GdkTexture *texture)
{
  g_autofree guchar *pixels = bw_app_test_pixels (texture);
  gsize n = (gsize) gdk_texture_get_width (texture) * gdk_texture_get_height (texture);
  double sum = 0;

  /* grey: the red channel is the level */
  for (gsize i = 0; i < n; i++)
    sum += pixels[i * 4];
  return sum / n;
}

static double
image_mean (BwImage *image)
{
  gsize n = (gsize) 3 * bw_image_get_width (image) * bw_image_get_height (image);
  const float *data = bw_image_get_data (image);
  double sum = 0;

  for (gsize i = 0; i < n; i++)
    sum += data[i];
  return sum / n * 255;
}

/* Every frame of @path, in order; the rate in @fps_n / @fps_d. */
static GPtrArray *
read_frames (const char *path,
             int        *fps_n,
             int        *fps_d)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BwVideoReader) reader = bw_video_reader_new (path, 0, &error);
  GPtrArray *frames = g_ptr_array_new_with_free_func (g_object_unref);
  BwImage *frame;

  g_assert_no_error (error);
  while ((frame = bw_video_reader_next (reader, &error)))
    g_ptr_array_add (frames, frame);
  g_assert_no_error (error);
  bw_video_reader_get_rate (reader, fps_n, fps_d);
  return frames;
}

/* Mean absolute difference, in levels of 255. */
static double
image_diff (BwImage *a,
            BwImage *b)
{
  gsize n = (gsize) 3 * bw_image_get_width (a) * bw_image_get_height (a);
  const float *x = bw_image_get_data (a), *y = bw_image_get_data (b);
  double sum = 0;

  g_assert_cmpint (bw_image_get_width (a), ==, bw_image_get_width (b));
  g_assert_cmpint (bw_image_get_height (a), ==, bw_image_get_height (b));
  for (gsize i = 0; i < n; i++)
    sum += fabsf (x[i] - y[i]);
  return sum / n * 255;
}

/* The same video through the command line, with the settings new_app() gives the app
 * (bw_app_test_new_app(): style weight 1e6, not the default preset's own). */
static void
run_cli (const char *output,
         int         steps)
{
  g_autofree char *style = bw_app_test_sample ("starry-night.jpg");
  g_autofree char *steps_s = g_strdup_printf ("%d", steps);
  g_autofree char *size_s = g_strdup_printf ("%d", SIZE);
  const char *argv[] = { g_getenv ("BRUSHWORK_CLI"), "--content", clip, "--style", style,
                         "--output", output, "--weights", weights, "--preset", "default",
                         "--style-weight", "1e6", "--optimizer", "adam", "--steps", steps_s,
                         "--size", size_s, "--quiet", NULL };
  g_autoptr(GError) error = NULL;
  int status;

  g_assert_nonnull (argv[0]);
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                               NULL, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
}

/* Adam at the seed's rate barely moves a frame in a few steps: see the header; the rest is
 * the default preset's, as run_cli() asks for */
static BwApplication *
new_app (int steps)
{
  return bw_app_test_new_app (SIZE, steps, "adam");
}

typedef struct {
  GtkWidget *pane;
  double want;
} PaneLevel;

static gboolean
pane_shows (gpointer data)
{
  PaneLevel *p = data;
  GdkTexture *texture = bw_image_pane_get_texture (BW_IMAGE_PANE (p->pane));

  return texture && fabs (texture_mean (texture) - p->want) < TOLERANCE;
}

static gboolean
has_style (gpointer window)
{
  return bw_app_test_find (window, BW_TYPE_STYLE_ROW, 0) != NULL;
}

/* A window with the clip as its content, its first frame shown, and a style: ready to
 * paint. */
static BwWindow *
open_window (BwApplication *app)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *style = bw_app_test_sample ("starry-night.jpg");
  PaneLevel first = { NULL, level (0) };
  BwWindow *window;

  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  window = bw_window_new (app);
  bw_window_set_weights_path (window, weights);
  gtk_window_present (GTK_WINDOW (window));
  first.pane = bw_app_test_find (GTK_WIDGET (window), BW_TYPE_IMAGE_PANE, 0);
  bw_app_test_drop_file (first.pane, clip);
  bw_app_test_drop_file (bw_app_test_find (GTK_WIDGET (window), BW_TYPE_IMAGE_PANE, 1), style);
  bw_app_test_wait (pane_shows, &first, 30, "the first frame in the photo pane");
  bw_app_test_wait (has_style, window, 20, "the style's row");
  return window;
}

static gboolean
is_done (gpointer worker)
{
  return bw_worker_get_state (worker) == BW_WORKER_IDLE && bw_worker_get_image (worker) != NULL;
}

/* the scrubber, in the photo's group, by its id in the window's template (other scales, the
 * region editor's brush among them, may come first in the widget tree) */
static GtkWidget *
find_scrubber (BwWindow *window)
{
  GtkWidget *scale;

  for (int i = 0; (scale = bw_app_test_find (GTK_WIDGET (window), GTK_TYPE_SCALE, i)); i++)
    if (g_strcmp0 (gtk_buildable_get_buildable_id (GTK_BUILDABLE (scale)), "position_scale") == 0)
      return scale;
  g_error ("no video scrubber in the window");
}

static void
test_scrub (void)
{
  g_autoptr(BwApplication) app = new_app (2);
  BwWindow *window = open_window (app);
  BwWorker *worker = bw_window_get_worker (window);
  GtkWidget *pane = bw_app_test_find (GTK_WIDGET (window), BW_TYPE_IMAGE_PANE, 0);
  GtkWidget *scale = find_scrubber (window);
  GtkAdjustment *position = gtk_range_get_adjustment (GTK_RANGE (scale));
  PaneLevel fourth = { pane, level (3) };
  double painted;

  g_assert_true (gtk_widget_is_visible (scale));
  g_test_message ("scrubber up to %.3f s", gtk_adjustment_get_upper (position));
  g_assert_cmpfloat (fabs (gtk_adjustment_get_upper (position) - (double) N_FRAMES / FPS), <, 1.0 / FPS);
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "paint-video"));

  /* 0.7 s at 5 fps is the fourth frame (0.6-0.8 s) */
  gtk_adjustment_set_value (position, 0.7);
  bw_app_test_wait (pane_shows, &fourth, 30, "the fourth frame in the photo pane");

  g_action_group_activate_action (G_ACTION_GROUP (window), "start", NULL);
  bw_app_test_wait (is_done, worker, 300, "two steps on the fourth frame");
  {
    /* for a person to look at: the scrubber under the video's frame */
    g_autoptr(GdkTexture) shot = bw_app_test_render_drawn (GTK_WIDGET (window));
    g_autofree char *path = g_build_filename (tmpdir, "video-window.png", NULL);

    g_assert_nonnull (shot);
    g_assert_true (gdk_texture_save_to_png (shot, path));
    g_test_message ("screenshot in %s", path);
  }
  painted = image_mean (bw_worker_get_image (worker));
  g_test_message ("painted mean %.1f, the fourth frame's level %d", painted, level (3));
  g_assert_cmpfloat (fabs (painted - level (3)), <, TOLERANCE);
  gtk_window_destroy (GTK_WINDOW (window));
}

typedef struct {
  BwWorker *worker;
  GtkProgressBar *bar;
  int max_frame;
  gboolean frame_in_text;
  int stop_at;             /* > 0: stop once this frame is under way */
  gboolean stopped;
} VideoRun;

static gboolean
video_done (gpointer data)
{
  VideoRun *run = data;
  int frame = bw_worker_get_frame (run->worker);
  const char *text = gtk_progress_bar_get_text (run->bar);

  run->max_frame = MAX (run->max_frame, frame);
  if (frame > 0 && text && g_str_has_prefix (text, "Frame "))
    run->frame_in_text = TRUE;
  if (run->stop_at > 0 && frame >= run->stop_at && !run->stopped)
    {
      g_action_group_activate_action (G_ACTION_GROUP (gtk_widget_get_root (GTK_WIDGET (run->bar))),
                                      "stop", NULL);
      run->stopped = TRUE;
    }
  return bw_worker_get_state (run->worker) == BW_WORKER_IDLE && run->max_frame > 0;
}

static void
test_paint_whole (void)
{
  g_autoptr(BwApplication) app = new_app (3);
  g_autofree char *out = g_build_filename (tmpdir, "painted.webm", NULL);
  g_autofree char *cli_out = g_build_filename (tmpdir, "painted-cli.webm", NULL);
  g_autofree char *part = g_strconcat (out, ".part", NULL);
  g_autoptr(GFile) out_file = g_file_new_for_path (out);
  BwWindow *window = open_window (app);
  VideoRun run = { bw_window_get_worker (window),
                   GTK_PROGRESS_BAR (bw_app_test_find (GTK_WIDGET (window), GTK_TYPE_PROGRESS_BAR, 0)) };
  g_autoptr(GPtrArray) frames = NULL;
  g_autoptr(GPtrArray) cli_frames = NULL;
  int fps_n, fps_d;

  bw_window_paint_video (window, out_file, 0);
  bw_app_test_wait (video_done, &run, 600, "every frame painted");
  g_assert_true (run.frame_in_text);
  g_assert_cmpint (run.max_frame, ==, N_FRAMES);
  g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));

  frames = read_frames (out, &fps_n, &fps_d);
  g_assert_cmpint (frames->len, ==, N_FRAMES);
  g_assert_cmpint (fps_n, ==, FPS * fps_d);
  /* the first frame starts from itself: its source's level, less what VP8 changes */
  g_test_message ("first frame: mean %.1f, source level %d", image_mean (frames->pdata[0]), level (0));
  g_assert_cmpfloat (fabs (image_mean (frames->pdata[0]) - level (0)), <, TOLERANCE);

  /* every frame as the command line paints it from the same clip and settings: the
   * computation and the encoder are deterministic (measured: 0.000), so any difference is
   * the app's; a quarter level leaves room for nothing else */
  run_cli (cli_out, 3);
  cli_frames = read_frames (cli_out, &fps_n, &fps_d);
  g_assert_cmpint (cli_frames->len, ==, N_FRAMES);
  for (guint i = 0; i < frames->len; i++)
    {
      double diff = image_diff (frames->pdata[i], cli_frames->pdata[i]);

      g_test_message ("frame %u: mean %.2f, the command line's %.2f, differ by %.3f", i,
                      image_mean (frames->pdata[i]), image_mean (cli_frames->pdata[i]), diff);
      g_assert_cmpfloat (diff, <, 0.25);
    }
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_stop (void)
{
  /* more steps per frame: the stop lands mid-video */
  g_autoptr(BwApplication) app = new_app (6);
  g_autofree char *out = g_build_filename (tmpdir, "stopped.webm", NULL);
  g_autofree char *part = g_strconcat (out, ".part", NULL);
  g_autoptr(GFile) out_file = g_file_new_for_path (out);
  BwWindow *window = open_window (app);
  VideoRun run = { bw_window_get_worker (window),
                   GTK_PROGRESS_BAR (bw_app_test_find (GTK_WIDGET (window), GTK_TYPE_PROGRESS_BAR, 0)),
                   .stop_at = 2 };
  g_autoptr(GPtrArray) frames = NULL;
  int fps_n, fps_d;

  bw_window_paint_video (window, out_file, 0);
  bw_app_test_wait (video_done, &run, 600, "the video stopped");
  g_assert_true (run.stopped);
  g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));
  /* a whole file: it decodes to its end, with the frames up to the one under way */
  frames = read_frames (out, &fps_n, &fps_d);
  g_test_message ("stopped with %u of %d frames", frames->len, N_FRAMES);
  g_assert_cmpint (frames->len, >=, 1);
  g_assert_cmpint (frames->len, <, N_FRAMES);
  g_assert_cmpint (frames->len, ==, run.max_frame);
  g_assert_cmpfloat (fabs (image_mean (frames->pdata[0]) - level (0)), <, TOLERANCE);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
on_frame_steps (BwWorker   *worker,
                GParamSpec *pspec,
                GString    *log)
{
  int frame = bw_worker_get_frame (worker);
  g_autofree char *entry = g_strdup_printf ("%d:%d ", frame, bw_worker_get_n_steps (worker));

  /* one entry per frame */
  if (frame > 0 && !g_str_has_suffix (log->str, entry) && bw_worker_get_step (worker) > 0)
    g_string_append (log, entry);
}

static void
test_frame_steps (void)
{
  g_autoptr(BwApplication) app = new_app (3);
  g_autofree char *out = g_build_filename (tmpdir, "frame-steps.webm", NULL);
  g_autoptr(GFile) out_file = g_file_new_for_path (out);
  g_autoptr(GString) log = g_string_new (NULL);
  BwWindow *window = open_window (app);
  BwWorker *worker = bw_window_get_worker (window);
  VideoRun run = { worker, GTK_PROGRESS_BAR (bw_app_test_find (GTK_WIDGET (window), GTK_TYPE_PROGRESS_BAR, 0)) };
  g_autoptr(GPtrArray) frames = NULL;
  int fps_n, fps_d;
  gulong handler;

  handler = g_signal_connect (worker, "notify::step", G_CALLBACK (on_frame_steps), log);
  bw_window_paint_video (window, out_file, 1);
  bw_app_test_wait (video_done, &run, 600, "every frame painted");
  g_signal_handler_disconnect (worker, handler);
  g_test_message ("frame:steps %s", log->str);
  g_assert_cmpstr (log->str, ==, "1:3 2:1 3:1 4:1 5:1 6:1 ");
  frames = read_frames (out, &fps_n, &fps_d);
  g_assert_cmpint (frames->len, ==, N_FRAMES);
  gtk_window_destroy (GTK_WINDOW (window));
}

static gboolean
frame_under_way (gpointer worker)
{
  return bw_worker_get_frame (worker) >= 2;
}

static gboolean
has_stop_dialog (gpointer data)
{
  *(GtkWidget **) data = bw_alert_find ("Stop Painting the Video?");
  return *(GtkWidget **) data != NULL;
}

static gboolean
no_worker_runs (gpointer data)
{
  return bw_worker_get_n_running () == 0;
}

static gboolean
no_windows (gpointer app)
{
  return gtk_application_get_windows (app) == NULL;
}

static void
test_close (void)
{
  g_autoptr(BwApplication) app = new_app (6);
  g_autofree char *out = g_build_filename (tmpdir, "closed.webm", NULL);
  g_autofree char *part = g_strconcat (out, ".part", NULL);
  g_autoptr(GFile) out_file = g_file_new_for_path (out);
  BwWindow *window = open_window (app);
  GtkWidget *dialog = NULL;
  g_autoptr(GPtrArray) frames = NULL;
  int fps_n, fps_d;

  bw_window_paint_video (window, out_file, 0);
  bw_app_test_wait (frame_under_way, bw_window_get_worker (window), 300, "the second frame");
  gtk_window_close (GTK_WINDOW (window));
  bw_app_test_wait (has_stop_dialog, &dialog, 20, "the question before closing");
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (window)));
  g_assert_true (bw_alert_click (dialog, "discard"));
  bw_app_test_wait (no_windows, app, 60, "the window closed");
  /* closing does not wait for the worker: it ends the file on its own thread, then lets go */
  bw_app_test_wait (no_worker_runs, NULL, 60, "the worker to end the file");

  g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));
  frames = read_frames (out, &fps_n, &fps_d);
  g_test_message ("closed with %u of %d frames", frames->len, N_FRAMES);
  g_assert_cmpint (frames->len, >=, 1);
  g_assert_cmpint (frames->len, <, N_FRAMES);
}

typedef struct {
  GtkAdjustment *strength;
  int moved_frame, moved_step;
  double before;           /* the style loss at the last step before the move */
  double after_max;        /* the largest after it, from two steps on */
  int n_after;
} Weights;

static void
on_video_progress (BwWorker   *worker,
                   GParamSpec *pspec,
                   Weights    *w)
{
  int frame = bw_worker_get_frame (worker), step = bw_worker_get_step (worker);
  double style;

  if (frame == 0 || step == 0)
    return;
  g_object_get (worker, "style-loss", &style, NULL);
  if (w->moved_frame == 0)
    {
      w->before = style;
      if (step >= 2)
        {
          w->moved_frame = frame;
          w->moved_step = step;
          gtk_adjustment_set_value (w->strength, 3);
        }
      return;
    }
  /* the step in flight and one report on its way may still have the old weight */
  if (frame > w->moved_frame || step > w->moved_step + 2)
    {
      w->after_max = MAX (w->after_max, style);
      w->n_after++;
    }
}

static void
test_weights (void)
{
  g_autoptr(BwApplication) app = new_app (5);
  g_autofree char *out = g_build_filename (tmpdir, "weights.webm", NULL);
  g_autoptr(GFile) out_file = g_file_new_for_path (out);
  BwWindow *window = open_window (app);
  BwWorker *worker = bw_window_get_worker (window);
  GtkWidget *scale = bw_app_test_find_in_row (GTK_WIDGET (window), "Style Strength", GTK_TYPE_SCALE);
  VideoRun run = { worker, GTK_PROGRESS_BAR (bw_app_test_find (GTK_WIDGET (window), GTK_TYPE_PROGRESS_BAR, 0)) };
  Weights w = { gtk_range_get_adjustment (GTK_RANGE (scale)) };
  gulong handler;

  g_assert_cmpfloat (gtk_adjustment_get_value (w.strength), ==, 6);
  handler = g_signal_connect (worker, "notify::step", G_CALLBACK (on_video_progress), &w);
  bw_window_paint_video (window, out_file, 0);
  bw_app_test_wait (video_done, &run, 600, "every frame painted");
  g_signal_handler_disconnect (worker, handler);

  g_test_message ("moved at frame %d step %d; style loss %g before, at most %g in %d steps after",
                  w.moved_frame, w.moved_step, w.before, w.after_max, w.n_after);
  g_assert_cmpint (w.moved_frame, ==, 1);
  /* the rest of the first frame and the five after it */
  g_assert_cmpint (w.n_after, >=, 5 * (N_FRAMES - 1));
  g_assert_cmpfloat (w.after_max / w.before, <, 2e-3);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_recording (void)
{
  g_autoptr(BwApplication) app = new_app (3);
  g_autoptr(GError) error = NULL;
  g_autofree char *content = bw_app_test_sample ("chelsea.png");
  g_autofree char *style = bw_app_test_sample ("starry-night.jpg");
  GtkWidget *pane;
  BwWindow *window;
  BwWorker *worker;
  BwFrameRecorder *recording;

  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  window = bw_window_new (app);
  bw_window_set_weights_path (window, weights);
  gtk_window_present (GTK_WINDOW (window));
  worker = bw_window_get_worker (window);
  pane = bw_app_test_find (GTK_WIDGET (window), BW_TYPE_IMAGE_PANE, 0);
  bw_app_test_drop_file (pane, content);
  bw_app_test_drop_file (bw_app_test_find (GTK_WIDGET (window), BW_TYPE_IMAGE_PANE, 1), style);
  bw_app_test_wait (has_style, window, 20, "the style's row");
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "export-animation"));
  /* a photo has no video to paint */
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "paint-video"));
  bw_window_start (window);
  bw_app_test_wait (is_done, worker, 300, "three steps");
  recording = bw_worker_get_recording (worker);
  g_assert_nonnull (recording);
  /* the starting image, then one frame per step */
  g_assert_cmpuint (bw_frame_recorder_get_n_frames (recording), ==, 3 + 1);
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "export-animation"));
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);
  tmpdir = bw_app_test_setup_env ();
  gst_init (&argc, &argv);
  weights = bw_app_test_make_weights (tmpdir);
  clip = g_build_filename (tmpdir, "greys.webm", NULL);
  make_clip (clip);

  g_test_add_func ("/video/scrub", test_scrub);
  g_test_add_func ("/video/paint-whole", test_paint_whole);
  g_test_add_func ("/video/stop", test_stop);
  g_test_add_func ("/video/frame-steps", test_frame_steps);
  g_test_add_func ("/video/close", test_close);
  g_test_add_func ("/video/weights", test_weights);
  g_test_add_func ("/video/recording", test_recording);
  status = g_test_run ();
  g_free (clip);
  g_free (weights);
  g_free (tmpdir);
  return status;
}
