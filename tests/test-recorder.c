/* test-recorder.c: BwFrameRecorder, the painting's frames kept for Export Animation.
 *
 * Synthetic frames, no network: frame k is a uniform grey whose level says k, so the frames
 * of an exported video tell which recorded frames made it and in what order. Levels are a
 * step apart and a decoded frame must lie within less than half a step of one (Coding).
 * Lossy WebP at quality 90 codes a flat grey within a level or two (its RGB -> YUV -> RGB
 * round trip), and WebPAnimEncoder merges frames that differ by up to 3 levels at that
 * quality (libwebp's QualityToMaxDiff), so WebP frames are 8 levels apart. VP8 through
 * GStreamer is further off (video range, rate control: 4 levels at grey 144 here), so WebM
 * frames are 24 or 48 apart and fewer are told apart. The frame-exact checks use animated
 * WebP, read back with libwebpdemux, when the build has it (BW_TEST_WEBP); otherwise WebM;
 * the length checks use WebM, read back with BwVideoReader, as it keeps repeated frames.
 *
 * /recorder/decimation: however many frames are added, at most max_frames are held, at an
 *   even spacing, the first and the last added among them, in order.
 * /recorder/memory: ten times max_frames added, the count never passes max_frames.
 * /recorder/length: round(fps * seconds) frames at fps, sampled evenly from first to last.
 * /recorder/snapshot: frames added during an export (from its progress callback, which would
 *   deadlock if the lock were held) are not in it.
 * /recorder/cancel: a cancelled export leaves nothing at the path and no .part; a file
 *   that was there stays as it was.
 * /recorder/scale: frames of another size are scaled to the recorder's.
 * /recorder/empty: exporting before any frame fails with a sentence and writes nothing.
 */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <string.h>
#ifdef BW_TEST_WEBP
#include <webp/demux.h>
#endif

#include "bw-test-util.h"
#include "motion/bw-frame-recorder.h"
#include "motion/bw-motion-error.h"
#include "motion/bw-video-reader.h"
#include "motion/bw-video-writer.h"

/* How frame indices are told apart in a format: grey levels @step apart, a decoded frame
 * within @tol of one (less than half a step, so no frame can pass for another). */
typedef struct {
  const char *extension;
  int step;
  double tol;
} Coding;

/* WebP: a level or two off, frames more than 3 apart never merged */
static const Coding webp_coding = { "webp", 8, 3.0 };
/* VP8 here: 2 levels off at grey 48, 4 at 144, more further up (video range, rate control) */
static const Coding webm_coding = { "webm", 24, 10.0 };

static char *tmpdir;

static char *
in_tmp (const char *name)
{
  return g_build_filename (tmpdir, name, NULL);
}

/* A @width x @height frame of grey @level (0-255). */
static BwImage *
grey_frame (int    width,
            int    height,
            double level)
{
  gsize n = (gsize) width * height * 3;
  float *data = g_new (float, n);

  for (gsize i = 0; i < n; i++)
    data[i] = (float) (level / 255.0);
  return bw_image_new_take (width, height, data);
}

/* Frame @k: its index as a grey level, @step levels a frame. */
static BwImage *
index_frame (int width,
             int height,
             int k,
             int step)
{
  g_assert_cmpint (k * step, <=, 255);
  return grey_frame (width, height, k * step);
}

/* A decoded video: each frame as 8-bit RGB, rows of width * 3 bytes. */
typedef struct {
  GPtrArray *frames;          /* GBytes */
  int width, height;
  int fps_n, fps_d;           /* WebM: the stream's rate */
  GArray *end_ms;             /* WebP: each frame's end, in ms */
} Decoded;

