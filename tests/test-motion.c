/* test-motion.c: timelapses and stylised videos through brushwork-cli.
 *
 * A short synthetic clip made here with GStreamer (videotestsrc's moving ball, 4 frames at
 * 5 fps) and the weights and style image of tests/oracle/cli_oracle.py. Checks that the
 * outputs play (decoded back frame by frame), have the right number of frames and frame
 * rate, and that starting each frame from the previous result flickers less than starting
 * from the frame itself.
 */
#include <gst/gst.h>
#include <stdio.h>
#include <string.h>

#include "bw-test-util.h"
#include "motion/bw-video-reader.h"

static char *oracle_dir;

static char *
in_oracle (const char *name)
{
  return g_build_filename (oracle_dir, name, NULL);
}

static int
run_cli (const char *const *args,
         char             **out)
{
  g_autofree char *err = NULL;
  int status = bw_test_run_cli (args, NULL, out, &err);

  g_test_message ("%s", err);
  return status;
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
make_clip (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *desc = g_strdup_printf (
    "videotestsrc num-buffers=4 pattern=ball ! video/x-raw,width=40,height=32,framerate=5/1 ! "
    "videoconvert ! vp8enc ! webmmux ! filesink location=\"%s\"", path);
  GstElement *pipeline = gst_parse_launch (desc, &error);
  g_autoptr(GstBus) bus = NULL;
  g_autoptr(GstMessage) msg = NULL;

  g_assert_no_error (error);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  bus = gst_element_get_bus (pipeline);
  msg = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

static void
test_timelapse (void)
{
  g_autofree char *content = in_oracle ("content.png");
  g_autofree char *style = in_oracle ("style.png");
  g_autofree char *weights = in_oracle ("vgg19.pth");
  g_autofree char *output = in_oracle ("painted.png");
  g_autofree char *timelapse = in_oracle ("timelapse.webm");
  const char *args[] = {
    "--content", content, "--style", style, "--weights", weights, "--output", output,
    "--preset", "seed", "--steps", "6", "--size", "32", "--timelapse", timelapse,
    "--timelapse-fps", "12", NULL
  };
  g_autofree char *out = NULL;
  int fps_n = 0, fps_d = 0;

  g_assert_cmpint (run_cli (args, &out), ==, 0);
  g_assert_cmpint (count_frames (timelapse, &fps_n, &fps_d), ==, 6);
  g_assert_cmpint (fps_n, ==, 12);
  g_assert_cmpint (fps_d, ==, 1);
}

static double
stylise_clip (const char *clip,
              gboolean    from_content)
{
  g_autofree char *style = in_oracle ("style.png");
  g_autofree char *weights = in_oracle ("vgg19.pth");
  g_autofree char *output = in_oracle (from_content ? "clip-content.webm" : "clip-previous.webm");
  const char *args[] = {
    "--content", clip, "--style", style, "--weights", weights, "--output", output,
    "--preset", "seed", "--steps", "4", "--size", "40",
    from_content ? "--video-from-content" : "--quiet", NULL
  };
  g_autofree char *out = NULL;
  const char *line;
  double flicker_out = -1, flicker_in = -1;
  int fps_n = 0, fps_d = 0;

  g_assert_cmpint (run_cli (args, &out), ==, 0);
  line = strstr (out, "flicker: output ");
  g_assert_nonnull (line);
  g_assert_cmpint (sscanf (line, "flicker: output %lf, input %lf", &flicker_out, &flicker_in), ==, 2);
  g_test_message ("%s: flicker %.5f (input %.5f)", from_content ? "from each frame" : "from the previous result",
                  flicker_out, flicker_in);
  g_assert_cmpint (count_frames (output, &fps_n, &fps_d), ==, 4);
  g_assert_cmpint (fps_n, ==, 5);
  g_assert_cmpint (fps_d, ==, 1);
  return flicker_out;
}

static void
test_video (void)
{
  g_autofree char *clip = in_oracle ("clip.webm");
  double from_previous, from_content;

  make_clip (clip);
  from_previous = stylise_clip (clip, FALSE);
  from_content = stylise_clip (clip, TRUE);
  g_assert_cmpfloat (from_previous, <, from_content);
}

int
main (int   argc,
      char *argv[])
{
  const char *args[] = { "--steps", "1", NULL };
  int ret;

  g_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);
  oracle_dir = bw_test_run_oracle ("cli_oracle.py", args);
  g_test_add_func ("/motion/timelapse", test_timelapse);
  g_test_add_func ("/motion/video", test_video);
  ret = g_test_run ();
  bw_test_remove_dir (oracle_dir);
  g_free (oracle_dir);
  return ret;
}