static void
decoded_clear (Decoded *d)
{
  g_clear_pointer (&d->frames, g_ptr_array_unref);
  g_clear_pointer (&d->end_ms, g_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Decoded, decoded_clear)

static void
decode (const char *path,
        Decoded    *d)
{
  g_autoptr(GError) error = NULL;

  memset (d, 0, sizeof *d);
  d->frames = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  d->end_ms = g_array_new (FALSE, FALSE, sizeof (int));
  if (g_str_has_suffix (path, ".webp"))
    {
#ifdef BW_TEST_WEBP
      g_autofree guint8 *bytes = NULL;
      gsize size;
      WebPData webp;
      WebPAnimDecoderOptions options;
      WebPAnimDecoder *decoder;
      WebPAnimInfo info;

      g_assert_true (g_file_get_contents (path, (char **) &bytes, &size, &error));
      g_assert_no_error (error);
      webp.bytes = bytes;
      webp.size = size;
      g_assert_true (WebPAnimDecoderOptionsInit (&options));
      options.color_mode = MODE_RGBA;
      decoder = WebPAnimDecoderNew (&webp, &options);
      g_assert_nonnull (decoder);
      g_assert_true (WebPAnimDecoderGetInfo (decoder, &info));
      d->width = info.canvas_width;
      d->height = info.canvas_height;
      while (WebPAnimDecoderHasMoreFrames (decoder))
        {
          guint8 *rgba;
          int timestamp;
          gsize n = (gsize) d->width * d->height;
          guint8 *rgb = g_malloc (n * 3);

          g_assert_true (WebPAnimDecoderGetNext (decoder, &rgba, &timestamp));
          for (gsize i = 0; i < n; i++)
            memcpy (rgb + i * 3, rgba + i * 4, 3);
          g_ptr_array_add (d->frames, g_bytes_new_take (rgb, n * 3));
          g_array_append_val (d->end_ms, timestamp);
        }
      WebPAnimDecoderDelete (decoder);
#else
      g_assert_not_reached ();
#endif
    }
  else
    {
      g_autoptr(BwVideoReader) reader = bw_video_reader_new (path, 0, &error);

      g_assert_no_error (error);
      for (;;)
        {
          g_autoptr(BwImage) frame = bw_video_reader_next (reader, &error);

          g_assert_no_error (error);
          if (frame == NULL)
            break;
          d->width = bw_image_get_width (frame);
          d->height = bw_image_get_height (frame);
          g_ptr_array_add (d->frames, bw_image_to_rgb8 (frame));
        }
      bw_video_reader_get_rate (reader, &d->fps_n, &d->fps_d);
    }
}

/* Mean level of a decoded frame's pixels in columns [x0, x1). */
static double
mean_level (Decoded *d,
            guint    frame,
            int      x0,
            int      x1)
{
  const guint8 *rgb = g_bytes_get_data (d->frames->pdata[frame], NULL);
  double sum = 0;

  for (int y = 0; y < d->height; y++)
    for (int x = x0; x < x1; x++)
      for (int c = 0; c < 3; c++)
        sum += rgb[((gsize) y * d->width + x) * 3 + c];
  return sum / (3.0 * d->height * (x1 - x0));
}

/* The recorded index of each decoded frame. */
static GArray *
decoded_indices (Decoded      *d,
                 const Coding *coding)
{
  GArray *indices = g_array_new (FALSE, FALSE, sizeof (int));

  for (guint f = 0; f < d->frames->len; f++)
    {
      double level = mean_level (d, f, 0, d->width);
      int k = (int) lround (level / coding->step);

      if (fabs (level - k * coding->step) > coding->tol)
        g_error ("frame %u has level %.2f, not within %.1f of a recorded frame's", f, level,
                 coding->tol);
      g_array_append_val (indices, k);
    }
  return indices;
}

static char *
describe (GArray *indices)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < indices->len; i++)
    g_string_append_printf (s, "%s%d", i ? " " : "", g_array_index (indices, int, i));
  return g_string_free (s, FALSE);
}

/* The format that reads back most exactly here. */
static const Coding *
exact_coding (void)
{
#ifdef BW_TEST_WEBP
  if (bw_video_writer_check_format ("x.webp", NULL))
    return &webp_coding;
#endif
  return &webm_coding;
}

static void
export_ok (BwFrameRecorder *recorder,
           const char      *path,
           int              fps,
           double           seconds)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (bw_frame_recorder_export (recorder, path, fps, seconds, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
}

/* The recorded indices held now, in order: exported one video frame each (n == m). */
static GArray *
held_indices (BwFrameRecorder *recorder,
              const Coding    *coding)
{
  g_autofree char *name = g_strdup_printf ("held.%s", coding->extension);
  g_autofree char *path = in_tmp (name);
  g_auto(Decoded) d = { 0 };
  guint m = bw_frame_recorder_get_n_frames (recorder);

  export_ok (recorder, path, (int) m, 1.0);
  decode (path, &d);
  g_unlink (path);
  return decoded_indices (&d, coding);
}

static void
test_decimation (void)
{
  const Coding *coding = exact_coding ();
  /* WebM tells fewer frames apart: fewer kept, so that as many doublings happen */
  const guint max_frames = coding == &webp_coding ? 8 : 3;

  /* before, at and past the first decimation, and several doublings on */
  for (int n_added = 1; n_added <= 255 / coding->step + 1; n_added++)
    {
      g_autoptr(BwFrameRecorder) recorder = bw_frame_recorder_new (32, 24, max_frames);
      g_autoptr(GArray) held = NULL;
      g_autofree char *text = NULL;
      int gap = 0;

      for (int k = 0; k < n_added; k++)
        {
          g_autoptr(BwImage) frame = index_frame (32, 24, k, coding->step);

          bw_frame_recorder_add (recorder, frame);
          g_assert_cmpuint (bw_frame_recorder_get_n_frames (recorder), <=, max_frames);
        }
      held = held_indices (recorder, coding);
      text = describe (held);
      g_test_message ("%d added, %s: %s", n_added, coding->extension, text);

      g_assert_cmpuint (held->len, ==, bw_frame_recorder_get_n_frames (recorder));
      /* nothing dropped before the limit; past it, not more than needed */
      if (n_added <= (int) max_frames)
        g_assert_cmpuint (held->len, ==, n_added);
      else
        g_assert_cmpuint (held->len, >, max_frames / 2);
      g_assert_cmpint (g_array_index (held, int, 0), ==, 0);
      g_assert_cmpint (g_array_index (held, int, held->len - 1), ==, n_added - 1);
      /* one spacing throughout, only the newest frame may come sooner */
      for (guint i = 1; i < held->len; i++)
        {
          int d = g_array_index (held, int, i) - g_array_index (held, int, i - 1);

          g_assert_cmpint (d, >, 0);
          if (i == 1)
            gap = d;
          else if (i < held->len - 1)
            g_assert_cmpint (d, ==, gap);
          else
            g_assert_cmpint (d, <=, gap);
        }
    }
}

static void
test_memory (void)
{
  const guint max_frames = 12;
  g_autoptr(BwFrameRecorder) recorder = bw_frame_recorder_new (64, 48, max_frames);
  g_autoptr(BwImage) frame = grey_frame (64, 48, 128);
  guint most = 0;

  for (guint k = 0; k < 10 * max_frames; k++)
    {
      bw_frame_recorder_add (recorder, frame);
      most = MAX (most, bw_frame_recorder_get_n_frames (recorder));
    }
  g_assert_cmpuint (most, ==, max_frames);
  g_assert_cmpuint (bw_frame_recorder_get_n_frames (recorder), <=, max_frames);
  g_assert_cmpuint (bw_frame_recorder_get_n_frames (recorder), >, max_frames / 2);
}

static void
test_length (void)
{
  /* 5 recorded frames as 20 at 10 fps; 7 fps for 1.5 s rounds to 11 (10.5 away from zero);
   * less than half a frame still gives one, the last */
  const struct { int fps; double seconds; int n; } cases[] = {
    { 10, 2.0, 20 },
    { 7, 1.5, 11 },
    { 1, 0.4, 1 },
  };
  const int m = 5;
  /* 48 levels apart: the WebM frames repeat, which WebP would merge */
  const Coding coding = { "webm", 48, 12.0 };
  g_autoptr(BwFrameRecorder) recorder = bw_frame_recorder_new (32, 24, 64);
  g_autofree char *path = in_tmp ("length.webm");

  for (int k = 0; k < m; k++)
    {
      g_autoptr(BwImage) frame = index_frame (32, 24, k, coding.step);
      bw_frame_recorder_add (recorder, frame);
    }
  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_auto(Decoded) d = { 0 };
      g_autoptr(GArray) indices = NULL;
      g_autofree char *text = NULL;
      int n = cases[c].n;

      export_ok (recorder, path, cases[c].fps, cases[c].seconds);
      decode (path, &d);
      indices = decoded_indices (&d, &coding);
      text = describe (indices);
      g_test_message ("%d fps, %.1f s: %s", cases[c].fps, cases[c].seconds, text);
      g_assert_cmpuint (d.frames->len, ==, n);
      g_assert_cmpint (d.fps_n * 1, ==, cases[c].fps * d.fps_d);
      g_assert_cmpint (d.width, ==, 32);
      g_assert_cmpint (d.height, ==, 24);
      /* frame i shows recorded frame round(i * (m - 1) / (n - 1)) */
      for (int i = 0; i < n; i++)
        {
          int want = n == 1 ? m - 1 : (int) lround ((double) i * (m - 1) / (n - 1));
          g_assert_cmpint (g_array_index (indices, int, i), ==, want);
        }
    }
  g_unlink (path);
}

/* the frame a progress callback adds: no export under way may show it */
#define SNAPSHOT_LATE 10

typedef struct {
  BwFrameRecorder *recorder;
  guint calls;
  guint total;
  GCancellable *cancel_after;  /* cancelled after frame cancel_at */
  guint cancel_at;
} Progress;

static void
on_progress (guint    done,
             guint    total,
             gpointer user_data)
{
  Progress *p = user_data;

  g_assert_cmpuint (done, ==, ++p->calls);
  p->total = total;
  if (p->recorder)
    {
      /* a frame no snapshot taken before may contain */
      g_autoptr(BwImage) frame = index_frame (32, 24, SNAPSHOT_LATE, webm_coding.step);
      bw_frame_recorder_add (p->recorder, frame);
    }
  if (p->cancel_after && done == p->cancel_at)
    g_cancellable_cancel (p->cancel_after);
}

static void
test_snapshot (void)
{
  g_autoptr(BwFrameRecorder) recorder = bw_frame_recorder_new (32, 24, 100);
  g_autofree char *path = in_tmp ("snapshot.webm");
  g_autoptr(GError) error = NULL;
  g_auto(Decoded) d = { 0 };
  g_autoptr(GArray) indices = NULL;
  Progress p = { recorder, 0, 0, NULL, 0 };
  gboolean ok;

  for (int k = 0; k < 4; k++)
    {
      g_autoptr(BwImage) frame = index_frame (32, 24, k, webm_coding.step);
      bw_frame_recorder_add (recorder, frame);
    }
  ok = bw_frame_recorder_export (recorder, path, 4, 2.0, NULL, on_progress, &p, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpuint (p.calls, ==, 8);
  g_assert_cmpuint (p.total, ==, 8);
  g_assert_cmpuint (bw_frame_recorder_get_n_frames (recorder), ==, 4 + 8);
  decode (path, &d);
  indices = decoded_indices (&d, &webm_coding);
  g_assert_cmpuint (indices->len, ==, 8);
  g_assert_cmpint (g_array_index (indices, int, 0), ==, 0);
  g_assert_cmpint (g_array_index (indices, int, 7), ==, 3);
  for (guint i = 0; i < indices->len; i++)
    g_assert_cmpint (g_array_index (indices, int, i), !=, SNAPSHOT_LATE);
  g_unlink (path);
}

static void
assert_cancelled (BwFrameRecorder *recorder,
                  const char      *path,
                  GCancellable    *cancellable,
                  guint            cancel_at)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *part = g_strdup_printf ("%s.part", path);
  Progress p = { NULL, 0, 0, cancellable, cancel_at };

  g_assert_false (bw_frame_recorder_export (recorder, path, 10, 2.0, cancellable, on_progress,
                                            &p, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  /* stopped where asked, not after the whole video */
  g_assert_cmpuint (p.calls, ==, cancel_at);
  g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));
}

static void
test_cancel (void)
{
  g_autoptr(BwFrameRecorder) recorder = bw_frame_recorder_new (32, 24, 16);
  const char *extensions[] = { "webm", "webp" };

  for (int k = 0; k < 5; k++)
    {
      g_autoptr(BwImage) frame = index_frame (32, 24, k, webm_coding.step);
      bw_frame_recorder_add (recorder, frame);
    }
  for (gsize e = 0; e < G_N_ELEMENTS (extensions); e++)
    {
      g_autofree char *name = g_strdup_printf ("cancelled.%s", extensions[e]);
      g_autofree char *path = in_tmp (name);
      g_autofree char *contents = NULL;

      if (!bw_video_writer_check_format (path, NULL))
        continue;
      g_test_message ("%s", name);
      /* before the first frame, and halfway through */
      for (guint at = 0; at <= 10; at += 10)
        {
          g_autoptr(GCancellable) cancellable = g_cancellable_new ();

          if (at == 0)
            g_cancellable_cancel (cancellable);
          assert_cancelled (recorder, path, cancellable, at);
          g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
        }
      /* over an earlier export: that one stays */
      {
        g_autoptr(GCancellable) cancellable = g_cancellable_new ();
        g_autoptr(GError) error = NULL;

        g_assert_true (g_file_set_contents (path, "earlier", -1, &error));
        g_assert_no_error (error);
        assert_cancelled (recorder, path, cancellable, 5);
        g_assert_true (g_file_get_contents (path, &contents, NULL, &error));
        g_assert_no_error (error);
        g_assert_cmpstr (contents, ==, "earlier");
        g_unlink (path);
      }
    }
}

static void
test_scale (void)
{
  g_autoptr(BwFrameRecorder) recorder = bw_frame_recorder_new (32, 24, 8);
  const Coding *coding = exact_coding ();
  g_autofree char *name = g_strdup_printf ("scaled.%s", coding->extension);
  g_autofree char *path = in_tmp (name);
  g_autoptr(BwImage) small = grey_frame (8, 6, 64);
  g_autoptr(BwImage) same = grey_frame (32, 24, 128);
  g_auto(Decoded) d = { 0 };
  float *data = g_new (float, 128 * 96 * 3);
  g_autoptr(BwImage) big = NULL;

  g_assert_cmpint (bw_frame_recorder_get_width (recorder), ==, 32);
  g_assert_cmpint (bw_frame_recorder_get_height (recorder), ==, 24);
  /* a coarse pass's frame, the frame at size, and a larger one: black left, white right */
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < 96; y++)
      for (int x = 0; x < 128; x++)
        data[(c * 96 + y) * 128 + x] = x < 64 ? 0.0f : 1.0f;
  big = bw_image_new_take (128, 96, data);
  bw_frame_recorder_add (recorder, small);
  bw_frame_recorder_add (recorder, same);
  bw_frame_recorder_add (recorder, big);
  g_assert_cmpuint (bw_frame_recorder_get_n_frames (recorder), ==, 3);

  export_ok (recorder, path, 3, 1.0);
  decode (path, &d);
  g_assert_cmpuint (d.frames->len, ==, 3);
  g_assert_cmpint (d.width, ==, 32);
  g_assert_cmpint (d.height, ==, 24);
  g_assert_cmpfloat_with_epsilon (mean_level (&d, 0, 0, 32), 64, coding->tol);
  g_assert_cmpfloat_with_epsilon (mean_level (&d, 1, 0, 32), 128, coding->tol);
  /* the edge kept at the middle: the quarters away from it stay black and white */
  g_assert_cmpfloat (mean_level (&d, 2, 0, 8), <, 2 * coding->tol);
  g_assert_cmpfloat (mean_level (&d, 2, 24, 32), >, 255 - 2 * coding->tol);
  g_unlink (path);
}

static void
test_empty (void)
{
  g_autoptr(BwFrameRecorder) recorder = bw_frame_recorder_new (32, 24, 8);
  g_autofree char *path = in_tmp ("empty.webm");
  g_autofree char *part = g_strdup_printf ("%s.part", path);
  g_autoptr(GError) error = NULL;

  g_assert_cmpuint (bw_frame_recorder_get_n_frames (recorder), ==, 0);
  g_assert_false (bw_frame_recorder_export (recorder, path, 10, 1.0, NULL, NULL, NULL, &error));
  g_assert_nonnull (error);
  g_assert_true (g_str_has_suffix (error->message, "."));
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);
  tmpdir = g_dir_make_tmp ("brushwork-recorder-XXXXXX", &error);
  g_assert_no_error (error);
  g_test_add_func ("/recorder/decimation", test_decimation);
  g_test_add_func ("/recorder/memory", test_memory);
  g_test_add_func ("/recorder/length", test_length);
  g_test_add_func ("/recorder/snapshot", test_snapshot);
  g_test_add_func ("/recorder/cancel", test_cancel);
  g_test_add_func ("/recorder/scale", test_scale);
  g_test_add_func ("/recorder/empty", test_empty);
  ret = g_test_run ();
  bw_test_remove_dir (tmpdir);
  g_free (tmpdir);
  return ret;
}
